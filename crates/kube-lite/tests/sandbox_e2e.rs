//! The process runtime end to end: the real `kube-lite up --fast --runtime=process` binary
//! and the real kubectl (`KUBE_LITE_KUBECTL`). Busybox containers are real processes in pod
//! sandboxes: their output is `kubectl logs`, their exit codes drive Jobs and the crash-loop
//! back-off, and none outlives kube-lite; what the kubelet gives them from the API (configMap,
//! secret and downwardAPI files, `valueFrom` env, `/etc/hosts`) is what they read. Waits are
//! `kubectl wait` (a watch), not polls, except for events.

use std::collections::HashSet;
use std::time::{Duration, Instant};
use testkit::{kubectl, kubectl_apply, kubectl_ok, until, KubeLite};

fn start() -> KubeLite {
    KubeLite::start(
        env!("CARGO_BIN_EXE_kube-lite"),
        &["--fast", "--runtime=process"],
    )
}

fn wait(k: &KubeLite, what: &str, condition: &str, timeout: &str) {
    kubectl_ok(
        k,
        &[
            "wait",
            what,
            &format!("--for={condition}"),
            &format!("--timeout={timeout}"),
        ],
    );
}

fn job(name: &str, script: &str, backoff_limit: u32) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  backoffLimit: {backoff_limit}
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
        command: ["sh", "-c", "{script}"]
"#
    )
}

#[test]
fn a_busybox_jobs_logs_show_what_its_process_printed() {
    let k = start();
    kubectl_apply(
        &k,
        &job(
            "hello",
            "echo Hello from the Kubernetes cluster; hostname",
            6,
        ),
    );
    wait(&k, "job/hello", "condition=Complete", "90s");
    let logs = kubectl_ok(&k, &["logs", "job/hello"]);
    let mut lines = logs.lines();
    assert_eq!(
        lines.next(),
        Some("Hello from the Kubernetes cluster"),
        "{logs}"
    );
    assert!(
        lines.next().is_some_and(|h| h.starts_with("hello-")),
        "the pod's own hostname: {logs}"
    );
}

#[test]
fn a_job_whose_container_exits_1_ends_backoff_limit_exceeded_after_three_failed_pods() {
    let k = start();
    kubectl_apply(&k, &job("fails", "echo failing; exit 1", 2));
    wait(&k, "job/fails", "condition=Failed", "180s");
    let reason = kubectl_ok(
        &k,
        &[
            "get",
            "job/fails",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason} {.status.failed}",
        ],
    );
    assert_eq!(reason, "BackoffLimitExceeded 3");
    let pods = kubectl_ok(
        &k,
        &[
            "get",
            "pods",
            "-l",
            "job-name=fails",
            "-o",
            "jsonpath={range .items[*]}{.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}{\"\\n\"}{end}",
        ],
    );
    assert_eq!(pods.lines().collect::<Vec<_>>(), ["Failed 1"; 3], "{pods}");
}

#[test]
fn a_crashing_pod_reaches_crash_loop_back_off_and_logs_previous_shows_the_last_run() {
    let k = start();
    kubectl_apply(
        &k,
        r#"apiVersion: v1
kind: Pod
metadata:
  name: crasher
spec:
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo run $(cat /proc/sys/kernel/hostname); exit 2"]
"#,
    );
    wait(
        &k,
        "pod/crasher",
        "jsonpath={.status.containerStatuses[0].state.waiting.reason}=CrashLoopBackOff",
        "90s",
    );
    let last = kubectl_ok(
        &k,
        &[
            "get",
            "pod/crasher",
            "-o",
            "jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].lastState.terminated.reason}",
        ],
    );
    assert_eq!(last, "2 Error");
    assert_eq!(
        kubectl_ok(&k, &["logs", "crasher", "--previous"]),
        "run crasher\n"
    );
}

