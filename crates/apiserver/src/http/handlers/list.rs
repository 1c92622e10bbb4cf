//! LIST of a collection (in a namespace or across all).

use super::Request;
use crate::error::ApiResult;
use crate::http::response;
use axum::response::Response;

pub fn handle(req: Request) -> ApiResult<Response> {
    let opts = req.query.list_options()?;
    let page = req.registry.list_objects(req.target(), &opts)?;
    Ok(response::list(
        req.path.kind,
        page,
        req.rep,
        req.include,
        req.registry.clock.now(),
    ))
}
