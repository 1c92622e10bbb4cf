//! Kinds of the smaller groups: coordination.k8s.io leases, discovery.k8s.io endpointslices,
//! storage.k8s.io storageclasses, events.k8s.io/v1 events (a second view of the core
//! events store, converted field by field), and the stored-only kinds no controller here acts
//! on (Ingress, HorizontalPodAutoscaler, PodDisruptionBudget, RBAC roles and bindings), served
//! so clients can create, list and describe them.

use super::util::{default_field, obj_mut};
use super::{decodes_as, Generation, Kind, Strategy, View};
use serde_json::{json, Map, Value};

pub static LEASES: Kind = Kind {
    group: "coordination.k8s.io",
    kind: "Lease",
    plural: "leases",
    singular: "lease",
    decode_check: decodes_as::<k8s_openapi::api::coordination::v1::Lease>,
    table: &crate::printers::other::LEASE,
    ..Kind::DEFAULT
};

pub static ENDPOINTSLICES: Kind = Kind {
    group: "discovery.k8s.io",
    kind: "EndpointSlice",
    plural: "endpointslices",
    singular: "endpointslice",
    generation: Generation::None,
    decode_check: decodes_as::<k8s_openapi::api::discovery::v1::EndpointSlice>,
    table: &crate::printers::other::ENDPOINTSLICE,
    ..Kind::DEFAULT
};

pub static STORAGECLASSES: Kind = Kind {
    group: "storage.k8s.io",
    kind: "StorageClass",
    plural: "storageclasses",
    singular: "storageclass",
    short_names: &["sc"],
    namespaced: false,
    decode_check: decodes_as::<k8s_openapi::api::storage::v1::StorageClass>,
    table: &crate::printers::other::STORAGECLASS,
    ..Kind::DEFAULT
};

pub static EVENTS_V1: Kind = Kind {
    group: "events.k8s.io",
    kind: "Event",
    plural: "events",
    singular: "event",
    short_names: &["ev"],
    decode_check: decodes_as::<k8s_openapi::api::events::v1::Event>,
    storage: Some(&EVENTS_VIEW),
    table: &crate::printers::other::EVENT_V1,
    ..Kind::DEFAULT
};

static EVENTS_VIEW: View = View {
    group: "",
    plural: "events",
    to_storage: event_to_core,
    from_storage: event_from_core,
};

pub static INGRESSES: Kind = Kind {
    group: "networking.k8s.io",
    kind: "Ingress",
    plural: "ingresses",
    singular: "ingress",
    short_names: &["ing"],
    decode_check: decodes_as::<k8s_openapi::api::networking::v1::Ingress>,
    table: &crate::printers::other::INGRESS,
    ..Kind::DEFAULT
};

pub static HORIZONTALPODAUTOSCALERS: Kind = Kind {
    group: "autoscaling",
    version: "v2",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    singular: "horizontalpodautoscaler",
    short_names: &["hpa"],
    categories: &["all"],
    decode_check: decodes_as::<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>,
    strategy: &HorizontalPodAutoscalerStrategy,
    table: &crate::printers::autoscaling::HPA,
    ..Kind::DEFAULT
};

pub static PODDISRUPTIONBUDGETS: Kind = Kind {
    group: "policy",
    kind: "PodDisruptionBudget",
    plural: "poddisruptionbudgets",
    singular: "poddisruptionbudget",
    short_names: &["pdb"],
    decode_check: decodes_as::<k8s_openapi::api::policy::v1::PodDisruptionBudget>,
    table: &crate::printers::other::PDB,
    ..Kind::DEFAULT
};

pub static ROLES: Kind = Kind {
    group: "rbac.authorization.k8s.io",
    kind: "Role",
    plural: "roles",
    singular: "role",
    decode_check: decodes_as::<k8s_openapi::api::rbac::v1::Role>,
    ..Kind::DEFAULT
};

pub static CLUSTERROLES: Kind = Kind {
    group: "rbac.authorization.k8s.io",
    kind: "ClusterRole",
    plural: "clusterroles",
    singular: "clusterrole",
    namespaced: false,
    decode_check: decodes_as::<k8s_openapi::api::rbac::v1::ClusterRole>,
    ..Kind::DEFAULT
};

