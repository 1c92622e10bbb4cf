//! The real `kube-lite up` binary, end to end: health and version endpoints, the default
//! namespaces, the kubeconfig it writes, the refusal to listen on the network, a clean exit on
//! SIGTERM, durability of every acknowledged write across `kill -9`, and the real kubectl.

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::{assert_success as ok, kubectl, run, try_request, KubeLite};

const BIN: &str = env!("CARGO_BIN_EXE_kube-lite");

fn start() -> KubeLite {
    KubeLite::start(BIN, &[])
}

fn rv_of(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_else(|| panic!("no resourceVersion: {obj}"))
        .parse()
        .expect("numeric resourceVersion")
}

/// A scratch directory for runs that do not go through `KubeLite`.
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("e2e-api-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

#[test]
fn health_endpoints_answer_ok_and_version_is_1_35() {
    let k = start();
    for path in ["/healthz", "/livez", "/readyz"] {
        let (code, body) = k.get_raw(path).expect(path);
        assert_eq!((code, body.as_str()), (200, "ok"), "{path}");
    }
    let (code, v) = k.get("/version");
    assert_eq!(code, 200);
    let git = v["gitVersion"].as_str().unwrap_or_default();
    assert!(git.starts_with("v1.35."), "{v}");
    assert_eq!(v["major"], "1");
    assert_eq!(v["minor"], "35");
}

#[test]
fn first_start_creates_the_four_default_namespaces() {
    let k = start();
    let (code, list) = k.get("/api/v1/namespaces");
    assert_eq!(code, 200, "{list}");
    let names: BTreeSet<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(names.contains(ns), "{ns} missing from {names:?}");
        let (code, obj) = k.get(&format!("/api/v1/namespaces/{ns}"));
        assert_eq!(code, 200);
        assert_eq!(obj["status"]["phase"], "Active");
    }
}

#[test]
fn the_kubeconfig_is_private_and_points_at_the_server() {
    let k = start();
    let path = k.kubeconfig();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("kubeconfig")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {:o}", mode & 0o777);
    }
    let text = std::fs::read_to_string(&path).expect("kubeconfig");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("kubeconfig is YAML");
    assert_eq!(doc["current-context"].as_str(), Some("kube-lite"));
    let server = doc["clusters"][0]["cluster"]["server"].as_str();
    assert_eq!(server, Some(k.url.as_str()), "{text}");
    assert_eq!(
        doc["contexts"][0]["context"]["cluster"].as_str(),
        Some("kube-lite")
    );
}

#[test]
fn a_network_listen_address_is_refused_unless_explicitly_allowed() {
    let dir = scratch("listen");
    let out = run(std::process::Command::new(BIN)
        .arg("up")
        .arg("--listen")
        .arg("0.0.0.0:0")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--kubeconfig")
        .arg(dir.join("kubeconfig")));
    assert_ne!(out.code, 0, "stdout: {}", out.stdout);
    assert!(
        out.stderr.contains("refusing to listen on 0.0.0.0:0")
            && out.stderr.contains("--insecure-listen-on-network"),
        "{}",
        out.stderr
    );
    assert!(
        !dir.join("kubeconfig").exists(),
        "a refused start wrote a kubeconfig"
    );
    assert!(
        !dir.join("data").exists(),
        "a refused start created the data dir"
    );
    let _ = std::fs::remove_dir_all(&dir);

    let mut k = KubeLite::start_on(BIN, "0.0.0.0:0", &["--insecure-listen-on-network"]);
    let port = k.addr().rsplit(':').next().unwrap().to_string();
    let (code, body) = try_request(
        &format!("http://127.0.0.1:{port}"),
        "GET",
        "/healthz",
        None,
        None,
    )
    .expect("healthz over loopback");
    assert_eq!((code, body), (200, json!("ok")));
    let status = k.stop().expect("exit status");
    assert!(status.success(), "{status:?}");
}

#[test]
fn sigterm_shuts_down_cleanly_with_exit_code_0_even_with_watches_open() {
    let mut k = start();
    let (code, _) = k.post(
        "/api/v1/namespaces/default/configmaps",
        &json!({"metadata": {"name": "before-term"}}),
    );
    assert_eq!(code, 201);
    // An open watch without a timeout, as `kubectl get -w` or an informer holds one.
    let mut events = k.watch("/api/v1/namespaces/default/configmaps?watch=true");
    let first = events.next().expect("the watch is open");
    assert_eq!(first["type"], "ADDED");
    assert_eq!(first["object"]["metadata"]["name"], "before-term");
    let started = Instant::now();
    let status = k.stop().expect("exit status");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "shutdown took {:?}",
        started.elapsed()
    );
    assert!(events.next().is_none(), "the watch ends with the server");
    // The data survives a clean restart.
    k.restart();
    let (code, cm) = k.get("/api/v1/namespaces/default/configmaps/before-term");
    assert_eq!(code, 200, "{cm}");
}

/// One acknowledged create: name, uid and resourceVersion as the 201 answered them.
#[derive(Clone, Debug)]
struct Ack {
    name: String,
    uid: String,
    rv: u64,
}

