//! The tutorial's six manifests apply cleanly with the real kubectl, and `kubectl get -o json`
//! shows the defaulted spec a v1.35 cluster returns (golden files in
//! `fixtures/golden/defaulted/`, written from upstream's defaulting, not generated here).

use serde_json::Value;
use std::path::{Path, PathBuf};
use testkit::{run, KubeLite};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Drop `creationTimestamp: null` (Go's zero time inside templates), which v1.35 may or may not print.
fn without_null_timestamps(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("creationTimestamp") == Some(&Value::Null) {
                m.remove("creationTimestamp");
            }
            m.values_mut().for_each(without_null_timestamps);
        }
        Value::Array(a) => a.iter_mut().for_each(without_null_timestamps),
        _ => {}
    }
}

fn golden(name: &str, uid: &str) -> Value {
    let path = repo()
        .join("fixtures/golden/defaulted")
        .join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text.replace("<uid>", uid)).expect("golden yaml")
}

#[test]
fn tutorial_manifests_apply_and_show_the_v1_35_defaulted_spec() {
    let k = KubeLite::start(env!("CARGO_BIN_EXE_kube-lite"), &[]);
    let mut failures = Vec::new();
    for file in [
        "myreplicaset",
        "mydeploy",
        "mysts",
        "fluentd",
        "job",
        "cronjob",
    ] {
        let manifest = repo().join("fixtures").join(format!("{file}.yaml"));
        let out = run(k.kubectl().arg("apply").arg("-f").arg(&manifest));
        assert_eq!(out.code, 0, "apply {file}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stdout.contains("created"),
            "apply {file}: {}",
            out.stdout
        );
    }
    let objects = [
        ("replicaset", "myreplicaset"),
        ("deployment", "mydeploy"),
        ("statefulset", "mysts"),
        ("service", "mysts"),
        ("daemonset", "fluentd"),
        ("job", "myjob"),
        ("cronjob", "hello"),
    ];
    for (kind, name) in objects {
        let out = run(k.kubectl().args(["get", kind, name, "-o", "json"]));
        assert_eq!(out.code, 0, "get {kind} {name}: {}", out.stderr);
        let mut live: Value = serde_json::from_str(&out.stdout).expect("json");
        without_null_timestamps(&mut live);
        let uid = live["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let want = golden(&format!("{kind}-{name}"), &uid);
        if want["spec"] != live["spec"] {
            failures.push(format!(
                "{kind}/{name} spec differs\nwant: {}\ngot:  {}",
                serde_json::to_string_pretty(&want["spec"]).unwrap_or_default(),
                serde_json::to_string_pretty(&live["spec"]).unwrap_or_default()
            ));
        }
        if let Some(labels) = want.pointer("/metadata/labels") {
            if Some(labels) != live.pointer("/metadata/labels") {
                failures.push(format!(
                    "{kind}/{name} labels: want {labels}, got {}",
                    live["metadata"]["labels"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
