//! Computing strategic merge patches from documents (upstream `diffMaps` and friends): the
//! two-way patch of `kubectl edit`/`set` and both halves of `kubectl apply`'s three-way patch.

use serde_json::{Map, Value};

use super::common::*;
use super::merge::merge_key_value_equal;
use super::schema::SchemaCursor;
use super::PatchError;
use crate::gofmt::go_v;

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DiffOptions {
    /// Emit `$setElementOrder/<list>` for merged lists.
    pub set_element_order: bool,
    /// Leave out changed and added fields (deletions only).
    pub ignore_changes_and_additions: bool,
    /// Leave out deleted fields (changes and additions only).
    pub ignore_deletions: bool,
    /// Emit `$retainKeys` (set for fields with the retainKeys strategy).
    pub build_retain_keys_directive: bool,
}

pub(crate) fn diff_maps(
    original: &Map<String, Value>,
    modified: &Map<String, Value>,
    schema: SchemaCursor<'_>,
    opts: DiffOptions,
) -> Result<Map<String, Value>, PatchError> {
    let mut patch = Map::new();
    let mut retain_keys = Vec::new();
    let mut keys: Vec<&String> = modified.keys().collect();
    keys.sort();
    for key in keys {
        let modified_value = &modified[key.as_str()];
        if opts.build_retain_keys_directive && !modified_value.is_null() {
            retain_keys.push(Value::String(key.clone()));
        }
        let Some(original_value) = original.get(key) else {
            if !opts.ignore_changes_and_additions {
                patch.insert(key.clone(), modified_value.clone());
            }
            continue;
        };
        if key == DIRECTIVE_MARKER {
            let (Some(o), Some(m)) = (original_value.as_str(), modified_value.as_str()) else {
                return Err(PatchError::new(format!(
                    "invalid value for special key: {DIRECTIVE_MARKER}"
                )));
            };
            if o != m {
                patch.insert(key.clone(), modified_value.clone());
            }
            continue;
        }
        if kind(original_value) != kind(modified_value) {
            if !opts.ignore_changes_and_additions {
                patch.insert(key.clone(), modified_value.clone());
            }
            continue;
        }
        match (original_value, modified_value) {
            (Value::Object(o), Value::Object(m)) => {
                handle_map_diff(key, o, m, &mut patch, schema, opts)?
            }
            (Value::Array(o), Value::Array(m)) => {
                handle_slice_diff(key, o, m, &mut patch, schema, opts)?
            }
            _ => replace_if_not_equal(key, original_value, modified_value, &mut patch, opts),
        }
    }
    if !opts.ignore_deletions {
        for key in original.keys() {
            if !modified.contains_key(key) {
                patch.insert(key.clone(), Value::Null);
            }
        }
    }
    if !retain_keys.is_empty()
        && (!patch.is_empty() || has_additional_new_field(original, modified))
    {
        patch.insert(
            RETAIN_KEYS_DIRECTIVE.to_string(),
            Value::Array(sort_scalars(retain_keys)),
        );
    }
    Ok(patch)
}

fn has_additional_new_field(original: &Map<String, Value>, modified: &Map<String, Value>) -> bool {
    original
        .iter()
        .any(|(k, v)| !v.is_null() && !modified.contains_key(k))
}

fn replace_if_not_equal(
    key: &str,
    original: &Value,
    modified: &Value,
    patch: &mut Map<String, Value>,
    opts: DiffOptions,
) {
    if !opts.ignore_changes_and_additions && original != modified {
        patch.insert(key.to_string(), modified.clone());
    }
}

fn handle_map_diff(
    key: &str,
    original: &Map<String, Value>,
    modified: &Map<String, Value>,
    patch: &mut Map<String, Value>,
    schema: SchemaCursor<'_>,
    mut opts: DiffOptions,
) -> Result<(), PatchError> {
    let (sub, meta) = schema.lookup_struct(key);
    let (retain_keys, strategy) = meta.retain_keys_and_strategy()?;
    opts.build_retain_keys_directive = retain_keys;
    if strategy == REPLACE_DIRECTIVE {
        if !opts.ignore_changes_and_additions {
            patch.insert(key.to_string(), Value::Object(modified.clone()));
        }
        return Ok(());
    }
    let value = diff_maps(original, modified, sub, opts)?;
    if !value.is_empty() {
        patch.insert(key.to_string(), Value::Object(value));
    }
    Ok(())
}

