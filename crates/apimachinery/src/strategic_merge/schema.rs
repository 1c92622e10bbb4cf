//! The schema side of strategic merge patch: OpenAPI-style definitions carrying
//! `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`, walked field by field.

use serde_json::{Map, Value};

use super::PatchError;

/// Extension naming a field's patch strategy (`merge`, `retainKeys`, `merge,retainKeys`, `replace`).
pub const PATCH_STRATEGY_EXTENSION: &str = "x-kubernetes-patch-strategy";
/// Extension naming the key that identifies the items of a merged list.
pub const PATCH_MERGE_KEY_EXTENSION: &str = "x-kubernetes-patch-merge-key";

const REF_PREFIXES: [&str; 3] = ["#/definitions/", "#/components/schemas/", "#/$defs/"];

/// A set of type definitions (`{"<type name>": {"properties": {...}}}`) to patch against.
#[derive(Clone, Debug, Default)]
pub struct PatchSchema {
    defs: Map<String, Value>,
}

impl PatchSchema {
    /// Takes a definitions map. A whole OpenAPI document is accepted too: its `definitions`
    /// (v2) or `components.schemas` (v3) are used.
    pub fn from_definitions(defs: &Value) -> Self {
        let inner = defs
            .get("definitions")
            .or_else(|| defs.get("components").and_then(|c| c.get("schemas")))
            .filter(|v| v.is_object())
            .unwrap_or(defs);
        PatchSchema {
            defs: inner.as_object().cloned().unwrap_or_default(),
        }
    }

    /// The definitions map.
    pub fn definitions(&self) -> &Map<String, Value> {
        &self.defs
    }

    /// A cursor at the named type; an unknown name gives a schema-less cursor.
    pub fn root(&self, type_name: &str) -> SchemaCursor<'_> {
        let base = SchemaCursor {
            defs: Some(&self.defs),
            node: None,
        };
        base.at(self.defs.get(type_name))
    }
}

/// Patch metadata of one field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchMeta {
    /// The comma-separated strategies, split.
    pub strategies: Vec<String>,
    /// The merge key, empty when none.
    pub merge_key: String,
}

impl PatchMeta {
    /// Splits the strategy list into "has retainKeys" and the other strategy (upstream
    /// `extractRetainKeysPatchStrategy`).
    pub(crate) fn retain_keys_and_strategy(&self) -> Result<(bool, &str), PatchError> {
        match self.strategies.as_slice() {
            [] => Ok((false, "")),
            [one] if one == "retainKeys" => Ok((true, "")),
            [one] => Ok((false, one.as_str())),
            [a, b] if a == "retainKeys" => Ok((true, b.as_str())),
            [a, b] if b == "retainKeys" => Ok((true, a.as_str())),
            other => Err(PatchError::new(format!(
                "unexpected patch strategy: [{}]",
                other.join(" ")
            ))),
        }
    }
}

/// A position in a [`PatchSchema`]: the type of the value being patched, or no type at all
/// (then every list is replaced atomically, as JSON merge patch does).
#[derive(Clone, Copy, Debug, Default)]
pub struct SchemaCursor<'a> {
    defs: Option<&'a Map<String, Value>>,
    node: Option<&'a Value>,
}

impl<'a> SchemaCursor<'a> {
    /// A cursor with no schema.
    pub fn none() -> SchemaCursor<'static> {
        SchemaCursor {
            defs: None,
            node: None,
        }
    }

    /// Whether the cursor points at a known type.
    pub fn is_known(&self) -> bool {
        self.node.is_some()
    }

    fn at(&self, node: Option<&'a Value>) -> SchemaCursor<'a> {
        SchemaCursor {
            defs: self.defs,
            node: node.and_then(|n| self.resolve(n)),
        }
    }

    /// Follows `allOf[0]` and `$ref` until a concrete schema.
    fn resolve(&self, mut node: &'a Value) -> Option<&'a Value> {
        for _ in 0..64 {
            if let Some(first) = node
                .get("allOf")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                node = first;
                continue;
            }
            if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
                let name = REF_PREFIXES
                    .iter()
                    .find_map(|p| reference.strip_prefix(p))
                    .unwrap_or(reference);
                node = self.defs?.get(name)?;
                continue;
            }
            return Some(node);
        }
        None
    }

    /// The schema of field `key` of the current object type (a declared property, else the
    /// `additionalProperties` schema of a map type).
    fn field(&self, key: &str) -> Option<&'a Value> {
        let node = self.node?;
        if let Some(prop) = node.get("properties").and_then(|p| p.get(key)) {
            return Some(prop);
        }
        node.get("additionalProperties").filter(|v| v.is_object())
    }

    fn meta_of(field: Option<&Value>) -> PatchMeta {
        let Some(field) = field else {
            return PatchMeta::default();
        };
        let ext = |name: &str| {
            field.get(name).and_then(Value::as_str).or_else(|| {
                field
                    .get("allOf")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(|f| f.get(name))
                    .and_then(Value::as_str)
            })
        };
        PatchMeta {
            strategies: ext(PATCH_STRATEGY_EXTENSION)
                .map(|s| s.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            merge_key: ext(PATCH_MERGE_KEY_EXTENSION).unwrap_or("").to_string(),
        }
    }

    /// Metadata of field `key` and a cursor at its (object) type.
    pub fn lookup_struct(&self, key: &str) -> (SchemaCursor<'a>, PatchMeta) {
        let field = self.field(key);
        (self.at(field), Self::meta_of(field))
    }

    /// Metadata of list field `key` and a cursor at its item type.
    pub fn lookup_slice(&self, key: &str) -> (SchemaCursor<'a>, PatchMeta) {
        let field = self.field(key);
        let meta = Self::meta_of(field);
        // A list field's items; without `items` (a bare `$ref`), the field's own type.
        let items = field.map(|f| f.get("items").unwrap_or(f));
        (self.at(items), meta)
    }

    /// The kind of type, for the "cannot merge lists without merge key for ..." message.
    pub(crate) fn name(&self) -> String {
        match self.node {
            Some(n) if n.get("properties").is_some() => "struct".to_string(),
            Some(n) if n.get("additionalProperties").is_some() => "map".to_string(),
            Some(n) => n
                .get("type")
                .and_then(Value::as_str)
                .map(|t| if t == "object" { "struct" } else { t })
                .unwrap_or("struct")
                .to_string(),
            None => "struct".to_string(),
        }
    }
}
