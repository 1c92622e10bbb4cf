//! Core (v1) kinds: namespaces, pods, services, endpoints, configmaps, secrets,
//! serviceaccounts, nodes, persistentvolumes, persistentvolumeclaims and events.

use super::util::{default_field, get, get_str};
use super::{decodes_as, Generation, Kind, Strategy, Subresource};
use crate::error::FieldError;
use k8s_openapi::api::core::v1 as corev1;
use serde_json::{json, Value};

pub static NAMESPACES: Kind = Kind {
    kind: "Namespace",
    plural: "namespaces",
    singular: "namespace",
    short_names: &["ns"],
    namespaced: false,
    subresources: &[Subresource::Status, Subresource::Finalize],
    selectable_fields: &["status.phase"],
    decode_check: decodes_as::<corev1::Namespace>,
    strategy: &NamespaceStrategy,
    table: &crate::printers::core::NAMESPACE,
    ..Kind::DEFAULT
};

pub static PODS: Kind = Kind {
    kind: "Pod",
    plural: "pods",
    singular: "pod",
    short_names: &["po"],
    categories: &["all"],
    subresources: &[
        Subresource::Status,
        Subresource::Attach,
        Subresource::Binding,
        Subresource::Exec,
        Subresource::Log,
        Subresource::PortForward,
    ],
    selectable_fields: &[
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ],
    generation: Generation::Spec,
    returns_deleted_object: true,
    decode_check: decodes_as::<corev1::Pod>,
    strategy: &PodStrategy,
    table: &crate::printers::pod::TABLE,
    ..Kind::DEFAULT
};

pub static SERVICES: Kind = Kind {
    kind: "Service",
    plural: "services",
    singular: "service",
    short_names: &["svc"],
    categories: &["all"],
    subresources: &[Subresource::Status],
    selectable_fields: &["spec.clusterIP", "spec.type"],
    returns_deleted_object: true,
    decode_check: decodes_as::<corev1::Service>,
    strategy: &ServiceStrategy,
    table: &crate::printers::core::SERVICE,
    ..Kind::DEFAULT
};

pub static ENDPOINTS: Kind = Kind {
    kind: "Endpoints",
    plural: "endpoints",
    singular: "endpoints",
    short_names: &["ep"],
    decode_check: decodes_as::<corev1::Endpoints>,
    table: &crate::printers::core::ENDPOINTS,
    ..Kind::DEFAULT
};

pub static CONFIGMAPS: Kind = Kind {
    kind: "ConfigMap",
    plural: "configmaps",
    singular: "configmap",
    short_names: &["cm"],
    decode_check: decodes_as::<corev1::ConfigMap>,
    table: &crate::printers::core::CONFIGMAP,
    ..Kind::DEFAULT
};

pub static SECRETS: Kind = Kind {
    kind: "Secret",
    plural: "secrets",
    singular: "secret",
    selectable_fields: &["type"],
    decode_check: decodes_as::<corev1::Secret>,
    strategy: &SecretStrategy,
    table: &crate::printers::core::SECRET,
    ..Kind::DEFAULT
};

pub static SERVICEACCOUNTS: Kind = Kind {
    kind: "ServiceAccount",
    plural: "serviceaccounts",
    singular: "serviceaccount",
    short_names: &["sa"],
    decode_check: decodes_as::<corev1::ServiceAccount>,
    table: &crate::printers::core::SERVICEACCOUNT,
    ..Kind::DEFAULT
};

pub static NODES: Kind = Kind {
    kind: "Node",
    plural: "nodes",
    singular: "node",
    short_names: &["no"],
    namespaced: false,
    subresources: &[Subresource::Status],
    selectable_fields: &["spec.unschedulable"],
    decode_check: decodes_as::<corev1::Node>,
    strategy: &NodeStrategy,
    table: &crate::printers::core::NODE,
    ..Kind::DEFAULT
};

