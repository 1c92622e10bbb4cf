//! Table tests and property tests of strategic merge patch over a small schema.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;

/// `doc`: a name, a value, a keyed list `items` (merge on `name`), a primitive merge list
/// `tags`, a replaced list `plain`, nested maps `meta`/`labels`, a retainKeys map, a
/// retainKeys keyed list and a replace-strategy map.
fn schema() -> PatchSchema {
    PatchSchema::from_definitions(&json!({
        "doc": {"type": "object", "properties": {
            "name": {"type": "string"},
            "value": {"type": "string"},
            "items": {"type": "array", "items": {"$ref": "#/definitions/doc"},
                      "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name"},
            "tags": {"type": "array", "items": {"type": "string"},
                     "x-kubernetes-patch-strategy": "merge"},
            "plain": {"type": "array", "items": {"$ref": "#/definitions/doc"}},
            "meta": {"allOf": [{"$ref": "#/components/schemas/meta"}]},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "retained": {"$ref": "#/$defs/meta", "x-kubernetes-patch-strategy": "retainKeys"},
            "retainedItems": {"type": "array", "items": {"$ref": "#/definitions/doc"},
                              "x-kubernetes-patch-strategy": "merge,retainKeys",
                              "x-kubernetes-patch-merge-key": "name"},
            "replaced": {"$ref": "#/definitions/meta", "x-kubernetes-patch-strategy": "replace"},
            "badStrategy": {"type": "array", "x-kubernetes-patch-strategy": "merge,replace,retainKeys"},
            "keyless": {"type": "array", "items": {"type": "object"}, "x-kubernetes-patch-strategy": "merge"}
        }},
        "meta": {"type": "object", "properties": {
            "a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"},
            "inner": {"type": "object", "properties": {}},
            "tags": {"type": "array", "x-kubernetes-patch-strategy": "merge"}
        }}
    }))
}

