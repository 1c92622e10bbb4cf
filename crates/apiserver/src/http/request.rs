//! Reading a request: the resource path (kube-apiserver's `RequestInfo`), query parameters
//! into option structs, and bodies (JSON or YAML, at most 3 MiB).

use crate::error::{ApiError, ApiResult, FieldError};
use crate::kinds::{Kind, KindTable, Subresource};
use crate::registry::{DeleteOptions, FieldValidation, ListOptions, WatchOptions, WriteOptions};
use axum::body::Body;
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::Value;
use std::time::Duration;

/// The largest request body accepted (kube-apiserver's limit).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// What a resource URL names.
#[derive(Debug)]
pub struct ResourcePath {
    pub kind: &'static Kind,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<Subresource>,
}

/// Parse `/api/v1/...` or `/apis/<group>/<version>/...` into a resource path.
pub fn parse_path(kinds: &KindTable, path: &str) -> ApiResult<ResourcePath> {
    // Split into a stack array (no allocation on the GET path): the longest resource path,
    // `apis/<g>/<v>/namespaces/<ns>/<resource>/<name>/<sub>`, has 8 segments.
    let mut buf = [""; 9];
    let mut n = 0;
    for seg in path.trim_matches('/').split('/') {
        if n == buf.len() {
            return Err(ApiError::page_not_found());
        }
        buf[n] = seg;
        n += 1;
    }
    let parts = &buf[..n];
    let (group, version, rest) = match parts {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(ApiError::page_not_found()),
    };
    // `namespaces/<ns>/<resource>/...` is namespaced; `namespaces/<name>` is the namespace
    // itself, and so are `namespaces/<name>/status` and `/finalize` (its subresources).
    let (namespace, rest) = match rest {
        ["namespaces", _, "status" | "finalize"] => (None, rest),
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(ns.to_string()), tail),
        _ => (None, rest),
    };
    let (resource, name, sub) = match rest {
        [r] => (*r, None, None),
        [r, n] => (*r, Some(n.to_string()), None),
        [r, n, s] => (*r, Some(n.to_string()), Some(*s)),
        _ => return Err(ApiError::page_not_found()),
    };
    let kind = kinds
        .get(group, version, resource)
        .ok_or_else(ApiError::page_not_found)?;
    if namespace.is_some() && !kind.namespaced {
        return Err(ApiError::page_not_found());
    }
    let subresource = match sub {
        None => None,
        Some(s) => {
            let sr = match s {
                "status" => Subresource::Status,
                "scale" => Subresource::Scale,
                "binding" => Subresource::Binding,
                "finalize" => Subresource::Finalize,
                "log" => Subresource::Log,
                "exec" => Subresource::Exec,
                "attach" => Subresource::Attach,
                "portforward" => Subresource::PortForward,
                _ => return Err(ApiError::page_not_found()),
            };
            if !kind.has(sr) {
                return Err(ApiError::page_not_found());
            }
            Some(sr)
        }
    };
    if name.as_deref() == Some("") {
        return Err(ApiError::page_not_found());
    }
    Ok(ResourcePath {
        kind,
        namespace,
        name,
        subresource,
    })
}

