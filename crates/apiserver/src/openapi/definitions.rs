//! The definitions map: OpenAPI schemas of every served kind and of everything they reach,
//! generated from the k8s-openapi types' `schemars::JsonSchema` impls (by a test, into the
//! checked-in `catalog.json`, as kube-apiserver checks in its generated OpenAPI) and named as
//! upstream (`io.k8s.api.apps.v1.Deployment`). References are OpenAPI v3 style
//! (`#/components/schemas/..`, a `$ref` with sibling keys wrapped in `allOf`, as kube-apiserver
//! publishes them); kinds carry `x-kubernetes-group-version-kind`, and the built-in patch
//! strategies and merge keys are injected by `apimachinery::annotate_definitions`.

use crate::kinds::{Kind, Subresource};
#[cfg(test)]
use k8s_openapi::api::{
    apps::v1 as apps, autoscaling::v1 as autoscaling, autoscaling::v2 as autoscaling_v2,
    batch::v1 as batch, coordination::v1 as coordination, core::v1 as core,
    discovery::v1 as discovery, events::v1 as events, networking::v1 as networking,
    policy::v1 as policy, rbac::v1 as rbac, scheduling::v1 as scheduling, storage::v1 as storage,
};
#[cfg(test)]
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
#[cfg(test)]
use schemars::{generate::SchemaSettings, JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

/// Where v3 references point.
pub const V3_REF_PREFIX: &str = "#/components/schemas/";
/// Where v2 (swagger) references point.
pub const V2_REF_PREFIX: &str = "#/definitions/";

pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
pub const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
pub const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
pub const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
pub const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
pub const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";
pub const BINDING: &str = "io.k8s.api.core.v1.Binding";

/// One type of the catalog: how to generate its schema.
#[cfg(test)]
struct TypeEntry {
    generate: fn(&mut SchemaGenerator),
}

#[cfg(test)]
fn generate<T: JsonSchema>(g: &mut SchemaGenerator) {
    g.subschema_for::<T>();
}

#[cfg(test)]
macro_rules! catalog {
    ($($t:ty),* $(,)?) => {
        &[$(TypeEntry { generate: generate::<$t> }),*]
    };
}

/// The types the server knows (kube-apiserver's scheme): every built-in top-level kind a row of
/// the kinds table may serve, the subresource bodies and the meta types operations refer to.
/// Only what is served (and what that reaches) ends up in the documents.
#[cfg(test)]
const CATALOG: &[TypeEntry] = catalog![
    core::Binding,
    core::ComponentStatus,
    core::ConfigMap,
    core::Endpoints,
    core::Event,
    core::LimitRange,
    core::Namespace,
    core::Node,
    core::PersistentVolume,
    core::PersistentVolumeClaim,
    core::Pod,
    core::PodTemplate,
    core::ReplicationController,
    core::ResourceQuota,
    core::Secret,
    core::Service,
    core::ServiceAccount,
    apps::ControllerRevision,
    apps::DaemonSet,
    apps::Deployment,
    apps::ReplicaSet,
    apps::StatefulSet,
    autoscaling::Scale,
    autoscaling::HorizontalPodAutoscaler,
    autoscaling_v2::HorizontalPodAutoscaler,
    batch::CronJob,
    batch::Job,
    coordination::Lease,
    discovery::EndpointSlice,
    events::Event,
    networking::Ingress,
    networking::IngressClass,
    networking::NetworkPolicy,
    policy::PodDisruptionBudget,
    rbac::ClusterRole,
    rbac::ClusterRoleBinding,
    rbac::Role,
    rbac::RoleBinding,
    scheduling::PriorityClass,
    storage::CSIDriver,
    storage::CSINode,
    storage::StorageClass,
    storage::VolumeAttachment,
    meta::DeleteOptions,
    meta::ListMeta,
    meta::Patch,
    meta::Status,
];

/// The definition name of a kind's type (`io.k8s.api.apps.v1.Deployment`).
pub fn definition_name(kind: &Kind) -> String {
    apimachinery::k8s_patch_meta::definition_name(&kind.api_version(), kind.kind)
}

/// The definition name of a kind's list type (`io.k8s.api.apps.v1.DeploymentList`).
pub fn list_definition_name(kind: &Kind) -> String {
    format!("{}List", definition_name(kind))
}

/// `{"group": .., "kind": .., "version": ..}`.
pub fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

/// The schemas of every type of the catalog and of everything they reach, as generated from the
/// k8s-openapi types (v3 references, `$ref` siblings wrapped), checked in like kube-apiserver's
/// generated OpenAPI so that the server does not run the generator (nor keep its code in
/// memory) at start. `the_embedded_catalog_is_what_k8s_openapi_generates` regenerates it with
/// `UPDATE_OPENAPI_CATALOG=1`.
pub const CATALOG_JSON: &str = include_str!("catalog.json");

/// Generate the catalog's schemas (what `catalog.json` holds).
#[cfg(test)]
pub(crate) fn generate_catalog() -> Map<String, Value> {
    let settings = SchemaSettings::openapi3().with(|s| {
        s.meta_schema = None;
        s.transforms.clear();
    });
    let mut generator = settings.into_generator();
    for entry in CATALOG {
        (entry.generate)(&mut generator);
    }
    let mut defs = generator.take_definitions(false);
    for def in defs.values_mut() {
        wrap_ref_siblings(def);
    }
    defs
}

/// The annotated definitions map for `kinds` (v3 reference style), with or without the
/// schemas' descriptions (only the published documents need them). Kinds whose type is not in
/// the catalog get no definition.
pub fn build(kinds: &[&'static Kind], descriptions: bool) -> Map<String, Value> {
    let mut wanted: Vec<String> = kinds.iter().map(|k| definition_name(k)).collect();
    wanted.extend([STATUS, DELETE_OPTIONS, PATCH, LIST_META].map(String::from));
    if kinds.iter().any(|k| k.has(Subresource::Scale)) {
        wanted.push(SCALE.into());
    }
    if kinds.iter().any(|k| k.has(Subresource::Binding)) {
        wanted.push(BINDING.into());
    }
    // Checked against the generator by a test; not input, so a broken file fails loudly.
    let catalog: Map<String, Value> =
        serde_json::from_str(CATALOG_JSON).expect("catalog.json holds a JSON object");
    let mut defs = take_closure(catalog, &wanted);
    for kind in kinds {
        let name = definition_name(kind);
        let Some(def) = defs.get_mut(&name).and_then(Value::as_object_mut) else {
            continue;
        };
        def.insert(
            "x-kubernetes-group-version-kind".into(),
            json!([gvk(kind.group, kind.version, kind.kind)]),
        );
        let list = list_definition(kind, &name);
        defs.insert(list_definition_name(kind), list);
    }
    if let Some(def) = defs.get_mut(STATUS).and_then(Value::as_object_mut) {
        def.insert(
            "x-kubernetes-group-version-kind".into(),
            json!([gvk("", "v1", "Status")]),
        );
    }
    for (name, gv) in [
        (SCALE, ("autoscaling", "v1", "Scale")),
        (BINDING, ("", "v1", "Binding")),
    ] {
        if let Some(def) = defs.get_mut(name).and_then(Value::as_object_mut) {
            def.insert(
                "x-kubernetes-group-version-kind".into(),
                json!([gvk(gv.0, gv.1, gv.2)]),
            );
        }
    }
    let mut v = Value::Object(defs);
    apimachinery::annotate_definitions(&mut v);
    if !descriptions {
        strip_descriptions(&mut v);
    }
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn list_definition(kind: &Kind, item: &str) -> Value {
    json!({
        "description": format!("{}List is a list of {} objects.", kind.kind, kind.kind),
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
                "type": "string",
            },
            "items": {
                "description": format!("items is the list of {} objects.", kind.kind),
                "type": "array",
                "items": {"$ref": format!("{V3_REF_PREFIX}{item}")},
            },
            "kind": {
                "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                "type": "string",
            },
            "metadata": {
                "allOf": [{"$ref": format!("{V3_REF_PREFIX}{LIST_META}")}],
                "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
            },
        },
        "required": ["items"],
        "x-kubernetes-group-version-kind": [gvk(kind.group, kind.version, &kind.list_kind())],
    })
}

/// A `$ref` with sibling keys (a field's description next to its type) becomes
/// `{"allOf": [{"$ref": ..}], <siblings>}`, the form kube-apiserver's v3 documents use.
#[cfg(test)]
fn wrap_ref_siblings(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.len() > 1 {
                if let Some(r) = m.remove("$ref") {
                    m.insert("allOf".into(), json!([{"$ref": r}]));
                }
            }
            m.values_mut().for_each(wrap_ref_siblings);
        }
        Value::Array(items) => items.iter_mut().for_each(wrap_ref_siblings),
        _ => {}
    }
}

