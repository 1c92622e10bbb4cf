//! One REST conformance suite, run for every kind the server serves (`apiserver::kinds::all()`):
//! each test states a behaviour of kube-apiserver's generic REST machinery and checks it for
//! every kind it applies to, over real HTTP against an in-process server. A kind without a
//! sample in `common::sample` fails every test, so new kinds are covered as they are added.

mod common;

use apiserver::kinds::{Generation, Kind, Subresource};
use common::{
    all_kinds, ev_summary, for_each_kind, label, managed_entry, names, sample, spec_change,
    status_sample, Server, SAMPLE_LABEL,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn rv_of(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_else(|| panic!("no resourceVersion in {obj}"))
        .parse()
        .expect("numeric resourceVersion")
}

fn qualified(kind: &Kind) -> String {
    common::label(kind)
}

fn namespaced(k: &Kind) -> bool {
    k.namespaced
}

#[test]
fn create_answers_201_with_uid_creation_timestamp_resource_version_and_type_meta() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let before = s.current_rv();
        let created = s.create(&sc, "obj-a", &json!({}));
        let meta = &created["metadata"];
        assert!(
            meta["uid"].as_str().is_some_and(|u| u.len() == 36),
            "uid: {created}"
        );
        let ts = meta["creationTimestamp"].as_str().unwrap_or("");
        assert!(
            ts.len() == 20 && ts.ends_with('Z'),
            "creationTimestamp {ts:?}"
        );
        assert!(rv_of(&created) > before);
        assert_eq!(created["kind"], kind.kind);
        assert_eq!(created["apiVersion"], kind.api_version());
        assert_eq!(meta["name"], "obj-a");
        match &sc.ns {
            Some(ns) => assert_eq!(meta["namespace"], json!(ns)),
            None => assert!(meta.get("namespace").is_none(), "{created}"),
        }
        // What GET returns is what create answered.
        let got = s.get(&sc.item("obj-a")).expect(200);
        assert_eq!(got, created);
    });
}

#[test]
fn creating_an_existing_name_is_409_already_exists_naming_the_group_qualified_resource() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let first = s.create(&sc, "dup", &json!({}));
        let r = s.post(&sc.collection(), &sample(kind, "dup"));
        let st = r.expect(409);
        assert_eq!(st["kind"], "Status");
        assert_eq!(st["reason"], "AlreadyExists");
        assert_eq!(
            st["message"],
            format!("{} \"dup\" already exists", qualified(kind))
        );
        assert_eq!(st["details"]["name"], "dup");
        assert_eq!(st["details"]["kind"], kind.plural);
        // The original is untouched.
        let got = s.get(&sc.item("dup")).expect(200);
        assert_eq!(got["metadata"]["uid"], first["metadata"]["uid"]);
    });
}

#[test]
fn get_of_a_missing_object_is_404_naming_it() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let st = s.get(&sc.item("nope")).expect(404);
        assert_eq!(st["reason"], "NotFound");
        assert_eq!(
            st["message"],
            format!("{} \"nope\" not found", qualified(kind))
        );
    });
}

#[test]
fn list_filters_by_label_selector_and_by_metadata_name_field_selector() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        s.create(
            &sc,
            "red-1",
            &json!({"metadata": {"labels": {"color": "red"}}}),
        );
        s.create(
            &sc,
            "red-2",
            &json!({"metadata": {"labels": {"color": "red"}}}),
        );
        s.create(
            &sc,
            "blue-1",
            &json!({"metadata": {"labels": {"color": "blue"}}}),
        );
        let list = s.get(&sc.query("labelSelector=color%3Dred")).expect(200);
        assert_eq!(list["kind"], kind.list_kind());
        assert_eq!(list["apiVersion"], kind.api_version());
        assert!(list["metadata"]["resourceVersion"].as_str().is_some());
        assert_eq!(names(&list), ["red-1", "red-2"]);
        assert_eq!(
            s.list_names(&sc.query("labelSelector=color%20notin%20(red),sample")),
            ["blue-1"]
        );
        assert_eq!(
            s.list_names(&sc.query("fieldSelector=metadata.name%3Dred-2")),
            ["red-2"]
        );
        assert_eq!(
            s.list_names(
                &sc.query("fieldSelector=metadata.name!%3Dred-2&labelSelector=sample%3Dyes")
            ),
            ["blue-1", "red-1"]
        );
        // Items carry their type meta, as the stored objects do.
        let item = &list["items"][0];
        assert_eq!(item["kind"], kind.kind);
    });
}

#[test]
fn paged_list_returns_every_object_of_one_snapshot_exactly_once_with_remaining_item_count() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        for i in 0..5 {
            s.create(&sc, &format!("page-{i}"), &json!({}));
        }
        // Unfiltered pages of one, then filtered pages of two.
        for (round, (filter, limit)) in [
            (String::new(), 1),
            (format!("labelSelector={SAMPLE_LABEL}&"), 2),
        ]
        .iter()
        .enumerate()
        {
            let all = s.list_names(&sc.query(filter));
            assert!(all.len() >= 4, "{all:?}");
            let mut seen = Vec::new();
            let mut token: Option<String> = None;
            let mut pages = 0;
            loop {
                let q = match &token {
                    None => format!("{filter}limit={limit}"),
                    Some(t) => format!("{filter}limit={limit}&continue={t}"),
                };
                let page = s.get(&sc.query(&q)).expect(200);
                pages += 1;
                let items = names(&page);
                assert!(
                    !items.is_empty() && items.len() <= *limit,
                    "page {pages}: {page}"
                );
                seen.extend(items);
                // Writes between pages do not show: the pages read the first one's snapshot.
                if pages == 1 {
                    s.create(&sc, &format!("late-{round}"), &json!({}));
                    let last = all.last().unwrap();
                    if !seen.contains(last) {
                        s.remove(&sc, last);
                    }
                }
                match page["metadata"]["continue"].as_str() {
                    Some(t) if !t.is_empty() => {
                        let remaining = page["metadata"]["remainingItemCount"]
                            .as_u64()
                            .unwrap_or_else(|| panic!("no remainingItemCount: {page}"));
                        assert_eq!(remaining as usize, all.len() - seen.len(), "{page}");
                        token = Some(t.to_string());
                    }
                    _ => {
                        assert!(page["metadata"].get("remainingItemCount").is_none());
                        break;
                    }
                }
            }
            assert_eq!(seen, all, "pages differ from the full list");
            let now = s.list_names(&sc.query(filter));
            assert!(now.contains(&format!("late-{round}")), "{now:?}");
        }
    });
}

