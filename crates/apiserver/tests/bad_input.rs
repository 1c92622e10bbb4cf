//! Bad input, over real HTTP against an in-process server: every malformed request is answered
//! with a `Status` carrying the right HTTP code and reason and a message naming the problem;
//! none gets a 5xx or brings the connection down (a panicking handler would), and none changes
//! storage (the store's resourceVersion and the lists of every kind are the same afterwards).

mod common;

use common::{all_kinds, for_each_kind, kinds, sample, Resp, Scope, Server};
use serde_json::{json, Value};

/// The server with one sample of every kind already stored, and a snapshot of what is stored.
struct Fixture {
    s: Server,
    before: Vec<(String, Value)>,
}

impl Fixture {
    fn new() -> Fixture {
        let s = Server::start();
        for kind in kinds() {
            let sc = s.scope(kind);
            s.create(&sc, "existing", &json!({}));
        }
        let before = snapshot(&s);
        Fixture { s, before }
    }

    fn scope(&self, kind: &'static apiserver::kinds::Kind) -> Scope {
        self.s.scope(kind)
    }

    /// Send a request that must be refused with `(code, reason)`, with a message containing
    /// `needle`; check it wrote nothing.
    #[track_caller]
    fn refused(
        &self,
        method: &str,
        path: &str,
        ct: Option<&str>,
        body: &[u8],
        (code, reason): (u16, &str),
        needle: &str,
    ) -> Value {
        let rv = self.s.current_rv();
        let r = self.s.request(method, path, ct, body);
        let st = check_status(&r, code, reason, needle, &format!("{method} {path}"));
        assert_eq!(self.s.current_rv(), rv, "{method} {path} wrote to storage");
        st
    }

    /// Storage holds exactly what it held when the fixture was built.
    #[track_caller]
    fn assert_unchanged(&self) {
        assert_eq!(snapshot(&self.s), self.before, "storage changed");
    }
}

/// Every kind's list across namespaces (items with their resourceVersions) and the store's rv.
fn snapshot(s: &Server) -> Vec<(String, Value)> {
    let mut out = vec![("rv".to_string(), json!(s.current_rv()))];
    for kind in kinds() {
        let path = common::collection_path(kind, None);
        let list = s.get(&path).expect(200);
        out.push((path, list["items"].clone()));
    }
    out
}

/// `r` is a Failure `Status` with `code` and `reason` whose message contains `needle`.
#[track_caller]
fn check_status(r: &Resp, code: u16, reason: &str, needle: &str, what: &str) -> Value {
    assert!(r.code < 500, "{what}: {} (5xx): {}", r.code, r.body);
    assert_eq!(r.code, code, "{what}: {}", r.body);
    let st = &r.body;
    assert_eq!(st["kind"], "Status", "{what}: {st}");
    assert_eq!(st["apiVersion"], "v1", "{what}: {st}");
    assert_eq!(st["status"], "Failure", "{what}: {st}");
    assert_eq!(st["code"], code, "{what}: {st}");
    assert_eq!(st["reason"], reason, "{what}: {st}");
    let msg = st["message"].as_str().unwrap_or("");
    assert!(
        msg.contains(needle),
        "{what}: message {msg:?} lacks {needle:?}"
    );
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{what}: {:?}",
        r.headers
    );
    st.clone()
}

const JSON: Option<&str> = Some("application/json");

#[test]
fn malformed_json_bodies_are_400_bad_request_naming_the_kind() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        for body in [
            &b"{\"metadata\": {\"name\": \"x\""[..],
            b"{\"metadata\": {\"name\": \"x\"}},",
            b"{'metadata': {}}",
            b"\xff\xfe\x00garbage",
            b"",
        ] {
            f.refused(
                "POST",
                &sc.collection(),
                JSON,
                body,
                (400, "BadRequest"),
                kind.kind,
            );
            f.refused(
                "PUT",
                &sc.item("existing"),
                JSON,
                body,
                (400, "BadRequest"),
                kind.kind,
            );
        }
    });
    f.assert_unchanged();
}