fn check_apply(cases: Vec<(&str, Value, Value, Result<Value, &str>)>, use_schema: bool) {
    let schema = schema();
    let root = if use_schema {
        schema.root("doc")
    } else {
        SchemaCursor::none()
    };
    for (description, original, patch, want) in cases {
        let got = apply(&original, &patch, root);
        match (got, want) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{description}"),
            (Err(e), Err(msg)) => assert_eq!(e.message(), msg, "{description}"),
            (got, want) => panic!("{description}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn applying_patches_follows_strategic_merge_semantics() {
    check_apply(
        vec![
            (
                "null deletes a key and absent keys are kept",
                json!({"name": "x", "value": "v"}),
                json!({"value": null, "extra": null}),
                Ok(json!({"name": "x"})),
            ),
            (
                "nested maps merge recursively",
                json!({"meta": {"a": "1", "inner": {"x": "1"}}}),
                json!({"meta": {"b": "2", "inner": {"y": "2"}}}),
                Ok(json!({"meta": {"a": "1", "b": "2", "inner": {"x": "1", "y": "2"}}})),
            ),
            (
                "scalars and differently typed values are replaced",
                json!({"name": "x", "meta": "text"}),
                json!({"name": "y", "meta": {"a": "1"}}),
                Ok(json!({"name": "y", "meta": {"a": "1"}})),
            ),
            (
                "keyed items are updated in place by merge key",
                json!({"items": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}),
                json!({"items": [{"name": "b", "value": "3"}]}),
                Ok(json!({"items": [{"name": "a", "value": "1"}, {"name": "b", "value": "3"}]})),
            ),
            (
                "patch items come first in patch order, then server-only items",
                json!({"items": [{"name": "a"}, {"name": "b"}]}),
                json!({"items": [{"name": "c"}, {"name": "a", "value": "1"}]}),
                Ok(json!({"items": [{"name": "c"}, {"name": "a", "value": "1"}, {"name": "b"}]})),
            ),
            (
                "a delete directive removes the keyed item",
                json!({"items": [{"name": "a"}, {"name": "b"}, {"name": "a", "value": "dup"}]}),
                json!({"items": [{"name": "a", "$patch": "delete"}]}),
                Ok(json!({"items": [{"name": "b"}]})),
            ),
            (
                "a replace directive item replaces the whole list",
                json!({"items": [{"name": "a"}, {"name": "b"}]}),
                json!({"items": [{"$patch": "replace"}, {"name": "c", "value": "1"}]}),
                Ok(json!({"items": [{"name": "c", "value": "1"}]})),
            ),
            (
                "a merge directive item is rejected",
                json!({"items": [{"name": "a"}]}),
                json!({"items": [{"$patch": "merge"}]}),
                Err("merging lists cannot yet be specified in the patch"),
            ),
            (
                "a keyed item without its merge key is rejected",
                json!({"items": [{"name": "a"}]}),
                json!({"items": [{"value": "x"}]}),
                Err("map: map[value:x] does not contain declared merge key: name"),
            ),
            (
                "a delete directive item without its merge key is rejected",
                json!({"items": [{"name": "a"}]}),
                json!({"items": [{"$patch": "delete"}]}),
                Err("map: map[$patch:delete] does not contain declared merge key: name"),
            ),
            (
                "a replace directive in a map replaces the map",
                json!({"meta": {"a": "1", "b": "2"}}),
                json!({"meta": {"$patch": "replace", "c": "3"}}),
                Ok(json!({"meta": {"c": "3"}})),
            ),
            (
                "a delete directive in a map empties it",
                json!({"meta": {"a": "1"}, "name": "x"}),
                json!({"meta": {"$patch": "delete"}}),
                Ok(json!({"meta": {}, "name": "x"})),
            ),
            (
                "a delete directive at the top empties the document",
                json!({"meta": {"a": "1"}, "name": "x"}),
                json!({"$patch": "delete"}),
                Ok(json!({})),
            ),
            (
                "an unknown directive in a map is rejected",
                json!({"meta": {"a": "1"}}),
                json!({"meta": {"$patch": "merge", "a": "2"}}),
                Err("unknown patch type: merge in map: map[$patch:merge a:2]"),
            ),
            (
                "a non-string directive is rejected with Go's %s rendering",
                json!({"items": [{"name": "a"}]}),
                json!({"items": [{"name": "a", "$patch": 1}]}),
                Err("unknown patch type: %!s(int64=1) in map: map[$patch:1 name:a]"),
            ),
            (
                "a directive in a subtree the original lacks is dropped",
                json!({}),
                json!({"meta": {"$patch": "delete"}, "items": [{"name": "a", "$patch": "delete"}, {"name": "b"}]}),
                Ok(json!({"items": [{"name": "b"}]})),
            ),
            (
                "nulls inside a new subtree are discarded",
                json!({}),
                json!({"meta": {"a": null, "b": "2"}, "items": [{"name": "a", "value": null}]}),
                Ok(json!({"meta": {"b": "2"}, "items": [{"name": "a"}]})),
            ),
            (
                "primitive merge lists are unioned with patch order first",
                json!({"tags": ["a", "b"]}),
                json!({"tags": ["c", "a"]}),
                Ok(json!({"tags": ["c", "a", "b"]})),
            ),
            (
                "deleteFromPrimitiveList removes values from a primitive list",
                json!({"tags": ["a", "b", "c", "b"]}),
                json!({"$deleteFromPrimitiveList/tags": ["b", "z"]}),
                Ok(json!({"tags": ["a", "c"]})),
            ),
            (
                "deleteFromPrimitiveList for an absent list is ignored",
                json!({"name": "x"}),
                json!({"$deleteFromPrimitiveList/tags": ["b"]}),
                Ok(json!({"name": "x"})),
            ),
            (
                "a malformed deleteFromPrimitiveList key is rejected",
                json!({"tags": ["a"]}),
                json!({"$deleteFromPrimitiveListtags": ["a"]}),
                Err("invalid patch format of primitive list"),
            ),
            (
                "setElementOrder reorders a keyed list",
                json!({"items": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}),
                json!({"$setElementOrder/items": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}),
                Ok(json!({"items": [{"name": "c"}, {"name": "a"}, {"name": "b"}]})),
            ),
            (
                "setElementOrder places server-only items by their position in the original",
                json!({"items": [{"name": "a"}, {"name": "live"}, {"name": "b"}]}),
                json!({"$setElementOrder/items": [{"name": "b"}, {"name": "a"}], "items": [{"name": "b", "value": "2"}]}),
                Ok(json!({"items": [{"name": "live"}, {"name": "b", "value": "2"}, {"name": "a"}]})),
            ),
            (
                "setElementOrder appends server-only items that follow every patch item",
                json!({"items": [{"name": "a"}, {"name": "b"}, {"name": "live"}]}),
                json!({"$setElementOrder/items": [{"name": "b"}, {"name": "a"}]}),
                Ok(json!({"items": [{"name": "b"}, {"name": "a"}, {"name": "live"}]})),
            ),
            (
                "setElementOrder places added items and drops deleted ones",
                json!({"items": [{"name": "a"}, {"name": "b"}]}),
                json!({"$setElementOrder/items": [{"name": "c"}, {"name": "b"}],
                       "items": [{"name": "c"}, {"name": "a", "$patch": "delete"}]}),
                Ok(json!({"items": [{"name": "c"}, {"name": "b"}]})),
            ),
            (
                "setElementOrder reorders a primitive list",
                json!({"tags": ["a", "b", "c"]}),
                json!({"$setElementOrder/tags": ["c", "b", "a"]}),
                Ok(json!({"tags": ["c", "b", "a"]})),
            ),
            (
                "a patch list out of setElementOrder order is rejected",
                json!({"items": [{"name": "a"}, {"name": "b"}]}),
                json!({"$setElementOrder/items": [{"name": "b"}], "items": [{"name": "a"}]}),
                Err("The order in patch list:\n[map[name:a]]\n doesn't match $setElementOrder list:\n[map[name:b]]\n"),
            ),
            (
                "a non-list setElementOrder is rejected",
                json!({"items": []}),
                json!({"$setElementOrder/items": "x"}),
                Err("expected a []interface {}, but received a string"),
            ),
            (
                "retainKeys drops original keys the directive does not list",
                json!({"retained": {"a": "1", "b": "2", "inner": {"x": "1"}}}),
                json!({"retained": {"$retainKeys": ["a", "c"], "c": "3"}}),
                Ok(json!({"retained": {"a": "1", "c": "3"}})),
            ),
            (
                "retainKeys rejects a patch setting an unlisted key",
                json!({"retained": {"a": "1"}}),
                json!({"retained": {"$retainKeys": ["a"], "b": "2"}}),
                Err("invalid patch format of retainKeys"),
            ),
            (
                "retainKeys must be a list",
                json!({"retained": {"a": "1"}}),
                json!({"retained": {"$retainKeys": "a"}}),
                Err("invalid patch format of retainKeys"),
            ),
            (
                "retainKeys applies inside keyed items",
                json!({"retainedItems": [{"name": "v", "value": "1", "meta": {"a": "1"}}]}),
                json!({"retainedItems": [{"name": "v", "$retainKeys": ["name", "tags"], "tags": ["x"]}]}),
                Ok(json!({"retainedItems": [{"name": "v", "tags": ["x"]}]})),
            ),
            (
                "lists without a merge strategy are replaced",
                json!({"plain": [{"name": "a"}, {"name": "b"}]}),
                json!({"plain": [{"name": "b", "value": "1"}]}),
                Ok(json!({"plain": [{"name": "b", "value": "1"}]})),
            ),
            (
                "maps with the replace strategy are replaced",
                json!({"replaced": {"a": "1", "b": "2"}}),
                json!({"replaced": {"c": "3"}}),
                Ok(json!({"replaced": {"c": "3"}})),
            ),
            (
                "a merge list of maps without a merge key is rejected",
                json!({"keyless": [{"a": 1}]}),
                json!({"keyless": [{"b": 2}]}),
                Err("cannot merge lists without merge key for struct"),
            ),
            (
                "a list mixing types is rejected",
                json!({"tags": ["a"]}),
                json!({"tags": [1]}),
                Err("list element types are not identical: [[a] [1]]"),
            ),
            (
                "lists of lists are rejected",
                json!({"tags": [["a"]]}),
                json!({"tags": [["b"]]}),
                Err("lists of lists are not supported"),
            ),
            (
                "three patch strategies are rejected",
                json!({"badStrategy": [1]}),
                json!({"badStrategy": [2]}),
                Err("unexpected patch strategy: [merge replace retainKeys]"),
            ),
            (
                "documents must be objects",
                json!([1]),
                json!({}),
                Err("invalid JSON document"),
            ),
            (
                "a null original reads as an empty object",
                json!(null),
                json!({"name": "x"}),
                Ok(json!({"name": "x"})),
            ),
        ],
        true,
    );
}

#[test]
fn applying_without_a_schema_replaces_lists_like_json_merge_patch() {
    check_apply(
        vec![
            (
                "keyed-looking lists are replaced",
                json!({"items": [{"name": "a"}, {"name": "b"}], "meta": {"a": "1"}}),
                json!({"items": [{"name": "b", "value": "1"}], "meta": {"b": "2"}}),
                Ok(json!({"items": [{"name": "b", "value": "1"}], "meta": {"a": "1", "b": "2"}})),
            ),
            (
                "primitive lists are replaced",
                json!({"tags": ["a"]}),
                json!({"tags": ["b"]}),
                Ok(json!({"tags": ["b"]})),
            ),
        ],
        false,
    );
}

fn check_two_way(cases: Vec<(&str, Value, Value, Value)>) {
    let schema = schema();
    let root = schema.root("doc");
    for (description, original, modified, want) in cases {
        let patch = create_two_way_merge_patch(&original, &modified, root)
            .unwrap_or_else(|e| panic!("{description}: {e}"));
        assert_eq!(patch, want, "{description}");
        let applied =
            apply(&original, &patch, root).unwrap_or_else(|e| panic!("{description}: {e}"));
        assert_eq!(applied, modified, "{description}: applying the patch");
    }
}

#[test]
fn two_way_patches_describe_the_edit_like_kubectl() {
    check_two_way(vec![
        (
            "identical documents give an empty patch",
            json!({"name": "x", "items": [{"name": "a"}]}),
            json!({"name": "x", "items": [{"name": "a"}]}),
            json!({}),
        ),
        (
            "changed, added and removed fields",
            json!({"name": "x", "value": "v", "meta": {"a": "1", "b": "2"}}),
            json!({"name": "y", "labels": {"k": "v"}, "meta": {"a": "1", "c": "3"}}),
            json!({"name": "y", "value": null, "labels": {"k": "v"}, "meta": {"b": null, "c": "3"}}),
        ),
        (
            "a changed keyed item carries its key and the element order",
            json!({"items": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}),
            json!({"items": [{"name": "a", "value": "1"}, {"name": "b", "value": "3"}]}),
            json!({"$setElementOrder/items": [{"name": "a"}, {"name": "b"}],
                   "items": [{"name": "b", "value": "3"}]}),
        ),
        (
            "a removed keyed item becomes a delete directive",
            json!({"items": [{"name": "a"}, {"name": "b"}]}),
            json!({"items": [{"name": "b"}]}),
            json!({"$setElementOrder/items": [{"name": "b"}],
                   "items": [{"name": "a", "$patch": "delete"}]}),
        ),
        (
            "added keyed items follow the new order, deletions last",
            json!({"items": [{"name": "b"}, {"name": "z"}]}),
            json!({"items": [{"name": "c"}, {"name": "b"}, {"name": "a"}]}),
            json!({"$setElementOrder/items": [{"name": "c"}, {"name": "b"}, {"name": "a"}],
                   "items": [{"name": "c"}, {"name": "a"}, {"name": "z", "$patch": "delete"}]}),
        ),
        (
            "a reordered keyed list only sends the element order",
            json!({"items": [{"name": "a"}, {"name": "b"}]}),
            json!({"items": [{"name": "b"}, {"name": "a"}]}),
            json!({"$setElementOrder/items": [{"name": "b"}, {"name": "a"}]}),
        ),
        (
            "a keyed list that was empty is sent whole",
            json!({"items": []}),
            json!({"items": [{"name": "a"}]}),
            json!({"items": [{"name": "a"}]}),
        ),
        (
            "primitive list removals use a parallel deletion list",
            json!({"tags": ["a", "b", "c"]}),
            json!({"tags": ["c", "d"]}),
            json!({"$setElementOrder/tags": ["c", "d"], "tags": ["d"],
                   "$deleteFromPrimitiveList/tags": ["a", "b"]}),
        ),
        (
            "lists without a merge strategy are sent whole",
            json!({"plain": [{"name": "a"}, {"name": "b"}]}),
            json!({"plain": [{"name": "a"}]}),
            json!({"plain": [{"name": "a"}]}),
        ),
        (
            "retainKeys maps list the keys to keep",
            json!({"retained": {"a": "1", "b": "2"}}),
            json!({"retained": {"a": "1", "c": "3"}}),
            json!({"retained": {"$retainKeys": ["a", "c"], "b": null, "c": "3"}}),
        ),
        (
            "retainKeys maps send the directive even when only clearing",
            json!({"retained": {"a": "1", "b": "2"}}),
            json!({"retained": {"a": "1"}}),
            json!({"retained": {"$retainKeys": ["a"], "b": null}}),
        ),
        (
            "replace-strategy maps are sent whole",
            json!({"replaced": {"a": "1", "b": "2"}}),
            json!({"replaced": {"a": "1"}}),
            json!({"replaced": {"a": "1"}}),
        ),
    ]);
}

#[test]
fn two_way_patch_for_kubectl_set_image_matches_kubectl_output() {
    let schema = schema();
    let original = json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.7.9"}]}}}});
    let modified = json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.9.1"}]}}}});
    let defs = json!({
        "Deployment": {"properties": {"spec": {"$ref": "#/definitions/DeploymentSpec"}}},
        "DeploymentSpec": {"properties": {"template": {"$ref": "#/definitions/PodTemplateSpec"}}},
        "PodTemplateSpec": {"properties": {"spec": {"$ref": "#/definitions/PodSpec"}}},
        "PodSpec": {"properties": {"containers": {"type": "array", "items": {"type": "object"},
            "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name"}}}
    });
    let deployment = PatchSchema::from_definitions(&defs);
    let patch =
        create_two_way_merge_patch(&original, &modified, deployment.root("Deployment")).unwrap();
    assert_eq!(
        patch.to_string(),
        r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"}],"containers":[{"image":"nginx:1.9.1","name":"nginx"}]}}}}"#
    );
    // Without a schema the list is sent whole.
    let patch = create_two_way_merge_patch(&original, &modified, schema.root("unknown")).unwrap();
    assert_eq!(
        patch,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.9.1"}]}}}})
    );
}

#[test]
fn two_way_patches_report_keyed_items_without_their_key() {
    let schema = schema();
    let err = create_two_way_merge_patch(
        &json!({"items": [{"name": "a"}]}),
        &json!({"items": [{"value": "x"}]}),
        schema.root("doc"),
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "map: map[value:x] does not contain declared merge key: name"
    );
}

#[test]
fn three_way_patches_reconcile_last_applied_manifest_and_live_object() {
    let schema = schema();
    let root = schema.root("doc");
    type Case<'a> = (&'a str, Value, Value, Value, Value, Value);
    let cases: Vec<Case> = vec![
        (
            "fields removed from the manifest are deleted, live-only fields are kept",
            json!({"name": "x", "value": "v"}),
            json!({"name": "x"}),
            json!({"name": "x", "value": "v", "status": "running"}),
            json!({"value": null}),
            json!({"name": "x", "status": "running"}),
        ),
        (
            "live drift on a managed field is reset to the manifest",
            json!({"name": "x", "meta": {"a": "1"}}),
            json!({"name": "x", "meta": {"a": "1"}}),
            json!({"name": "y", "meta": {"a": "2", "b": "live"}}),
            json!({"name": "x", "meta": {"a": "1"}}),
            json!({"name": "x", "meta": {"a": "1", "b": "live"}}),
        ),
        (
            "a keyed item dropped from the manifest is deleted, live-only items stay",
            json!({"items": [{"name": "a"}, {"name": "b"}]}),
            json!({"items": [{"name": "b"}]}),
            json!({"items": [{"name": "a"}, {"name": "b"}, {"name": "live"}]}),
            json!({"$setElementOrder/items": [{"name": "b"}], "items": [{"name": "a", "$patch": "delete"}]}),
            json!({"items": [{"name": "b"}, {"name": "live"}]}),
        ),
        (
            "a primitive value dropped from the manifest is deleted",
            json!({"tags": ["a", "b"]}),
            json!({"tags": ["b", "c"]}),
            json!({"tags": ["a", "b", "live"]}),
            json!({"$setElementOrder/tags": ["b", "c"], "tags": ["c"], "$deleteFromPrimitiveList/tags": ["a"]}),
            json!({"tags": ["b", "c", "live"]}),
        ),
        (
            "nothing to do gives an empty patch",
            json!({"name": "x"}),
            json!({"name": "x"}),
            json!({"name": "x", "status": "s"}),
            json!({}),
            json!({"name": "x", "status": "s"}),
        ),
    ];
    for (description, original, modified, current, want_patch, want_result) in cases {
        let patch = create_three_way_merge_patch(&original, &modified, &current, root)
            .unwrap_or_else(|e| panic!("{description}: {e}"));
        assert_eq!(patch, want_patch, "{description}");
        let result = apply(&current, &patch, root).unwrap_or_else(|e| panic!("{description}: {e}"));
        assert_eq!(result, want_result, "{description}: applying the patch");
    }
}

#[test]
fn directives_left_in_added_subtrees_can_be_stripped() {
    let schema = schema();
    let mut result = apply(
        &json!({}),
        &json!({"meta": {"$setElementOrder/tags": ["a"], "tags": ["a"]}, "retained": {"$retainKeys": ["a"], "a": "1"}}),
        schema.root("doc"),
    )
    .unwrap();
    assert_eq!(
        result,
        json!({"meta": {"$setElementOrder/tags": ["a"], "tags": ["a"]}, "retained": {"$retainKeys": ["a"], "a": "1"}})
    );
    strip_patch_directives(&mut result);
    assert_eq!(
        result,
        json!({"meta": {"tags": ["a"]}, "retained": {"a": "1"}})
    );
    assert!(is_directive_key("$patch"));
    assert!(!is_directive_key("$ref"));
}

// ---- property tests -------------------------------------------------------------------

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "c", "d"]).prop_map(str::to_string)
}

