//! `metadata.managedFields` on every write, and server-side apply (kube-apiserver's
//! `fieldmanager`): decoding and encoding the entries, the Update bookkeeping (changed fields
//! move to the writer, removed fields leave their owners), and Apply (merge the configuration,
//! drop what the applier no longer applies, detect conflicts with other owners), over the pure
//! walks of [`crate::fieldset`].

use crate::error::{ApiError, ApiResult, FieldError};
use crate::fieldset::{self, schema::ShapeId, FieldSet};
use crate::kinds::Kind;
use serde_json::{json, Map, Value};

/// The annotation client-side apply keeps the last applied configuration in.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Metadata fields no manager owns (upstream's `stripmeta`), as path elements.
const SYSTEM_META: &[&str] = &[
    "f:name",
    "f:namespace",
    "f:creationTimestamp",
    "f:selfLink",
    "f:uid",
    "f:generation",
    "f:managedFields",
    "f:resourceVersion",
];

/// Struct fields that are not pointers in the Go types, so exist (empty) in the zero object a
/// create is compared against: an Update entry lists no `.` for them.
const ALWAYS_PRESENT: &[&str] = &[
    "metadata",
    "spec",
    "status",
    "template",
    "strategy",
    "updateStrategy",
    "jobTemplate",
    "resources",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    Apply,
    Update,
}

/// One `managedFields` entry.
#[derive(Clone, Debug)]
struct Entry {
    manager: String,
    operation: Operation,
    api_version: String,
    time: Option<String>,
    subresource: String,
    set: FieldSet,
}

impl Entry {
    fn is(&self, manager: &str, op: Operation, subresource: &str) -> bool {
        self.manager == manager && self.operation == op && self.subresource == subresource
    }

    /// How a conflict names the manager (`"kubectl" with subresource "scale" using apps/v1`).
    fn describe(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            s.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == Operation::Update {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }

    fn encode(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), json!(self.manager));
        let op = match self.operation {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        };
        m.insert("operation".into(), json!(op));
        m.insert("apiVersion".into(), json!(self.api_version));
        if let Some(t) = &self.time {
            m.insert("time".into(), json!(t));
        }
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), self.set.to_fields_v1());
        if !self.subresource.is_empty() {
            m.insert("subresource".into(), json!(self.subresource));
        }
        Value::Object(m)
    }
}

/// The entries of an object; `None` when they do not decode (then the live ones are kept,
/// as kube-apiserver does). An entry of another operation than `Apply` counts as `Update`,
/// so `[{}]` decodes as one empty entry, which is dropped: that clears them.
fn decode(obj: &Value) -> Option<Vec<Entry>> {
    let list = match obj.pointer("/metadata/managedFields") {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(Value::Array(l)) => l,
        Some(_) => return None,
    };
    let str_of = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    list.iter()
        .map(|e| {
            let e = e.as_object().map(|_| e)?;
            let fields_type = str_of(e, "fieldsType");
            if !fields_type.is_empty() && fields_type != "FieldsV1" {
                return None;
            }
            let set = match e.get("fieldsV1") {
                None | Some(Value::Null) => FieldSet::default(),
                Some(v) => FieldSet::from_fields_v1(v).ok()?,
            };
            Some(Entry {
                manager: str_of(e, "manager"),
                operation: if str_of(e, "operation") == "Apply" {
                    Operation::Apply
                } else {
                    Operation::Update
                },
                api_version: str_of(e, "apiVersion"),
                time: e.get("time").and_then(Value::as_str).map(str::to_string),
                subresource: str_of(e, "subresource"),
                set,
            })
        })
        .collect()
}

/// Write the entries into the object, ordered as kube-apiserver orders them (Apply first,
/// then by time, manager, subresource); none at all removes the field.
fn encode(mut entries: Vec<Entry>, obj: &mut Value) {
    entries.retain(|e| !e.set.is_empty());
    entries.sort_by(|a, b| {
        (
            a.operation == Operation::Update,
            &a.time,
            &a.manager,
            &a.subresource,
        )
            .cmp(&(
                b.operation == Operation::Update,
                &b.time,
                &b.manager,
                &b.subresource,
            ))
    });
    let meta = crate::kinds::util::obj_mut(obj, "metadata");
    if entries.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert(
            "managedFields".into(),
            Value::Array(entries.iter().map(Entry::encode).collect()),
        );
    }
}

/// Who writes, and through which endpoint.
pub(crate) struct Writer<'a> {
    pub kind: &'a Kind,
    pub manager: &'a str,
    /// `""` for the main resource, else `status`, `scale`, ...
    pub subresource: &'a str,
    pub now: &'a str,
}

