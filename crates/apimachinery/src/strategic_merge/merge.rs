//! Applying a strategic merge patch to a document (upstream `mergeMap` and friends), also
//! used to combine the two halves of a three-way patch.

use serde_json::{Map, Value};

use super::common::*;
use super::schema::SchemaCursor;
use super::PatchError;
use crate::gofmt::go_v;

#[derive(Clone, Copy, Debug)]
pub(crate) struct MergeOptions {
    /// Apply `$deleteFromPrimitiveList` lists (server side) instead of carrying them along.
    pub merge_parallel_list: bool,
    /// Drop nulls the original has no key for instead of keeping them in the result.
    pub ignore_unmatched_nulls: bool,
}

pub(crate) const APPLY: MergeOptions = MergeOptions {
    merge_parallel_list: true,
    ignore_unmatched_nulls: true,
};

pub(crate) const COMBINE_PATCHES: MergeOptions = MergeOptions {
    merge_parallel_list: false,
    ignore_unmatched_nulls: false,
};

pub(crate) fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: SchemaCursor<'_>,
    opts: MergeOptions,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE_MARKER).cloned() {
        return handle_directive_in_merge_map(&directive, patch);
    }
    apply_retain_keys_directive(&mut original, &mut patch, opts)?;
    merge_patch_into_original(&mut original, &mut patch, schema, opts)?;

    let mut keys: Vec<String> = patch.keys().cloned().collect();
    keys.sort();
    for key in keys {
        let Some(patch_v) = patch.remove(&key) else {
            continue;
        };
        let mut k = key.clone();
        let mut is_delete_list = false;
        if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
            if !opts.merge_parallel_list {
                original.insert(key, patch_v);
                continue;
            }
            let stripped = extract_key(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?;
            is_delete_list = true;
            if !stripped.is_empty() {
                k = stripped.to_string();
            }
        }

        if patch_v.is_null() {
            original.remove(&k);
            if opts.ignore_unmatched_nulls {
                continue;
            }
        }

        let Some(orig_v) = original.remove(&k) else {
            if !is_delete_list {
                put_patch_value(&mut original, k, patch_v, opts);
            }
            continue;
        };
        if kind(&orig_v) != kind(&patch_v) {
            if is_delete_list {
                original.insert(k, orig_v);
            } else {
                put_patch_value(&mut original, k, patch_v, opts);
            }
            continue;
        }
        match (orig_v, patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                let (sub, meta) = schema.lookup_struct(&k);
                let (_, strategy) = meta.retain_keys_and_strategy()?;
                let merged = if strategy == REPLACE_DIRECTIVE {
                    p
                } else {
                    merge_map(o, p, sub, opts)?
                };
                original.insert(k, Value::Object(merged));
            }
            (Value::Array(o), Value::Array(p)) => {
                let (sub, meta) = schema.lookup_slice(&k);
                let (_, strategy) = meta.retain_keys_and_strategy()?;
                let merged = merge_slice_handler(
                    o,
                    p,
                    sub,
                    strategy,
                    &meta.merge_key,
                    is_delete_list,
                    opts,
                )?;
                original.insert(k, Value::Array(merged));
            }
            (_, p) => {
                if let Some(v) = remove_directives(p) {
                    original.insert(k, v);
                }
            }
        }
    }
    Ok(original)
}

/// Takes a patch value for a key the original lacks (or holds with another type).
fn put_patch_value(
    original: &mut Map<String, Value>,
    key: String,
    mut value: Value,
    opts: MergeOptions,
) {
    if opts.ignore_unmatched_nulls {
        discard_null_values(&mut value);
    }
    if let Some(v) = remove_directives(value) {
        original.insert(key, v);
    }
}

/// `$patch` in a map: `replace` takes the patch (minus the directive), `delete` empties it.
fn handle_directive_in_merge_map(
    directive: &Value,
    mut patch: Map<String, Value>,
) -> Result<Map<String, Value>, PatchError> {
    match directive.as_str() {
        Some(REPLACE_DIRECTIVE) => {
            patch.remove(DIRECTIVE_MARKER);
            Ok(patch)
        }
        Some(DELETE_DIRECTIVE) => Ok(Map::new()),
        _ => Err(err_bad_patch_type(directive, &patch)),
    }
}

