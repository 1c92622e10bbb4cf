//! The event handlers every owning controller registers (client-go's `ResourceEventHandler`s
//! of the ReplicaSet, Deployment, StatefulSet, DaemonSet, Job and CronJob controllers): an
//! owner's own events queue it; an owned object's events (pods, ReplicaSets, Jobs,
//! ControllerRevisions) queue its controller — or, for an orphan, every owner whose selector
//! matches it, so one of them can adopt it — and record what that owner's expectations are
//! waiting for.

use super::cached_pod::CachedPod;
use super::expectations::{Expectations, Seen};
use super::informer::{Change, Informer};
use super::pods::controller_ref;
use super::queue::Queue;
use super::{key, key_of, selector};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;

/// Queue an owner on each of its events; forget its expectations when it is deleted; queue
/// every owner after a relist.
pub fn enqueue_owners<K>(
    owners: &mut Informer<K>,
    queue: &Arc<Queue>,
    expectations: Option<&Arc<Expectations>>,
) where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let q = queue.clone();
    let store = owners.store.clone();
    let exp = expectations.cloned();
    owners.on_change(move |ch| match ch {
        Change::Applied { new, .. } => q.add(key_of(new)),
        Change::Deleted(o) => {
            if let Some(exp) = &exp {
                exp.delete(&key_of(o));
            }
            q.add(key_of(o))
        }
        Change::Resynced => store.state().iter().for_each(|o| q.add(key_of(o.as_ref()))),
        Change::Relisting | Change::Listed(_) => {}
    });
}

/// Who owns the objects of one owned kind.
pub struct Owned<K: Resource<DynamicType = ()> + Clone + 'static> {
    /// The owner kind (`ReplicaSet`, …) a controller reference must name.
    pub kind: &'static str,
    /// The owners, to find the ones selecting an orphan.
    pub owners: Store<K>,
    /// An owner's selector, when orphans it selects are adoption candidates; `None` when the
    /// controller never adopts this owned kind (a CronJob's Jobs, ControllerRevisions).
    pub selector_of: Option<fn(&K) -> Option<&LabelSelector>>,
    /// The owner's expectations, observed as the owned objects appear and go.
    pub expectations: Option<Arc<Expectations>>,
    pub queue: Arc<Queue>,
    /// Queue every owner after the owned kind's relist (the pod informer's resync).
    pub resync_all: bool,
}

impl<K> Owned<K>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    /// Register on the owned kind's informer.
    pub fn watch<O>(self, owned: &mut Informer<O>)
    where
        O: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    {
        owned.on_change(move |ch| self.on_change(ch));
    }

    /// The owner keys an owned object's event concerns, and whether the first one is its
    /// controller (whose expectations the event may satisfy).
    fn owners_of(
        &self,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    ) -> (Vec<String>, bool) {
        let ns = meta.namespace.clone().unwrap_or_default();
        if let Some(r) = controller_ref(meta) {
            return if r.kind == self.kind {
                (vec![key(&ns, &r.name)], true)
            } else {
                (Vec::new(), false)
            };
        }
        let Some(selector_of) = self.selector_of else {
            return (Vec::new(), false);
        };
        let empty = Default::default();
        let labels = meta.labels.as_ref().unwrap_or(&empty);
        let keys = self
            .owners
            .state()
            .iter()
            .filter(|o| o.meta().namespace.as_deref() == Some(ns.as_str()))
            .filter(|o| selector_of(o).is_some_and(|s| selector(s).matches(labels)))
            .map(|o| key_of(o.as_ref()))
            .collect();
        (keys, false)
    }

    fn observe(&self, key: &str, name: &str, seen: Seen) {
        if let Some(exp) = &self.expectations {
            exp.observe(key, name, seen);
        }
    }

    fn on_change<O: Resource>(&self, ch: Change<'_, O>) {
        match ch {
            Change::Applied { old, new } => {
                let meta = new.meta();
                let (keys, controlled) = self.owners_of(meta);
                if controlled {
                    let seen = if meta.deletion_timestamp.is_some() {
                        Seen::Deleting
                    } else {
                        Seen::Present
                    };
                    self.observe(&keys[0], &new.name_any(), seen);
                }
                let mut keys: HashSet<String> = keys.into_iter().collect();
                if let Some(old) = old {
                    let was = old.meta();
                    if was.labels != meta.labels || was.owner_references != meta.owner_references {
                        keys.extend(self.owners_of(was).0);
                    }
                }
                keys.into_iter().for_each(|k| self.queue.add(k));
            }
            Change::Deleted(gone) => {
                let (keys, controlled) = self.owners_of(gone.meta());
                if controlled {
                    self.observe(&keys[0], &gone.name_any(), Seen::Absent);
                }
                keys.into_iter().for_each(|k| self.queue.add(k));
            }
            Change::Resynced if self.resync_all => self
                .owners
                .state()
                .iter()
                .for_each(|o| self.queue.add(key_of(o.as_ref()))),
            Change::Resynced | Change::Relisting | Change::Listed(_) => {}
        }
    }
}

/// How the informer's store sees a pod now (what expectations are checked against).
pub fn seen<P: Resource<DynamicType = ()> + Clone>(
    store: &Store<P>,
    namespace: &str,
    name: &str,
) -> Seen {
    match store.get(&ObjectRef::new(name).within(namespace)) {
        None => Seen::Absent,
        Some(p) if p.meta().deletion_timestamp.is_some() => Seen::Deleting,
        Some(_) => Seen::Present,
    }
}

/// The handlers of a controller of pods (ReplicaSet, StatefulSet, DaemonSet, Job): its own
/// kind's events and its pods' events, with expectations.
pub fn watch_pod_owner<K>(
    kind: &'static str,
    owners: &mut Informer<K>,
    pods: &mut Informer<CachedPod>,
    selector_of: fn(&K) -> Option<&LabelSelector>,
    queue: &Arc<Queue>,
    expectations: &Arc<Expectations>,
) where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    enqueue_owners(owners, queue, Some(expectations));
    Owned {
        kind,
        owners: owners.store.clone(),
        selector_of: Some(selector_of),
        expectations: Some(expectations.clone()),
        queue: queue.clone(),
        resync_all: true,
    }
    .watch(pods);
}
