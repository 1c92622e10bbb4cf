//! StatefulSet identity and storage (`stateful_set_utils.go`, §3), pure: ordinals, pod
//! names and labels, claims from the volumeClaimTemplates, health, the update arithmetic.

use crate::shared::cached_pod::CachedPod;
use crate::shared::history::REVISION_HASH_LABEL;
use crate::shared::pod_control::pod_from_template;
use crate::shared::pods::{is_available, is_ready};
use crate::shared::scaled;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::{Resource, ResourceExt};
use std::collections::BTreeMap;
use std::time::SystemTime;

pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// `getParentNameAndOrdinal`: `(.*)-([0-9]+)$`.
pub fn parent_and_ordinal(name: &str) -> Option<(&str, i32)> {
    let (parent, ord) = name.rsplit_once('-')?;
    if ord.is_empty() || !ord.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((parent, ord.parse().ok()?))
}

/// `isMemberOf`: the pod's name parses to this set.
pub fn is_member_of<P: Resource>(set_name: &str, pod: &P) -> bool {
    parent_and_ordinal(&pod.name_any()).is_some_and(|(p, _)| p == set_name)
}

pub fn ordinal_of<P: Resource>(pod: &P) -> i32 {
    parent_and_ordinal(&pod.name_any())
        .map(|(_, o)| o)
        .unwrap_or(-1)
}

pub fn pod_name(set: &str, ordinal: i32) -> String {
    format!("{set}-{ordinal}")
}

pub fn claim_name(claim: &str, set: &str, ordinal: i32) -> String {
    format!("{claim}-{set}-{ordinal}")
}

pub fn replicas(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1)
        .max(0)
}

pub fn start_ordinal(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.ordinals.as_ref())
        .and_then(|o| o.start)
        .unwrap_or(0)
}

pub fn min_ready_seconds(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0)
}

/// `podManagementPolicy != Parallel`.
pub fn monotonic(set: &StatefulSet) -> bool {
    set.spec
        .as_ref()
        .and_then(|s| s.pod_management_policy.as_deref())
        != Some("Parallel")
}

/// `OnDelete` or `RollingUpdate` (the default).
pub fn is_rolling_update(set: &StatefulSet) -> bool {
    set.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        .unwrap_or("RollingUpdate")
        == "RollingUpdate"
}

pub fn partition(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0)
}

/// The rolling update's `maxUnavailable`: scaled over the replicas rounding down, at least 1.
pub fn max_unavailable(set: &StatefulSet) -> i32 {
    let v = set
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.max_unavailable.clone())
        .unwrap_or(IntOrString::Int(1));
    scaled(&v, replicas(set), false).unwrap_or(0).max(1)
}

/// The revision (ControllerRevision name) a pod was created at.
pub fn pod_revision(pod: &CachedPod) -> &str {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_HASH_LABEL))
        .map(String::as_str)
        .unwrap_or("")
}

fn phase(pod: &CachedPod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

pub fn is_created(pod: &CachedPod) -> bool {
    !phase(pod).is_empty()
}

pub fn is_failed_or_succeeded(pod: &CachedPod) -> bool {
    matches!(phase(pod), "Failed" | "Succeeded")
}

pub fn is_terminating(pod: &CachedPod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

pub fn is_running_and_ready(pod: &CachedPod) -> bool {
    phase(pod) == "Running" && is_ready(pod)
}

/// Running, Ready, available, not terminating.
pub fn is_healthy(pod: &CachedPod, min_ready: i32, now: SystemTime) -> bool {
    is_running_and_ready(pod) && !is_terminating(pod) && is_available(pod, min_ready, now)
}

/// The claims a pod at `ordinal` uses: one per volumeClaimTemplate, labelled with the
/// template labels plus the set's matchLabels.
pub fn claims_for(set: &StatefulSet, ordinal: i32) -> Vec<PersistentVolumeClaim> {
    let spec = set.spec.clone().unwrap_or_default();
    let set_name = set.name_any();
    let match_labels = spec.selector.match_labels.clone().unwrap_or_default();
    spec.volume_claim_templates
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            let tm = t.metadata.clone();
            let mut labels = tm.labels.clone().unwrap_or_default();
            labels.extend(match_labels.clone());
            let name = claim_name(&tm.name.clone().unwrap_or_default(), &set_name, ordinal);
            PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some(name),
                    namespace: set.namespace(),
                    labels: Some(labels),
                    annotations: tm.annotations,
                    ..Default::default()
                },
                spec: t.spec,
                status: None,
            }
        })
        .collect()
}

