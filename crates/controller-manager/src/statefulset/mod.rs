//! The StatefulSet controller (`pkg/controller/statefulset`, §3): pods `<set>-<ordinal>` with
//! a stable identity and their own claims (created before the pod), OrderedReady or Parallel
//! management, RollingUpdate (partition, maxUnavailable) and OnDelete, ControllerRevision
//! history, the claim retention policy, and the status.

pub mod utils;

use crate::shared::adoption::{self, Owner};
use crate::shared::cached_pod::CachedPod;
use crate::shared::events::{EventType, Recorder};
use crate::shared::expectations::Expectations;
use crate::shared::history::{self, History, NewRevision};
use crate::shared::informer::Informer;
use crate::shared::owned::{self, Owned};
use crate::shared::pod_control::{controller_ref, PodControl};
use crate::shared::pods::{controller_ref as ctrl_of, is_available};
use crate::shared::queue::{run_workers, Queue};
use crate::shared::{error_message, is_already_exists, is_not_found, selector, split_key};
use crate::Context;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, PodTemplateSpec};
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use utils::*;

pub struct StatefulSetController {
    ctx: Context,
    sets: Store<StatefulSet>,
    pods: Store<CachedPod>,
    revisions: Store<ControllerRevision>,
    queue: Arc<Queue>,
    expectations: Arc<Expectations>,
    recorder: Recorder,
    pod_control: PodControl,
    history: History,
}

impl StatefulSetController {
    pub fn new(
        ctx: &Context,
        sets: &mut Informer<StatefulSet>,
        pods: &mut Informer<CachedPod>,
        revisions: &mut Informer<ControllerRevision>,
    ) -> Arc<Self> {
        let queue = Queue::new(ctx.clock.clone());
        let c = Arc::new(StatefulSetController {
            ctx: ctx.clone(),
            sets: sets.store.clone(),
            pods: pods.store.clone(),
            revisions: revisions.store.clone(),
            queue: queue.clone(),
            expectations: Arc::new(Expectations::new(ctx.clock.clone())),
            recorder: Recorder::new(
                ctx.client.clone(),
                "statefulset-controller",
                ctx.clock.clone(),
            ),
            pod_control: PodControl::new(ctx.client.clone()),
            history: History::new(ctx.client.clone()),
        });
        owned::watch_pod_owner(
            "StatefulSet",
            sets,
            pods,
            |o: &StatefulSet| o.spec.as_ref().map(|s| &s.selector),
            &queue,
            &c.expectations,
        );
        Owned {
            kind: "StatefulSet",
            owners: sets.store.clone(),
            selector_of: None,
            expectations: None,
            queue,
            resync_all: false,
        }
        .watch(revisions);
        c
    }

    pub async fn run(self: Arc<Self>, workers: usize) {
        let c = self.clone();
        run_workers(self.queue.clone(), workers, "statefulset", move |k| {
            let c = c.clone();
            async move { c.sync(&k).await }
        })
        .await
    }

