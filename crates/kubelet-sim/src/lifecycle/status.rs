//! The PodStatus the kubelet reports for a machine (`generateAPIPodStatus`): the phase
//! (`getPhase`), the conditions in upstream order with their reasons and messages, and the
//! container statuses (state, lastState, ready, started, restartCount, image, imageID,
//! containerID). Condition transition times are kept from the previous status when unchanged.

use super::{
    ContainerKind, ContainerMachine, ContainerState, PodMachine, RestartPolicy, Shown, Stage,
    Termination,
};
use apimachinery::clock::rfc3339;
use serde_json::{json, Map, Value};
use std::time::SystemTime;

/// A container as `getPhase` sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Running,
    Terminated(i32),
    /// Waiting; `true` if a previous run terminated (`lastState.terminated` set).
    Waiting(bool),
    /// Waiting after a previous run that exited with this code.
    WaitingAfter(i32),
}

fn seen(c: &ContainerMachine) -> Seen {
    match &c.state {
        ContainerState::Running { .. } | ContainerState::Stopping { .. } => Seen::Running,
        ContainerState::Terminated(t) => Seen::Terminated(t.exit_code),
        ContainerState::Starting {
            shown: Shown::Terminated(t),
            ..
        }
        | ContainerState::PullingImage {
            shown: Shown::Terminated(t),
            ..
        } => Seen::Terminated(t.exit_code),
        _ => match &c.last_termination {
            Some(t) => Seen::WaitingAfter(t.exit_code),
            None => Seen::Waiting(false),
        },
    }
}

/// `getPhase` over the init containers (non-sidecar ones) and the containers.
pub fn phase_of(
    restart: RestartPolicy,
    init: &[Seen],
    containers: &[Seen],
    any_regular_started: bool,
) -> &'static str {
    let mut pending_init = 0;
    let mut failed_init = 0;
    for s in init {
        match s {
            Seen::Running => pending_init += 1,
            Seen::Terminated(code) => {
                if *code != 0 {
                    failed_init += 1
                }
            }
            Seen::WaitingAfter(code) => {
                if *code != 0 {
                    failed_init += 1
                }
            }
            Seen::Waiting(_) => pending_init += 1,
        }
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in containers {
        match s {
            Seen::Running => running += 1,
            Seen::Terminated(code) => {
                stopped += 1;
                if *code == 0 {
                    succeeded += 1;
                }
            }
            Seen::WaitingAfter(_) => stopped += 1,
            Seen::Waiting(_) => waiting += 1,
        }
    }
    if failed_init > 0 && restart == RestartPolicy::Never {
        return "Failed";
    }
    if (pending_init > 0 && !any_regular_started) || waiting > 0 {
        return "Pending";
    }
    if running > 0 {
        return "Running";
    }
    if stopped > 0 {
        if restart == RestartPolicy::Always {
            return "Running";
        }
        if stopped == succeeded {
            return "Succeeded";
        }
        if restart == RestartPolicy::Never {
            return "Failed";
        }
        return "Running";
    }
    "Pending"
}

/// The pod's phase now.
pub fn phase(m: &PodMachine, now: SystemTime) -> &'static str {
    if let Some((p, _, _)) = m.terminal.as_deref() {
        return p;
    }
    let init: Vec<Seen> = m
        .init
        .iter()
        .filter(|c| c.spec.kind == ContainerKind::Init)
        .map(seen)
        .collect();
    let containers: Vec<Seen> = m.containers.iter().map(seen).collect();
    let started = m
        .containers
        .iter()
        .any(|c| c.has_started(now) || c.runs > 0);
    phase_of(m.spec.restart_policy, &init, &containers, started)
}

/// One condition: type, status, reason, message.
pub type Condition = (&'static str, bool, Option<&'static str>, Option<String>);

fn list(names: &[String]) -> String {
    format!("[{}]", names.join(" "))
}

