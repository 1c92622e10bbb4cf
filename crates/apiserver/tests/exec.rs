//! `pods/exec`, `pods/attach` (its refusals) and `pods/portforward` over WebSocket, end to end: an in-process API server
//! whose node agent runs the command as a host process (a pty for `tty`) and forwards ports to
//! this host's loopback, driven by the real kubectl v1.35 (channel protocol v5 with its SPDY
//! fallback), by kube-rs, and by a raw WebSocket client for v4, resize and the requests that
//! must be refused before the upgrade.

use apiserver::error::ApiError;
use apiserver::node_agent::{
    ByteReader, ByteWriter, ExecOptions, ExecSession, LogOptions, LogStream, NodeAgent,
    PortConnection,
};
use apiserver::server::InProcess;
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

// ---------------------------------------------------------------------------------------------
// A node agent that runs the command on this host.

/// Runs each exec as a host process; reports on `dropped` the pid of every session the API
/// server dropped before the process ended (a client that went away).
struct HostAgent {
    dropped: mpsc::UnboundedSender<u32>,
}

impl NodeAgent for HostAgent {
    fn container_logs(&self, _pod: &Value, _opts: &LogOptions) -> Result<LogStream, ApiError> {
        Err(ApiError::bad_request("no logs on this test node"))
    }

    fn exec(
        &self,
        _pod: &Value,
        opts: ExecOptions,
    ) -> BoxFuture<'static, Result<ExecSession, ApiError>> {
        let dropped = self.dropped.clone();
        Box::pin(async move { spawn(opts, dropped) })
    }

    /// The pod's loopback is this host's.
    fn port_forward(
        &self,
        _pod: &Value,
        port: u16,
    ) -> BoxFuture<'static, Result<PortConnection, ApiError>> {
        Box::pin(async move {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .map_err(|e| ApiError::internal(format!("dial tcp 127.0.0.1:{port}: {e}")))?;
            let (read, write) = tcp.into_split();
            Ok(PortConnection {
                read: Box::pin(read),
                write: Box::pin(write),
            })
        })
    }
}

fn openpty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two new descriptors into the out-parameters; the rest are null.
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

fn set_size(fd: &OwnedFd, cols: u16, rows: u16) {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from the pointer, which lives across the call.
    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &size) };
}

