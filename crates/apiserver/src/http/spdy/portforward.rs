//! The `portforward.k8s.io` protocol over SPDY streams, as the kubelet serves it to kubectl:
//! the client opens an error stream and a data stream per connection, paired by their
//! `requestID` header and naming the pod port in `port`; the server connects to the port, copies
//! bytes both ways (the client's FIN half-closes the connection to the pod), ends the data
//! stream when the pod's side ends, writes a failure to the error stream, and ends the error
//! stream last.

use super::frame::{header, CANCEL};
use super::session::{self, Stream};
use crate::error::ApiError;
use crate::node_agent::PortConnection;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{Sink, Stream as FuturesStream};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How much of the pod's output goes into one data frame.
const CHUNK: usize = 32 * 1024;

/// Opens a connection to a port of the pod (the node agent's `port_forward`).
pub type Connect =
    Arc<dyn Fn(u16) -> BoxFuture<'static, Result<PortConnection, ApiError>> + Send + Sync>;
/// Words a failure to forward `port` (`describe(port, cause)`), as the kubelet does.
pub type Describe = Arc<dyn Fn(u16, &str) -> String + Send + Sync>;

#[derive(Default)]
struct Pair {
    error: Option<Stream>,
    data: Option<Stream>,
}

/// Serve port forwarding on one SPDY connection until the client goes away.
pub async fn serve<I, O>(incoming: I, outgoing: O, connect: Connect, describe: Describe)
where
    I: FuturesStream<Item = std::io::Result<Bytes>> + Unpin,
    O: Sink<Bytes> + Unpin + Send + 'static,
{
    let mut pairs: HashMap<String, Pair> = HashMap::new();
    session::serve(incoming, outgoing, move |stream| {
        let kind = header(&stream.headers, "streamtype").unwrap_or("");
        // Clients before request IDs paired the data stream two ids after its error stream.
        let request = match header(&stream.headers, "requestid") {
            Some(id) => id.to_string(),
            None if kind == "data" => stream.id.saturating_sub(2).to_string(),
            None => stream.id.to_string(),
        };
        let pair = pairs.entry(request.clone()).or_default();
        match kind {
            "error" => pair.error = Some(stream),
            "data" => pair.data = Some(stream),
            other => {
                tracing::debug!("portforward: refusing a stream of type {other:?}");
                let writer = stream.writer.clone();
                tokio::spawn(async move { writer.reset(CANCEL).await });
                return;
            }
        }
        if let Pair {
            error: Some(_),
            data: Some(_),
        } = pair
        {
            let Pair {
                error: Some(error),
                data: Some(data),
            } = pairs.remove(&request).unwrap_or_default()
            else {
                return;
            };
            tokio::spawn(forward(error, data, connect.clone(), describe.clone()));
        }
    })
    .await;
}

/// One forwarded connection: its pair of streams, to the end.
async fn forward(error: Stream, data: Stream, connect: Connect, describe: Describe) {
    let port_header = header(&data.headers, "port").unwrap_or("").to_string();
    let failure = match port_header.parse::<u16>() {
        Ok(port) if port > 0 => match connect(port).await {
            Ok(conn) => {
                copy(data, conn).await;
                None
            }
            Err(e) => Some((describe(port, &e.message), data)),
        },
        _ => Some((format!("invalid port header {port_header:?}"), data)),
    };
    if let Some((message, data)) = failure {
        error.writer.send(Bytes::from(message)).await;
        // The client waits for the data stream to end before it reads the error.
        data.writer.finish().await;
    }
    error.writer.finish().await;
}

/// Copy the data stream to the pod's port and back, until the pod's side ends or the client
/// resets the stream.
async fn copy(mut data: Stream, conn: PortConnection) {
    let PortConnection {
        mut read,
        mut write,
    } = conn;
    let to_pod = async move {
        while let Some(chunk) = data.incoming.recv().await {
            if write.write_all(&chunk).await.is_err() || write.flush().await.is_err() {
                return;
            }
        }
        // The client's FIN: half-close, so the pod's server sees the end of its input.
        let _ = write.shutdown().await;
    };
    let writer = data.writer;
    let from_pod = async {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if !writer.send(Bytes::copy_from_slice(&buf[..n])).await {
                        return;
                    }
                }
            }
        }
        writer.finish().await;
    };
    tokio::select! {
        _ = async { tokio::join!(to_pod, from_pod) } => {}
        () = writer.gone() => {}
    }
}
