//! POST: the create flow (`rest.BeforeCreate` + `Store.Create`).

use super::{
    check_type_meta, decode_check, has_status, meta_mut, meta_str, to_view, validate, Registry,
    Target, WriteOptions,
};
use crate::error::{ApiError, ApiResult};
use crate::kinds::Generation;
use serde_json::{json, Value};
use storage::Stored;

impl Registry {
    /// Create an object in `t` from a request body.
    pub async fn create(
        &self,
        t: Target<'_>,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Stored> {
        let kind = t.kind;
        check_type_meta(kind, &mut obj)?;
        super::field_validation::check_body(kind, &mut obj, opts)?;
        // Namespace: the body's must match the URL's; cluster-scoped kinds have none.
        let body_ns = meta_str(&obj, "namespace").to_string();
        if kind.namespaced {
            let url_ns = t.namespace.unwrap_or("");
            if !body_ns.is_empty() && body_ns != url_ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            if url_ns.is_empty() {
                return Err(ApiError::bad_request(
                    "the namespace of the object is required",
                ));
            }
            meta_mut(&mut obj).insert("namespace".into(), json!(url_ns));
        } else {
            meta_mut(&mut obj).remove("namespace");
        }
        // generateName is resolved before anything else looks at the name.
        if meta_str(&obj, "name").is_empty() {
            let base = meta_str(&obj, "generateName").to_string();
            if !base.is_empty() {
                meta_mut(&mut obj).insert(
                    "name".into(),
                    json!(apimachinery::names::generate_name(&base)),
                );
            }
        }
        if !meta_str(&obj, "resourceVersion").is_empty() {
            return Err(ApiError::bad_request(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        // Views are checked in their own shape, then stored in the primary one.
        decode_check(kind, &obj)?;
        kind.strategy.default(&mut obj);
        let now = self.now();
        {
            let m = meta_mut(&mut obj);
            m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
            m.insert("creationTimestamp".into(), json!(now));
            for k in [
                "resourceVersion",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "selfLink",
            ] {
                m.remove(k);
            }
            if kind.generation != Generation::None {
                m.insert("generation".into(), json!(1));
            } else {
                m.remove("generation");
            }
        }
        if has_status(kind) {
            let status = kind.strategy.initial_status(&obj);
            let m = obj.as_object_mut().expect("object");
            match status {
                Some(s) => m.insert("status".into(), s),
                None => m.remove("status"),
            };
        }
        kind.strategy.prepare_for_create(&mut obj);
        let name = meta_str(&obj, "name").to_string();
        super::admit(kind, &mut obj, None, self.storage.as_ref())?;
        validate(kind, &obj, None)?;
        self.check_namespace_open(t, &name)?;
        opts.track(kind, None, &self.now(), None, &mut obj);
        let stored_form = match kind.storage {
            Some(view) => (view.to_storage)(obj),
            None => obj,
        };
        if opts.dry_run {
            if self.storage.get(&t.key(&name)).is_ok() {
                return Err(ApiError::already_exists(kind.plural, kind.group, &name));
            }
            let bytes =
                serde_json::to_vec(&stored_form).map_err(|e| ApiError::internal(e.to_string()))?;
            return Ok(to_view(
                kind,
                Stored {
                    rv: 0,
                    bytes: bytes.into(),
                },
            ));
        }
        let stored = self
            .storage
            .create(&t.key(&name), stored_form)
            .map_err(|e| t.storage_err(e, &name))?;
        self.durable(&stored).await?;
        Ok(to_view(kind, stored))
    }
}
