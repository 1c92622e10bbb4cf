//! The container runtime seam (the kubelet's view of CRI): pull images, run pod sandboxes,
//! create, start, stop and inspect containers. The pod lifecycle drives a runtime without knowing
//! what it is: `simulated` (no processes; behaviour from the image catalog) is the one nodes use
//! by default with `--fast`, `process` runs shell images and nginx as real processes in per-pod
//! Linux namespaces (other images as placeholder processes), `fake` records calls and is scripted
//! by tests.

pub mod fake;
#[cfg(target_os = "linux")]
pub mod process;
pub mod simulated;

use crate::images::{ImageInfo, ImageRef};
use futures::future::BoxFuture;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite};

pub use fake::FakeRuntime;
#[cfg(target_os = "linux")]
pub use process::ProcessRuntime;
pub use simulated::SimulatedRuntime;

/// One of a container's `volumeMounts`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mount {
    pub volume: String,
    /// `mountPath`, inside the container.
    pub path: String,
    pub read_only: bool,
    /// `subPath`: what of the volume is mounted, relative to its root.
    pub sub_path: Option<String>,
}

impl Mount {
    pub fn new(volume: &str, path: &str, read_only: bool) -> Mount {
        Mount {
            volume: volume.into(),
            path: path.into(),
            read_only,
            sub_path: None,
        }
    }
}

/// One file of a configMap, secret, downwardAPI or projected volume, relative to the volume.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VolumeFile {
    pub path: String,
    pub data: Vec<u8>,
    /// Permission bits (`defaultMode` or the item's `mode`).
    pub mode: u32,
}

/// Where a pod volume's files come from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum VolumeSource {
    /// A directory of the pod's own, removed with the pod.
    EmptyDir,
    /// `hostPath`: on a simulated node, a per-node directory under the data dir standing for
    /// this path (never the real host path).
    HostPath(String),
    /// A PersistentVolumeClaim's bound volume (the provisioner's directory).
    Claim(String),
    /// configMap, secret, downwardAPI, projected: the files the kubelet made from the API
    /// (`apidata::projection`), mounted read-only.
    Files(Vec<VolumeFile>),
    /// A kind the runtime does not fill (csi, nfs, ephemeral, …): an empty directory.
    Unsupported,
}

/// One entry of `spec.volumes`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PodVolume {
    pub name: String,
    pub source: VolumeSource,
}

/// What the runtime needs to make a pod's sandbox (CRI `PodSandboxConfig`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SandboxConfig {
    pub uid: String,
    pub name: String,
    pub namespace: String,
    pub hostname: String,
    /// The pod's IP (from the node's podCIDR).
    pub ip: String,
    pub volumes: Vec<PodVolume>,
    /// The pod's `/etc/hosts` as the kubelet writes it (`apidata::hosts`).
    pub hosts: String,
}

impl SandboxConfig {
    /// The sandbox of `pod` with address `ip` and the given volumes (API-data ones filled).
    pub fn of(
        pod: &crate::lifecycle::PodSpecView,
        ip: &str,
        volumes: Vec<PodVolume>,
    ) -> SandboxConfig {
        SandboxConfig {
            uid: pod.uid.clone(),
            name: pod.name.clone(),
            namespace: pod.namespace.clone(),
            hostname: pod.hostname().to_string(),
            ip: ip.to_string(),
            volumes,
            hosts: crate::apidata::hosts::hosts_file(pod, ip),
        }
    }
}

/// What the runtime needs to create a container.
#[derive(Clone, Debug)]
pub struct ContainerConfig {
    pub pod_uid: String,
    pub pod_name: String,
    pub namespace: String,
    pub name: String,
    pub image: Arc<ImageInfo>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// The pod's restartPolicy (`Always`, `OnFailure`, `Never`); `Always` for sidecars.
    pub restart_policy: String,
    /// How many times this container ran before (`attempt` in CRI).
    pub attempt: i32,
    pub mounts: Vec<Mount>,
    pub env: Vec<(String, String)>,
    pub working_dir: Option<String>,
    pub io: StdioSpec,
}

/// How a container's main process is connected (`stdin`, `stdinOnce`, `tty` of its spec).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StdioSpec {
    /// Keep a pipe to the process's stdin open for `pods/attach`.
    pub stdin: bool,
    /// Close that stdin when the first attach session that wrote it ends.
    pub stdin_once: bool,
    /// Run under a pseudo-terminal (stdout and stderr merged).
    pub tty: bool,
}

