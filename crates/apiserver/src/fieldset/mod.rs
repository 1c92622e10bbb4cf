//! Field sets for server-side apply and `metadata.managedFields`: the sets of field paths a
//! manager owns, their `FieldsV1` encoding, and the walks over objects that structured-merge-diff
//! does upstream (an object's field set, the comparison of two objects, the merge of an applied
//! configuration into a live object, the removal of fields no one owns any more). Hand-written:
//! no Rust crate implements structured-merge-diff. Pure: no I/O, no registry.
//!
//! A path element is kept in its `FieldsV1` spelling: `f:<field>`, `k:<json of the keys>` for
//! an item of an associative list, `v:<json>` for an item of a set. The shapes the walks
//! follow come from [`schema`].

pub mod schema;
#[cfg(test)]
mod tests;

use schema::{Schema, Shape, ShapeId, ATOMIC, UNTYPED};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A set of field paths, as a tree: a node is a member when its own path is in the set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldSet {
    member: bool,
    children: BTreeMap<String, FieldSet>,
}

/// What changed between two objects: paths added, modified (leaves whose value changed) and
/// removed.
#[derive(Debug, Default)]
pub struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

impl FieldSet {
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    /// Add a path.
    pub fn insert<S: AsRef<str>>(&mut self, path: &[S]) {
        let mut node = self;
        for pe in path {
            node = node.children.entry(pe.as_ref().to_string()).or_default();
        }
        node.member = true;
    }

    /// The node at a path, if the set has it or anything under it.
    pub fn at<S: AsRef<str>>(&self, path: &[S]) -> Option<&FieldSet> {
        let mut node = self;
        for pe in path {
            node = node.children.get(pe.as_ref())?;
        }
        Some(node)
    }

    /// Drop the subtree at a path (fields a write never owns), and parents left empty.
    pub fn remove_subtree<S: AsRef<str>>(&mut self, path: &[S]) {
        let Some((first, rest)) = path.split_first() else {
            *self = FieldSet::default();
            return;
        };
        let Some(child) = self.children.get_mut(first.as_ref()) else {
            return;
        };
        if rest.is_empty() {
            self.children.remove(first.as_ref());
            return;
        }
        child.remove_subtree(rest);
        if child.is_empty() {
            self.children.remove(first.as_ref());
        }
    }

    pub fn union(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (k, o) in &other.children {
            self.children.entry(k.clone()).or_default().union(o);
        }
    }

    /// The paths of `self` that are not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            let d = match other.children.get(k) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                out.children.insert(k.clone(), d);
            }
        }
        out
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            if let Some(o) = other.children.get(k) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    out.children.insert(k.clone(), i);
                }
            }
        }
        out
    }

    /// Every path of the set, in order.
    pub fn paths(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        self.collect(&mut path, &mut out);
        out
    }

    fn collect(&self, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if self.member && !path.is_empty() {
            out.push(path.clone());
        }
        for (k, c) in &self.children {
            path.push(k.clone());
            c.collect(path, out);
            path.pop();
        }
    }

    /// The `FieldsV1` form: `{"f:spec":{"f:replicas":{}}}`, `"."` marking a member with children.
    pub fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (k, c) in &self.children {
            m.insert(k.clone(), c.to_fields_v1());
        }
        Value::Object(m)
    }

    /// Read a `FieldsV1` value; the error says what is wrong with it.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, String> {
        let m = v
            .as_object()
            .ok_or_else(|| "FieldsV1 must be an object".to_string())?;
        let mut out = FieldSet::default();
        for (k, c) in m {
            if k == "." {
                out.member = true;
                continue;
            }
            if !["f:", "k:", "v:", "i:"].iter().any(|p| k.starts_with(p)) {
                return Err(format!("unexpected path element {k:?}"));
            }
            if k.starts_with("k:") && serde_json::from_str::<Map<String, Value>>(&k[2..]).is_err() {
                return Err(format!("invalid key {k:?}"));
            }
            let mut child = FieldSet::from_fields_v1(c)?;
            if c.as_object().is_some_and(Map::is_empty) {
                child.member = true;
            }
            out.children.insert(k.clone(), child);
        }
        Ok(out)
    }
}

/// A path as structured-merge-diff prints it: `.spec.containers[name="nginx"].image`.
pub fn path_string<S: AsRef<str>>(path: &[S]) -> String {
    let mut out = String::new();
    for pe in path {
        let pe = pe.as_ref();
        let (kind, rest) = pe.split_at(2.min(pe.len()));
        match kind {
            "f:" => {
                out.push('.');
                out.push_str(rest);
            }
            "k:" => {
                let keys: Map<String, Value> = serde_json::from_str(rest).unwrap_or_default();
                let parts: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!("[{}]", parts.join(",")));
            }
            "v:" => out.push_str(&format!("[={rest}]")),
            "i:" => out.push_str(&format!("[{rest}]")),
            _ => out.push_str(pe),
        }
    }
    out
}

