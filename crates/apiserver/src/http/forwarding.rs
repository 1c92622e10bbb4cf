//! Serving `pods/portforward` over an upgraded WebSocket, as the kubelet's WebSocket port
//! forwarding does: port `i` of the request gets data channel `2i` and error channel `2i+1`,
//! each opened by the port number (2 bytes, little-endian); one connection per port carries the
//! data channel both ways, a failure to connect is a text message on the error channel. The
//! socket closes normally (code 1000) when every port's connection has ended; a client that goes
//! away drops them all.

use super::channel::{self, Inbound, Protocol};
use super::remotecommand::{close, message, pump_output, spawn_writer};
use super::websocket::Socket;
use crate::error::ApiError;
use crate::node_agent::{ByteWriter, PortConnection};
use futures::future::BoxFuture;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

/// One forwarded port: its number and the node agent's connection to it (being made).
pub struct Forward {
    pub port: u16,
    pub connect: BoxFuture<'static, Result<PortConnection, ApiError>>,
}

/// The error channel's text for a port that could not be forwarded, as the kubelet words it.
pub fn forward_error(port: u16, pod: &str, uid: &str, cause: &str) -> String {
    format!("error forwarding port {port} to pod {pod}, uid {uid}: {cause}")
}

/// Serve `forwards` on `socket` to the end. `describe(port, cause)` words a failed connection.
pub async fn serve(
    socket: Socket,
    protocol: Protocol,
    forwards: Vec<Forward>,
    describe: impl Fn(u16, &str) -> String + Send,
) {
    let (sink, mut stream) = socket.split();
    let (out, writer) = spawn_writer(sink);
    // Every channel starts with its port number.
    let ports: Vec<u16> = forwards.iter().map(|f| f.port).collect();
    for (i, port) in ports.iter().enumerate() {
        for ch in [data_channel(i), data_channel(i) + 1] {
            let m = message(channel::encode(protocol, ch, &port.to_le_bytes()));
            let _ = out.send(m).await;
        }
    }
    let mut writers: Vec<Option<ByteWriter>> = Vec::new();
    let mut pumps = JoinSet::new();
    for (i, f) in forwards.into_iter().enumerate() {
        match f.connect.await {
            Ok(PortConnection { read, write }) => {
                writers.push(Some(write));
                pumps.spawn(pump_output(read, data_channel(i), protocol, out.clone()));
            }
            Err(e) => {
                writers.push(None);
                let text = describe(f.port, &e.message);
                let m = message(channel::encode(
                    protocol,
                    data_channel(i) + 1,
                    text.as_bytes(),
                ));
                let _ = out.send(m).await;
            }
        }
    }
    let all_ended = async { while pumps.join_next().await.is_some() {} };
    let client = read_client(&mut stream, protocol, &mut writers);
    let ended = tokio::select! {
        () = all_ended => true,
        () = client => false,
    };
    drop(writers);
    if ended {
        close(out, writer, &mut stream).await;
    } else {
        writer.abort();
    }
}

fn data_channel(index: usize) -> u8 {
    // A request names at most 127 ports (checked by the handler), so this cannot wrap.
    (2 * index) as u8
}

/// Write the client's data-channel bytes to the ports' connections until the client goes away.
async fn read_client(
    stream: &mut futures::stream::SplitStream<Socket>,
    protocol: Protocol,
    writers: &mut [Option<ByteWriter>],
) {
    while let Some(Ok(msg)) = stream.next().await {
        let payload: &[u8] = match &msg {
            Message::Binary(b) => b,
            Message::Text(t) => t.as_bytes(),
            // Reading on lets the socket answer the close; the stream ends after that.
            _ => continue,
        };
        match channel::decode(protocol, payload) {
            Ok(Inbound::Data { channel, data }) if channel % 2 == 0 => {
                let slot = writers.get_mut(usize::from(channel / 2));
                if let Some(slot @ Some(_)) = slot {
                    if let Some(w) = slot.as_mut() {
                        if w.write_all(&data).await.is_err() || w.flush().await.is_err() {
                            *slot = None;
                        }
                    }
                }
            }
            // Error channels are written by the server only; empty messages carry nothing.
            Ok(_) => {}
            Err(e) => {
                tracing::debug!("portforward: dropping the connection on a protocol error: {e}");
                return;
            }
        }
    }
}