#[test]
fn yaml_bodies_are_accepted_as_yaml_and_refused_as_json() {
    let f = Fixture::new();
    let yaml = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: b\n";
    let path = "/api/v1/namespaces/default/configmaps";
    f.refused(
        "POST",
        path,
        JSON,
        yaml,
        (400, "BadRequest"),
        "cannot be handled as a ConfigMap",
    );
    f.assert_unchanged();
    let created =
        f.s.request("POST", path, Some("application/yaml"), yaml)
            .expect(201);
    assert_eq!(created["data"]["a"], "b");
    // Malformed YAML is a 400 too.
    f.refused(
        "POST",
        path,
        Some("application/yaml"),
        b"metadata: [unclosed\n",
        (400, "BadRequest"),
        "ConfigMap",
    );
    // A body in a media type the server does not decode is 415.
    f.refused(
        "POST",
        path,
        Some("text/plain"),
        b"apiVersion: v1",
        (415, "UnsupportedMediaType"),
        "text/plain",
    );
}

#[test]
fn bodies_that_are_not_objects_or_have_malformed_metadata_are_400() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        for body in ["[]", "[{}]", "\"configmap\"", "42", "null", "true"] {
            for (method, path) in [("POST", sc.collection()), ("PUT", sc.item("existing"))] {
                f.refused(
                    method,
                    &path,
                    JSON,
                    body.as_bytes(),
                    (400, "BadRequest"),
                    "",
                );
            }
        }
        for meta in [
            json!("x"),
            json!({"name": "x", "labels": "notamap"}),
            json!({"name": 7}),
        ] {
            let mut obj = sample(kind, "x");
            obj["metadata"] = meta;
            f.refused(
                "POST",
                &sc.collection(),
                JSON,
                obj.to_string().as_bytes(),
                (400, "BadRequest"),
                &format!("cannot be handled as a {}", kind.kind),
            );
        }
    });
    f.assert_unchanged();
}

#[test]
fn a_body_whose_kind_or_api_version_differs_from_the_url_is_400_naming_both() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        let mut wrong_kind = sample(kind, "x");
        wrong_kind["kind"] = json!("Wrong");
        let mut wrong_version = sample(kind, "x");
        wrong_version["apiVersion"] = json!("wrong.example.com/v9");
        for (body, needle) in [
            (&wrong_kind, "Wrong"),
            (&wrong_version, "wrong.example.com/v9"),
        ] {
            let st = f.refused(
                "POST",
                &sc.collection(),
                JSON,
                body.to_string().as_bytes(),
                (400, "BadRequest"),
                needle,
            );
            let msg = st["message"].as_str().unwrap();
            assert!(
                msg.contains(kind.kind) || msg.contains(&kind.api_version()),
                "{msg}"
            );
            let mut put = body.clone();
            put["metadata"]["name"] = json!("existing");
            f.refused(
                "PUT",
                &sc.item("existing"),
                JSON,
                put.to_string().as_bytes(),
                (400, "BadRequest"),
                needle,
            );
        }
    });
    f.assert_unchanged();
}

#[test]
fn a_body_namespace_or_name_that_differs_from_the_url_is_400() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        if kind.namespaced {
            let mut obj = sample(kind, "x");
            obj["metadata"]["namespace"] = json!("elsewhere");
            f.refused(
                "POST",
                &sc.collection(),
                JSON,
                obj.to_string().as_bytes(),
                (400, "BadRequest"),
                "the namespace of the provided object does not match the namespace sent on the request",
            );
            obj["metadata"]["name"] = json!("existing");
            f.refused(
                "PUT",
                &sc.item("existing"),
                JSON,
                obj.to_string().as_bytes(),
                (400, "BadRequest"),
                &format!(
                    "the namespace of the object (elsewhere) does not match the namespace on the request ({})",
                    sc.ns.as_deref().unwrap()
                ),
            );
        }
        let mut other = f.s.get(&sc.item("existing")).expect(200);
        other["metadata"]["name"] = json!("other");
        f.refused(
            "PUT",
            &sc.item("existing"),
            JSON,
            other.to_string().as_bytes(),
            (400, "BadRequest"),
            "the name of the object (other) does not match the name on the URL (existing)",
        );
        other["metadata"].as_object_mut().unwrap().remove("name");
        f.refused(
            "PUT",
            &sc.item("existing"),
            JSON,
            other.to_string().as_bytes(),
            (400, "BadRequest"),
            "the name of the object (existing based on URL) was undeterminable: name must be provided",
        );
    });
    f.assert_unchanged();
}

