//! The swagger 2.0 document as gnostic's `openapi.v2.Document` protobuf: a conversion of the
//! JSON document the server publishes (one source of truth), for clients that ask
//! `/openapi/v2` for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`
//! (client-go's `OpenAPISchema()`, hence `kubectl explain --output=plaintext-openapiv2`).
//!
//! As gnostic does, every `x-` key becomes a [`NamedAny`] whose `yaml` is the YAML text of its
//! value (`- group: apps\n  kind: Deployment\n  version: v1\n`), and so do `default`, `enum`
//! and `example` values. Keys the messages have no field for are dropped.

use super::gnostic::{
    AdditionalProperties, AdditionalPropertiesItem, Any, BodyParameter, Definitions, Document,
    Info, ItemsItem, JsonReference, NamedAny, NamedParameter, NamedPathItem, NamedResponse,
    NamedResponseValue, NamedSchema, NonBodyParameter, NonBodyParameterOneof, Operation, Parameter,
    ParameterDefinitions, ParameterOneof, ParametersItem, ParametersItemOneof, PathItem,
    PathParameterSubSchema, Paths, PrimitivesItems, Properties, QueryParameterSubSchema, Response,
    ResponseDefinitions, ResponseValue, ResponseValueOneof, Responses, Schema, SchemaItem,
    TypeItem,
};
use serde_json::{Map, Value};

/// The protobuf encoding of a swagger 2.0 JSON document.
pub fn encode(doc: &Value) -> Vec<u8> {
    prost::Message::encode_to_vec(&document(doc))
}

/// A swagger 2.0 JSON document as a gnostic `Document`.
pub fn document(v: &Value) -> Document {
    let o = Obj::of(v);
    Document {
        swagger: o.str("swagger"),
        info: o.get("info").map(info),
        host: o.str("host"),
        base_path: o.str("basePath"),
        schemes: o.strings("schemes"),
        consumes: o.strings("consumes"),
        produces: o.strings("produces"),
        paths: o.get("paths").map(paths),
        definitions: o.get("definitions").map(|d| Definitions {
            additional_properties: named(d, schema, |name, value| NamedSchema { name, value }),
        }),
        parameters: o.get("parameters").map(|d| ParameterDefinitions {
            additional_properties: named(d, parameter, |name, value| NamedParameter {
                name,
                value,
            }),
        }),
        responses: o.get("responses").map(|d| ResponseDefinitions {
            additional_properties: named(d, response, |name, value| NamedResponse { name, value }),
        }),
        vendor_extension: o.extensions(),
    }
}

fn info(v: &Value) -> Info {
    let o = Obj::of(v);
    Info {
        title: o.str("title"),
        version: o.str("version"),
        description: o.str("description"),
        terms_of_service: o.str("termsOfService"),
        vendor_extension: o.extensions(),
    }
}

/// A JSON Schema (swagger 2.0 subset) as a gnostic `Schema`.
pub fn schema(v: &Value) -> Schema {
    let o = Obj::of(v);
    Schema {
        r#ref: o.str("$ref"),
        format: o.str("format"),
        title: o.str("title"),
        description: o.str("description"),
        default: o.get("default").map(any),
        multiple_of: o.f64("multipleOf"),
        maximum: o.f64("maximum"),
        exclusive_maximum: o.bool("exclusiveMaximum"),
        minimum: o.f64("minimum"),
        exclusive_minimum: o.bool("exclusiveMinimum"),
        max_length: o.i64("maxLength"),
        min_length: o.i64("minLength"),
        pattern: o.str("pattern"),
        max_items: o.i64("maxItems"),
        min_items: o.i64("minItems"),
        unique_items: o.bool("uniqueItems"),
        max_properties: o.i64("maxProperties"),
        min_properties: o.i64("minProperties"),
        required: o.strings("required"),
        r#enum: o.anys("enum"),
        additional_properties: o.get("additionalProperties").map(|a| {
            Box::new(AdditionalPropertiesItem {
                oneof: Some(match a {
                    Value::Bool(b) => AdditionalProperties::Boolean(*b),
                    s => AdditionalProperties::Schema(Box::new(schema(s))),
                }),
            })
        }),
        r#type: o.get("type").map(|t| TypeItem {
            value: one_or_many(t)
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
        }),
        items: o.get("items").map(|i| ItemsItem {
            schema: one_or_many(i).map(schema).collect(),
        }),
        all_of: o.list("allOf").map(schema).collect(),
        properties: o.get("properties").map(|p| Properties {
            additional_properties: named(p, schema, |name, value| NamedSchema { name, value }),
        }),
        discriminator: o.str("discriminator"),
        read_only: o.bool("readOnly"),
        example: o.get("example").map(any),
        vendor_extension: o.extensions(),
    }
}

