//! The Deployment controller (`pkg/controller/deployment`, §1): owns ReplicaSets named
//! `<deployment>-<pod-template-hash>`, rolls the template out (RollingUpdate or Recreate),
//! scales proportionally, keeps revisions and history, and reports status and the Available
//! and Progressing conditions. A sync does one step and returns; the next event continues.
//!
//! Files follow upstream: `sync` (shared steps, status, scaling, cleanup), `rolling`,
//! `recreate`, `rollback` (the legacy annotation), `progress` (Progressing condition and the
//! deadline), `util` (pure arithmetic).

mod progress;
mod recreate;
mod rollback;
mod rolling;
mod sync;
pub mod util;

use crate::shared::adoption::{self, Owner};
use crate::shared::cached_pod::CachedPod;
use crate::shared::events::{EventType, Recorder};
use crate::shared::informer::{Change, Informer};
use crate::shared::owned::{self, Owned};
use crate::shared::pod_control::controller_ref;
use crate::shared::pods::controller_ref as ctrl_of;
use crate::shared::queue::{run_workers, Queue};
use crate::shared::{key, selector, split_key};
use crate::Context;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::PostParams;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};
use std::sync::Arc;
use std::time::Duration;

pub struct DeploymentController {
    ctx: Context,
    deployments: Store<Deployment>,
    rss: Store<ReplicaSet>,
    pods: Store<CachedPod>,
    queue: Arc<Queue>,
    recorder: Recorder,
}

/// What a sync step decided about requeueing.
pub(crate) type Step = anyhow::Result<Option<Duration>>;

impl DeploymentController {
    pub fn new(
        ctx: &Context,
        deployments: &mut Informer<Deployment>,
        rss: &mut Informer<ReplicaSet>,
        pods: &mut Informer<CachedPod>,
    ) -> Arc<Self> {
        let queue = Queue::new(ctx.clock.clone());
        let c = Arc::new(DeploymentController {
            ctx: ctx.clone(),
            deployments: deployments.store.clone(),
            rss: rss.store.clone(),
            pods: pods.store.clone(),
            queue: queue.clone(),
            recorder: Recorder::new(
                ctx.client.clone(),
                "deployment-controller",
                ctx.clock.clone(),
            ),
        });
        owned::enqueue_owners(deployments, &queue, None);
        Owned {
            kind: "Deployment",
            owners: deployments.store.clone(),
            selector_of: Some(|d: &Deployment| d.spec.as_ref().map(|s| &s.selector)),
            expectations: None,
            queue: queue.clone(),
            resync_all: false,
        }
        .watch(rss);
        {
            // Recreate waits for old pods to go away: a pod deletion may unblock it.
            let weak = Arc::downgrade(&c);
            pods.on_change(move |ch| {
                if let (Some(c), Change::Deleted(pod)) = (weak.upgrade(), ch) {
                    let ns = pod.namespace().unwrap_or_default();
                    let Some(r) = ctrl_of(&pod.metadata).filter(|r| r.kind == "ReplicaSet") else {
                        return;
                    };
                    if let Some(rs) = c.rss.get(&ObjectRef::new(&r.name).within(&ns)) {
                        if let Some(d) = ctrl_of(&rs.metadata).filter(|r| r.kind == "Deployment") {
                            c.queue.add(key(&ns, &d.name));
                        }
                    }
                }
            });
        }
        c
    }

    pub async fn run(self: Arc<Self>, workers: usize) {
        let c = self.clone();
        run_workers(self.queue.clone(), workers, "deployment", move |k| {
            let c = c.clone();
            async move { c.sync_deployment(&k).await }
        })
        .await
    }

    fn rs_api(&self, ns: &str) -> Api<ReplicaSet> {
        Api::namespaced(self.ctx.client.clone(), ns)
    }

    fn api(&self, ns: &str) -> Api<Deployment> {
        Api::namespaced(self.ctx.client.clone(), ns)
    }

    /// `UpdateStatus` (which, as upstream, also carries annotation changes).
    async fn update_status(&self, d: &mut Deployment) -> anyhow::Result<()> {
        let ns = d.namespace().unwrap_or_default();
        *d = self
            .api(&ns)
            .replace_status(&d.name_any(), &PostParams::default(), d)
            .await?;
        Ok(())
    }

    async fn update_rs(&self, rs: &ReplicaSet) -> anyhow::Result<ReplicaSet> {
        let ns = rs.namespace().unwrap_or_default();
        Ok(self
            .rs_api(&ns)
            .replace(&rs.name_any(), &PostParams::default(), rs)
            .await?)
    }

