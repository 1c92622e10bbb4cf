//! Serving one remote command over an upgraded WebSocket: the client's stdin and resize
//! messages go to the process, its stdout and stderr come back as channel messages, and when
//! the process has ended and its output is drained, the final status goes on the error
//! channel and the socket is closed (code 1000) after the client's last frames. A client that
//! goes away first ends the session: everything of it is dropped, so the node agent can kill
//! the process.

use super::channel::{self, Inbound, Outcome, Protocol};
use super::websocket::Socket;
use crate::error::ApiError;
use crate::node_agent::{ByteReader, ByteWriter, ExecSession};
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// How long the socket stays open after the status for the client to read the rest and close.
const FINISH_TIMEOUT: Duration = Duration::from_secs(60);

/// The most output bytes one message carries (client-go reads 32 KiB frames).
const CHUNK: usize = 32 * 1024;

/// The command a session runs (its argv words the final status) and the output channels the
/// client asked for.
pub struct Command {
    pub protocol: Protocol,
    pub argv: Vec<String>,
    /// Which output channels the client asked for (the first gets the "connected" message).
    pub stdout: bool,
    pub stderr: bool,
}

pub(crate) fn message(frame: channel::Frame) -> Message {
    if frame.text {
        Message::Text(String::from_utf8_lossy(&frame.data).into_owned().into())
    } else {
        Message::Binary(frame.data.into())
    }
}

/// Run `start` (the node agent's exec) and serve its session on `socket` to the end. An error
/// starting it (the kubelet's refusal) is reported on the error channel.
pub async fn serve(
    socket: Socket,
    command: Command,
    start: BoxFuture<'static, Result<ExecSession, ApiError>>,
) {
    let protocol = command.protocol;
    let (sink, mut stream) = socket.split();
    let (out_tx, writer) = spawn_writer(sink);
    // Tell the client the connection is established: an empty message on the lowest
    // writable channel, as the kubelet and kube-apiserver do.
    let first = if command.stdout {
        channel::STDOUT
    } else if command.stderr {
        channel::STDERR
    } else {
        channel::ERROR
    };
    let _ = out_tx
        .send(message(channel::encode(protocol, first, &[])))
        .await;

    let outcome = match start.await {
        Err(e) => Some(Outcome::Failed {
            code: e.code,
            reason: e.reason.to_string(),
            message: e.message,
        }),
        Ok(session) => run(session, protocol, &mut stream, &out_tx).await,
    };
    let Some(outcome) = outcome else {
        // The client went away: dropping the session (done) lets the agent kill the process.
        writer.abort();
        return;
    };
    if let Some(status) = channel::final_status(protocol, &command.argv, &outcome) {
        let _ = out_tx
            .send(message(channel::encode(protocol, channel::ERROR, &status)))
            .await;
    }
    close(out_tx, writer, &mut stream).await;
}

/// The sending half of a socket in a task of its own: everything else queues messages for it,
/// in order. It ends after sending a close frame, or when every sender is gone.
pub(crate) fn spawn_writer(
    mut sink: futures::stream::SplitSink<Socket, Message>,
) -> (mpsc::Sender<Message>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Message>(16);
    let task = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            let closing = matches!(m, Message::Close(_));
            if sink.send(m).await.is_err() || closing {
                break;
            }
        }
    });
    (tx, task)
}

/// Close the socket normally (code 1000), then read on until the client answers the close
/// (which ends the stream), so the last output is not lost to a reset, but not forever.
pub(crate) async fn close(
    out: mpsc::Sender<Message>,
    writer: tokio::task::JoinHandle<()>,
    stream: &mut futures::stream::SplitStream<Socket>,
) {
    let _ = out
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        })))
        .await;
    drop(out);
    let _ = writer.await;
    let _ = tokio::time::timeout(FINISH_TIMEOUT, async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
}

/// Pump the session until the process has ended and its output is drained (its outcome), or
/// until the client goes away (`None`).
async fn run(
    session: ExecSession,
    protocol: Protocol,
    stream: &mut futures::stream::SplitStream<Socket>,
    out: &mpsc::Sender<Message>,
) -> Option<Outcome> {
    let ExecSession {
        stdin,
        stdout,
        stderr,
        resize,
        exit,
    } = session;
    // Output pumps; aborted with the set if the session ends early.
    let mut outputs = JoinSet::new();
    for (reader, ch) in [(stdout, channel::STDOUT), (stderr, channel::STDERR)] {
        if let Some(reader) = reader {
            outputs.spawn(pump_output(reader, ch, protocol, out.clone()));
        }
    }
    let finished = async move {
        let code = exit.await;
        while outputs.join_next().await.is_some() {}
        match code {
            Ok(code) => Outcome::Exited(code),
            Err(e) => {
                let e = ApiError::internal(e);
                Outcome::Failed {
                    code: e.code,
                    reason: e.reason.to_string(),
                    message: e.message,
                }
            }
        }
    };
    let client = read_client(stream, protocol, stdin, resize);
    tokio::select! {
        outcome = finished => Some(outcome),
        () = client => None,
    }
}

/// Copy a stream (a process's stdout/stderr, a forwarded port) to channel `ch`, until it ends.
pub(super) async fn pump_output(
    mut reader: ByteReader,
    ch: u8,
    protocol: Protocol,
    out: mpsc::Sender<Message>,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let m = message(channel::encode(protocol, ch, &buf[..n]));
                if out.send(m).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Read the client's messages until it goes away (the stream ends or fails, or closes): stdin
/// bytes to the process, v5 close signals, resize events. Pings are answered by the socket.
async fn read_client(
    stream: &mut futures::stream::SplitStream<Socket>,
    protocol: Protocol,
    mut stdin: Option<ByteWriter>,
    resize: Option<Box<dyn Fn(u16, u16) + Send + Sync>>,
) {
    while let Some(Ok(msg)) = stream.next().await {
        let payload: &[u8] = match &msg {
            Message::Binary(b) => b,
            Message::Text(t) => t.as_bytes(),
            // Reading on lets the socket answer the close; the stream ends after that.
            _ => continue,
        };
        match channel::decode(protocol, payload) {
            Ok(Inbound::Data {
                channel: channel::STDIN,
                data,
            }) => {
                if let Some(w) = stdin.as_mut() {
                    if w.write_all(&data).await.is_err() || w.flush().await.is_err() {
                        // The process closed its stdin; drop what else comes.
                        stdin = None;
                    }
                }
            }
            Ok(Inbound::Data {
                channel: channel::RESIZE,
                data,
            }) => {
                if let Some(resize) = &resize {
                    for (width, height) in channel::resize_events(&data) {
                        resize(width, height);
                    }
                }
            }
            Ok(Inbound::Close {
                channel: channel::STDIN,
            }) => {
                if let Some(mut w) = stdin.take() {
                    let _ = w.shutdown().await;
                }
            }
            // Other channels, other closes and empty messages carry nothing for us.
            Ok(_) => {}
            Err(e) => {
                tracing::debug!("exec: dropping the connection on a protocol error: {e}");
                return;
            }
        }
    }
}