impl Writer<'_> {
    fn shape(&self) -> (&'static fieldset::schema::Schema, ShapeId) {
        let s = crate::openapi::field_schema();
        let root = crate::openapi::get()
            .definition_of(self.kind)
            .map(|d| s.root(d))
            .unwrap_or(fieldset::schema::UNTYPED);
        (s, root)
    }

    /// Paths this write never owns: identity metadata, and the status (main resource of a
    /// kind with a status subresource) or the spec (its status subresource) it cannot change.
    fn ignore(&self, set: &mut FieldSet) {
        set.remove_subtree(&["f:apiVersion"]);
        set.remove_subtree(&["f:kind"]);
        for f in SYSTEM_META {
            set.remove_subtree(&["f:metadata", f]);
        }
        match self.subresource {
            "" if super::has_status(self.kind) => set.remove_subtree(&["f:status"]),
            "status" => {
                set.remove_subtree(&["f:spec"]);
                set.remove_subtree(&["f:metadata", "f:labels"]);
            }
            _ => {}
        }
    }

    fn entry<'e>(&self, entries: &'e mut Vec<Entry>, op: Operation) -> &'e mut Entry {
        let i = match entries
            .iter()
            .position(|e| e.is(self.manager, op, self.subresource))
        {
            Some(i) => i,
            None => {
                entries.push(Entry {
                    manager: self.manager.to_string(),
                    operation: op,
                    api_version: self.kind.api_version(),
                    time: None,
                    subresource: self.subresource.to_string(),
                    set: FieldSet::default(),
                });
                entries.len() - 1
            }
        };
        &mut entries[i]
    }

    /// Record an Update (create, PUT, non-apply PATCH, status, scale): the fields it added or
    /// changed become the writer's (taken from other owners), the fields it removed leave
    /// every owner. Managed fields the client sent are taken as given when they decode.
    pub fn update(&self, old: Option<&Value>, new: &mut Value) {
        let sent = if self.subresource.is_empty() {
            decode(new).filter(|e| !e.is_empty())
        } else {
            None
        };
        let mut entries = sent.or_else(|| old.and_then(decode)).unwrap_or_default();
        let (schema, root) = self.shape();
        let before = with_zero_structs(old, new);
        let c = fieldset::compare(schema, root, &before, new);
        let mut changed = c.added;
        changed.union(&c.modified);
        self.ignore(&mut changed);
        for e in entries.iter_mut() {
            e.set = e.set.difference(&c.removed).difference(&changed);
        }
        if !changed.is_empty() {
            let mine = self.entry(&mut entries, Operation::Update);
            mine.set.union(&changed);
            mine.time = Some(self.now.to_string());
        }
        encode(entries, new);
    }

    /// Server-side apply of `config` to `live` (None: the object is created): the merged
    /// object with its managed fields, or a 409 listing the fields other managers own with
    /// other values (unless `force`).
    pub fn apply(&self, live: Option<&Value>, config: &Value, force: bool) -> ApiResult<Value> {
        if config
            .pointer("/metadata/managedFields")
            .is_some_and(|m| !m.is_null())
        {
            return Err(ApiError::bad_request("metadata.managedFields must be nil"));
        }
        let (schema, root) = self.shape();
        let empty = json!({});
        let base = live.unwrap_or(&empty);
        let mut entries = live.and_then(decode).unwrap_or_default();
        let mut merged = fieldset::merge(schema, root, base, config);
        let mut applied = fieldset::to_set(schema, root, config);
        self.ignore(&mut applied);
        let last = std::mem::replace(
            &mut self.entry(&mut entries, Operation::Apply).set,
            applied.clone(),
        );
        if !last.is_empty() {
            let mut kept = identity_fields();
            entries.iter().for_each(|e| kept.union(&e.set));
            fieldset::remove(
                schema,
                root,
                &mut merged,
                &last.difference(&kept),
                Some(&kept),
            );
        }
        let before = with_zero_structs(live, &merged);
        let c = fieldset::compare(schema, root, &before, &merged);
        let mut changed = c.added;
        changed.union(&c.modified);
        self.ignore(&mut changed);
        let force = force || self.allowed_by_last_applied(live, &entries, &changed);
        let conflicts: Vec<(String, Vec<Vec<String>>)> = entries
            .iter()
            .filter(|e| !e.is(self.manager, Operation::Apply, self.subresource))
            .map(|e| (e.describe(), e.set.intersection(&changed).paths()))
            .filter(|(_, paths)| !paths.is_empty())
            .collect();
        if !force && !conflicts.is_empty() {
            return Err(conflict_error(conflicts));
        }
        let object_changed = live.is_none_or(|l| !same_without_managed(l, &merged));
        for e in entries.iter_mut() {
            if e.is(self.manager, Operation::Apply, self.subresource) {
                if object_changed || e.set != last || e.time.is_none() {
                    e.time = Some(self.now.to_string());
                }
            } else {
                e.set = e.set.difference(&changed).difference(&c.removed);
            }
        }
        if self.manager == "kubectl" {
            sync_last_applied(live, config, &mut merged);
        }
        encode(entries, &mut merged);
        Ok(merged)
    }

    /// kube-apiserver's upgrade from client-side apply: `kubectl` may take, without a
    /// conflict, the fields of the live object's last-applied configuration, while the live
    /// object still has the values it lists.
    fn allowed_by_last_applied(
        &self,
        live: Option<&Value>,
        entries: &[Entry],
        changed: &FieldSet,
    ) -> bool {
        if self.manager != "kubectl" {
            return false;
        }
        let Some(live) = live else { return false };
        let Some(last) = live
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(LAST_APPLIED))
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        else {
            return false;
        };
        let (schema, root) = self.shape();
        if !fieldset::compare(schema, root, &last, live)
            .modified
            .is_empty()
        {
            return false;
        }
        let allowed = fieldset::to_set(schema, root, &last);
        entries
            .iter()
            .filter(|e| !e.is(self.manager, Operation::Apply, self.subresource))
            .all(|e| e.set.intersection(changed).difference(&allowed).is_empty())
    }
}

