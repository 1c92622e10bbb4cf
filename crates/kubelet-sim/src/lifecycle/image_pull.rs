//! State `PullingImage` (and the `ErrImagePull` it may end in): the image manager's
//! `EnsureImageExists` — the pull policy, "already present", the pull with its events, and the
//! failure that starts the image back-off.

use super::{starting, Backoffs, ContainerMachine, ContainerState, Env, PodCtx, PullPolicy, Shown};
use crate::images::ImageRef;
use crate::time::go_duration;

/// The image back-off key (`<podUID>_<image>`).
pub fn backoff_key(pod: &PodCtx<'_>, c: &ContainerMachine) -> String {
    format!("{}_{}", pod.spec.uid, c.spec.image)
}

/// Make sure the container's image is on the node: use it if present (per the pull policy),
/// report the back-off if a recent pull failed, or start pulling.
pub fn begin(
    c: &mut ContainerMachine,
    pod: &PodCtx<'_>,
    b: Backoffs<'_>,
    shown: Shown,
    env: &mut Env<'_>,
) {
    let image = c.spec.image.clone();
    let r = match ImageRef::parse(&image) {
        Ok(r) => r,
        Err(e) => {
            let msg = format!("Failed to apply default image tag {image:?}: {e}");
            env.warning("InspectFailed", msg.clone(), &c.spec);
            env.warning("Failed", "Error: InvalidImageName".into(), &c.spec);
            c.state = ContainerState::ImageError {
                reason: "InvalidImageName",
                message: msg,
            };
            return;
        }
    };
    let present = env.runtime.present_image(&r);
    match (c.spec.pull_policy, present) {
        (PullPolicy::Never, None) => {
            let msg = format!("Container image {image:?} is not present with pull policy of Never");
            env.warning("ErrImageNeverPull", msg.clone(), &c.spec);
            env.warning("Failed", "Error: ErrImageNeverPull".into(), &c.spec);
            c.state = ContainerState::ImageError {
                reason: "ErrImageNeverPull",
                message: msg,
            };
            return;
        }
        (PullPolicy::Never | PullPolicy::IfNotPresent, Some(info)) => {
            env.normal(
                "Pulled",
                format!("Container image {image:?} already present on machine and can be accessed by the pod"),
                &c.spec,
            );
            starting::enter(c, info, shown, env);
            return;
        }
        _ => {}
    }
    let key = backoff_key(pod, c);
    let backoff = b
        .tables()
        .filter(|tables| tables.pull.in_backoff_since_update(&key, env.now));
    if let Some(tables) = backoff {
        let mut msg = format!("Back-off pulling image {image:?}");
        env.normal("BackOff", msg.clone(), &c.spec);
        env.warning("Failed", "Error: ImagePullBackOff".into(), &c.spec);
        if let Some(prev) = tables.pull_errors.get(&key) {
            msg = format!("{msg}: {prev}");
        }
        c.state = ContainerState::ImagePullBackOff {
            message: msg,
            until: tables.pull.until(&key).unwrap_or(env.now),
        };
        return;
    }
    env.normal("Pulling", format!("Pulling image {image:?}"), &c.spec);
    let plan = env.runtime.pull_image(&r);
    c.state = ContainerState::PullingImage {
        done_at: env.now + plan.duration,
        started: env.now,
        outcome: plan.outcome,
        shown,
    };
}

/// The pull ends: `Pulled` and on to creating the container, or `Failed` and `ErrImagePull`.
pub fn step(
    c: &mut ContainerMachine,
    pod: &PodCtx<'_>,
    mut b: Backoffs<'_>,
    env: &mut Env<'_>,
) -> bool {
    let ContainerState::PullingImage {
        done_at,
        started,
        outcome,
        shown,
    } = c.state.clone()
    else {
        return false;
    };
    if env.now < done_at {
        return false;
    }
    let image = c.spec.image.clone();
    match outcome {
        Ok(info) => {
            env.runtime.image_pulled(&info);
            let took = go_duration(done_at.duration_since(started).unwrap_or_default());
            env.normal(
                "Pulled",
                format!(
                    "Successfully pulled image {image:?} in {took} ({took} including waiting). Image size: {} bytes.",
                    info.size_bytes
                ),
                &c.spec,
            );
            starting::enter(c, info, shown, env);
        }
        Err(e) => {
            env.warning(
                "Failed",
                format!("Failed to pull image {image:?}: {e}"),
                &c.spec,
            );
            env.warning("Failed", "Error: ErrImagePull".into(), &c.spec);
            let key = backoff_key(pod, c);
            let tables = b.record();
            tables.pull.next(&key, env.now);
            tables.pull_errors.insert(key, format!("ErrImagePull: {e}"));
            c.state = ContainerState::ErrImagePull {
                message: e.to_string(),
                retry_at: env.now + env.timing.resync,
            };
        }
    }
    true
}

/// `ErrImagePull` lasts until the next sync, which finds the image in back-off.
pub fn step_failed(
    c: &mut ContainerMachine,
    pod: &PodCtx<'_>,
    b: Backoffs<'_>,
    env: &mut Env<'_>,
) -> bool {
    let ContainerState::ErrImagePull { message, retry_at } = c.state.clone() else {
        return false;
    };
    if env.now < retry_at {
        return false;
    }
    begin(
        c,
        pod,
        b,
        Shown::Waiting {
            reason: "ErrImagePull",
            message,
        },
        env,
    );
    true
}
