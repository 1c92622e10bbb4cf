//! The Pod printer (`printPod`): READY, STATUS and RESTARTS computed from the container
//! statuses the way kubectl shows them (init containers, sidecars, waiting and terminated
//! reasons, Terminating), the wide IP / NODE / NOMINATED NODE / READINESS GATES columns, and
//! the `Completed` row condition of finished pods.

use super::At;
use super::{cell, is_set, list_at, str_at, TableSpec};
use crate::table::{Column, AGE, NAME};
use serde_json::{json, Value};
use std::time::SystemTime;

pub const COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    Column::new(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    Column::new(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    Column::new(
        "IP",
        "string",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    )
    .wide(),
    Column::new(
        "Node",
        "string",
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
    )
    .wide(),
    Column::new(
        "Nominated Node",
        "string",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
    )
    .wide(),
    Column::new(
        "Readiness Gates",
        "string",
        "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
    )
    .wide(),
];

pub static TABLE: TableSpec = TableSpec::new(COLUMNS, row).conditions(conditions);

/// The READY, STATUS and RESTARTS cells of a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub ready: String,
    pub status: String,
    pub restarts: String,
}

pub fn row(pod: &Value, now: SystemTime) -> Vec<Value> {
    let s = summary(pod, now);
    vec![
        super::name(pod),
        cell(s.ready),
        cell(s.status),
        cell(s.restarts),
        super::age(pod, now),
        cell(or_none(pod_ip(pod))),
        cell(or_none(str_at(pod, "/spec/nodeName"))),
        cell(or_none(str_at(pod, "/status/nominatedNodeName"))),
        cell(readiness_gates(pod)),
    ]
}

/// Finished pods carry the row condition `Completed` (kubectl hides them without `-a` in
/// some views).
pub fn conditions(pod: &Value) -> Vec<Value> {
    match str_at(pod, "/status/phase") {
        "Succeeded" => vec![json!({"type": "Completed", "status": "True",
            "reason": "Succeeded", "message": "The pod has completed successfully."})],
        "Failed" => vec![json!({"type": "Completed", "status": "True",
            "reason": "Failed", "message": "The pod failed."})],
        _ => Vec::new(),
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "<none>"
    } else {
        s
    }
}

/// The first pod IP; `status.podIP` is authoritative over `podIPs` (v1 → internal conversion).
fn pod_ip(pod: &Value) -> &str {
    match str_at(pod, "/status/podIP") {
        "" => str_at(pod, "/status/podIPs/0/ip"),
        ip => ip,
    }
}

/// `<none>`, or how many readiness gates have a True condition out of how many gates.
fn readiness_gates(pod: &Value) -> String {
    let gates = list_at(pod, "/spec/readinessGates");
    if gates.is_empty() {
        return "<none>".into();
    }
    let conditions = list_at(pod, "/status/conditions");
    let satisfied = gates
        .iter()
        .filter(|g| {
            let ty = str_at(g, "/conditionType");
            conditions
                .iter()
                .find(|c| str_at(c, "/type") == ty)
                .is_some_and(|c| str_at(c, "/status") == "True")
        })
        .count();
    format!("{satisfied}/{}", gates.len())
}

/// A present (non-null) object field of a container state.
fn state<'a>(status: &'a Value, ptr: &str) -> Option<&'a Value> {
    status.at(ptr).filter(|v| v.is_object())
}

/// `lastState.terminated.finishedAt` of a container status, if it restarted.
fn last_finished(status: &Value) -> Option<SystemTime> {
    state(status, "/lastState/terminated")
        .and_then(|t| t.get("finishedAt"))
        .and_then(Value::as_str)
        .and_then(crate::clock::parse_rfc3339)
}

fn keep_latest(latest: &mut Option<SystemTime>, t: Option<SystemTime>) {
    if let Some(t) = t {
        if latest.is_none_or(|l| l < t) {
            *latest = Some(t);
        }
    }
}

/// `Signal:N` / `ExitCode:N` for a termination without a reason.
fn exit_reason(terminated: &Value) -> String {
    let signal = terminated
        .get("signal")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if signal != 0 {
        format!("Signal:{signal}")
    } else {
        let code = terminated
            .get("exitCode")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        format!("ExitCode:{code}")
    }
}

fn condition_status<'a>(pod: &'a Value, ty: &str) -> Option<&'a str> {
    list_at(pod, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == ty)
        .map(|c| str_at(c, "/status"))
}

fn has_ready_condition(pod: &Value) -> bool {
    list_at(pod, "/status/conditions")
        .iter()
        .any(|c| str_at(c, "/type") == "Ready" && str_at(c, "/status") == "True")
}