#[test]
fn exact_list_at_an_older_resource_version_returns_the_state_then() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        s.create(
            &sc,
            "then-1",
            &json!({"metadata": {"labels": {"era": "old"}}}),
        );
        s.create(&sc, "then-2", &json!({}));
        let rv = s.current_rv();
        s.merge_patch(
            &sc.item("then-1"),
            &json!({"metadata": {"labels": {"era": "new"}}}),
        )
        .expect(200);
        s.remove(&sc, "then-2");
        s.create(&sc, "then-3", &json!({}));
        let q =
            format!("labelSelector={SAMPLE_LABEL}&resourceVersion={rv}&resourceVersionMatch=Exact");
        let old = s.get(&sc.query(&q)).expect(200);
        assert_eq!(names(&old), ["then-1", "then-2"]);
        assert_eq!(old["items"][0]["metadata"]["labels"]["era"], "old");
        assert_eq!(old["metadata"]["resourceVersion"], rv.to_string());
        let now = s.list_names(&sc.query(&format!("labelSelector={SAMPLE_LABEL}")));
        assert_eq!(now, ["then-1", "then-3"]);
        // NotOlderThan (and 0) may answer the latest state.
        let q = format!(
            "labelSelector={SAMPLE_LABEL}&resourceVersion={rv}&resourceVersionMatch=NotOlderThan"
        );
        assert_eq!(s.list_names(&sc.query(&q)), ["then-1", "then-3"]);
    });
}

#[test]
fn put_bumps_the_resource_version_and_a_stale_put_is_409_conflict() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let created = s.create(&sc, "upd", &json!({}));
        let mut next = created.clone();
        next["metadata"]["labels"]["step"] = json!("one");
        let updated = s.put(&sc.item("upd"), &next).expect(200);
        assert!(rv_of(&updated) > rv_of(&created));
        assert_eq!(updated["metadata"]["labels"]["step"], "one");
        assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
        assert_eq!(
            updated["metadata"]["creationTimestamp"],
            created["metadata"]["creationTimestamp"]
        );
        // The same body again, with the old resourceVersion: stale.
        let mut stale = created.clone();
        stale["metadata"]["labels"]["step"] = json!("two");
        let st = s.put(&sc.item("upd"), &stale).expect(409);
        assert_eq!(st["reason"], "Conflict");
        assert_eq!(
            st["message"],
            format!(
                "Operation cannot be fulfilled on {} \"upd\": the object has been modified; please apply your changes to the latest version and try again",
                qualified(kind)
            )
        );
        let got = s.get(&sc.item("upd")).expect(200);
        assert_eq!(got["metadata"]["labels"]["step"], "one");
        // Without a resourceVersion the PUT is unconditional.
        let mut unconditional = got.clone();
        unconditional["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        unconditional["metadata"]["labels"]["step"] = json!("three");
        let r = s.put(&sc.item("upd"), &unconditional).expect(200);
        assert!(rv_of(&r) > rv_of(&updated));
        // PUT of a missing object is 404.
        let mut missing = sample(kind, "ghost");
        missing["metadata"]["resourceVersion"] = json!("1");
        s.put(&sc.item("ghost"), &missing).expect(404);
    });
}

#[test]
fn put_that_changes_nothing_keeps_the_resource_version() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let created = s.create(&sc, "same", &json!({}));
        let again = s.put(&sc.item("same"), &created).expect(200);
        assert_eq!(rv_of(&again), rv_of(&created));
    });
}

#[test]
fn merge_patch_and_json_patch_change_the_object_and_bump_the_resource_version() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let created = s.create(&sc, "pt", &json!({}));
        let merged = s
            .merge_patch(
                &sc.item("pt"),
                &json!({"metadata": {"labels": {"merged": "yes"}, "annotations": {"a": "1"}}}),
            )
            .expect(200);
        assert_eq!(merged["metadata"]["labels"]["merged"], "yes");
        assert_eq!(merged["metadata"]["labels"]["sample"], "yes");
        assert!(rv_of(&merged) > rv_of(&created));
        let patched = s
            .json_patch(
                &sc.item("pt"),
                &json!([
                    {"op": "test", "path": "/metadata/labels/merged", "value": "yes"},
                    {"op": "remove", "path": "/metadata/labels/merged"},
                    {"op": "replace", "path": "/metadata/annotations/a", "value": "2"}
                ]),
            )
            .expect(200);
        assert!(patched["metadata"]["labels"].get("merged").is_none());
        assert_eq!(patched["metadata"]["annotations"]["a"], "2");
        assert!(rv_of(&patched) > rv_of(&merged));
        let strategic = s
            .request(
                "PATCH",
                &sc.item("pt"),
                Some("application/strategic-merge-patch+json"),
                br#"{"metadata": {"labels": {"strategic": "yes"}}}"#,
            )
            .expect(200);
        assert_eq!(strategic["metadata"]["labels"]["strategic"], "yes");
        assert_eq!(strategic["metadata"]["annotations"]["a"], "2");
        assert!(rv_of(&strategic) > rv_of(&patched));
        // A patch carrying a stale resourceVersion is a precondition that fails.
        let st = s
            .merge_patch(
                &sc.item("pt"),
                &json!({"metadata": {"resourceVersion": created["metadata"]["resourceVersion"], "labels": {"x": "y"}}}),
            )
            .expect(409);
        assert_eq!(st["reason"], "Conflict");
        // A failing JSON patch test op is 422 and writes nothing.
        let rv = s.current_rv();
        let st = s
            .json_patch(
                &sc.item("pt"),
                &json!([{"op": "test", "path": "/metadata/name", "value": "other"}]),
            )
            .expect(422);
        assert_eq!(st["kind"], "Status");
        assert_eq!(s.current_rv(), rv);
        // Patching a missing object is 404.
        s.merge_patch(
            &sc.item("ghost"),
            &json!({"metadata": {"labels": {"a": "b"}}}),
        )
        .expect(404);
    });
}

