//! State `Running`: the container runs; it is `started` once its startup probe passes and
//! `ready` once its readiness probe does (simulated probes always succeed, after their
//! initialDelaySeconds). It leaves this state when the process exits.

use super::{ContainerMachine, ContainerState, Env, Termination};
use crate::runtime::ContainerStatus;

/// Ask the runtime whether the process is still there.
pub fn step(c: &mut ContainerMachine, env: &mut Env<'_>) -> bool {
    let ContainerState::Running { id, .. } = c.state.clone() else {
        return false;
    };
    match env.runtime.container_status(&id, env.now) {
        Ok(ContainerStatus::Running { .. }) | Ok(ContainerStatus::Created) => false,
        Ok(ContainerStatus::Exited {
            started_at,
            finished_at,
            exit_code,
            reason,
        }) => {
            c.state = ContainerState::Terminated(Box::new(Termination {
                exit_code,
                reason: reason.into(),
                message: None,
                started_at: Some(started_at),
                finished_at,
                container_id: Some(id),
            }));
            true
        }
        Err(_) => {
            c.state = ContainerState::Terminated(Box::new(Termination {
                exit_code: 137,
                reason: "ContainerStatusUnknown".into(),
                message: Some(
                    "The container could not be located when the pod was terminated".into(),
                ),
                started_at: None,
                finished_at: env.now,
                container_id: None,
            }));
            true
        }
    }
}
