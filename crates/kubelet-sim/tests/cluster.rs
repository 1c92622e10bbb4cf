//! The simulated cluster against an in-process API server (memory storage, free port), driven
//! with a kube-rs client: nodes, scheduling, the pod lifecycle, Services, volumes.

use apimachinery::clock::FakeClock;
use k8s_openapi::api::core::v1::{
    Endpoints, Event, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::Api;
use kubelet_sim::{Options, SimClock};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

struct Cluster {
    client: kube::Client,
    _server: apiserver::server::InProcess,
    _dir: tempfile::TempDir,
    clock: SimClock,
}

async fn start_with(clock: SimClock, fake: Option<Arc<FakeClock>>) -> Cluster {
    let server = match fake {
        Some(f) => apiserver::server::InProcess::start_with_clock(f)
            .await
            .unwrap(),
        None => apiserver::server::InProcess::start().await.unwrap(),
    };
    let client = kube::Client::try_from(kube::Config::new(server.url.parse().unwrap())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        workers: 2,
        fast: true,
        image_catalog: None,
        data_dir: dir.path().to_path_buf(),
        ..Options::default()
    };
    let c = client.clone();
    let sim_clock = clock.clone();
    tokio::spawn(async move {
        if let Err(e) = kubelet_sim::run_with_clock(c, opts, sim_clock).await {
            panic!("simulation stopped: {e:#}");
        }
    });
    Cluster {
        client,
        _server: server,
        _dir: dir,
        clock,
    }
}

async fn start() -> Cluster {
    start_with(SimClock::system(), None).await
}

/// Poll `f` until it yields `Some`, for up to 20 s.
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if std::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn obj<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

impl Cluster {
    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "default")
    }

    async fn create_pod(&self, v: Value) -> Pod {
        self.pods()
            .create(&PostParams::default(), &obj(v))
            .await
            .unwrap()
    }

    async fn pod_where(&self, name: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let api = self.pods();
        eventually(what, || {
            let api = api.clone();
            let pred = &pred;
            async move {
                let p = api.get_opt(name).await.ok().flatten()?;
                let v = to_json(&p);
                pred(&v).then_some(v)
            }
        })
        .await
    }

    async fn events_of(&self, name: &str) -> Vec<Value> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), "default");
        let lp = ListParams::default().fields(&format!("involvedObject.name={name}"));
        api.list(&lp)
            .await
            .unwrap()
            .items
            .iter()
            .map(to_json)
            .collect()
    }

    async fn wait_event(&self, name: &str, reason: &str) -> Vec<Value> {
        eventually(&format!("event {reason} of {name}"), || async {
            let evs = self.events_of(name).await;
            evs.iter().any(|e| e["reason"] == reason).then_some(evs)
        })
        .await
    }

    async fn ready_nodes(&self, n: usize) -> Vec<Value> {
        let api: Api<Node> = Api::all(self.client.clone());
        eventually(&format!("{n} ready nodes"), || {
            let api = api.clone();
            async move {
                let list = api.list(&ListParams::default()).await.ok()?;
                let nodes: Vec<Value> = list.items.iter().map(to_json).collect();
                let ready = nodes
                    .iter()
                    .filter(|n| {
                        n["status"]["conditions"].as_array().is_some_and(|c| {
                            c.iter()
                                .any(|c| c["type"] == "Ready" && c["status"] == "True")
                        })
                    })
                    .count();
                (ready == n).then_some(nodes)
            }
        })
        .await
    }
}

