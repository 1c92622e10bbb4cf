//! The garbage collector (`pkg/controller/garbagecollector`, §7): watches every kind we serve
//! that can own or be owned, deletes objects whose owners are all gone (Background), deletes
//! the dependents of an owner being deleted in the foreground and then releases its
//! `foregroundDeletion` finalizer, strips the owner from its dependents for an `orphan`
//! deletion and then releases that finalizer, and patches away dangling references of objects
//! that still have a live owner.

mod cache;

use crate::shared::informer::{Change, Informer};
use crate::shared::is_not_found;
use crate::shared::queue::{run_workers, Queue};
use crate::Context;
use cache::{Cache, Entry, Loc, Owner};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions, PropagationPolicy,
};
use kube::core::PartialObjectMeta;
use kube::Api;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub const ORPHAN: &str = "orphan";
pub const FOREGROUND: &str = "foregroundDeletion";

/// (group, version, kind, plural, namespaced): the kinds the API server serves that take part
/// in ownership (crates/apiserver/src/kinds), events excluded.
pub const RESOURCES: &[(&str, &str, &str, &str, bool)] = &[
    ("", "v1", "Pod", "pods", true),
    ("", "v1", "Service", "services", true),
    ("", "v1", "Endpoints", "endpoints", true),
    ("", "v1", "ConfigMap", "configmaps", true),
    ("", "v1", "Secret", "secrets", true),
    ("", "v1", "ServiceAccount", "serviceaccounts", true),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    ("", "v1", "PersistentVolume", "persistentvolumes", false),
    ("", "v1", "Node", "nodes", false),
    ("", "v1", "Namespace", "namespaces", false),
    ("apps", "v1", "Deployment", "deployments", true),
    ("apps", "v1", "ReplicaSet", "replicasets", true),
    ("apps", "v1", "StatefulSet", "statefulsets", true),
    ("apps", "v1", "DaemonSet", "daemonsets", true),
    (
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        true,
    ),
    ("batch", "v1", "Job", "jobs", true),
    ("batch", "v1", "CronJob", "cronjobs", true),
    ("coordination.k8s.io", "v1", "Lease", "leases", true),
    (
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        true,
    ),
    (
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        false,
    ),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", true),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
    ),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
];

pub fn api_resource(i: usize) -> (ApiResource, bool) {
    let (group, version, kind, plural, namespaced) = RESOURCES[i];
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    (
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version,
            kind: kind.into(),
            plural: plural.into(),
        },
        namespaced,
    )
}

/// The resource index of an ownerReference's apiVersion and kind.
fn resource_of(r: &OwnerReference) -> Option<usize> {
    RESOURCES.iter().position(|(g, v, k, _, _)| {
        let av = if g.is_empty() {
            v.to_string()
        } else {
            format!("{g}/{v}")
        };
        av == r.api_version && *k == r.kind
    })
}

pub struct GarbageCollector {
    ctx: Context,
    informers: Mutex<Vec<Informer<Meta>>>,
    cache: Mutex<Cache>,
    /// Woken at each finished (re)list, for `run` to wait for every kind's first one.
    listed: Notify,
    queue: Arc<Queue>,
}

/// What the collector watches of an object: its metadata, of which it keeps `cache::Entry`.
type Meta = PartialObjectMeta<DynamicObject>;

impl GarbageCollector {
    pub fn new(ctx: &Context) -> Arc<Self> {
        let queue = Queue::new(ctx.clock.clone());
        let mut informers = Vec::new();
        for i in 0..RESOURCES.len() {
            let (ar, _) = api_resource(i);
            // The collector reads only metadata (owners, finalizers, deletion), so it lists
            // and watches only that (`as=PartialObjectMetadata`), as upstream's metadata
            // informers do: the rest of each object is neither sent, decoded nor held. Of the
            // metadata it keeps only what it reads, in its own cache rather than a store.
            let api: Api<Meta> = Api::all_with(ctx.client.clone(), &ar);
            informers.push(Informer::new_with(api, ar).without_store());
        }
        let gc = Arc::new(GarbageCollector {
            ctx: ctx.clone(),
            informers: Mutex::new(Vec::new()),
            cache: Mutex::new(Cache::new(RESOURCES.len())),
            listed: Notify::new(),
            queue,
        });
        for (i, inf) in informers.iter_mut().enumerate() {
            let weak = Arc::downgrade(&gc);
            inf.on_change(move |ch| {
                if let Some(gc) = weak.upgrade() {
                    gc.on_change(i, ch);
                }
            });
        }
        *gc.informers.lock().expect("gc informers") = informers;
        gc
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().expect("gc cache")
    }

