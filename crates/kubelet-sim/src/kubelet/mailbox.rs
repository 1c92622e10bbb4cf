//! A pod worker's mailbox: the latest state of its pod, which replaces an unread one (a worker
//! only ever needs its pod's latest state), or the end (the pod was deleted, or its node went).
//! A node keeps one per pod, so it is small: ~80 bytes, where an unbounded channel costs about
//! a kilobyte with its first block.

use k8s_openapi::api::core::v1::Pod;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// What a worker receives.
#[derive(Debug)]
pub enum PodUpdate {
    /// The pod's latest state.
    Changed(Arc<Pod>),
    /// The pod is gone from the API (or the node is).
    Deleted,
}

#[derive(Default)]
struct Slot {
    latest: Option<Arc<Pod>>,
    ended: bool,
    worker_gone: bool,
}

#[derive(Default)]
struct Shared {
    slot: Mutex<Slot>,
    notify: Notify,
}

impl Shared {
    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The kubelet's end. Dropping it ends the mailbox, as the node going away does.
pub struct Sender(Arc<Shared>);

/// The worker's end.
pub struct Receiver(Arc<Shared>);

pub fn mailbox() -> (Sender, Receiver) {
    let shared = Arc::new(Shared::default());
    (Sender(shared.clone()), Receiver(shared))
}

impl Sender {
    /// Hand the worker its pod's latest state; false once the worker has stopped.
    pub fn changed(&self, pod: Arc<Pod>) -> bool {
        {
            let mut slot = self.0.slot();
            if slot.worker_gone {
                return false;
            }
            slot.latest = Some(pod);
        }
        self.0.notify.notify_one();
        true
    }

    /// The pod is gone: the worker's next `recv` says so (an unread change is dropped).
    pub fn end(&self) {
        {
            let mut slot = self.0.slot();
            slot.ended = true;
            slot.latest = None;
        }
        self.0.notify.notify_one();
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.end();
    }
}

impl Receiver {
    /// The pod's latest unread state, or `Deleted` once the mailbox has ended. Cancel-safe: a
    /// change is taken from the slot only when it is returned.
    pub async fn recv(&mut self) -> PodUpdate {
        loop {
            {
                let mut slot = self.0.slot();
                if slot.ended {
                    return PodUpdate::Deleted;
                }
                if let Some(pod) = slot.latest.take() {
                    return PodUpdate::Changed(pod);
                }
            }
            self.0.notify.notified().await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut slot = self.0.slot();
        slot.worker_gone = true;
        slot.latest = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> Arc<Pod> {
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        Arc::new(p)
    }

    fn name(u: PodUpdate) -> Option<String> {
        match u {
            PodUpdate::Changed(p) => p.metadata.name.clone(),
            PodUpdate::Deleted => None,
        }
    }

    #[tokio::test]
    async fn a_worker_receives_only_the_latest_of_several_unread_changes() {
        let (tx, mut rx) = mailbox();
        assert!(tx.changed(pod("v1")));
        assert!(tx.changed(pod("v2")));
        assert_eq!(name(rx.recv().await), Some("v2".into()));
        // Nothing unread: the next receive waits for the next change.
        let next = tokio::spawn(async move { name(rx.recv().await) });
        tokio::task::yield_now().await;
        assert!(tx.changed(pod("v3")));
        assert_eq!(next.await.unwrap(), Some("v3".into()));
    }

    #[tokio::test]
    async fn the_end_overrides_an_unread_change_and_stays() {
        let (tx, mut rx) = mailbox();
        assert!(tx.changed(pod("v1")));
        tx.end();
        assert!(matches!(rx.recv().await, PodUpdate::Deleted));
        assert!(matches!(rx.recv().await, PodUpdate::Deleted));
    }

    #[tokio::test]
    async fn dropping_the_kubelets_end_ends_the_mailbox() {
        let (tx, mut rx) = mailbox();
        let waiting = tokio::spawn(async move { name(rx.recv().await) });
        tokio::task::yield_now().await;
        drop(tx);
        assert_eq!(waiting.await.unwrap(), None);
    }

    #[test]
    fn a_change_for_a_stopped_worker_is_refused() {
        let (tx, rx) = mailbox();
        drop(rx);
        assert!(!tx.changed(pod("v1")));
    }

    #[tokio::test]
    async fn a_receive_cancelled_while_waiting_loses_no_change() {
        let (tx, mut rx) = mailbox();
        // A worker's select! drops the receive when its timer fires first.
        let cancelled = tokio::time::timeout(std::time::Duration::from_millis(1), rx.recv()).await;
        assert!(cancelled.is_err());
        assert!(tx.changed(pod("v1")));
        assert_eq!(name(rx.recv().await), Some("v1".into()));
    }
}
