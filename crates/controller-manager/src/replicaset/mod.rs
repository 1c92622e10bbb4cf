//! The ReplicaSet controller (`pkg/controller/replicaset`, §2): keeps `spec.replicas` active
//! pods matching the selector — adopting orphans and releasing pods it no longer selects,
//! creating in slow-start batches and deleting by the deletion ranking, guarded by
//! expectations — and reports the status (replicas, fullyLabeled, ready, available with
//! minReadySeconds, terminating, observedGeneration, the ReplicaFailure condition).

mod status;

use crate::shared::adoption::{self, Owner};
use crate::shared::cached_pod::CachedPod;
use crate::shared::events::{EventType, Recorder};
use crate::shared::expectations::Expectations;
use crate::shared::informer::Informer;
use crate::shared::owned;
use crate::shared::pod_control::{controller_ref, pod_from_template, PodControl};
use crate::shared::pods::{controller_ref as ctrl_of, is_active};
use crate::shared::queue::{run_workers, Queue};
use crate::shared::slow_start::{slow_start_batch, INITIAL_BATCH};
use crate::shared::{error_message, ranking, selector, split_key};
use crate::Context;
use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upstream's `BurstReplicas`: at most this many creates or deletes per sync.
pub const BURST_REPLICAS: usize = 500;

pub struct ReplicaSetController {
    ctx: Context,
    rss: Store<ReplicaSet>,
    pods: Store<CachedPod>,
    queue: Arc<Queue>,
    expectations: Arc<Expectations>,
    recorder: Recorder,
    pod_control: PodControl,
}

/// Why a manage step failed: becomes the ReplicaFailure condition.
pub(crate) struct ManageError {
    reason: &'static str,
    message: String,
}

impl ReplicaSetController {
    pub fn new(
        ctx: &Context,
        rss: &mut Informer<ReplicaSet>,
        pods: &mut Informer<CachedPod>,
    ) -> Arc<Self> {
        let queue = Queue::new(ctx.clock.clone());
        let expectations = Arc::new(Expectations::new(ctx.clock.clone()));
        let c = Arc::new(ReplicaSetController {
            ctx: ctx.clone(),
            rss: rss.store.clone(),
            pods: pods.store.clone(),
            queue: queue.clone(),
            expectations: expectations.clone(),
            recorder: Recorder::new(
                ctx.client.clone(),
                "replicaset-controller",
                ctx.clock.clone(),
            ),
            pod_control: PodControl::new(ctx.client.clone()),
        });
        owned::watch_pod_owner(
            "ReplicaSet",
            rss,
            pods,
            |rs: &ReplicaSet| rs.spec.as_ref().map(|s| &s.selector),
            &queue,
            &expectations,
        );
        c
    }

    pub async fn run(self: Arc<Self>, workers: usize) {
        let c = self.clone();
        run_workers(self.queue.clone(), workers, "replicaset", move |k| {
            let c = c.clone();
            async move { c.sync(&k).await }
        })
        .await
    }

