//! The scheduler's filters, in the default profile's order (NodeUnschedulable, NodeName,
//! TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit): each says why a node cannot
//! take a pod, in upstream's words, and whether preemption could ever help.

use super::resources::{self, Resources};
use k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration,
};
use std::collections::{BTreeMap, HashSet};

/// A node as the scheduler sees it: what it offers and what its pods already take.
#[derive(Clone, Debug, Default)]
pub struct NodeView {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub allocatable: Resources,
    pub requested: Resources,
    pub pods: i64,
    /// CPU and memory requested with the non-zero defaults (for scoring).
    pub non_zero: (i128, i128),
    pub host_ports: HashSet<(String, i32)>,
}

impl NodeView {
    pub fn from_node(n: &Node) -> NodeView {
        let spec = n.spec.clone().unwrap_or_default();
        NodeView {
            name: n.metadata.name.clone().unwrap_or_default(),
            labels: n.metadata.labels.clone().unwrap_or_default(),
            taints: spec.taints.unwrap_or_default(),
            unschedulable: spec.unschedulable.unwrap_or(false),
            allocatable: resources::parse_list(
                n.status.as_ref().and_then(|s| s.allocatable.as_ref()),
            ),
            ..NodeView::default()
        }
    }

    /// Pods the node takes (`allocatable.pods`).
    pub fn max_pods(&self) -> i64 {
        (self.allocatable.get("pods").copied().unwrap_or(0) / 1000) as i64
    }
}

/// What the scheduler needs of a pod.
#[derive(Clone, Debug, Default)]
pub struct PodView {
    pub node_name: Option<String>,
    pub node_selector: BTreeMap<String, String>,
    pub required_terms: Option<Vec<NodeSelectorTerm>>,
    pub tolerations: Vec<Toleration>,
    pub requests: Resources,
    pub non_zero: (i128, i128),
    pub host_ports: Vec<(String, i32)>,
    pub preemption_never: bool,
}

impl PodView {
    pub fn from_pod(p: &Pod) -> PodView {
        let spec = p.spec.clone().unwrap_or_default();
        PodView {
            node_name: spec.node_name.clone().filter(|n| !n.is_empty()),
            node_selector: spec.node_selector.clone().unwrap_or_default(),
            required_terms: spec
                .affinity
                .as_ref()
                .and_then(|a| a.node_affinity.as_ref())
                .and_then(|na| {
                    na.required_during_scheduling_ignored_during_execution
                        .as_ref()
                })
                .map(|r| r.node_selector_terms.clone()),
            tolerations: spec.tolerations.clone().unwrap_or_default(),
            requests: resources::pod_requests(p),
            non_zero: resources::non_zero(p),
            host_ports: spec
                .containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .filter_map(|port| {
                    port.host_port
                        .filter(|h| *h > 0)
                        .map(|h| (port.protocol.clone().unwrap_or_else(|| "TCP".into()), h))
                })
                .collect(),
            preemption_never: spec.preemption_policy.as_deref() == Some("Never"),
        }
    }
}

/// Why a node was filtered out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Preemption cannot help (taints, affinity, node name, a request larger than the node).
    Unresolvable(Vec<String>),
    /// The node is full; preemption might help.
    Unschedulable(Vec<String>),
}

impl Failure {
    pub fn reasons(&self) -> &[String] {
        match self {
            Failure::Unresolvable(r) | Failure::Unschedulable(r) => r,
        }
    }
}

/// `ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty()) {
        if e != taint.effect {
            return false;
        }
    }
    let key = t.key.as_deref().unwrap_or("");
    let op = t.operator.as_deref().unwrap_or("Equal");
    if key.is_empty() {
        return op == "Exists";
    }
    if key != taint.key {
        return false;
    }
    match op {
        "Exists" => true,
        _ => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
    }
}

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.clone().unwrap_or_default();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
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

