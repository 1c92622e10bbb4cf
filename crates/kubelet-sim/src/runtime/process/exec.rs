//! `kubectl exec` and `port-forward` into a pod: a command started inside a running
//! container's namespaces (its root, hostname, network and processes), with pipes or a
//! pseudo-terminal (resizable); a TCP connection made from inside the pod's network namespace
//! (a thread that joins it connects, and hands the socket back).

use super::spawn;
use super::sys;
use crate::runtime::{ExecProcess, ExecRequest, PortStream, RuntimeError};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};

/// Runs closures on the runtime's spawner thread (the parent its processes die with).
#[derive(Clone)]
pub struct Spawner(pub mpsc::Sender<super::Job>);

impl Spawner {
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        let (tx, rx) = mpsc::channel();
        self.0
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .map_err(|_| std::io::Error::other("the sandbox spawner is gone"))?;
        rx.recv()
            .map_err(|_| std::io::Error::other("the sandbox spawner is gone"))?
    }
}

/// Run `f` on a fresh thread that joined the network namespace of process `holder`.
pub fn in_netns<T: Send + 'static>(
    holder: libc::pid_t,
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    let path = sys::cstr(format!("/proc/{holder}/ns/net"))?;
    std::thread::spawn(move || {
        sys::setns_path(&path, libc::CLONE_NEWNET)?;
        f()
    })
    .join()
    .map_err(|_| std::io::Error::other("the network namespace thread panicked"))?
}

/// Connect to `127.0.0.1:port` inside the pod whose holder is `holder`.
pub async fn connect(holder: libc::pid_t, port: u16) -> Result<PortStream, RuntimeError> {
    let stream = tokio::task::spawn_blocking(move || {
        in_netns(holder, move || {
            std::net::TcpStream::connect(("127.0.0.1", port))
        })
    })
    .await
    .map_err(|e| RuntimeError::Failed(e.to_string()))?
    .map_err(|e| {
        RuntimeError::Failed(format!(
            "failed to connect to localhost:{port} inside namespace of the pod: {e}"
        ))
    })?;
    stream
        .set_nonblocking(true)
        .map_err(|e| RuntimeError::Failed(e.to_string()))?;
    let stream =
        tokio::net::TcpStream::from_std(stream).map_err(|e| RuntimeError::Failed(e.to_string()))?;
    let (read, write) = stream.into_split();
    Ok(PortStream {
        read: Box::pin(read),
        write: Box::pin(write),
    })
}

/// A pty's leader side, shared by its reader, writer and resizer.
pub type PtyLeader = Arc<OwnedFd>;

