//! `kubectl attach` to a container's main process: what the process prints is fanned out live
//! to the attached sessions (besides its log), and its stdin — a pipe, or its TTY, kept open
//! when the container has `stdin: true` — is shared by them. A session ends when its stdin is
//! shut down (a detach; with `stdinOnce` that also closes the process's stdin) or when the
//! process's output ends.

use super::exec::{resizer, PtyLeader};
use crate::logs::Stream;
use crate::runtime::{ExecProcess, ExecRequest};
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, oneshot};

/// One attached session's ends on our side: dropping them ends its output streams and its exit.
struct Session {
    id: u64,
    stdout: Option<mpsc::UnboundedSender<Vec<u8>>>,
    stderr: Option<mpsc::UnboundedSender<Vec<u8>>>,
    _ended: oneshot::Sender<()>,
}

impl Session {
    /// Hand `data` of `stream` to the session; false once the session is gone.
    fn deliver(&self, stream: Stream, data: &[u8]) -> bool {
        let tx = match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
        };
        tx.as_ref().is_none_or(|tx| tx.send(data.to_vec()).is_ok())
    }
}

#[derive(Default)]
struct Inner {
    next: u64,
    sessions: Vec<Session>,
    /// Feeds the process's stdin (a writer thread); `None` when it has none or it was closed.
    stdin: Option<std::sync::mpsc::Sender<Vec<u8>>>,
    /// The output ended: the process is gone, nothing more to attach to.
    closed: bool,
}

/// The attachable stdio of one container's main process.
pub struct MainIo {
    inner: Mutex<Inner>,
    stdin_once: bool,
    /// The TTY's leader side (for resizes), when the container has one.
    tty: Option<PtyLeader>,
}

impl MainIo {
    /// `stdin` is the process's stdin (its pipe or TTY) when the container keeps one open.
    pub fn new(
        stdin: Option<Box<dyn Write + Send>>,
        stdin_once: bool,
        tty: Option<PtyLeader>,
    ) -> Arc<MainIo> {
        let stdin = stdin.map(|mut w| {
            let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
            // Writes may block on a full pipe; this thread takes them, and closes the
            // process's stdin (drops `w`) when the sender is dropped.
            std::thread::spawn(move || {
                for chunk in rx {
                    if w.write_all(&chunk).and_then(|()| w.flush()).is_err() {
                        break;
                    }
                }
            });
            tx
        });
        Arc::new(MainIo {
            inner: Mutex::new(Inner {
                stdin,
                ..Inner::default()
            }),
            stdin_once,
            tty,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The process printed `data` on `stream`: every attached session that asked for that
    /// stream gets it.
    pub fn publish(&self, stream: Stream, data: &[u8]) {
        self.lock().sessions.retain(|s| s.deliver(stream, data));
    }

    /// The process's output ended: every session ends, and so does its stdin.
    pub fn close(&self) {
        let mut g = self.lock();
        g.closed = true;
        g.sessions.clear();
        g.stdin = None;
    }

    fn write_stdin(&self, data: &[u8]) {
        if let Some(tx) = &self.lock().stdin {
            let _ = tx.send(data.to_vec());
        }
    }

    fn detach(&self, id: u64) {
        let mut g = self.lock();
        g.sessions.retain(|s| s.id != id);
        if self.stdin_once {
            g.stdin = None;
        }
    }

    /// Attach a session with the streams `req` asks for (with a TTY, stderr is merged into
    /// stdout, so there is none).
    pub fn attach(self: &Arc<Self>, req: &ExecRequest) -> Result<ExecProcess, String> {
        let mut g = self.lock();
        if g.closed {
            return Err("the container's process has ended".into());
        }
        let id = g.next;
        g.next += 1;
        let channel = |wanted: bool| {
            wanted
                .then(mpsc::unbounded_channel::<Vec<u8>>)
                .map_or((None, None), |(tx, rx)| {
                    let reader: Pin<Box<dyn AsyncRead + Send>> = Box::pin(ChunkReader {
                        rx,
                        chunk: Vec::new(),
                        at: 0,
                    });
                    (Some(tx), Some(reader))
                })
        };
        let (stdout_tx, stdout) = channel(req.stdout);
        let (stderr_tx, stderr) = channel(req.stderr && self.tty.is_none());
        let (ended_tx, ended_rx) = oneshot::channel();
        g.sessions.push(Session {
            id,
            stdout: stdout_tx,
            stderr: stderr_tx,
            _ended: ended_tx,
        });
        drop(g);
        let stdin: Option<Pin<Box<dyn AsyncWrite + Send>>> = req.stdin.then(|| {
            Box::pin(AttachStdin {
                io: self.clone(),
                id,
                detached: false,
            }) as _
        });
        Ok(ExecProcess {
            stdin,
            stdout,
            stderr,
            resize: self.tty.clone().map(resizer),
            exit: Box::pin(async move {
                let _ = ended_rx.await;
                Ok(0)
            }),
        })
    }
}

/// A session's output: the chunks the process printed, until the session ends.
struct ChunkReader {
    rx: mpsc::UnboundedReceiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl AsyncRead for ChunkReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        while self.at == self.chunk.len() {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(c)) => {
                    self.chunk = c;
                    self.at = 0;
                }
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = buf.remaining().min(self.chunk.len() - self.at);
        let at = self.at;
        buf.put_slice(&self.chunk[at..at + n]);
        self.at += n;
        Poll::Ready(Ok(()))
    }
}

/// A session's stdin: bytes go to the process's stdin (dropped if it has none); shutting it
/// down, or dropping it, detaches the session.
struct AttachStdin {
    io: Arc<MainIo>,
    id: u64,
    detached: bool,
}

impl AttachStdin {
    fn detach(&mut self) {
        if !self.detached {
            self.detached = true;
            self.io.detach(self.id);
        }
    }
}

impl AsyncWrite for AttachStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.io.write_stdin(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.detach();
        Poll::Ready(Ok(()))
    }
}

impl Drop for AttachStdin {
    fn drop(&mut self) {
        self.detach();
    }
}
