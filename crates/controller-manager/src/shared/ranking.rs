//! Which pods a ReplicaSet deletes first when it scales down (`ActivePodsWithRanks.Less`,
//! §0): unassigned, then Pending/Unknown before Running, not-ready, lower pod-deletion-cost,
//! more co-located siblings, more recently ready and more restarts, newer; times compared in
//! logarithmic buckets with the UID as tie-break. Pure: the caller supplies ranks and `now`.

use super::cached_pod::CachedPod;
use super::pods::{is_ready, ready_since};
use std::cmp::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

pub const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

fn phase_ordinal(pod: &CachedPod) -> u8 {
    match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
        Some("Unknown") => 1,
        Some("Running") => 2,
        _ => 0,
    }
}

fn deletion_cost(pod: &CachedPod) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(POD_DELETION_COST))
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0)
}

fn max_restarts(pod: &CachedPod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

fn created(pod: &CachedPod) -> Option<SystemTime> {
    pod.metadata
        .creation_timestamp
        .as_ref()
        .map(super::time::from_time)
}

/// `floor(log2(now - t))` in nanoseconds; a zero time (None) or a time not before now is the
/// newest bucket.
fn log_bucket(t: Option<SystemTime>, now: SystemTime) -> i64 {
    match t.and_then(|t| now.duration_since(t).ok()) {
        Some(d) if d.as_nanos() > 0 => 127 - (d.as_nanos().leading_zeros() as i64),
        _ => -1,
    }
}

/// Compare two times in log buckets; a newer (smaller bucket) time sorts first. Equal buckets
/// fall back to the UID.
fn newer_first(
    a: &CachedPod,
    ta: Option<SystemTime>,
    b: &CachedPod,
    tb: Option<SystemTime>,
    now: SystemTime,
) -> Ordering {
    let (ba, bb) = (log_bucket(ta, now), log_bucket(tb, now));
    if ba != bb {
        return ba.cmp(&bb);
    }
    uid(a).cmp(uid(b))
}

fn uid(p: &CachedPod) -> &str {
    p.metadata.uid.as_deref().unwrap_or("")
}

/// The deletion order of two pods: `Less` means `a` is deleted before `b`.
pub fn compare(
    a: &CachedPod,
    rank_a: i32,
    b: &CachedPod,
    rank_b: i32,
    now: SystemTime,
) -> Ordering {
    let assigned = |p: &CachedPod| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty())
    };
    // 1. unassigned first
    if assigned(a) != assigned(b) {
        return assigned(a).cmp(&assigned(b));
    }
    // 2. Pending < Unknown < Running
    let (pa, pb) = (phase_ordinal(a), phase_ordinal(b));
    if pa != pb {
        return pa.cmp(&pb);
    }
    // 3. not ready first
    if is_ready(a) != is_ready(b) {
        return is_ready(a).cmp(&is_ready(b));
    }
    // 4. lower deletion cost first
    let (ca, cb) = (deletion_cost(a), deletion_cost(b));
    if ca != cb {
        return ca.cmp(&cb);
    }
    // 5. higher rank (more co-located siblings) first
    if rank_a != rank_b {
        return rank_b.cmp(&rank_a);
    }
    // 6. both ready: more recently ready first
    if is_ready(a) && is_ready(b) {
        let (ta, tb) = (ready_since(a), ready_since(b));
        if log_bucket(ta, now) != log_bucket(tb, now) {
            return newer_first(a, ta, b, tb, now);
        }
    }
    // 7. more restarts first
    let (ra, rb) = (max_restarts(a), max_restarts(b));
    if ra != rb {
        return rb.cmp(&ra);
    }
    // 8. newer first, then UID
    newer_first(a, created(a), b, created(b), now)
}