pub static ROLEBINDINGS: Kind = Kind {
    group: "rbac.authorization.k8s.io",
    kind: "RoleBinding",
    plural: "rolebindings",
    singular: "rolebinding",
    decode_check: decodes_as::<k8s_openapi::api::rbac::v1::RoleBinding>,
    table: &crate::printers::rbac::ROLEBINDING,
    ..Kind::DEFAULT
};

pub static CLUSTERROLEBINDINGS: Kind = Kind {
    group: "rbac.authorization.k8s.io",
    kind: "ClusterRoleBinding",
    plural: "clusterrolebindings",
    singular: "clusterrolebinding",
    namespaced: false,
    decode_check: decodes_as::<k8s_openapi::api::rbac::v1::ClusterRoleBinding>,
    table: &crate::printers::rbac::CLUSTERROLEBINDING,
    ..Kind::DEFAULT
};

pub static KINDS: &[&Kind] = &[
    &LEASES,
    &ENDPOINTSLICES,
    &STORAGECLASSES,
    &EVENTS_V1,
    &INGRESSES,
    &HORIZONTALPODAUTOSCALERS,
    &PODDISRUPTIONBUDGETS,
    &ROLES,
    &CLUSTERROLES,
    &ROLEBINDINGS,
    &CLUSTERROLEBINDINGS,
];

/// autoscaling/v2 defaulting (`pkg/apis/autoscaling/v2/defaults.go`, v1.35).
pub struct HorizontalPodAutoscalerStrategy;
impl Strategy for HorizontalPodAutoscalerStrategy {
    fn default(&self, obj: &mut Value) {
        default_hpa(obj);
    }
}

/// `SetDefaults_HorizontalPodAutoscaler`: `minReplicas` 1; without metrics, the 80% average
/// CPU utilization metric; a set `behavior` gets every unset scaling rule field.
pub fn default_hpa(obj: &mut Value) {
    default_field(obj, "spec", "minReplicas", json!(1));
    let spec = obj_mut(obj, "spec");
    if spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
    }
    if let Some(behavior) = spec.get_mut("behavior").filter(|b| b.is_object()) {
        default_scaling_rules(behavior, "scaleUp", scale_up_rules());
        default_scaling_rules(behavior, "scaleDown", scale_down_rules());
    }
}