fn handle_slice_diff(
    key: &str,
    original: &[Value],
    modified: &[Value],
    patch: &mut Map<String, Value>,
    schema: SchemaCursor<'_>,
    mut opts: DiffOptions,
) -> Result<(), PatchError> {
    let (sub, meta) = schema.lookup_slice(key);
    let (retain_keys, strategy) = meta.retain_keys_and_strategy()?;
    if strategy != MERGE_DIRECTIVE {
        if !opts.ignore_changes_and_additions && original != modified {
            patch.insert(key.to_string(), Value::Array(modified.to_vec()));
        }
        return Ok(());
    }
    opts.build_retain_keys_directive = retain_keys;
    let (add, delete, order) = diff_lists(original, modified, sub, &meta.merge_key, opts)?;
    if !add.is_empty() {
        patch.insert(key.to_string(), Value::Array(add));
    }
    if !delete.is_empty() {
        patch.insert(
            format!("{DELETE_FROM_PRIMITIVE_LIST_PREFIX}/{key}"),
            Value::Array(delete),
        );
    }
    if !order.is_empty() {
        patch.insert(
            format!("{SET_ELEMENT_ORDER_PREFIX}/{key}"),
            Value::Array(order),
        );
    }
    Ok(())
}

type ListDiff = (Vec<Value>, Vec<Value>, Vec<Value>);

/// Patch list, primitive deletion list and `$setElementOrder` list of a merged list.
fn diff_lists(
    original: &[Value],
    modified: &[Value],
    schema: SchemaCursor<'_>,
    merge_key: &str,
    opts: DiffOptions,
) -> Result<ListDiff, PatchError> {
    if original.is_empty() {
        if modified.is_empty() || opts.ignore_changes_and_additions {
            return Ok(Default::default());
        }
        return Ok((modified.to_vec(), Vec::new(), Vec::new()));
    }
    let element_kind = slice_element_kind(&[original, modified])?;
    match element_kind {
        Kind::Object => {
            let (patch_list, delete_list) =
                diff_lists_of_maps(original, modified, schema, merge_key, opts)?;
            let mut patch_list =
                normalize_slice_order(patch_list, modified, merge_key, element_kind)?;
            let order_same = is_order_same(original, modified, merge_key)?;
            patch_list.extend(delete_list);
            let mut order = Vec::new();
            if opts.set_element_order
                && ((!opts.ignore_changes_and_additions && (!patch_list.is_empty() || !order_same))
                    || (!opts.ignore_deletions && !patch_list.is_empty()))
            {
                order = modified
                    .iter()
                    .map(|v| {
                        let mut m = Map::new();
                        m.insert(
                            merge_key.to_string(),
                            key_of(v, merge_key, Kind::Object).clone(),
                        );
                        Value::Object(m)
                    })
                    .collect();
            }
            Ok((patch_list, Vec::new(), order))
        }
        Kind::Array => Err(err_no_list_of_lists()),
        _ => {
            let (add, delete) = diff_lists_of_scalars(original, modified, opts);
            let add = normalize_slice_order(add, modified, merge_key, element_kind)?;
            let mut order = Vec::new();
            if opts.set_element_order
                && ((!opts.ignore_deletions && !delete.is_empty())
                    || (!opts.ignore_changes_and_additions && original != modified))
            {
                order = modified.to_vec();
            }
            Ok((add, delete, order))
        }
    }
}

