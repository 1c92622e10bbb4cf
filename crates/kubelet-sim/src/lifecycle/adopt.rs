//! Re-adoption: when kube-lite restarts, its nodes' pods are already in the API with their
//! status. The kubelet re-attaches to their containers (the simulated processes "kept
//! running") instead of starting them again, keeping IPs, container IDs, restart counts and
//! transition times; a pod caught half-way through starting starts again from its sandbox.

use super::{
    sandbox, starting, ContainerKind, ContainerMachine, ContainerState, Env, PodCtx, PodMachine,
    PodSpecView, Stage, Termination,
};
use crate::apidata::env::Resolved;
use crate::images::ImageRef;
use crate::runtime::{ContainerConfig, SandboxConfig};
use apimachinery::clock::parse_rfc3339;
use serde_json::Value;

fn termination(v: &Value) -> Option<Box<Termination>> {
    let t = v.get("terminated")?;
    Some(Box::new(Termination {
        exit_code: t.get("exitCode").and_then(Value::as_i64).unwrap_or(0) as i32,
        reason: t
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        message: t.get("message").and_then(Value::as_str).map(str::to_string),
        started_at: t
            .get("startedAt")
            .and_then(Value::as_str)
            .and_then(parse_rfc3339),
        finished_at: t
            .get("finishedAt")
            .and_then(Value::as_str)
            .and_then(parse_rfc3339)?,
        container_id: t
            .get("containerID")
            .and_then(Value::as_str)
            .map(|s| s.trim_start_matches("containerd://").to_string()),
    }))
}

fn adopt_container(c: &mut ContainerMachine, status: &Value, pod: &PodCtx<'_>, env: &mut Env<'_>) {
    let restarts = status
        .get("restartCount")
        .and_then(Value::as_i64)
        .unwrap_or(0) as i32;
    c.last_termination = status.get("lastState").and_then(termination);
    let state = status.get("state").cloned().unwrap_or(Value::Null);
    if let Some(t) = termination(&state) {
        c.runs = restarts + 1;
        c.state = ContainerState::Terminated(t);
        return;
    }
    let running = state
        .pointer("/running/startedAt")
        .and_then(Value::as_str)
        .and_then(parse_rfc3339);
    let id = status
        .get("containerID")
        .and_then(Value::as_str)
        .map(|s| s.trim_start_matches("containerd://").to_string());
    let image = ImageRef::parse(
        status
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or(&c.spec.image),
    )
    .or_else(|_| ImageRef::parse(&c.spec.image));
    match (running, id, image) {
        (Some(started_at), Some(id), Ok(r)) => {
            let Ok(info) = env.runtime.pull_image(&r).outcome else {
                c.state = ContainerState::Waiting;
                return;
            };
            env.runtime.image_pulled(&info);
            let policy = match c.spec.kind {
                ContainerKind::Sidecar => "Always",
                _ => pod.spec.restart_policy.as_str(),
            };
            // What it was started with, as near as can be told now.
            let resolved = starting::resolved(&c.spec, pod, env).unwrap_or_else(|_| Resolved {
                env: Vec::new(),
                command: c.spec.command.clone(),
                args: c.spec.args.clone(),
            });
            let config =
                ContainerConfig::new(pod.spec, &c.spec, resolved, info.clone(), policy, restarts);
            env.runtime.adopt_container(&config, &id, started_at);
            let started_ok_at = started_at + c.spec.startup_delay.unwrap_or_default();
            let ready_at = match c.spec.readiness_delay {
                Some(d) => (started_at + d).max(started_ok_at),
                None => started_ok_at,
            };
            c.runs = restarts + 1;
            c.image = Some(info);
            c.container_id = Some(id.clone());
            c.state = ContainerState::Running {
                id,
                started_at,
                ready_at: Some(ready_at),
                started_ok_at,
            };
        }
        _ => {
            c.runs = if c.last_termination.is_some() {
                restarts + 1
            } else {
                0
            };
            c.state = ContainerState::Waiting;
        }
    }
}

/// A machine for a pod the API already has a status for.
pub fn adopt(spec: PodSpecView, status: &Value, env: &mut Env<'_>) -> PodMachine {
    let mut m = PodMachine::new(spec, env.now);
    if let Some(t) = status
        .get("startTime")
        .and_then(Value::as_str)
        .and_then(parse_rfc3339)
    {
        m.start_time = t;
    }
    let ip = status
        .get("podIP")
        .and_then(Value::as_str)
        .filter(|ip| env.ips.reserve(&m.spec.uid, ip));
    let Some(ip) = ip else {
        m.stage = Stage::Sandbox { ready_at: env.now };
        return m;
    };
    // Volumes that cannot be set up now start empty (the processes that used them are gone).
    let vols = sandbox::volumes(&m.spec, env.sources).unwrap_or_else(|_| m.spec.volumes.clone());
    let Ok(sandbox) = env
        .runtime
        .run_pod_sandbox(&SandboxConfig::of(&m.spec, ip, vols))
    else {
        m.stage = Stage::Sandbox { ready_at: env.now };
        return m;
    };
    m.pod_ip = Some(ip.to_string());
    m.sandbox_id = Some(sandbox);
    let find = |list: &str, name: &str| {
        status
            .get(list)
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter()
                    .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
            })
            .cloned()
    };
    let spec = m.spec.clone();
    let pod = PodCtx {
        spec: &spec,
        has_init: !m.init.is_empty(),
        pod_ip: Some(ip),
    };
    for c in m.init.iter_mut() {
        if let Some(s) = find("initContainerStatuses", &c.spec.name) {
            adopt_container(c, &s, &pod, env);
        }
    }
    for c in m.containers.iter_mut() {
        if let Some(s) = find("containerStatuses", &c.spec.name) {
            adopt_container(c, &s, &pod, env);
        }
    }
    let pending_init = m.init.iter().position(|c| match c.spec.kind {
        ContainerKind::Sidecar => !c.is_running(),
        _ => c.terminated().is_none_or(|t| t.exit_code != 0),
    });
    m.stage = match pending_init {
        Some(i) => Stage::Init(i),
        None => Stage::Main,
    };
    m
}
