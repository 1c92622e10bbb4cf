//! The pod lifecycle as the kubelet runs it, as a typed state machine with no I/O: the pod goes
//! sandbox → init containers in order → containers; each container goes image pull (or its
//! back-off) → created/started → running/ready → terminated, and is restarted per the
//! restartPolicy with the crash-loop back-off; a deleted pod's containers are stopped. One
//! module per state; `status` turns the machine into the API's PodStatus (phase, conditions,
//! container statuses). Time is an argument: tests step the machine at chosen instants.
//! `spec` is what the machine reads of the pod; most of it is shared between the pods of one
//! template on a node.
//!
//! Allowed container transitions:
//! ```text
//! Waiting ─▶ PullingImage ─▶ Starting ─▶ Running ─▶ Terminated ─▶ (restart) Starting
//!    │            │                         │            └──────▶ CrashLoopBackOff ─▶ Starting
//!    │            └▶ ErrImagePull ─▶ ImagePullBackOff ─▶ PullingImage
//!    └▶ ImageError (InvalidImageName, ErrImageNeverPull)      Running ─▶ Stopping ─▶ Terminated
//! ```

pub mod adopt;
pub mod crash_loop_backoff;
pub mod image_pull;
pub mod image_pull_backoff;
pub mod killing;
pub mod running;
pub mod sandbox;
pub mod spec;
pub mod starting;
pub mod status;
pub mod terminated;

use crate::backoff::Backoff;
use crate::images::ImageInfo;
use crate::runtime::{ContainerRuntime, PullError, Timing};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use spec::{
    ContainerKind, ContainerSpec, PodSpecView, PullPolicy, RestartPolicy, SharedSpec, SpecInterner,
};

/// An event the kubelet records about the pod (`involvedObject` is the pod; `field_path` names
/// the container).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
    pub field_path: Option<String>,
}

/// Pod IP addresses of the node (from its podCIDR).
pub trait IpSource {
    fn allocate(&mut self, pod_uid: &str) -> Option<String>;
    fn release(&mut self, pod_uid: &str);
    /// Keep the address a pod already has (re-adoption); false if it is not available.
    fn reserve(&mut self, pod_uid: &str, ip: &str) -> bool;
}

/// What a step works with: the time, the node's runtime and addresses, the ConfigMaps and
/// Secrets the pod references (fetched by the kubelet before the step), and where events go.
pub struct Env<'a> {
    pub now: SystemTime,
    pub runtime: &'a dyn ContainerRuntime,
    pub timing: &'a Timing,
    pub ips: &'a mut dyn IpSource,
    pub sources: &'a crate::apidata::Sources,
    pub events: &'a mut Vec<Event>,
}

impl Env<'_> {
    pub fn normal(&mut self, reason: &'static str, message: String, c: &ContainerSpec) {
        self.events.push(Event {
            warning: false,
            reason,
            message,
            field_path: Some(c.field_path()),
        });
    }
    pub fn warning(&mut self, reason: &'static str, message: String, c: &ContainerSpec) {
        self.events.push(Event {
            warning: true,
            reason,
            message,
            field_path: Some(c.field_path()),
        });
    }
}

/// How a container run ended (`state.terminated` / `lastState.terminated`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Termination {
    pub exit_code: i32,
    pub reason: String,
    pub message: Option<String>,
    pub started_at: Option<SystemTime>,
    pub finished_at: SystemTime,
    pub container_id: Option<String>,
}

/// What the status shows while the kubelet works on a container (pulling, creating).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shown {
    /// The default waiting reason (`ContainerCreating` / `PodInitializing`).
    Default,
    Waiting {
        reason: &'static str,
        message: String,
    },
    /// Boxed, as in `ContainerState`: a run's end is 112 bytes, which every container's
    /// state would carry otherwise.
    Terminated(Box<Termination>),
}