#[test]
fn delete_removes_the_object_and_a_second_delete_is_404() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let created = s.create(&sc, "del", &json!({}));
        let r = s.delete(&sc.item("del"));
        assert_eq!(r.code, 200, "{:?}", r.body);
        // Either the deleted object or a Success Status naming it.
        match r.body["kind"].as_str() {
            Some("Status") => {
                assert_eq!(r.body["status"], "Success");
                assert_eq!(r.body["details"]["name"], "del");
                assert_eq!(r.body["details"]["uid"], created["metadata"]["uid"]);
            }
            _ => assert_eq!(r.body["metadata"]["uid"], created["metadata"]["uid"]),
        }
        s.finish_deletion(&sc, "del");
        let st = s.delete(&sc.item("del")).expect(404);
        assert_eq!(st["reason"], "NotFound");
        // The name is free again; the new object is a new object.
        let again = s.create(&sc, "del", &json!({}));
        assert_ne!(again["metadata"]["uid"], created["metadata"]["uid"]);
    });
}

#[test]
fn delete_with_a_stale_resource_version_precondition_is_409_and_keeps_the_object() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let created = s.create(&sc, "pre", &json!({}));
        s.merge_patch(
            &sc.item("pre"),
            &json!({"metadata": {"labels": {"x": "1"}}}),
        )
        .expect(200);
        let st = s
            .delete_with(
                &sc.item("pre"),
                &json!({"preconditions": {"resourceVersion": created["metadata"]["resourceVersion"]}}),
            )
            .expect(409);
        assert_eq!(st["reason"], "Conflict");
        let st = s
            .delete_with(
                &sc.item("pre"),
                &json!({"preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}}),
            )
            .expect(409);
        assert!(st["message"]
            .as_str()
            .unwrap()
            .contains("Precondition failed: UID in precondition"));
        s.get(&sc.item("pre")).expect(200);
    });
}

#[test]
fn watch_from_a_list_resource_version_sees_added_modified_deleted_in_order() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        s.create(&sc, "before", &json!({}));
        let list = s.get(&sc.collection()).expect(200);
        let rv = list["metadata"]["resourceVersion"].as_str().unwrap();
        let mut w = s.watch(&sc.query(&format!("watch=true&resourceVersion={rv}")));
        w.expect_ok();
        s.create(&sc, "w", &json!({}));
        s.merge_patch(&sc.item("w"), &json!({"metadata": {"labels": {"x": "1"}}}))
            .expect(200);
        s.remove(&sc, "w");
        let events = w.until("w", "DELETED");
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types.first(), Some(&"ADDED"), "{types:?}");
        assert_eq!(types[1], "MODIFIED", "{types:?}");
        assert!(
            types[1..types.len() - 1].iter().all(|t| *t == "MODIFIED"),
            "{types:?}"
        );
        assert_eq!(events[1]["object"]["metadata"]["labels"]["x"], "1");
        let rvs: Vec<u64> = events.iter().map(|e| rv_of(&e["object"])).collect();
        assert!(rvs.windows(2).all(|p| p[0] < p[1]), "rvs {rvs:?}");
        assert!(rvs[0] > rv.parse::<u64>().unwrap());
        for e in &events {
            assert_eq!(e["object"]["kind"], kind.kind);
            assert_eq!(e["object"]["apiVersion"], kind.api_version());
        }
    });
}

#[test]
fn watch_with_selectors_sees_only_matching_objects_and_transitions_as_added_and_deleted() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        s.create(&sc, "sel", &json!({}));
        let rv = s.current_rv();
        let mut w = s.watch(&sc.query(&format!(
            "watch=true&resourceVersion={rv}&labelSelector=tier%3Dfront"
        )));
        s.merge_patch(
            &sc.item("sel"),
            &json!({"metadata": {"labels": {"tier": "front"}}}),
        )
        .expect(200);
        s.merge_patch(
            &sc.item("sel"),
            &json!({"metadata": {"labels": {"tier": "back"}}}),
        )
        .expect(200);
        let events = w.until("sel", "DELETED");
        let types: Vec<_> = events.iter().map(|e| ev_summary(e).0).collect();
        assert_eq!(types, ["ADDED", "DELETED"]);
        // A metadata.name field selector watches one object (as `kubectl get -w <name>`).
        s.create(&sc, "sel-other", &json!({}));
        let rv = s.current_rv();
        let mut w = s.watch(&sc.query(&format!(
            "watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3Dsel"
        )));
        s.merge_patch(
            &sc.item("sel-other"),
            &json!({"metadata": {"labels": {"n": "1"}}}),
        )
        .expect(200);
        s.merge_patch(
            &sc.item("sel"),
            &json!({"metadata": {"labels": {"n": "1"}}}),
        )
        .expect(200);
        assert_eq!(
            ev_summary(&w.next_event()),
            ("MODIFIED".to_string(), "sel".to_string())
        );
    });
}

#[test]
fn watch_without_resource_version_starts_with_synthetic_added_events_for_existing_objects() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        s.create(&sc, "old-1", &json!({}));
        s.create(&sc, "old-2", &json!({}));
        let path = sc.query(&format!("watch=true&labelSelector={SAMPLE_LABEL}"));
        for q in [path.clone(), format!("{path}&resourceVersion=0")] {
            let mut w = s.watch(&q);
            let first: BTreeSet<_> = (0..2).map(|_| ev_summary(&w.next_event())).collect();
            let want: BTreeSet<_> = ["old-1", "old-2"]
                .iter()
                .map(|n| ("ADDED".to_string(), n.to_string()))
                .collect();
            assert_eq!(first, want, "{q}");
            // Then live events.
            s.merge_patch(
                &sc.item("old-1"),
                &json!({"metadata": {"labels": {"n": q.len().to_string()}}}),
            )
            .expect(200);
            assert_eq!(
                ev_summary(&w.next_event()),
                ("MODIFIED".to_string(), "old-1".to_string())
            );
        }
    });
}

