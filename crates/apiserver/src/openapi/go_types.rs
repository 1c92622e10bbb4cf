//! Wrong JSON types, worded as kube-apiserver's decoder (Go's `encoding/json`) words them: a
//! value whose JSON type does not fit its field is reported as
//! `json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32`
//! — the innermost struct, the field path from the object's root (JSON names, no list
//! indices) and the Go type, derived from the definitions. Hand-written: no crate speaks Go's
//! error wording. Types with their own Go unmarshalling (quantities, int-or-string, times,
//! free-form objects) are left to the typed decode.

use super::definitions::V3_REF_PREFIX;
use serde_json::{Map, Value};

/// The first value of `obj` (definition `root`) whose JSON type its Go field cannot take, in
/// Go's words; `None` when every typed field fits (or `root` is unknown).
pub fn type_error(defs: &Map<String, Value>, root: &str, obj: &Value) -> Option<String> {
    defs.get(root)?;
    // Start from a reference, so the root is known by its definition name.
    let schema = serde_json::json!({ "$ref": format!("{V3_REF_PREFIX}{root}") });
    let mut walk = Walk {
        defs,
        path: Vec::new(),
        strukt: struct_name(root).to_string(),
    };
    walk.value(&schema, obj)
}

struct Walk<'a> {
    defs: &'a Map<String, Value>,
    /// JSON field names from the root.
    path: Vec<String>,
    /// The Go struct holding the current field.
    strukt: String,
}

/// How a schema node decodes in Go.
enum Shape<'a> {
    /// A struct (definition name) with declared properties.
    Struct(&'a str, &'a Map<String, Value>),
    Map(&'a Value),
    Slice(&'a Value),
    Scalar(&'static str),
    /// A type with custom unmarshalling, or anything not modelled: not checked here.
    Opaque,
}

impl<'a> Walk<'a> {
    /// Follow `allOf` wrappers and `$ref`s; the definition name reached, if any.
    fn resolve(&self, mut node: &'a Value) -> (Option<&'a str>, &'a Value) {
        let mut name = None;
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
                let n = r.strip_prefix(V3_REF_PREFIX).unwrap_or(r);
                match self.defs.get_key_value(n) {
                    Some((k, v)) => {
                        name = Some(k.as_str());
                        node = v;
                        continue;
                    }
                    None => return (None, &Value::Null),
                }
            }
            break;
        }
        (name, node)
    }

    fn shape(&self, schema: &'a Value) -> (Shape<'a>, String) {
        let (name, node) = self.resolve(schema);
        if node
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            == Some(true)
            || node.get("x-kubernetes-int-or-string").is_some()
        {
            return (Shape::Opaque, String::new());
        }
        // Some definitions (Container, …) declare properties without `type: object`.
        let ty = match node.get("type").and_then(Value::as_str) {
            Some(t) => t,
            None if node.get("properties").is_some() => "object",
            None => "",
        };
        let format = node.get("format").and_then(Value::as_str).unwrap_or("");
        match ty {
            "object" => {
                if let (Some(name), Some(props)) = (
                    name,
                    node.get("properties")
                        .and_then(Value::as_object)
                        .filter(|p| !p.is_empty()),
                ) {
                    return (Shape::Struct(name, props), go_named(name));
                }
                match node.get("additionalProperties").filter(|a| a.is_object()) {
                    Some(item) => {
                        let (_, elem) = self.shape(item);
                        if elem.is_empty() {
                            (Shape::Opaque, String::new())
                        } else {
                            (Shape::Map(item), format!("map[string]{elem}"))
                        }
                    }
                    None => (Shape::Opaque, String::new()),
                }
            }
            "array" => match node.get("items") {
                Some(item) => {
                    let (_, elem) = self.shape(item);
                    if elem.is_empty() {
                        (Shape::Opaque, String::new())
                    } else {
                        (Shape::Slice(item), format!("[]{elem}"))
                    }
                }
                None => (Shape::Opaque, String::new()),
            },
            // A named string type (Quantity, Time, …) has its own unmarshalling.
            "string" if name.is_some() => (Shape::Opaque, String::new()),
            "string" if format == "byte" => (Shape::Opaque, String::new()),
            "string" => (Shape::Scalar("string"), "string".into()),
            "boolean" => (Shape::Scalar("bool"), "bool".into()),
            "integer" if format == "int32" => (Shape::Scalar("int32"), "int32".into()),
            "integer" => (Shape::Scalar("int64"), "int64".into()),
            "number" => (Shape::Scalar("float64"), "float64".into()),
            _ => (Shape::Opaque, String::new()),
        }
    }

    fn value(&mut self, schema: &'a Value, value: &Value) -> Option<String> {
        if value.is_null() {
            return None; // null leaves a Go value at its zero
        }
        let (shape, go_type) = self.shape(schema);
        let fits = match (&shape, value) {
            (Shape::Opaque, _) => return None,
            (Shape::Struct(..) | Shape::Map(_), Value::Object(_)) => true,
            (Shape::Slice(_), Value::Array(_)) => true,
            (Shape::Scalar("string"), Value::String(_)) => true,
            (Shape::Scalar("bool"), Value::Bool(_)) => true,
            (Shape::Scalar("float64"), Value::Number(_)) => true,
            (Shape::Scalar(int @ ("int32" | "int64")), Value::Number(n)) => fits_int(n, int),
            _ => false,
        };
        if !fits {
            return Some(self.mismatch(value, &go_type));
        }
        match (shape, value) {
            (Shape::Struct(name, props), Value::Object(m)) => {
                let outer = std::mem::replace(&mut self.strukt, struct_name(name).to_string());
                let mut found = None;
                for (k, v) in m {
                    if let Some(field) = props.get(k) {
                        self.path.push(k.clone());
                        found = self.value(field, v);
                        self.path.pop();
                        if found.is_some() {
                            break;
                        }
                    }
                }
                self.strukt = outer;
                found
            }
            // Go's error path names struct fields only, not map keys or list indices.
            (Shape::Map(item), Value::Object(m)) => m.values().find_map(|v| self.value(item, v)),
            (Shape::Slice(item), Value::Array(items)) => {
                items.iter().find_map(|v| self.value(item, v))
            }
            _ => None,
        }
    }

    fn mismatch(&self, value: &Value, go_type: &str) -> String {
        let what = match value {
            Value::String(_) => "string".to_string(),
            Value::Bool(_) => "bool".to_string(),
            Value::Number(n) => format!("number {n}"),
            Value::Array(_) => "array".to_string(),
            Value::Object(_) => "object".to_string(),
            Value::Null => "null".to_string(),
        };
        let what = if go_type.starts_with("int") || go_type == "float64" {
            what
        } else {
            // Go names a number by its text only when it was decoding into a number.
            what.split(' ').next().unwrap_or("").to_string()
        };
        if self.path.is_empty() {
            return format!("json: cannot unmarshal {what} into Go value of type {go_type}");
        }
        format!(
            "json: cannot unmarshal {what} into Go struct field {}.{} of type {go_type}",
            self.strukt,
            self.path.join(".")
        )
    }
}

