//! The generic store flow every kind goes through (kube-apiserver's `registry/generic/registry`
//! and `registry/rest`): type-meta and namespace checks, names, uid and timestamps, defaulting,
//! status and generation rules, validation, finalizers and graceful deletion, dry-run, and the
//! translation of storage errors. One implementation, driven by the kinds table.

mod create;
mod delete;
mod field_validation;
mod list;
mod managed_fields;
#[cfg(test)]
mod patch_tests;
mod subresource;
mod update;
mod watch;

pub use delete::{parse_propagation, DeleteOptions, DeleteOutcome};
pub use field_validation::{FieldValidation, Warnings};
pub use list::{ListOptions, ListPage};
pub use subresource::ScaleChange;
pub use update::PatchType;
pub use watch::{WatchFrame, WatchOptions};

use crate::clock::{rfc3339, Clock};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::kinds::{Generation, Kind, KindTable, Subresource};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use storage::{object_key, Storage, Stored};

/// Options every write takes (query parameters `dryRun`, `fieldManager`, `fieldValidation`).
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    pub dry_run: bool,
    pub field_manager: Option<String>,
    /// What to do with unknown and duplicate fields of the body (default `Warn`).
    pub field_validation: FieldValidation,
    /// Paths of the fields the request body repeats, as the HTTP layer found them while
    /// decoding it (the registry reports them with the unknown fields, per `field_validation`).
    pub duplicate_fields: Vec<String>,
    /// Where the request's warnings are collected (answered as `Warning` headers).
    pub warnings: Warnings,
    /// `force`: a server-side apply takes the fields other managers own.
    pub force: bool,
    /// The subresource a write's managedFields entry names (`scale` for writes through it).
    pub(crate) subresource: Option<&'static str>,
    /// The managedFields were already computed (by an apply).
    pub(crate) tracked: bool,
}

impl WriteOptions {
    /// Record the managedFields of a write (unless an apply did, or no manager is known).
    fn track(
        &self,
        kind: &Kind,
        sub: Option<&'static str>,
        now: &str,
        old: Option<&Value>,
        new: &mut Value,
    ) {
        let Some(manager) = self.field_manager.as_deref().filter(|_| !self.tracked) else {
            return;
        };
        managed_fields::Writer {
            kind,
            manager,
            subresource: self.subresource.or(sub).unwrap_or(""),
            now,
        }
        .update(old, new);
    }
}

/// The API server's state: storage, the kinds it serves and its clock.
pub struct Registry {
    pub storage: Arc<dyn Storage>,
    pub kinds: KindTable,
    pub clock: Arc<dyn Clock>,
    /// Set once the server shuts down (`end_watches`): open watches then end.
    shutting_down: tokio::sync::watch::Sender<bool>,
    /// Who answers the kubelet subresources (`pods/log`); unset when no nodes run.
    node_agent: std::sync::OnceLock<Arc<dyn crate::node_agent::NodeAgent>>,
}

/// Which objects a request is about: a kind, in a namespace (None for cluster-scoped kinds
/// or for a list across namespaces).
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub kind: &'static Kind,
    pub namespace: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub fn key(&self, name: &str) -> String {
        let (g, r) = self.kind.storage_resource();
        object_key(g, r, self.namespace.unwrap_or(""), name)
    }

    pub fn prefix(&self) -> String {
        let (g, r) = self.kind.storage_resource();
        storage::collection_prefix(g, r, self.namespace)
    }

    pub fn not_found(&self, name: &str) -> ApiError {
        ApiError::not_found(self.kind.plural, self.kind.group, name)
    }

    pub fn storage_err(&self, e: storage::StorageError, name: &str) -> ApiError {
        ApiError::from_storage(e, self.kind.plural, self.kind.group, name)
    }
}

impl Registry {
    pub fn new(storage: Arc<dyn Storage>, clock: Arc<dyn Clock>) -> Self {
        Registry {
            storage,
            kinds: KindTable::builtin(),
            clock,
            shutting_down: tokio::sync::watch::Sender::new(false),
            node_agent: std::sync::OnceLock::new(),
        }
    }

