//! LIST: label and field selectors, `limit`/`continue` paging over a consistent snapshot, and
//! `resourceVersion`/`resourceVersionMatch` semantics.

use super::{Registry, Target};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::kinds::Kind;
use apimachinery::fields::FieldSelector;
use apimachinery::labels::Selector as LabelSelector;
use base64::Engine;
use serde_json::{json, Value};
use storage::{ListRequest, ReadAt, Stored};

/// Query parameters of a list (and of a watch, which shares the selectors).
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub limit: usize,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
}

/// One page of a list.
pub struct ListPage {
    pub items: Vec<(String, Stored)>,
    pub rv: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
}

/// Compiled label and field selectors for one kind.
pub struct Filter {
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
    kind: &'static Kind,
}

impl Filter {
    pub fn new(kind: &'static Kind, opts: &ListOptions) -> ApiResult<Self> {
        let labels = match opts
            .label_selector
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            None => None,
            Some(s) => {
                Some(LabelSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?)
            }
        };
        let fields = match opts
            .field_selector
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            None => None,
            Some(s) => {
                let sel =
                    FieldSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?;
                for req in sel.requirements() {
                    let f = req.field.as_str();
                    if f != "metadata.name"
                        && f != "metadata.namespace"
                        && !kind.selectable_fields.contains(&f)
                    {
                        return Err(ApiError::bad_request(format!(
                            "field label not supported: {f}"
                        )));
                    }
                }
                Some(sel)
            }
        };
        Ok(Filter {
            labels,
            fields,
            kind,
        })
    }

    pub fn is_everything(&self) -> bool {
        self.labels.is_none() && self.fields.is_none()
    }

    /// Whether an object (parsed, in stored form) is selected.
    pub fn matches(&self, obj: &Value) -> bool {
        if let Some(l) = &self.labels {
            let empty = serde_json::Map::new();
            let labels = obj
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            if !l.matches(labels) {
                return false;
            }
        }
        if let Some(f) = &self.fields {
            let kind = self.kind;
            let lookup = |field: &str| -> Option<String> { field_value(kind, obj, field) };
            if !f.matches(&lookup) {
                return false;
            }
        }
        true
    }
}

/// The value of a selectable field, rendered as the field selector compares it.
fn field_value(_kind: &Kind, obj: &Value, field: &str) -> Option<String> {
    let path = if field == "source" {
        "source.component"
    } else {
        field
    };
    match crate::kinds::util::get(obj, path) {
        None | Some(Value::Null) => Some(String::new()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => Some(other.to_string()),
    }
}

/// The opaque continue token: the snapshot rv and the last key returned.
fn encode_continue(rv: u64, key: &str) -> String {
    let raw = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": key}).to_string();
    base64::engine::general_purpose::URL_SAFE.encode(raw)
}

fn decode_continue(token: &str, prefix: &str) -> ApiResult<(u64, String)> {
    let bad = |why: &str| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(token))
        .map_err(|_| bad("illegal base64 data"))?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad("invalid continue token"))?;
    if v.get("v").and_then(Value::as_str) != Some("meta.k8s.io/v1") {
        return Err(bad(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        ));
    }
    let rv = v
        .get("rv")
        .and_then(Value::as_u64)
        .filter(|rv| *rv > 0)
        .ok_or_else(|| bad("incorrect encoded start resourceVersion"))?;
    let start = v
        .get("start")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("invalid continue token"))?;
    if !start.starts_with(prefix) {
        return Err(bad("key does not belong to this list"));
    }
    Ok((rv, start.to_string()))
}

/// kube-apiserver's `ValidateListOptions` for a list: violations are 422 Invalid against
/// `ListOptions.meta.k8s.io`.
fn validate_list_options(opts: &ListOptions) -> ApiResult<()> {
    let rv = opts.resource_version.as_deref().unwrap_or("");
    let Some(m) = opts
        .resource_version_match
        .as_deref()
        .filter(|m| !m.is_empty())
    else {
        return Ok(());
    };
    let mut errs = Vec::new();
    if rv.is_empty() {
        errs.push(FieldError::forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        ));
    }
    if opts
        .continue_token
        .as_deref()
        .is_some_and(|c| !c.is_empty())
    {
        errs.push(FieldError::forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden when continue is provided",
        ));
    }
    if m != "Exact" && m != "NotOlderThan" {
        errs.push(FieldError::not_supported(
            "resourceVersionMatch",
            &json!(m),
            &["Exact", "NotOlderThan", ""],
        ));
    }
    if m == "Exact" && rv == "0" {
        errs.push(FieldError::forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
        ));
    }
    if errs.is_empty() {
        return Ok(());
    }
    let mut e = ApiError::invalid("ListOptions", "meta.k8s.io", "", errs);
    e.name = None;
    Err(e)
}

impl Registry {
    /// List objects (in stored form) per the options.
    pub fn list_objects(&self, t: Target<'_>, opts: &ListOptions) -> ApiResult<ListPage> {
        let prefix = t.prefix();
        let filter = Filter::new(t.kind, opts)?;
        let rv_param = opts.resource_version.as_deref().unwrap_or("");
        let rv_match = opts.resource_version_match.as_deref().unwrap_or("");
        validate_list_options(opts)?;
        let requested = super::update::parse_rv(if rv_param == "0" { "" } else { rv_param })?;
        let (at, start) = match opts.continue_token.as_deref().filter(|s| !s.is_empty()) {
            Some(tok) => {
                if !rv_param.is_empty() && rv_param != "0" {
                    return Err(ApiError::bad_request(
                        "specifying resource version is not allowed when using continue",
                    ));
                }
                let (rv, key) = decode_continue(tok, &prefix)?;
                (ReadAt::Exact(rv), Some(key))
            }
            None => match (requested, rv_match) {
                (Some(rv), "Exact") => (ReadAt::Exact(rv), None),
                (Some(rv), _) if rv > self.storage.current_rv() => {
                    return Err(ApiError::from_storage(
                        storage::StorageError::TooLarge {
                            requested: rv,
                            current: self.storage.current_rv(),
                        },
                        t.kind.plural,
                        t.kind.group,
                        "",
                    ))
                }
                _ => (ReadAt::Latest, None),
            },
        };
        let pred = |s: &Stored| filter.matches(&s.value());
        let req = ListRequest {
            prefix: &prefix,
            start_after: start.as_deref(),
            at,
            filter: if filter.is_everything() {
                None
            } else {
                Some(&pred)
            },
            limit: opts.limit,
        };
        let res = self.storage.list(&req).map_err(|e| match e {
            storage::StorageError::Expired { .. } if opts.continue_token.is_some() => ApiError::gone(
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
            ),
            other => t.storage_err(other, ""),
        })?;
        let continue_token = res
            .more_after
            .as_deref()
            .map(|k| encode_continue(res.rv, k));
        let items = res
            .items
            .into_iter()
            .map(|(k, s)| (k, super::to_view(t.kind, s)))
            .collect();
        Ok(ListPage {
            items,
            rv: res.rv,
            continue_token,
            remaining: res.remaining,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_foreign_keys() {
        let tok = encode_continue(42, "/core/pods/default/b");
        assert_eq!(
            decode_continue(&tok, "/core/pods/").unwrap(),
            (42, "/core/pods/default/b".to_string())
        );
        assert_eq!(
            decode_continue(&tok, "/core/configmaps/").unwrap_err().code,
            400
        );
        assert_eq!(decode_continue("!!!", "/core/pods/").unwrap_err().code, 400);
    }
}