#[test]
fn invalid_names_are_422_invalid_with_a_metadata_name_cause() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        let too_long = "a".repeat(254);
        for (name, needle) in [
            ("Upper", "RFC 1123"),
            ("under_score", "RFC 1123"),
            ("-leading", "RFC 1123"),
            (too_long.as_str(), "must be no more than"),
            ("", "name or generateName is required"),
        ] {
            let mut obj = sample(kind, "x");
            obj["metadata"]["name"] = json!(name);
            obj["metadata"]["labels"]["name"] = json!("x");
            let st = f.refused(
                "POST",
                &sc.collection(),
                JSON,
                obj.to_string().as_bytes(),
                (422, "Invalid"),
                needle,
            );
            assert_eq!(st["details"]["kind"], kind.kind, "{st}");
            let causes = st["details"]["causes"].as_array().expect("causes");
            assert!(causes.iter().any(|c| c["field"] == "metadata.name"), "{st}");
            let msg = st["message"].as_str().unwrap();
            assert!(
                msg.starts_with(&format!(
                    "{}{} \"{name}\" is invalid: ",
                    kind.kind,
                    group_suffix(kind)
                )),
                "{msg}"
            );
        }
        // Invalid labels are 422 too.
        let mut obj = sample(kind, "x");
        obj["metadata"]["labels"]["bad key!"] = json!("v");
        f.refused(
            "POST",
            &sc.collection(),
            JSON,
            obj.to_string().as_bytes(),
            (422, "Invalid"),
            "metadata.labels",
        );
    });
    f.assert_unchanged();
}

fn group_suffix(kind: &apiserver::kinds::Kind) -> String {
    if kind.group.is_empty() {
        String::new()
    } else {
        format!(".{}", kind.group)
    }
}

#[test]
fn bodies_over_3_mib_are_413_request_entity_too_large() {
    let f = Fixture::new();
    let big = "x".repeat(3 * 1024 * 1024);
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
                      "data": {"big": big}})
    .to_string();
    let path = "/api/v1/namespaces/ns-configmaps-core/configmaps";
    f.refused(
        "POST",
        path,
        JSON,
        body.as_bytes(),
        (413, "RequestEntityTooLarge"),
        "limit is 3145728",
    );
    f.refused(
        "PUT",
        &format!("{path}/existing"),
        JSON,
        body.as_bytes(),
        (413, "RequestEntityTooLarge"),
        "",
    );
    f.refused(
        "PATCH",
        &format!("{path}/existing"),
        Some("application/merge-patch+json"),
        body.as_bytes(),
        (413, "RequestEntityTooLarge"),
        "",
    );
    f.assert_unchanged();
    // The server is still serving.
    f.s.get(&format!("{path}/existing")).expect(200);
}

#[test]
fn malformed_label_selectors_are_400_for_list_watch_and_deletecollection() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        for sel in [
            "a%20in%20(",
            "a%3D%3D%3Db",
            "!",
            "a%20notin",
            "Bad%20Key!%3Dv",
        ] {
            for q in [
                format!("labelSelector={sel}"),
                format!("watch=true&labelSelector={sel}"),
            ] {
                f.refused("GET", &sc.query(&q), None, b"", (400, "BadRequest"), "");
            }
            f.refused(
                "DELETE",
                &sc.query(&format!("labelSelector={sel}")),
                None,
                b"",
                (400, "BadRequest"),
                "",
            );
        }
    });
    f.assert_unchanged();
}

#[test]
fn unsupported_or_malformed_field_selectors_are_400_naming_the_field() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        for q in [
            "fieldSelector=spec.nope%3Dx",
            "watch=true&fieldSelector=spec.nope%3Dx",
        ] {
            f.refused(
                "GET",
                &sc.query(q),
                None,
                b"",
                (400, "BadRequest"),
                "field label not supported: spec.nope",
            );
        }
        f.refused(
            "GET",
            &sc.query("fieldSelector=metadata.name"),
            None,
            b"",
            (400, "BadRequest"),
            "",
        );
    });
    f.assert_unchanged();
}

