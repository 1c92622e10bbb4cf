//! SPDY/3.1, the streaming protocol kubectl speaks for `port-forward`: tunnelled in WebSocket
//! binary messages (subprotocol `SPDY/3.1+portforward.k8s.io`, what kubectl 1.35 tries first)
//! or on a plain `Upgrade: SPDY/3.1` connection (its fallback). Hand-written: no maintained
//! Rust crate serves SPDY; `frame` is the pure wire codec (zlib via `flate2`), `session` the
//! server connection, `portforward` the kubelet's stream-pair protocol on top.

pub mod dictionary;
pub mod frame;
pub mod portforward;
pub mod session;

use crate::error::{ApiError, ApiResult};
use crate::http::websocket::{self, Socket};
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures::{future, Sink, SinkExt, Stream, StreamExt};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::codec::{BytesCodec, FramedWrite};
use tokio_util::io::ReaderStream;

/// The inner protocol kubectl asks for in `X-Stream-Protocol-Version`.
pub const PORT_FORWARD_V1: &str = "portforward.k8s.io";
/// The WebSocket subprotocol that carries SPDY for port forwarding.
pub const TUNNEL_PORT_FORWARD: &str = "SPDY/3.1+portforward.k8s.io";
const PROTOCOL_HEADER: &str = "x-stream-protocol-version";

/// Whether the request asks to upgrade to SPDY/3.1 (not WebSocket).
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("SPDY/3.1"))
}

/// Switch a plain SPDY upgrade speaking `protocol`, checked as the kubelet's
/// `httpstream.Handshake` does: the answer `101` and the connection once hyper releases it.
pub fn accept(
    headers: &HeaderMap,
    on_upgrade: Option<OnUpgrade>,
    protocol: &'static str,
) -> ApiResult<(
    Response,
    impl std::future::Future<Output = Option<TokioIo<hyper::upgrade::Upgraded>>> + Send + 'static,
)> {
    let offered = websocket::header_list(headers, PROTOCOL_HEADER);
    if offered.is_empty() {
        return Err(ApiError::bad_request(
            "unable to upgrade: X-Stream-Protocol-Version is required",
        ));
    }
    if !offered.iter().any(|p| p == protocol) {
        return Err(ApiError::forbidden_request(format!(
            "unable to upgrade: unable to negotiate protocol: client supports {offered:?}, server accepts [{protocol:?}]"
        )));
    }
    let on_upgrade = on_upgrade.ok_or_else(|| ApiError::bad_request("Upgrade request required"))?;
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
    h.insert(PROTOCOL_HEADER, HeaderValue::from_static(protocol));
    let io = async move { on_upgrade.await.ok().map(TokioIo::new) };
    Ok((resp, io))
}

/// A plain upgraded connection as the session's byte stream in and byte sink out.
pub fn raw_transport(
    io: TokioIo<hyper::upgrade::Upgraded>,
) -> (
    impl Stream<Item = std::io::Result<Bytes>> + Unpin + Send,
    impl Sink<Bytes> + Unpin + Send + 'static,
) {
    let (read, write) = tokio::io::split(io);
    (
        ReaderStream::new(read),
        FramedWrite::new(write, BytesCodec::new()),
    )
}

/// A WebSocket carrying SPDY in binary messages (message boundaries mean nothing) as the
/// session's byte stream in and byte sink out; a close ends the stream.
pub fn websocket_transport(
    socket: Socket,
) -> (
    impl Stream<Item = std::io::Result<Bytes>> + Unpin + Send,
    impl Sink<Bytes> + Unpin + Send + 'static,
) {
    let (sink, stream) = socket.split();
    let incoming = stream
        .take_while(|m| future::ready(matches!(m, Ok(m) if !m.is_close())))
        .filter_map(|m| {
            future::ready(match m {
                Ok(Message::Binary(b)) => Some(Ok(b)),
                _ => None,
            })
        });
    let outgoing =
        sink.with(|b: Bytes| future::ready(Ok::<_, tungstenite::Error>(Message::Binary(b))));
    (Box::pin(incoming), outgoing)
}
