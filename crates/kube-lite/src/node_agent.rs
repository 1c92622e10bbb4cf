//! The API server's `NodeAgent` for the simulated nodes of `kube-lite up`: `pods/log` reads the
//! container log files the nodes' runtimes write (all nodes share this host's data dir), picking
//! the container run as the kubelet does.

use apiserver::error::ApiError;
use apiserver::node_agent::{LogOptions, LogStream, NodeAgent};
use futures::StreamExt;
use kubelet_sim::logs::{container_for_logs, LogKey, LogStore, ReadOptions, Stream};
use serde_json::Value;
use std::sync::Arc;

pub struct SimulatedKubelets {
    logs: Arc<LogStore>,
}

impl SimulatedKubelets {
    pub fn new(logs: Arc<LogStore>) -> SimulatedKubelets {
        SimulatedKubelets { logs }
    }
}

impl NodeAgent for SimulatedKubelets {
    fn container_logs(&self, pod: &Value, opts: &LogOptions) -> Result<LogStream, ApiError> {
        let id = container_for_logs(pod, &opts.container, opts.previous)
            .map_err(ApiError::bad_request)?;
        let meta = &pod["metadata"];
        let field = |k: &str| meta[k].as_str().unwrap_or("").to_string();
        let key = LogKey {
            namespace: field("namespace"),
            pod: field("name"),
            pod_uid: field("uid"),
            container: opts.container.clone(),
            container_id: id,
        };
        let read = ReadOptions {
            follow: opts.follow,
            tail_lines: opts.tail_lines,
            since: opts.since,
            timestamps: opts.timestamps,
            limit_bytes: opts.limit_bytes,
            stream: match opts.stream.as_deref() {
                Some("Stdout") => Some(Stream::Stdout),
                Some("Stderr") => Some(Stream::Stderr),
                _ => None,
            },
        };
        let rx = self.logs.read(&key, read);
        Ok(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (bytes::Bytes::from(chunk), rx))
        })
        .boxed())
    }
}
