//! `kubectl describe pod`: identity, node, status, IPs, containers with their state,
//! conditions, volumes, QoS class, node selectors, tolerations and events.

use serde_json::Value;

use super::common::{self, items, n, s};
use super::writer::{w, Writer};
use super::Related;

pub fn render(pod: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (meta, spec, status) = (&pod["metadata"], &pod["spec"], &pod["status"]);
    w!(w, 0, "Name:\t{}\n", s(&meta["name"]));
    w!(w, 0, "Namespace:\t{}\n", s(&meta["namespace"]));
    if spec["priority"].is_number() {
        w!(w, 0, "Priority:\t{}\n", n(&spec["priority"]));
    }
    for (title, key) in [
        ("Priority Class Name", "priorityClassName"),
        ("Runtime Class Name", "runtimeClassName"),
        ("Service Account", "serviceAccountName"),
    ] {
        if !s(&spec[key]).is_empty() {
            w!(w, 0, "{title}:\t{}\n", s(&spec[key]));
        }
    }
    match s(&spec["nodeName"]) {
        "" => w.write(0, "Node:\t<none>\n"),
        node => w!(w, 0, "Node:\t{node}/{}\n", s(&status["hostIP"])),
    }
    if status["startTime"].is_string() {
        w!(
            w,
            0,
            "Start Time:\t{}\n",
            common::rfc1123z(&status["startTime"])
        );
    }
    common::labels_multiline(&mut w, "", "Labels", &meta["labels"]);
    common::annotations_multiline(&mut w, "Annotations", &meta["annotations"]);
    let phase = s(&status["phase"]);
    if meta["deletionTimestamp"].is_string() && phase != "Failed" && phase != "Succeeded" {
        w!(
            w,
            0,
            "Status:\tTerminating (lasts {})\n",
            common::since(&meta["deletionTimestamp"], rel.now)
        );
        w!(
            w,
            0,
            "Termination Grace Period:\t{}s\n",
            n(&meta["deletionGracePeriodSeconds"])
        );
    } else {
        w!(w, 0, "Status:\t{phase}\n");
    }
    for (title, key) in [("Reason", "reason"), ("Message", "message")] {
        if !s(&status[key]).is_empty() {
            w!(w, 0, "{title}:\t{}\n", s(&status[key]));
        }
    }
    w!(w, 0, "IP:\t{}\n", s(&status["podIP"]));
    let ips = items(&status["podIPs"]);
    if ips.is_empty() {
        w.write(0, "IPs:\t<none>\n");
    } else {
        w.write(0, "IPs:\n");
        for ip in ips {
            w!(w, 1, "IP:\t{}\n", s(&ip["ip"]));
        }
    }
    if let Some(by) = common::controlled_by(pod) {
        w!(w, 0, "Controlled By:\t{by}\n");
    }
    if !s(&status["nominatedNodeName"]).is_empty() {
        w!(
            w,
            0,
            "NominatedNodeName:\t{}\n",
            s(&status["nominatedNodeName"])
        );
    }
    if spec["resources"].is_object() {
        w.write(0, "Resources:\n");
        common::resources(&mut w, &spec["resources"], 1);
    }
    if !items(&spec["initContainers"]).is_empty() {
        common::containers(
            &mut w,
            "Init Containers",
            &spec["initContainers"],
            Some((&status["initContainerStatuses"], pod)),
            "",
        );
    }
    common::containers(
        &mut w,
        "Containers",
        &spec["containers"],
        Some((&status["containerStatuses"], pod)),
        "",
    );
    let conditions = items(&status["conditions"]);
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n  Type\tStatus\n");
        for c in conditions {
            w!(w, 1, "{} \t{} \n", s(&c["type"]), s(&c["status"]));
        }
    }
    common::volumes(&mut w, &spec["volumes"], "");
    w!(w, 0, "QoS Class:\t{}\n", qos_class(pod));
    common::labels_multiline(&mut w, "", "Node-Selectors", &spec["nodeSelector"]);
    common::tolerations_multiline(&mut w, "", "Tolerations", &spec["tolerations"]);
    common::finish_with_events(w, rel)
}

/// The pod's QoS class: `status.qosClass` when the server set it, else computed as the
/// kubelet does (no requests or limits: BestEffort; cpu and memory limits equal to the
/// requests in every container: Guaranteed; anything else: Burstable).
pub fn qos_class(pod: &Value) -> String {
    if let Some(q) = pod["status"]["qosClass"].as_str().filter(|q| !q.is_empty()) {
        return q.to_string();
    }
    let containers: Vec<&Value> = items(&pod["spec"]["containers"])
        .iter()
        .chain(items(&pod["spec"]["initContainers"]))
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let (req, lim) = (&c["resources"]["requests"], &c["resources"]["limits"]);
        for r in ["cpu", "memory"] {
            let (rq, lm) = (&req[r], &lim[r]);
            if !rq.is_null() || !lm.is_null() {
                any = true;
            }
            if lm.is_null() || (!rq.is_null() && rq != lm) {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        _ => "Burstable",
    }
    .to_string()
}
