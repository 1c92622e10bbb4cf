//! GET/POST `pods/{name}/portforward` over WebSocket (the protocol kube-rs and the kubelet
//! speak; no SPDY): the pod checked as kube-apiserver's `PortForwardLocation` does (it exists
//! and is on a node), the `ports` query as the kubelet reads it, and the handshake, all answered
//! as a `Status` before the upgrade; then `http::forwarding` serves the ports, each connection
//! made by the node agent.

use super::Request;
use crate::error::{ApiError, ApiResult};
use crate::http::channel::{Protocol, PORT_FORWARD_PROTOCOLS};
use crate::http::forwarding::{self, Forward};
use crate::http::websocket;
use axum::http::Method;
use axum::response::Response;

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
    // The kubelet reads the ports only on this protocol (SPDY carries them per stream).
    let handshake = websocket::check(&method, &req.headers, req.upgrade.take())?;
    let (protocol, header) = Protocol::negotiate_among(&handshake.offered, &PORT_FORWARD_PROTOCOLS)
        .map_err(ApiError::forbidden_request)?;
    let ports = ports(&req)?;
    let agent = req.registry.node_agent();
    let forwards = ports
        .into_iter()
        .map(|port| Forward {
            port,
            connect: match &agent {
                Some(agent) => agent.port_forward(&pod, port),
                None => Box::pin(async {
                    Err(ApiError::service_unavailable(
                        "this server runs no nodes".to_string(),
                    ))
                }),
            },
        })
        .collect();
    let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
    let describe =
        move |port: u16, cause: &str| forwarding::forward_error(port, &name, &uid, cause);
    let (resp, socket) = handshake.accept(header);
    tokio::spawn(async move {
        if let Some(socket) = socket.await {
            forwarding::serve(socket, protocol, forwards, describe).await;
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