/// The state of one container.
#[derive(Clone, Debug)]
pub enum ContainerState {
    /// Not begun: the sandbox or earlier init containers are not ready.
    Waiting,
    /// An image problem retries cannot fix (`InvalidImageName`, `ErrImageNeverPull`).
    ImageError {
        reason: &'static str,
        message: String,
    },
    PullingImage {
        done_at: SystemTime,
        started: SystemTime,
        outcome: Result<Arc<ImageInfo>, PullError>,
        shown: Shown,
    },
    ErrImagePull {
        message: String,
        retry_at: SystemTime,
    },
    ImagePullBackOff {
        message: String,
        until: SystemTime,
    },
    Starting {
        at: SystemTime,
        image: Arc<ImageInfo>,
        shown: Shown,
    },
    Running {
        id: String,
        started_at: SystemTime,
        /// When it becomes ready (None: never while running).
        ready_at: Option<SystemTime>,
        /// When the startup probe passes (`started: true`).
        started_ok_at: SystemTime,
    },
    /// SIGTERM sent; the process is exiting.
    Stopping {
        id: String,
        started_at: SystemTime,
        /// Start again once stopped (its definition changed).
        restart: bool,
    },
    /// Boxed: the largest variant by far, and a node holds a state per container.
    Terminated(Box<Termination>),
    CrashLoopBackOff {
        message: String,
        until: SystemTime,
    },
}

impl ContainerState {
    pub fn name(&self) -> &'static str {
        match self {
            ContainerState::Waiting => "Waiting",
            ContainerState::ImageError { .. } => "ImageError",
            ContainerState::PullingImage { .. } => "PullingImage",
            ContainerState::ErrImagePull { .. } => "ErrImagePull",
            ContainerState::ImagePullBackOff { .. } => "ImagePullBackOff",
            ContainerState::Starting { .. } => "Starting",
            ContainerState::Running { .. } => "Running",
            ContainerState::Stopping { .. } => "Stopping",
            ContainerState::Terminated(_) => "Terminated",
            ContainerState::CrashLoopBackOff { .. } => "CrashLoopBackOff",
        }
    }
}

/// One container and its history.
#[derive(Clone, Debug)]
pub struct ContainerMachine {
    /// The same allocation as the pod's `PodSpecView` holds.
    pub spec: Arc<ContainerSpec>,
    pub state: ContainerState,
    /// How many containers were created for it (restartCount is this minus one).
    pub runs: i32,
    /// The run before the current one (`lastState.terminated`); boxed as in `ContainerState`.
    pub last_termination: Option<Box<Termination>>,
    /// The image of the current (or last) container: the node's copy (`PullPlan`).
    pub image: Option<Arc<ImageInfo>>,
    pub container_id: Option<String>,
}

impl ContainerMachine {
    pub fn new(spec: Arc<ContainerSpec>) -> ContainerMachine {
        ContainerMachine {
            spec,
            state: ContainerState::Waiting,
            runs: 0,
            last_termination: None,
            image: None,
            container_id: None,
        }
    }

    pub fn restart_count(&self) -> i32 {
        (self.runs - 1).max(0)
    }

    pub fn is_running(&self) -> bool {
        matches!(
            self.state,
            ContainerState::Running { .. } | ContainerState::Stopping { .. }
        )
    }

    pub fn is_ready(&self, now: SystemTime) -> bool {
        match &self.state {
            ContainerState::Running { ready_at, .. } => ready_at.is_some_and(|t| t <= now),
            _ => false,
        }
    }

    pub fn has_started(&self, now: SystemTime) -> bool {
        match &self.state {
            ContainerState::Running { started_ok_at, .. } => *started_ok_at <= now,
            _ => false,
        }
    }

    /// Exit code of a finished run that is not going to be restarted.
    pub fn terminated(&self) -> Option<&Termination> {
        match &self.state {
            ContainerState::Terminated(t) => Some(t),
            _ => None,
        }
    }
}

/// Where the pod is as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Creating the sandbox (network namespace, pause container, IP).
    Sandbox { ready_at: SystemTime },
    /// Running init container `i` (earlier ones are done).
    Init(usize),
    /// Init done: the containers run.
    Main,
    /// Stopping every container (deleted, or past its active deadline).
    Killing,
    /// Every container stopped for good (Succeeded / Failed); the sandbox is gone.
    Terminal,
}

/// What the status shows of a pod that is over: its phase, reason and message.
pub type TerminalStatus = (&'static str, Option<&'static str>, Option<String>);

