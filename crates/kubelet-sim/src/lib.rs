//! kube-lite's simulated nodes: each node registers, heartbeats and runs its pods' lifecycle
//! as a kube-rs client of the API server; beside them the default scheduler, the Service
//! network (EndpointSlices, Endpoints) and the default StorageClass's provisioner.
//!
//! Layout: `node/` (registration, heartbeats, the node manager), `kubelet/` (routing pods to
//! nodes, one worker per pod, the reads of the ConfigMaps and Secrets pods reference),
//! `lifecycle/` (the pod state machine, one state per module, and the PodStatus it reports),
//! `apidata/` (what containers get from the API: env, volume files, `/etc/hosts`), `logs`
//! (container log files, read as `pods/log` serves them), `runtime/` (the container runtime
//! seam: simulated, process and fake), `images/` (references and the catalog), `scheduler/`
//! (filters, scoring, messages), `services/` (EndpointSlices and Endpoints), `volumes/`
//! (StorageClass and provisioner), `informer` (the shared pod watch), `intern` (shared copies
//! of common values), `events` (the event recorder), `network` (node and pod addresses),
//! `backoff`, `time` (the clock seam).

pub mod apidata;
pub mod backoff;
pub mod events;
pub mod images;
pub mod informer;
pub mod intern;
pub mod kubelet;
pub mod lifecycle;
pub mod log_rotation;
pub mod logs;
pub mod network;
pub mod node;
pub mod runtime;
pub mod scheduler;
pub mod services;
pub mod small_map;
pub mod time;
pub mod volumes;
pub use client_tools::writes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use time::SimClock;

/// Options for the simulated cluster.
#[derive(Clone, Debug)]
pub struct Options {
    /// Number of worker nodes besides the control-plane node.
    pub workers: usize,
    /// Remove simulated delays (tests and benchmarks).
    pub fast: bool,
    /// An image catalog to use instead of the embedded `fixtures/images.yaml`.
    pub image_catalog: Option<PathBuf>,
    /// The cluster's data directory (volumes live under `<data_dir>/volumes`, container logs
    /// under `<data_dir>/logs`).
    pub data_dir: PathBuf,
    /// The container log files, shared with whoever serves `pods/log` (made from `data_dir`
    /// when `None`).
    pub logs: Option<Arc<logs::LogStore>>,
    /// When container log files rotate (the kubelet's `containerLogMaxSize` and
    /// `containerLogMaxFiles`), for the log store made from `data_dir`.
    pub log_rotation: log_rotation::Rotation,
    /// The container runtime of the nodes.
    pub runtime: RuntimeKind,
    /// Where each node's runtime is published (for `exec`/`port-forward`).
    pub runtimes: Option<Arc<NodeRuntimes>>,
}

/// The container runtime the nodes use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RuntimeKind {
    /// No processes: behaviour from the image catalog.
    #[default]
    Simulated,
    /// Real sandboxes and processes for shell images and nginx (Linux).
    Process,
}

impl std::str::FromStr for RuntimeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "simulated" => Ok(RuntimeKind::Simulated),
            "process" => Ok(RuntimeKind::Process),
            _ => Err(format!("unknown runtime {s:?} (process or simulated)")),
        }
    }
}

/// Every node's container runtime, by node name.
#[derive(Default)]
pub struct NodeRuntimes(Mutex<HashMap<String, Arc<dyn runtime::ContainerRuntime>>>);

impl std::fmt::Debug for NodeRuntimes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nodes: Vec<String> = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        f.debug_tuple("NodeRuntimes").field(&nodes).finish()
    }
}

impl NodeRuntimes {
    pub fn new() -> Arc<NodeRuntimes> {
        Arc::new(NodeRuntimes::default())
    }

    pub fn get(&self, node: &str) -> Option<Arc<dyn runtime::ContainerRuntime>> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(node)
            .cloned()
    }

    fn insert(&self, node: &str, rt: Arc<dyn runtime::ContainerRuntime>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(node.to_string(), rt);
    }

    fn remove(&self, node: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(node);
    }
}