#[test]
fn watch_list_sends_initial_added_events_then_a_bookmark_marking_their_end() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        s.create(&sc, "init-1", &json!({}));
        s.create(&sc, "init-2", &json!({}));
        let mut w = s.watch(&sc.query(&format!(
            "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector={SAMPLE_LABEL}"
        )));
        w.expect_ok();
        let mut added = BTreeSet::new();
        let bookmark = loop {
            let ev = w.next_event();
            match ev["type"].as_str() {
                Some("ADDED") => {
                    added.insert(ev_summary(&ev).1);
                }
                Some("BOOKMARK") => break ev,
                other => panic!("unexpected {other:?} before the bookmark: {ev}"),
            }
        };
        assert_eq!(
            added,
            BTreeSet::from(["init-1".to_string(), "init-2".to_string()])
        );
        let obj = &bookmark["object"];
        assert_eq!(obj["kind"], kind.kind);
        assert_eq!(obj["apiVersion"], kind.api_version());
        assert_eq!(
            obj["metadata"]["annotations"]["k8s.io/initial-events-end"],
            "true"
        );
        let bookmark_rv = rv_of(obj);
        assert!(
            bookmark_rv
                >= s.get(&sc.item("init-2")).expect(200)["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
        );
        s.create(&sc, "init-3", &json!({}));
        let ev = w.next_event();
        assert_eq!(ev_summary(&ev), ("ADDED".to_string(), "init-3".to_string()));
        assert!(rv_of(&ev["object"]) > bookmark_rv);
    });
}

#[test]
fn watch_from_a_compacted_resource_version_is_410_expired_in_an_error_event() {
    let s = Server::with_retention(8);
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        s.create(&sc, "gone", &json!({}));
        let old = s.current_rv();
        for i in 0..10 {
            s.merge_patch(
                &sc.item("gone"),
                &json!({"metadata": {"labels": {"i": i.to_string()}}}),
            )
            .expect(200);
        }
        let mut w = s.watch(&sc.query(&format!("watch=true&resourceVersion={old}")));
        assert_eq!(
            w.code, 200,
            "kube-apiserver answers 200 and sends the error as an event"
        );
        let ev = w.next_event();
        assert_eq!(ev["type"], "ERROR", "{ev}");
        let st = &ev["object"];
        assert_eq!(st["kind"], "Status");
        assert_eq!(st["code"], 410);
        assert_eq!(st["reason"], "Expired");
        assert!(
            st["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("too old resource version: {old}")),
            "{st}"
        );
        assert!(w.try_next().is_none(), "the stream ends after the error");
    });
}

#[test]
fn continuing_a_list_from_a_compacted_resource_version_is_410_expired() {
    let s = Server::with_retention(8);
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        s.create(&sc, "c-1", &json!({}));
        s.create(&sc, "c-2", &json!({}));
        let page = s.get(&sc.query("limit=1")).expect(200);
        let token = page["metadata"]["continue"].as_str().unwrap().to_string();
        for i in 0..10 {
            s.merge_patch(
                &sc.item("c-1"),
                &json!({"metadata": {"labels": {"i": i.to_string()}}}),
            )
            .expect(200);
        }
        let st = s
            .get(&sc.query(&format!("limit=1&continue={token}")))
            .expect(410);
        assert_eq!(st["reason"], "Expired");
        assert!(st["message"].as_str().unwrap().contains("continue"), "{st}");
        // The metadata.continue field of the Status carries nothing; a fresh list works.
        s.get(&sc.query("limit=1")).expect(200);
    });
}

#[test]
fn put_on_the_main_endpoint_ignores_status_and_put_on_status_ignores_spec_and_labels() {
    let s = Server::start();
    for_each_kind(
        |k| k.has(Subresource::Status),
        |kind| {
            let sc = s.scope(kind);
            let created = s.create(&sc, "st", &json!({}));
            let initial_status = created.get("status").cloned();
            // Main endpoint: a label and a status change; only the label sticks.
            let mut body = created.clone();
            body["status"] = status_sample(kind);
            body["metadata"]["labels"]["main"] = json!("yes");
            let after = s.put(&sc.item("st"), &body).expect(200);
            assert_eq!(after["metadata"]["labels"]["main"], "yes");
            assert_eq!(
                after.get("status").cloned(),
                initial_status,
                "status changed through the main endpoint"
            );
            // Status endpoint: status, spec and label changes; only the status sticks.
            let mut body = after.clone();
            body["status"] = status_sample(kind);
            body["metadata"]["labels"]["main"] = json!("changed");
            let change = spec_change(kind).expect("a spec change for a kind with status");
            let change: json_patch::Patch = serde_json::from_value(change).unwrap();
            json_patch::patch(&mut body, &change).unwrap();
            let updated = s
                .put(&format!("{}/status", sc.item("st")), &body)
                .expect(200);
            for (k, v) in status_sample(kind).as_object().unwrap() {
                assert_eq!(&updated["status"][k], v, "status.{k}");
            }
            assert_eq!(
                updated["spec"], after["spec"],
                "spec changed through /status"
            );
            assert_eq!(updated["metadata"]["labels"]["main"], "yes");
            assert!(rv_of(&updated) > rv_of(&after));
            // GET of /status returns the whole object.
            let got = s.get(&format!("{}/status", sc.item("st"))).expect(200);
            assert_eq!(got, updated);
            // A merge patch on /status works the same way.
            let patched = s
                .merge_patch(
                    &format!("{}/status", sc.item("st")),
                    &json!({"metadata": {"labels": {"main": "patched"}}, "status": status_sample(kind)}),
                )
                .expect(200);
            assert_eq!(patched["metadata"]["labels"]["main"], "yes");
        },
    );
}

