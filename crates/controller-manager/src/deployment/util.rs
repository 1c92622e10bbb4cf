//! The deployment controller's pure arithmetic and bookkeeping (`deployment/util`): fenceposts
//! from maxSurge/maxUnavailable, `NewRSNewReplicas`, proportional-scaling fractions, the
//! pod-template hash, semantic template equality, revisions and the annotations copied to
//! ReplicaSets, and the Deployment conditions. No I/O; tested from tables.

use crate::shared::scaled;
use apimachinery::intstr::round_to_i32;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::SystemTime;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// `maxRevHistoryLengthInChars`.
pub const MAX_REV_HISTORY_CHARS: usize = 2000;

/// Deployment annotations never copied to a ReplicaSet (`annotationsToSkip`).
pub const SKIP_ANNOTATIONS: &[&str] = &[
    LAST_APPLIED,
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    ROLLBACK_TO,
];

// Condition types and reasons (`deployment/util`).
pub const AVAILABLE: &str = "Available";
pub const PROGRESSING: &str = "Progressing";
pub const REPLICA_FAILURE: &str = "ReplicaFailure";
pub const MIN_AVAILABLE: &str = "MinimumReplicasAvailable";
pub const MIN_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
pub const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub const RS_UPDATED: &str = "ReplicaSetUpdated";
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub const PAUSED: &str = "DeploymentPaused";
pub const RESUMED: &str = "DeploymentResumed";
pub const FAILED_RS_CREATE: &str = "ReplicaSetCreateError";

pub fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn rs_status(rs: &ReplicaSet) -> (i32, i32, i32) {
    rs.status
        .as_ref()
        .map(|s| {
            (
                s.replicas,
                s.ready_replicas.unwrap_or(0),
                s.available_replicas.unwrap_or(0),
            )
        })
        .unwrap_or((0, 0, 0))
}

pub fn is_rolling_update(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        .is_none_or(|t| t == "RollingUpdate")
}

/// `ResolveFenceposts`: (surge rounded up, unavailable rounded down); both 0 → unavailable 1.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> Result<(i32, i32), String> {
    let pct25 = IntOrString::String("25%".into());
    let surge = scaled(max_surge.unwrap_or(&pct25), desired, true)?;
    let mut unavailable = scaled(max_unavailable.unwrap_or(&pct25), desired, false)?;
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable))
}

fn fenceposts(d: &Deployment) -> (i32, i32) {
    let ru = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    resolve_fenceposts(
        ru.and_then(|r| r.max_surge.as_ref()),
        ru.and_then(|r| r.max_unavailable.as_ref()),
        replicas(d),
    )
    .unwrap_or((0, 1))
}

/// `MaxUnavailable(d)`: 0 unless RollingUpdate with replicas > 0; never above replicas.
pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling_update(d) || replicas(d) == 0 {
        return 0;
    }
    fenceposts(d).1.min(replicas(d))
}

/// `MaxSurge(d)`: 0 unless RollingUpdate.
pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    fenceposts(d).0
}

/// `replicas - MaxUnavailable` for RollingUpdate, else 0... (upstream `MinAvailable`).
pub fn min_available(d: &Deployment) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    replicas(d) - max_unavailable(d)
}

/// The pods an RS has or may still have: its spec, or more while it has not yet deleted the
/// surplus (status.replicas lags a scale-down). Counting this instead of spec alone keeps
/// `live pods ≤ replicas + maxSurge` true even while a scale-down is in flight.
pub fn rs_pod_bound(rs: &ReplicaSet) -> i32 {
    rs_replicas(rs).max(rs_status(rs).0)
}

