//! Server-side printing: `meta.k8s.io/v1` Table responses built from each kind's printer
//! (`Kind::table`, a [`TableSpec`] from `crate::printers`), with `includeObject` handling.

use crate::kinds::Kind;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::time::SystemTime;

/// One column definition (`metav1.TableColumnDefinition`).
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub type_: &'static str,
    pub format: &'static str,
    pub description: &'static str,
    /// 0 = always shown; 1 = shown with `-o wide`.
    pub priority: u8,
}

impl Column {
    pub const fn new(name: &'static str, type_: &'static str, description: &'static str) -> Self {
        Column {
            name,
            type_,
            format: "",
            description,
            priority: 0,
        }
    }
    pub const fn wide(self) -> Self {
        Column {
            priority: 1,
            ..self
        }
    }
    pub const fn format(self, format: &'static str) -> Self {
        Column { format, ..self }
    }
}

pub const NAME: Column = Column::new(
    "Name",
    "string",
    "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
)
.format("name");

pub const AGE: Column = Column::new(
    "Age",
    "string",
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
);

/// `Created At` of the default table: the creation time itself (RFC 3339), not its age.
pub const CREATED_AT: Column = Column {
    name: "Created At",
    type_: "date",
    ..AGE
};

/// The columns of a kind without a printer of its own, as kube-apiserver's default table
/// convertor (`rest.NewDefaultTableConvertor`) sends them.
pub const DEFAULT_COLUMNS: &[Column] = &[NAME, CREATED_AT];

/// A kind's server-side printer: its columns and how to fill one row. Every row has exactly
/// one cell per column, wide-only (priority 1) cells included, as kube-apiserver always
/// prints with `Wide: true` and lets the client hide priority-1 columns.
#[derive(Clone, Copy)]
pub struct TableSpec {
    pub columns: &'static [Column],
    /// The cells of one object's row.
    pub row: fn(&Value, SystemTime) -> Vec<Value>,
    /// The row's `conditions` (`metav1.TableRowCondition`); empty leaves them out.
    pub conditions: fn(&Value) -> Vec<Value>,
}

impl TableSpec {
    pub const fn new(
        columns: &'static [Column],
        row: fn(&Value, SystemTime) -> Vec<Value>,
    ) -> Self {
        TableSpec {
            columns,
            row,
            conditions: no_conditions,
        }
    }
    pub const fn conditions(self, conditions: fn(&Value) -> Vec<Value>) -> Self {
        TableSpec { conditions, ..self }
    }
}

impl std::fmt::Debug for TableSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
        write!(f, "TableSpec({names:?})")
    }
}

fn no_conditions(_: &Value) -> Vec<Value> {
    Vec::new()
}

fn default_row(obj: &Value, _now: SystemTime) -> Vec<Value> {
    vec![name_cell(obj), Value::String(created_at(obj))]
}

/// `creationTimestamp.UTC().Format(time.RFC3339)`: Go's zero time when unset.
pub fn created_at(obj: &Value) -> String {
    obj.pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(crate::clock::parse_rfc3339)
        .map_or_else(|| "0001-01-01T00:00:00Z".into(), crate::clock::rfc3339)
}

/// The printer of a kind without its own (upstream: the RBAC roles): `Name`, `Created At`.
/// A `static`, so that `Kind::table` pointing at it can be told apart by address.
pub static DEFAULT_TABLE: TableSpec = TableSpec::new(DEFAULT_COLUMNS, default_row);

/// `includeObject` of a Table request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// The age of an object as kubectl shows it (`<unknown>` without a creation time).
pub fn age(obj: &Value, now: SystemTime) -> String {
    match obj
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(crate::clock::parse_rfc3339)
    {
        None => "<unknown>".into(),
        Some(t) => since(t, now),
    }
}

/// `HumanDuration(now - t)`.
pub fn since(t: SystemTime, now: SystemTime) -> String {
    let secs = match now.duration_since(t) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    apimachinery::duration::human_duration_secs(secs)
}

pub fn name_cell(obj: &Value) -> Value {
    obj.pointer("/metadata/name").cloned().unwrap_or(json!(""))
}