/// The v2 (swagger) form of a named definition: [`to_v2`], and `IntOrString` with the
/// `int-or-string` format kube-apiserver's v2 document gives it.
pub fn to_v2_definition(name: &str, v: &Value) -> Value {
    let mut out = to_v2(v);
    if name == INT_OR_STRING {
        if let Some(m) = out.as_object_mut() {
            m.insert("format".into(), json!("int-or-string"));
        }
    }
    out
}

const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

/// The v2 (swagger) form of a v3-style schema: `#/definitions/` references, an `allOf`
/// of a single reference folded back into a `$ref` with its siblings, and
/// `x-kubernetes-int-or-string` (a v3 structural-schema marker) as `type: string`, which is
/// how swagger 2.0 (one type per schema) publishes quantities and int-or-strings.
pub fn to_v2(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                if k == "x-kubernetes-int-or-string" && x == &Value::Bool(true) {
                    out.insert("type".into(), json!("string"));
                    continue;
                }
                if k == "allOf" {
                    if let Some(r) = single_ref(x) {
                        out.insert(
                            "$ref".into(),
                            json!(r.replacen(V3_REF_PREFIX, V2_REF_PREFIX, 1)),
                        );
                        continue;
                    }
                }
                if k == "$ref" {
                    if let Some(r) = x.as_str() {
                        out.insert(
                            k.clone(),
                            json!(r.replacen(V3_REF_PREFIX, V2_REF_PREFIX, 1)),
                        );
                        continue;
                    }
                }
                out.insert(k.clone(), to_v2(x));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(to_v2).collect()),
        other => other.clone(),
    }
}

