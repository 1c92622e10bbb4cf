//! What the lifecycle reads from a Pod: its identity, restart policy and containers (image,
//! pull policy, command, probes' delays, mounts, environment, resources), and what the
//! downward API shows of it (labels, annotations, node, service account), taken from the API
//! object once per update.

use crate::runtime::{PodVolume, VolumeSource};
use crate::scheduler::resources::{parse_list, Resources};
use crate::small_map::SmallMap;
use k8s_openapi::api::core::v1::{Container, EnvFromSource, EnvVar, HostAlias, Pod, Probe, Volume};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

impl RestartPolicy {
    pub fn parse(s: Option<&str>) -> RestartPolicy {
        match s {
            Some("Never") => RestartPolicy::Never,
            Some("OnFailure") => RestartPolicy::OnFailure,
            _ => RestartPolicy::Always,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "Always",
            RestartPolicy::OnFailure => "OnFailure",
            RestartPolicy::Never => "Never",
        }
    }

    /// Whether a container that exited with `code` is started again.
    pub fn restarts(self, code: i32) -> bool {
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => code != 0,
            RestartPolicy::Never => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

/// Which list a container is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerKind {
    Init,
    /// An init container with `restartPolicy: Always`.
    Sidecar,
    Regular,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub pull_policy: PullPolicy,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub kind: ContainerKind,
    /// With a readiness probe: ready this long after start (the first probe succeeds).
    pub readiness_delay: Option<Duration>,
    /// With a startup probe: `started` this long after start.
    pub startup_delay: Option<Duration>,
    pub volume_mounts: Vec<crate::runtime::Mount>,
    /// `env` as written (resolved at container creation by `apidata::env`).
    pub env: Vec<EnvVar>,
    pub env_from: Vec<EnvFromSource>,
    /// `resources.limits` / `resources.requests` in milli-units.
    pub limits: Resources,
    pub requests: Resources,
    pub working_dir: Option<String>,
    /// `stdin`, `stdinOnce` and `tty` of the container.
    pub io: crate::runtime::StdioSpec,
}

impl ContainerSpec {
    pub fn field_path(&self) -> String {
        match self.kind {
            ContainerKind::Regular => format!("spec.containers{{{}}}", self.name),
            _ => format!("spec.initContainers{{{}}}", self.name),
        }
    }

    /// Whether the definition differs in what forces a restart (the image, the command line).
    pub fn changed_from(&self, other: &ContainerSpec) -> bool {
        self.image != other.image || self.command != other.command || self.args != other.args
    }
}

/// The parts of a Pod the lifecycle uses.
#[derive(Clone, Debug, PartialEq)]
pub struct PodSpecView {
    pub uid: String,
    pub name: String,
    pub namespace: String,
    pub restart_policy: RestartPolicy,
    /// Shared with the containers' machines (`ContainerMachine::spec`): a node keeps one copy.
    pub init_containers: Vec<Arc<ContainerSpec>>,
    pub containers: Vec<Arc<ContainerSpec>>,
    pub grace_seconds: i64,
    pub active_deadline_seconds: Option<i64>,
    pub generation: i64,
    /// `spec.hostname` or the pod's name.
    pub hostname: String,
    /// Every volume; configMap, secret, downwardAPI and projected ones as
    /// `VolumeSource::Files` with no files yet (filled at sandbox creation from `api_volumes`).
    pub volumes: Vec<PodVolume>,
    /// The configMap, secret, downwardAPI and projected volumes as written.
    pub api_volumes: Vec<Volume>,
    pub labels: SmallMap,
    pub annotations: SmallMap,
    pub node_name: String,
    pub service_account_name: String,
    pub host_aliases: Vec<HostAlias>,
    pub subdomain: Option<String>,
}

impl PodSpecView {
    /// `name_namespace(uid)` (`format.Pod`).
    pub fn format_pod(&self) -> String {
        format!("{}_{}({})", self.name, self.namespace, self.uid)
    }