/// The query string as (key, value) pairs, in order (keys may repeat).
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(q: Option<&str>) -> Self {
        Query(
            form_urlencoded::parse(q.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn bool(&self, key: &str) -> ApiResult<bool> {
        match self.get(key) {
            None | Some("") | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "invalid boolean value for {key}: {other:?}"
            ))),
        }
    }

    pub(crate) fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                ApiError::bad_request(format!(
                    "invalid value for {key}: {v:?}: must be an integer"
                ))
            }),
        }
    }

    pub fn is_watch(&self) -> ApiResult<bool> {
        self.bool("watch")
    }

    /// `dryRun` (only `All`); other values are 422 Invalid against `options_kind`
    /// (`CreateOptions`, `DeleteOptions`, ...), as `ValidateDryRun` reports them.
    pub fn dry_run(&self, options_kind: &str) -> ApiResult<bool> {
        let values: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, v)| k == "dryRun" && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect();
        if values.iter().any(|v| *v != "All") {
            let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            let mut e = ApiError::invalid(
                options_kind,
                "meta.k8s.io",
                "",
                vec![FieldError {
                    reason: "FieldValueNotSupported",
                    field: "dryRun".into(),
                    message: format!(
                        "Unsupported value: []string{{{}}}: supported values: \"All\"",
                        quoted.join(", ")
                    ),
                }],
            );
            e.name = None;
            return Err(e);
        }
        Ok(!values.is_empty())
    }

    /// Options of a write; an invalid `fieldValidation` is reported against `CreateOptions`.
    pub fn write_options(&self) -> ApiResult<WriteOptions> {
        self.write_options_as("CreateOptions")
    }

    /// Options of a write whose options kind (`CreateOptions`, `UpdateOptions`,
    /// `PatchOptions`) names an invalid `fieldValidation` in the error.
    pub fn write_options_as(&self, options_kind: &str) -> ApiResult<WriteOptions> {
        let value = self.get("fieldValidation").unwrap_or("");
        let field_validation = FieldValidation::parse(value).ok_or_else(|| {
            let mut e = ApiError::invalid(
                options_kind,
                "meta.k8s.io",
                "",
                vec![FieldError::not_supported(
                    "fieldValidation",
                    &Value::String(value.to_string()),
                    &["", "Ignore", "Strict", "Warn"],
                )],
            );
            e.name = None;
            e
        })?;
        Ok(WriteOptions {
            dry_run: self.dry_run(options_kind)?,
            field_manager: self.get("fieldManager").map(str::to_string),
            field_validation,
            ..WriteOptions::default()
        })
    }

    pub fn list_options(&self) -> ApiResult<ListOptions> {
        let limit = self.int("limit")?.unwrap_or(0);
        Ok(ListOptions {
            label_selector: self.get("labelSelector").map(str::to_string),
            field_selector: self.get("fieldSelector").map(str::to_string),
            limit: limit.max(0) as usize,
            continue_token: self
                .get("continue")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            resource_version: self.get("resourceVersion").map(str::to_string),
            resource_version_match: self
                .get("resourceVersionMatch")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        })
    }

    pub fn watch_options(&self) -> ApiResult<WatchOptions> {
        let send_initial_events = match self.get("sendInitialEvents") {
            None | Some("") => None,
            Some(_) => Some(self.bool("sendInitialEvents")?),
        };
        let timeout = self
            .int("timeoutSeconds")?
            .filter(|t| *t > 0)
            .map(|t| Duration::from_secs(t as u64));
        Ok(WatchOptions {
            list: ListOptions {
                limit: 0,
                continue_token: None,
                ..self.list_options()?
            },
            send_initial_events,
            allow_bookmarks: self.bool("allowWatchBookmarks")?,
            timeout,
        })
    }

    pub fn delete_options(&self) -> ApiResult<DeleteOptions> {
        let mut o = DeleteOptions {
            dry_run: self.dry_run("DeleteOptions")?,
            ..Default::default()
        };
        o.grace_period_seconds = self.int("gracePeriodSeconds")?;
        if let Some(p) = self.get("propagationPolicy").filter(|s| !s.is_empty()) {
            o.propagation_policy = Some(crate::registry::parse_propagation(p)?);
        }
        if self.get("orphanDependents").is_some() {
            o.orphan_dependents = Some(self.bool("orphanDependents")?);
        }
        Ok(o)
    }
}

/// Read a body, enforcing the size limit.
pub async fn read_body(body: Body) -> ApiResult<Bytes> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.to_string().contains("length limit"))
            || e.to_string().contains("length limit");
        if too_large {
            ApiError::too_large()
        } else {
            ApiError::bad_request(format!("unable to read the request body: {e}"))
        }
    })
}

/// The media type of a request body (without parameters), JSON when absent.
pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|s| {
            s.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "application/json".into())
}

/// Decode an object body (JSON, YAML or Kubernetes protobuf) into a JSON value.
pub fn decode_object(kind: Option<&Kind>, headers: &HeaderMap, body: &[u8]) -> ApiResult<Value> {
    let ct = content_type(headers);
    let bad = |e: String| match kind {
        Some(k) => crate::registry::decode_error(k, &e),
        None => ApiError::bad_request(e),
    };
    match ct.as_str() {
        "application/json" | "*/*" => serde_json::from_slice(body).map_err(|e| bad(e.to_string())),
        "application/yaml" | "application/x-yaml" | "text/yaml" => {
            serde_yaml::from_slice::<Value>(body).map_err(|e| bad(e.to_string()))
        }
        protobuf_json::MEDIA_TYPE => {
            protobuf_json::decode_request(body).map_err(|e| bad(e.to_string()))
        }
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// Whether a request body is JSON (object bodies may also be YAML).
pub fn is_json(headers: &HeaderMap) -> bool {
    let ct = content_type(headers);
    ct == "application/json" || ct == "*/*" || ct.ends_with("+json")
}

/// Paths of the fields a JSON body repeats (`spec.replicas`, `spec.containers[0].name`), as
/// kube-apiserver's strict decoder reports them.
pub fn duplicate_fields(body: &[u8]) -> Vec<String> {
    let found = std::cell::RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = DuplicateFinder {
        path: String::new(),
        found: &found,
    };
    let _ = serde::de::DeserializeSeed::deserialize(seed, &mut de);
    found.into_inner()
}

/// Walks a JSON document recording repeated object keys by path.
struct DuplicateFinder<'a> {
    path: String,
    found: &'a std::cell::RefCell<Vec<String>>,
}

impl<'de> serde::de::DeserializeSeed<'de> for DuplicateFinder<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for DuplicateFinder<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if !seen.insert(key) {
                self.found.borrow_mut().push(path.clone());
            }
            map.next_value_seed(DuplicateFinder {
                path,
                found: self.found,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq
            .next_element_seed(DuplicateFinder {
                path: format!("{}[{i}]", self.path),
                found: self.found,
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}
