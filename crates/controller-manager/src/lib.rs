//! kube-lite's controller-manager: every controller is a kube-rs client of the API server that
//! watches it (kube-runtime watchers and reflector stores shared per kind, feeding a work
//! queue per controller), never a shortcut into storage.
//!
//! Layout (upstream's split): `shared/` (informers and queue, expectations, pod control,
//! adoption, deletion ranking, slow start, events), `replicaset/`, `deployment/`, `gc/`
//! (garbage collector), `namespace/` (namespace deletion).

pub mod deployment;
pub mod gc;
pub mod namespace;
pub mod replicaset;
pub mod shared;

use apimachinery::clock::{Clock, SystemClock};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
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
    let mut pods = Informer::new(Api::<Pod>::all(client.clone()));
    let mut rss = Informer::new(Api::<ReplicaSet>::all(client.clone()));
    let mut deploys = Informer::new(Api::<Deployment>::all(client.clone()));
    let rs_controller = replicaset::ReplicaSetController::new(&ctx, &mut rss, &mut pods);
    let deploy_controller =
        deployment::DeploymentController::new(&ctx, &mut deploys, &mut rss, &mut pods);
    let (pod_store, rs_store, deploy_store) =
        (pods.store.clone(), rss.store.clone(), deploys.store.clone());
    let gc = gc::GarbageCollector::new(&ctx);
    let ns = namespace::NamespaceController::new(&ctx);
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(pods.run());
    tasks.spawn(rss.run());
    tasks.spawn(deploys.run());
    // Workers start once every store holds a full list, so no sync acts on a partial cache.
    for ready in [
        pod_store.wait_until_ready().await.is_ok(),
        rs_store.wait_until_ready().await.is_ok(),
        deploy_store.wait_until_ready().await.is_ok(),
    ] {
        anyhow::ensure!(ready, "an informer stopped before it synced");
    }
    tasks.spawn(rs_controller.run(opts.workers));
    tasks.spawn(deploy_controller.run(opts.workers));
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
