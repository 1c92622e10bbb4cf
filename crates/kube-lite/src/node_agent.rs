//! The API server's `NodeAgent` for the simulated nodes of `kube-lite up`: `pods/log` reads the
//! container log files the nodes' runtimes write (all nodes share this host's data dir), picking
//! the container run as the kubelet does; `pods/exec`, `pods/attach` and `pods/portforward`
//! find the pod's node runtime and its container (or sandbox) and ask the runtime.

use apiserver::error::ApiError;
use apiserver::node_agent::{
    upgrade_refused, ExecOptions, ExecSession, LogOptions, LogStream, NodeAgent, PortConnection,
};
use futures::future::BoxFuture;
use futures::StreamExt;
use kubelet_sim::logs::{container_for_logs, LogKey, LogStore, ReadOptions, Stream};
use kubelet_sim::runtime::{ContainerRuntime, ExecProcess, ExecRequest, RuntimeError};
use kubelet_sim::NodeRuntimes;
use serde_json::Value;
use std::sync::Arc;

pub struct SimulatedKubelets {
    logs: Arc<LogStore>,
    runtimes: Arc<NodeRuntimes>,
}

impl SimulatedKubelets {
    pub fn new(logs: Arc<LogStore>, runtimes: Arc<NodeRuntimes>) -> SimulatedKubelets {
        SimulatedKubelets { logs, runtimes }
    }

    fn runtime(&self, pod: &Value) -> Result<Arc<dyn ContainerRuntime>, ApiError> {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
        self.runtimes
            .get(node)
            .ok_or_else(|| ApiError::bad_request(format!("node {node:?} is not running")))
    }
}

/// The id of `container`'s running process in `pod`, from its status (as the kubelet finds it).
fn running_container(pod: &Value, container: &str) -> Result<String, ApiError> {
    let name = pod["metadata"]["name"].as_str().unwrap_or("");
    let status = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|l| pod["status"][l].as_array())
        .flatten()
        .find(|s| s["name"] == container);
    let running = status.filter(|s| s["state"].get("running").is_some());
    match running.and_then(|s| s["containerID"].as_str()) {
        Some(id) => Ok(id.trim_start_matches("containerd://").to_string()),
        None => Err(ApiError::bad_request(format!(
            "unable to upgrade connection: container not found (\"{container}\" in pod \"{name}\")"
        ))),
    }
}

/// Whether `container` of `pod` has `tty: true` in its spec.
fn container_tty(pod: &Value, container: &str) -> bool {
    ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .filter_map(|l| pod["spec"][l].as_array())
        .flatten()
        .find(|c| c["name"] == container)
        .is_some_and(|c| c["tty"] == true)
}

/// How a streaming session is begun on a runtime: `exec` or `attach`.
type Begin = fn(
    &dyn ContainerRuntime,
    &str,
    ExecRequest,
) -> BoxFuture<'static, Result<ExecProcess, RuntimeError>>;

impl SimulatedKubelets {
    /// Find the pod's running container and begin a session on it with `begin`.
    fn session(
        &self,
        pod: &Value,
        opts: ExecOptions,
        begin: Begin,
    ) -> BoxFuture<'static, Result<ExecSession, ApiError>> {
        let target = self
            .runtime(pod)
            .and_then(|rt| Ok((rt, running_container(pod, &opts.container)?)));
        Box::pin(async move {
            let (rt, id) = target?;
            let req = ExecRequest {
                command: opts.command,
                stdin: opts.stdin,
                stdout: opts.stdout,
                stderr: opts.stderr,
                tty: opts.tty,
            };
            let p = begin(rt.as_ref(), &id, req)
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?;
            Ok(ExecSession {
                stdin: p.stdin,
                stdout: p.stdout,
                stderr: p.stderr,
                resize: p.resize,
                exit: p.exit,
            })
        })
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

    fn exec(
        &self,
        pod: &Value,
        opts: ExecOptions,
    ) -> BoxFuture<'static, Result<ExecSession, ApiError>> {
        self.session(pod, opts, |rt, id, req| rt.exec(id, req))
    }

    fn attach(
        &self,
        pod: &Value,
        opts: ExecOptions,
    ) -> BoxFuture<'static, Result<ExecSession, ApiError>> {
        // The kubelet attaches with the container's own TTY setting; the runtime then
        // refuses stderr besides a TTY.
        if container_tty(pod, &opts.container) && opts.stderr {
            return Box::pin(async { Err(upgrade_refused("tty and stderr cannot both be true")) });
        }
        self.session(pod, opts, |rt, id, req| rt.attach(id, req))
    }

    fn port_forward(
        &self,
        pod: &Value,
        port: u16,
    ) -> BoxFuture<'static, Result<PortConnection, ApiError>> {
        let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let rt = self.runtime(pod);
        Box::pin(async move {
            let rt = rt?;
            let sandbox = rt.sandbox_of(&uid).ok_or_else(|| {
                ApiError::bad_request("this node cannot forward ports to the pod".to_string())
            })?;
            let s = rt
                .port_forward(&sandbox, port)
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?;
            Ok(PortConnection {
                read: s.read,
                write: s.write,
            })
        })
    }
}
