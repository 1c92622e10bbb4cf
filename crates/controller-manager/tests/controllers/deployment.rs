use crate::common::*;
use apimachinery::clock::FakeClock;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Event;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

const REVISION: &str = "deployment.kubernetes.io/revision";
const CAUSE: &str = "kubernetes.io/change-cause";

fn mydeploy(replicas: i32, extra_spec: serde_json::Value) -> Deployment {
    let mut v = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "mydeploy", "annotations": {CAUSE: "kubectl apply --record=true -f mydeploy.yaml"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"run": "nginx"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "template": {
                "metadata": {"labels": {"run": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.7.9"}]}
            }
        }
    });
    json_patch_merge(&mut v["spec"], &extra_spec);
    serde_json::from_value(v).unwrap()
}

fn json_patch_merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
    if let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            if v.is_object() && t.get(k).is_some_and(|x| x.is_object()) {
                json_patch_merge(t.get_mut(k).unwrap(), v);
            } else {
                t.insert(k.clone(), v.clone());
            }
        }
    }
}

async fn deploy(c: &Cluster) -> Deployment {
    c.api::<Deployment>().get("mydeploy").await.unwrap()
}

async fn replica_sets(c: &Cluster) -> Vec<ReplicaSet> {
    c.api::<ReplicaSet>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
}

fn rev(rs: &ReplicaSet) -> i64 {
    rs.annotations()
        .get(REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn image_of(rs: &ReplicaSet) -> String {
    rs.spec
        .as_ref()
        .unwrap()
        .template
        .as_ref()
        .unwrap()
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
        .image
        .clone()
        .unwrap()
}

/// `kubectl rollout status` is satisfied.
fn rolled_out(d: &Deployment) -> bool {
    let s = d.status.clone().unwrap_or_default();
    let want = d.spec.as_ref().unwrap().replicas.unwrap_or(1);
    d.metadata.generation <= s.observed_generation
        && s.updated_replicas.unwrap_or(0) >= want
        && s.replicas.unwrap_or(0) <= s.updated_replicas.unwrap_or(0)
        && s.available_replicas.unwrap_or(0) >= s.updated_replicas.unwrap_or(0)
}

async fn wait_rolled_out(c: &Cluster) -> Deployment {
    eventually("the rollout to finish", || async {
        let d = deploy(c).await;
        rolled_out(&d).then_some(d)
    })
    .await
}

async fn set_image(c: &Cluster, image: &str) {
    let patch = json!({
        "metadata": {"annotations": {CAUSE: format!("kubectl set image deployment mydeploy nginx={image} --record=true")}},
        "spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": image}]}}}
    });
    c.api::<Deployment>()
        .patch(
            "mydeploy",
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
        .unwrap();
}

/// What `kubectl rollout undo [--to-revision=N]` sends (kubectl-wire §10).
async fn undo(c: &Cluster, to: i64) {
    let d = deploy(c).await;
    let rss = replica_sets(c).await;
    let target = if to == 0 {
        let mut revs: Vec<i64> = rss.iter().map(rev).collect();
        revs.sort();
        revs[revs.len() - 2]
    } else {
        to
    };
    let rs = rss.iter().find(|rs| rev(rs) == target).expect("revision");
    let mut template =
        serde_json::to_value(rs.spec.as_ref().unwrap().template.as_ref().unwrap()).unwrap();
    template["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("pod-template-hash");
    // The typed round trip adds empty fields the deployment's template does not have.
    template["spec"]["containers"][0]["resources"] = json!({});
    let skip = [
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    ];
    let mut ann: BTreeMap<String, String> = d
        .annotations()
        .iter()
        .filter(|(k, _)| skip.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in rs.annotations() {
        if !skip.contains(&k.as_str()) {
            ann.insert(k.clone(), v.clone());
        }
    }
    let ops = json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": ann},
    ]);
    let req = http::Request::patch("/apis/apps/v1/namespaces/default/deployments/mydeploy")
        .header("Content-Type", "application/json-patch+json")
        .body(serde_json::to_vec(&ops).unwrap())
        .unwrap();
    c.client.request_text(req).await.expect("undo patch");
}

