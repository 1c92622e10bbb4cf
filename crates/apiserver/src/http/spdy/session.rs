//! A SPDY/3.1 server connection, the role the kubelet's streaming server plays for
//! `kubectl port-forward`: read the client's frames, accept each stream it opens with a
//! SYN_REPLY, deliver each stream's data in order, answer pings, and send what the stream
//! handlers write through one ordered writer. Like the Go `spdystream` peers kubectl uses, there
//! is no flow control: WINDOW_UPDATE and SETTINGS are read and ignored. The transport is any
//! byte stream in and byte sink out, so the same session serves a plain `Upgrade: SPDY/3.1`
//! connection and SPDY tunnelled in WebSocket binary messages.

use super::frame::{Codec, Frame, Headers, PROTOCOL_ERROR};
use bytes::{Bytes, BytesMut};
use futures::{Sink, SinkExt, Stream as FuturesStream, StreamExt};
use std::collections::HashMap;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How many of a stream's data frames may wait for its handler before reading stops.
const STREAM_QUEUE: usize = 32;

/// A stream the client opened.
pub struct Stream {
    pub id: u32,
    pub headers: Headers,
    /// The client's data in order; ends at its FIN or RST_STREAM, or with the connection.
    pub incoming: mpsc::Receiver<Bytes>,
    pub writer: StreamWriter,
}

/// The server's half of a stream.
#[derive(Clone)]
pub struct StreamWriter {
    id: u32,
    frames: mpsc::Sender<Frame>,
    gone: CancellationToken,
}

impl StreamWriter {
    /// Send `data` on the stream; false once the client reset it or the connection is gone.
    pub async fn send(&self, data: Bytes) -> bool {
        !self.gone.is_cancelled()
            && self
                .frames
                .send(Frame::Data {
                    stream: self.id,
                    fin: false,
                    data,
                })
                .await
                .is_ok()
    }

    /// End the server's half of the stream (an empty DATA frame with FIN).
    pub async fn finish(&self) {
        if !self.gone.is_cancelled() {
            let _ = self
                .frames
                .send(Frame::Data {
                    stream: self.id,
                    fin: true,
                    data: Bytes::new(),
                })
                .await;
        }
    }

    /// Reset the stream (RST_STREAM with `status`).
    pub async fn reset(&self, status: u32) {
        self.gone.cancel();
        let _ = self
            .frames
            .send(Frame::RstStream {
                stream: self.id,
                status,
            })
            .await;
    }

    /// Resolves when the client reset the stream or the connection ended.
    pub async fn gone(&self) {
        self.gone.cancelled().await
    }
}

/// Serve one connection until the client goes away, handing each new stream to `accept`
/// (after its SYN_REPLY is queued, so nothing the handler writes can precede it).
pub async fn serve<I, O>(mut incoming: I, outgoing: O, mut accept: impl FnMut(Stream))
where
    I: FuturesStream<Item = std::io::Result<Bytes>> + Unpin,
    O: Sink<Bytes> + Unpin + Send + 'static,
{
    let connection = CancellationToken::new();
    let (frames, queued) = mpsc::channel::<Frame>(64);
    tokio::spawn(write_frames(queued, outgoing, connection.clone()));
    let mut codec = Codec::default();
    let mut buf = BytesMut::new();
    let mut streams: HashMap<u32, (mpsc::Sender<Bytes>, CancellationToken)> = HashMap::new();
    let mut last_id = 0u32;
    let mut going_away = false;
    'read: loop {
        loop {
            let frame = match codec.decode(&mut buf) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!("spdy: closing the connection on a bad frame: {e}");
                    break 'read;
                }
            };
            match frame {
                Frame::SynStream {
                    stream: id,
                    fin,
                    headers,
                    ..
                } => {
                    // Client streams have odd, increasing ids (§2.3.2).
                    if id % 2 == 0 || id <= last_id || going_away {
                        let _ = frames
                            .send(Frame::RstStream {
                                stream: id,
                                status: PROTOCOL_ERROR,
                            })
                            .await;
                        continue;
                    }
                    last_id = id;
                    let (tx, rx) = mpsc::channel(STREAM_QUEUE);
                    let gone = connection.child_token();
                    if !fin {
                        streams.insert(id, (tx, gone.clone()));
                    }
                    let reply = Frame::SynReply {
                        stream: id,
                        fin: false,
                        headers: Vec::new(),
                    };
                    if frames.send(reply).await.is_err() {
                        break 'read;
                    }
                    accept(Stream {
                        id,
                        headers,
                        incoming: rx,
                        writer: StreamWriter {
                            id,
                            frames: frames.clone(),
                            gone,
                        },
                    });
                }
                Frame::Data {
                    stream: id,
                    fin,
                    data,
                } => {
                    if let Some((tx, _)) = streams.get(&id) {
                        // A handler that stopped reading just loses the data.
                        if !data.is_empty() && tx.send(data).await.is_err() {
                            tracing::trace!("spdy: stream {id} no longer reads");
                        }
                    }
                    if fin {
                        streams.remove(&id);
                    }
                }
                Frame::RstStream { stream: id, .. } => {
                    if let Some((_, gone)) = streams.remove(&id) {
                        gone.cancel();
                    }
                }
                Frame::Ping { id } => {
                    let _ = frames.send(Frame::Ping { id }).await;
                }
                Frame::GoAway { .. } => going_away = true,
                // No flow control, no settings, nothing to do for the rest.
                _ => {}
            }
        }
        match incoming.next().await {
            Some(Ok(bytes)) => buf.extend_from_slice(&bytes),
            Some(Err(_)) | None => break,
        }
    }
    connection.cancel();
}