    fn on_change(&self, res: usize, ch: Change<'_, Meta>) {
        let mut keys = Vec::new();
        {
            let mut cache = self.cache();
            match ch {
                Change::Applied { new, .. } => {
                    let (loc, old) = cache.apply(res, &new.metadata);
                    let new = cache.entry(&loc).expect("just applied");
                    if new.interesting() {
                        keys.push(loc.key());
                    }
                    // An owner waiting in the foreground may be unblocked by a dropped
                    // reference.
                    for r in old.iter().flat_map(|o| o.owners.iter()) {
                        if !new.owners.iter().any(|n| n.uid == r.uid) {
                            keys.extend(cache.loc_of_uid(&r.uid).map(|l| l.key()));
                        }
                    }
                }
                Change::Deleted(o) => {
                    if let Some(gone) = cache.delete(res, &o.metadata) {
                        if !gone.uid.is_empty() {
                            keys.extend(cache.dependents(&gone.uid).iter().map(|d| d.0.key()));
                        }
                        for r in gone.owners.iter() {
                            keys.extend(cache.loc_of_uid(&r.uid).map(|l| l.key()));
                        }
                    }
                }
                Change::Relisting => cache.relisting(res),
                Change::Listed(o) => {
                    cache.apply(res, &o.metadata);
                }
                Change::Resynced => {
                    cache.resynced(res);
                    keys.extend(
                        cache
                            .of_resource(res)
                            .filter(|(_, e)| e.interesting())
                            .map(|(l, _)| l.key()),
                    );
                    self.listed.notify_waiters();
                }
            }
        }
        keys.into_iter().for_each(|k| self.queue.add(k));
    }

    /// Every object with an ownerReference to `uid`.
    fn dependents(&self, uid: &str) -> Vec<(Loc, Entry)> {
        self.cache().dependents(uid)
    }

    fn api(&self, res: usize, ns: &str) -> Api<DynamicObject> {
        let (ar, namespaced) = api_resource(res);
        if namespaced {
            Api::namespaced_with(self.ctx.client.clone(), ns, &ar)
        } else {
            Api::all_with(self.ctx.client.clone(), &ar)
        }
    }

    pub async fn run(self: Arc<Self>, workers: usize) {
        let informers = std::mem::take(&mut *self.informers.lock().expect("gc informers"));
        let mut tasks = tokio::task::JoinSet::new();
        for inf in informers {
            tasks.spawn(inf.run());
        }
        loop {
            let listed = self.listed.notified();
            if self.cache().synced() {
                break;
            }
            listed.await;
        }
        let gc = self.clone();
        tasks.spawn(run_workers(
            self.queue.clone(),
            workers,
            "garbage-collector",
            move |k| {
                let gc = gc.clone();
                async move { gc.process(&k).await }
            },
        ));
        while tasks.join_next().await.is_some() {}
    }

    async fn process(&self, k: &str) -> anyhow::Result<Option<Duration>> {
        let Some(loc) = Loc::parse(k) else {
            return Ok(None);
        };
        let Some(obj) = self.cache().get(&loc) else {
            return Ok(None);
        };
        if obj.deleting {
            if obj.has_finalizer(ORPHAN) {
                return self.orphan_dependents(&loc, &obj).await;
            }
            if obj.has_finalizer(FOREGROUND) {
                return self.delete_dependents_in_foreground(&loc, &obj).await;
            }
        }
        if obj.owners.is_empty() {
            return Ok(None);
        }
        self.attempt_to_delete(&loc, &obj).await
    }

    /// Classify a reference: Some(true) solid, Some(false) waiting for dependents' deletion,
    /// None dangling.
    async fn owner_state(&self, loc: &Loc, r: &Owner) -> anyhow::Result<Option<bool>> {
        let Some(res) = r.res.map(usize::from) else {
            // A kind we do not serve cannot exist: dangling.
            return Ok(None);
        };
        let (_, namespaced) = api_resource(res);
        let owner_loc = Loc::new(res, if namespaced { &loc.ns } else { "" }, &r.name);
        let cached = self.cache().get(&owner_loc);
        let owner = match cached {
            Some(o) if o.uid == r.uid => o,
            // Not (yet) in the cache, or a different object: ask the API server.
            _ => match self.api(res, &owner_loc.ns).get_metadata(&r.name).await {
                Ok(o) => Entry::from_meta(&o.metadata),
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(e.into()),
            },
        };
        if owner.uid != r.uid {
            return Ok(None);
        }
        let waiting = owner.deleting && owner.has_finalizer(FOREGROUND);
        Ok(Some(!waiting))
    }