/// Sets the size (columns, rows) of the pty whose leader side is `leader`.
pub fn resizer(leader: PtyLeader) -> Box<dyn Fn(u16, u16) + Send + Sync> {
    Box::new(move |cols: u16, rows: u16| {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ with a winsize on the pty's leader side we hold open.
        unsafe { libc::ioctl(leader.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    })
}

/// A new pty from the host's devpts: (leader, follower); the leader is close-on-exec.
pub fn openpty() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut leader = -1;
    let mut follower = -1;
    // SAFETY: out pointers to two ints; no name, termios or size.
    let r = unsafe {
        libc::openpty(
            &mut leader,
            &mut follower,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened and belong to nobody else.
    let (l, f) = unsafe { (OwnedFd::from_raw_fd(leader), OwnedFd::from_raw_fd(follower)) };
    // SAFETY: plain fcntl on our descriptor.
    unsafe { libc::fcntl(l.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    Ok((l, f))
}

/// Give `cmd` the pty whose follower side is `follower` as its stdin, stdout and stderr.
pub fn on_pty(cmd: &mut Command, follower: &OwnedFd) -> std::io::Result<()> {
    cmd.env("TERM", "xterm")
        .stdin(Stdio::from(follower.try_clone()?))
        .stdout(Stdio::from(follower.try_clone()?))
        .stderr(Stdio::from(follower.try_clone()?));
    Ok(())
}

/// A new pty from the devpts instance mounted at `/dev/pts` in the container of process
/// `pid` (opened through `/proc/<pid>/root`), so that inside the container the follower is
/// `/dev/pts/<n>` and `tty` names it; a pty of the host's devpts would have no name there.
fn container_pty(pid: libc::pid_t) -> std::io::Result<(OwnedFd, OwnedFd)> {
    let ptmx = sys::cstr(format!("/proc/{pid}/root/dev/pts/ptmx"))?;
    // SAFETY: open(2) of a NUL-terminated path; the descriptor is ours.
    let leader = unsafe {
        libc::open(
            ptmx.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if leader < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: just opened, owned by nobody else.
    let leader = unsafe { OwnedFd::from_raw_fd(leader) };
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int from the pointer, which lives across the call.
    if unsafe { libc::ioctl(leader.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // The follower opened from the leader itself (no path lookup in our mount namespace).
    // SAFETY: TIOCGPTPEER takes open flags and returns a new descriptor.
    let follower = unsafe {
        libc::ioctl(
            leader.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY,
        )
    };
    if follower < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: just returned by the kernel, owned by nobody else.
    Ok((leader, unsafe { OwnedFd::from_raw_fd(follower) }))
}

fn file(fd: OwnedFd) -> tokio::fs::File {
    tokio::fs::File::from_std(std::fs::File::from(fd))
}

fn failed(e: std::io::Error) -> RuntimeError {
    RuntimeError::Failed(format!(
        "failed to exec in container: failed to start exec: {e}"
    ))
}

/// Start `req.command` in the container whose main process is `pid`.
pub fn start(
    spawner: Spawner,
    pid: libc::pid_t,
    working_dir: Option<String>,
    req: ExecRequest,
) -> Result<ExecProcess, RuntimeError> {
    let Some(program) = req.command.first().cloned() else {
        return Err(RuntimeError::Failed("no command given".into()));
    };
    let args: Vec<String> = req.command[1..].to_vec();
    let pty = if req.tty {
        Some(container_pty(pid).or_else(|_| openpty()).map_err(failed)?)
    } else {
        None
    };
    let (leader, follower) = match pty {
        Some((l, f)) => (Some(Arc::new(l)), Some(f)),
        None => (None, None),
    };
    let tty = req.tty;
    let wants = (req.stdin, req.stdout, req.stderr);
    let started = spawner
        .run(move || {
            let mut cmd = Command::new(&program);
            cmd.args(&args)
                .env_clear()
                .env("PATH", super::DEFAULT_PATH)
                .env("HOME", "/root");
            match &follower {
                Some(f) => on_pty(&mut cmd, f)?,
                None => {
                    let pipe_or_null = |w: bool| if w { Stdio::piped() } else { Stdio::null() };
                    cmd.stdin(pipe_or_null(wants.0))
                        .stdout(pipe_or_null(wants.1))
                        .stderr(pipe_or_null(wants.2));
                }
            }
            let s = spawn::join_container(cmd, pid, working_dir.as_deref(), tty);
            drop(follower);
            s
        })
        .map_err(failed)?;
    let mut child = started.child;
    let (exit_tx, exit_rx) = tokio::sync::oneshot::channel();
    let stdin_pipe = child.stdin.take();
    let stdout_pipe = child.stdout.take();
    let stderr_pipe = child.stderr.take();
    std::thread::spawn(move || {
        let code = match child.wait() {
            Ok(s) => super::exit_code(s),
            Err(e) => {
                let _ = exit_tx.send(Err(e.to_string()));
                return;
            }
        };
        let _ = exit_tx.send(Ok(code));
    });
    let exit: futures::future::BoxFuture<'static, Result<i32, String>> = Box::pin(async move {
        exit_rx
            .await
            .unwrap_or_else(|_| Err("the exec waiter is gone".into()))
    });
    match leader {
        Some(l) => {
            let dup = |l: &Arc<OwnedFd>| l.try_clone().map_err(failed);
            Ok(ExecProcess {
                stdin: req
                    .stdin
                    .then(|| dup(&l))
                    .transpose()?
                    .map(|f| Box::pin(file(f)) as _),
                stdout: Some(Box::pin(PtyReader(file(dup(&l)?)))),
                stderr: None,
                resize: Some(resizer(l.clone())),
                exit,
            })
        }
        None => Ok(ExecProcess {
            stdin: stdin_pipe.map(|p| Box::pin(file(OwnedFd::from(p))) as _),
            stdout: stdout_pipe.map(|p| Box::pin(file(OwnedFd::from(p))) as _),
            stderr: stderr_pipe.map(|p| Box::pin(file(OwnedFd::from(p))) as _),
            resize: None,
            exit,
        }),
    }
}

/// A pty's leader side: reading after the last writer closed fails with `EIO`, which means
/// the end of the output.
struct PtyReader(tokio::fs::File);

impl tokio::io::AsyncRead for PtyReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match std::pin::Pin::new(&mut self.0).poll_read(cx, buf) {
            std::task::Poll::Ready(Err(e)) if e.raw_os_error() == Some(libc::EIO) => {
                std::task::Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}