    /// `syncStatefulSet`.
    async fn sync(&self, k: &str) -> anyhow::Result<Option<Duration>> {
        let (ns, name) = split_key(k);
        let Some(set) = self.sets.get(&ObjectRef::new(name).within(ns)) else {
            self.expectations.delete(k);
            return Ok(None);
        };
        let set = (*set).clone();
        if set.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let Some(spec) = set.spec.clone() else {
            return Ok(None);
        };
        if !self
            .expectations
            .satisfied(k, |n| owned::seen(&self.pods, ns, n))
        {
            // Our own creates/deletes are not in the cache yet; their events requeue us.
            return Ok(None);
        }
        let sel = selector(&spec.selector);
        let uid = set.uid().unwrap_or_default();
        let candidates: Vec<Arc<CachedPod>> = self
            .pods
            .state()
            .into_iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
            .collect();
        let pods_api: Api<CachedPod> = Api::namespaced(self.ctx.client.clone(), ns);
        let set_api: Api<StatefulSet> = Api::namespaced(self.ctx.client.clone(), ns);
        let owner = Owner {
            uid: &uid,
            namespace: ns,
            deleting: false,
            selector: &sel,
        };
        let claimed = adoption::claim(
            &pods_api,
            &owner,
            &controller_ref(&set),
            candidates,
            || async {
                let fresh = set_api.get(name).await?;
                Ok(fresh.uid() == set.uid() && fresh.metadata.deletion_timestamp.is_none())
            },
        )
        .await?;
        let pods: Vec<Arc<CachedPod>> = claimed
            .into_iter()
            .filter(|p| is_member_of::<CachedPod>(name, p))
            .collect();

        // Revisions.
        let revs = history::owned(&self.revisions.state(), ns, &uid);
        let mut collision = set
            .status
            .as_ref()
            .and_then(|s| s.collision_count)
            .unwrap_or(0);
        let data = history::template_patch(&spec.template);
        let hash_data = data.clone();
        let hash = move |probe: Option<i32>| history::hash_data(&hash_data, probe);
        let update_rev = self
            .history
            .update_revision(
                &NewRevision {
                    parent: name,
                    namespace: ns,
                    owner: controller_ref(&set),
                    labels: spec
                        .template
                        .metadata
                        .as_ref()
                        .and_then(|m| m.labels.clone())
                        .unwrap_or_default(),
                    data,
                    hash: &hash,
                },
                &revs,
                &mut collision,
            )
            .await?;
        let update_name = update_rev.name_any();
        let current_name = set
            .status
            .as_ref()
            .and_then(|s| s.current_revision.clone())
            .filter(|c| revs.iter().any(|r| r.name_any() == *c))
            .unwrap_or_else(|| update_name.clone());
        let current_template = revs
            .iter()
            .find(|r| r.name_any() == current_name)
            .and_then(history::template_of)
            .unwrap_or_else(|| spec.template.clone());

        let result = self
            .update_pods(
                k,
                &set,
                &pods,
                &current_template,
                &current_name,
                &update_name,
            )
            .await;

        // Status from what the cache holds now (our writes show up on the next pass).
        let pods_now: Vec<Arc<CachedPod>> = self
            .pods
            .state()
            .into_iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
            .filter(|p| ctrl_of(&p.metadata).is_some_and(|r| r.uid == uid))
            .filter(|p| is_member_of::<CachedPod>(name, p))
            .collect();
        let status = self.status(&set, &pods_now, &current_name, &update_name, collision);
        if set.status.as_ref() != Some(&status) {
            set_api
                .patch_status(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": status})),
                )
                .await?;
        }

        // History: keep what the current, update and live pods use.
        let mut live: HashSet<String> = pods_now
            .iter()
            .map(|p| pod_revision(p).to_string())
            .collect();
        live.insert(status.current_revision.clone().unwrap_or_default());
        live.insert(update_name.clone());
        let revs = history::owned(&self.revisions.state(), ns, &uid);
        self.history
            .truncate(ns, &revs, &live, spec.revision_history_limit.unwrap_or(10))
            .await?;

        result?;
        let min_ready = min_ready_seconds(&set);
        if min_ready > 0 && status.ready_replicas != status.available_replicas {
            return Ok(Some(Duration::from_secs(min_ready as u64)));
        }
        Ok(None)
    }

    fn status(
        &self,
        set: &StatefulSet,
        pods: &[Arc<CachedPod>],
        current: &str,
        update: &str,
        collision: i32,
    ) -> StatefulSetStatus {
        let now = self.ctx.clock.now();
        let min_ready = min_ready_seconds(set);
        let mut s = StatefulSetStatus {
            observed_generation: set.metadata.generation,
            current_revision: Some(current.to_string()),
            update_revision: Some(update.to_string()),
            collision_count: Some(collision),
            conditions: set.status.as_ref().and_then(|s| s.conditions.clone()),
            ..Default::default()
        };
        let (mut replicas, mut ready, mut available, mut cur, mut upd) = (0, 0, 0, 0, 0);
        for p in pods {
            if is_created(p) {
                replicas += 1;
            }
            if is_running_and_ready(p) {
                ready += 1;
                if is_available(p, min_ready, now) {
                    available += 1;
                }
            }
            if is_created(p) && !is_terminating(p) {
                if pod_revision(p) == current {
                    cur += 1;
                }
                if pod_revision(p) == update {
                    upd += 1;
                }
            }
        }
        s.replicas = replicas;
        s.ready_replicas = Some(ready);
        s.available_replicas = Some(available);
        s.current_replicas = Some(cur);
        s.updated_replicas = Some(upd);
        // completeRollingUpdate
        if is_rolling_update(set) && upd == replicas && ready == replicas {
            s.current_replicas = Some(upd);
            s.current_revision = Some(update.to_string());
        }
        s
    }