/// `NewRSNewReplicas` for RollingUpdate: how far the new RS may grow this step.
/// `all` includes `new_rs`.
pub fn new_rs_new_replicas(d: &Deployment, all: &[&ReplicaSet], new_rs: &ReplicaSet) -> i32 {
    let desired = replicas(d);
    let new_spec = rs_replicas(new_rs);
    if !is_rolling_update(d) {
        return desired;
    }
    if new_spec >= desired {
        return desired;
    }
    let max_total = desired + max_surge(d);
    let current: i32 = all.iter().map(|rs| rs_pod_bound(rs)).sum();
    if current >= max_total {
        return new_spec;
    }
    let scale_up = (max_total - current).min(desired - new_spec);
    new_spec + scale_up
}

/// How many replicas the old RSes may lose this step (`reconcileOldReplicaSets` entry check):
/// `allPods - minAvailable - newRSUnavailable`.
pub fn max_scaled_down(d: &Deployment, all: &[&ReplicaSet], new_rs: Option<&ReplicaSet>) -> i32 {
    let all_pods: i32 = all.iter().map(|rs| rs_replicas(rs)).sum();
    let new_unavailable = new_rs
        .map(|rs| rs_replicas(rs) - rs_status(rs).2)
        .unwrap_or(0);
    all_pods - min_available(d) - new_unavailable
}

/// The available pods an RS will still have once it reaches its spec (it deletes not-ready
/// pods first): `min(available, spec)`. Summing this rather than status.availableReplicas
/// keeps a lagging status from letting a rollout scale below minAvailable.
pub fn rs_available_bound(rs: &ReplicaSet) -> i32 {
    rs_status(rs).2.min(rs_replicas(rs))
}

/// Revision annotation of an RS (missing or malformed → 0).
pub fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn max_revision(rss: &[&ReplicaSet]) -> i64 {
    rss.iter().map(|rs| revision(rs)).max().unwrap_or(0)
}

/// Annotations of the Deployment that go onto its ReplicaSets.
fn copyable(d: &Deployment) -> BTreeMap<String, String> {
    d.metadata
        .annotations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !SKIP_ANNOTATIONS.contains(&k.as_str()))
        .collect()
}

/// `copyDeploymentAnnotationsToReplicaSet`: add or overwrite, never delete.
pub fn copy_annotations_to_rs(d: &Deployment, rs: &mut ReplicaSet) -> bool {
    let ann = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (k, v) in copyable(d) {
        if ann.get(&k) != Some(&v) {
            ann.insert(k, v);
            changed = true;
        }
    }
    changed
}

/// `SetNewReplicaSetAnnotations`: copy the Deployment's annotations, bump the revision (keeping
/// the old number in revision-history when an existing RS is re-used), and on a new RS set
/// desired/max replicas. Returns whether anything changed.
pub fn set_new_rs_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = copy_annotations_to_rs(d, rs);
    let ann = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let old = ann.get(REVISION).cloned().unwrap_or_default();
    let old_int: i64 = old.parse().unwrap_or(0);
    if old_int < new_revision {
        ann.insert(REVISION.into(), new_revision.to_string());
        changed = true;
        if !old.is_empty() && exists {
            let mut history: Vec<String> = ann
                .get(REVISION_HISTORY)
                .filter(|h| !h.is_empty())
                .map(|h| h.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            history.push(old);
            while history.len() > 1 && history.join(",").len() > MAX_REV_HISTORY_CHARS {
                history.remove(0);
            }
            ann.insert(REVISION_HISTORY.into(), history.join(","));
        }
    }
    if !exists {
        let desired = replicas(d).to_string();
        let max = (replicas(d) + max_surge(d)).to_string();
        ann.insert(DESIRED_REPLICAS.into(), desired);
        ann.insert(MAX_REPLICAS.into(), max);
        changed = true;
    }
    changed
}

/// `SetReplicasAnnotations`: desired-replicas and max-replicas on an RS being scaled.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let ann = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (k, v) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let v = v.to_string();
        if ann.get(k) != Some(&v) {
            ann.insert(k.into(), v);
            changed = true;
        }
    }
    changed
}

fn annotation_i32(rs: &ReplicaSet, key: &str) -> Option<i32> {
    rs.metadata.annotations.as_ref()?.get(key)?.parse().ok()
}

