//! Issue 8's acceptance: the tutorial walkthrough (docs/walkthrough.md 7.2–7.6.2) command by
//! command against one `kube-lite up --fast`, kubectl-lite beside the real kubectl.
//!
//! Read commands run through both clients at a settled moment and must print the same
//! stdout, stderr and exit code (AGE-like cells masked). Write commands run once through
//! each client on twin objects: kubectl-lite writes the tutorial's objects in `default`,
//! kubectl writes the same objects in namespace `twin` (through a kubeconfig whose context
//! namespace is `twin`, so the command lines — and what `--record` stores — are identical),
//! and the two messages must be equal. The twins also let the test compare what each client
//! recorded: `rollout history` of both namespaces must agree.
//! Binaries are found as in compare_with_kubectl.rs; without them the test passes, saying so.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{lite, mask, mask_klog, same, same_in, settle, start_server};
use testkit::{run, KubeLite, Output};

const TWIN: &str = "twin";

struct Walk {
    server: KubeLite,
    fixtures: PathBuf,
    twin_kubeconfig: PathBuf,
}

impl Walk {
    fn new(server: KubeLite) -> Walk {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let twin_kubeconfig = server.dir.path().join("twin.kubeconfig");
        std::fs::copy(server.kubeconfig(), &twin_kubeconfig).unwrap();
        let ns = run(server.kubectl().args(["create", "namespace", TWIN]));
        assert_eq!(ns.code, 0, "{}", ns.stderr);
        let set = run(server.kubectl().env("KUBECONFIG", &twin_kubeconfig).args([
            "config",
            "set-context",
            "--current",
            "--namespace",
            TWIN,
        ]));
        assert_eq!(set.code, 0, "{}", set.stderr);
        Walk {
            server,
            fixtures: fixtures.canonicalize().unwrap(),
            twin_kubeconfig,
        }
    }