/// The fields no manager owns but that an apply must never prune.
fn identity_fields() -> FieldSet {
    let mut s = FieldSet::default();
    s.insert(&["f:apiVersion"]);
    s.insert(&["f:kind"]);
    s.insert(&["f:status"]);
    for f in SYSTEM_META {
        s.insert(&["f:metadata", f]);
    }
    s
}

/// The object a write is compared against, as the Go types see it: the non-pointer structs
/// on the way down are there even when empty (the zero object, for a create).
fn with_zero_structs<'a>(old: Option<&'a Value>, new: &Value) -> std::borrow::Cow<'a, Value> {
    fn missing(old: &Value, new: &Value) -> bool {
        ALWAYS_PRESENT
            .iter()
            .any(|k| match (old.get(k), new.get(k)) {
                (None, Some(n)) => n.is_object(),
                (Some(o), Some(n)) if o.is_object() && n.is_object() => missing(o, n),
                _ => false,
            })
    }
    fn fill(old: &mut Value, new: &Value) {
        let Some(m) = old.as_object_mut() else { return };
        for k in ALWAYS_PRESENT {
            if let Some(n) = new.get(k).filter(|n| n.is_object()) {
                let o = m.entry(*k).or_insert_with(|| json!({}));
                fill(o, n);
            }
        }
    }
    let empty = json!({});
    let base = old.unwrap_or(&empty);
    if !missing(base, new) {
        return match old {
            Some(o) => std::borrow::Cow::Borrowed(o),
            None => std::borrow::Cow::Owned(empty),
        };
    }
    let mut filled = base.clone();
    fill(&mut filled, new);
    std::borrow::Cow::Owned(filled)
}

fn same_without_managed(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
        }
        v
    };
    strip(a) == strip(b)
}

/// kubectl's server-side apply keeps a client-side-apply annotation in step with what it
/// applied (upstream's `lastAppliedUpdater`), so a later client-side apply still works.
fn sync_last_applied(live: Option<&Value>, config: &Value, merged: &mut Value) {
    let has = live
        .and_then(|l| l.pointer("/metadata/annotations"))
        .and_then(|a| a.get(LAST_APPLIED))
        .is_some();
    if !has {
        return;
    }
    let mut c = config.clone();
    if let Some(a) = c
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(LAST_APPLIED);
    }
    let text = format!("{}\n", c);
    let meta = crate::kinds::util::obj_mut(merged, "metadata");
    if let Some(a) = meta
        .entry("annotations")
        .or_insert_with(|| json!({}))
        .as_object_mut()
    {
        a.insert(LAST_APPLIED.into(), Value::String(text));
    }
}

/// The 409 of an apply that conflicts, worded as kube-apiserver words it.
fn conflict_error(mut conflicts: Vec<(String, Vec<Vec<String>>)>) -> ApiError {
    conflicts.sort_by(|a, b| a.0.cmp(&b.0));
    let total: usize = conflicts.iter().map(|(_, p)| p.len()).sum();
    let causes: Vec<FieldError> = conflicts
        .iter()
        .flat_map(|(who, paths)| {
            paths.iter().map(move |p| FieldError {
                reason: "FieldManagerConflict",
                field: fieldset::path_string(p),
                message: format!("conflict with {who}"),
            })
        })
        .collect();
    let message = if total == 1 {
        format!(
            "Apply failed with 1 conflict: {}: {}",
            causes[0].message, causes[0].field
        )
    } else {
        let mut lines = Vec::new();
        for (who, paths) in &conflicts {
            lines.push(format!("conflicts with {who}:"));
            lines.extend(
                paths
                    .iter()
                    .map(|p| format!("- {}", fieldset::path_string(p))),
            );
        }
        format!("Apply failed with {total} conflicts: {}", lines.join("\n"))
    };
    ApiError::apply_conflict(message, causes)
}