/// READY, STATUS and RESTARTS as `printPod` computes them.
pub fn summary(pod: &Value, now: SystemTime) -> Summary {
    let init_specs = list_at(pod, "/spec/initContainers");
    let is_sidecar = |name: &str| {
        init_specs
            .iter()
            .find(|c| str_at(c, "/name") == name)
            .is_some_and(|c| str_at(c, "/restartPolicy") == "Always")
    };
    // Sidecars (restartable init containers) count toward READY's denominator.
    let total = list_at(pod, "/spec/containers").len()
        + init_specs
            .iter()
            .filter(|c| str_at(c, "/restartPolicy") == "Always")
            .count();
    let mut ready = 0usize;
    let mut restarts = 0i64;
    let mut sidecar_restarts = 0i64;
    let mut last_restart = None;
    let mut last_sidecar_restart = None;

    let phase = str_at(pod, "/status/phase");
    let mut reason = match str_at(pod, "/status/reason") {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    if list_at(pod, "/status/conditions")
        .iter()
        .any(|c| str_at(c, "/type") == "PodScheduled" && str_at(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }

    let mut initializing = false;
    for (i, cs) in list_at(pod, "/status/initContainerStatuses")
        .iter()
        .enumerate()
    {
        let count = cs.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
        let finished = last_finished(cs);
        restarts += count;
        keep_latest(&mut last_restart, finished);
        let sidecar = is_sidecar(str_at(cs, "/name"));
        if sidecar {
            sidecar_restarts += count;
            keep_latest(&mut last_sidecar_restart, finished);
        }
        let terminated = state(cs, "/state/terminated");
        if terminated.is_some_and(|t| t.get("exitCode").and_then(Value::as_i64).unwrap_or(0) == 0) {
            continue;
        }
        if sidecar && cs.get("started") == Some(&Value::Bool(true)) {
            if cs.get("ready") == Some(&Value::Bool(true)) {
                ready += 1;
            }
            continue;
        }
        let waiting = str_at(cs, "/state/waiting/reason");
        reason = match terminated {
            Some(t) => match str_at(t, "/reason") {
                "" => format!("Init:{}", exit_reason(t)),
                r => format!("Init:{r}"),
            },
            None if !waiting.is_empty() && waiting != "PodInitializing" => {
                format!("Init:{waiting}")
            }
            None => format!("Init:{i}/{}", init_specs.len()),
        };
        initializing = true;
        break;
    }

    if !initializing || condition_status(pod, "Initialized") == Some("True") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for cs in list_at(pod, "/status/containerStatuses").iter().rev() {
            restarts += cs.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
            keep_latest(&mut last_restart, last_finished(cs));
            let waiting = str_at(cs, "/state/waiting/reason");
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = state(cs, "/state/terminated") {
                reason = match str_at(t, "/reason") {
                    "" => exit_reason(t),
                    r => r.to_string(),
                };
            } else if cs.get("ready") == Some(&Value::Bool(true))
                && state(cs, "/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        // A completed container next to a running one: the pod is still running.
        if reason == "Completed" && has_running {
            reason = if has_ready_condition(pod) {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    if is_set(pod, "/metadata/deletionTimestamp") {
        if str_at(pod, "/status/reason") == "NodeLost" {
            reason = "Unknown".into();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".into();
        }
    }

    let restarts = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", crate::table::since(t, now)),
        _ => restarts.to_string(),
    };
    Summary {
        ready: format!("{ready}/{total}"),
        status: reason,
        restarts,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{ago, meta, now};
    use super::*;

    fn running(name: &str, ready: bool) -> Value {
        json!({"name": name, "ready": ready, "restartCount": 0, "state": {"running": {"startedAt": ago(600)}}})
    }
    fn waiting(name: &str, reason: &str) -> Value {
        json!({"name": name, "ready": false, "restartCount": 0, "state": {"waiting": {"reason": reason}}})
    }
    fn terminated(name: &str, reason: &str, exit: i64, signal: i64) -> Value {
        let mut t = json!({"exitCode": exit, "finishedAt": ago(60)});
        if !reason.is_empty() {
            t["reason"] = json!(reason);
        }
        if signal != 0 {
            t["signal"] = json!(signal);
        }
        json!({"name": name, "ready": false, "restartCount": 0, "state": {"terminated": t}})
    }
    fn restarted(mut status: Value, count: i64, finished_secs_ago: u64) -> Value {
        status["restartCount"] = json!(count);
        status["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(finished_secs_ago)}});
        status
    }
    fn pod(containers: &[&str], phase: &str, statuses: Vec<Value>) -> Value {
        let cs: Vec<Value> = containers
            .iter()
            .map(|n| json!({"name": n, "image": "busybox"}))
            .collect();
        json!({"metadata": meta("p", 300), "spec": {"containers": cs},
               "status": {"phase": phase, "containerStatuses": statuses}})
    }
    fn with_init(mut p: Value, init: &[(&str, bool)], statuses: Vec<Value>) -> Value {
        let specs: Vec<Value> = init
            .iter()
            .map(|(n, sidecar)| {
                let mut c = json!({"name": n, "image": "busybox"});
                if *sidecar {
                    c["restartPolicy"] = json!("Always");
                }
                c
            })
            .collect();
        p["spec"]["initContainers"] = json!(specs);
        p["status"]["initContainerStatuses"] = json!(statuses);
        p
    }
    fn with_conditions(mut p: Value, conds: &[(&str, &str)]) -> Value {
        let c: Vec<Value> = conds
            .iter()
            .map(|(t, s)| json!({"type": t, "status": s}))
            .collect();
        p["status"]["conditions"] = json!(c);
        p
    }
    fn deleting(mut p: Value) -> Value {
        p["metadata"]["deletionTimestamp"] = json!(ago(5));
        p
    }

    #[test]
    fn pod_ready_status_and_restarts_follow_printpod() {
        let cases: Vec<(&str, Value, &str, &str, &str)> = vec![
            (
                "a pending pod without statuses shows its phase",
                pod(&["c"], "Pending", vec![]),
                "0/1",
                "Pending",
                "0",
            ),
            (
                "a container being created shows ContainerCreating",
                pod(&["c"], "Pending", vec![waiting("c", "ContainerCreating")]),
                "0/1",
                "ContainerCreating",
                "0",
            ),
            (
                "a failed pull shows ErrImagePull",
                pod(&["c"], "Pending", vec![waiting("c", "ErrImagePull")]),
                "0/1",
                "ErrImagePull",
                "0",
            ),
            (
                "a pull in back-off shows ImagePullBackOff",
                pod(&["c"], "Pending", vec![waiting("c", "ImagePullBackOff")]),
                "0/1",
                "ImagePullBackOff",
                "0",
            ),
            (
                "a crash-looping container shows CrashLoopBackOff and its restarts with the last one's age",
                pod(&["c"], "Running", vec![restarted(waiting("c", "CrashLoopBackOff"), 3, 300)]),
                "0/1",
                "CrashLoopBackOff",
                "3 (5m ago)",
            ),
            (
                "a ready running container counts toward READY",
                pod(&["c"], "Running", vec![running("c", true)]),
                "1/1",
                "Running",
                "0",
            ),
            (
                "a running container that is not ready does not count",
                pod(&["c"], "Running", vec![running("c", false)]),
                "0/1",
                "Running",
                "0",
            ),
            (
                "a succeeded pod shows Completed",
                pod(&["c"], "Succeeded", vec![terminated("c", "Completed", 0, 0)]),
                "0/1",
                "Completed",
                "0",
            ),
            (
                "a failed container shows Error",
                pod(&["c"], "Failed", vec![terminated("c", "Error", 1, 0)]),
                "0/1",
                "Error",
                "0",
            ),
            (
                "an OOM-killed container shows OOMKilled",
                pod(&["c"], "Running", vec![terminated("c", "OOMKilled", 137, 0)]),
                "0/1",
                "OOMKilled",
                "0",
            ),
            (
                "a termination without a reason shows its exit code",
                pod(&["c"], "Failed", vec![terminated("c", "", 2, 0)]),
                "0/1",
                "ExitCode:2",
                "0",
            ),
            (
                "a termination by a signal without a reason shows the signal",
                pod(&["c"], "Failed", vec![terminated("c", "", 137, 9)]),
                "0/1",
                "Signal:9",
                "0",
            ),
            (
                "the lowest-index container with a reason wins",
                pod(
                    &["a", "b"],
                    "Running",
                    vec![restarted(waiting("a", "CrashLoopBackOff"), 2, 30), running("b", true)],
                ),
                "1/2",
                "CrashLoopBackOff",
                "2 (30s ago)",
            ),
            (
                "restarts sum over containers and take the latest termination",
                pod(
                    &["a", "b"],
                    "Running",
                    vec![restarted(running("a", true), 1, 7200), restarted(running("b", true), 2, 90)],
                ),
                "2/2",
                "Running",
                "3 (90s ago)",
            ),
            (
                "a completed container next to a running one on a ready pod shows Running",
                with_conditions(
                    pod(&["a", "b"], "Running", vec![terminated("a", "Completed", 0, 0), running("b", true)]),
                    &[("Ready", "True")],
                ),
                "1/2",
                "Running",
                "0",
            ),
            (
                "a completed container next to a running one on an unready pod shows NotReady",
                with_conditions(
                    pod(&["a", "b"], "Running", vec![terminated("a", "Completed", 0, 0), running("b", true)]),
                    &[("Ready", "False")],
                ),
                "1/2",
                "NotReady",
                "0",
            ),
            (
                "an init container that has not started shows Init:0/n",
                with_init(
                    pod(&["c"], "Pending", vec![waiting("c", "PodInitializing")]),
                    &[("i1", false), ("i2", false)],
                    vec![waiting("i1", "PodInitializing"), waiting("i2", "PodInitializing")],
                ),
                "0/1",
                "Init:0/2",
                "0",
            ),
            (
                "a finished first init container moves the count to Init:1/n",
                with_init(
                    pod(&["c"], "Pending", vec![waiting("c", "PodInitializing")]),
                    &[("i1", false), ("i2", false)],
                    vec![terminated("i1", "Completed", 0, 0), running("i2", false)],
                ),
                "0/1",
                "Init:1/2",
                "0",
            ),
            (
                "an init container waiting with a reason shows Init:<reason>",
                with_init(
                    pod(&["c"], "Pending", vec![waiting("c", "PodInitializing")]),
                    &[("i1", false)],
                    vec![waiting("i1", "ImagePullBackOff")],
                ),
                "0/1",
                "Init:ImagePullBackOff",
                "0",
            ),
            (
                "a crash-looping init container shows Init:CrashLoopBackOff with its restarts",
                with_init(
                    pod(&["c"], "Pending", vec![waiting("c", "PodInitializing")]),
                    &[("i1", false)],
                    vec![restarted(waiting("i1", "CrashLoopBackOff"), 2, 60)],
                ),
                "0/1",
                "Init:CrashLoopBackOff",
                "2 (60s ago)",
            ),
            (
                "a failed init container shows Init:Error",
                with_init(
                    pod(&["c"], "Failed", vec![waiting("c", "PodInitializing")]),
                    &[("i1", false)],
                    vec![terminated("i1", "Error", 1, 0)],
                ),
                "0/1",
                "Init:Error",
                "0",
            ),
            (
                "a failed init container without a reason shows Init:ExitCode:N",
                with_init(
                    pod(&["c"], "Pending", vec![]),
                    &[("i1", false)],
                    vec![terminated("i1", "", 3, 0)],
                ),
                "0/1",
                "Init:ExitCode:3",
                "0",
            ),
            (
                "a signalled init container without a reason shows Init:Signal:N",
                with_init(
                    pod(&["c"], "Pending", vec![]),
                    &[("i1", false)],
                    vec![terminated("i1", "", 137, 9)],
                ),
                "0/1",
                "Init:Signal:9",
                "0",
            ),
            (
                "finished init containers leave their restarts out once the pod is initialized",
                with_init(
                    pod(&["c"], "Running", vec![running("c", true)]),
                    &[("i1", false)],
                    vec![restarted(terminated("i1", "Completed", 0, 0), 2, 600)],
                ),
                "1/1",
                "Running",
                "0",
            ),
            (
                "a started sidecar counts toward READY and its restarts count",
                with_init(
                    pod(&["c"], "Running", vec![running("c", true)]),
                    &[("sidecar", true)],
                    vec![restarted(
                        json!({"name": "sidecar", "ready": true, "started": true, "state": {"running": {}}}),
                        1,
                        600,
                    )],
                ),
                "2/2",
                "Running",
                "1 (10m ago)",
            ),
            (
                "a sidecar that has not started holds initialization",
                with_init(
                    pod(&["c"], "Pending", vec![waiting("c", "PodInitializing")]),
                    &[("sidecar", true)],
                    vec![json!({"name": "sidecar", "ready": false, "started": false, "state": {"running": {}}})],
                ),
                "0/2",
                "Init:0/1",
                "0",
            ),
            (
                "an Initialized condition lets a container's reason replace a pending init status",
                with_conditions(
                    with_init(
                        pod(&["c"], "Running", vec![restarted(waiting("c", "CrashLoopBackOff"), 1, 60)]),
                        &[("i1", false)],
                        vec![waiting("i1", "PodInitializing")],
                    ),
                    &[("Initialized", "True")],
                ),
                "0/1",
                "CrashLoopBackOff",
                "1 (60s ago)",
            ),
            (
                "with an Initialized condition a running container leaves a pending init status shown",
                with_conditions(
                    with_init(
                        pod(&["c"], "Running", vec![running("c", true)]),
                        &[("i1", false)],
                        vec![waiting("i1", "PodInitializing")],
                    ),
                    &[("Initialized", "True"), ("Ready", "True")],
                ),
                "1/1",
                "Init:0/1",
                "0",
            ),
            (
                "a deleted running pod shows Terminating",
                deleting(pod(&["c"], "Running", vec![running("c", true)])),
                "1/1",
                "Terminating",
                "0",
            ),
            (
                "a deleted pod on a lost node shows Unknown",
                deleting({
                    let mut p = pod(&["c"], "Running", vec![running("c", true)]);
                    p["status"]["reason"] = json!("NodeLost");
                    p
                }),
                "1/1",
                "Unknown",
                "0",
            ),
            (
                "a deleted succeeded pod keeps Completed",
                deleting(pod(&["c"], "Succeeded", vec![terminated("c", "Completed", 0, 0)])),
                "0/1",
                "Completed",
                "0",
            ),
            (
                "a pod held by scheduling gates shows SchedulingGated",
                {
                    let mut p = pod(&["c"], "Pending", vec![]);
                    p["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]);
                    p
                },
                "0/1",
                "SchedulingGated",
                "0",
            ),
            (
                "an evicted pod shows its status reason",
                {
                    let mut p = pod(&["c"], "Failed", vec![]);
                    p["status"]["reason"] = json!("Evicted");
                    p
                },
                "0/1",
                "Evicted",
                "0",
            ),
        ];
        for (name, p, ready, status, restarts) in cases {
            let s = summary(&p, now());
            assert_eq!(
                (s.ready.as_str(), s.status.as_str(), s.restarts.as_str()),
                (ready, status, restarts),
                "{name}"
            );
        }
    }

    #[test]
    fn pod_row_has_every_column_with_none_for_unset_wide_cells() {
        let p = pod(&["c"], "Pending", vec![]);
        let cells = row(&p, now());
        assert_eq!(cells.len(), COLUMNS.len());
        assert_eq!(
            cells,
            vec![
                json!("p"),
                json!("0/1"),
                json!("Pending"),
                json!("0"),
                json!("5m"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn pod_row_shows_ip_node_nominated_node_and_satisfied_readiness_gates() {
        let mut p = with_conditions(
            pod(&["c"], "Running", vec![running("c", true)]),
            &[
                ("Ready", "True"),
                ("example.com/lb", "True"),
                ("example.com/dns", "False"),
            ],
        );
        p["spec"]["nodeName"] = json!("node-1");
        p["spec"]["readinessGates"] =
            json!([{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]);
        p["status"]["podIPs"] = json!([{"ip": "10.244.0.9"}, {"ip": "fd00::9"}]);
        p["status"]["nominatedNodeName"] = json!("node-2");
        let cells = row(&p, now());
        assert_eq!(
            &cells[5..],
            &[
                json!("10.244.0.9"),
                json!("node-1"),
                json!("node-2"),
                json!("1/2")
            ]
        );
        p["status"]["podIP"] = json!("10.244.0.10");
        assert_eq!(row(&p, now())[5], json!("10.244.0.10"));
    }

    #[test]
    fn finished_pods_carry_the_completed_row_condition() {
        let ok = pod(&["c"], "Succeeded", vec![]);
        assert_eq!(
            conditions(&ok),
            vec![
                json!({"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."})
            ]
        );
        let failed = pod(&["c"], "Failed", vec![]);
        assert_eq!(conditions(&failed)[0]["reason"], "Failed");
        assert!(conditions(&pod(&["c"], "Running", vec![])).is_empty());
    }

    #[test]
    fn pod_columns_match_upstream_names_types_and_priorities() {
        let got: Vec<(&str, &str, &str, u8)> = COLUMNS
            .iter()
            .map(|c| (c.name, c.type_, c.format, c.priority))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Name", "string", "name", 0),
                ("Ready", "string", "", 0),
                ("Status", "string", "", 0),
                ("Restarts", "string", "", 0),
                ("Age", "string", "", 0),
                ("IP", "string", "", 1),
                ("Node", "string", "", 1),
                ("Nominated Node", "string", "", 1),
                ("Readiness Gates", "string", "", 1),
            ]
        );
    }
}
