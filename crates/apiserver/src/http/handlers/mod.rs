//! One handler per verb, each kind-agnostic: it reads the request into options, calls the
//! registry and writes the response. `dispatch` picks the verb from method and path.

mod attach;
mod create;
mod delete;
mod exec;
mod get;
mod list;
mod log;
mod patch;
mod portforward;
mod update;
mod watch;

use super::request::{parse_path, Query, ResourcePath};
use super::response::Representation;
use crate::error::{ApiError, ApiResult};
use crate::kinds::Subresource;
use crate::registry::{Registry, Target, Warnings};
use crate::table::IncludeObject;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::Response;
use std::sync::Arc;

/// Everything a verb handler needs about one request.
pub struct Request {
    pub registry: Arc<Registry>,
    pub path: ResourcePath,
    pub query: Query,
    pub headers: HeaderMap,
    pub body: Body,
    pub rep: Representation,
    pub include: IncludeObject,
    /// hyper's handle on the connection, for a request that asked to upgrade it.
    pub upgrade: Option<hyper::upgrade::OnUpgrade>,
}

impl Request {
    pub fn target(&self) -> Target<'_> {
        Target {
            kind: self.path.kind,
            namespace: self.path.namespace.as_deref(),
        }
    }

    pub fn name(&self) -> &str {
        self.path.name.as_deref().unwrap_or("")
    }

    /// A write's options; without `fieldManager` the manager is the User-Agent's product
    /// (`kubectl` of `kubectl/v1.35.0 (linux/amd64) ...`), as kube-apiserver takes it.
    pub fn write_options_as(&self, options_kind: &str) -> ApiResult<crate::registry::WriteOptions> {
        let mut opts = self.query.write_options_as(options_kind)?;
        if opts.field_manager.as_deref().is_none_or(str::is_empty) {
            opts.field_manager = self
                .headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|ua| ua.split('/').next().unwrap_or("").to_string());
        }
        Ok(opts)
    }
}

/// Attach the warnings a write collected as `Warning: 299 - "<text>"` headers, to its
/// response or to its error (kube-apiserver sends them either way).
pub fn with_warnings(result: ApiResult<Response>, warnings: &Warnings) -> ApiResult<Response> {
    let list = warnings.take();
    if list.is_empty() {
        return result;
    }
    let mut resp = result.unwrap_or_else(axum::response::IntoResponse::into_response);
    for w in list {
        if let Ok(v) = HeaderValue::from_str(&format!("299 - {}", warning_quote(&w))) {
            resp.headers_mut().append("warning", v);
        }
    }
    Ok(resp)
}

/// Go's `strconv.Quote`, ASCII-only so the result is a valid header value.
fn warning_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Route a resource request to its verb handler.
pub async fn dispatch(
    registry: Arc<Registry>,
    method: Method,
    path: &str,
    query: Option<&str>,
    headers: HeaderMap,
    body: Body,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> ApiResult<Response> {
    let parsed = parse_path(&registry.kinds, path)?;
    let query = Query::parse(query);
    let rep = Representation::from_headers(&headers);
    let include = IncludeObject::parse(query.get("includeObject"));
    let has_name = parsed.name.is_some();
    let sub = parsed.subresource;
    let req = Request {
        registry,
        path: parsed,
        query,
        headers,
        body,
        rep,
        include,
        upgrade,
    };
    let not_allowed = || {
        Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ))
    };
    // A namespaced kind's path outside a namespace serves only list and watch (across
    // namespaces), as kube-apiserver registers no other route there.
    if req.path.kind.namespaced && req.path.namespace.is_none() {
        if has_name {
            return Err(ApiError::page_not_found());
        }
        if method != Method::GET {
            return not_allowed();
        }
    }
    match (method.clone(), has_name, sub) {
        (Method::GET, false, None) if req.query.is_watch()? => watch::handle(req),
        (Method::GET, false, None) => list::handle(req),
        (Method::GET, true, Some(Subresource::Binding) | Some(Subresource::Finalize)) => {
            not_allowed()
        }
        (Method::GET, true, Some(Subresource::Log)) => log::handle(req),
        (_, _, Some(Subresource::Log)) => not_allowed(),
        (Method::GET | Method::POST, true, Some(Subresource::Exec)) => {
            exec::handle(req, method).await
        }
        (_, _, Some(Subresource::Exec)) => not_allowed(),
        (Method::GET | Method::POST, true, Some(Subresource::Attach)) => {
            attach::handle(req, method).await
        }
        (_, _, Some(Subresource::Attach)) => not_allowed(),
        (Method::GET | Method::POST, true, Some(Subresource::PortForward)) => {
            portforward::handle(req, method).await
        }
        (_, _, Some(Subresource::PortForward)) => not_allowed(),
        (Method::GET, true, _) => get::handle(req),
        (Method::POST, false, None) => create::handle(req).await,
        (Method::POST, true, Some(Subresource::Binding)) => create::bind(req).await,
        (Method::PUT, true, Some(Subresource::Binding)) => not_allowed(),
        (Method::PUT, true, _) => update::handle(req).await,
        (Method::PATCH, true, Some(Subresource::Binding) | Some(Subresource::Finalize)) => {
            not_allowed()
        }
        (Method::PATCH, true, _) => patch::handle(req).await,
        (Method::DELETE, true, None) => delete::handle(req).await,
        (Method::DELETE, false, None) => delete::collection(req).await,
        _ => not_allowed(),
    }
}
