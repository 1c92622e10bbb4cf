//! The node manager: registers the default nodes (or re-adopts them after a restart), watches
//! nodes so one created through the API is simulated too (it gets a podCIDR, an address, its
//! status and becomes Ready), runs each node's kubelet and heartbeats (Lease renewed every
//! 10 s, status every 5 min), and when a node is deleted stops its kubelet and deletes the pods
//! bound to it.

use super::host::Host;
use crate::events::{ObjectRef, Recorder, Source};
use crate::images::Catalog;
use crate::kubelet::{self, router::Router, NodeContext};
use crate::logs::LogStore;
use crate::network::{index_of_cidr, node_ip, pod_cidr, IpPool};
use crate::runtime::{ContainerRuntime, SimulatedRuntime, Timing};
use crate::time::SimClock;
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::Api;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;

const LEASE_RENEW: Duration = Duration::from_secs(10);
const STATUS_REPORT: Duration = Duration::from_secs(300);

/// A running simulated node.
struct Agent {
    index: u32,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Agent {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Everything the nodes share.
pub struct NodeManager {
    pub client: kube::Client,
    pub clock: SimClock,
    pub host: Host,
    pub catalog: Arc<Catalog>,
    pub timing: Timing,
    pub router: Router,
    pub recorder: Recorder,
    pub writes: Arc<Semaphore>,
    pub workers: usize,
    pub logs: Arc<LogStore>,
    pub runtime: RuntimeChoice,
    agents: Mutex<HashMap<String, Agent>>,
}

/// Which runtime the nodes get, and where each node's is published.
pub struct RuntimeChoice {
    pub kind: crate::RuntimeKind,
    pub data_dir: std::path::PathBuf,
    /// Why the process runtime asked for could not be used (a Warning event on each node).
    pub fallback: Option<String>,
    pub runtimes: Arc<crate::NodeRuntimes>,
}

fn node_index(node: &Node) -> Option<u32> {
    node.spec
        .as_ref()
        .and_then(|s| s.pod_cidr.as_deref())
        .and_then(index_of_cidr)
}

fn internal_ip(node: &Node) -> Option<String> {
    node.status
        .as_ref()?
        .addresses
        .as_ref()?
        .iter()
        .find(|a| a.type_ == "InternalIP")
        .map(|a| a.address.clone())
}

impl NodeManager {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client: kube::Client,
        clock: SimClock,
        host: Host,
        catalog: Arc<Catalog>,
        timing: Timing,
        router: Router,
        recorder: Recorder,
        writes: Arc<Semaphore>,
        workers: usize,
        logs: Arc<LogStore>,
        runtime: RuntimeChoice,
    ) -> NodeManager {
        NodeManager {
            client,
            clock,
            host,
            catalog,
            timing,
            router,
            recorder,
            writes,
            workers,
            logs,
            runtime,
            agents: Mutex::new(HashMap::new()),
        }
    }

    /// A node's runtime, published for the API server's `exec`/`port-forward`.
    fn runtime_for(&self, node: &str) -> Arc<dyn ContainerRuntime> {
        let rt: Arc<dyn ContainerRuntime> = match self.runtime.kind {
            #[cfg(target_os = "linux")]
            crate::RuntimeKind::Process => Arc::new(crate::runtime::ProcessRuntime::new(
                node,
                &self.runtime.data_dir,
                self.catalog.clone(),
                self.timing,
                self.logs.clone(),
            )),
            _ => Arc::new(
                SimulatedRuntime::new(self.catalog.clone(), self.timing)
                    .with_logs(self.logs.clone()),
            ),
        };
        self.runtime.runtimes.insert(node, rt.clone());
        rt
    }

    fn runtime_version() -> String {
        crate::runtime::simulated::RUNTIME_VERSION.to_string()
    }

    /// Register the default nodes that are missing, then simulate every node until dropped.
    pub async fn run(self: Arc<Self>) -> anyhow::Result<()> {
        let nodes: Api<Node> = Api::all(self.client.clone());
        let existing = nodes.list(&ListParams::default()).await?;
        let have: HashSet<String> = existing
            .items
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        let runtime_version = Self::runtime_version();
        for (i, name) in super::default_nodes(self.workers).into_iter().enumerate() {
            if have.contains(&name) {
                continue;
            }
            let i = i as u32;
            let obj = super::node_object(
                &name,
                &node_ip(i).to_string(),
                &pod_cidr(i),
                &self.host,
                &runtime_version,
                self.clock.now(),
            );
            let node: Node = serde_json::from_value(obj)?;
            match nodes.create(&PostParams::default(), &node).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut stream = watcher(nodes, watcher::Config::default().any_semantic()).boxed();
        let mut seen: Option<HashSet<String>> = None;
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(watcher::Event::Init) => seen = Some(HashSet::new()),
                Ok(watcher::Event::InitApply(n)) | Ok(watcher::Event::Apply(n)) => {
                    let name = n.metadata.name.clone().unwrap_or_default();
                    if let Some(s) = seen.as_mut() {
                        s.insert(name.clone());
                    }
                    let known = self
                        .agents
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .contains_key(&name);
                    if !known {
                        if let Err(e) = self.clone().start(n).await {
                            tracing::warn!("node {name}: {e}");
                        }
                    }
                }
                Ok(watcher::Event::Delete(n)) => {
                    self.gone(&n.metadata.name.unwrap_or_default()).await
                }
                Ok(watcher::Event::InitDone) => {
                    if let Some(s) = seen.take() {
                        let stale: Vec<String> = self
                            .agents
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .keys()
                            .filter(|k| !s.contains(*k))
                            .cloned()
                            .collect();
                        for name in stale {
                            self.gone(&name).await;
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!("node watch: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        Ok(())
    }

    /// The smallest node number no simulated node uses.
    fn free_index(&self) -> u32 {
        let used: HashSet<u32> = self
            .agents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|a| a.index)
            .collect();
        (0..).find(|i| !used.contains(i)).unwrap_or(0)
    }

    /// Simulate a node: complete its registration, start its kubelet and heartbeats.
    async fn start(self: Arc<Self>, node: Node) -> anyhow::Result<()> {
        let name = node.metadata.name.clone().unwrap_or_default();
        let defaults = super::default_nodes(self.workers);
        let index = node_index(&node)
            .or_else(|| defaults.iter().position(|d| *d == name).map(|i| i as u32))
            .unwrap_or_else(|| self.free_index());
        let ip = internal_ip(&node).unwrap_or_else(|| node_ip(index).to_string());
        let cidr = node
            .spec
            .as_ref()
            .and_then(|s| s.pod_cidr.clone())
            .unwrap_or_else(|| pod_cidr(index));
        let api: Api<Node> = Api::all(self.client.clone());
        let runtime = self.runtime_for(&name);
        // Registration: the labels and podCIDR a node created through the API lacks.
        let control_plane = node
            .metadata
            .labels
            .as_ref()
            .is_some_and(|l| l.contains_key(super::CONTROL_PLANE_LABEL));
        let mut labels = super::labels(&name, control_plane, &self.host);
        for (k, _) in node.metadata.labels.iter().flatten() {
            labels.remove(k);
        }
        let needs_cidr = node
            .spec
            .as_ref()
            .and_then(|s| s.pod_cidr.as_ref())
            .is_none();
        if !labels.is_empty() || needs_cidr {
            let mut patch = json!({"metadata": {"labels": labels}});
            if needs_cidr {
                patch["spec"] = json!({"podCIDR": cidr, "podCIDRs": [cidr]});
            }
            api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        let prev = node
            .status
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok())
            .unwrap_or(Value::Null);
        let fresh = prev
            .get("conditions")
            .and_then(Value::as_array)
            .is_none_or(|c| {
                !c.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
        let status = super::status(
            &name,
            &ip,
            &self.host,
            &runtime.version(),
            self.clock.now(),
            &prev,
            self.runtime.fallback.as_deref(),
        );
        api.patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(&json!({"status": status})),
        )
        .await?;
        let uid = node.metadata.uid.clone().unwrap_or_default();
        self.node_events(&name, fresh);
        let (tx, rx) = mpsc::unbounded_channel();
        let ctx = Arc::new(NodeContext {
            node_name: name.clone(),
            host_ip: ip.clone(),
            facts: crate::apidata::NodeFacts {
                host_ip: ip.clone(),
                cpu_milli: self.host.cpus as i128 * 1000,
                memory: self.host.memory_ki as i128 * 1024,
                ephemeral_storage: self.host.ephemeral_storage_ki as i128 * 1024,
            },
            runtime,
            logs: self.logs.clone(),
            ips: Mutex::new(
                IpPool::new(&cidr).unwrap_or_else(|| IpPool::new(&pod_cidr(index)).expect("a /24")),
            ),
            timing: self.timing,
            clock: self.clock.clone(),
            client: self.client.clone(),
            recorder: self.recorder.clone(),
            source: Source {
                component: "kubelet".into(),
                host: Some(name.as_str().into()),
            },
            writes: self.writes.clone(),
            specs: Default::default(),
        });
        let kubelet = tokio::spawn(kubelet::run(ctx, rx));
        let heartbeat = tokio::spawn(self.clone().heartbeat(name.clone(), uid, ip));
        self.agents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                name.clone(),
                Agent {
                    index,
                    tasks: vec![kubelet, heartbeat],
                },
            );
        self.router.register(&name, tx);
        Ok(())
    }

    /// The events `kubectl describe node` shows after a kubelet starts.
    fn node_events(&self, name: &str, fresh: bool) {
        let obj = ObjectRef::new("Node", "v1", "", name, name);
        let src = Source {
            component: "kubelet".into(),
            host: Some(name.into()),
        };
        let status = |s: &str| format!("Node {name} status is now: {s}");
        let mut events = vec![
            ("Starting", "Starting kubelet.".to_string()),
            ("NodeHasSufficientMemory", status("NodeHasSufficientMemory")),
            ("NodeHasNoDiskPressure", status("NodeHasNoDiskPressure")),
            ("NodeHasSufficientPID", status("NodeHasSufficientPID")),
            (
                "NodeAllocatableEnforced",
                "Updated Node Allocatable limit across pods".to_string(),
            ),
        ];
        if fresh {
            events.push(("NodeReady", status("NodeReady")));
        }
        if let Some(why) = &self.runtime.fallback {
            self.recorder.record(
                obj.clone(),
                &src,
                true,
                "ProcessRuntimeUnavailable",
                super::sandboxes_unavailable_message(why),
            );
        }
        for (reason, message) in events {
            self.recorder
                .record(obj.clone(), &src, false, reason, message);
        }
    }

    /// Renew the Lease every 10 s and report the status every 5 minutes.
    async fn heartbeat(self: Arc<Self>, name: String, uid: String, ip: String) {
        let leases: Api<Lease> = Api::namespaced(self.client.clone(), "kube-node-lease");
        let nodes: Api<Node> = Api::all(self.client.clone());
        let version = Self::runtime_version();
        let mut last_status = self.clock.now();
        loop {
            let now = self.clock.now();
            let renew = json!({"spec": {"holderIdentity": name, "renewTime": apimachinery::clock::rfc3339_micro(now)}});
            match leases
                .patch(&name, &PatchParams::default(), &Patch::Merge(&renew))
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {
                    if let Ok(l) = serde_json::from_value::<Lease>(super::lease(&name, &uid, now)) {
                        let _ = leases.create(&PostParams::default(), &l).await;
                    }
                }
                Err(e) => tracing::debug!("lease {name}: {e}"),
            }
            if now.duration_since(last_status).unwrap_or_default() >= STATUS_REPORT {
                last_status = now;
                if let Ok(n) = nodes.get(&name).await {
                    let prev = n
                        .status
                        .as_ref()
                        .and_then(|s| serde_json::to_value(s).ok())
                        .unwrap_or(Value::Null);
                    let status = super::status(
                        &name,
                        &ip,
                        &self.host,
                        &version,
                        now,
                        &prev,
                        self.runtime.fallback.as_deref(),
                    );
                    let _ = nodes
                        .patch_status(
                            &name,
                            &PatchParams::default(),
                            &Patch::Merge(&json!({"status": status})),
                        )
                        .await;
                }
            }
            self.clock.sleep(LEASE_RENEW).await;
        }
    }

    /// A node was deleted: stop simulating it, delete its pods (as the pod garbage collector
    /// does for pods bound to a node that no longer exists) and its Lease.
    async fn gone(&self, name: &str) {
        let agent = self
            .agents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
        if agent.is_none() {
            return;
        }
        drop(agent);
        self.runtime.runtimes.remove(name);
        self.router.unregister(name);
        let pods: Api<Pod> = Api::all(self.client.clone());
        let lp = ListParams::default().fields(&format!("spec.nodeName={name}"));
        if let Ok(list) = pods.list(&lp).await {
            for p in list.items {
                let ns = p.metadata.namespace.clone().unwrap_or_default();
                let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
                let _ = api
                    .delete(
                        &p.metadata.name.unwrap_or_default(),
                        &DeleteParams::default().grace_period(0),
                    )
                    .await;
            }
        }
        let leases: Api<Lease> = Api::namespaced(self.client.clone(), "kube-node-lease");
        let _ = leases.delete(name, &DeleteParams::default()).await;
    }
}
