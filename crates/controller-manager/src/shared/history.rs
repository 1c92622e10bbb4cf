//! ControllerRevision history (`pkg/controller/history`, §0), shared by the StatefulSet and
//! DaemonSet controllers: the revision's data is the template patch
//! `{"spec":{"template":{…,"$patch":"replace"}}}` (what `kubectl rollout undo` applies back),
//! revisions are named `<parent>-<hash>`, an equal revision is reused (and bumped to the
//! newest number when it is older), a collision bumps the collision count, and revisions no
//! longer referenced are pruned oldest first beyond `revisionHistoryLimit`.

use super::is_already_exists;
use crate::deployment::util::normalize;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// The label naming a pod's (or a revision's) ControllerRevision hash.
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";

/// FNV-1, 32 bit (`fnv.New32`, multiply then xor).
pub fn fnv32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h = h.wrapping_mul(0x0100_0193);
        h ^= *b as u32;
    }
    h
}

/// `HashControllerRevision`: fnv32 over the data, then the collision count in decimal.
pub fn hash_data(data: &Value, probe: Option<i32>) -> String {
    let mut bytes = serde_json::to_vec(data).unwrap_or_default();
    if let Some(p) = probe {
        bytes.extend_from_slice(p.to_string().as_bytes());
    }
    apimachinery::names::safe_encode_string(&fnv32(&bytes).to_string())
}

/// `ControllerRevisionName`: `<parent[:223]>-<hash>`.
pub fn revision_name(parent: &str, hash: &str) -> String {
    let p: String = parent.chars().take(223).collect();
    format!("{p}-{hash}")
}

