//! Pod predicates shared by the controllers (`pkg/api/v1/pod/util.go`, `controller_utils.go`):
//! active, terminating, ready, available with minReadySeconds — of pods as the cache holds them.

use super::cached_pod::{CachedPod, CachedPodCondition};
use super::time::from_time;
use std::time::{Duration, SystemTime};

fn phase(pod: &CachedPod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn terminal(pod: &CachedPod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// Not Succeeded, not Failed, not being deleted.
pub fn is_active(pod: &CachedPod) -> bool {
    !terminal(pod) && pod.metadata.deletion_timestamp.is_none()
}

/// Being deleted but not yet terminal.
pub fn is_terminating(pod: &CachedPod) -> bool {
    !terminal(pod) && pod.metadata.deletion_timestamp.is_some()
}

pub fn ready_condition(pod: &CachedPod) -> Option<&CachedPodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

pub fn is_ready(pod: &CachedPod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// When the pod last became Ready (None if not ready or unknown).
pub fn ready_since(pod: &CachedPod) -> Option<SystemTime> {
    ready_condition(pod)
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(from_time)
}

/// `IsPodAvailable`: Ready, and Ready for longer than `min_ready_seconds` (strictly).
pub fn is_available(pod: &CachedPod, min_ready_seconds: i32, now: SystemTime) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    match ready_since(pod) {
        Some(t) => t + Duration::from_secs(min_ready_seconds as u64) < now,
        None => false,
    }
}

/// The controller owner reference (controller: true), if any.
pub fn controller_ref(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
}