fn string_map() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(word(), word(), 0..3)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
}

/// Distinct words in random order.
fn word_set() -> impl Strategy<Value = Value> {
    prop::sample::subsequence(vec!["a", "b", "c", "d", "e"], 0..5)
        .prop_shuffle()
        .prop_map(|v| json!(v))
}

fn item() -> impl Strategy<Value = Map<String, Value>> {
    (
        prop::option::of(word()),
        prop::option::of(word_set()),
        prop::option::of(string_map()),
    )
        .prop_map(|(value, tags, meta)| {
            let mut m = Map::new();
            if let Some(v) = value {
                m.insert("value".into(), Value::String(v));
            }
            if let Some(t) = tags {
                m.insert("tags".into(), t);
            }
            if let Some(meta) = meta {
                m.insert("meta".into(), meta);
            }
            m
        })
}

/// Items with distinct names in random order.
fn keyed_items() -> impl Strategy<Value = Value> {
    prop::sample::subsequence(vec!["p", "q", "r", "s"], 0..4)
        .prop_shuffle()
        .prop_flat_map(|names| {
            let n = names.len();
            (Just(names), prop::collection::vec(item(), n))
        })
        .prop_map(|(names, items)| {
            Value::Array(
                names
                    .into_iter()
                    .zip(items)
                    .map(|(name, mut m)| {
                        m.insert("name".into(), json!(name));
                        Value::Object(m)
                    })
                    .collect(),
            )
        })
}

