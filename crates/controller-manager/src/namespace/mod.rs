//! The namespace controller (`pkg/controller/namespace`): when a namespace is Terminating with
//! the `kubernetes` finalizer in `spec.finalizers`, delete everything in it, wait until it is
//! all gone, then `PUT /api/v1/namespaces/<ns>/finalize` without that finalizer so the API
//! server can remove the namespace.

use crate::gc::{api_resource, RESOURCES};
use crate::shared::informer::{Change, Informer};
use crate::shared::queue::{run_workers, Queue};
use crate::Context;
use k8s_openapi::api::core::v1::{Event, Namespace};
use kube::api::{ApiResource, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The finalizer this controller owns.
pub const FINALIZER: &str = "kubernetes";

pub struct NamespaceController {
    ctx: Context,
    informer: Mutex<Option<Informer<Namespace>>>,
    store: Store<Namespace>,
    queue: Arc<Queue>,
}

impl NamespaceController {
    pub fn new(ctx: &Context) -> Arc<Self> {
        let queue = Queue::new(ctx.clock.clone());
        let mut informer = Informer::new(Api::<Namespace>::all(ctx.client.clone()));
        let store = informer.store.clone();
        {
            let q = queue.clone();
            let store = store.clone();
            informer.on_change(move |ch| match ch {
                Change::Applied { new, .. } => q.add(new.name_any()),
                Change::Deleted(_) | Change::Relisting | Change::Listed(_) => {}
                Change::Resynced => store.state().iter().for_each(|n| q.add(n.name_any())),
            });
        }
        Arc::new(NamespaceController {
            ctx: ctx.clone(),
            informer: Mutex::new(Some(informer)),
            store,
            queue,
        })
    }

    pub async fn run(self: Arc<Self>, workers: usize) {
        let Some(informer) = self.informer.lock().expect("ns informer").take() else {
            return;
        };
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(informer.run());
        let _ = self.store.wait_until_ready().await;
        let c = self.clone();
        tasks.spawn(run_workers(
            self.queue.clone(),
            workers,
            "namespace",
            move |k| {
                let c = c.clone();
                async move { c.sync(&k).await }
            },
        ));
        while tasks.join_next().await.is_some() {}
    }

    /// Every namespaced resource whose objects must go before the namespace does.
    fn resources() -> Vec<ApiResource> {
        let mut out: Vec<ApiResource> = (0..RESOURCES.len())
            .map(api_resource)
            .filter(|(_, namespaced)| *namespaced)
            .map(|(ar, _)| ar)
            .collect();
        out.push(ApiResource::erase::<Event>(&()));
        out
    }

    async fn sync(&self, name: &str) -> anyhow::Result<Option<Duration>> {
        let Some(ns) = self.store.get(&ObjectRef::new(name)) else {
            return Ok(None);
        };
        if ns.metadata.deletion_timestamp.is_none() {
            return Ok(None);
        }
        let has_finalizer = ns
            .spec
            .as_ref()
            .and_then(|s| s.finalizers.as_ref())
            .is_some_and(|f| f.iter().any(|x| x == FINALIZER));
        if !has_finalizer {
            return Ok(None);
        }
        let mut remaining = 0usize;
        for ar in Self::resources() {
            let api: Api<DynamicObject> = Api::namespaced_with(self.ctx.client.clone(), name, &ar);
            let list = api.list(&ListParams::default()).await?;
            let live = list
                .items
                .iter()
                .filter(|o| o.metadata.deletion_timestamp.is_none())
                .count();
            if live > 0 {
                api.delete_collection(&DeleteParams::background(), &ListParams::default())
                    .await?;
            }
            remaining += list.items.len();
        }
        if remaining > 0 {
            // Graceful deletions and finalizers take a while; look again soon.
            return Ok(Some(Duration::from_secs(1)));
        }
        let api: Api<Namespace> = Api::all(self.ctx.client.clone());
        let mut fresh = api.get(name).await?;
        if let Some(spec) = fresh.spec.as_mut() {
            if let Some(f) = spec.finalizers.as_mut() {
                f.retain(|x| x != FINALIZER);
            }
        }
        api.replace_subresource("finalize", name, &PostParams::default(), &fresh)
            .await?;
        Ok(None)
    }
}
