//! PATCH: JSON patch, JSON merge patch or strategic merge patch of an object, its status or
//! its scale.

use super::Request;
use crate::error::{ApiError, ApiResult};
use crate::http::{request, response};
use crate::kinds::Subresource;
use crate::registry::{FieldValidation, PatchType, ScaleChange, Target};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

pub async fn handle(req: Request) -> ApiResult<Response> {
    let mut opts = req.query.write_options_as("PatchOptions")?;
    let kind = req.path.kind;
    let ct = request::content_type(&req.headers);
    let pt = PatchType::from_content_type(&ct).ok_or_else(|| {
        let mut e = ApiError::unsupported_media_type(&ct);
        e.message = "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json".to_string();
        e
    })?;
    let body = request::read_body(req.body).await?;
    let patch: Value = serde_json::from_slice(&body).map_err(|e| {
        // kube-apiserver decodes a strategic merge or JSON patch with Go's encoding/json and
        // answers a syntax error with its wording; a merge patch gets json-patch's
        // ErrBadJSONPatch.
        ApiError::bad_request(match (pt, crate::http::go_json::syntax_error(&body)) {
            (PatchType::Merge, Some(_)) => "Invalid JSON Patch".to_string(),
            (_, Some(msg)) => msg,
            (_, None) => format!("error decoding patch: {e}"),
        })
    })?;
    if opts.field_validation != FieldValidation::Ignore {
        opts.duplicate_fields = request::duplicate_fields(&body);
    }
    let name = req.path.name.as_deref().unwrap_or("");
    let t = Target {
        kind,
        namespace: req.path.namespace.as_deref(),
    };
    let now = req.registry.clock.now();
    if req.path.subresource == Some(Subresource::Scale) {
        let stored = req
            .registry
            .write_scale(t, name, ScaleChange::Patch(pt, patch), &opts)
            .await?;
        return Ok(response::json_response(StatusCode::OK, stored.bytes));
    }
    let result = req
        .registry
        .patch(t, name, req.path.subresource, pt, patch, &opts)
        .await
        .map(|stored| response::object(kind, StatusCode::OK, stored, req.rep, req.include, now));
    super::with_warnings(result, &opts.warnings)
}
