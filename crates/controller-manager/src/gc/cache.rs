//! The garbage collector's metadata cache: of every object it watches, only what it reads (uid,
//! resourceVersion, owners, finalizers, whether it is being deleted), with a uid index and an
//! owner → dependents index, rebuilt from each relist as a reflector store would be.

use super::{resource_of, FOREGROUND, ORPHAN};
use crate::shared::split_key;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Where an object lives: resource index, namespace ("" if cluster-scoped), name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Loc {
    pub res: usize,
    pub ns: Arc<str>,
    pub name: Arc<str>,
}

impl Loc {
    pub fn new(res: usize, ns: &str, name: &str) -> Loc {
        Loc {
            res,
            ns: ns.into(),
            name: name.into(),
        }
    }

    /// The work-queue key.
    pub fn key(&self) -> String {
        format!("{}|{}/{}", self.res, self.ns, self.name)
    }

    pub fn parse(k: &str) -> Option<Loc> {
        let (res, rest) = k.split_once('|')?;
        let (ns, name) = split_key(rest);
        Some(Loc::new(res.parse().ok()?, ns, name))
    }
}

/// What the collector reads of an ownerReference: the owner's uid, name and resource (its
/// apiVersion and kind resolved on arrival; `None` for a kind we do not serve) and whether it
/// blocks the owner's foreground deletion.
#[derive(Clone, Debug, PartialEq)]
pub struct Owner {
    pub uid: Arc<str>,
    pub name: Box<str>,
    pub res: Option<u8>,
    pub blocks: bool,
}

/// What the collector reads of an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub uid: Arc<str>,
    pub resource_version: Box<str>,
    pub owners: Box<[Owner]>,
    pub finalizers: Box<[Box<str>]>,
    /// It has a deletionTimestamp.
    pub deleting: bool,
    /// The relist of its resource that last saw it.
    listed: u32,
}

impl Entry {
    pub fn from_meta(m: &ObjectMeta) -> Entry {
        let owners = m.owner_references.as_deref().unwrap_or_default();
        Entry {
            uid: m.uid.as_deref().unwrap_or_default().into(),
            resource_version: m.resource_version.as_deref().unwrap_or_default().into(),
            owners: owners
                .iter()
                .map(|r| Owner {
                    uid: r.uid.as_str().into(),
                    name: r.name.as_str().into(),
                    res: resource_of(r).and_then(|i| u8::try_from(i).ok()),
                    blocks: r.block_owner_deletion == Some(true),
                })
                .collect(),
            finalizers: m
                .finalizers
                .iter()
                .flatten()
                .map(|f| f.as_str().into())
                .collect(),
            deleting: m.deletion_timestamp.is_some(),
            listed: 0,
        }
    }

    pub fn has_finalizer(&self, f: &str) -> bool {
        self.finalizers.iter().any(|x| &**x == f)
    }

    /// Whether the collector has work on it: owners to check, or dependents to orphan or
    /// delete before its deletion can finish.
    pub fn interesting(&self) -> bool {
        !self.owners.is_empty()
            || (self.deleting && (self.has_finalizer(ORPHAN) || self.has_finalizer(FOREGROUND)))
    }
}

pub struct Cache {
    objects: HashMap<Loc, Entry>,
    uids: HashMap<Arc<str>, Loc>,
    /// owner uid → uids of the objects referencing it.
    dependents: HashMap<Arc<str>, HashSet<Arc<str>>>,
    /// Each namespace's name, shared by the locations in it.
    namespaces: HashSet<Arc<str>>,
    /// Per resource: the number of the (re)list in progress or last finished.
    relists: Vec<u32>,
    /// Per resource: whether a list has finished.
    synced: Vec<bool>,
}

impl Cache {
    pub fn new(resources: usize) -> Cache {
        Cache {
            objects: HashMap::new(),
            uids: HashMap::new(),
            dependents: HashMap::new(),
            namespaces: HashSet::new(),
            relists: vec![0; resources],
            synced: vec![false; resources],
        }
    }

    fn loc(&mut self, res: usize, m: &ObjectMeta) -> Loc {
        let ns = m.namespace.as_deref().unwrap_or_default();
        let ns = match self.namespaces.get(ns) {
            Some(ns) => ns.clone(),
            None => {
                let ns: Arc<str> = ns.into();
                self.namespaces.insert(ns.clone());
                ns
            }
        };
        Loc {
            res,
            ns,
            name: m.name.as_deref().unwrap_or_default().into(),
        }
    }

    /// The one copy of a uid string already held, if any.
    fn shared_uid(&self, uid: &Arc<str>) -> Arc<str> {
        self.uids
            .get_key_value(uid)
            .map(|(k, _)| k)
            .or_else(|| self.dependents.get_key_value(uid).map(|(k, _)| k))
            .unwrap_or(uid)
            .clone()
    }

