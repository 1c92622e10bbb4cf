//! The files of a configMap, secret, downwardAPI or projected volume, as the kubelet's volume
//! plugins make their payload (`configmap.MakePayload`, `secret.MakePayload`,
//! `downwardapi.CollectData`, `projected.collectData`): every key as a file named after it, or
//! only the `items` listed (key → path, with its `mode`), `defaultMode` (0644) otherwise; a
//! missing non-optional object or key is an error with the plugin's words. Paths are checked
//! as the atomic writer checks them. `serviceAccountToken`, `clusterTrustBundle` and
//! `podCertificate` sources give no file here (there is no token issuer).

use super::fields::{field_value, resource_value, PodFields};
use super::{lookup, DataError, Kind, Sources};
use crate::runtime::VolumeFile;
use k8s_openapi::api::core::v1::{DownwardAPIVolumeFile, KeyToPath, Volume};
use std::collections::BTreeMap;

/// `defaultMode` when the pod does not set one (0644).
pub const DEFAULT_MODE: i32 = 0o644;

type Payload = BTreeMap<String, (Vec<u8>, i32)>;

/// Whether `v` is a volume the kubelet fills from the API.
pub fn is_api_data(v: &Volume) -> bool {
    v.config_map.is_some()
        || v.secret.is_some()
        || v.downward_api.is_some()
        || v.projected.is_some()
}

/// The atomic writer's path rules: relative, no `..` element, not starting with `..`.
fn check_path(path: &str) -> Result<(), DataError> {
    let bad = |why: &str| Err(DataError(format!("invalid path: {why}: {path}")));
    if path.starts_with('/') {
        return bad("must be relative path");
    }
    if path.len() > 4096 {
        return bad("must be less than or equal to 4096 characters");
    }
    if path.split('/').any(|p| p == "..") {
        return bad("must not contain '..'");
    }
    if path.starts_with("..") {
        return bad("must not start with '..'");
    }
    Ok(())
}

/// A ConfigMap or Secret whose keys a volume takes.
struct Keys<'a> {
    kind: Kind,
    name: &'a str,
    items: Option<&'a Vec<KeyToPath>>,
    optional: bool,
}