/// Every process descended from `root` (by the parent pids in `/proc`).
fn descendants(root: u32) -> HashSet<u32> {
    let mut parent = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parent.push((pid, ppid));
        }
    }
    let mut found = HashSet::from([root]);
    loop {
        let before = found.len();
        for (pid, ppid) in &parent {
            if found.contains(ppid) {
                found.insert(*pid);
            }
        }
        if found.len() == before {
            found.remove(&root);
            return found;
        }
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        // A zombie runs nothing.
        !s.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

#[test]
fn after_kube_lite_stops_no_pod_process_remains() {
    let mut k = start();
    kubectl_apply(
        &k,
        r#"apiVersion: v1
kind: Pod
metadata:
  name: sleeper
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
"#,
    );
    wait(&k, "pod/sleeper", "condition=Ready", "90s");
    let pods = descendants(k.pid());
    assert!(
        pods.iter()
            .any(|p| std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c == b"sleep\x003600\x00")),
        "the container runs as a process of kube-lite's: {pods:?}"
    );
    assert!(k.stop().is_some_and(|s| s.success()));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<u32> = pods.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "pod processes left: {left:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = kubectl(&k, &["version"]);
}

#[test]
fn kubectl_port_forward_serves_the_pods_nginx_page_on_the_host() {
    let k = start();
    kubectl_ok(&k, &["run", "web", "--image=nginx"]);
    wait(&k, "pod/web", "condition=Ready", "90s");
    let pf = testkit::PortForward::start(k.kubectl().args(["port-forward", "pod/web", ":80"]));
    // Sent whole and then half-closed: the answer still comes back.
    let page = pf.exchange(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let page = String::from_utf8_lossy(&page);
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("<title>Welcome to nginx!</title>"), "{page}");
    let (stdout, _) = pf.stop();
    assert!(stdout.contains("Handling connection for "), "{stdout}");
    // The server in the pod saw the request come from the pod's own loopback.
    let logs = kubectl_ok(&k, &["logs", "web"]);
    assert!(
        logs.lines()
            .any(|l| l.starts_with("127.0.0.1 - - [") && l.contains("\"GET / HTTP/1.1\" 200 ")),
        "{logs}"
    );
}

const APP_DATA: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  key: hello from a configmap
  mode: fast
---
apiVersion: v1
kind: Secret
metadata:
  name: app-secret
data:
  password: czNjcmV0
"#;

#[test]
fn a_pod_reads_its_configmap_volume_secret_env_field_refs_and_hosts_file() {
    let k = start();
    kubectl_apply(&k, APP_DATA);
    kubectl_apply(
        &k,
        r#"apiVersion: v1
kind: Pod
metadata:
  name: reader
  labels: {app: reader, tier: back}
spec:
  restartPolicy: Never
  hostAliases:
  - ip: 10.1.2.3
    hostnames: [db.local]
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c"]
    args:
    - >-
      cat /etc/config/key; echo;
      echo $FOO $POD_NAME $GREETING $APP_mode;
      cat /etc/podinfo/labels; echo;
      ls /etc/config;
      touch /etc/config/new 2>/dev/null || echo read-only;
      grep -c reader /etc/hosts; grep db.local /etc/hosts;
      echo $(POD_NAME) '$$(POD_NAME)'
    env:
    - name: FOO
      valueFrom: {secretKeyRef: {name: app-secret, key: password}}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: GREETING
      value: hi-$(POD_NAME)
    envFrom:
    - configMapRef: {name: app-config}
      prefix: APP_
    volumeMounts:
    - {name: config, mountPath: /etc/config}
    - {name: podinfo, mountPath: /etc/podinfo}
  volumes:
  - name: config
    configMap: {name: app-config}
  - name: podinfo
    downwardAPI:
      items:
      - path: labels
        fieldRef: {fieldPath: metadata.labels}
"#,
    );
    wait(
        &k,
        "pod/reader",
        "jsonpath={.status.phase}=Succeeded",
        "90s",
    );
    assert_eq!(
        kubectl_ok(&k, &["logs", "reader"]),
        "hello from a configmap\n\
         s3cret reader hi-reader fast\n\
         app=\"reader\"\n\
         tier=\"back\"\n\
         key\n\
         mode\n\
         read-only\n\
         1\n\
         10.1.2.3\tdb.local\n\
         reader $(POD_NAME)\n"
    );
}

