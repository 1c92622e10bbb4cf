//! Server-side printing: `meta.k8s.io/v1` Table responses built from each kind's printer
//! (`Kind::table`, a [`TableSpec`] from `crate::printers`), with `includeObject` handling.

use crate::kinds::Kind;
use serde_json::{json, Value};
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

/// The default columns of a kind without its own printer.
pub const DEFAULT_COLUMNS: &[Column] = &[NAME, AGE];

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

fn default_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![name_cell(obj), Value::String(age(obj, now))]
}

/// The printer of a kind without its own: `Name`, `Age`.
pub const DEFAULT_TABLE: TableSpec = TableSpec::new(DEFAULT_COLUMNS, default_row);

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

fn row_object(obj: &Value, include: IncludeObject) -> Value {
    match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Object => obj.clone(),
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
        }),
    }
}

/// One row of a kind's table.
pub fn row(kind: &Kind, obj: &Value, include: IncludeObject, now: SystemTime) -> Value {
    let mut r = json!({"cells": (kind.table.row)(obj, now)});
    let conditions = (kind.table.conditions)(obj);
    if !conditions.is_empty() {
        r["conditions"] = Value::Array(conditions);
    }
    if include != IncludeObject::None {
        r["object"] = row_object(obj, include);
    }
    r
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

/// A Table of objects; `with_columns` false leaves `columnDefinitions` empty (watch events
/// after the first, as kube-apiserver does).
pub fn table(
    kind: &Kind,
    objects: &[Value],
    list_meta: Value,
    include: IncludeObject,
    now: SystemTime,
    with_columns: bool,
) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": if with_columns { column_definitions(kind) } else { json!([]) },
        "rows": objects.iter().map(|o| row(kind, o, include, now)).collect::<Vec<_>>(),
    })
}
