//! The workload controllers' describers — Deployment, ReplicaSet, StatefulSet, DaemonSet,
//! Job, CronJob: each its header fields, then the shared pod template, conditions and events.

use serde_json::Value;

use super::common::{self, items, n, s, v};
use super::writer::{w, Writer};
use super::Related;

fn header(w: &mut Writer, obj: &Value) {
    w!(w, 0, "Name:\t{}\n", s(&obj["metadata"]["name"]));
    w!(w, 0, "Namespace:\t{}\n", s(&obj["metadata"]["namespace"]));
}

fn labels_annotations(w: &mut Writer, obj: &Value) {
    common::labels_multiline(w, "", "Labels", &obj["metadata"]["labels"]);
    common::annotations_multiline(w, "Annotations", &obj["metadata"]["annotations"]);
}

fn pods_status(w: &mut Writer, rel: &Related) {
    let p = &rel.pods;
    w!(
        w,
        0,
        "Pods Status:\t{} Running / {} Waiting / {} Succeeded / {} Failed\n",
        p.running,
        p.waiting,
        p.succeeded,
        p.failed
    );
}

/// `name (current/desired replicas created)` for each ReplicaSet, `<none>` for none.
fn replica_sets(list: &[Value]) -> String {
    if list.is_empty() {
        return "<none>".to_string();
    }
    list.iter()
        .map(|rs| {
            format!(
                "{} ({}/{} replicas created)",
                s(&rs["metadata"]["name"]),
                n(&rs["status"]["replicas"]),
                n(&rs["spec"]["replicas"])
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn deployment(d: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (spec, status) = (&d["spec"], &d["status"]);
    header(&mut w, d);
    w!(
        w,
        0,
        "CreationTimestamp:\t{}\n",
        common::rfc1123z(&d["metadata"]["creationTimestamp"])
    );
    labels_annotations(&mut w, d);
    w!(
        w,
        0,
        "Selector:\t{}\n",
        common::selector_string(&spec["selector"])
    );
    w!(
        w,
        0,
        "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable\n",
        n(&spec["replicas"]),
        n(&status["updatedReplicas"]),
        n(&status["replicas"]),
        n(&status["availableReplicas"]),
        n(&status["unavailableReplicas"])
    );
    w!(w, 0, "StrategyType:\t{}\n", s(&spec["strategy"]["type"]));
    w!(w, 0, "MinReadySeconds:\t{}\n", n(&spec["minReadySeconds"]));
    let ru = &spec["strategy"]["rollingUpdate"];
    if ru.is_object() {
        w!(
            w,
            0,
            "RollingUpdateStrategy:\t{} max unavailable, {} max surge\n",
            v(&ru["maxUnavailable"]),
            v(&ru["maxSurge"])
        );
    }
    common::pod_template(&mut w, &spec["template"]);
    common::conditions_with_reason(&mut w, &status["conditions"]);
    if !rel.old_rs.is_empty() || !rel.new_rs.is_empty() {
        w!(w, 0, "OldReplicaSets:\t{}\n", replica_sets(&rel.old_rs));
        w!(w, 0, "NewReplicaSet:\t{}\n", replica_sets(&rel.new_rs));
    }
    common::finish_with_events(w, rel)
}

pub fn replica_set(rs: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    header(&mut w, rs);
    w!(
        w,
        0,
        "Selector:\t{}\n",
        common::format_label_selector(&rs["spec"]["selector"])
    );
    labels_annotations(&mut w, rs);
    if let Some(by) = common::controlled_by(rs) {
        w!(w, 0, "Controlled By:\t{by}\n");
    }
    w!(
        w,
        0,
        "Replicas:\t{} current / {} desired\n",
        n(&rs["status"]["replicas"]),
        n(&rs["spec"]["replicas"])
    );
    pods_status(&mut w, rel);
    common::pod_template(&mut w, &rs["spec"]["template"]);
    common::conditions_with_reason(&mut w, &rs["status"]["conditions"]);
    common::finish_with_events(w, rel)
}

pub fn stateful_set(ss: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let spec = &ss["spec"];
    header(&mut w, ss);
    w!(
        w,
        0,
        "CreationTimestamp:\t{}\n",
        common::rfc1123z(&ss["metadata"]["creationTimestamp"])
    );
    w!(
        w,
        0,
        "Selector:\t{}\n",
        common::selector_string(&spec["selector"])
    );
    labels_annotations(&mut w, ss);
    w!(
        w,
        0,
        "Replicas:\t{} desired | {} total\n",
        n(&spec["replicas"]),
        n(&ss["status"]["replicas"])
    );
    w!(
        w,
        0,
        "Update Strategy:\t{}\n",
        s(&spec["updateStrategy"]["type"])
    );
    let ru = &spec["updateStrategy"]["rollingUpdate"];
    if ru["partition"].is_number() {
        w!(w, 1, "Partition:\t{}\n", n(&ru["partition"]));
        if !ru["maxUnavailable"].is_null() {
            w!(w, 1, "MaxUnavailable:\t{}\n", v(&ru["maxUnavailable"]));
        }
    }
    pods_status(&mut w, rel);
    common::pod_template(&mut w, &spec["template"]);
    let templates = items(&spec["volumeClaimTemplates"]);
    if templates.is_empty() {
        w.write(0, "Volume Claims:\t<none>\n");
    } else {
        w.write(0, "Volume Claims:\n");
        for pvc in templates {
            let (meta, pspec) = (&pvc["metadata"], &pvc["spec"]);
            w!(w, 1, "Name:\t{}\n", s(&meta["name"]));
            w!(w, 1, "StorageClass:\t{}\n", s(&pspec["storageClassName"]));
            common::labels_multiline(&mut w, "  ", "Labels", &meta["labels"]);
            common::labels_multiline(&mut w, "  ", "Annotations", &meta["annotations"]);
            let cap = match v(&pspec["resources"]["requests"]["storage"]) {
                c if c.is_empty() => "<default>".to_string(),
                c => c,
            };
            w!(w, 1, "Capacity:\t{cap}\n");
            let modes: Vec<&str> = items(&pspec["accessModes"]).iter().map(s).collect();
            w!(w, 1, "Access Modes:\t[{}]\n", modes.join(" "));
        }
    }
    common::finish_with_events(w, rel)
}

pub fn daemon_set(ds: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (spec, status) = (&ds["spec"], &ds["status"]);
    header(&mut w, ds);
    w!(
        w,
        0,
        "Selector:\t{}\n",
        common::selector_string(&spec["selector"])
    );
    let node_selector = &spec["template"]["spec"]["nodeSelector"];
    let ns_text = if node_selector.as_object().is_some_and(|m| !m.is_empty()) {
        common::format_labels(node_selector)
    } else {
        "<none>".to_string()
    };
    w!(w, 0, "Node-Selector:\t{ns_text}\n");
    labels_annotations(&mut w, ds);
    for (title, key) in [
        (
            "Desired Number of Nodes Scheduled",
            "desiredNumberScheduled",
        ),
        (
            "Current Number of Nodes Scheduled",
            "currentNumberScheduled",
        ),
        (
            "Number of Nodes Scheduled with Up-to-date Pods",
            "updatedNumberScheduled",
        ),
        (
            "Number of Nodes Scheduled with Available Pods",
            "numberAvailable",
        ),
        ("Number of Nodes Misscheduled", "numberMisscheduled"),
    ] {
        w!(w, 0, "{title}: {}\n", n(&status[key]));
    }
    pods_status(&mut w, rel);
    common::pod_template(&mut w, &spec["template"]);
    common::finish_with_events(w, rel)
}

pub fn job(job: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (spec, status) = (&job["spec"], &job["status"]);
    header(&mut w, job);
    w!(
        w,
        0,
        "Selector:\t{}\n",
        common::selector_string(&spec["selector"])
    );
    labels_annotations(&mut w, job);
    if let Some(by) = common::controlled_by(job) {
        w!(w, 0, "Controlled By:\t{by}\n");
    }
    if spec["parallelism"].is_number() {
        w!(w, 0, "Parallelism:\t{}\n", n(&spec["parallelism"]));
    }
    match spec["completions"].as_i64() {
        Some(c) => w!(w, 0, "Completions:\t{c}\n"),
        None => w.write(0, "Completions:\t<unset>\n"),
    }
    if !s(&spec["completionMode"]).is_empty() {
        w!(w, 0, "Completion Mode:\t{}\n", s(&spec["completionMode"]));
    }
    if let Some(b) = spec["suspend"].as_bool() {
        w!(w, 0, "Suspend:\t{b}\n");
    }
    if spec["backoffLimit"].is_number() {
        w!(w, 0, "Backoff Limit:\t{}\n", n(&spec["backoffLimit"]));
    }
    if spec["ttlSecondsAfterFinished"].is_number() {
        w!(
            w,
            0,
            "TTL Seconds After Finished:\t{}\n",
            n(&spec["ttlSecondsAfterFinished"])
        );
    }
    if status["startTime"].is_string() {
        w!(
            w,
            0,
            "Start Time:\t{}\n",
            common::rfc1123z(&status["startTime"])
        );
    }
    if status["completionTime"].is_string() {
        w!(
            w,
            0,
            "Completed At:\t{}\n",
            common::rfc1123z(&status["completionTime"])
        );
    }
    if let (Some(start), Some(end)) = (
        status["startTime"]
            .as_str()
            .and_then(apimachinery::clock::parse_rfc3339),
        status["completionTime"]
            .as_str()
            .and_then(apimachinery::clock::parse_rfc3339),
    ) {
        let nanos = end
            .duration_since(start)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        w!(
            w,
            0,
            "Duration:\t{}\n",
            apimachinery::duration::human_duration_nanos(nanos)
        );
    }
    if spec["activeDeadlineSeconds"].is_number() {
        w!(
            w,
            0,
            "Active Deadline Seconds:\t{}s\n",
            n(&spec["activeDeadlineSeconds"])
        );
    }
    let (active, succeeded, failed) = (
        n(&status["active"]),
        n(&status["succeeded"]),
        n(&status["failed"]),
    );
    match status["ready"].as_i64() {
        None => w!(
            w,
            0,
            "Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n"
        ),
        Some(ready) => w!(
            w,
            0,
            "Pods Statuses:\t{active} Active ({ready} Ready) / {succeeded} Succeeded / {failed} Failed\n"
        ),
    }
    if s(&spec["completionMode"]) == "Indexed" {
        w!(
            w,
            0,
            "Completed Indexes:\t{}\n",
            cap_indexes(s(&status["completedIndexes"]), 50)
        );
    }
    common::pod_template(&mut w, &spec["template"]);
    common::finish_with_events(w, rel)
}

/// `capIndexesListOrNone`: the list cut after the first comma past `soft_limit` bytes.
fn cap_indexes(indexes: &str, soft_limit: usize) -> String {
    if indexes.is_empty() {
        return "<none>".to_string();
    }
    match indexes.get(soft_limit..).and_then(|rest| rest.find(',')) {
        Some(i) => format!("{}...", &indexes[..soft_limit + i + 1]),
        None => indexes.to_string(),
    }
}

pub fn cron_job(cj: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (spec, status) = (&cj["spec"], &cj["status"]);
    header(&mut w, cj);
    labels_annotations(&mut w, cj);
    w!(w, 0, "Schedule:\t{}\n", s(&spec["schedule"]));
    w!(
        w,
        0,
        "Concurrency Policy:\t{}\n",
        s(&spec["concurrencyPolicy"])
    );
    let suspend = match spec["suspend"].as_bool() {
        Some(b) => common::bool_text(b).to_string(),
        None => "<unset>".to_string(),
    };
    w!(w, 0, "Suspend:\t{suspend}\n");
    let or_unset = |x: &Value, suffix: &str| match x {
        Value::Null => "<unset>".to_string(),
        x => format!("{}{suffix}", v(x)),
    };
    w!(
        w,
        0,
        "Successful Job History Limit:\t{}\n",
        or_unset(&spec["successfulJobsHistoryLimit"], "")
    );
    w!(
        w,
        0,
        "Failed Job History Limit:\t{}\n",
        or_unset(&spec["failedJobsHistoryLimit"], "")
    );
    w!(
        w,
        0,
        "Starting Deadline Seconds:\t{}\n",
        or_unset(&spec["startingDeadlineSeconds"], "s")
    );
    let jt = &spec["jobTemplate"]["spec"];
    let selector = if jt["selector"].is_object() {
        common::selector_string(&jt["selector"])
    } else {
        "<unset>".to_string()
    };
    w!(w, 0, "Selector:\t{selector}\n");
    w!(w, 0, "Parallelism:\t{}\n", or_unset(&jt["parallelism"], ""));
    w!(w, 0, "Completions:\t{}\n", or_unset(&jt["completions"], ""));
    if jt["activeDeadlineSeconds"].is_number() {
        w!(
            w,
            0,
            "Active Deadline Seconds:\t{}s\n",
            n(&jt["activeDeadlineSeconds"])
        );
    }
    common::pod_template(&mut w, &jt["template"]);
    let last = match &status["lastScheduleTime"] {
        Value::String(_) => common::rfc1123z(&status["lastScheduleTime"]),
        _ => "<unset>".to_string(),
    };
    w!(w, 0, "Last Schedule Time:\t{last}\n");
    w.write(0, "Active Jobs:\t");
    let active: Vec<&str> = items(&status["active"])
        .iter()
        .map(|j| s(&j["name"]))
        .collect();
    if active.is_empty() {
        w.line("<none>");
    } else {
        w.line(&active.join(", "));
    }
    common::finish_with_events(w, rel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn completed_indexes_are_cut_after_the_soft_limit() {
        assert_eq!(cap_indexes("", 50), "<none>");
        assert_eq!(cap_indexes("1,2,3", 2), "1,2,...");
        assert_eq!(cap_indexes("1-3", 50), "1-3");
    }

    #[test]
    fn replica_sets_list_current_and_desired_replicas() {
        let rs = json!({"metadata": {"name": "web-1"}, "spec": {"replicas": 3}, "status": {"replicas": 2}});
        assert_eq!(replica_sets(&[rs]), "web-1 (2/3 replicas created)");
        assert_eq!(replica_sets(&[]), "<none>");
    }
}
