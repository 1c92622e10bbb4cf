//! The tutorial acceptance test: chapter 7 (workload controllers) of the walkthrough in
//! `docs/walkthrough.md`, section by section, driven by the real kubectl
//! (`KUBE_LITE_KUBECTL`) against the real `kube-lite up --fast` binary, with the chapter's own
//! manifests from `fixtures/`. Each section runs on its own fresh server and asserts what the
//! reader must see: kubectl's messages, the table columns, names, counts and statuses.
//! Ordering claims (StatefulSet start-up and scale-down) are checked on the event stream of a
//! background `kubectl get pods -w`. 7.6 step 4 (backoffLimit) uses the chapter's Job with a
//! program that exits 1.
//!
//! Pods run under the process runtime (`--runtime=process`), so `kubectl exec` and `kubectl logs`
//! show what really ran: busybox's shell, nginx's pages, the training image's train.py (a
//! stand-in declared in the image catalog, run by the host's python3). Images with nothing
//! runnable (fluentd) run a silent placeholder process and log nothing.

use serde_json::Value;
use std::io::Read;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use testkit::{header, kubectl, kubectl_apply, kubectl_ok as ok, rows, until, KubeLite};

/// The random-suffix alphabet of `generateName` (apimachinery `util/rand`).
const SUFFIX_ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";

fn start() -> KubeLite {
    let k = KubeLite::start(
        env!("CARGO_BIN_EXE_kube-lite"),
        &["--fast", "--runtime=process"],
    );
    until(&k, &["get", "nodes"], "3 Ready nodes", |o| {
        o.matches(" Ready ").count() == 3
    });
    k
}

fn fixture(name: &str) -> String {
    format!("{}/../../fixtures/{name}.yaml", env!("CARGO_MANIFEST_DIR"))
}

/// `name` is `prefix` followed by a 5-character `generateName` suffix.
fn is_generated(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|s| s.len() == 5 && s.chars().all(|c| SUFFIX_ALPHABET.contains(c)))
}

/// `(NAME, READY, STATUS)` of each row of `kubectl get pod`.
fn pods(table: &str) -> Vec<(String, String, String)> {
    rows(table)
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect()
}

/// Exactly `n` pods, all `1/1 Running`.
fn all_running(n: usize) -> impl Fn(&str) -> bool {
    move |o| {
        let p = pods(o);
        p.len() == n
            && p.iter()
                .all(|(_, ready, st)| ready == "1/1" && st == "Running")
    }
}