/// The path element of a field.
pub fn field(name: &str) -> String {
    format!("f:{name}")
}

/// The path element of a list item (`k:` for associative lists, `v:` for sets).
fn item_pe(schema: &Schema, list: ShapeId, item: &Value) -> String {
    match schema.shape(list) {
        Shape::Assoc { keys, .. } => {
            let mut m = Map::new();
            for (k, default) in keys {
                match item.get(k).or(default.as_ref()) {
                    Some(v) if !v.is_null() => {
                        m.insert(k.clone(), v.clone());
                    }
                    _ => {}
                }
            }
            format!("k:{}", Value::Object(m))
        }
        _ => format!("v:{item}"),
    }
}

/// The shape of field `key` of a value of shape `id`.
fn child_shape(schema: &Schema, id: ShapeId, key: &str) -> (ShapeId, bool) {
    match schema.shape(id) {
        Shape::Struct(fields) => match fields.get(key) {
            Some(f) => (*f, true),
            None => (UNTYPED, false),
        },
        Shape::Map(elem) => (*elem, false),
        _ => (UNTYPED, false),
    }
}

fn elem_shape(schema: &Schema, list: ShapeId) -> ShapeId {
    match schema.shape(list) {
        Shape::Assoc { elem, .. } => *elem,
        _ => ATOMIC,
    }
}

/// Whether values of this shape are tracked as one leaf (given the value found there).
fn is_leaf(schema: &Schema, id: ShapeId, v: &Value) -> bool {
    match schema.shape(id) {
        Shape::Atomic => true,
        Shape::Struct(_) | Shape::Map(_) | Shape::Untyped => !v.is_object(),
        Shape::Assoc { .. } | Shape::Set => !v.is_array(),
    }
}

fn is_list(schema: &Schema, id: ShapeId) -> bool {
    matches!(schema.shape(id), Shape::Assoc { .. } | Shape::Set)
}

/// The fields a value sets (structured-merge-diff's `ToFieldSet`): leaves, list items, map
/// entries and empty or null fields.
pub fn to_set(schema: &Schema, id: ShapeId, v: &Value) -> FieldSet {
    let mut out = FieldSet::default();
    to_set_into(schema, id, v, &mut out);
    out
}

fn to_set_into(schema: &Schema, id: ShapeId, v: &Value, node: &mut FieldSet) {
    if is_leaf(schema, id, v) {
        node.member = true;
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, cv) in m {
                let (cid, declared) = child_shape(schema, id, k);
                let child = node.children.entry(field(k)).or_default();
                to_set_into(schema, cid, cv, child);
                if cv.is_null() || cv.as_object().is_some_and(Map::is_empty) || !declared {
                    child.member = true;
                }
            }
        }
        Value::Array(items) => {
            let elem = elem_shape(schema, id);
            for item in items {
                let child = node.children.entry(item_pe(schema, id, item)).or_default();
                to_set_into(schema, elem, item, child);
                child.member = true;
            }
        }
        _ => node.member = true,
    }
}

/// Compare two versions of a value (structured-merge-diff's `Compare`): a node present on one
/// side only is added or removed; a leaf whose value differs is modified.
pub fn compare(schema: &Schema, id: ShapeId, lhs: &Value, rhs: &Value) -> Comparison {
    let mut c = Comparison::default();
    compare_at(schema, id, Some(lhs), Some(rhs), &mut c);
    c
}

/// Compare at one node; `c` receives the changes of this subtree relative to this node.
fn compare_at(
    schema: &Schema,
    id: ShapeId,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    c: &mut Comparison,
) {
    if let (Some(l), Some(r)) = (lhs, rhs) {
        if l == r {
            return;
        }
    }
    let leaf =
        lhs.is_some_and(|l| is_leaf(schema, id, l)) || rhs.is_some_and(|r| is_leaf(schema, id, r));
    let empty_list = is_list(schema, id)
        && lhs.and_then(Value::as_array).is_none_or(Vec::is_empty)
        && rhs.and_then(Value::as_array).is_none_or(Vec::is_empty);
    if !(leaf || empty_list) {
        match lhs.or(rhs) {
            Some(Value::Object(_)) => {
                let empty = Map::new();
                let lm = lhs.and_then(Value::as_object).unwrap_or(&empty);
                let rm = rhs.and_then(Value::as_object).unwrap_or(&empty);
                for (k, lv) in lm {
                    let cid = child_shape(schema, id, k).0;
                    compare_child(schema, cid, field(k), Some(lv), rm.get(k), c);
                }
                for (k, rv) in rm {
                    if !lm.contains_key(k) {
                        let cid = child_shape(schema, id, k).0;
                        compare_child(schema, cid, field(k), None, Some(rv), c);
                    }
                }
            }
            Some(Value::Array(_)) => {
                let elem = elem_shape(schema, id);
                let (li, ri) = (index(schema, id, lhs), index(schema, id, rhs));
                for (pe, lv) in &li {
                    let rv = ri.iter().find(|(p, _)| p == pe).map(|(_, v)| *v);
                    compare_child(schema, elem, pe.clone(), Some(lv), rv, c);
                }
                for (pe, rv) in ri {
                    if !li.iter().any(|(p, _)| *p == pe) {
                        compare_child(schema, elem, pe, None, Some(rv), c);
                    }
                }
            }
            _ => {}
        }
    }
    match (lhs, rhs) {
        (None, Some(_)) => c.added.member = true,
        (Some(_), None) => c.removed.member = true,
        (Some(l), Some(r)) if (leaf || empty_list) && l != r => c.modified.member = true,
        _ => {}
    }
}

