//! State `CrashLoopBackOff`: the container exited again within its back-off; the kubelet waits
//! (10 s, doubling to 300 s, from the last exit) before starting it again.

use super::{
    image_pull, terminated::crash_key, Backoffs, ContainerMachine, ContainerState, Env, PodCtx,
    Shown,
};

/// When the back-off is over, start the container again.
pub fn step(
    c: &mut ContainerMachine,
    pod: &PodCtx<'_>,
    mut b: Backoffs<'_>,
    env: &mut Env<'_>,
) -> bool {
    let ContainerState::CrashLoopBackOff { message, until } = c.state.clone() else {
        return false;
    };
    if env.now < until {
        return false;
    }
    b.record().crash.next(&crash_key(pod, c), env.now);
    image_pull::begin(
        c,
        pod,
        b,
        Shown::Waiting {
            reason: "CrashLoopBackOff",
            message,
        },
        env,
    );
    true
}