fn paths(v: &Value) -> Paths {
    Paths {
        vendor_extension: Obj::of(v).extensions(),
        path: named(v, path_item, |name, value| NamedPathItem { name, value }),
    }
}

fn path_item(v: &Value) -> PathItem {
    let o = Obj::of(v);
    let op = |method: &str| o.get(method).map(operation);
    PathItem {
        r#ref: o.str("$ref"),
        get: op("get"),
        put: op("put"),
        post: op("post"),
        delete: op("delete"),
        options: op("options"),
        head: op("head"),
        patch: op("patch"),
        parameters: o.list("parameters").map(parameters_item).collect(),
        vendor_extension: o.extensions(),
    }
}

fn operation(v: &Value) -> Operation {
    let o = Obj::of(v);
    Operation {
        tags: o.strings("tags"),
        summary: o.str("summary"),
        description: o.str("description"),
        operation_id: o.str("operationId"),
        produces: o.strings("produces"),
        consumes: o.strings("consumes"),
        parameters: o.list("parameters").map(parameters_item).collect(),
        responses: o.get("responses").map(responses),
        schemes: o.strings("schemes"),
        deprecated: o.bool("deprecated"),
        vendor_extension: o.extensions(),
    }
}

/// An entry of a `parameters` list: a `$ref` to a shared parameter, or a parameter.
fn parameters_item(v: &Value) -> ParametersItem {
    let o = Obj::of(v);
    ParametersItem {
        oneof: Some(match o.get("$ref") {
            Some(_) => ParametersItemOneof::JsonReference(JsonReference {
                r#ref: o.str("$ref"),
                description: o.str("description"),
            }),
            None => ParametersItemOneof::Parameter(Box::new(parameter(v))),
        }),
    }
}

/// A parameter, by `in`: `body` has a schema, the others a primitive type.
fn parameter(v: &Value) -> Parameter {
    let o = Obj::of(v);
    let located = o.str("in");
    let query_like = || QueryParameterSubSchema {
        required: o.bool("required"),
        r#in: located.clone(),
        description: o.str("description"),
        name: o.str("name"),
        allow_empty_value: o.bool("allowEmptyValue"),
        r#type: o.str("type"),
        format: o.str("format"),
        items: o.get("items").map(primitives_items),
        collection_format: o.str("collectionFormat"),
        default: o.get("default").map(any),
        unique_items: o.bool("uniqueItems"),
        r#enum: o.anys("enum"),
        vendor_extension: o.extensions(),
    };
    let path_like = || PathParameterSubSchema {
        required: o.bool("required"),
        r#in: located.clone(),
        description: o.str("description"),
        name: o.str("name"),
        r#type: o.str("type"),
        format: o.str("format"),
        items: o.get("items").map(primitives_items),
        collection_format: o.str("collectionFormat"),
        default: o.get("default").map(any),
        unique_items: o.bool("uniqueItems"),
        r#enum: o.anys("enum"),
        vendor_extension: o.extensions(),
    };
    let non_body = |p| ParameterOneof::NonBodyParameter(NonBodyParameter { oneof: Some(p) });
    Parameter {
        oneof: Some(match located.as_str() {
            "body" => ParameterOneof::BodyParameter(BodyParameter {
                description: o.str("description"),
                name: o.str("name"),
                r#in: located.clone(),
                required: o.bool("required"),
                schema: o.get("schema").map(schema),
                vendor_extension: o.extensions(),
            }),
            "header" => non_body(NonBodyParameterOneof::HeaderParameterSubSchema(path_like())),
            "path" => non_body(NonBodyParameterOneof::PathParameterSubSchema(path_like())),
            "formData" => non_body(NonBodyParameterOneof::FormDataParameterSubSchema(
                query_like(),
            )),
            _ => non_body(NonBodyParameterOneof::QueryParameterSubSchema(query_like())),
        }),
    }
}

