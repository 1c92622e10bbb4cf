//! A scripted runtime for tests: records every call, pulls instantly (or fails for images told
//! to be missing), and runs each container as scripted by its name (forever by default).

use super::{
    ContainerConfig, ContainerRuntime, ContainerStatus, PodVolume, PullError, PullPlan,
    RuntimeError, SandboxConfig, VolumeSource,
};
use crate::images::{Behaviour, ImageInfo, ImageRef};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A fake container: its name, when it started, and a pending stop (when, exit code).
type FakeContainer = (String, Option<SystemTime>, Option<(SystemTime, i32)>);

#[derive(Default)]
struct Inner {
    calls: Vec<String>,
    present: HashSet<String>,
    missing: HashSet<String>,
    script: HashMap<String, Behaviour>,
    /// id → (container name, started, stop at)
    containers: HashMap<String, FakeContainer>,
    next_id: u64,
}

/// The fake runtime.
#[derive(Default)]
pub struct FakeRuntime {
    inner: Mutex<Inner>,
}

impl FakeRuntime {
    pub fn new() -> FakeRuntime {
        FakeRuntime::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Pulls of this image (normalized or as written) fail with NotFound.
    pub fn missing(&self, image: &str) {
        let r = ImageRef::parse(image)
            .map(|r| r.to_string())
            .unwrap_or(image.into());
        self.with(|i| i.missing.insert(r));
    }

    /// The image is already on the node.
    pub fn present(&self, image: &str) {
        let r = ImageRef::parse(image)
            .map(|r| r.to_string())
            .unwrap_or(image.into());
        self.with(|i| i.present.insert(r));
    }

    /// Containers named `name` behave like this (default: run forever).
    pub fn script(&self, name: &str, b: Behaviour) {
        self.with(|i| i.script.insert(name.into(), b));
    }

    /// Every call so far (`pull docker.io/library/nginx:1.7.9`, `create c`, `start c`, ...).
    pub fn calls(&self) -> Vec<String> {
        self.with(|i| i.calls.clone())
    }

    fn info(image: &ImageRef) -> Arc<ImageInfo> {
        Arc::new(ImageInfo {
            reference: image.clone(),
            size_bytes: 1000,
            profile: None,
            entrypoint: vec![],
            command: vec![],
            stop_exit_code: 0,
            known: true,
            files: vec![],
        })
    }

    fn exit_of(i: &Inner, id: &str) -> Option<(SystemTime, i32)> {
        let (name, started, stop) = i.containers.get(id)?;
        let natural = match (i.script.get(name), started) {
            (Some(Behaviour::Exits { after, code }), Some(s)) => Some((*s + *after, *code)),
            _ => None,
        };
        match (natural, *stop) {
            (Some(n), Some(s)) => Some(if n.0 <= s.0 { n } else { s }),
            (n, s) => n.or(s),
        }
    }
}

impl ContainerRuntime for FakeRuntime {
    fn version(&self) -> String {
        "fake://0.0.0".into()
    }

    fn image_present(&self, image: &ImageRef) -> bool {
        self.with(|i| i.present.contains(&image.to_string()))
    }

    fn pull_image(&self, image: &ImageRef) -> PullPlan {
        self.with(|i| {
            i.calls.push(format!("pull {image}"));
            let outcome = if i.missing.contains(&image.to_string()) {
                Err(PullError::NotFound(format!("{image}: not found")))
            } else {
                Ok(Self::info(image))
            };
            PullPlan {
                duration: Duration::ZERO,
                outcome,
            }
        })
    }

    fn image_pulled(&self, image: &Arc<ImageInfo>) {
        self.with(|i| i.present.insert(image.reference.to_string()));
    }

    fn present_image(&self, image: &ImageRef) -> Option<Arc<ImageInfo>> {
        self.image_present(image).then(|| Self::info(image))
    }

