//! Server-side Table printers: for every served kind, the columns kube-apiserver v1.35 sends
//! (`pkg/printers/internalversion/printers.go`: names, types, formats, descriptions,
//! priorities) and the cells of one row, as pure functions over the stored JSON object.
//!
//! Each kind's printer is a [`TableSpec`] that its `Kind` row points at (`Kind::table`).
//! kube-apiserver prints with `Wide: true`, so a row always carries every column's cell and
//! kubectl hides the priority-1 ones unless `-o wide`.
//!
//! Objects are read as the typed decoder would see them after defaulting: a missing field
//! reads as its zero value (or as its API default where defaulting always sets one).

use crate::table::Column;
use serde_json::Value;
use std::time::SystemTime;

pub mod autoscaling;
pub mod batch;
pub mod core;
pub mod other;
pub mod pod;
pub mod quantity;
pub mod rbac;
pub mod workloads;

pub use crate::table::TableSpec;

/// `Containers` (wide) of the pod-template kinds.
pub const CONTAINERS: Column = Column::new(
    "Containers",
    "string",
    "Names of each container in the template.",
)
.wide();

/// `Images` (wide) of the pod-template kinds.
pub const IMAGES: Column = Column::new(
    "Images",
    "string",
    "Images referenced by each container in the template.",
)
.wide();

/// `Value::pointer`, unescaping (`~1`, `~0`) only the tokens that need it: a Table of many
/// objects walks thousands of paths, and `pointer` builds a new string for every token.
pub(crate) trait At {
    fn at(&self, ptr: &str) -> Option<&Value>;
}

impl At for Value {
    fn at(&self, ptr: &str) -> Option<&Value> {
        let mut v = self;
        for token in ptr.strip_prefix('/')?.split('/') {
            let unescaped;
            let token = if token.contains('~') {
                unescaped = token.replace("~1", "/").replace("~0", "~");
                unescaped.as_str()
            } else {
                token
            };
            v = match v {
                Value::Object(m) => m.get(token)?,
                Value::Array(a) => a.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(v)
    }
}

/// The string at a JSON pointer, or `""` (Go's zero value).
pub(crate) fn str_at<'a>(obj: &'a Value, ptr: &str) -> &'a str {
    obj.at(ptr).and_then(Value::as_str).unwrap_or("")
}

/// The integer at a JSON pointer, or 0.
pub(crate) fn int_at(obj: &Value, ptr: &str) -> i64 {
    obj.at(ptr).and_then(Value::as_i64).unwrap_or(0)
}

/// The array at a JSON pointer, or an empty slice.
pub(crate) fn list_at<'a>(obj: &'a Value, ptr: &str) -> &'a [Value] {
    obj.at(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The number of entries of the map at a JSON pointer.
pub(crate) fn map_len(obj: &Value, ptr: &str) -> usize {
    obj.at(ptr)
        .and_then(Value::as_object)
        .map_or(0, serde_json::Map::len)
}

/// Whether a field is present and not null (a non-nil Go pointer).
pub(crate) fn is_set(obj: &Value, ptr: &str) -> bool {
    obj.at(ptr).is_some_and(|v| !v.is_null())
}

pub(crate) fn cell(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

/// `translateTimestampSince`: the HumanDuration since a timestamp, `<unknown>` when unset.
pub(crate) fn since(ts: &str, now: SystemTime) -> String {
    match crate::clock::parse_rfc3339(ts) {
        Some(t) => crate::table::since(t, now),
        None => "<unknown>".into(),
    }
}

/// The `Name` and `Age` cells every printer uses.
pub(crate) fn name(obj: &Value) -> Value {
    crate::table::name_cell(obj)
}
pub(crate) fn age(obj: &Value, now: SystemTime) -> Value {
    cell(crate::table::age(obj, now))
}

/// `layoutContainerCells`: container names and images, each comma-joined.
pub(crate) fn container_cells(containers: &[Value]) -> [Value; 2] {
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, "/image")).collect();
    [cell(names.join(",")), cell(images.join(","))]
}

/// `labels.FormatLabels`: sorted `k=v` pairs comma-joined, `<none>` when empty.
pub fn format_labels(map: Option<&Value>) -> String {
    let mut pairs: Vec<String> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    if pairs.is_empty() {
        "<none>".into()
    } else {
        pairs.join(",")
    }
}

