//! Shared informers: one kube-runtime watcher and reflector store per kind, whose events are
//! handed (after the store has applied them, with the previous version of the object) to
//! every controller interested in that kind, like client-go's shared informer factory. A
//! consumer keeping its own compact cache can run one without a store (`without_store`).

use futures::StreamExt;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

/// What a handler sees.
pub enum Change<'a, K> {
    /// Added or modified; `old` is the version the store held before, if any.
    Applied { old: Option<Arc<K>>, new: &'a K },
    /// Deleted (the last state seen).
    Deleted(&'a K),
    /// A (re)list is starting: what it lists (`Listed`, up to `Resynced`) is the whole state.
    /// It may start again before finishing (a failed list is retried from scratch).
    Relisting,
    /// One object of the (re)list in progress. A store, if any, shows it only at `Resynced`;
    /// this is for consumers keeping their own cache.
    Listed(&'a K),
    /// A (re)list finished: the store now holds the full current state.
    Resynced,
}

pub type Handler<K> = Box<dyn Fn(Change<'_, K>) + Send + Sync>;

/// A store being filled by a watcher plus the handlers its events are dispatched to.
pub struct Informer<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    /// Empty (and never ready) for an informer built `without_store`.
    pub store: Store<K>,
    writer: Option<reflector::store::Writer<K>>,
    handlers: Vec<Handler<K>>,
    api: Api<K>,
    dyntype: K::DynamicType,
    /// Applied to every object before the store and the handlers see it.
    transform: Option<fn(&mut K)>,
}

impl<K> Informer<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone + Send + Sync,
{
    pub fn new(api: Api<K>) -> Self
    where
        K::DynamicType: Default,
    {
        Self::new_with(api, Default::default())
    }

    /// For dynamic kinds (`DynamicObject` with its `ApiResource`).
    pub fn new_with(api: Api<K>, dyntype: K::DynamicType) -> Self {
        let writer = reflector::store::Writer::new(dyntype.clone());
        let store = writer.as_reader();
        Informer {
            store,
            writer: Some(writer),
            handlers: Vec::new(),
            api,
            dyntype,
            transform: None,
        }
    }

    /// Keep only what `f` leaves of each object (e.g. only the metadata, for a controller that
    /// reads nothing else), as client-go's informer transforms do.
    pub fn with_transform(mut self, f: fn(&mut K)) -> Self {
        self.transform = Some(f);
        self
    }

    /// Keep no reflector store: handlers get `Applied` with no `old`, `Deleted`, and each
    /// relist as `Relisting`, `Listed`…, `Resynced`, for a consumer caching only what it reads.
    pub fn without_store(mut self) -> Self {
        self.writer = None;
        self
    }

    pub fn on_change(&mut self, h: impl Fn(Change<'_, K>) + Send + Sync + 'static) {
        self.handlers.push(Box::new(h));
    }

    /// Watch until the future is dropped (the watcher retries with backoff on errors).
    pub async fn run(self) {
        let Informer {
            store,
            mut writer,
            handlers,
            api,
            dyntype,
            transform,
        } = self;
        // Like kube-controller-manager's informers (client-go's TransformStripManagedFields):
        // no controller reads managedFields, and they are most of a cached object's size.
        let mut stream = watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .modify(move |o| {
                o.meta_mut().managed_fields = None;
                if let Some(f) = transform {
                    f(o)
                }
            })
            .boxed();
        while let Some(ev) = stream.next().await {
            let ev = match ev {
                Ok(ev) => ev,
                Err(e) => {
                    tracing::debug!(error = %e, "watch failed; retrying");
                    continue;
                }
            };
            let old = match (&ev, &writer) {
                (Event::Apply(o), Some(_)) => {
                    store.get(&ObjectRef::from_obj_with(o, dyntype.clone()))
                }
                _ => None,
            };
            if let Some(writer) = &mut writer {
                writer.apply_watcher_event(&ev);
            }
            for h in &handlers {
                match &ev {
                    Event::Apply(o) => h(Change::Applied {
                        old: old.clone(),
                        new: o,
                    }),
                    Event::Delete(o) => h(Change::Deleted(o)),
                    // A relist is buffered by the writer and swapped in at `InitDone`: only then
                    // does the store hold it, so handlers hear of it once, as a resync.
                    Event::Init => h(Change::Relisting),
                    Event::InitApply(o) => h(Change::Listed(o)),
                    Event::InitDone => h(Change::Resynced),
                }
            }
        }
    }
}
