//! The garbage collector (`pkg/controller/garbagecollector`, §7): watches every kind we serve
//! that can own or be owned, deletes objects whose owners are all gone (Background), deletes
//! the dependents of an owner being deleted in the foreground and then releases its
//! `foregroundDeletion` finalizer, strips the owner from its dependents for an `orphan`
//! deletion and then releases that finalizer, and patches away dangling references of objects
//! that still have a live owner.

use crate::shared::informer::{Change, Informer};
use crate::shared::queue::{run_workers, Queue};
use crate::shared::{is_not_found, split_key};
use crate::Context;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions, PropagationPolicy,
};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Where an object lives: resource index, namespace ("" if cluster-scoped), name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Loc {
    res: usize,
    ns: String,
    name: String,
}

impl Loc {
    fn key(&self) -> String {
        format!("{}|{}/{}", self.res, self.ns, self.name)
    }
    fn parse(k: &str) -> Option<Loc> {
        let (res, rest) = k.split_once('|')?;
        let (ns, name) = split_key(rest);
        Some(Loc {
            res: res.parse().ok()?,
            ns: ns.into(),
            name: name.into(),
        })
    }
}

fn finalizers(o: &Meta) -> Vec<String> {
    o.metadata.finalizers.clone().unwrap_or_default()
}

fn owner_refs(o: &Meta) -> Vec<OwnerReference> {
    o.metadata.owner_references.clone().unwrap_or_default()
}

/// What the collector knows of an object: its metadata.
type Meta = PartialObjectMeta<DynamicObject>;

pub struct GarbageCollector {
    ctx: Context,
    informers: Mutex<Vec<Informer<Meta>>>,
    stores: Vec<Store<Meta>>,
    /// uid → location of every object seen.
    uids: Arc<Mutex<HashMap<String, Loc>>>,
    queue: Arc<Queue>,
}

/// What the collector keeps of an object's metadata: its identity (name, namespace, uid,
/// resourceVersion), its owners, finalizers and deletion state. Labels, annotations, the
/// generated-name prefix, the creation time and the `PartialObjectMetadata` type strings are
/// dropped on arrival (most of what is left of a metadata-only pod).
fn collector_view(o: &mut Meta) {
    o.types = None;
    o.metadata.labels = None;
    o.metadata.annotations = None;
    o.metadata.generate_name = None;
    o.metadata.creation_timestamp = None;
}