#[test]
fn status_endpoint_is_404_for_kinds_without_a_status_subresource() {
    let s = Server::start();
    for_each_kind(
        |k| !k.has(Subresource::Status),
        |kind| {
            let sc = s.scope(kind);
            s.create(&sc, "nostatus", &json!({}));
            s.get(&format!("{}/status", sc.item("nostatus")))
                .expect(404);
        },
    );
}

#[test]
fn generation_starts_at_one_and_follows_the_kinds_rule_for_spec_and_annotation_changes() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let gen = |o: &Value| o["metadata"].get("generation").and_then(Value::as_i64);
        let created = s.create(&sc, "gen", &json!({}));
        if kind.generation == Generation::None {
            assert_eq!(gen(&created), None, "{created}");
        } else {
            assert_eq!(gen(&created), Some(1));
        }
        // Labels never bump generation.
        let o = s
            .merge_patch(
                &sc.item("gen"),
                &json!({"metadata": {"labels": {"l": "1"}}}),
            )
            .expect(200);
        assert_eq!(gen(&o), gen(&created));
        // Annotations bump it only for SpecOrAnnotations kinds (Deployment).
        let o = s
            .merge_patch(
                &sc.item("gen"),
                &json!({"metadata": {"annotations": {"a": "1"}}}),
            )
            .expect(200);
        let want = match kind.generation {
            Generation::None => None,
            Generation::Spec => Some(1),
            Generation::SpecOrAnnotations => Some(2),
        };
        assert_eq!(gen(&o), want, "after an annotation change");
        if kind.generation == Generation::None {
            return;
        }
        let change = spec_change(kind).expect("a spec change for a kind with generation");
        let o = s.json_patch(&sc.item("gen"), &change).expect(200);
        assert_eq!(gen(&o), want.map(|g| g + 1), "after a spec change");
    });
    // The upstream rules for two well-known kinds, observed above.
    let deploy = apiserver::kinds::all()
        .into_iter()
        .find(|k| k.group == "apps" && k.plural == "deployments")
        .unwrap();
    let cm = apiserver::kinds::all()
        .into_iter()
        .find(|k| k.group.is_empty() && k.plural == "configmaps")
        .unwrap();
    let d = s.get(&s.scope(deploy).item("gen")).expect(200);
    assert_eq!(d["metadata"]["generation"], 3);
    let c = s.get(&s.scope(cm).item("gen")).expect(200);
    assert!(c["metadata"].get("generation").is_none());
}

#[test]
fn finalizers_keep_a_deleted_object_with_a_deletion_timestamp_until_they_are_removed() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        s.create(
            &sc,
            "fin",
            &json!({"metadata": {"finalizers": ["example.com/hold"]}}),
        );
        let r = s.delete(&sc.item("fin"));
        assert!(r.code == 200 || r.code == 202, "{r:?}");
        let held = s.get(&sc.item("fin")).expect(200);
        assert!(
            held["metadata"]["deletionTimestamp"].as_str().is_some(),
            "{held}"
        );
        assert_eq!(held["metadata"]["finalizers"][0], "example.com/hold");
        // Other updates still work while it waits.
        s.merge_patch(
            &sc.item("fin"),
            &json!({"metadata": {"labels": {"w": "1"}}}),
        )
        .expect(200);
        assert_eq!(
            s.get(&sc.item("fin")).expect(200)["metadata"]["deletionTimestamp"],
            held["metadata"]["deletionTimestamp"]
        );
        // Removing the last finalizer completes the deletion.
        s.finish_deletion(&sc, "fin");
    });
}

#[test]
fn dry_run_all_answers_like_the_real_request_but_writes_nothing() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let rv = s.current_rv();
        let r = s
            .post(
                &format!("{}?dryRun=All", sc.collection()),
                &sample(kind, "dry"),
            )
            .expect(201);
        assert_eq!(r["metadata"]["name"], "dry");
        assert!(r["metadata"]["uid"].as_str().is_some());
        s.get(&sc.item("dry")).expect(404);
        assert_eq!(s.current_rv(), rv);

        let created = s.create(&sc, "dry", &json!({}));
        let rv = s.current_rv();
        let mut body = created.clone();
        body["metadata"]["labels"]["d"] = json!("1");
        let r = s
            .put(&format!("{}?dryRun=All", sc.item("dry")), &body)
            .expect(200);
        assert_eq!(r["metadata"]["labels"]["d"], "1");
        let r = s
            .request(
                "PATCH",
                &format!("{}?dryRun=All", sc.item("dry")),
                Some("application/merge-patch+json"),
                br#"{"metadata":{"labels":{"d":"2"}}}"#,
            )
            .expect(200);
        assert_eq!(r["metadata"]["labels"]["d"], "2");
        let r = s.delete(&format!("{}?dryRun=All", sc.item("dry")));
        assert_eq!(r.code, 200, "{:?}", r.body);
        assert_eq!(s.current_rv(), rv, "a dry run wrote");
        assert_eq!(s.get(&sc.item("dry")).expect(200), created);
    });
}

#[test]
fn propagation_policy_orphan_and_foreground_add_their_garbage_collector_finalizers() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        s.create(&sc, "orphan", &json!({}));
        s.create(&sc, "fg", &json!({}));
        s.delete(&format!("{}?propagationPolicy=Orphan", sc.item("orphan")));
        let o = s.get(&sc.item("orphan")).expect(200);
        assert_eq!(o["metadata"]["finalizers"], json!(["orphan"]));
        assert!(o["metadata"]["deletionTimestamp"].as_str().is_some());
        let r = s.delete_with(&sc.item("fg"), &json!({"propagationPolicy": "Foreground"}));
        assert!(r.code == 200 || r.code == 202, "{r:?}");
        let f = s.get(&sc.item("fg")).expect(200);
        assert_eq!(f["metadata"]["finalizers"], json!(["foregroundDeletion"]));
        // Background deletes at once (unless something else holds the object).
        s.create(&sc, "bg", &json!({}));
        s.delete(&format!("{}?propagationPolicy=Background", sc.item("bg")));
        s.finish_deletion(&sc, "bg");
        // An unknown policy is refused.
        s.create(&sc, "bad", &json!({}));
        let st = s
            .delete(&format!("{}?propagationPolicy=Sideways", sc.item("bad")))
            .expect(422);
        assert_eq!(st["reason"], "Invalid");
        s.get(&sc.item("bad")).expect(200);
    });
}

