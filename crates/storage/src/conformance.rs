//! The conformance suite: the `Storage` contract written once as generic test functions over a
//! store factory, instantiated for every backend by `conformance!` (sled twice: with its default
//! in-memory window, and with every older retained event read back from disk), plus sled-only
//! tests (restart, group commit, durable-only watch delivery).

use crate::{
    guaranteed_update, object_key, Event, EventType, ListRequest, MemoryStorage, Options, ReadAt,
    SledStorage, Storage, StorageError, Stored, WatchStream,
};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;

/// A store under test plus what the generic tests need that the trait does not expose.
pub(crate) struct Fixture {
    store: Arc<dyn Storage>,
    watchers: Box<dyn Fn() -> usize + Send + Sync>,
    _dir: Option<TempDir>,
}

type Factory = fn(Options) -> Fixture;

fn memory(opts: Options) -> Fixture {
    let s = Arc::new(MemoryStorage::with_options(opts));
    let w = Arc::clone(&s);
    Fixture {
        store: s,
        watchers: Box::new(move || w.watcher_count()),
        _dir: None,
    }
}

fn sled(opts: Options) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(SledStorage::open_with(dir.path(), opts).unwrap());
    let w = Arc::clone(&s);
    Fixture {
        store: s,
        watchers: Box::new(move || w.watcher_count()),
        _dir: Some(dir),
    }
}

/// sled keeping only the newest event in memory: every older retained event a watch or list
/// needs is read back from its on-disk log.
fn sled_spilling(opts: Options) -> Fixture {
    sled(Options {
        window_bytes: 1,
        ..opts
    })
}

fn small(retention: usize, watch_buffer: usize) -> Options {
    Options {
        retention,
        watch_buffer,
        ..Options::default()
    }
}

fn key(ns: &str, name: &str) -> String {
    object_key("", "pods", ns, name)
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "uid": format!("uid-{name}")}, "spec": {"n": 0}})
}

fn pod_n(name: &str, n: u64) -> Value {
    let mut p = pod(name);
    p["spec"]["n"] = json!(n);
    p
}

fn rv_of(s: &Stored) -> String {
    s.value()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned()
}

const WAIT: Duration = Duration::from_secs(10);