    /// The name of the first pod (by name) in `default` whose name starts with `prefix`.
    fn first_pod(&self, prefix: &str) -> String {
        let out = run(self.server.kubectl().args(["get", "pods", "-o", "name"]));
        out.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("pod/"))
            .find(|n| n.starts_with(prefix))
            .unwrap_or_else(|| panic!("no pod {prefix}*: {}", out.stdout))
            .to_string()
    }

    /// The real kubectl working on the twin namespace.
    fn twin(&self) -> Command {
        let mut c = self.server.kubectl();
        c.env("KUBECONFIG", &self.twin_kubeconfig)
            .current_dir(&self.fixtures);
        c
    }

    /// A read command: both clients, same moment, same output.
    fn read(&self, args: &[&str]) {
        same_in(&self.server, Some(&self.fixtures), args);
    }

    /// A write command: kubectl-lite in `default`, kubectl in `twin`; equal messages.
    fn write(&self, args: &[&str]) {
        self.write_each(args, args, &[]);
    }

    /// A write whose arguments differ per side (`lite_args` / `kubectl_args`, e.g. a pod
    /// name); `unify` lists (lite text, kubectl text, common text) replacements.
    fn write_each(&self, lite_args: &[&str], kubectl_args: &[&str], unify: &[(&str, &str, &str)]) {
        self.write_with(lite_args, kubectl_args, unify, |_| {});
    }

    fn write_with(
        &self,
        lite_args: &[&str],
        kubectl_args: &[&str],
        unify: &[(&str, &str, &str)],
        env: impl Fn(&mut Command),
    ) {
        let mut l = lite(&self.server);
        l.current_dir(&self.fixtures);
        env(&mut l);
        let got = run(l.args(lite_args));
        let mut k = self.twin();
        env(&mut k);
        let want = run(k.args(kubectl_args));
        let norm = |o: &Output, lite_side: bool| {
            let fix = |s: &str| {
                let mut s = s.replace(&format!("{TWIN} namespace"), "default namespace");
                for (l, k, common) in unify {
                    s = s.replace(if lite_side { l } else { k }, common);
                }
                mask(&s)
            };
            (o.code, fix(&o.stdout), fix(&o.stderr))
        };
        assert_eq!(
            norm(&got, true),
            norm(&want, false),
            "kubectl-lite {lite_args:?} (in default) and kubectl {kubectl_args:?} (in {TWIN}) differ"
        );
    }

    /// The same read through kubectl on both namespaces: the twins are in the same state
    /// and each client recorded the same change causes.
    fn twins_agree(&self, args: &[&str]) {
        let a = run(self.server.kubectl().args(args));
        let b = run(self.twin().args(args));
        assert_eq!(
            (a.code, mask(&a.stdout), mask(&a.stderr)),
            (b.code, mask(&b.stdout), mask(&b.stderr)),
            "{args:?}: the objects kubectl-lite wrote differ from kubectl's"
        );
    }

    /// `kubectl -n NS ARGS` stdout (for polling).
    fn query(&self, ns: &str, args: &[&str]) -> String {
        run(self.server.kubectl().args(["-n", ns]).args(args)).stdout
    }

    /// Polls until `check` holds for both namespaces' output of `args` (90 s at most).
    fn wait(&self, what: &str, args: &[&str], check: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let outs: Vec<String> = ["default", TWIN]
                .iter()
                .map(|ns| self.query(ns, args))
                .collect();
            if outs.iter().all(|o| check(o)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {outs:?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until `kind/name` reports `jsonpath` equal to `want` in both namespaces.
    fn wait_field(&self, kind_name: &str, jsonpath: &str, want: &str) {
        let expr = format!("jsonpath={jsonpath}");
        self.wait(
            &format!("{kind_name} {jsonpath} = {want}"),
            &["get", kind_name, "-o", &expr],
            |o| o == want,
        );
    }

    /// Waits until `get pod` lists exactly `n` pods (none terminating) in both namespaces.
    fn wait_pods(&self, n: usize) {
        self.wait(
            &format!("{n} running pods"),
            &["get", "pod", "--no-headers"],
            |o| {
                o.lines().count() == n
                    && o.lines()
                        .all(|l| l.contains(" Running ") || l.contains(" Completed "))
            },
        );
    }

    /// Waits until a Deployment's rollout is complete at `replicas` (no old pods left).
    fn wait_rollout(&self, replicas: usize) {
        let all = format!("{replicas}/{replicas}/{replicas}/{replicas}");
        self.wait_field(
            "deployment/mydeploy",
            "{.status.updatedReplicas}/{.status.availableReplicas}/{.status.replicas}/{.status.readyReplicas}",
            &all,
        );
        self.wait_pods(replicas);
    }

    /// The first pod whose name starts with `prefix`, in `ns`.
    fn pod(&self, ns: &str, prefix: &str) -> String {
        self.query(ns, &["get", "pod", "-o", "name"])
            .lines()
            .map(|l| l.trim_start_matches("pod/").to_string())
            .find(|n| n.starts_with(prefix))
            .unwrap_or_else(|| panic!("no pod {prefix}* in {ns}"))
    }
}

#[test]
fn the_walkthrough_prints_what_kubectl_prints() {
    let Some(server) = start_server(&["--fast", "--runtime=process"]) else {
        return;
    };
    let w = Walk::new(server);
    let started = Instant::now();

    // 7.2 ReplicaSet
    w.write(&["apply", "-f", "myreplicaset.yaml"]);
    w.wait_pods(2);
    w.read(&["get", "replicaset"]);
    w.read(&["get", "pod"]);
    w.write(&["scale", "rs", "--replicas", "4", "myreplicaset"]);
    w.wait_pods(4);
    w.read(&["get", "rs"]);
    w.read(&["get", "pod"]);
    let (mine, theirs) = (
        w.pod("default", "myreplicaset-"),
        w.pod(TWIN, "myreplicaset-"),
    );
    w.write_each(
        &["delete", "pod", &mine],
        &["delete", "pod", &theirs],
        &[(&mine, &theirs, "POD")],
    );
    w.wait_pods(4);
    w.read(&["get", "pod"]);
    w.read(&["get", "pod", "-o", "jsonpath={.items[*].metadata.name}"]);
    w.read(&[
        "get",
        "pod",
        "-o",
        "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image",
    ]);
    w.write(&["delete", "rs", "--all"]);
    w.wait_pods(0);
    w.read(&["get", "rs"]);

    // 7.3 Deployment
    w.write(&["apply", "--record", "-f", "mydeploy.yaml"]);
    w.wait_rollout(10);
    w.read(&["get", "deployment"]);
    w.read(&["get", "rs"]);
    w.read(&["get", "pod"]);
    w.read(&["get", "pod", "-o", "wide"]);
    w.write(&[
        "set",
        "image",
        "deployment",
        "mydeploy",
        "nginx=nginx:1.9.1",
        "--record",
    ]);
    w.wait_rollout(10);
    w.read(&["get", "pod"]);
    let one = w.pod("default", "mydeploy-");
    w.read(&["get", "pod", &one, "-o", "yaml"]);
    w.read(&["get", "rs"]);
    w.write(&[
        "set",
        "image",
        "deployment",
        "mydeploy",
        "nginx=nginx:1.9.21",
        "--record",
    ]);
    // The new tag does not exist: 5 new pods never start, 8 old ones keep running.
    w.wait("a stuck rollout", &["get", "pod", "--no-headers"], |o| {
        let pulling = o
            .lines()
            .filter(|l| l.contains("ErrImagePull") || l.contains("ImagePullBackOff"))
            .count();
        let running = o.lines().filter(|l| l.contains(" Running ")).count();
        (pulling, running, o.lines().count()) == (5, 8, 13)
    });
    w.wait_field("deployment/mydeploy", "{.status.updatedReplicas}", "5");
    w.read(&["get", "pod"]);
    w.read(&["get", "deployment"]);
    w.read(&["get", "rs"]);
    w.read(&["rollout", "history", "deployment", "mydeploy"]);
    w.twins_agree(&["rollout", "history", "deployment", "mydeploy"]);
    w.write(&["rollout", "undo", "deployment", "mydeploy"]);
    w.wait_rollout(10);
    w.read(&["rollout", "history", "deployment", "mydeploy"]);
    w.twins_agree(&["rollout", "history", "deployment", "mydeploy"]);
    w.read(&["get", "pod"]);
    w.read(&["get", "deployment", "mydeploy", "-o", "yaml"]);
    w.read(&["describe", "deployment", "mydeploy"]);
    w.write(&[
        "rollout",
        "undo",
        "deployment",
        "mydeploy",
        "--to-revision=1",
    ]);
    w.wait_rollout(10);
    w.read(&["get", "pod"]);
    w.read(&["rollout", "history", "deployment", "mydeploy"]);
    w.twins_agree(&["rollout", "history", "deployment", "mydeploy"]);
    w.write(&["scale", "deployment", "mydeploy", "--replicas=5"]);
    w.wait_rollout(5);
    w.read(&["get", "pod"]);
    w.write(&["scale", "deployment", "mydeploy", "--replicas=10"]);
    w.wait_rollout(10);
    w.read(&["get", "pod"]);
    let editor = w.server.dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/^  replicas: 10$/  replicas: 3/' \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let args = ["edit", "deploy", "mydeploy"];
    w.write_with(&args, &args, &[], |c| {
        c.env("EDITOR", &editor).env_remove("KUBE_EDITOR");
    });
    w.wait_rollout(3);
    w.read(&["get", "pod"]);
    w.read(&["get", "deployment"]);
    w.write(&["delete", "deployment", "--all"]);
    w.wait_pods(0);
    w.read(&["get", "deployment"]);
    w.read(&["get", "rs"]);

    // 7.4 StatefulSet
    w.write(&["apply", "-f", "mysts.yaml"]);
    w.wait_field("statefulset/mysts", "{.status.readyReplicas}", "3");
    w.wait_pods(3);
    w.read(&["get", "statefulset"]);
    w.read(&["get", "pod"]);
    w.read(&["get", "pvc"]);
    // Steps 3–4: hostnames, a page written into each pod's volume, served on its localhost.
    for n in 0..3 {
        w.read(&["exec", &format!("mysts-{n}"), "--", "hostname"]);
    }
    let write_page = r#"echo "$(hostname)" > /usr/share/nginx/html/index.html"#;
    for pod in ["mysts-0", "mysts-1"] {
        w.write(&["exec", pod, "--", "sh", "-c", write_page]);
        w.read(&["exec", pod, "--", "curl", "-s", "http://localhost"]);
    }
    w.read(&[
        "exec",
        "mysts-0",
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    w.read(&["exec", "mysts-0", "-c", "nope", "--", "true"]);
    w.write(&["scale", "sts", "mysts", "--replicas=0"]);
    w.wait_pods(0);
    w.read(&["get", "pod"]);
    w.write(&["delete", "sts", "mysts"]);
    w.write(&["delete", "svc", "mysts"]);
    w.write(&["delete", "pvc", "--all"]);
    w.read(&["get", "pvc"]);

    // 7.5 DaemonSet
    w.write(&["apply", "-f", "fluentd.yaml"]);
    w.wait(
        "every node's fluentd pod",
        &[
            "get",
            "ds",
            "fluentd",
            "-o",
            "jsonpath={.status.desiredNumberScheduled}/{.status.numberReady}",
        ],
        |o| {
            o.split_once('/')
                .is_some_and(|(d, r)| d == r && d != "0" && !d.is_empty())
        },
    );
    settle(&w.server);
    w.read(&["get", "daemonset"]);
    w.read(&["get", "pod"]);
    // Step 2: `logs fluentd-xxxxx` (the simulated fluentd writes nothing).
    w.read(&["logs", &w.first_pod("fluentd-")]);
    w.read(&["logs", "ds/fluentd", "--tail=5"]);
    w.write(&["delete", "ds", "--all"]);
    w.wait_pods(0);

    // 7.6 Job
    w.write(&["apply", "-f", "job.yaml"]);
    w.wait("the job's pod", &["get", "pod", "--no-headers"], |o| {
        o.contains(" Running ")
    });
    w.read(&["get", "job"]);
    w.read(&["get", "pod"]);
    // Step 2: `logs -f myjob-xxxxx` follows until the program ends.
    w.read(&["logs", "-f", &w.first_pod("myjob-")]);
    w.wait_field("job/myjob", "{.status.succeeded}", "1");
    w.wait_pods(1);
    w.read(&["get", "pod"]);
    w.read(&["get", "job"]);
    w.write(&["delete", "job", "--all"]);
    w.wait_pods(0);

    // 7.6.2 CronJob
    w.write(&["apply", "-f", "cronjob.yaml"]);
    w.read(&["get", "cronjob"]);
    w.wait(
        "the first scheduled job",
        &["get", "job", "-o", "name"],
        |o| o.starts_with("job.batch/hello-"),
    );
    w.wait(
        "the job's completion",
        &["get", "job", "--no-headers"],
        |o| o.lines().count() == 1 && o.contains(" Complete "),
    );
    settle(&w.server);
    w.read(&["get", "cronjob"]);
    w.read(&["get", "job"]);
    w.read(&["get", "pod"]);
    // Step 3: `logs hello-xxxxxxxx-xxxxx` prints the date and the greeting.
    let hello = w.first_pod("hello-");
    w.read(&["logs", &hello]);
    let job = format!("job/{}", hello.rsplit_once('-').unwrap().0);
    w.read(&["logs", &job, "--timestamps"]);
    w.write(&["delete", "cronjob", "--all"]);
    w.read(&["get", "cronjob"]);
    eprintln!("walkthrough compared in {:?}", started.elapsed());
}

/// Bad input: kubectl's message and exit code.
#[test]
fn bad_input_is_reported_like_kubectl() {
    let Some(server) = start_server(&["--fast"]) else {
        return;
    };
    for args in [
        &["get", "foo"][..],
        &["get", "pods", "--nope"],
        &["get", "pods", "-z"],
        &["set", "image", "deployment", "x", "--nope=1"],
        &["get", "pods", "-o", "jsonpath={.items[*].metadata.name}"],
        &[
            "get",
            "ns",
            "-o",
            "custom-columns=NAME:.metadata.name,PHASE:.status.phase",
        ],
    ] {
        same(&server, args);
    }
    let dir = server.dir.path();
    std::fs::write(
        dir.join("bad.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("bad-token.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: @x\n",
    )
    .unwrap();
    same_in(&server, Some(dir), &["apply", "-f", "bad.yaml"]);
    same_in(&server, Some(dir), &["apply", "-f", "bad-token.yaml"]);
    // Nothing listens on port 1: kubectl logs five klog lines, then its message.
    let args = ["--server", "http://127.0.0.1:1", "get", "pods"];
    let want = run(server.kubectl().args(args));
    let got = run(lite(&server).args(args));
    assert_eq!(
        (got.code, got.stdout, mask_klog(&got.stderr)),
        (want.code, want.stdout, mask_klog(&want.stderr)),
        "kubectl-lite {args:?} differs from kubectl"
    );
}
