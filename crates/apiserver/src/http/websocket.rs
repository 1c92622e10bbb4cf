//! Upgrading a request to a WebSocket (RFC 6455) for the streaming subresources: check the
//! handshake headers and refuse a bad one with a `Status` before anything is switched, answer
//! `101 Switching Protocols` with the chosen subprotocol, and hand the upgraded connection,
//! once hyper releases it, to the caller as a `tokio-tungstenite` stream.

use crate::error::{ApiError, ApiResult};
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// The upgraded connection.
pub type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// A request that asked for a WebSocket and may be switched.
pub struct Handshake {
    key: String,
    /// The subprotocols the client offered, in its order.
    pub offered: Vec<String>,
    on_upgrade: OnUpgrade,
}

/// Whether a header holds `token` in its comma-separated list (case-insensitive).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The `Sec-WebSocket-Protocol` offer, from one comma-separated header or several headers.
pub fn offered_protocols(headers: &HeaderMap) -> Vec<String> {
    header_list(headers, header::SEC_WEBSOCKET_PROTOCOL.as_str())
}

/// The values of a list header, from one comma-separated header or several headers.
pub fn header_list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Check that a request is a WebSocket upgrade we can switch. Not an upgrade at all is
/// kube-apiserver's `Upgrade request required`; an upgrade to something else (SPDY, which
/// kubectl falls back to) is refused by name.
pub fn check(
    method: &Method,
    headers: &HeaderMap,
    on_upgrade: Option<OnUpgrade>,
) -> ApiResult<Handshake> {
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !has_token(headers, header::CONNECTION, "upgrade") || upgrade.is_empty() {
        return Err(ApiError::bad_request("Upgrade request required"));
    }
    if !upgrade
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case("websocket"))
    {
        return Err(ApiError::bad_request(format!(
            "the server supports WebSocket upgrades only, not {upgrade:?}"
        )));
    }
    if method != Method::GET {
        return Err(ApiError::method_not_allowed(format!(
            "a WebSocket upgrade must be a GET request, not {method}"
        )));
    }
    let version = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .and_then(|v| v.to_str().ok());
    if version != Some("13") {
        return Err(ApiError::bad_request(format!(
            "unsupported Sec-WebSocket-Version {:?}: the server speaks version 13",
            version.unwrap_or("")
        )));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::bad_request("missing Sec-WebSocket-Key header"))?
        .to_string();
    // hyper offers the connection only on HTTP/1.1 requests that asked to upgrade.
    let on_upgrade = on_upgrade.ok_or_else(|| ApiError::bad_request("Upgrade request required"))?;
    Ok(Handshake {
        key,
        offered: offered_protocols(headers),
        on_upgrade,
    })
}

impl Handshake {
    /// The `101 Switching Protocols` answer (echoing `protocol` when there is one), and the
    /// socket that the connection becomes once the answer is sent; `None` when the client went
    /// away first.
    pub fn accept(
        self,
        protocol: Option<&'static str>,
    ) -> (
        Response,
        impl std::future::Future<Output = Option<Socket>> + Send + 'static,
    ) {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = resp.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(v) = HeaderValue::from_str(&derive_accept_key(self.key.as_bytes())) {
            h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
        }
        if let Some(p) = protocol {
            h.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(p));
        }
        let on_upgrade = self.on_upgrade;
        let socket = async move {
            let upgraded = on_upgrade.await.ok()?;
            let mut config = WebSocketConfig::default();
            // client-go sends at most 32 KiB + 1 per frame; leave room, but bound memory.
            config.max_message_size = Some(16 << 20);
            config.max_frame_size = Some(16 << 20);
            Some(
                WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await,
            )
        };
        (resp, socket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in list {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    const GOOD: &[(&str, &str)] = &[
        ("connection", "Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn bad_upgrade_requests_are_refused_with_the_reason() {
        let without = |name: &str| -> HeaderMap {
            let mut h = headers(GOOD);
            h.remove(name);
            h
        };
        let mut spdy = headers(GOOD);
        spdy.insert("upgrade", HeaderValue::from_static("SPDY/3.1"));
        let mut old = headers(GOOD);
        old.insert("sec-websocket-version", HeaderValue::from_static("8"));
        let cases: Vec<(Method, HeaderMap, u16, &str)> = vec![
            (
                Method::GET,
                HeaderMap::new(),
                400,
                "Upgrade request required",
            ),
            (
                Method::GET,
                without("connection"),
                400,
                "Upgrade request required",
            ),
            (
                Method::GET,
                without("upgrade"),
                400,
                "Upgrade request required",
            ),
            (
                Method::POST,
                spdy,
                400,
                "the server supports WebSocket upgrades only, not \"SPDY/3.1\"",
            ),
            (
                Method::POST,
                headers(GOOD),
                405,
                "a WebSocket upgrade must be a GET request",
            ),
            (
                Method::GET,
                old,
                400,
                "unsupported Sec-WebSocket-Version \"8\"",
            ),
            (
                Method::GET,
                without("sec-websocket-key"),
                400,
                "missing Sec-WebSocket-Key",
            ),
            // Without hyper's upgrade handle (not an HTTP/1.1 upgrade) there is nothing to switch.
            (Method::GET, headers(GOOD), 400, "Upgrade request required"),
        ];
        for (method, h, code, msg) in cases {
            let Err(e) = check(&method, &h, None) else {
                panic!("{method} {h:?} was accepted");
            };
            assert_eq!(e.code, code, "{h:?}");
            assert!(e.message.starts_with(msg), "{h:?}: {}", e.message);
        }
    }

    #[test]
    fn the_protocol_offer_is_read_from_lists_and_repeated_headers() {
        let h = headers(&[
            (
                "sec-websocket-protocol",
                "v5.channel.k8s.io, v4.channel.k8s.io",
            ),
            ("sec-websocket-protocol", "channel.k8s.io"),
        ]);
        assert_eq!(
            offered_protocols(&h),
            ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"]
        );
    }
}
