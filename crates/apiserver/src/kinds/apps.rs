//! apps/v1 kinds: deployments, replicasets, statefulsets, daemonsets, controllerrevisions.

use super::util::{
    default_field, validate_immutable, validate_pod_template_containers,
    validate_selector_matches_template,
};
use super::{decodes_as, Generation, Kind, ScaleSpec, Strategy, Subresource};
use crate::error::FieldError;
use k8s_openapi::api::apps::v1 as appsv1;
use serde_json::{json, Value};

const STATUS_SCALE: &[Subresource] = &[Subresource::Status, Subresource::Scale];
const APPS: Kind = Kind {
    group: "apps",
    categories: &["all"],
    generation: Generation::Spec,
    returns_deleted_object: true,
    ..Kind::DEFAULT
};

pub static DEPLOYMENTS: Kind = Kind {
    kind: "Deployment",
    plural: "deployments",
    singular: "deployment",
    short_names: &["deploy"],
    subresources: STATUS_SCALE,
    generation: Generation::SpecOrAnnotations,
    scale: Some(ScaleSpec {
        default_replicas: 1,
    }),
    decode_check: decodes_as::<appsv1::Deployment>,
    strategy: &DeploymentStrategy,
    table: &crate::printers::workloads::DEPLOYMENT,
    ..APPS
};

pub static REPLICASETS: Kind = Kind {
    kind: "ReplicaSet",
    plural: "replicasets",
    singular: "replicaset",
    short_names: &["rs"],
    subresources: STATUS_SCALE,
    selectable_fields: &["status.replicas"],
    scale: Some(ScaleSpec {
        default_replicas: 1,
    }),
    decode_check: decodes_as::<appsv1::ReplicaSet>,
    strategy: &ReplicaSetStrategy,
    table: &crate::printers::workloads::REPLICASET,
    ..APPS
};

pub static STATEFULSETS: Kind = Kind {
    kind: "StatefulSet",
    plural: "statefulsets",
    singular: "statefulset",
    short_names: &["sts"],
    subresources: STATUS_SCALE,
    scale: Some(ScaleSpec {
        default_replicas: 1,
    }),
    decode_check: decodes_as::<appsv1::StatefulSet>,
    strategy: &StatefulSetStrategy,
    table: &crate::printers::workloads::STATEFULSET,
    ..APPS
};

pub static DAEMONSETS: Kind = Kind {
    kind: "DaemonSet",
    plural: "daemonsets",
    singular: "daemonset",
    short_names: &["ds"],
    subresources: &[Subresource::Status],
    decode_check: decodes_as::<appsv1::DaemonSet>,
    strategy: &DaemonSetStrategy,
    table: &crate::printers::workloads::DAEMONSET,
    ..APPS
};

pub static CONTROLLERREVISIONS: Kind = Kind {
    kind: "ControllerRevision",
    plural: "controllerrevisions",
    singular: "controllerrevision",
    categories: &[],
    generation: Generation::None,
    decode_check: decodes_as::<appsv1::ControllerRevision>,
    strategy: &ControllerRevisionStrategy,
    table: &crate::printers::other::CONTROLLERREVISION,
    ..APPS
};

pub static KINDS: &[&Kind] = &[
    &DEPLOYMENTS,
    &REPLICASETS,
    &STATEFULSETS,
    &DAEMONSETS,
    &CONTROLLERREVISIONS,
];

/// Validation shared by the pod-template workloads: selector present and matching the
/// template labels, containers named and with images, selector immutable on update.
fn validate_workload(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    validate_selector_matches_template(obj, &mut errs);
    validate_pod_template_containers(obj, "spec.template.spec.", &mut errs);
    if let Some(r) = obj.pointer("/spec/replicas").and_then(Value::as_i64) {
        if r < 0 {
            errs.push(FieldError::invalid(
                "spec.replicas",
                &json!(r),
                "must be greater than or equal to 0",
            ));
        }
    }
    errs
}

fn validate_selector_immutable(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    validate_immutable(new, old, "spec.selector", &mut errs);
    errs
}

pub struct DeploymentStrategy;
impl Strategy for DeploymentStrategy {
    fn default(&self, obj: &mut Value) {
        super::defaults::pod_template(obj, "spec.template");
        default_field(obj, "spec", "replicas", json!(1));
        default_field(obj, "spec", "revisionHistoryLimit", json!(10));
        default_field(obj, "spec", "progressDeadlineSeconds", json!(600));
        default_field(obj, "spec.strategy", "type", json!("RollingUpdate"));
        if obj.pointer("/spec/strategy/type") == Some(&json!("RollingUpdate")) {
            default_field(
                obj,
                "spec.strategy.rollingUpdate",
                "maxUnavailable",
                json!("25%"),
            );
            default_field(obj, "spec.strategy.rollingUpdate", "maxSurge", json!("25%"));
        }
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_workload(obj)
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        validate_selector_immutable(new, old)
    }
}