#[test]
fn bad_continue_tokens_are_400() {
    use base64::Engine;
    let f = Fixture::new();
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE.encode(s);
    let foreign =
        b64(&json!({"v": "meta.k8s.io/v1", "rv": 1, "start": "/core/secrets/x/y"}).to_string());
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        for tok in [
            "!!!".to_string(),
            b64("not json"),
            b64(&json!({"v": "other/v1", "rv": 1, "start": "/"}).to_string()),
            b64(&json!({"v": "meta.k8s.io/v1", "rv": 0, "start": "/"}).to_string()),
            foreign.clone(),
        ] {
            if tok == foreign && kind.plural == "secrets" {
                continue;
            }
            f.refused(
                "GET",
                &sc.query(&format!("limit=1&continue={tok}")),
                None,
                b"",
                (400, "BadRequest"),
                "continue",
            );
        }
        // A continue token together with a resourceVersion is refused too.
        f.s.create(&sc, "existing-2", &json!({}));
        let page = f.s.get(&sc.query("limit=1")).expect(200);
        let tok = page["metadata"]["continue"].as_str().unwrap().to_string();
        f.refused(
            "GET",
            &sc.query(&format!("limit=1&continue={tok}&resourceVersion=5")),
            None,
            b"",
            (400, "BadRequest"),
            "continue",
        );
        f.s.remove(&sc, "existing-2");
    });
}

#[test]
fn unknown_resources_groups_versions_and_subresources_are_404() {
    let f = Fixture::new();
    for path in [
        "/api/v1/namespaces/default/widgets",
        "/api/v1/widgets",
        "/api/v2/pods",
        "/apis/nope.example.com/v1/widgets",
        "/apis/apps/v9/deployments",
        "/apis/apps/v1/namespaces/default/pods",
        "/api/v1/namespaces/default/configmaps/existing/bogus",
        "/api/v1/namespaces/default/configmaps/existing/scale",
        "/api/v1/namespaces/default/configmaps/existing/status",
        "/api/v1/namespaces/default/configmaps/existing/status/extra",
        "/api/v1/nodes/x/binding",
        "/api/v1/namespaces/default/nodes",
    ] {
        for method in ["GET", "POST", "PUT", "DELETE"] {
            f.refused(
                method,
                path,
                JSON,
                b"{}",
                (404, "NotFound"),
                "the server could not find the requested resource",
            );
        }
    }
    for path in ["/nope", "/apis/apps/v1/x/y/z/w/v", "/api"] {
        let r = f.s.request("POST", path, JSON, b"{}");
        check_status(&r, 404, "NotFound", "could not find", path);
    }
    f.assert_unchanged();
}

#[test]
fn methods_a_path_does_not_serve_are_405() {
    let f = Fixture::new();
    let cm = "/api/v1/namespaces/default/configmaps";
    for (method, path) in [
        ("POST", format!("{cm}/existing")),
        ("PUT", cm.to_string()),
        ("PATCH", cm.to_string()),
        (
            "DELETE",
            "/apis/apps/v1/namespaces/ns-deployments-apps/deployments/existing/status".to_string(),
        ),
        (
            "POST",
            "/apis/apps/v1/namespaces/ns-deployments-apps/deployments/existing/scale".to_string(),
        ),
        (
            "GET",
            "/api/v1/namespaces/ns-pods-core/pods/existing/binding".to_string(),
        ),
        (
            "PUT",
            "/api/v1/namespaces/ns-pods-core/pods/existing/binding".to_string(),
        ),
    ] {
        f.refused(
            method,
            &path,
            JSON,
            b"{}",
            (405, "MethodNotAllowed"),
            "the server does not allow this method on the requested resource",
        );
    }
    f.assert_unchanged();
}