fn primitives_items(v: &Value) -> PrimitivesItems {
    let o = Obj::of(v);
    PrimitivesItems {
        r#type: o.str("type"),
        format: o.str("format"),
        items: o.get("items").map(|i| Box::new(primitives_items(i))),
        collection_format: o.str("collectionFormat"),
        default: o.get("default").map(any),
        unique_items: o.bool("uniqueItems"),
        r#enum: o.anys("enum"),
        vendor_extension: o.extensions(),
    }
}

fn responses(v: &Value) -> Responses {
    Responses {
        response_code: named(
            v,
            |r| {
                let o = Obj::of(r);
                ResponseValue {
                    oneof: Some(match o.get("$ref") {
                        Some(_) => ResponseValueOneof::JsonReference(JsonReference {
                            r#ref: o.str("$ref"),
                            description: o.str("description"),
                        }),
                        None => ResponseValueOneof::Response(Box::new(response(r))),
                    }),
                }
            },
            |name, value| NamedResponseValue { name, value },
        ),
        vendor_extension: Obj::of(v).extensions(),
    }
}

fn response(v: &Value) -> Response {
    let o = Obj::of(v);
    Response {
        description: o.str("description"),
        schema: o.get("schema").map(|s| SchemaItem {
            schema: Some(schema(s)),
        }),
        vendor_extension: o.extensions(),
    }
}

/// The entries of a JSON object that are not extensions, each converted and named.
fn named<T, N>(
    v: &Value,
    convert: impl Fn(&Value) -> T,
    name: impl Fn(String, Option<T>) -> N,
) -> Vec<N> {
    Obj::of(v)
        .0
        .iter()
        .filter(|(k, _)| !is_extension(k))
        .map(|(k, x)| name(k.clone(), Some(convert(x))))
        .collect()
}

fn is_extension(key: &str) -> bool {
    key.starts_with("x-")
}

/// A value as gnostic's `Any`: its YAML text.
pub fn any(v: &Value) -> Any {
    Any {
        yaml: serde_yaml::to_string(v).unwrap_or_default(),
    }
}

/// A value that may be one item or a list of them (`type`, `items`).
fn one_or_many(v: &Value) -> impl Iterator<Item = &Value> {
    match v {
        Value::Array(items) => items.as_slice(),
        one => std::slice::from_ref(one),
    }
    .iter()
}

/// Typed reads of a JSON object's keys, absent or mistyped keys reading as proto3 defaults.
struct Obj<'a>(&'a Map<String, Value>);

