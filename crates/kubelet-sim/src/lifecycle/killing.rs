//! State `Killing` (pod) and `Stopping` (container): the pod was deleted (or ran past its
//! activeDeadlineSeconds), or a container's definition changed. Running containers get
//! SIGTERM (`Killing` "Stopping container x"); a simulated process exits quickly; once all
//! have, the pod is terminal and the kubelet removes it.

use super::{
    image_pull, terminated, Backoffs, ContainerMachine, ContainerState, Env, PodCtx, PodMachine,
    Shown, Stage, Termination,
};
use crate::runtime::ContainerStatus;
use std::time::Duration;

/// Send SIGTERM to every running container; SIGKILL follows after `grace`.
pub fn begin(m: &mut PodMachine, grace: Duration, env: &mut Env<'_>) {
    m.stage = Stage::Killing;
    for c in m.init.iter_mut().chain(m.containers.iter_mut()) {
        if let ContainerState::Running { id, started_at, .. } = c.state.clone() {
            env.normal(
                "Killing",
                format!("Stopping container {}", c.spec.name),
                &c.spec,
            );
            let _ = env.runtime.stop_container(&id, grace, env.now);
            c.state = ContainerState::Stopping {
                id,
                started_at,
                restart: false,
            };
        }
    }
}

/// Wait for the stopped containers; when none is left running, the pod is terminal.
pub fn step(m: &mut PodMachine, env: &mut Env<'_>) -> bool {
    let pod = PodCtx {
        spec: &m.spec,
        has_init: !m.init.is_empty(),
        pod_ip: m.pod_ip.as_deref(),
    };
    let mut moved = false;
    for c in m.init.iter_mut().chain(m.containers.iter_mut()) {
        if matches!(c.state, ContainerState::Stopping { .. }) {
            moved |= step_container(c, &pod, Backoffs(&mut m.backoffs), env);
        }
    }
    let stopping = m
        .all()
        .any(|c| matches!(c.state, ContainerState::Stopping { .. }));
    if !stopping {
        terminated::finish_pod(m, env);
        return true;
    }
    moved
}

/// A stopping container whose process is gone is `Terminated` (and started again at once if
/// its definition changed).
pub fn step_container(
    c: &mut ContainerMachine,
    pod: &PodCtx<'_>,
    b: Backoffs<'_>,
    env: &mut Env<'_>,
) -> bool {
    let ContainerState::Stopping {
        id,
        started_at,
        restart,
    } = c.state.clone()
    else {
        return false;
    };
    let t = match env.runtime.container_status(&id, env.now) {
        Ok(ContainerStatus::Exited {
            finished_at,
            exit_code,
            reason,
            ..
        }) => Termination {
            exit_code,
            reason: reason.into(),
            message: None,
            started_at: Some(started_at),
            finished_at,
            container_id: Some(id.clone()),
        },
        Ok(_) => return false,
        Err(_) => Termination {
            exit_code: 137,
            reason: "ContainerStatusUnknown".into(),
            message: Some("The container could not be located when the pod was terminated".into()),
            started_at: Some(started_at),
            finished_at: env.now,
            container_id: Some(id.clone()),
        },
    };
    let t = Box::new(t);
    if restart {
        env.runtime.remove_container(&id);
        image_pull::begin(c, pod, b, Shown::Terminated(t), env);
    } else {
        c.state = ContainerState::Terminated(t);
    }
    true
}