#[test]
fn generate_name_appends_five_characters_from_the_upstream_alphabet() {
    const ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let mut seen = BTreeSet::new();
        for _ in 0..3 {
            let mut obj = sample(kind, "");
            let meta = obj["metadata"].as_object_mut().unwrap();
            meta.remove("name");
            meta.insert("generateName".into(), json!("gen-"));
            let created = s.post(&sc.collection(), &obj).expect(201);
            let name = created["metadata"]["name"].as_str().unwrap().to_string();
            assert_eq!(created["metadata"]["generateName"], "gen-");
            let suffix = name
                .strip_prefix("gen-")
                .unwrap_or_else(|| panic!("{name}"));
            assert_eq!(suffix.len(), 5, "{name}");
            assert!(suffix.chars().all(|c| ALPHABET.contains(c)), "{name}");
            s.get(&sc.item(&name)).expect(200);
            seen.insert(name);
        }
        assert_eq!(seen.len(), 3);
    });
}

#[test]
fn creating_in_a_missing_namespace_is_404_and_in_a_terminating_one_is_403() {
    let s = Server::start();
    s.create_namespace("closing");
    s.post(
        "/api/v1/namespaces/closing/configmaps",
        &json!({"metadata": {"name": "keep"}}),
    )
    .expect(201);
    s.delete("/api/v1/namespaces/closing").expect(200);
    let ns = s.get("/api/v1/namespaces/closing").expect(200);
    assert_eq!(ns["status"]["phase"], "Terminating");
    for_each_kind(namespaced, |kind| {
        let sc = s.scope(kind).in_namespace("missing");
        let rv = s.current_rv();
        let st = s.post(&sc.collection(), &sample(kind, "x")).expect(404);
        assert_eq!(st["reason"], "NotFound");
        assert_eq!(st["message"], "namespaces \"missing\" not found");
        let sc = sc.in_namespace("closing");
        let st = s.post(&sc.collection(), &sample(kind, "x")).expect(403);
        assert_eq!(st["reason"], "Forbidden");
        assert_eq!(
            st["message"],
            format!(
                "{} \"x\" is forbidden: unable to create new content in namespace closing because it is being terminated",
                qualified(kind)
            )
        );
        assert_eq!(s.current_rv(), rv);
    });
    // Objects already in the terminating namespace can still be updated and deleted.
    s.merge_patch(
        "/api/v1/namespaces/closing/configmaps/keep",
        &json!({"data": {"a": "b"}}),
    )
    .expect(200);
    s.delete("/api/v1/namespaces/closing/configmaps/keep")
        .expect(200);
}

#[test]
fn the_system_namespaces_may_not_be_deleted_but_kube_node_lease_may() {
    let s = Server::start();
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        if s.get(&format!("/api/v1/namespaces/{ns}")).code == 404 {
            s.create_namespace(ns);
        }
    }
    for ns in ["default", "kube-system", "kube-public"] {
        let rv = s.current_rv();
        let st = s.delete(&format!("/api/v1/namespaces/{ns}")).expect(403);
        assert_eq!(st["reason"], "Forbidden");
        assert_eq!(
            st["message"],
            format!("namespaces \"{ns}\" is forbidden: this namespace may not be deleted")
        );
        assert_eq!(st["details"]["name"], ns);
        assert_eq!(s.current_rv(), rv, "{ns} was written");
        let live = s.get(&format!("/api/v1/namespaces/{ns}")).expect(200);
        assert_eq!(live["status"]["phase"], "Active");
    }
    s.delete("/api/v1/namespaces/kube-node-lease").expect(200);
}

#[test]
fn cluster_scoped_kinds_live_at_cluster_paths_and_namespaced_kinds_list_across_namespaces() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        if kind.namespaced {
            // (Unique per kind: the two Event views share one store.)
            let name = format!("across-{}", common::namespace_for(kind));
            s.create(&sc, &name, &json!({}));
            let all = s
                .get(&format!(
                    "{}?labelSelector=name%3D{name}",
                    common::collection_path(kind, None)
                ))
                .expect(200);
            assert_eq!(names(&all), [name]);
            assert_eq!(all["items"][0]["metadata"]["namespace"], json!(sc.ns));
        } else {
            // A namespace in the body of a cluster-scoped object is dropped.
            let mut obj = sample(kind, "cluster-obj");
            obj["metadata"]["namespace"] = json!("default");
            let created = s.post(&sc.collection(), &obj).expect(201);
            assert!(created["metadata"].get("namespace").is_none());
            s.get(&sc.item("cluster-obj")).expect(200);
            // There is no namespaced path for it.
            let nsd = common::collection_path(kind, Some("default"));
            s.get(&format!("{nsd}/cluster-obj")).expect(404);
            s.post(&nsd, &sample(kind, "other")).expect(404);
        }
    });
    // The four namespaces every cluster has are there, and the cluster-scoped kinds the
    // issue names are served at cluster paths.
    let ns = s.list_names("/api/v1/namespaces");
    for n in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(ns.contains(&n.to_string()), "{ns:?}");
    }
    for path in [
        "/api/v1/namespaces",
        "/api/v1/nodes",
        "/api/v1/persistentvolumes",
        "/apis/storage.k8s.io/v1/storageclasses",
    ] {
        s.get(path).expect(200);
    }
}

