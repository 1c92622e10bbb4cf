//! State `ImagePullBackOff`: a pull failed recently; the kubelet waits out the image back-off
//! (10 s, doubling to 300 s) before pulling again.

use super::{image_pull, Backoffs, ContainerMachine, ContainerState, Env, PodCtx, Shown};

/// When the back-off is over, pull again (the status keeps showing `ImagePullBackOff` while the
/// new pull runs).
pub fn step(
    c: &mut ContainerMachine,
    pod: &PodCtx<'_>,
    b: Backoffs<'_>,
    env: &mut Env<'_>,
) -> bool {
    let ContainerState::ImagePullBackOff { message, until } = c.state.clone() else {
        return false;
    };
    if env.now < until {
        return false;
    }
    image_pull::begin(
        c,
        pod,
        b,
        Shown::Waiting {
            reason: "ImagePullBackOff",
            message,
        },
        env,
    );
    true
}
