//! State `Sandbox`: the pod's sandbox (network namespace, pause container) is being created;
//! when it is ready the pod has its IP and `PodReadyToStartContainers` turns True.

use super::{Env, Event, PodMachine, Stage};
use crate::runtime::SandboxConfig;
use std::time::{Duration, SystemTime};

/// How long after a failed sandbox creation it is tried again.
pub const SANDBOX_RETRY: Duration = Duration::from_secs(2);

/// Finish the sandbox once `ready_at` has come: take an IP from the node's podCIDR and move on
/// to the init containers (or the containers).
pub fn step(m: &mut PodMachine, ready_at: SystemTime, env: &mut Env<'_>) -> bool {
    if env.now < ready_at {
        return false;
    }
    let Some(ip) = m.pod_ip.clone().or_else(|| env.ips.allocate(&m.spec.uid)) else {
        // No free address: stay until a pod on this node goes away.
        return false;
    };
    m.pod_ip = Some(ip);
    match env.runtime.run_pod_sandbox(&SandboxConfig::of(&m.spec)) {
        Ok(id) => m.sandbox_id = Some(id),
        Err(e) => {
            // The kubelet's `FailedCreatePodSandBox`; tried again a little later.
            env.events.push(Event {
                warning: true,
                reason: "FailedCreatePodSandBox",
                message: format!("Failed to create pod sandbox: {e}"),
                field_path: None,
            });
            m.stage = Stage::Sandbox {
                ready_at: env.now + SANDBOX_RETRY,
            };
            return true;
        }
    }
    m.stage = if m.init.is_empty() {
        Stage::Main
    } else {
        Stage::Init(0)
    };
    true
}