#[test]
fn scale_subresource_reads_and_writes_spec_replicas_with_a_string_status_selector() {
    let s = Server::start();
    for_each_kind(
        |k| k.has(Subresource::Scale),
        |kind| {
            let sc = s.scope(kind);
            let created = s.create(&sc, "sc", &json!({}));
            let path = format!("{}/scale", sc.item("sc"));
            let scale = s.get(&path).expect(200);
            assert_eq!(scale["kind"], "Scale");
            assert_eq!(scale["apiVersion"], "autoscaling/v1");
            assert_eq!(scale["metadata"]["name"], "sc");
            assert_eq!(scale["metadata"]["uid"], created["metadata"]["uid"]);
            assert_eq!(scale["spec"]["replicas"], created["spec"]["replicas"]);
            assert_eq!(scale["status"]["selector"], "app=sample");
            assert_eq!(
                scale["metadata"]["resourceVersion"],
                created["metadata"]["resourceVersion"]
            );

            let mut put = scale.clone();
            put["spec"]["replicas"] = json!(3);
            let r = s.put(&path, &put).expect(200);
            assert_eq!(r["spec"]["replicas"], 3);
            let obj = s.get(&sc.item("sc")).expect(200);
            assert_eq!(obj["spec"]["replicas"], 3);
            assert_eq!(
                r["metadata"]["resourceVersion"],
                obj["metadata"]["resourceVersion"]
            );
            assert_eq!(obj["metadata"]["generation"], 2);
            // A Scale with a stale resourceVersion conflicts.
            s.put(&path, &put).expect(409);

            let r = s
                .merge_patch(&path, &json!({"spec": {"replicas": 5}}))
                .expect(200);
            assert_eq!(r["spec"]["replicas"], 5);
            let r = s
                .json_patch(
                    &path,
                    &json!([{"op": "replace", "path": "/spec/replicas", "value": 0}]),
                )
                .expect(200);
            assert_eq!(r["spec"]["replicas"], 0);
            assert_eq!(s.get(&sc.item("sc")).expect(200)["spec"]["replicas"], 0);
            let st = s
                .merge_patch(&path, &json!({"spec": {"replicas": -1}}))
                .expect(422);
            assert_eq!(st["reason"], "Invalid");
            s.get(&format!("{}/scale", sc.item("ghost"))).expect(404);
        },
    );
    // Kinds without scale have no such subresource.
    for_each_kind(
        |k| !k.has(Subresource::Scale),
        |kind| {
            let sc = s.scope(kind);
            s.create(&sc, "noscale", &json!({}));
            s.get(&format!("{}/scale", sc.item("noscale"))).expect(404);
        },
    );
}

#[test]
fn pod_binding_sets_the_node_name_once_and_a_second_bind_is_409() {
    let s = Server::start();
    for_each_kind(
        |k| k.has(Subresource::Binding),
        |kind| {
            let sc = s.scope(kind);
            s.create(&sc, "bind-me", &json!({}));
            let path = format!("{}/binding", sc.item("bind-me"));
            let binding = |node: &str| {
                json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bind-me"},
                       "target": {"apiVersion": "v1", "kind": "Node", "name": node}})
            };
            let st = s.post(&path, &binding("node-1")).expect(201);
            assert_eq!(st["status"], "Success");
            let pod = s.get(&sc.item("bind-me")).expect(200);
            assert_eq!(pod["spec"]["nodeName"], "node-1");
            let conds = pod["status"]["conditions"].as_array().unwrap();
            assert!(conds
                .iter()
                .any(|c| c["type"] == "PodScheduled" && c["status"] == "True"));
            let st = s.post(&path, &binding("node-2")).expect(409);
            assert_eq!(st["reason"], "Conflict");
            assert_eq!(
                s.get(&sc.item("bind-me")).expect(200)["spec"]["nodeName"],
                "node-1"
            );
            s.post(&format!("{}/binding", sc.item("ghost")), &binding("node-1"))
                .expect(404);
        },
    );
}

#[test]
fn events_k8s_io_and_core_events_are_two_views_of_one_store() {
    let s = Server::start();
    let find = |group: &str| {
        apiserver::kinds::all()
            .into_iter()
            .find(|k| k.group == group && k.plural == "events")
            .unwrap()
    };
    let (core, v1) = (find(""), find("events.k8s.io"));
    s.create_namespace("ev");
    let core_sc = s.scope(core).in_namespace("ev");
    let v1_sc = s.scope(v1).in_namespace("ev");
    let a = s.create(&core_sc, "from-core", &json!({}));
    let b = s.create(&v1_sc, "from-v1", &json!({}));
    // Each is readable through the other view, converted.
    let a1 = s.get(&v1_sc.item("from-core")).expect(200);
    assert_eq!(a1["apiVersion"], "events.k8s.io/v1");
    assert_eq!(a1["note"], a["message"]);
    assert_eq!(a1["regarding"], a["involvedObject"]);
    assert_eq!(a1["metadata"]["uid"], a["metadata"]["uid"]);
    assert_eq!(
        a1["metadata"]["resourceVersion"],
        a["metadata"]["resourceVersion"]
    );
    let b0 = s.get(&core_sc.item("from-v1")).expect(200);
    assert_eq!(b0["apiVersion"], "v1");
    assert_eq!(b0["message"], b["note"]);
    assert_eq!(b0["involvedObject"], b["regarding"]);
    assert_eq!(b0["metadata"]["uid"], b["metadata"]["uid"]);
    // Both lists hold both.
    assert_eq!(
        s.list_names(&core_sc.collection()),
        ["from-core", "from-v1"]
    );
    assert_eq!(s.list_names(&v1_sc.collection()), ["from-core", "from-v1"]);
    // A name taken in one view is taken in the other.
    let st = s
        .post(&v1_sc.collection(), &sample(v1, "from-core"))
        .expect(409);
    assert_eq!(st["reason"], "AlreadyExists");
    // A watch on one view sees writes made through the other, in its own shape.
    let rv = s.current_rv();
    let mut w = s.watch(&v1_sc.query(&format!("watch=true&resourceVersion={rv}")));
    s.merge_patch(&core_sc.item("from-core"), &json!({"message": "changed"}))
        .expect(200);
    let ev = w.next_event();
    assert_eq!(ev["type"], "MODIFIED");
    assert_eq!(ev["object"]["note"], "changed");
    assert_eq!(ev["object"]["apiVersion"], "events.k8s.io/v1");
    // Deleting through one view removes it from both.
    s.delete(&v1_sc.item("from-core")).expect(200);
    s.get(&core_sc.item("from-core")).expect(404);
    assert_eq!(s.list_names(&core_sc.collection()), ["from-v1"]);
    let ev = w.next_event();
    assert_eq!(ev["type"], "DELETED");
    assert_eq!(ev["object"]["apiVersion"], "events.k8s.io/v1");
}