    fn run_pod_sandbox(&self, pod: &SandboxConfig) -> Result<String, RuntimeError> {
        let pod_uid = &pod.uid;
        self.with(|i| i.calls.push(format!("sandbox {pod_uid}")));
        Ok(format!("sandbox-{pod_uid}"))
    }

    fn writes_volume_files(&self) -> bool {
        true
    }

    /// Recorded as `volume <sandbox> <name> <path>=<data>,...`.
    fn update_volumes(&self, sandbox_id: &str, volumes: &[PodVolume]) {
        for v in volumes {
            if let VolumeSource::Files(files) = &v.source {
                let files: Vec<String> = files
                    .iter()
                    .map(|f| format!("{}={}", f.path, String::from_utf8_lossy(&f.data)))
                    .collect();
                let call = format!("volume {sandbox_id} {} {}", v.name, files.join(","));
                self.with(|i| i.calls.push(call));
            }
        }
    }

    fn stop_pod_sandbox(&self, sandbox_id: &str) {
        self.with(|i| i.calls.push(format!("stop-sandbox {sandbox_id}")));
    }

    fn create_container(&self, config: &ContainerConfig) -> Result<String, RuntimeError> {
        self.with(|i| {
            i.next_id += 1;
            let id = format!("{:064x}", i.next_id);
            i.calls.push(format!("create {}", config.name));
            i.containers
                .insert(id.clone(), (config.name.clone(), None, None));
            Ok(id)
        })
    }

    fn adopt_container(&self, config: &ContainerConfig, id: &str, started_at: SystemTime) {
        self.with(|i| {
            i.calls.push(format!("adopt {}", config.name));
            i.containers.insert(
                id.to_string(),
                (config.name.clone(), Some(started_at), None),
            );
        });
    }

    fn start_container(&self, id: &str, now: SystemTime) -> Result<(), RuntimeError> {
        self.with(|i| {
            let c = i
                .containers
                .get_mut(id)
                .ok_or_else(|| RuntimeError::NotFound(id.into()))?;
            if c.1.is_some() {
                return Err(RuntimeError::WrongState {
                    id: id.into(),
                    state: "running",
                    op: "start",
                });
            }
            c.1 = Some(now);
            let name = c.0.clone();
            i.calls.push(format!("start {name}"));
            Ok(())
        })
    }

    fn stop_container(
        &self,
        id: &str,
        _grace: Duration,
        now: SystemTime,
    ) -> Result<SystemTime, RuntimeError> {
        self.with(|i| {
            let c = i
                .containers
                .get_mut(id)
                .ok_or_else(|| RuntimeError::NotFound(id.into()))?;
            if c.2.is_none() {
                c.2 = Some((now, 0));
            }
            let name = c.0.clone();
            i.calls.push(format!("stop {name}"));
            Ok(Self::exit_of(i, id).map(|(t, _)| t).unwrap_or(now))
        })
    }

    fn container_status(&self, id: &str, now: SystemTime) -> Result<ContainerStatus, RuntimeError> {
        self.with(|i| {
            let (_, started, _) = i
                .containers
                .get(id)
                .ok_or_else(|| RuntimeError::NotFound(id.into()))?;
            let Some(started_at) = *started else {
                return Ok(ContainerStatus::Created);
            };
            Ok(match Self::exit_of(i, id).filter(|(t, _)| *t <= now) {
                Some((finished_at, code)) => ContainerStatus::Exited {
                    started_at,
                    finished_at,
                    exit_code: code,
                    reason: super::simulated::exit_reason(code),
                },
                None => ContainerStatus::Running { started_at },
            })
        })
    }

    fn next_change(&self, id: &str) -> Option<SystemTime> {
        self.with(|i| Self::exit_of(i, id)).map(|(t, _)| t)
    }

    fn remove_container(&self, id: &str) {
        self.with(|i| i.containers.remove(id));
    }

    fn supports_exec(&self) -> bool {
        false
    }
}
