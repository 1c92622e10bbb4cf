//! The DaemonSet controller (`pkg/controller/daemon`, §4): one pod per eligible node, pinned
//! by a required `matchFields metadata.name` affinity and placed by the scheduler; nodes are
//! watched, so a new node gets its pod and a removed or tainted node loses it; RollingUpdate
//! (maxUnavailable, maxSurge) and OnDelete over ControllerRevisions; the status counters.

pub mod util;

use crate::deployment::util::compute_hash;
use crate::shared::adoption::{self, Owner};
use crate::shared::cached_pod::CachedPod;
use crate::shared::events::{EventType, Recorder};
use crate::shared::expectations::Expectations;
use crate::shared::history::{self, History, NewRevision, REVISION_HASH_LABEL};
use crate::shared::informer::{Change, Informer};
use crate::shared::owned::{self, Owned};
use crate::shared::pod_control::{controller_ref, pod_from_template, PodControl};
use crate::shared::pods::{controller_ref as ctrl_of, is_available, is_ready};
use crate::shared::queue::{run_workers, Queue};
use crate::shared::slow_start::{slow_start_batch, INITIAL_BATCH};
use crate::shared::{error_message, key_of, selector, split_key};
use crate::Context;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use util::*;

/// Upstream's `BurstReplicas` for DaemonSets.
pub const BURST_REPLICAS: usize = 250;

pub struct DaemonSetController {
    ctx: Context,
    dss: Store<DaemonSet>,
    pods: Store<CachedPod>,
    nodes: Store<Node>,
    revisions: Store<ControllerRevision>,
    queue: Arc<Queue>,
    expectations: Arc<Expectations>,
    recorder: Recorder,
    pod_control: PodControl,
    history: History,
}