/// `metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key
/// (`app=x,tier in (a,b),!canary`); empty for a null or empty selector.
pub fn selector_string(sel: Option<&Value>) -> Result<String, String> {
    apimachinery::labels::Selector::from_label_selector(sel.unwrap_or(&Value::Null))
        .map(|s| s.to_string())
        .map_err(|e| e.message().to_string())
}

/// `metav1.FormatLabelSelector`: the selector string, `<none>` when empty, `<error>` when invalid.
pub fn format_label_selector(sel: Option<&Value>) -> String {
    match selector_string(sel) {
        Err(_) => "<error>".into(),
        Ok(s) if s.is_empty() => "<none>".into(),
        Ok(s) => s,
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use serde_json::{json, Value};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    /// 2026-01-01T00:00:00Z, the "now" of printer tests.
    pub fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }

    /// An RFC 3339 timestamp `secs` seconds before [`now`].
    pub fn ago(secs: u64) -> String {
        crate::clock::rfc3339(now() - Duration::from_secs(secs))
    }

    /// Object metadata created `secs` ago.
    pub fn meta(name: &str, secs: u64) -> Value {
        json!({"name": name, "namespace": "default", "creationTimestamp": ago(secs)})
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::now;
    use super::*;
    use serde_json::json;

    #[test]
    fn at_walks_a_pointer_like_value_pointer_does() {
        let v = json!({"a": {"b/c": [1, {"d~e": 2}]}});
        for p in [
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/d~0e",
            "/a/x",
            "/a/b~1c/9",
            "",
            "/",
        ] {
            assert_eq!(v.at(p), v.pointer(p).filter(|_| !p.is_empty()), "{p}");
        }
    }

    #[test]
    fn format_labels_sorts_pairs_and_shows_none_when_empty() {
        assert_eq!(format_labels(None), "<none>");
        assert_eq!(format_labels(Some(&json!({}))), "<none>");
        assert_eq!(
            format_labels(Some(&json!({"tier": "web", "app": "x", "a.b": "1"}))),
            "a.b=1,app=x,tier=web"
        );
    }

    #[test]
    fn format_label_selector_renders_labels_and_expressions_sorted_by_key() {
        let sel = json!({"matchLabels": {"app": "x"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]},
                                 {"key": "canary", "operator": "DoesNotExist"},
                                 {"key": "env", "operator": "NotIn", "values": ["prod"]},
                                 {"key": "zone", "operator": "Exists"}]});
        assert_eq!(
            format_label_selector(Some(&sel)),
            "app=x,!canary,env notin (prod),tier in (a,b),zone"
        );
    }

    #[test]
    fn format_label_selector_is_none_for_null_or_empty_and_error_for_bad_operator() {
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "Near"}]});
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
    }

    #[test]
    fn since_is_unknown_without_a_timestamp() {
        assert_eq!(since("", now()), "<unknown>");
        assert_eq!(since("2025-12-31T23:55:00Z", now()), "5m");
    }

    /// Representative objects of every kind, from empty to fully populated.
    fn samples() -> Vec<Value> {
        vec![
            json!({}),
            json!({"metadata": {"name": "x", "creationTimestamp": "2025-12-31T00:00:00Z",
                                "deletionTimestamp": "2025-12-31T23:00:00Z",
                                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": true}]},
                   "spec": {"containers": [{"name": "c", "image": "nginx"}],
                            "initContainers": [{"name": "i", "image": "busybox"}],
                            "template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}},
                            "selector": {"matchLabels": {"app": "x"}},
                            "ports": [{"port": 80, "protocol": "TCP"}],
                            "readinessGates": [{"conditionType": "x"}]},
                   "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                              "containerStatuses": [{"name": "c", "ready": true, "restartCount": 1,
                                                     "state": {"running": {}}}]},
                   "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}],
                   "endpoints": [{"addresses": ["10.0.0.1"]}],
                   "involvedObject": {"kind": "Pod", "name": "p"}, "regarding": {"kind": "Pod", "name": "p"},
                   "count": 2, "revision": 3}),
        ]
    }

    #[test]
    fn every_kind_has_a_printer_whose_rows_have_one_cell_per_column() {
        for kind in crate::kinds::all() {
            let spec = kind.table;
            assert!(
                spec.columns.len() >= 2,
                "{} has too few columns",
                kind.plural
            );
            for obj in samples() {
                let cells = (spec.row)(&obj, now());
                assert_eq!(
                    cells.len(),
                    spec.columns.len(),
                    "{}/{}: cells {cells:?}",
                    kind.group,
                    kind.plural
                );
            }
        }
    }

    #[test]
    fn a_pod_table_has_column_definitions_all_cells_and_the_completed_row_condition() {
        let pod = json!({"metadata": {"name": "done", "creationTimestamp": "2025-12-31T23:00:00Z"},
                         "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                         "status": {"phase": "Succeeded", "containerStatuses": [
                             {"name": "c", "ready": false, "restartCount": 0,
                              "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
        let pod = serde_json::to_vec(&pod).unwrap();
        let t = crate::table::table(
            &crate::kinds::core::PODS,
            [&pod[..]],
            json!({"resourceVersion": "7"}),
            crate::table::IncludeObject::None,
            now(),
            true,
        );
        let t: Value = serde_json::from_slice(&t).unwrap();
        assert_eq!(t["columnDefinitions"].as_array().unwrap().len(), 9);
        assert_eq!(
            t["columnDefinitions"][5],
            json!({"name": "IP", "type": "string", "format": "", "priority": 1,
                   "description": "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."})
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "done",
                "0/1",
                "Completed",
                "0",
                "60m",
                "<none>",
                "<none>",
                "<none>",
                "<none>"
            ])
        );
        assert_eq!(t["rows"][0]["conditions"][0]["type"], "Completed");
        assert!(t["rows"][0].get("object").is_none());
    }

    #[test]
    fn a_running_pod_row_has_no_conditions() {
        let pod = br#"{"metadata": {"name": "p"}, "status": {"phase": "Running"}}"#;
        let t = crate::table::table(
            &crate::kinds::core::PODS,
            [&pod[..]],
            json!({}),
            crate::table::IncludeObject::Metadata,
            now(),
            false,
        );
        let t: Value = serde_json::from_slice(&t).unwrap();
        let r = &t["rows"][0];
        assert!(r.get("conditions").is_none());
        assert_eq!(r["object"]["kind"], "PartialObjectMetadata");
    }

    #[test]
    fn every_kind_with_an_upstream_printer_uses_one() {
        // kube-apiserver has a printer for every kind kube-lite serves, except the RBAC roles,
        // whose storage uses the default table convertor (`Name`, `Created At`).
        const DEFAULT_UPSTREAM: &[&str] = &["roles", "clusterroles"];
        for kind in crate::kinds::all() {
            let uses_default = std::ptr::eq(kind.table, &crate::table::DEFAULT_TABLE);
            assert_eq!(
                uses_default,
                DEFAULT_UPSTREAM.contains(&kind.plural),
                "{}/{}: uses the default Name/Created At printer: {uses_default}",
                kind.group,
                kind.plural
            );
        }
    }

    #[test]
    fn the_default_table_shows_name_and_creation_time_as_rfc3339() {
        let names: Vec<_> = crate::table::DEFAULT_COLUMNS
            .iter()
            .map(|c| (c.name, c.type_))
            .collect();
        assert_eq!(names, [("Name", "string"), ("Created At", "date")]);
        let row = crate::table::DEFAULT_TABLE.row;
        let cases = [
            (
                json!({"metadata": {"name": "pod-reader", "creationTimestamp": "2026-01-01T00:00:00Z"}}),
                json!(["pod-reader", "2026-01-01T00:00:00Z"]),
            ),
            (
                json!({"metadata": {"name": "r", "creationTimestamp": "2026-01-01T01:02:03+01:00"}}),
                json!(["r", "2026-01-01T00:02:03Z"]),
            ),
            (
                json!({"metadata": {"name": "unset"}}),
                json!(["unset", "0001-01-01T00:00:00Z"]),
            ),
        ];
        for (obj, want) in cases {
            assert_eq!(Value::Array(row(&obj, now())), want);
        }
    }

    #[test]
    fn column_names_are_unique_and_described_with_priority_zero_or_one() {
        for kind in crate::kinds::all() {
            let mut seen = std::collections::HashSet::new();
            for c in kind.table.columns {
                assert!(seen.insert(c.name), "{}: duplicate {}", kind.plural, c.name);
                assert!(c.priority <= 1);
                assert!(!c.description.is_empty(), "{}: {}", kind.plural, c.name);
            }
        }
    }
}