/// The revision data of a template: `{"spec":{"template":{…,"$patch":"replace"}}}`.
pub fn template_patch(template: &PodTemplateSpec) -> Value {
    let mut t = serde_json::to_value(template).unwrap_or_else(|_| json!({}));
    if let Some(m) = t.as_object_mut() {
        m.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": t}})
}

/// The template a revision's data holds (`ApplyRevision` for the template only).
pub fn template_of(rev: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut t = rev.data.as_ref()?.0.pointer("/spec/template")?.clone();
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    serde_json::from_value(t).ok()
}

/// Whether two revision data are the same template (semantically: a template that went
/// through a typed round trip, as `kubectl rollout undo` sends it, still matches).
pub fn equal_data(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

pub fn revision_data(rev: &ControllerRevision) -> Value {
    rev.data
        .as_ref()
        .map(|d| d.0.clone())
        .unwrap_or(Value::Null)
}

/// The revisions in `all` controlled by `owner_uid` in `namespace`, oldest first.
pub fn owned(
    all: &[Arc<ControllerRevision>],
    namespace: &str,
    owner_uid: &str,
) -> Vec<ControllerRevision> {
    let mut v: Vec<ControllerRevision> = all
        .iter()
        .filter(|r| r.metadata.namespace.as_deref() == Some(namespace))
        .filter(|r| super::pods::controller_ref(&r.metadata).is_some_and(|o| o.uid == owner_uid))
        .map(|r| (**r).clone())
        .collect();
    sort(&mut v);
    v
}

/// Oldest first: by revision number, then name.
pub fn sort(revs: &mut [ControllerRevision]) {
    revs.sort_by(|a, b| {
        a.revision
            .cmp(&b.revision)
            .then_with(|| a.name_any().cmp(&b.name_any()))
    });
}

/// `nextRevision`: one more than the newest.
pub fn next_revision(revs: &[ControllerRevision]) -> i64 {
    revs.iter().map(|r| r.revision).max().unwrap_or(0) + 1
}

/// What to build a revision from.
pub struct NewRevision<'a> {
    pub parent: &'a str,
    pub namespace: &'a str,
    pub owner: OwnerReference,
    /// The template's labels (the revision carries them plus the hash label).
    pub labels: BTreeMap<String, String>,
    pub data: Value,
    /// The hash for a collision count (StatefulSet: `hash_data`; DaemonSet: `ComputeHash`).
    pub hash: &'a (dyn Fn(Option<i32>) -> String + Sync),
}

/// The ControllerRevision API calls.
#[derive(Clone)]
pub struct History {
    client: Client,
}

impl History {
    pub fn new(client: Client) -> Self {
        History { client }
    }

    fn api(&self, ns: &str) -> Api<ControllerRevision> {
        Api::namespaced(self.client.clone(), ns)
    }

    /// The update revision for `new` among `revs` (oldest first): an equal latest revision is
    /// reused, an equal older one is bumped to the next number, otherwise a new one is created
    /// (`CreateControllerRevision`, incrementing `collision_count` on a hash collision).
    pub async fn update_revision(
        &self,
        new: &NewRevision<'_>,
        revs: &[ControllerRevision],
        collision_count: &mut i32,
    ) -> Result<ControllerRevision, kube::Error> {
        let next = next_revision(revs);
        let equal: Vec<&ControllerRevision> = revs
            .iter()
            .filter(|r| equal_data(&revision_data(r), &new.data))
            .collect();
        if let Some(latest) = equal.last() {
            if Some(latest.name_any()) == revs.last().map(|r| r.name_any()) {
                return Ok((*latest).clone());
            }
            let patched = self
                .api(new.namespace)
                .patch(
                    &latest.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(json!({"revision": next})),
                )
                .await?;
            return Ok(patched);
        }
        loop {
            let hash = (new.hash)(Some(*collision_count));
            let mut labels = new.labels.clone();
            labels.insert(REVISION_HASH_LABEL.into(), hash.clone());
            let rev = ControllerRevision {
                metadata: ObjectMeta {
                    name: Some(revision_name(new.parent, &hash)),
                    namespace: Some(new.namespace.into()),
                    labels: Some(labels),
                    owner_references: Some(vec![new.owner.clone()]),
                    ..Default::default()
                },
                data: Some(RawExtension(new.data.clone())),
                revision: next,
            };
            match self
                .api(new.namespace)
                .create(&PostParams::default(), &rev)
                .await
            {
                Ok(r) => return Ok(r),
                Err(e) if is_already_exists(&e) => {
                    let existing = self.api(new.namespace).get(&rev.name_any()).await?;
                    let ours = super::pods::controller_ref(&existing.metadata)
                        .is_some_and(|o| o.uid == new.owner.uid);
                    if ours && equal_data(&revision_data(&existing), &new.data) {
                        return Ok(existing);
                    }
                    *collision_count += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Delete the oldest revisions not in `live` beyond `limit`.
    pub async fn truncate(
        &self,
        namespace: &str,
        revs: &[ControllerRevision],
        live: &HashSet<String>,
        limit: i32,
    ) -> Result<(), kube::Error> {
        let stale: Vec<&ControllerRevision> = revs
            .iter()
            .filter(|r| !live.contains(&r.name_any()))
            .collect();
        let excess = stale.len().saturating_sub(limit.max(0) as usize);
        for r in stale.into_iter().take(excess) {
            match self
                .api(namespace)
                .delete(&r.name_any(), &DeleteParams::default())
                .await
            {
                Ok(_) => {}
                Err(e) if super::is_not_found(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv32_multiplies_before_it_xors_unlike_fnv32a() {
        // Reference values of Go's hash/fnv New32 and New32a.
        assert_eq!(fnv32(b""), 0x811c_9dc5);
        assert_eq!(fnv32(b"a"), 0x050c_5d7e);
        assert_eq!(crate::deployment::util::fnv32a(b"a"), 0xe40c_292c);
    }

    #[test]
    fn revision_hashes_change_with_the_collision_count_and_use_safe_encoding() {
        let data = json!({"spec": {"template": {"$patch": "replace"}}});
        let a = hash_data(&data, None);
        let b = hash_data(&data, Some(1));
        assert_ne!(a, b);
        assert!(a.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        assert_eq!(a, hash_data(&data, None));
    }

    #[test]
    fn revision_names_truncate_the_parent_to_223_characters() {
        assert_eq!(revision_name("web", "abc"), "web-abc");
        assert_eq!(revision_name(&"x".repeat(300), "h").len(), 225);
    }

    #[test]
    fn template_patches_replace_the_template_and_round_trip() {
        let t: PodTemplateSpec = serde_json::from_value(json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}
        }))
        .unwrap();
        let data = template_patch(&t);
        assert_eq!(data["spec"]["template"]["$patch"], "replace");
        let rev = ControllerRevision {
            data: Some(RawExtension(data.clone())),
            ..Default::default()
        };
        assert_eq!(template_of(&rev), Some(t));
        let mut round = data.clone();
        round["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({});
        assert!(equal_data(&data, &round));
    }
}
