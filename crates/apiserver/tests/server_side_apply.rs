//! Server-side apply and managedFields over real HTTP, on a Deployment: ownership moving
//! between managers, conflicts and `force`, fields an applier stops applying, the status and
//! scale subresources' entries, clearing managedFields, dry runs and bad apply requests.

mod common;

use common::{managed_entry, sample, Server};
use serde_json::{json, Value};

const PATH: &str = "/apis/apps/v1/namespaces/default/deployments/web";

fn deployment(replicas: i64) -> Value {
    let mut d = sample(apiserver_kind(), "web");
    d["metadata"]["namespace"] = json!("default");
    d["spec"]["replicas"] = json!(replicas);
    d
}

fn apiserver_kind() -> &'static apiserver::kinds::Kind {
    apiserver::kinds::all()
        .into_iter()
        .find(|k| k.kind == "Deployment")
        .expect("deployments")
}

fn fields_of(obj: &Value, manager: &str, operation: &str) -> Value {
    managed_entry(obj, manager, operation)
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn applying_a_field_another_manager_set_differently_is_a_409_conflict_naming_both() {
    let s = Server::start();
    s.request(
        "POST",
        "/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl-create",
        Some("application/json"),
        deployment(1).to_string().as_bytes(),
    )
    .expect(201);
    let r = s.apply(PATH, "kubectl", "", &deployment(3));
    let body = r.expect(409);
    assert_eq!(body["reason"], "Conflict");
    assert_eq!(
        body["message"],
        "Apply failed with 1 conflict: conflict with \"kubectl-create\" using apps/v1: .spec.replicas"
    );
    assert_eq!(
        body["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-create\" using apps/v1", "field": ".spec.replicas"}])
    );
    // The same value is no conflict: both own it.
    let shared = s.apply(PATH, "kubectl", "", &deployment(1)).expect(200);
    assert_eq!(
        fields_of(&shared, "kubectl", "Apply")["f:spec"]["f:replicas"],
        json!({})
    );
    assert_eq!(
        fields_of(&shared, "kubectl-create", "Update")["f:spec"]["f:replicas"],
        json!({})
    );
    // force takes it.
    let forced = s
        .apply(PATH, "kubectl", "&force=true", &deployment(3))
        .expect(200);
    assert_eq!(forced["spec"]["replicas"], 3);
    assert!(fields_of(&forced, "kubectl-create", "Update")["f:spec"]
        .get("f:replicas")
        .is_none());
}

#[test]
fn several_conflicts_are_listed_per_manager() {
    let s = Server::start();
    s.apply(PATH, "a", "", &deployment(1)).expect(201);
    let mut changed = deployment(2);
    changed["metadata"]["labels"]["name"] = json!("other");
    let body = s.apply(PATH, "b", "", &changed).expect(409);
    assert_eq!(
        body["message"],
        "Apply failed with 2 conflicts: conflicts with \"a\":\n- .metadata.labels.name\n- .spec.replicas"
    );
    assert_eq!(body["details"]["causes"].as_array().unwrap().len(), 2);
}

#[test]
fn fields_an_applier_stops_applying_are_removed_unless_another_manager_owns_them() {
    let s = Server::start();
    let mut first = deployment(2);
    first["metadata"]["labels"]["extra"] = json!("x");
    first["metadata"]["annotations"] = json!({"note": "n", "kept": "k"});
    s.apply(PATH, "kubectl", "", &first).expect(201);
    s.merge_patch(
        &format!("{PATH}?fieldManager=annotator"),
        &json!({"metadata": {"annotations": {"kept": "mine"}}}),
    )
    .expect(200);
    let after = s.apply(PATH, "kubectl", "", &deployment(2)).expect(200);
    assert!(
        after["metadata"]["labels"].get("extra").is_none(),
        "{after}"
    );
    assert_eq!(after["metadata"]["annotations"], json!({"kept": "mine"}));
    assert_eq!(after["spec"]["replicas"], 2);
    // Defaults nobody applied stay.
    assert_eq!(after["spec"]["revisionHistoryLimit"], 10);
}

#[test]
fn reapplying_the_same_configuration_bumps_neither_generation_nor_resource_version() {
    let s = Server::start();
    let a = s.apply(PATH, "kubectl", "", &deployment(2)).expect(201);
    let b = s.apply(PATH, "kubectl", "", &deployment(2)).expect(200);
    assert_eq!(
        a["metadata"]["resourceVersion"],
        b["metadata"]["resourceVersion"]
    );
    let c = s.apply(PATH, "kubectl", "", &deployment(4)).expect(200);
    assert_eq!(c["metadata"]["generation"], 2);
    assert_eq!(c["spec"]["replicas"], 4);
}

