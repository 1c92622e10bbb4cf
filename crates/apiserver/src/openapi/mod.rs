//! OpenAPI for the served kinds, generated from the k8s-openapi types (their `schemars`
//! schemas, checked in as `catalog.json`): the v3 discovery index (`/openapi/v3`), one v3
//! document per group-version (`/openapi/v3/apis/apps/v1`) and the swagger 2.0 document
//! (`/openapi/v2`, as JSON or as gnostic's protobuf, which client-go's `OpenAPISchema()` asks
//! for).
//!
//! The documents are what kubectl reads before every write (does the PATCH operation of this
//! GVK take `fieldValidation`? does it accept strategic merge patch?), for `kubectl explain`
//! and to compute apply patches. The same definitions drive the server's strategic merge
//! patch ([`patch_schema`]) and `fieldValidation` ([`fields`]), so what the server publishes
//! is what it enforces.
//!
//! Everything is built once, from `kinds::all()`, on first use: the definitions (a few ms,
//! kept without their descriptions) by the first write or OpenAPI request ([`get`]), the
//! documents (descriptions included) by the first request for them.
//! Layout: `definitions` (schemas), `paths` (operations), `fields` (unknown-field detection),
//! `gnostic` + `v2_protobuf` (the v2 document as protobuf), `serve` (HTTP handlers with content
//! negotiation and ETag / `Cache-Control` as kube-apiserver sets them).

pub mod definitions;
pub mod fields;
pub mod gnostic;
pub mod go_types;
pub mod paths;
pub mod serve;
pub mod v2_protobuf;

#[cfg(test)]
mod tests;

use crate::http::GIT_VERSION;
use crate::kinds::Kind;
use apimachinery::{PatchSchema, SchemaCursor};
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// A serialized document and its content hash (upper-case hex, used as ETag and `?hash=`).
#[derive(Clone, Debug)]
pub struct Document {
    pub bytes: Bytes,
    pub hash: String,
}

impl Document {
    fn new(v: &Value) -> Self {
        let bytes = serde_json::to_vec(v).unwrap_or_default();
        let hash = content_hash(&bytes);
        Document {
            bytes: bytes.into(),
            hash,
        }
    }
}

/// All OpenAPI state of the server: the definitions (needed by every write, for strategic
/// merge patch and fieldValidation: a few ms to build) and the served documents (tens of ms
/// more; built on the first OpenAPI request).
pub struct OpenApi {
    /// The annotated definitions of every served kind and what they reach (v3 references),
    /// as the strategic merge patch schema holds them.
    pub patch_schema: PatchSchema,
    /// Definition name by (group, version, kind).
    by_gvk: HashMap<(String, String, String), String>,
    /// The kinds the documents describe.
    kinds: Vec<&'static Kind>,
    docs: OnceLock<Documents>,
    /// The swagger 2.0 document, built when first asked for (kubectl reads v3).
    v2: OnceLock<Document>,
    /// The swagger 2.0 document as gnostic's protobuf (`kubectl explain
    /// --output=plaintext-openapiv2`), converted from `v2` when first asked for.
    v2_protobuf: OnceLock<Document>,
}

/// The v3 documents.
pub struct Documents {
    /// v3 documents by group-version path (`api/v1`, `apis/apps/v1`).
    pub groups: BTreeMap<String, Document>,
    /// The v3 discovery index (`/openapi/v3`).
    pub index: Document,
}

static CELL: OnceLock<OpenApi> = OnceLock::new();

/// The server's OpenAPI state, built on first use from `kinds::all()`.
pub fn get() -> &'static OpenApi {
    CELL.get_or_init(|| OpenApi::build(&crate::kinds::all()))
}

/// The v3 documents, built off the async workers on first use.
pub async fn documents() -> &'static Documents {
    off_workers(|api| api.docs.get(), OpenApi::documents).await
}

/// The v2 document as JSON, built off the async workers on first use.
pub async fn v2_document() -> &'static Document {
    off_workers(|api| api.v2.get(), OpenApi::v2).await
}

/// The v2 document as gnostic's protobuf, built off the async workers on first use.
pub async fn v2_protobuf_document() -> &'static Document {
    off_workers(|api| api.v2_protobuf.get(), OpenApi::v2_protobuf).await
}

/// What `build` makes of the server's OpenAPI state: at once when `built` already has it,
/// else on a blocking thread (building takes tens of ms).
async fn off_workers<T: Sync>(
    built: fn(&'static OpenApi) -> Option<&'static T>,
    build: fn(&'static OpenApi) -> &'static T,
) -> &'static T {
    if let Some(d) = CELL.get().and_then(built) {
        return d;
    }
    tokio::task::spawn_blocking(move || build(get()))
        .await
        .unwrap_or_else(|_| build(get()))
}

/// The strategic-merge-patch schema cursor at a kind's type (schema-less when unknown).
pub fn patch_cursor(kind: &Kind) -> SchemaCursor<'static> {
    let api = get();
    match api.definition_of(kind) {
        Some(name) => api.patch_schema.root(name),
        None => SchemaCursor::none(),
    }
}

/// The structure server-side apply and managedFields walk (every served kind's type).
pub fn field_schema() -> &'static crate::fieldset::schema::Schema {
    static FIELDS: OnceLock<crate::fieldset::schema::Schema> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let api = get();
        let roots: Vec<&str> = api
            .kinds
            .iter()
            .filter_map(|k| api.definition_of(k))
            .collect();
        crate::fieldset::schema::Schema::compile(api.definitions(), roots)
    })
}

