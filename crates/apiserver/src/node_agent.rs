//! The seam from the API server to the node agents (kubelets) that run pods: the subresources
//! a kubelet serves (`pods/log` now) are answered by a `NodeAgent` set on the registry by
//! whoever runs the nodes (`kube-lite up` wires in its simulated nodes). The API server checks
//! the request against the pod object and stays unaware of how nodes keep logs.

use crate::error::ApiError;
use bytes::Bytes;
use futures::stream::BoxStream;
use serde_json::Value;
use std::time::SystemTime;

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

/// The kubelet side of the API server.
pub trait NodeAgent: Send + Sync {
    /// The log of `opts.container` of `pod` (the stored object, bound to a node), or the
    /// kubelet's error (e.g. `container "c" in pod "p" is waiting to start: ContainerCreating`).
    fn container_logs(&self, pod: &Value, opts: &LogOptions) -> Result<LogStream, ApiError>;
}
