//! `kubectl create <subcommand>`: the typed clientset POSTs the object as
//! `application/vnd.kubernetes.protobuf` (no JSON fallback), which the server decodes with the
//! protobuf-json crate. Each object is read back with `kubectl get` and checked. The kubectl
//! binary comes from `KUBE_LITE_KUBECTL` (default `kubectl`).

use serde_json::{json, Value};
use testkit::{assert_success as ok, kubectl, KubeLite};

fn create(k: &KubeLite, args: &[&str], expect: &str) {
    let mut full = vec!["create"];
    full.extend_from_slice(args);
    let o = kubectl(k, &full);
    ok(&o, &full.join(" "));
    assert_eq!(o.stdout.trim(), expect, "{}", full.join(" "));
}

fn get_json(k: &KubeLite, what: &[&str]) -> Value {
    let mut args = vec!["get"];
    args.extend_from_slice(what);
    args.extend(["-o", "json"]);
    let o = kubectl(k, &args);
    ok(&o, &args.join(" "));
    serde_json::from_str(&o.stdout).expect("json")
}

#[test]
fn kubectl_create_sends_protobuf() {
    let k = KubeLite::start(env!("CARGO_BIN_EXE_kube-lite"), &[]);

    create(&k, &["namespace", "x"], "namespace/x created");
    let ns = get_json(&k, &["namespace", "x"]);
    assert_eq!(ns["metadata"]["name"], "x");
    assert_eq!(ns["status"]["phase"], "Active");

    create(
        &k,
        &["configmap", "c", "--from-literal=a=b"],
        "configmap/c created",
    );
    let cm = get_json(&k, &["configmap", "c"]);
    assert_eq!(cm["data"], json!({"a": "b"}));
    assert_eq!(cm["metadata"]["namespace"], "default");

    create(
        &k,
        &["secret", "generic", "s", "--from-literal=p=q"],
        "secret/s created",
    );
    let s = get_json(&k, &["secret", "s"]);
    assert_eq!(s["data"], json!({"p": "cQ=="}));
    assert_eq!(s["type"], "Opaque");

    create(
        &k,
        &["deployment", "d", "--image=nginx:1.7.9", "--replicas=2"],
        "deployment.apps/d created",
    );
    let d = get_json(&k, &["deployment", "d"]);
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["spec"]["selector"], json!({"matchLabels": {"app": "d"}}));
    assert_eq!(
        d["spec"]["template"]["metadata"]["labels"],
        json!({"app": "d"})
    );
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["name"], "nginx");
    assert_eq!(c["image"], "nginx:1.7.9");
    // Go writes every non-pointer field on the wire; zero ones must not land as `""`/`false`
    // but be defaulted as if absent.
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert!(
        c.get("stdin").is_none() && c.get("workingDir").is_none(),
        "{c}"
    );
    assert!(
        d["metadata"].get("generateName").is_none(),
        "{}",
        d["metadata"]
    );
    let yaml = kubectl(&k, &["get", "deployment", "d", "-o", "yaml"]);
    ok(&yaml, "get deployment -o yaml");
    assert!(
        yaml.stdout.contains("image: nginx:1.7.9"),
        "{}",
        yaml.stdout
    );
    assert!(yaml.stdout.contains("replicas: 2"), "{}", yaml.stdout);

    // An explicit zero in a pointer field survives.
    create(
        &k,
        &["deployment", "zero", "--image=nginx", "--replicas=0"],
        "deployment.apps/zero created",
    );
    assert_eq!(get_json(&k, &["deployment", "zero"])["spec"]["replicas"], 0);

    create(
        &k,
        &["job", "j", "--image=busybox", "--", "echo", "hi"],
        "job.batch/j created",
    );
    let j = get_json(&k, &["job", "j"]);
    let c = &j["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["command"], json!(["echo", "hi"]));
    assert_eq!(c["image"], "busybox");
    assert_eq!(j["spec"]["template"]["spec"]["restartPolicy"], "Never");

    let cronjob = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/cronjob.yaml");
    ok(
        &kubectl(&k, &["apply", "--validate=false", "-f", cronjob]),
        "apply cronjob",
    );
    create(
        &k,
        &["job", "manual", "--from=cronjob/hello"],
        "job.batch/manual created",
    );
    let cj = get_json(&k, &["cronjob", "hello"]);
    let m = get_json(&k, &["job", "manual"]);
    assert_eq!(
        m["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
        "manual"
    );
    let owner = &m["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "CronJob");
    assert_eq!(owner["name"], "hello");
    assert_eq!(owner["controller"], true);
    assert_eq!(owner["uid"], cj["metadata"]["uid"]);
    let c = &m["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["name"], "hello");
    assert_eq!(
        c["args"],
        json!([
            "/bin/sh",
            "-c",
            "date; echo Hello from the Kubernetes cluster"
        ])
    );
    assert_eq!(m["spec"]["template"]["spec"]["restartPolicy"], "OnFailure");

    // A Service whose targetPort is an int-or-string.
    create(
        &k,
        &["service", "clusterip", "svc", "--tcp=80:8080"],
        "service/svc created",
    );
    let svc = get_json(&k, &["service", "svc"]);
    assert_eq!(svc["spec"]["ports"][0]["port"], 80);
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    assert_eq!(svc["spec"]["type"], "ClusterIP");
}

#[test]
fn malformed_protobuf_is_a_bad_request() {
    let k = KubeLite::start(env!("CARGO_BIN_EXE_kube-lite"), &[]);
    let ct = Some("application/vnd.kubernetes.protobuf");
    // Envelope: TypeMeta{v1, Namespace}, raw = metadata whose length runs past the end.
    let mut body = b"k8s\0".to_vec();
    body.extend([0x0a, 0x0f, 0x0a, 0x02, b'v', b'1', 0x12, 0x09]);
    body.extend(b"Namespace");
    body.extend([0x12, 0x03, 0x0a, 0x09, 0x0a]);
    let (code, status) = k.request("POST", "/api/v1/namespaces", ct, Some(&body));
    assert_eq!(code, 400, "{status}");
    assert_eq!(status["reason"], "BadRequest");
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("protobuf: truncated message at metadata")),
        "{status}"
    );
    let (code, status) = k.request("POST", "/api/v1/namespaces", ct, Some(b"{}"));
    assert_eq!(code, 400, "{status}");
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("k8s")),
        "{status}"
    );
}