impl GarbageCollector {
    pub fn new(ctx: &Context) -> Arc<Self> {
        let queue = Queue::new(ctx.clock.clone());
        let uids: Arc<Mutex<HashMap<String, Loc>>> = Arc::default();
        let mut informers = Vec::new();
        let mut stores = Vec::new();
        for i in 0..RESOURCES.len() {
            let (ar, _) = api_resource(i);
            // The collector reads only metadata (owners, finalizers, deletion), so it lists
            // and watches only that (`as=PartialObjectMetadata`), as upstream's metadata
            // informers do: the rest of each object is neither sent, decoded nor held.
            let api: Api<Meta> = Api::all_with(ctx.client.clone(), &ar);
            let inf = Informer::new_with(api, ar).with_transform(collector_view);
            stores.push(inf.store.clone());
            informers.push(inf);
        }
        let gc = Arc::new(GarbageCollector {
            ctx: ctx.clone(),
            informers: Mutex::new(Vec::new()),
            stores,
            uids,
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

    fn loc_of(&self, res: usize, o: &Meta) -> Loc {
        Loc {
            res,
            ns: o.namespace().unwrap_or_default(),
            name: o.name_any(),
        }
    }

    fn interesting(o: &Meta) -> bool {
        !owner_refs(o).is_empty()
            || (o.metadata.deletion_timestamp.is_some()
                && finalizers(o).iter().any(|f| f == ORPHAN || f == FOREGROUND))
    }

    fn on_change(&self, res: usize, ch: Change<'_, Meta>) {
        match ch {
            Change::Applied { old, new } => {
                let loc = self.loc_of(res, new);
                if let Some(uid) = new.uid() {
                    self.uids.lock().expect("uids").insert(uid, loc.clone());
                }
                if Self::interesting(new) {
                    self.queue.add(loc.key());
                }
                // An owner waiting in the foreground may be unblocked by a dropped reference.
                if let Some(old) = old {
                    for r in owner_refs(&old) {
                        if !owner_refs(new).iter().any(|n| n.uid == r.uid) {
                            self.enqueue_uid(&r.uid);
                        }
                    }
                }
            }
            Change::Deleted(o) => {
                if let Some(uid) = o.uid() {
                    self.uids.lock().expect("uids").remove(&uid);
                    for dep in self.dependents(&uid) {
                        self.queue.add(dep.0.key());
                    }
                }
                for r in owner_refs(o) {
                    self.enqueue_uid(&r.uid);
                }
            }
            Change::Resynced => {
                let mut uids = self.uids.lock().expect("uids");
                for o in self.stores[res].state() {
                    let loc = self.loc_of(res, &o);
                    if let Some(uid) = o.uid() {
                        uids.insert(uid, loc.clone());
                    }
                    if Self::interesting(&o) {
                        self.queue.add(loc.key());
                    }
                }
            }
        }
    }

    fn enqueue_uid(&self, uid: &str) {
        let loc = self.uids.lock().expect("uids").get(uid).cloned();
        if let Some(loc) = loc {
            self.queue.add(loc.key());
        }
    }

    /// Every object with an ownerReference to `uid`, with that reference.
    fn dependents(&self, uid: &str) -> Vec<(Loc, Arc<Meta>, OwnerReference)> {
        let mut out = Vec::new();
        for (res, store) in self.stores.iter().enumerate() {
            for o in store.state() {
                if let Some(r) = owner_refs(&o).into_iter().find(|r| r.uid == uid) {
                    out.push((self.loc_of(res, &o), o, r));
                }
            }
        }
        out
    }

    fn api(&self, res: usize, ns: &str) -> Api<DynamicObject> {
        let (ar, namespaced) = api_resource(res);
        if namespaced {
            Api::namespaced_with(self.ctx.client.clone(), ns, &ar)
        } else {
            Api::all_with(self.ctx.client.clone(), &ar)
        }
    }

    fn get(&self, loc: &Loc) -> Option<Arc<Meta>> {
        let (ar, namespaced) = api_resource(loc.res);
        let mut r = ObjectRef::new_with(&loc.name, ar);
        if namespaced {
            r = r.within(&loc.ns);
        }
        self.stores[loc.res].get(&r)
    }

    pub async fn run(self: Arc<Self>, workers: usize) {
        let informers = std::mem::take(&mut *self.informers.lock().expect("gc informers"));
        let mut tasks = tokio::task::JoinSet::new();
        let stores = self.stores.clone();
        for inf in informers {
            tasks.spawn(inf.run());
        }
        for s in stores {
            let _ = s.wait_until_ready().await;
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
        let Some(obj) = self.get(&loc) else {
            return Ok(None);
        };
        let uid = obj.uid().unwrap_or_default();
        let fins = finalizers(&obj);
        if obj.metadata.deletion_timestamp.is_some() {
            if fins.iter().any(|f| f == ORPHAN) {
                return self.orphan_dependents(&loc, &obj, &uid).await;
            }
            if fins.iter().any(|f| f == FOREGROUND) {
                return self.delete_dependents_in_foreground(&loc, &obj, &uid).await;
            }
        }
        let refs = owner_refs(&obj);
        if refs.is_empty() {
            return Ok(None);
        }
        self.attempt_to_delete(&loc, &obj, &uid, refs).await
    }

    /// Classify a reference: Some(true) solid, Some(false) waiting for dependents' deletion,
    /// None dangling.
    async fn owner_state(&self, loc: &Loc, r: &OwnerReference) -> anyhow::Result<Option<bool>> {
        let Some(res) = resource_of(r) else {
            // A kind we do not serve cannot exist: dangling.
            return Ok(None);
        };
        let (_, namespaced) = api_resource(res);
        let owner_loc = Loc {
            res,
            ns: if namespaced {
                loc.ns.clone()
            } else {
                String::new()
            },
            name: r.name.clone(),
        };
        let owner = match self.get(&owner_loc) {
            Some(o) if o.uid().as_deref() == Some(r.uid.as_str()) => (*o).clone(),
            // Not (yet) in the cache, or a different object: ask the API server.
            _ => match self.api(res, &owner_loc.ns).get_metadata(&r.name).await {
                Ok(o) => o,
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(e.into()),
            },
        };
        if owner.uid().as_deref() != Some(r.uid.as_str()) {
            return Ok(None);
        }
        let waiting = owner.metadata.deletion_timestamp.is_some()
            && finalizers(&owner).iter().any(|f| f == FOREGROUND);
        Ok(Some(!waiting))
    }

    /// `attemptToDeleteItem`.
    async fn attempt_to_delete(
        &self,
        loc: &Loc,
        obj: &Meta,
        uid: &str,
        refs: Vec<OwnerReference>,
    ) -> anyhow::Result<Option<Duration>> {
        if obj.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let mut solid = 0;
        let mut remove = Vec::new();
        let mut waiting = 0;
        for r in &refs {
            match self.owner_state(loc, r).await? {
                Some(true) => solid += 1,
                Some(false) => {
                    waiting += 1;
                    remove.push(r.uid.clone());
                }
                None => remove.push(r.uid.clone()),
            }
        }
        let api = self.api(loc.res, &loc.ns);
        if solid > 0 {
            if !remove.is_empty() {
                let entries: Vec<_> = remove
                    .iter()
                    .map(|u| json!({"$patch": "delete", "uid": u}))
                    .collect();
                let patch = json!({"metadata": {"ownerReferences": entries, "uid": uid}});
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
        let fins = finalizers(obj);
        let policy = if waiting > 0 && !self.dependents(uid).is_empty() {
            PropagationPolicy::Foreground
        } else if fins.iter().any(|f| f == ORPHAN) {
            PropagationPolicy::Orphan
        } else if fins.iter().any(|f| f == FOREGROUND) {
            PropagationPolicy::Foreground
        } else {
            PropagationPolicy::Background
        };
        self.delete(&api, &loc.name, uid, policy).await?;
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

    async fn remove_finalizer(&self, loc: &Loc, obj: &Meta, finalizer: &str) -> anyhow::Result<()> {
        let rest: Vec<String> = finalizers(obj)
            .into_iter()
            .filter(|f| f != finalizer)
            .collect();
        let patch =
            json!({"metadata": {"finalizers": rest, "resourceVersion": obj.resource_version()}});
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
    async fn orphan_dependents(
        &self,
        loc: &Loc,
        obj: &Meta,
        uid: &str,
    ) -> anyhow::Result<Option<Duration>> {
        for (dloc, dep, _) in self.dependents(uid) {
            let patch = json!({"metadata": {
                "ownerReferences": [{"$patch": "delete", "uid": uid}],
                "uid": dep.uid(),
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
        obj: &Meta,
        uid: &str,
    ) -> anyhow::Result<Option<Duration>> {
        let deps = self.dependents(uid);
        let mut blocking = 0;
        for (dloc, dep, r) in &deps {
            if r.block_owner_deletion == Some(true) {
                blocking += 1;
            }
            if dep.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let dep_uid = dep.uid().unwrap_or_default();
            // Only delete a dependent whose every owner is gone or deleting in the foreground.
            let mut other_solid = false;
            for other in owner_refs(dep).iter().filter(|o| o.uid != uid) {
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
            let policy = if self.dependents(&dep_uid).is_empty() {
                PropagationPolicy::Background
            } else {
                PropagationPolicy::Foreground
            };
            self.delete(&api, &dloc.name, &dep_uid, policy).await?;
        }
        if blocking == 0 {
            self.remove_finalizer(loc, obj, FOREGROUND).await?;
            return Ok(None);
        }
        // Dependents' deletions requeue us; look again in a while in case one is missed.
        Ok(Some(Duration::from_secs(5)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_collector_keeps_an_objects_identity_owners_finalizers_and_deletion_only() {
        let mut o: Meta = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "default", "uid": "u1",
                "resourceVersion": "42", "creationTimestamp": "2025-12-31T00:00:00Z",
                "generateName": "web-", "labels": {"app": "web"},
                "annotations": {"note": "x"},
                "finalizers": ["foregroundDeletion"],
                "deletionTimestamp": "2026-01-01T00:00:00Z",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": "web", "uid": "u0", "controller": true}]}
        }))
        .unwrap();
        let before = o.clone();
        collector_view(&mut o);
        let (m, b) = (&o.metadata, &before.metadata);
        assert_eq!((m.labels.as_ref(), m.annotations.as_ref()), (None, None));
        assert_eq!((&m.generate_name, &m.creation_timestamp), (&None, &None));
        assert!(o.types.is_none());
        assert_eq!(
            (&m.name, &m.namespace, &m.uid, &m.resource_version),
            (&b.name, &b.namespace, &b.uid, &b.resource_version)
        );
        assert_eq!(m.owner_references, b.owner_references);
        assert_eq!(m.finalizers, b.finalizers);
        assert_eq!(m.deletion_timestamp, b.deletion_timestamp);
        assert!(GarbageCollector::interesting(&o));
    }
}
