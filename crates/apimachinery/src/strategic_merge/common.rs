//! Directive names, value kinds, error constructors and list helpers shared by the apply
//! and diff halves of strategic merge patch.

use serde_json::{Map, Value};

use super::PatchError;
use crate::gofmt::{go_s, go_type_name, go_v};

pub(crate) const DIRECTIVE_MARKER: &str = "$patch";
pub(crate) const DELETE_DIRECTIVE: &str = "delete";
pub(crate) const REPLACE_DIRECTIVE: &str = "replace";
pub(crate) const MERGE_DIRECTIVE: &str = "merge";
pub(crate) const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
pub(crate) const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
pub(crate) const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

pub(crate) const MAP_TYPE: &str = "map[string]interface {}";
pub(crate) const SLICE_TYPE: &str = "[]interface {}";

pub(crate) static NULL: Value = Value::Null;

/// The dynamic type a decoded JSON value has in upstream's Go code (integers and other
/// numbers are distinct types there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Array,
    Object,
}

pub(crate) fn kind(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(n) if n.as_i64().is_some() => Kind::Int,
        Value::Number(_) => Kind::Float,
        Value::String(_) => Kind::Str,
        Value::Array(_) => Kind::Array,
        Value::Object(_) => Kind::Object,
    }
}

pub(crate) fn err_bad_json_doc() -> PatchError {
    PatchError::new("invalid JSON document")
}

pub(crate) fn err_no_list_of_lists() -> PatchError {
    PatchError::new("lists of lists are not supported")
}

pub(crate) fn err_bad_patch_format_for_primitive_list() -> PatchError {
    PatchError::new("invalid patch format of primitive list")
}

pub(crate) fn err_bad_patch_format_for_retain_keys() -> PatchError {
    PatchError::new("invalid patch format of retainKeys")
}

pub(crate) fn err_bad_patch_format_for_set_element_order_list() -> PatchError {
    PatchError::new("invalid patch format of setElementOrder list")
}

pub(crate) fn err_no_merge_key(m: &Map<String, Value>, key: &str) -> PatchError {
    PatchError::new(format!(
        "map: {} does not contain declared merge key: {key}",
        go_v(&Value::Object(m.clone()))
    ))
}

pub(crate) fn err_bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError::new(format!(
        "expected a {expected}, but received a {}",
        go_type_name(actual)
    ))
}

pub(crate) fn err_bad_patch_type(directive: &Value, m: &Map<String, Value>) -> PatchError {
    PatchError::new(format!(
        "unknown patch type: {} in map: {}",
        go_s(directive),
        go_v(&Value::Object(m.clone()))
    ))
}

/// The element type shared by all items of the given lists (upstream `sliceElementType`).
pub(crate) fn slice_element_kind(slices: &[&[Value]]) -> Result<Kind, PatchError> {
    let mut prev: Option<Kind> = None;
    for s in slices {
        for v in s.iter() {
            let k = kind(v);
            match prev {
                None => {
                    if k == Kind::Array {
                        return Err(err_no_list_of_lists());
                    }
                    prev = Some(k);
                }
                Some(p) if p != k => {
                    let printed: Vec<String> = slices
                        .iter()
                        .map(|s| go_v(&Value::Array(s.to_vec())))
                        .collect();
                    return Err(PatchError::new(format!(
                        "list element types are not identical: [{}]",
                        printed.join(" ")
                    )));
                }
                Some(_) => {}
            }
        }
    }
    prev.ok_or_else(|| PatchError::new("no elements in any of the given slices"))
}

/// The merge-key value of a map item (or the item itself for scalars), null when absent.
pub(crate) fn key_of<'v>(item: &'v Value, merge_key: &str, kind: Kind) -> &'v Value {
    if kind == Kind::Object {
        item.as_object()
            .and_then(|m| m.get(merge_key))
            .unwrap_or(&NULL)
    } else {
        item
    }
}

/// Position of the item matching `value` (by merge key for maps).
pub(crate) fn index_of(
    list: &[Value],
    value: &Value,
    merge_key: &str,
    kind: Kind,
) -> Option<usize> {
    let wanted = key_of(value, merge_key, kind);
    list.iter()
        .position(|v| key_of(v, merge_key, kind) == wanted)
}

/// Stable sort by Go's `%v` rendering (upstream `sortScalars`).
pub(crate) fn sort_scalars(mut list: Vec<Value>) -> Vec<Value> {
    list.sort_by_cached_key(go_v);
    list
}

/// Stable sort of maps by the `%v` rendering of one field (upstream `sortMapsBasedOnField`).
pub(crate) fn sort_maps_by_field(mut list: Vec<Value>, field: &str) -> Vec<Value> {
    list.sort_by_cached_key(|v| go_v(key_of(v, field, Kind::Object)));
    list
}

