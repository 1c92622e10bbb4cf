//! What the lifecycle reads from a Pod: its identity, restart policy and containers (image,
//! pull policy, command, probes' delays, mounts, environment, resources), and what the
//! downward API shows of it (labels, annotations, node, service account), taken from the API
//! object once per update.
//!
//! A node holds a view per pod, so the view is split: `PodSpecView` holds what differs from
//! pod to pod (uid, name, `spec.hostname`, generation) and an `Arc` of the rest, a
//! `SharedSpec`, which pods of one template on the node share (`SpecInterner`). At 10,000
//! replicas that is ~80 bytes inline and the uid and name on the heap a pod, where each pod
//! held 360 bytes inline and ~530 on the heap.

use crate::intern::Interner;
use crate::runtime::{PodVolume, VolumeSource};
use crate::scheduler::resources::{parse_list, Resources};
use crate::small_map::SmallMap;
use k8s_openapi::api::core::v1::{
    Container, EnvFromSource, EnvVar, HostAlias, Pod, PodSpec, Probe, Volume,
};
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

/// Which list a container is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// The parts of a Pod the lifecycle uses: what differs from pod to pod inline, the rest (what
/// the pod's template and node give it) in a `SharedSpec` that pods of one template on a node
/// share (`SpecInterner`). Reads go through `Deref` to the shared part (`spec.namespace`,
/// `spec.containers`); it is never written in place, only replaced by a new view.
#[derive(Clone, Debug, PartialEq)]
pub struct PodSpecView {
    pub uid: String,
    pub name: String,
    pub generation: i64,
    /// `spec.hostname` when set (`hostname()` is the pod's name otherwise): most pods have
    /// none, and a copy of their name would cost each of them its length again.
    spec_hostname: Option<Box<str>>,
    shared: Arc<SharedSpec>,
}

/// What pods of one template on one node have in common: everything the lifecycle reads of a
/// pod but its identity (uid, name, hostname) and generation.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedSpec {
    pub namespace: String,
    pub restart_policy: RestartPolicy,
    /// Shared with the containers' machines (`ContainerMachine::spec`): a node keeps one copy.
    pub init_containers: Vec<Arc<ContainerSpec>>,
    pub containers: Vec<Arc<ContainerSpec>>,
    pub grace_seconds: i64,
    pub active_deadline_seconds: Option<i64>,
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

impl Deref for PodSpecView {
    type Target = SharedSpec;

    fn deref(&self) -> &SharedSpec {
        &self.shared
    }
}

impl SharedSpec {
    /// A hash of every field, for `SpecInterner` to find equal specs by: the fields of the
    /// API's types (which have no `Hash`) as their JSON, written straight into the hasher.
    pub fn content_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        struct Into<'a>(&'a mut std::collections::hash_map::DefaultHasher);
        impl std::io::Write for Into<'_> {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.write(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        fn json(v: &impl serde::Serialize, h: &mut std::collections::hash_map::DefaultHasher) {
            // Writing into a hasher does not fail; a value that does not serialize is hashed
            // by what it wrote so far, which only makes equal specs' hashes equal still.
            let _ = serde_json::to_writer(Into(h), v);
            h.write_u8(0xff);
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.namespace.hash(&mut h);
        self.restart_policy.hash(&mut h);
        for list in [&self.init_containers, &self.containers] {
            list.len().hash(&mut h);
            for c in list {
                c.name.hash(&mut h);
                c.image.hash(&mut h);
                c.pull_policy.hash(&mut h);
                c.command.hash(&mut h);
                c.args.hash(&mut h);
                c.kind.hash(&mut h);
                c.readiness_delay.hash(&mut h);
                c.startup_delay.hash(&mut h);
                c.volume_mounts.hash(&mut h);
                json(&c.env, &mut h);
                json(&c.env_from, &mut h);
                c.limits.hash(&mut h);
                c.requests.hash(&mut h);
                c.working_dir.hash(&mut h);
                c.io.hash(&mut h);
            }
        }
        self.grace_seconds.hash(&mut h);
        self.active_deadline_seconds.hash(&mut h);
        self.volumes.hash(&mut h);
        json(&self.api_volumes, &mut h);
        self.labels.hash(&mut h);
        self.annotations.hash(&mut h);
        self.node_name.hash(&mut h);
        self.service_account_name.hash(&mut h);
        json(&self.host_aliases, &mut h);
        self.subdomain.hash(&mut h);
        h.finish()
    }
}

