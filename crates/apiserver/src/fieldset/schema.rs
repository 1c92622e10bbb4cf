//! The structure server-side apply walks objects by (structured-merge-diff's schema), compiled
//! once from the server's OpenAPI definitions: structs, granular maps, associative lists keyed
//! by their `x-kubernetes-list-map-keys` (the patch merge key, or the listed multi-field keys
//! where upstream declares them), sets, atomic lists and atomic structs.

use serde_json::{Map, Value};
use std::collections::HashMap;

/// Index of a [`Shape`] in its [`Schema`].
pub type ShapeId = usize;

/// How a value of one type is tracked and merged.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// A leaf: scalars, atomic structs/maps/lists (replaced as a whole, owned as one field).
    Atomic,
    /// An object with declared fields; undeclared fields are untyped.
    Struct(HashMap<String, ShapeId>),
    /// A map whose entries are tracked one by one.
    Map(ShapeId),
    /// A list of objects identified by key fields (with the keys' defaults).
    Assoc {
        keys: Vec<(String, Option<Value>)>,
        elem: ShapeId,
    },
    /// A list of scalars tracked by value.
    Set,
    /// No schema: maps are granular, lists atomic (structured-merge-diff's deduced type).
    Untyped,
}

/// The untyped shape's id in every schema.
pub const UNTYPED: ShapeId = 0;
/// The atomic shape's id in every schema.
pub const ATOMIC: ShapeId = 1;

/// Compiled shapes, and the root shape of each definition compiled so far.
#[derive(Debug)]
pub struct Schema {
    shapes: Vec<Shape>,
    roots: HashMap<String, ShapeId>,
}

/// A list's key fields and their defaults.
type ListKeys = &'static [(&'static str, Option<&'static str>)];

/// Lists whose upstream `x-kubernetes-list-map-keys` are more than the patch merge key
/// (`+listMapKey` tags of k8s.io/api v1.35), with the keys' defaults.
const MULTI_KEYS: &[(&str, &str, ListKeys)] = &[
    (
        "io.k8s.api.core.v1.Container",
        "ports",
        &[("containerPort", None), ("protocol", Some("TCP"))],
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "ports",
        &[("containerPort", None), ("protocol", Some("TCP"))],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "ports",
        &[("port", None), ("protocol", Some("TCP"))],
    ),
    (
        "io.k8s.api.core.v1.PodSpec",
        "topologySpreadConstraints",
        &[("topologyKey", None), ("whenUnsatisfiable", None)],
    ),
];

/// Struct types upstream declares `+structType=atomic` / `x-kubernetes-map-type: atomic`.
const ATOMIC_STRUCTS: &[&str] = &[
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "io.k8s.api.core.v1.LocalObjectReference",
    "io.k8s.api.core.v1.ObjectReference",
    "io.k8s.api.core.v1.TypedLocalObjectReference",
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "io.k8s.api.core.v1.SecretKeySelector",
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "io.k8s.api.core.v1.ConfigMapEnvSource",
    "io.k8s.api.core.v1.SecretEnvSource",
    "io.k8s.api.core.v1.NodeSelector",
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "io.k8s.api.core.v1.TopologySelectorTerm",
];

const REF_PREFIXES: [&str; 3] = ["#/components/schemas/", "#/definitions/", "#/$defs/"];

