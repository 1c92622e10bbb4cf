//! Strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch): applying patches
//! (`kubectl patch`, the PATCH verb) and creating the two-way (`kubectl edit`/`set`) and
//! three-way (`kubectl apply`) patches, driven by a schema of patch strategies and merge keys.
//!
//! Semantics follow upstream `StrategicMergePatch`, `CreateTwoWayMergePatch` and
//! `CreateThreeWayMergePatch` (with overwrite): maps merge recursively and `null` deletes a
//! key; lists whose field has the `merge` strategy merge items by merge key (or union
//! primitives); other lists are replaced; `$patch`, `$retainKeys`, `$setElementOrder/<list>`
//! and `$deleteFromPrimitiveList/<list>` directives are honoured. Without a schema every list
//! is replaced, as in JSON merge patch.

mod common;
mod diff;
mod merge;
mod schema;

#[cfg(test)]
mod tests;

use std::fmt;

use serde_json::{Map, Value};

pub use schema::{
    PatchMeta, PatchSchema, SchemaCursor, PATCH_MERGE_KEY_EXTENSION, PATCH_STRATEGY_EXTENSION,
};

use common::{
    err_bad_json_doc, DELETE_FROM_PRIMITIVE_LIST_PREFIX, DIRECTIVE_MARKER, RETAIN_KEYS_DIRECTIVE,
    SET_ELEMENT_ORDER_PREFIX,
};
use diff::{diff_maps, DiffOptions};
use merge::{merge_map, APPLY, COMBINE_PATCHES};

/// A strategic merge patch failure; `Display` is upstream's error text (e.g.
/// `map: map[image:x] does not contain declared merge key: name`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchError(String);

impl PatchError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        PatchError(msg.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatchError {}

/// A JSON object, or `null` read as `{}`; anything else is upstream's "invalid JSON document".
fn object(doc: &Value) -> Result<Map<String, Value>, PatchError> {
    match doc {
        Value::Object(m) => Ok(m.clone()),
        Value::Null => Ok(Map::new()),
        _ => Err(err_bad_json_doc()),
    }
}

/// Applies a strategic merge patch to `original` (upstream `StrategicMergeMapPatch`).
/// `schema` is the type of the document; [`SchemaCursor::none`] gives JSON-merge-patch-like
/// behaviour. Both documents must be JSON objects.
pub fn apply(
    original: &Value,
    patch: &Value,
    schema: SchemaCursor<'_>,
) -> Result<Value, PatchError> {
    let merged = merge_map(object(original)?, object(patch)?, schema, APPLY)?;
    Ok(Value::Object(merged))
}

/// The patch that turns `original` into `modified` (upstream `CreateTwoWayMergePatch`, as
/// `kubectl edit`, `kubectl set image` and `kubectl label` send it), including
/// `$setElementOrder` lists for merged lists that change.
pub fn create_two_way_merge_patch(
    original: &Value,
    modified: &Value,
    schema: SchemaCursor<'_>,
) -> Result<Value, PatchError> {
    let opts = DiffOptions {
        set_element_order: true,
        ..DiffOptions::default()
    };
    let patch = diff_maps(&object(original)?, &object(modified)?, schema, opts)?;
    Ok(Value::Object(patch))
}

/// `kubectl apply`'s patch (upstream `CreateThreeWayMergePatch` with overwrite): deletions of
/// what `modified` dropped relative to `original` (the last-applied configuration), plus
/// every field of `modified` that differs from `current` (the live object). Fields only the
/// live object has are left alone.
pub fn create_three_way_merge_patch(
    original: &Value,
    modified: &Value,
    current: &Value,
    schema: SchemaCursor<'_>,
) -> Result<Value, PatchError> {
    let original = object(original)?;
    let modified = object(modified)?;
    let current = object(current)?;
    let delta = diff_maps(
        &current,
        &modified,
        schema,
        DiffOptions {
            ignore_deletions: true,
            set_element_order: true,
            ..DiffOptions::default()
        },
    )?;
    let deletions = diff_maps(
        &original,
        &modified,
        schema,
        DiffOptions {
            set_element_order: true,
            ignore_changes_and_additions: true,
            ..DiffOptions::default()
        },
    )?;
    let patch = merge_map(deletions, delta, schema, COMBINE_PATCHES)?;
    Ok(Value::Object(patch))
}

/// Whether a key is a patch directive (`$patch`, `$retainKeys`, `$setElementOrder/...`,
/// `$deleteFromPrimitiveList/...`).
pub fn is_directive_key(key: &str) -> bool {
    key == DIRECTIVE_MARKER
        || key == RETAIN_KEYS_DIRECTIVE
        || key.starts_with(&format!("{SET_ELEMENT_ORDER_PREFIX}/"))
        || key.starts_with(&format!("{DELETE_FROM_PRIMITIVE_LIST_PREFIX}/"))
}

/// Removes directive keys left anywhere in a document. Like upstream, [`apply`] copies a
/// patch subtree verbatim where the original has nothing to merge it with, so directives
/// inside it survive; upstream then drops them when decoding into typed objects, and a
/// server storing JSON should call this on the patched result instead.
pub fn strip_patch_directives(doc: &mut Value) {
    match doc {
        Value::Object(m) => {
            m.retain(|k, _| !is_directive_key(k));
            m.values_mut().for_each(strip_patch_directives);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_patch_directives),
        _ => {}
    }
}