fn document() -> impl Strategy<Value = Value> {
    (
        prop::option::of(word()),
        prop::option::of(keyed_items()),
        prop::option::of(word_set()),
        prop::option::of(prop::collection::vec(word(), 0..3)),
        prop::option::of(string_map()),
        prop::option::of(string_map()),
    )
        .prop_map(|(name, items, tags, plain, meta, retained)| {
            let mut m = Map::new();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    m.insert(k.to_string(), v);
                }
            };
            put("name", name.map(Value::String));
            put("items", items);
            put("tags", tags);
            put("plain", plain.map(|p| json!(p)));
            put("meta", meta);
            put("retained", retained);
            Value::Object(m)
        })
}

/// Live-object drift that `kubectl apply` must undo: values changed, keys and keyed items
/// and list values removed, but nothing added inside managed fields (merge keys untouched).
fn drift(doc: &Value, choices: &mut impl Iterator<Item = u8>) -> Value {
    match doc {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let choice = choices.next().unwrap_or(0) % 4;
                match choice {
                    _ if k == "name" => {
                        out.insert(k.clone(), v.clone());
                    }
                    1 => {}
                    2 if v.is_string() => {
                        out.insert(k.clone(), json!("drifted"));
                    }
                    _ => {
                        out.insert(k.clone(), drift(v, choices));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            for v in items {
                // One item in five is lost from the live object.
                let fate = choices.next().unwrap_or(0) % 5;
                if fate > 0 {
                    out.push(drift(v, choices));
                }
            }
            Value::Array(out)
        }
        other => other.clone(),
    }
}

fn drop_null_fields(doc: &mut Value) {
    match doc {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(drop_null_fields);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_fields),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn applying_a_two_way_patch_to_the_old_document_yields_the_new_one(
        old in document(),
        new in document(),
    ) {
        let schema = schema();
        let root = schema.root("doc");
        let patch = create_two_way_merge_patch(&old, &new, root).unwrap();
        prop_assert_eq!(apply(&old, &patch, root).unwrap(), new);
    }

    #[test]
    fn applying_a_three_way_patch_to_the_live_object_yields_the_manifest_plus_live_only_fields(
        last_applied in document(),
        manifest in document(),
        choices in prop::collection::vec(any::<u8>(), 64),
        status in string_map(),
    ) {
        let schema = schema();
        let root = schema.root("doc");
        let mut live = drift(&last_applied, &mut choices.into_iter().cycle());
        live["status"] = status.clone();
        let patch = create_three_way_merge_patch(&last_applied, &manifest, &live, root).unwrap();
        let mut want = manifest.clone();
        want["status"] = status;
        // Like upstream, directives and nulls inside subtrees the live object lacks can be
        // copied verbatim (typed decoding drops them there); drop them before comparing.
        let mut got = apply(&live, &patch, root).unwrap();
        strip_patch_directives(&mut got);
        drop_null_fields(&mut got);
        prop_assert_eq!(got, want);
    }
}