    fn event(&self, d: &Deployment, t: EventType, reason: &str, msg: String) {
        self.recorder.event(d, t, reason, msg);
    }

    /// `getReplicaSetsForDeployment`: the RSes this Deployment owns after adoption/release.
    async fn replica_sets_for(&self, d: &Deployment) -> anyhow::Result<Vec<ReplicaSet>> {
        let ns = d.namespace().unwrap_or_default();
        let spec = d.spec.clone().unwrap_or_default();
        let sel = selector(&spec.selector);
        let uid = d.uid().unwrap_or_default();
        let candidates: Vec<Arc<ReplicaSet>> = self
            .rss
            .state()
            .into_iter()
            .filter(|rs| rs.metadata.namespace.as_deref() == Some(ns.as_str()))
            .collect();
        let owner = Owner {
            uid: &uid,
            namespace: &ns,
            deleting: d.metadata.deletion_timestamp.is_some(),
            selector: &sel,
        };
        let api = self.api(&ns);
        let name = d.name_any();
        let claimed = adoption::claim(
            &self.rs_api(&ns),
            &owner,
            &controller_ref(d),
            candidates,
            || async {
                let fresh = api.get(&name).await?;
                Ok(fresh.uid() == d.uid() && fresh.metadata.deletion_timestamp.is_none())
            },
        )
        .await?;
        Ok(claimed.into_iter().map(|rs| (*rs).clone()).collect())
    }

    /// Pods of this Deployment's RSes, grouped by RS UID (`getPodMapForDeployment`).
    fn pods_by_rs(&self, d: &Deployment, rss: &[ReplicaSet]) -> Vec<(String, Vec<Arc<CachedPod>>)> {
        let ns = d.namespace().unwrap_or_default();
        let sel = selector(&d.spec.clone().unwrap_or_default().selector);
        let pods: Vec<Arc<CachedPod>> = self
            .pods
            .state()
            .into_iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|p| sel.matches(crate::shared::labels_of(&p.metadata)))
            .collect();
        rss.iter()
            .map(|rs| {
                let uid = rs.uid().unwrap_or_default();
                let owned = pods
                    .iter()
                    .filter(|p| ctrl_of(&p.metadata).is_some_and(|r| r.uid == uid))
                    .cloned()
                    .collect();
                (uid, owned)
            })
            .collect()
    }

    /// `syncDeployment`.
    async fn sync_deployment(&self, k: &str) -> Step {
        let (ns, name) = split_key(k);
        let Some(d) = self.deployments.get(&ObjectRef::new(name).within(ns)) else {
            return Ok(None);
        };
        let mut d = (*d).clone();
        let spec = d.spec.clone().unwrap_or_default();
        if spec.selector == LabelSelector::default() {
            self.event(
                &d,
                EventType::Warning,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.".into(),
            );
            let st = d.status.get_or_insert_with(Default::default);
            if st.observed_generation.unwrap_or(0) < d.metadata.generation.unwrap_or(0) {
                st.observed_generation = d.metadata.generation;
                self.update_status(&mut d).await?;
            }
            return Ok(None);
        }
        let rs_list = self.replica_sets_for(&d).await?;
        if d.metadata.deletion_timestamp.is_some() {
            return self.sync_status_only(&mut d, rs_list).await;
        }
        self.check_paused_conditions(&mut d).await?;
        if spec.paused == Some(true) {
            let (new_rs, old_rss) = self.get_all_replica_sets(&mut d, rs_list, false).await?;
            return self.sync(&mut d, new_rs, old_rss).await;
        }
        if rollback::rollback_to(&d).is_some() {
            return self.rollback(&mut d, rs_list).await;
        }
        let (new_rs, old_rss) = self.get_all_replica_sets(&mut d, rs_list, false).await?;
        if sync::is_scaling_event(&d, new_rs.as_ref(), &old_rss) {
            return self.sync(&mut d, new_rs, old_rss).await;
        }
        let rs_list: Vec<ReplicaSet> = old_rss.into_iter().chain(new_rs).collect();
        if util::is_rolling_update(&d) {
            self.rollout_rolling(&mut d, rs_list).await
        } else {
            let pods = self.pods_by_rs(&d, &rs_list);
            self.rollout_recreate(&mut d, rs_list, pods).await
        }
    }
}