#[test]
fn a_namespaced_kinds_path_outside_a_namespace_serves_only_list_and_watch() {
    let f = Fixture::new();
    for_each_kind(
        |k| k.namespaced,
        |kind| {
            let all = common::collection_path(kind, None);
            f.s.get(&all).expect(200);
            let body = sample(kind, "x").to_string();
            for method in ["POST", "DELETE", "PUT", "PATCH"] {
                f.refused(
                    method,
                    &all,
                    JSON,
                    body.as_bytes(),
                    (405, "MethodNotAllowed"),
                    "does not allow this method",
                );
            }
            for method in ["GET", "PUT", "DELETE"] {
                f.refused(
                    method,
                    &format!("{all}/existing"),
                    JSON,
                    body.as_bytes(),
                    (404, "NotFound"),
                    "the server could not find the requested resource",
                );
            }
        },
    );
    f.assert_unchanged();
}

#[test]
fn patches_in_unknown_media_types_are_415() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        for ct in [
            Some("application/json"),
            Some("text/plain"),
            Some("application/yaml"),
            None,
        ] {
            f.refused(
                "PATCH",
                &sc.item("existing"),
                ct,
                br#"{"metadata":{"labels":{"a":"b"}}}"#,
                (415, "UnsupportedMediaType"),
                "application/merge-patch+json",
            );
        }
    });
    f.assert_unchanged();
}

#[test]
fn malformed_or_inapplicable_patches_are_400_or_422_and_change_nothing() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        let item = sc.item("existing");
        let jp = Some("application/json-patch+json");
        let mp = Some("application/merge-patch+json");
        let sp = Some("application/strategic-merge-patch+json");
        for (ct, body, code) in [
            (jp, &b"[{\"op\": \"add\""[..], 400),
            (
                jp,
                b"{\"op\": \"add\", \"path\": \"/x\", \"value\": 1}",
                400,
            ),
            // An unknown op is found when the patch is applied, not decoded: 422 as upstream.
            (jp, b"[{\"op\": \"explode\", \"path\": \"/x\"}]", 422),
            (
                jp,
                b"[{\"op\": \"remove\", \"path\": \"/metadata/labels/missing\"}]",
                422,
            ),
            (
                jp,
                b"[{\"op\": \"test\", \"path\": \"/metadata/name\", \"value\": \"other\"}]",
                422,
            ),
            (
                jp,
                b"[{\"op\": \"replace\", \"path\": \"/no/such/path\", \"value\": 1}]",
                422,
            ),
            (mp, b"{\"metadata\": ", 400),
            (mp, b"[1, 2]", 400),
            (sp, b"{\"metadata\": ", 400),
            (sp, b"\"str\"", 400),
        ] {
            let rv = f.s.current_rv();
            let r = f.s.request("PATCH", &item, ct, body);
            let reason = if code == 400 { "BadRequest" } else { "Invalid" };
            check_status(
                &r,
                code,
                reason,
                "",
                &format!("{ct:?} {}", String::from_utf8_lossy(body)),
            );
            assert_eq!(f.s.current_rv(), rv);
        }
        // A patch that makes the object undecodable is refused without writing.
        f.refused(
            "PATCH",
            &item,
            mp,
            br#"{"metadata": {"labels": "notamap"}}"#,
            (400, "BadRequest"),
            kind.kind,
        );
        // A patch that renames the object, or moves it to another namespace, is refused.
        f.refused(
            "PATCH",
            &item,
            mp,
            br#"{"metadata": {"name": "renamed"}}"#,
            (400, "BadRequest"),
            "the name of the object (renamed) does not match the name on the URL (existing)",
        );
        if kind.namespaced {
            f.refused(
                "PATCH",
                &item,
                mp,
                br#"{"metadata": {"namespace": "elsewhere"}}"#,
                (400, "BadRequest"),
                "the namespace of the object (elsewhere) does not match the namespace on the request",
            );
        }
    });
    f.assert_unchanged();
}

