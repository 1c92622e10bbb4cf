//! PATCH: JSON patch, JSON merge patch, strategic merge patch or server-side apply of an
//! object, its status or its scale.

use super::Request;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::{request, response};
use crate::kinds::Subresource;
use crate::registry::{FieldValidation, PatchType, ScaleChange, Target};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

pub async fn handle(req: Request) -> ApiResult<Response> {
    let explicit_manager = req.query.get("fieldManager").is_some_and(|m| !m.is_empty());
    let mut opts = req.write_options_as("PatchOptions")?;
    let kind = req.path.kind;
    let ct = request::content_type(&req.headers);
    let pt = PatchType::from_content_type(&ct).ok_or_else(|| {
        let mut e = ApiError::unsupported_media_type(&ct);
        e.message = "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json".to_string();
        e
    })?;
    // ValidatePatchOptions: apply needs a fieldManager; only apply takes `force`.
    let has_force = req.query.get("force").is_some();
    if pt == PatchType::Apply && !explicit_manager {
        return Err(patch_options_invalid(FieldError::required_msg(
            "fieldManager",
            "is required for apply patch",
        )));
    }
    if pt != PatchType::Apply && has_force {
        return Err(patch_options_invalid(FieldError::forbidden(
            "force",
            "may not be specified for non-apply patch",
        )));
    }
    opts.force = req.query.bool("force")?;
    let body = request::read_body(req.body).await?;
    if pt == PatchType::Apply {
        return apply(&req.registry, &req.path, req.rep, req.include, &body, opts).await;
    }
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

/// `PatchOptions.meta.k8s.io "" is invalid: ...` (422), as ValidatePatchOptions answers.
fn patch_options_invalid(cause: FieldError) -> ApiError {
    let mut e = ApiError::invalid("PatchOptions", "meta.k8s.io", "", vec![cause]);
    e.name = None;
    e
}

/// Server-side apply: the body is YAML (JSON is YAML too); 201 when it created the object.
async fn apply(
    registry: &crate::registry::Registry,
    path: &request::ResourcePath,
    rep: response::Representation,
    include: crate::table::IncludeObject,
    body: &[u8],
    opts: crate::registry::WriteOptions,
) -> ApiResult<Response> {
    let kind = path.kind;
    if path.subresource == Some(Subresource::Scale) {
        return Err(ApiError::bad_request(
            "server-side apply is not supported on the scale subresource",
        ));
    }
    let config: Value = serde_yaml::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    if !config.is_object() {
        return Err(ApiError::bad_request(
            "error decoding YAML: the applied configuration must be an object",
        ));
    }
    let t = Target {
        kind,
        namespace: path.namespace.as_deref(),
    };
    let name = path.name.as_deref().unwrap_or("");
    let now = registry.clock.now();
    let result = registry
        .apply(t, name, path.subresource, config, &opts)
        .await
        .map(|(stored, created)| {
            let code = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            response::object(kind, code, stored, rep, include, now)
        });
    super::with_warnings(result, &opts.warnings)
}