/// Compare a child and file its changes under its path element.
fn compare_child(
    schema: &Schema,
    id: ShapeId,
    pe: String,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    c: &mut Comparison,
) {
    let mut sub = Comparison::default();
    compare_at(schema, id, lhs, rhs, &mut sub);
    for (set, part) in [
        (&mut c.added, sub.added),
        (&mut c.modified, sub.modified),
        (&mut c.removed, sub.removed),
    ] {
        if !part.is_empty() {
            set.children.insert(pe.clone(), part);
        }
    }
}

/// A list's items by path element.
fn index<'v>(schema: &Schema, id: ShapeId, v: Option<&'v Value>) -> Vec<(String, &'v Value)> {
    let items = v
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    items.iter().map(|i| (item_pe(schema, id, i), i)).collect()
}

/// Merge an applied configuration into a live value (structured-merge-diff's `Merge`): maps
/// and structs field by field, associative lists and sets item by item, leaves and atomic
/// values replaced. A `null` in the configuration removes the field.
pub fn merge(schema: &Schema, id: ShapeId, live: &Value, config: &Value) -> Value {
    if is_leaf(schema, id, config) || is_leaf(schema, id, live) {
        return config.clone();
    }
    match (live, config) {
        (Value::Object(lm), Value::Object(cm)) => {
            let mut out = lm.clone();
            for (k, cv) in cm {
                if cv.is_null() {
                    out.remove(k);
                    continue;
                }
                let cid = child_shape(schema, id, k).0;
                let merged = match lm.get(k) {
                    Some(lv) => merge(schema, cid, lv, cv),
                    None => cv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(la), Value::Array(ca)) => {
            let elem = elem_shape(schema, id);
            let cpes: Vec<(String, &Value)> =
                ca.iter().map(|i| (item_pe(schema, id, i), i)).collect();
            let mut out = Vec::with_capacity(la.len().max(ca.len()));
            let mut seen = Vec::new();
            for lv in la {
                let pe = item_pe(schema, id, lv);
                match cpes.iter().find(|(p, _)| *p == pe) {
                    Some((_, cv)) => out.push(merge(schema, elem, lv, cv)),
                    None => out.push(lv.clone()),
                }
                seen.push(pe);
            }
            for (pe, cv) in &cpes {
                if !seen.contains(pe) {
                    out.push((*cv).clone());
                    seen.push(pe.clone());
                }
            }
            Value::Array(out)
        }
        _ => config.clone(),
    }
}

/// Remove from `v` the fields and items of `gone` that `kept` owns nothing at or under (an
/// applier's fields it no longer applies). A named field is removed whole, as a member.
pub fn remove(
    schema: &Schema,
    id: ShapeId,
    v: &mut Value,
    gone: &FieldSet,
    kept: Option<&FieldSet>,
) {
    match v {
        Value::Object(m) => {
            for (pe, g) in &gone.children {
                let Some(name) = pe.strip_prefix("f:") else {
                    continue;
                };
                let k = kept.and_then(|k| k.children.get(pe));
                if k.is_none_or(FieldSet::is_empty) {
                    m.remove(name);
                } else if let Some(cv) = m.get_mut(name) {
                    let cid = child_shape(schema, id, name).0;
                    remove(schema, cid, cv, g, k);
                }
            }
        }
        Value::Array(items) if is_list(schema, id) => {
            let elem = elem_shape(schema, id);
            items.retain_mut(|item| {
                let pe = item_pe(schema, id, item);
                let Some(g) = gone.children.get(&pe) else {
                    return true;
                };
                let k = kept.and_then(|k| k.children.get(&pe));
                if k.is_none_or(FieldSet::is_empty) {
                    return !g.member;
                }
                remove(schema, elem, item, g, k);
                true
            });
        }
        _ => {}
    }
}