/// `kubectl get` of `kinds` that lists nothing at all.
fn until_gone(k: &KubeLite, kinds: &str) {
    until(k, &["get", kinds], &format!("no {kinds} left"), |o| {
        o.trim().is_empty()
    });
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn replicaset_section_7_2_keeps_replicas_and_replaces_a_deleted_pod() {
    let k = start();
    assert_eq!(
        ok(&k, &["apply", "-f", &fixture("myreplicaset")]).trim(),
        "replicaset.apps/myreplicaset created"
    );
    let rs = until(&k, &["get", "replicaset"], "2/2/2", |o| {
        rows(o)
            .iter()
            .any(|r| r[..4] == ["myreplicaset", "2", "2", "2"])
    });
    assert_eq!(header(&rs), ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    let out = until(&k, &["get", "pod"], "2 Running pods", all_running(2));
    assert_eq!(header(&out), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    for (name, _, _) in pods(&out) {
        assert!(is_generated(&name, "myreplicaset-"), "{out}");
    }

    assert_eq!(
        ok(&k, &["scale", "rs", "--replicas", "4", "myreplicaset"]).trim(),
        "replicaset.apps/myreplicaset scaled"
    );
    until(&k, &["get", "rs"], "DESIRED 4", |o| {
        rows(o)
            .iter()
            .any(|r| r[..4] == ["myreplicaset", "4", "4", "4"])
    });
    let before = pods(&until(
        &k,
        &["get", "pod"],
        "4 Running pods",
        all_running(4),
    ));

    let victim = before[0].0.clone();
    let out = ok(&k, &["delete", "pod", &victim]);
    assert!(
        out.starts_with(&format!("pod \"{victim}\" deleted")),
        "{out}"
    );
    let after = pods(&until(
        &k,
        &["get", "pod"],
        "4 Running pods with a replacement",
        |o| all_running(4)(o) && !o.contains(&victim),
    ));
    let new: Vec<&String> = after
        .iter()
        .map(|p| &p.0)
        .filter(|n| !before.iter().any(|b| &b.0 == *n))
        .collect();
    assert_eq!(new.len(), 1, "one replacement: {before:?} -> {after:?}");
    assert!(is_generated(new[0], "myreplicaset-"), "{new:?}");

    let out = ok(&k, &["delete", "rs", "--all"]);
    assert!(
        out.starts_with("replicaset.apps \"myreplicaset\" deleted"),
        "{out}"
    );
    until_gone(&k, "rs,pods");
}

/// The revisions and change causes `kubectl rollout history` lists.
fn history(k: &KubeLite) -> Vec<(String, String)> {
    let out = ok(k, &["rollout", "history", "deployment", "mydeploy"]);
    let mut lines = out.lines().skip_while(|l| !l.starts_with("REVISION"));
    let head = lines.next().unwrap_or_default();
    assert_eq!(
        head.split_whitespace().collect::<Vec<_>>(),
        ["REVISION", "CHANGE-CAUSE"],
        "{out}"
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (rev, cause) = l.split_once(' ').unwrap_or((l, ""));
            (rev.to_string(), cause.trim().to_string())
        })
        .collect()
}

fn rollout_status(k: &KubeLite) {
    let out = ok(
        k,
        &[
            "rollout",
            "status",
            "deployment",
            "mydeploy",
            "--timeout=90s",
        ],
    );
    assert!(
        out.trim_end()
            .ends_with("deployment \"mydeploy\" successfully rolled out"),
        "{out}"
    );
}

fn deploy_image(k: &KubeLite) -> String {
    ok(
        k,
        &[
            "get",
            "deployment",
            "mydeploy",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ],
    )
}

#[test]
fn deployment_section_7_3_rolls_out_stalls_on_a_bad_tag_and_rolls_back() {
    let k = start();
    let out = ok(&k, &["apply", "--record", "-f", &fixture("mydeploy")]);
    assert_eq!(out.trim(), "deployment.apps/mydeploy created");
    let deploy = until(&k, &["get", "deployment"], "10/10 ready", |o| {
        rows(o)
            .iter()
            .any(|r| r[..4] == ["mydeploy", "10/10", "10", "10"])
    });
    assert_eq!(
        header(&deploy),
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    );
    let rs = ok(&k, &["get", "rs"]);
    let rs_rows = rows(&rs);
    assert_eq!(rs_rows.len(), 1, "{rs}");
    assert_eq!(rs_rows[0][1..4], ["10", "10", "10"], "{rs}");
    let rs_name = rs_rows[0][0].clone();
    let hash = rs_name.strip_prefix("mydeploy-").expect("mydeploy-<hash>");
    assert!(
        !hash.is_empty() && hash.chars().all(|c| SUFFIX_ALPHABET.contains(c)),
        "{rs}"
    );
    let out = until(&k, &["get", "pod"], "10 Running pods", all_running(10));
    for (name, _, _) in pods(&out) {
        assert!(is_generated(&name, &format!("{rs_name}-")), "{out}");
    }

    // A rolling update to an existing tag.
    let out = ok(
        &k,
        &[
            "set",
            "image",
            "deployment",
            "mydeploy",
            "nginx=nginx:1.9.1",
            "--record",
        ],
    );
    assert_eq!(out.trim(), "deployment.apps/mydeploy image updated");
    rollout_status(&k);
    let out = until(&k, &["get", "pod"], "10 Running pods", all_running(10));
    let one = &pods(&out)[0].0;
    let yaml = ok(&k, &["get", "pod", one, "-o", "yaml"]);
    assert!(yaml.contains("image: nginx:1.9.1"), "{yaml}");

    // A tag that does not exist: the rollout stalls at maxSurge 3 / maxUnavailable 2.
    let out = ok(
        &k,
        &[
            "set",
            "image",
            "deployment",
            "mydeploy",
            "nginx=nginx:1.9.21",
            "--record",
        ],
    );
    assert_eq!(out.trim(), "deployment.apps/mydeploy image updated");
    let stalled = |o: &str| {
        let p = pods(o);
        let failing = p
            .iter()
            .filter(|(_, _, s)| s == "ErrImagePull" || s == "ImagePullBackOff")
            .count();
        let running = p.iter().filter(|(_, _, s)| s == "Running").count();
        p.len() == 13 && failing == 5 && running == 8
    };
    until(
        &k,
        &["get", "pod"],
        "5 pods failing to pull and 8 Running",
        stalled,
    );
    // It stays there: the new pods never become ready, so nothing more is scaled down.
    std::thread::sleep(Duration::from_secs(3));
    let out = ok(&k, &["get", "pod"]);
    assert!(stalled(&out), "the stalled rollout moved on:\n{out}");
    let deploy = ok(&k, &["get", "deployment", "mydeploy"]);
    assert_eq!(rows(&deploy)[0][1..4], ["8/10", "5", "8"], "{deploy}");
    // Three ReplicaSets: 1.7.9 scaled to 0, 1.9.1 holding the 8 Running pods, 1.9.21 with the
    // 5 that cannot pull.
    let rs = ok(&k, &["get", "rs", "-o", "wide"]);
    let mut by_image: Vec<(String, String, String)> = rows(&rs)
        .into_iter()
        .map(|r| (r[6].clone(), r[1].clone(), r[3].clone()))
        .collect();
    by_image.sort();
    assert_eq!(
        by_image,
        [
            ("nginx:1.7.9".to_string(), "0".to_string(), "0".to_string()),
            ("nginx:1.9.1".to_string(), "8".to_string(), "8".to_string()),
            ("nginx:1.9.21".to_string(), "5".to_string(), "0".to_string()),
        ],
        "{rs}"
    );

    let h = history(&k);
    let revs: Vec<&str> = h.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(revs, ["1", "2", "3"], "{h:?}");
    assert!(h[0].1.contains("kubectl apply"), "{h:?}");
    assert!(h[1].1.contains("nginx=nginx:1.9.1 "), "{h:?}");
    assert!(h[2].1.contains("nginx=nginx:1.9.21 "), "{h:?}");

    // Undo: back to revision 2, re-numbered 4.
    assert_eq!(
        ok(&k, &["rollout", "undo", "deployment", "mydeploy"]).trim(),
        "deployment.apps/mydeploy rolled back"
    );
    rollout_status(&k);
    let h = history(&k);
    let revs: Vec<&str> = h.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(revs, ["1", "3", "4"], "{h:?}");
    assert!(h[2].1.contains("nginx=nginx:1.9.1 "), "{h:?}");
    until(&k, &["get", "pod"], "10 Running pods", all_running(10));
    let yaml = ok(&k, &["get", "deployment", "mydeploy", "-o", "yaml"]);
    assert!(yaml.contains("image: nginx:1.9.1\n"), "{yaml}");

    assert_eq!(
        ok(
            &k,
            &[
                "rollout",
                "undo",
                "deployment",
                "mydeploy",
                "--to-revision=1"
            ]
        )
        .trim(),
        "deployment.apps/mydeploy rolled back"
    );
    rollout_status(&k);
    assert_eq!(deploy_image(&k), "nginx:1.7.9");
    until(&k, &["get", "pod"], "10 Running pods", all_running(10));

    for n in ["5", "10"] {
        assert_eq!(
            ok(
                &k,
                &[
                    "scale",
                    "deployment",
                    "mydeploy",
                    &format!("--replicas={n}")
                ]
            )
            .trim(),
            "deployment.apps/mydeploy scaled"
        );
        let n: usize = n.parse().unwrap();
        until(
            &k,
            &["get", "pod"],
            &format!("{n} Running pods"),
            all_running(n),
        );
    }

    // `kubectl edit` with an editor that sets spec.replicas (and nothing else) to 3.
    let editor = k.dir.path().join("set-replicas-3.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nawk '/^spec:/{s=1} /^status:/{s=0} s && /^  replicas: 10$/{sub(/10/,\"3\")} {print}' \"$1\" > \"$1.new\" && mv \"$1.new\" \"$1\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = testkit::run(
        k.kubectl()
            .args(["edit", "deploy", "mydeploy"])
            .env("EDITOR", &editor)
            .env("KUBE_EDITOR", &editor),
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.trim(), "deployment.apps/mydeploy edited");
    until(&k, &["get", "pod"], "3 Running pods", all_running(3));

    let out = ok(&k, &["delete", "deployment", "--all"]);
    assert!(
        out.starts_with("deployment.apps \"mydeploy\" deleted"),
        "{out}"
    );
    until_gone(&k, "deployments,rs,pods");
}

/// A background `kubectl get pods -w --output-watch-events -o json`, collecting its output.
/// `start` returns once kubectl's watch request has been answered (its `-v=6` request log),
/// so no event after that point is missed.
struct PodWatch {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
}

impl PodWatch {
    fn start(k: &KubeLite) -> PodWatch {
        let mut child = k
            .kubectl()
            .args([
                "get",
                "pods",
                "-w",
                "--output-watch-events",
                "-o",
                "json",
                "-v=6",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl get pods -w");
        let out = collect(child.stdout.take().expect("stdout"));
        let log = collect(child.stderr.take().expect("stderr"));
        let deadline = std::time::Instant::now() + testkit::UNTIL_DEADLINE;
        while !String::from_utf8_lossy(&log.lock().unwrap()).contains("watch=true") {
            assert!(
                std::time::Instant::now() < deadline,
                "kubectl get pods -w never watched: {}",
                String::from_utf8_lossy(&log.lock().unwrap())
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        PodWatch { child, out }
    }

    /// The watch events seen so far: `(type, pod name, phase, ready, terminating)`.
    fn events(&self) -> Vec<(String, String, String, bool, bool)> {
        let bytes = self.out.lock().unwrap().clone();
        serde_json::Deserializer::from_slice(&bytes)
            .into_iter::<Value>()
            .map_while(Result::ok)
            .map(|e| {
                let o = &e["object"];
                let ready = o["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True");
                (
                    e["type"].as_str().unwrap_or_default().to_string(),
                    o["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    o["status"]["phase"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    ready,
                    !o["metadata"]["deletionTimestamp"].is_null(),
                )
            })
            .collect()
    }
}

/// Read `r` to its end in a background thread into the returned buffer.
fn collect(mut r: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let out = Arc::new(Mutex::new(Vec::new()));
    let sink = out.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    out
}

impl Drop for PodWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn statefulset_section_7_4_starts_pods_in_order_binds_claims_and_scales_down_in_reverse() {
    let k = start();
    let watch = PodWatch::start(&k);
    let out = ok(&k, &["apply", "-f", &fixture("mysts")]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["statefulset.apps/mysts created", "service/mysts created"]
    );
    let sts = until(&k, &["get", "statefulset"], "3/3 ready", |o| {
        rows(o).iter().any(|r| r[..2] == ["mysts", "3/3"])
    });
    assert_eq!(header(&sts), ["NAME", "READY", "AGE"]);
    let out = until(&k, &["get", "pod"], "3 Running pods", all_running(3));
    let names: Vec<String> = pods(&out).into_iter().map(|p| p.0).collect();
    assert_eq!(names, ["mysts-0", "mysts-1", "mysts-2"]);

    // OrderedReady: each pod is created only once the previous one is Running and Ready.
    let events = watch.events();
    for (prev, next) in [("mysts-0", "mysts-1"), ("mysts-1", "mysts-2")] {
        let created = events
            .iter()
            .position(|e| e.1 == next)
            .unwrap_or_else(|| panic!("no watch event for {next}: {events:?}"));
        assert!(
            events[created].0 == "ADDED" && !events[created].3,
            "the watch did not see {next} created: {events:?}"
        );
        assert!(
            events[..created]
                .iter()
                .any(|e| e.1 == prev && e.2 == "Running" && e.3),
            "{next} was created before {prev} was Running and Ready: {events:?}"
        );
    }

    // 7.4 steps 3-4: each pod's hostname is its name; each pod's own volume holds the page its
    // nginx serves on the pod's own localhost.
    for n in 0..3 {
        let pod = format!("mysts-{n}");
        assert_eq!(
            ok(&k, &["exec", &pod, "--", "hostname"]),
            format!("{pod}\n")
        );
    }
    let write_page = r#"echo "$(hostname)" > /usr/share/nginx/html/index.html"#;
    for pod in ["mysts-0", "mysts-1"] {
        assert_eq!(ok(&k, &["exec", pod, "--", "sh", "-c", write_page]), "");
    }
    let page = |pod: &str| ok(&k, &["exec", pod, "--", "curl", "-s", "http://localhost"]);
    assert_eq!(page("mysts-0"), "mysts-0\n");
    assert_eq!(page("mysts-1"), "mysts-1\n");
    // Nothing was written into mysts-2's (empty) volume: its nginx answers 403, as nginx does.
    assert!(page("mysts-2").contains("403 Forbidden"));
    // Nothing a pod wrote reached the host's filesystem: not the page, not a file in /tmp
    // (which the pod sees, as the host's root is its read-only base).
    let host_page = std::fs::read_to_string("/usr/share/nginx/html/index.html").unwrap_or_default();
    assert!(!host_page.contains("mysts-"), "{host_page}");
    let marker = format!("/tmp/kube-lite-walkthrough-{}", std::process::id());
    ok(
        &k,
        &[
            "exec",
            "mysts-0",
            "--",
            "sh",
            "-c",
            &format!("echo x > {marker}"),
        ],
    );
    assert_eq!(ok(&k, &["exec", "mysts-0", "--", "cat", &marker]), "x\n");
    assert!(
        !std::path::Path::new(&marker).exists(),
        "{marker} is on the host"
    );
    // stdin, exit codes.
    let echoed = testkit::run_with_input(
        k.kubectl().args(["exec", "-i", "mysts-0", "--", "cat"]),
        b"typed\n",
    );
    assert_eq!(
        (echoed.code, echoed.stdout.as_str()),
        (0, "typed\n"),
        "{}",
        echoed.stderr
    );
    let failed = kubectl(&k, &["exec", "mysts-0", "--", "sh", "-c", "exit 3"]);
    assert_eq!(failed.code, 3, "{}", failed.stderr);
    assert!(
        failed
            .stderr
            .contains("command terminated with exit code 3"),
        "{}",
        failed.stderr
    );

    let pvc = until(&k, &["get", "pvc"], "3 Bound claims", |o| {
        let r = rows(o);
        r.len() == 3 && r.iter().all(|r| r[1] == "Bound")
    });
    let claims: Vec<String> = rows(&pvc).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        claims,
        [
            "nginx-vol-mysts-0",
            "nginx-vol-mysts-1",
            "nginx-vol-mysts-2"
        ]
    );

    assert_eq!(
        ok(&k, &["scale", "sts", "mysts", "--replicas=0"]).trim(),
        "statefulset.apps/mysts scaled"
    );
    until_gone(&k, "pods");
    // The claims outlive the pods (persistentVolumeClaimRetentionPolicy Retain).
    let pvc = ok(&k, &["get", "pvc"]);
    assert!(
        rows(&pvc).len() == 3 && rows(&pvc).iter().all(|r| r[1] == "Bound"),
        "{pvc}"
    );
    // Reverse ordinal order: each pod starts terminating only once the higher one is gone.
    let events = until_events(&watch, |ev| {
        ev.iter().filter(|e| e.0 == "DELETED").count() == 3
    });
    let deleted: Vec<&str> = events
        .iter()
        .filter(|e| e.0 == "DELETED")
        .map(|e| e.1.as_str())
        .collect();
    assert_eq!(deleted, ["mysts-2", "mysts-1", "mysts-0"], "{events:?}");
    for (higher, lower) in [("mysts-2", "mysts-1"), ("mysts-1", "mysts-0")] {
        let terminating = events.iter().position(|e| e.1 == lower && e.4).unwrap();
        let gone = events
            .iter()
            .position(|e| e.1 == higher && e.0 == "DELETED")
            .unwrap();
        assert!(
            gone < terminating,
            "{lower} terminated before {higher} was gone: {events:?}"
        );
    }

    // A re-created mysts-0 gets the same claim, so the page it wrote is still there.
    ok(&k, &["scale", "sts", "mysts", "--replicas=1"]);
    until(
        &k,
        &["get", "pod", "mysts-0"],
        "mysts-0 Running again",
        |o| rows(o).iter().any(|r| r[1] == "1/1" && r[2] == "Running"),
    );
    assert_eq!(page("mysts-0"), "mysts-0\n");
    ok(&k, &["scale", "sts", "mysts", "--replicas=0"]);
    until_gone(&k, "pods");

    assert!(ok(&k, &["delete", "sts", "mysts"]).starts_with("statefulset.apps \"mysts\" deleted"));
    assert!(ok(&k, &["delete", "svc", "mysts"]).starts_with("service \"mysts\" deleted"));
    let out = ok(&k, &["delete", "pvc", "--all"]);
    for n in 0..3 {
        assert!(
            out.contains(&format!(
                "persistentvolumeclaim \"nginx-vol-mysts-{n}\" deleted"
            )),
            "{out}"
        );
    }
    until_gone(&k, "sts,pvc");
    let svc = ok(&k, &["get", "svc", "-o", "name"]);
    assert_eq!(svc.trim(), "service/kubernetes");
}

/// Poll the watch until its events satisfy `pred` (within the deadline of `until`).
fn until_events(
    watch: &PodWatch,
    pred: impl Fn(&[(String, String, String, bool, bool)]) -> bool,
) -> Vec<(String, String, String, bool, bool)> {
    let deadline = std::time::Instant::now() + testkit::UNTIL_DEADLINE;
    loop {
        let ev = watch.events();
        if pred(&ev) {
            return ev;
        }
        assert!(std::time::Instant::now() < deadline, "watch events: {ev:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn daemonset_section_7_5_runs_one_pod_per_worker_and_follows_new_nodes() {
    let k = start();
    assert_eq!(
        ok(&k, &["apply", "-f", &fixture("fluentd")]).trim(),
        "daemonset.apps/fluentd created"
    );
    // fluentd does not tolerate the control plane's NoSchedule taint: one pod per worker.
    let ds = until(&k, &["get", "daemonset"], "2 ready of 2", |o| {
        rows(o)
            .iter()
            .any(|r| r[..7] == ["fluentd", "2", "2", "2", "2", "2", "<none>"])
    });
    assert_eq!(
        header(&ds),
        [
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE",
            "SELECTOR",
            "AGE"
        ]
    );
    let nodes_of = |o: &str| {
        let mut n: Vec<String> = rows(o).into_iter().map(|r| r[6].clone()).collect();
        n.sort();
        n
    };
    let out = until(
        &k,
        &["get", "pod", "-o", "wide"],
        "2 Running pods",
        all_running(2),
    );
    for (name, _, _) in pods(&out) {
        assert!(is_generated(&name, "fluentd-"), "{out}");
    }
    assert_eq!(nodes_of(&out), ["kube-lite-worker", "kube-lite-worker2"]);

    // 7.5 step 2: `kubectl logs fluentd-xxxxx` answers (the simulated fluentd writes nothing).
    let (fluentd, _, _) = pods(&out)[0].clone();
    assert_eq!(ok(&k, &["logs", &fluentd]), "");

    // A node that joins later gets its own pod.
    kubectl_apply(
        &k,
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: kube-lite-worker3\n",
    );
    until(&k, &["get", "daemonset"], "3 ready of 3", |o| {
        rows(o)
            .iter()
            .any(|r| r[..6] == ["fluentd", "3", "3", "3", "3", "3"])
    });
    let out = until(
        &k,
        &["get", "pod", "-o", "wide"],
        "3 Running pods",
        all_running(3),
    );
    assert_eq!(
        nodes_of(&out),
        ["kube-lite-worker", "kube-lite-worker2", "kube-lite-worker3"]
    );

    let out = ok(&k, &["delete", "ds", "--all"]);
    assert!(
        out.starts_with("daemonset.apps \"fluentd\" deleted"),
        "{out}"
    );
    until_gone(&k, "ds,pods");
}

#[test]
fn job_section_7_6_runs_to_completion() {
    let k = start();
    assert_eq!(
        ok(&k, &["apply", "-f", &fixture("job")]).trim(),
        "job.batch/myjob created"
    );
    let out = until(&k, &["get", "pod"], "the job's pod Running", all_running(1));
    let pod = pods(&out)[0].0.clone();
    assert!(is_generated(&pod, "myjob-"), "{out}");
    let job = ok(&k, &["get", "job"]);
    assert_eq!(
        header(&job),
        ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    );
    assert_eq!(rows(&job)[0][..3], ["myjob", "Running", "0/1"], "{job}");

    // 7.6 step 2: `kubectl logs -f` follows the container until it ends, then returns.
    let followed = kubectl(&k, &["logs", "-f", &pod]);
    assert_eq!(followed.code, 0, "{}", followed.stderr);
    // The program got the Job's args and trained its three epochs.
    let lines: Vec<&str> = followed.stdout.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"['train.py', '3', 'softmax', '0.5']"),
        "{}",
        followed.stdout
    );
    for want in ["Epoch 1/3", "Epoch 3/3"] {
        assert!(lines.contains(&want), "{want}: {}", followed.stdout);
    }
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with("Test accuracy: ")),
        "{}",
        followed.stdout
    );
    until(&k, &["get", "pod", &pod], "the job's pod Completed", |o| {
        rows(o).iter().any(|r| r[2] == "Completed")
    });

    let job = until(&k, &["get", "job"], "the job Complete", |o| {
        rows(o)
            .iter()
            .any(|r| r[..3] == ["myjob", "Complete", "1/1"])
    });
    assert_eq!(rows(&job).len(), 1, "{job}");
    let out = ok(&k, &["get", "pod"]);
    assert_eq!(
        pods(&out),
        [(pod.clone(), "0/1".to_string(), "Completed".to_string())]
    );

    let out = ok(&k, &["delete", "job", "--all"]);
    assert!(out.starts_with("job.batch \"myjob\" deleted"), "{out}");
    until_gone(&k, "jobs,pods");

    // Step 4, backoffLimit 2: the same Job whose program fails is retried twice more (after
    // the controller's 10 s and 20 s back-off), then Failed.
    let failing = std::fs::read_to_string(fixture("job"))
        .unwrap()
        .replace("name: myjob", "name: failjob")
        .replace(
            "args: ['3', 'softmax', '0.5']",
            "command: ['sh', '-c', 'exit 1']",
        )
        .replace("image: nemo1107/train", "image: busybox");
    assert!(failing.contains("exit 1") && failing.contains("busybox"));
    assert_eq!(
        kubectl_apply(&k, &failing).trim(),
        "job.batch/failjob created"
    );
    let job = until(&k, &["get", "job"], "the job Failed", |o| {
        rows(o)
            .iter()
            .any(|r| r[..3] == ["failjob", "Failed", "0/1"])
    });
    assert_eq!(rows(&job).len(), 1, "{job}");
    let out = ok(&k, &["get", "pod"]);
    let p = pods(&out);
    assert_eq!(p.len(), 3, "one run and two retries:\n{out}");
    for (name, ready, status) in &p {
        assert!(is_generated(name, "failjob-"), "{out}");
        assert_eq!((ready.as_str(), status.as_str()), ("0/1", "Error"), "{out}");
    }
    let reason = ok(
        &k,
        &[
            "get",
            "job",
            "failjob",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}",
        ],
    );
    assert_eq!(reason, "BackoffLimitExceeded");
}

#[test]
fn cronjob_section_7_6_2_creates_a_job_every_minute() {
    let k = start();
    // Not in a minute's last seconds, so the first `get cronjob` sees it before it fires.
    while now_unix() % 60 >= 55 {
        std::thread::sleep(Duration::from_millis(200));
    }
    let before_apply = now_unix();
    assert_eq!(
        ok(&k, &["apply", "-f", &fixture("cronjob")]).trim(),
        "cronjob.batch/hello created"
    );
    let cj = ok(&k, &["get", "cronjob"]);
    assert_eq!(
        header(&cj),
        ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"]
    );
    assert_eq!(
        rows(&cj)[0][..10],
        ["hello", "*/1", "*", "*", "*", "*", "<none>", "False", "0", "<none>"],
        "{cj}"
    );

    // The next minute boundary: wait for it in real time (up to ~60 s plus slack).
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let job = loop {
        let out = kubectl(&k, &["get", "jobs", "-o", "name"]);
        if let Some(name) = out.stdout.lines().next() {
            break name.trim_start_matches("job.batch/").to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no job within 90 s: {}{}",
            out.stdout,
            out.stderr
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let minute: u64 = job
        .strip_prefix("hello-")
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("job name {job} is not hello-<minutes since epoch>"));
    let scheduled = minute * 60;
    assert!(
        // The first schedule strictly after the CronJob's creation, not one before it, and
        // not in the future.
        scheduled > before_apply && scheduled <= now_unix(),
        "{job}: scheduled at {scheduled}, applied at {before_apply}"
    );

    until(&k, &["get", "job", &job], "the job Complete", |o| {
        rows(o).iter().any(|r| r[1..3] == ["Complete", "1/1"])
    });
    let out = until(&k, &["get", "pod"], "its pod Completed", |o| {
        pods(o)
            .iter()
            .any(|(n, _, s)| is_generated(n, &format!("{job}-")) && s == "Completed")
    });
    assert!(!out.is_empty());
    let cj = ok(&k, &["get", "cronjob", "hello"]);
    assert_ne!(rows(&cj)[0][9], "<none>", "LAST SCHEDULE: {cj}");

    // 7.6.2 step 3: the pod's busybox shell really ran `date; echo Hello ...`.
    let (hello, _, _) = pods(&out)
        .into_iter()
        .find(|(n, _, s)| is_generated(n, &format!("{job}-")) && s == "Completed")
        .unwrap();
    let log = ok(&k, &["logs", &hello]);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert_eq!(lines[1], "Hello from the Kubernetes cluster");
    // `date`'s default format: `Sun Dec  6 10:00:00 UTC 2026`.
    assert!(
        lines[0].split_whitespace().count() >= 5 && lines[0].contains(':'),
        "{log}"
    );

    let out = ok(&k, &["delete", "cronjob", "--all"]);
    assert!(out.starts_with("cronjob.batch \"hello\" deleted"), "{out}");
    until_gone(&k, "cronjobs,jobs,pods");
}
