use crate::common::*;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, WatchEvent, WatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;
use std::time::Duration;

fn mysts(replicas: i32, extra: serde_json::Value) -> StatefulSet {
    let mut v = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "mysts"},
        "spec": {
            "replicas": replicas,
            "serviceName": "mysts",
            "selector": {"matchLabels": {"app": "nginx-sts"}},
            "template": {
                "metadata": {"labels": {"app": "nginx-sts"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.7.9",
                    "volumeMounts": [{"name": "nginx-vol", "mountPath": "/usr/share/nginx/html"}]}]}
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "nginx-vol"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
            }]
        }
    });
    for (k, val) in extra.as_object().unwrap() {
        v["spec"][k] = val.clone();
    }
    serde_json::from_value(v).unwrap()
}

async fn pod(c: &Cluster, name: &str) -> Option<Pod> {
    c.api::<Pod>().get_opt(name).await.unwrap()
}

async fn make_ready(c: &Cluster, name: &str) {
    let api: Api<Pod> = c.api();
    let p = api.get(name).await.unwrap();
    set_status(&api, p, Verdict::Ready, c.clock.now())
        .await
        .unwrap();
}

/// Play the kubelet for terminating pods: finish their deletion.
async fn finish_terminating(c: &Cluster) {
    let api: Api<Pod> = c.api();
    for p in api.list(&ListParams::default()).await.unwrap().items {
        if p.metadata.deletion_timestamp.is_some() {
            let _ = api
                .delete(&p.name_any(), &DeleteParams::default().grace_period(0))
                .await;
        }
    }
}

