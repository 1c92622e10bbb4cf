//! kube-lite's controller-manager: every controller is a kube-rs client of the API server that
//! watches it (kube-runtime watchers and reflector stores shared per kind, feeding a work
//! queue per controller), never a shortcut into storage.
//!
//! Layout (upstream's split): `shared/` (informers and queue, the cached pod, expectations, pod
//! control, adoption, deletion ranking, slow start, events), `replicaset/`, `deployment/`, `gc/`
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
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use shared::cached_pod::CachedPod;
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
    // Pods as the controllers read them (`CachedPod`): containers, volumes and most of the
    // status are skipped while deserializing.
    let mut pods = Informer::new(Api::<CachedPod>::all(client.clone()));
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
