//! Printer of autoscaling/v2 HorizontalPodAutoscaler (`printHorizontalPodAutoscaler`), with
//! the TARGETS cell of `formatHPAMetrics`: each metric's current value (from the status metric
//! at the same index) over its target, at most two, then ` + N more...`.

use super::At;
use super::{cell, int_at, list_at, str_at, TableSpec};
use crate::printers::quantity::canonical;
use crate::table::{Column, AGE, NAME};
use serde_json::{json, Value};
use std::time::SystemTime;

pub const HPA_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Reference",
        "string",
        "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.",
    ),
    Column::new(
        "Targets",
        "string",
        "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond. If not set, the default metric will be set to 80% average CPU utilization.",
    ),
    Column::new(
        "MinPods",
        "string",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.",
    ),
    Column::new(
        "MaxPods",
        "string",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.",
    ),
    Column::new(
        "Replicas",
        "string",
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
    ),
    AGE,
];

/// `Quantity.String()` of an optional quantity: `<nil>` when unset, as Go prints a nil pointer.
fn quantity(q: Option<&Value>) -> String {
    match q {
        Some(Value::String(s)) => canonical(s),
        Some(Value::Number(n)) => canonical(&n.to_string()),
        _ => "<nil>".into(),
    }
}

/// `N%` of an optional utilization.
fn percent(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_i64).map(|p| format!("{p}%"))
}

/// One metric's `current/target`, read from the field its `type` names (`resource`, `pods`,
/// ...). `status` is the status metric at the same index, if any; its current value counts
/// only when it has that same field set. Unset quantities print as `<nil>`, as upstream's
/// `(*Quantity)(nil).String()` does.
fn format_metric(spec: &Value, status: Option<&Value>) -> String {
    const UNKNOWN: &str = "<unknown>";
    let source = match str_at(spec, "/type") {
        "External" => "external",
        "Pods" => "pods",
        "Object" => "object",
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        _ => return "<unknown type>".into(),
    };
    let spec = spec.get(source).unwrap_or(&Value::Null);
    let current = status
        .and_then(|s| s.get(source))
        .filter(|c| !c.is_null())
        .map(|c| c.get("current").unwrap_or(&Value::Null));
    let target = spec.get("target").unwrap_or(&Value::Null);
    let average_value = target.get("averageValue").filter(|v| !v.is_null());
    match source {
        "pods" => format!(
            "{}/{}",
            current.map_or(UNKNOWN.into(), |c| quantity(c.get("averageValue"))),
            quantity(average_value)
        ),
        "external" | "object" => match average_value {
            Some(avg) => format!(
                "{}/{} (avg)",
                current
                    .and_then(|c| c.get("averageValue").filter(|v| !v.is_null()))
                    .map_or(UNKNOWN.into(), |v| quantity(Some(v))),
                quantity(Some(avg))
            ),
            None => format!(
                "{}/{}",
                current.map_or(UNKNOWN.into(), |c| quantity(c.get("value"))),
                quantity(target.get("value"))
            ),
        },
        // resource, containerResource: named, by average value or by utilization.
        _ => {
            let name = str_at(spec, "/name");
            match average_value {
                Some(avg) => format!(
                    "{name}: {}/{}",
                    current.map_or(UNKNOWN.into(), |c| quantity(c.get("averageValue"))),
                    quantity(Some(avg))
                ),
                None => format!(
                    "{name}: {}/{}",
                    current
                        .and_then(|c| percent(c.get("averageUtilization")))
                        .unwrap_or_else(|| UNKNOWN.into()),
                    percent(target.get("averageUtilization")).unwrap_or_else(|| "<auto>".into())
                ),
            }
        }
    }
}

/// `formatHPAMetrics`: `<none>` without metrics; the first two, then ` + N more...`.
pub fn format_hpa_metrics(specs: &[Value], statuses: &[Value]) -> String {
    const MAX: usize = 2;
    if specs.is_empty() {
        return "<none>".into();
    }
    let shown: Vec<String> = specs
        .iter()
        .take(MAX)
        .enumerate()
        .map(|(i, spec)| format_metric(spec, statuses.get(i)))
        .collect();
    let joined = shown.join(", ");
    if specs.len() > MAX {
        format!("{joined} + {} more...", specs.len() - MAX)
    } else {
        joined
    }
}

/// REFERENCE is `Kind/name`; MINPODS `<unset>` without `minReplicas` (defaulting sets it).
pub fn hpa_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let reference = format!(
        "{}/{}",
        str_at(obj, "/spec/scaleTargetRef/kind"),
        str_at(obj, "/spec/scaleTargetRef/name")
    );
    let min_pods = match obj.at("/spec/minReplicas").and_then(Value::as_i64) {
        Some(n) => n.to_string(),
        None => "<unset>".into(),
    };
    vec![
        super::name(obj),
        cell(reference),
        cell(format_hpa_metrics(
            list_at(obj, "/spec/metrics"),
            list_at(obj, "/status/currentMetrics"),
        )),
        cell(min_pods),
        json!(int_at(obj, "/spec/maxReplicas")),
        json!(int_at(obj, "/status/currentReplicas")),
        super::age(obj, now),
    ]
}