    /// `syncReplicaSet`.
    async fn sync(&self, k: &str) -> anyhow::Result<Option<Duration>> {
        let (ns, name) = split_key(k);
        let Some(rs) = self.rss.get(&ObjectRef::new(name).within(ns)) else {
            self.expectations.delete(k);
            return Ok(None);
        };
        let rs = (*rs).clone();
        let Some(spec) = rs.spec.clone() else {
            return Ok(None);
        };
        let sel = selector(&spec.selector);
        let needs_sync = self
            .expectations
            .satisfied(k, |n| owned::seen(&self.pods, ns, n));
        let candidates: Vec<Arc<CachedPod>> = self
            .pods
            .state()
            .into_iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(ns) && is_active(p))
            .collect();
        let uid = rs.uid().unwrap_or_default();
        let owner = Owner {
            uid: &uid,
            namespace: ns,
            deleting: rs.metadata.deletion_timestamp.is_some(),
            selector: &sel,
        };
        let pods_api: Api<CachedPod> = Api::namespaced(self.ctx.client.clone(), ns);
        let rs_api: Api<ReplicaSet> = Api::namespaced(self.ctx.client.clone(), ns);
        let filtered = adoption::claim(
            &pods_api,
            &owner,
            &controller_ref(&rs),
            candidates,
            || async {
                let fresh = rs_api.get(name).await?;
                Ok(fresh.uid() == rs.uid() && fresh.metadata.deletion_timestamp.is_none())
            },
        )
        .await?;
        let mut manage_err = None;
        if needs_sync && rs.metadata.deletion_timestamp.is_none() {
            manage_err = self.manage_replicas(k, &rs, &filtered).await.err();
        }
        let new_status = status::calculate(
            &rs,
            &filtered,
            &self.owned_terminating(&uid, ns),
            manage_err.as_ref(),
            self.ctx.clock.now(),
        );
        let rs = status::update(&rs_api, &rs, new_status).await?;
        let spec_replicas = spec.replicas.unwrap_or(1);
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let st = rs.status.clone().unwrap_or_default();
        if let Some(e) = manage_err {
            anyhow::bail!("{}: {}", e.reason, e.message);
        }
        if min_ready > 0
            && st.ready_replicas.unwrap_or(0) == spec_replicas
            && st.available_replicas.unwrap_or(0) != spec_replicas
        {
            return Ok(Some(Duration::from_secs(min_ready as u64)));
        }
        Ok(None)
    }

    fn owned_terminating(&self, uid: &str, ns: &str) -> Vec<Arc<CachedPod>> {
        self.pods
            .state()
            .into_iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
            .filter(|p| crate::shared::pods::is_terminating(p))
            .filter(|p| ctrl_of(&p.metadata).is_some_and(|r| r.uid == uid))
            .collect()
    }

    /// `manageReplicas`: create or delete the difference.
    async fn manage_replicas(
        &self,
        k: &str,
        rs: &ReplicaSet,
        pods: &[Arc<CachedPod>],
    ) -> Result<(), ManageError> {
        let ns = rs.namespace().unwrap_or_default();
        let spec = rs.spec.clone().unwrap_or_default();
        let want = spec.replicas.unwrap_or(1).max(0) as usize;
        let have = pods.len();
        if have < want {
            let n = (want - have).min(BURST_REPLICAS);
            self.expectations.expect_creations(k, n as u32);
            let template = spec.template.clone().unwrap_or_default();
            let owner = controller_ref(rs);
            let rs_name = rs.name_any();
            let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
            let (ok, err) = slow_start_batch(n, INITIAL_BATCH, || {
                let pod = pod_from_template(&template, &rs_name, owner.clone());
                let errors = &errors;
                async move {
                    self.pod_control
                        .create_for(rs, k, &pod, &self.expectations, &self.recorder)
                        .await
                        .inspect_err(|msg| errors.lock().expect("errors").push(msg.clone()))
                }
            })
            .await;
            self.expectations.creation_skipped(k, (n - ok) as u32);
            if let Some(msg) = err {
                return Err(ManageError {
                    reason: "FailedCreate",
                    message: msg,
                });
            }
        } else if have > want {
            let n = (have - want).min(BURST_REPLICAS);
            let victims = self.pods_to_delete(rs, pods, n);
            let results = futures::future::join_all(victims.iter().map(|p| {
                let name = p.name_any();
                self.expectations.expect_deletion(k, &name);
                let ns = ns.clone();
                async move {
                    match self.pod_control.delete(&ns, &name).await {
                        Ok(()) => {
                            self.recorder.event(
                                rs,
                                EventType::Normal,
                                "SuccessfulDelete",
                                format!("Deleted pod: {name}"),
                            );
                            Ok(())
                        }
                        Err(e) => {
                            self.expectations.deletion_failed(k, &name);
                            let msg = error_message(&e);
                            self.recorder.event(
                                rs,
                                EventType::Warning,
                                "FailedDelete",
                                format!("Error deleting: {msg}"),
                            );
                            Err(msg)
                        }
                    }
                }
            }))
            .await;
            if let Some(Err(msg)) = results.into_iter().find(Result::is_err) {
                return Err(ManageError {
                    reason: "FailedDelete",
                    message: msg,
                });
            }
        }
        Ok(())
    }

    /// `getPodsToDelete`: rank by co-located pods of the RSes sharing this RS's controller,
    /// then take the first `n` in deletion order.
    fn pods_to_delete(
        &self,
        rs: &ReplicaSet,
        pods: &[Arc<CachedPod>],
        n: usize,
    ) -> Vec<Arc<CachedPod>> {
        let ns = rs.namespace().unwrap_or_default();
        let my_uid = rs.uid().unwrap_or_default();
        let owner_uid = ctrl_of(&rs.metadata).map(|r| r.uid.clone());
        let related: HashSet<String> = self
            .rss
            .state()
            .iter()
            .filter(|r| r.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|r| {
                r.uid().as_deref() == Some(my_uid.as_str())
                    || (owner_uid.is_some()
                        && ctrl_of(&r.metadata).map(|o| o.uid.clone()) == owner_uid)
            })
            .filter_map(|r| r.uid())
            .collect();
        let mut on_node: HashMap<String, i32> = HashMap::new();
        for p in self.pods.state() {
            if p.metadata.namespace.as_deref() == Some(ns.as_str())
                && is_active(&p)
                && ctrl_of(&p.metadata).is_some_and(|r| related.contains(&r.uid))
            {
                *on_node.entry(node_of(&p)).or_default() += 1;
            }
        }
        let mut ranked: Vec<(Arc<CachedPod>, i32)> = pods
            .iter()
            .map(|p| (p.clone(), on_node.get(&node_of(p)).copied().unwrap_or(0)))
            .collect();
        ranking::sort_for_deletion(&mut ranked, self.ctx.clock.now());
        ranked.into_iter().take(n).map(|(p, _)| p).collect()
    }
}

fn node_of(p: &CachedPod) -> String {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .unwrap_or_default()
}
