//! The REST operations of each served kind as OpenAPI path items, written once in a neutral
//! form and rendered as OpenAPI v3 (`requestBody`, `content`) or swagger 2.0 (`in: body`,
//! `consumes`). Every operation carries `x-kubernetes-action` and
//! `x-kubernetes-group-version-kind`; writes list `dryRun`, `fieldManager` and
//! `fieldValidation`, and PATCH accepts the four patch media types, which is what kubectl
//! checks before it sends `fieldValidation=Strict` or computes a strategic merge patch.

use super::definitions::{
    definition_name, gvk, list_definition_name, BINDING, DELETE_OPTIONS, PATCH, SCALE, STATUS,
    V2_REF_PREFIX, V3_REF_PREFIX,
};
use crate::kinds::{Kind, Subresource};
use serde_json::{json, Map, Value};

/// The patch media types the server accepts.
pub const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

/// A query or path parameter: name, JSON type and description.
struct Param {
    name: &'static str,
    ty: &'static str,
    description: &'static str,
}

const fn p(name: &'static str, ty: &'static str, description: &'static str) -> Param {
    Param {
        name,
        ty,
        description,
    }
}

const ALLOW_WATCH_BOOKMARKS: Param = p("allowWatchBookmarks", "boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.");
const CONTINUE: Param = p("continue", "string", "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token.");
const DRY_RUN: Param = p("dryRun", "string", "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed");
const FIELD_MANAGER: Param = p("fieldManager", "string", "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.");
const FIELD_SELECTOR: Param = p(
    "fieldSelector",
    "string",
    "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
);
const FIELD_VALIDATION: Param = p("fieldValidation", "string", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.");
const FORCE: Param = p("force", "boolean", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.");
const GRACE_PERIOD_SECONDS: Param = p("gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.");
const LABEL_SELECTOR: Param = p(
    "labelSelector",
    "string",
    "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
);
const LIMIT: Param = p("limit", "integer", "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.");
const ORPHAN_DEPENDENTS: Param = p("orphanDependents", "boolean", "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.");
const PROPAGATION_POLICY: Param = p("propagationPolicy", "string", "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.");
const RESOURCE_VERSION: Param = p("resourceVersion", "string", "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset");
const RESOURCE_VERSION_MATCH: Param = p("resourceVersionMatch", "string", "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset");
const SEND_INITIAL_EVENTS: Param = p("sendInitialEvents", "boolean", "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic \"Bookmark\" event will be sent. The bookmark will report the ResourceVersion (RV) corresponding to the set of objects, and be marked with `\"k8s.io/initial-events-end\": \"true\"` annotation. Afterwards, the watch stream will proceed as usual, sending watch events corresponding to changes (subsequent to the RV) to objects watched.");
const TIMEOUT_SECONDS: Param = p("timeoutSeconds", "integer", "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.");
const WATCH: Param = p("watch", "boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.");
const NAMESPACE: Param = p(
    "namespace",
    "string",
    "object name and auth scope, such as for teams and projects",
);

const LIST_PARAMS: &[Param] = &[
    ALLOW_WATCH_BOOKMARKS,
    CONTINUE,
    FIELD_SELECTOR,
    LABEL_SELECTOR,
    LIMIT,
    RESOURCE_VERSION,
    RESOURCE_VERSION_MATCH,
    SEND_INITIAL_EVENTS,
    TIMEOUT_SECONDS,
    WATCH,
];
const WRITE_PARAMS: &[Param] = &[DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
const PATCH_PARAMS: &[Param] = &[DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE];
const DELETE_PARAMS: &[Param] = &[
    DRY_RUN,
    GRACE_PERIOD_SECONDS,
    ORPHAN_DEPENDENTS,
    PROPAGATION_POLICY,
];
const DELETE_COLLECTION_PARAMS: &[Param] = &[
    CONTINUE,
    DRY_RUN,
    FIELD_SELECTOR,
    GRACE_PERIOD_SECONDS,
    LABEL_SELECTOR,
    LIMIT,
    ORPHAN_DEPENDENTS,
    PROPAGATION_POLICY,
    RESOURCE_VERSION,
    RESOURCE_VERSION_MATCH,
    SEND_INITIAL_EVENTS,
    TIMEOUT_SECONDS,
];

/// What a request body is.
enum Body {
    /// An object of the named definition (`*/*`: JSON, YAML or protobuf).
    Object(String),
    /// A patch document in one of [`PATCH_TYPES`].
    Patch,
}

/// One operation, in neutral form.
struct Op {
    method: &'static str,
    action: &'static str,
    id: String,
    description: String,
    gvk: Value,
    params: &'static [Param],
    body: Option<Body>,
    /// (status code, description, definition of the response body)
    responses: Vec<(u16, &'static str, String)>,
}

/// One path with its operations.
pub struct PathItem {
    pub path: String,
    name_param: Option<String>,
    namespaced: bool,
    ops: Vec<Op>,
}

/// `apps` → `Apps`, `` → `Core`, `coordination.k8s.io` → `Coordination` (operation ids).
fn group_word(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    let first = group.split('.').next().unwrap_or(group);
    camel(first)
}

fn camel(s: &str) -> String {
    s.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The URL prefix of a kind's group-version (`/api/v1`, `/apis/apps/v1`).
pub fn prefix(kind: &Kind) -> String {
    if kind.group.is_empty() {
        format!("/api/{}", kind.version)
    } else {
        format!("/apis/{}/{}", kind.group, kind.version)
    }
}

/// The path items serving `kind`: collection, item, subresources and (for namespaced kinds)
/// the list across namespaces.
pub fn path_items(kind: &Kind) -> Vec<PathItem> {
    let def = definition_name(kind);
    let list_def = list_definition_name(kind);
    let gw = group_word(kind.group);
    let vw = camel(kind.version);
    let ns_word = if kind.namespaced { "Namespaced" } else { "" };
    let base = format!("{gw}{vw}{ns_word}{}", kind.kind);
    let this_gvk = gvk(kind.group, kind.version, kind.kind);
    let coll = if kind.namespaced {
        format!("{}/namespaces/{{namespace}}/{}", prefix(kind), kind.plural)
    } else {
        format!("{}/{}", prefix(kind), kind.plural)
    };
    let item = format!("{coll}/{{name}}");
    let name_desc = format!("name of the {}", kind.kind);
    let mut out = Vec::new();

    let ok = |code: u16, desc: &'static str, d: &str| (code, desc, d.to_string());
    out.push(PathItem {
        path: coll.clone(),
        name_param: None,
        namespaced: kind.namespaced,
        ops: vec![
            Op {
                method: "get",
                action: "list",
                id: format!("list{base}"),
                description: format!("list or watch objects of kind {}", kind.kind),
                gvk: this_gvk.clone(),
                params: LIST_PARAMS,
                body: None,
                responses: vec![ok(200, "OK", &list_def)],
            },
            Op {
                method: "post",
                action: "post",
                id: format!("create{base}"),
                description: format!("create a {}", kind.kind),
                gvk: this_gvk.clone(),
                params: WRITE_PARAMS,
                body: Some(Body::Object(def.clone())),
                responses: vec![
                    ok(200, "OK", &def),
                    ok(201, "Created", &def),
                    ok(202, "Accepted", &def),
                ],
            },
            Op {
                method: "delete",
                action: "deletecollection",
                id: format!("delete{gw}{vw}Collection{ns_word}{}", kind.kind),
                description: format!("delete collection of {}", kind.kind),
                gvk: this_gvk.clone(),
                params: DELETE_COLLECTION_PARAMS,
                body: Some(Body::Object(DELETE_OPTIONS.into())),
                responses: vec![ok(200, "OK", STATUS)],
            },
        ],
    });
    out.push(PathItem {
        path: item.clone(),
        name_param: Some(name_desc.clone()),
        namespaced: kind.namespaced,
        ops: vec![
            Op {
                method: "get",
                action: "get",
                id: format!("read{base}"),
                description: format!("read the specified {}", kind.kind),
                gvk: this_gvk.clone(),
                params: &[],
                body: None,
                responses: vec![ok(200, "OK", &def)],
            },
            Op {
                method: "put",
                action: "put",
                id: format!("replace{base}"),
                description: format!("replace the specified {}", kind.kind),
                gvk: this_gvk.clone(),
                params: WRITE_PARAMS,
                body: Some(Body::Object(def.clone())),
                responses: vec![ok(200, "OK", &def), ok(201, "Created", &def)],
            },
            Op {
                method: "patch",
                action: "patch",
                id: format!("patch{base}"),
                description: format!("partially update the specified {}", kind.kind),
                gvk: this_gvk.clone(),
                params: PATCH_PARAMS,
                body: Some(Body::Patch),
                responses: vec![ok(200, "OK", &def), ok(201, "Created", &def)],
            },
            Op {
                method: "delete",
                action: "delete",
                id: format!("delete{base}"),
                description: format!("delete a {}", kind.kind),
                gvk: this_gvk.clone(),
                params: DELETE_PARAMS,
                body: Some(Body::Object(DELETE_OPTIONS.into())),
                responses: vec![ok(200, "OK", STATUS), ok(202, "Accepted", STATUS)],
            },
        ],
    });
    for sub in kind.subresources {
        let (word, sub_gvk, sub_def, methods): (&str, Value, String, &[&str]) = match sub {
            Subresource::Status => (
                "status",
                this_gvk.clone(),
                def.clone(),
                &["get", "put", "patch"],
            ),
            Subresource::Scale => (
                "scale",
                gvk("autoscaling", "v1", "Scale"),
                SCALE.into(),
                &["get", "put", "patch"],
            ),
            Subresource::Binding => (
                "binding",
                gvk("", "v1", "Binding"),
                BINDING.into(),
                &["post"],
            ),
            Subresource::Finalize => ("finalize", this_gvk.clone(), def.clone(), &["put"]),
            // A plain-text stream and a WebSocket, not objects: no schema to describe them with.
            Subresource::Log
            | Subresource::Exec
            | Subresource::Attach
            | Subresource::PortForward => continue,
        };
        let sub_camel = camel(word);
        let mut ops = Vec::new();
        for m in methods {
            let (verb, action, params, body, responses): (_, _, &'static [Param], _, _) = match *m {
                "get" => ("read", "get", &[], None, vec![ok(200, "OK", &sub_def)]),
                "put" => (
                    "replace",
                    "put",
                    WRITE_PARAMS,
                    Some(Body::Object(sub_def.clone())),
                    vec![ok(200, "OK", &sub_def), ok(201, "Created", &sub_def)],
                ),
                "patch" => (
                    "patch",
                    "patch",
                    PATCH_PARAMS,
                    Some(Body::Patch),
                    vec![ok(200, "OK", &sub_def), ok(201, "Created", &sub_def)],
                ),
                _ => (
                    "create",
                    "post",
                    WRITE_PARAMS,
                    Some(Body::Object(sub_def.clone())),
                    vec![
                        ok(200, "OK", &sub_def),
                        ok(201, "Created", &sub_def),
                        ok(202, "Accepted", &sub_def),
                    ],
                ),
            };
            ops.push(Op {
                method: m,
                action,
                id: format!("{verb}{base}{sub_camel}"),
                description: format!("{verb} {word} of the specified {}", kind.kind),
                gvk: sub_gvk.clone(),
                params,
                body,
                responses,
            });
        }
        out.push(PathItem {
            path: format!("{item}/{word}"),
            name_param: Some(format!(
                "name of the {}",
                sub_gvk["kind"].as_str().unwrap_or(word)
            )),
            namespaced: kind.namespaced,
            ops,
        });
    }
    if kind.namespaced {
        out.push(PathItem {
            path: format!("{}/{}", prefix(kind), kind.plural),
            name_param: None,
            namespaced: false,
            ops: vec![Op {
                method: "get",
                action: "list",
                id: format!("list{gw}{vw}{}ForAllNamespaces", kind.kind),
                description: format!("list or watch objects of kind {}", kind.kind),
                gvk: this_gvk,
                params: LIST_PARAMS,
                body: None,
                responses: vec![ok(200, "OK", &list_def)],
            }],
        });
    }
    out
}

fn tag(kind: &Kind) -> String {
    let g = if kind.group.is_empty() {
        "core".to_string()
    } else {
        kind.group
            .split('.')
            .next()
            .unwrap_or(kind.group)
            .to_string()
    };
    format!("{g}_{}", kind.version)
}

/// A parameter, in v3 (`schema`) or v2 (inline `type`) form.
fn param(v3: bool, name: &str, ty: &str, description: &str, location: &str) -> Value {
    let mut v = json!({"name": name, "in": location, "description": description});
    if v3 {
        v["schema"] = json!({"type": ty, "uniqueItems": true});
    } else {
        v["type"] = json!(ty);
        v["uniqueItems"] = json!(true);
    }
    if location == "path" {
        v["required"] = json!(true);
    }
    v
}

fn query_params(v3: bool, params: &[Param]) -> Vec<Value> {
    params
        .iter()
        .map(|p| param(v3, p.name, p.ty, p.description, "query"))
        .collect()
}

/// The path-level parameters: `name` of item paths, `namespace` of namespaced ones.
fn path_params(item: &PathItem, v3: bool) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(desc) = &item.name_param {
        out.push(param(v3, "name", "string", desc, "path"));
    }
    if item.namespaced {
        out.push(param(
            v3,
            NAMESPACE.name,
            NAMESPACE.ty,
            NAMESPACE.description,
            "path",
        ));
    }
    out
}

/// The item as an OpenAPI v3 path item.
pub fn v3_path_item(kind: &Kind, item: &PathItem) -> Value {
    let mut m = Map::new();
    for op in &item.ops {
        let mut o = json!({
            "tags": [tag(kind)],
            "description": op.description,
            "operationId": op.id,
            "x-kubernetes-action": op.action,
            "x-kubernetes-group-version-kind": op.gvk,
        });
        if !op.params.is_empty() {
            o["parameters"] = Value::Array(query_params(true, op.params));
        }
        match &op.body {
            Some(Body::Object(def)) => {
                o["requestBody"] = json!({
                    "content": {"*/*": {"schema": {"$ref": format!("{V3_REF_PREFIX}{def}")}}},
                    "required": op.method != "delete",
                });
            }
            Some(Body::Patch) => {
                let content: Map<String, Value> = PATCH_TYPES
                    .iter()
                    .map(|t| {
                        (
                            t.to_string(),
                            json!({"schema": {"$ref": format!("{V3_REF_PREFIX}{PATCH}")}}),
                        )
                    })
                    .collect();
                o["requestBody"] = json!({"content": content, "required": true});
            }
            None => {}
        }
        let mut responses = Map::new();
        for (code, desc, def) in &op.responses {
            responses.insert(
                code.to_string(),
                json!({"description": desc, "content": {
                    "application/json": {"schema": {"$ref": format!("{V3_REF_PREFIX}{def}")}}
                }}),
            );
        }
        responses.insert("401".into(), json!({"description": "Unauthorized"}));
        o["responses"] = Value::Object(responses);
        m.insert(op.method.into(), o);
    }
    m.insert("parameters".into(), Value::Array(path_params(item, true)));
    Value::Object(m)
}

/// The item as a swagger 2.0 path item.
pub fn v2_path_item(kind: &Kind, item: &PathItem) -> Value {
    let mut m = Map::new();
    for op in &item.ops {
        let mut params = query_params(false, op.params);
        let consumes: Vec<&str> = match &op.body {
            Some(Body::Object(def)) => {
                params.insert(
                    0,
                    json!({"name": "body", "in": "body", "required": op.method != "delete",
                           "schema": {"$ref": format!("{V2_REF_PREFIX}{def}")}}),
                );
                vec!["*/*"]
            }
            Some(Body::Patch) => {
                params.insert(
                    0,
                    json!({"name": "body", "in": "body", "required": true,
                           "schema": {"$ref": format!("{V2_REF_PREFIX}{PATCH}")}}),
                );
                PATCH_TYPES.to_vec()
            }
            None => vec!["*/*"],
        };
        let mut responses = Map::new();
        for (code, desc, def) in &op.responses {
            responses.insert(
                code.to_string(),
                json!({"description": desc, "schema": {"$ref": format!("{V2_REF_PREFIX}{def}")}}),
            );
        }
        responses.insert("401".into(), json!({"description": "Unauthorized"}));
        let mut o = json!({
            "tags": [tag(kind)],
            "description": op.description,
            "operationId": op.id,
            "consumes": consumes,
            "produces": ["application/json"],
            "schemes": ["https"],
            "responses": responses,
            "x-kubernetes-action": op.action,
            "x-kubernetes-group-version-kind": op.gvk,
        });
        if !params.is_empty() {
            o["parameters"] = Value::Array(params);
        }
        m.insert(op.method.into(), o);
    }
    m.insert("parameters".into(), Value::Array(path_params(item, false)));
    Value::Object(m)
}

/// The definitions an item's operations refer to.
pub fn referenced_definitions(item: &PathItem) -> Vec<String> {
    let mut out = Vec::new();
    for op in &item.ops {
        match &op.body {
            Some(Body::Object(d)) => out.push(d.clone()),
            Some(Body::Patch) => out.push(PATCH.to_string()),
            None => {}
        }
        out.extend(op.responses.iter().map(|(_, _, d)| d.clone()));
    }
    out
}
