//! DELETE of one object, and deletecollection.

use super::Request;
use crate::error::ApiResult;
use crate::http::{request, response};
use crate::registry::Target;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

async fn options(req: &mut Request) -> ApiResult<crate::registry::DeleteOptions> {
    let mut opts = req.query.delete_options()?;
    let body = request::read_body(std::mem::take(&mut req.body)).await?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        let v: Value = request::decode_object(None, &req.headers, &body)?;
        opts.merge_body(&v)?;
    }
    Ok(opts)
}

pub async fn handle(mut req: Request) -> ApiResult<Response> {
    let opts = options(&mut req).await?;
    let kind = req.path.kind;
    let name = req.path.name.clone().unwrap_or_default();
    let t = Target {
        kind,
        namespace: req.path.namespace.as_deref(),
    };
    let out = req.registry.delete(t, &name, &opts).await?;
    // kube-apiserver answers 202 only for a pending deletion with orphanDependents=false.
    let code = if !out.removed && opts.orphan_dependents == Some(false) {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    if out.removed && !kind.returns_deleted_object {
        let obj = out.object.value();
        let uid = obj.pointer("/metadata/uid").cloned().unwrap_or(Value::Null);
        let mut details = json!({"name": name, "kind": kind.plural, "uid": uid});
        if !kind.group.is_empty() {
            details["group"] = json!(kind.group);
        }
        return Ok(response::value_response(
            code,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
        ));
    }
    Ok(response::object(
        kind,
        code,
        out.object,
        req.rep,
        req.include,
        req.registry.clock.now(),
    ))
}

pub async fn collection(mut req: Request) -> ApiResult<Response> {
    let opts = options(&mut req).await?;
    let list = req.query.list_options()?;
    let kind = req.path.kind;
    let t = Target {
        kind,
        namespace: req.path.namespace.as_deref(),
    };
    let deleted = req.registry.delete_collection(t, &list, &opts).await?;
    let items: Vec<Value> = deleted.iter().map(|s| s.value()).collect();
    let rv = req.registry.storage.current_rv().to_string();
    Ok(response::value_response(
        StatusCode::OK,
        &json!({"kind": kind.list_kind(), "apiVersion": kind.api_version(), "metadata": {"resourceVersion": rv}, "items": items}),
    ))
}