    pub fn from_pod(pod: &Pod) -> PodSpecView {
        let spec = pod.spec.clone().unwrap_or_default();
        let conv = |c: &Container, kind: ContainerKind| {
            let delay = |p: &Option<Probe>| {
                p.as_ref().map(|p| {
                    Duration::from_secs(p.initial_delay_seconds.unwrap_or(0).max(0) as u64)
                })
            };
            let image = c.image.clone().unwrap_or_default();
            let pull_policy = match c.image_pull_policy.as_deref() {
                Some("Always") => PullPolicy::Always,
                Some("Never") => PullPolicy::Never,
                Some("IfNotPresent") => PullPolicy::IfNotPresent,
                _ => {
                    let tagless = !image.contains('@') && {
                        let last = image.rsplit('/').next().unwrap_or("");
                        !last.contains(':') || last.ends_with(":latest")
                    };
                    if tagless {
                        PullPolicy::Always
                    } else {
                        PullPolicy::IfNotPresent
                    }
                }
            };
            ContainerSpec {
                name: c.name.clone(),
                image,
                pull_policy,
                command: c.command.clone().unwrap_or_default(),
                args: c.args.clone().unwrap_or_default(),
                kind,
                readiness_delay: delay(&c.readiness_probe),
                startup_delay: delay(&c.startup_probe),
                volume_mounts: c
                    .volume_mounts
                    .iter()
                    .flatten()
                    .map(|m| crate::runtime::Mount {
                        volume: m.name.clone(),
                        path: m.mount_path.clone(),
                        read_only: m.read_only.unwrap_or(false),
                        sub_path: m.sub_path.clone().filter(|s| !s.is_empty()),
                    })
                    .collect(),
                env: c.env.clone().unwrap_or_default(),
                env_from: c.env_from.clone().unwrap_or_default(),
                limits: parse_list(c.resources.as_ref().and_then(|r| r.limits.as_ref())),
                requests: parse_list(c.resources.as_ref().and_then(|r| r.requests.as_ref())),
                working_dir: c.working_dir.clone(),
                io: crate::runtime::StdioSpec {
                    stdin: c.stdin.unwrap_or(false),
                    stdin_once: c.stdin_once.unwrap_or(false),
                    tty: c.tty.unwrap_or(false),
                },
            }
        };
        PodSpecView {
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            restart_policy: RestartPolicy::parse(spec.restart_policy.as_deref()),
            init_containers: spec
                .init_containers
                .iter()
                .flatten()
                .map(|c| {
                    let kind = if c.restart_policy.as_deref() == Some("Always") {
                        ContainerKind::Sidecar
                    } else {
                        ContainerKind::Init
                    };
                    Arc::new(conv(c, kind))
                })
                .collect(),
            containers: spec
                .containers
                .iter()
                .map(|c| Arc::new(conv(c, ContainerKind::Regular)))
                .collect(),
            grace_seconds: spec.termination_grace_period_seconds.unwrap_or(30),
            active_deadline_seconds: spec.active_deadline_seconds,
            generation: pod.metadata.generation.unwrap_or(0),
            hostname: spec
                .hostname
                .clone()
                .or_else(|| pod.metadata.name.clone())
                .unwrap_or_default(),
            volumes: spec
                .volumes
                .iter()
                .flatten()
                .map(|v| PodVolume {
                    name: v.name.clone(),
                    source: if crate::apidata::projection::is_api_data(v) {
                        VolumeSource::Files(Vec::new())
                    } else if v.empty_dir.is_some() {
                        VolumeSource::EmptyDir
                    } else if let Some(h) = &v.host_path {
                        VolumeSource::HostPath(h.path.clone())
                    } else if let Some(c) = &v.persistent_volume_claim {
                        VolumeSource::Claim(c.claim_name.clone())
                    } else {
                        VolumeSource::Unsupported
                    },
                })
                .collect(),
            api_volumes: spec
                .volumes
                .iter()
                .flatten()
                .filter(|v| crate::apidata::projection::is_api_data(v))
                .cloned()
                .collect(),
            labels: pod.metadata.labels.as_ref().into(),
            annotations: pod.metadata.annotations.as_ref().into(),
            node_name: spec.node_name.clone().unwrap_or_default(),
            service_account_name: spec
                .service_account_name
                .clone()
                .unwrap_or_else(|| "default".into()),
            host_aliases: spec.host_aliases.clone().unwrap_or_default(),
            subdomain: spec.subdomain.clone().filter(|s| !s.is_empty()),
        }
    }
}