/// A part of a volume's payload, in the order the volume lists them.
enum Part<'a> {
    Keys(Keys<'a>),
    Downward(&'a [DownwardAPIVolumeFile]),
}

/// A ConfigMap's or Secret's keys as files (`MakePayload`).
fn keys(sources: &Sources, k: &Keys<'_>, mode: i32, out: &mut Payload) -> Result<(), DataError> {
    let empty = (BTreeMap::new(), BTreeMap::new());
    let (data, binary) =
        lookup(sources, k.kind, k.name, k.optional)?.unwrap_or((&empty.0, &empty.1));
    let value = |key: &str| {
        data.get(key)
            .map(|s| s.as_bytes().to_vec())
            .or_else(|| binary.get(key).cloned())
    };
    match k.items.filter(|i| !i.is_empty()) {
        None => {
            for key in data.keys().chain(binary.keys()) {
                out.insert(key.clone(), (value(key).unwrap_or_default(), mode));
            }
        }
        Some(items) => {
            for item in items {
                let Some(bytes) = value(&item.key) else {
                    if k.optional {
                        continue;
                    }
                    return Err(DataError(match k.kind {
                        Kind::ConfigMap => {
                            format!("configmap references non-existent config key: {}", item.key)
                        }
                        Kind::Secret => {
                            format!("references non-existent secret key: {}", item.key)
                        }
                    }));
                };
                out.insert(item.path.clone(), (bytes, item.mode.unwrap_or(mode)));
            }
        }
    }
    Ok(())
}

/// Downward API items as files (`CollectData`).
fn downward(
    items: &[DownwardAPIVolumeFile],
    pod: &PodFields<'_>,
    mode: i32,
    out: &mut Payload,
) -> Result<(), DataError> {
    for item in items {
        let value = if let Some(f) = &item.field_ref {
            field_value(&f.field_path, pod)?
        } else if let Some(r) = &item.resource_field_ref {
            let name = r.container_name.as_deref().unwrap_or_default();
            let c = pod
                .spec
                .init_containers
                .iter()
                .chain(&pod.spec.containers)
                .find(|c| c.name == name)
                .ok_or_else(|| DataError(format!("container {name} not found")))?;
            resource_value(r, c, pod.node)?
        } else {
            String::new()
        };
        out.insert(
            item.path.clone(),
            (value.into_bytes(), item.mode.unwrap_or(mode)),
        );
    }
    Ok(())
}

impl<'a> Part<'a> {
    fn keys(
        kind: Kind,
        name: &'a str,
        items: &'a Option<Vec<KeyToPath>>,
        optional: Option<bool>,
    ) -> Part<'a> {
        Part::Keys(Keys {
            kind,
            name,
            items: items.as_ref(),
            optional: optional.unwrap_or(false),
        })
    }

    fn downward(items: &'a Option<Vec<DownwardAPIVolumeFile>>) -> Part<'a> {
        Part::Downward(items.as_deref().unwrap_or_default())
    }
}

/// Volume `v`'s `defaultMode` and payload parts.
fn parts(v: &Volume) -> (Option<i32>, Vec<Part<'_>>) {
    if let Some(c) = &v.config_map {
        let part = Part::keys(Kind::ConfigMap, &c.name, &c.items, c.optional);
        (c.default_mode, vec![part])
    } else if let Some(s) = &v.secret {
        let name = s.secret_name.as_deref().unwrap_or_default();
        let part = Part::keys(Kind::Secret, name, &s.items, s.optional);
        (s.default_mode, vec![part])
    } else if let Some(d) = &v.downward_api {
        (d.default_mode, vec![Part::downward(&d.items)])
    } else if let Some(p) = &v.projected {
        let mut list = Vec::new();
        for s in p.sources.iter().flatten() {
            if let Some(c) = &s.config_map {
                list.push(Part::keys(Kind::ConfigMap, &c.name, &c.items, c.optional));
            }
            if let Some(c) = &s.secret {
                list.push(Part::keys(Kind::Secret, &c.name, &c.items, c.optional));
            }
            if let Some(d) = &s.downward_api {
                list.push(Part::downward(&d.items));
            }
        }
        (p.default_mode, list)
    } else {
        (None, Vec::new())
    }
}

/// The files of volume `v` (sorted by path); empty for a volume that is not API data.
pub fn project(
    v: &Volume,
    pod: &PodFields<'_>,
    sources: &Sources,
) -> Result<Vec<VolumeFile>, DataError> {
    let (mode, parts) = parts(v);
    let mode = mode.unwrap_or(DEFAULT_MODE);
    let mut out = Payload::new();
    for part in &parts {
        match part {
            Part::Keys(k) => keys(sources, k, mode, &mut out)?,
            Part::Downward(items) => downward(items, pod, mode, &mut out)?,
        }
    }
    out.into_iter()
        .map(|(path, (data, mode))| {
            check_path(&path)?;
            Ok(VolumeFile {
                path,
                data,
                mode: (mode & 0o777) as u32,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apidata::{Fetched, NodeFacts};
    use crate::lifecycle::PodSpecView;
    use serde_json::{json, Value};

    fn sources() -> Sources {
        let mut s = Sources::default();
        s.objects.insert(
            (Kind::ConfigMap, "app".into()),
            Fetched::Found {
                data: [
                    ("a.conf".to_string(), "x=1\n".to_string()),
                    ("b".to_string(), "2".to_string()),
                ]
                .into(),
                binary: [("logo.bin".to_string(), vec![0, 159, 255])].into(),
            },
        );
        s.objects.insert(
            (Kind::Secret, "creds".into()),
            Fetched::Found {
                data: BTreeMap::new(),
                binary: [("password".to_string(), b"s3cret".to_vec())].into(),
            },
        );
        s.node = NodeFacts {
            host_ip: "172.18.0.3".into(),
            cpu_milli: 2000,
            memory: 1 << 30,
            ephemeral_storage: 1 << 34,
        };
        s
    }

    fn files(volume: Value) -> Result<Vec<(String, String, u32)>, String> {
        let p: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u-1",
                "labels": {"b": "2", "a": "1"}},
            "spec": {"containers": [{"name": "main", "image": "busybox",
                "resources": {"limits": {"memory": "64Mi"}}}]}
        }))
        .unwrap();
        let spec = PodSpecView::from_pod(&p);
        let v: Volume = serde_json::from_value(volume).unwrap();
        let s = sources();
        let f = PodFields {
            spec: &spec,
            pod_ip: None,
            node: &s.node,
        };
        project(&v, &f, &s)
            .map(|fs| {
                fs.into_iter()
                    .map(|f| {
                        (
                            f.path,
                            String::from_utf8_lossy(&f.data).into_owned(),
                            f.mode,
                        )
                    })
                    .collect()
            })
            .map_err(|e| e.0)
    }

    fn want(list: &[(&str, &str, u32)]) -> Vec<(String, String, u32)> {
        list.iter()
            .map(|(p, d, m)| (p.to_string(), d.to_string(), *m))
            .collect()
    }

    #[test]
    fn volumes_project_every_key_or_the_listed_items_with_their_modes() {
        let table = [
            (
                json!({"name": "v", "configMap": {"name": "app"}}),
                want(&[
                    ("a.conf", "x=1\n", 0o644),
                    ("b", "2", 0o644),
                    ("logo.bin", "\0\u{fffd}\u{fffd}", 0o644),
                ]),
            ),
            (
                json!({"name": "v", "configMap": {"name": "app", "defaultMode": 0o400,
                    "items": [{"key": "a.conf", "path": "conf/app.conf"}, {"key": "b", "path": "b.txt", "mode": 0o600}]}}),
                want(&[("b.txt", "2", 0o600), ("conf/app.conf", "x=1\n", 0o400)]),
            ),
            (
                json!({"name": "v", "secret": {"secretName": "creds"}}),
                want(&[("password", "s3cret", 0o644)]),
            ),
            (
                json!({"name": "v", "configMap": {"name": "nope", "optional": true}}),
                want(&[]),
            ),
            (
                json!({"name": "v", "secret": {"secretName": "creds", "optional": true,
                    "items": [{"key": "user", "path": "u"}, {"key": "password", "path": "p"}]}}),
                want(&[("p", "s3cret", 0o644)]),
            ),
            (
                json!({"name": "v", "downwardAPI": {"items": [
                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                    {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o444},
                    {"path": "mem", "resourceFieldRef": {"containerName": "main", "resource": "limits.memory", "divisor": "1Mi"}}]}}),
                want(&[
                    ("labels", "a=\"1\"\nb=\"2\"", 0o644),
                    ("mem", "64", 0o644),
                    ("name", "web", 0o444),
                ]),
            ),
            (
                json!({"name": "v", "projected": {"defaultMode": 0o440, "sources": [
                    {"configMap": {"name": "app", "items": [{"key": "b", "path": "cm/b"}]}},
                    {"secret": {"name": "creds"}},
                    {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
                    {"serviceAccountToken": {"path": "token"}}]}}),
                want(&[
                    ("cm/b", "2", 0o440),
                    ("ns", "default", 0o440),
                    ("password", "s3cret", 0o440),
                ]),
            ),
        ];
        for (v, w) in table {
            assert_eq!(files(v.clone()).unwrap(), w, "{v}");
        }
    }

    #[test]
    fn a_missing_object_key_or_bad_path_fails_with_the_plugins_words() {
        let table = [
            (
                json!({"name": "v", "configMap": {"name": "nope"}}),
                "configmap \"nope\" not found",
            ),
            (
                json!({"name": "v", "secret": {"secretName": "nope"}}),
                "secret \"nope\" not found",
            ),
            (
                json!({"name": "v", "configMap": {"name": "app", "items": [{"key": "zz", "path": "z"}]}}),
                "configmap references non-existent config key: zz",
            ),
            (
                json!({"name": "v", "secret": {"secretName": "creds", "items": [{"key": "zz", "path": "z"}]}}),
                "references non-existent secret key: zz",
            ),
            (
                json!({"name": "v", "projected": {"sources": [{"configMap": {"name": "nope"}}]}}),
                "configmap \"nope\" not found",
            ),
            (
                json!({"name": "v", "configMap": {"name": "app", "items": [{"key": "b", "path": "../b"}]}}),
                "invalid path: must not contain '..': ../b",
            ),
            (
                json!({"name": "v", "configMap": {"name": "app", "items": [{"key": "b", "path": "/b"}]}}),
                "invalid path: must be relative path: /b",
            ),
        ];
        for (v, w) in table {
            assert_eq!(files(v.clone()).unwrap_err(), w, "{v}");
        }
    }
}