    /// `updateStatefulSet`: create, delete and update pods, one step at a time when ordered.
    async fn update_pods(
        &self,
        k: &str,
        set: &StatefulSet,
        pods: &[Arc<CachedPod>],
        current_template: &PodTemplateSpec,
        current_rev: &str,
        update_rev: &str,
    ) -> anyhow::Result<()> {
        let start = start_ordinal(set);
        let end = start + replicas(set);
        let monotonic = monotonic(set);
        let min_ready = min_ready_seconds(set);
        let now = self.ctx.clock.now();
        let update_template = set.spec.clone().unwrap_or_default().template;
        let by_ord: BTreeMap<i32, Arc<CachedPod>> = pods
            .iter()
            .map(|p| (ordinal_of::<CachedPod>(p), p.clone()))
            .collect();
        let (when_deleted, when_scaled) = retention(set);

        // Replicas, ascending.
        let mut to_create = Vec::new();
        for ord in start..end {
            match by_ord.get(&ord) {
                None => {
                    let pod = if is_rolling_update(set) && ord < start + partition(set) {
                        new_pod(set, current_template, ord, current_rev, controller_ref(set))
                    } else {
                        new_pod(set, &update_template, ord, update_rev, controller_ref(set))
                    };
                    if monotonic {
                        self.create_pod(k, set, &pod).await?;
                        return Ok(());
                    }
                    to_create.push(pod);
                }
                Some(pod) => {
                    if is_failed_or_succeeded(pod) && !is_terminating(pod) {
                        self.delete_pod(k, set, pod).await?;
                        return Ok(());
                    }
                    if !is_terminating(pod) {
                        self.fix_claims(set, pod, when_deleted, false).await?;
                    }
                    if monotonic && !is_healthy(pod, min_ready, now) {
                        return Ok(());
                    }
                }
            }
        }
        if !to_create.is_empty() {
            // Parallel: slow-start batches.
            let n = to_create.len().min(500);
            let queue = std::sync::Mutex::new(to_create.into_iter());
            let queue = &queue;
            let (_, err) = crate::shared::slow_start::slow_start_batch(
                n,
                crate::shared::slow_start::INITIAL_BATCH,
                || {
                    let pod = queue.lock().expect("pods to create").next();
                    async move {
                        match pod {
                            Some(p) => self.create_pod(k, set, &p).await.map_err(|e| e.to_string()),
                            None => Ok(()),
                        }
                    }
                },
            )
            .await;
            if let Some(e) = err {
                anyhow::bail!(e);
            }
        }

        // Condemned, descending.
        let mut condemned: Vec<&Arc<CachedPod>> = by_ord
            .iter()
            .filter(|(o, _)| **o < start || **o >= end)
            .map(|(_, p)| p)
            .collect();
        condemned.sort_by_key(|p| std::cmp::Reverse(ordinal_of::<CachedPod>(p)));
        let first_unhealthy = by_ord
            .iter()
            .filter(|(o, _)| **o >= start && **o < end)
            .map(|(_, p)| p)
            .chain(condemned.iter().copied())
            .find(|p| !is_healthy(p, min_ready, now))
            .map(|p| p.name_any());
        let mut deleted_any = false;
        for pod in &condemned {
            if is_terminating(pod) {
                if monotonic {
                    return Ok(());
                }
                continue;
            }
            if monotonic
                && Some(pod.name_any()) != first_unhealthy
                && !is_healthy(pod, min_ready, now)
            {
                return Ok(());
            }
            if when_scaled {
                self.fix_claims(set, pod, when_deleted, true).await?;
            }
            self.delete_pod(k, set, pod).await?;
            deleted_any = true;
            if monotonic {
                return Ok(());
            }
        }
        if deleted_any || !is_rolling_update(set) {
            return Ok(());
        }

        // Rolling update: replace outdated pods from the highest ordinal down to the partition.
        let in_range: Vec<&Arc<CachedPod>> = (start..end).filter_map(|o| by_ord.get(&o)).collect();
        let unhealthy = (end - start) as usize
            - in_range
                .iter()
                .filter(|p| is_healthy(p, min_ready, now))
                .count();
        let max_u = max_unavailable(set) as usize;
        if unhealthy >= max_u {
            return Ok(());
        }
        let mut budget = max_u - unhealthy;
        let floor = start + partition(set);
        for ord in (floor.max(start)..end).rev() {
            if budget == 0 {
                break;
            }
            let Some(pod) = by_ord.get(&ord) else {
                continue;
            };
            if pod_revision(pod) != update_rev && !is_terminating(pod) {
                self.delete_pod(k, set, pod).await?;
                budget -= 1;
            }
        }
        Ok(())
    }