impl ContainerConfig {
    /// Container `c` of `pod`, with its environment, command and args as resolved
    /// (`apidata::env`).
    pub fn new(
        pod: &crate::lifecycle::PodSpecView,
        c: &crate::lifecycle::ContainerSpec,
        resolved: crate::apidata::env::Resolved,
        image: Arc<ImageInfo>,
        restart_policy: &str,
        attempt: i32,
    ) -> ContainerConfig {
        ContainerConfig {
            pod_uid: pod.uid.clone(),
            pod_name: pod.name.clone(),
            namespace: pod.namespace.clone(),
            name: c.name.clone(),
            image,
            command: resolved.command,
            args: resolved.args,
            restart_policy: restart_policy.into(),
            attempt,
            mounts: c.volume_mounts.clone(),
            env: resolved.env,
            working_dir: c.working_dir.clone(),
            io: c.io,
        }
    }

    /// Where this container's run `id` keeps its log.
    pub fn log_key(&self, id: &str) -> crate::logs::LogKey {
        crate::logs::LogKey {
            namespace: self.namespace.clone(),
            pod: self.pod_name.clone(),
            pod_uid: self.pod_uid.clone(),
            container: self.name.clone(),
            container_id: id.to_string(),
        }
    }
}

/// A pull the runtime has begun: how long it takes and how it ends. The image is the node's
/// one copy of it, shared by every container of it (a node may run 10,000 of one image).
#[derive(Clone, Debug)]
pub struct PullPlan {
    pub duration: Duration,
    pub outcome: Result<Arc<ImageInfo>, PullError>,
}

/// Why a pull failed (the CRI error text the kubelet shows).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PullError {
    /// The registry has no such tag: `rpc error: code = NotFound desc = …`.
    #[error("{0}")]
    NotFound(String),
}

/// Why a container operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    #[error("container {0} not found")]
    NotFound(String),
    #[error("container {id} is {state}, cannot {op}")]
    WrongState {
        id: String,
        state: &'static str,
        op: &'static str,
    },
    #[error("{0}")]
    Failed(String),
}

/// A container as the runtime reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerStatus {
    Created,
    Running {
        started_at: SystemTime,
    },
    Exited {
        started_at: SystemTime,
        finished_at: SystemTime,
        exit_code: i32,
        /// `Completed` (0), `Error` (non-zero), `OOMKilled`, ...
        reason: &'static str,
    },
}

/// A command to run in a running container (CRI `Exec`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecRequest {
    pub command: Vec<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// Run under a pseudo-terminal; stderr then goes to stdout.
    pub tty: bool,
}

/// A process started by `ContainerRuntime::exec`; the streams asked for are `Some`.
pub struct ExecProcess {
    /// Dropping it closes the process's stdin.
    pub stdin: Option<Pin<Box<dyn AsyncWrite + Send>>>,
    pub stdout: Option<Pin<Box<dyn AsyncRead + Send>>>,
    pub stderr: Option<Pin<Box<dyn AsyncRead + Send>>>,
    /// Sets the TTY's size (columns, rows).
    pub resize: Option<Box<dyn Fn(u16, u16) + Send + Sync>>,
    /// The exit code when the process ends.
    pub exit: BoxFuture<'static, Result<i32, String>>,
}

/// A TCP connection into a pod's network namespace (port-forward).
pub struct PortStream {
    pub read: Pin<Box<dyn AsyncRead + Send>>,
    pub write: Pin<Box<dyn AsyncWrite + Send>>,
}

