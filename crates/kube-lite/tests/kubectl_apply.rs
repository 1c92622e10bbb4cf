//! The real kubectl against `kube-lite up`: client-side `apply` (create, configure through a
//! three-way strategic merge patch, unchanged), `--validate=strict` (the default) and
//! `--validate=warn` with unknown fields, `set image`, `label`, `annotate` and `edit`. These
//! exercise the OpenAPI documents, the server's strategic merge patch and fieldValidation
//! (`explain` is in `kubectl_explain.rs`). The kubectl binary comes from `KUBE_LITE_KUBECTL`
//! (default `kubectl`).

use serde_json::Value;
use std::path::PathBuf;
use testkit::{assert_success as ok, kubectl, run, KubeLite};

fn start() -> KubeLite {
    KubeLite::start(env!("CARGO_BIN_EXE_kube-lite"), &[])
}

fn write(k: &KubeLite, name: &str, text: &str) -> PathBuf {
    let p = k.dir.path().join(name);
    std::fs::write(&p, text).expect("write manifest");
    p
}

fn get_json(k: &KubeLite, what: &str) -> Value {
    let o = kubectl(k, &["get", what, "-o", "json"]);
    ok(&o, "get -o json");
    serde_json::from_str(&o.stdout).expect("json")
}

const DEPLOY_V1: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 25%
      maxSurge: 25%
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.7.9
        ports:
        - containerPort: 80
        - containerPort: 443
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
"#;

/// The same Deployment with a new image, one port and one env entry removed, 3 replicas and
/// the Recreate strategy (kubectl sends `$retainKeys` and `rollingUpdate: null`).
const DEPLOY_V2: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  strategy:
    type: Recreate
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.16.1
        ports:
        - containerPort: 80
        env:
        - name: A
          value: "1"
"#;

const UNKNOWN_FIELD: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: typo
spec:
  replicas: 1
  foo: bar
  selector:
    matchLabels:
      app: typo
  template:
    metadata:
      labels:
        app: typo
    spec:
      containers:
      - name: nginx
        image: nginx
        imagePullPolic: Always
"#;

#[test]
fn kubectl_apply_creates_configures_and_leaves_unchanged() {
    let k = start();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/mydeploy.yaml");
    let o = kubectl(&k, &["apply", "-f", fixture]);
    ok(&o, "apply fixtures/mydeploy.yaml");
    assert_eq!(o.stdout.trim(), "deployment.apps/mydeploy created");

    let v1 = write(&k, "web-v1.yaml", DEPLOY_V1);
    let v1 = v1.to_str().unwrap();
    let o = kubectl(&k, &["apply", "-f", v1]);
    ok(&o, "first apply");
    assert_eq!(o.stdout.trim(), "deployment.apps/web created");
    let o = kubectl(&k, &["apply", "-f", v1]);
    ok(&o, "identical apply");
    assert_eq!(o.stdout.trim(), "deployment.apps/web unchanged");

    let v2 = write(&k, "web-v2.yaml", DEPLOY_V2);
    let o = kubectl(&k, &["apply", "-f", v2.to_str().unwrap()]);
    ok(&o, "apply after editing");
    assert_eq!(o.stdout.trim(), "deployment.apps/web configured");
    assert!(!o.stderr.contains("warning"), "{}", o.stderr);
    let d = get_json(&k, "deployment/web");
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(
        d["spec"]["strategy"],
        serde_json::json!({"type": "Recreate"}),
        "$retainKeys drops rollingUpdate"
    );
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "nginx:1.16.1");
    let ports: Vec<i64> = c["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["containerPort"].as_i64().unwrap())
        .collect();
    assert_eq!(ports, [80], "the removed port is gone");
    let env: Vec<&str> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(env, ["A"], "the removed env entry is gone");
    let o = kubectl(&k, &["apply", "-f", v2.to_str().unwrap()]);
    ok(&o, "re-apply");
    assert_eq!(o.stdout.trim(), "deployment.apps/web unchanged");
}