    /// Create the pod's claims (if missing), then the pod.
    async fn create_pod(&self, k: &str, set: &StatefulSet, pod: &Pod) -> anyhow::Result<()> {
        let ns = set.namespace().unwrap_or_default();
        let set_name = set.name_any();
        let pod_name = pod.name_any();
        let (when_deleted, _) = retention(set);
        let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(self.ctx.client.clone(), &ns);
        for mut claim in claims_for(set, ordinal_of(pod)) {
            let cname = claim.name_any();
            match pvcs.get_opt(&cname).await? {
                Some(existing) => {
                    if existing.metadata.deletion_timestamp.is_some() {
                        anyhow::bail!("pvc {cname} is being deleted");
                    }
                }
                None => {
                    if when_deleted {
                        claim.metadata.owner_references = Some(vec![self.set_ref(set)]);
                    }
                    match pvcs.create(&PostParams::default(), &claim).await {
                        Ok(_) => self.recorder.event(
                            set,
                            EventType::Normal,
                            "SuccessfulCreate",
                            format!("create Claim {cname} Pod {pod_name} in StatefulSet {set_name} success"),
                        ),
                        Err(e) if is_already_exists(&e) => {}
                        Err(e) => {
                            self.recorder.event(
                                set,
                                EventType::Warning,
                                "FailedCreate",
                                format!(
                                    "create Claim {cname} for Pod {pod_name} in StatefulSet {set_name} failed error: {}",
                                    error_message(&e)
                                ),
                            );
                            return Err(e.into());
                        }
                    }
                }
            }
        }
        self.expectations.expect_creations(k, 1);
        match self.pod_control.create(&ns, pod).await {
            Ok(p) => {
                self.expectations.created(k, &p.name_any());
                self.recorder.event(
                    set,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!("create Pod {pod_name} in StatefulSet {set_name} successful"),
                );
                Ok(())
            }
            Err(e) => {
                self.expectations.creation_skipped(k, 1);
                if is_already_exists(&e) {
                    return Ok(());
                }
                self.recorder.event(
                    set,
                    EventType::Warning,
                    "FailedCreate",
                    format!(
                        "create Pod {pod_name} in StatefulSet {set_name} failed error: {}",
                        error_message(&e)
                    ),
                );
                Err(e.into())
            }
        }
    }

    async fn delete_pod(&self, k: &str, set: &StatefulSet, pod: &CachedPod) -> anyhow::Result<()> {
        let ns = set.namespace().unwrap_or_default();
        let set_name = set.name_any();
        let pod_name = pod.name_any();
        self.expectations.expect_deletion(k, &pod_name);
        match self.pod_control.delete(&ns, &pod_name).await {
            Ok(()) => {
                self.recorder.event(
                    set,
                    EventType::Normal,
                    "SuccessfulDelete",
                    format!("delete Pod {pod_name} in StatefulSet {set_name} successful"),
                );
                Ok(())
            }
            Err(e) => {
                self.expectations.deletion_failed(k, &pod_name);
                self.recorder.event(
                    set,
                    EventType::Warning,
                    "FailedDelete",
                    format!(
                        "delete Pod {pod_name} in StatefulSet {set_name} failed error: {}",
                        error_message(&e)
                    ),
                );
                Err(e.into())
            }
        }
    }

    fn set_ref(
        &self,
        set: &StatefulSet,
    ) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
        plain_ref(
            "apps/v1",
            "StatefulSet",
            &set.name_any(),
            &set.uid().unwrap_or_default(),
        )
    }

    /// `updateClaimOwnerRefForSetAndPod`: make the pod's claims carry the owner references the
    /// retention policy asks for (only touching claims that differ).
    async fn fix_claims(
        &self,
        set: &StatefulSet,
        pod: &CachedPod,
        when_deleted: bool,
        condemned: bool,
    ) -> anyhow::Result<()> {
        let (_, when_scaled) = retention(set);
        let ns = set.namespace().unwrap_or_default();
        let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(self.ctx.client.clone(), &ns);
        let set_ref = self.set_ref(set);
        let pod_ref = plain_ref("v1", "Pod", &pod.name_any(), &pod.uid().unwrap_or_default());
        let templates = set
            .spec
            .as_ref()
            .and_then(|s| s.volume_claim_templates.as_ref())
            .map_or(0, |t| t.len());
        if templates == 0 || (!when_deleted && !when_scaled) {
            return Ok(());
        }
        for claim in claims_for(set, ordinal_of(pod)) {
            let cname = claim.name_any();
            let Some(existing) = pvcs.get_opt(&cname).await? else {
                continue;
            };
            let cur = existing
                .metadata
                .owner_references
                .clone()
                .unwrap_or_default();
            let want = claim_owner_refs(
                &cur,
                &set_ref,
                Some(&pod_ref),
                when_deleted,
                condemned && when_scaled,
            );
            if want != cur {
                match pvcs
                    .patch(
                        &cname,
                        &PatchParams::default(),
                        &Patch::Merge(json!({"metadata": {"ownerReferences": want}})),
                    )
                    .await
                {
                    Ok(_) => {}
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }
}
