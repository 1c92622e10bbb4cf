//! PUT: replace an object, its status, its scale, or a namespace's finalizers.

use super::Request;
use crate::error::ApiResult;
use crate::http::{request, response};
use crate::kinds::Subresource;
use crate::registry::{FieldValidation, ScaleChange, Target};
use axum::http::StatusCode;
use axum::response::Response;

pub async fn handle(req: Request) -> ApiResult<Response> {
    let mut opts = req.write_options_as("UpdateOptions")?;
    let kind = req.path.kind;
    let body = request::read_body(req.body).await?;
    let name = req.path.name.as_deref().unwrap_or("");
    let t = Target {
        kind,
        namespace: req.path.namespace.as_deref(),
    };
    let now = req.registry.clock.now();
    if req.path.subresource == Some(Subresource::Scale) {
        // kubectl sends the Scale without a Content-Type: it is JSON.
        let scale = request::decode_object(None, &req.headers, &body)?;
        let stored = req
            .registry
            .write_scale(t, name, ScaleChange::Replace(scale), &opts)
            .await?;
        return Ok(response::json_response(StatusCode::OK, stored.bytes));
    }
    let obj = request::decode_object(Some(kind), &req.headers, &body)?;
    if opts.field_validation != FieldValidation::Ignore && request::is_json(&req.headers) {
        opts.duplicate_fields = request::duplicate_fields(&body);
    }
    let result = req
        .registry
        .update(t, name, req.path.subresource, obj, &opts)
        .await
        .map(|stored| response::object(kind, StatusCode::OK, stored, req.rep, req.include, now));
    super::with_warnings(result, &opts.warnings)
}