/// Per-pod state of one pod on a node.
pub struct PodMachine {
    pub spec: PodSpecView,
    pub stage: Stage,
    pub sandbox_id: Option<String>,
    pub pod_ip: Option<String>,
    pub start_time: SystemTime,
    pub init: Vec<ContainerMachine>,
    pub containers: Vec<ContainerMachine>,
    /// Set when the kubelet decided the pod is over. Boxed, as are the kill reason and the
    /// back-off tables: most pods never need them, and a node holds a machine per pod.
    pub terminal: Option<Box<TerminalStatus>>,
    /// Why the pod is being killed (`DeadlineExceeded`), if not a deletion.
    pub kill_reason: Option<Box<(&'static str, String)>>,
    pub deleting: bool,
    /// Made at the pod's first failed pull or restart.
    pub backoffs: Option<Box<BackoffTables>>,
    /// Failed volume set-ups in a row (`FailedMount`), for the retry back-off.
    pub mount_failures: u32,
    /// When the API-data volumes were last set up or brought up to date.
    pub volumes_synced_at: Option<SystemTime>,
}

impl PodMachine {
    pub fn new(spec: PodSpecView, now: SystemTime) -> PodMachine {
        PodMachine {
            init: spec
                .init_containers
                .iter()
                .cloned()
                .map(ContainerMachine::new)
                .collect(),
            containers: spec
                .containers
                .iter()
                .cloned()
                .map(ContainerMachine::new)
                .collect(),
            spec,
            stage: Stage::Sandbox { ready_at: now },
            sandbox_id: None,
            pod_ip: None,
            start_time: now,
            terminal: None,
            kill_reason: None,
            deleting: false,
            backoffs: None,
            mount_failures: 0,
            volumes_synced_at: None,
        }
    }

    /// Start the machine: the sandbox is ready after `Timing::sandbox`.
    pub fn start(spec: PodSpecView, now: SystemTime, timing: &Timing) -> PodMachine {
        let mut m = PodMachine::new(spec, now);
        m.stage = Stage::Sandbox {
            ready_at: now + timing.sandbox,
        };
        m
    }

    pub fn is_terminal(&self) -> bool {
        self.stage == Stage::Terminal
    }

    /// Whether the API-data volumes are due to be brought up to date with their objects.
    pub fn volumes_due(
        &self,
        now: SystemTime,
        timing: &Timing,
        runtime: &dyn ContainerRuntime,
    ) -> bool {
        sandbox::volumes_next_sync(self, timing, runtime).is_some_and(|t| t <= now)
    }

    /// Whether the next step may set up volumes or create a container, and so needs the
    /// pod's ConfigMaps and Secrets.
    pub fn needs_sources(&self) -> bool {
        matches!(
            self.stage,
            Stage::Sandbox { .. } | Stage::Init(_) | Stage::Main
        ) && self.all().any(|c| !c.is_running())
    }

    /// Every container, init ones first.
    pub fn all(&self) -> impl Iterator<Item = &ContainerMachine> {
        self.init.iter().chain(self.containers.iter())
    }

    /// Run every transition due at `env.now`; returns when the machine next needs a step.
    pub fn step(&mut self, env: &mut Env<'_>) -> Option<SystemTime> {
        if self.volumes_due(env.now, env.timing, env.runtime) {
            sandbox::resync_volumes(self, env);
        }
        for _ in 0..64 {
            if !self.step_once(env) {
                break;
            }
        }
        self.next_wake(env)
    }

    /// One round of transitions; true if anything moved.
    fn step_once(&mut self, env: &mut Env<'_>) -> bool {
        if self.stage == Stage::Terminal {
            return false;
        }
        if self.stage != Stage::Killing {
            if let Some(d) = self.spec.active_deadline_seconds {
                if env.now >= self.start_time + Duration::from_secs(d.max(0) as u64) {
                    self.kill_reason = Some(Box::new((
                        "DeadlineExceeded",
                        "Pod was active on the node longer than the specified deadline".into(),
                    )));
                    env.events.push(Event {
                        warning: true,
                        reason: "DeadlineExceeded",
                        message: "Pod was active on the node longer than the specified deadline"
                            .into(),
                        field_path: None,
                    });
                    killing::begin(
                        self,
                        Duration::from_secs(self.spec.grace_seconds.max(0) as u64),
                        env,
                    );
                    return true;
                }
            }
        }
        match self.stage.clone() {
            Stage::Sandbox { ready_at } => sandbox::step(self, ready_at, env),
            Stage::Init(i) => self.step_init(i, env),
            Stage::Main => self.step_main(env),
            Stage::Killing => killing::step(self, env),
            Stage::Terminal => false,
        }
    }