pub struct ReplicaSetStrategy;
impl Strategy for ReplicaSetStrategy {
    fn default(&self, obj: &mut Value) {
        super::defaults::pod_template(obj, "spec.template");
        default_field(obj, "spec", "replicas", json!(1));
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_workload(obj)
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        validate_selector_immutable(new, old)
    }
}

pub struct StatefulSetStrategy;
impl Strategy for StatefulSetStrategy {
    fn default(&self, obj: &mut Value) {
        super::defaults::pod_template(obj, "spec.template");
        default_field(obj, "spec", "replicas", json!(1));
        default_field(obj, "spec", "podManagementPolicy", json!("OrderedReady"));
        default_field(obj, "spec", "revisionHistoryLimit", json!(10));
        default_field(obj, "spec.updateStrategy", "type", json!("RollingUpdate"));
        if obj.pointer("/spec/updateStrategy/type") == Some(&json!("RollingUpdate")) {
            default_field(
                obj,
                "spec.updateStrategy.rollingUpdate",
                "partition",
                json!(0),
            );
            // MaxUnavailableStatefulSet is on by default in v1.35.
            default_field(
                obj,
                "spec.updateStrategy.rollingUpdate",
                "maxUnavailable",
                json!(1),
            );
        }
        // Claim templates are PersistentVolumeClaims with their own defaults and status.
        let templates = obj
            .pointer_mut("/spec/volumeClaimTemplates")
            .and_then(Value::as_array_mut);
        for t in templates.into_iter().flatten().filter(|t| t.is_object()) {
            default_field(t, "", "apiVersion", json!("v1"));
            default_field(t, "", "kind", json!("PersistentVolumeClaim"));
            default_field(t, "spec", "volumeMode", json!("Filesystem"));
            default_field(t, "status", "phase", json!("Pending"));
        }
        default_field(
            obj,
            "spec.persistentVolumeClaimRetentionPolicy",
            "whenDeleted",
            json!("Retain"),
        );
        default_field(
            obj,
            "spec.persistentVolumeClaimRetentionPolicy",
            "whenScaled",
            json!("Retain"),
        );
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_workload(obj)
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        // Only replicas, ordinals, template, updateStrategy, retention policy and minReadySeconds may change.
        let strip = |v: &Value| {
            let mut s = v.get("spec").cloned().unwrap_or(Value::Null);
            if let Some(m) = s.as_object_mut() {
                for k in [
                    "replicas",
                    "ordinals",
                    "template",
                    "updateStrategy",
                    "persistentVolumeClaimRetentionPolicy",
                    "minReadySeconds",
                    "revisionHistoryLimit",
                ] {
                    m.remove(k);
                }
            }
            s
        };
        if strip(new) != strip(old) {
            return vec![FieldError::forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            )];
        }
        Vec::new()
    }
}

pub struct DaemonSetStrategy;
impl Strategy for DaemonSetStrategy {
    fn default(&self, obj: &mut Value) {
        super::defaults::pod_template(obj, "spec.template");
        default_field(obj, "spec", "revisionHistoryLimit", json!(10));
        default_field(obj, "spec.updateStrategy", "type", json!("RollingUpdate"));
        if obj.pointer("/spec/updateStrategy/type") == Some(&json!("RollingUpdate")) {
            default_field(
                obj,
                "spec.updateStrategy.rollingUpdate",
                "maxUnavailable",
                json!(1),
            );
            default_field(
                obj,
                "spec.updateStrategy.rollingUpdate",
                "maxSurge",
                json!(0),
            );
        }
    }
    fn prepare_for_create(&self, obj: &mut Value) {
        default_field(
            obj,
            "metadata.annotations",
            "deprecated.daemonset.template.generation",
            json!("1"),
        );
    }
    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        // templateGeneration is bumped when the template changes (`daemonSetStrategy.PrepareForUpdate`).
        let old_gen: i64 = old
            .pointer("/metadata/annotations/deprecated.daemonset.template.generation")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        let next = if new.pointer("/spec/template") != old.pointer("/spec/template") {
            old_gen + 1
        } else {
            old_gen
        };
        super::util::obj_mut(new, "metadata.annotations").insert(
            "deprecated.daemonset.template.generation".into(),
            json!(next.to_string()),
        );
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        validate_workload(obj)
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        validate_selector_immutable(new, old)
    }
}

pub struct ControllerRevisionStrategy;
impl Strategy for ControllerRevisionStrategy {
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        if obj
            .get("revision")
            .and_then(Value::as_i64)
            .is_none_or(|r| r < 0)
        {
            return vec![FieldError::invalid(
                "revision",
                obj.get("revision").unwrap_or(&Value::Null),
                "must be greater than or equal to 0",
            )];
        }
        Vec::new()
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if new.get("data") != old.get("data") {
            errs.push(FieldError::immutable(
                "data",
                new.get("data").unwrap_or(&Value::Null),
            ));
        }
        errs
    }
}