    /// `attemptToDeleteItem`.
    async fn attempt_to_delete(&self, loc: &Loc, obj: &Entry) -> anyhow::Result<Option<Duration>> {
        if obj.deleting {
            return Ok(None);
        }
        let mut solid = 0;
        let mut remove = Vec::new();
        let mut waiting = 0;
        for r in obj.owners.iter() {
            match self.owner_state(loc, r).await? {
                Some(true) => solid += 1,
                Some(false) => {
                    waiting += 1;
                    remove.push(&*r.uid);
                }
                None => remove.push(&*r.uid),
            }
        }
        let api = self.api(loc.res, &loc.ns);
        if solid > 0 {
            if !remove.is_empty() {
                let entries: Vec<_> = remove
                    .iter()
                    .map(|u| json!({"$patch": "delete", "uid": u}))
                    .collect();
                let patch = json!({"metadata": {"ownerReferences": entries, "uid": &*obj.uid}});
                match api
                    .patch(
                        &loc.name,
                        &PatchParams::default(),
                        &Patch::Strategic(&patch),
                    )
                    .await
                {
                    Ok(_) => {}
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            return Ok(None);
        }
        let policy = if waiting > 0 && !self.dependents(&obj.uid).is_empty() {
            PropagationPolicy::Foreground
        } else if obj.has_finalizer(ORPHAN) {
            PropagationPolicy::Orphan
        } else if obj.has_finalizer(FOREGROUND) {
            PropagationPolicy::Foreground
        } else {
            PropagationPolicy::Background
        };
        self.delete(&api, &loc.name, &obj.uid, policy).await?;
        Ok(None)
    }

    async fn delete(
        &self,
        api: &Api<DynamicObject>,
        name: &str,
        uid: &str,
        policy: PropagationPolicy,
    ) -> anyhow::Result<()> {
        let dp = DeleteParams {
            propagation_policy: Some(policy),
            preconditions: Some(Preconditions {
                uid: Some(uid.to_string()),
                resource_version: None,
            }),
            ..Default::default()
        };
        match api.delete(name, &dp).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            // The UID precondition failed: a new object took the name; nothing to do.
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn remove_finalizer(
        &self,
        loc: &Loc,
        obj: &Entry,
        finalizer: &str,
    ) -> anyhow::Result<()> {
        let rest: Vec<&str> = obj
            .finalizers
            .iter()
            .map(|f| &**f)
            .filter(|f| *f != finalizer)
            .collect();
        let patch = json!({"metadata": {"finalizers": rest,
            "resourceVersion": &*obj.resource_version}});
        match self
            .api(loc.res, &loc.ns)
            .patch(&loc.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Orphan: strip the owner from every dependent, then release the `orphan` finalizer.
    async fn orphan_dependents(&self, loc: &Loc, obj: &Entry) -> anyhow::Result<Option<Duration>> {
        let uid = &*obj.uid;
        for (dloc, dep) in self.dependents(uid) {
            let patch = json!({"metadata": {
                "ownerReferences": [{"$patch": "delete", "uid": uid}],
                "uid": &*dep.uid,
            }});
            match self
                .api(dloc.res, &dloc.ns)
                .patch(
                    &dloc.name,
                    &PatchParams::default(),
                    &Patch::Strategic(&patch),
                )
                .await
            {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {}
                Err(kube::Error::Api(s)) if s.code == 422 || s.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.remove_finalizer(loc, obj, ORPHAN).await?;
        Ok(None)
    }

    /// Foreground: delete the dependents; release `foregroundDeletion` once no dependent with
    /// blockOwnerDeletion remains.
    async fn delete_dependents_in_foreground(
        &self,
        loc: &Loc,
        obj: &Entry,
    ) -> anyhow::Result<Option<Duration>> {
        let uid = &*obj.uid;
        let deps = self.dependents(uid);
        let mut blocking = 0;
        for (dloc, dep) in &deps {
            if dep
                .owners
                .iter()
                .find(|r| &*r.uid == uid)
                .is_some_and(|r| r.blocks)
            {
                blocking += 1;
            }
            if dep.deleting {
                continue;
            }
            let dep_uid = &*dep.uid;
            // Only delete a dependent whose every owner is gone or deleting in the foreground.
            let mut other_solid = false;
            for other in dep.owners.iter().filter(|o| &*o.uid != uid) {
                if self.owner_state(dloc, other).await? == Some(true) {
                    other_solid = true;
                }
            }
            let api = self.api(dloc.res, &dloc.ns);
            if other_solid {
                let patch = json!({"metadata": {"ownerReferences": [{"$patch": "delete", "uid": uid}], "uid": dep_uid}});
                let _ = api
                    .patch(
                        &dloc.name,
                        &PatchParams::default(),
                        &Patch::Strategic(&patch),
                    )
                    .await;
                continue;
            }
            let policy = if self.dependents(dep_uid).is_empty() {
                PropagationPolicy::Background
            } else {
                PropagationPolicy::Foreground
            };
            self.delete(&api, &dloc.name, dep_uid, policy).await?;
        }
        if blocking == 0 {
            self.remove_finalizer(loc, obj, FOREGROUND).await?;
            return Ok(None);
        }
        // Dependents' deletions requeue us; look again in a while in case one is missed.
        Ok(Some(Duration::from_secs(5)))
    }
}