/// `$retainKeys`: drop the original's keys the list does not name, after checking the
/// patch only sets listed keys. When combining patches the list is carried along instead.
fn apply_retain_keys_directive(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    opts: MergeOptions,
) -> Result<(), PatchError> {
    let Some(retain) = patch.remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    if !opts.merge_parallel_list {
        match original.get(RETAIN_KEYS_DIRECTIVE) {
            Some(existing) if *existing != retain => {
                return Err(PatchError::new(format!(
                    "{} and {} are not deep equal: this may happen when calculating the 3-way diff patch",
                    go_v(existing),
                    go_v(&retain)
                )))
            }
            Some(_) => {}
            None => {
                original.insert(RETAIN_KEYS_DIRECTIVE.to_string(), retain);
            }
        }
        return Ok(());
    }
    let Value::Array(list) = retain else {
        return Err(err_bad_patch_format_for_retain_keys());
    };
    let listed = |k: &str| list.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || k.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !listed(k) {
            return Err(err_bad_patch_format_for_retain_keys());
        }
    }
    original.retain(|k, _| listed(k));
    Ok(())
}

/// Processes each `$setElementOrder/<list>` together with `<list>`: merges the list, then
/// orders it by the directive (patch items), keeping server-only items where they were.
fn merge_patch_into_original(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    schema: SchemaCursor<'_>,
    opts: MergeOptions,
) -> Result<(), PatchError> {
    let mut keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX))
        .cloned()
        .collect();
    keys.sort();
    for key in keys {
        let Some(set_order) = patch.remove(&key) else {
            continue;
        };
        if !opts.merge_parallel_list {
            match original.get(&key) {
                Some(existing) if *existing != set_order => {
                    return Err(err_bad_patch_format_for_set_element_order_list())
                }
                Some(_) => {}
                None => {
                    original.insert(key.clone(), set_order.clone());
                }
            }
        }
        let Value::Array(set_order_list) = &set_order else {
            return Err(err_bad_arg_type(SLICE_TYPE, &set_order));
        };
        let list_key = extract_key(&key, SET_ELEMENT_ORDER_PREFIX)?.to_string();
        let original_list = match original.get(&list_key) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => return Err(err_bad_arg_type(SLICE_TYPE, other)),
        };
        let patch_list = match patch.get(&list_key) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => return Err(err_bad_arg_type(SLICE_TYPE, other)),
        };
        let (sub, meta) = schema.lookup_slice(&list_key);
        let (_, strategy) = meta.retain_keys_and_strategy()?;
        let merge_key = meta.merge_key.as_str();
        let original_items = original_list.clone().unwrap_or_default();
        let patch_items = patch_list.clone().unwrap_or_default();
        validate_patch_with_set_order_list(&patch_items, set_order_list, merge_key)?;

        // Upstream orders server-only items by its view of the original list, which the
        // merge may have edited in place.
        let mut server_order = original_items.clone();
        let merged = match (original_list, patch_list) {
            (Some(o), None) => o,
            (None, Some(p)) => p.into_iter().filter_map(remove_directives).collect(),
            (Some(o), Some(p)) => {
                let (merged, aliased) =
                    merge_slice_tracking_original(o, p, sub, strategy, merge_key, false, opts)?;
                if let Some(aliased) = aliased {
                    server_order = aliased;
                }
                merged
            }
            (None, None) => continue,
        };
        let (in_order, server_only) = if merge_key.is_empty() {
            partition_primitives(merged, set_order_list)
        } else {
            partition_maps(merged, set_order_list, merge_key)?
        };
        let element_kind = slice_element_kind(&[&original_items, &patch_items])?;
        let ordered = normalize_element_order(
            in_order,
            server_only,
            set_order_list,
            &server_order,
            merge_key,
            element_kind,
        )?;
        original.insert(list_key.clone(), Value::Array(ordered));
        patch.remove(&list_key);
    }
    Ok(())
}