impl<'a> Obj<'a> {
    fn of(v: &'a Value) -> Obj<'a> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        Obj(v.as_object().unwrap_or_else(|| EMPTY.get_or_init(Map::new)))
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key)
    }

    fn str(&self, key: &str) -> String {
        self.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    fn bool(&self, key: &str) -> bool {
        self.get(key).and_then(Value::as_bool).unwrap_or_default()
    }

    fn f64(&self, key: &str) -> f64 {
        self.get(key).and_then(Value::as_f64).unwrap_or_default()
    }

    fn i64(&self, key: &str) -> i64 {
        self.get(key).and_then(Value::as_i64).unwrap_or_default()
    }

    fn list(&self, key: &str) -> impl Iterator<Item = &'a Value> {
        self.get(key)
            .and_then(Value::as_array)
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
    }

    fn strings(&self, key: &str) -> Vec<String> {
        self.list(key)
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    }

    fn anys(&self, key: &str) -> Vec<Any> {
        self.list(key).map(any).collect()
    }

    /// The `x-` keys, as gnostic's vendor extensions.
    fn extensions(&self) -> Vec<NamedAny> {
        self.0
            .iter()
            .filter(|(k, _)| is_extension(k))
            .map(|(k, v)| NamedAny {
                name: k.clone(),
                value: Some(any(v)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ext(name: &str, yaml: &str) -> NamedAny {
        NamedAny {
            name: name.into(),
            value: Some(Any { yaml: yaml.into() }),
        }
    }

    fn types(t: &[&str]) -> Option<TypeItem> {
        Some(TypeItem {
            value: t.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[test]
    fn schemas_convert_keyword_by_keyword() {
        let cases: Vec<(&str, Value, Schema)> = vec![
            (
                "a primitive keeps its type, format and description",
                json!({"type": "integer", "format": "int32", "description": "Replicas."}),
                Schema {
                    r#type: types(&["integer"]),
                    format: "int32".into(),
                    description: "Replicas.".into(),
                    ..Default::default()
                },
            ),
            (
                "a reference with a description keeps both",
                json!({"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy", "description": "How."}),
                Schema {
                    r#ref: "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy".into(),
                    description: "How.".into(),
                    ..Default::default()
                },
            ),
            (
                "an array's items become the one schema of ItemsItem",
                json!({"type": "array", "items": {"type": "string"}}),
                Schema {
                    r#type: types(&["array"]),
                    items: Some(ItemsItem {
                        schema: vec![Schema {
                            r#type: types(&["string"]),
                            ..Default::default()
                        }],
                    }),
                    ..Default::default()
                },
            ),
            (
                "a map's value schema is additionalProperties",
                json!({"type": "object", "additionalProperties": {"type": "string"}}),
                Schema {
                    r#type: types(&["object"]),
                    additional_properties: Some(Box::new(AdditionalPropertiesItem {
                        oneof: Some(AdditionalProperties::Schema(Box::new(Schema {
                            r#type: types(&["string"]),
                            ..Default::default()
                        }))),
                    })),
                    ..Default::default()
                },
            ),
            (
                "additionalProperties may be a boolean",
                json!({"additionalProperties": false}),
                Schema {
                    additional_properties: Some(Box::new(AdditionalPropertiesItem {
                        oneof: Some(AdditionalProperties::Boolean(false)),
                    })),
                    ..Default::default()
                },
            ),
            (
                "properties keep their names, required its list",
                json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}),
                Schema {
                    r#type: types(&["object"]),
                    required: vec!["name".into()],
                    properties: Some(Properties {
                        additional_properties: vec![NamedSchema {
                            name: "name".into(),
                            value: Some(Schema {
                                r#type: types(&["string"]),
                                ..Default::default()
                            }),
                        }],
                    }),
                    ..Default::default()
                },
            ),
            (
                "extensions are named YAML texts; enum and default values too",
                json!({
                    "type": "string",
                    "enum": ["Recreate", "RollingUpdate"],
                    "default": "RollingUpdate",
                    "x-kubernetes-patch-merge-key": "name",
                    "x-kubernetes-group-version-kind": [{"group": "apps", "kind": "Deployment", "version": "v1"}],
                }),
                Schema {
                    r#type: types(&["string"]),
                    r#enum: vec![
                        Any {
                            yaml: "Recreate\n".into(),
                        },
                        Any {
                            yaml: "RollingUpdate\n".into(),
                        },
                    ],
                    default: Some(Any {
                        yaml: "RollingUpdate\n".into(),
                    }),
                    vendor_extension: vec![
                        ext(
                            "x-kubernetes-group-version-kind",
                            "- group: apps\n  kind: Deployment\n  version: v1\n",
                        ),
                        ext("x-kubernetes-patch-merge-key", "name\n"),
                    ],
                    ..Default::default()
                },
            ),
            (
                "numeric bounds and flags",
                json!({"type": "integer", "minimum": 0, "maximum": 65535, "exclusiveMinimum": true, "uniqueItems": true}),
                Schema {
                    r#type: types(&["integer"]),
                    minimum: 0.0,
                    maximum: 65535.0,
                    exclusive_minimum: true,
                    unique_items: true,
                    ..Default::default()
                },
            ),
        ];
        for (what, json, want) in cases {
            assert_eq!(schema(&json), want, "{what}");
        }
    }

    /// The parameter a `parameters` entry holds (`None` for a reference).
    fn parameter_case(v: Value) -> Option<ParameterOneof> {
        match parameters_item(&v).oneof? {
            ParametersItemOneof::Parameter(p) => p.oneof,
            ParametersItemOneof::JsonReference(_) => None,
        }
    }

    #[test]
    fn parameters_convert_by_where_they_go() {
        let body = parameter_case(json!({"in": "body", "name": "body", "required": true,
            "schema": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}}));
        let Some(ParameterOneof::BodyParameter(b)) = body else {
            panic!("body parameter: {body:?}");
        };
        assert!(b.required);
        assert_eq!(
            b.schema.map(|s| s.r#ref).as_deref(),
            Some("#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch")
        );

        let cases = [("query", 3u8), ("formData", 2), ("header", 1), ("path", 4)];
        for (located, tag) in cases {
            let p = parameter_case(
                json!({"in": located, "name": "n", "type": "string", "uniqueItems": true}),
            );
            let Some(ParameterOneof::NonBodyParameter(NonBodyParameter { oneof: Some(n) })) = p
            else {
                panic!("{located}: {p:?}");
            };
            let got = match n {
                NonBodyParameterOneof::HeaderParameterSubSchema(s) => (1, s.r#in, s.unique_items),
                NonBodyParameterOneof::FormDataParameterSubSchema(s) => (2, s.r#in, s.unique_items),
                NonBodyParameterOneof::QueryParameterSubSchema(s) => (3, s.r#in, s.unique_items),
                NonBodyParameterOneof::PathParameterSubSchema(s) => (4, s.r#in, s.unique_items),
            };
            assert_eq!(got, (tag, located.to_string(), true), "{located}");
        }

        let shared = parameters_item(&json!({"$ref": "#/parameters/body-2Y1dVQaQ"}));
        assert_eq!(
            shared.oneof,
            Some(ParametersItemOneof::JsonReference(JsonReference {
                r#ref: "#/parameters/body-2Y1dVQaQ".into(),
                description: String::new(),
            }))
        );
    }

    #[test]
    fn a_document_keeps_its_info_paths_operations_and_definitions() {
        let doc = document(&json!({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.35.0"},
            "paths": {"/apis/apps/v1/namespaces/{namespace}/deployments/{name}": {
                "parameters": [{"in": "path", "name": "name", "required": true, "type": "string"}],
                "patch": {
                    "consumes": ["application/strategic-merge-patch+json"],
                    "operationId": "patchAppsV1NamespacedDeployment",
                    "responses": {"200": {"description": "OK",
                        "schema": {"$ref": "#/definitions/io.k8s.api.apps.v1.Deployment"}}},
                    "x-kubernetes-action": "patch",
                },
            }},
            "definitions": {"io.k8s.api.apps.v1.Deployment": {"type": "object"}},
        }));
        assert_eq!(doc.swagger, "2.0");
        assert_eq!(
            doc.info.as_ref().map(|i| i.version.as_str()),
            Some("v1.35.0")
        );
        let paths = doc.paths.expect("paths").path;
        assert_eq!(paths.len(), 1);
        let item = paths[0].value.as_ref().expect("path item");
        assert_eq!(item.parameters.len(), 1);
        let patch = item.patch.as_ref().expect("patch operation");
        assert_eq!(patch.operation_id, "patchAppsV1NamespacedDeployment");
        assert_eq!(patch.consumes, ["application/strategic-merge-patch+json"]);
        assert_eq!(
            patch.vendor_extension,
            [ext("x-kubernetes-action", "patch\n")]
        );
        let ok = &patch.responses.as_ref().expect("responses").response_code[0];
        assert_eq!(ok.name, "200");
        let Some(ResponseValueOneof::Response(r)) = ok.value.as_ref().and_then(|v| v.oneof.clone())
        else {
            panic!("response: {ok:?}");
        };
        assert_eq!(
            r.schema.and_then(|s| s.schema).map(|s| s.r#ref).as_deref(),
            Some("#/definitions/io.k8s.api.apps.v1.Deployment")
        );
        let defs = doc.definitions.expect("definitions").additional_properties;
        assert_eq!(defs[0].name, "io.k8s.api.apps.v1.Deployment");
    }
}
