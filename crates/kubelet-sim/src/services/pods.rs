//! The EndpointSlice controller's cache of every pod in the cluster, by uid: `PodInfo`, a pod
//! reduced to what slices and Endpoints need, kept small since there is one per pod.
//!
//! Layout: the uid is stored once (the set is keyed by the `PodInfo`'s own uid); per-pod
//! strings are `Box<str>` (no spare capacity); what many pods share (the namespace, the node
//! name, the label set of their template) is an `Arc` from the cache's interners; what few pods
//! have (hostname, subdomain, named container ports) sits behind one `Option<Box<Extra>>`.
//! The interners forget a value once no cached pod holds it.

use crate::intern::Interner;
use crate::small_map::SmallMap;
use k8s_openapi::api::core::v1::Pod;
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A pod as the controller needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodInfo {
    pub name: Box<str>,
    pub uid: Box<str>,
    pub namespace: Arc<str>,
    pub labels: Arc<SmallMap>,
    pub ip: Option<Box<str>>,
    pub node: Option<Arc<str>>,
    /// Set only when the pod has a hostname, a subdomain or a named container port.
    pub extra: Option<Box<Extra>>,
    pub ready: bool,
    pub terminating: bool,
    pub terminal: bool,
}

/// What few pods have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extra {
    pub hostname: Option<Box<str>>,
    pub subdomain: Option<Box<str>>,
    /// Named container ports: name → (port, protocol).
    pub ports: BTreeMap<String, (i32, String)>,
}

impl PodInfo {
    pub fn hostname(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|x| x.hostname.as_deref())
    }

    pub fn subdomain(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|x| x.subdomain.as_deref())
    }

    /// The named container port `name`: (port, protocol).
    pub fn named_port(&self, name: &str) -> Option<&(i32, String)> {
        self.extra.as_ref().and_then(|x| x.ports.get(name))
    }
}

/// The `PodInfo`s by uid (hashed and compared by uid only; looked up by `&str`).
#[derive(Debug)]
struct ByUid(PodInfo);

impl PartialEq for ByUid {
    fn eq(&self, other: &Self) -> bool {
        self.0.uid == other.0.uid
    }
}

impl Eq for ByUid {}

impl Hash for ByUid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, which `Borrow<str>` requires.
        (*self.0.uid).hash(state)
    }
}

impl Borrow<str> for ByUid {
    fn borrow(&self) -> &str {
        &self.0.uid
    }
}

/// Every pod of the cluster as last seen, and the values they share.
#[derive(Debug, Default)]
pub struct PodCache {
    pods: HashSet<ByUid>,
    /// Namespaces and node names.
    strings: Interner<str>,
    labels: Interner<SmallMap>,
}

impl PodCache {
    /// Cache `p`. Unless it is cached unchanged, `changed` gets the namespace and labels it had
    /// (when it was cached) and those it has now.
    pub fn apply(&mut self, p: &Pod, mut changed: impl FnMut(&str, &SmallMap)) {
        let info = self.info(p);
        if let Some(old) = self.pods.get(&*info.uid) {
            if old.0 == info {
                // Its shared parts are the old one's: dropping it leaves them held.
                return;
            }
            changed(&old.0.namespace, &old.0.labels);
        }
        changed(&info.namespace, &info.labels);
        self.pods.replace(ByUid(info));
    }

