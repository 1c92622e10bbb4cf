//! The HTTP surface: `app()` builds the router (health, version, discovery, and one fallback
//! that hands every resource path to the per-verb handlers, with hyper's upgrade handle for
//! the WebSocket subresources). Errors become `Status` bodies in `ApiError::into_response`,
//! the one place that happens.

pub mod channel;
pub mod discovery;
pub mod forwarding;
pub mod go_json;
pub mod handlers;
pub mod remotecommand;
pub mod request;
pub mod response;
pub mod spdy;
pub mod websocket;

use crate::error::ApiError;
use crate::registry::Registry;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;

/// The Kubernetes version this server reports.
pub const GIT_VERSION: &str = "v1.35.0";

/// Build the router over a registry (tests call it without a socket).
pub fn app(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/healthz", get(ok))
        .route("/livez", get(ok))
        .route("/readyz", get(ok))
        .route("/version", get(version))
        .route("/openapi/v2", get(crate::openapi::serve::v2))
        .route("/openapi/v3", get(crate::openapi::serve::index))
        .route("/openapi/v3/{*gv}", get(crate::openapi::serve::group))
        .fallback(resource)
        .with_state(registry)
}

async fn ok() -> &'static str {
    "ok"
}

async fn version() -> Response {
    response::value_response(
        StatusCode::OK,
        &json!({
            "major": "1", "minor": "35", "emulationMajor": "1", "emulationMinor": "35",
            "minCompatibilityMajor": "1", "minCompatibilityMinor": "34",
            "gitVersion": GIT_VERSION, "gitCommit": "kube-lite", "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.25.0", "compiler": "gc",
            "platform": format!("{}/{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { std::env::consts::ARCH }),
        }),
    )
}

/// Discovery documents, when the path is one.
fn discovery(registry: &Registry, path: &str, headers: &HeaderMap) -> Option<Response> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let kinds = &registry.kinds;
    let aggregated = |core: bool| {
        let mut r = response::value_response(StatusCode::OK, &discovery::aggregated(kinds, core));
        r.headers_mut().insert(
            "content-type",
            HeaderValue::from_static(discovery::AGGREGATED_CONTENT_TYPE),
        );
        r
    };
    let doc: Value = match parts.as_slice() {
        ["api"] if discovery::wants_aggregated(headers) => return Some(aggregated(true)),
        ["apis"] if discovery::wants_aggregated(headers) => return Some(aggregated(false)),
        ["api"] => discovery::api_versions(),
        ["apis"] => discovery::api_group_list(kinds),
        ["api", v] => discovery::resource_list(kinds, "", v)?,
        ["apis", g] => discovery::api_group(kinds, g)?,
        ["apis", g, v] => discovery::resource_list(kinds, g, v)?,
        _ => return None,
    };
    Some(response::value_response(StatusCode::OK, &doc))
}

async fn resource(State(registry): State<Arc<Registry>>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let upgrade = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
    let path = uri.path();
    if method == Method::GET {
        if let Some(r) = discovery(&registry, path, &headers) {
            return r;
        }
    }
    if !(path.starts_with("/api/") || path.starts_with("/apis/")) {
        return ApiError::page_not_found().into_response();
    }
    // Read the whole body (at most 3 MiB) before anything may refuse the request: answering
    // while it is unread makes hyper drop the connection, under a client that may already be
    // sending its next request on it. A body too large to read ends the connection.
    let body = match request::read_body(body).await {
        Ok(bytes) => Body::from(bytes),
        Err(e) => {
            let mut r = e.into_response();
            r.headers_mut()
                .insert("connection", HeaderValue::from_static("close"));
            return r;
        }
    };
    match handlers::dispatch(registry, method, path, uri.query(), headers, body, upgrade).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}
