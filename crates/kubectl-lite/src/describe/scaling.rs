//! `kubectl describe` for what bounds a workload's replicas: HorizontalPodAutoscaler
//! (autoscaling/v2: metrics as `current / target`, behavior, conditions) and
//! PodDisruptionBudget (policy/v1: the budget and its status counts).

use serde_json::Value;

use super::common::{self, items, n, s, v};
use super::writer::{w, Writer};
use super::Related;

/// A metric's current value from its status entry, `<unknown>` until there is one.
fn current(entry: &Value, field: &str) -> String {
    match entry {
        Value::Null => "<unknown>".to_string(),
        m => v(&m["current"][field]),
    }
}

/// The `(as a percentage of request)` line of a Resource or ContainerResource metric
/// with a utilization target, or `:\tcurrent / target` with an average-value target.
fn resource_target(w: &mut Writer, spec: &Value, status: &Value) {
    let target = &spec["target"];
    if !target["averageValue"].is_null() {
        let cur = current(status, "averageValue");
        w!(w, 0, ":\t{cur} / {}\n", v(&target["averageValue"]));
        return;
    }
    let cur = &status["current"];
    let cur = if status.is_null() || cur["averageUtilization"].is_null() {
        "<unknown>".to_string()
    } else {
        format!(
            "{}% ({})",
            n(&cur["averageUtilization"]),
            v(&cur["averageValue"])
        )
    };
    let want = match &target["averageUtilization"] {
        Value::Null => "<auto>".to_string(),
        u => format!("{}%", n(u)),
    };
    w!(w, 1, "(as a percentage of request):\t{cur} / {want}\n");
}

/// `(target average value):\tcurrent / target` or `(target value):\t...` (External and
/// Object metrics).
fn value_target(entry: &Value, target: &Value, average: bool) -> String {
    let (label, field) = if average {
        ("target average value", "averageValue")
    } else {
        ("target value", "value")
    };
    format!(
        "({label}):\t{} / {}\n",
        current(entry, field),
        v(&target[field])
    )
}

/// One entry of `spec.metrics`, with the status entry at the same index.
fn metric(w: &mut Writer, m: &Value, status: Option<&Value>) {
    let null = Value::Null;
    let of = |key: &str| status.map_or(&null, |st| &st[key]);
    match s(&m["type"]) {
        "External" => {
            let e = &m["external"];
            let average = !e["target"]["averageValue"].is_null();
            let value = value_target(of("external"), &e["target"], average);
            w!(w, 1, "{:?} {value}", s(&e["metric"]["name"]));
        }
        "Pods" => {
            let p = &m["pods"];
            let cur = current(of("pods"), "averageValue");
            w!(
                w,
                1,
                "{:?} on pods:\t{cur} / {}\n",
                s(&p["metric"]["name"]),
                v(&p["target"]["averageValue"])
            );
        }
        "Object" => {
            let o = &m["object"];
            w!(
                w,
                1,
                "\"{}\" on {}/{} ",
                s(&o["metric"]["name"]),
                s(&o["describedObject"]["kind"]),
                s(&o["describedObject"]["name"])
            );
            let average = s(&o["target"]["type"]) == "AverageValue";
            w.write(0, &value_target(of("object"), &o["target"], average));
        }
        "Resource" => {
            let r = &m["resource"];
            w!(w, 1, "resource {} on pods", s(&r["name"]));
            resource_target(w, r, of("resource"));
        }
        "ContainerResource" => {
            let r = &m["containerResource"];
            w!(
                w,
                1,
                "resource {} of container \"{}\" on pods",
                s(&r["name"]),
                s(&r["container"])
            );
            resource_target(w, r, of("containerResource"));
        }
        other => w!(w, 1, "<unknown metric type {other:?}>\n"),
    }
}

/// `printDirectionBehavior`: a scale-up or scale-down rule set, when present.
fn direction(w: &mut Writer, title: &str, rules: &Value) {
    if !rules.is_object() {
        return;
    }
    w!(w, 1, "{title}:\n");
    if !rules["stabilizationWindowSeconds"].is_null() {
        w!(
            w,
            2,
            "Stabilization Window: {} seconds\n",
            n(&rules["stabilizationWindowSeconds"])
        );
    }
    let policies = items(&rules["policies"]);
    if !policies.is_empty() {
        let select = match s(&rules["selectPolicy"]) {
            "" => "Max",
            p => p,
        };
        w!(w, 2, "Select Policy: {select}\n");
        w.write(2, "Policies:\n");
        for p in policies {
            w!(
                w,
                3,
                "- Type: {}\tValue: {}\tPeriod: {} seconds\n",
                s(&p["type"]),
                n(&p["value"]),
                n(&p["periodSeconds"])
            );
        }
    }
}

