//! Subresources with their own shape: `scale` (autoscaling/v1 Scale over `spec.replicas`) and
//! `pods/binding` (assigns a node). `status` is part of the update flow.

use super::update::{apply_patch, parse_rv, PatchType};
use super::{meta, Registry, Target, WriteOptions};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::kinds::Subresource;
use serde_json::{json, Value};
use storage::Stored;

/// The Scale view of a scalable object.
pub fn scale_of(obj: &Value, default_replicas: i64) -> Value {
    let m = meta(obj);
    let mut sm = serde_json::Map::new();
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = m.get(k) {
            sm.insert(k.into(), v.clone());
        }
    }
    let selector = obj
        .pointer("/spec/selector")
        .and_then(|s| apimachinery::labels::Selector::from_label_selector(s).ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    let mut status =
        json!({"replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0)});
    if !selector.is_empty() {
        status["selector"] = json!(selector);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": Value::Object(sm),
        "spec": {"replicas": obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(default_replicas)},
        "status": status,
    })
}

fn to_bytes(v: &Value) -> Stored {
    let rv = v
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Stored {
        rv,
        bytes: serde_json::to_vec(v).unwrap_or_default().into(),
    }
}

impl Registry {
    fn scale_spec(&self, t: Target<'_>) -> ApiResult<i64> {
        t.kind
            .scale
            .map(|s| s.default_replicas)
            .ok_or_else(ApiError::page_not_found)
    }

    pub fn get_scale(&self, t: Target<'_>, name: &str) -> ApiResult<Stored> {
        let default = self.scale_spec(t)?;
        let obj = self.get(t, name)?.value();
        Ok(to_bytes(&scale_of(&obj, default)))
    }

    /// PUT or PATCH of `/scale`: compute the new Scale from the current one, then write its
    /// `spec.replicas` through the main update flow.
    pub async fn write_scale(
        &self,
        t: Target<'_>,
        name: &str,
        change: ScaleChange,
        opts: &WriteOptions,
    ) -> ApiResult<Stored> {
        let default = self.scale_spec(t)?;
        let kind = t.kind;
        let precondition = match &change {
            ScaleChange::Replace(body) => parse_rv(
                body.pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            )?,
            ScaleChange::Patch(..) => None,
        };
        let opts = &WriteOptions {
            subresource: Some("scale"),
            ..opts.clone()
        };
        let stored = self
            .modify(t, name, None, precondition, opts, |current| {
                let scale = scale_of(current, default);
                let new_scale = match &change {
                    ScaleChange::Replace(body) => body.clone(),
                    ScaleChange::Patch(pt, patch) => apply_patch(kind, *pt, &scale, patch)?,
                };
                let replicas = new_scale.pointer("/spec/replicas");
                let n = match replicas {
                    None | Some(Value::Null) => 0,
                    Some(r) => r.as_i64().ok_or_else(|| {
                        ApiError::bad_request("Scale in version \"v1\" cannot be handled as a Scale: spec.replicas must be an integer")
                    })?,
                };
                if n < 0 {
                    return Err(ApiError::invalid(
                        "Scale",
                        "autoscaling",
                        name,
                        vec![FieldError::invalid("spec.replicas", &json!(n), "must be greater than or equal to 0")],
                    ));
                }
                let mut next = current.clone();
                crate::kinds::util::obj_mut(&mut next, "spec").insert("replicas".into(), json!(n));
                Ok(next)
            })
            .await?;
        Ok(to_bytes(&scale_of(&stored.value(), default)))
    }

    /// POST `pods/{name}/binding`: set `spec.nodeName` once, and the PodScheduled condition.
    pub async fn bind(
        &self,
        t: Target<'_>,
        name: &str,
        binding: &Value,
        opts: &WriteOptions,
    ) -> ApiResult<()> {
        if !t.kind.has(Subresource::Binding) {
            return Err(ApiError::page_not_found());
        }
        let node = binding
            .pointer("/target/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if node.is_empty() {
            return Err(ApiError::invalid(
                "Binding",
                "",
                name,
                vec![FieldError::required("target.name")],
            ));
        }
        let now = self.now();
        let kind = t.kind;
        self.modify(t, name, Some(Subresource::Binding), None, opts, |current| {
            if current.pointer("/metadata/deletionTimestamp").is_some_and(|x| !x.is_null()) {
                return Err(ApiError::conflict(kind.plural, kind.group, name, "pod is being deleted, cannot be assigned to a host"));
            }
            let assigned = current.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("");
            if !assigned.is_empty() {
                return Err(ApiError::conflict(
                    kind.plural,
                    kind.group,
                    name,
                    &format!("pod {name} is already assigned to node \"{assigned}\""),
                ));
            }
            let mut next = current.clone();
            crate::kinds::util::obj_mut(&mut next, "spec").insert("nodeName".into(), json!(node));
            let status = crate::kinds::util::obj_mut(&mut next, "status");
            let conds = status.entry("conditions").or_insert(json!([]));
            if let Some(list) = conds.as_array_mut() {
                list.retain(|c| c.get("type") != Some(&json!("PodScheduled")));
                list.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now}));
            }
            Ok(next)
        })
        .await?;
        Ok(())
    }
}

/// How a `/scale` write changes the Scale.
pub enum ScaleChange {
    Replace(Value),
    Patch(PatchType, Value),
}
