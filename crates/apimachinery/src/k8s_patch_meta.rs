//! The patch strategies and merge keys of the built-in Kubernetes types (the
//! `patchStrategy`/`patchMergeKey` struct tags of k8s.io/api and meta/v1, as published in
//! the OpenAPI `x-kubernetes-patch-*` extensions), plus a skeleton of the built-in type graph
//! so strategic merge patch works without a full OpenAPI document.

use serde_json::{json, Map, Value};

use crate::strategic_merge::{PATCH_MERGE_KEY_EXTENSION, PATCH_STRATEGY_EXTENSION};

/// `(definition name, field, patch strategy, merge key)` for every tagged field of the
/// stable built-in API versions (Kubernetes v1.35). Definition names are the OpenAPI ones
/// (`io.k8s.api.core.v1.PodSpec`); fields of `EphemeralContainerCommon` are listed under
/// `EphemeralContainer`, which inlines them.
pub const K8S_PATCH_META: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "io.k8s.api.admissionregistration.v1.MutatingWebhook",
        "matchConditions",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration",
        "webhooks",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec",
        "matchConditions",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec",
        "variables",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingWebhook",
        "matchConditions",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration",
        "webhooks",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.apps.v1.DaemonSetStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.apps.v1.DeploymentSpec",
        "strategy",
        "retainKeys",
        None,
    ),
    (
        "io.k8s.api.apps.v1.DeploymentStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.apps.v1.ReplicaSetStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.batch.v1.JobStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.core.v1.ComponentStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    ("io.k8s.api.core.v1.Container", "env", "merge", Some("name")),
    (
        "io.k8s.api.core.v1.Container",
        "ports",
        "merge",
        Some("containerPort"),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "volumeDevices",
        "merge",
        Some("devicePath"),
    ),
    (
        "io.k8s.api.core.v1.Container",
        "volumeMounts",
        "merge",
        Some("mountPath"),
    ),
    (
        "io.k8s.api.core.v1.ContainerStatus",
        "allocatedResourcesStatus",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.ContainerStatus",
        "volumeMounts",
        "merge",
        Some("mountPath"),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "env",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "ports",
        "merge",
        Some("containerPort"),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeDevices",
        "merge",
        Some("devicePath"),
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeMounts",
        "merge",
        Some("mountPath"),
    ),
    (
        "io.k8s.api.core.v1.NamespaceStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    ("io.k8s.api.core.v1.NodeSpec", "podCIDRs", "merge", None),
    (
        "io.k8s.api.core.v1.NodeStatus",
        "addresses",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.core.v1.NodeStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "containers",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "ephemeralContainers",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "hostAliases",
        "merge",
        Some("ip"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "imagePullSecrets",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "initContainers",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "resourceClaims",
        "merge,retainKeys",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "schedulingGates",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "topologySpreadConstraints",
        "merge",
        Some("topologyKey"),
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "volumes",
        "merge,retainKeys",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "hostIPs",
        "merge",
        Some("ip"),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "podIPs",
        "merge",
        Some("ip"),
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "resourceClaimStatuses",
        "merge,retainKeys",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.ReplicationControllerStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.core.v1.ServiceAccount",
        "secrets",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "ports",
        "merge",
        Some("port"),
    ),
    (
        "io.k8s.api.core.v1.ServiceStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.networking.v1.ServiceCIDRStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
        "selector",
        "replace",
        None,
    ),
    (
        "io.k8s.api.policy.v1.PodDisruptionBudgetStatus",
        "conditions",
        "merge",
        Some("type"),
    ),
    (
        "io.k8s.api.storage.v1.CSINodeSpec",
        "drivers",
        "merge",
        Some("name"),
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "finalizers",
        "merge",
        None,
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "ownerReferences",
        "merge",
        Some("uid"),
    ),
];

/// Definition names of the top-level built-in kinds the skeleton schema knows (each has
/// `metadata` of type ObjectMeta).
pub const K8S_KINDS: &[&str] = &[
    "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration",
    "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy",
    "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding",
    "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration",
    "io.k8s.api.apps.v1.ControllerRevision",
    "io.k8s.api.apps.v1.DaemonSet",
    "io.k8s.api.apps.v1.Deployment",
    "io.k8s.api.apps.v1.ReplicaSet",
    "io.k8s.api.apps.v1.StatefulSet",
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler",
    "io.k8s.api.autoscaling.v1.Scale",
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
    "io.k8s.api.batch.v1.CronJob",
    "io.k8s.api.batch.v1.Job",
    "io.k8s.api.coordination.v1.Lease",
    "io.k8s.api.core.v1.Binding",
    "io.k8s.api.core.v1.ComponentStatus",
    "io.k8s.api.core.v1.ConfigMap",
    "io.k8s.api.core.v1.Endpoints",
    "io.k8s.api.core.v1.Event",
    "io.k8s.api.core.v1.LimitRange",
    "io.k8s.api.core.v1.Namespace",
    "io.k8s.api.core.v1.Node",
    "io.k8s.api.core.v1.PersistentVolume",
    "io.k8s.api.core.v1.PersistentVolumeClaim",
    "io.k8s.api.core.v1.Pod",
    "io.k8s.api.core.v1.PodTemplate",
    "io.k8s.api.core.v1.ReplicationController",
    "io.k8s.api.core.v1.ResourceQuota",
    "io.k8s.api.core.v1.Secret",
    "io.k8s.api.core.v1.Service",
    "io.k8s.api.core.v1.ServiceAccount",
    "io.k8s.api.discovery.v1.EndpointSlice",
    "io.k8s.api.events.v1.Event",
    "io.k8s.api.networking.v1.Ingress",
    "io.k8s.api.networking.v1.IngressClass",
    "io.k8s.api.networking.v1.NetworkPolicy",
    "io.k8s.api.networking.v1.ServiceCIDR",
    "io.k8s.api.policy.v1.PodDisruptionBudget",
    "io.k8s.api.rbac.v1.ClusterRole",
    "io.k8s.api.rbac.v1.ClusterRoleBinding",
    "io.k8s.api.rbac.v1.Role",
    "io.k8s.api.rbac.v1.RoleBinding",
    "io.k8s.api.scheduling.v1.PriorityClass",
    "io.k8s.api.storage.v1.CSIDriver",
    "io.k8s.api.storage.v1.CSINode",
    "io.k8s.api.storage.v1.StorageClass",
    "io.k8s.api.storage.v1.VolumeAttachment",
];

/// `(definition, field, field's type definition, is a list)`: the edges of the built-in type
/// graph that lead from the kinds to the types with tagged fields.
pub const K8S_TYPE_REFS: &[(&str, &str, &str, bool)] = &[
    (
        "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration",
        "webhooks",
        "io.k8s.api.admissionregistration.v1.MutatingWebhook",
        true,
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy",
        "spec",
        "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec",
        false,
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration",
        "webhooks",
        "io.k8s.api.admissionregistration.v1.ValidatingWebhook",
        true,
    ),
    (
        "io.k8s.api.apps.v1.DaemonSet",
        "spec",
        "io.k8s.api.apps.v1.DaemonSetSpec",
        false,
    ),
    (
        "io.k8s.api.apps.v1.DaemonSet",
        "status",
        "io.k8s.api.apps.v1.DaemonSetStatus",
        false,
    ),
    (
        "io.k8s.api.apps.v1.DaemonSetSpec",
        "template",
        "io.k8s.api.core.v1.PodTemplateSpec",
        false,
    ),
    (
        "io.k8s.api.apps.v1.Deployment",
        "spec",
        "io.k8s.api.apps.v1.DeploymentSpec",
        false,
    ),
    (
        "io.k8s.api.apps.v1.Deployment",
        "status",
        "io.k8s.api.apps.v1.DeploymentStatus",
        false,
    ),
    (
        "io.k8s.api.apps.v1.DeploymentSpec",
        "strategy",
        "io.k8s.api.apps.v1.DeploymentStrategy",
        false,
    ),
    (
        "io.k8s.api.apps.v1.DeploymentSpec",
        "template",
        "io.k8s.api.core.v1.PodTemplateSpec",
        false,
    ),
    (
        "io.k8s.api.apps.v1.ReplicaSet",
        "spec",
        "io.k8s.api.apps.v1.ReplicaSetSpec",
        false,
    ),
    (
        "io.k8s.api.apps.v1.ReplicaSet",
        "status",
        "io.k8s.api.apps.v1.ReplicaSetStatus",
        false,
    ),
    (
        "io.k8s.api.apps.v1.ReplicaSetSpec",
        "template",
        "io.k8s.api.core.v1.PodTemplateSpec",
        false,
    ),
    (
        "io.k8s.api.apps.v1.StatefulSet",
        "spec",
        "io.k8s.api.apps.v1.StatefulSetSpec",
        false,
    ),
    (
        "io.k8s.api.apps.v1.StatefulSet",
        "status",
        "io.k8s.api.apps.v1.StatefulSetStatus",
        false,
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetSpec",
        "template",
        "io.k8s.api.core.v1.PodTemplateSpec",
        false,
    ),
    (
        "io.k8s.api.apps.v1.StatefulSetSpec",
        "volumeClaimTemplates",
        "io.k8s.api.core.v1.PersistentVolumeClaim",
        true,
    ),
    (
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
        "status",
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        false,
    ),
    (
        "io.k8s.api.batch.v1.CronJob",
        "spec",
        "io.k8s.api.batch.v1.CronJobSpec",
        false,
    ),
    (
        "io.k8s.api.batch.v1.CronJobSpec",
        "jobTemplate",
        "io.k8s.api.batch.v1.JobTemplateSpec",
        false,
    ),
    (
        "io.k8s.api.batch.v1.Job",
        "spec",
        "io.k8s.api.batch.v1.JobSpec",
        false,
    ),
    (
        "io.k8s.api.batch.v1.Job",
        "status",
        "io.k8s.api.batch.v1.JobStatus",
        false,
    ),
    (
        "io.k8s.api.batch.v1.JobSpec",
        "template",
        "io.k8s.api.core.v1.PodTemplateSpec",
        false,
    ),
    (
        "io.k8s.api.batch.v1.JobTemplateSpec",
        "metadata",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        false,
    ),
    (
        "io.k8s.api.batch.v1.JobTemplateSpec",
        "spec",
        "io.k8s.api.batch.v1.JobSpec",
        false,
    ),
    (
        "io.k8s.api.core.v1.Namespace",
        "status",
        "io.k8s.api.core.v1.NamespaceStatus",
        false,
    ),
    (
        "io.k8s.api.core.v1.Node",
        "spec",
        "io.k8s.api.core.v1.NodeSpec",
        false,
    ),
    (
        "io.k8s.api.core.v1.Node",
        "status",
        "io.k8s.api.core.v1.NodeStatus",
        false,
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaim",
        "metadata",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        false,
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaim",
        "status",
        "io.k8s.api.core.v1.PersistentVolumeClaimStatus",
        false,
    ),
    (
        "io.k8s.api.core.v1.Pod",
        "spec",
        "io.k8s.api.core.v1.PodSpec",
        false,
    ),
    (
        "io.k8s.api.core.v1.Pod",
        "status",
        "io.k8s.api.core.v1.PodStatus",
        false,
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "containers",
        "io.k8s.api.core.v1.Container",
        true,
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "ephemeralContainers",
        "io.k8s.api.core.v1.EphemeralContainer",
        true,
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "initContainers",
        "io.k8s.api.core.v1.Container",
        true,
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "containerStatuses",
        "io.k8s.api.core.v1.ContainerStatus",
        true,
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "ephemeralContainerStatuses",
        "io.k8s.api.core.v1.ContainerStatus",
        true,
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        "initContainerStatuses",
        "io.k8s.api.core.v1.ContainerStatus",
        true,
    ),
    (
        "io.k8s.api.core.v1.PodTemplate",
        "template",
        "io.k8s.api.core.v1.PodTemplateSpec",
        false,
    ),
    (
        "io.k8s.api.core.v1.PodTemplateSpec",
        "metadata",
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        false,
    ),
    (
        "io.k8s.api.core.v1.PodTemplateSpec",
        "spec",
        "io.k8s.api.core.v1.PodSpec",
        false,
    ),
    (
        "io.k8s.api.core.v1.ReplicationController",
        "spec",
        "io.k8s.api.core.v1.ReplicationControllerSpec",
        false,
    ),
    (
        "io.k8s.api.core.v1.ReplicationController",
        "status",
        "io.k8s.api.core.v1.ReplicationControllerStatus",
        false,
    ),
    (
        "io.k8s.api.core.v1.ReplicationControllerSpec",
        "template",
        "io.k8s.api.core.v1.PodTemplateSpec",
        false,
    ),
    (
        "io.k8s.api.core.v1.Service",
        "spec",
        "io.k8s.api.core.v1.ServiceSpec",
        false,
    ),
    (
        "io.k8s.api.core.v1.Service",
        "status",
        "io.k8s.api.core.v1.ServiceStatus",
        false,
    ),
    (
        "io.k8s.api.networking.v1.ServiceCIDR",
        "status",
        "io.k8s.api.networking.v1.ServiceCIDRStatus",
        false,
    ),
    (
        "io.k8s.api.policy.v1.PodDisruptionBudget",
        "spec",
        "io.k8s.api.policy.v1.PodDisruptionBudgetSpec",
        false,
    ),
    (
        "io.k8s.api.policy.v1.PodDisruptionBudget",
        "status",
        "io.k8s.api.policy.v1.PodDisruptionBudgetStatus",
        false,
    ),
    (
        "io.k8s.api.storage.v1.CSINode",
        "spec",
        "io.k8s.api.storage.v1.CSINodeSpec",
        false,
    ),
];

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

fn ensure_definition<'a>(
    defs: &'a mut Map<String, Value>,
    name: &str,
) -> &'a mut Map<String, Value> {
    let def = defs
        .entry(name.to_string())
        .or_insert_with(|| json!({"type": "object", "properties": {}}));
    if !def.is_object() {
        *def = json!({"type": "object", "properties": {}});
    }
    let obj = def.as_object_mut().expect("made an object above");
    if !obj.get("properties").is_some_and(Value::is_object) {
        obj.insert("properties".to_string(), json!({}));
    }
    obj.get_mut("properties")
        .and_then(Value::as_object_mut)
        .expect("made an object above")
}

