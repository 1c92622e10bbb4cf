//! ReplicaSet status (`calculateStatus`, `updateReplicaSetStatus`): counts from the claimed
//! pods, the ReplicaFailure condition from the last manage error, written only on change.

use super::ManageError;
use crate::shared::cached_pod::CachedPod;
use crate::shared::pods::{is_available, is_ready};
use crate::shared::{is_conflict, time::to_time};
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use kube::api::PostParams;
use kube::{Api, ResourceExt};
use std::sync::Arc;
use std::time::SystemTime;

fn opt(n: i32) -> Option<i32> {
    (n != 0).then_some(n)
}

pub(crate) fn calculate(
    rs: &ReplicaSet,
    pods: &[Arc<CachedPod>],
    terminating: &[Arc<CachedPod>],
    err: Option<&ManageError>,
    now: SystemTime,
) -> ReplicaSetStatus {
    let spec = rs.spec.clone().unwrap_or_default();
    let template_labels = spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let fully_labeled = pods
        .iter()
        .filter(|p| {
            let labels = crate::shared::labels_of(&p.metadata);
            template_labels
                .iter()
                .all(|(k, v)| labels.get(k) == Some(v))
        })
        .count() as i32;
    let ready = pods.iter().filter(|p| is_ready(p)).count() as i32;
    let available = pods
        .iter()
        .filter(|p| is_available(p, min_ready, now))
        .count() as i32;
    let mut status = ReplicaSetStatus {
        replicas: pods.len() as i32,
        fully_labeled_replicas: opt(fully_labeled),
        ready_replicas: opt(ready),
        available_replicas: opt(available),
        terminating_replicas: Some(terminating.len() as i32),
        observed_generation: rs.metadata.generation,
        conditions: rs.status.as_ref().and_then(|s| s.conditions.clone()),
    };
    let has_failure = status
        .conditions
        .as_ref()
        .is_some_and(|c| c.iter().any(|c| c.type_ == "ReplicaFailure"));
    match err {
        Some(e) if !has_failure => {
            status
                .conditions
                .get_or_insert_with(Vec::new)
                .push(ReplicaSetCondition {
                    type_: "ReplicaFailure".into(),
                    status: "True".into(),
                    reason: Some(e.reason.into()),
                    message: Some(e.message.clone()),
                    last_transition_time: Some(to_time(now)),
                });
        }
        None if has_failure => {
            if let Some(c) = status.conditions.as_mut() {
                c.retain(|c| c.type_ != "ReplicaFailure");
            }
        }
        _ => {}
    }
    if status.conditions.as_ref().is_some_and(Vec::is_empty) {
        status.conditions = None;
    }
    status
}

/// Write the status if it changed (one retry on conflict, from a fresh read).
pub(crate) async fn update(
    api: &Api<ReplicaSet>,
    rs: &ReplicaSet,
    status: ReplicaSetStatus,
) -> anyhow::Result<ReplicaSet> {
    if rs.status.as_ref() == Some(&status) {
        return Ok(rs.clone());
    }
    let mut next = rs.clone();
    next.status = Some(status.clone());
    match api
        .replace_status(&rs.name_any(), &PostParams::default(), &next)
        .await
    {
        Ok(r) => Ok(r),
        Err(e) if is_conflict(&e) => {
            let mut fresh = api.get(&rs.name_any()).await?;
            fresh.status = Some(status);
            Ok(api
                .replace_status(&rs.name_any(), &PostParams::default(), &fresh)
                .await?)
        }
        Err(e) => Err(e.into()),
    }
}