#[test]
fn scale_and_status_writes_are_entries_of_their_subresource() {
    let s = Server::start();
    s.apply(PATH, "kubectl", "", &deployment(1)).expect(201);
    let scaled = s
        .request(
            "PATCH",
            &format!("{PATH}/scale"),
            Some("application/merge-patch+json"),
            br#"{"spec":{"replicas":5}}"#,
        )
        .expect(200);
    assert_eq!(scaled["spec"]["replicas"], 5);
    let obj = s.get(PATH).expect(200);
    let entry = managed_entry(&obj, "ureq", "Update").expect("scale entry");
    assert_eq!(entry["subresource"], "scale");
    assert_eq!(entry["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    let body = s.apply(PATH, "kubectl", "", &deployment(1)).expect(409);
    assert_eq!(
        body["message"],
        "Apply failed with 1 conflict: conflict with \"ureq\" with subresource \"scale\" using apps/v1: .spec.replicas"
    );
    let mut status = s.get(PATH).expect(200);
    status["status"] = json!({"replicas": 5, "observedGeneration": 1});
    let updated = s
        .request(
            "PUT",
            &format!("{PATH}/status?fieldManager=controller"),
            Some("application/json"),
            status.to_string().as_bytes(),
        )
        .expect(200);
    let entry = managed_entry(&updated, "controller", "Update").expect("status entry");
    assert_eq!(entry["subresource"], "status");
    assert_eq!(
        entry["fieldsV1"],
        json!({"f:status": {"f:observedGeneration": {}, "f:replicas": {}}})
    );
    // A main-resource write sending status records none of it.
    let mut body = s.get(PATH).expect(200);
    body["status"]["replicas"] = json!(9);
    body["metadata"]["labels"]["put"] = json!("yes");
    let put = s
        .request(
            "PUT",
            &format!("{PATH}?fieldManager=putter"),
            Some("application/json"),
            body.to_string().as_bytes(),
        )
        .expect(200);
    assert_eq!(
        fields_of(&put, "putter", "Update"),
        json!({"f:metadata": {"f:labels": {"f:put": {}}}})
    );
}

#[test]
fn sending_managed_fields_with_one_empty_entry_clears_them() {
    let s = Server::start();
    s.apply(PATH, "kubectl", "", &deployment(1)).expect(201);
    let cleared = s
        .merge_patch(PATH, &json!({"metadata": {"managedFields": [{}]}}))
        .expect(200);
    assert!(
        cleared["metadata"].get("managedFields").is_none(),
        "{cleared}"
    );
    // An empty list keeps them (clients unaware of the field do not drop it).
    s.apply(PATH, "kubectl", "&force=true", &deployment(2))
        .expect(200);
    let kept = s
        .merge_patch(PATH, &json!({"metadata": {"managedFields": []}}))
        .expect(200);
    assert!(managed_entry(&kept, "kubectl", "Apply").is_some(), "{kept}");
}

#[test]
fn a_dry_run_apply_stores_nothing() {
    let s = Server::start();
    let rv = s.current_rv();
    let r = s
        .apply(PATH, "kubectl", "&dryRun=All", &deployment(1))
        .expect(201);
    assert!(managed_entry(&r, "kubectl", "Apply").is_some());
    assert_eq!(s.current_rv(), rv);
    s.get(PATH).expect(404);
}

#[test]
fn bad_apply_requests_are_refused_as_kube_apiserver_refuses_them() {
    let s = Server::start();
    let r = s.request(
        "PATCH",
        PATH,
        Some("application/apply-patch+yaml"),
        deployment(1).to_string().as_bytes(),
    );
    let body = r.expect(422);
    assert_eq!(
        body["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    let r = s.request(
        "PATCH",
        &format!("{PATH}?force=true"),
        Some("application/merge-patch+json"),
        b"{}",
    );
    assert_eq!(
        r.expect(422)["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
    );
    let r = s.request(
        "PATCH",
        &format!("{PATH}?fieldManager=x"),
        Some("application/apply-patch+yaml"),
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web\n",
    );
    assert_eq!(r.expect(400)["reason"], "BadRequest");
    // YAML is accepted.
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n";
    let r = s.request(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/web?fieldManager=x",
        Some("application/apply-patch+yaml"),
        yaml.as_bytes(),
    );
    assert_eq!(r.expect(201)["data"], json!({"a": "b"}));
}

#[test]
fn applying_to_the_status_subresource_changes_and_owns_only_status() {
    let s = Server::start();
    s.apply(PATH, "kubectl", "", &deployment(1)).expect(201);
    let status = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 7}, "status": {"replicas": 1, "readyReplicas": 1}});
    let r = s
        .apply(&format!("{PATH}/status"), "controller", "", &status)
        .expect(200);
    assert_eq!(r["status"]["readyReplicas"], 1);
    assert_eq!(r["spec"]["replicas"], 1);
    let entry = managed_entry(&r, "controller", "Apply").expect("status Apply entry");
    assert_eq!(entry["subresource"], "status");
    assert_eq!(
        entry["fieldsV1"],
        json!({"f:status": {"f:readyReplicas": {}, "f:replicas": {}}})
    );
    // Nothing to apply the status of: 404.
    let missing = "/apis/apps/v1/namespaces/default/deployments/nope/status";
    let mut other = status.clone();
    other["metadata"]["name"] = json!("nope");
    assert_eq!(
        s.apply(missing, "controller", "", &other).expect(404)["reason"],
        "NotFound"
    );
}