pub fn desired_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    annotation_i32(rs, DESIRED_REPLICAS)
}

/// `IsSaturated`: the new RS has all replicas, all available, and knows it.
pub fn is_saturated(d: &Deployment, rs: &ReplicaSet) -> bool {
    rs_replicas(rs) == replicas(d)
        && desired_replicas_annotation(rs) == Some(replicas(d))
        && rs_status(rs).2 == replicas(d)
}

/// `getReplicaSetFraction`: how much an RS grows or shrinks in proportional scaling.
pub fn rs_fraction(rs: &ReplicaSet, d: &Deployment) -> i32 {
    if replicas(d) == 0 {
        return -rs_replicas(rs);
    }
    let deployment_max = replicas(d) + max_surge(d);
    let annotated_max = annotation_i32(rs, MAX_REPLICAS)
        .unwrap_or_else(|| d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0));
    if annotated_max == 0 {
        return 0;
    }
    let new_size =
        round_to_i32(rs_replicas(rs) as f64 * deployment_max as f64 / annotated_max as f64);
    new_size - rs_replicas(rs)
}

/// `GetProportion`: the share of `to_add` this RS takes, given `added` so far.
pub fn proportion(rs: &ReplicaSet, d: &Deployment, to_add: i32, added: i32) -> i32 {
    if rs_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = rs_fraction(rs, d);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// A JSON value with nulls, empty objects and empty arrays removed (recursively): the form in
/// which two templates that went through different typed round trips compare equal.
pub fn normalize(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => {
            let out: serde_json::Map<String, Value> = m
                .iter()
                .filter_map(|(k, v)| normalize(v).map(|v| (k.clone(), v)))
                .collect();
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(a) => {
            let out: Vec<Value> = a
                .iter()
                .map(|v| normalize(v).unwrap_or(Value::Null))
                .collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        other => Some(other.clone()),
    }
}

fn normalized_template(t: &PodTemplateSpec, drop_hash: bool) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    if drop_hash {
        if let Some(labels) = v
            .pointer_mut("/metadata/labels")
            .and_then(Value::as_object_mut)
        {
            labels.remove(POD_TEMPLATE_HASH);
        }
    }
    normalize(&v).unwrap_or(Value::Null)
}

/// `EqualIgnoreHash`, semantically: equal after dropping `pod-template-hash` and empty fields.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    normalized_template(a, true) == normalized_template(b, true)
}

/// Deterministic text of a JSON value with object keys sorted.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// FNV-1a, 32 bit.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= *b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// `ComputeHash`: fnv32a over the template's canonical serialization (empty fields dropped,
/// keys sorted; Go's spew dump cannot be reproduced byte for byte), then the collision count
/// as 8 bytes (u32 little-endian, 4 zero bytes), rendered with `SafeEncodeString`.
pub fn compute_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut text = String::new();
    canonical(&normalized_template(template, false), &mut text);
    let mut bytes = text.into_bytes();
    if let Some(c) = collision_count {
        bytes.extend_from_slice(&(c as u32).to_le_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 0]);
    }
    apimachinery::names::safe_encode_string(&fnv32a(&bytes).to_string())
}

// ---- conditions ----

pub fn condition<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: SystemTime,
) -> DeploymentCondition {
    let t = super::super::shared::time::to_time(now);
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(t.clone()),
        last_transition_time: Some(t),
    }
}

/// `SetDeploymentCondition`: no-op when status and reason are unchanged; keeps
/// lastTransitionTime when only the reason changed; the new condition goes last.
pub fn set_condition(status: &mut DeploymentStatus, mut c: DeploymentCondition) {
    let conds = status.conditions.get_or_insert_with(Vec::new);
    if let Some(cur) = conds.iter().find(|x| x.type_ == c.type_) {
        if cur.status == c.status && cur.reason == c.reason {
            return;
        }
        if cur.status == c.status {
            c.last_transition_time = cur.last_transition_time.clone();
        }
    }
    conds.retain(|x| x.type_ != c.type_);
    conds.push(c);
}