/// `newStatefulSetPod` + `setPodRevision`: the pod at `ordinal` from `template`, with its
/// identity (name, hostname, subdomain, labels) and storage (claims mounted by template name).
pub fn new_pod(
    set: &StatefulSet,
    template: &PodTemplateSpec,
    ordinal: i32,
    revision: &str,
    owner: OwnerReference,
) -> Pod {
    let set_name = set.name_any();
    let mut pod = pod_from_template(template, &set_name, owner);
    let name = pod_name(&set_name, ordinal);
    pod.metadata.name = Some(name.clone());
    pod.metadata.namespace = set.namespace();
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(POD_NAME_LABEL.into(), name.clone());
    labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
    labels.insert(REVISION_HASH_LABEL.into(), revision.to_string());
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.hostname = Some(name);
    let service = set
        .spec
        .as_ref()
        .and_then(|s| s.service_name.clone())
        .unwrap_or_default();
    if !service.is_empty() {
        spec.subdomain = Some(service);
    }
    let templates = set
        .spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.clone())
        .unwrap_or_default();
    if !templates.is_empty() {
        let mut volumes: Vec<Volume> = templates
            .iter()
            .map(|t| {
                let claim = t.metadata.name.clone().unwrap_or_default();
                Volume {
                    name: claim.clone(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim_name(&claim, &set_name, ordinal),
                        read_only: None,
                    }),
                    ..Default::default()
                }
            })
            .collect();
        let names: Vec<String> = volumes.iter().map(|v| v.name.clone()).collect();
        for v in spec.volumes.take().unwrap_or_default() {
            if !names.contains(&v.name) {
                volumes.push(v);
            }
        }
        spec.volumes = Some(volumes);
    }
    pod
}

/// Whether the pod's identity labels and hostname are as `new_pod` makes them.
pub fn identity_matches<P: Resource>(set: &StatefulSet, pod: &P) -> bool {
    let name = pod.name_any();
    let ord = ordinal_of(pod);
    let labels = crate::shared::labels_of(pod.meta());
    is_member_of(&set.name_any(), pod)
        && labels.get(POD_NAME_LABEL) == Some(&name)
        && labels.get(POD_INDEX_LABEL) == Some(&ord.to_string())
}

/// `persistentVolumeClaimRetentionPolicy`: (whenDeleted, whenScaled) are `Delete`.
pub fn retention(set: &StatefulSet) -> (bool, bool) {
    let p = set
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_claim_retention_policy.as_ref());
    let is_delete = |v: Option<&String>| v.map(String::as_str) == Some("Delete");
    (
        is_delete(p.and_then(|p| p.when_deleted.as_ref())),
        is_delete(p.and_then(|p| p.when_scaled.as_ref())),
    )
}

/// A plain (non-controller) owner reference, as the retention policy puts on claims.
pub fn plain_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        controller: None,
        block_owner_deletion: None,
    }
}