/// Sort `pods` (with their ranks) so the ones to delete first come first.
pub fn sort_for_deletion(pods: &mut [(Arc<CachedPod>, i32)], now: SystemTime) {
    pods.sort_by(|(a, ra), (b, rb)| compare(a, *ra, b, *rb, now));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::cached_pod::{
        CachedContainerStatus, CachedPodCondition, CachedPodSpec, CachedPodStatus,
    };
    use crate::shared::time::to_time;
    use std::collections::BTreeMap;
    use std::time::{Duration, UNIX_EPOCH};

    const NOW: u64 = 1_000_000;

    fn at(secs_ago: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW - secs_ago)
    }

    struct P {
        uid: &'static str,
        node: Option<&'static str>,
        phase: &'static str,
        ready_ago: Option<u64>,
        cost: Option<&'static str>,
        restarts: i32,
        created_ago: u64,
    }

    const BASE: P = P {
        uid: "u",
        node: Some("n1"),
        phase: "Running",
        ready_ago: Some(100),
        cost: None,
        restarts: 0,
        created_ago: 200,
    };

    fn pod(p: P) -> CachedPod {
        let mut pod = CachedPod::default();
        pod.metadata.uid = Some(p.uid.into());
        pod.metadata.creation_timestamp = Some(to_time(at(p.created_ago)));
        if let Some(c) = p.cost {
            pod.metadata.annotations = Some(BTreeMap::from([(
                POD_DELETION_COST.to_string(),
                c.to_string(),
            )]));
        }
        pod.spec = Some(CachedPodSpec {
            node_name: p.node.map(str::to_string),
            ..Default::default()
        });
        pod.status = Some(CachedPodStatus {
            phase: Some(p.phase.into()),
            conditions: Some(vec![CachedPodCondition {
                type_: "Ready".into(),
                status: if p.ready_ago.is_some() {
                    "True"
                } else {
                    "False"
                }
                .into(),
                last_transition_time: p.ready_ago.map(|s| to_time(at(s))),
            }]),
            container_statuses: Some(vec![CachedContainerStatus {
                restart_count: p.restarts,
                ..Default::default()
            }]),
            ..Default::default()
        });
        pod
    }

    #[test]
    fn deletion_order_follows_upstream_rules() {
        let now = at(0);
        // (first, rank, second, rank, why): `first` must be deleted before `second`.
        let cases: Vec<(P, i32, P, i32, &str)> = vec![
            (
                P { node: None, ..BASE },
                0,
                BASE,
                0,
                "unassigned before assigned",
            ),
            (
                P {
                    phase: "Pending",
                    ready_ago: None,
                    ..BASE
                },
                0,
                P {
                    ready_ago: None,
                    ..BASE
                },
                0,
                "pending before running",
            ),
            (
                P {
                    phase: "Unknown",
                    ..BASE
                },
                0,
                BASE,
                0,
                "unknown before running",
            ),
            (
                P {
                    ready_ago: None,
                    ..BASE
                },
                0,
                BASE,
                0,
                "not ready before ready",
            ),
            (
                P {
                    cost: Some("-5"),
                    ..BASE
                },
                0,
                BASE,
                0,
                "lower deletion cost first",
            ),
            (
                BASE,
                0,
                P {
                    cost: Some("10"),
                    ready_ago: Some(1),
                    ..BASE
                },
                0,
                "cost beats readiness time",
            ),
            (BASE, 3, BASE, 1, "more co-located siblings first"),
            (
                P {
                    ready_ago: Some(10),
                    uid: "z",
                    ..BASE
                },
                0,
                P {
                    ready_ago: Some(1000),
                    uid: "a",
                    ..BASE
                },
                0,
                "recently ready first",
            ),
            (
                P {
                    ready_ago: Some(100),
                    uid: "a",
                    ..BASE
                },
                0,
                P {
                    ready_ago: Some(120),
                    uid: "b",
                    ..BASE
                },
                0,
                "same log bucket: uid decides",
            ),
            (
                P {
                    restarts: 3,
                    ..BASE
                },
                0,
                BASE,
                0,
                "more restarts first",
            ),
            (
                P {
                    created_ago: 5,
                    uid: "z",
                    ..BASE
                },
                0,
                P {
                    created_ago: 5000,
                    uid: "a",
                    ..BASE
                },
                0,
                "newer first",
            ),
        ];
        for (a, ra, b, rb, why) in cases {
            let (a, b) = (pod(a), pod(b));
            assert_eq!(compare(&a, ra, &b, rb, now), Ordering::Less, "{why}");
            assert_eq!(
                compare(&b, rb, &a, ra, now),
                Ordering::Greater,
                "{why} (reversed)"
            );
        }
    }

    #[test]
    fn log_buckets_group_times_of_the_same_magnitude() {
        let now = at(0);
        assert_eq!(
            log_bucket(Some(at(100)), now),
            log_bucket(Some(at(120)), now)
        );
        assert!(log_bucket(Some(at(10)), now) < log_bucket(Some(at(1000)), now));
        assert_eq!(log_bucket(None, now), -1);
    }
}
