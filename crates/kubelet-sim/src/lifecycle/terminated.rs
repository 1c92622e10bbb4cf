//! State `Terminated`: the container's process exited. Per the restart policy it stays so, is
//! started again at once (first restart, or the back-off has passed), or goes to
//! `CrashLoopBackOff`. Also the end of the pod: its terminal phase once no container will run
//! again.

use super::{
    image_pull, status, Backoffs, ContainerMachine, ContainerState, Env, PodCtx, PodMachine, Shown,
    Stage, Termination,
};
use crate::time::go_duration;

/// The crash back-off key (per pod and container).
pub fn crash_key(pod: &PodCtx<'_>, c: &ContainerMachine) -> String {
    format!(
        "{}_{}_{}_{}",
        pod.spec.name, pod.spec.namespace, pod.spec.uid, c.spec.name
    )
}

/// Restart the container if its policy says so (`doBackOff` decides between now and later).
pub fn step(
    c: &mut ContainerMachine,
    pod: &PodCtx<'_>,
    mut b: Backoffs<'_>,
    env: &mut Env<'_>,
) -> bool {
    let ContainerState::Terminated(t) = c.state.clone() else {
        return false;
    };
    if !pod.policy_for(&c.spec).restarts(t.exit_code) {
        return false;
    }
    if let Some(id) = &t.container_id {
        env.runtime.remove_container(id);
    }
    let key = crash_key(pod, c);
    let backoff = b
        .tables()
        .filter(|tables| tables.crash.in_backoff_since(&key, t.finished_at, env.now))
        .map(|tables| tables.crash.get(&key));
    if let Some(delay) = backoff {
        let message = format!(
            "back-off {} restarting failed container={} pod={}",
            go_duration(delay),
            c.spec.name,
            pod.spec.format_pod()
        );
        env.warning(
            "BackOff",
            format!(
                "Back-off restarting failed container {} in pod {}",
                c.spec.name,
                pod.spec.format_pod()
            ),
            &c.spec,
        );
        c.last_termination = Some(t.clone());
        c.state = ContainerState::CrashLoopBackOff {
            message,
            until: t.finished_at + delay,
        };
        return true;
    }
    b.record().crash.next(&key, env.now);
    image_pull::begin(c, pod, b, Shown::Terminated(t), env);
    true
}

/// The pod is over: record its terminal phase, stop what still runs (sidecars), mark containers
/// that never ran, give back the IP and remove the sandbox.
pub fn finish_pod(m: &mut PodMachine, env: &mut Env<'_>) {
    let killed = m.stage == Stage::Killing;
    let now = env.now;
    let grace = std::time::Duration::from_secs(m.spec.grace_seconds.max(0) as u64);
    for c in m.init.iter_mut().chain(m.containers.iter_mut()) {
        match c.state.clone() {
            ContainerState::Running { id, started_at, .. }
            | ContainerState::Stopping { id, started_at, .. } => {
                if matches!(c.state, ContainerState::Running { .. }) {
                    env.normal(
                        "Killing",
                        format!("Stopping container {}", c.spec.name),
                        &c.spec,
                    );
                }
                let at = env.runtime.stop_container(&id, grace, now).unwrap_or(now);
                let (code, reason, finished_at) = match env.runtime.container_status(&id, at) {
                    Ok(crate::runtime::ContainerStatus::Exited {
                        exit_code,
                        reason,
                        finished_at,
                        ..
                    }) => (exit_code, reason.to_string(), finished_at),
                    _ => (137, "Error".to_string(), at),
                };
                c.state = ContainerState::Terminated(Box::new(Termination {
                    exit_code: code,
                    reason,
                    message: None,
                    started_at: Some(started_at),
                    finished_at,
                    container_id: Some(id),
                }));
            }
            ContainerState::Terminated(_) => {}
            ContainerState::CrashLoopBackOff { .. } if !killed => {}
            _ if killed => {
                // `TerminatePod`: a container with no known end is reported as failed.
                let last = c.last_termination.clone();
                c.state = ContainerState::Terminated(Box::new(Termination {
                    exit_code: 137,
                    reason: "ContainerStatusUnknown".into(),
                    message: Some(
                        "The container could not be located when the pod was terminated".into(),
                    ),
                    started_at: None,
                    finished_at: now,
                    container_id: None,
                }));
                c.last_termination = last;
            }
            _ => {}
        }
    }
    let phase = if killed {
        let ok = m
            .containers
            .iter()
            .all(|c| c.terminated().is_some_and(|t| t.exit_code == 0));
        if ok && m.kill_reason.is_none() {
            "Succeeded"
        } else {
            "Failed"
        }
    } else {
        match status::phase(m, now) {
            "Succeeded" => "Succeeded",
            _ => "Failed",
        }
    };
    let (reason, message) = match m.kill_reason.as_deref() {
        Some((r, msg)) => (Some(*r), Some(msg.clone())),
        None => (None, None),
    };
    m.terminal = Some(Box::new((phase, reason, message)));
    for c in m.init.iter().chain(m.containers.iter()) {
        if let Some(id) = &c.container_id {
            env.runtime.remove_container(id);
        }
    }
    if let Some(sb) = m.sandbox_id.take() {
        env.runtime.stop_pod_sandbox(&sb);
    }
    env.ips.release(&m.spec.uid);
    m.stage = Stage::Terminal;
}
