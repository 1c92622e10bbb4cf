//! The real kubectl's server-side apply against `kube-lite up`: `apply --server-side` creates
//! (`serverside-applied`), re-applies as a no-op, applies a changed file, reports the conflict
//! with `kubectl scale`'s manager with its guidance, `--force-conflicts` wins, `get
//! --show-managed-fields` shows the entries, and an object made by client-side apply moves to
//! server-side apply. The kubectl binary comes from `KUBE_LITE_KUBECTL` (default `kubectl`).

use serde_json::Value;
use std::path::PathBuf;
use testkit::{kubectl, kubectl_apply, kubectl_ok, KubeLite};

fn start() -> KubeLite {
    KubeLite::start(env!("CARGO_BIN_EXE_kube-lite"), &["--fast"])
}

fn manifest(k: &KubeLite, replicas: u32, image: &str) -> PathBuf {
    let p = k.dir.path().join(format!(
        "deploy-{replicas}-{}.yaml",
        image.replace([':', '/'], "-")
    ));
    let text = format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: {image}
        ports:
        - containerPort: 80
"
    );
    std::fs::write(&p, text).expect("write manifest");
    p
}

fn get_json(k: &KubeLite) -> Value {
    let out = kubectl_ok(
        k,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "json",
            "--show-managed-fields",
        ],
    );
    serde_json::from_str(&out).expect("json")
}

fn entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

fn apply_ss(k: &KubeLite, file: &std::path::Path, extra: &[&str]) -> testkit::Output {
    let mut args = vec!["apply", "--server-side", "-f", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    kubectl(k, &args)
}

#[test]
fn kubectl_server_side_apply_creates_reapplies_and_reports_conflicts_with_kubectl_scale() {
    let k = start();
    let v1 = manifest(&k, 2, "nginx:1.25");
    let o = apply_ss(&k, &v1, &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout.trim(), "deployment.apps/web serverside-applied");
    let created = get_json(&k);
    let applied = entry(&created, "kubectl", "Apply").expect("kubectl Apply entry");
    assert_eq!(
        applied["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
            ["k:{\"name\":\"nginx\"}"]["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"]
            ["f:containerPort"],
        serde_json::json!({})
    );
    let yaml = kubectl_ok(
        &k,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "yaml",
            "--show-managed-fields",
        ],
    );
    assert!(
        yaml.contains("manager: kubectl\n    operation: Apply"),
        "{yaml}"
    );
    assert!(yaml.contains("f:replicas: {}"), "{yaml}");

    // Applying the same file again changes nothing.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let o = apply_ss(&k, &v1, &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let again = get_json(&k);
    assert_eq!(
        again["metadata"]["generation"],
        created["metadata"]["generation"]
    );
    // (The controllers write the status meanwhile, so the resourceVersion moves.)
    assert_eq!(entry(&again, "kubectl", "Apply"), Some(applied));

    // A changed file applies.
    let v2 = manifest(&k, 3, "nginx:1.26");
    assert_eq!(apply_ss(&k, &v2, &[]).code, 0);
    let changed = get_json(&k);
    assert_eq!(changed["spec"]["replicas"], 3);
    assert_eq!(
        changed["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.26"
    );

    // kubectl scale takes spec.replicas through the scale subresource.
    kubectl_ok(&k, &["scale", "deployment", "web", "--replicas=5"]);
    let scaled = get_json(&k);
    let scaler = scaled["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subresource"] == "scale")
        .expect("scale entry");
    assert_eq!(scaler["operation"], "Update");
    let scale_manager = scaler["manager"].as_str().unwrap().to_string();

    let o = apply_ss(&k, &v2, &[]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(
        o.stderr.contains(&format!(
            "Apply failed with 1 conflict: conflict with \"{scale_manager}\" with subresource \"scale\" using apps/v1: .spec.replicas"
        )),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("--force-conflicts"), "{}", o.stderr);
    assert_eq!(get_json(&k)["spec"]["replicas"], 5);

    let o = apply_ss(&k, &v2, &["--force-conflicts"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout.trim(), "deployment.apps/web serverside-applied");
    let forced = get_json(&k);
    assert_eq!(forced["spec"]["replicas"], 3);
    assert!(forced["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["subresource"] != "scale"));
}

#[test]
fn kubectl_server_side_apply_takes_over_an_object_made_by_client_side_apply() {
    let k = start();
    let v1 = std::fs::read_to_string(manifest(&k, 2, "nginx:1.25")).unwrap();
    kubectl_apply(&k, &v1);
    let csa = get_json(&k);
    assert!(
        entry(&csa, "kubectl-client-side-apply", "Update").is_some(),
        "{csa}"
    );

    let v2 = manifest(&k, 4, "nginx:1.25");
    let o = apply_ss(&k, &v2, &[]);
    assert_eq!(o.code, 0, "stdout: {}\nstderr: {}", o.stdout, o.stderr);
    assert_eq!(o.stdout.trim(), "deployment.apps/web serverside-applied");
    let ssa = get_json(&k);
    assert_eq!(ssa["spec"]["replicas"], 4);
    let applied = entry(&ssa, "kubectl", "Apply").expect("kubectl Apply entry");
    assert_eq!(
        applied["fieldsV1"]["f:spec"]["f:replicas"],
        serde_json::json!({})
    );
}