pub fn horizontal_pod_autoscaler(hpa: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (meta, spec, status) = (&hpa["metadata"], &hpa["spec"], &hpa["status"]);
    common::header(&mut w, meta);
    w!(
        w,
        0,
        "CreationTimestamp:\t{}\n",
        common::rfc1123z(&meta["creationTimestamp"])
    );
    let target = &spec["scaleTargetRef"];
    w!(
        w,
        0,
        "Reference:\t{}/{}\n",
        s(&target["kind"]),
        s(&target["name"])
    );
    w.write(0, "Metrics:\t( current / target )\n");
    let current_metrics = items(&status["currentMetrics"]);
    for (i, m) in items(&spec["metrics"]).iter().enumerate() {
        metric(&mut w, m, current_metrics.get(i));
    }
    let min = match &spec["minReplicas"] {
        Value::Null => "<unset>".to_string(),
        m => n(m).to_string(),
    };
    w!(w, 0, "Min replicas:\t{min}\n");
    w!(w, 0, "Max replicas:\t{}\n", n(&spec["maxReplicas"]));
    if spec["behavior"].is_object() {
        w.write(0, "Behavior:\n");
        direction(&mut w, "Scale Up", &spec["behavior"]["scaleUp"]);
        direction(&mut w, "Scale Down", &spec["behavior"]["scaleDown"]);
    }
    w!(w, 0, "{} pods:\t", s(&target["kind"]));
    w!(
        w,
        0,
        "{} current / {} desired\n",
        n(&status["currentReplicas"]),
        n(&status["desiredReplicas"])
    );
    let conditions = items(&status["conditions"]);
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n");
        w.write(1, "Type\tStatus\tReason\tMessage\n");
        w.write(1, "----\t------\t------\t-------\n");
        for c in conditions {
            w!(
                w,
                1,
                "{}\t{}\t{}\t{}\n",
                s(&c["type"]),
                s(&c["status"]),
                s(&c["reason"]),
                s(&c["message"])
            );
        }
    }
    common::finish_with_events(w, rel)
}

pub fn pod_disruption_budget(pdb: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (meta, spec, status) = (&pdb["metadata"], &pdb["spec"], &pdb["status"]);
    w!(w, 0, "Name:\t{}\n", s(&meta["name"]));
    w!(w, 0, "Namespace:\t{}\n", s(&meta["namespace"]));
    if !spec["minAvailable"].is_null() {
        w!(w, 0, "Min available:\t{}\n", v(&spec["minAvailable"]));
    } else if !spec["maxUnavailable"].is_null() {
        w!(w, 0, "Max unavailable:\t{}\n", v(&spec["maxUnavailable"]));
    }
    if spec["selector"].is_null() {
        w.write(0, "Selector:\t<unset>\n");
    } else {
        w!(
            w,
            0,
            "Selector:\t{}\n",
            common::format_label_selector(&spec["selector"])
        );
    }
    w.write(0, "Status:\n");
    w!(
        w,
        2,
        "Allowed disruptions:\t{}\n",
        n(&status["disruptionsAllowed"])
    );
    w!(w, 2, "Current:\t{}\n", n(&status["currentHealthy"]));
    w!(w, 2, "Desired:\t{}\n", n(&status["desiredHealthy"]));
    w!(w, 2, "Total:\t{}\n", n(&status["expectedPods"]));
    common::finish_with_events(w, rel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hpa_metrics_show_unknown_current_values_until_the_status_has_them() {
        let hpa = json!({"metadata": {"name": "web", "namespace": "default"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
                    {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}}]},
            "status": {"currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 20, "averageValue": "100m"}}}]}});
        let out = horizontal_pod_autoscaler(&hpa, &Related::default());
        let metrics: Vec<&str> = out.lines().skip(7).take(2).map(str::trim_end).collect();
        assert_eq!(
            metrics,
            [
                "  resource cpu on pods  (as a percentage of request):  20% (100m) / 50%",
                "  \"qps\" on pods:                                       <unknown> / 1k",
            ]
        );
        assert!(out.contains("<unset>\nMax replicas:"), "{out}");
        assert!(out.ends_with("0 current / 0 desired\n"), "{out}");
    }

    #[test]
    fn pdb_prints_the_budget_it_has_and_status_counts() {
        let pdb = json!({"metadata": {"name": "p", "namespace": "default"},
            "spec": {"maxUnavailable": "25%", "selector": {"matchLabels": {"app": "web"}}},
            "status": {"disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3}});
        assert_eq!(
            pod_disruption_budget(&pdb, &Related::default()),
            "Name:             p\nNamespace:        default\nMax unavailable:  25%\nSelector:         app=web\nStatus:\n    Allowed disruptions:  1\n    Current:              3\n    Desired:              2\n    Total:                3\n"
        );
    }
}