async fn next(w: &mut WatchStream) -> Arc<Event> {
    match tokio::time::timeout(WAIT, w.rx.recv()).await {
        Ok(Some(Ok(ev))) => ev,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Nothing more is queued right now (every expected event was already awaited).
fn assert_empty(w: &mut WatchStream) {
    match w.rx.try_recv() {
        Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {}
        other => panic!("expected no event, got {other:?}"),
    }
}

async fn durable(s: &dyn Storage, rv: u64) {
    tokio::time::timeout(WAIT, s.durable(rv))
        .await
        .expect("durable timed out")
        .unwrap();
}

fn list_all(s: &dyn Storage, prefix: &str, at: ReadAt) -> crate::Result<Vec<(String, Stored)>> {
    Ok(s.list(&ListRequest {
        at,
        ..ListRequest::new(prefix)
    })?
    .items)
}

fn names(items: &[(String, Stored)]) -> Vec<String> {
    items
        .iter()
        .map(|(k, _)| k.rsplit('/').next().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------- create / get

async fn create_then_get_returns_same_bytes_with_rv(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let created = s.create(&key("ns", "a"), pod("a")).unwrap();
    assert_eq!(created.rv, s.current_rv());
    assert_eq!(rv_of(&created), created.rv.to_string());
    assert_eq!(created.value()["metadata"]["uid"], "uid-a");
    assert_eq!(s.get(&key("ns", "a")).unwrap(), created);
    // `metadata` is created when absent.
    let bare = s.create(&key("ns", "b"), json!({"kind": "Pod"})).unwrap();
    assert_eq!(rv_of(&bare), bare.rv.to_string());
    assert_eq!(s.get(&key("ns", "b")).unwrap().bytes, bare.bytes);
}

async fn create_existing_key_is_already_exists(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let first = s.create(&key("ns", "a"), pod("a")).unwrap();
    let err = s.create(&key("ns", "a"), pod_n("a", 1)).unwrap_err();
    assert_eq!(err, StorageError::AlreadyExists(key("ns", "a")));
    assert_eq!(s.get(&key("ns", "a")).unwrap(), first);
    assert_eq!(s.current_rv(), first.rv, "a failed write allocates no rv");
}

async fn missing_key_is_not_found_for_get_update_delete(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let k = key("ns", "nope");
    assert_eq!(s.get(&k).unwrap_err(), StorageError::NotFound(k.clone()));
    assert_eq!(
        s.update(&k, None, pod("nope")).unwrap_err(),
        StorageError::NotFound(k.clone())
    );
    assert_eq!(
        s.delete(&k, None).unwrap_err(),
        StorageError::NotFound(k.clone())
    );
}

async fn non_object_json_is_invalid_object(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let before = s.current_rv();
    for bad in [json!([1, 2]), json!("pod"), json!({"metadata": "x"})] {
        let err = s.create(&key("ns", "a"), bad).unwrap_err();
        assert!(matches!(err, StorageError::InvalidObject(_)), "{err:?}");
    }
    s.create(&key("ns", "a"), pod("a")).unwrap();
    let err = s.update(&key("ns", "a"), None, json!(3)).unwrap_err();
    assert!(matches!(err, StorageError::InvalidObject(_)), "{err:?}");
    assert_eq!(s.current_rv(), before + 1);
}

// ---------------------------------------------------------------- update / delete

async fn update_with_stale_rv_is_conflict(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let k = key("ns", "a");
    let v1 = s.create(&k, pod("a")).unwrap();
    let v2 = s.update(&k, Some(v1.rv), pod_n("a", 1)).unwrap();
    assert!(v2.rv > v1.rv);
    assert_eq!(rv_of(&v2), v2.rv.to_string());
    let err = s.update(&k, Some(v1.rv), pod_n("a", 2)).unwrap_err();
    assert_eq!(
        err,
        StorageError::Conflict {
            key: k.clone(),
            expected: v1.rv,
            actual: v2.rv
        }
    );
    assert_eq!(s.get(&k).unwrap(), v2);
    // Without a precondition the update always applies.
    let v3 = s.update(&k, None, pod_n("a", 3)).unwrap();
    assert_eq!(s.get(&k).unwrap().value()["spec"]["n"], 3);
    assert!(v3.rv > v2.rv);
}

async fn delete_with_stale_rv_is_conflict(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let k = key("ns", "a");
    let v1 = s.create(&k, pod("a")).unwrap();
    let v2 = s.update(&k, None, pod_n("a", 1)).unwrap();
    let err = s.delete(&k, Some(v1.rv)).unwrap_err();
    assert_eq!(
        err,
        StorageError::Conflict {
            key: k.clone(),
            expected: v1.rv,
            actual: v2.rv
        }
    );
    s.delete(&k, Some(v2.rv)).unwrap();
    assert!(matches!(s.get(&k), Err(StorageError::NotFound(_))));
}

async fn guaranteed_update_retries_on_conflict(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let k = key("ns", "a");
    s.create(&k, pod("a")).unwrap();
    let mut calls = 0;
    let out = guaranteed_update::<StorageError>(s, &k, |cur| {
        calls += 1;
        if calls == 1 {
            // Someone else writes between our read and our update.
            s.update(&k, None, pod_n("a", 100)).unwrap();
        }
        let mut v = cur.value();
        v["spec"]["n"] = json!(v["spec"]["n"].as_u64().unwrap() + 1);
        Ok(Some(v))
    })
    .unwrap();
    assert_eq!(calls, 2);
    assert_eq!(out.value()["spec"]["n"], 101);
    assert_eq!(s.get(&k).unwrap(), out);
}

async fn guaranteed_update_returning_none_leaves_object_unchanged(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let k = key("ns", "a");
    let v1 = s.create(&k, pod("a")).unwrap();
    let out = guaranteed_update::<StorageError>(s, &k, |_| Ok(None)).unwrap();
    assert_eq!(out, v1);
    assert_eq!(s.current_rv(), v1.rv);
    let missing = guaranteed_update::<StorageError>(s, &key("ns", "b"), |_| Ok(None));
    assert!(matches!(missing, Err(StorageError::NotFound(_))));
}

async fn delete_returns_last_state_with_new_rv(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let k = key("ns", "a");
    let v1 = s.update(&k, None, pod("a")).map(|_| ()).unwrap_err();
    assert!(matches!(v1, StorageError::NotFound(_)));
    let v1 = s.create(&k, pod_n("a", 7)).unwrap();
    let gone = s.delete(&k, None).unwrap();
    assert!(gone.rv > v1.rv);
    assert_eq!(gone.rv, s.current_rv());
    assert_eq!(rv_of(&gone), gone.rv.to_string());
    assert_eq!(gone.value()["spec"]["n"], 7);
    assert_eq!(gone.value()["metadata"]["uid"], "uid-a");
    assert!(matches!(s.get(&k), Err(StorageError::NotFound(_))));
    // The key can be created again.
    assert!(s.create(&k, pod("a")).unwrap().rv > gone.rv);
}

async fn rv_strictly_increases(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let start = s.current_rv();
    assert!(start >= 1);
    let mut last = start;
    for i in 0..20u64 {
        let k = key("ns", &format!("p{}", i % 4));
        let st = match i % 3 {
            0 => s
                .create(&k, pod_n("p", i))
                .or_else(|_| s.update(&k, None, pod_n("p", i))),
            1 => s
                .update(&k, None, pod_n("p", i))
                .or_else(|_| s.create(&k, pod_n("p", i))),
            _ => s.delete(&k, None).or_else(|_| s.create(&k, pod_n("p", i))),
        }
        .unwrap();
        assert!(st.rv > last, "rv {} after {}", st.rv, last);
        assert_eq!(st.rv, s.current_rv());
        last = st.rv;
    }
}

async fn durable_resolves_for_written_rv(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    durable(s, 0).await;
    durable(s, s.current_rv()).await;
    let mut last = 0;
    for i in 0..5 {
        last = s.create(&key("ns", &format!("p{i}")), pod("p")).unwrap().rv;
    }
    durable(s, last).await;
}

// ---------------------------------------------------------------- list

async fn list_returns_only_prefix_in_key_order(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    for (ns, n) in [("ns1", "b"), ("ns10", "c"), ("ns1", "a"), ("ns2", "d")] {
        s.create(&key(ns, n), pod(n)).unwrap();
    }
    s.create(&object_key("apps", "deployments", "ns1", "x"), pod("x"))
        .unwrap();
    let ns1 = list_all(s, "/core/pods/ns1/", ReadAt::Latest).unwrap();
    assert_eq!(names(&ns1), ["a", "b"]);
    for (k, st) in &ns1 {
        assert_eq!(&s.get(k).unwrap(), st);
    }
    let all = list_all(s, "/core/pods/", ReadAt::Latest).unwrap();
    assert_eq!(names(&all), ["a", "b", "c", "d"]);
    assert!(list_all(s, "/core/services/", ReadAt::Latest)
        .unwrap()
        .is_empty());
}

async fn list_latest_reports_current_rv(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let empty = s.list(&ListRequest::new("/core/pods/")).unwrap();
    assert_eq!(empty.rv, s.current_rv());
    assert!(empty.items.is_empty() && empty.more_after.is_none() && empty.remaining.is_none());
    s.create(&key("ns", "a"), pod("a")).unwrap();
    s.create(&object_key("", "services", "ns", "b"), pod("b"))
        .unwrap();
    let r = s.list(&ListRequest::new("/core/pods/")).unwrap();
    assert_eq!(r.rv, s.current_rv());
    assert_eq!(r.items.len(), 1);
}

async fn list_pages_by_limit_and_start_after(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    for n in ["e", "a", "d", "b", "c"] {
        s.create(&key("ns", n), pod(n)).unwrap();
    }
    let p = "/core/pods/ns/";
    let page = |after: Option<&str>, limit| {
        s.list(&ListRequest {
            start_after: after,
            limit,
            ..ListRequest::new(p)
        })
    };
    let p1 = page(None, 2).unwrap();
    assert_eq!(names(&p1.items), ["a", "b"]);
    assert_eq!(p1.more_after.as_deref(), Some(key("ns", "b").as_str()));
    assert_eq!(p1.remaining, Some(3));
    let p2 = page(p1.more_after.as_deref(), 2).unwrap();
    assert_eq!(names(&p2.items), ["c", "d"]);
    assert_eq!(p2.remaining, Some(1));
    let p3 = page(p2.more_after.as_deref(), 2).unwrap();
    assert_eq!(names(&p3.items), ["e"]);
    assert_eq!((p3.more_after, p3.remaining), (None, None));
    // A limit equal to the count is not cut; 0 is unlimited.
    let exact = page(None, 5).unwrap();
    assert_eq!((exact.items.len(), exact.more_after), (5, None));
    assert_eq!(page(None, 0).unwrap().items.len(), 5);
    // start_after need not be an existing key.
    assert_eq!(
        names(&page(Some(&key("ns", "bb")), 0).unwrap().items),
        ["c", "d", "e"]
    );
}

async fn list_filter_counts_only_matches(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    for (i, n) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
        s.create(&key("ns", n), pod_n(n, i as u64 % 2)).unwrap();
    }
    let odd = |st: &Stored| st.value()["spec"]["n"] == 1;
    let r = s
        .list(&ListRequest {
            filter: Some(&odd),
            limit: 2,
            ..ListRequest::new("/core/pods/")
        })
        .unwrap();
    assert_eq!(names(&r.items), ["b", "d"]);
    assert_eq!(r.remaining, Some(1));
    assert_eq!(r.more_after.as_deref(), Some(key("ns", "d").as_str()));
    let all = s
        .list(&ListRequest {
            filter: Some(&odd),
            ..ListRequest::new("/core/pods/")
        })
        .unwrap();
    assert_eq!(names(&all.items), ["b", "d", "f"]);
}

async fn list_exact_rv_rebuilds_old_state(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let a1 = s.create(&key("ns", "a"), pod_n("a", 1)).unwrap();
    let b1 = s.create(&key("ns", "b"), pod_n("b", 1)).unwrap();
    let d1 = s.create(&key("ns", "d"), pod_n("d", 1)).unwrap();
    let at = s.current_rv();
    s.update(&key("ns", "a"), None, pod_n("a", 2)).unwrap();
    s.delete(&key("ns", "b"), None).unwrap();
    s.create(&key("ns", "c"), pod_n("c", 2)).unwrap();
    s.update(&key("ns", "a"), None, pod_n("a", 3)).unwrap();
    s.create(&key("ns", "b"), pod_n("b", 2)).unwrap();

    let old = s
        .list(&ListRequest {
            at: ReadAt::Exact(at),
            ..ListRequest::new("/core/pods/")
        })
        .unwrap();
    assert_eq!(old.rv, at);
    assert_eq!(
        old.items,
        vec![
            (key("ns", "a"), a1.clone()),
            (key("ns", "b"), b1.clone()),
            (key("ns", "d"), d1.clone())
        ]
    );
    // Paged at the same rv.
    let p1 = s
        .list(&ListRequest {
            at: ReadAt::Exact(at),
            limit: 1,
            ..ListRequest::new("/core/pods/")
        })
        .unwrap();
    assert_eq!(p1.items, vec![(key("ns", "a"), a1.clone())]);
    assert_eq!(p1.remaining, Some(2));
    let p2 = s
        .list(&ListRequest {
            at: ReadAt::Exact(at),
            start_after: p1.more_after.as_deref(),
            limit: 5,
            ..ListRequest::new("/core/pods/")
        })
        .unwrap();
    assert_eq!(p2.items, vec![(key("ns", "b"), b1), (key("ns", "d"), d1)]);
    // Before anything existed; and the latest state.
    assert!(list_all(s, "/core/pods/", ReadAt::Exact(a1.rv - 1))
        .unwrap()
        .is_empty());
    assert_eq!(
        list_all(s, "/core/pods/", ReadAt::Exact(a1.rv)).unwrap(),
        vec![(key("ns", "a"), a1)]
    );
    let latest = list_all(s, "/core/pods/", ReadAt::Latest).unwrap();
    assert_eq!(
        latest,
        list_all(s, "/core/pods/", ReadAt::Exact(s.current_rv())).unwrap()
    );
    assert_eq!(names(&latest), ["a", "b", "c", "d"]);
    assert_eq!(latest[0].1.value()["spec"]["n"], 3);
}

async fn list_exact_rv_older_than_window_is_expired(f: Factory) {
    let fx = f(small(3, 16));
    let s = &*fx.store;
    let first = s.create(&key("ns", "a"), pod("a")).unwrap().rv;
    for i in 0..9 {
        s.update(&key("ns", "a"), None, pod_n("a", i)).unwrap();
    }
    let current = s.current_rv();
    let oldest = current - 3;
    let err = list_all(s, "/core/pods/", ReadAt::Exact(first)).unwrap_err();
    assert_eq!(
        err,
        StorageError::Expired {
            requested: first,
            oldest
        }
    );
    let err = list_all(s, "/core/pods/", ReadAt::Exact(oldest - 1)).unwrap_err();
    assert!(matches!(err, StorageError::Expired { .. }));
    let at_oldest = list_all(s, "/core/pods/", ReadAt::Exact(oldest)).unwrap();
    assert_eq!(at_oldest[0].1.rv, oldest);
}

async fn list_exact_rv_newer_than_current_is_too_large(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    s.create(&key("ns", "a"), pod("a")).unwrap();
    let current = s.current_rv();
    let err = list_all(s, "/core/pods/", ReadAt::Exact(current + 1)).unwrap_err();
    assert_eq!(
        err,
        StorageError::TooLarge {
            requested: current + 1,
            current
        }
    );
}

/// Lists at a fixed rv taken while writers change the prefix equal the same list taken once
/// the writers stopped; a `Latest` list equals the exact list at its reported rv.
async fn list_is_a_consistent_snapshot_under_concurrent_writes(f: Factory) {
    let fx = f(Options::default());
    let s = Arc::clone(&fx.store);
    for i in 0..40 {
        s.create(&key("ns", &format!("p{i:02}")), pod_n("p", i))
            .unwrap();
    }
    let at = s.current_rv();
    let writer = {
        let s = Arc::clone(&s);
        std::thread::spawn(move || {
            for i in 0..2_000u64 {
                let k = key("ns", &format!("p{:02}", (i * 7) % 50));
                match i % 3 {
                    0 => drop(s.delete(&k, None)),
                    1 => drop(s.update(&k, None, pod_n("p", i))),
                    _ => drop(s.create(&k, pod_n("p", i))),
                }
            }
        })
    };
    let page = |at: ReadAt| -> Vec<(String, Stored)> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        let mut rv = None;
        loop {
            let r = s
                .list(&ListRequest {
                    at,
                    start_after: after.as_deref(),
                    limit: 7,
                    ..ListRequest::new("/core/pods/")
                })
                .unwrap();
            let at_rv = *rv.get_or_insert(r.rv);
            assert_eq!(r.rv, at_rv);
            out.extend(r.items);
            match r.more_after {
                Some(m) => after = Some(m),
                None => return out,
            }
        }
    };
    let mut during = Vec::new();
    let mut latest = Vec::new();
    while !writer.is_finished() || during.len() < 5 {
        during.push(page(ReadAt::Exact(at)));
        latest.push(s.list(&ListRequest::new("/core/pods/")).unwrap());
    }
    writer.join().unwrap();
    let settled = page(ReadAt::Exact(at));
    assert_eq!(settled.len(), 40);
    for d in during {
        assert_eq!(d, settled);
    }
    for l in latest {
        assert_eq!(
            l.items,
            list_all(&*s, "/core/pods/", ReadAt::Exact(l.rv)).unwrap()
        );
        for (_, st) in &l.items {
            assert!(st.rv <= l.rv);
        }
    }
}

// ---------------------------------------------------------------- watch

async fn watch_replays_from_rv_then_streams_live_in_order(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let a = s.create(&key("ns", "a"), pod("a")).unwrap();
    let b = s.create(&key("ns", "b"), pod("b")).unwrap();
    let a2 = s.update(&key("ns", "a"), None, pod_n("a", 1)).unwrap();
    durable(s, a2.rv).await;
    let mut w = s.watch("/core/pods/", a.rv).unwrap();
    let e1 = next(&mut w).await;
    assert_eq!(
        (e1.kind, e1.rv, &*e1.key, &e1.object),
        (EventType::Added, b.rv, key("ns", "b").as_str(), &b.bytes)
    );
    let e2 = next(&mut w).await;
    assert_eq!(
        (e2.kind, e2.rv, &e2.object),
        (EventType::Modified, a2.rv, &a2.bytes)
    );
    assert_eq!(e2.prev.as_ref(), Some(&a.bytes));
    assert_empty(&mut w);
    let mut expect = Vec::new();
    for i in 0..10 {
        expect.push(
            s.create(&key("ns", &format!("live{i}")), pod("l"))
                .unwrap()
                .rv,
        );
    }
    for rv in expect {
        assert_eq!(next(&mut w).await.rv, rv);
    }
    // From the current rv: only new events.
    let mut w2 = s.watch("/core/pods/", s.current_rv()).unwrap();
    let c = s.create(&key("ns", "c"), pod("c")).unwrap();
    assert_eq!(next(&mut w2).await.rv, c.rv);
    assert_eq!(next(&mut w).await.rv, c.rv);
}

async fn watch_filters_by_prefix(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let start = s.current_rv();
    let mut ns1 = s.watch("/core/pods/ns1/", start).unwrap();
    let mut pods = s.watch("/core/pods/", start).unwrap();
    let mut apps = s.watch("/apps/", start).unwrap();
    let a = s.create(&key("ns1", "a"), pod("a")).unwrap();
    let b = s.create(&key("ns10", "b"), pod("b")).unwrap();
    let c = s
        .create(&object_key("apps", "deployments", "ns1", "c"), pod("c"))
        .unwrap();
    let d = s.create(&key("ns1", "d"), pod("d")).unwrap();
    assert_eq!(next(&mut ns1).await.rv, a.rv);
    assert_eq!(next(&mut ns1).await.rv, d.rv);
    for rv in [a.rv, b.rv, d.rv] {
        assert_eq!(next(&mut pods).await.rv, rv);
    }
    assert_eq!(next(&mut apps).await.rv, c.rv);
    // Replay filters the same way.
    let mut ns1_replay = s.watch("/core/pods/ns1/", start).unwrap();
    assert_eq!(next(&mut ns1_replay).await.rv, a.rv);
    assert_eq!(next(&mut ns1_replay).await.rv, d.rv);
    assert_empty(&mut ns1);
    assert_empty(&mut pods);
    assert_empty(&mut apps);
    assert_empty(&mut ns1_replay);
}

async fn watch_delivers_deleted_with_last_state_and_prev(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let mut w = s.watch("/core/pods/", s.current_rv()).unwrap();
    let a = s.create(&key("ns", "a"), pod_n("a", 5)).unwrap();
    let gone = s.delete(&key("ns", "a"), None).unwrap();
    let added = next(&mut w).await;
    assert_eq!((added.kind, added.prev.clone()), (EventType::Added, None));
    let del = next(&mut w).await;
    assert_eq!(del.kind, EventType::Deleted);
    assert_eq!((del.rv, &del.object), (gone.rv, &gone.bytes));
    assert_eq!(del.prev.as_ref(), Some(&a.bytes));
}

async fn watch_from_compacted_rv_is_expired(f: Factory) {
    let fx = f(small(3, 16));
    let s = &*fx.store;
    let first = s.current_rv();
    for i in 0..10 {
        s.create(&key("ns", &format!("p{i}")), pod("p")).unwrap();
    }
    let current = s.current_rv();
    durable(s, current).await;
    let oldest = current - 3;
    let err = s.watch("/core/pods/", first).map(|_| ()).unwrap_err();
    assert_eq!(
        err,
        StorageError::Expired {
            requested: first,
            oldest
        }
    );
    assert!(matches!(
        s.watch("/", oldest - 1).map(|_| ()),
        Err(StorageError::Expired { .. })
    ));
    // The oldest retained start still replays everything after it.
    let mut w = s.watch("/core/pods/", oldest).unwrap();
    for rv in oldest + 1..=current {
        assert_eq!(next(&mut w).await.rv, rv);
    }
}

async fn watch_from_future_rv_is_too_large(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let current = s.current_rv();
    let err = s.watch("/", current + 5).map(|_| ()).unwrap_err();
    assert_eq!(
        err,
        StorageError::TooLarge {
            requested: current + 5,
            current
        }
    );
}

async fn slow_watcher_gets_expired_not_blocking_writers(f: Factory) {
    let fx = f(small(1000, 4));
    let s = &*fx.store;
    let start = s.current_rv();
    let mut slow = s.watch("/core/pods/", start).unwrap();
    let mut fast = s.watch("/core/pods/", start).unwrap();
    let mut rvs = Vec::new();
    for i in 0..50 {
        let st = s.create(&key("ns", &format!("p{i}")), pod("p")).unwrap();
        durable(s, st.rv).await;
        assert_eq!(next(&mut fast).await.rv, st.rv);
        rvs.push(st.rv);
    }
    let mut got = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, slow.rx.recv())
            .await
            .expect("stream must end")
        {
            Some(Ok(ev)) => got.push(ev.rv),
            Some(Err(StorageError::Expired { requested, .. })) => {
                assert_eq!(requested, *got.last().unwrap());
                break;
            }
            other => panic!("expected events then Expired, got {other:?}"),
        }
    }
    assert_eq!(got, rvs[..got.len()]);
    assert!(got.len() < rvs.len());
    assert!(
        slow.rx.recv().await.is_none(),
        "the stream ends after Expired"
    );
    assert_eq!((fx.watchers)(), 1);
}