impl PodSpecView {
    /// `name_namespace(uid)` (`format.Pod`).
    pub fn format_pod(&self) -> String {
        format!("{}_{}({})", self.name, self.namespace, self.uid)
    }

    /// The view of `pod` with a shared part of its own (tests, one-off reads). A node's
    /// workers use `from_pod_in`, which shares it with the node's other pods.
    pub fn from_pod(pod: &Pod) -> PodSpecView {
        let (view, shared) = PodSpecView::parts(pod);
        view(Arc::new(shared))
    }

    /// The view of `pod`, its shared part the one `like` (the pod's current view) holds when
    /// equal, or else the one `specs` gives every pod equal in it.
    pub fn from_pod_in(pod: &Pod, specs: &SpecInterner, like: Option<&PodSpecView>) -> PodSpecView {
        let (view, shared) = PodSpecView::parts(pod);
        match like {
            Some(l) if *l.shared == shared => view(l.shared.clone()),
            _ => view(specs.intern(shared)),
        }
    }

    /// The pod's name unless `spec.hostname` is set.
    pub fn hostname(&self) -> &str {
        self.spec_hostname.as_deref().unwrap_or(&self.name)
    }

    /// The part the view shares with other pods' (`Arc::ptr_eq` tells whether two share it).
    pub fn shared(&self) -> &Arc<SharedSpec> {
        &self.shared
    }

    /// The per-pod part of `pod`'s view, waiting for its shared part, and that part.
    fn parts(pod: &Pod) -> (impl FnOnce(Arc<SharedSpec>) -> PodSpecView, SharedSpec) {
        let default;
        let spec = match &pod.spec {
            Some(s) => s,
            None => {
                default = PodSpec::default();
                &default
            }
        };
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
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let generation = pod.metadata.generation.unwrap_or(0);
        let spec_hostname = spec.hostname.as_deref().map(Box::from);
        let view = move |shared| PodSpecView {
            uid,
            name,
            generation,
            spec_hostname,
            shared,
        };
        let shared = SharedSpec {
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
        };
        (view, shared)
    }
}

/// A node's table of the `SharedSpec`s its pods hold (`crate::intern`), keyed by
/// `SharedSpec::content_hash`. A worker interns its pod's spec when it starts and when the pod
/// changes in a way its current spec does not match (`PodSpecView::from_pod_in` compares with
/// it first), so a status echo costs an equality check, not a hash and this table's lock.
#[derive(Default)]
pub struct SpecInterner(Mutex<Interner<SharedSpec>>);

impl SpecInterner {
    /// The spec equal to `spec` some pod holds, or `spec`, made the one later equal ones get.
    pub fn intern(&self, spec: SharedSpec) -> Arc<SharedSpec> {
        let hash = spec.content_hash();
        self.table().intern_hashed(hash, spec)
    }

    /// How many specs the table knows of, held or not yet forgotten.
    pub fn entries(&self) -> usize {
        self.table().entries()
    }

