//! Pure Job helpers (§5): completed-index sets and their `1,3-5` form, the pod-failure backoff,
//! pod finish times, wantActive, and conditions.

use crate::shared::cached_pod::CachedPod;
use crate::shared::time::{from_time, to_time};
use k8s_openapi::api::batch::v1::{Job, JobCondition};
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

/// `DefaultJobPodFailureBackOff`.
pub const BACKOFF_BASE: Duration = Duration::from_secs(10);
/// `MaxJobPodFailureBackOff` (10 minutes in the controller source; the docs say 6, §5 ⚠).
pub const BACKOFF_MAX: Duration = Duration::from_secs(10 * 60);

/// Parse `completedIndexes` (`1,3-5,7`); malformed parts are skipped.
pub fn parse_indexes(s: &str) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
                    out.extend(a..=b);
                }
            }
            None => {
                if let Ok(a) = part.parse() {
                    out.insert(a);
                }
            }
        }
    }
    out
}

/// Format an index set as upstream: runs of three or more as `a-b`, pairs as `a,b`.
pub fn format_indexes(set: &BTreeSet<i32>) -> String {
    let v: Vec<i32> = set.iter().copied().collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        match j - i {
            0 => parts.push(v[i].to_string()),
            1 => {
                parts.push(v[i].to_string());
                parts.push(v[j].to_string());
            }
            _ => parts.push(format!("{}-{}", v[i], v[j])),
        }
        i = j + 1;
    }
    parts.join(",")
}

/// The pod-failure backoff after `failures` consecutive failures: `10s * 2^(n-1)`, capped.
pub fn backoff_delay(failures: u32) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    BACKOFF_BASE
        .saturating_mul(1u32 << (failures - 1).min(20))
        .min(BACKOFF_MAX)
}

/// When a pod finished: the latest container `finishedAt`, else when Ready became False, else
/// its deletion time, else its creation.
pub fn finish_time(pod: &CachedPod) -> Option<SystemTime> {
    let st = pod.status.as_ref();
    let finished = st
        .into_iter()
        .flat_map(|s| {
            s.container_statuses
                .iter()
                .flatten()
                .chain(s.init_container_statuses.iter().flatten())
        })
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
        .map(from_time)
        .max();
    finished
        .or_else(|| {
            st?.conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == "Ready" && c.status == "False")
                .and_then(|c| c.last_transition_time.as_ref())
                .map(from_time)
        })
        .or_else(|| pod.metadata.deletion_timestamp.as_ref().map(from_time))
        .or_else(|| pod.metadata.creation_timestamp.as_ref().map(from_time))
}

/// A pod's completion index (annotation, else label), if valid.
pub fn pod_index(pod: &CachedPod) -> Option<i32> {
    let key = super::INDEX_KEY;
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .or_else(|| pod.metadata.labels.as_ref().and_then(|l| l.get(key)))
        .and_then(|v| v.parse().ok())
        .filter(|i: &i32| *i >= 0)
}

/// wantActive: how many pods should run now.
pub fn want_active(completions: Option<i32>, parallelism: i32, succeeded: i32, active: i32) -> i32 {
    match completions {
        None => {
            if succeeded > 0 {
                active
            } else {
                parallelism
            }
        }
        Some(c) => (c - succeeded).min(parallelism),
    }
    .max(0)
}

/// The lowest `n` indexes below `completions` that are neither completed nor held by a pod.
pub fn pending_indexes(
    completions: i32,
    completed: &BTreeSet<i32>,
    held: &BTreeSet<i32>,
    n: usize,
) -> Vec<i32> {
    (0..completions)
        .filter(|i| !completed.contains(i) && !held.contains(i))
        .take(n)
        .collect()
}

pub fn condition<'a>(job: &'a Job, type_: &str) -> Option<&'a JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
}

/// A Complete or Failed condition is True.
pub fn is_finished(job: &Job) -> bool {
    condition(job, "Complete").is_some() || condition(job, "Failed").is_some()
}

pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    msg: &str,
    now: SystemTime,
) -> JobCondition {
    JobCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(msg.into()),
        last_probe_time: Some(to_time(now)),
        last_transition_time: Some(to_time(now)),
    }
}

/// Set a condition: a changed status replaces it (new transition time); the same status keeps
/// it. Returns whether anything changed.
pub fn set_condition(conds: &mut Vec<JobCondition>, c: JobCondition) -> bool {
    if let Some(old) = conds.iter_mut().find(|o| o.type_ == c.type_) {
        if old.status == c.status {
            return false;
        }
        *old = c;
        return true;
    }
    conds.push(c);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_indexes_are_written_as_upstream() {
        let f = |v: &[i32]| format_indexes(&v.iter().copied().collect());
        assert_eq!(f(&[]), "");
        assert_eq!(f(&[1]), "1");
        assert_eq!(f(&[1, 2]), "1,2");
        assert_eq!(f(&[1, 3, 4, 5]), "1,3-5");
        assert_eq!(f(&[0, 1, 2, 3, 5, 7, 8]), "0-3,5,7,8");
        assert_eq!(
            parse_indexes("1,3-5,7"),
            [1, 3, 4, 5, 7].into_iter().collect()
        );
        assert_eq!(format_indexes(&parse_indexes("0-2,4,5")), "0-2,4,5");
    }

    #[test]
    fn the_pod_failure_backoff_doubles_from_ten_seconds_up_to_the_cap() {
        let secs: Vec<u64> = (0..9).map(|n| backoff_delay(n).as_secs()).collect();
        assert_eq!(secs, [0, 10, 20, 40, 80, 160, 320, 600, 600]);
    }

    #[test]
    fn want_active_follows_completions_and_parallelism() {
        assert_eq!(want_active(Some(3), 2, 0, 0), 2);
        assert_eq!(want_active(Some(3), 2, 2, 1), 1);
        assert_eq!(want_active(Some(3), 2, 3, 0), 0);
        assert_eq!(want_active(None, 2, 0, 0), 2);
        assert_eq!(want_active(None, 2, 1, 1), 1);
    }

    #[test]
    fn pending_indexes_are_the_lowest_free_ones() {
        let done: BTreeSet<i32> = [0, 2].into_iter().collect();
        let held: BTreeSet<i32> = [1].into_iter().collect();
        assert_eq!(pending_indexes(6, &done, &held, 2), vec![3, 4]);
    }
}
