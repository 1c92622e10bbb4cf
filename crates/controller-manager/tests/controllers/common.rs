//! Test support: an in-process API server with the controllers running against it, a
//! scripted kubelet that writes pod status through `/status`, and polling with a deadline.

use apimachinery::clock::{Clock, SystemClock};
use controller_manager::shared::time::to_time;
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus, Pod,
    PodCondition, PodStatus,
};
use kube::api::{ListParams, PostParams};
use kube::{Api, Client, ResourceExt};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Cluster {
    _server: apiserver::server::InProcess,
    pub client: Client,
    pub clock: Arc<dyn Clock>,
    controllers: Option<tokio::task::JoinHandle<()>>,
    kubelet: Option<tokio::task::JoinHandle<()>>,
}

impl Cluster {
    pub async fn start() -> Cluster {
        Self::start_with_clock(Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> Cluster {
        let mut c = Self::server_only(clock).await;
        c.start_controllers();
        c
    }

    /// The API server alone (start the controllers later, or not at all).
    pub async fn server_only(clock: Arc<dyn Clock>) -> Cluster {
        let server = apiserver::server::InProcess::start_with_clock(clock.clone())
            .await
            .expect("api server");
        let client = client_for(&server.url);
        Cluster {
            _server: server,
            client,
            clock,
            controllers: None,
            kubelet: None,
        }
    }

    pub fn start_controllers(&mut self) {
        let client = self.client.clone();
        let opts = controller_manager::Options {
            clock: self.clock.clone(),
            workers: 2,
        };
        self.controllers = Some(tokio::spawn(async move {
            controller_manager::run_with(client, opts)
                .await
                .expect("controllers");
        }));
    }

    pub fn stop_controllers(&mut self) {
        if let Some(t) = self.controllers.take() {
            t.abort();
        }
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope> + DeserializeOwned,
        K::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), "default")
    }

    /// Create `obj` in the default namespace (the test fails if the API refuses it).
    pub async fn create<K>(&self, obj: &K) -> K
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + DeserializeOwned
            + serde::Serialize
            + Clone
            + std::fmt::Debug,
        K::DynamicType: Default,
    {
        self.api::<K>()
            .create(&kube::api::PostParams::default(), obj)
            .await
            .expect("create")
    }

    /// Play the kubelet: every pod not yet handled gets the verdict of `policy`.
    pub fn run_kubelet(
        &mut self,
        policy: impl Fn(&Pod) -> Option<Verdict> + Send + Sync + 'static,
    ) {
        let pods: Api<Pod> = Api::all(self.client.clone());
        let clock = self.clock.clone();
        let client = self.client.clone();
        self.kubelet = Some(tokio::spawn(async move {
            loop {
                if let Ok(list) = pods.list(&ListParams::default()).await {
                    for pod in list.items {
                        if pod.metadata.deletion_timestamp.is_some()
                            || pod
                                .status
                                .as_ref()
                                .is_some_and(|s| s.container_statuses.is_some())
                        {
                            continue;
                        }
                        if let Some(v) = policy(&pod) {
                            let api: Api<Pod> = Api::namespaced(
                                client.clone(),
                                &pod.namespace().unwrap_or_default(),
                            );
                            let _ = set_status(&api, pod, v, clock.now()).await;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_controllers();
        if let Some(k) = self.kubelet.take() {
            k.abort();
        }
    }
}

pub fn client_for(url: &str) -> Client {
    let config = kube::Config::new(url.parse().expect("url"));
    Client::try_from(config).expect("client")
}

/// What the scripted kubelet does with a pod.
#[derive(Clone, Copy, Debug)]
pub enum Verdict {
    /// Running and Ready.
    Ready,
    /// The image cannot be pulled (`ErrImagePull`).
    ImagePullError,
}

fn image(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

/// Ready unless the image tag is one that does not exist (`nginx:1.9.21`).
pub fn by_image(pod: &Pod) -> Option<Verdict> {
    if image(pod).ends_with(":1.9.21") {
        Some(Verdict::ImagePullError)
    } else {
        Some(Verdict::Ready)
    }
}

pub async fn set_status(
    api: &Api<Pod>,
    mut pod: Pod,
    v: Verdict,
    now: std::time::SystemTime,
) -> kube::Result<Pod> {
    let name = pod.name_any();
    let container = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let t = to_time(now);
    let ready = matches!(v, Verdict::Ready);
    let state = if ready {
        ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(t.clone()),
            }),
            ..Default::default()
        }
    } else {
        ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some("ErrImagePull".into()),
                message: Some("image not found".into()),
            }),
            ..Default::default()
        }
    };
    let cond = |type_: &str| PodCondition {
        type_: type_.into(),
        status: if ready { "True" } else { "False" }.into(),
        last_transition_time: Some(t.clone()),
        ..Default::default()
    };
    pod.status = Some(PodStatus {
        phase: Some(if ready { "Running" } else { "Pending" }.into()),
        conditions: Some(vec![cond("Ready"), cond("ContainersReady")]),
        container_statuses: Some(vec![ContainerStatus {
            name: container,
            image: image(&pod),
            image_id: String::new(),
            ready,
            restart_count: 0,
            state: Some(state),
            ..Default::default()
        }]),
        ..Default::default()
    });
    api.replace_status(&name, &PostParams::default(), &pod)
        .await
}

/// Poll `f` until it returns `Some`, for at most 30 seconds.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

/// Active (not deleting) pods in `default` whose labels contain `labels`.
pub async fn pods(c: &Cluster, selector: &str) -> Vec<Pod> {
    pods_as(c, selector).await
}

/// `pods`, read as `K` (`CachedPod`: as the controllers see them).
pub async fn pods_as<K>(c: &Cluster, selector: &str) -> Vec<K>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = c.api();
    api.list(&ListParams::default().labels(selector))
        .await
        .expect("list pods")
        .items
        .into_iter()
        .filter(|p| p.meta().deletion_timestamp.is_none())
        .collect()
}