#[test]
fn kubectl_apply_with_an_unknown_field_fails_like_a_real_cluster() {
    let k = start();
    let path = write(&k, "typo.yaml", UNKNOWN_FIELD);
    let path = path.to_str().unwrap();
    let o = kubectl(&k, &["apply", "-f", path]);
    assert_eq!(o.code, 1, "stdout: {}\nstderr: {}", o.stdout, o.stderr);
    assert_eq!(
        o.stderr.trim(),
        format!(
            "Error from server (BadRequest): error when creating \"{path}\": Deployment in version \"v1\" \
             cannot be handled as a Deployment: strict decoding error: unknown field \"spec.foo\", \
             unknown field \"spec.template.spec.containers[0].imagePullPolic\""
        )
    );
    let o = kubectl(&k, &["get", "deployment", "typo"]);
    assert_eq!(o.code, 1, "nothing was created");

    // --validate=warn: created without the unknown fields, one warning each.
    let o = kubectl(&k, &["apply", "--validate=warn", "-f", path]);
    ok(&o, "apply --validate=warn");
    assert_eq!(o.stdout.trim(), "deployment.apps/typo created");
    assert!(
        o.stderr.contains("Warning: unknown field \"spec.foo\""),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("Warning: unknown field \"spec.template.spec.containers[0].imagePullPolic\""),
        "{}",
        o.stderr
    );
    let d = get_json(&k, "deployment/typo");
    assert!(d["spec"].get("foo").is_none());
}

#[test]
fn kubectl_set_image_label_annotate_and_edit_patch_the_object() {
    let k = start();
    let v1 = write(&k, "web.yaml", DEPLOY_V1);
    ok(
        &kubectl(&k, &["apply", "-f", v1.to_str().unwrap()]),
        "apply",
    );

    let o = kubectl(&k, &["set", "image", "deployment/web", "nginx=nginx:1.9.1"]);
    ok(&o, "set image");
    assert_eq!(o.stdout.trim(), "deployment.apps/web image updated");
    let d = get_json(&k, "deployment/web");
    let c = &d["spec"]["template"]["spec"]["containers"];
    assert_eq!(c.as_array().unwrap().len(), 1);
    assert_eq!(c[0]["image"], "nginx:1.9.1");
    assert_eq!(
        c[0]["env"].as_array().unwrap().len(),
        2,
        "merged by name, not replaced"
    );

    let o = kubectl(&k, &["label", "deployment", "web", "tier=frontend"]);
    ok(&o, "label");
    assert_eq!(o.stdout.trim(), "deployment.apps/web labeled");
    let o = kubectl(&k, &["annotate", "deployment", "web", "note=hello"]);
    ok(&o, "annotate");
    assert_eq!(o.stdout.trim(), "deployment.apps/web annotated");
    let d = get_json(&k, "deployment/web");
    assert_eq!(d["metadata"]["labels"]["tier"], "frontend");
    assert_eq!(d["metadata"]["annotations"]["note"], "hello");

    let o = run(k
        .kubectl()
        .env("EDITOR", "sed -i s/nginx:1.9.1/nginx:1.10.0/")
        .env("TMPDIR", k.dir.path())
        .args(["edit", "deployment/web"]));
    ok(&o, "edit");
    assert_eq!(o.stdout.trim(), "deployment.apps/web edited");
    let d = get_json(&k, "deployment/web");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.10.0"
    );
    assert_eq!(d["metadata"]["labels"]["tier"], "frontend");

    // An edit that changes nothing sends no patch.
    let o = run(k
        .kubectl()
        .env("EDITOR", "true")
        .env("TMPDIR", k.dir.path())
        .args(["edit", "deployment/web"]));
    ok(&o, "edit without changes");
    assert!(
        o.stderr.contains("Edit cancelled, no changes made."),
        "{}",
        o.stderr
    );
}