/// Encode queued frames in order and send them, a batch at a time, until every writer is
/// dropped or the client is gone.
async fn write_frames<O>(
    mut queued: mpsc::Receiver<Frame>,
    mut outgoing: O,
    connection: CancellationToken,
) where
    O: Sink<Bytes> + Unpin,
{
    let mut codec = Codec::default();
    let mut out = BytesMut::new();
    while let Some(first) = queued.recv().await {
        let mut frame = Some(first);
        while let Some(f) = frame {
            if let Err(e) = codec.encode(&f, &mut out) {
                tracing::debug!("spdy: dropping a frame that cannot be encoded: {e}");
            }
            frame = queued.try_recv().ok();
        }
        let batch = out.split().freeze();
        let sent = tokio::select! {
            sent = outgoing.send(batch) => sent.is_ok(),
            () = connection.cancelled() => false,
        };
        if !sent {
            connection.cancel();
            return;
        }
    }
    let _ = outgoing.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::spdy::frame::header;

    /// A client's end: frames in, frames out.
    struct Client {
        codec: Codec,
        to_server: mpsc::UnboundedSender<std::io::Result<Bytes>>,
        from_server: futures::channel::mpsc::UnboundedReceiver<Bytes>,
        buf: BytesMut,
        reader: Codec,
    }

    impl Client {
        fn send(&mut self, f: Frame) {
            let mut out = BytesMut::new();
            self.codec.encode(&f, &mut out).unwrap();
            self.to_server.send(Ok(out.freeze())).unwrap();
        }

        async fn next(&mut self) -> Option<Frame> {
            loop {
                if let Some(f) = self.reader.decode(&mut self.buf).unwrap() {
                    return Some(f);
                }
                let bytes = self.from_server.next().await?;
                self.buf.extend_from_slice(&bytes);
            }
        }
    }

    fn start(accept: impl FnMut(Stream) + Send + 'static) -> Client {
        let (to_server, rx) = mpsc::unbounded_channel();
        let (tx, from_server) = futures::channel::mpsc::unbounded::<Bytes>();
        let incoming = tokio_stream::wrappers::UnboundedReceiverStream::new(rx);
        tokio::spawn(serve(incoming, tx, accept));
        Client {
            codec: Codec::default(),
            to_server,
            from_server,
            buf: BytesMut::new(),
            reader: Codec::default(),
        }
    }

    fn syn(id: u32, fin: bool) -> Frame {
        Frame::SynStream {
            stream: id,
            associated: 0,
            priority: 0,
            fin,
            unidirectional: false,
            headers: vec![("streamtype".into(), vec!["data".into()])],
        }
    }

    #[tokio::test]
    async fn a_stream_is_replied_to_and_its_data_echoed_in_order() {
        let mut client = start(|mut s: Stream| {
            assert_eq!(header(&s.headers, "streamtype"), Some("data"));
            tokio::spawn(async move {
                while let Some(chunk) = s.incoming.recv().await {
                    s.writer.send(chunk).await;
                }
                s.writer.finish().await;
            });
        });
        client.send(syn(1, false));
        for part in ["one ", "two"] {
            client.send(Frame::Data {
                stream: 1,
                fin: false,
                data: Bytes::from(part),
            });
        }
        client.send(Frame::Data {
            stream: 1,
            fin: true,
            data: Bytes::new(),
        });
        assert_eq!(
            client.next().await,
            Some(Frame::SynReply {
                stream: 1,
                fin: false,
                headers: vec![]
            })
        );
        let mut echoed = Vec::new();
        loop {
            match client.next().await.unwrap() {
                Frame::Data {
                    fin: false, data, ..
                } => echoed.extend_from_slice(&data),
                Frame::Data { fin: true, .. } => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(echoed, b"one two");
    }

    #[tokio::test]
    async fn pings_are_answered_and_bad_stream_ids_refused() {
        let mut client = start(|_| {});
        client.send(Frame::Ping { id: 1 });
        assert_eq!(client.next().await, Some(Frame::Ping { id: 1 }));
        // An even id is the server's to use.
        client.send(syn(2, false));
        assert_eq!(
            client.next().await,
            Some(Frame::RstStream {
                stream: 2,
                status: PROTOCOL_ERROR
            })
        );
    }

    #[tokio::test]
    async fn a_reset_or_a_lost_connection_tells_the_handler() {
        let (gone_tx, mut gone_rx) = mpsc::unbounded_channel();
        let mut client = start(move |s: Stream| {
            let gone_tx = gone_tx.clone();
            tokio::spawn(async move {
                s.writer.gone().await;
                gone_tx.send(s.id).unwrap();
            });
        });
        client.send(syn(1, false));
        client.send(syn(3, false));
        client.send(Frame::RstStream {
            stream: 1,
            status: 5,
        });
        assert_eq!(gone_rx.recv().await, Some(1));
        drop(client);
        assert_eq!(gone_rx.recv().await, Some(3));
    }
}
