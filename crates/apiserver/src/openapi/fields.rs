//! Unknown fields, as kube-apiserver's strict decoding finds them: a key that is not a field
//! of the object's type (checked against the definitions, `metadata` included) is reported by
//! its path (`spec.template.spec.containers[0].foo`) and dropped, as decoding into the typed
//! object drops it. Maps (`additionalProperties`), free-form objects (no declared
//! properties) and `x-kubernetes-preserve-unknown-fields` accept any key.

use super::definitions::V3_REF_PREFIX;
use serde_json::{Map, Value};

/// Remove the fields of `obj` that its type (definition `root`) does not declare, returning
/// their paths. An unknown `root` checks nothing.
pub fn prune_unknown(defs: &Map<String, Value>, root: &str, obj: &mut Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(schema) = defs.get(root) {
        let mut path = String::new();
        walk(defs, schema, obj, &mut path, &mut out);
    }
    out
}

/// Follow `allOf` (its first entry, as references are wrapped) and `$ref` to a concrete schema.
fn resolve<'a>(defs: &'a Map<String, Value>, mut node: &'a Value) -> Option<&'a Value> {
    for _ in 0..32 {
        if let Some(first) = node
            .get("allOf")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            node = first;
            continue;
        }
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            node = defs.get(r.strip_prefix(V3_REF_PREFIX).unwrap_or(r))?;
            continue;
        }
        return Some(node);
    }
    None
}

fn walk(
    defs: &Map<String, Value>,
    schema: &Value,
    value: &mut Value,
    path: &mut String,
    out: &mut Vec<String>,
) {
    let Some(schema) = resolve(defs, schema) else {
        return;
    };
    if schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return;
    }
    let len = path.len();
    match value {
        Value::Object(m) => {
            let props = schema
                .get("properties")
                .and_then(Value::as_object)
                .filter(|p| !p.is_empty());
            if let Some(props) = props {
                let mut unknown = Vec::new();
                for (k, v) in m.iter_mut() {
                    push_key(path, k);
                    match props.get(k) {
                        Some(field) => walk(defs, field, v, path, out),
                        None => {
                            out.push(path.clone());
                            unknown.push(k.clone());
                        }
                    }
                    path.truncate(len);
                }
                for k in unknown {
                    m.remove(&k);
                }
            } else if let Some(item) = schema.get("additionalProperties").filter(|a| a.is_object())
            {
                for (k, v) in m.iter_mut() {
                    push_key(path, k);
                    walk(defs, item, v, path, out);
                    path.truncate(len);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items") {
                for (i, v) in items.iter_mut().enumerate() {
                    path.push_str(&format!("[{i}]"));
                    walk(defs, item, v, path, out);
                    path.truncate(len);
                }
            }
        }
        _ => {}
    }
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}