/// Injects `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key` from
/// [`K8S_PATCH_META`] into a definitions map (or an OpenAPI document holding one under
/// `definitions` / `components.schemas`). Definitions absent from the map are skipped; a
/// tagged field missing from a present definition is added.
pub fn annotate_definitions(defs: &mut Value) {
    let target = if defs.get("definitions").is_some_and(Value::is_object) {
        &mut defs["definitions"]
    } else if defs
        .get("components")
        .and_then(|c| c.get("schemas"))
        .is_some_and(Value::is_object)
    {
        &mut defs["components"]["schemas"]
    } else {
        defs
    };
    let Some(map) = target.as_object_mut() else {
        return;
    };
    for &(definition, field, strategy, merge_key) in K8S_PATCH_META {
        if !map.contains_key(definition) {
            continue;
        }
        let props = ensure_definition(map, definition);
        let prop = props.entry(field.to_string()).or_insert_with(|| json!({}));
        let Some(prop) = prop.as_object_mut() else {
            continue;
        };
        prop.insert(PATCH_STRATEGY_EXTENSION.to_string(), json!(strategy));
        if let Some(key) = merge_key {
            prop.insert(PATCH_MERGE_KEY_EXTENSION.to_string(), json!(key));
        }
    }
}

/// A definitions map covering the built-in kinds: [`K8S_KINDS`] with `metadata`, the
/// [`K8S_TYPE_REFS`] edges, and every [`K8S_PATCH_META`] field annotated. Untagged fields
/// are not described (they need no metadata). Feed it to `PatchSchema::from_definitions`.
pub fn builtin_definitions() -> Value {
    let mut defs = Map::new();
    for kind in K8S_KINDS {
        ensure_definition(&mut defs, kind).insert(
            "metadata".to_string(),
            json!({"$ref": format!("#/definitions/{OBJECT_META}")}),
        );
    }
    for &(definition, field, target, is_list) in K8S_TYPE_REFS {
        ensure_definition(&mut defs, target);
        let reference = json!({"$ref": format!("#/definitions/{target}")});
        let prop = if is_list {
            json!({"type": "array", "items": reference})
        } else {
            reference
        };
        ensure_definition(&mut defs, definition).insert(field.to_string(), prop);
    }
    for &(definition, field, strategy, _) in K8S_PATCH_META {
        let props = ensure_definition(&mut defs, definition);
        if !props.contains_key(field) && strategy != "retainKeys" && strategy != "replace" {
            props.insert(field.to_string(), json!({"type": "array"}));
        }
    }
    let mut defs = Value::Object(defs);
    annotate_definitions(&mut defs);
    defs
}

