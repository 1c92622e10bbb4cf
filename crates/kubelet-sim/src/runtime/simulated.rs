//! The simulated runtime: no processes. Pulls resolve against the image catalog (unknown tags of
//! known repositories fail like the registry), and a started container runs or exits as its
//! image's profile and command line say; SIGTERM ends it after `Timing::stop`.

use super::{
    ContainerConfig, ContainerRuntime, ContainerStatus, PullError, PullPlan, RuntimeError,
    SandboxConfig, Timing,
};
use crate::images::{random_id, Behaviour, Catalog, ImageInfo, ImageRef, Resolution};
use crate::logs::LogStore;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

pub const RUNTIME_VERSION: &str = "containerd://2.1.0";

#[derive(Clone, Debug)]
enum State {
    Created,
    Running {
        started_at: SystemTime,
    },
    Exited {
        started_at: SystemTime,
        finished_at: SystemTime,
        code: i32,
    },
}

#[derive(Clone, Debug)]
struct Container {
    behaviour: Behaviour,
    stop_exit_code: i32,
    state: State,
    /// A pending SIGTERM/SIGKILL: when the process is gone and with which code.
    stopping: Option<(SystemTime, i32)>,
}

impl Container {
    /// When and how a running container exits by itself or through a stop.
    fn exit(&self, started_at: SystemTime) -> Option<(SystemTime, i32)> {
        let natural = match self.behaviour {
            Behaviour::RunsForever => None,
            Behaviour::Exits { after, code } => Some((started_at + after, code)),
        };
        match (natural, self.stopping) {
            (Some(n), Some(s)) => Some(if n.0 <= s.0 { n } else { s }),
            (n, s) => n.or(s),
        }
    }

    /// Settle the state as of `now`; true when the container exited just now.
    fn settle(&mut self, now: SystemTime) -> bool {
        if let State::Running { started_at } = self.state {
            if let Some((at, code)) = self.exit(started_at).filter(|(at, _)| *at <= now) {
                self.state = State::Exited {
                    started_at,
                    finished_at: at,
                    code,
                };
                return true;
            }
        }
        false
    }
}

#[derive(Default)]
struct Node {
    /// The images on the node (normalized references).
    images: HashSet<String>,
    /// Every image the node resolved (pulled or being pulled), by normalized reference: one
    /// copy each, which the pulls and containers of that image share.
    resolved: HashMap<String, Arc<ImageInfo>>,
    containers: HashMap<String, Container>,
    sandboxes: HashSet<String>,
}

/// One node's simulated runtime.
pub struct SimulatedRuntime {
    catalog: Arc<Catalog>,
    timing: Timing,
    node: Mutex<Node>,
    logs: Option<Arc<LogStore>>,
}

impl SimulatedRuntime {
    pub fn new(catalog: Arc<Catalog>, timing: Timing) -> SimulatedRuntime {
        SimulatedRuntime {
            catalog,
            timing,
            node: Mutex::new(Node::default()),
            logs: None,
        }
    }

    /// Tell `logs` when containers start and end, so `kubectl logs -f` of a container ends
    /// with it (its log is empty: nothing runs that could write one).
    pub fn with_logs(mut self, logs: Arc<LogStore>) -> SimulatedRuntime {
        self.logs = Some(logs);
        self
    }

    fn log_ended(&self, id: &str) {
        if let Some(l) = &self.logs {
            l.ended(id);
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Node) -> T) -> T {
        f(&mut self.node.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// What the registry has for `image`: the node's copy when it resolved it before (the
    /// catalog does not change), else the catalog's answer, kept as that copy.
    fn resolve(&self, image: &ImageRef) -> Result<Arc<ImageInfo>, ImageRef> {
        let key = image.to_string();
        if let Some(info) = self.with(|n| n.resolved.get(&key).cloned()) {
            return Ok(info);
        }
        match self.catalog.resolve(image) {
            Resolution::Found(info) => Ok(self.with(|n| {
                n.resolved
                    .entry(key)
                    .or_insert_with(|| Arc::new(info))
                    .clone()
            })),
            Resolution::NotFound(r) => Err(r),
        }
    }

    /// What the registry has for `image` (tests).
    #[cfg(test)]
    pub fn catalog_resolve(&self, image: &str) -> Resolution {
        match ImageRef::parse(image) {
            Ok(r) => self.catalog.resolve(&r),
            Err(_) => panic!("bad reference {image}"),
        }
    }

    /// The containerd error for a tag the registry does not have.
    pub fn not_found_message(image: &ImageRef) -> String {
        format!(
            "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
        )
    }
}

pub fn exit_reason(code: i32) -> &'static str {
    if code == 0 {
        "Completed"
    } else {
        "Error"
    }
}

impl ContainerRuntime for SimulatedRuntime {
    fn version(&self) -> String {
        RUNTIME_VERSION.into()
    }