    /// How many of them some pod holds.
    pub fn live(&self) -> usize {
        self.table().live()
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Interner<SharedSpec>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// A replica of one template: its own uid and name, on `node`.
    fn replica(i: usize, node: &str, template: Value) -> Pod {
        let mut spec = template;
        spec["nodeName"] = json!(node);
        serde_json::from_value(json!({
            "metadata": {
                "name": format!("web-5d8f7c9b6-{i:05}"),
                "namespace": "default",
                "uid": format!("0b1c2d3e-4f50-6172-8394-{i:012}"),
                "generation": 1,
                "labels": {"app": "web", "pod-template-hash": "5d8f7c9b6"},
            },
            "spec": spec,
        }))
        .unwrap()
    }

    fn template() -> Value {
        json!({
            "containers": [{
                "name": "web",
                "image": "nginx:1.27",
                "env": [{"name": "MODE", "value": "fast"}],
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
            }],
            "volumes": [{"name": "conf", "configMap": {"name": "web"}}],
        })
    }

    #[test]
    fn pods_of_one_template_share_one_spec() {
        let specs = SpecInterner::default();
        let a = PodSpecView::from_pod_in(&replica(1, "node-1", template()), &specs, None);
        let b = PodSpecView::from_pod_in(&replica(2, "node-1", template()), &specs, None);
        assert!(Arc::ptr_eq(a.shared(), b.shared()));
        assert!(Arc::ptr_eq(&a.containers[0], &b.containers[0]));
        // What differs stays each pod's own.
        assert_eq!(a.name, "web-5d8f7c9b6-00001");
        assert_eq!(b.name, "web-5d8f7c9b6-00002");
        assert_eq!(b.hostname(), "web-5d8f7c9b6-00002");
        assert_ne!(a.uid, b.uid);
        // Shared or not, a view reads the same as the pod's own one.
        assert_eq!(b, PodSpecView::from_pod(&replica(2, "node-1", template())));
        assert_eq!(specs.live(), 1);
    }

    #[test]
    fn a_pod_that_differs_gets_its_own_spec() {
        let specs = SpecInterner::default();
        let a = PodSpecView::from_pod_in(&replica(1, "node-1", template()), &specs, None);
        let mut env = template();
        env["containers"][0]["env"][0]["value"] = json!("slow");
        let mut hostname = template();
        hostname["hostname"] = json!("web-0");
        let mut labelled = replica(5, "node-1", template());
        labelled
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .insert("tier".into(), "front".into());
        for (what, pod) in [
            ("node", replica(2, "node-2", template())),
            ("env", replica(3, "node-1", env)),
            ("labels", labelled),
        ] {
            let b = PodSpecView::from_pod_in(&pod, &specs, Some(&a));
            assert!(!Arc::ptr_eq(a.shared(), b.shared()), "{what}");
            assert_eq!(b, PodSpecView::from_pod(&pod), "{what}");
        }
        // `spec.hostname` is the pod's own: it does not keep it from sharing.
        let h = PodSpecView::from_pod_in(&replica(4, "node-1", hostname), &specs, None);
        assert_eq!(h.hostname(), "web-0");
        assert!(Arc::ptr_eq(a.shared(), h.shared()));
    }

    #[test]
    fn a_pod_whose_template_did_not_change_keeps_its_spec() {
        let specs = SpecInterner::default();
        let a = PodSpecView::from_pod_in(&replica(1, "node-1", template()), &specs, None);
        // A status echo: the same pod, parsed again, compared with its current view.
        let echo = PodSpecView::from_pod_in(&replica(1, "node-1", template()), &specs, Some(&a));
        assert!(Arc::ptr_eq(a.shared(), echo.shared()));
        assert_eq!(specs.entries(), 1);
    }

    #[test]
    fn the_interner_forgets_specs_no_pod_uses() {
        let specs = SpecInterner::default();
        let kept = PodSpecView::from_pod_in(&replica(0, "node-1", template()), &specs, None);
        for i in 1..1000 {
            let mut t = template();
            t["containers"][0]["image"] = json!(format!("nginx:1.{i}"));
            drop(PodSpecView::from_pod_in(
                &replica(i, "node-1", t),
                &specs,
                None,
            ));
        }
        assert_eq!(specs.live(), 1);
        // Swept as it grows: within a constant factor of the specs in use, not 1,000.
        assert!(specs.entries() <= 65, "{} entries", specs.entries());
        let again = PodSpecView::from_pod_in(&replica(7, "node-1", template()), &specs, None);
        assert!(Arc::ptr_eq(kept.shared(), again.shared()));
    }

    #[test]
    fn a_pod_spec_view_holds_only_what_differs_per_pod() {
        // The uid, name, generation, `spec.hostname` and the shared part's pointer. With every
        // field inline the view was 360 bytes, paid by every pod's worker.
        let size = std::mem::size_of::<PodSpecView>();
        assert!(size <= 80, "a pod's spec view is {size} bytes");
    }
}