/// Make the child the leader of a new session with its stdin (a pty) as controlling terminal.
fn become_terminal_leader(cmd: &mut tokio::process::Command) {
    // SAFETY: setsid and ioctl are async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn spawn(opts: ExecOptions, dropped: mpsc::UnboundedSender<u32>) -> Result<ExecSession, ApiError> {
    let pipe = |on: bool| if on { Stdio::piped() } else { Stdio::null() };
    let mut cmd = tokio::process::Command::new(&opts.command[0]);
    cmd.args(&opts.command[1..]).kill_on_drop(true);
    let mut session = ExecSession {
        stdin: None,
        stdout: None,
        stderr: None,
        resize: None,
        exit: Box::pin(async { Ok(0) }),
    };
    let master = if opts.tty {
        let (master, slave) = openpty();
        let dup = |fd: &OwnedFd| fd.try_clone().expect("dup");
        cmd.stdin(Stdio::from(dup(&slave)))
            .stdout(Stdio::from(dup(&slave)))
            .stderr(Stdio::from(slave));
        become_terminal_leader(&mut cmd);
        Some(master)
    } else {
        cmd.stdin(pipe(opts.stdin))
            .stdout(pipe(opts.stdout))
            .stderr(pipe(opts.stderr));
        None
    };
    let mut child = cmd
        .spawn()
        .map_err(|e| ApiError::internal(format!("error executing command in container: {e}")))?;
    drop(cmd); // our copies of the pty's slave side: the child's end must be the last
    if let Some(master) = master {
        let file = |fd: &OwnedFd| {
            tokio::fs::File::from_std(std::fs::File::from(fd.try_clone().expect("dup")))
        };
        session.stdout = Some(Box::pin(file(&master)) as ByteReader);
        if opts.stdin {
            session.stdin = Some(Box::pin(file(&master)) as ByteWriter);
        }
        session.resize = Some(Box::new(move |cols, rows| set_size(&master, cols, rows)));
    } else {
        session.stdin = child.stdin.take().map(|w| Box::pin(w) as ByteWriter);
        session.stdout = child.stdout.take().map(|r| Box::pin(r) as ByteReader);
        session.stderr = child.stderr.take().map(|r| Box::pin(r) as ByteReader);
    }
    let pid = child.id().unwrap_or(0);
    let guard = DropReport {
        pid,
        to: Some(dropped),
    };
    session.exit = Box::pin(async move {
        let mut guard = guard;
        let status = child.wait().await.map_err(|e| e.to_string());
        guard.disarm();
        let status = status?;
        Ok(status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
    });
    Ok(session)
}

/// Reports `pid` when dropped before the process was waited for.
struct DropReport {
    pid: u32,
    to: Option<mpsc::UnboundedSender<u32>>,
}

impl DropReport {
    fn disarm(&mut self) {
        self.to = None;
    }
}

impl Drop for DropReport {
    fn drop(&mut self) {
        if let Some(to) = self.to.take() {
            let _ = to.send(self.pid);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The cluster: an API server with the host agent, a kube-rs client, the real kubectl.

struct Cluster {
    rt: tokio::runtime::Runtime,
    server: InProcess,
    client: kube::Client,
    kubectl: testkit::Kubectl,
    dropped: std::sync::Mutex<Option<mpsc::UnboundedReceiver<u32>>>,
}

impl Cluster {
    fn start() -> Cluster {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (tx, dropped) = mpsc::unbounded_channel();
        let (server, client) = rt.block_on(async {
            let server = InProcess::start().await.expect("start the API server");
            server
                .registry
                .set_node_agent(Arc::new(HostAgent { dropped: tx }));
            let config = kube::Config::new(server.url.parse().expect("url"));
            let client = kube::Client::try_from(config).expect("client");
            (server, client)
        });
        let kubectl = testkit::Kubectl::new(&server.url);
        Cluster {
            rt,
            server,
            client,
            kubectl,
            dropped: std::sync::Mutex::new(Some(dropped)),
        }
    }

    fn pods(&self) -> Api<Pod> {
        Api::default_namespaced(self.client.clone())
    }

    /// Create pod `name` with `containers`, bound to a node unless `node` is empty, with the
    /// given container states in its status.
    fn pod(&self, name: &str, containers: &[&str], node: &str, states: &[(&str, Value)]) {
        let mut pod = json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": containers.iter()
                .map(|c| json!({"name": c, "image": "busybox"})).collect::<Vec<_>>()},
        });
        if !node.is_empty() {
            pod["spec"]["nodeName"] = json!(node);
        }
        let pod: Pod = serde_json::from_value(pod).expect("pod");
        let statuses: Vec<Value> = states
            .iter()
            .map(|(c, state)| {
                json!({"name": c, "image": "busybox", "imageID": "", "ready": true,
                                     "restartCount": 0, "state": state})
            })
            .collect();
        let phase = if states.iter().all(|(_, s)| s.get("running").is_some()) {
            "Running"
        } else {
            "Pending"
        };
        let pods = self.pods();
        self.rt.block_on(async {
            pods.create(&PostParams::default(), &pod)
                .await
                .expect("create the pod");
            if !states.is_empty() {
                let status = json!({"status": {"phase": phase, "containerStatuses": statuses}});
                pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
                    .await
                    .expect("set the pod's status");
            }
        });
    }

    /// A bound pod with one running container `app`.
    fn running_pod(&self, name: &str) {
        self.pod(name, &["app"], "node-1", &[("app", running())]);
    }

    fn kubectl(&self, args: &[&str]) -> testkit::Output {
        self.kubectl.run(args)
    }

    fn ws_url(&self, path_and_query: &str) -> String {
        format!(
            "{}{path_and_query}",
            self.server.url.replacen("http", "ws", 1)
        )
    }
}

fn running() -> Value {
    json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}})
}