#[test]
fn every_served_kind_has_a_sample_and_appears_in_discovery() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let _ = sample(kind, "x");
        let root = common::collection_path(kind, None);
        let gv = root.rsplit_once('/').unwrap().0.to_string();
        let doc = s.get(&gv).expect(200);
        let found = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == kind.plural && r["kind"] == kind.kind);
        assert!(found, "{} missing from {gv}", kind.plural);
    });
}

#[test]
fn server_side_apply_creates_every_kind_with_an_apply_entry_and_reapplying_changes_nothing() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let obj = sample(kind, "applied");
        let created = s.apply(&sc.item("applied"), "tester", "", &obj).expect(201);
        let entry = managed_entry(&created, "tester", "Apply")
            .unwrap_or_else(|| panic!("{}: no Apply entry in {created}", label(kind)));
        assert_eq!(entry["apiVersion"], kind.api_version(), "{}", label(kind));
        assert_eq!(entry["fieldsType"], "FieldsV1");
        assert_eq!(
            entry["fieldsV1"]["f:metadata"]["f:labels"]["f:sample"],
            json!({}),
            "{}",
            label(kind)
        );
        let again = s.apply(&sc.item("applied"), "tester", "", &obj).expect(200);
        assert_eq!(
            again["metadata"]["resourceVersion"],
            created["metadata"]["resourceVersion"],
            "{}: a second identical apply wrote",
            label(kind)
        );
        s.remove(&sc, "applied");
    });
}

#[test]
fn every_write_records_the_managers_update_entry_named_by_field_manager_or_user_agent() {
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let created = s.create(&sc, "tracked", &json!({}));
        // The test client's User-Agent is `ureq/<version>`.
        let entry = managed_entry(&created, "ureq", "Update")
            .unwrap_or_else(|| panic!("{}: no Update entry in {created}", label(kind)));
        assert!(entry["time"].is_string(), "{}", label(kind));
        assert!(entry.get("subresource").is_none());
        let fields = &entry["fieldsV1"]["f:metadata"];
        assert_eq!(fields["f:labels"]["f:sample"], json!({}), "{}", label(kind));
        assert!(
            fields.get("f:name").is_none(),
            "{}: owns its name",
            label(kind)
        );
        let path = format!("{}?fieldManager=labeller", sc.item("tracked"));
        let patched = s
            .merge_patch(&path, &json!({"metadata": {"labels": {"sample": "again"}}}))
            .expect(200);
        let labeller = managed_entry(&patched, "labeller", "Update").expect("labeller entry");
        assert_eq!(
            labeller["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:sample": {}}}}),
            "{}",
            label(kind)
        );
        let creator = managed_entry(&patched, "ureq", "Update").expect("creator entry");
        assert!(
            creator["fieldsV1"]["f:metadata"]["f:labels"]
                .get("f:sample")
                .is_none(),
            "{}: the changed label still belongs to its creator",
            label(kind)
        );
        s.remove(&sc, "tracked");
    });
}

#[test]
fn a_table_row_carries_the_objects_metadata_the_whole_object_or_nothing_as_include_object_asks() {
    const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        s.create(&sc, "obj-t", &json!({}));
        let obj = s.get(&sc.item("obj-t")).expect(200);
        assert!(obj["metadata"]["managedFields"].is_array(), "{obj}");
        let q = "fieldSelector=metadata.name%3Dobj-t";
        let table = |include: &str| {
            let t = s
                .get_as(&sc.query(&format!("{q}{include}")), TABLE)
                .expect(200);
            assert_eq!(t["kind"], "Table", "{t}");
            assert_eq!(t["rows"].as_array().map(Vec::len), Some(1), "{t}");
            t["rows"][0].clone()
        };
        let metadata = table("");
        assert_eq!(
            metadata["object"],
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]})
        );
        let whole = table("&includeObject=Object");
        assert_eq!(whole["object"], obj);
        let none = table("&includeObject=None");
        assert!(none.get("object").is_none(), "{none}");
        // The cells do not depend on what the row carries.
        assert_eq!(metadata["cells"], whole["cells"]);
        assert_eq!(metadata["cells"], none["cells"]);
        assert!(metadata["cells"].as_array().is_some_and(|c| !c.is_empty()));
        // One object's Table is the same row.
        let single = s.get_as(&sc.item("obj-t"), TABLE).expect(200);
        assert_eq!(single["rows"][0], metadata);
    });
}

#[test]
fn metadata_reads_get_list_and_watch_answer_partial_object_metadata_with_the_stored_metadata() {
    const META: &str =
        "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
    let s = Server::start();
    for_each_kind(all_kinds, |kind| {
        let sc = s.scope(kind);
        let rv = s.current_rv();
        s.create(&sc, "obj-m", &json!({}));
        let obj = s.get(&sc.item("obj-m")).expect(200);
        let partial = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]});
        assert_eq!(s.get_as(&sc.item("obj-m"), META).expect(200), partial);
        let list = s
            .get_as(&sc.query("fieldSelector=metadata.name%3Dobj-m"), META)
            .expect(200);
        assert_eq!(list["kind"], "PartialObjectMetadataList", "{list}");
        assert_eq!(list["apiVersion"], "meta.k8s.io/v1", "{list}");
        assert!(list["metadata"]["resourceVersion"].is_string(), "{list}");
        assert_eq!(list["items"], json!([partial]));
        let mut w = s.watch_as(
            &sc.query(&format!(
                "watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3Dobj-m"
            )),
            META,
        );
        w.expect_ok();
        let ev = w.next_event();
        assert_eq!(ev["type"], "ADDED", "{ev}");
        assert_eq!(ev["object"], partial);
    });
}
