//! kube-lite's controller-manager: every controller is a kube-rs client of the API server that
//! watches it (kube-runtime watchers and reflector stores shared per kind, feeding a work
//! queue per controller), never a shortcut into storage.
//!
//! Layout (upstream's split): `shared/` (informers and queue, expectations, pod control,
//! adoption, deletion ranking, slow start, events), `replicaset/`, `deployment/`, `gc/`
//! (garbage collector), `namespace/` (namespace deletion), `statefulset/`, `daemonset/`.

pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod gc;
pub mod job;
pub mod namespace;
pub mod replicaset;
pub mod shared;
pub mod statefulset;

use apimachinery::clock::{Clock, SystemClock};
use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ContainerStatus, Node, Pod};
use kube::Api;
use shared::informer::Informer;
use std::sync::Arc;

/// What every controller is given: the API client and the clock.
#[derive(Clone)]
pub struct Context {
    pub client: kube::Client,
    pub clock: Arc<dyn Clock>,
}

/// How the controllers run.
#[derive(Clone)]
pub struct Options {
    pub clock: Arc<dyn Clock>,
    /// Workers per controller.
    pub workers: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clock: Arc::new(SystemClock),
            workers: 4,
        }
    }
}

/// Run every controller against the API server `client` talks to, until the future is dropped.
pub async fn run(client: kube::Client) -> anyhow::Result<()> {
    run_with(client, Options::default()).await
}