    /// Record an object added, modified or listed; returns where it is and what was there.
    pub fn apply(&mut self, res: usize, m: &ObjectMeta) -> (Loc, Option<Entry>) {
        let loc = self.loc(res, m);
        let old = self.remove(&loc);
        let mut e = Entry::from_meta(m);
        e.listed = self.relists[res];
        e.uid = self.shared_uid(&e.uid);
        for o in e.owners.iter_mut() {
            o.uid = self.shared_uid(&o.uid);
            self.dependents
                .entry(o.uid.clone())
                .or_default()
                .insert(e.uid.clone());
        }
        if !e.uid.is_empty() {
            self.uids.insert(e.uid.clone(), loc.clone());
        }
        self.objects.insert(loc.clone(), e);
        (loc, old)
    }

    /// Forget an object deleted.
    pub fn delete(&mut self, res: usize, m: &ObjectMeta) -> Option<Entry> {
        let loc = Loc::new(
            res,
            m.namespace.as_deref().unwrap_or_default(),
            m.name.as_deref().unwrap_or_default(),
        );
        self.remove(&loc)
    }

    fn remove(&mut self, loc: &Loc) -> Option<Entry> {
        let e = self.objects.remove(loc)?;
        if self.uids.get(&e.uid) == Some(loc) {
            self.uids.remove(&e.uid);
        }
        for o in e.owners.iter() {
            if let Some(deps) = self.dependents.get_mut(&o.uid) {
                deps.remove(&e.uid);
                if deps.is_empty() {
                    self.dependents.remove(&o.uid);
                }
            }
        }
        Some(e)
    }

    /// A (re)list of `res` starts: what it lists replaces what is held of `res`.
    pub fn relisting(&mut self, res: usize) {
        self.relists[res] = self.relists[res].wrapping_add(1);
    }

    /// The (re)list of `res` finished: drop its objects that it did not list (gone while the
    /// watch was down), as a reflector's swap does.
    pub fn resynced(&mut self, res: usize) {
        let relist = self.relists[res];
        let gone: Vec<Loc> = self
            .objects
            .iter()
            .filter(|(l, e)| l.res == res && e.listed != relist)
            .map(|(l, _)| l.clone())
            .collect();
        for l in &gone {
            self.remove(l);
        }
        self.synced[res] = true;
    }

    /// Whether every resource has been listed once.
    pub fn synced(&self) -> bool {
        self.synced.iter().all(|s| *s)
    }

    pub fn get(&self, loc: &Loc) -> Option<Entry> {
        self.entry(loc).cloned()
    }

    /// The entry at `loc`, borrowed (for a look without a copy).
    pub fn entry(&self, loc: &Loc) -> Option<&Entry> {
        self.objects.get(loc)
    }

    pub fn loc_of_uid(&self, uid: &str) -> Option<Loc> {
        self.uids.get(uid).cloned()
    }

    /// The objects of `res`.
    pub fn of_resource(&self, res: usize) -> impl Iterator<Item = (&Loc, &Entry)> {
        self.objects.iter().filter(move |(l, _)| l.res == res)
    }