impl Schema {
    /// Compile the shapes of the named definitions (and all they reach).
    pub fn compile<'a>(
        defs: &Map<String, Value>,
        roots: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut s = Schema {
            shapes: vec![Shape::Untyped, Shape::Atomic],
            roots: HashMap::new(),
        };
        for name in roots {
            s.definition(defs, name);
        }
        s
    }

    pub fn shape(&self, id: ShapeId) -> &Shape {
        &self.shapes[id]
    }

    /// The root shape of a compiled definition (untyped when unknown).
    pub fn root(&self, name: &str) -> ShapeId {
        self.roots.get(name).copied().unwrap_or(UNTYPED)
    }

    /// Add a shape built by hand (tests).
    pub fn add(&mut self, shape: Shape) -> ShapeId {
        self.shapes.push(shape);
        self.shapes.len() - 1
    }

    /// An empty schema (untyped and atomic only), for hand-built shapes.
    pub fn empty() -> Self {
        Schema {
            shapes: vec![Shape::Untyped, Shape::Atomic],
            roots: HashMap::new(),
        }
    }

    fn definition(&mut self, defs: &Map<String, Value>, name: &str) -> ShapeId {
        if let Some(id) = self.roots.get(name) {
            return *id;
        }
        let Some(def) = defs.get(name) else {
            return UNTYPED;
        };
        if ATOMIC_STRUCTS.contains(&name)
            || def.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
        {
            self.roots.insert(name.to_string(), ATOMIC);
            return ATOMIC;
        }
        // Reserve the id first: definitions may reach themselves.
        let id = self.add(Shape::Untyped);
        self.roots.insert(name.to_string(), id);
        let shape = self.node(defs, def, name);
        self.shapes[id] = shape;
        id
    }

    fn reference(node: &Value) -> Option<&str> {
        let r = node.get("$ref").and_then(Value::as_str).or_else(|| {
            node.get("allOf")?
                .as_array()?
                .first()?
                .get("$ref")?
                .as_str()
        })?;
        Some(
            REF_PREFIXES
                .iter()
                .find_map(|p| r.strip_prefix(p))
                .unwrap_or(r),
        )
    }

    /// The shape of a schema node that is not a list field (lists need their field's tags).
    fn of(&mut self, defs: &Map<String, Value>, node: &Value) -> ShapeId {
        if let Some(name) = Self::reference(node) {
            return self.definition(defs, name);
        }
        let shape = self.node(defs, node, "");
        match shape {
            Shape::Atomic => ATOMIC,
            Shape::Untyped => UNTYPED,
            other => self.add(other),
        }
    }

    fn node(&mut self, defs: &Map<String, Value>, node: &Value, def_name: &str) -> Shape {
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            let mut fields = HashMap::with_capacity(props.len());
            for (field, fs) in props {
                let id = if fs.get("type").and_then(Value::as_str) == Some("array") {
                    let shape = self.list(defs, def_name, field, fs);
                    self.add(shape)
                } else {
                    self.of(defs, fs)
                };
                fields.insert(field.clone(), id);
            }
            return Shape::Struct(fields);
        }
        match node.get("type").and_then(Value::as_str) {
            Some("object") => match node.get("additionalProperties") {
                Some(ap) if ap.is_object() => Shape::Map(self.of(defs, ap)),
                _ => Shape::Untyped,
            },
            Some("array") => Shape::Atomic,
            Some(_) => Shape::Atomic,
            None if node.get("format").is_some() => Shape::Atomic,
            None => Shape::Untyped,
        }
    }

    /// A list field: associative by its keys, a set, or atomic, from its tags.
    fn list(
        &mut self,
        defs: &Map<String, Value>,
        def_name: &str,
        field: &str,
        fs: &Value,
    ) -> Shape {
        let ext = |k: &str| fs.get(k).and_then(Value::as_str).unwrap_or("");
        let strategy = ext(apimachinery::strategic_merge::PATCH_STRATEGY_EXTENSION);
        let merge_key = ext(apimachinery::strategic_merge::PATCH_MERGE_KEY_EXTENSION);
        let list_type = ext("x-kubernetes-list-type");
        let items = fs.get("items").unwrap_or(&Value::Null);
        if list_type == "atomic" {
            return Shape::Atomic;
        }
        if !merge_key.is_empty() || list_type == "map" {
            let keys: Vec<(String, Option<Value>)> = MULTI_KEYS
                .iter()
                .find(|(d, f, _)| *d == def_name && *f == field)
                .map(|(_, _, keys)| {
                    keys.iter()
                        .map(|(k, d)| (k.to_string(), d.map(|d| Value::String(d.into()))))
                        .collect()
                })
                .or_else(|| {
                    fs.get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(|k| (k.to_string(), None))
                                .collect()
                        })
                })
                .unwrap_or_else(|| vec![(merge_key.to_string(), None)]);
            let elem = self.of(defs, items);
            return Shape::Assoc { keys, elem };
        }
        if list_type == "set" || strategy.split(',').any(|s| s == "merge") {
            return Shape::Set;
        }
        Shape::Atomic
    }
}
