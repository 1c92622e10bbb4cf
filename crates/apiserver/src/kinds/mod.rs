//! The kinds table: every served resource is one `Kind` row (names, scope, subresources,
//! selectable fields, the typed schema it must decode as, its Table printer) plus a
//! `Strategy` for what is particular to it (defaults, validation, status and generation
//! rules, graceful deletion).
//! Handlers, storage and the registry never match on a kind; they read this table.

use crate::error::FieldError;
use serde_json::Value;

pub mod admission;
pub mod apps;
pub mod batch;
pub mod core;
pub mod defaults;
pub mod other;
pub mod util;

/// Subresources a kind serves besides the main endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subresource {
    Status,
    Scale,
    Binding,
    Finalize,
    /// `pods/log`: served by the node agent.
    Log,
    /// `pods/exec`: a command in a container over a WebSocket, run by the node agent.
    Exec,
    /// `pods/attach`: a running container's main process over a WebSocket, by the node agent.
    Attach,
    /// `pods/portforward`: connections to a pod's ports over a WebSocket, by the node agent.
    PortForward,
}

impl Subresource {
    /// The subresource's path segment (`status`, `scale`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Subresource::Status => "status",
            Subresource::Scale => "scale",
            Subresource::Binding => "binding",
            Subresource::Finalize => "finalize",
            Subresource::Log => "log",
            Subresource::Exec => "exec",
            Subresource::Attach => "attach",
            Subresource::PortForward => "portforward",
        }
    }
}

/// When `metadata.generation` is bumped on update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    /// The kind has no generation.
    None,
    /// Bumped when `spec` changes (ReplicaSet, StatefulSet, Job, CronJob, Pod, ...).
    Spec,
    /// Bumped when `spec` or `metadata.annotations` change (Deployment).
    SpecOrAnnotations,
}

/// The default propagation policy of a DELETE without one (§7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

/// Where a scalable kind keeps its replicas and selector (for the `scale` subresource).
#[derive(Clone, Copy, Debug)]
pub struct ScaleSpec {
    /// Default `spec.replicas` when unset.
    pub default_replicas: i64,
}

/// One served resource.
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub namespaced: bool,
    pub subresources: &'static [Subresource],
    /// Field selectors accepted besides `metadata.name` and `metadata.namespace`.
    pub selectable_fields: &'static [&'static str],
    pub generation: Generation,
    pub scale: Option<ScaleSpec>,
    pub delete_propagation: Propagation,
    /// Whether a DELETE that removes the object answers with the object (else a Status).
    pub returns_deleted_object: bool,
    /// Decodes the object as its typed k8s-openapi struct: `Err` names what is malformed.
    pub decode_check: fn(&Value) -> Result<(), String>,
    /// Where the objects are stored (another kind's store for alternate views such as
    /// events.k8s.io/v1 Event), and how to convert between this view and the stored one.
    pub storage: Option<&'static View>,
    pub strategy: &'static dyn Strategy,
    /// The server-side Table printer (`crate::printers`); `Name`, `Created At` by default.
    pub table: &'static crate::table::TableSpec,
}

/// An alternate API view over another kind's store.
pub struct View {
    pub group: &'static str,
    pub plural: &'static str,
    /// This view → stored form.
    pub to_storage: fn(Value) -> Value,
    /// Stored form → this view.
    pub from_storage: fn(Value) -> Value,
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kind({}/{} {})", self.group, self.version, self.plural)
    }
}

fn no_check(_: &Value) -> Result<(), String> {
    Ok(())
}

impl Kind {
    /// The row every kind starts from (`Kind { kind: .., ..Kind::DEFAULT }`).
    pub const DEFAULT: Kind = Kind {
        group: "",
        version: "v1",
        kind: "",
        plural: "",
        singular: "",
        short_names: &[],
        categories: &[],
        namespaced: true,
        subresources: &[],
        selectable_fields: &[],
        generation: Generation::None,
        scale: None,
        delete_propagation: Propagation::Background,
        returns_deleted_object: false,
        decode_check: no_check,
        storage: None,
        strategy: &Plain,
        table: &crate::table::DEFAULT_TABLE,
    };

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn has(&self, sub: Subresource) -> bool {
        self.subresources.contains(&sub)
    }

    /// Group and resource whose store holds this kind's objects.
    pub fn storage_resource(&self) -> (&'static str, &'static str) {
        match self.storage {
            Some(v) => (v.group, v.plural),
            None => (self.group, self.plural),
        }
    }

    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }
}