/// The kubelet's conditions, in upstream order (without PodScheduled).
pub fn conditions(m: &PodMachine, phase: &str, now: SystemTime) -> Vec<Condition> {
    let sandbox = m.sandbox_id.is_some() && m.stage != Stage::Terminal;
    // Initialized.
    let mut incomplete = Vec::new();
    for c in &m.init {
        let done = match c.spec.kind {
            ContainerKind::Sidecar => c.has_started(now) || c.runs > 0,
            _ => c.terminated().is_some_and(|t| t.exit_code == 0),
        };
        if !done {
            incomplete.push(c.spec.name.clone());
        }
    }
    let regular_started = m.containers.iter().any(|c| c.runs > 0);
    let initialized: Condition = if phase == "Succeeded" {
        ("Initialized", true, Some("PodCompleted"), None)
    } else if regular_started || incomplete.is_empty() {
        ("Initialized", true, None, None)
    } else {
        (
            "Initialized",
            false,
            Some("ContainersNotInitialized"),
            Some(format!(
                "containers with incomplete status: {}",
                list(&incomplete)
            )),
        )
    };
    // ContainersReady and Ready.
    let terminal_reason = match phase {
        "Succeeded" => Some("PodCompleted"),
        "Failed" => Some("PodFailed"),
        _ => None,
    };
    let (ready, reason, message) = match terminal_reason {
        Some(r) => (false, Some(r), None),
        None => {
            let unready: Vec<String> = m
                .init
                .iter()
                .filter(|c| c.spec.kind == ContainerKind::Sidecar)
                .chain(m.containers.iter())
                .filter(|c| !c.is_ready(now))
                .map(|c| c.spec.name.clone())
                .collect();
            if unready.is_empty() {
                (true, None, None)
            } else {
                (
                    false,
                    Some("ContainersNotReady"),
                    Some(format!(
                        "containers with unready status: {}",
                        list(&unready)
                    )),
                )
            }
        }
    };
    vec![
        ("PodReadyToStartContainers", sandbox, None, None),
        initialized,
        ("Ready", ready, reason, message.clone()),
        ("ContainersReady", ready, reason, message),
    ]
}

fn time(t: SystemTime) -> Value {
    json!(rfc3339(t))
}

fn termination(t: &Termination) -> Value {
    let mut m = Map::new();
    if let Some(id) = &t.container_id {
        m.insert("containerID".into(), json!(format!("containerd://{id}")));
    }
    m.insert("exitCode".into(), json!(t.exit_code));
    m.insert("finishedAt".into(), time(t.finished_at));
    if let Some(msg) = &t.message {
        m.insert("message".into(), json!(msg));
    }
    m.insert("reason".into(), json!(t.reason));
    m.insert(
        "startedAt".into(),
        t.started_at.map(time).unwrap_or(Value::Null),
    );
    Value::Object(m)
}

fn waiting(reason: &str, message: Option<&str>) -> Value {
    match message {
        Some(msg) if !msg.is_empty() => json!({"waiting": {"reason": reason, "message": msg}}),
        _ => json!({"waiting": {"reason": reason}}),
    }
}

