//! The Progressing condition and the progress deadline (`progress.go`, §1.8): complete,
//! progressing or timed out, ReplicaFailure copied from the ReplicaSets, and the requeue that
//! notices a deadline passing (measured on the `Clock`).

use super::sync::calculate_status;
use super::util::*;
use super::{DeploymentController, Step};
use crate::shared::time::from_time;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use kube::ResourceExt;
use std::time::{Duration, SystemTime};

/// The Progressing condition for the new status (`syncRolloutStatus`, pure).
pub(crate) fn rollout_status(
    d: &Deployment,
    old: &[ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    now: SystemTime,
) -> DeploymentStatus {
    let all: Vec<&ReplicaSet> = old.iter().chain(new_rs).collect();
    let mut status = calculate_status(d, &all, new_rs, now);
    if progress_deadline(d).is_none() {
        remove_condition(&mut status, PROGRESSING);
    }
    let cur_status = d.status.clone().unwrap_or_default();
    let current = condition(&cur_status, PROGRESSING);
    let complete_already = status.replicas == status.updated_replicas
        && current.is_some_and(|c| c.reason.as_deref() == Some(NEW_RS_AVAILABLE));
    if progress_deadline(d).is_some() && !complete_already {
        let subject = match new_rs {
            Some(rs) => format!("ReplicaSet \"{}\"", rs.name_any()),
            None => format!("Deployment \"{}\"", d.name_any()),
        };
        if deployment_complete(d, &status) {
            let c = new_condition(
                PROGRESSING,
                "True",
                NEW_RS_AVAILABLE,
                format!("{subject} has successfully progressed."),
                now,
            );
            set_condition(&mut status, c);
        } else if deployment_progressing(d, &status) {
            let mut c = new_condition(
                PROGRESSING,
                "True",
                RS_UPDATED,
                format!("{subject} is progressing."),
                now,
            );
            if let Some(cur) = current {
                if cur.status == "True" {
                    c.last_transition_time = cur.last_transition_time.clone();
                }
                remove_condition(&mut status, PROGRESSING);
            }
            set_condition(&mut status, c);
        } else if deployment_timed_out(d, &status, now) {
            let c = new_condition(
                PROGRESSING,
                "False",
                TIMED_OUT,
                format!("{subject} has timed out progressing."),
                now,
            );
            set_condition(&mut status, c);
        }
    }
    match replica_failure(old, new_rs) {
        Some(c) => set_condition(&mut status, c),
        None => remove_condition(&mut status, REPLICA_FAILURE),
    }
    status
}

/// `getReplicaFailures`: the new RS's ReplicaFailure condition, else any RS's.
fn replica_failure(old: &[ReplicaSet], new_rs: Option<&ReplicaSet>) -> Option<DeploymentCondition> {
    let failure = |rs: &ReplicaSet| {
        rs.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == REPLICA_FAILURE)
            .map(|c| DeploymentCondition {
                type_: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                last_transition_time: c.last_transition_time.clone(),
                last_update_time: c.last_transition_time.clone(),
            })
    };
    new_rs
        .and_then(failure)
        .or_else(|| old.iter().find_map(failure))
}

/// `requeueStuckDeployment`: when to look again so a deadline passing is noticed.
pub(crate) fn requeue_after(
    d: &Deployment,
    new_status: &DeploymentStatus,
    now: SystemTime,
) -> Option<Duration> {
    let pds = progress_deadline(d)?;
    let cur = d.status.clone().unwrap_or_default();
    let c = condition(&cur, PROGRESSING)?;
    if deployment_complete(d, new_status) || c.reason.as_deref() == Some(TIMED_OUT) {
        return None;
    }
    let last = from_time(c.last_update_time.as_ref()?);
    let deadline = last + Duration::from_secs(pds.max(0) as u64);
    match deadline.duration_since(now) {
        Ok(after) if after >= Duration::from_secs(1) => Some(after + Duration::from_secs(1)),
        _ => Some(Duration::from_secs(1)),
    }
}

impl DeploymentController {
    /// `syncRolloutStatus`.
    pub(crate) async fn sync_rollout_status(
        &self,
        d: &mut Deployment,
        old: &[ReplicaSet],
        new_rs: Option<&ReplicaSet>,
    ) -> Step {
        let now = self.ctx.clock.now();
        let status = rollout_status(d, old, new_rs, now);
        if d.status.as_ref() == Some(&status) {
            return Ok(requeue_after(d, &status, now));
        }
        d.status = Some(status);
        self.update_status(d).await?;
        Ok(None)
    }
}