#[tokio::test]
async fn a_deployment_creates_one_replicaset_named_by_its_template_hash() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    c.create::<Deployment>(&mydeploy(10, json!({}))).await;
    let d = wait_rolled_out(&c).await;
    let rss = replica_sets(&c).await;
    assert_eq!(rss.len(), 1);
    let rs = &rss[0];
    let hash = rs.labels()["pod-template-hash"].clone();
    assert_eq!(rs.name_any(), format!("mydeploy-{hash}"));
    assert_eq!(
        rs.spec
            .as_ref()
            .unwrap()
            .selector
            .match_labels
            .as_ref()
            .unwrap()["pod-template-hash"],
        hash
    );
    assert_eq!(rs.annotations()[REVISION], "1");
    assert_eq!(
        rs.annotations()[CAUSE],
        "kubectl apply --record=true -f mydeploy.yaml"
    );
    assert_eq!(
        rs.annotations()["deployment.kubernetes.io/desired-replicas"],
        "10"
    );
    assert_eq!(
        rs.annotations()["deployment.kubernetes.io/max-replicas"],
        "13"
    );
    assert_eq!(d.annotations()[REVISION], "1");
    let pods = pods(&c, "run=nginx").await;
    assert_eq!(pods.len(), 10);
    assert!(pods
        .iter()
        .all(|p| p.name_any().starts_with(&format!("mydeploy-{hash}-"))));
    let s = d.status.unwrap();
    let conds: Vec<(String, String, String)> = s
        .conditions
        .unwrap()
        .into_iter()
        .map(|c| (c.type_, c.status, c.reason.unwrap()))
        .collect();
    assert!(
        conds.contains(&(
            "Available".into(),
            "True".into(),
            "MinimumReplicasAvailable".into()
        )),
        "{conds:?}"
    );
    assert!(
        conds.contains(&(
            "Progressing".into(),
            "True".into(),
            "NewReplicaSetAvailable".into()
        )),
        "{conds:?}"
    );
    let events: Api<Event> = c.api();
    eventually("the scaling event", || async {
        let evs = events.list(&ListParams::default()).await.ok()?.items;
        evs.iter()
            .any(|e| {
                e.reason.as_deref() == Some("ScalingReplicaSet")
                    && e.message.as_deref()
                        == Some(&format!(
                            "Scaled up replica set mydeploy-{hash} from 0 to 10"
                        ))
            })
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_rolling_update_replaces_every_pod_and_records_the_revision() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    c.create::<Deployment>(&mydeploy(10, json!({}))).await;
    wait_rolled_out(&c).await;
    set_image(&c, "nginx:1.9.1").await;
    let d = wait_rolled_out(&c).await;
    assert_eq!(d.annotations()[REVISION], "2");
    let pods = pods(&c, "run=nginx").await;
    assert_eq!(pods.len(), 10);
    assert!(pods
        .iter()
        .all(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nginx:1.9.1")));
    let rss = replica_sets(&c).await;
    let old = rss.iter().find(|rs| rev(rs) == 1).unwrap();
    assert_eq!(old.spec.as_ref().unwrap().replicas, Some(0));
    let new = rss.iter().find(|rs| rev(rs) == 2).unwrap();
    assert_eq!(
        new.annotations()[CAUSE],
        "kubectl set image deployment mydeploy nginx=nginx:1.9.1 --record=true"
    );
}

#[tokio::test]
async fn a_rollout_to_a_missing_image_stops_at_13_pods_with_8_old_available() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    c.create::<Deployment>(&mydeploy(10, json!({}))).await;
    wait_rolled_out(&c).await;
    set_image(&c, "nginx:1.9.21").await;
    let (old, new) = eventually("the stuck state", || async {
        let p = pods(&c, "run=nginx").await;
        let new = p
            .iter()
            .filter(|p| {
                p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nginx:1.9.21")
            })
            .count();
        (p.len() == 13 && new == 5).then_some((p.len() - new, new))
    })
    .await;
    assert_eq!((old, new), (8, 5));
    // It stays there.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(pods(&c, "run=nginx").await.len(), 13);
    let d = deploy(&c).await;
    let s = d.status.unwrap();
    assert_eq!(
        (
            s.replicas,
            s.updated_replicas,
            s.available_replicas,
            s.unavailable_replicas
        ),
        (Some(13), Some(5), Some(8), Some(5))
    );
}

#[tokio::test]
async fn undo_reuses_the_old_replicaset_as_the_newest_revision() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    c.create::<Deployment>(&mydeploy(10, json!({}))).await;
    wait_rolled_out(&c).await;
    set_image(&c, "nginx:1.9.1").await;
    wait_rolled_out(&c).await;
    set_image(&c, "nginx:1.9.21").await;
    eventually("revision 3", || async {
        replica_sets(&c)
            .await
            .iter()
            .any(|rs| rev(rs) == 3)
            .then_some(())
    })
    .await;
    undo(&c, 0).await;
    let d = wait_rolled_out(&c).await;
    let mut history: Vec<(i64, String)> = replica_sets(&c)
        .await
        .iter()
        .map(|rs| (rev(rs), image_of(rs)))
        .collect();
    history.sort();
    assert_eq!(
        history,
        vec![
            (1, "nginx:1.7.9".to_string()),
            (3, "nginx:1.9.21".to_string()),
            (4, "nginx:1.9.1".to_string())
        ]
    );
    assert_eq!(
        replica_sets(&c).await.len(),
        3,
        "no new replica set for the undo"
    );
    let four = replica_sets(&c)
        .await
        .into_iter()
        .find(|rs| rev(rs) == 4)
        .unwrap();
    assert_eq!(
        four.annotations()["deployment.kubernetes.io/revision-history"],
        "2"
    );
    assert_eq!(d.annotations()[REVISION], "4");
    let now = pods(&c, "run=nginx").await;
    assert_eq!(now.len(), 10);
    assert!(now
        .iter()
        .all(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nginx:1.9.1")));
    // --to-revision=1
    undo(&c, 1).await;
    wait_rolled_out(&c).await;
    let mut history: Vec<(i64, String)> = replica_sets(&c)
        .await
        .iter()
        .map(|rs| (rev(rs), image_of(rs)))
        .collect();
    history.sort();
    assert_eq!(history[2], (5, "nginx:1.7.9".to_string()));
    assert!(pods(&c, "run=nginx")
        .await
        .iter()
        .all(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nginx:1.7.9")));
}

#[tokio::test]
async fn scaling_in_the_middle_of_a_rollout_is_proportional() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    c.create::<Deployment>(&mydeploy(10, json!({}))).await;
    wait_rolled_out(&c).await;
    set_image(&c, "nginx:1.9.21").await;
    eventually("the stuck state", || async {
        (pods(&c, "run=nginx").await.len() == 13).then_some(())
    })
    .await;
    eventually("old at 8, new at 5", || async {
        let mut sizes: Vec<i32> = replica_sets(&c)
            .await
            .iter()
            .map(|rs| rs.spec.as_ref().unwrap().replicas.unwrap())
            .collect();
        sizes.sort();
        (sizes == vec![5, 8]).then_some(())
    })
    .await;
    c.api::<Deployment>()
        .patch_scale(
            "mydeploy",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 15}})),
        )
        .await
        .unwrap();
    // allowed 15+4=19, current 13 → +6: old round(8*19/13)=12 (+4), new round(5*19/13)=7 (+2).
    eventually("old at 12, new at 7", || async {
        let rss = replica_sets(&c).await;
        let old = rss
            .iter()
            .find(|rs| rev(rs) == 1)?
            .spec
            .as_ref()?
            .replicas?;
        let new = rss
            .iter()
            .find(|rs| rev(rs) == 2)?
            .spec
            .as_ref()?
            .replicas?;
        (old == 12 && new == 7).then_some(())
    })
    .await;
}

