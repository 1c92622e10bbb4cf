use crate::common::*;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;

fn myreplicaset(replicas: i32) -> ReplicaSet {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "myreplicaset"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"run": "nginx-rs"}},
            "template": {
                "metadata": {"labels": {"run": "nginx-rs"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}
            }
        }
    }))
    .unwrap()
}

async fn rs_status(c: &Cluster) -> (i32, i32, i32, i64) {
    let rs = c.api::<ReplicaSet>().get("myreplicaset").await.unwrap();
    let s = rs.status.unwrap_or_default();
    (
        s.replicas,
        s.ready_replicas.unwrap_or(0),
        s.available_replicas.unwrap_or(0),
        s.observed_generation.unwrap_or(0),
    )
}

#[tokio::test]
async fn a_replicaset_creates_its_pods_and_reports_them_ready() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    c.create::<ReplicaSet>(&myreplicaset(2)).await;
    eventually("2 ready replicas", || async {
        (rs_status(&c).await == (2, 2, 2, 1)).then_some(())
    })
    .await;
    let pods = pods(&c, "run=nginx-rs").await;
    assert_eq!(pods.len(), 2);
    for p in &pods {
        let name = p.name_any();
        assert!(
            name.starts_with("myreplicaset-") && name.len() == "myreplicaset-".len() + 5,
            "{name}"
        );
        let r = &p.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (
                r.kind.as_str(),
                r.name.as_str(),
                r.controller,
                r.block_owner_deletion
            ),
            ("ReplicaSet", "myreplicaset", Some(true), Some(true))
        );
    }
    // The events are served as core/v1 Events for `kubectl describe`.
    let events: Api<Event> = c.api();
    let notes = eventually("SuccessfulCreate events", || async {
        let evs = events.list(&ListParams::default()).await.ok()?.items;
        let notes: Vec<String> = evs
            .iter()
            .filter(|e| {
                e.reason.as_deref() == Some("SuccessfulCreate")
                    && e.involved_object.name.as_deref() == Some("myreplicaset")
            })
            .filter_map(|e| e.message.clone())
            .collect();
        (notes.len() == 2).then_some(notes)
    })
    .await;
    for p in &pods {
        assert!(
            notes.contains(&format!("Created pod: {}", p.name_any())),
            "{notes:?}"
        );
    }
}

#[tokio::test]
async fn a_replicaset_of_thirty_records_twenty_five_creations_the_last_ones_combined() {
    let c = Cluster::start().await;
    c.api::<ReplicaSet>()
        .create(&PostParams::default(), &myreplicaset(30))
        .await
        .unwrap();
    eventually("30 pods", || async {
        (pods(&c, "run=nginx-rs").await.len() == 30).then_some(())
    })
    .await;
    // client-go's correlator, as the real controller records: nine events, then from the tenth
    // distinct message one combined event counted on; 25 in all, then the spam filter drops
    // the rest (one more per five minutes).
    let events: Api<Event> = c.api();
    let (single, combined) = eventually("25 SuccessfulCreate events", || async {
        let evs = events.list(&ListParams::default()).await.ok()?.items;
        let (combined, single): (Vec<Event>, Vec<Event>) = evs
            .into_iter()
            .filter(|e| {
                e.reason.as_deref() == Some("SuccessfulCreate")
                    && e.involved_object.name.as_deref() == Some("myreplicaset")
            })
            .partition(|e| {
                e.message
                    .as_deref()
                    .unwrap_or_default()
                    .starts_with("(combined from similar events): Created pod: ")
            });
        let total: i32 = single
            .iter()
            .chain(&combined)
            .map(|e| e.count.unwrap_or(1))
            .sum();
        (total == 25).then_some((single, combined))
    })
    .await;
    assert_eq!(single.len(), 9);
    assert!(single.iter().all(|e| e.count == Some(1)));
    assert_eq!(combined.len(), 1);
    assert_eq!(combined[0].count, Some(16));
    let source = combined[0].source.as_ref().unwrap();
    assert_eq!(source.component.as_deref(), Some("replicaset-controller"));
}

