//! Table tests of the field-set walks against the served Deployment schema.

use super::*;
use serde_json::json;

fn deployment() -> (&'static Schema, ShapeId) {
    let s = crate::openapi::field_schema();
    (s, s.root("io.k8s.api.apps.v1.Deployment"))
}

fn set(v: Value) -> FieldSet {
    FieldSet::from_fields_v1(&v).unwrap()
}

#[test]
fn an_objects_field_set_keys_containers_by_name_and_ports_by_port_and_protocol() {
    let (s, d) = deployment();
    let obj = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "x"}},
        "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}]}]}}}});
    let got = to_set(s, d, &obj).to_fields_v1();
    assert_eq!(
        got,
        json!({"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:replicas": {}, "f:selector": {},
            "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {},
                "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}}}}}}})
    );
}

#[test]
fn finalizers_are_a_set_tracked_by_value() {
    let (s, d) = deployment();
    let got = to_set(s, d, &json!({"metadata": {"finalizers": ["a/b"]}})).to_fields_v1();
    assert_eq!(
        got,
        json!({"f:metadata": {"f:finalizers": {"v:\"a/b\"": {}}}})
    );
}

#[test]
fn fields_v1_round_trips_and_rejects_unknown_path_elements() {
    let v = json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:image": {}}}}}}});
    assert_eq!(set(v.clone()).to_fields_v1(), v);
    assert!(FieldSet::from_fields_v1(&json!({"spec": {}})).is_err());
    assert!(FieldSet::from_fields_v1(&json!([])).is_err());
}

#[test]
fn set_operations_work_per_path() {
    let a = set(json!({"f:spec": {"f:replicas": {}, "f:paused": {}}}));
    let b = set(json!({"f:spec": {"f:replicas": {}}, "f:metadata": {"f:labels": {"f:x": {}}}}));
    assert_eq!(
        a.difference(&b).to_fields_v1(),
        json!({"f:spec": {"f:paused": {}}})
    );
    assert_eq!(
        a.intersection(&b).to_fields_v1(),
        json!({"f:spec": {"f:replicas": {}}})
    );
    let mut u = a.clone();
    u.union(&b);
    assert_eq!(u.paths().len(), 3);
    assert!(a.difference(&a).is_empty());
}

#[test]
fn paths_print_as_structured_merge_diff_does() {
    let cases: &[(&[&str], &str)] = &[
        (&["f:spec", "f:replicas"], ".spec.replicas"),
        (
            &[
                "f:spec",
                "f:containers",
                "k:{\"name\":\"nginx\"}",
                "f:image",
            ],
            ".spec.containers[name=\"nginx\"].image",
        ),
        (
            &["f:ports", "k:{\"containerPort\":80,\"protocol\":\"TCP\"}"],
            ".ports[containerPort=80,protocol=\"TCP\"]",
        ),
        (
            &["f:metadata", "f:finalizers", "v:\"x\""],
            ".metadata.finalizers[=\"x\"]",
        ),
    ];
    for (path, want) in cases {
        assert_eq!(path_string(path), *want);
    }
}

#[test]
fn comparing_marks_new_pointer_structs_and_maps_as_added_members() {
    let (s, d) = deployment();
    let old = json!({"metadata": {}, "spec": {"strategy": {}}});
    let new = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"replicas": 1, "strategy": {"rollingUpdate": {"maxSurge": 1}}}});
    let c = compare(s, d, &old, &new);
    assert_eq!(
        c.added.to_fields_v1(),
        json!({"f:metadata": {"f:labels": {".": {}, "f:a": {}}}, "f:spec": {"f:replicas": {},
            "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}}}}})
    );
    assert!(c.modified.is_empty() && c.removed.is_empty());
    let c = compare(
        s,
        d,
        &new,
        &json!({"metadata": {"labels": {"a": "c"}}, "spec": {"strategy": {"rollingUpdate": {"maxSurge": 1}}}}),
    );
    assert_eq!(
        c.modified.to_fields_v1(),
        json!({"f:metadata": {"f:labels": {"f:a": {}}}})
    );
    assert_eq!(
        c.removed.to_fields_v1(),
        json!({"f:spec": {"f:replicas": {}}})
    );
}

#[test]
fn merging_an_applied_config_merges_containers_by_name_and_replaces_atomic_values() {
    let (s, d) = deployment();
    let live = json!({"spec": {"replicas": 1, "selector": {"matchLabels": {"a": "1", "b": "2"}},
        "template": {"spec": {"containers": [{"name": "a", "image": "x", "imagePullPolicy": "Always"}, {"name": "b", "image": "y"}]}}}});
    let config = json!({"spec": {"replicas": 3, "selector": {"matchLabels": {"a": "1"}},
        "template": {"spec": {"containers": [{"name": "b", "image": "z"}, {"name": "c", "image": "w"}]}}}});
    assert_eq!(
        merge(s, d, &live, &config),
        json!({"spec": {"replicas": 3, "selector": {"matchLabels": {"a": "1"}},
            "template": {"spec": {"containers": [{"name": "a", "image": "x", "imagePullPolicy": "Always"},
                {"name": "b", "image": "z"}, {"name": "c", "image": "w"}]}}}})
    );
}

#[test]
fn removing_no_longer_applied_fields_keeps_what_others_own() {
    let (s, d) = deployment();
    let mut obj = json!({"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}, "spec": {"replicas": 3,
        "template": {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y", "env": [{"name": "E", "value": "1"}]}]}}}});
    let gone = set(
        json!({"f:metadata": {"f:labels": {"f:a": {}, "f:b": {}}}, "f:spec": {"f:replicas": {},
        "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:image": {}}, "k:{\"name\":\"b\"}": {".": {}, "f:image": {}}}}}}}),
    );
    let kept = set(
        json!({"f:metadata": {"f:name": {}, "f:labels": {"f:b": {}}},
        "f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"b\"}": {"f:env": {}}}}}}}),
    );
    remove(s, d, &mut obj, &gone.difference(&kept), Some(&kept));
    assert_eq!(
        obj,
        json!({"metadata": {"name": "x", "labels": {"b": "2"}}, "spec": {
            "template": {"spec": {"containers": [{"name": "b", "env": [{"name": "E", "value": "1"}]}]}}}})
    );
}
