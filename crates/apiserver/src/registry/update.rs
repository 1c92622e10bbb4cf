//! PUT and PATCH, on the main endpoint and on `/status` (`rest.BeforeUpdate` + `Store.Update`):
//! one read-modify-write flow that keeps identity fields, separates spec from status, bumps
//! generation, validates, skips no-op writes and completes deletions whose finalizers are gone.

use super::{
    check_type_meta, decode_check, generation_changed, has_status, meta, meta_mut, meta_str,
    to_view, validate, Registry, Target, WriteOptions,
};
use crate::error::{ApiError, ApiResult};
use crate::kinds::{Kind, Subresource};
use serde_json::{json, Value};
use storage::{guaranteed_update, StorageError, Stored};

/// The patch formats kube-apiserver accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    /// Server-side apply (`application/apply-patch+yaml`).
    Apply,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Option<Self> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" => Some(PatchType::Apply),
            _ => None,
        }
    }
}

/// Why a read-modify-write stopped.
enum Abort {
    Api(ApiError),
    Storage(StorageError),
}

impl From<StorageError> for Abort {
    fn from(e: StorageError) -> Self {
        Abort::Storage(e)
    }
}

impl From<ApiError> for Abort {
    fn from(e: ApiError) -> Self {
        Abort::Api(e)
    }
}

/// Apply a patch document to an object (in the kind's view).
pub fn apply_patch(kind: &Kind, pt: PatchType, current: &Value, patch: &Value) -> ApiResult<Value> {
    match pt {
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal into a JSON merge patch: not an object",
                ));
            }
            let mut doc = current.clone();
            json_patch::merge(&mut doc, patch);
            Ok(doc)
        }
        PatchType::Json => {
            // kube-apiserver decodes any array of objects as a JSON patch (evanphx/json-patch
            // DecodePatch) and only fails when applying it (an unknown op, a missing path):
            // 422 with NewGenericServerResponse's fixed message, without the cause.
            const REJECTED: &str = "the server rejected our request due to an error in our request";
            let ops: json_patch::Patch =
                serde_json::from_value(patch.clone()).map_err(|e| match patch.as_array() {
                    Some(ops) if ops.iter().all(Value::is_object) => {
                        ApiError::new_invalid_patch(REJECTED.to_string())
                    }
                    _ => ApiError::bad_request(format!("error decoding patch: {e}")),
                })?;
            let mut doc = current.clone();
            json_patch::patch(&mut doc, &ops)
                .map_err(|_| ApiError::new_invalid_patch(REJECTED.to_string()))?;
            Ok(doc)
        }
        PatchType::Strategic => crate::patch::strategic(kind, current, patch),
        PatchType::Apply => Err(ApiError::bad_request(
            "server-side apply is not supported on this subresource",
        )),
    }
}

impl ApiError {
    /// kube-apiserver answers a JSON patch that cannot be applied with 422.
    fn new_invalid_patch(msg: String) -> ApiError {
        let mut e = ApiError::bad_request(msg);
        e.code = 422;
        e.reason = "Invalid";
        e
    }
}

