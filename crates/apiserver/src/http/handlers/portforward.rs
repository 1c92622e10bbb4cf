//! GET/POST `pods/{name}/portforward`: the pod checked as kube-apiserver's
//! `PortForwardLocation` does (it exists and is on a node) and the handshake, answered as a
//! `Status` before any upgrade; then one of three protocols, each connection made by the node
//! agent: SPDY tunnelled in WebSocket (kubectl 1.35's first choice) or plain SPDY (its fallback),
//! both served by `http::spdy::portforward`, or the kubelet's WebSocket channel protocol (kube-rs,
//! with the `ports` query) served by `http::forwarding`.

use super::Request;
use crate::error::{ApiError, ApiResult};
use crate::http::channel::{Protocol, PORT_FORWARD_PROTOCOLS};
use crate::http::forwarding::{self, Forward};
use crate::http::spdy::{self, portforward::Connect, portforward::Describe};
use crate::http::websocket;
use axum::http::Method;
use axum::response::Response;
use std::sync::Arc;

/// More ports than the channel numbers (one byte, two per port) can carry.
const MAX_PORTS: usize = 127;

pub async fn handle(mut req: Request, method: Method) -> ApiResult<Response> {
    let name = req.name().to_string();
    let pod = req.registry.get(req.target(), &name)?.value();
    if pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty() {
        return Err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    let agent = req.registry.node_agent();
    let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
    let describe: Describe =
        Arc::new(move |port: u16, cause: &str| forwarding::forward_error(port, &name, &uid, cause));
    let connect: Connect = Arc::new(move |port| match &agent {
        Some(agent) => agent.port_forward(&pod, port),
        None => Box::pin(async {
            Err(ApiError::service_unavailable(
                "this server runs no nodes".to_string(),
            ))
        }),
    });
    // kubectl's fallback: SPDY on the upgraded connection itself.
    if spdy::is_upgrade(&req.headers) {
        let (resp, io) = spdy::accept(&req.headers, req.upgrade.take(), spdy::PORT_FORWARD_V1)?;
        tokio::spawn(async move {
            if let Some(io) = io.await {
                let (incoming, outgoing) = spdy::raw_transport(io);
                spdy::portforward::serve(incoming, outgoing, connect, describe).await;
            }
        });
        return Ok(resp);
    }
    let handshake = websocket::check(&method, &req.headers, req.upgrade.take())?;
    // What kubectl 1.35 asks for first: SPDY tunnelled in WebSocket messages.
    if handshake
        .offered
        .iter()
        .any(|p| p == spdy::TUNNEL_PORT_FORWARD)
    {
        let (resp, socket) = handshake.accept(Some(spdy::TUNNEL_PORT_FORWARD));
        tokio::spawn(async move {
            if let Some(socket) = socket.await {
                let (incoming, outgoing) = spdy::websocket_transport(socket);
                spdy::portforward::serve(incoming, outgoing, connect, describe).await;
            }
        });
        return Ok(resp);
    }
    // The kubelet's channel protocol (kube-rs): the ports come in the query.
    let (protocol, header) = Protocol::negotiate_among(&handshake.offered, &PORT_FORWARD_PROTOCOLS)
        .map_err(ApiError::forbidden_request)?;
    let forwards = ports(&req)?
        .into_iter()
        .map(|port| Forward {
            port,
            connect: connect(port),
        })
        .collect();
    let (resp, socket) = handshake.accept(header);
    tokio::spawn(async move {
        if let Some(socket) = socket.await {
            forwarding::serve(socket, protocol, forwards, move |port, cause| {
                describe(port, cause)
            })
            .await;
        }
    });
    Ok(resp)
}

/// The ports to forward: `ports=80,8080` (repeatable), each in 1..=65535, as the kubelet
/// checks them.
fn ports(req: &Request) -> ApiResult<Vec<u16>> {
    let mut out = Vec::new();
    for (_, list) in req.query.0.iter().filter(|(k, _)| k == "ports") {
        for p in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let n: u16 = p
                .parse()
                .map_err(|_| ApiError::bad_request(format!("unable to parse {p:?} as a port")))?;
            if n == 0 {
                return Err(ApiError::bad_request(format!("port {p:?} must be > 0")));
            }
            out.push(n);
        }
    }
    if out.is_empty() {
        return Err(ApiError::bad_request(
            "query parameter \"port\" is required",
        ));
    }
    if out.len() > MAX_PORTS {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_PORTS} ports can be forwarded at once"
        )));
    }
    Ok(out)
}