/// `run` with an explicit clock and worker count (tests use a fake clock).
pub async fn run_with(client: kube::Client, opts: Options) -> anyhow::Result<()> {
    let ctx = Context {
        client: client.clone(),
        clock: opts.clock.clone(),
    };
    let mut pods = Informer::new(Api::<Pod>::all(client.clone())).with_transform(controller_view);
    let mut rss = Informer::new(Api::<ReplicaSet>::all(client.clone()));
    let mut deploys = Informer::new(Api::<Deployment>::all(client.clone()));
    let mut jobs = Informer::new(Api::<Job>::all(client.clone()));
    let mut cronjobs = Informer::new(Api::<CronJob>::all(client.clone()));
    let rs_controller = replicaset::ReplicaSetController::new(&ctx, &mut rss, &mut pods);
    let deploy_controller =
        deployment::DeploymentController::new(&ctx, &mut deploys, &mut rss, &mut pods);
    let job_controller = job::JobController::new(&ctx, &mut jobs, &mut pods);
    let cronjob_controller = cronjob::CronJobController::new(&ctx, &mut cronjobs, &mut jobs);
    let mut sets = Informer::new(Api::<StatefulSet>::all(client.clone()));
    let mut dss = Informer::new(Api::<DaemonSet>::all(client.clone()));
    let mut nodes = Informer::new(Api::<Node>::all(client.clone()));
    let mut revisions = Informer::new(Api::<ControllerRevision>::all(client.clone()));
    let sts_controller =
        statefulset::StatefulSetController::new(&ctx, &mut sets, &mut pods, &mut revisions);
    let ds_controller =
        daemonset::DaemonSetController::new(&ctx, &mut dss, &mut pods, &mut nodes, &mut revisions);
    let workload_stores = (
        sets.store.clone(),
        dss.store.clone(),
        nodes.store.clone(),
        revisions.store.clone(),
    );
    let (pod_store, rs_store, deploy_store) =
        (pods.store.clone(), rss.store.clone(), deploys.store.clone());
    let (job_store, cronjob_store) = (jobs.store.clone(), cronjobs.store.clone());
    let gc = gc::GarbageCollector::new(&ctx);
    let ns = namespace::NamespaceController::new(&ctx);
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(pods.run());
    tasks.spawn(rss.run());
    tasks.spawn(deploys.run());
    tasks.spawn(jobs.run());
    tasks.spawn(cronjobs.run());
    tasks.spawn(sets.run());
    tasks.spawn(dss.run());
    tasks.spawn(nodes.run());
    tasks.spawn(revisions.run());
    // Workers start once every store holds a full list, so no sync acts on a partial cache.
    for ready in [
        pod_store.wait_until_ready().await.is_ok(),
        rs_store.wait_until_ready().await.is_ok(),
        deploy_store.wait_until_ready().await.is_ok(),
        job_store.wait_until_ready().await.is_ok(),
        cronjob_store.wait_until_ready().await.is_ok(),
    ] {
        anyhow::ensure!(ready, "an informer stopped before it synced");
    }
    for ready in [
        workload_stores.0.wait_until_ready().await.is_ok(),
        workload_stores.1.wait_until_ready().await.is_ok(),
        workload_stores.2.wait_until_ready().await.is_ok(),
        workload_stores.3.wait_until_ready().await.is_ok(),
    ] {
        anyhow::ensure!(ready, "an informer stopped before it synced");
    }
    tasks.spawn(rs_controller.run(opts.workers));
    tasks.spawn(deploy_controller.run(opts.workers));
    tasks.spawn(job_controller.run(opts.workers));
    tasks.spawn(cronjob_controller.run(opts.workers));
    tasks.spawn(sts_controller.run(opts.workers));
    tasks.spawn(ds_controller.run(opts.workers));
    tasks.spawn(gc.run(opts.workers));
    tasks.spawn(ns.run(opts.workers));
    while let Some(r) = tasks.join_next().await {
        if let Err(e) = r {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
    Ok(())
}

/// What the controllers keep of a pod in their shared cache: its metadata, its scheduling
/// fields (node name, selector, affinity, tolerations) and its status. Its containers and
/// volumes, most of a typed pod's size, are dropped on arrival, as a client-go informer
/// transform would: no controller reads them from a live pod (pods are built from templates,
/// and every write to an existing pod is a patch of the fields it changes). Of each container
/// status only what the controllers read is kept: name, readiness, restart count and the
/// current state (ranking, Job backoff and pod failure policy); images, container IDs, the
/// last state and resources go.
fn controller_view(pod: &mut Pod) {
    if let Some(spec) = pod.spec.as_mut() {
        spec.containers = Vec::new();
        spec.init_containers = None;
        spec.ephemeral_containers = None;
        spec.volumes = None;
    }
    if let Some(status) = pod.status.as_mut() {
        for statuses in [
            &mut status.container_statuses,
            &mut status.init_container_statuses,
            &mut status.ephemeral_container_statuses,
        ] {
            for c in statuses.iter_mut().flatten() {
                *c = ContainerStatus {
                    name: std::mem::take(&mut c.name),
                    ready: c.ready,
                    restart_count: c.restart_count,
                    started: c.started,
                    state: c.state.take(),
                    ..ContainerStatus::default()
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_controllers_keep_a_pods_metadata_scheduling_and_status_but_not_its_containers() {
        let terminated = json!({"terminated": {"exitCode": 3, "reason": "Error",
            "finishedAt": "2026-01-01T00:01:00Z"}});
        let mut pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web-1", "labels": {"app": "web"},
                "annotations": {"controller.kubernetes.io/pod-deletion-cost": "5"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": "web", "uid": "u", "controller": true}]},
            "spec": {"nodeName": "kube-lite-worker",
                "containers": [{"name": "nginx", "image": "nginx:1.27",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                "initContainers": [{"name": "init", "image": "busybox"}],
                "volumes": [{"name": "data", "emptyDir": {}}],
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                    "effect": "NoExecute", "tolerationSeconds": 300}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "nginx", "image": "nginx:1.27",
                    "imageID": "docker.io/library/nginx@sha256:0d17", "containerID": "containerd://9f",
                    "ready": true, "restartCount": 2, "started": true,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                    "lastState": terminated}],
                "initContainerStatuses": [{"name": "init", "image": "busybox", "imageID": "",
                    "ready": false, "restartCount": 0, "state": terminated}]}
        }))
        .unwrap();
        let before = pod.clone();
        controller_view(&mut pod);
        let spec = pod.spec.as_ref().unwrap();
        assert!(spec.containers.is_empty());
        assert!(spec.init_containers.is_none() && spec.volumes.is_none());
        let before_spec = before.spec.as_ref().unwrap();
        assert_eq!(spec.node_name, before_spec.node_name);
        assert_eq!(spec.tolerations, before_spec.tolerations);
        assert_eq!(pod.metadata, before.metadata);
        let (status, before_status) = (pod.status.unwrap(), before.status.unwrap());
        assert_eq!(status.conditions, before_status.conditions);
        assert_eq!(status.phase, before_status.phase);
        // Of the container statuses: what ranking, Job backoff and failure policy read.
        let kept = |c: &ContainerStatus| {
            (
                c.name.clone(),
                c.ready,
                c.restart_count,
                c.started,
                c.state.clone(),
            )
        };
        for (now, was) in [
            (
                &status.container_statuses,
                &before_status.container_statuses,
            ),
            (
                &status.init_container_statuses,
                &before_status.init_container_statuses,
            ),
        ] {
            let (now, was) = (now.as_ref().unwrap(), was.as_ref().unwrap());
            assert_eq!(
                now.iter().map(kept).collect::<Vec<_>>(),
                was.iter().map(kept).collect::<Vec<_>>()
            );
            assert!(now
                .iter()
                .all(|c| c.image.is_empty() && c.image_id.is_empty()));
            assert!(now
                .iter()
                .all(|c| c.container_id.is_none() && c.last_state.is_none()));
        }
    }
}
