//! One shared watch of every Pod, fanned out to the parts of the simulation that need pods (the
//! scheduler, the kubelets' router, the EndpointSlice controller), so the API server serves one
//! pod watch instead of one per part (or per node).

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A pod change as subscribers see it.
#[derive(Clone, Debug)]
pub enum PodEvent {
    /// The watch (re)started: `Applied` events for every current pod follow, then `Synced`.
    Restarted,
    Applied(Arc<Pod>),
    Deleted(Arc<Pod>),
    /// The initial list is complete (pods not seen since `Restarted` are gone).
    Synced,
}

/// The subscribers of the pod watch.
#[derive(Clone, Default)]
pub struct PodInformer {
    subscribers: Arc<Mutex<Vec<mpsc::UnboundedSender<PodEvent>>>>,
}

impl PodInformer {
    pub fn new() -> PodInformer {
        PodInformer::default()
    }

    /// A new subscriber; subscribe before `run` so nothing is missed.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<PodEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tx);
        rx
    }

    fn send(&self, ev: PodEvent) {
        let mut subs = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        subs.retain(|s| s.send(ev.clone()).is_ok());
    }

    /// Watch every pod until the stream ends (it restarts itself on errors).
    pub async fn run(self, client: kube::Client) {
        let api: Api<Pod> = Api::all(client);
        // managedFields are dropped on arrival, as the kubelet's and scheduler's informers do
        // (client-go's TransformStripManagedFields): nothing here reads them, and they are
        // most of a pod's size.
        let mut stream = watcher(api, watcher::Config::default().any_semantic())
            .modify(|p| p.metadata.managed_fields = None)
            .boxed();
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(watcher::Event::Init) => self.send(PodEvent::Restarted),
                Ok(watcher::Event::InitApply(p)) | Ok(watcher::Event::Apply(p)) => {
                    self.send(PodEvent::Applied(Arc::new(p)))
                }
                Ok(watcher::Event::Delete(p)) => self.send(PodEvent::Deleted(Arc::new(p))),
                Ok(watcher::Event::InitDone) => self.send(PodEvent::Synced),
                Err(e) => {
                    tracing::debug!("pod watch: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            }
        }
    }
}