/// The scale-up rules of the HPA before `behavior` existed: no stabilization; the larger of
/// +4 pods or +100% every 15 seconds.
fn scale_up_rules() -> Map<String, Value> {
    let rules = json!({"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15}]});
    rules.as_object().cloned().unwrap_or_default()
}

/// Scale-down rules: up to -100% every 15 seconds. The stabilization window stays unset: the
/// controller-manager's `--horizontal-pod-autoscaler-downscale-stabilization` applies then.
fn scale_down_rules() -> Map<String, Value> {
    let rules = json!({"selectPolicy": "Max", "policies": [
        {"type": "Percent", "value": 100, "periodSeconds": 15}]});
    rules.as_object().cloned().unwrap_or_default()
}

/// `copyHPAScalingRules` onto the defaults: the fields set in `behavior[direction]` win.
fn default_scaling_rules(behavior: &mut Value, direction: &str, mut defaults: Map<String, Value>) {
    if let Some(Value::Object(set)) = behavior.get(direction) {
        for (k, v) in set.iter().filter(|(_, v)| !v.is_null()) {
            defaults.insert(k.clone(), v.clone());
        }
    }
    obj_mut(behavior, "").insert(direction.into(), Value::Object(defaults));
}

/// Field pairs (events.k8s.io/v1 name, core/v1 name) that carry the same value.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("related", "related"),
    ("note", "message"),
    ("reason", "reason"),
    ("type", "type"),
    ("action", "action"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("reportingController", "reportingComponent"),
    ("reportingInstance", "reportingInstance"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
    ("deprecatedSource", "source"),
    ("metadata", "metadata"),
];

fn rename(v: Value, to_core: bool, api_version: &str) -> Value {
    let mut src = match v {
        Value::Object(m) => m,
        other => return other,
    };
    let mut out = Map::new();
    for (v1, core) in EVENT_FIELDS {
        let (from, to) = if to_core { (v1, core) } else { (core, v1) };
        if let Some(x) = src.remove(*from) {
            out.insert((*to).to_string(), x);
        }
    }
    out.insert("apiVersion".into(), Value::String(api_version.into()));
    out.insert("kind".into(), Value::String("Event".into()));
    let mut out = Value::Object(out);
    if to_core {
        // core/v1 clients read `source.component` and the first/last timestamps.
        let controller = out.get("reportingComponent").cloned();
        if let Some(c) = controller {
            obj_mut(&mut out, "source").entry("component").or_insert(c);
        }
        let series_last = out.pointer("/series/lastObservedTime").cloned();
        let first = out.get("eventTime").cloned();
        if let Some(t) = first {
            if let Some(m) = out.as_object_mut() {
                m.entry("firstTimestamp").or_insert(t.clone());
                m.entry("lastTimestamp").or_insert(series_last.unwrap_or(t));
            }
        }
    }
    out
}

fn event_to_core(v: Value) -> Value {
    rename(v, true, "v1")
}

fn event_from_core(v: Value) -> Value {
    rename(v, false, "events.k8s.io/v1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_v1_round_trips_through_the_core_store() {
        let v1 = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
            "regarding": {"kind": "Pod", "name": "p"}, "note": "hello", "reason": "Started",
            "type": "Normal", "reportingController": "kubelet", "eventTime": "2026-01-01T00:00:00.000000Z"});
        let core = event_to_core(v1.clone());
        assert_eq!(core["involvedObject"]["name"], "p");
        assert_eq!(core["message"], "hello");
        assert_eq!(core["source"]["component"], "kubelet");
        assert_eq!(core["apiVersion"], "v1");
        let back = event_from_core(core);
        assert_eq!(back["note"], "hello");
        assert_eq!(back["regarding"], v1["regarding"]);
        assert_eq!(back["apiVersion"], "events.k8s.io/v1");
    }

    #[test]
    fn hpa_defaulting_fills_min_replicas_the_cpu_metric_and_behavior_rules_as_v1_35() {
        let cpu80 = json!([{"type": "Resource", "resource": {"name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 80}}}]);
        let up = json!({"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15}]});
        let down = json!({"selectPolicy": "Max", "policies": [
            {"type": "Percent", "value": 100, "periodSeconds": 15}]});
        let mem = json!([{"type": "Resource", "resource": {"name": "memory",
                          "target": {"type": "AverageValue", "averageValue": "1Gi"}}}]);
        let cases = [
            (
                "minimal: min replicas and the cpu metric, no behavior",
                json!({"maxReplicas": 5}),
                json!({"maxReplicas": 5, "minReplicas": 1, "metrics": cpu80}),
            ),
            (
                "set fields are kept; empty metrics get the default",
                json!({"maxReplicas": 5, "minReplicas": 3, "metrics": []}),
                json!({"maxReplicas": 5, "minReplicas": 3, "metrics": cpu80}),
            ),
            (
                "metrics given are kept",
                json!({"maxReplicas": 5, "metrics": mem}),
                json!({"maxReplicas": 5, "minReplicas": 1, "metrics": mem}),
            ),
            (
                "an empty behavior gets both directions",
                json!({"maxReplicas": 5, "behavior": {}}),
                json!({"maxReplicas": 5, "minReplicas": 1, "metrics": cpu80,
                       "behavior": {"scaleUp": up, "scaleDown": down}}),
            ),
            (
                "a null behavior stays unset",
                json!({"maxReplicas": 5, "behavior": null}),
                json!({"maxReplicas": 5, "minReplicas": 1, "metrics": cpu80, "behavior": null}),
            ),
            (
                "set rule fields win, the rest are defaulted",
                json!({"maxReplicas": 5, "behavior": {
                    "scaleDown": {"stabilizationWindowSeconds": 300, "tolerance": "0.05"},
                    "scaleUp": {"selectPolicy": "Disabled", "policies": []}}}),
                json!({"maxReplicas": 5, "minReplicas": 1, "metrics": cpu80, "behavior": {
                    "scaleDown": {"stabilizationWindowSeconds": 300, "tolerance": "0.05", "selectPolicy": "Max",
                                  "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]},
                    "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Disabled", "policies": []}}}),
            ),
        ];
        for (case, spec, want) in cases {
            let mut hpa = json!({"spec": spec});
            HorizontalPodAutoscalerStrategy.default(&mut hpa);
            assert_eq!(hpa["spec"], want, "{case}");
            let again = hpa.clone();
            HorizontalPodAutoscalerStrategy.default(&mut hpa);
            assert_eq!(hpa, again, "{case}: defaulting twice changes nothing");
        }
    }
}