impl Registry {
    /// PUT: replace an object (or its status) with the body. A `metadata.resourceVersion` in the
    /// body is a precondition.
    pub async fn update(
        &self,
        t: Target<'_>,
        name: &str,
        sub: Option<Subresource>,
        mut body: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Stored> {
        check_type_meta(t.kind, &mut body)?;
        super::field_validation::check_body(t.kind, &mut body, opts)?;
        check_name(t, name, &body)?;
        let precondition = parse_rv(meta_str(&body, "resourceVersion"))?;
        self.modify(t, name, sub, precondition, opts, |_| Ok(body.clone()))
            .await
    }

    /// PATCH: apply a patch to the current object (or its status).
    pub async fn patch(
        &self,
        t: Target<'_>,
        name: &str,
        sub: Option<Subresource>,
        pt: PatchType,
        patch: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Stored> {
        let kind = t.kind;
        let mut warnings = Vec::new();
        let result = self
            .modify(t, name, sub, None, opts, |current| {
                let mut patched = apply_patch(kind, pt, current, &patch)?;
                warnings =
                    super::field_validation::check_patched(kind, pt, &patch, &mut patched, opts)?;
                check_name(t, name, &patched)?;
                // A resourceVersion the patch sets is a precondition (kube-apiserver checks it).
                let want = meta_str(&patched, "resourceVersion");
                let have = meta_str(current, "resourceVersion");
                if !want.is_empty() && want != have {
                    return Err(ApiError::conflict_modified(kind.plural, kind.group, name));
                }
                Ok(patched)
            })
            .await;
        // Only the attempt that counted (the last one) warns.
        warnings.into_iter().for_each(|w| opts.warnings.push(w));
        result
    }

    /// PATCH with `application/apply-patch+yaml`: server-side apply of a configuration to the
    /// object (or its status), creating it when absent (then `created` is true). The merged
    /// object goes through the same create and update flows as every other write.
    pub async fn apply(
        &self,
        t: Target<'_>,
        name: &str,
        sub: Option<Subresource>,
        mut config: Value,
        opts: &WriteOptions,
    ) -> ApiResult<(Stored, bool)> {
        let kind = t.kind;
        check_type_meta(kind, &mut config)?;
        super::field_validation::check_body(kind, &mut config, opts)?;
        check_name(t, name, &config)?;
        let manager = opts.field_manager.clone().unwrap_or_default();
        let now = self.now();
        let writer = super::managed_fields::Writer {
            kind,
            manager: &manager,
            subresource: sub.map(Subresource::name).unwrap_or(""),
            now: &now,
        };
        let tracked = WriteOptions {
            tracked: true,
            ..opts.clone()
        };
        for _ in 0..3 {
            if sub.is_none() && self.storage.get(&t.key(name)).is_err() {
                let mut obj = writer.apply(None, &config, opts.force)?;
                // The name comes from the URL when the configuration's metadata has none.
                meta_mut(&mut obj).insert("name".into(), json!(name));
                match self.create(t, obj, &tracked).await {
                    Err(e) if e.reason == "AlreadyExists" => continue,
                    r => return r.map(|s| (s, true)),
                }
            }
            let result = self
                .modify(t, name, sub, None, &tracked, |current| {
                    writer.apply(Some(current), &config, opts.force)
                })
                .await;
            if matches!(&result, Err(e) if e.code == 404 && sub.is_none()) {
                continue;
            }
            return result.map(|s| (s, false));
        }
        Err(ApiError::conflict_modified(kind.plural, kind.group, name))
    }

    /// The one read-modify-write flow behind PUT and PATCH. `make` gets the current object (in
    /// the kind's view) and returns the requested new state; the rest is generic.
    pub(crate) async fn modify(
        &self,
        t: Target<'_>,
        name: &str,
        sub: Option<Subresource>,
        precondition: Option<u64>,
        opts: &WriteOptions,
        mut make: impl FnMut(&Value) -> ApiResult<Value>,
    ) -> ApiResult<Stored> {
        let kind = t.kind;
        let key = t.key(name);
        let mut removed = false;
        let mut dry_result: Option<Value> = None;
        let result = guaranteed_update::<Abort>(self.storage.as_ref(), &key, |cur| {
            if let Some(p) = precondition {
                if p != cur.rv {
                    return Err(ApiError::conflict_modified(kind.plural, kind.group, name).into());
                }
            }
            let old_stored = cur.value();
            let old = match kind.storage {
                Some(v) => (v.from_storage)(old_stored.clone()),
                None => old_stored.clone(),
            };
            let mut new = make(&old)?;
            check_type_meta(kind, &mut new)?;
            decode_check(kind, &new)?;
            // A binding is the server's own change of `spec.nodeName` and status.
            if sub != Some(Subresource::Binding) {
                self.prepare_update(kind, sub, &mut new, &old);
                if sub.is_none() {
                    super::admit(kind, &mut new, Some(&old), self.storage.as_ref())?;
                }
                validate(kind, &new, Some(&old))?;
                opts.track(
                    kind,
                    sub.map(Subresource::name),
                    &self.now(),
                    Some(&old),
                    &mut new,
                );
            }
            let new = match kind.storage {
                Some(v) => (v.to_storage)(new),
                None => new,
            };
            if same_ignoring_rv(&new, &old_stored) {
                return Ok(None);
            }
            // An object being deleted whose last finalizer is gone is removed now.
            if deletion_complete(kind, &new) {
                removed = true;
                dry_result = Some(new);
                return Ok(None);
            }
            if opts.dry_run {
                dry_result = Some(new);
                return Ok(None);
            }
            Ok(Some(new))
        });
        let stored = match result {
            Ok(s) => s,
            Err(Abort::Api(e)) => return Err(e),
            Err(Abort::Storage(e)) => return Err(t.storage_err(e, name)),
        };
        if removed && !opts.dry_run {
            let gone = self
                .storage
                .delete(&key, Some(stored.rv))
                .map_err(|e| t.storage_err(e, name))?;
            self.durable(&gone).await?;
            return Ok(to_view(kind, gone));
        }
        if let Some(v) = dry_result {
            let bytes = serde_json::to_vec(&v).map_err(|e| ApiError::internal(e.to_string()))?;
            return Ok(to_view(
                kind,
                Stored {
                    rv: stored.rv,
                    bytes: bytes.into(),
                },
            ));
        }
        self.durable(&stored).await?;
        Ok(to_view(kind, stored))
    }

    /// `BeforeUpdate` and the strategies' `PrepareForUpdate`.
    fn prepare_update(&self, kind: &Kind, sub: Option<Subresource>, new: &mut Value, old: &Value) {
        // Identity and system fields always come from the stored object.
        let old_meta = meta(old).clone();
        {
            let m = meta_mut(new);
            for k in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "generation",
                "name",
                "namespace",
            ] {
                match old_meta.get(k) {
                    Some(v) => m.insert(k.into(), v.clone()),
                    None => m.remove(k),
                };
            }
            if !m.contains_key("deletionGracePeriodSeconds") {
                if let Some(v) = old_meta.get("deletionGracePeriodSeconds") {
                    m.insert("deletionGracePeriodSeconds".into(), v.clone());
                }
            }
            m.remove("selfLink");
        }
        match sub {
            Some(Subresource::Finalize) => {
                // `/finalize` changes only `spec.finalizers`.
                let fins = new
                    .pointer("/spec/finalizers")
                    .cloned()
                    .unwrap_or(json!([]));
                *new = old.clone();
                crate::kinds::util::obj_mut(new, "spec").insert("finalizers".into(), fins);
            }
            Some(Subresource::Status) => {
                // `/status` changes only status (and metadata other than labels, as upstream).
                let status = new.get("status").cloned();
                let new_meta = meta(new).clone();
                *new = old.clone();
                let m = new.as_object_mut().expect("object");
                match status {
                    Some(s) => m.insert("status".into(), s),
                    None => m.remove("status"),
                };
                let meta_out = meta_mut(new);
                for (k, v) in new_meta {
                    if k != "labels" {
                        meta_out.insert(k, v);
                    }
                }
            }
            _ => {
                kind.strategy.default(new);
                if has_status(kind) {
                    let m = new.as_object_mut().expect("object");
                    match old.get("status") {
                        Some(s) => m.insert("status".into(), s.clone()),
                        None => m.remove("status"),
                    };
                }
                kind.strategy.prepare_for_update(new, old);
                if generation_changed(kind, new, old) {
                    let g = meta(old)
                        .get("generation")
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    meta_mut(new).insert("generation".into(), json!(g + 1));
                }
            }
        }
    }
}

/// kube-apiserver's `checkName` for PUT and PATCH: the object (the body, or the patched object)
/// must carry the URL's name, and no other namespace than the URL's.
fn check_name(t: Target<'_>, name: &str, obj: &Value) -> ApiResult<()> {
    let obj_name = meta_str(obj, "name");
    if obj_name.is_empty() {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({name} based on URL) was undeterminable: name must be provided"
        )));
    }
    if obj_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({obj_name}) does not match the name on the URL ({name})"
        )));
    }
    let obj_ns = meta_str(obj, "namespace");
    match t.namespace {
        Some(ns) if !obj_ns.is_empty() && obj_ns != ns => Err(ApiError::bad_request(format!(
            "the namespace of the object ({obj_ns}) does not match the namespace on the request ({ns})"
        ))),
        _ => Ok(()),
    }
}

/// Whether two objects differ only in `metadata.resourceVersion` (a no-op write).
fn same_ignoring_rv(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
        }
        v
    };
    strip(a) == strip(b)
}

/// An object with a deletionTimestamp, no finalizers and no grace period left to wait for.
pub(super) fn deletion_complete(kind: &Kind, v: &Value) -> bool {
    let m = meta(v);
    let deleting = m.get("deletionTimestamp").is_some_and(|x| !x.is_null());
    let no_finalizers = m
        .get("finalizers")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    let grace = m
        .get("deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    deleting && no_finalizers && grace == 0 && !kind.strategy.deletion_blocked(v)
}

/// Parse a resourceVersion given by a client ("" = none).
pub fn parse_rv(s: &str) -> ApiResult<Option<u64>> {
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<u64>()
        .map(Some)
        .map_err(|_| ApiError::bad_request(format!("invalid resource version \"{s}\"")))
}
