//! State `Starting`: the image is on the node; the container's environment is resolved
//! (`apidata::env`; a missing ConfigMap, Secret or key shows `CreateContainerConfigError` and
//! is tried again after `CONFIG_RETRY`, as the pod worker's back-off period), then it is
//! created (`Created`) and started (`Started`) after the runtime's create and start delays.

use super::{ContainerMachine, ContainerSpec, ContainerState, Env, PodCtx, Shown};
use crate::apidata::env::{resolve, Resolved};
use crate::apidata::fields::PodFields;
use crate::apidata::DataError;
use crate::images::ImageInfo;
use crate::runtime::ContainerConfig;
use std::sync::Arc;
use std::time::Duration;

/// How long after a `CreateContainerConfigError` the container is tried again (the kubelet's
/// pod worker `backOffPeriod`).
pub const CONFIG_RETRY: Duration = Duration::from_secs(10);

/// Container `c`'s environment, command and args.
pub fn resolved(c: &ContainerSpec, pod: &PodCtx<'_>, env: &Env<'_>) -> Result<Resolved, DataError> {
    let fields = PodFields {
        spec: pod.spec,
        pod_ip: pod.pod_ip,
        node: &env.sources.node,
    };
    resolve(c, &fields, env.sources)
}

pub fn enter(c: &mut ContainerMachine, image: Arc<ImageInfo>, shown: Shown, env: &mut Env<'_>) {
    c.state = ContainerState::Starting {
        at: env.now + env.timing.create + env.timing.start,
        image,
        shown,
    };
}

/// Create and start the container; it is `Running` from now.
pub fn step(c: &mut ContainerMachine, pod: &PodCtx<'_>, env: &mut Env<'_>) -> bool {
    let ContainerState::Starting { at, image, shown } = c.state.clone() else {
        return false;
    };
    if env.now < at {
        return false;
    }
    let resolved = match resolved(&c.spec, pod, env) {
        Ok(r) => r,
        Err(e) => {
            env.warning("Failed", format!("Error: {e}"), &c.spec);
            if let Shown::Terminated(t) = shown {
                c.last_termination = Some(t);
            }
            c.state = ContainerState::Starting {
                at: env.now + CONFIG_RETRY,
                image,
                shown: Shown::Waiting {
                    reason: "CreateContainerConfigError",
                    message: e.0,
                },
            };
            return true;
        }
    };
    let config = ContainerConfig::new(
        pod.spec,
        &c.spec,
        resolved,
        image.clone(),
        pod.policy_for(&c.spec).as_str(),
        c.runs,
    );
    let id = match env.runtime.create_container(&config) {
        Ok(id) => id,
        Err(e) => {
            env.warning("Failed", format!("Error: {e}"), &c.spec);
            c.state = ContainerState::ImageError {
                reason: "CreateContainerError",
                message: e.to_string(),
            };
            return true;
        }
    };
    env.normal("Created", "Container created".into(), &c.spec);
    if let Err(e) = env.runtime.start_container(&id, env.now) {
        env.warning("Failed", format!("Error: {e}"), &c.spec);
        c.state = ContainerState::ImageError {
            reason: "RunContainerError",
            message: e.to_string(),
        };
        return true;
    }
    env.normal("Started", "Container started".into(), &c.spec);
    if let Shown::Terminated(t) = shown {
        c.last_termination = Some(t);
    }
    c.runs += 1;
    c.image = Some(image);
    c.container_id = Some(id.clone());
    let started_ok_at = env.now + c.spec.startup_delay.unwrap_or_default();
    let ready_at = match c.spec.readiness_delay {
        Some(d) => (env.now + d).max(started_ok_at),
        None => started_ok_at,
    };
    c.state = ContainerState::Running {
        id,
        started_at: env.now,
        ready_at: Some(ready_at),
        started_ok_at,
    };
    true
}