/// For the process runtime when not root: enter a user namespace of this process's own,
/// where it may make pod sandboxes (see `runtime::process::rootless`). Call before any
/// thread is started. `Ok(true)` when it entered one, `Ok(false)` for root.
pub fn enter_user_namespace() -> std::io::Result<bool> {
    #[cfg(target_os = "linux")]
    {
        runtime::process::rootless::enter()
    }
    #[cfg(not(target_os = "linux"))]
    {
        Ok(false)
    }
}

/// Whether the process runtime can make sandboxes here; `Err` says why not.
pub fn process_runtime_works(data_dir: &std::path::Path) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        match runtime::process::unavailable_reason(data_dir) {
            None => Ok(()),
            Some(why) => Err(why),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = data_dir;
        Err("pod sandboxes need Linux namespaces".into())
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 2,
            fast: false,
            image_catalog: None,
            data_dir: std::env::temp_dir().join("kube-lite"),
            logs: None,
            log_rotation: log_rotation::Rotation::default(),
            runtime: RuntimeKind::Simulated,
            runtimes: None,
        }
    }
}

/// Run the simulated nodes (and the scheduler, Service network and provisioner) until the
/// future is dropped.
pub async fn run(client: kube::Client, opts: Options) -> anyhow::Result<()> {
    run_with_clock(client, opts, SimClock::system()).await
}

/// `run` on a given clock (tests pass a fake one).
pub async fn run_with_clock(
    client: kube::Client,
    opts: Options,
    clock: SimClock,
) -> anyhow::Result<()> {
    let catalog = Arc::new(match &opts.image_catalog {
        Some(p) => images::Catalog::from_file(p)?,
        None => images::Catalog::embedded(),
    });
    let timing = if opts.fast {
        runtime::Timing::FAST
    } else {
        runtime::Timing::REALISTIC
    };
    let host = node::host::Host::detect(&opts.data_dir);
    let logs = opts
        .logs
        .clone()
        .unwrap_or_else(|| logs::LogStore::with_rotation(&opts.data_dir, opts.log_rotation));
    let recorder = events::spawn(client.clone(), &clock);
    // Cluster objects every cluster has (retried until the API answers).
    let mut tries = 0;
    loop {
        let r = async {
            services::bootstrap_kubernetes_service(&client, &network::node_ip(0).to_string())
                .await?;
            volumes::ensure_default_class(&client).await
        }
        .await;
        match r {
            Ok(()) => break,
            Err(e) if tries < 50 => {
                tries += 1;
                tracing::debug!("bootstrap: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
    let (kind, fallback) = match opts.runtime {
        RuntimeKind::Process => {
            let dir = opts.data_dir.clone();
            match tokio::task::spawn_blocking(move || process_runtime_works(&dir)).await? {
                Ok(()) => (RuntimeKind::Process, None),
                Err(why) => {
                    tracing::warn!(
                        "the process runtime cannot run here ({why}); nodes simulate their pods"
                    );
                    (RuntimeKind::Simulated, Some(why))
                }
            }
        }
        k => (k, None),
    };
    let runtime = node::manager::RuntimeChoice {
        kind,
        data_dir: opts.data_dir.clone(),
        fallback,
        runtimes: opts.runtimes.clone().unwrap_or_default(),
    };
    let informer = informer::PodInformer::new();
    let router = kubelet::router::Router::new();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(router.clone().run(informer.subscribe()));
    tasks.spawn(scheduler::run(
        client.clone(),
        clock.clone(),
        recorder.clone(),
        informer.subscribe(),
    ));
    tasks.spawn(services::run(
        client.clone(),
        clock.clone(),
        informer.subscribe(),
    ));
    tasks.spawn(volumes::run(
        client.clone(),
        clock.clone(),
        recorder.clone(),
        opts.data_dir.clone(),
    ));
    tasks.spawn(informer.run(client.clone()));
    let manager = Arc::new(node::NodeManager::new(
        client,
        clock,
        host,
        catalog,
        timing,
        router,
        recorder,
        Arc::new(tokio::sync::Semaphore::new(64)),
        opts.workers,
        logs,
        runtime,
    ));
    manager.run().await
}