pub fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(conds) = status.conditions.as_mut() {
        conds.retain(|c| c.type_ != type_);
    }
}

pub fn progress_deadline(d: &Deployment) -> Option<i32> {
    d.spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .filter(|p| *p != i32::MAX)
}

/// `DeploymentComplete`.
pub fn deployment_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let want = replicas(d);
    s.updated_replicas.unwrap_or(0) == want
        && s.replicas.unwrap_or(0) == want
        && s.available_replicas.unwrap_or(0) == want
        && s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// `DeploymentProgressing`: some count moved the right way since the old status.
pub fn deployment_progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let old_rem = old.replicas.unwrap_or(0) - old.updated_replicas.unwrap_or(0);
    let new_rem = new.replicas.unwrap_or(0) - new.updated_replicas.unwrap_or(0);
    new.updated_replicas.unwrap_or(0) > old.updated_replicas.unwrap_or(0)
        || new_rem < old_rem
        || new.ready_replicas.unwrap_or(0) > old.ready_replicas.unwrap_or(0)
        || new.available_replicas.unwrap_or(0) > old.available_replicas.unwrap_or(0)
}

/// `DeploymentTimedOut`.
pub fn deployment_timed_out(d: &Deployment, new: &DeploymentStatus, now: SystemTime) -> bool {
    let Some(pds) = progress_deadline(d) else {
        return false;
    };
    let Some(c) = condition(new, PROGRESSING) else {
        return false;
    };
    if c.reason.as_deref() == Some(NEW_RS_AVAILABLE) {
        return false;
    }
    if c.reason.as_deref() == Some(TIMED_OUT) {
        return true;
    }
    let Some(last) = c.last_update_time.as_ref() else {
        return false;
    };
    super::super::shared::time::from_time(last) + std::time::Duration::from_secs(pds.max(0) as u64)
        < now
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{
        DeploymentSpec, DeploymentStrategy, ReplicaSetSpec, ReplicaSetStatus,
        RollingUpdateDeployment,
    };
    use k8s_openapi::api::core::v1::{Container, PodSpec, ResourceRequirements};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn ios(s: &str) -> IntOrString {
        match s.parse::<i32>() {
            Ok(i) => IntOrString::Int(i),
            Err(_) => IntOrString::String(s.into()),
        }
    }

    fn deploy(replicas: i32, surge: &str, unavail: &str) -> Deployment {
        Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(ios(surge)),
                        max_unavailable: Some(ios(unavail)),
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn rs(spec: i32, status_replicas: i32, available: i32) -> ReplicaSet {
        ReplicaSet {
            spec: Some(ReplicaSetSpec {
                replicas: Some(spec),
                ..Default::default()
            }),
            status: Some(ReplicaSetStatus {
                replicas: status_replicas,
                available_replicas: Some(available),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        // (surge, unavailable, replicas) → (surge, unavailable)
        let cases = [
            ("25%", "25%", 10, (3, 2)),
            ("25%", "25%", 3, (1, 0)),
            ("25%", "25%", 1, (1, 0)),
            ("0", "0", 5, (0, 1)),
            ("0%", "0%", 5, (0, 1)),
            ("1", "0", 5, (1, 0)),
            ("50%", "50%", 5, (3, 2)),
            ("100%", "100%", 4, (4, 4)),
        ];
        for (s, u, r, want) in cases {
            assert_eq!(
                resolve_fenceposts(Some(&ios(s)), Some(&ios(u)), r),
                Ok(want),
                "{s} {u} {r}"
            );
        }
    }

    #[test]
    fn max_unavailable_is_capped_at_replicas_and_zero_when_scaled_to_zero() {
        assert_eq!(max_unavailable(&deploy(10, "25%", "25%")), 2);
        assert_eq!(max_unavailable(&deploy(2, "0", "5")), 2);
        assert_eq!(max_unavailable(&deploy(0, "25%", "25%")), 0);
        assert_eq!(max_surge(&deploy(10, "25%", "25%")), 3);
        let mut recreate = deploy(10, "25%", "25%");
        recreate.spec.as_mut().unwrap().strategy = Some(DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        });
        assert_eq!(
            (
                max_surge(&recreate),
                max_unavailable(&recreate),
                min_available(&recreate)
            ),
            (0, 0, 0)
        );
    }

    #[test]
    fn new_rs_grows_by_at_most_the_surge() {
        // Worked example: 10 replicas, 25%/25% → max total 13.
        let d = deploy(10, "25%", "25%");
        // (old spec, old status.replicas, new spec) → new size
        let cases = [
            (10, 10, 0, 3),   // fresh rollout: surge 3
            (8, 10, 3, 3),    // old not yet scaled down in fact: wait
            (8, 8, 3, 5),     // old at 8: new may reach 5
            (0, 0, 5, 10),    // old gone: full size
            (10, 10, 13, 10), // new above desired: scale down to desired
        ];
        for (old_spec, old_status, new_spec, want) in cases {
            let old = rs(old_spec, old_status, old_spec);
            let new = rs(new_spec, new_spec, 0);
            assert_eq!(
                new_rs_new_replicas(&d, &[&old, &new], &new),
                want,
                "{old_spec}/{old_status} new {new_spec}"
            );
        }
    }

    #[test]
    fn old_rses_scale_down_only_as_far_as_min_available_allows() {
        let d = deploy(10, "25%", "25%");
        // Stuck rollout to a bad image: old 10 available, new 3 unavailable → may lose 2.
        let (old, new) = (rs(10, 10, 10), rs(3, 3, 0));
        assert_eq!(max_scaled_down(&d, &[&old, &new], Some(&new)), 2);
        // After old → 8 and new → 5 (all failing): nothing more.
        let (old, new) = (rs(8, 8, 8), rs(5, 5, 0));
        assert_eq!(max_scaled_down(&d, &[&old, &new], Some(&new)), 0);
        // Lagging status: counted availability never exceeds spec.
        assert_eq!(rs_available_bound(&rs(8, 10, 10)), 8);
    }

    #[test]
    fn proportions_follow_the_max_replicas_annotation() {
        // Upstream's example: 10 → 15 replicas mid-rollout with surge 3 (max-replicas 13).
        let mut d = deploy(15, "3", "2");
        d.status = Some(DeploymentStatus {
            replicas: Some(13),
            ..Default::default()
        });
        let mut a = rs(8, 8, 8);
        let mut b = rs(5, 5, 0);
        set_replicas_annotations(&mut a, 10, 13);
        set_replicas_annotations(&mut b, 10, 13);
        // allowed 18, current 13 → add 5; a: round(8*18/13)=11 → +3; b: round(5*18/13)=7 → +2
        assert_eq!(rs_fraction(&a, &d), 3);
        assert_eq!(rs_fraction(&b, &d), 2);
        assert_eq!(proportion(&a, &d, 5, 0), 3);
        assert_eq!(proportion(&b, &d, 5, 3), 2);
        assert_eq!(proportion(&b, &d, 5, 5), 0);
        // Scaling to zero removes everything.
        let zero = deploy(0, "3", "2");
        assert_eq!(rs_fraction(&a, &zero), -8);
    }

    fn template(image: &str) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "nginx".into(),
                    image: Some(image.into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }
    }

    #[test]
    fn templates_compare_semantically_ignoring_the_hash_label() {
        let a = template("nginx:1.9.1");
        let mut b = a.clone();
        b.spec.as_mut().unwrap().containers[0].resources = Some(ResourceRequirements::default());
        b.metadata
            .as_mut()
            .unwrap()
            .labels
            .as_mut()
            .unwrap()
            .insert(POD_TEMPLATE_HASH.into(), "abc".into());
        b.metadata.as_mut().unwrap().annotations = Some(BTreeMap::new());
        assert!(equal_ignore_hash(&a, &b));
        assert!(!equal_ignore_hash(&a, &template("nginx:1.9.21")));
    }

    #[test]
    fn the_template_hash_is_stable_encoded_and_changes_with_collisions() {
        let t = template("nginx:1.7.9");
        let h = compute_hash(&t, None);
        assert_eq!(h, compute_hash(&t.clone(), None));
        assert!(
            h.len() <= 10 && h.chars().all(|c| "456789bcdf".contains(c)),
            "{h}"
        );
        assert_ne!(h, compute_hash(&t, Some(1)));
        assert_ne!(h, compute_hash(&template("nginx:1.9.1"), None));
        // fnv32a reference values.
        assert_eq!(fnv32a(b""), 0x811c9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c292c);
        assert_eq!(
            apimachinery::names::safe_encode_string("0123456789"),
            "456789bcdf"
        );
    }

    #[test]
    fn a_reused_rs_gets_the_next_revision_and_remembers_the_old_one() {
        let mut d = deploy(10, "25%", "25%");
        d.metadata.annotations = Some(BTreeMap::from([
            (
                "kubernetes.io/change-cause".to_string(),
                "kubectl set image".to_string(),
            ),
            (REVISION.to_string(), "3".to_string()),
            (LAST_APPLIED.to_string(), "{}".to_string()),
        ]));
        let mut r = rs(0, 0, 0);
        r.metadata.annotations = Some(BTreeMap::from([(REVISION.to_string(), "2".to_string())]));
        assert!(set_new_rs_annotations(&d, &mut r, 4, true));
        let ann = r.metadata.annotations.as_ref().unwrap();
        assert_eq!(ann[REVISION], "4");
        assert_eq!(ann[REVISION_HISTORY], "2");
        assert_eq!(ann["kubernetes.io/change-cause"], "kubectl set image");
        assert!(!ann.contains_key(LAST_APPLIED));
        // Nothing to do the second time.
        assert!(!set_new_rs_annotations(&d, &mut r, 4, true));
        // A new RS gets desired/max replicas.
        let mut fresh = rs(0, 0, 0);
        set_new_rs_annotations(&d, &mut fresh, 1, false);
        let ann = fresh.metadata.annotations.unwrap();
        assert_eq!(
            (
                ann[REVISION].as_str(),
                ann[DESIRED_REPLICAS].as_str(),
                ann[MAX_REPLICAS].as_str()
            ),
            ("1", "10", "13")
        );
        assert!(!ann.contains_key(REVISION_HISTORY));
    }

    #[test]
    fn set_condition_keeps_transition_time_and_moves_the_condition_last() {
        let t0 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(100);
        let t1 = t0 + std::time::Duration::from_secs(50);
        let mut s = DeploymentStatus::default();
        set_condition(
            &mut s,
            new_condition(PROGRESSING, "True", NEW_RS_CREATED, "a".into(), t0),
        );
        set_condition(
            &mut s,
            new_condition(AVAILABLE, "False", MIN_UNAVAILABLE, "b".into(), t0),
        );
        set_condition(
            &mut s,
            new_condition(PROGRESSING, "True", RS_UPDATED, "c".into(), t1),
        );
        let conds = s.conditions.as_ref().unwrap();
        assert_eq!(conds[1].type_, PROGRESSING);
        assert_eq!(
            conds[1].last_transition_time,
            Some(crate::shared::time::to_time(t0))
        );
        assert_eq!(
            conds[1].last_update_time,
            Some(crate::shared::time::to_time(t1))
        );
        // Same status and reason: nothing changes.
        set_condition(
            &mut s,
            new_condition(
                PROGRESSING,
                "True",
                RS_UPDATED,
                "d".into(),
                t1 + std::time::Duration::from_secs(9),
            ),
        );
        assert_eq!(
            s.conditions.as_ref().unwrap()[1].message.as_deref(),
            Some("c")
        );
    }
}