fn is_order_same(
    original: &[Value],
    modified: &[Value],
    merge_key: &str,
) -> Result<bool, PatchError> {
    if original.len() != modified.len() {
        return Ok(false);
    }
    for (o, m) in original.iter().zip(modified) {
        if !merge_key_value_equal(o, m, merge_key)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Added values and deleted values of a primitive merge list, compared as sorted `%v` strings.
fn diff_lists_of_scalars(
    original: &[Value],
    modified: &[Value],
    opts: DiffOptions,
) -> (Vec<Value>, Vec<Value>) {
    let original = sort_scalars(original.to_vec());
    let modified = sort_scalars(modified.to_vec());
    let (mut oi, mut mi) = (0, 0);
    let mut add = Vec::new();
    let mut delete = Vec::new();
    while oi < original.len() || mi < modified.len() {
        let o = original.get(oi).map(go_v);
        let m = modified.get(mi).map(go_v);
        match (o, m) {
            (Some(o), Some(m)) if o == m => {
                oi += 1;
                mi += 1;
            }
            (None, Some(_)) => {
                if !opts.ignore_changes_and_additions {
                    add.push(modified[mi].clone());
                }
                mi += 1;
            }
            (Some(o), Some(m)) if o > m => {
                if !opts.ignore_changes_and_additions {
                    add.push(modified[mi].clone());
                }
                mi += 1;
            }
            _ => {
                if !opts.ignore_deletions {
                    delete.push(original[oi].clone());
                }
                oi += 1;
            }
        }
    }
    (add, deduplicate_scalars(delete))
}

/// Changed/added items and `$patch: delete` items of a list of maps merged by key.
fn diff_lists_of_maps(
    original: &[Value],
    modified: &[Value],
    schema: SchemaCursor<'_>,
    merge_key: &str,
    opts: DiffOptions,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut patch = Vec::new();
    let mut deletions = Vec::new();
    let original = sort_maps_by_field(original.to_vec(), merge_key);
    let modified = sort_maps_by_field(modified.to_vec(), merge_key);
    let (mut oi, mut mi) = (0, 0);
    loop {
        let o = keyed_entry(&original, oi, merge_key)?;
        let m = keyed_entry(&modified, mi, merge_key)?;
        match (o, m) {
            (None, None) => break,
            (Some((o_map, _, o_key)), Some((m_map, m_value, m_key))) if o_key == m_key => {
                let mut value = diff_maps(o_map, m_map, schema, opts)?;
                if !value.is_empty() {
                    value.insert(merge_key.to_string(), m_value.clone());
                    patch.push(Value::Object(value));
                }
                oi += 1;
                mi += 1;
            }
            (None, Some((m_map, _, _))) => {
                if !opts.ignore_changes_and_additions {
                    patch.push(Value::Object(m_map.clone()));
                }
                mi += 1;
            }
            (Some((_, _, o_key)), Some((m_map, _, m_key))) if o_key > m_key => {
                if !opts.ignore_changes_and_additions {
                    patch.push(Value::Object(m_map.clone()));
                }
                mi += 1;
            }
            (Some((_, o_value, _)), _) => {
                if !opts.ignore_deletions {
                    let mut directive = Map::new();
                    directive.insert(merge_key.to_string(), o_value.clone());
                    directive.insert(
                        DIRECTIVE_MARKER.to_string(),
                        Value::String(DELETE_DIRECTIVE.to_string()),
                    );
                    deletions.push(Value::Object(directive));
                }
                oi += 1;
            }
        }
    }
    Ok((patch, deletions))
}

/// An item of a keyed list: its map, its merge-key value and that value's `%v` text.
type KeyedEntry<'v> = (&'v Map<String, Value>, &'v Value, String);

fn keyed_entry<'v>(
    list: &'v [Value],
    i: usize,
    merge_key: &str,
) -> Result<Option<KeyedEntry<'v>>, PatchError> {
    let Some(item) = list.get(i) else {
        return Ok(None);
    };
    let Some(m) = item.as_object() else {
        return Err(err_bad_arg_type(MAP_TYPE, item));
    };
    let Some(key_value) = m.get(merge_key) else {
        return Err(err_no_merge_key(m, merge_key));
    };
    Ok(Some((m, key_value, go_v(key_value))))
}
