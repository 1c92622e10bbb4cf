//! GET of one object, its status, or its scale.

use super::Request;
use crate::error::ApiResult;
use crate::http::response;
use crate::kinds::Subresource;
use axum::http::StatusCode;
use axum::response::Response;

pub fn handle(req: Request) -> ApiResult<Response> {
    let t = req.target();
    let now = req.registry.clock.now();
    if req.path.subresource == Some(Subresource::Scale) {
        let scale = req.registry.get_scale(t, req.name())?;
        return Ok(response::json_response(StatusCode::OK, scale.bytes));
    }
    let stored = req.registry.get(t, req.name())?;
    Ok(response::object(
        t.kind,
        StatusCode::OK,
        stored,
        req.rep,
        req.include,
        now,
    ))
}