/// What is particular to a kind. Every method has the generic behaviour as its default.
pub trait Strategy: Sync {
    /// Fill in defaults (runs on create and on every update, as the decoder's defaulting does).
    fn default(&self, _obj: &mut Value) {}
    /// Kind-specific part of preparing a new object (the generic part clears status, sets
    /// generation and so on before this runs).
    fn prepare_for_create(&self, _obj: &mut Value) {}
    /// Kind-specific part of preparing an update through the main endpoint.
    fn prepare_for_update(&self, _new: &mut Value, _old: &Value) {}
    /// Validation of a new object besides name rules.
    fn validate(&self, _obj: &Value) -> Vec<FieldError> {
        Vec::new()
    }
    /// Validation of an update (immutable fields and so on) besides `validate(new)`.
    fn validate_update(&self, _new: &Value, _old: &Value) -> Vec<FieldError> {
        Vec::new()
    }
    /// The status a new object starts with (`None`: no status).
    fn initial_status(&self, _obj: &Value) -> Option<Value> {
        None
    }
    /// Graceful deletion: the grace period to apply, or `None` to delete at once (pods).
    fn grace_period(&self, _obj: &Value, _requested: Option<i64>) -> Option<i64> {
        None
    }
    /// Called when a DELETE marks the object for deletion (Namespace: phase Terminating).
    fn on_delete(&self, _obj: &mut Value) {}
    /// Why this object may never be deleted (admission, e.g. NamespaceLifecycle's immortal
    /// namespaces), or `None`.
    fn delete_forbidden(&self, _obj: &Value) -> Option<&'static str> {
        None
    }
    /// Whether something besides `metadata.finalizers` holds a deleted object (Namespace:
    /// `spec.finalizers`, emptied through `/finalize`).
    fn deletion_blocked(&self, _obj: &Value) -> bool {
        false
    }
    /// Whether names must be DNS-1123 labels (true) or subdomains (false).
    fn name_is_label(&self) -> bool {
        false
    }
    /// Admission that reads the store (Service IP allocation, the default StorageClass): runs
    /// after `prepare_for_create` (`old` None) or `prepare_for_update`, before validation.
    fn admit(
        &self,
        _obj: &mut Value,
        _old: Option<&Value>,
        _store: &dyn storage::Storage,
    ) -> Vec<FieldError> {
        Vec::new()
    }
}

/// The plain strategy: generic behaviour only.
pub struct Plain;
impl Strategy for Plain {}

/// Decode-check against a typed k8s-openapi struct.
pub fn decodes_as<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
    T::deserialize(v).map(|_| ()).map_err(|e| e.to_string())
}

/// Every served kind.
pub fn all() -> Vec<&'static Kind> {
    let mut v: Vec<&'static Kind> = Vec::new();
    v.extend_from_slice(core::KINDS);
    v.extend_from_slice(apps::KINDS);
    v.extend_from_slice(batch::KINDS);
    v.extend_from_slice(other::KINDS);
    v
}

/// Lookup of kinds by group/version/plural, built once.
pub struct KindTable {
    kinds: Vec<&'static Kind>,
    by_resource:
        std::collections::HashMap<(&'static str, &'static str, &'static str), &'static Kind>,
}

impl KindTable {
    pub fn new(kinds: Vec<&'static Kind>) -> Self {
        let by_resource = kinds
            .iter()
            .map(|k| ((k.group, k.version, k.plural), *k))
            .collect();
        KindTable { kinds, by_resource }
    }

    pub fn builtin() -> Self {
        KindTable::new(all())
    }

    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<&'static Kind> {
        self.by_resource.get(&(group, version, plural)).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static Kind> + '_ {
        self.kinds.iter().copied()
    }

    /// The kind stored under a group/resource (the primary view, not an alternate one).
    pub fn by_storage(&self, group: &str, plural: &str) -> Option<&'static Kind> {
        self.kinds
            .iter()
            .copied()
            .find(|k| k.storage.is_none() && k.group == group && k.plural == plural)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_unique_group_version_resource() {
        let mut seen = std::collections::HashSet::new();
        for k in all() {
            assert!(
                seen.insert((k.group, k.version, k.plural)),
                "duplicate {}",
                k.plural
            );
        }
    }

    #[test]
    fn short_names_are_unique_across_primary_kinds() {
        // Alternate views (events.k8s.io Event) share their store kind's short names, as upstream.
        let mut seen = std::collections::HashSet::new();
        for k in all().into_iter().filter(|k| k.storage.is_none()) {
            for s in k.short_names {
                assert!(seen.insert(*s), "duplicate short name {s}");
            }
        }
    }
}