/// One container's status.
pub fn container_status(c: &ContainerMachine, pod_has_init: bool, now: SystemTime) -> Value {
    let default_reason = if pod_has_init {
        "PodInitializing"
    } else {
        "ContainerCreating"
    };
    let shown = |s: &Shown| match s {
        Shown::Default => waiting(default_reason, None),
        Shown::Waiting { reason, message } => waiting(reason, Some(message)),
        Shown::Terminated(t) => json!({"terminated": termination(t)}),
    };
    let state = match &c.state {
        ContainerState::Waiting => waiting(default_reason, None),
        ContainerState::ImageError { reason, message } => waiting(reason, Some(message)),
        ContainerState::PullingImage { shown: s, .. }
        | ContainerState::Starting { shown: s, .. } => shown(s),
        ContainerState::ErrImagePull { message, .. } => waiting("ErrImagePull", Some(message)),
        ContainerState::ImagePullBackOff { message, .. } => {
            waiting("ImagePullBackOff", Some(message))
        }
        ContainerState::Running { started_at, .. }
        | ContainerState::Stopping { started_at, .. } => {
            json!({"running": {"startedAt": rfc3339(*started_at)}})
        }
        ContainerState::Terminated(t) => json!({"terminated": termination(t)}),
        ContainerState::CrashLoopBackOff { message, .. } => {
            waiting("CrashLoopBackOff", Some(message))
        }
    };
    let last = match &c.last_termination {
        Some(t) => json!({"terminated": termination(t)}),
        None => json!({}),
    };
    let (image, image_id) = match (&c.image, &c.container_id) {
        (Some(info), Some(_)) => (info.reference.to_string(), info.reference.image_id()),
        _ => (c.spec.image.clone(), String::new()),
    };
    let mut s = json!({
        "name": c.spec.name,
        "state": state,
        "lastState": last,
        "ready": c.is_ready(now),
        "restartCount": c.restart_count(),
        "image": image,
        "imageID": image_id,
        "started": c.has_started(now),
    });
    if let Some(id) = &c.container_id {
        s["containerID"] = json!(format!("containerd://{id}"));
    }
    if !c.spec.volume_mounts.is_empty() {
        let mounts: Vec<Value> = c
            .spec
            .volume_mounts
            .iter()
            .map(|m| {
                if m.read_only {
                    json!({"name": m.volume, "mountPath": m.path, "readOnly": true, "recursiveReadOnly": "Disabled"})
                } else {
                    json!({"name": m.volume, "mountPath": m.path})
                }
            })
            .collect();
        s["volumeMounts"] = json!(mounts);
    }
    s
}

/// The condition types the kubelet writes (PodScheduled, the scheduler's, is copied as is).
pub const KUBELET_CONDITIONS: [&str; 4] = [
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
];

/// The whole status. `prev` is the pod's current status (for conditions other than the
/// kubelet's, `PodScheduled`, `qosClass` and the transition times).
pub fn pod_status(m: &PodMachine, now: SystemTime, host_ip: &str, prev: &Value) -> Value {
    let phase = phase(m, now);
    let prev_conds: Vec<Value> = prev
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut conds: Vec<Value> = prev_conds
        .iter()
        .filter(|c| {
            let ty = c.get("type").and_then(Value::as_str).unwrap_or("");
            !KUBELET_CONDITIONS.contains(&ty) && ty != "PodScheduled"
        })
        .cloned()
        .collect();
    for (ty, ok, reason, message) in conditions(m, phase, now) {
        let status = if ok { "True" } else { "False" };
        let since = prev_conds
            .iter()
            .find(|c| {
                c.get("type").and_then(Value::as_str) == Some(ty)
                    && c.get("status").and_then(Value::as_str) == Some(status)
            })
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or_else(|| time(now));
        let mut c = json!({"type": ty, "status": status, "lastProbeTime": null, "lastTransitionTime": since, "observedGeneration": m.spec.generation});
        if let Some(r) = reason {
            c["reason"] = json!(r);
        }
        if let Some(msg) = message {
            c["message"] = json!(msg);
        }
        conds.push(c);
    }
    let scheduled = prev_conds
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("PodScheduled"))
        .cloned()
        .unwrap_or_else(|| json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": time(now)}));
    conds.push(scheduled);
    let has_init = !m.init.is_empty();
    let mut s = json!({
        "phase": phase,
        "conditions": conds,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": time(m.start_time),
        "containerStatuses": m.containers.iter().map(|c| container_status(c, has_init, now)).collect::<Vec<_>>(),
        "observedGeneration": m.spec.generation,
    });
    if has_init {
        s["initContainerStatuses"] = json!(m
            .init
            .iter()
            .map(|c| container_status(c, has_init, now))
            .collect::<Vec<_>>());
    }
    if let Some(ip) = &m.pod_ip {
        s["podIP"] = json!(ip);
        s["podIPs"] = json!([{"ip": ip}]);
    }
    if let Some(q) = prev.get("qosClass") {
        s["qosClass"] = q.clone();
    }
    if let Some((_, Some(reason), message)) = m.terminal.as_deref() {
        s["reason"] = json!(reason);
        if let Some(msg) = message {
            s["message"] = json!(msg);
        }
    }
    s
}
