//! GET/POST `pods/{name}/exec`: `PodExecOptions` from the query and the pod checked as
//! kube-apiserver's `ExecLocation` does (`pods/attach` shares all but the command) (the pod exists, the container resolves, the pod is on a
//! node), the WebSocket handshake and subprotocol checked, all answered as a `Status` before
//! anything is switched. Then `101`, and the session runs on the upgraded socket
//! (`http::remotecommand`); what the kubelet would refuse (a container not running, a node
//! agent's error) is reported there, on the error channel, as kube-apiserver v1.35's stream
//! translator reports it.

use super::log::container;
use super::Request;
use crate::error::{ApiError, ApiResult};
use crate::http::channel::Protocol;
use crate::http::remotecommand::{self, Command};
use crate::http::websocket;
use crate::node_agent::{upgrade_refused, ExecOptions, NodeAgent};
use axum::http::Method;
use axum::response::Response;
use futures::future::BoxFuture;
use serde_json::Value;

pub async fn handle(req: Request, method: Method) -> ApiResult<Response> {
    let opts = options(&req)?;
    serve(req, method, opts, |agent, pod, opts| agent.exec(pod, opts)).await
}

/// How a streaming subresource asks the node agent to start its session.
pub type Start = fn(
    &dyn NodeAgent,
    &Value,
    ExecOptions,
) -> BoxFuture<'static, Result<crate::node_agent::ExecSession, ApiError>>;

/// The part `pods/exec` and `pods/attach` share: resolve the pod and container, check the
/// node and the handshake (all refused with a `Status` before the upgrade), switch
/// protocols and serve the session `start` begins on the upgraded socket.
pub async fn serve(
    mut req: Request,
    method: Method,
    mut opts: ExecOptions,
    start: Start,
) -> ApiResult<Response> {
    let name = req.name().to_string();
    let pod = req.registry.get(req.target(), &name)?.value();
    opts.container = container(&pod, &name, req.query.get("container").unwrap_or(""))?;
    if pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty() {
        return Err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    let handshake = websocket::check(&method, &req.headers, req.upgrade.take())?;
    let (protocol, header) =
        Protocol::negotiate(&handshake.offered).map_err(ApiError::forbidden_request)?;
    let session: BoxFuture<'static, _> = match not_running(&pod, &opts.container) {
        Some(e) => Box::pin(async move { Err(e) }),
        None => match req.registry.node_agent() {
            Some(agent) => start(agent.as_ref(), &pod, opts.clone()),
            None => {
                let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
                Box::pin(async move {
                    Err(ApiError::service_unavailable(format!(
                        "no kubelet answers for node {node:?}: this server runs no nodes"
                    )))
                })
            }
        },
    };
    let command = Command {
        protocol,
        argv: opts.command,
        stdout: opts.stdout,
        stderr: opts.stderr,
    };
    let (resp, socket) = handshake.accept(header);
    tokio::spawn(async move {
        if let Some(socket) = socket.await {
            remotecommand::serve(socket, command, session).await;
        }
    });
    Ok(resp)
}

/// The query's streams (`stdin`, `stdout`, `stderr`, `tty`), checked as the kubelet checks
/// them: at least one stream. With a TTY, stderr is merged into stdout and not asked for on
/// its own (the kubelet drops it silently).
pub fn streams(req: &Request) -> ApiResult<ExecOptions> {
    let q = &req.query;
    let tty = q.bool("tty")?;
    let stdin = q.bool("stdin")?;
    let stdout = q.bool("stdout")?;
    let stderr = q.bool("stderr")? && !tty;
    if !stdin && !stdout && !stderr {
        return Err(ApiError::bad_request(
            "you must specify at least 1 of stdin, stdout, stderr",
        ));
    }
    Ok(ExecOptions {
        container: String::new(),
        command: Vec::new(),
        stdin,
        stdout,
        stderr,
        tty,
    })
}

/// The query's `PodExecOptions`: the streams and a command.
fn options(req: &Request) -> ApiResult<ExecOptions> {
    let mut opts = streams(req)?;
    opts.command = req
        .query
        .0
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    if opts.command.is_empty() {
        return Err(ApiError::bad_request(
            "you must specify at least one command for the container",
        ));
    }
    Ok(opts)
}

/// The kubelet's refusal when `container` is not running (it looks among running containers
/// only), from the pod's stored status.
fn not_running(pod: &Value, container: &str) -> Option<ApiError> {
    let running = [
        "containerStatuses",
        "initContainerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .flat_map(|f| pod["status"][f].as_array().into_iter().flatten())
    .any(|s| s["name"] == container && s["state"]["running"].is_object());
    (!running).then(|| upgrade_refused(&format!("container not found ({container:?})")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_running_container_can_be_exec_ed_into() {
        let pod = json!({"status": {
            "containerStatuses": [
                {"name": "app", "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}},
                {"name": "done", "state": {"terminated": {"exitCode": 0}}},
                {"name": "new", "state": {"waiting": {"reason": "ContainerCreating"}}}],
            "initContainerStatuses": [{"name": "init", "state": {"terminated": {"exitCode": 0}}}]}});
        assert_eq!(not_running(&pod, "app"), None);
        for c in ["done", "new", "init", "nope"] {
            assert_eq!(
                not_running(&pod, c).map(|e| e.message),
                Some(format!(
                    "Internal error occurred: unable to upgrade connection: container not found (\"{c}\")"
                ))
            );
        }
        assert!(not_running(&json!({}), "app").is_some());
    }
}