/// What a runtime cannot do, as its error.
fn unsupported<T>(message: &'static str) -> BoxFuture<'static, Result<T, RuntimeError>> {
    Box::pin(async move { Err(RuntimeError::Failed(message.to_string())) })
}

/// The kubelet's container runtime.
pub trait ContainerRuntime: Send + Sync {
    /// `containerd://2.1.0`-like name and version, for the node's `containerRuntimeVersion`.
    fn version(&self) -> String;
    /// Whether an image is on this node.
    fn image_present(&self, image: &ImageRef) -> bool;
    /// Begin pulling an image; the pull is done after `PullPlan::duration`.
    fn pull_image(&self, image: &ImageRef) -> PullPlan;
    /// A finished successful pull: the image is now on the node.
    fn image_pulled(&self, image: &Arc<ImageInfo>);
    /// Resolve an image that is already present (the node's copy of it).
    fn present_image(&self, image: &ImageRef) -> Option<Arc<ImageInfo>>;
    /// Create the pod's sandbox (network namespace, pause container); returns its id.
    fn run_pod_sandbox(&self, pod: &SandboxConfig) -> Result<String, RuntimeError>;
    fn stop_pod_sandbox(&self, sandbox_id: &str);
    /// Create a container; returns its id (64 hex digits).
    fn create_container(&self, config: &ContainerConfig) -> Result<String, RuntimeError>;
    /// Re-attach to a container that kept running while the kubelet was down (kube-lite was
    /// restarted): it runs under `id` since `started_at`.
    fn adopt_container(&self, config: &ContainerConfig, id: &str, started_at: SystemTime);
    /// Start a created container at `now`.
    fn start_container(&self, id: &str, now: SystemTime) -> Result<(), RuntimeError>;
    /// Send SIGTERM at `now`; SIGKILL after `grace`. Returns when the container will have exited.
    fn stop_container(
        &self,
        id: &str,
        grace: Duration,
        now: SystemTime,
    ) -> Result<SystemTime, RuntimeError>;
    /// The container's state as of `now`.
    fn container_status(&self, id: &str, now: SystemTime) -> Result<ContainerStatus, RuntimeError>;
    /// When the container's state will next change by itself (a simulated exit), if known.
    /// Runtimes with real processes return `None` and notify through `changes`.
    fn next_change(&self, id: &str) -> Option<SystemTime>;
    /// Notified whenever a container of pod `pod_uid` changes by itself (a real process
    /// exited), so the pod's worker steps its machine then instead of polling. `None` for
    /// runtimes whose changes `next_change` predicts.
    fn changes(&self, pod_uid: &str) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        let _ = pod_uid;
        None
    }
    /// The sandbox of a pod's container, for `exec`/`port_forward` callers that know the pod.
    fn sandbox_of(&self, pod_uid: &str) -> Option<String> {
        let _ = pod_uid;
        None
    }
    fn remove_container(&self, id: &str);
    /// Whether the runtime keeps API-data volumes as files that `update_volumes` refreshes.
    fn writes_volume_files(&self) -> bool {
        false
    }
    /// Bring sandbox `sandbox_id`'s API-data volumes (`VolumeSource::Files`) up to date:
    /// a volume whose files changed is rewritten in one atomic swap.
    fn update_volumes(&self, sandbox_id: &str, volumes: &[PodVolume]) {
        let _ = (sandbox_id, volumes);
    }
    /// Whether `kubectl exec` can run commands in this runtime's containers.
    fn supports_exec(&self) -> bool;
    /// Run a command in running container `id`, inside its pod's sandbox.
    fn exec(
        &self,
        id: &str,
        req: ExecRequest,
    ) -> BoxFuture<'static, Result<ExecProcess, RuntimeError>> {
        let _ = (id, req);
        unsupported("the container runtime of this node cannot run commands in containers")
    }
    /// Attach to running container `id`'s main process (`pods/attach`; `req.command` is not
    /// used): its output from now on, its stdin when the container keeps one open, a TTY when
    /// the container has one (`req.tty` is not used). The process's `exit` resolves with 0
    /// when the attach ends: the container's output ended, or the stdin given was shut down.
    fn attach(
        &self,
        id: &str,
        req: ExecRequest,
    ) -> BoxFuture<'static, Result<ExecProcess, RuntimeError>> {
        let _ = (id, req);
        unsupported("the container runtime of this node cannot attach to containers")
    }
    /// Connect to `port` on the loopback of the pod whose sandbox is `sandbox_id`.
    fn port_forward(
        &self,
        sandbox_id: &str,
        port: u16,
    ) -> BoxFuture<'static, Result<PortStream, RuntimeError>> {
        let _ = (sandbox_id, port);
        unsupported("the container runtime of this node cannot forward ports")
    }
}

/// The delays of the simulated node (a cluster with a local registry mirror: pull ≈ 1 s,
/// sandbox + create + start ≈ 1 s); all zero with `--fast`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub sandbox: Duration,
    pub create: Duration,
    pub start: Duration,
    /// How long a process takes to exit after SIGTERM.
    pub stop: Duration,
    pub pull_base: Duration,
    /// Pull speed on top of `pull_base`.
    pub pull_bytes_per_sec: u64,
    /// Time between a failed pull (`ErrImagePull`) and the next sync that reports the back-off.
    pub resync: Duration,
    /// How often a running pod's configMap, secret, downwardAPI and projected volumes are
    /// brought up to date with their objects (the kubelet's periodic pod sync).
    pub volume_sync: Duration,
}

impl Timing {
    pub const REALISTIC: Timing = Timing {
        sandbox: Duration::from_millis(500),
        create: Duration::from_millis(200),
        start: Duration::from_millis(300),
        stop: Duration::from_millis(200),
        pull_base: Duration::from_millis(250),
        pull_bytes_per_sec: 100_000_000,
        resync: Duration::from_secs(2),
        // The kubelet's syncFrequency.
        volume_sync: Duration::from_secs(60),
    };
    pub const FAST: Timing = Timing {
        sandbox: Duration::ZERO,
        create: Duration::ZERO,
        start: Duration::ZERO,
        stop: Duration::ZERO,
        pull_base: Duration::ZERO,
        pull_bytes_per_sec: 0,
        resync: Duration::from_millis(200),
        volume_sync: Duration::from_secs(1),
    };

    pub fn pull_time(&self, size_bytes: u64) -> Duration {
        if self.pull_bytes_per_sec == 0 {
            return self.pull_base;
        }
        self.pull_base + Duration::from_secs_f64(size_bytes as f64 / self.pull_bytes_per_sec as f64)
    }
}