impl DaemonSetController {
    pub fn new(
        ctx: &Context,
        dss: &mut Informer<DaemonSet>,
        pods: &mut Informer<CachedPod>,
        nodes: &mut Informer<Node>,
        revisions: &mut Informer<ControllerRevision>,
    ) -> Arc<Self> {
        let queue = Queue::new(ctx.clock.clone());
        let c = Arc::new(DaemonSetController {
            ctx: ctx.clone(),
            dss: dss.store.clone(),
            pods: pods.store.clone(),
            nodes: nodes.store.clone(),
            revisions: revisions.store.clone(),
            queue: queue.clone(),
            expectations: Arc::new(Expectations::new(ctx.clock.clone())),
            recorder: Recorder::new(
                ctx.client.clone(),
                "daemonset-controller",
                ctx.clock.clone(),
            ),
            pod_control: PodControl::new(ctx.client.clone()),
            history: History::new(ctx.client.clone()),
        });
        owned::watch_pod_owner(
            "DaemonSet",
            dss,
            pods,
            |o: &DaemonSet| o.spec.as_ref().map(|s| &s.selector),
            &queue,
            &c.expectations,
        );
        {
            // Any node change may change eligibility: resync every DaemonSet.
            let q = queue.clone();
            let store = dss.store.clone();
            nodes.on_change(move |ch| {
                let relevant = match &ch {
                    Change::Applied {
                        old: Some(old),
                        new,
                    } => {
                        old.metadata.labels != new.metadata.labels
                            || old.spec != new.spec
                            || old.metadata.deletion_timestamp != new.metadata.deletion_timestamp
                    }
                    // A relist is answered once, at its `Resynced`.
                    Change::Relisting | Change::Listed(_) => false,
                    _ => true,
                };
                if relevant {
                    store.state().iter().for_each(|d| q.add(key_of(d.as_ref())));
                }
            });
        }
        Owned {
            kind: "DaemonSet",
            owners: dss.store.clone(),
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
        run_workers(self.queue.clone(), workers, "daemonset", move |k| {
            let c = c.clone();
            async move { c.sync(&k).await }
        })
        .await
    }

    /// `syncDaemonSet`.
    async fn sync(&self, k: &str) -> anyhow::Result<Option<Duration>> {
        let (ns, name) = split_key(k);
        let Some(ds) = self.dss.get(&ObjectRef::new(name).within(ns)) else {
            self.expectations.delete(k);
            return Ok(None);
        };
        let ds = (*ds).clone();
        if ds.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let Some(spec) = ds.spec.clone() else {
            return Ok(None);
        };
        let uid = ds.uid().unwrap_or_default();

        // History: the update revision's hash labels new pods.
        let revs = history::owned(&self.revisions.state(), ns, &uid);
        let mut collision = ds
            .status
            .as_ref()
            .and_then(|s| s.collision_count)
            .unwrap_or(0);
        let template = spec.template.clone();
        let hash_fn = move |c: Option<i32>| compute_hash(&template, c);
        let update_rev = self
            .history
            .update_revision(
                &NewRevision {
                    parent: name,
                    namespace: ns,
                    owner: controller_ref(&ds),
                    labels: spec
                        .template
                        .metadata
                        .as_ref()
                        .and_then(|m| m.labels.clone())
                        .unwrap_or_default(),
                    data: history::template_patch(&spec.template),
                    hash: &hash_fn,
                },
                &revs,
                &mut collision,
            )
            .await?;
        let hash = update_rev
            .labels()
            .get(REVISION_HASH_LABEL)
            .cloned()
            .unwrap_or_default();
        let generation = ds
            .annotations()
            .get(TEMPLATE_GENERATION_ANNOTATION)
            .cloned();

        let pods = self.claimed_pods(&ds).await?;
        let by_node = group_by_node(&pods);
        let nodes: Vec<Arc<Node>> = self.nodes.state();
        let satisfied = self
            .expectations
            .satisfied(k, |n| owned::seen(&self.pods, ns, n));
        let mut result = Ok(());
        if satisfied {
            result = self
                .manage(k, &ds, &nodes, &by_node, &hash, generation.as_deref())
                .await;
            if result.is_ok() && is_rolling_update(&ds) {
                result = self
                    .rolling_update(k, &ds, &nodes, &by_node, &hash, generation.as_deref())
                    .await;
            }
        }

        // Status from the cache as it is now.
        let pods = self.owned_pods(&ds);
        let by_node = group_by_node(&pods);
        let status = self.status(
            &ds,
            &nodes,
            &by_node,
            &hash,
            generation.as_deref(),
            collision,
        );
        if ds.status.as_ref() != Some(&status) {
            Api::<DaemonSet>::namespaced(self.ctx.client.clone(), ns)
                .patch_status(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": status})),
                )
                .await?;
        }
        let mut live: HashSet<String> = HashSet::from([update_rev.name_any()]);
        for p in &pods {
            if let Some(h) = p.labels().get(REVISION_HASH_LABEL) {
                live.insert(history::revision_name(name, h));
            }
        }
        let revs = history::owned(&self.revisions.state(), ns, &uid);
        self.history
            .truncate(ns, &revs, &live, spec.revision_history_limit.unwrap_or(10))
            .await?;
        result?;
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        if min_ready > 0 && status.number_ready != status.number_available.unwrap_or(0) {
            return Ok(Some(Duration::from_secs(min_ready as u64)));
        }
        Ok(None)
    }

    async fn claimed_pods(&self, ds: &DaemonSet) -> anyhow::Result<Vec<Arc<CachedPod>>> {
        let ns = ds.namespace().unwrap_or_default();
        let name = ds.name_any();
        let uid = ds.uid().unwrap_or_default();
        let sel = selector(
            &ds.spec
                .as_ref()
                .map(|s| s.selector.clone())
                .unwrap_or_default(),
        );
        let candidates: Vec<Arc<CachedPod>> = self
            .pods
            .state()
            .into_iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
            .collect();
        let pods_api: Api<CachedPod> = Api::namespaced(self.ctx.client.clone(), &ns);
        let ds_api: Api<DaemonSet> = Api::namespaced(self.ctx.client.clone(), &ns);
        let owner = Owner {
            uid: &uid,
            namespace: &ns,
            deleting: false,
            selector: &sel,
        };
        Ok(adoption::claim(
            &pods_api,
            &owner,
            &controller_ref(ds),
            candidates,
            || async {
                let fresh = ds_api.get(&name).await?;
                Ok(fresh.uid() == ds.uid() && fresh.metadata.deletion_timestamp.is_none())
            },
        )
        .await?)
    }

    fn owned_pods(&self, ds: &DaemonSet) -> Vec<Arc<CachedPod>> {
        let ns = ds.namespace();
        let uid = ds.uid().unwrap_or_default();
        self.pods
            .state()
            .into_iter()
            .filter(|p| p.namespace() == ns)
            .filter(|p| ctrl_of(&p.metadata).is_some_and(|r| r.uid == uid))
            .collect()
    }

    fn is_new(pod: &CachedPod, hash: &str, generation: Option<&str>) -> bool {
        let l = pod.labels();
        l.get(REVISION_HASH_LABEL).map(String::as_str) == Some(hash)
            || (generation.is_some()
                && l.get(TEMPLATE_GENERATION_LABEL).map(String::as_str) == generation)
    }

    /// `manage`: create on eligible nodes without a pod, delete what should not run.
    async fn manage(
        &self,
        k: &str,
        ds: &DaemonSet,
        nodes: &[Arc<Node>],
        by_node: &BTreeMap<String, Vec<Arc<CachedPod>>>,
        hash: &str,
        generation: Option<&str>,
    ) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        let min_ready = ds
            .spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0);
        let surge = is_rolling_update(ds) && surge_and_unavailable(ds, nodes.len() as i32).0 > 0;
        let mut create_on: Vec<String> = Vec::new();
        let mut delete: Vec<Arc<CachedPod>> = Vec::new();
        let node_names: HashSet<String> = nodes.iter().map(|n| n.name_any()).collect();
        for node in nodes {
            let node_name = node.name_any();
            let (run, keep) = should_run(ds, node);
            let pods: Vec<Arc<CachedPod>> = by_node
                .get(&node_name)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .collect();
            if run && pods.is_empty() {
                create_on.push(node_name);
                continue;
            }
            if !keep {
                delete.extend(pods);
                continue;
            }
            let mut alive = Vec::new();
            for p in pods {
                match phase(&p) {
                    "Failed" => {
                        self.recorder.event(
                            ds,
                            EventType::Warning,
                            "FailedDaemonPod",
                            format!(
                                "Found failed daemon pod {}/{} on node {}, will try to kill it",
                                p.namespace().unwrap_or_default(),
                                p.name_any(),
                                node_name
                            ),
                        );
                        delete.push(p)
                    }
                    "Succeeded" => delete.push(p),
                    _ => alive.push(p),
                }
            }
            alive.sort_by(|a, b| {
                let sched =
                    |p: &CachedPod| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none();
                sched(a)
                    .cmp(&sched(b))
                    .then_with(|| {
                        a.metadata
                            .creation_timestamp
                            .cmp(&b.metadata.creation_timestamp)
                    })
                    .then_with(|| a.name_any().cmp(&b.name_any()))
            });
            if !surge {
                delete.extend(alive.into_iter().skip(1));
            } else {
                let (new, old): (Vec<_>, Vec<_>) = alive
                    .into_iter()
                    .partition(|p| Self::is_new(p, hash, generation));
                delete.extend(new.iter().skip(1).cloned());
                delete.extend(old.iter().skip(1).cloned());
                if let (Some(n), Some(o)) = (new.first(), old.first()) {
                    if is_available(n, min_ready, now) || !is_ready(o) {
                        delete.push(o.clone());
                    }
                }
            }
        }
        // Pods pinned to nodes that no longer exist.
        for (node, pods) in by_node {
            if !node_names.contains(node) {
                delete.extend(
                    pods.iter()
                        .filter(|p| p.metadata.deletion_timestamp.is_none())
                        .cloned(),
                );
            }
        }
        self.sync_nodes(k, ds, create_on, delete, hash, generation)
            .await
    }

    /// `syncNodes`: create pods on `create_on` (slow start), delete `delete`.
    async fn sync_nodes(
        &self,
        k: &str,
        ds: &DaemonSet,
        create_on: Vec<String>,
        delete: Vec<Arc<CachedPod>>,
        hash: &str,
        generation: Option<&str>,
    ) -> anyhow::Result<()> {
        let ns = ds.namespace().unwrap_or_default();
        let name = ds.name_any();
        let mut template = ds
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        {
            let labels = template
                .metadata
                .get_or_insert_with(Default::default)
                .labels
                .get_or_insert_with(BTreeMap::new);
            labels.insert(REVISION_HASH_LABEL.into(), hash.into());
            if let Some(g) = generation {
                labels.insert(TEMPLATE_GENERATION_LABEL.into(), g.into());
            }
            add_default_tolerations(template.spec.get_or_insert_with(Default::default));
        }
        let n = create_on.len().min(BURST_REPLICAS);
        let mut first_err: Option<String> = None;
        if n > 0 {
            self.expectations.expect_creations(k, n as u32);
            let queue = Mutex::new(create_on.into_iter().take(n));
            let queue = &queue;
            let template = &template;
            let owner = controller_ref(ds);
            let owner = &owner;
            let name = &name;
            let (ok, err) = slow_start_batch(n, INITIAL_BATCH, || {
                let node = queue.lock().expect("nodes").next();
                async move {
                    let Some(node) = node else { return Ok(()) };
                    let mut pod = pod_from_template(template, name, owner.clone());
                    pin_to_node(pod.spec.get_or_insert_with(Default::default), &node);
                    self.pod_control
                        .create_for(ds, k, &pod, &self.expectations, &self.recorder)
                        .await
                }
            })
            .await;
            self.expectations.creation_skipped(k, (n - ok) as u32);
            first_err = err;
        }
        for p in delete.into_iter().take(BURST_REPLICAS) {
            let pname = p.name_any();
            self.expectations.expect_deletion(k, &pname);
            match self.pod_control.delete(&ns, &pname).await {
                Ok(()) => self.recorder.event(
                    ds,
                    EventType::Normal,
                    "SuccessfulDelete",
                    format!("Deleted pod: {pname}"),
                ),
                Err(e) => {
                    self.expectations.deletion_failed(k, &pname);
                    let msg = error_message(&e);
                    self.recorder.event(
                        ds,
                        EventType::Warning,
                        "FailedDelete",
                        format!("Error deleting: {msg}"),
                    );
                    first_err.get_or_insert(msg);
                }
            }
        }
        match first_err {
            Some(e) => anyhow::bail!(e),
            None => Ok(()),
        }
    }

    /// `rollingUpdate`: replace old pods within maxUnavailable, or surge new ones first.
    async fn rolling_update(
        &self,
        k: &str,
        ds: &DaemonSet,
        nodes: &[Arc<Node>],
        by_node: &BTreeMap<String, Vec<Arc<CachedPod>>>,
        hash: &str,
        generation: Option<&str>,
    ) -> anyhow::Result<()> {
        let now = self.ctx.clock.now();
        let min_ready = ds
            .spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0);
        let eligible: Vec<String> = nodes
            .iter()
            .filter(|n| should_run(ds, n).0)
            .map(|n| n.name_any())
            .collect();
        let (max_surge, max_unavailable) = surge_and_unavailable(ds, eligible.len() as i32);
        let mut num_unavailable = 0;
        let mut num_surge = 0;
        let mut always: Vec<Arc<CachedPod>> = Vec::new();
        let mut candidates: Vec<Arc<CachedPod>> = Vec::new();
        let mut surge_always: Vec<String> = Vec::new();
        let mut surge_candidates: Vec<String> = Vec::new();
        for node in &eligible {
            let pods: Vec<Arc<CachedPod>> = by_node
                .get(node)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .collect();
            let new = pods.iter().find(|p| Self::is_new(p, hash, generation));
            let old = pods.iter().find(|p| !Self::is_new(p, hash, generation));
            if max_surge == 0 {
                match (new, old) {
                    (None, None) => num_unavailable += 1,
                    (Some(_), Some(_)) => num_unavailable += 1,
                    (Some(n), None) => {
                        if !is_available(n, min_ready, now) {
                            num_unavailable += 1
                        }
                    }
                    (None, Some(o)) => {
                        if !is_available(o, min_ready, now) {
                            always.push(o.clone())
                        } else {
                            candidates.push(o.clone())
                        }
                    }
                }
            } else {
                match (new, old) {
                    (Some(n), Some(_)) => {
                        num_surge += 1;
                        if !is_available(n, min_ready, now) {
                            num_unavailable += 1;
                        }
                    }
                    (None, Some(o)) => {
                        if !is_available(o, min_ready, now) {
                            surge_always.push(node.clone())
                        } else {
                            surge_candidates.push(node.clone())
                        }
                    }
                    _ => {}
                }
            }
        }
        if max_surge == 0 {
            let room = (max_unavailable - num_unavailable - always.len() as i32).max(0) as usize;
            let mut delete = always;
            delete.extend(candidates.into_iter().take(room));
            self.sync_nodes(k, ds, Vec::new(), delete, hash, generation)
                .await
        } else {
            let room = (max_surge - num_surge).max(0) as usize;
            let mut create = surge_always;
            create.extend(surge_candidates.into_iter().take(room));
            self.sync_nodes(k, ds, create, Vec::new(), hash, generation)
                .await
        }
    }

    fn status(
        &self,
        ds: &DaemonSet,
        nodes: &[Arc<Node>],
        by_node: &BTreeMap<String, Vec<Arc<CachedPod>>>,
        hash: &str,
        generation: Option<&str>,
        collision: i32,
    ) -> DaemonSetStatus {
        let now = self.ctx.clock.now();
        let min_ready = ds
            .spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0);
        let mut s = DaemonSetStatus {
            observed_generation: ds.metadata.generation,
            collision_count: Some(collision),
            conditions: ds.status.as_ref().and_then(|s| s.conditions.clone()),
            ..Default::default()
        };
        let (mut desired, mut current, mut mis, mut ready, mut available, mut updated) =
            (0, 0, 0, 0, 0, 0);
        for node in nodes {
            let (run, _) = should_run(ds, node);
            let mut pods: Vec<Arc<CachedPod>> = by_node
                .get(&node.name_any())
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .collect();
            pods.sort_by(|a, b| {
                a.metadata
                    .creation_timestamp
                    .cmp(&b.metadata.creation_timestamp)
                    .then_with(|| a.name_any().cmp(&b.name_any()))
            });
            if run {
                desired += 1;
                if let Some(oldest) = pods.first() {
                    current += 1;
                    if is_ready(oldest) {
                        ready += 1;
                        if is_available(oldest, min_ready, now) {
                            available += 1;
                        }
                    }
                    if pods.iter().any(|p| Self::is_new(p, hash, generation)) {
                        updated += 1;
                    }
                }
            } else if !pods.is_empty() {
                mis += 1;
            }
        }
        s.desired_number_scheduled = desired;
        s.current_number_scheduled = current;
        s.number_misscheduled = mis;
        s.number_ready = ready;
        s.number_available = Some(available);
        s.updated_number_scheduled = Some(updated);
        s.number_unavailable = Some(desired - available);
        s
    }
}

fn phase(p: &CachedPod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn group_by_node(pods: &[Arc<CachedPod>]) -> BTreeMap<String, Vec<Arc<CachedPod>>> {
    let mut m: BTreeMap<String, Vec<Arc<CachedPod>>> = BTreeMap::new();
    for p in pods {
        if let Some(n) = target_node(p) {
            m.entry(n).or_default().push(p.clone());
        }
    }
    m
}
