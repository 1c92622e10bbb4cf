//! State `Sandbox`: the pod's sandbox (network namespace, pause container) is being created;
//! when it is ready the pod has its IP and `PodReadyToStartContainers` turns True.

use super::{Env, PodMachine, Stage};
use std::time::SystemTime;

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
    m.sandbox_id = Some(env.runtime.run_pod_sandbox(&m.spec.uid));
    m.stage = if m.init.is_empty() {
        Stage::Main
    } else {
        Stage::Init(0)
    };
    true
}
