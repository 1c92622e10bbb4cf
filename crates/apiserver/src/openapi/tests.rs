use super::definitions::{refs_in, V3_REF_PREFIX};
use super::fields::prune_unknown;
use super::*;
use crate::kinds::all;
use serde_json::json;

fn group_doc(gv: &str) -> Value {
    serde_json::from_slice(&get().documents().groups[gv].bytes).unwrap()
}

#[test]
fn deployment_patch_operation_takes_field_validation_and_every_patch_type() {
    let doc = group_doc("apis/apps/v1");
    let op = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        op["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "kind": "Deployment", "version": "v1"})
    );
    assert_eq!(op["x-kubernetes-action"], "patch");
    assert_eq!(op["operationId"], "patchAppsV1NamespacedDeployment");
    let params = op["parameters"].as_array().unwrap();
    assert!(params
        .iter()
        .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
    let content = op["requestBody"]["content"].as_object().unwrap();
    for t in paths::PATCH_TYPES {
        assert!(content.contains_key(*t), "missing {t}");
    }
    // POST and PUT take fieldValidation too.
    let coll = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"];
    for op in [
        &coll["post"],
        &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["put"],
    ] {
        assert!(op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation"));
    }
    assert_eq!(coll["get"]["x-kubernetes-action"], "list");
    // The scale subresource answers as autoscaling/v1 Scale.
    let scale = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
    assert_eq!(
        scale["patch"]["x-kubernetes-group-version-kind"]["kind"],
        "Scale"
    );
}

#[test]
fn every_served_kind_has_a_definition_and_a_patch_operation() {
    let api = get();
    for k in all() {
        let def = api
            .definition_of(k)
            .unwrap_or_else(|| panic!("no definition for {k:?}"));
        let schema = &api.definitions()[def];
        assert_eq!(
            schema["x-kubernetes-group-version-kind"],
            json!([{"group": k.group, "kind": k.kind, "version": k.version}]),
            "{def}"
        );
        let doc = group_doc(&group_version_path(k));
        assert!(doc["components"]["schemas"].get(def).is_some(), "{def}");
        let patched = doc["paths"].as_object().unwrap().values().any(|item| {
            item["patch"]["x-kubernetes-group-version-kind"]
                == json!({"group": k.group, "kind": k.kind, "version": k.version})
        });
        assert!(patched, "no PATCH operation for {def}");
    }
}

#[test]
fn the_embedded_catalog_is_what_k8s_openapi_generates() {
    let generated = definitions::generate_catalog();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/openapi/catalog.json");
    if std::env::var_os("UPDATE_OPENAPI_CATALOG").is_some() {
        let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        std::fs::write(path, text).unwrap();
        return;
    }
    let embedded: Map<String, Value> = serde_json::from_str(definitions::CATALOG_JSON).unwrap();
    assert!(
        embedded == generated,
        "catalog.json is stale: run UPDATE_OPENAPI_CATALOG=1 cargo test -p apiserver \
         the_embedded_catalog_is_what_k8s_openapi_generates"
    );
}

#[test]
fn definitions_carry_patch_strategies_merge_keys_and_descriptions() {
    let defs = get().definitions();
    let containers = &defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(
        containers["items"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.Container"
    );
    let ports = &defs["io.k8s.api.core.v1.Container"]["properties"]["ports"];
    assert_eq!(ports["x-kubernetes-patch-merge-key"], "containerPort");
    let strategy = &defs["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"];
    assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    // A reference with a description is wrapped in allOf, as kube-apiserver publishes it.
    assert_eq!(
        strategy["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"
    );
    // The server keeps no descriptions; the documents it publishes carry them.
    assert!(strategy.get("description").is_none());
    let published = &group_doc("apis/apps/v1")["components"]["schemas"]
        ["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"];
    assert!(published["description"]
        .as_str()
        .unwrap()
        .contains("deployment strategy"));
    let mut schema = json!({"description": "a type", "properties": {
        "description": {"description": "a field named description", "type": "string"}}});
    definitions::strip_descriptions(&mut schema);
    assert_eq!(
        schema,
        json!({"properties": {"description": {"type": "string"}}})
    );
    assert!(
        defs[definitions::OBJECT_META]["properties"]["labels"]["additionalProperties"].is_object()
    );
}

#[test]
fn documents_are_self_contained() {
    let api = get();
    for (gv, d) in &api.documents().groups {
        let doc: Value = serde_json::from_slice(&d.bytes).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut refs = Vec::new();
        refs_in(&doc, &mut refs);
        for r in refs {
            assert!(schemas.contains_key(&r), "{gv}: dangling reference to {r}");
        }
        assert_eq!(doc["openapi"], "3.0.0");
    }
    let v2: Value = serde_json::from_slice(&api.v2().bytes).unwrap();
    assert_eq!(v2["swagger"], "2.0");
    let text = String::from_utf8_lossy(&api.v2().bytes);
    assert!(!text.contains(V3_REF_PREFIX));
    let meta_ref = &v2["definitions"]["io.k8s.api.apps.v1.Deployment"]["properties"]["metadata"];
    assert_eq!(
        meta_ref["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    let patch = &v2["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
    assert!(patch["consumes"]
        .as_array()
        .unwrap()
        .contains(&json!("application/strategic-merge-patch+json")));
}

#[test]
fn index_points_at_each_document_by_hash() {
    let api = get();
    let docs = api.documents();
    let index: Value = serde_json::from_slice(&docs.index.bytes).unwrap();
    let paths = index["paths"].as_object().unwrap();
    assert!(paths.contains_key("api/v1") && paths.contains_key("apis/apps/v1"));
    for (gv, entry) in paths {
        assert_eq!(
            entry["serverRelativeURL"],
            format!("/openapi/v3/{gv}?hash={}", docs.groups[gv].hash)
        );
    }
}

#[test]
fn unknown_fields_are_reported_by_path_and_dropped() {
    let api = get();
    let mut obj = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "x", "labels": {"any": "key"}, "bogus": 1},
        "spec": {
            "replicas": 1, "foo": "bar",
            "template": {"spec": {"containers": [
                {"name": "a", "image": "nginx", "imagePullPolic": "Always",
                 "resources": {"limits": {"cpu": "1"}}}
            ]}},
        },
    });
    let unknown = prune_unknown(api.definitions(), "io.k8s.api.apps.v1.Deployment", &mut obj);
    assert_eq!(
        unknown,
        vec![
            "metadata.bogus",
            "spec.foo",
            "spec.template.spec.containers[0].imagePullPolic",
        ]
    );
    assert!(obj["spec"].get("foo").is_none());
    assert!(obj["metadata"].get("bogus").is_none());
    assert_eq!(obj["metadata"]["labels"]["any"], "key");
    assert_eq!(
        obj["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"],
        "1"
    );
    // A ConfigMap has no status; free-form objects (RawExtension) accept anything.
    let mut cm = json!({"metadata": {"name": "c"}, "data": {"k": "v"}, "status": {}});
    assert_eq!(
        prune_unknown(api.definitions(), "io.k8s.api.core.v1.ConfigMap", &mut cm),
        vec!["status"]
    );
    let mut cr =
        json!({"metadata": {"name": "r"}, "revision": 1, "data": {"anything": {"goes": 1}}});
    assert!(prune_unknown(
        api.definitions(),
        "io.k8s.api.apps.v1.ControllerRevision",
        &mut cr
    )
    .is_empty());
}

#[test]
fn definitions_are_cheap_and_documents_are_built_on_demand() {
    let kinds = all();
    let start = std::time::Instant::now();
    let api = OpenApi::build(&kinds);
    let defs = start.elapsed();
    let start = std::time::Instant::now();
    let total: usize = api.documents().groups.values().map(|d| d.bytes.len()).sum();
    let docs = start.elapsed();
    let start = std::time::Instant::now();
    let v2 = api.v2().bytes.len();
    eprintln!(
        "definitions ({} types) in {defs:?}; v3 documents ({total} bytes) in {docs:?}; \
         v2 document ({v2} bytes) in {:?}",
        api.definitions().len(),
        start.elapsed()
    );
    assert!(defs < std::time::Duration::from_secs(5));
}

/// The shapes kube-openapi's `proto.NewOpenAPIData` (what kubectl builds from the protobuf v2
/// document) rejects, as error texts; empty when `s` parses.
fn kube_openapi_parse_errors(
    path: &str,
    s: &gnostic::Schema,
    names: &[&str],
    out: &mut Vec<String>,
) {
    let types = s
        .r#type
        .as_ref()
        .map(|t| t.value.as_slice())
        .unwrap_or_default();
    let props = s
        .properties
        .as_ref()
        .map(|p| p.additional_properties.as_slice());
    if !s.r#ref.is_empty() {
        let target = s.r#ref.strip_prefix("#/definitions/").unwrap_or_default();
        if !types.is_empty() || props.is_some_and(|p| !p.is_empty()) || !names.contains(&target) {
            out.push(format!("{path}: bad reference {}", s.r#ref));
        }
        return;
    }
    match types {
        [] | [_] if props.is_some() => {
            for p in props.unwrap_or_default() {
                let sub = p.value.clone().unwrap_or_default();
                kube_openapi_parse_errors(&format!("{path}.{}", p.name), &sub, names, out);
            }
        }
        [] => {}
        [t] if t == "object" => {
            if let Some(gnostic::AdditionalProperties::Schema(sub)) = s
                .additional_properties
                .as_ref()
                .and_then(|a| a.oneof.clone())
            {
                kube_openapi_parse_errors(&format!("{path}[*]"), &sub, names, out);
            }
        }
        [t] if t == "array" => match s.items.as_ref().map(|i| i.schema.as_slice()) {
            Some([one]) => kube_openapi_parse_errors(&format!("{path}[]"), one, names, out),
            _ => out.push(format!("{path}: array should have exactly one sub-item")),
        },
        [t] if ["string", "number", "integer", "boolean"].contains(&t.as_str()) => {}
        other => out.push(format!("{path}: unsupported type {other:?}")),
    }
}

#[test]
fn the_protobuf_v2_document_decodes_to_the_json_documents_definitions() {
    use prost::Message;
    let api = get();
    let doc = gnostic::Document::decode(api.v2_protobuf().bytes.as_ref()).unwrap();
    let json: Value = serde_json::from_slice(&api.v2().bytes).unwrap();
    assert_eq!(doc.swagger, "2.0");
    assert_eq!(doc.info.as_ref().unwrap().title, "Kubernetes");

    let defs = doc.definitions.unwrap().additional_properties;
    let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    let json_names: Vec<&str> = json["definitions"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, json_names);
    let def = |name: &str| {
        defs.iter()
            .find(|d| d.name == name)
            .and_then(|d| d.value.clone())
            .unwrap_or_else(|| panic!("{name}"))
    };
    let field = |s: &gnostic::Schema, name: &str| {
        s.properties
            .as_ref()
            .and_then(|p| p.additional_properties.iter().find(|f| f.name == name))
            .and_then(|f| f.value.clone())
            .unwrap_or_else(|| panic!("field {name}"))
    };

    let deployment = def("io.k8s.api.apps.v1.Deployment");
    assert_eq!(deployment.r#type.as_ref().unwrap().value, ["object"]);
    let gvk = deployment
        .vendor_extension
        .iter()
        .find(|e| e.name == "x-kubernetes-group-version-kind")
        .and_then(|e| e.value.clone())
        .unwrap();
    let gvk: Value = serde_yaml::from_str(&gvk.yaml).unwrap();
    assert_eq!(
        gvk,
        json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
    );

    let strategy = field(&def("io.k8s.api.apps.v1.DeploymentSpec"), "strategy");
    assert_eq!(
        strategy.r#ref,
        "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy"
    );
    assert!(strategy.description.starts_with("The deployment strategy"));
    let kind = field(&def("io.k8s.api.apps.v1.DeploymentStrategy"), "type");
    assert_eq!(kind.r#type.unwrap().value, ["string"]);

    let containers = field(&def("io.k8s.api.core.v1.PodSpec"), "containers");
    assert_eq!(containers.r#type.as_ref().unwrap().value, ["array"]);
    assert_eq!(
        containers.items.as_ref().unwrap().schema[0].r#ref,
        "#/definitions/io.k8s.api.core.v1.Container"
    );
    let merge_key = containers
        .vendor_extension
        .iter()
        .find(|e| e.name == "x-kubernetes-patch-merge-key")
        .and_then(|e| e.value.clone())
        .unwrap();
    assert_eq!(merge_key.yaml, "name\n");
    let labels = field(
        &def("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
        "labels",
    );
    assert!(matches!(
        labels.additional_properties.and_then(|a| a.oneof),
        Some(gnostic::AdditionalProperties::Schema(s)) if s.r#type.as_ref().unwrap().value == ["string"]
    ));
    let int_or_string = def("io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    assert_eq!(int_or_string.r#type.unwrap().value, ["string"]);
    assert_eq!(int_or_string.format, "int-or-string");

    let mut errors = Vec::new();
    for d in &defs {
        kube_openapi_parse_errors(&d.name, d.value.as_ref().unwrap(), &names, &mut errors);
    }
    assert!(errors.is_empty(), "{errors:#?}");

    let paths = doc.paths.unwrap().path;
    assert_eq!(paths.len(), json["paths"].as_object().unwrap().len());
}
