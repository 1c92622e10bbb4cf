use crate::common::*;
use controller_manager::daemonset::util::target_node;
use controller_manager::shared::cached_pod::CachedPod;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;

fn fluentd() -> DaemonSet {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "fluentd"},
        "spec": {
            "selector": {"matchLabels": {"name": "fluentd"}},
            "template": {
                "metadata": {"labels": {"name": "fluentd"}},
                "spec": {
                    "containers": [{"name": "fluentd", "image": "fluentd",
                        "volumeMounts": [{"name": "varlog", "mountPath": "/var/lib/docker/containers"}]}],
                    "volumes": [{"name": "varlog", "hostPath": {"path": "/var/lib/docker/containers"}}]
                }
            }
        }
    }))
    .unwrap()
}

async fn add_node(c: &Cluster, name: &str) {
    let n: Node = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Node>::all(c.client.clone())
        .create(&PostParams::default(), &n)
        .await
        .unwrap();
}

/// The nodes the DaemonSet's live pods are pinned to, sorted.
async fn pinned_nodes(c: &Cluster) -> Vec<String> {
    let mut v: Vec<String> = pods_as::<CachedPod>(c, "name=fluentd")
        .await
        .iter()
        .filter_map(target_node)
        .collect();
    v.sort();
    v
}

async fn wait_for_nodes(c: &Cluster, want: &[&str]) {
    let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    eventually(&format!("pods on {want:?}"), || async {
        // Play the kubelet: finish deletions at once.
        let api: Api<Pod> = c.api();
        for p in api.list(&ListParams::default()).await.ok()?.items {
            if p.metadata.deletion_timestamp.is_some() {
                let _ = api
                    .delete(&p.name_any(), &DeleteParams::default().grace_period(0))
                    .await;
            }
        }
        (pinned_nodes(c).await == want).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_daemon_set_follows_nodes_as_they_join_leave_and_get_tainted() {
    let mut c = Cluster::start().await;
    c.run_kubelet(|_| Some(Verdict::Ready));
    add_node(&c, "node-1").await;
    add_node(&c, "node-2").await;
    c.create::<DaemonSet>(&fluentd()).await;
    wait_for_nodes(&c, &["node-1", "node-2"]).await;

    let pod = &pods(&c, "name=fluentd").await[0];
    assert!(pod.name_any().starts_with("fluentd-"));
    let spec = pod.spec.clone().unwrap();
    assert_eq!(spec.node_name, None, "placed by the scheduler");
    let tols: Vec<String> = spec
        .tolerations
        .unwrap()
        .iter()
        .map(|t| format!("{}:{}", t.key.clone().unwrap(), t.effect.clone().unwrap()))
        .collect();
    for want in [
        "node.kubernetes.io/not-ready:NoExecute",
        "node.kubernetes.io/unreachable:NoExecute",
        "node.kubernetes.io/disk-pressure:NoSchedule",
        "node.kubernetes.io/memory-pressure:NoSchedule",
        "node.kubernetes.io/pid-pressure:NoSchedule",
        "node.kubernetes.io/unschedulable:NoSchedule",
    ] {
        assert!(tols.contains(&want.to_string()), "{want} in {tols:?}");
    }
    let labels = pod.labels();
    assert!(labels.contains_key("controller-revision-hash"));
    assert_eq!(labels["pod-template-generation"], "1");

    let ds = eventually("status", || async {
        let d = c.api::<DaemonSet>().get("fluentd").await.ok()?;
        let s = d.status.clone()?;
        (s.number_available == Some(2) && s.updated_number_scheduled == Some(2)).then_some(d)
    })
    .await;
    let s = ds.status.unwrap();
    assert_eq!(
        (
            s.desired_number_scheduled,
            s.current_number_scheduled,
            s.number_ready,
            s.number_misscheduled,
            s.number_unavailable
        ),
        (2, 2, 2, 0, Some(0))
    );
    assert_eq!(s.observed_generation, ds.metadata.generation);
    let revs = c
        .api::<ControllerRevision>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(revs.len(), 1);
    assert_eq!(
        revs[0].name_any(),
        format!("fluentd-{}", labels["controller-revision-hash"])
    );

    // A node that joins later gets its pod.
    add_node(&c, "node-3").await;
    wait_for_nodes(&c, &["node-1", "node-2", "node-3"]).await;

    // An untolerated NoExecute taint evicts; NoSchedule alone would keep it running.
    Api::<Node>::all(c.client.clone())
        .patch(
            "node-2",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]}})),
        )
        .await
        .unwrap();
    wait_for_nodes(&c, &["node-1", "node-3"]).await;

    // A node that goes away loses its pod.
    Api::<Node>::all(c.client.clone())
        .delete("node-3", &DeleteParams::default())
        .await
        .unwrap();
    wait_for_nodes(&c, &["node-1"]).await;

    let events: Api<Event> = c.api();
    eventually("events", || async {
        let evs = events.list(&ListParams::default()).await.ok()?.items;
        evs.iter()
            .any(|e| {
                e.reason.as_deref() == Some("SuccessfulCreate")
                    && e.message
                        .as_deref()
                        .is_some_and(|m| m.starts_with("Created pod: fluentd-"))
            })
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_template_change_rolls_pods_node_by_node_to_the_new_revision() {
    let mut c = Cluster::start().await;
    c.run_kubelet(|_| Some(Verdict::Ready));
    for n in ["node-1", "node-2", "node-3"] {
        add_node(&c, n).await;
    }
    c.create::<DaemonSet>(&fluentd()).await;
    wait_for_nodes(&c, &["node-1", "node-2", "node-3"]).await;
    c.api::<DaemonSet>()
        .patch(
            "fluentd",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "fluentd", "image": "fluentd:v2"}]}}}})),
        )
        .await
        .unwrap();
    eventually("rolled out", || async {
        let api: Api<Pod> = c.api();
        for p in api.list(&ListParams::default()).await.ok()?.items {
            if p.metadata.deletion_timestamp.is_some() {
                let _ = api
                    .delete(&p.name_any(), &DeleteParams::default().grace_period(0))
                    .await;
            }
        }
        let d = c.api::<DaemonSet>().get("fluentd").await.ok()?;
        let s = d.status?;
        let pods = pods(&c, "name=fluentd").await;
        let all_new = pods.len() == 3
            && pods.iter().all(|p| {
                p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("fluentd:v2")
            });
        (all_new
            && s.updated_number_scheduled == Some(3)
            && s.number_available == Some(3)
            && s.observed_generation == d.metadata.generation)
            .then_some(())
    })
    .await;
    let revs = c
        .api::<ControllerRevision>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(revs.len(), 2);
    assert_eq!(
        revs.iter().map(|r| r.revision).max(),
        Some(2),
        "revisions 1 and 2"
    );
}
