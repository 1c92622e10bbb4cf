//! GET/POST `pods/{name}/attach`: `PodAttachOptions` (the streams, no command) checked as
//! kube-apiserver's `AttachLocation` does, then the same WebSocket session as `pods/exec`,
//! joined to the container's main process by the node agent. The session ends when the
//! client's stdin ends (a detach) or the container's output does, with a `Success` status.

use super::exec;
use super::Request;
use crate::error::ApiResult;
use axum::http::Method;
use axum::response::Response;

pub async fn handle(req: Request, method: Method) -> ApiResult<Response> {
    let opts = exec::streams(&req)?;
    exec::serve(req, method, opts, |agent, pod, opts| {
        agent.attach(pod, opts)
    })
    .await
}