/// Upstream's in-place deduplication, which moves the last item into each removed slot (so
/// the resulting order is upstream's too).
pub(crate) fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut length = s.len() as isize - 1;
    let mut i: isize = 0;
    while i < length {
        let mut j = i + 1;
        while j <= length {
            if s[i as usize] == s[j as usize] {
                s[j as usize] = s[length as usize].clone();
                s.truncate(length as usize);
                length -= 1;
                j -= 1;
            }
            j += 1;
        }
        i += 1;
    }
    s
}

/// Checks every item of every list is a map holding the merge key.
pub(crate) fn validate_merge_key_in_lists(
    merge_key: &str,
    lists: &[&[Value]],
) -> Result<(), PatchError> {
    for list in lists {
        for item in list.iter() {
            let Some(m) = item.as_object() else {
                return Err(err_bad_arg_type(MAP_TYPE, item));
            };
            if !m.contains_key(merge_key) {
                return Err(err_no_merge_key(m, merge_key));
            }
        }
    }
    Ok(())
}

/// Splits map items into (kept, `$patch: delete` items).
pub(crate) fn extract_to_delete_items(
    list: Vec<Value>,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut keep = Vec::new();
    let mut delete = Vec::new();
    for v in list {
        let Some(m) = v.as_object() else {
            return Err(err_bad_arg_type(MAP_TYPE, &v));
        };
        if m.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            delete.push(v);
        } else {
            keep.push(v);
        }
    }
    Ok((keep, delete))
}

/// Sorts `to_sort` by the positions of its items in `order` (upstream `normalizeSliceOrder`);
/// `$patch: delete` map items go last.
pub(crate) fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: Kind,
) -> Result<Vec<Value>, PatchError> {
    let (mut to_sort, to_delete) = if kind == Kind::Object {
        validate_merge_key_in_lists(merge_key, &[&to_sort, order])?;
        extract_to_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    to_sort.sort_by_cached_key(|v| index_of(order, v, merge_key, kind).unwrap_or(usize::MAX));
    to_sort.extend(to_delete);
    Ok(to_sort)
}

/// Sorts patch items by `patch_order` and server-only items by `server_order`, then
/// interleaves them keeping both relative orders (upstream `normalizeElementOrder`).
pub(crate) fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: Kind,
) -> Result<Vec<Value>, PatchError> {
    let patch = normalize_slice_order(patch, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted(
        server_only,
        patch,
        server_order,
        merge_key,
        kind,
    ))
}

/// Inserts each `left` item before the first `right` item it precedes in `server_order`.
fn merge_sorted(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: Kind,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        let take_left = match (l.peek(), r.peek()) {
            (None, None) => break,
            (None, Some(_)) => false,
            (Some(_), None) => true,
            (Some(a), Some(b)) => matches!(
                (index_of(server_order, a, merge_key, kind), index_of(server_order, b, merge_key, kind)),
                (Some(x), Some(y)) if x < y
            ),
        };
        let next = if take_left { l.next() } else { r.next() };
        out.extend(next);
    }
    out
}

/// Items of `list` whose value appears in `by`, and the others.
pub(crate) fn partition_primitives(list: Vec<Value>, by: &[Value]) -> (Vec<Value>, Vec<Value>) {
    list.into_iter().partition(|v| by.contains(v))
}

/// Map items of `list` whose merge-key value appears in `by`, and the others.
pub(crate) fn partition_maps(
    list: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for v in list {
        let Some(m) = v.as_object() else {
            return Err(err_bad_arg_type(MAP_TYPE, &v));
        };
        let Some(key_value) = m.get(merge_key) else {
            return Err(err_no_merge_key(m, merge_key));
        };
        if find_map_by_key(by, merge_key, key_value)?.is_some() {
            inside.push(v);
        } else {
            outside.push(v);
        }
    }
    Ok((inside, outside))
}

/// Index of the first map whose `key` equals `value`; a non-map item is an error.
pub(crate) fn find_map_by_key(
    list: &[Value],
    key: &str,
    value: &Value,
) -> Result<Option<usize>, PatchError> {
    for (i, v) in list.iter().enumerate() {
        let Some(m) = v.as_object() else {
            return Err(PatchError::new(format!("value for key {i} is not a map")));
        };
        if m.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Strips a directive prefix: `$setElementOrder/containers` → `containers`.
pub(crate) fn extract_key<'k>(s: &'k str, prefix: &str) -> Result<&'k str, PatchError> {
    match s.split_once('/') {
        Some((head, rest)) if head == prefix => Ok(rest),
        _ => Err(match prefix {
            DELETE_FROM_PRIMITIVE_LIST_PREFIX => err_bad_patch_format_for_primitive_list(),
            SET_ELEMENT_ORDER_PREFIX => err_bad_patch_format_for_set_element_order_list(),
            _ => PatchError::new(format!(
                "fail to find unknown prefix {} in {s}\n",
                crate::gofmt::go_quote(prefix)
            )),
        }),
    }
}
