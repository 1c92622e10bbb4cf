//! The simulated nodes end to end, through the real `kube-lite up --fast` binary and the real
//! kubectl (`KUBE_LITE_KUBECTL`, default `kubectl`): nodes, a pod that runs on a worker, a
//! tag that does not exist, `kubectl expose`, a claim that binds, a Node applied by hand, and
//! the nodes and pods surviving a restart.

use serde_json::Value;
use std::time::Duration;
use testkit::{kubectl_apply as apply, kubectl_ok as ok, rows, until, KubeLite};

fn start() -> KubeLite {
    KubeLite::start(env!("CARGO_BIN_EXE_kube-lite"), &["--fast"])
}

#[test]
fn kubectl_get_nodes_shows_three_ready_nodes_with_roles_and_version() {
    let k = start();
    let out = until(&k, &["get", "nodes"], "3 Ready nodes", |o| {
        o.matches(" Ready ").count() == 3
    });
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    let r = rows(&out);
    let summary: Vec<(&str, &str, &str, &str)> = r
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "kube-lite-control-plane",
                "Ready",
                "control-plane",
                "v1.35.0"
            ),
            ("kube-lite-worker", "Ready", "<none>", "v1.35.0"),
            ("kube-lite-worker2", "Ready", "<none>", "v1.35.0"),
        ]
    );
    let wide = ok(&k, &["get", "nodes", "-o", "wide"]);
    assert!(wide.contains("172.18.0.3"), "{wide}");
    assert!(wide.contains("containerd://"), "{wide}");
}

#[test]
fn kubectl_run_lands_on_a_worker_with_an_ip_and_a_bad_tag_backs_off() {
    let k = start();
    until(&k, &["get", "nodes"], "3 Ready nodes", |o| {
        o.matches(" Ready ").count() == 3
    });
    ok(
        &k,
        &["run", "web", "--image=nginx:1.7.9", "--labels=app=web"],
    );
    let out = until(
        &k,
        &["get", "pod", "web", "-o", "wide"],
        "web Running",
        |o| o.contains("Running") && o.contains("1/1"),
    );
    let r = &rows(&out)[0];
    assert!(r[6].starts_with("kube-lite-worker"), "{out}");
    assert!(r[5].starts_with("10.244."), "{out}");
    let describe = ok(&k, &["describe", "pod", "web"]);
    for needle in [
        "Successfully assigned default/web to kube-lite-worker",
        "Started",
        "Container started",
        "docker.io/library/nginx@sha256:",
    ] {
        assert!(describe.contains(needle), "{needle} in\n{describe}");
    }
    ok(&k, &["run", "bad", "--image=nginx:1.9.21"]);
    until(&k, &["get", "pods"], "ImagePullBackOff", |o| {
        o.lines()
            .any(|l| l.starts_with("bad ") && l.contains("ImagePullBackOff"))
    });
    let describe = ok(&k, &["describe", "pod", "bad"]);
    assert!(
        describe.contains("Failed to pull image \"nginx:1.9.21\": rpc error: code = NotFound"),
        "{describe}"
    );
    assert!(
        describe.contains("Back-off pulling image \"nginx:1.9.21\""),
        "{describe}"
    );

    // expose: a Service with a ClusterIP and the pod as its endpoint.
    assert_eq!(
        ok(&k, &["expose", "pod", "web", "--port=80"]).trim(),
        "service/web exposed"
    );
    let svc = ok(&k, &["get", "svc", "web"]);
    let r = &rows(&svc)[0];
    assert_eq!(r[1], "ClusterIP");
    assert!(r[2].starts_with("10."), "{svc}");
    assert_eq!(r[4], "80/TCP");
    let pod_ip: String = {
        let v: Value = serde_json::from_str(&ok(&k, &["get", "pod", "web", "-o", "json"])).unwrap();
        v["status"]["podIP"].as_str().unwrap().to_string()
    };
    until(
        &k,
        &[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=web",
        ],
        "the slice",
        |o| o.contains(&pod_ip),
    );
    let default_svc = ok(&k, &["get", "svc", "kubernetes"]);
    assert!(default_svc.contains("10.96.0.1"), "{default_svc}");
}

#[test]
fn a_claim_binds_and_an_applied_node_becomes_the_fourth_ready_node() {
    let k = start();
    until(&k, &["get", "nodes"], "3 Ready nodes", |o| {
        o.matches(" Ready ").count() == 3
    });
    let sc = ok(&k, &["get", "storageclass"]);
    assert!(sc.contains("standard (default)"), "{sc}");
    apply(
        &k,
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n",
    );
    let pvc = until(&k, &["get", "pvc", "data"], "the claim Bound", |o| {
        o.contains("Bound")
    });
    let r = &rows(&pvc)[0];
    assert_eq!(
        (r[1].as_str(), r[3].as_str(), r[4].as_str(), r[5].as_str()),
        ("Bound", "1Gi", "RWO", "standard"),
        "{pvc}"
    );
    assert!(r[2].starts_with("pvc-"), "{pvc}");

    apply(
        &k,
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: kube-lite-worker3\n",
    );
    let out = until(&k, &["get", "nodes"], "4 Ready nodes", |o| {
        o.matches(" Ready ").count() == 4
    });
    assert!(out.contains("kube-lite-worker3"), "{out}");
}

#[test]
fn nodes_and_running_pods_survive_a_restart() {
    let mut k = start();
    until(&k, &["get", "nodes"], "3 Ready nodes", |o| {
        o.matches(" Ready ").count() == 3
    });
    ok(&k, &["run", "web", "--image=nginx"]);
    until(&k, &["get", "pod", "web"], "web Running", |o| {
        o.contains("Running")
    });
    let before: Value =
        serde_json::from_str(&ok(&k, &["get", "pod", "web", "-o", "json"])).unwrap();
    k.restart();
    until(&k, &["get", "nodes"], "3 Ready nodes", |o| {
        o.matches(" Ready ").count() == 3
    });
    let nodes = ok(&k, &["get", "nodes", "-o", "name"]);
    assert_eq!(nodes.lines().count(), 3, "{nodes}");
    std::thread::sleep(Duration::from_secs(1));
    let after: Value = serde_json::from_str(&ok(&k, &["get", "pod", "web", "-o", "json"])).unwrap();
    assert_eq!(after["status"]["phase"], "Running");
    assert_eq!(after["status"]["podIP"], before["status"]["podIP"]);
    assert_eq!(
        after["status"]["containerStatuses"][0]["containerID"],
        before["status"]["containerStatuses"][0]["containerID"]
    );
    assert_eq!(after["status"]["containerStatuses"][0]["restartCount"], 0);
}