async fn dropped_watcher_is_cleaned_up(f: Factory) {
    let fx = f(Options::default());
    let s = &*fx.store;
    let w1 = s.watch("/core/pods/", s.current_rv()).unwrap();
    let w2 = s.watch("/apps/", s.current_rv()).unwrap();
    assert_eq!((fx.watchers)(), 2);
    drop(w1);
    assert_eq!((fx.watchers)(), 1);
    drop(w2);
    let rv = s.create(&key("ns", "a"), pod("a")).unwrap().rv;
    durable(s, rv).await;
    assert_eq!((fx.watchers)(), 0);
}

async fn many_watchers_each_see_every_event_in_order(f: Factory) {
    let fx = f(Options::default());
    let s = Arc::clone(&fx.store);
    let start = s.current_rv();
    let mut tasks = Vec::new();
    let per_writer = 25;
    let writers = 4;
    for i in 0..300 {
        let prefix = match i % 3 {
            0 => "/core/pods/".to_owned(),
            1 => format!("/core/pods/ns{}/", i % 4),
            _ => "/apps/".to_owned(),
        };
        let expect = match i % 3 {
            0 => per_writer * writers,
            1 => per_writer,
            _ => 0,
        };
        let mut w = s.watch(&prefix, start).unwrap();
        tasks.push(tokio::spawn(async move {
            let mut last = start;
            for _ in 0..expect {
                let ev = next(&mut w).await;
                assert!(ev.rv > last);
                assert!(ev.key.starts_with(&prefix));
                last = ev.rv;
            }
            w
        }));
    }
    let mut ws = Vec::new();
    for wr in 0..writers {
        let s = Arc::clone(&s);
        ws.push(tokio::spawn(async move {
            for j in 0..per_writer {
                let rv = s
                    .create(&key(&format!("ns{wr}"), &format!("p{j}")), pod("p"))
                    .unwrap()
                    .rv;
                s.durable(rv).await.unwrap();
            }
        }));
    }
    for w in ws {
        w.await.unwrap();
    }
    for t in tasks {
        let mut w = t.await.unwrap();
        assert_empty(&mut w);
    }
}

