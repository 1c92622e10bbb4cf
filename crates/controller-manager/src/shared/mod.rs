//! What every controller shares: informers and the work queue, the cached pod, expectations,
//! pod control, adoption and release, the pod-deletion ranking, slow-start batches, event
//! recording, pod predicates and time conversions.

pub mod adoption;
pub mod cached_pod;
pub mod events;
pub mod expectations;
pub mod history;
pub mod informer;
pub mod owned;
pub mod pod_control;
pub mod pods;
pub mod queue;
pub mod ranking;
pub mod slow_start;
pub mod time;

use apimachinery::labels::Selector;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::{Resource, ResourceExt};
use std::collections::BTreeMap;

/// The queue key of a namespaced object: `namespace/name`.
pub fn key_of<K: Resource>(obj: &K) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

pub fn key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// Split a `namespace/name` key.
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

/// An object's labels, borrowed (an empty map when it has none): controllers match selectors
/// against every pod of a namespace on each sync, so this must not copy them.
pub fn labels_of(meta: &ObjectMeta) -> &BTreeMap<String, String> {
    static NONE: BTreeMap<String, String> = BTreeMap::new();
    meta.labels.as_ref().unwrap_or(&NONE)
}

/// A `metav1.LabelSelector` as a selector (`LabelSelectorAsSelector`); invalid ones match nothing.
pub fn selector(s: &LabelSelector) -> Selector {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| Selector::from_label_selector(&v).ok())
        .unwrap_or_else(Selector::nothing)
}

/// `GetScaledValueFromIntOrPercent` for an `IntOrString` field (maxSurge, maxUnavailable):
/// an int as is, a percentage of `total` rounded up or down.
pub fn scaled(v: &IntOrString, total: i32, round_up: bool) -> Result<i32, String> {
    let v = match v {
        IntOrString::Int(i) => serde_json::Value::from(*i),
        IntOrString::String(s) => serde_json::Value::from(s.as_str()),
    };
    apimachinery::intstr::scaled_value_from_int_or_percent(&v, total, round_up)
}

/// Whether an API error is a 404.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

pub fn is_already_exists(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists")
}

/// The message of an API error (the Status message), else the error's text.
pub fn error_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}
