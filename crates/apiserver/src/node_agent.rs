//! The seam from the API server to the node agents (kubelets) that run pods: the subresources
//! a kubelet serves (`pods/log`, `pods/exec`, `pods/attach`, `pods/portforward`) are answered by a `NodeAgent` set on the registry by
//! whoever runs the nodes (`kube-lite up` wires in its simulated nodes). The API server checks
//! the request against the pod object and stays unaware of how nodes keep logs or run
//! processes (`pods/exec`, `pods/attach` and `pods/portforward`).

use crate::error::ApiError;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde_json::Value;
use std::pin::Pin;
use std::time::SystemTime;
use tokio::io::{AsyncRead, AsyncWrite};

/// `PodLogOptions` after validation, with the container resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub container: String,
    pub follow: bool,
    pub previous: bool,
    pub tail_lines: Option<u64>,
    /// From `sinceSeconds` or `sinceTime`.
    pub since: Option<SystemTime>,
    pub timestamps: bool,
    pub limit_bytes: Option<u64>,
    /// `Stdout` or `Stderr` (`stream=`); both when `None`.
    pub stream: Option<String>,
}

/// A log's bytes as they become available; the response ends with the stream.
pub type LogStream = BoxStream<'static, Bytes>;

/// `PodExecOptions` after validation, with the container resolved; `PodAttachOptions` are
/// the same with no command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecOptions {
    pub container: String,
    pub command: Vec<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

/// One direction of a byte stream between the API server and a process in a pod.
pub type ByteReader = Pin<Box<dyn AsyncRead + Send>>;
pub type ByteWriter = Pin<Box<dyn AsyncWrite + Send>>;

/// A process a node agent started in a container for `pods/exec`. The streams asked for in
/// `ExecOptions` are `Some`; with a TTY, stderr is merged into stdout (as the kubelet does).
pub struct ExecSession {
    /// Dropping it (or shutting it down) closes the process's stdin.
    pub stdin: Option<ByteWriter>,
    pub stdout: Option<ByteReader>,
    pub stderr: Option<ByteReader>,
    /// Sets a TTY's size (columns, rows).
    pub resize: Option<Box<dyn Fn(u16, u16) + Send + Sync>>,
    /// Resolves when the process ends: its exit code, or why it could not be waited for.
    pub exit: BoxFuture<'static, Result<i32, String>>,
}

/// A connection to a port inside a pod's network namespace (`pods/portforward`).
pub struct PortConnection {
    pub read: ByteReader,
    pub write: ByteWriter,
}

/// A kubelet's refusal of a streaming request (`container not found ("c")`) as kube-apiserver
/// v1.35 reports it to a WebSocket client: kubectl prints
/// `error: Internal error occurred: unable to upgrade connection: container not found ("c")`.
pub fn upgrade_refused(kubelet_message: &str) -> ApiError {
    ApiError::internal(format!("unable to upgrade connection: {kubelet_message}"))
}

/// A node agent's refusal of what it cannot do, as a `BadRequest`.
fn refuse<T>(message: &'static str) -> BoxFuture<'static, Result<T, ApiError>> {
    Box::pin(async move { Err(ApiError::bad_request(message)) })
}

/// The kubelet side of the API server.
pub trait NodeAgent: Send + Sync {
    /// The log of `opts.container` of `pod` (the stored object, bound to a node), or the
    /// kubelet's error (e.g. `container "c" in pod "p" is waiting to start: ContainerCreating`).
    fn container_logs(&self, pod: &Value, opts: &LogOptions) -> Result<LogStream, ApiError>;

    /// Start `opts.command` in `opts.container` of `pod` (running, bound to a node), or the
    /// kubelet's error as a Status (e.g. a node whose runtime cannot exec). The API server
    /// calls this after switching to the WebSocket and reports an error on the error channel,
    /// as kube-apiserver v1.35 does; [`upgrade_refused`] words a kubelet refusal the same way.
    fn exec(
        &self,
        pod: &Value,
        opts: ExecOptions,
    ) -> BoxFuture<'static, Result<ExecSession, ApiError>> {
        let _ = (pod, opts);
        refuse("this node cannot run commands in containers")
    }

    /// Join the running main process of `opts.container` of `pod` (`pods/attach`): its output
    /// from now on, `stdin` to the process if the container has one (`stdin: true`); a TTY
    /// if the container has one (the spec decides, not `opts.tty`). The session's `exit`
    /// resolves with 0 when the client's stdin ends (a detach) or the container's output does.
    /// Errors are reported as for `exec`.
    fn attach(
        &self,
        pod: &Value,
        opts: ExecOptions,
    ) -> BoxFuture<'static, Result<ExecSession, ApiError>> {
        let _ = (pod, opts);
        refuse("this node cannot attach to containers")
    }

    /// Connect to `port` on `pod`'s loopback (its network namespace). An error's message is
    /// sent to the client as the kubelet words it: `error forwarding port 80 to pod p, uid
    /// <uid>: <message>`.
    fn port_forward(
        &self,
        pod: &Value,
        port: u16,
    ) -> BoxFuture<'static, Result<PortConnection, ApiError>> {
        let _ = (pod, port);
        refuse("this node cannot forward ports")
    }
}