pub static PERSISTENTVOLUMES: Kind = Kind {
    kind: "PersistentVolume",
    plural: "persistentvolumes",
    singular: "persistentvolume",
    short_names: &["pv"],
    namespaced: false,
    subresources: &[Subresource::Status],
    decode_check: decodes_as::<corev1::PersistentVolume>,
    strategy: &PvStrategy,
    table: &crate::printers::core::PERSISTENTVOLUME,
    ..Kind::DEFAULT
};

pub static PERSISTENTVOLUMECLAIMS: Kind = Kind {
    kind: "PersistentVolumeClaim",
    plural: "persistentvolumeclaims",
    singular: "persistentvolumeclaim",
    short_names: &["pvc"],
    subresources: &[Subresource::Status],
    decode_check: decodes_as::<corev1::PersistentVolumeClaim>,
    strategy: &PvcStrategy,
    table: &crate::printers::core::PERSISTENTVOLUMECLAIM,
    ..Kind::DEFAULT
};

pub static EVENTS: Kind = Kind {
    kind: "Event",
    plural: "events",
    singular: "event",
    short_names: &["ev"],
    selectable_fields: &[
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ],
    decode_check: decodes_as::<corev1::Event>,
    table: &crate::printers::core::EVENT,
    ..Kind::DEFAULT
};

pub static KINDS: &[&Kind] = &[
    &NAMESPACES,
    &PODS,
    &SERVICES,
    &ENDPOINTS,
    &CONFIGMAPS,
    &SECRETS,
    &SERVICEACCOUNTS,
    &NODES,
    &PERSISTENTVOLUMES,
    &PERSISTENTVOLUMECLAIMS,
    &EVENTS,
];

pub struct NamespaceStrategy;
impl Strategy for NamespaceStrategy {
    fn default(&self, obj: &mut Value) {
        let name = get_str(obj, "metadata.name")
            .unwrap_or_default()
            .to_string();
        if !name.is_empty() {
            default_field(
                obj,
                "metadata.labels",
                "kubernetes.io/metadata.name",
                json!(name),
            );
        }
        default_field(obj, "spec", "finalizers", json!(["kubernetes"]));
    }
    fn initial_status(&self, _obj: &Value) -> Option<Value> {
        Some(json!({"phase": "Active"}))
    }
    fn on_delete(&self, obj: &mut Value) {
        super::util::obj_mut(obj, "status").insert("phase".into(), json!("Terminating"));
    }
    fn delete_forbidden(&self, obj: &Value) -> Option<&'static str> {
        // NamespaceLifecycle admission: the namespaces the cluster itself relies on.
        const IMMORTAL: [&str; 3] = ["default", "kube-system", "kube-public"];
        let name = obj.pointer("/metadata/name").and_then(Value::as_str)?;
        IMMORTAL
            .contains(&name)
            .then_some("this namespace may not be deleted")
    }
    fn deletion_blocked(&self, obj: &Value) -> bool {
        obj.pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty())
    }
    fn name_is_label(&self) -> bool {
        true
    }
}

pub struct PodStrategy;
impl Strategy for PodStrategy {
    fn default(&self, obj: &mut Value) {
        super::defaults::pod(obj);
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        super::util::validate_pod_template_containers(obj, "spec.", &mut errs);
        errs
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        // Only images (and a few scheduling fields) of a pod may change (`ValidatePodUpdate`).
        let strip = |v: &Value| {
            let mut s = get(v, "spec").cloned().unwrap_or(Value::Null);
            for list in ["containers", "initContainers"] {
                if let Some(cs) = s.get_mut(list).and_then(Value::as_array_mut) {
                    for c in cs {
                        if let Some(m) = c.as_object_mut() {
                            m.remove("image");
                        }
                    }
                }
            }
            if let Some(m) = s.as_object_mut() {
                for k in [
                    "activeDeadlineSeconds",
                    "tolerations",
                    "terminationGracePeriodSeconds",
                    "schedulingGates",
                ] {
                    m.remove(k);
                }
            }
            s
        };
        if strip(new) != strip(old) {
            return vec![FieldError::forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
            )];
        }
        Vec::new()
    }
    fn initial_status(&self, obj: &Value) -> Option<Value> {
        Some(json!({"phase": "Pending", "qosClass": qos_class(obj)}))
    }
    fn grace_period(&self, obj: &Value, requested: Option<i64>) -> Option<i64> {
        // `CheckGracefulDelete`: unscheduled or terminal pods go at once.
        let phase = get_str(obj, "status.phase").unwrap_or("");
        if get_str(obj, "spec.nodeName").unwrap_or("").is_empty()
            || phase == "Succeeded"
            || phase == "Failed"
        {
            return Some(0);
        }
        let grace = requested
            .or_else(|| get(obj, "spec.terminationGracePeriodSeconds").and_then(Value::as_i64))
            .unwrap_or(30);
        Some(if grace < 0 { 1 } else { grace })
    }
}