#[test]
fn every_acknowledged_write_survives_kill_9_and_resource_versions_keep_growing() {
    const TRIALS: usize = 5;
    const WRITERS: usize = 4;
    const ACKS_PER_TRIAL: usize = 40;
    let mut k = start();
    let mut all: Vec<Ack> = Vec::new();
    let mut max_rv = 0u64;
    for trial in 0..TRIALS {
        let acked: Arc<Mutex<Vec<Ack>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (url, acked, stop) = (k.url.clone(), acked.clone(), stop.clone());
                std::thread::spawn(move || {
                    for n in 0.. {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let name = format!("t{trial}-w{w}-{n}");
                        let body =
                            json!({"metadata": {"name": name}, "data": {"n": n.to_string()}});
                        match try_request(
                            &url,
                            "POST",
                            "/api/v1/namespaces/default/configmaps",
                            Some("application/json"),
                            Some(body.to_string().as_bytes()),
                        ) {
                            Ok((201, obj)) => acked.lock().unwrap().push(Ack {
                                name,
                                uid: obj["metadata"]["uid"].as_str().unwrap().to_string(),
                                rv: rv_of(&obj),
                            }),
                            Ok((code, obj)) => panic!("create {name}: {code} {obj}"),
                            // The server was killed under this request.
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        // Kill the server mid-stream, once enough writes were acknowledged.
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked.lock().unwrap().len() < ACKS_PER_TRIAL {
            assert!(Instant::now() < deadline, "trial {trial}: writes stalled");
            std::thread::sleep(Duration::from_millis(2));
        }
        k.kill9();
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.join().expect("writer");
        }
        let acked = acked.lock().unwrap().clone();
        max_rv = max_rv.max(acked.iter().map(|a| a.rv).max().unwrap_or(0));
        all.extend(acked);

        k.restart();
        // Every write acknowledged in this or an earlier trial is there, unchanged.
        let (code, list) = k.get("/api/v1/namespaces/default/configmaps");
        assert_eq!(code, 200);
        let stored: std::collections::HashMap<&str, (&str, u64)> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["metadata"]["name"].as_str().unwrap(),
                    (o["metadata"]["uid"].as_str().unwrap(), rv_of(o)),
                )
            })
            .collect();
        for a in &all {
            let (uid, rv) = stored
                .get(a.name.as_str())
                .unwrap_or_else(|| panic!("trial {trial}: acknowledged {a:?} is lost"));
            assert_eq!(*uid, a.uid, "{a:?}");
            assert_eq!(*rv, a.rv, "{a:?}");
        }
        // New writes get resourceVersions above every one handed out before the kill.
        assert!(
            rv_of(&list) >= max_rv,
            "list rv {} < {max_rv}",
            rv_of(&list)
        );
        let (code, obj) = k.post(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata": {"name": format!("after-{trial}")}}),
        );
        assert_eq!(code, 201, "{obj}");
        assert!(
            rv_of(&obj) > max_rv,
            "rv {} after restart <= {max_rv}",
            rv_of(&obj)
        );
        max_rv = rv_of(&obj);
    }
    assert!(all.len() >= TRIALS * ACKS_PER_TRIAL);
}

#[test]
fn the_real_kubectl_lists_creates_deletes_and_reports_not_found() {
    let k = start();
    let o = kubectl(&k, &["get", "namespaces"]);
    ok(&o, "get namespaces");
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(
            o.stdout
                .lines()
                .any(|l| l.starts_with(ns) && l.contains("Active")),
            "{ns} not listed:\n{}",
            o.stdout
        );
    }
    let o = kubectl(&k, &["get", "cm"]);
    ok(&o, "get cm");

    let manifest = k.dir.path().join("cm.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-kubectl\ndata:\n  greeting: hello\n",
    )
    .unwrap();
    let o = kubectl(
        &k,
        &[
            "create",
            "-f",
            manifest.to_str().unwrap(),
            "--validate=false",
        ],
    );
    ok(&o, "create -f");
    assert_eq!(o.stdout.trim(), "configmap/from-kubectl created");
    let (code, cm) = k.get("/api/v1/namespaces/default/configmaps/from-kubectl");
    assert_eq!(code, 200);
    assert_eq!(cm["data"]["greeting"], "hello");
    let o = kubectl(&k, &["get", "cm", "from-kubectl"]);
    ok(&o, "get cm from-kubectl");
    assert!(o.stdout.contains("from-kubectl"), "{}", o.stdout);
    // Creating it again is the server's AlreadyExists, as kubectl prints it.
    let o = kubectl(
        &k,
        &[
            "create",
            "-f",
            manifest.to_str().unwrap(),
            "--validate=false",
        ],
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("Error from server (AlreadyExists): error when creating")
            && o.stderr
                .contains("configmaps \"from-kubectl\" already exists"),
        "{}",
        o.stderr
    );

    let o = kubectl(&k, &["delete", "configmap", "from-kubectl"]);
    ok(&o, "delete configmap");
    // (kubectl 1.35 adds " from default namespace".)
    assert!(
        o.stdout.starts_with("configmap \"from-kubectl\" deleted"),
        "{}",
        o.stdout
    );
    let (code, _) = k.get("/api/v1/namespaces/default/configmaps/from-kubectl");
    assert_eq!(code, 404);

    let o = kubectl(&k, &["get", "deployment", "x"]);
    assert_eq!(o.code, 1, "stdout: {}\nstderr: {}", o.stdout, o.stderr);
    assert_eq!(
        o.stderr.trim(),
        "Error from server (NotFound): deployments.apps \"x\" not found"
    );
}