/// A node selector term: every label expression and every field expression (`metadata.name`)
/// matches; a term with neither matches nothing.
pub fn term_matches(term: &NodeSelectorTerm, node: &NodeView) -> bool {
    let exprs = term.match_expressions.clone().unwrap_or_default();
    let fields = term.match_fields.clone().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs
        .iter()
        .all(|r| requirement_matches(r, node.labels.get(&r.key).map(String::as_str)))
        && fields.iter().all(|r| {
            let v = (r.key == "metadata.name").then_some(node.name.as_str());
            requirement_matches(r, v)
        })
}

fn unresolvable(msg: &str) -> Result<(), Failure> {
    Err(Failure::Unresolvable(vec![msg.into()]))
}

/// Run the filters; `Ok` if the node can take the pod.
pub fn filter(pod: &PodView, node: &NodeView) -> Result<(), Failure> {
    // NodeUnschedulable.
    if node.unschedulable {
        let taint = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            effect: "NoSchedule".into(),
            ..Taint::default()
        };
        if !pod.tolerations.iter().any(|t| tolerates(t, &taint)) {
            return unresolvable("node(s) were unschedulable");
        }
    }
    // NodeName.
    if pod.node_name.as_ref().is_some_and(|n| *n != node.name) {
        return unresolvable("node(s) didn't match the requested node name");
    }
    // TaintToleration.
    let untolerated = node
        .taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .any(|taint| !pod.tolerations.iter().any(|t| tolerates(t, taint)));
    if untolerated {
        return unresolvable("node(s) had untolerated taint(s)");
    }
    // NodeAffinity.
    let selector_ok = pod
        .node_selector
        .iter()
        .all(|(k, v)| node.labels.get(k) == Some(v));
    let affinity_ok = pod
        .required_terms
        .as_ref()
        .is_none_or(|terms| terms.iter().any(|t| term_matches(t, node)));
    if !selector_ok || !affinity_ok {
        return unresolvable("node(s) didn't match Pod's node affinity/selector");
    }
    // NodePorts.
    if pod.host_ports.iter().any(|p| node.host_ports.contains(p)) {
        return Err(Failure::Unschedulable(vec![
            "node(s) didn't have free ports for the requested pod ports".into(),
        ]));
    }
    // NodeResourcesFit.
    let mut reasons = Vec::new();
    let mut hopeless = false;
    if node.pods + 1 > node.max_pods() {
        reasons.push("Too many pods".to_string());
    }
    for (name, want) in &pod.requests {
        if name == "pods" {
            continue;
        }
        let have = node.allocatable.get(name).copied().unwrap_or(0);
        let used = node.requested.get(name).copied().unwrap_or(0);
        if used + want > have {
            reasons.push(format!("Insufficient {name}"));
            hopeless |= *want > have;
        }
    }
    match (reasons.is_empty(), hopeless) {
        (true, _) => Ok(()),
        (false, true) => Err(Failure::Unresolvable(reasons)),
        (false, false) => Err(Failure::Unschedulable(reasons)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(v: serde_json::Value) -> NodeView {
        let mut n = NodeView::from_node(&serde_json::from_value(v).unwrap());
        if n.allocatable.is_empty() {
            n.allocatable = [
                ("cpu".to_string(), 2000),
                ("memory".to_string(), 4 << 40),
                ("pods".to_string(), 110_000),
            ]
            .into();
        }
        n
    }

    fn pod(spec: serde_json::Value) -> PodView {
        let mut spec = spec;
        spec.as_object_mut()
            .unwrap()
            .entry("containers")
            .or_insert(json!([{"name": "c"}]));
        PodView::from_pod(&serde_json::from_value(json!({"spec": spec})).unwrap())
    }

    fn outcome(p: &PodView, n: &NodeView) -> String {
        match filter(p, n) {
            Ok(()) => "ok".into(),
            Err(Failure::Unresolvable(r)) => format!("unresolvable: {}", r.join(", ")),
            Err(Failure::Unschedulable(r)) => format!("unschedulable: {}", r.join(", ")),
        }
    }

    #[test]
    fn filters_say_why_in_upstream_words() {
        let cp = node(
            json!({"metadata": {"name": "cp", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}}),
        );
        let w = node(
            json!({"metadata": {"name": "w", "labels": {"disk": "ssd", "kubernetes.io/hostname": "w"}}}),
        );
        let cordoned = node(json!({"metadata": {"name": "c"}, "spec": {"unschedulable": true}}));
        let cases: Vec<(&str, serde_json::Value, &NodeView, &str)> = vec![
            ("plain pod on a worker", json!({}), &w, "ok"),
            (
                "plain pod on the control plane",
                json!({}),
                &cp,
                "unresolvable: node(s) had untolerated taint(s)",
            ),
            (
                "tolerating pod on the control plane",
                json!({"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]}),
                &cp,
                "ok",
            ),
            (
                "tolerate everything",
                json!({"tolerations": [{"operator": "Exists"}]}),
                &cp,
                "ok",
            ),
            (
                "nodeSelector match",
                json!({"nodeSelector": {"disk": "ssd"}}),
                &w,
                "ok",
            ),
            (
                "nodeSelector mismatch",
                json!({"nodeSelector": {"disk": "hdd"}}),
                &w,
                "unresolvable: node(s) didn't match Pod's node affinity/selector",
            ),
            (
                "matchFields on the name (DaemonSet)",
                json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w"]}]}]}}}}),
                &w,
                "ok",
            ),
            (
                "matchFields on another name",
                json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["x"]}]}]}}}}),
                &w,
                "unresolvable: node(s) didn't match Pod's node affinity/selector",
            ),
            (
                "NotIn expression",
                json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["ssd"]}]}]}}}}),
                &w,
                "unresolvable: node(s) didn't match Pod's node affinity/selector",
            ),
            (
                "cordoned node",
                json!({}),
                &cordoned,
                "unresolvable: node(s) were unschedulable",
            ),
            (
                "nodeName elsewhere",
                json!({"nodeName": "other"}),
                &w,
                "unresolvable: node(s) didn't match the requested node name",
            ),
            (
                "too much cpu for any node",
                json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "64"}}}]}),
                &w,
                "unresolvable: Insufficient cpu",
            ),
            (
                "cpu and memory",
                json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "3", "memory": "8Ei"}}}]}),
                &w,
                "unresolvable: Insufficient cpu, Insufficient memory",
            ),
            (
                "an extended resource the node lacks",
                json!({"containers": [{"name": "c", "resources": {"requests": {"example.com/gpu": "1"}}}]}),
                &w,
                "unresolvable: Insufficient example.com/gpu",
            ),
        ];
        for (what, spec, n, want) in cases {
            assert_eq!(outcome(&pod(spec), n), want, "{what}");
        }
    }

    #[test]
    fn a_full_node_is_unschedulable_but_not_hopeless() {
        let mut w = node(json!({"metadata": {"name": "w"}}));
        w.requested.insert("cpu".into(), 1900);
        let p =
            pod(json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "200m"}}}]}));
        assert_eq!(outcome(&p, &w), "unschedulable: Insufficient cpu");
        w.requested.clear();
        w.pods = 110;
        assert_eq!(outcome(&pod(json!({})), &w), "unschedulable: Too many pods");
    }

    #[test]
    fn taint_toleration_matching() {
        let taint = Taint {
            key: "k".into(),
            value: Some("v".into()),
            effect: "NoSchedule".into(),
            ..Taint::default()
        };
        let tol = |v: serde_json::Value| serde_json::from_value::<Toleration>(v).unwrap();
        let cases = [
            (json!({"key": "k", "value": "v"}), true),
            (json!({"key": "k", "value": "w"}), false),
            (json!({"key": "k", "operator": "Exists"}), true),
            (
                json!({"key": "k", "operator": "Exists", "effect": "NoExecute"}),
                false,
            ),
            (json!({"operator": "Exists"}), true),
            (json!({"key": "other", "operator": "Exists"}), false),
        ];
        for (t, want) in cases {
            assert_eq!(tolerates(&tol(t.clone()), &taint), want, "{t}");
        }
    }
}