    /// Route the kubelet subresources to `agent` (once; later calls are ignored).
    pub fn set_node_agent(&self, agent: Arc<dyn crate::node_agent::NodeAgent>) {
        let _ = self.node_agent.set(agent);
    }

    pub fn node_agent(&self) -> Option<Arc<dyn crate::node_agent::NodeAgent>> {
        self.node_agent.get().cloned()
    }

    /// End every open watch, now and as they are opened (graceful shutdown: a watch would
    /// otherwise hold its connection, and the shutdown, until it times out). Clients see the
    /// stream end as at a timeout and watch again.
    pub fn end_watches(&self) {
        self.shutting_down.send_replace(true);
    }

    pub fn now(&self) -> String {
        rfc3339(self.clock.now())
    }

    /// Wait until a write is on disk before acknowledging it.
    async fn durable(&self, stored: &Stored) -> ApiResult<()> {
        self.storage
            .durable(stored.rv)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))
    }

    /// GET one object: the stored bytes in this kind's view.
    pub fn get(&self, t: Target<'_>, name: &str) -> ApiResult<Stored> {
        let stored = self
            .storage
            .get(&t.key(name))
            .map_err(|e| t.storage_err(e, name))?;
        Ok(to_view(t.kind, stored))
    }

    /// Create the namespaces every cluster has, if missing.
    pub async fn bootstrap(&self) -> ApiResult<()> {
        let ns = self
            .kinds
            .get("", "v1", "namespaces")
            .expect("namespaces kind");
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let t = Target {
                kind: ns,
                namespace: None,
            };
            match self
                .create(
                    t,
                    json!({"metadata": {"name": name}}),
                    &WriteOptions::default(),
                )
                .await
            {
                Ok(_) => {}
                Err(e) if e.reason == "AlreadyExists" => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Refuse writes into a namespace that is missing (404) or terminating (403).
    fn check_namespace_open(&self, t: Target<'_>, name: &str) -> ApiResult<()> {
        let Some(ns) = t.namespace.filter(|_| t.kind.namespaced) else {
            return Ok(());
        };
        match self.storage.get(&object_key("", "namespaces", "", ns)) {
            Err(_) => Err(ApiError::not_found("namespaces", "", ns)),
            // The stored bytes are serde_json's output (keys never escaped): a namespace
            // without the key cannot be terminating, so skip parsing it on every create.
            Ok(s) if !contains(&s.bytes, b"\"deletionTimestamp\"") => Ok(()),
            Ok(s) => {
                let v = s.value();
                if v.pointer("/metadata/deletionTimestamp")
                    .is_some_and(|x| !x.is_null())
                {
                    Err(ApiError::forbidden(
                        t.kind.plural,
                        t.kind.group,
                        name,
                        &format!("unable to create new content in namespace {ns} because it is being terminated"),
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Convert a stored object into the kind's view (alternate views such as events.k8s.io).
pub fn to_view(kind: &Kind, stored: Stored) -> Stored {
    match kind.storage {
        None => stored,
        Some(view) => {
            let v = (view.from_storage)(stored.value());
            Stored {
                rv: stored.rv,
                bytes: serde_json::to_vec(&v).unwrap_or_default().into(),
            }
        }
    }
}

/// Check `apiVersion`/`kind` of a body against the URL's kind (filling them in when absent).
pub fn check_type_meta(kind: &Kind, obj: &mut Value) -> ApiResult<()> {
    let Some(m) = obj.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON or YAML object",
        ));
    };
    let want_av = kind.api_version();
    match m.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            m.insert("apiVersion".into(), json!(want_av));
        }
        Some(av) if av == want_av => {}
        Some(av) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({want_av})"
            )))
        }
    }
    match m.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            m.insert("kind".into(), json!(kind.kind));
        }
        Some(k) if k == kind.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                kind.kind
            )))
        }
    }
    match m.get("metadata") {
        None | Some(Value::Null) => {
            m.insert("metadata".into(), Value::Object(Map::new()));
        }
        Some(Value::Object(_)) => {}
        Some(_) => return Err(decode_error(kind, "metadata must be an object")),
    }
    Ok(())
}