/// The strategic merge patch schema of every served kind.
pub fn patch_schema() -> &'static PatchSchema {
    &get().patch_schema
}

/// The group-version path of a kind's documents (`api/v1`, `apis/apps/v1`).
pub fn group_version_path(kind: &Kind) -> String {
    if kind.group.is_empty() {
        format!("api/{}", kind.version)
    } else {
        format!("apis/{}/{}", kind.group, kind.version)
    }
}

impl OpenApi {
    /// The definitions of `kinds`; documents are built on demand.
    pub fn build(kinds: &[&'static Kind]) -> OpenApi {
        let definitions = definitions::build(kinds, false);
        let mut by_gvk = HashMap::new();
        for k in kinds {
            let name = definitions::definition_name(k);
            if definitions.contains_key(&name) {
                by_gvk.insert(
                    (
                        k.group.to_string(),
                        k.version.to_string(),
                        k.kind.to_string(),
                    ),
                    name,
                );
            }
        }
        OpenApi {
            patch_schema: PatchSchema::from_definitions(&Value::Object(definitions)),
            by_gvk,
            kinds: kinds.to_vec(),
            docs: OnceLock::new(),
            v2: OnceLock::new(),
            v2_protobuf: OnceLock::new(),
        }
    }

    /// The v3 documents: one per group-version with its paths and the definitions they reach,
    /// and the index pointing at each by content hash.
    pub fn documents(&self) -> &Documents {
        self.docs.get_or_init(|| {
            let described = self.described_definitions();
            let mut per_gv: BTreeMap<String, Vec<&'static Kind>> = BTreeMap::new();
            for k in &self.kinds {
                per_gv.entry(group_version_path(k)).or_default().push(k);
            }
            let mut groups = BTreeMap::new();
            for (gv, gv_kinds) in &per_gv {
                let mut paths = Map::new();
                let mut roots = Vec::new();
                for k in gv_kinds {
                    roots.push(definitions::definition_name(k));
                    roots.push(definitions::list_definition_name(k));
                    for item in paths::path_items(k) {
                        roots.extend(paths::referenced_definitions(&item));
                        paths.insert(item.path.clone(), paths::v3_path_item(k, &item));
                    }
                }
                let schemas = definitions::closure(&described, &roots);
                let doc = json!({
                    "openapi": "3.0.0",
                    "info": {"title": "Kubernetes", "version": GIT_VERSION},
                    "paths": paths,
                    "components": {"schemas": schemas},
                });
                groups.insert(gv.clone(), Document::new(&doc));
            }
            let index_paths: Map<String, Value> = groups
                .iter()
                .map(|(gv, d)| {
                    (
                        gv.clone(),
                        json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash={}", d.hash)}),
                    )
                })
                .collect();
            let index = Document::new(&json!({"paths": index_paths}));
            Documents { groups, index }
        })
    }

    /// The swagger 2.0 document: every path and definition, with `#/definitions/` references.
    pub fn v2(&self) -> &Document {
        self.v2.get_or_init(|| {
            let mut paths = Map::new();
            for k in &self.kinds {
                for item in paths::path_items(k) {
                    paths.insert(item.path.clone(), paths::v2_path_item(k, &item));
                }
            }
            let defs: Map<String, Value> = self
                .described_definitions()
                .iter()
                .map(|(k, v)| (k.clone(), definitions::to_v2_definition(k, v)))
                .collect();
            Document::new(&json!({
                "swagger": "2.0",
                "info": {"title": "Kubernetes", "version": GIT_VERSION},
                "paths": paths,
                "definitions": defs,
            }))
        })
    }

    /// The swagger 2.0 document in gnostic's protobuf encoding, converted from the JSON one.
    pub fn v2_protobuf(&self) -> &Document {
        self.v2_protobuf.get_or_init(|| {
            let v2 = self.v2();
            let json: Value = serde_json::from_slice(&v2.bytes).unwrap_or_default();
            // The JSON document's hash, as kube-apiserver shares one ETag between the two
            // representations (`Vary: Accept` keeps caches apart).
            Document {
                bytes: v2_protobuf::encode(&json).into(),
                hash: v2.hash.clone(),
            }
        })
    }

    /// The definitions as the documents publish them, descriptions included (the server keeps
    /// them without: nothing it enforces reads a description).
    fn described_definitions(&self) -> Map<String, Value> {
        definitions::build(&self.kinds, true)
    }

    /// The definitions map (`io.k8s.api.apps.v1.Deployment` → schema), without descriptions.
    pub fn definitions(&self) -> &Map<String, Value> {
        self.patch_schema.definitions()
    }

    /// The definition name of a kind's type, when the server has its schema.
    pub fn definition_of(&self, kind: &Kind) -> Option<&str> {
        self.by_gvk
            .get(&(
                kind.group.to_string(),
                kind.version.to_string(),
                kind.kind.to_string(),
            ))
            .map(String::as_str)
    }
}

/// 128-bit FNV-1a of the bytes as 32 upper-case hex digits (a content hash for ETags and
/// `?hash=`; kube-apiserver uses SHA-512, clients treat it as opaque).
pub fn content_hash(bytes: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h = OFFSET;
    for b in bytes {
        h ^= u128::from(*b);
        h = h.wrapping_mul(PRIME);
    }
    format!("{h:032X}")
}
