//! batch/v1 kinds: jobs and cronjobs.

use super::util::{
    default_field, get_str, obj_mut, validate_immutable, validate_pod_template_containers,
};
use super::{decodes_as, Generation, Kind, Propagation, Strategy, Subresource};
use crate::error::FieldError;
use k8s_openapi::api::batch::v1 as batchv1;
use serde_json::{json, Value};

const BATCH: Kind = Kind {
    group: "batch",
    categories: &["all"],
    generation: Generation::Spec,
    subresources: &[Subresource::Status],
    returns_deleted_object: true,
    ..Kind::DEFAULT
};

pub static JOBS: Kind = Kind {
    kind: "Job",
    plural: "jobs",
    singular: "job",
    selectable_fields: &["status.successful"],
    // batch/v1 Job keeps its pods when deleted without a policy (`registry/batch/job/strategy.go`).
    delete_propagation: Propagation::Orphan,
    decode_check: decodes_as::<batchv1::Job>,
    strategy: &JobStrategy,
    table: &crate::printers::batch::JOB,
    ..BATCH
};

pub static CRONJOBS: Kind = Kind {
    kind: "CronJob",
    plural: "cronjobs",
    singular: "cronjob",
    short_names: &["cj"],
    decode_check: decodes_as::<batchv1::CronJob>,
    strategy: &CronJobStrategy,
    table: &crate::printers::batch::CRONJOB,
    ..BATCH
};

pub static KINDS: &[&Kind] = &[&JOBS, &CRONJOBS];

pub struct JobStrategy;
impl Strategy for JobStrategy {
    fn default(&self, obj: &mut Value) {
        super::defaults::pod_template(obj, "spec.template");
        let spec = obj_mut(obj, "spec");
        if !spec.contains_key("completions") && !spec.contains_key("parallelism") {
            spec.insert("completions".into(), json!(1));
            spec.insert("parallelism".into(), json!(1));
        }
        default_field(obj, "spec", "parallelism", json!(1));
        default_field(obj, "spec", "backoffLimit", json!(6));
        default_field(obj, "spec", "completionMode", json!("NonIndexed"));
        default_field(obj, "spec", "suspend", json!(false));
        default_field(obj, "spec", "manualSelector", json!(false));
        if obj.pointer("/spec/podFailurePolicy").is_none() {
            default_field(
                obj,
                "spec",
                "podReplacementPolicy",
                json!("TerminatingOrFailed"),
            );
        }
        let labels = obj.pointer("/spec/template/metadata/labels").cloned();
        if let Some(l) = labels {
            if obj
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .is_none_or(|m| m.is_empty())
            {
                obj_mut(obj, "metadata").insert("labels".into(), l);
            }
        }
    }
    fn prepare_for_create(&self, obj: &mut Value) {
        // The API server generates the selector and the pod labels unless manualSelector is set.
        if obj.pointer("/spec/manualSelector") == Some(&json!(true)) {
            return;
        }
        let uid = get_str(obj, "metadata.uid").unwrap_or_default().to_string();
        let name = get_str(obj, "metadata.name")
            .unwrap_or_default()
            .to_string();
        let labels = obj_mut(obj, "spec.template.metadata.labels");
        labels.insert("batch.kubernetes.io/controller-uid".into(), json!(uid));
        labels.insert("batch.kubernetes.io/job-name".into(), json!(name));
        labels.insert("controller-uid".into(), json!(uid));
        labels.insert("job-name".into(), json!(name));
        obj_mut(obj, "spec").insert(
            "selector".into(),
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
        // A Job without labels of its own takes its (now generated) template labels.
        let template_labels = obj.pointer("/spec/template/metadata/labels").cloned();
        if let Some(l) = template_labels {
            let own = obj.pointer("/metadata/labels").and_then(Value::as_object);
            if own.is_none_or(|m| m.is_empty()) {
                obj_mut(obj, "metadata").insert("labels".into(), l);
            }
        }
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        validate_pod_template_containers(obj, "spec.template.spec.", &mut errs);
        let rp = obj.pointer("/spec/template/spec/restartPolicy");
        match rp.and_then(Value::as_str) {
            Some("OnFailure") | Some("Never") => {}
            None => errs.push(FieldError::required_msg(
                "spec.template.spec.restartPolicy",
                "valid values: \"OnFailure\", \"Never\"",
            )),
            Some(_) => errs.push(FieldError::not_supported(
                "spec.template.spec.restartPolicy",
                rp.unwrap_or(&Value::Null),
                &["OnFailure", "Never"],
            )),
        }
        for f in [
            "parallelism",
            "completions",
            "backoffLimit",
            "activeDeadlineSeconds",
        ] {
            if let Some(n) = obj.pointer(&format!("/spec/{f}")).and_then(Value::as_i64) {
                if n < 0 {
                    errs.push(FieldError::invalid(
                        format!("spec.{f}"),
                        &json!(n),
                        "must be greater than or equal to 0",
                    ));
                }
            }
        }
        errs
    }
    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        validate_immutable(new, old, "spec.selector", &mut errs);
        validate_immutable(new, old, "spec.completionMode", &mut errs);
        if old.pointer("/spec/suspend") != Some(&json!(true)) {
            validate_immutable(new, old, "spec.template", &mut errs);
        }
        errs
    }
}

pub struct CronJobStrategy;
impl Strategy for CronJobStrategy {
    fn default(&self, obj: &mut Value) {
        super::defaults::pod_template(obj, "spec.jobTemplate.spec.template");
        // Go prints the templates' (empty) ObjectMeta.
        obj_mut(obj, "spec.jobTemplate.metadata");
        obj_mut(obj, "spec.jobTemplate.spec.template.metadata");
        default_field(obj, "spec", "concurrencyPolicy", json!("Allow"));
        default_field(obj, "spec", "suspend", json!(false));
        default_field(obj, "spec", "successfulJobsHistoryLimit", json!(3));
        default_field(obj, "spec", "failedJobsHistoryLimit", json!(1));
    }
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if get_str(obj, "spec.schedule").is_none_or(str::is_empty) {
            errs.push(FieldError::required("spec.schedule"));
        }
        validate_pod_template_containers(obj, "spec.jobTemplate.spec.template.spec.", &mut errs);
        errs
    }
    fn name_is_label(&self) -> bool {
        false
    }
}