fn names(pods: &[Pod]) -> Vec<String> {
    let mut v: Vec<String> = pods.iter().map(|p| p.name_any()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn ordered_ready_pods_start_one_at_a_time_in_ascending_ordinal_order() {
    let c = Cluster::start().await;
    c.create::<StatefulSet>(&mysts(3, json!({}))).await;
    for i in 0..3 {
        let name = format!("mysts-{i}");
        let p = eventually(&name, || async { pod(&c, &name).await }).await;
        // The next pod is not created while this one is not Ready.
        tokio::time::sleep(Duration::from_millis(400)).await;
        if i < 2 {
            assert!(pod(&c, &format!("mysts-{}", i + 1)).await.is_none());
        }
        let labels = p.labels();
        assert_eq!(labels["statefulset.kubernetes.io/pod-name"], name);
        assert_eq!(labels["apps.kubernetes.io/pod-index"], i.to_string());
        assert!(labels["controller-revision-hash"].starts_with("mysts-"));
        let spec = p.spec.clone().unwrap();
        assert_eq!(spec.hostname.as_deref(), Some(name.as_str()));
        assert_eq!(spec.subdomain.as_deref(), Some("mysts"));
        let vol = &spec.volumes.unwrap()[0];
        assert_eq!(vol.name, "nginx-vol");
        assert_eq!(
            vol.persistent_volume_claim.as_ref().unwrap().claim_name,
            format!("nginx-vol-mysts-{i}")
        );
        let pvc = c
            .api::<PersistentVolumeClaim>()
            .get(&format!("nginx-vol-mysts-{i}"))
            .await
            .unwrap();
        assert_eq!(pvc.labels()["app"], "nginx-sts");
        make_ready(&c, &name).await;
    }
    let set = eventually("status", || async {
        let s = c.api::<StatefulSet>().get("mysts").await.ok()?;
        let st = s.status.clone()?;
        (st.ready_replicas == Some(3) && st.current_replicas == Some(3)).then_some(s)
    })
    .await;
    let st = set.status.unwrap();
    assert_eq!(st.current_revision, st.update_revision);
    assert_eq!(st.observed_generation, set.metadata.generation);
    let revs = c
        .api::<ControllerRevision>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(revs.len(), 1);
    assert_eq!(Some(revs[0].name_any()), st.update_revision);
    assert_eq!(revs[0].revision, 1);
    let events: Api<Event> = c.api();
    eventually("events", || async {
        let evs = events.list(&ListParams::default()).await.ok()?.items;
        let notes: Vec<String> = evs.iter().filter_map(|e| e.message.clone()).collect();
        (notes.contains(&"create Pod mysts-0 in StatefulSet mysts successful".to_string())
            && notes.contains(
                &"create Claim nginx-vol-mysts-0 Pod mysts-0 in StatefulSet mysts success"
                    .to_string(),
            ))
        .then_some(())
    })
    .await;
}

#[tokio::test]
async fn scale_down_removes_pods_in_reverse_ordinal_order_and_keeps_claims_for_reuse() {
    let mut c = Cluster::start().await;
    c.run_kubelet(|_| Some(Verdict::Ready));
    c.create::<StatefulSet>(&mysts(3, json!({}))).await;
    eventually("3 ready", || async {
        let s = c.api::<StatefulSet>().get("mysts").await.ok()?;
        (s.status?.ready_replicas == Some(3)).then_some(())
    })
    .await;
    let claim_uid = c
        .api::<PersistentVolumeClaim>()
        .get("nginx-vol-mysts-1")
        .await
        .unwrap()
        .uid();

    // A deleted pod comes back with the same name and the same claim.
    let old_uid = pod(&c, "mysts-1").await.unwrap().uid();
    c.api::<Pod>()
        .delete("mysts-1", &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    let p = eventually("mysts-1 re-created", || async {
        pod(&c, "mysts-1").await.filter(|p| p.uid() != old_uid)
    })
    .await;
    assert_eq!(
        p.spec.unwrap().volumes.unwrap()[0]
            .persistent_volume_claim
            .as_ref()
            .unwrap()
            .claim_name,
        "nginx-vol-mysts-1"
    );
    assert_eq!(
        c.api::<PersistentVolumeClaim>()
            .get("nginx-vol-mysts-1")
            .await
            .unwrap()
            .uid(),
        claim_uid
    );
    eventually("3 ready again", || async {
        let s = c.api::<StatefulSet>().get("mysts").await.ok()?;
        (s.status?.ready_replicas == Some(3)).then_some(())
    })
    .await;

    // Watch pods from now on and record the order in which they go away.
    let rv = c
        .api::<Pod>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut watch = c
        .api::<Pod>()
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    c.api::<StatefulSet>()
        .patch(
            "mysts",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await
        .unwrap();
    let mut order: Vec<String> = Vec::new();
    let mut gone: Vec<String> = Vec::new();
    while gone.len() < 3 {
        let ev = tokio::time::timeout(Duration::from_secs(30), watch.next())
            .await
            .expect("pods deleted in time")
            .unwrap()
            .unwrap();
        let (p, deleted) = match ev {
            WatchEvent::Modified(p) if p.metadata.deletion_timestamp.is_some() => (p, false),
            WatchEvent::Deleted(p) => (p, true),
            _ => continue,
        };
        let name = p.name_any();
        if !order.contains(&name) {
            // One at a time: the previous one is gone before the next starts terminating.
            assert_eq!(
                order, gone,
                "{name} started before the previous pod was gone"
            );
            order.push(name.clone());
        }
        if deleted {
            gone.push(name);
        } else {
            // The kubelet finishes the termination.
            finish_terminating(&c).await;
        }
    }
    assert_eq!(order, vec!["mysts-2", "mysts-1", "mysts-0"]);
    // Retain: the claims stay.
    let pvcs = c
        .api::<PersistentVolumeClaim>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(pvcs.len(), 3);
}

#[tokio::test]
async fn a_partitioned_rolling_update_only_replaces_pods_at_or_above_the_partition() {
    let mut c = Cluster::start().await;
    c.run_kubelet(|_| Some(Verdict::Ready));
    c.create::<StatefulSet>(&mysts(
        3,
        json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}}),
    ))
    .await;
    eventually("3 ready", || async {
        let s = c.api::<StatefulSet>().get("mysts").await.ok()?;
        (s.status?.ready_replicas == Some(3)).then_some(())
    })
    .await;
    let first_rev = c
        .api::<StatefulSet>()
        .get("mysts")
        .await
        .unwrap()
        .status
        .unwrap()
        .update_revision
        .unwrap();
    c.api::<StatefulSet>()
        .patch(
            "mysts",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.9.1"}]}}}})),
        )
        .await
        .unwrap();
    let st = eventually("partitioned rollout", || async {
        finish_terminating(&c).await;
        let s = c.api::<StatefulSet>().get("mysts").await.ok()?;
        let st = s.status?;
        (st.updated_replicas == Some(2)
            && st.ready_replicas == Some(3)
            && st.observed_generation == s.metadata.generation)
            .then_some(st)
    })
    .await;
    assert_eq!(st.current_revision.as_deref(), Some(first_rev.as_str()));
    assert_ne!(st.update_revision.as_deref(), Some(first_rev.as_str()));
    let rev_of = |p: Option<Pod>| p.unwrap().labels()["controller-revision-hash"].clone();
    assert_eq!(rev_of(pod(&c, "mysts-0").await), first_rev);
    assert_eq!(
        rev_of(pod(&c, "mysts-1").await),
        st.update_revision.clone().unwrap()
    );
    assert_eq!(
        rev_of(pod(&c, "mysts-2").await),
        st.update_revision.clone().unwrap()
    );
    let revs = c
        .api::<ControllerRevision>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(revs.len(), 2);

    // Partition 0 finishes the rollout and the current revision follows.
    c.api::<StatefulSet>()
        .patch(
            "mysts",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}})),
        )
        .await
        .unwrap();
    eventually("rollout complete", || async {
        finish_terminating(&c).await;
        let s = c.api::<StatefulSet>().get("mysts").await.ok()?;
        let st = s.status?;
        (st.updated_replicas == Some(3)
            && st.ready_replicas == Some(3)
            && st.current_revision == st.update_revision)
            .then_some(())
    })
    .await;
    let pods = pods(&c, "app=nginx-sts").await;
    assert_eq!(names(&pods), vec!["mysts-0", "mysts-1", "mysts-2"]);
}