fn fits_int(n: &serde_json::Number, ty: &str) -> bool {
    match n.as_i64() {
        Some(i) if ty == "int32" => i32::try_from(i).is_ok(),
        Some(_) => true,
        None => false,
    }
}

/// `io.k8s.api.apps.v1.DeploymentSpec` → `DeploymentSpec`.
fn struct_name(definition: &str) -> &str {
    definition.rsplit('.').next().unwrap_or(definition)
}

/// The Go type of a definition: its package (the version segment) and name, `v1.PodSpec`.
fn go_named(definition: &str) -> String {
    let mut parts = definition.rsplit('.');
    let name = parts.next().unwrap_or(definition);
    match parts.next() {
        Some(pkg) => format!("{pkg}.{name}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(obj: Value) -> Option<String> {
        let api = crate::openapi::get();
        type_error(api.definitions(), "io.k8s.api.apps.v1.Deployment", &obj)
    }

    #[test]
    fn wrong_types_are_worded_as_gos_decoder_words_them() {
        let cases = [
            (
                json!({"spec": {"replicas": "three"}}),
                "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
            ),
            (
                json!({"spec": {"replicas": 1.5}}),
                "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32",
            ),
            (
                json!({"spec": {"replicas": 3_000_000_000u64}}),
                "json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32",
            ),
            (
                json!({"spec": {"paused": "yes"}}),
                "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool",
            ),
            (
                json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": 7}]}}}}),
                "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string",
            ),
            (
                json!({"spec": {"template": {"spec": {"containers": {"name": "a"}}}}}),
                "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container",
            ),
            (
                json!({"spec": {"selector": "app=web"}}),
                "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.selector of type v1.LabelSelector",
            ),
            (
                json!({"metadata": {"labels": {"app": 1}}}),
                "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
            ),
            (
                json!({"metadata": {"labels": ["app"]}}),
                "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string",
            ),
        ];
        for (obj, want) in cases {
            assert_eq!(check(obj.clone()).as_deref(), Some(want), "{obj}");
        }
    }

    #[test]
    fn well_typed_objects_and_custom_types_pass() {
        let ok = [
            json!({"spec": {"replicas": 3, "paused": null}}),
            json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}}}),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": 5}}}]}}}}),
            json!({"metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"}}),
        ];
        for obj in ok {
            assert_eq!(check(obj.clone()), None, "{obj}");
        }
    }
}