fn condition<'a>(pod: &'a Value, ty: &str) -> &'a Value {
    pod["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == ty))
        .unwrap_or(&Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_register_ready_with_the_control_plane_tainted_and_leases() {
    let c = start().await;
    let nodes = c.ready_nodes(3).await;
    let names: Vec<&str> = nodes
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "kube-lite-control-plane",
            "kube-lite-worker",
            "kube-lite-worker2"
        ]
    );
    let cp = &nodes[0];
    assert_eq!(
        cp["spec"]["taints"][0]["key"],
        "node-role.kubernetes.io/control-plane"
    );
    assert_eq!(cp["status"]["nodeInfo"]["kubeletVersion"], "v1.35.0");
    assert_eq!(nodes[1]["spec"]["podCIDR"], "10.244.1.0/24");
    assert_eq!(nodes[2]["status"]["addresses"][0]["address"], "172.18.0.4");
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(c.client.clone(), "kube-node-lease");
    let l = eventually("a lease", || async {
        leases.get_opt("kube-lite-worker").await.ok().flatten()
    })
    .await;
    assert_eq!(
        l.spec.unwrap().holder_identity.as_deref(),
        Some("kube-lite-worker")
    );
    // The kubernetes Service and the default StorageClass exist.
    let svc: Api<Service> = Api::namespaced(c.client.clone(), "default");
    let k = svc.get("kubernetes").await.unwrap();
    assert_eq!(k.spec.unwrap().cluster_ip.as_deref(), Some("10.96.0.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_is_scheduled_to_a_worker_and_runs_ready_with_an_ip_conditions_and_events() {
    let c = start().await;
    c.ready_nodes(3).await;
    c.create_pod(json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.7.9"}]}}))
        .await;
    let p = c
        .pod_where("web", "web Running and Ready", |p| {
            p["status"]["phase"] == "Running" && condition(p, "Ready")["status"] == "True"
        })
        .await;
    let node = p["spec"]["nodeName"].as_str().unwrap();
    assert!(node.starts_with("kube-lite-worker"), "{node}");
    let ip = p["status"]["podIP"].as_str().unwrap();
    let base = if node == "kube-lite-worker" {
        "10.244.1."
    } else {
        "10.244.2."
    };
    assert!(ip.starts_with(base), "{ip} on {node}");
    let types: Vec<&str> = p["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled"
        ]
    );
    let cs = &p["status"]["containerStatuses"][0];
    assert_eq!(cs["image"], "docker.io/library/nginx:1.7.9");
    assert!(cs["containerID"]
        .as_str()
        .unwrap()
        .starts_with("containerd://"));
    assert_eq!(cs["ready"], true);
    let evs = c.wait_event("web", "Started").await;
    let reasons: Vec<&str> = evs.iter().map(|e| e["reason"].as_str().unwrap()).collect();
    for r in ["Scheduled", "Pulling", "Pulled", "Created"] {
        assert!(reasons.contains(&r), "{r} in {reasons:?}");
    }
    let sched = evs.iter().find(|e| e["reason"] == "Scheduled").unwrap();
    assert_eq!(
        sched["message"],
        format!("Successfully assigned default/web to {node}")
    );
    assert_eq!(sched["source"]["component"], "default-scheduler");
    let started = evs.iter().find(|e| e["reason"] == "Started").unwrap();
    assert_eq!(started["source"]["host"], node);
    assert_eq!(
        started["involvedObject"]["fieldPath"],
        "spec.containers{nginx}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_tag_goes_err_image_pull_then_image_pull_backoff() {
    let c = start().await;
    c.ready_nodes(3).await;
    c.create_pod(json!({"metadata": {"name": "bad"}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.9.21"}]}}))
        .await;
    let waiting = |p: &Value| {
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
            .as_str()
            .map(str::to_string)
    };
    let p = c
        .pod_where("bad", "ErrImagePull", |p| {
            waiting(p).as_deref() == Some("ErrImagePull")
        })
        .await;
    assert_eq!(p["status"]["phase"], "Pending");
    c.pod_where("bad", "ImagePullBackOff", |p| {
        waiting(p).as_deref() == Some("ImagePullBackOff")
    })
    .await;
    let evs = c.wait_event("bad", "BackOff").await;
    let failed: Vec<&str> = evs
        .iter()
        .filter(|e| e["reason"] == "Failed")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        failed
            .iter()
            .any(|m| m
                .starts_with("Failed to pull image \"nginx:1.9.21\": rpc error: code = NotFound")),
        "{failed:?}"
    );
    assert!(failed.contains(&"Error: ErrImagePull"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_backoff_is_timed_by_the_clock_seam() {
    let fake = Arc::new(FakeClock::at(SystemTime::now()));
    let c = start_with(SimClock::fake(fake.clone()), Some(fake)).await;
    c.ready_nodes(3).await;
    c.create_pod(json!({"metadata": {"name": "bad"}, "spec": {"containers": [{"name": "c", "image": "busybox:9.99"}]}}))
        .await;
    // The scheduler's node cache may lag the API: a first attempt that found no node waits
    // out a scheduling back-off on the same fake clock, so time moves until the pod is bound.
    eventually("bad to be scheduled", || async {
        let p = c.pods().get_opt("bad").await.ok().flatten()?;
        if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some() {
            return Some(());
        }
        c.clock.advance(Duration::from_secs(1));
        None
    })
    .await;
    c.wait_event("bad", "Failed").await;
    let pulls = |evs: &[Value]| {
        evs.iter()
            .filter(|e| e["reason"] == "Pulling")
            .map(|e| e["count"].as_i64().unwrap_or(1))
            .sum::<i64>()
    };
    // The resync after the failure reports the back-off; then 10 s pass on the fake clock.
    for _ in 0..3 {
        c.clock.advance(Duration::from_millis(250));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.pod_where("bad", "ImagePullBackOff", |p| {
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff"
    })
    .await;
    assert_eq!(
        pulls(&c.events_of("bad").await),
        1,
        "no new pull before the back-off ends"
    );
    c.clock.advance(Duration::from_secs(10));
    eventually("a second pull", || async {
        (pulls(&c.events_of("bad").await) >= 2).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_pod_with_a_completing_image_ends_succeeded_and_completed() {
    let c = start().await;
    c.ready_nodes(3).await;
    c.create_pod(
        json!({"metadata": {"name": "once"}, "spec": {"restartPolicy": "Never",
        "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "echo hi"]}]}}),
    )
    .await;
    let p = c
        .pod_where("once", "Succeeded", |p| p["status"]["phase"] == "Succeeded")
        .await;
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["terminated"]["reason"],
        "Completed"
    );
    assert_eq!(condition(&p, "Ready")["reason"], "PodCompleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_running_pod_gracefully_ends_with_its_removal() {
    let c = start().await;
    c.ready_nodes(3).await;
    c.create_pod(json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}))
        .await;
    c.pod_where("web", "Running", |p| p["status"]["phase"] == "Running")
        .await;
    c.pods()
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    eventually("web removed", || async {
        c.pods()
            .get_opt("web")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    let evs = c.events_of("web").await;
    let killing = evs
        .iter()
        .find(|e| e["reason"] == "Killing")
        .expect("a Killing event");
    assert_eq!(killing["message"], "Stopping container nginx");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_gets_a_cluster_ip_and_an_endpointslice_listing_the_ready_pod() {
    let c = start().await;
    c.ready_nodes(3).await;
    c.create_pod(json!({"metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"name": "http", "containerPort": 80}]}]}}))
        .await;
    let p = c
        .pod_where("web", "Ready", |p| {
            condition(p, "Ready")["status"] == "True"
        })
        .await;
    let svcs: Api<Service> = Api::namespaced(c.client.clone(), "default");
    let created = svcs
        .create(&PostParams::default(), &obj(json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}})))
        .await
        .unwrap();
    let spec = created.spec.unwrap();
    let ip = spec.cluster_ip.unwrap();
    assert!(
        ip.starts_with("10.9") || ip.starts_with("10.10") || ip.starts_with("10.11"),
        "{ip}"
    );
    assert_eq!(spec.ip_families, Some(vec!["IPv4".to_string()]));
    assert_eq!(spec.ip_family_policy.as_deref(), Some("SingleStack"));
    let slices: Api<EndpointSlice> = Api::namespaced(c.client.clone(), "default");
    let slice = eventually("a slice with the pod", || async {
        let list = slices
            .list(&ListParams::default().labels("kubernetes.io/service-name=web"))
            .await
            .ok()?;
        list.items.into_iter().find(|s| !s.endpoints.is_empty())
    })
    .await;
    let ep = &slice.endpoints[0];
    assert_eq!(
        ep.addresses,
        vec![p["status"]["podIP"].as_str().unwrap().to_string()]
    );
    assert_eq!(ep.conditions.as_ref().unwrap().ready, Some(true));
    assert_eq!(ep.target_ref.as_ref().unwrap().name.as_deref(), Some("web"));
    assert_eq!(slice.ports.unwrap()[0].port, Some(80));
    let endpoints: Api<Endpoints> = Api::namespaced(c.client.clone(), "default");
    let e = eventually("endpoints", || async {
        endpoints.get_opt("web").await.ok().flatten()
    })
    .await;
    assert_eq!(
        to_json(&e)["subsets"][0]["addresses"][0]["ip"],
        p["status"]["podIP"]
    );
    // A NodePort Service gets a port of the range; a headless one no address.
    let np = svcs
        .create(&PostParams::default(), &obj(json!({"metadata": {"name": "np"}, "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}})))
        .await
        .unwrap();
    let n = np.spec.unwrap().ports.unwrap()[0].node_port.unwrap();
    assert!((30000..=32767).contains(&n));
    let hl = svcs
        .create(&PostParams::default(), &obj(json!({"metadata": {"name": "hl"}, "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"port": 80}]}})))
        .await
        .unwrap();
    assert_eq!(hl.spec.unwrap().cluster_ips, Some(vec!["None".to_string()]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_without_a_class_binds_to_a_provisioned_volume() {
    let c = start().await;
    c.ready_nodes(3).await;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(c.client.clone(), "default");
    let created = claims
        .create(&PostParams::default(), &obj(json!({"metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})))
        .await
        .unwrap();
    assert_eq!(
        created.spec.unwrap().storage_class_name.as_deref(),
        Some("standard")
    );
    let bound = eventually("claim bound", || async {
        let c = claims.get("data").await.ok()?;
        (c.status.as_ref()?.phase.as_deref() == Some("Bound")).then_some(c)
    })
    .await;
    let v = to_json(&bound);
    assert_eq!(v["status"]["capacity"]["storage"], "1Gi");
    assert_eq!(
        v["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"],
        "yes"
    );
    let pv_name = v["spec"]["volumeName"].as_str().unwrap().to_string();
    let pvs: Api<PersistentVolume> = Api::all(c.client.clone());
    let pv = to_json(&pvs.get(&pv_name).await.unwrap());
    assert_eq!(pv["spec"]["claimRef"]["name"], "data");
    let dir = pv["spec"]["hostPath"]["path"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&dir).is_dir(), "{dir}");
    // Deleting the claim deletes the volume and its directory (reclaim policy Delete).
    claims
        .delete("data", &DeleteParams::default())
        .await
        .unwrap();
    eventually("volume deleted", || async {
        pvs.get_opt(&pv_name).await.ok()?.is_none().then_some(())
    })
    .await;
    assert!(!std::path::Path::new(&dir).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_created_through_the_api_becomes_ready_and_its_deletion_deletes_its_pods() {
    let c = start().await;
    c.ready_nodes(3).await;
    let nodes: Api<Node> = Api::all(c.client.clone());
    nodes
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "extra", "labels": {"disk": "ssd"}}})),
        )
        .await
        .unwrap();
    let all = c.ready_nodes(4).await;
    let extra = all
        .iter()
        .find(|n| n["metadata"]["name"] == "extra")
        .unwrap();
    assert_eq!(
        extra["metadata"]["labels"]["kubernetes.io/hostname"],
        "extra"
    );
    assert_eq!(extra["metadata"]["labels"]["disk"], "ssd");
    assert_eq!(extra["spec"]["podCIDR"], "10.244.3.0/24");
    c.create_pod(json!({"metadata": {"name": "pinned"}, "spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "c", "image": "nginx"}]}}))
        .await;
    let p = c
        .pod_where("pinned", "Running on extra", |p| {
            p["status"]["phase"] == "Running"
        })
        .await;
    assert_eq!(p["spec"]["nodeName"], "extra");
    nodes
        .delete("extra", &DeleteParams::default())
        .await
        .unwrap();
    eventually("pinned deleted", || async {
        c.pods()
            .get_opt("pinned")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_no_node_can_take_stays_pending_with_failed_scheduling() {
    let c = start().await;
    c.ready_nodes(3).await;
    c.create_pod(
        json!({"metadata": {"name": "huge"}, "spec": {"containers": [{"name": "c", "image": "nginx",
        "resources": {"requests": {"cpu": "1000"}}}]}}),
    )
    .await;
    // The scheduler's node cache may lag the API by a node at first; the retry after the
    // node event reports all three.
    let p = c
        .pod_where("huge", "Unschedulable on all 3 nodes", |p| {
            let cond = condition(p, "PodScheduled");
            cond["reason"] == "Unschedulable"
                && cond["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("0/3 nodes"))
        })
        .await;
    let msg = condition(&p, "PodScheduled")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        msg,
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );
    let evs = c.wait_event("huge", "FailedScheduling").await;
    assert_eq!(
        evs.iter()
            .find(|e| e["reason"] == "FailedScheduling")
            .unwrap()["type"],
        "Warning"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_container_goes_into_crash_loop_backoff() {
    let c = start().await;
    c.ready_nodes(3).await;
    c.create_pod(json!({"metadata": {"name": "crash"}, "spec": {"containers": [{"name": "c", "image": "busybox",
        "command": ["sh", "-c", "exit 1"]}]}}))
        .await;
    let p = c
        .pod_where("crash", "CrashLoopBackOff", |p| {
            p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        })
        .await;
    let cs = &p["status"]["containerStatuses"][0];
    assert_eq!(cs["restartCount"], 1);
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(p["status"]["phase"], "Running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_whose_answer_is_not_read_still_fail_as_the_api_answers() {
    let server = apiserver::server::InProcess::start().await.unwrap();
    let client = kube::Client::try_from(kube::Config::new(server.url.parse().unwrap())).unwrap();
    let status = json!({"status": {"phase": "Running"}});
    // A pod that does not exist: the node must see the 404 (it then forgets the pod).
    match kubelet_sim::writes::patch_pod_status(&client, "default", "gone", &status).await {
        Err(kube::Error::Api(s)) => assert_eq!((s.code, s.reason.as_str()), (404, "NotFound")),
        other => panic!("expected a 404, got {other:?}"),
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.create(
        &PostParams::default(),
        &obj(json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}})),
    )
    .await
    .unwrap();
    kubelet_sim::writes::patch_pod_status(&client, "default", "p", &status)
        .await
        .unwrap();
    let p = pods.get_status("p").await.unwrap();
    assert_eq!(p.status.and_then(|s| s.phase).as_deref(), Some("Running"));
    // An invalid body is refused with the API's 4xx, not lost.
    let bad = json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod"}, "count": "x"});
    match kubelet_sim::writes::create(&client, "/api/v1/namespaces/default/events", &bad).await {
        Err(kube::Error::Api(s)) => assert!((400..500).contains(&s.code), "{s:?}"),
        other => panic!("expected a 4xx, got {other:?}"),
    }
}
