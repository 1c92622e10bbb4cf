//! POST: create an object, or bind a pod to a node (`pods/binding`).

use super::Request;
use crate::error::ApiResult;
use crate::http::{request, response};
use crate::registry::FieldValidation;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

pub async fn handle(req: Request) -> ApiResult<Response> {
    let mut opts = req.write_options_as("CreateOptions")?;
    let kind = req.path.kind;
    let body = request::read_body(req.body).await?;
    let obj = request::decode_object(Some(kind), &req.headers, &body)?;
    if opts.field_validation != FieldValidation::Ignore && request::is_json(&req.headers) {
        opts.duplicate_fields = request::duplicate_fields(&body);
    }
    let t = crate::registry::Target {
        kind,
        namespace: req.path.namespace.as_deref(),
    };
    let result = req.registry.create(t, obj, &opts).await.map(|stored| {
        response::object(
            kind,
            StatusCode::CREATED,
            stored,
            req.rep,
            req.include,
            req.registry.clock.now(),
        )
    });
    super::with_warnings(result, &opts.warnings)
}

pub async fn bind(req: Request) -> ApiResult<Response> {
    let opts = req.write_options_as("CreateOptions")?;
    let body = request::read_body(req.body).await?;
    let binding = request::decode_object(None, &req.headers, &body)?;
    let t = crate::registry::Target {
        kind: req.path.kind,
        namespace: req.path.namespace.as_deref(),
    };
    let name = req.path.name.as_deref().unwrap_or("");
    req.registry.bind(t, name, &binding, &opts).await?;
    Ok(response::value_response(
        StatusCode::CREATED,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    ))
}
