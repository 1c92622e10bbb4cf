//! DELETE and deletecollection (`Store.Delete`, `rest.BeforeDelete`): preconditions, the
//! propagation policy and its garbage-collector finalizers, graceful deletion, and removal.

use super::{meta, meta_mut, to_view, ListOptions, Registry, Target};
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::kinds::Propagation;
use serde_json::{json, Value};
use std::time::Duration;
use storage::{StorageError, Stored};

/// `metav1.DeleteOptions` (from the body and/or the query).
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    pub grace_period_seconds: Option<i64>,
    pub propagation_policy: Option<Propagation>,
    pub orphan_dependents: Option<bool>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
}

impl DeleteOptions {
    /// Read a `DeleteOptions` body (JSON); unknown fields are ignored as the decoder does.
    pub fn merge_body(&mut self, body: &Value) -> ApiResult<()> {
        if body.is_null() {
            return Ok(());
        }
        if !body.is_object() {
            return Err(ApiError::bad_request("DeleteOptions must be an object"));
        }
        if let Some(g) = body.get("gracePeriodSeconds").filter(|v| !v.is_null()) {
            self.grace_period_seconds =
                Some(g.as_i64().ok_or_else(|| {
                    ApiError::bad_request("gracePeriodSeconds must be an integer")
                })?);
        }
        if let Some(p) = body.get("propagationPolicy").and_then(Value::as_str) {
            self.propagation_policy = Some(parse_propagation(p)?);
        }
        if let Some(o) = body.get("orphanDependents").and_then(Value::as_bool) {
            self.orphan_dependents = Some(o);
        }
        if let Some(p) = body.get("preconditions") {
            self.precondition_uid = p.get("uid").and_then(Value::as_str).map(str::to_string);
            self.precondition_rv = p
                .get("resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        if let Some(d) = body.get("dryRun").and_then(Value::as_array) {
            self.dry_run |= d.iter().any(|x| x == "All");
        }
        Ok(())
    }
}

pub fn parse_propagation(p: &str) -> ApiResult<Propagation> {
    match p {
        "Orphan" => Ok(Propagation::Orphan),
        "Background" => Ok(Propagation::Background),
        "Foreground" => Ok(Propagation::Foreground),
        other => Err(ApiError::invalid(
            "DeleteOptions",
            "",
            "",
            vec![crate::error::FieldError::not_supported(
                "propagationPolicy",
                &json!(other),
                &["Foreground", "Background", "Orphan"],
            )],
        )),
    }
}

/// What a DELETE did: the object as it now is (or was), and whether it is gone.
pub struct DeleteOutcome {
    pub object: Stored,
    pub removed: bool,
}

const ORPHAN: &str = "orphan";
const FOREGROUND: &str = "foregroundDeletion";

fn finalizers(v: &Value) -> Vec<String> {
    meta(v)
        .get("finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The finalizers after applying the propagation policy (§7 of the semantics notes).
fn finalizers_for_policy(
    kind_default: Propagation,
    opts: &DeleteOptions,
    current: Vec<String>,
) -> Vec<String> {
    let explicit = match (opts.orphan_dependents, opts.propagation_policy) {
        (Some(true), _) => Some(Propagation::Orphan),
        (Some(false), None) => Some(Propagation::Background),
        (_, p) => p,
    };
    let has = |f: &str| current.iter().any(|x| x == f);
    let policy = explicit.or_else(|| {
        if has(ORPHAN) {
            Some(Propagation::Orphan)
        } else if has(FOREGROUND) {
            Some(Propagation::Foreground)
        } else {
            None
        }
    });
    let policy = policy.unwrap_or(kind_default);
    let mut out: Vec<String> = current
        .into_iter()
        .filter(|f| f != ORPHAN && f != FOREGROUND)
        .collect();
    match policy {
        Propagation::Orphan => out.push(ORPHAN.into()),
        Propagation::Foreground => out.push(FOREGROUND.into()),
        Propagation::Background => {}
    }
    out
}

impl Registry {
    /// Delete one object.
    pub async fn delete(
        &self,
        t: Target<'_>,
        name: &str,
        opts: &DeleteOptions,
    ) -> ApiResult<DeleteOutcome> {
        let kind = t.kind;
        let key = t.key(name);
        loop {
            let cur = self.storage.get(&key).map_err(|e| t.storage_err(e, name))?;
            let obj = cur.value();
            self.check_preconditions(t, name, &obj, opts)?;
            if let Some(why) = kind.strategy.delete_forbidden(&obj) {
                return Err(ApiError::forbidden(kind.plural, kind.group, name, why));
            }
            let old_finalizers = finalizers(&obj);
            let new_finalizers =
                finalizers_for_policy(kind.delete_propagation, opts, old_finalizers.clone());
            let grace = kind
                .strategy
                .grace_period(&obj, opts.grace_period_seconds)
                .unwrap_or(0);
            let already = meta(&obj)
                .get("deletionTimestamp")
                .is_some_and(|x| !x.is_null());
            let mut next = obj.clone();
            if new_finalizers != old_finalizers {
                meta_mut(&mut next).insert("finalizers".into(), json!(new_finalizers));
            }
            let now = self.clock.now();
            if already {
                // A repeated DELETE may shorten a graceful deletion, never lengthen it.
                let old_grace = meta(&obj)
                    .get("deletionGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                if grace < old_grace {
                    let m = meta_mut(&mut next);
                    m.insert(
                        "deletionTimestamp".into(),
                        json!(rfc3339(now + Duration::from_secs(grace as u64))),
                    );
                    m.insert("deletionGracePeriodSeconds".into(), json!(grace));
                }
            } else {
                let m = meta_mut(&mut next);
                m.insert(
                    "deletionTimestamp".into(),
                    json!(rfc3339(now + Duration::from_secs(grace.max(0) as u64))),
                );
                m.insert("deletionGracePeriodSeconds".into(), json!(grace));
                if let Some(g) = m
                    .get("generation")
                    .and_then(Value::as_i64)
                    .filter(|g| *g > 0)
                {
                    m.insert("generation".into(), json!(g + 1));
                }
                kind.strategy.on_delete(&mut next);
            }
            let remove_now = super::update::deletion_complete(kind, &next);
            if opts.dry_run {
                let bytes =
                    serde_json::to_vec(&next).map_err(|e| ApiError::internal(e.to_string()))?;
                return Ok(DeleteOutcome {
                    object: to_view(
                        kind,
                        Stored {
                            rv: cur.rv,
                            bytes: bytes.into(),
                        },
                    ),
                    removed: remove_now,
                });
            }
            let result = if remove_now {
                self.storage.delete(&key, Some(cur.rv))
            } else if next == obj {
                return Ok(DeleteOutcome {
                    object: to_view(kind, cur),
                    removed: false,
                });
            } else {
                self.storage.update(&key, Some(cur.rv), next)
            };
            match result {
                Err(StorageError::Conflict { .. }) => continue,
                Err(e) => return Err(t.storage_err(e, name)),
                Ok(stored) => {
                    self.durable(&stored).await?;
                    return Ok(DeleteOutcome {
                        object: to_view(kind, stored),
                        removed: remove_now,
                    });
                }
            }
        }
    }

    fn check_preconditions(
        &self,
        t: Target<'_>,
        name: &str,
        obj: &Value,
        opts: &DeleteOptions,
    ) -> ApiResult<()> {
        let m = meta(obj);
        if let Some(uid) = &opts.precondition_uid {
            let have = m.get("uid").and_then(Value::as_str).unwrap_or("");
            if uid != have {
                return Err(ApiError::conflict(
                    t.kind.plural,
                    t.kind.group,
                    name,
                    &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {have}"),
                ));
            }
        }
        if let Some(rv) = &opts.precondition_rv {
            let have = m
                .get("resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            if rv != have {
                return Err(ApiError::conflict(
                    t.kind.plural,
                    t.kind.group,
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {have}"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// deletecollection: delete every object the list options select; returns what was deleted.
    pub async fn delete_collection(
        &self,
        t: Target<'_>,
        list: &ListOptions,
        opts: &DeleteOptions,
    ) -> ApiResult<Vec<Stored>> {
        let page = self.list_objects(
            t,
            &ListOptions {
                limit: 0,
                continue_token: None,
                ..list.clone()
            },
        )?;
        let mut out = Vec::new();
        for (_, stored) in page.items {
            let v = stored.value();
            let name = v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let ns = v
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_string);
            let target = Target {
                kind: t.kind,
                namespace: ns.as_deref().or(t.namespace),
            };
            match self.delete(target, &name, opts).await {
                Ok(o) => out.push(o.object),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(p: Option<Propagation>, orphan: Option<bool>) -> DeleteOptions {
        DeleteOptions {
            propagation_policy: p,
            orphan_dependents: orphan,
            ..Default::default()
        }
    }

    #[test]
    fn propagation_policy_picks_the_gc_finalizer() {
        let cases: &[(Propagation, DeleteOptions, &[&str], &[&str])] = &[
            (Propagation::Background, opts(None, None), &[], &[]),
            (Propagation::Orphan, opts(None, None), &[], &["orphan"]),
            (
                Propagation::Background,
                opts(Some(Propagation::Foreground), None),
                &["x"],
                &["x", "foregroundDeletion"],
            ),
            (
                Propagation::Background,
                opts(Some(Propagation::Orphan), None),
                &["foregroundDeletion"],
                &["orphan"],
            ),
            (
                Propagation::Background,
                opts(None, None),
                &["orphan"],
                &["orphan"],
            ),
            (
                Propagation::Orphan,
                opts(Some(Propagation::Background), None),
                &[],
                &[],
            ),
            (
                Propagation::Background,
                opts(Some(Propagation::Background), Some(true)),
                &[],
                &["orphan"],
            ),
        ];
        for (default, o, before, after) in cases {
            let got =
                finalizers_for_policy(*default, o, before.iter().map(|s| s.to_string()).collect());
            assert_eq!(
                got,
                after.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                "{before:?} {o:?}"
            );
        }
    }
}
