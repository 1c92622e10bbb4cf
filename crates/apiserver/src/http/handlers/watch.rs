//! WATCH of a collection: a chunked stream of events.

use super::Request;
use crate::error::ApiResult;
use crate::http::response;
use axum::response::Response;

pub fn handle(req: Request) -> ApiResult<Response> {
    let opts = req.query.watch_options()?;
    let rx = req.registry.watch(req.target(), opts)?;
    Ok(response::watch_stream(
        req.path.kind,
        rx,
        req.rep,
        req.include,
        req.registry.clock.clone(),
    ))
}