#[tokio::test]
async fn undo_by_applying_an_old_revision_reuses_it_with_the_next_revision_number() {
    let mut c = Cluster::start().await;
    c.run_kubelet(|_| Some(Verdict::Ready));
    c.create::<StatefulSet>(&mysts(2, json!({}))).await;
    let ready_at = |image: &'static str| {
        let c = &c;
        async move {
            eventually(image, || async {
                finish_terminating(c).await;
                let s = c.api::<StatefulSet>().get("mysts").await.ok()?;
                let st = s.status?;
                let pods = pods(c, "app=nginx-sts").await;
                (st.ready_replicas == Some(2)
                    && st.updated_replicas == Some(2)
                    && st.current_revision == st.update_revision
                    && pods.len() == 2
                    && pods.iter().all(|p| {
                        p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some(image)
                    }))
                .then_some(st)
            })
            .await
        }
    };
    let first = ready_at("nginx:1.7.9").await.update_revision.unwrap();
    c.api::<StatefulSet>()
        .patch(
            "mysts",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.9.1"}]}}}})),
        )
        .await
        .unwrap();
    ready_at("nginx:1.9.1").await;
    // What `kubectl rollout undo statefulset/mysts --to-revision=1` sends: the revision's data
    // as a strategic merge patch.
    let revs: Api<ControllerRevision> = c.api();
    let data = revs.get(&first).await.unwrap().data.unwrap().0;
    assert_eq!(data["spec"]["template"]["$patch"], "replace");
    c.api::<StatefulSet>()
        .patch("mysts", &PatchParams::default(), &Patch::Strategic(data))
        .await
        .unwrap();
    let st = ready_at("nginx:1.7.9").await;
    assert_eq!(st.update_revision.as_deref(), Some(first.as_str()));
    let all = revs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(all.len(), 2);
    assert_eq!(revs.get(&first).await.unwrap().revision, 3);
}

#[tokio::test]
async fn claims_follow_the_retention_policy_on_scale_down() {
    let mut c = Cluster::start().await;
    c.run_kubelet(|_| Some(Verdict::Ready));
    c.create::<StatefulSet>(&mysts(
                2,
                json!({"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Delete"}}),
            )).await;
    eventually("2 ready", || async {
        let s = c.api::<StatefulSet>().get("mysts").await.ok()?;
        (s.status?.ready_replicas == Some(2)).then_some(())
    })
    .await;
    let set = c.api::<StatefulSet>().get("mysts").await.unwrap();
    let pvcs: Api<PersistentVolumeClaim> = c.api();
    let refs = pvcs
        .get("nginx-vol-mysts-0")
        .await
        .unwrap()
        .metadata
        .owner_references
        .unwrap();
    assert_eq!(refs.len(), 1);
    assert_eq!(
        (refs[0].kind.as_str(), refs[0].uid.clone()),
        ("StatefulSet", set.uid().unwrap())
    );
    assert_eq!(refs[0].controller, None);
    c.api::<StatefulSet>()
        .patch(
            "mysts",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
        )
        .await
        .unwrap();
    // The condemned pod's claim is handed to the pod, so the garbage collector removes it
    // after the pod.
    eventually("claim of mysts-1 collected", || async {
        finish_terminating(&c).await;
        pvcs.get_opt("nginx-vol-mysts-1")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    assert!(pvcs.get_opt("nginx-vol-mysts-0").await.unwrap().is_some());
}
