//! Routes pod events from the shared pod watch to the kubelet of the node each pod is bound to;
//! pods of a node whose kubelet has not registered yet wait here until it does.

use super::KubeletMsg;
use crate::informer::PodEvent;
use k8s_openapi::api::core::v1::Pod;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

#[derive(Default)]
struct Inner {
    kubelets: HashMap<String, mpsc::UnboundedSender<KubeletMsg>>,
    /// Pods bound to nodes without a kubelet: node → uid → pod.
    waiting: HashMap<String, HashMap<String, Arc<Pod>>>,
    /// Which node each routed pod is on (for deletions).
    node_of: HashMap<String, String>,
}

/// The router, shared by the node manager (which registers kubelets) and the pod feed.
#[derive(Clone, Default)]
pub struct Router {
    inner: Arc<Mutex<Inner>>,
}

impl Router {
    pub fn new() -> Router {
        Router::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A node's kubelet starts: it gets the pods already bound to it.
    pub fn register(&self, node: &str, tx: mpsc::UnboundedSender<KubeletMsg>) {
        self.with(|i| {
            for (_, pod) in i.waiting.remove(node).unwrap_or_default() {
                let _ = tx.send(KubeletMsg::Applied(pod));
            }
            i.kubelets.insert(node.to_string(), tx);
        });
    }

    /// A node is gone: its kubelet stops (its pod workers end with it).
    pub fn unregister(&self, node: &str) {
        self.with(|i| {
            i.kubelets.remove(node);
            i.waiting.remove(node);
        });
    }

    pub fn handle(&self, ev: PodEvent) {
        self.with(|i| match ev {
            PodEvent::Restarted => {
                for k in i.kubelets.values() {
                    let _ = k.send(KubeletMsg::Restarted);
                }
            }
            PodEvent::Synced => {
                for k in i.kubelets.values() {
                    let _ = k.send(KubeletMsg::Synced);
                }
            }
            PodEvent::Applied(pod) => {
                let Some(node) = pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .filter(|n| !n.is_empty())
                else {
                    return;
                };
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                i.node_of.insert(uid.clone(), node.clone());
                match i.kubelets.get(&node) {
                    Some(k) => {
                        let _ = k.send(KubeletMsg::Applied(pod));
                    }
                    None => {
                        i.waiting.entry(node).or_default().insert(uid, pod);
                    }
                }
            }
            PodEvent::Deleted(pod) => {
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                let Some(node) = i.node_of.remove(&uid) else {
                    return;
                };
                if let Some(w) = i.waiting.get_mut(&node) {
                    w.remove(&uid);
                }
                if let Some(k) = i.kubelets.get(&node) {
                    let _ = k.send(KubeletMsg::Deleted(uid));
                }
            }
        })
    }

    /// Feed the router from the pod informer until it ends.
    pub async fn run(self, mut rx: mpsc::UnboundedReceiver<PodEvent>) {
        while let Some(ev) = rx.recv().await {
            self.handle(ev);
        }
    }
}