    fn step_init(&mut self, i: usize, env: &mut Env<'_>) -> bool {
        let Some(c) = self.init.get(i) else {
            self.stage = Stage::Main;
            return true;
        };
        let sidecar = c.spec.kind == ContainerKind::Sidecar;
        let mut moved = false;
        // Sidecars started earlier keep running (and restarting) alongside.
        for j in 0..i {
            if self.init[j].spec.kind == ContainerKind::Sidecar {
                moved |= self.step_container(true, j, env);
            }
        }
        moved |= self.step_container(true, i, env);
        let c = &self.init[i];
        let done = if sidecar {
            c.has_started(env.now)
        } else {
            c.terminated().is_some_and(|t| t.exit_code == 0)
        };
        if done {
            self.stage = Stage::Init(i + 1);
            return true;
        }
        if let Some(t) = c.terminated() {
            if t.exit_code != 0 && self.spec.restart_policy == RestartPolicy::Never {
                terminated::finish_pod(self, env);
                return true;
            }
        }
        moved
    }

    fn step_main(&mut self, env: &mut Env<'_>) -> bool {
        let mut moved = false;
        for j in 0..self.init.len() {
            if self.init[j].spec.kind == ContainerKind::Sidecar {
                moved |= self.step_container(true, j, env);
            }
        }
        for j in 0..self.containers.len() {
            moved |= self.step_container(false, j, env);
        }
        // Done for good: every container terminated and not going to be restarted.
        let pod = PodCtx {
            spec: &self.spec,
            has_init: !self.init.is_empty(),
            pod_ip: self.pod_ip.as_deref(),
        };
        let all_done = !self.containers.is_empty()
            && self.containers.iter().all(|c| {
                c.terminated()
                    .is_some_and(|t| !pod.policy_for(&c.spec).restarts(t.exit_code))
            });
        if all_done {
            terminated::finish_pod(self, env);
            return true;
        }
        moved
    }

    /// Step one container; true if its state changed.
    fn step_container(&mut self, init: bool, j: usize, env: &mut Env<'_>) -> bool {
        let pod = PodCtx {
            spec: &self.spec,
            has_init: !self.init.is_empty(),
            pod_ip: self.pod_ip.as_deref(),
        };
        let c = if init {
            &mut self.init[j]
        } else {
            &mut self.containers[j]
        };
        let before = c.state.name();
        let backoffs = Backoffs(&mut self.backoffs);
        let moved = match c.state.clone() {
            ContainerState::Waiting => {
                image_pull::begin(c, &pod, backoffs, Shown::Default, env);
                true
            }
            ContainerState::ImageError { .. } => false,
            ContainerState::PullingImage { .. } => image_pull::step(c, &pod, backoffs, env),
            ContainerState::ErrImagePull { .. } => image_pull::step_failed(c, &pod, backoffs, env),
            ContainerState::ImagePullBackOff { .. } => {
                image_pull_backoff::step(c, &pod, backoffs, env)
            }
            ContainerState::Starting { .. } => starting::step(c, &pod, env),
            ContainerState::Running { .. } => running::step(c, env),
            ContainerState::Stopping { .. } => killing::step_container(c, &pod, backoffs, env),
            ContainerState::Terminated(_) => terminated::step(c, &pod, backoffs, env),
            ContainerState::CrashLoopBackOff { .. } => {
                crash_loop_backoff::step(c, &pod, backoffs, env)
            }
        };
        moved || before != c.state.name()
    }

    /// The earliest instant a state will change by itself.
    fn next_wake(&self, env: &Env<'_>) -> Option<SystemTime> {
        let mut wake: Option<SystemTime> = None;
        let mut at = |t: SystemTime| {
            if t > env.now {
                wake = Some(wake.map_or(t, |w| w.min(t)));
            }
        };
        if let Some(t) = sandbox::volumes_next_sync(self, env.timing, env.runtime) {
            at(t);
        }
        if let Stage::Sandbox { ready_at } = self.stage {
            at(ready_at);
        }
        if self.stage == Stage::Terminal {
            return None;
        }
        if let Some(d) = self.spec.active_deadline_seconds {
            at(self.start_time + Duration::from_secs(d.max(0) as u64));
        }
        for c in self.all() {
            match &c.state {
                ContainerState::PullingImage { done_at, .. } => at(*done_at),
                ContainerState::ErrImagePull { retry_at, .. } => at(*retry_at),
                ContainerState::ImagePullBackOff { until, .. }
                | ContainerState::CrashLoopBackOff { until, .. } => at(*until),
                ContainerState::Starting { at: t, .. } => at(*t),
                ContainerState::Running {
                    id,
                    ready_at,
                    started_ok_at,
                    ..
                } => {
                    if let Some(r) = ready_at {
                        at(*r);
                    }
                    at(*started_ok_at);
                    if let Some(t) = env.runtime.next_change(id) {
                        at(t);
                    }
                }
                ContainerState::Stopping { id, .. } => {
                    if let Some(t) = env.runtime.next_change(id) {
                        at(t);
                    }
                }
                _ => {}
            }
        }
        wake
    }

