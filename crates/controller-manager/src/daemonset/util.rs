//! DaemonSet pure parts (`pkg/controller/daemon/util`, §4): node eligibility (nodeSelector,
//! required node affinity, taints against tolerations including the ones the controller
//! adds), the pinning affinity, the node a pod targets, and the rolling-update arithmetic.

use crate::shared::cached_pod::CachedPod;
use crate::shared::scaled;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodSpec,
    Taint, Toleration,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;
use std::collections::BTreeMap;

pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";

fn toleration(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Default::default()
    }
}

/// `AddOrUpdateDaemonPodTolerations`: the tolerations every daemon pod gets.
pub fn add_default_tolerations(spec: &mut PodSpec) {
    let mut add = vec![
        toleration("node.kubernetes.io/not-ready", "NoExecute"),
        toleration("node.kubernetes.io/unreachable", "NoExecute"),
        toleration("node.kubernetes.io/disk-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/memory-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/pid-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if spec.host_network == Some(true) {
        add.push(toleration(
            "node.kubernetes.io/network-unavailable",
            "NoSchedule",
        ));
    }
    let tols = spec.tolerations.get_or_insert_with(Vec::new);
    for t in add {
        // AddOrUpdateTolerationInPodSpec: replace one with the same key/operator/effect.
        if let Some(existing) = tols
            .iter_mut()
            .find(|e| e.key == t.key && e.effect == t.effect && e.operator == t.operator)
        {
            *existing = t;
        } else {
            tols.push(t);
        }
    }
}

/// `ReplaceDaemonSetPodNodeNameNodeAffinity`: pin the pod to `node` through a required
/// `matchFields metadata.name In [node]` term, replacing any required terms.
pub fn pin_to_node(spec: &mut PodSpec, node: &str) {
    let term = NodeSelectorTerm {
        match_fields: Some(vec![NodeSelectorRequirement {
            key: "metadata.name".into(),
            operator: "In".into(),
            values: Some(vec![node.into()]),
        }]),
        match_expressions: None,
    };
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    let na = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    na.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
        node_selector_terms: vec![term],
    });
}

/// `GetTargetNodeName`: `spec.nodeName`, else the pinning affinity's node.
pub fn target_node(pod: &CachedPod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.clone().filter(|n| !n.is_empty()) {
        return Some(n);
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms.iter().find_map(|t| {
        t.match_fields.as_ref()?.iter().find_map(|r| {
            (r.key == "metadata.name" && r.operator == "In")
                .then(|| {
                    r.values
                        .as_ref()
                        .and_then(|v| (v.len() == 1).then(|| v[0].clone()))
                })
                .flatten()
        })
    })
}

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&String>) -> bool {
    let values = r.values.clone().unwrap_or_default();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// A node selector term: all requirements hold; a term with none matches nothing.
fn term_matches(t: &NodeSelectorTerm, node: &Node) -> bool {
    let exprs = t.match_expressions.clone().unwrap_or_default();
    let fields = t.match_fields.clone().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.name_any();
    exprs
        .iter()
        .all(|r| requirement_matches(r, labels.get(&r.key)))
        && fields.iter().all(|r| {
            let v = (r.key == "metadata.name").then_some(&name);
            requirement_matches(r, v)
        })
}

/// The required node affinity and the nodeSelector of `spec` admit `node`.
pub fn node_matches(spec: &PodSpec, node: &Node) -> bool {
    let labels: BTreeMap<String, String> = node.metadata.labels.clone().unwrap_or_default();
    if let Some(sel) = &spec.node_selector {
        if !sel.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            return false;
        }
    }
    if let Some(required) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
    {
        if !required
            .node_selector_terms
            .iter()
            .any(|t| term_matches(t, node))
        {
            return false;
        }
    }
    true
}

/// `Toleration.ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty()) {
        if e != taint.effect {
            return false;
        }
    }
    let key = t.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => {
            !key.is_empty()
                && t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

/// `NodeShouldRunDaemonPod`: (shouldRun, shouldContinueRunning) for the DaemonSet's template
/// on `node`, with the default tolerations added.
pub fn should_run(ds: &DaemonSet, node: &Node) -> (bool, bool) {
    let mut spec = ds
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.clone())
        .unwrap_or_default();
    let node_name = node.name_any();
    if spec
        .node_name
        .as_deref()
        .is_some_and(|n| !n.is_empty() && n != node_name)
    {
        return (false, false);
    }
    add_default_tolerations(&mut spec);
    if !node_matches(&spec, node) {
        return (false, false);
    }
    let tols = spec.tolerations.clone().unwrap_or_default();
    let mut run = true;
    let mut keep = true;
    for taint in node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
    {
        if taint.effect != "NoSchedule" && taint.effect != "NoExecute" {
            continue;
        }
        if tols.iter().any(|t| tolerates(t, &taint)) {
            continue;
        }
        run = false;
        if taint.effect == "NoExecute" {
            keep = false;
        }
    }
    (run, keep)
}

/// `updatedDesiredNodeCounts`: (maxSurge, maxUnavailable) over the desired count, both
/// rounding up; both zero means maxUnavailable 1.
pub fn surge_and_unavailable(ds: &DaemonSet, desired: i32) -> (i32, i32) {
    let ru = ds
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref());
    let mu = ru
        .and_then(|r| r.max_unavailable.clone())
        .unwrap_or(IntOrString::Int(1));
    let ms = ru
        .and_then(|r| r.max_surge.clone())
        .unwrap_or(IntOrString::Int(0));
    let surge = scaled(&ms, desired, true).unwrap_or(0);
    let mut unavailable = scaled(&mu, desired, true).unwrap_or(0);
    if surge == 0 && unavailable == 0 && desired > 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