#[tokio::test]
async fn old_replicasets_beyond_the_history_limit_are_deleted() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    c.create::<Deployment>(&mydeploy(2, json!({"revisionHistoryLimit": 1})))
        .await;
    wait_rolled_out(&c).await;
    for image in ["nginx:1.9.1", "nginx:1.9.2", "nginx:1.9.3"] {
        set_image(&c, image).await;
        wait_rolled_out(&c).await;
    }
    let rss = eventually("one old replica set kept", || async {
        let rss = replica_sets(&c).await;
        (rss.len() == 2).then_some(rss)
    })
    .await;
    let mut revs: Vec<i64> = rss.iter().map(rev).collect();
    revs.sort();
    assert_eq!(revs, vec![3, 4]);
}

#[tokio::test]
async fn a_rollout_that_stops_progressing_exceeds_its_deadline_on_the_clock() {
    let clock = Arc::new(FakeClock::at(
        UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    ));
    let mut c = Cluster::start_with_clock(clock.clone()).await;
    c.run_kubelet(by_image);
    c.create::<Deployment>(&mydeploy(4, json!({"progressDeadlineSeconds": 60})))
        .await;
    wait_rolled_out(&c).await;
    set_image(&c, "nginx:1.9.21").await;
    let progressing = |d: &Deployment| {
        d.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == "Progressing")
            .map(|c| {
                (
                    c.status.clone(),
                    c.reason.clone().unwrap_or_default(),
                    c.message.clone().unwrap_or_default(),
                )
            })
    };
    // Wait for the stuck state to be fully reported, so no later progress moves the deadline.
    eventually("ReplicaSetUpdated", || async {
        let d = deploy(&c).await;
        let s = d.status.clone()?;
        let settled =
            (s.replicas, s.updated_replicas, s.available_replicas) == (Some(5), Some(2), Some(3));
        (progressing(&d)?.1 == "ReplicaSetUpdated" && settled).then_some(())
    })
    .await;
    clock.advance(Duration::from_secs(30));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        progressing(&deploy(&c).await).unwrap().1,
        "ReplicaSetUpdated"
    );
    clock.advance(Duration::from_secs(40));
    let (status, _, message) = eventually("ProgressDeadlineExceeded", || async {
        let p = progressing(&deploy(&c).await)?;
        (p.1 == "ProgressDeadlineExceeded").then_some(p)
    })
    .await;
    assert_eq!(status, "False");
    let new = replica_sets(&c)
        .await
        .into_iter()
        .find(|rs| rev(rs) == 2)
        .unwrap();
    assert_eq!(
        message,
        format!(
            "ReplicaSet \"{}\" has timed out progressing.",
            new.name_any()
        )
    );
}

