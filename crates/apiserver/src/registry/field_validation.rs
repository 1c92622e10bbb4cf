//! `fieldValidation` (`Strict` | `Warn` | `Ignore`, default `Warn`) on create, update and
//! patch, for every kind alike: unknown fields (against the kind's OpenAPI definition,
//! `metadata` included) are dropped from the object, and together with the duplicate fields
//! the HTTP layer found in the body they fail the request (`Strict`), become `Warning`
//! headers (`Warn`) or are ignored. Wording and status codes follow kube-apiserver: a body
//! fails with 400 `<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding
//! error: unknown field "spec.foo", ...`; a patch with 422 `patch: Invalid value: ...`.

use super::{decode_error, PatchType, WriteOptions};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::kinds::Kind;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// What to do with unknown and duplicate fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them and warn (the server default).
    #[default]
    Warn,
    /// Fail the request.
    Strict,
}

impl FieldValidation {
    /// Parse the query value (`""` is the default).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" => Some(FieldValidation::default()),
            "Ignore" => Some(FieldValidation::Ignore),
            "Warn" => Some(FieldValidation::Warn),
            "Strict" => Some(FieldValidation::Strict),
            _ => None,
        }
    }
}

/// Warnings collected while serving one request, answered as `Warning: 299 - "<text>"`
/// headers (kube-apiserver's warning recorder). Clones share the list.
#[derive(Clone, Debug, Default)]
pub struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    pub fn push(&self, text: impl Into<String>) {
        let text = text.into();
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // The recorder deduplicates identical warnings.
        if !v.contains(&text) {
            v.push(text);
        }
    }

    /// Take the warnings collected so far.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Drop the fields of `obj` the kind's type does not declare and return every strict decoding
/// error: the duplicates already found (`prefix` + path) and the unknown fields.
fn strict_errors(kind: &Kind, obj: &mut Value, duplicates: &[String], prefix: &str) -> Vec<String> {
    let mut errs: Vec<String> = duplicates
        .iter()
        .map(|p| format!("{prefix}duplicate field {}", go_quote(p)))
        .collect();
    let api = crate::openapi::get();
    if let Some(def) = api.definition_of(kind) {
        let unknown = crate::openapi::fields::prune_unknown(api.definitions(), def, obj);
        errs.extend(
            unknown
                .iter()
                .map(|p| format!("unknown field {}", go_quote(p))),
        );
    }
    errs
}

/// Field validation of a create or update body (after its type meta is filled in).
pub(crate) fn check_body(kind: &Kind, obj: &mut Value, opts: &WriteOptions) -> ApiResult<()> {
    let errs = strict_errors(kind, obj, &opts.duplicate_fields, "");
    match opts.field_validation {
        _ if errs.is_empty() => Ok(()),
        FieldValidation::Ignore => Ok(()),
        FieldValidation::Warn => {
            errs.into_iter().for_each(|e| opts.warnings.push(e));
            Ok(())
        }
        FieldValidation::Strict => Err(decode_error(
            kind,
            &format!("strict decoding error: {}", errs.join(", ")),
        )),
    }
}

/// Field validation of a patched object. Returns the warnings to record (the caller records
/// those of the attempt that counts: a patch is re-applied when the object changed under it).
pub(crate) fn check_patched(
    kind: &Kind,
    pt: PatchType,
    patch: &Value,
    patched: &mut Value,
    opts: &WriteOptions,
) -> ApiResult<Vec<String>> {
    let prefix = if pt == PatchType::Json {
        "json patch "
    } else {
        ""
    };
    let errs = strict_errors(kind, patched, &opts.duplicate_fields, prefix);
    match opts.field_validation {
        _ if errs.is_empty() => Ok(Vec::new()),
        FieldValidation::Ignore => Ok(Vec::new()),
        FieldValidation::Warn => Ok(errs),
        FieldValidation::Strict => {
            // The value shown is the patch (strategic) or the patched object (JSON patches).
            let shown = match pt {
                PatchType::Strategic => go_value(patch),
                _ => serde_json::to_string(patched).unwrap_or_default(),
            };
            let mut e = ApiError::invalid(
                "",
                "",
                "",
                vec![FieldError::invalid(
                    "patch",
                    &json!(shown),
                    &format!("strict decoding error: {}", errs.join(", ")),
                )],
            );
            e.name = None;
            e.kind = None;
            Err(e)
        }
    }
}

/// Go's `strconv.Quote` for the ASCII range the paths use.
fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// A JSON value as Go's `fmt.Sprintf("%+v")` prints the decoded `map[string]interface{}`:
/// `map[spec:map[replicas:3]]`, slices `[a b]`, keys sorted.
pub(crate) fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(go_value).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_value(&m[k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_value_prints_like_percent_plus_v() {
        let v = json!({"spec": {"replicas": 3, "b": [1, "x"], "a": null, "t": true}});
        assert_eq!(
            go_value(&v),
            "map[spec:map[a:<nil> b:[1 x] replicas:3 t:true]]"
        );
    }

    #[test]
    fn field_validation_values() {
        assert_eq!(FieldValidation::parse(""), Some(FieldValidation::Warn));
        assert_eq!(
            FieldValidation::parse("Strict"),
            Some(FieldValidation::Strict)
        );
        assert_eq!(FieldValidation::parse("strict"), None);
    }

    #[test]
    fn warnings_are_shared_and_deduplicated() {
        let w = Warnings::default();
        let w2 = w.clone();
        w.push("a");
        w2.push("a");
        w2.push("b");
        assert_eq!(w.take(), vec!["a".to_string(), "b".to_string()]);
        assert!(w2.take().is_empty());
    }
}
