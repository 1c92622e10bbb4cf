//! Test support shared by the end-to-end suites: start the real `kube-lite up` binary on a free
//! port with its own data dir and kubeconfig, make HTTP requests to it, and run the real
//! kubectl against it with an isolated HOME and cache.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether the tests run as root.
pub fn running_as_root() -> bool {
    // SAFETY: plain syscall.
    unsafe { libc::geteuid() == 0 }
}

/// A running `kube-lite up` process.
pub struct KubeLite {
    pub bin: PathBuf,
    pub url: String,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    extra_args: Vec<String>,
    /// Run as this user and group (through `setpriv`), the test being root.
    user: Option<(u32, u32)>,
}

impl KubeLite {
    /// Start `bin up` with a fresh data dir on a free loopback port.
    pub fn start(bin: impl AsRef<Path>, extra_args: &[&str]) -> KubeLite {
        KubeLite::start_on(bin, "127.0.0.1:0", extra_args)
    }

    /// Start `bin up` with a fresh data dir listening on `listen` (`0.0.0.0:0` needs
    /// `--insecure-listen-on-network` in `extra_args`).
    pub fn start_on(bin: impl AsRef<Path>, listen: &str, extra_args: &[&str]) -> KubeLite {
        KubeLite::start_with(bin, listen, extra_args, None)
    }

    /// Start a copy of `bin up` (one the user can run, wherever the checkout is) as an
    /// unprivileged user (uid, gid) that owns the data dir; the caller is root and the host
    /// has `setpriv` (util-linux).
    pub fn start_as(bin: impl AsRef<Path>, user: (u32, u32), extra_args: &[&str]) -> KubeLite {
        KubeLite::start_with(bin, "127.0.0.1:0", extra_args, Some(user))
    }

    fn start_with(
        bin: impl AsRef<Path>,
        listen: &str,
        extra_args: &[&str],
        user: Option<(u32, u32)>,
    ) -> KubeLite {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut bin = bin.as_ref().to_path_buf();
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown the temp dir");
            let copy = dir.path().join("kube-lite");
            std::fs::copy(&bin, &copy).expect("copy kube-lite");
            bin = copy;
        }
        let mut k = KubeLite {
            bin,
            url: String::new(),
            dir,
            child: None,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            user,
        };
        k.spawn(listen);
        k
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn spawn(&mut self, listen: &str) {
        let mut cmd = match self.user {
            None => Command::new(&self.bin),
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg(&self.bin);
                c
            }
        };
        let mut child = cmd
            .arg("up")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--listen")
            .arg(listen)
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .args(&self.extra_args)
            .env("HOME", self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start kube-lite");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout);
        let mut line = String::new();
        lines.read_line(&mut line).expect("read the serving line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("kube-lite did not print its URL: {line:?}"))
            .to_string();
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = lines.read_to_end(&mut sink);
        });
        self.url = url;
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok((200, _)) = self.get_raw("/readyz") {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("kube-lite at {} never became ready", self.url);
    }

    /// The listening address (`127.0.0.1:port`).
    pub fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// SIGKILL the server (no chance to flush).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM the server and wait for a clean exit; returns its exit status.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        c.wait().ok()
    }

    /// Start again on the same port and data dir.
    pub fn restart(&mut self) {
        let addr = self.addr();
        self.kill9();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // The port may linger briefly after the old process is gone.
            if std::net::TcpListener::bind(&addr).is_ok() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.spawn(&addr);
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    }

    /// GET returning the status and body text.
    pub fn get_raw(&self, path: &str) -> Result<(u16, String), ureq::Error> {
        let mut r = Self::agent().get(&format!("{}{path}", self.url)).call()?;
        let code = r.status().as_u16();
        Ok((code, r.body_mut().read_to_string().unwrap_or_default()))
    }

    /// Send a request with an optional body and content type; returns status and JSON body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> (u16, Value) {
        try_request(&self.url, method, path, content_type, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.request("GET", path, None, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.request(
            "POST",
            path,
            Some("application/json"),
            Some(body.to_string().as_bytes()),
        )
    }

    pub fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.request(
            "PUT",
            path,
            Some("application/json"),
            Some(body.to_string().as_bytes()),
        )
    }

    pub fn patch(&self, path: &str, content_type: &str, body: &Value) -> (u16, Value) {
        self.request(
            "PATCH",
            path,
            Some(content_type),
            Some(body.to_string().as_bytes()),
        )
    }

    pub fn delete(&self, path: &str) -> (u16, Value) {
        self.request("DELETE", path, None, None)
    }

    /// Open a watch and return a reader of its event lines.
    pub fn watch(&self, path: &str) -> impl Iterator<Item = Value> {
        let resp = Self::agent()
            .get(&format!("{}{path}", self.url))
            .call()
            .expect("watch");
        let reader = BufReader::new(resp.into_body().into_reader());
        reader
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<Value>(&l).unwrap_or(Value::String(l)))
    }

    /// A kubectl command against this server, with isolated HOME, cache and kubeconfig. The
    /// binary is `$KUBE_LITE_KUBECTL`, else the one `scripts/install-kubectl` put in
    /// `.tools/bin`, else `kubectl` from PATH.
    pub fn kubectl(&self) -> Command {
        kubectl_command(self.dir.path(), &self.kubeconfig())
    }
}

