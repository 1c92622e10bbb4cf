//! Strategic merge patch and fieldValidation through the registry's write flow.

use super::*;
use crate::clock::SystemClock;
use serde_json::json;
use storage::MemoryStorage;

async fn registry() -> Registry {
    let r = Registry::new(Arc::new(MemoryStorage::new()), Arc::new(SystemClock));
    r.bootstrap().await.unwrap();
    r
}

fn deployments(r: &Registry) -> Target<'static> {
    Target {
        kind: r.kinds.get("apps", "v1", "deployments").unwrap(),
        namespace: Some("default"),
    }
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "finalizers": ["a/b"]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "nginx", "image": "nginx:1.7.9",
                     "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                    {"name": "sidecar", "image": "busybox"},
                ]},
            },
        },
    })
}

fn strict() -> WriteOptions {
    WriteOptions {
        field_validation: FieldValidation::Strict,
        ..WriteOptions::default()
    }
}

/// `(name, patch, check)`: each patch is applied to a fresh copy of [`deployment`].
type Case = (&'static str, Value, fn(&Value));

fn containers(v: &Value) -> &Vec<Value> {
    v["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
}

fn names(list: &[Value], key: &str) -> Vec<String> {
    list.iter()
        .map(|c| c[key].to_string().trim_matches('"').to_string())
        .collect()
}

#[tokio::test]
async fn strategic_merge_patches_follow_the_kinds_patch_strategies() {
    let cases: Vec<Case> = vec![
        (
            "containers merge by name",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.9.1"}]}}}}),
            |v| {
                let c = containers(v);
                assert_eq!(names(c, "name"), ["nginx", "sidecar"]);
                assert_eq!(c[0]["image"], "nginx:1.9.1");
                assert_eq!(c[0]["ports"].as_array().unwrap().len(), 2);
            },
        ),
        (
            "kubectl set image with $setElementOrder",
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}],
                "containers": [{"name": "nginx", "image": "nginx:1.9.1"}]}}}}),
            |v| {
                let c = containers(v);
                assert_eq!(names(c, "name"), ["sidecar", "nginx"]);
                assert_eq!(c[1]["image"], "nginx:1.9.1");
                assert!(!v.to_string().contains("$setElementOrder"));
            },
        ),
        (
            "$patch: delete removes a container",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}),
            |v| assert_eq!(names(containers(v), "name"), ["nginx"]),
        ),
        (
            "ports merge by containerPort; a removed port is deleted",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "ports": [
                {"containerPort": 443, "$patch": "delete"}, {"containerPort": 8080}]}]}}}}),
            |v| {
                let ports = containers(v)[0]["ports"].as_array().unwrap();
                // Items only the patch has come first (upstream `normalizeElementOrder`).
                assert_eq!(names(ports, "containerPort"), ["8080", "80"]);
                assert_eq!(ports[1]["name"], "http");
            },
        ),
        (
            "env merges by name",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "env": [
                {"name": "A", "$patch": "delete"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}}}}),
            |v| {
                let env = containers(v)[0]["env"].as_array().unwrap();
                assert_eq!(names(env, "name"), ["B", "C"]);
                assert_eq!(env[0]["value"], "3");
            },
        ),
        (
            "$retainKeys: switching to Recreate drops rollingUpdate",
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            |v| assert_eq!(v["spec"]["strategy"], json!({"type": "Recreate"})),
        ),
        (
            "$patch: replace replaces a list",
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "only", "image": "x"}, {"$patch": "replace"}]}}}}),
            |v| assert_eq!(names(containers(v), "name"), ["only"]),
        ),
        (
            "null deletes a key; finalizers merge; $deleteFromPrimitiveList",
            json!({"metadata": {"labels": {"tier": null, "new": "x"}, "finalizers": ["c/d"],
                                "$deleteFromPrimitiveList/finalizers": ["a/b"]}}),
            |v| {
                assert_eq!(v["metadata"]["labels"], json!({"app": "web", "new": "x"}));
                assert_eq!(v["metadata"]["finalizers"], json!(["c/d"]));
            },
        ),
    ];
    let r = registry().await;
    let t = deployments(&r);
    for (i, (name, patch, check)) in cases.into_iter().enumerate() {
        let mut obj = deployment();
        let obj_name = format!("web-{i}");
        obj["metadata"]["name"] = json!(obj_name);
        r.create(t, obj, &WriteOptions::default()).await.unwrap();
        let out = r
            .patch(t, &obj_name, None, PatchType::Strategic, patch, &strict())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = out.value();
        eprintln!("case: {name}");
        check(&v);
    }
}

#[tokio::test]
async fn a_bad_strategic_merge_patch_is_a_client_error() {
    let r = registry().await;
    let t = deployments(&r);
    r.create(t, deployment(), &WriteOptions::default())
        .await
        .unwrap();
    let no_key = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
    let e = r
        .patch(
            t,
            "web",
            None,
            PatchType::Strategic,
            no_key,
            &WriteOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 400, "{e}");
    assert!(
        e.message
            .contains("does not contain declared merge key: name"),
        "{e}"
    );
    let mismatch =
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 2}}}});
    let e = r
        .patch(
            t,
            "web",
            None,
            PatchType::Strategic,
            mismatch,
            &WriteOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 400, "{e}");
    assert_eq!(e.message, "invalid patch format of retainKeys");
    let e = r
        .patch(
            t,
            "web",
            None,
            PatchType::Strategic,
            json!([1]),
            &WriteOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 400);
}