pub fn is_rolling_update(ds: &DaemonSet) -> bool {
    ds.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        .unwrap_or("RollingUpdate")
        == "RollingUpdate"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ds(template_spec: serde_json::Value) -> DaemonSet {
        let mut spec = json!({"containers": [{"name": "c", "image": "fluentd"}]});
        for (k, v) in template_spec.as_object().unwrap() {
            spec[k] = v.clone();
        }
        serde_json::from_value(json!({
            "metadata": {"name": "fluentd", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "f"}},
                     "template": {"metadata": {"labels": {"app": "f"}}, "spec": spec}}
        }))
        .unwrap()
    }

    fn node(name: &str, labels: serde_json::Value, taints: serde_json::Value) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints}
        }))
        .unwrap()
    }

    #[test]
    fn eligibility_follows_selectors_affinity_taints_and_tolerations() {
        let plain = ds(json!({}));
        let cases = [
            (
                "untainted node",
                plain.clone(),
                node("n", json!({}), json!([])),
                (true, true),
            ),
            (
                "nodeSelector mismatch",
                ds(json!({"nodeSelector": {"disk": "ssd"}})),
                node("n", json!({"disk": "hdd"}), json!([])),
                (false, false),
            ),
            (
                "nodeSelector match",
                ds(json!({"nodeSelector": {"disk": "ssd"}})),
                node("n", json!({"disk": "ssd"}), json!([])),
                (true, true),
            ),
            (
                "required affinity NotIn",
                ds(
                    json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                    {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}]}}}}),
                ),
                node("n", json!({"zone": "a"}), json!([])),
                (false, false),
            ),
            (
                "required affinity on the node name",
                ds(
                    json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                    {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n"]}]}]}}}}),
                ),
                node("n", json!({}), json!([])),
                (true, true),
            ),
            (
                "template nodeName elsewhere",
                ds(json!({"nodeName": "other"})),
                node("n", json!({}), json!([])),
                (false, false),
            ),
            (
                "untolerated NoSchedule keeps running pods",
                plain.clone(),
                node(
                    "n",
                    json!({}),
                    json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
                ),
                (false, true),
            ),
            (
                "untolerated NoExecute evicts",
                plain.clone(),
                node(
                    "n",
                    json!({}),
                    json!([{"key": "dedicated", "effect": "NoExecute"}]),
                ),
                (false, false),
            ),
            (
                "PreferNoSchedule is ignored",
                plain.clone(),
                node(
                    "n",
                    json!({}),
                    json!([{"key": "dedicated", "effect": "PreferNoSchedule"}]),
                ),
                (true, true),
            ),
            (
                "tolerated by the template (Equal)",
                ds(
                    json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}]}),
                ),
                node(
                    "n",
                    json!({}),
                    json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
                ),
                (true, true),
            ),
            (
                "Equal with another value does not tolerate",
                ds(json!({"tolerations": [{"key": "dedicated", "value": "web"}]})),
                node(
                    "n",
                    json!({}),
                    json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
                ),
                (false, true),
            ),
            (
                "default toleration: unschedulable",
                plain.clone(),
                node(
                    "n",
                    json!({}),
                    json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
                ),
                (true, true),
            ),
            (
                "default toleration: not-ready NoExecute",
                plain.clone(),
                node(
                    "n",
                    json!({}),
                    json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]),
                ),
                (true, true),
            ),
            (
                "network-unavailable only for hostNetwork",
                plain.clone(),
                node(
                    "n",
                    json!({}),
                    json!([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]),
                ),
                (false, true),
            ),
            (
                "network-unavailable tolerated with hostNetwork",
                ds(json!({"hostNetwork": true})),
                node(
                    "n",
                    json!({}),
                    json!([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]),
                ),
                (true, true),
            ),
            (
                "Exists with an empty key tolerates everything",
                ds(json!({"tolerations": [{"operator": "Exists"}]})),
                node("n", json!({}), json!([{"key": "x", "effect": "NoExecute"}])),
                (true, true),
            ),
        ];
        for (what, d, n, want) in cases {
            assert_eq!(should_run(&d, &n), want, "{what}");
        }
    }

    #[test]
    fn pods_are_pinned_by_a_match_fields_term_that_replaces_required_terms() {
        let mut spec: PodSpec = serde_json::from_value(json!({
            "containers": [],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                {"nodeSelectorTerms": [{"matchExpressions": [{"key": "a", "operator": "Exists"}]}]}}}
        }))
        .unwrap();
        pin_to_node(&mut spec, "node-1");
        let mut v = json!({"spec": spec});
        assert_eq!(
            v["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"],
            json!({"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-1"]}]}]})
        );
        let pod: CachedPod = serde_json::from_value(json!({"spec": v["spec"].take()})).unwrap();
        assert_eq!(target_node(&pod).as_deref(), Some("node-1"));
    }

    #[test]
    fn surge_and_unavailable_round_up_and_never_both_zero() {
        for (mu, ms, desired, want) in [
            (json!(1), json!(0), 5, (0, 1)),
            (json!("25%"), json!(0), 5, (0, 2)),
            (json!(0), json!("10%"), 5, (1, 0)),
            (json!(0), json!(0), 5, (0, 1)),
            (json!(0), json!(0), 0, (0, 0)),
            (json!("50%"), json!("50%"), 3, (2, 2)),
        ] {
            let mut d = ds(json!({}));
            d.spec.as_mut().unwrap().update_strategy = Some(
                serde_json::from_value(json!({"type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": mu, "maxSurge": ms}}))
                .unwrap(),
            );
            assert_eq!(
                surge_and_unavailable(&d, desired),
                want,
                "{mu} {ms} {desired}"
            );
        }
    }
}