/// The real kubectl: `$KUBE_LITE_KUBECTL`, else the one `scripts/install-kubectl` put in
/// `.tools/bin`, else `kubectl` from PATH.
pub fn kubectl_binary() -> PathBuf {
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/bin/kubectl");
    std::env::var_os("KUBE_LITE_KUBECTL")
        .map(PathBuf::from)
        .or_else(|| installed.exists().then_some(installed))
        .unwrap_or_else(|| PathBuf::from("kubectl"))
}

/// A kubectl command with `kubeconfig`, and HOME and cache isolated under `dir`.
fn kubectl_command(dir: &Path, kubeconfig: &Path) -> Command {
    let mut c = Command::new(kubectl_binary());
    let home = dir.join("home");
    let _ = std::fs::create_dir_all(&home);
    c.env("KUBECONFIG", kubeconfig)
        .env("HOME", &home)
        .env("KUBECACHEDIR", dir.join("kubecache"))
        .env_remove("KUBECTL_EXTERNAL_DIFF");
    c
}

/// The real kubectl pointed at any API server URL (e.g. one running inside the test), with its
/// own kubeconfig, HOME and cache in a temporary directory.
pub struct Kubectl {
    pub dir: tempfile::TempDir,
}

impl Kubectl {
    pub fn new(url: &str) -> Kubectl {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {url}\n\
             contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: default\n\
             current-context: test\nusers:\n- name: test\n  user: {{}}\n"
        );
        std::fs::write(dir.path().join("kubeconfig"), config).expect("write the kubeconfig");
        Kubectl { dir }
    }

    /// `kubectl` with no arguments yet.
    pub fn command(&self) -> Command {
        kubectl_command(self.dir.path(), &self.dir.path().join("kubeconfig"))
    }

    /// Run `kubectl args...` to completion with stdin from /dev/null.
    pub fn run(&self, args: &[&str]) -> Output {
        run(self.command().args(args))
    }
}