/// The pod's QoS class from its containers' requests and limits (`GetPodQOS`, simplified to
/// cpu and memory): Guaranteed when every container has equal requests and limits for both,
/// BestEffort when none has any, else Burstable.
pub fn qos_class(pod: &Value) -> &'static str {
    let containers = get(pod, "spec.containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in &containers {
        let req = c.pointer("/resources/requests");
        let lim = c.pointer("/resources/limits");
        for res in ["cpu", "memory"] {
            let r = req.and_then(|m| m.get(res));
            let l = lim.and_then(|m| m.get(res));
            if r.is_some() || l.is_some() {
                any = true;
            }
            match (r, l) {
                (_, None) => guaranteed = false,
                (Some(r), Some(l)) if r != l => guaranteed = false,
                _ => {}
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

pub struct ServiceStrategy;
impl Strategy for ServiceStrategy {
    fn default(&self, obj: &mut Value) {
        super::defaults::service(obj);
    }
    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        super::admission::keep_allocated_service_values(new, old);
    }
    fn admit(
        &self,
        obj: &mut Value,
        old: Option<&Value>,
        store: &dyn storage::Storage,
    ) -> Vec<FieldError> {
        super::admission::allocate_service(obj, old, store)
    }
    fn initial_status(&self, _obj: &Value) -> Option<Value> {
        Some(json!({"loadBalancer": {}}))
    }
    fn name_is_label(&self) -> bool {
        true
    }
}

pub struct SecretStrategy;
impl Strategy for SecretStrategy {
    fn default(&self, obj: &mut Value) {
        default_field(obj, "", "type", json!("Opaque"));
    }
}

pub struct NodeStrategy;
impl Strategy for NodeStrategy {
    fn initial_status(&self, obj: &Value) -> Option<Value> {
        // Nodes register with their status (the kubelet creates them that way).
        Some(get(obj, "status").cloned().unwrap_or_else(|| json!({})))
    }
}

pub struct PvStrategy;
impl Strategy for PvStrategy {
    fn default(&self, obj: &mut Value) {
        default_field(obj, "spec", "volumeMode", json!("Filesystem"));
        default_field(
            obj,
            "spec",
            "persistentVolumeReclaimPolicy",
            json!("Retain"),
        );
    }
    fn initial_status(&self, _obj: &Value) -> Option<Value> {
        Some(json!({"phase": "Pending"}))
    }
}

pub struct PvcStrategy;
impl Strategy for PvcStrategy {
    fn default(&self, obj: &mut Value) {
        default_field(obj, "spec", "volumeMode", json!("Filesystem"));
    }
    fn admit(
        &self,
        obj: &mut Value,
        old: Option<&Value>,
        store: &dyn storage::Storage,
    ) -> Vec<FieldError> {
        if old.is_none() {
            super::admission::default_storage_class(obj, store);
        }
        Vec::new()
    }
    fn initial_status(&self, _obj: &Value) -> Option<Value> {
        Some(json!({"phase": "Pending"}))
    }
}