#[tokio::test]
async fn field_validation_strict_rejects_unknown_and_duplicate_fields() {
    let r = registry().await;
    let t = deployments(&r);
    let mut obj = deployment();
    obj["spec"]["foo"] = json!(1);
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolic"] = json!("Always");
    let e = r.create(t, obj.clone(), &strict()).await.unwrap_err();
    assert_eq!(e.code, 400);
    assert_eq!(e.reason, "BadRequest");
    assert_eq!(
        e.message,
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: \
         unknown field \"spec.foo\", unknown field \"spec.template.spec.containers[0].imagePullPolic\""
    );
    let dup = WriteOptions {
        duplicate_fields: vec!["spec.replicas".into()],
        ..strict()
    };
    let e = r.create(t, deployment(), &dup).await.unwrap_err();
    assert!(
        e.message
            .ends_with("strict decoding error: duplicate field \"spec.replicas\""),
        "{e}"
    );
    // PUT decodes the same way.
    r.create(t, deployment(), &WriteOptions::default())
        .await
        .unwrap();
    let mut put = deployment();
    put["metadata"]["bogus"] = json!(true);
    let e = r.update(t, "web", None, put, &strict()).await.unwrap_err();
    assert_eq!(e.code, 400);
    assert!(
        e.message.contains("unknown field \"metadata.bogus\""),
        "{e}"
    );
    // A patch that adds an unknown field is an invalid patch (422), as upstream.
    let e = r
        .patch(
            t,
            "web",
            None,
            PatchType::Strategic,
            json!({"spec": {"foo": 1}}),
            &strict(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 422);
    assert_eq!(
        e.message,
        " \"\" is invalid: patch: Invalid value: \"map[spec:map[foo:1]]\": strict decoding error: unknown field \"spec.foo\""
    );
    let e = r
        .patch(
            t,
            "web",
            None,
            PatchType::Merge,
            json!({"spec": {"foo": 1}}),
            &strict(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, 422);
    assert!(e.message.contains("unknown field \"spec.foo\""), "{e}");
}

#[tokio::test]
async fn field_validation_warn_and_ignore_drop_unknown_fields() {
    let r = registry().await;
    let t = deployments(&r);
    let mut obj = deployment();
    obj["spec"]["foo"] = json!(1);
    let warn = WriteOptions {
        duplicate_fields: vec!["spec.replicas".into()],
        ..WriteOptions::default()
    };
    assert_eq!(warn.field_validation, FieldValidation::Warn, "the default");
    let created = r.create(t, obj.clone(), &warn).await.unwrap().value();
    assert!(created["spec"].get("foo").is_none());
    assert_eq!(
        warn.warnings.take(),
        vec![
            "duplicate field \"spec.replicas\"".to_string(),
            "unknown field \"spec.foo\"".to_string()
        ]
    );
    let ignore = WriteOptions {
        field_validation: FieldValidation::Ignore,
        ..WriteOptions::default()
    };
    obj["metadata"]["name"] = json!("quiet");
    let created = r.create(t, obj, &ignore).await.unwrap().value();
    assert!(created["spec"].get("foo").is_none());
    assert!(ignore.warnings.take().is_empty());
    // Patches warn once per unknown field, and the field is not stored.
    let warn = WriteOptions::default();
    let patched = r
        .patch(
            t,
            "web",
            None,
            PatchType::Strategic,
            json!({"spec": {"replicas": 3, "bar": {"x": 1}}}),
            &warn,
        )
        .await
        .unwrap()
        .value();
    assert_eq!(patched["spec"]["replicas"], 3);
    assert!(patched["spec"].get("bar").is_none());
    assert_eq!(
        warn.warnings.take(),
        vec!["unknown field \"spec.bar\"".to_string()]
    );
}

#[test]
fn a_json_patch_that_cannot_be_applied_is_invalid_with_the_generic_message() {
    let r = Registry::new(Arc::new(MemoryStorage::new()), Arc::new(SystemClock));
    let kind = r.kinds.get("apps", "v1", "deployments").unwrap();
    let doc = deployment();
    for patch in [
        json!([{"op": "nope"}]),
        json!([{"op": "remove", "path": "/spec/nope"}]),
    ] {
        let e = update::apply_patch(kind, PatchType::Json, &doc, &patch).unwrap_err();
        assert_eq!((e.code, e.reason), (422, "Invalid"), "{patch}");
        assert_eq!(
            e.message,
            "the server rejected our request due to an error in our request"
        );
    }
    // Not a list of operations at all: a decoding error.
    let e = update::apply_patch(kind, PatchType::Json, &doc, &json!({"op": "add"})).unwrap_err();
    assert_eq!(e.code, 400);
}
