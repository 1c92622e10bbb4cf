//! Small JSON helpers the strategies share: reading and writing dotted paths, and the
//! validation checks many kinds repeat (selector matches template labels, immutability).

use crate::error::FieldError;
use serde_json::{Map, Value};

/// The value at a dotted path (`spec.template.metadata.labels`), if any.
pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, seg| cur.get(seg))
}

pub fn get_str<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    get(v, path).and_then(Value::as_str)
}

/// The object at a dotted path, created (replacing non-objects) as needed.
pub fn obj_mut<'a>(v: &'a mut Value, path: &str) -> &'a mut Map<String, Value> {
    let mut cur = v;
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        cur = cur
            .as_object_mut()
            .expect("object")
            .entry(seg.to_string())
            .or_insert(Value::Object(Map::new()));
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    cur.as_object_mut().expect("object")
}

/// Set `key` in the object at `path` if it is absent (or null).
pub fn default_field(v: &mut Value, path: &str, key: &str, value: Value) {
    let m = obj_mut(v, path);
    match m.get(key) {
        Some(x) if !x.is_null() => {}
        _ => {
            m.insert(key.to_string(), value);
        }
    }
}

/// Whether the object at `path` exists (is an object).
pub fn has_obj(v: &Value, path: &str) -> bool {
    get(v, path).is_some_and(Value::is_object)
}

/// `selector` (a LabelSelector) must be present, non-empty and select `labels_path`'s labels.
pub fn validate_selector_matches_template(obj: &Value, errs: &mut Vec<FieldError>) {
    let selector = get(obj, "spec.selector");
    let empty = selector
        .map(|s| {
            s.get("matchLabels")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty)
                && s.get("matchExpressions")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
        })
        .unwrap_or(true);
    if selector.is_none() || selector == Some(&Value::Null) {
        errs.push(FieldError::required("spec.selector"));
        return;
    }
    if empty {
        errs.push(FieldError::invalid(
            "spec.selector",
            selector.unwrap_or(&Value::Null),
            "empty selector is invalid for deployment",
        ));
        return;
    }
    let labels = get(obj, "spec.template.metadata.labels").and_then(Value::as_object);
    let sel =
        match apimachinery::labels::Selector::from_label_selector(selector.unwrap_or(&Value::Null))
        {
            Ok(s) => s,
            Err(e) => {
                errs.push(FieldError::invalid(
                    "spec.selector",
                    selector.unwrap_or(&Value::Null),
                    &e.to_string(),
                ));
                return;
            }
        };
    let empty_map = Map::new();
    if !sel.matches(labels.unwrap_or(&empty_map)) {
        let shown = labels
            .map(|m| Value::Object(m.clone()))
            .unwrap_or(Value::Object(Map::new()));
        errs.push(FieldError::invalid(
            "spec.template.metadata.labels",
            &Value::String(go_map(&shown)),
            "`selector` does not match template `labels`",
        ));
    }
}

/// Go's `map[string]string` rendering: `map[a:b c:d]`.
pub fn go_map(v: &Value) -> String {
    let parts: Vec<String> = v
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}:{}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    format!("map[{}]", parts.join(" "))
}

/// `path` must not change between `old` and `new`.
pub fn validate_immutable(new: &Value, old: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let (n, o) = (get(new, path), get(old, path));
    if n != o {
        errs.push(FieldError::immutable(path, n.unwrap_or(&Value::Null)));
    }
}

/// `spec.template.spec.containers` must be a non-empty list whose items have a name and image.
pub fn validate_pod_template_containers(obj: &Value, prefix: &str, errs: &mut Vec<FieldError>) {
    let path = format!("{prefix}containers");
    let containers = get(obj, &path).and_then(Value::as_array);
    match containers {
        None => errs.push(FieldError::required(path)),
        Some(list) if list.is_empty() => errs.push(FieldError::required(path)),
        Some(list) => {
            let mut names = std::collections::HashSet::new();
            for (i, c) in list.iter().enumerate() {
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                if name.is_empty() {
                    errs.push(FieldError::required(format!("{path}[{i}].name")));
                } else {
                    for msg in apimachinery::names::is_dns1123_label(name) {
                        errs.push(FieldError::invalid(
                            format!("{path}[{i}].name"),
                            &Value::from(name),
                            &msg,
                        ));
                    }
                    if !names.insert(name) {
                        errs.push(FieldError {
                            reason: "FieldValueDuplicate",
                            field: format!("{path}[{i}].name"),
                            message: format!("Duplicate value: \"{name}\""),
                        });
                    }
                }
                if c.get("image")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    errs.push(FieldError::required(format!("{path}[{i}].image")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn get_walks_dotted_paths() {
        let v = json!({"spec": {"template": {"metadata": {"labels": {"a": "b"}}}}});
        assert_eq!(
            get(&v, "spec.template.metadata.labels.a"),
            Some(&json!("b"))
        );
        assert_eq!(get(&v, "spec.nope"), None);
    }

    #[test]
    fn default_field_keeps_present_values_and_fills_missing_ones() {
        let mut v = json!({"spec": {"replicas": 3}});
        default_field(&mut v, "spec", "replicas", json!(1));
        default_field(&mut v, "spec.strategy", "type", json!("RollingUpdate"));
        assert_eq!(
            v,
            json!({"spec": {"replicas": 3, "strategy": {"type": "RollingUpdate"}}})
        );
    }

    #[test]
    fn selector_that_misses_template_labels_is_invalid() {
        let v = json!({"spec": {"selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "b"}}}}});
        let mut errs = vec![];
        validate_selector_matches_template(&v, &mut errs);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.template.metadata.labels");
        assert!(errs[0]
            .message
            .contains("`selector` does not match template `labels`"));
    }
}