#[tokio::test]
async fn scaling_a_replicaset_creates_then_deletes_not_ready_pods_first() {
    let mut c = Cluster::start().await;
    // Only the first two pods ever become ready.
    let ready = std::sync::Arc::new(std::sync::Mutex::new(
        std::collections::HashSet::<String>::new(),
    ));
    let r2 = ready.clone();
    c.run_kubelet(move |p| {
        let mut r = r2.lock().unwrap();
        if r.len() < 2 {
            r.insert(p.name_any());
            Some(Verdict::Ready)
        } else {
            None
        }
    });
    let rss = c.api::<ReplicaSet>();
    rss.create(&PostParams::default(), &myreplicaset(2))
        .await
        .unwrap();
    eventually("2 ready", || async {
        (rs_status(&c).await.1 == 2).then_some(())
    })
    .await;
    rss.patch_scale(
        "myreplicaset",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 4}})),
    )
    .await
    .unwrap();
    eventually("4 pods", || async {
        (pods(&c, "run=nginx-rs").await.len() == 4 && rs_status(&c).await.0 == 4).then_some(())
    })
    .await;
    rss.patch_scale(
        "myreplicaset",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 2}})),
    )
    .await
    .unwrap();
    let left = eventually("2 pods", || async {
        let p = pods(&c, "run=nginx-rs").await;
        (p.len() == 2 && rs_status(&c).await.0 == 2).then_some(p)
    })
    .await;
    let ready = ready.lock().unwrap().clone();
    for p in left {
        assert!(ready.contains(&p.name_any()), "the ready pods are kept");
    }
}

#[tokio::test]
async fn a_deleted_pod_is_replaced_by_one_with_a_new_name() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    c.create::<ReplicaSet>(&myreplicaset(4)).await;
    let before = eventually("4 pods", || async {
        let p = pods(&c, "run=nginx-rs").await;
        (p.len() == 4).then_some(p)
    })
    .await;
    let victim = before[0].name_any();
    c.api::<Pod>()
        .delete(&victim, &DeleteParams::default())
        .await
        .unwrap();
    let after = eventually("a replacement", || async {
        let p = pods(&c, "run=nginx-rs").await;
        (p.len() == 4 && p.iter().all(|p| p.name_any() != victim)).then_some(p)
    })
    .await;
    assert_eq!(after.len(), 4);
    // And it stays at 4 (no double create).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(pods(&c, "run=nginx-rs").await.len(), 4);
}

#[tokio::test]
async fn orphans_are_adopted_and_pods_no_longer_selected_are_released() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    let podapi: Api<Pod> = c.api();
    let orphan: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "stray", "labels": {"run": "nginx-rs"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}
    }))
    .unwrap();
    podapi
        .create(&PostParams::default(), &orphan)
        .await
        .unwrap();
    c.create::<ReplicaSet>(&myreplicaset(2)).await;
    let rs = c.api::<ReplicaSet>().get("myreplicaset").await.unwrap();
    eventually("the stray pod adopted and one more created", || async {
        let p = podapi.get("stray").await.ok()?;
        let owned = p
            .metadata
            .owner_references
            .as_ref()?
            .iter()
            .any(|r| Some(&r.uid) == rs.metadata.uid.as_ref() && r.controller == Some(true));
        (owned && pods(&c, "run=nginx-rs").await.len() == 2).then_some(())
    })
    .await;
    // Relabel it: released, and replaced.
    podapi
        .patch(
            "stray",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"run": "other"}}})),
        )
        .await
        .unwrap();
    eventually("stray released and replaced", || async {
        let p = podapi.get("stray").await.ok()?;
        let released = p
            .metadata
            .owner_references
            .as_ref()
            .is_none_or(|r| r.is_empty());
        (released && pods(&c, "run=nginx-rs").await.len() == 2).then_some(())
    })
    .await;
}

#[tokio::test]
async fn pods_count_as_available_only_after_min_ready_seconds_on_the_clock() {
    use apimachinery::clock::FakeClock;
    use std::time::{Duration, UNIX_EPOCH};
    let clock = std::sync::Arc::new(FakeClock::at(
        UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    ));
    let mut c = Cluster::start_with_clock(clock.clone()).await;
    c.run_kubelet(by_image);
    let mut rs = myreplicaset(2);
    rs.spec.as_mut().unwrap().min_ready_seconds = Some(30);
    c.create::<ReplicaSet>(&rs).await;
    eventually("2 ready, none available", || async {
        (rs_status(&c).await == (2, 2, 0, 1)).then_some(())
    })
    .await;
    clock.advance(Duration::from_secs(20));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(rs_status(&c).await.2, 0, "not yet: 20s < 30s");
    clock.advance(Duration::from_secs(11));
    // The controller requeued itself for minReadySeconds on the clock: no event needed.
    eventually("2 available", || async {
        (rs_status(&c).await.2 == 2).then_some(())
    })
    .await;
}