/// The owner references a claim should carry (`updateClaimOwnerRefForSetAndPod`): the set's
/// when whenDeleted=Delete; only the pod's when whenScaled=Delete and the pod is condemned.
/// Other owners are kept.
pub fn claim_owner_refs(
    current: &[OwnerReference],
    set_ref: &OwnerReference,
    pod_ref: Option<&OwnerReference>,
    when_deleted: bool,
    when_scaled_condemned: bool,
) -> Vec<OwnerReference> {
    let mut out: Vec<OwnerReference> = current
        .iter()
        .filter(|r| r.uid != set_ref.uid && pod_ref.is_none_or(|p| p.uid != r.uid))
        .cloned()
        .collect();
    match (when_scaled_condemned, pod_ref) {
        // A condemned pod's claim belongs to the pod alone, so it goes with the pod.
        (true, Some(p)) => out.push(p.clone()),
        _ if when_deleted => out.push(set_ref.clone()),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(spec: serde_json::Value) -> StatefulSet {
        let mut v = json!({
            "metadata": {"name": "mysts", "namespace": "default"},
            "spec": {
                "serviceName": "mysts",
                "selector": {"matchLabels": {"app": "nginx"}},
                "template": {"metadata": {"labels": {"app": "nginx"}},
                             "spec": {"containers": [{"name": "nginx", "image": "nginx"}],
                                      "volumes": [{"name": "other", "emptyDir": {}}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "nginx-vol", "labels": {"t": "x"}},
                                          "spec": {"accessModes": ["ReadWriteOnce"]}}]
            }
        });
        for (k, val) in spec.as_object().unwrap() {
            v["spec"][k] = val.clone();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn ordinals_are_parsed_from_the_last_dash_separated_number() {
        for (name, want) in [
            ("mysts-0", Some(("mysts", 0))),
            ("my-sts-12", Some(("my-sts", 12))),
            ("mysts-", None),
            ("mysts-1a", None),
            ("mysts", None),
            ("-3", Some(("", 3))),
        ] {
            assert_eq!(parent_and_ordinal(name), want, "{name}");
        }
    }

    #[test]
    fn pods_get_their_identity_and_claims_mounted_by_template_name() {
        let s = set(json!({}));
        let t = s.spec.clone().unwrap().template;
        let pod = new_pod(&s, &t, 2, "mysts-abc", Default::default());
        assert_eq!(pod.metadata.name.as_deref(), Some("mysts-2"));
        let labels = pod.metadata.labels.clone().unwrap();
        assert_eq!(labels[POD_NAME_LABEL], "mysts-2");
        assert_eq!(labels[POD_INDEX_LABEL], "2");
        assert_eq!(labels[REVISION_HASH_LABEL], "mysts-abc");
        let spec = pod.spec.unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("mysts-2"));
        assert_eq!(spec.subdomain.as_deref(), Some("mysts"));
        let vols = spec.volumes.unwrap();
        assert_eq!(vols[0].name, "nginx-vol");
        assert_eq!(
            vols[0].persistent_volume_claim.as_ref().unwrap().claim_name,
            "nginx-vol-mysts-2"
        );
        assert_eq!(vols[1].name, "other");
        let claims = claims_for(&s, 2);
        assert_eq!(
            claims[0].metadata.name.as_deref(),
            Some("nginx-vol-mysts-2")
        );
        let cl = claims[0].metadata.labels.clone().unwrap();
        assert_eq!((cl["t"].as_str(), cl["app"].as_str()), ("x", "nginx"));
    }

    #[test]
    fn max_unavailable_rounds_down_with_a_floor_of_one() {
        for (mu, replicas, want) in [
            (json!(1), 5, 1),
            (json!(3), 5, 3),
            (json!("50%"), 5, 2),
            (json!("10%"), 5, 1),
            (json!("100%"), 4, 4),
            (json!(0), 4, 1),
        ] {
            let s = set(json!({"replicas": replicas,
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": mu}}}));
            assert_eq!(max_unavailable(&s), want, "{mu} of {replicas}");
        }
    }

    #[test]
    fn claims_are_owned_by_the_set_or_a_condemned_pod_as_the_retention_policy_says() {
        let set_ref = plain_ref("apps/v1", "StatefulSet", "mysts", "s");
        let pod_ref = plain_ref("v1", "Pod", "mysts-2", "p");
        let other = plain_ref("v1", "Other", "o", "o");
        let cur = vec![other.clone(), set_ref.clone()];
        assert_eq!(
            claim_owner_refs(&cur, &set_ref, Some(&pod_ref), false, false),
            vec![other.clone()]
        );
        assert_eq!(
            claim_owner_refs(&cur, &set_ref, Some(&pod_ref), true, true),
            vec![other.clone(), pod_ref.clone()]
        );
        assert_eq!(
            claim_owner_refs(
                std::slice::from_ref(&pod_ref),
                &set_ref,
                Some(&pod_ref),
                true,
                false
            ),
            vec![set_ref.clone()]
        );
        assert_eq!(
            claim_owner_refs(&[], &set_ref, None, false, true),
            Vec::<OwnerReference>::new()
        );
    }
}