/// kube-apiserver's message for a body that does not decode as the kind.
pub fn decode_error(kind: &Kind, detail: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{} in version \"{}\" cannot be handled as a {}: {detail}",
        kind.kind, kind.version, kind.kind
    ))
}

/// Check that the object decodes as its typed struct; a wrong JSON type is reported in Go's
/// words (as kube-apiserver's decoder reports it), anything else in the typed decoder's.
fn decode_check(kind: &Kind, obj: &Value) -> ApiResult<()> {
    (kind.decode_check)(obj).map_err(|e| {
        let api = crate::openapi::get();
        let detail = api
            .definition_of(kind)
            .and_then(|root| crate::openapi::go_types::type_error(api.definitions(), root, obj))
            .unwrap_or(e);
        decode_error(kind, &detail)
    })
}

fn meta(obj: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    obj.get("metadata")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    crate::kinds::util::obj_mut(obj, "metadata")
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    meta(obj).get(field).and_then(Value::as_str).unwrap_or("")
}

/// Name and metadata validation common to every kind.
fn validate_meta(kind: &Kind, obj: &Value, errs: &mut Vec<FieldError>) {
    let name = meta_str(obj, "name");
    if name.is_empty() {
        errs.push(FieldError::required_msg(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        let msgs = if kind.strategy.name_is_label() {
            apimachinery::names::is_dns1123_label(name)
        } else {
            apimachinery::names::is_dns1123_subdomain(name)
        };
        for m in msgs {
            errs.push(FieldError::invalid("metadata.name", &json!(name), &m));
        }
    }
    if let Some(labels) = meta(obj).get("labels") {
        match labels.as_object() {
            None if !labels.is_null() => errs.push(FieldError::invalid(
                "metadata.labels",
                labels,
                "must be a map",
            )),
            None => {}
            Some(m) => {
                for (k, v) in m {
                    for msg in apimachinery::names::is_qualified_name(k) {
                        errs.push(FieldError::invalid("metadata.labels", &json!(k), &msg));
                    }
                    let val = v.as_str().unwrap_or("");
                    for msg in apimachinery::names::is_valid_label_value(val) {
                        errs.push(FieldError::invalid(
                            format!("metadata.labels[{k}]"),
                            v,
                            &msg,
                        ));
                    }
                }
            }
        }
    }
}

/// Validate a new or updated object: metadata rules plus the kind's own.
/// The kind's admission step that reads the store; its field errors answer 422 Invalid.
fn admit(kind: &Kind, obj: &mut Value, old: Option<&Value>, store: &dyn Storage) -> ApiResult<()> {
    let errs = kind.strategy.admit(obj, old, store);
    if errs.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(
        kind.kind,
        kind.group,
        meta_str(obj, "name"),
        errs,
    ))
}

fn validate(kind: &Kind, obj: &Value, old: Option<&Value>) -> ApiResult<()> {
    let mut errs = Vec::new();
    validate_meta(kind, obj, &mut errs);
    errs.extend(kind.strategy.validate(obj));
    if let Some(old) = old {
        errs.extend(kind.strategy.validate_update(obj, old));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            kind.kind,
            kind.group,
            meta_str(obj, "name"),
            errs,
        ))
    }
}

/// Whether the parts of an object that bump `generation` differ.
fn generation_changed(kind: &Kind, new: &Value, old: &Value) -> bool {
    match kind.generation {
        Generation::None => false,
        Generation::Spec => new.get("spec") != old.get("spec"),
        Generation::SpecOrAnnotations => {
            new.get("spec") != old.get("spec")
                || meta(new).get("annotations") != meta(old).get("annotations")
        }
    }
}

/// Whether the kind keeps its status apart from the main endpoint.
fn has_status(kind: &Kind) -> bool {
    kind.has(Subresource::Status)
}