/// Watches registered while writes stream in get every event after their start rv exactly
/// once: replay and live delivery meet without a gap or a duplicate.
async fn watch_started_during_writes_has_no_gap_or_duplicate(f: Factory) {
    let fx = f(Options::default());
    let s = Arc::clone(&fx.store);
    let total = 300u64;
    let done = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (s, done) = (Arc::clone(&s), Arc::clone(&done));
        tokio::spawn(async move {
            let mut last = 0;
            for i in 0..total {
                last = s.create(&key("ns", &format!("p{i}")), pod("p")).unwrap().rv;
                if i % 10 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            s.durable(last).await.unwrap();
            done.store(1, Ordering::Release);
            last
        })
    };
    let mut watchers = Vec::new();
    while done.load(Ordering::Acquire) == 0 && watchers.len() < 200 {
        let from = s.current_rv();
        watchers.push((from, s.watch("/core/pods/", from).unwrap()));
        tokio::task::yield_now().await;
    }
    let last = writer.await.unwrap();
    assert!(!watchers.is_empty());
    for (from, mut w) in watchers {
        for rv in from + 1..=last {
            assert_eq!(next(&mut w).await.rv, rv);
        }
        assert_empty(&mut w);
    }
}

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        conformance!(@backend memory, [$($test),*]);
        conformance!(@backend sled, [$($test),*]);
        conformance!(@backend sled_spilling, [$($test),*]);
    };
    (@backend $backend:ident, [$($test:ident),*]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::$backend).await
                }
            )*
        }
    };
}