/// The OpenAPI definition name of a built-in kind, e.g. (`apps/v1`, `Deployment`) →
/// `io.k8s.api.apps.v1.Deployment`; `meta.k8s.io` kinds live under apimachinery.
pub fn definition_name(api_version: &str, kind: &str) -> String {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    match group {
        "" => format!("io.k8s.api.core.{version}.{kind}"),
        "meta.k8s.io" => format!("io.k8s.apimachinery.pkg.apis.meta.{version}.{kind}"),
        "apiextensions.k8s.io" => {
            format!("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{version}.{kind}")
        }
        "apiregistration.k8s.io" => {
            format!("io.k8s.kube-aggregator.pkg.apis.apiregistration.{version}.{kind}")
        }
        "flowcontrol.apiserver.k8s.io" => format!("io.k8s.api.flowcontrol.{version}.{kind}"),
        g => {
            let package = g.split('.').next().unwrap_or(g);
            format!("io.k8s.api.{package}.{version}.{kind}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategic_merge::{apply, create_two_way_merge_patch, PatchSchema};

    #[test]
    fn table_holds_the_upstream_tags_the_server_relies_on() {
        let want: &[(&str, &str, &str, Option<&str>)] = &[
            (OBJECT_META, "finalizers", "merge", None),
            (OBJECT_META, "ownerReferences", "merge", Some("uid")),
            (
                "io.k8s.api.core.v1.PodSpec",
                "volumes",
                "merge,retainKeys",
                Some("name"),
            ),
            (
                "io.k8s.api.core.v1.PodSpec",
                "containers",
                "merge",
                Some("name"),
            ),
            (
                "io.k8s.api.core.v1.PodSpec",
                "initContainers",
                "merge",
                Some("name"),
            ),
            (
                "io.k8s.api.core.v1.PodSpec",
                "ephemeralContainers",
                "merge",
                Some("name"),
            ),
            (
                "io.k8s.api.core.v1.PodSpec",
                "imagePullSecrets",
                "merge",
                Some("name"),
            ),
            (
                "io.k8s.api.core.v1.PodSpec",
                "hostAliases",
                "merge",
                Some("ip"),
            ),
            (
                "io.k8s.api.core.v1.PodSpec",
                "topologySpreadConstraints",
                "merge",
                Some("topologyKey"),
            ),
            (
                "io.k8s.api.core.v1.PodSpec",
                "resourceClaims",
                "merge,retainKeys",
                Some("name"),
            ),
            ("io.k8s.api.core.v1.Container", "env", "merge", Some("name")),
            (
                "io.k8s.api.core.v1.Container",
                "ports",
                "merge",
                Some("containerPort"),
            ),
            (
                "io.k8s.api.core.v1.Container",
                "volumeMounts",
                "merge",
                Some("mountPath"),
            ),
            (
                "io.k8s.api.core.v1.Container",
                "volumeDevices",
                "merge",
                Some("devicePath"),
            ),
            (
                "io.k8s.api.core.v1.PodStatus",
                "conditions",
                "merge",
                Some("type"),
            ),
            (
                "io.k8s.api.core.v1.ServiceSpec",
                "ports",
                "merge",
                Some("port"),
            ),
            (
                "io.k8s.api.apps.v1.DeploymentSpec",
                "strategy",
                "retainKeys",
                None,
            ),
            (
                "io.k8s.api.apps.v1.DeploymentStatus",
                "conditions",
                "merge",
                Some("type"),
            ),
            (
                "io.k8s.api.apps.v1.ReplicaSetStatus",
                "conditions",
                "merge",
                Some("type"),
            ),
            (
                "io.k8s.api.apps.v1.StatefulSetStatus",
                "conditions",
                "merge",
                Some("type"),
            ),
            (
                "io.k8s.api.apps.v1.DaemonSetStatus",
                "conditions",
                "merge",
                Some("type"),
            ),
            (
                "io.k8s.api.batch.v1.JobStatus",
                "conditions",
                "merge",
                Some("type"),
            ),
            (
                "io.k8s.api.core.v1.NodeStatus",
                "conditions",
                "merge",
                Some("type"),
            ),
            (
                "io.k8s.api.core.v1.NodeStatus",
                "addresses",
                "merge",
                Some("type"),
            ),
        ];
        for entry in want {
            assert!(K8S_PATCH_META.contains(entry), "missing {entry:?}");
        }
    }

    fn deployment_definitions() -> Value {
        json!({
            "io.k8s.api.apps.v1.Deployment": {"type": "object", "properties": {
                "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
                "spec": {"allOf": [{"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"}]}
            }},
            "io.k8s.api.apps.v1.DeploymentSpec": {"type": "object", "properties": {
                "replicas": {"type": "integer"},
                "strategy": {"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy"},
                "template": {"$ref": "#/definitions/io.k8s.api.core.v1.PodTemplateSpec"}
            }},
            "io.k8s.api.apps.v1.DeploymentStrategy": {"type": "object", "properties": {
                "type": {"type": "string"},
                "rollingUpdate": {"type": "object"}
            }},
            "io.k8s.api.core.v1.PodTemplateSpec": {"type": "object", "properties": {
                "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
                "spec": {"$ref": "#/definitions/io.k8s.api.core.v1.PodSpec"}
            }},
            "io.k8s.api.core.v1.PodSpec": {"type": "object", "properties": {
                "containers": {"type": "array", "items": {"$ref": "#/definitions/io.k8s.api.core.v1.Container"}}
            }},
            "io.k8s.api.core.v1.Container": {"type": "object", "properties": {
                "name": {"type": "string"},
                "image": {"type": "string"},
                "env": {"type": "array", "items": {"type": "object"}}
            }},
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "object", "properties": {
                "finalizers": {"type": "array", "items": {"type": "string"}}
            }}
        })
    }

    #[test]
    fn annotated_definitions_make_apply_merge_containers_by_name() {
        let mut defs = deployment_definitions();
        annotate_definitions(&mut defs);
        assert_eq!(
            defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
                ["x-kubernetes-patch-merge-key"],
            "name"
        );
        let schema = PatchSchema::from_definitions(&defs);
        let root = schema.root("io.k8s.api.apps.v1.Deployment");
        let original = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.7", "env": [{"name": "A", "value": "1"}]},
            {"name": "sidecar", "image": "busybox"}
        ]}}}});
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.9", "env": [{"name": "B", "value": "2"}]}
        ]}}}});
        // Upstream puts patch items first, then the items only the original has.
        let want = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.9", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]},
            {"name": "sidecar", "image": "busybox"}
        ]}}}});
        assert_eq!(apply(&original, &patch, root).unwrap(), want);
    }

    #[test]
    fn unannotated_definitions_replace_container_lists() {
        let schema = PatchSchema::from_definitions(&deployment_definitions());
        let root = schema.root("io.k8s.api.apps.v1.Deployment");
        let original =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}});
        let patch =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}});
        assert_eq!(
            apply(&original, &patch, root).unwrap(),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}})
        );
    }

    #[test]
    fn annotation_reaches_definitions_inside_an_openapi_document() {
        let mut doc = json!({"definitions": deployment_definitions()});
        annotate_definitions(&mut doc);
        assert_eq!(
            doc["definitions"]["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
                ["x-kubernetes-patch-strategy"],
            "retainKeys"
        );
        let mut v3 = json!({"components": {"schemas": deployment_definitions()}});
        annotate_definitions(&mut v3);
        assert_eq!(
            v3["components"]["schemas"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
                ["properties"]["finalizers"]["x-kubernetes-patch-strategy"],
            "merge"
        );
    }

    #[test]
    fn builtin_definitions_drive_kubectl_set_image_patches_for_every_workload() {
        let schema = PatchSchema::from_definitions(&builtin_definitions());
        let cases = [
            (
                "io.k8s.api.apps.v1.Deployment",
                json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.7.9"}]}}}}),
            ),
            (
                "io.k8s.api.batch.v1.CronJob",
                json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.7.9"}]}}}}}}),
            ),
            (
                "io.k8s.api.core.v1.Pod",
                json!({"spec": {"containers": [{"name": "nginx", "image": "nginx:1.7.9"}]}}),
            ),
        ];
        for (kind, original) in cases {
            let root = schema.root(kind);
            let modified: Value =
                serde_json::from_str(&original.to_string().replace("nginx:1.7.9", "nginx:1.9.1"))
                    .unwrap();
            let patch = create_two_way_merge_patch(&original, &modified, root).unwrap();
            let text = patch.to_string();
            assert!(
                text.contains(r#""$setElementOrder/containers":[{"name":"nginx"}],"containers":[{"image":"nginx:1.9.1","name":"nginx"}]"#),
                "{kind}: {text}"
            );
            assert_eq!(apply(&original, &patch, root).unwrap(), modified, "{kind}");
        }
    }

    #[test]
    fn builtin_definitions_merge_finalizers_and_owner_references_of_any_kind() {
        let schema = PatchSchema::from_definitions(&builtin_definitions());
        let root = schema.root("io.k8s.api.core.v1.ConfigMap");
        let original = json!({"metadata": {"finalizers": ["a"], "ownerReferences": [{"uid": "1", "name": "x"}]}});
        let patch = json!({"metadata": {"finalizers": ["b"], "ownerReferences": [{"uid": "2", "name": "y"}]}});
        assert_eq!(
            apply(&original, &patch, root).unwrap(),
            json!({"metadata": {"finalizers": ["b", "a"], "ownerReferences": [{"uid": "2", "name": "y"}, {"uid": "1", "name": "x"}]}})
        );
    }

    #[test]
    fn definition_names_follow_the_openapi_package_convention() {
        let cases = [
            ("v1", "Pod", "io.k8s.api.core.v1.Pod"),
            ("apps/v1", "Deployment", "io.k8s.api.apps.v1.Deployment"),
            ("batch/v1", "CronJob", "io.k8s.api.batch.v1.CronJob"),
            (
                "networking.k8s.io/v1",
                "Ingress",
                "io.k8s.api.networking.v1.Ingress",
            ),
            (
                "rbac.authorization.k8s.io/v1",
                "Role",
                "io.k8s.api.rbac.v1.Role",
            ),
            (
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
            ),
            (
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
            ),
            (
                "meta.k8s.io/v1",
                "Status",
                "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
            ),
        ];
        for (api_version, kind, want) in cases {
            assert_eq!(definition_name(api_version, kind), want);
        }
    }
}