fn single_ref(all_of: &Value) -> Option<&str> {
    match all_of.as_array()?.as_slice() {
        [one] if one.as_object().is_some_and(|m| m.len() == 1) => one.get("$ref")?.as_str(),
        _ => None,
    }
}

/// Every definition name `v` refers to (`$ref`s anywhere inside it).
pub fn refs_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(name) = x.as_str().and_then(|r| r.strip_prefix(V3_REF_PREFIX)) {
                        out.push(name.to_string());
                    }
                } else {
                    refs_in(x, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| refs_in(x, out)),
        _ => {}
    }
}

/// Drop every schema's `description` (a property named `description` is a schema, not a
/// string, and stays).
pub(crate) fn strip_descriptions(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("description").is_some_and(Value::is_string) {
                m.remove("description");
            }
            m.values_mut().for_each(strip_descriptions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_descriptions),
        _ => {}
    }
}

/// `roots` and every definition they reach, moved out of `defs`.
fn take_closure(mut defs: Map<String, Value>, roots: &[String]) -> Map<String, Value> {
    closure_with(roots, |name| defs.remove(name))
}

/// `roots` and every definition they reach, from `defs`.
pub fn closure(defs: &Map<String, Value>, roots: &[String]) -> Map<String, Value> {
    closure_with(roots, |name| defs.get(name).cloned())
}

/// `roots` and every definition they reach, each obtained once through `take`.
fn closure_with(
    roots: &[String],
    mut take: impl FnMut(&str) -> Option<Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let mut todo: Vec<String> = roots.to_vec();
    while let Some(name) = todo.pop() {
        if out.contains_key(&name) {
            continue;
        }
        let Some(def) = take(&name) else {
            continue;
        };
        refs_in(&def, &mut todo);
        out.insert(name, def);
    }
    out
}