#[test]
fn list_options_the_server_cannot_honour_are_refused_with_a_status() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        f.refused(
            "GET",
            &sc.query("resourceVersionMatch=NotOlderThan"),
            None,
            b"",
            (422, "Invalid"),
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        );
        let st = f.refused(
            "GET",
            &sc.query("resourceVersionMatch=Exact"),
            None,
            b"",
            (422, "Invalid"),
            "resourceVersionMatch: Forbidden",
        );
        assert_eq!(st["details"]["kind"], "ListOptions");
        assert_eq!(st["details"]["group"], "meta.k8s.io");
        f.refused(
            "GET",
            &sc.query("resourceVersionMatch=Sometimes&resourceVersion=1"),
            None,
            b"",
            (422, "Invalid"),
            "Sometimes",
        );
        for q in [
            "resourceVersion=abc",
            "limit=ten",
            "watch=maybe",
            "timeoutSeconds=soon&watch=true",
            "resourceVersion=abc&watch=true",
        ] {
            f.refused("GET", &sc.query(q), None, b"", (400, "BadRequest"), "");
        }
        // sendInitialEvents needs resourceVersionMatch=NotOlderThan and bookmarks.
        f.refused(
            "GET",
            &sc.query("watch=true&sendInitialEvents=true"),
            None,
            b"",
            (422, "Invalid"),
            "resourceVersionMatch",
        );
        // A resourceVersion from the future is the one deliberate 5xx: 504 Timeout with a
        // Retry-After (kube-apiserver answers so after waiting for the rv to arrive).
        let r =
            f.s.get(&sc.query("resourceVersion=999999999&resourceVersionMatch=NotOlderThan"));
        assert_eq!(r.code, 504, "{r:?}");
        assert_eq!(r.body["reason"], "Timeout");
        assert!(r.body["message"]
            .as_str()
            .unwrap()
            .contains("Too large resource version: 999999999"));
        assert_eq!(r.header("retry-after"), Some("1"));
    });
    f.assert_unchanged();
}

#[test]
fn bad_write_options_are_refused_before_anything_is_written() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        let body = sample(kind, "new").to_string();
        let st = f.refused(
            "POST",
            &format!("{}?dryRun=Some", sc.collection()),
            JSON,
            body.as_bytes(),
            (422, "Invalid"),
            "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Some\"}: supported values: \"All\"",
        );
        assert_eq!(st["details"]["causes"][0]["field"], "dryRun");
        f.refused(
            "DELETE",
            &format!("{}?dryRun=Some", sc.item("existing")),
            None,
            b"",
            (422, "Invalid"),
            "DeleteOptions.meta.k8s.io",
        );
        f.refused(
            "POST",
            &format!("{}?fieldValidation=Loose", sc.collection()),
            JSON,
            body.as_bytes(),
            (422, "Invalid"),
            "fieldValidation",
        );
        f.refused(
            "DELETE",
            &format!("{}?gracePeriodSeconds=later", sc.item("existing")),
            None,
            b"",
            (400, "BadRequest"),
            "gracePeriodSeconds",
        );
        f.refused(
            "DELETE",
            &format!("{}?propagationPolicy=Sideways", sc.item("existing")),
            None,
            b"",
            (422, "Invalid"),
            "Sideways",
        );
        f.refused(
            "DELETE",
            &sc.item("existing"),
            JSON,
            b"{\"gracePeriodSeconds\": ",
            (400, "BadRequest"),
            "",
        );
        f.refused(
            "DELETE",
            &sc.item("existing"),
            JSON,
            b"[1]",
            (400, "BadRequest"),
            "DeleteOptions",
        );
        f.refused(
            "DELETE",
            &sc.item("existing"),
            JSON,
            br#"{"gracePeriodSeconds": "soon"}"#,
            (400, "BadRequest"),
            "gracePeriodSeconds",
        );
    });
    f.assert_unchanged();
}

#[test]
fn writes_to_objects_that_do_not_exist_are_404_and_create_nothing() {
    let f = Fixture::new();
    for_each_kind(all_kinds, |kind| {
        let sc = f.scope(kind);
        let q = common::label(kind);
        let needle = format!("{q} \"ghost\" not found");
        let body = sample(kind, "ghost").to_string();
        f.refused(
            "PUT",
            &sc.item("ghost"),
            JSON,
            body.as_bytes(),
            (404, "NotFound"),
            &needle,
        );
        f.refused(
            "PATCH",
            &sc.item("ghost"),
            Some("application/merge-patch+json"),
            b"{}",
            (404, "NotFound"),
            &needle,
        );
        f.refused(
            "DELETE",
            &sc.item("ghost"),
            None,
            b"",
            (404, "NotFound"),
            &needle,
        );
    });
    f.assert_unchanged();
}