#[test]
fn a_pod_whose_configmap_volume_is_missing_stays_container_creating_with_failed_mount_until_it_exists(
) {
    let k = start();
    kubectl_apply(
        &k,
        r#"apiVersion: v1
kind: Pod
metadata:
  name: waiter
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: config, mountPath: /etc/config}
  volumes:
  - name: config
    configMap: {name: app-config}
"#,
    );
    let events = until(
        &k,
        &[
            "get",
            "events",
            "-o",
            "jsonpath={range .items[?(@.reason==\"FailedMount\")]}{.type} {.involvedObject.name}: {.message}{\"\\n\"}{end}",
        ],
        "a FailedMount event",
        |out| !out.is_empty(),
    );
    assert_eq!(
        events.lines().next(),
        Some("Warning waiter: MountVolume.SetUp failed for volume \"config\" : configmap \"app-config\" not found"),
        "{events}"
    );
    assert_eq!(
        kubectl_ok(
            &k,
            &[
                "get",
                "pod/waiter",
                "-o",
                "jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.reason}"
            ]
        ),
        "Pending ContainerCreating"
    );
    kubectl_apply(&k, APP_DATA);
    wait(&k, "pod/waiter", "condition=Ready", "90s");
}

#[test]
fn a_container_whose_env_names_a_missing_configmap_waits_in_create_container_config_error() {
    let k = start();
    kubectl_apply(
        &k,
        r#"apiVersion: v1
kind: Pod
metadata:
  name: misconfigured
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: app-config, key: mode}}
"#,
    );
    wait(
        &k,
        "pod/misconfigured",
        "jsonpath={.status.containerStatuses[0].state.waiting.reason}=CreateContainerConfigError",
        "90s",
    );
    assert_eq!(
        kubectl_ok(
            &k,
            &[
                "get",
                "pod/misconfigured",
                "-o",
                "jsonpath={.status.containerStatuses[0].state.waiting.message}"
            ]
        ),
        "configmap \"app-config\" not found"
    );
    let table = kubectl_ok(&k, &["get", "pod/misconfigured", "--no-headers"]);
    assert!(table.contains("CreateContainerConfigError"), "{table}");
}

fn pod(name: &str, extra: &str, script: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: main
    image: busybox
{extra}    command: ["sh", "-c", "{script}"]
"#
    )
}

/// Create pod `name` (`pod`) and wait until it is Ready.
fn running_pod(k: &KubeLite, name: &str, extra: &str, script: &str) {
    kubectl_apply(k, &pod(name, extra, script));
    wait(k, &format!("pod/{name}"), "condition=Ready", "90s");
}

/// A counter printing a numbered line every 0.1 s.
const TICKER: &str = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done";

fn pods(k: &KubeLite) -> kube::Api<k8s_openapi::api::core::v1::Pod> {
    let url = format!("http://{}", k.addr()).parse().expect("url");
    let client = kube::Client::try_from(kube::Config::new(url)).expect("client");
    kube::Api::default_namespaced(client)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio")
}