    fn image_present(&self, image: &ImageRef) -> bool {
        self.with(|n| n.images.contains(&image.to_string()))
    }

    fn pull_image(&self, image: &ImageRef) -> PullPlan {
        match self.resolve(image) {
            Ok(info) => PullPlan {
                duration: self.timing.pull_time(info.size_bytes),
                outcome: Ok(info),
            },
            Err(r) => PullPlan {
                duration: self.timing.pull_base,
                outcome: Err(PullError::NotFound(Self::not_found_message(&r))),
            },
        }
    }

    fn image_pulled(&self, image: &Arc<ImageInfo>) {
        self.with(|n| n.images.insert(image.reference.to_string()));
    }

    fn present_image(&self, image: &ImageRef) -> Option<Arc<ImageInfo>> {
        if !self.image_present(image) {
            return None;
        }
        self.resolve(image).ok()
    }

    fn run_pod_sandbox(&self, _pod: &SandboxConfig) -> Result<String, RuntimeError> {
        let id = random_id();
        self.with(|n| n.sandboxes.insert(id.clone()));
        Ok(id)
    }

    fn stop_pod_sandbox(&self, sandbox_id: &str) {
        self.with(|n| n.sandboxes.remove(sandbox_id));
    }

    fn create_container(&self, config: &ContainerConfig) -> Result<String, RuntimeError> {
        let behaviour = self.catalog.behaviour(
            &config.image,
            &config.command,
            &config.args,
            &config.restart_policy,
        );
        // Nothing runs that could write a log, so no log file is made: a missing file reads
        // as an empty log (creating 10,000 empty files was a tenth of a large rollout's CPU).
        let id = random_id();
        let c = Container {
            behaviour,
            stop_exit_code: config.image.stop_exit_code,
            state: State::Created,
            stopping: None,
        };
        self.with(|n| n.containers.insert(id.clone(), c));
        Ok(id)
    }

    fn adopt_container(&self, config: &ContainerConfig, id: &str, started_at: SystemTime) {
        let behaviour = self.catalog.behaviour(
            &config.image,
            &config.command,
            &config.args,
            &config.restart_policy,
        );
        let c = Container {
            behaviour,
            stop_exit_code: config.image.stop_exit_code,
            state: State::Running { started_at },
            stopping: None,
        };
        if let Some(l) = &self.logs {
            l.started(id);
        }
        self.with(|n| {
            n.images.insert(config.image.reference.to_string());
            n.containers.insert(id.to_string(), c)
        });
    }

    fn start_container(&self, id: &str, now: SystemTime) -> Result<(), RuntimeError> {
        self.with(|n| {
            let c = n
                .containers
                .get_mut(id)
                .ok_or_else(|| RuntimeError::NotFound(id.into()))?;
            match c.state {
                State::Created => {
                    c.state = State::Running { started_at: now };
                    if let Some(l) = &self.logs {
                        l.started(id);
                    }
                    Ok(())
                }
                State::Running { .. } => Err(RuntimeError::WrongState {
                    id: id.into(),
                    state: "running",
                    op: "start",
                }),
                State::Exited { .. } => Err(RuntimeError::WrongState {
                    id: id.into(),
                    state: "exited",
                    op: "start",
                }),
            }
        })
    }

    fn stop_container(
        &self,
        id: &str,
        grace: Duration,
        now: SystemTime,
    ) -> Result<SystemTime, RuntimeError> {
        let stop = self.timing.stop;
        self.with(|n| {
            let c = n
                .containers
                .get_mut(id)
                .ok_or_else(|| RuntimeError::NotFound(id.into()))?;
            if c.settle(now) {
                self.log_ended(id);
            }
            match c.state {
                State::Created => {
                    c.state = State::Exited {
                        started_at: now,
                        finished_at: now,
                        code: 0,
                    };
                    Ok(now)
                }
                State::Exited { finished_at, .. } => Ok(finished_at),
                State::Running { started_at } => {
                    // The process exits on SIGTERM after `stop`, or is SIGKILLed at the end of
                    // the grace period (exit 137).
                    let (at, code) = if stop <= grace {
                        (now + stop, c.stop_exit_code)
                    } else {
                        (now + grace, 137)
                    };
                    let sooner = c.stopping.is_none_or(|(t, _)| at < t);
                    if sooner {
                        c.stopping = Some((at, code));
                    }
                    Ok(c.exit(started_at).map(|(t, _)| t).unwrap_or(at))
                }
            }
        })
    }

    fn container_status(&self, id: &str, now: SystemTime) -> Result<ContainerStatus, RuntimeError> {
        self.with(|n| {
            let c = n
                .containers
                .get_mut(id)
                .ok_or_else(|| RuntimeError::NotFound(id.into()))?;
            if c.settle(now) {
                self.log_ended(id);
            }
            Ok(match c.state {
                State::Created => ContainerStatus::Created,
                State::Running { started_at } => ContainerStatus::Running { started_at },
                State::Exited {
                    started_at,
                    finished_at,
                    code,
                } => ContainerStatus::Exited {
                    started_at,
                    finished_at,
                    exit_code: code,
                    reason: exit_reason(code),
                },
            })
        })
    }