// ---------------------------------------------------------------------------------------------
// The real kubectl.

#[test]
fn kubectl_exec_prints_the_command_output() {
    let c = Cluster::start();
    c.running_pod("p");
    let o = c.kubectl(&["exec", "p", "--", "echo", "hi"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "hi\n"), "{}", o.stderr);
}

#[test]
fn kubectl_exec_keeps_stdout_and_stderr_apart() {
    let c = Cluster::start();
    c.running_pod("p");
    let o = c.kubectl(&["exec", "p", "--", "sh", "-c", "echo out; echo err >&2"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("out\n", "err\n"));
}

#[test]
fn kubectl_exec_i_passes_stdin_to_the_command_until_it_ends() {
    let c = Cluster::start();
    c.running_pod("p");
    let mut child = c
        .kubectl
        .command()
        .args(["exec", "-i", "p", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"hello\nworld\n")
        .expect("write stdin");
    let out = child.wait_with_output().expect("kubectl exec -i");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\nworld\n");
}

#[test]
fn kubectl_exec_exits_with_the_command_exit_code() {
    let c = Cluster::start();
    c.running_pod("p");
    let o = c.kubectl(&["exec", "p", "--", "sh", "-c", "exit 3"]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert_eq!(o.stderr, "command terminated with exit code 3\n");
}

#[test]
fn kubectl_exec_it_gives_the_command_a_terminal() {
    let c = Cluster::start();
    c.running_pod("p");
    let (status, out) = testkit::run_on_terminal(c.kubectl.command().args([
        "exec",
        "-it",
        "p",
        "--",
        "sh",
        "-c",
        "test -t 0 && test -t 1 && echo on-a-tty",
    ]));
    assert!(status.success(), "{out}");
    assert!(out.contains("on-a-tty"), "{out}");
    assert!(!out.contains("Unable to use a TTY"), "{out}");
}

#[test]
fn kubectl_exec_into_an_unknown_container_shows_the_status_message() {
    let c = Cluster::start();
    c.running_pod("p");
    let o = c.kubectl(&["exec", "p", "-c", "nope", "--", "true"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "Error from server (BadRequest): container nope is not valid for pod p\n"
    );
}

#[test]
fn kubectl_exec_into_a_container_not_running_fails_as_with_kube_apiserver() {
    let c = Cluster::start();
    c.pod(
        "p",
        &["app"],
        "node-1",
        &[("app", json!({"waiting": {"reason": "ContainerCreating"}}))],
    );
    let o = c.kubectl(&["exec", "p", "--", "true"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "error: Internal error occurred: unable to upgrade connection: container not found (\"app\")\n"
    );
}

#[test]
fn kubectl_exec_into_a_pod_on_no_node_fails() {
    let c = Cluster::start();
    c.pod("p", &["app"], "", &[]);
    let o = c.kubectl(&["exec", "p", "--", "true"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "Error from server (BadRequest): pod p does not have a host assigned\n"
    );
}

// ---------------------------------------------------------------------------------------------
// kube-rs.

#[test]
fn kube_rs_exec_gets_stdout_and_the_status() {
    let c = Cluster::start();
    c.running_pod("p");
    let pods = c.pods();
    c.rt.block_on(async {
        let params = AttachParams::default().stderr(false);
        let mut attached = pods
            .exec("p", ["sh", "-c", "echo from-kube-rs"], &params)
            .await
            .expect("exec");
        let mut out = String::new();
        let mut stdout = attached.stdout().expect("stdout");
        stdout.read_to_string(&mut out).await.expect("read stdout");
        let status = attached.take_status().expect("status").await;
        assert_eq!(out, "from-kube-rs\n");
        assert_eq!(status.and_then(|s| s.status).as_deref(), Some("Success"));

        let mut attached = pods
            .exec("p", ["sh", "-c", "exit 7"], &params)
            .await
            .expect("exec");
        let status = attached
            .take_status()
            .expect("status")
            .await
            .expect("a status");
        assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
        let causes = status.details.and_then(|d| d.causes).unwrap_or_default();
        assert_eq!(causes[0].message.as_deref(), Some("7"));
    });
}

// ---------------------------------------------------------------------------------------------
// A raw WebSocket client.

type Client = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Open `path` offering `protocols`; the socket and the subprotocol the server chose, or the
/// refusal's status code and body.
async fn open(c: &Cluster, path: &str, protocols: &str) -> Result<(Client, String), (u16, Value)> {
    let mut req = c.ws_url(path).into_client_request().expect("request");
    if !protocols.is_empty() {
        req.headers_mut()
            .insert("sec-websocket-protocol", protocols.parse().expect("header"));
    }
    let addr = c.server.url.trim_start_matches("http://").to_string();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    match tokio_tungstenite::client_async(req, tcp).await {
        Ok((ws, resp)) => {
            let chosen = resp
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            Ok((ws, chosen))
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let body = resp.body().clone().unwrap_or_default();
            let body = serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
            Err((resp.status().as_u16(), body))
        }
        Err(e) => panic!("handshake: {e}"),
    }
}

/// Everything the server sends until it closes: the payloads per channel (binary frames) and
/// the close code.
async fn drain(ws: &mut Client) -> (Vec<(u8, Vec<u8>)>, Option<u16>) {
    let mut frames = Vec::new();
    while let Some(msg) = ws.next().await {
        match msg.expect("read") {
            Message::Binary(b) if !b.is_empty() => frames.push((b[0], b[1..].to_vec())),
            Message::Close(frame) => return (frames, frame.map(|f| u16::from(f.code))),
            _ => {}
        }
    }
    (frames, None)
}

fn channel_text(frames: &[(u8, Vec<u8>)], channel: u8) -> String {
    let bytes: Vec<u8> = frames
        .iter()
        .filter(|(c, _)| *c == channel)
        .flat_map(|(_, d)| d.clone())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn a_v4_client_gets_output_then_the_kubelets_status_then_a_normal_close() {
    let c = Cluster::start();
    c.running_pod("p");
    c.rt.block_on(async {
        let path = "/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&command=echo%20hi%3B%20exit%203&stdout=true&stderr=true";
        let (mut ws, chosen) = open(&c, path, "v4.channel.k8s.io").await.expect("open");
        assert_eq!(chosen, "v4.channel.k8s.io");
        let (frames, close) = drain(&mut ws).await;
        assert_eq!(channel_text(&frames, 1), "hi\n");
        let status: Value = serde_json::from_str(&channel_text(&frames, 3)).expect("status");
        assert_eq!(
            status,
            json!({"metadata": {}, "status": "Failure",
                   "message": "command terminated with non-zero exit code: error executing command [sh -c echo hi; exit 3], exit code 3",
                   "reason": "NonZeroExitCode",
                   "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}})
        );
        assert_eq!(close, Some(1000));
    });
}

#[test]
fn a_v5_client_closing_stdin_ends_the_commands_input() {
    let c = Cluster::start();
    c.running_pod("p");
    c.rt.block_on(async {
        let path =
            "/api/v1/namespaces/default/pods/p/exec?command=wc&command=-c&stdin=true&stdout=true";
        let (mut ws, chosen) = open(&c, path, "v5.channel.k8s.io, v4.channel.k8s.io")
            .await
            .expect("open");
        assert_eq!(chosen, "v5.channel.k8s.io");
        ws.send(Message::Binary(b"\x00abcd".to_vec().into()))
            .await
            .expect("stdin");
        ws.send(Message::Binary(b"\x00ef".to_vec().into()))
            .await
            .expect("stdin");
        ws.send(Message::Binary(vec![255, 0].into()))
            .await
            .expect("close stdin");
        let (frames, close) = drain(&mut ws).await;
        assert_eq!(channel_text(&frames, 1).trim(), "6");
        assert_eq!(
            channel_text(&frames, 3),
            r#"{"metadata":{},"status":"Success"}"#
        );
        assert_eq!(close, Some(1000));
    });
}

#[test]
fn a_resize_reaches_the_commands_terminal_before_later_input() {
    let c = Cluster::start();
    c.running_pod("p");
    c.rt.block_on(async {
        let path = "/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&command=read%20x%3B%20stty%20size&stdin=true&stdout=true&stderr=true&tty=true";
        let (mut ws, _) = open(&c, path, "v5.channel.k8s.io").await.expect("open");
        let mut resize = vec![4u8];
        resize.extend_from_slice(br#"{"Width":123,"Height":45}"#);
        ws.send(Message::Binary(resize.into())).await.expect("resize");
        ws.send(Message::Binary(b"\x00go\n".to_vec().into())).await.expect("stdin");
        let (frames, _) = drain(&mut ws).await;
        let out = channel_text(&frames, 1);
        assert!(out.contains("45 123"), "{out:?}");
        // With a TTY, stderr is merged into stdout: nothing comes on channel 2.
        assert_eq!(channel_text(&frames, 2), "");
        assert_eq!(channel_text(&frames, 3), r#"{"metadata":{},"status":"Success"}"#);
    });
}

#[test]
fn a_client_that_goes_away_makes_the_server_drop_the_session() {
    let c = Cluster::start();
    c.running_pod("p");
    let mut dropped = c.dropped.lock().unwrap().take().unwrap();
    let pid = c.rt.block_on(async {
        let path = "/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&command=echo%20started%3B%20exec%20sleep%201000&stdout=true";
        let (mut ws, _) = open(&c, path, "v5.channel.k8s.io").await.expect("open");
        // Wait until the process runs, then vanish without a close handshake.
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Binary(b) = msg {
                if b.as_ref() == b"\x01started\n" {
                    break;
                }
            }
        }
        drop(ws);
        dropped.recv().await
    });
    assert!(pid.is_some_and(|p| p > 0));
}

#[test]
fn a_client_answered_pings_gets_pongs() {
    let c = Cluster::start();
    c.running_pod("p");
    c.rt.block_on(async {
        let path = "/api/v1/namespaces/default/pods/p/exec?command=cat&stdin=true&stdout=true";
        let (mut ws, _) = open(&c, path, "v5.channel.k8s.io").await.expect("open");
        ws.send(Message::Ping(b"are you there".to_vec().into()))
            .await
            .expect("ping");
        loop {
            match ws.next().await.expect("a message").expect("read") {
                Message::Pong(p) => {
                    assert_eq!(p.as_ref(), b"are you there");
                    break;
                }
                Message::Binary(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        ws.send(Message::Binary(vec![255, 0].into()))
            .await
            .expect("close stdin");
        let (_, close) = drain(&mut ws).await;
        assert_eq!(close, Some(1000));
    });
}

// ---------------------------------------------------------------------------------------------
// Requests refused before the upgrade, each with a Status.

#[test]
fn bad_exec_requests_are_refused_with_a_status_before_any_upgrade() {
    let c = Cluster::start();
    c.running_pod("p");
    c.pod(
        "two",
        &["a", "b"],
        "node-1",
        &[("a", running()), ("b", running())],
    );
    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "/nope/exec?command=true&stdout=true",
            "v5.channel.k8s.io",
            404,
            "pods \"nope\" not found",
        ),
        (
            "/p/exec?command=true&stdout=true&container=x",
            "v5.channel.k8s.io",
            400,
            "container x is not valid for pod p",
        ),
        (
            "/two/exec?command=true&stdout=true",
            "v5.channel.k8s.io",
            400,
            "a container name must be specified for pod two, choose one of: [a b]",
        ),
        (
            "/p/exec?command=true",
            "v5.channel.k8s.io",
            400,
            "you must specify at least 1 of stdin, stdout, stderr",
        ),
        (
            "/p/exec?command=true&stderr=true&tty=true",
            "v5.channel.k8s.io",
            400,
            "you must specify at least 1 of stdin, stdout, stderr",
        ),
        (
            "/p/exec?stdout=true",
            "v5.channel.k8s.io",
            400,
            "you must specify at least one command for the container",
        ),
        (
            "/p/exec?command=true&stdout=maybe",
            "v5.channel.k8s.io",
            400,
            "invalid boolean value for stdout: \"maybe\"",
        ),
        (
            "/p/exec?command=true&stdout=true",
            "v9.channel.k8s.io",
            403,
            "requested protocol(s) are not supported: [v9.channel.k8s.io]; supports [v5.channel.k8s.io v4.channel.k8s.io v4.base64.channel.k8s.io channel.k8s.io base64.channel.k8s.io]",
        ),
    ];
    refused_before_upgrade(&c, cases);
}

/// Each `(path under the default namespace's pods, subprotocols offered, code, message)` is
/// refused with that `Status` before any upgrade.
fn refused_before_upgrade(c: &Cluster, cases: &[(&str, &str, u16, &str)]) {
    let base = "/api/v1/namespaces/default/pods";
    c.rt.block_on(async {
        for (path, protocols, code, message) in cases {
            let Err((got, body)) = open(c, &format!("{base}{path}"), protocols).await else {
                panic!("{path} was upgraded");
            };
            assert_eq!(
                (got, body["message"].as_str()),
                (*code, Some(*message)),
                "{path}"
            );
            assert_eq!(body["kind"], "Status", "{path}");
            assert_eq!(body["code"], *code, "{path}");
        }
    });
}

#[test]
fn an_exec_request_that_is_no_websocket_upgrade_is_refused_with_a_status() {
    let c = Cluster::start();
    c.running_pod("p");
    let url = format!(
        "{}/api/v1/namespaces/default/pods/p/exec?command=true&stdout=true",
        c.server.url
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let status = |resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>| {
        let mut resp = resp.expect("response");
        let code = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().expect("body");
        let body: Value = serde_json::from_str(&text).expect("Status JSON");
        (code, body["message"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(
        status(agent.get(&url).call()),
        (400, "Upgrade request required".to_string())
    );
    // kubectl's SPDY fallback: an upgrade this server does not speak.
    let (code, message) = status(
        agent
            .post(&url)
            .header("connection", "Upgrade")
            .header("upgrade", "SPDY/3.1")
            .header("x-stream-protocol-version", "v5.channel.k8s.io")
            .send_empty(),
    );
    assert_eq!(code, 400);
    assert_eq!(
        message,
        "the server supports WebSocket upgrades only, not \"SPDY/3.1\""
    );
    assert_eq!(
        status(agent.put(&url).send_empty()),
        (
            405,
            "the server does not allow this method on the requested resource".to_string()
        )
    );
}

#[test]
fn discovery_lists_pods_exec_attach_and_portforward() {
    let c = Cluster::start();
    let o = c.kubectl(&["get", "--raw", "/api/v1"]);
    let list: Value = serde_json::from_str(&o.stdout).expect("APIResourceList");
    for (name, kind) in [
        ("pods/exec", "PodExecOptions"),
        ("pods/attach", "PodAttachOptions"),
        ("pods/portforward", "PodPortForwardOptions"),
    ] {
        let found = list["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == name)
            .cloned();
        assert_eq!(
            found,
            Some(json!({"name": name, "singularName": "", "namespaced": true,
                        "kind": kind, "verbs": ["create", "get"]})),
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Attach (the session itself is the node agent's; see kube-lite's sandbox tests).

#[test]
fn bad_attach_requests_are_refused_with_a_status_before_any_upgrade() {
    let c = Cluster::start();
    c.running_pod("p");
    c.pod("unbound", &["app"], "", &[]);
    let v5 = "v5.channel.k8s.io";
    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "/nope/attach?stdout=true",
            v5,
            404,
            "pods \"nope\" not found",
        ),
        (
            "/p/attach?stdout=true&container=x",
            v5,
            400,
            "container x is not valid for pod p",
        ),
        (
            "/p/attach",
            v5,
            400,
            "you must specify at least 1 of stdin, stdout, stderr",
        ),
        (
            "/unbound/attach?stdout=true",
            v5,
            400,
            "pod unbound does not have a host assigned",
        ),
    ];
    refused_before_upgrade(&c, cases);
}

#[test]
fn kubectl_attach_to_a_container_not_running_fails_as_with_kube_apiserver() {
    let c = Cluster::start();
    c.pod(
        "p",
        &["app"],
        "node-1",
        &[("app", json!({"waiting": {"reason": "ContainerCreating"}}))],
    );
    let o = c.kubectl(&["attach", "p", "-c", "app"]);
    assert_eq!(o.code, 1);
    // After kubectl's own notices ("All commands and output from this session will be
    // recorded ...", "If you don't see a command prompt ...").
    assert_eq!(
        o.stderr.lines().last(),
        Some("error: Internal error occurred: unable to upgrade connection: container not found (\"app\")"),
        "{}",
        o.stderr
    );
}

#[test]
fn kubectl_attach_to_an_unknown_container_is_refused_before_asking_the_server() {
    let c = Cluster::start();
    c.running_pod("p");
    let o = c.kubectl(&["attach", "p", "-c", "nope"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "error: cannot attach to the container: container nope not found in pod p\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Port forwarding.

/// A loopback port that was free a moment ago and is closed now.
/// A loopback port that refuses connections for as long as the socket lives: bound (so no
/// other test can take it) but not listening.
fn closed_port() -> (tokio::net::TcpSocket, u16) {
    let s = tokio::net::TcpSocket::new_v4().expect("socket");
    s.bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let port = s.local_addr().expect("addr").port();
    (s, port)
}

/// A TCP echo server on a free loopback port; returns the port.
async fn echo_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = conn.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    port
}

#[test]
fn kube_rs_port_forward_reaches_the_pods_port() {
    let c = Cluster::start();
    c.running_pod("p");
    let pods = c.pods();
    c.rt.block_on(async {
        let port = echo_server().await;
        let mut pf = pods.portforward("p", &[port]).await.expect("portforward");
        let mut stream = pf.take_stream(port).expect("stream");
        stream.write_all(b"ping\n").await.expect("write");
        let mut buf = [0u8; 5];
        stream.read_exact(&mut buf).await.expect("read the echo");
        assert_eq!(&buf, b"ping\n");
        drop(stream);
        pf.join().await.expect("the forwarder ends cleanly");
    });
}

#[test]
fn a_port_nobody_listens_on_gets_the_kubelets_error_message() {
    let c = Cluster::start();
    c.running_pod("p");
    let pods = c.pods();
    c.rt.block_on(async {
        let uid = pods
            .get("p")
            .await
            .expect("pod")
            .metadata
            .uid
            .unwrap_or_default();
        let (_held, port) = closed_port();
        let mut pf = pods.portforward("p", &[port]).await.expect("portforward");
        let error = pf.take_error(port).expect("error channel").await;
        let error = error.expect("an error message");
        let prefix = format!("error forwarding port {port} to pod p, uid {uid}: ");
        assert!(error.starts_with(&prefix), "{error}");
        assert!(
            error.contains(&format!("dial tcp 127.0.0.1:{port}")),
            "{error}"
        );
    });
}

#[test]
fn bad_port_forward_requests_are_refused_with_a_status_before_any_upgrade() {
    let c = Cluster::start();
    c.running_pod("p");
    c.pod("unbound", &["app"], "", &[]);
    let cases: &[(&str, &str, u16, &str)] = &[
        ("/nope/portforward?ports=80", "v4.channel.k8s.io", 404, "pods \"nope\" not found"),
        (
            "/unbound/portforward?ports=80",
            "v4.channel.k8s.io",
            400,
            "pod unbound does not have a host assigned",
        ),
        ("/p/portforward", "v4.channel.k8s.io", 400, "query parameter \"port\" is required"),
        ("/p/portforward?ports=http", "v4.channel.k8s.io", 400, "unable to parse \"http\" as a port"),
        ("/p/portforward?ports=80,0", "v4.channel.k8s.io", 400, "port \"0\" must be > 0"),
        (
            "/p/portforward?ports=80",
            "v5.channel.k8s.io",
            403,
            "requested protocol(s) are not supported: [v5.channel.k8s.io]; supports [v4.channel.k8s.io v4.base64.channel.k8s.io channel.k8s.io base64.channel.k8s.io]",
        ),
    ];
    refused_before_upgrade(&c, cases);
}

/// `kubectl port-forward pod/p :PORT` to an echo server behind the node agent; `spdy` turns
/// off kubectl's WebSocket tunnel, so it falls back to a plain SPDY upgrade.
fn kubectl_port_forward_echoes(spdy: bool) {
    let c = Cluster::start();
    c.running_pod("p");
    let port = c.rt.block_on(echo_server());
    let mut cmd = c.kubectl.command();
    cmd.args(["port-forward", "pod/p", &format!(":{port}")]);
    if spdy {
        cmd.env("KUBECTL_PORT_FORWARD_WEBSOCKETS", "false");
    }
    let pf = testkit::PortForward::start(&mut cmd);
    // Two connections in a row: each is its own pair of streams on the one connection.
    for text in ["first\n", "second, longer line\n"] {
        assert_eq!(pf.exchange(text.as_bytes()), text.as_bytes());
    }
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(pf.exchange(&big), big, "200 kB both ways");
    let (stdout, stderr) = pf.stop();
    assert_eq!(
        stdout
            .matches(&format!("Handling connection for {}", pf_local(&stdout)))
            .count(),
        3,
        "{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("error"), "{stderr}");
}

/// The local port named in `Handling connection for N` lines.
fn pf_local(stdout: &str) -> &str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Handling connection for "))
        .unwrap_or("?")
}

#[test]
fn kubectl_port_forward_tunnels_spdy_in_a_websocket_to_the_pods_port() {
    kubectl_port_forward_echoes(false);
}

#[test]
fn kubectl_port_forward_falls_back_to_a_spdy_upgrade() {
    kubectl_port_forward_echoes(true);
}

#[test]
fn kubectl_port_forward_to_a_closed_port_prints_the_kubelets_error() {
    let c = Cluster::start();
    c.running_pod("p");
    let pods = c.pods();
    let uid =
        c.rt.block_on(pods.get("p"))
            .expect("pod")
            .metadata
            .uid
            .unwrap_or_default();
    let (_held, port) = closed_port();
    let pf = testkit::PortForward::start(c.kubectl.command().args([
        "port-forward",
        "pod/p",
        &format!(":{port}"),
    ]));
    let local = pf.local;
    assert_eq!(pf.exchange(b"hello"), b"", "nothing comes back");
    let (_, stderr) = pf.stop();
    let want = format!(
        "an error occurred forwarding {local} -> {port}: error forwarding port {port} to pod p, uid {uid}: "
    );
    assert!(stderr.contains(&want), "{stderr}");
    assert!(
        stderr.contains(&format!("dial tcp 127.0.0.1:{port}")),
        "{stderr}"
    );
}