/// Read `r` until what was read contains `want` (or 20 s pass); what was read.
async fn read_until(r: &mut (impl tokio::io::AsyncRead + Unpin), want: &str) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        while !String::from_utf8_lossy(&got).contains(want) {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn kube_rs_attach_streams_what_a_running_container_prints_from_then_on() {
    let k = start();
    running_pod(&k, "ticker", "", TICKER);
    std::thread::sleep(Duration::from_millis(500));
    runtime().block_on(async {
        let params = kube::api::AttachParams::default().stderr(false);
        let mut attached = pods(&k).attach("ticker", &params).await.expect("attach");
        let mut stdout = attached.stdout().expect("stdout");
        let got = read_until(&mut stdout, "\ntick ").await;
        let first: Vec<&str> = got.lines().filter(|l| l.starts_with("tick ")).collect();
        assert!(!first.is_empty(), "live output: {got:?}");
        assert!(
            !got.starts_with("tick 0\n"),
            "only what is printed after the attach, not the log from the start: {got:?}"
        );
    });
}

#[test]
fn kube_rs_attach_writes_to_the_stdin_of_a_stdin_true_container() {
    let k = start();
    running_pod(&k, "echo", "    stdin: true\n", "cat");
    runtime().block_on(async {
        use tokio::io::AsyncWriteExt;
        let params = kube::api::AttachParams::default().stdin(true).stderr(false);
        let mut attached = pods(&k).attach("echo", &params).await.expect("attach");
        let mut stdout = attached.stdout().expect("stdout");
        let mut stdin = attached.stdin().expect("stdin");
        stdin.write_all(b"hello through attach\n").await.unwrap();
        let got = read_until(&mut stdout, "hello through attach\n").await;
        assert_eq!(got, "hello through attach\n");
    });
    assert_eq!(
        kubectl_ok(&k, &["logs", "echo"]),
        "hello through attach\n",
        "what the container printed is in its log too"
    );
}

#[test]
fn kubectl_attach_shows_the_output_of_a_running_container() {
    use std::io::Read;
    let k = start();
    running_pod(&k, "ticker", "", TICKER);
    let mut child = k
        .kubectl()
        .args(["attach", "ticker", "-c", "main"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl attach");
    let mut out = child.stdout.take().expect("stdout");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + Duration::from_secs(20);
    while String::from_utf8_lossy(&got).matches("tick ").count() < 3 && Instant::now() < deadline {
        match out.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let _ = child.kill();
    let status = child.wait();
    let mut err = String::new();
    let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
    let got = String::from_utf8_lossy(&got);
    assert!(
        got.matches("tick ").count() >= 3,
        "kubectl attach streams the output: {got:?} {err} {status:?}"
    );
}

#[test]
fn kubectl_attach_with_stderr_to_a_tty_container_is_refused_as_by_the_runtime() {
    let k = start();
    running_pod(&k, "term", "    stdin: true\n    tty: true\n", "cat");
    runtime().block_on(async {
        let params = kube::api::AttachParams::default();
        let mut attached = pods(&k).attach("term", &params).await.expect("attach");
        let status = attached
            .take_status()
            .expect("status")
            .await
            .expect("a status");
        assert_eq!(
            status.message.as_deref(),
            Some("Internal error occurred: unable to upgrade connection: tty and stderr cannot both be true")
        );
    });
}

#[test]
fn kubectl_exec_it_gives_the_command_a_terminal_named_in_the_containers_dev_pts() {
    let k = start();
    running_pod(&k, "shell", "", "sleep 3600");
    let (status, out) = testkit::run_on_terminal(k.kubectl().args([
        "exec",
        "-it",
        "shell",
        "--",
        "sh",
        "-c",
        "tty; ls /dev/pts",
    ]));
    assert!(status.success(), "{out}");
    let mut lines = out.lines().map(str::trim);
    let tty = lines.next().unwrap_or("");
    assert!(
        tty.strip_prefix("/dev/pts/")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        "{out}"
    );
    let n = &tty["/dev/pts/".len()..];
    assert!(
        lines.any(|l| l.split_whitespace().any(|w| w == n)),
        "the terminal is one of the container's own: {out}"
    );
}

#[test]
fn an_nginx_pod_serves_its_welcome_page_and_logs_the_request_in_the_combined_format() {
    let k = start();
    kubectl_apply(
        &k,
        r#"apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: nginx
    image: nginx
"#,
    );
    wait(&k, "pod/web", "condition=Ready", "90s");
    let page = kubectl_ok(&k, &["exec", "web", "--", "curl", "-s", "localhost"]);
    assert!(page.contains("<title>Welcome to nginx!</title>"), "{page}");
    let logs = kubectl_ok(&k, &["logs", "web"]);
    let line = logs
        .lines()
        .find(|l| l.contains("\"GET / HTTP/1.1\""))
        .unwrap_or_else(|| panic!("an access line: {logs:?}"));
    // `127.0.0.1 - - [06/Dec/2026:14:00:00 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"`
    let (addr, rest) = line.split_once(" - - [").expect("remote address and user");
    assert_eq!(addr, "127.0.0.1", "{line}");
    let (time, rest) = rest.split_once("] ").expect("time");
    assert!(time.ends_with(" +0000") && time.contains(":"), "{line}");
    let fields: Vec<&str> = rest.split('"').collect();
    assert_eq!(fields[1], "GET / HTTP/1.1", "{line}");
    let status_size: Vec<&str> = fields[2].split_whitespace().collect();
    assert_eq!(status_size[0], "200", "{line}");
    assert!(status_size[1].parse::<u64>().is_ok_and(|n| n > 0), "{line}");
    assert_eq!(fields[3], "-", "no referer: {line}");
    assert!(fields[5].starts_with("curl/"), "the user agent: {line}");
}

#[test]
fn a_pods_server_answers_on_the_pod_ip_inside_the_pod() {
    let k = start();
    kubectl_ok(&k, &["run", "web", "--image=nginx"]);
    wait(&k, "pod/web", "condition=Ready", "90s");
    let ip = kubectl_ok(&k, &["get", "pod", "web", "-o", "jsonpath={.status.podIP}"]);
    assert!(ip.starts_with("10.244."), "{ip}");
    let page = kubectl_ok(
        &k,
        &["exec", "web", "--", "curl", "-s", &format!("http://{ip}/")],
    );
    assert!(page.contains("<title>Welcome to nginx!</title>"), "{page}");
    let addrs = kubectl_ok(&k, &["exec", "web", "--", "cat", "/proc/net/fib_trie"]);
    assert!(addrs.contains(&ip), "{addrs}");
    // The access log names the pod's own address as the client.
    let logs = kubectl_ok(&k, &["logs", "web"]);
    assert!(
        logs.lines().any(|l| l.starts_with(&format!("{ip} - - ["))),
        "{logs}"
    );
}

#[test]
fn kubectl_exec_works_in_a_pod_whose_image_has_nothing_runnable() {
    // An image the catalog does not know: its container is a silent placeholder process that
    // holds the container's root, so exec runs there like in any other pod.
    let k = start();
    kubectl_ok(
        &k,
        &["run", "app", "--image=registry.example.com/team/app:1.0"],
    );
    wait(&k, "pod/app", "condition=Ready", "90s");
    assert_eq!(kubectl_ok(&k, &["exec", "app", "--", "hostname"]), "app\n");
    assert_eq!(kubectl_ok(&k, &["logs", "app"]), "");
    // Deleting it stops the placeholder at once (it honours SIGTERM).
    kubectl_ok(&k, &["delete", "pod", "app", "--timeout=30s"]);
}

/// The uid and gid of `nobody`, who runs kube-lite in the rootless test.
const NOBODY: (u32, u32) = (65534, 65534);

/// Whether `nobody` may make a user namespace on this host (some distributions forbid it).
fn nobody_may_unshare_a_user_namespace() -> bool {
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args(["unshare", "--user", "--map-root-user", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn without_root_kube_lite_makes_pod_sandboxes_in_a_user_namespace_of_its_own() {
    if !testkit::running_as_root() {
        // Every other test of this suite already runs kube-lite without root.
        return;
    }
    let k = KubeLite::start_as(
        env!("CARGO_BIN_EXE_kube-lite"),
        NOBODY,
        &["--fast", "--runtime=process"],
    );
    let conditions = || {
        kubectl_ok(
            &k,
            &[
                "get",
                "node",
                "kube-lite-worker",
                "-o",
                "jsonpath={range .status.conditions[*]}{.type}={.message}{\"\\n\"}{end}",
            ],
        )
    };
    if !nobody_may_unshare_a_user_namespace() {
        // The host forbids it: the nodes say why, and simulate their pods.
        until(&k, &["get", "nodes"], "the nodes", |_| {
            conditions().contains("SandboxesUnavailable=")
        });
        let c = conditions();
        assert!(
            c.contains("cannot enter a user namespace as uid 65534"),
            "{c}"
        );
        return;
    }
    kubectl_ok(&k, &["run", "web", "--image=nginx"]);
    wait(&k, "pod/web", "condition=Ready", "90s");
    let c = conditions();
    assert!(!c.contains("SandboxesUnavailable"), "{c}");
    // The tutorial's steps (7.4), as an unprivileged user.
    kubectl_ok(
        &k,
        &[
            "exec",
            "web",
            "--",
            "sh",
            "-c",
            "echo \"$(hostname)\" > /usr/share/nginx/html/index.html",
        ],
    );
    assert_eq!(
        kubectl_ok(&k, &["exec", "web", "--", "curl", "-s", "http://localhost"]),
        "web\n"
    );
    // Root in the pod, nobody on the host.
    assert_eq!(kubectl_ok(&k, &["exec", "web", "--", "id", "-u"]), "0\n");
    let uids: HashSet<String> = descendants(k.pid())
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .filter_map(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|u| u.split_whitespace().next().map(str::to_string))
        })
        .collect();
    assert_eq!(
        uids,
        HashSet::from(["65534".to_string()]),
        "uids of pod processes"
    );
    // What the pod writes stays in its layer.
    let marker = format!("/kube-lite-rootless-{}", k.pid());
    kubectl_ok(&k, &["exec", "web", "--", "touch", &marker]);
    kubectl_ok(&k, &["exec", "web", "--", "ls", &marker]);
    assert!(
        !std::path::Path::new(&marker).exists(),
        "{marker} is on the host"
    );
    // The pod's network namespace is reachable from the host.
    let pf = testkit::PortForward::start(k.kubectl().args(["port-forward", "pod/web", ":80"]));
    let page = pf.exchange(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert!(
        String::from_utf8_lossy(&page).ends_with("\r\n\r\nweb\n"),
        "{page:?}"
    );
    pf.stop();
}

#[test]
fn a_running_pods_configmap_volume_follows_an_edit_of_the_configmap() {
    let k = start();
    kubectl_ok(
        &k,
        &["create", "configmap", "app", "--from-literal=mode=fast"],
    );
    kubectl_apply(
        &k,
        r#"apiVersion: v1
kind: Pod
metadata:
  name: reader
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: config, mountPath: /etc/config}
  volumes:
  - name: config
    configMap: {name: app}
"#,
    );
    wait(&k, "pod/reader", "condition=Ready", "90s");
    let cat = ["exec", "reader", "--", "cat", "/etc/config/mode"];
    assert_eq!(kubectl_ok(&k, &cat), "fast");
    kubectl_ok(
        &k,
        &[
            "patch",
            "configmap",
            "app",
            "-p",
            r#"{"data":{"mode":"slow"}}"#,
        ],
    );
    // The kubelet's next sync (1 s with --fast) swaps the files in.
    until(&k, &cat, "the new value in the pod", |out| out == "slow");
    // The old payload is gone: one timestamped directory, `..data` pointing at it.
    let ls = kubectl_ok(&k, &["exec", "reader", "--", "ls", "-a", "/etc/config"]);
    let stamped = ls.lines().filter(|l| l.starts_with("..20")).count();
    assert_eq!(stamped, 1, "{ls}");
}