    fn next_change(&self, id: &str) -> Option<SystemTime> {
        self.with(|n| {
            let c = n.containers.get(id)?;
            match c.state {
                State::Running { started_at } => c.exit(started_at).map(|(t, _)| t),
                _ => None,
            }
        })
    }

    fn remove_container(&self, id: &str) {
        self.with(|n| n.containers.remove(id));
        self.log_ended(id);
    }

    fn supports_exec(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn config(
        rt: &SimulatedRuntime,
        image: &str,
        command: &[&str],
        policy: &str,
    ) -> ContainerConfig {
        let r = ImageRef::parse(image).unwrap();
        let info = rt.pull_image(&r).outcome.unwrap();
        ContainerConfig {
            pod_uid: "u".into(),
            pod_name: "p".into(),
            namespace: "default".into(),
            name: "c".into(),
            image: info,
            command: command.iter().map(|s| s.to_string()).collect(),
            args: vec![],
            restart_policy: policy.into(),
            attempt: 0,
            mounts: vec![],
            env: vec![],
            working_dir: None,
            io: Default::default(),
        }
    }

    #[test]
    fn an_unknown_tag_of_a_known_repository_fails_like_containerd() {
        let rt = SimulatedRuntime::new(Arc::new(Catalog::embedded()), Timing::REALISTIC);
        let plan = rt.pull_image(&ImageRef::parse("nginx:1.9.21").unwrap());
        assert_eq!(
            plan.outcome.unwrap_err().to_string(),
            "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:1.9.21\": failed to resolve reference \"docker.io/library/nginx:1.9.21\": docker.io/library/nginx:1.9.21: not found"
        );
        let ok = rt.pull_image(&ImageRef::parse("nginx:1.7.9").unwrap());
        assert!(
            ok.duration > Duration::from_millis(800) && ok.duration < Duration::from_millis(1500),
            "{:?}",
            ok.duration
        );
    }

    #[test]
    fn a_server_runs_until_sigterm_and_exits_with_its_stop_code() {
        let rt = SimulatedRuntime::new(Arc::new(Catalog::embedded()), Timing::REALISTIC);
        let id = rt
            .create_container(&config(&rt, "nginx:1.7.9", &[], "Always"))
            .unwrap();
        assert!(rt.stop_container("nope", Duration::ZERO, t(0)).is_err());
        rt.start_container(&id, t(0)).unwrap();
        assert!(
            rt.start_container(&id, t(0)).is_err(),
            "a running container cannot be started again"
        );
        assert_eq!(rt.next_change(&id), None);
        assert_eq!(
            rt.container_status(&id, t(60_000)).unwrap(),
            ContainerStatus::Running { started_at: t(0) }
        );
        let gone = rt
            .stop_container(&id, Duration::from_secs(30), t(60_000))
            .unwrap();
        assert_eq!(gone, t(60_200));
        assert!(matches!(
            rt.container_status(&id, t(60_200)).unwrap(),
            ContainerStatus::Exited {
                exit_code: 0,
                reason: "Completed",
                ..
            }
        ));
    }

    #[test]
    fn a_stop_with_no_grace_kills_with_137() {
        let rt = SimulatedRuntime::new(Arc::new(Catalog::embedded()), Timing::REALISTIC);
        let id = rt
            .create_container(&config(&rt, "busybox", &["sleep", "3600"], "Always"))
            .unwrap();
        rt.start_container(&id, t(0)).unwrap();
        assert_eq!(rt.next_change(&id), Some(t(3_600_000)));
        rt.stop_container(&id, Duration::ZERO, t(1000)).unwrap();
        assert!(matches!(
            rt.container_status(&id, t(1000)).unwrap(),
            ContainerStatus::Exited {
                exit_code: 137,
                reason: "Error",
                ..
            }
        ));
    }

    #[test]
    fn a_command_that_exits_non_zero_ends_in_error() {
        let rt = SimulatedRuntime::new(Arc::new(Catalog::embedded()), Timing::REALISTIC);
        let id = rt
            .create_container(&config(
                &rt,
                "busybox",
                &["sh", "-c", "sleep 2; exit 3"],
                "Never",
            ))
            .unwrap();
        rt.start_container(&id, t(0)).unwrap();
        assert!(matches!(
            rt.container_status(&id, t(1999)).unwrap(),
            ContainerStatus::Running { .. }
        ));
        assert_eq!(
            rt.container_status(&id, t(2000)).unwrap(),
            ContainerStatus::Exited {
                started_at: t(0),
                finished_at: t(2000),
                exit_code: 3,
                reason: "Error"
            }
        );
    }
}