/// Checks the patch list's items appear in the `$setElementOrder` list, in the same order.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    set_order: &[Value],
    merge_key: &str,
) -> Result<(), PatchError> {
    if set_order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete = if merge_key.is_empty() {
        patch_list.to_vec()
    } else {
        extract_to_delete_items(patch_list.to_vec())?.0
    };
    let (mut pi, mut si) = (0, 0);
    while pi < non_delete.len() && si < set_order.len() {
        if non_delete[pi]
            .as_object()
            .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
        {
            pi += 1;
            continue;
        }
        if merge_key_value_equal(&non_delete[pi], &set_order[si], merge_key)? {
            pi += 1;
        }
        si += 1;
    }
    if pi < non_delete.len() && si >= set_order.len() {
        return Err(PatchError::new(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER_PREFIX} list:\n{}\n",
            go_v(&Value::Array(patch_list.to_vec())),
            go_v(&Value::Array(set_order.to_vec()))
        )));
    }
    Ok(())
}

pub(crate) fn merge_key_value_equal(
    left: &Value,
    right: &Value,
    merge_key: &str,
) -> Result<bool, PatchError> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let l = left
        .as_object()
        .ok_or_else(|| err_bad_arg_type(MAP_TYPE, left))?;
    let r = right
        .as_object()
        .ok_or_else(|| err_bad_arg_type(MAP_TYPE, right))?;
    let lv = l
        .get(merge_key)
        .ok_or_else(|| err_no_merge_key(l, merge_key))?;
    let rv = r
        .get(merge_key)
        .ok_or_else(|| err_no_merge_key(r, merge_key))?;
    Ok(lv == rv)
}

/// Merge strategy (or a deletion list): merge; anything else: the patch list replaces.
fn merge_slice_handler(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: SchemaCursor<'_>,
    strategy: &str,
    merge_key: &str,
    is_delete_list: bool,
    opts: MergeOptions,
) -> Result<Vec<Value>, PatchError> {
    merge_slice_tracking_original(
        original,
        patch,
        schema,
        strategy,
        merge_key,
        is_delete_list,
        opts,
    )
    .map(|(merged, _)| merged)
}

/// Like [`merge_slice_handler`], also returning what the caller's view of the original list
/// holds afterwards when upstream mutates it in place (see [`GoSlice`]).
fn merge_slice_tracking_original(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: SchemaCursor<'_>,
    strategy: &str,
    merge_key: &str,
    is_delete_list: bool,
    opts: MergeOptions,
) -> Result<(Vec<Value>, Option<Vec<Value>>), PatchError> {
    if strategy == MERGE_DIRECTIVE || is_delete_list {
        merge_slice(original, patch, schema, merge_key, opts, is_delete_list)
    } else {
        Ok((patch, None))
    }
}

/// A Go slice over a backing array, to reproduce upstream's in-place list edits: deleting
/// an item shifts the backing array left and appends then reuse the freed tail, all visible
/// to other slices over the same array (the `$setElementOrder` code reads the original list
/// through one afterwards, which decides where server-only items land).
struct GoSlice {
    backing: Vec<Value>,
    len: usize,
}

impl GoSlice {
    fn new(items: Vec<Value>) -> Self {
        let len = items.len();
        GoSlice {
            backing: items,
            len,
        }
    }

    fn items(&self) -> &[Value] {
        &self.backing[..self.len]
    }

    fn remove(&mut self, i: usize) {
        for j in i..self.len - 1 {
            self.backing[j] = self.backing[j + 1].clone();
        }
        self.len -= 1;
    }

    fn push(&mut self, v: Value) {
        if self.len < self.backing.len() {
            self.backing[self.len] = v;
        } else {
            self.backing.push(v);
        }
        self.len += 1;
    }

    /// The first `n` slots of the backing array: what a slice of the original length sees.
    fn view(&self, n: usize) -> Vec<Value> {
        self.backing[..n].to_vec()
    }
}

type MergedList = (Vec<Value>, Option<Vec<Value>>);

fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: SchemaCursor<'_>,
    merge_key: &str,
    opts: MergeOptions,
    is_delete_list: bool,
) -> Result<MergedList, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok((original, None));
    }
    let element_kind = slice_element_kind(&[&original, &patch])?;
    if element_kind != Kind::Object {
        if opts.merge_parallel_list && is_delete_list {
            return Ok((
                original
                    .into_iter()
                    .filter(|v| !patch.contains(v))
                    .collect(),
                None,
            ));
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        let merged = deduplicate_scalars(both);
        let (in_patch, server_only) = partition_primitives(merged, &patch);
        let ordered = normalize_element_order(
            in_patch,
            server_only,
            &patch,
            &original,
            merge_key,
            element_kind,
        )?;
        return Ok((ordered, None));
    }
    if merge_key.is_empty() {
        return Err(PatchError::new(format!(
            "cannot merge lists without merge key for {}",
            schema.name()
        )));
    }
    let original_len = original.len();
    let mut original = GoSlice::new(original);
    let (replacement, patch) = merge_slice_with_special_elements(&mut original, patch, merge_key)?;
    let (mut target, aliased) = match replacement {
        Some(items) => (GoSlice::new(items), Some(original.view(original_len))),
        None => (original, None),
    };
    let server_order = target.items().to_vec();
    merge_slice_without_special_elements(&mut target, &patch, merge_key, schema, opts)?;
    let aliased = aliased.unwrap_or_else(|| target.view(original_len));
    let merged = target.items().to_vec();
    let (in_patch, server_only) = partition_maps(merged, &patch, merge_key)?;
    let ordered = normalize_element_order(
        in_patch,
        server_only,
        &patch,
        &server_order,
        merge_key,
        element_kind,
    )?;
    Ok((ordered, Some(aliased)))
}

/// Applies `$patch` items of a merged list: `delete` removes items with that key (from
/// `original`, in place), `replace` makes the remaining patch items the whole list (returned
/// as the replacement). Returns the patch items without directives.
fn merge_slice_with_special_elements(
    original: &mut GoSlice,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Option<Vec<Value>>, Vec<Value>), PatchError> {
    let mut plain = Vec::new();
    let mut replace = false;
    for v in patch {
        let Some(m) = v.as_object() else {
            return Err(err_bad_arg_type(MAP_TYPE, &v));
        };
        let Some(directive) = m.get(DIRECTIVE_MARKER) else {
            plain.push(v);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let Some(key_value) = m.get(merge_key) else {
                    return Err(err_no_merge_key(m, merge_key));
                };
                while let Some(i) = find_map_by_key(original.items(), merge_key, key_value)? {
                    original.remove(i);
                }
            }
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => {
                return Err(PatchError::new(
                    "merging lists cannot yet be specified in the patch",
                ))
            }
            _ => return Err(err_bad_patch_type(directive, m)),
        }
    }
    if replace {
        Ok((Some(plain), Vec::new()))
    } else {
        Ok((None, plain))
    }
}

/// Merges each patch item into the original item with the same key, or appends it.
fn merge_slice_without_special_elements(
    original: &mut GoSlice,
    patch: &[Value],
    merge_key: &str,
    schema: SchemaCursor<'_>,
    opts: MergeOptions,
) -> Result<(), PatchError> {
    for v in patch {
        let Some(m) = v.as_object() else {
            return Err(err_bad_arg_type(MAP_TYPE, v));
        };
        let Some(key_value) = m.get(merge_key) else {
            return Err(err_no_merge_key(m, merge_key));
        };
        match find_map_by_key(original.items(), merge_key, key_value)? {
            Some(i) => {
                let Value::Object(orig_map) = std::mem::take(&mut original.backing[i]) else {
                    unreachable!("find_map_by_key only matches maps");
                };
                original.backing[i] = Value::Object(merge_map(orig_map, m.clone(), schema, opts)?);
            }
            None => original.push(v.clone()),
        }
    }
    Ok(())
}

/// Drops maps carrying `$patch` (and list items that are such maps); `None` when the value
/// itself is one.
pub(crate) fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            Some(Value::Object(
                m.into_iter()
                    .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                    .collect(),
            ))
        }
        Value::Array(items) => Some(Value::Array(
            items.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// Removes null-valued keys at any depth.
fn discard_null_values(value: &mut Value) {
    match value {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(discard_null_values);
        }
        Value::Array(items) => items.iter_mut().for_each(discard_null_values),
        _ => {}
    }
}