#[tokio::test]
async fn a_recreate_deployment_removes_old_pods_before_creating_new_ones() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    c.create::<Deployment>(&mydeploy(
        3,
        json!({"strategy": {"type": "Recreate", "rollingUpdate": null}}),
    ))
    .await;
    wait_rolled_out(&c).await;
    set_image(&c, "nginx:1.9.1").await;
    // Never both images at once.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let p = pods(&c, "run=nginx").await;
        let images: std::collections::BTreeSet<String> = p
            .iter()
            .map(|p| {
                p.spec.as_ref().unwrap().containers[0]
                    .image
                    .clone()
                    .unwrap()
            })
            .collect();
        assert!(images.len() <= 1, "old and new pods together: {images:?}");
        if rolled_out(&deploy(&c).await)
            && images.iter().next().map(String::as_str) == Some("nginx:1.9.1")
            && p.len() == 3
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "recreate did not finish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn pausing_and_resuming_sets_the_progressing_condition() {
    let mut c = Cluster::start().await;
    c.run_kubelet(by_image);
    c.create::<Deployment>(&mydeploy(2, json!({}))).await;
    wait_rolled_out(&c).await;
    let api = c.api::<Deployment>();
    let reason = |d: Deployment| {
        d.status?
            .conditions?
            .into_iter()
            .find(|c| c.type_ == "Progressing")?
            .reason
    };
    api.patch(
        "mydeploy",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": true}})),
    )
    .await
    .unwrap();
    eventually("DeploymentPaused", || async {
        (reason(deploy(&c).await)? == "DeploymentPaused").then_some(())
    })
    .await;
    set_image(&c, "nginx:1.9.1").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(replica_sets(&c).await.len(), 1, "no rollout while paused");
    api.patch(
        "mydeploy",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"paused": false}})),
    )
    .await
    .unwrap();
    wait_rolled_out(&c).await;
    assert_eq!(replica_sets(&c).await.len(), 2);
    // kubectl rollout restart: a template annotation makes a new revision.
    api.patch(
        "mydeploy",
        &PatchParams::default(),
        &Patch::Strategic(json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}})),
    )
    .await
    .unwrap();
    let d = eventually("revision 3", || async {
        let d = deploy(&c).await;
        (d.annotations().get(REVISION).map(String::as_str) == Some("3") && rolled_out(&d))
            .then_some(d)
    })
    .await;
    assert_eq!(d.status.unwrap().updated_replicas, Some(2));
}