pub static HPA: TableSpec = TableSpec::new(HPA_COLUMNS, hpa_row);

#[cfg(test)]
mod tests {
    use super::super::test_support::{meta, now};
    use super::*;

    fn cpu(utilization: i64) -> Value {
        json!({"type": "Resource", "resource": {"name": "cpu",
               "target": {"type": "Utilization", "averageUtilization": utilization}}})
    }

    #[test]
    fn hpa_targets_show_each_metric_current_over_target_as_upstream_formats_it() {
        let cases = [
            ("no metrics", json!([]), json!([]), "<none>"),
            (
                "utilization without status",
                json!([cpu(80)]),
                json!([]),
                "cpu: <unknown>/80%",
            ),
            (
                "utilization with status",
                json!([cpu(80)]),
                json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 35, "averageValue": "120m"}}}]),
                "cpu: 35%/80%",
            ),
            (
                "resource status without utilization",
                json!([cpu(80)]),
                json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageValue": "120m"}}}]),
                "cpu: <unknown>/80%",
            ),
            (
                "utilization target missing",
                json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}]),
                json!([]),
                "cpu: <unknown>/<auto>",
            ),
            (
                "resource average value in canonical form",
                json!([{"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1024Mi"}}}]),
                json!([{"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "512Mi"}}}]),
                "memory: 512Mi/1Gi",
            ),
            (
                "container resource",
                json!([{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app", "target": {"type": "Utilization", "averageUtilization": 60}}}]),
                json!([{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app", "current": {"averageUtilization": 70}}}]),
                "cpu: 70%/60%",
            ),
            (
                "pods",
                json!([{"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}}]),
                json!([{"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "500"}}}]),
                "500/1k",
            ),
            (
                "object by value",
                json!([{"type": "Object", "object": {"metric": {"name": "rps"}, "target": {"type": "Value", "value": "10"}}}]),
                json!([]),
                "<unknown>/10",
            ),
            (
                "object by average value",
                json!([{"type": "Object", "object": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "0.5"}}}]),
                json!([{"type": "Object", "object": {"metric": {"name": "rps"}, "current": {"value": "3"}}}]),
                "<unknown>/500m (avg)",
            ),
            (
                "external by value with status",
                json!([{"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "30"}}}]),
                json!([{"type": "External", "external": {"metric": {"name": "queue"}, "current": {"value": "12"}}}]),
                "12/30",
            ),
            (
                "status of another source at the same index",
                json!([{"type": "Pods", "pods": {"target": {"averageValue": "1"}}}]),
                json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 5}}}]),
                "<unknown>/1",
            ),
            (
                "unknown type",
                json!([{"type": "Magic"}]),
                json!([]),
                "<unknown type>",
            ),
            (
                "more than two",
                json!([cpu(80), cpu(70), cpu(60), cpu(50)]),
                json!([]),
                "cpu: <unknown>/80%, cpu: <unknown>/70% + 2 more...",
            ),
        ];
        for (case, specs, statuses, want) in cases {
            let (specs, statuses) = (specs.as_array().unwrap(), statuses.as_array().unwrap());
            assert_eq!(format_hpa_metrics(specs, statuses), want, "{case}");
        }
    }

    #[test]
    fn hpa_row_shows_reference_targets_bounds_and_current_replicas() {
        assert_eq!(
            HPA_COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>(),
            [
                "Name",
                "Reference",
                "Targets",
                "MinPods",
                "MaxPods",
                "Replicas",
                "Age"
            ]
        );
        let cases = [
            (
                "defaulted, never scaled",
                json!({"metadata": meta("web", 90), "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                       "minReplicas": 1, "maxReplicas": 10, "metrics": [cpu(80)]}}),
                json!([
                    "web",
                    "Deployment/web",
                    "cpu: <unknown>/80%",
                    "1",
                    10,
                    0,
                    "90s"
                ]),
            ),
            (
                "scaled",
                json!({"metadata": meta("api", 600), "spec": {"scaleTargetRef": {"kind": "StatefulSet", "name": "db"},
                       "minReplicas": 2, "maxReplicas": 5, "metrics": [cpu(50)]},
                       "status": {"currentReplicas": 3, "desiredReplicas": 3,
                                  "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 42}}}]}}),
                json!(["api", "StatefulSet/db", "cpu: 42%/50%", "2", 5, 3, "10m"]),
            ),
            (
                "without minReplicas",
                json!({"metadata": meta("x", 5), "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"}, "maxReplicas": 3}}),
                json!(["x", "Deployment/x", "<none>", "<unset>", 3, 0, "5s"]),
            ),
        ];
        for (case, obj, want) in cases {
            assert_eq!(Value::Array(hpa_row(&obj, now())), want, "{case}");
        }
    }
}