    /// Forget the pod `uid`; `changed` gets the namespace and labels it had.
    pub fn remove(&mut self, uid: &str, changed: impl FnOnce(&str, &SmallMap)) {
        if let Some(old) = self.pods.take(uid) {
            changed(&old.0.namespace, &old.0.labels);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &PodInfo> {
        self.pods.iter().map(|p| &p.0)
    }

    /// A pod as the controller keeps it, its shared parts interned.
    fn info(&mut self, p: &Pod) -> PodInfo {
        // Borrowed, not cloned: this runs for every event of every pod.
        let (spec, status) = (p.spec.as_ref(), p.status.as_ref());
        let extra = Extra {
            hostname: spec.and_then(|s| s.hostname.as_deref()).map(Box::from),
            subdomain: spec.and_then(|s| s.subdomain.as_deref()).map(Box::from),
            ports: spec
                .into_iter()
                .flat_map(|s| &s.containers)
                .flat_map(|c| c.ports.iter().flatten())
                .filter_map(|p| {
                    p.name.clone().map(|n| {
                        (
                            n,
                            (
                                p.container_port,
                                p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                            ),
                        )
                    })
                })
                .collect(),
        };
        PodInfo {
            name: p.metadata.name.as_deref().unwrap_or_default().into(),
            uid: p.metadata.uid.as_deref().unwrap_or_default().into(),
            namespace: self
                .strings
                .intern(p.metadata.namespace.as_deref().unwrap_or_default()),
            labels: self
                .labels
                .intern(SmallMap::from(p.metadata.labels.as_ref())),
            ip: status
                .and_then(|s| s.pod_ip.as_deref())
                .filter(|i| !i.is_empty())
                .map(Box::from),
            node: spec
                .and_then(|s| s.node_name.as_deref())
                .filter(|n| !n.is_empty())
                .map(|n| self.strings.intern(n)),
            extra: (extra != Extra::default()).then(|| Box::new(extra)),
            ready: status
                .and_then(|s| s.conditions.as_ref())
                .into_iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True"),
            terminating: p.metadata.deletion_timestamp.is_some(),
            terminal: matches!(
                status.and_then(|s| s.phase.as_deref()),
                Some("Succeeded") | Some("Failed")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bench_pod(i: usize, node: &str, hash: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": format!("bench-{hash}-{i:05}"), "namespace": "default",
                         "uid": format!("uid-{i}"),
                         "labels": {"app": "bench", "pod-template-hash": hash}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "pause"}]},
            "status": {"podIP": format!("10.244.0.{i}"), "phase": "Running",
                       "conditions": [{"type": "Ready", "status": "True"}]},
        }))
        .unwrap()
    }

    fn cached<'a>(c: &'a PodCache, uid: &str) -> &'a PodInfo {
        c.iter().find(|p| &*p.uid == uid).unwrap()
    }

    #[test]
    fn a_cached_pod_of_the_endpoints_controller_stays_small() {
        // It was 216 bytes (and a 24-byte uid key beside it) with `String`s and a `BTreeMap`.
        assert!(std::mem::size_of::<PodInfo>() <= 104);
        let mut c = PodCache::default();
        c.apply(&bench_pod(1, "worker-1", "5d"), |_, _| {});
        assert!(cached(&c, "uid-1").extra.is_none(), "no rare fields here");
    }

    #[test]
    fn pods_of_one_template_share_their_labels_namespace_and_node() {
        let mut c = PodCache::default();
        c.apply(&bench_pod(1, "worker-1", "5d"), |_, _| {});
        c.apply(&bench_pod(2, "worker-1", "5d"), |_, _| {});
        let (a, b) = (cached(&c, "uid-1"), cached(&c, "uid-2"));
        assert!(Arc::ptr_eq(&a.labels, &b.labels));
        assert!(Arc::ptr_eq(&a.namespace, &b.namespace));
        assert!(Arc::ptr_eq(
            a.node.as_ref().unwrap(),
            b.node.as_ref().unwrap()
        ));
        assert_eq!(a.labels.get("app"), Some("bench"));
        assert_eq!((&*a.name, &*a.uid), ("bench-5d-00001", "uid-1"));
    }

    #[test]
    fn the_cache_forgets_namespaces_nodes_and_labels_no_pod_uses_any_more() {
        let mut c = PodCache::default();
        c.apply(&bench_pod(1, "worker-1", "5d"), |_, _| {});
        c.apply(&bench_pod(2, "worker-2", "5d"), |_, _| {});
        assert_eq!((c.strings.live(), c.labels.live()), (3, 1));
        // A new template and node for pod 1: the old node is no one's any more.
        c.apply(&bench_pod(1, "worker-3", "7f"), |_, _| {});
        assert_eq!((c.strings.live(), c.labels.live()), (3, 2));
        c.remove("uid-2", |_, _| {});
        assert_eq!((c.strings.live(), c.labels.live()), (2, 1));
        c.remove("uid-1", |_, _| {});
        assert_eq!((c.strings.live(), c.labels.live()), (0, 0));
    }

    #[test]
    fn an_unchanged_pod_reports_nothing_and_a_changed_one_its_old_and_new_labels() {
        let mut c = PodCache::default();
        let mut seen = Vec::new();
        c.apply(&bench_pod(1, "worker-1", "5d"), |ns, l| {
            seen.push((ns.to_string(), l.get("pod-template-hash").map(String::from)))
        });
        assert_eq!(seen, [("default".to_string(), Some("5d".to_string()))]);
        seen.clear();
        c.apply(&bench_pod(1, "worker-1", "5d"), |ns, _| {
            seen.push((ns.into(), None))
        });
        assert!(seen.is_empty());
        c.apply(&bench_pod(1, "worker-1", "7f"), |_, l| {
            seen.push(("".into(), l.get("pod-template-hash").map(String::from)))
        });
        let hashes: Vec<_> = seen.iter().map(|(_, h)| h.as_deref()).collect();
        assert_eq!(hashes, [Some("5d"), Some("7f")]);
        assert_eq!(c.iter().count(), 1);
    }

    #[test]
    fn hostname_subdomain_and_named_ports_are_kept_for_the_pods_that_have_them() {
        let p: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web-0", "namespace": "default", "uid": "u0"},
            "spec": {"hostname": "web-0", "subdomain": "web",
                     "containers": [{"name": "c", "image": "nginx",
                                     "ports": [{"name": "http", "containerPort": 80}]}]},
        }))
        .unwrap();
        let mut c = PodCache::default();
        c.apply(&p, |_, _| {});
        let info = cached(&c, "u0");
        assert_eq!(info.hostname(), Some("web-0"));
        assert_eq!(info.subdomain(), Some("web"));
        assert_eq!(info.named_port("http"), Some(&(80, "TCP".to_string())));
        assert_eq!(info.named_port("https"), None);
    }
}