impl Drop for KubeLite {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Send a request to the server at `url` (from any thread); a transport failure (refused,
/// reset: the server is gone) is an `Err` describing it. Returns status and JSON body.
pub fn try_request(
    url: &str,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Option<&[u8]>,
) -> Result<(u16, Value), String> {
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{url}{path}"));
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    let req = builder
        .body(body.map(|b| b.to_vec()).unwrap_or_default())
        .map_err(|e| e.to_string())?;
    let mut resp = KubeLite::agent().run(req).map_err(|e| e.to_string())?;
    let code = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((code, v))
}

/// Output of a finished command: exit code, stdout, stderr.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run a command to completion.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.stdin(Stdio::null()).output().expect("run command");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run `cmd` to completion with `input` as its stdin.
pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run command");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // Write from a thread so a command that answers before reading everything cannot block us.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for command");
    let _ = writer.join();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run kubectl with `args` against `k` to completion.
pub fn kubectl(k: &KubeLite, args: &[&str]) -> Output {
    run(k.kubectl().args(args))
}

/// Assert that a finished command exited 0; `what` names it in the failure.
#[track_caller]
pub fn assert_success(o: &Output, what: &str) {
    assert_eq!(
        o.code, 0,
        "{what}: exit {}\nstdout: {}\nstderr: {}",
        o.code, o.stdout, o.stderr
    );
}

/// Run kubectl with `args`, assert it succeeded, and return its stdout.
pub fn kubectl_ok(k: &KubeLite, args: &[&str]) -> String {
    let o = kubectl(k, args);
    assert_eq!(
        o.code,
        0,
        "kubectl {}: {}\n{}",
        args.join(" "),
        o.stdout,
        o.stderr
    );
    o.stdout
}

/// `kubectl apply -f -` with `yaml` on stdin; asserts success and returns stdout.
pub fn kubectl_apply(k: &KubeLite, yaml: &str) -> String {
    use std::io::Write;
    let mut child = k
        .kubectl()
        .args(["apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(yaml.as_bytes())
        .expect("write the manifest");
    let out = child.wait_with_output().expect("kubectl apply");
    assert!(
        out.status.success(),
        "apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// How long [`until`] polls before it fails the test: generous, CI has 2 cores.
pub const UNTIL_DEADLINE: Duration = Duration::from_secs(60);

/// Run kubectl until it succeeds with an output that satisfies `pred` (within
/// [`UNTIL_DEADLINE`]); returns that output. `what` names the awaited state in the failure.
pub fn until(k: &KubeLite, args: &[&str], what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + UNTIL_DEADLINE;
    loop {
        let o = kubectl(k, args);
        if o.code == 0 && pred(&o.stdout) {
            return o.stdout;
        }
        if Instant::now() > deadline {
            panic!(
                "timed out waiting for {what}; last `kubectl {}`:\n{}{}",
                args.join(" "),
                o.stdout,
                o.stderr
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The column names of a kubectl table (its first line, split on whitespace).
pub fn header(table: &str) -> Vec<String> {
    table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The rows of a kubectl table after its header, each split on whitespace.
pub fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// A running `kubectl port-forward` (started from `cmd` with its arguments), once it said
/// `Forwarding from 127.0.0.1:LOCAL -> REMOTE`; killed when dropped.
pub struct PortForward {
    child: Child,
    /// The local port kubectl listens on.
    pub local: u16,
    stdout: BufReader<std::process::ChildStdout>,
}

impl PortForward {
    pub fn start(cmd: &mut Command) -> PortForward {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kubectl port-forward");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let local = loop {
            line.clear();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                let mut err = String::new();
                let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("kubectl port-forward ended before forwarding: {err}");
            }
            if let Some(rest) = line.strip_prefix("Forwarding from 127.0.0.1:") {
                let port = rest.split(' ').next().unwrap_or("");
                break port.parse().expect("the local port");
            }
        };
        PortForward {
            child,
            local,
            stdout,
        }
    }

    /// Send `request` to the local port, read the answer until the other side closes.
    pub fn exchange(&self, request: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut conn =
            std::net::TcpStream::connect(("127.0.0.1", self.local)).expect("connect locally");
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        conn.write_all(request).expect("send");
        conn.shutdown(std::net::Shutdown::Write)
            .expect("half-close");
        let mut out = Vec::new();
        conn.read_to_end(&mut out).expect("read the answer");
        out
    }

    /// Stop kubectl; what it printed after the `Forwarding` lines: (stdout, stderr).
    pub fn stop(mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut out = String::new();
        let _ = self.stdout.read_to_string(&mut out);
        let mut err = String::new();
        let _ = self
            .child
            .stderr
            .take()
            .map(|mut e| e.read_to_string(&mut err));
        (out, err)
    }
}

impl Drop for PortForward {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `cmd` on a new 80×24 terminal (its stdin, stdout and stderr; kubectl asks for a TTY
/// only when its stdin is one) and read what it writes there to the end: its exit status and
/// the terminal's output.
pub fn run_on_terminal(cmd: &mut Command) -> (std::process::ExitStatus, String) {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let (mut leader, mut follower) = (-1, -1);
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two new descriptors into the out-parameters and reads the size.
    let r = unsafe {
        libc::openpty(
            &mut leader,
            &mut follower,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    let (leader, follower) =
        unsafe { (OwnedFd::from_raw_fd(leader), OwnedFd::from_raw_fd(follower)) };
    // SAFETY: plain fcntl on our descriptor: the command must not inherit the leader.
    unsafe { libc::fcntl(leader.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    let dup = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup"));
    cmd.stdin(dup(&follower))
        .stdout(dup(&follower))
        .stderr(dup(&follower));
    let mut child = cmd.spawn().expect("spawn on a terminal");
    // The command's copies stay in `cmd` until it is replaced.
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    drop(follower);
    let mut out = Vec::new();
    // Read to the end: EIO once the command, the last holder of the follower side, has exited.
    let _ = std::fs::File::from(leader).read_to_end(&mut out);
    let status = child.wait().expect("wait");
    (status, String::from_utf8_lossy(&out).into_owned())
}