conformance!(
    create_then_get_returns_same_bytes_with_rv,
    create_existing_key_is_already_exists,
    missing_key_is_not_found_for_get_update_delete,
    non_object_json_is_invalid_object,
    update_with_stale_rv_is_conflict,
    delete_with_stale_rv_is_conflict,
    guaranteed_update_retries_on_conflict,
    guaranteed_update_returning_none_leaves_object_unchanged,
    delete_returns_last_state_with_new_rv,
    rv_strictly_increases,
    durable_resolves_for_written_rv,
    list_returns_only_prefix_in_key_order,
    list_latest_reports_current_rv,
    list_pages_by_limit_and_start_after,
    list_filter_counts_only_matches,
    list_exact_rv_rebuilds_old_state,
    list_exact_rv_older_than_window_is_expired,
    list_exact_rv_newer_than_current_is_too_large,
    list_is_a_consistent_snapshot_under_concurrent_writes,
    watch_replays_from_rv_then_streams_live_in_order,
    watch_filters_by_prefix,
    watch_delivers_deleted_with_last_state_and_prev,
    watch_from_compacted_rv_is_expired,
    watch_from_future_rv_is_too_large,
    slow_watcher_gets_expired_not_blocking_writers,
    dropped_watcher_is_cleaned_up,
    many_watchers_each_see_every_event_in_order,
    watch_started_during_writes_has_no_gap_or_duplicate,
);