    /// The API object changed: a deletion starts the kill; a changed container definition
    /// restarts that container.
    pub fn update(
        &mut self,
        spec: PodSpecView,
        deleting: bool,
        grace: Option<i64>,
        env: &mut Env<'_>,
    ) {
        if deleting && !self.deleting {
            self.deleting = true;
            if self.stage != Stage::Terminal && self.stage != Stage::Killing {
                let g = grace.unwrap_or(self.spec.grace_seconds).max(0) as u64;
                killing::begin(self, Duration::from_secs(g), env);
            }
        }
        if self.deleting || self.stage == Stage::Terminal {
            self.spec = spec;
            share_specs(&self.spec, &mut self.init, &mut self.containers);
            return;
        }
        for (list, new_specs) in [
            (&mut self.init, &spec.init_containers),
            (&mut self.containers, &spec.containers),
        ] {
            for c in list.iter_mut() {
                let Some(n) = new_specs.iter().find(|n| n.name == c.spec.name) else {
                    continue;
                };
                if !n.changed_from(&c.spec) {
                    continue;
                }
                let old = std::mem::replace(&mut c.spec, n.clone());
                match c.state.clone() {
                    ContainerState::Running { id, started_at, .. } => {
                        env.normal(
                            "Killing",
                            format!(
                                "Container {} definition changed, will be restarted",
                                old.name
                            ),
                            &c.spec,
                        );
                        let g = Duration::from_secs(self.spec.grace_seconds.max(0) as u64);
                        let _ = env.runtime.stop_container(&id, g, env.now);
                        c.state = ContainerState::Stopping {
                            id,
                            started_at,
                            restart: true,
                        };
                    }
                    ContainerState::ImageError { .. }
                    | ContainerState::ErrImagePull { .. }
                    | ContainerState::ImagePullBackOff { .. }
                    | ContainerState::PullingImage { .. } => c.state = ContainerState::Waiting,
                    _ => {}
                }
            }
        }
        self.spec = spec;
        share_specs(&self.spec, &mut self.init, &mut self.containers);
    }
}

/// Point the machines whose definitions equal one of the pod's at the pod's copy, so an update
/// (every status echo brings one) does not leave the node holding two of each (the pod's
/// copies are the ones its template's other pods share).
fn share_specs(
    spec: &PodSpecView,
    init: &mut [ContainerMachine],
    containers: &mut [ContainerMachine],
) {
    for (defs, machines) in [
        (&spec.init_containers, init),
        (&spec.containers, containers),
    ] {
        for m in machines.iter_mut() {
            if let Some(d) = defs.iter().find(|d| **d == m.spec) {
                m.spec = d.clone();
            }
        }
    }
}

/// What a container's step reads about its pod.
pub struct PodCtx<'a> {
    pub spec: &'a PodSpecView,
    pub has_init: bool,
    pub pod_ip: Option<&'a str>,
}

impl PodCtx<'_> {
    /// The restart policy that applies to a container: init containers restart only on
    /// failure (unless the pod's policy is Never), sidecars always.
    pub fn policy_for(&self, c: &ContainerSpec) -> RestartPolicy {
        match c.kind {
            ContainerKind::Sidecar => RestartPolicy::Always,
            ContainerKind::Init if self.spec.restart_policy == RestartPolicy::Always => {
                RestartPolicy::OnFailure
            }
            _ => self.spec.restart_policy,
        }
    }
}

/// The pod's back-off tables.
#[derive(Default)]
pub struct BackoffTables {
    pub pull: Backoff,
    pub crash: Backoff,
    /// The last pull error per back-off key (`ErrImagePull: <message>`).
    pub pull_errors: HashMap<String, String>,
}

/// The pod's back-off tables as a container's step sees them: none until the first failure.
pub struct Backoffs<'a>(pub &'a mut Option<Box<BackoffTables>>);

impl Backoffs<'_> {
    /// The tables, if any failure was recorded (with none, nothing is in back-off).
    pub fn tables(&self) -> Option<&BackoffTables> {
        self.0.as_deref()
    }

    /// The tables to record a failure in, made at the first.
    pub fn record(&mut self) -> &mut BackoffTables {
        self.0.get_or_insert_with(Box::default)
    }
}

#[cfg(test)]
mod tests;