    /// Every object with an ownerReference to `uid`.
    pub fn dependents(&self, uid: &str) -> Vec<(Loc, Entry)> {
        let Some(deps) = self.dependents.get(uid) else {
            return Vec::new();
        };
        deps.iter()
            .filter_map(|d| {
                let loc = self.uids.get(d)?;
                Some((loc.clone(), self.objects.get(loc)?.clone()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PODS: usize = 0;
    const RS: usize = 11;

    fn meta(v: serde_json::Value) -> ObjectMeta {
        serde_json::from_value(v).unwrap()
    }

    fn pod(name: &str, uid: &str, owner: Option<&str>) -> ObjectMeta {
        let refs: Vec<_> = owner
            .into_iter()
            .map(|o| {
                json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                "uid": o, "controller": true, "blockOwnerDeletion": true})
            })
            .collect();
        meta(json!({"name": name, "namespace": "default", "uid": uid,
            "resourceVersion": "1", "ownerReferences": refs}))
    }

    fn names(c: &Cache, res: usize) -> Vec<String> {
        let mut v: Vec<String> = c
            .of_resource(res)
            .map(|(l, _)| l.name.to_string())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn an_entry_holds_only_what_the_collector_reads() {
        let m = meta(json!({"name": "web-1", "namespace": "default", "uid": "u1",
            "resourceVersion": "42", "creationTimestamp": "2025-12-31T00:00:00Z",
            "generateName": "web-", "labels": {"app": "web"}, "annotations": {"note": "x"},
            "finalizers": ["foregroundDeletion"], "deletionTimestamp": "2026-01-01T00:00:00Z",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "u0",
                    "controller": true, "blockOwnerDeletion": true},
                {"apiVersion": "example.com/v1", "kind": "Widget", "name": "w", "uid": "u9"}]}));
        let e = Entry::from_meta(&m);
        let expected = Entry {
            uid: "u1".into(),
            resource_version: "42".into(),
            owners: vec![
                Owner {
                    uid: "u0".into(),
                    name: "web".into(),
                    res: Some(RS as u8),
                    blocks: true,
                },
                // A kind we do not serve: no resource, so the reference is dangling.
                Owner {
                    uid: "u9".into(),
                    name: "w".into(),
                    res: None,
                    blocks: false,
                },
            ]
            .into(),
            finalizers: vec!["foregroundDeletion".into()].into(),
            deleting: true,
            listed: 0,
        };
        assert_eq!(e, expected);
        assert!(e.interesting());
        // Five pointers and two small fields, against ~360 bytes of ObjectMeta plus TypeMeta.
        assert!(std::mem::size_of::<Entry>() <= 72);
        assert!(std::mem::size_of::<Owner>() <= 40);
    }

    #[test]
    fn a_relist_drops_objects_that_disappeared_while_the_watch_was_down() {
        let mut c = Cache::new(RS + 1);
        c.relisting(PODS);
        c.apply(PODS, &pod("a", "ua", Some("rs")));
        c.apply(PODS, &pod("b", "ub", Some("rs")));
        c.resynced(PODS);
        c.relisting(RS);
        c.apply(
            RS,
            &meta(json!({"name": "web", "namespace": "default", "uid": "rs"})),
        );
        c.resynced(RS);
        assert_eq!(names(&c, PODS), ["a", "b"]);

        // The watch drops; meanwhile `a` is deleted and `c` created.
        c.relisting(PODS);
        c.apply(PODS, &pod("b", "ub", Some("rs")));
        c.apply(PODS, &pod("c", "uc", Some("rs")));
        c.resynced(PODS);
        assert_eq!(names(&c, PODS), ["b", "c"]);
        assert_eq!(c.loc_of_uid("ua"), None);
        let mut deps: Vec<_> = c.dependents("rs").into_iter().map(|d| d.0.name).collect();
        deps.sort();
        assert_eq!(deps, [Arc::from("b"), Arc::from("c")]);
        // Another resource's objects are not part of the pods' relist.
        assert_eq!(names(&c, RS), ["web"]);
    }

    #[test]
    fn a_relist_retried_from_scratch_keeps_only_what_the_last_attempt_listed() {
        let mut c = Cache::new(1);
        c.relisting(PODS);
        c.apply(PODS, &pod("a", "ua", None));
        // The list failed half way; the watcher lists again, and `a` is gone by then.
        c.relisting(PODS);
        c.apply(PODS, &pod("b", "ub", None));
        assert!(!c.synced());
        c.resynced(PODS);
        assert!(c.synced());
        assert_eq!(names(&c, PODS), ["b"]);
    }

    #[test]
    fn dependents_are_found_through_the_owner_index_and_forgotten_when_they_go() {
        let mut c = Cache::new(RS + 1);
        c.apply(PODS, &pod("a", "ua", Some("rs")));
        c.apply(PODS, &pod("b", "ub", Some("rs")));
        c.apply(PODS, &pod("lone", "ul", None));
        let (loc, _) = c.apply(PODS, &pod("other", "uo", Some("rs2")));
        let mut deps: Vec<_> = c.dependents("rs").into_iter().map(|d| d.0.name).collect();
        deps.sort();
        assert_eq!(deps, [Arc::from("a"), Arc::from("b")]);
        assert_eq!(c.dependents("rs2")[0].0, loc);

        // `b` drops its reference; `a` is deleted.
        c.apply(PODS, &pod("b", "ub", None));
        let gone = c.delete(PODS, &pod("a", "ua", Some("rs"))).unwrap();
        assert_eq!(&*gone.owners[0].uid, "rs");
        assert!(c.dependents("rs").is_empty());
        assert!(!c.dependents.contains_key("rs"), "no empty sets are left");
        assert_eq!(c.dependents("rs2").len(), 1);
    }

    #[test]
    fn an_object_is_found_by_uid_and_a_replacement_by_its_new_uid_only() {
        let mut c = Cache::new(1);
        let (loc, old) = c.apply(PODS, &pod("a", "u1", None));
        assert_eq!(old, None);
        assert_eq!(c.loc_of_uid("u1"), Some(loc.clone()));
        // Deleted and re-created under the same name (a missed delete, seen as a modification).
        let (_, old) = c.apply(PODS, &pod("a", "u2", None));
        assert_eq!(old.map(|o| o.uid), Some(Arc::from("u1")));
        assert_eq!(c.loc_of_uid("u1"), None);
        assert_eq!(c.loc_of_uid("u2"), Some(loc));
    }

    #[test]
    fn dependents_share_their_owners_uid_string() {
        let mut c = Cache::new(RS + 1);
        c.apply(
            RS,
            &meta(json!({"name": "web", "namespace": "default", "uid": "rs"})),
        );
        c.apply(PODS, &pod("a", "ua", Some("rs")));
        c.apply(PODS, &pod("b", "ub", Some("rs")));
        let owner = c.get(&Loc::new(RS, "default", "web")).unwrap().uid;
        for (_, d) in c.dependents("rs") {
            assert!(Arc::ptr_eq(&d.owners[0].uid, &owner));
        }
        let (a, b) = (c.loc_of_uid("ua").unwrap(), c.loc_of_uid("ub").unwrap());
        assert!(Arc::ptr_eq(&a.ns, &b.ns), "one copy of each namespace name");
    }
}