/// A stored object as the printers see it, and its raw `metadata`: parsed once, except
/// `metadata.managedFields`, which no printer reads and which is the largest part of most
/// objects' metadata (the row's object copies the metadata's bytes as they are).
fn printable(bytes: &[u8]) -> (Value, Option<&RawValue>) {
    type Fields<'a> = std::collections::BTreeMap<String, &'a RawValue>;
    let parse = |raw: &RawValue| serde_json::from_str(raw.get()).unwrap_or(Value::Null);
    let Ok(top) = serde_json::from_slice::<Fields>(bytes) else {
        return (serde_json::from_slice(bytes).unwrap_or(Value::Null), None);
    };
    let mut obj = Map::new();
    let mut raw_metadata = None;
    for (k, raw) in top {
        let v = match serde_json::from_str::<Fields>(raw.get()) {
            Ok(fields) if k == "metadata" => {
                raw_metadata = Some(raw);
                Value::Object(
                    fields
                        .into_iter()
                        .filter(|(f, _)| f != "managedFields")
                        .map(|(f, r)| (f, parse(r)))
                        .collect(),
                )
            }
            _ => parse(raw),
        };
        obj.insert(k, v);
    }
    (Value::Object(obj), raw_metadata)
}

/// `metadata.resourceVersion` of stored bytes (a watch event's Table carries it).
pub fn resource_version(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Meta {
        #[serde(rename = "resourceVersion")]
        resource_version: Option<String>,
    }
    #[derive(Deserialize)]
    struct Obj {
        metadata: Option<Meta>,
    }
    serde_json::from_slice::<Obj>(bytes)
        .ok()?
        .metadata?
        .resource_version
}

/// The `PartialObjectMetadata` of a stored object, its metadata copied as stored (a Table row's
/// object by default; the whole answer of a metadata GET, list or watch).
#[derive(Serialize)]
pub struct PartialMetadata<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: &'a RawValue,
}

impl<'a> PartialMetadata<'a> {
    fn new(metadata: Option<&'a RawValue>) -> Self {
        PartialMetadata {
            kind: "PartialObjectMetadata",
            api_version: "meta.k8s.io/v1",
            metadata: metadata
                .or_else(|| serde_json::from_str(EMPTY_OBJECT).ok())
                .expect("{} is a JSON object"),
        }
    }

    /// Of stored JSON bytes: only the top level is scanned, nothing is parsed into a tree.
    pub fn of(bytes: &'a [u8]) -> Self {
        #[derive(Deserialize)]
        struct Top<'a> {
            #[serde(borrow)]
            metadata: Option<&'a RawValue>,
        }
        let top = serde_json::from_slice::<Top<'_>>(bytes).ok();
        Self::new(top.and_then(|t| t.metadata))
    }
}

/// What a row carries of its object: the stored bytes themselves, or its metadata's.
#[derive(Serialize)]
#[serde(untagged)]
enum RowObject<'a> {
    Whole(&'a RawValue),
    Metadata(PartialMetadata<'a>),
}

#[derive(Serialize)]
struct Row<'a> {
    cells: Vec<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    conditions: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<RowObject<'a>>,
}

const EMPTY_OBJECT: &str = "{}";

/// One row of a kind's table, for one stored object (its JSON bytes).
fn row<'a>(kind: &Kind, bytes: &'a [u8], include: IncludeObject, now: SystemTime) -> Row<'a> {
    let (obj, metadata) = printable(bytes);
    let object = match include {
        IncludeObject::None => None,
        IncludeObject::Object => serde_json::from_slice(bytes).ok().map(RowObject::Whole),
        IncludeObject::Metadata => Some(RowObject::Metadata(PartialMetadata::new(metadata))),
    };
    Row {
        cells: (kind.table.row)(&obj, now),
        conditions: (kind.table.conditions)(&obj),
        object,
    }
}

pub fn column_definitions(kind: &Kind) -> Value {
    Value::Array(
        kind.table
            .columns
            .iter()
            .map(|c| {
                json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority})
            })
            .collect(),
    )
}

#[derive(Serialize)]
struct Table<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: Value,
    #[serde(rename = "columnDefinitions")]
    column_definitions: Value,
    rows: Vec<Row<'a>>,
}

/// A Table of stored objects (their JSON bytes), as JSON; `with_columns` false leaves
/// `columnDefinitions` empty (watch events after the first, as kube-apiserver does). Each
/// object is parsed once for its printer, and what a row carries of it (`includeObject`) is
/// copied from its bytes, never re-serialized.
pub fn table<'a>(
    kind: &Kind,
    objects: impl IntoIterator<Item = &'a [u8]>,
    list_meta: Value,
    include: IncludeObject,
    now: SystemTime,
    with_columns: bool,
) -> Vec<u8> {
    let t = Table {
        kind: "Table",
        api_version: "meta.k8s.io/v1",
        metadata: list_meta,
        column_definitions: if with_columns {
            column_definitions(kind)
        } else {
            Value::Array(Vec::new())
        },
        rows: objects
            .into_iter()
            .map(|o| row(kind, o, include, now))
            .collect(),
    };
    serde_json::to_vec(&t).unwrap_or_default()
}
