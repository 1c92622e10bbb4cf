//! What a pod's containers are given from the API besides the pod itself, as a v1.35 kubelet
//! does: environment variables from `valueFrom`/`envFrom` (`env`), `$(VAR)` references in
//! values, commands and args (`expand`), the files of configMap, secret, downwardAPI and
//! projected volumes (`projection`), and the downward API's field and resource values
//! (`fields`), and the pod's `/etc/hosts` (`hosts`). All of it is pure: the kubelet fetches the referenced ConfigMaps and Secrets
//! first (`kubelet::sources`) and hands them in as `Sources`.

pub mod env;
pub mod expand;
pub mod fields;
pub mod hosts;
pub mod projection;

use crate::lifecycle::PodSpecView;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The two kinds of object a pod reads data from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    ConfigMap,
    Secret,
}

impl Kind {
    /// The resource name in the kubelet's NotFound errors (`configmap "x" not found`).
    pub fn resource(self) -> &'static str {
        match self {
            Kind::ConfigMap => "configmap",
            Kind::Secret => "secret",
        }
    }

    /// The kind as the env errors name it (`couldn't find key k in ConfigMap ns/x`).
    pub fn kind(self) -> &'static str {
        match self {
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
        }
    }
}

/// A ConfigMap or Secret as the kubelet got it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// Its keys: a ConfigMap's `data` then `binaryData` (in `binary`), a Secret's decoded
    /// `data` with `stringData` merged in.
    Found {
        data: BTreeMap<String, String>,
        binary: BTreeMap<String, Vec<u8>>,
    },
    Missing,
    /// Any other error getting it (its text).
    Failed(String),
}

impl Fetched {
    pub fn of_config_map(cm: &ConfigMap) -> Fetched {
        Fetched::Found {
            data: cm.data.clone().unwrap_or_default(),
            binary: cm
                .binary_data
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.0.clone()))
                .collect(),
        }
    }

    /// A Secret's values are bytes; they go in `binary` (`stringData`, which the API server
    /// stores as written, wins over `data`).
    pub fn of_secret(s: &Secret) -> Fetched {
        let mut binary: BTreeMap<String, Vec<u8>> = s
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        for (k, v) in s.string_data.iter().flatten() {
            binary.insert(k.clone(), v.clone().into_bytes());
        }
        Fetched::Found {
            data: BTreeMap::new(),
            binary,
        }
    }
}

/// The node facts the downward API reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeFacts {
    pub host_ip: String,
    /// Allocatable CPU in millicores: `limits.cpu` of a container without a CPU limit.
    pub cpu_milli: i128,
    /// Allocatable memory in bytes: `limits.memory` of a container without a memory limit.
    pub memory: i128,
    /// Allocatable ephemeral storage in bytes.
    pub ephemeral_storage: i128,
}

/// What the kubelet fetched for one pod: the ConfigMaps and Secrets it references (by name,
/// in the pod's namespace) and its node's facts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    pub objects: HashMap<(Kind, String), Fetched>,
    pub node: NodeFacts,
}

impl Sources {
    /// An object the kubelet did not fetch counts as missing.
    pub fn get(&self, kind: Kind, name: &str) -> &Fetched {
        self.objects
            .get(&(kind, name.to_string()))
            .unwrap_or(&Fetched::Missing)
    }
}

/// Why data for a pod cannot be had; the text is the kubelet's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DataError(pub String);

/// A found object's keys: text (`data`) and bytes (`binary`).
pub type KeyMaps<'a> = (&'a BTreeMap<String, String>, &'a BTreeMap<String, Vec<u8>>);

/// An object's lookup, `Ok(None)` when it is missing and `optional`.
pub fn lookup<'a>(
    sources: &'a Sources,
    kind: Kind,
    name: &str,
    optional: bool,
) -> Result<Option<KeyMaps<'a>>, DataError> {
    match sources.get(kind, name) {
        Fetched::Found { data, binary } => Ok(Some((data, binary))),
        Fetched::Missing if optional => Ok(None),
        Fetched::Missing => Err(DataError(format!(
            "{} \"{name}\" not found",
            kind.resource()
        ))),
        Fetched::Failed(e) => Err(DataError(e.clone())),
    }
}

/// Every ConfigMap and Secret a pod's volumes and containers reference.
pub fn references(spec: &PodSpecView) -> BTreeSet<(Kind, String)> {
    let mut out = BTreeSet::new();
    for v in &spec.api_volumes {
        if let Some(c) = &v.config_map {
            out.insert((Kind::ConfigMap, c.name.clone()));
        }
        if let Some(s) = &v.secret {
            out.insert((Kind::Secret, s.secret_name.clone().unwrap_or_default()));
        }
        for p in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(c) = &p.config_map {
                out.insert((Kind::ConfigMap, c.name.clone()));
            }
            if let Some(s) = &p.secret {
                out.insert((Kind::Secret, s.name.clone()));
            }
        }
    }
    for c in spec.init_containers.iter().chain(&spec.containers) {
        for e in &c.env {
            let Some(from) = &e.value_from else { continue };
            if let Some(r) = &from.config_map_key_ref {
                out.insert((Kind::ConfigMap, r.name.clone()));
            }
            if let Some(r) = &from.secret_key_ref {
                out.insert((Kind::Secret, r.name.clone()));
            }
        }
        for f in &c.env_from {
            if let Some(r) = &f.config_map_ref {
                out.insert((Kind::ConfigMap, r.name.clone()));
            }
            if let Some(r) = &f.secret_ref {
                out.insert((Kind::Secret, r.name.clone()));
            }
        }
    }
    out
}
