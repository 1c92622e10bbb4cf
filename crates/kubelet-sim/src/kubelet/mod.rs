//! The kubelet of each simulated node: the router hands every assigned pod to its node's
//! kubelet; a kubelet runs one pod worker per pod (`pod_worker`), which steps the lifecycle
//! machine and writes the pod's status, events and final deletion through the API; `sources`
//! reads the ConfigMaps and Secrets a pod references.

pub mod mailbox;
pub mod pod_worker;
pub mod router;
pub mod sources;

use crate::events::{Recorder, Source};
use crate::network::IpPool;
use crate::runtime::{ContainerRuntime, Timing};
use crate::time::SimClock;
use k8s_openapi::api::core::v1::Pod;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, Semaphore};

pub use mailbox::PodUpdate;

/// What every pod worker of a node shares.
pub struct NodeContext {
    pub node_name: String,
    pub host_ip: String,
    /// What the downward API reads of the node (address, allocatable).
    pub facts: crate::apidata::NodeFacts,
    pub runtime: Arc<dyn ContainerRuntime>,
    /// Container log files (a deleted pod's are removed).
    pub logs: Arc<crate::logs::LogStore>,
    pub ips: Mutex<IpPool>,
    pub timing: Timing,
    pub clock: SimClock,
    pub client: kube::Client,
    pub recorder: Recorder,
    pub source: Source,
    /// Bounds the API writes in flight across the process.
    pub writes: Arc<Semaphore>,
    /// The parts of pods' specs that pods of one template share.
    pub specs: crate::lifecycle::SpecInterner,
}

/// A message from the router to a node's kubelet.
#[derive(Debug)]
pub enum KubeletMsg {
    Restarted,
    Applied(Arc<Pod>),
    Deleted(String),
    Synced,
}

/// Run a node's kubelet until the router drops its channel (the node is gone).
pub async fn run(ctx: Arc<NodeContext>, mut rx: mpsc::UnboundedReceiver<KubeletMsg>) {
    let mut workers: HashMap<String, mailbox::Sender> = HashMap::new();
    let mut seen: Option<HashSet<String>> = None;
    while let Some(msg) = rx.recv().await {
        match msg {
            KubeletMsg::Restarted => seen = Some(HashSet::new()),
            KubeletMsg::Applied(pod) => {
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                if let Some(s) = seen.as_mut() {
                    s.insert(uid.clone());
                }
                if let Some(w) = workers.get(&uid) {
                    if w.changed(pod) {
                        continue;
                    }
                    workers.remove(&uid);
                    continue;
                }
                let (tx, wrx) = mailbox::mailbox();
                workers.insert(uid, tx);
                tokio::spawn(pod_worker::run(ctx.clone(), pod, wrx));
            }
            KubeletMsg::Deleted(uid) => {
                if let Some(w) = workers.remove(&uid) {
                    w.end();
                }
            }
            KubeletMsg::Synced => {
                if let Some(s) = seen.take() {
                    workers.retain(|uid, w| {
                        let keep = s.contains(uid);
                        if !keep {
                            w.end();
                        }
                        keep
                    });
                }
            }
        }
    }
}
