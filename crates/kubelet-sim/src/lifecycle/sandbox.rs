//! State `Sandbox`: the pod's volumes are set up (configMap, secret, downwardAPI and projected
//! ones from the API; a missing object is a `FailedMount` and a retry with back-off, as the
//! volume manager does) and its sandbox (network namespace, pause container) created; when it
//! is ready the pod has its IP and `PodReadyToStartContainers` turns True. While the pod
//! runs, its API-data volumes follow their objects at each periodic sync, as the kubelet's
//! volume manager remounts them.

use super::{Env, Event, PodMachine, PodSpecView, Stage};
use crate::apidata::fields::PodFields;
use crate::apidata::{projection, DataError, Sources};
use crate::runtime::{PodVolume, SandboxConfig, VolumeSource};
use std::time::{Duration, SystemTime};

/// How long after a failed sandbox creation it is tried again.
pub const SANDBOX_RETRY: Duration = Duration::from_secs(2);

/// The volume manager's retry after the `n`th failed set-up in a row: 500 ms doubling up to
/// 2 min 2 s (`exponentialbackoff`).
pub fn mount_retry(n: u32) -> Duration {
    let max = Duration::from_secs(122);
    Duration::from_millis(500)
        .checked_mul(1u32 << n.saturating_sub(1).min(16))
        .map_or(max, |d| d.min(max))
}

/// The pod's volumes with the API-data ones filled, or the first volume that cannot be set up.
pub fn volumes(
    spec: &PodSpecView,
    sources: &Sources,
) -> Result<Vec<PodVolume>, (String, DataError)> {
    let fields = PodFields {
        spec,
        pod_ip: None,
        node: &sources.node,
    };
    spec.volumes
        .iter()
        .map(|v| {
            let Some(def) = spec.api_volumes.iter().find(|a| a.name == v.name) else {
                return Ok(v.clone());
            };
            let files =
                projection::project(def, &fields, sources).map_err(|e| (v.name.clone(), e))?;
            Ok(PodVolume {
                name: v.name.clone(),
                source: VolumeSource::Files(files),
            })
        })
        .collect()
}

/// Finish the sandbox once `ready_at` has come: set up the volumes, take an IP from the node's
/// podCIDR and move on to the init containers (or the containers).
pub fn step(m: &mut PodMachine, ready_at: SystemTime, env: &mut Env<'_>) -> bool {
    if env.now < ready_at {
        return false;
    }
    let vols = match volumes(&m.spec, env.sources) {
        Ok(v) => v,
        Err((name, e)) => {
            env.events.push(failed_mount(&name, &e));
            m.mount_failures += 1;
            m.stage = Stage::Sandbox {
                ready_at: env.now + mount_retry(m.mount_failures),
            };
            return true;
        }
    };
    m.mount_failures = 0;
    m.volumes_synced_at = Some(env.now);
    let Some(ip) = m.pod_ip.clone().or_else(|| env.ips.allocate(&m.spec.uid)) else {
        // No free address: stay until a pod on this node goes away.
        return false;
    };
    match env
        .runtime
        .run_pod_sandbox(&SandboxConfig::of(&m.spec, &ip, vols))
    {
        Ok(id) => m.sandbox_id = Some(id),
        Err(e) => {
            // The kubelet's `FailedCreatePodSandBox`; tried again a little later.
            env.events.push(Event {
                warning: true,
                reason: "FailedCreatePodSandBox",
                message: format!("Failed to create pod sandbox: {e}"),
                field_path: None,
            });
            m.pod_ip = Some(ip);
            m.stage = Stage::Sandbox {
                ready_at: env.now + SANDBOX_RETRY,
            };
            return true;
        }
    }
    m.pod_ip = Some(ip);
    m.stage = if m.init.is_empty() {
        Stage::Main
    } else {
        Stage::Init(0)
    };
    true
}

/// When a running pod's API-data volumes are next brought up to date: `Timing::volume_sync`
/// after the last time, for a pod that has such volumes in a runtime that keeps their files.
pub fn volumes_next_sync(
    m: &PodMachine,
    timing: &crate::runtime::Timing,
    runtime: &dyn crate::runtime::ContainerRuntime,
) -> Option<SystemTime> {
    let running = matches!(m.stage, Stage::Init(_) | Stage::Main) && !m.deleting;
    if !running || m.sandbox_id.is_none() || m.spec.api_volumes.is_empty() {
        return None;
    }
    if !runtime.writes_volume_files() {
        return None;
    }
    Some(m.volumes_synced_at? + timing.volume_sync)
}

/// Project the API-data volumes again and hand them to the runtime, which rewrites those that
/// changed. An object gone or unreadable keeps the files as they were, with a `FailedMount`.
pub fn resync_volumes(m: &mut PodMachine, env: &mut Env<'_>) {
    m.volumes_synced_at = Some(env.now);
    let Some(sandbox) = m.sandbox_id.clone() else {
        return;
    };
    match volumes(&m.spec, env.sources) {
        Ok(vols) => {
            let api: Vec<_> = vols
                .into_iter()
                .filter(|v| m.spec.api_volumes.iter().any(|a| a.name == v.name))
                .collect();
            env.runtime.update_volumes(&sandbox, &api);
        }
        Err((name, e)) => env.events.push(failed_mount(&name, &e)),
    }
}

/// The volume manager's `FailedMount` event.
fn failed_mount(name: &str, e: &DataError) -> Event {
    Event {
        warning: true,
        reason: "FailedMount",
        message: format!("MountVolume.SetUp failed for volume \"{name}\" : {e}"),
        field_path: None,
    }
}

#[cfg(test)]
mod tests {
    use super::mount_retry;
    use std::time::Duration;

    #[test]
    fn failed_mounts_are_retried_after_a_doubling_delay_capped_at_two_minutes() {
        let table = [
            (1, 500),
            (2, 1000),
            (3, 2000),
            (8, 64_000),
            (9, 122_000),
            (40, 122_000),
        ];
        for (n, ms) in table {
            assert_eq!(mount_retry(n), Duration::from_millis(ms), "{n}");
        }
    }
}