/// Tests only a persistent, group-committing backend can pass.
mod sled_only {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reopen_keeps_objects_and_rv_keeps_increasing() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, gone, last) = {
            let s = SledStorage::open(dir.path()).unwrap();
            let a = s.create(&key("ns", "a"), pod("a")).unwrap();
            let b = s.create(&key("ns", "b"), pod("b")).unwrap();
            let b = s
                .update(&key("ns", "b"), Some(b.rv), pod_n("b", 9))
                .unwrap();
            let c = s.create(&key("ns", "c"), pod("c")).unwrap();
            let gone = s.delete(&key("ns", "c"), Some(c.rv)).unwrap();
            durable(&s, gone.rv).await;
            (a, b, gone, s.current_rv())
        };
        let s = SledStorage::open(dir.path()).unwrap();
        assert_eq!(s.current_rv(), last);
        assert_eq!(s.get(&key("ns", "a")).unwrap(), a);
        assert_eq!(s.get(&key("ns", "b")).unwrap(), b);
        assert!(matches!(
            s.get(&key("ns", "c")),
            Err(StorageError::NotFound(_))
        ));
        let items = list_all(&s, "/core/pods/", ReadAt::Latest).unwrap();
        assert_eq!(
            items,
            vec![(key("ns", "a"), a.clone()), (key("ns", "b"), b)]
        );
        let d = s.create(&key("ns", "d"), pod("d")).unwrap();
        assert!(d.rv > gone.rv);
        // The event window survived the restart: watch and exact lists from before it work.
        let mut w = s.watch("/core/pods/", a.rv).unwrap();
        for rv in a.rv + 1..=gone.rv {
            assert_eq!(next(&mut w).await.rv, rv);
        }
        assert_eq!(next(&mut w).await.rv, d.rv);
        assert_eq!(
            list_all(&s, "/core/pods/", ReadAt::Exact(a.rv)).unwrap(),
            vec![(key("ns", "a"), a)]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_beyond_the_memory_window_are_read_back_from_disk_before_and_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let opts = Options {
            window_bytes: 1,
            ..small(100, 64)
        };
        let start;
        let seen: Vec<Arc<Event>>;
        {
            let s = SledStorage::open_with(dir.path(), opts.clone()).unwrap();
            start = s.current_rv();
            let mut live = s.watch("/core/pods/", start).unwrap();
            let a = s.create(&key("ns", "a"), pod_n("a", 1)).unwrap();
            let a = s
                .update(&key("ns", "a"), Some(a.rv), pod_n("a", 2))
                .unwrap();
            s.create(&key("ns", "b"), pod("b")).unwrap();
            s.delete(&key("ns", "a"), Some(a.rv)).unwrap();
            let mut v = Vec::new();
            for _ in 0..4 {
                v.push(next(&mut live).await);
            }
            seen = v;
            assert_eq!(
                s.engine.in_memory(),
                1,
                "only the newest event stays in memory"
            );
            let mut replay = s.watch("/core/pods/", start).unwrap();
            for e in &seen {
                let r = next(&mut replay).await;
                assert_eq!(
                    (r.kind, r.rv, &r.key, &r.object, &r.prev),
                    (e.kind, e.rv, &e.key, &e.object, &e.prev)
                );
            }
            // The state at the first update, rebuilt from events read back from disk.
            assert_eq!(
                list_all(&s, "/core/pods/", ReadAt::Exact(seen[1].rv)).unwrap(),
                vec![(key("ns", "a"), a.clone())]
            );
        }
        let s = SledStorage::open_with(dir.path(), opts).unwrap();
        assert_eq!(s.engine.in_memory(), 1);
        let mut replay = s.watch("/core/pods/", start).unwrap();
        for e in &seen {
            let r = next(&mut replay).await;
            assert_eq!(
                (r.kind, r.rv, &r.object, &r.prev),
                (e.kind, e.rv, &e.object, &e.prev)
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reopen_keeps_only_retained_events() {
        let dir = tempfile::tempdir().unwrap();
        let last = {
            let s = SledStorage::open_with(dir.path(), small(4, 16)).unwrap();
            for i in 0..20 {
                s.create(&key("ns", &format!("p{i}")), pod("p")).unwrap();
            }
            s.current_rv()
        };
        let s = SledStorage::open_with(dir.path(), small(4, 16)).unwrap();
        assert_eq!(s.current_rv(), last);
        assert_eq!(s.oldest_rv(), last - 4);
        assert!(matches!(
            s.watch("/", last - 5).map(|_| ()),
            Err(StorageError::Expired { .. })
        ));
        let mut w = s.watch("/", last - 4).unwrap();
        for rv in last - 3..=last {
            assert_eq!(next(&mut w).await.rv, rv);
        }
        drop(s);
        // A larger retention after restart still finds only what was kept on disk (the
        // background compaction may lag, but never beyond what the window had dropped).
        let s = SledStorage::open_with(dir.path(), small(100, 16)).unwrap();
        assert!(
            s.oldest_rv() >= last - 20 && s.oldest_rv() <= last - 4,
            "{}",
            s.oldest_rv()
        );
        assert_eq!(
            list_all(&s, "/", ReadAt::Exact(s.oldest_rv()))
                .unwrap()
                .len() as u64,
            20 - (last - s.oldest_rv())
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_share_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let s = Arc::new(SledStorage::open(dir.path()).unwrap());
        let before = s.flush_count();
        let (writers, each) = (64, 10);
        let mut tasks = Vec::new();
        for w in 0..writers {
            let s = Arc::clone(&s);
            tasks.push(tokio::spawn(async move {
                for i in 0..each {
                    let rv = s
                        .create(&key(&format!("w{w}"), &format!("p{i}")), pod("p"))
                        .unwrap()
                        .rv;
                    s.durable(rv).await.unwrap();
                    assert!(s.durable_rv() >= rv);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let flushes = s.flush_count() - before;
        assert!(flushes > 0);
        assert!(
            flushes < (writers * each) as u64 / 2,
            "{flushes} flushes for {} writes",
            writers * each
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn watchers_only_see_durable_events() {
        let dir = tempfile::tempdir().unwrap();
        let s = Arc::new(SledStorage::open(dir.path()).unwrap());
        let mut w = s.watch("/", s.current_rv()).unwrap();
        let writer = {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..200 {
                    s.create(&key("ns", &format!("p{i}")), pod("p")).unwrap();
                }
            })
        };
        for _ in 0..200 {
            let ev = next(&mut w).await;
            assert!(
                s.durable_rv() >= ev.rv,
                "event {} seen before durable {}",
                ev.rv,
                s.durable_rv()
            );
        }
        writer.join().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_flushes_ends_watches_and_rejects_writes() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStorage::open(dir.path()).unwrap();
        let mut w = s.watch("/", s.current_rv()).unwrap();
        let a = s.create(&key("ns", "a"), pod("a")).unwrap();
        let pending = s.durable(a.rv);
        s.close().unwrap();
        pending.await.unwrap();
        assert!(s.durable_rv() >= a.rv);
        assert_eq!(next(&mut w).await.rv, a.rv);
        assert!(w.rx.recv().await.is_none());
        assert!(matches!(
            s.create(&key("ns", "b"), pod("b")),
            Err(StorageError::Internal(_))
        ));
        assert!(s.durable(a.rv + 1).await.is_err());
        s.close().unwrap();
    }
}
