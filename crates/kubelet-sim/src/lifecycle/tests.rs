//! The lifecycle state machine, stepped at chosen instants with the fake and the simulated runtime.

use super::status::{phase_of, Seen};
use super::*;
use crate::images::Catalog;
use crate::runtime::{FakeRuntime, SimulatedRuntime};
use serde_json::{json, Value};
use std::sync::Arc;

struct Ips;
impl IpSource for Ips {
    fn allocate(&mut self, _: &str) -> Option<String> {
        Some("10.244.1.2".into())
    }
    fn release(&mut self, _: &str) {}
    fn reserve(&mut self, _: &str, _: &str) -> bool {
        true
    }
}

fn t(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_800_000_000_000 + ms)
}

/// Milliseconds since `t(0)`, rounded up (so stepping "at" a wake-up never lands before it).
fn ms(at: SystemTime) -> u64 {
    let n = at.duration_since(t(0)).unwrap().as_nanos();
    n.div_ceil(1_000_000) as u64
}

fn pod(restart: &str, containers: Value, init: Value) -> PodSpecView {
    let p: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "u1", "generation": 1},
        "spec": {"restartPolicy": restart, "containers": containers, "initContainers": init}
    }))
    .unwrap();
    PodSpecView::from_pod(&p)
}

/// Steps a machine, collecting events, like the pod worker does.
struct Harness<R: ContainerRuntime> {
    m: PodMachine,
    rt: R,
    timing: Timing,
    events: Vec<Event>,
    sources: crate::apidata::Sources,
}

impl<R: ContainerRuntime> Harness<R> {
    fn new(spec: PodSpecView, rt: R, timing: Timing) -> Self {
        Harness {
            m: PodMachine::start(spec, t(0), &timing),
            rt,
            timing,
            events: Vec::new(),
            sources: crate::apidata::Sources::default(),
        }
    }
    /// Run `f` on the machine with the harness's environment at `ms`.
    fn with_env<T>(&mut self, ms: u64, f: impl FnOnce(&mut PodMachine, &mut Env<'_>) -> T) -> T {
        let mut ips = Ips;
        let mut env = Env {
            now: t(ms),
            runtime: &self.rt,
            timing: &self.timing,
            ips: &mut ips,
            sources: &self.sources,
            events: &mut self.events,
        };
        f(&mut self.m, &mut env)
    }
    fn at(&mut self, ms: u64) -> Option<SystemTime> {
        self.with_env(ms, |m, env| m.step(env))
    }
    /// Hand the machine a new spec at `ms`, as the pod worker does on a pod event.
    fn update(&mut self, spec: PodSpecView, deleting: bool, grace: Option<i64>, ms: u64) {
        self.with_env(ms, |m, env| m.update(spec, deleting, grace, env))
    }
    fn status(&self, ms: u64) -> Value {
        status::pod_status(
            &self.m,
            t(ms),
            "172.18.0.3",
            &json!({"qosClass": "BestEffort"}),
        )
    }
    fn reasons(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| e.reason).collect()
    }
    fn waiting(&self, ms: u64) -> String {
        let s = self.status(ms);
        s["containerStatuses"][0]["state"]["waiting"]["reason"]
            .as_str()
            .unwrap_or("-")
            .to_string()
    }
}

fn sim(timing: Timing) -> SimulatedRuntime {
    SimulatedRuntime::new(Arc::new(Catalog::embedded()), timing)
}

#[test]
fn phase_follows_get_phase() {
    use RestartPolicy::*;
    type Case = (RestartPolicy, Vec<Seen>, Vec<Seen>, bool, &'static str);
    let cases: Vec<Case> = vec![
        (Always, vec![], vec![Seen::Waiting(false)], false, "Pending"),
        (Always, vec![], vec![Seen::Running], true, "Running"),
        (
            Always,
            vec![],
            vec![Seen::Running, Seen::Waiting(false)],
            true,
            "Pending",
        ),
        (Always, vec![], vec![Seen::Terminated(1)], true, "Running"),
        (Never, vec![], vec![Seen::Terminated(0)], true, "Succeeded"),
        (
            Never,
            vec![],
            vec![Seen::Terminated(0), Seen::Terminated(2)],
            true,
            "Failed",
        ),
        (
            OnFailure,
            vec![],
            vec![Seen::Terminated(0)],
            true,
            "Succeeded",
        ),
        (
            OnFailure,
            vec![],
            vec![Seen::WaitingAfter(1)],
            true,
            "Running",
        ),
        (
            Never,
            vec![Seen::Terminated(1)],
            vec![Seen::Waiting(false)],
            false,
            "Failed",
        ),
        (
            Always,
            vec![Seen::Running],
            vec![Seen::Waiting(false)],
            false,
            "Pending",
        ),
        (
            Always,
            vec![Seen::Terminated(0)],
            vec![Seen::Running],
            true,
            "Running",
        ),
    ];
    for (policy, init, containers, started, want) in cases {
        assert_eq!(
            phase_of(policy, &init, &containers, started),
            want,
            "{policy:?} {init:?} {containers:?}"
        );
    }
}

#[test]
fn a_server_pod_goes_from_container_creating_to_running_and_ready() {
    let spec = pod(
        "Always",
        json!([{"name": "nginx", "image": "nginx:1.7.9"}]),
        json!([]),
    );
    let mut h = Harness::new(spec, sim(Timing::REALISTIC), Timing::REALISTIC);
    // Sandbox not ready yet: Pending, ContainerCreating, no IP.
    assert_eq!(h.at(0), Some(t(500)));
    let s = h.status(0);
    assert_eq!(s["phase"], "Pending");
    assert_eq!(h.waiting(0), "ContainerCreating");
    assert!(s.get("podIP").is_none());
    assert_eq!(s["containerStatuses"][0]["image"], "nginx:1.7.9");
    let types: Vec<&str> = s["conditions"]
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
    assert_eq!(s["conditions"][0]["status"], "False");
    assert_eq!(s["conditions"][2]["reason"], "ContainersNotReady");
    assert_eq!(
        s["conditions"][2]["message"],
        "containers with unready status: [nginx]"
    );
    // Sandbox ready at 0.5 s: IP, pulling (~0.97 s for 72 MB).
    let pulled = h.at(500).unwrap();
    assert_eq!(h.status(500)["podIP"], "10.244.1.2");
    assert_eq!(h.status(500)["conditions"][0]["status"], "True");
    assert_eq!(h.reasons(), ["Pulling"]);
    let started = h.at(ms(pulled)).unwrap();
    let ms = ms(started);
    h.at(ms);
    assert_eq!(h.reasons(), ["Pulling", "Pulled", "Created", "Started"]);
    assert!(
        h.events[1]
            .message
            .starts_with("Successfully pulled image \"nginx:1.7.9\" in "),
        "{}",
        h.events[1].message
    );
    assert!(h.events[1].message.ends_with("Image size: 72188133 bytes."));
    assert_eq!(
        h.events[2].field_path.as_deref(),
        Some("spec.containers{nginx}")
    );
    let s = h.status(ms);
    assert_eq!(s["phase"], "Running");
    let cs = &s["containerStatuses"][0];
    assert_eq!(cs["ready"], true);
    assert_eq!(cs["started"], true);
    assert_eq!(cs["image"], "docker.io/library/nginx:1.7.9");
    assert!(cs["imageID"]
        .as_str()
        .unwrap()
        .starts_with("docker.io/library/nginx@sha256:"));
    assert!(cs["containerID"]
        .as_str()
        .unwrap()
        .starts_with("containerd://"));
    assert_eq!(
        cs["containerID"].as_str().unwrap().len(),
        "containerd://".len() + 64
    );
    assert!(s["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "True"));
    assert_eq!(h.at(ms), None, "a server has nothing more to do");
}

#[test]
fn a_second_pod_finds_the_image_already_present() {
    let rt = sim(Timing::FAST);
    let spec = pod(
        "Always",
        json!([{"name": "nginx", "image": "nginx:1.7.9"}]),
        json!([]),
    );
    let mut a = Harness::new(spec.clone(), rt, Timing::FAST);
    a.at(0);
    let mut b = Harness::new(spec, a.rt, Timing::FAST);
    b.at(0);
    assert_eq!(b.reasons(), ["Pulled", "Created", "Started"]);
    assert_eq!(
        b.events[0].message,
        "Container image \"nginx:1.7.9\" already present on machine and can be accessed by the pod"
    );
}

#[test]
fn pods_of_one_image_share_the_nodes_copy_of_it() {
    // Under `Always` every pod pulls; under `IfNotPresent` the second finds it present. Both
    // ways the containers hold the node's one `ImageInfo` (reference, digest, command, files),
    // not a copy each.
    for policy in ["Always", "IfNotPresent"] {
        let spec = pod(
            "Always",
            json!([{"name": "nginx", "image": "nginx:1.7.9", "imagePullPolicy": policy}]),
            json!([]),
        );
        let mut a = Harness::new(spec.clone(), sim(Timing::FAST), Timing::FAST);
        a.at(0);
        let mut b = Harness::new(spec, a.rt, Timing::FAST);
        b.at(0);
        let image = |m: &PodMachine| m.containers[0].image.clone().expect("started");
        assert!(Arc::ptr_eq(&image(&a.m), &image(&b.m)), "{policy}");
    }
}

#[test]
fn a_container_machine_stays_small() {
    // A node holds one per container. The image is the node's shared copy and a run's end
    // (`Termination`, 112 bytes) is boxed where the state and last state keep it: about 160
    // bytes, where a copy of the image and two inline terminations made it about 700.
    let size = std::mem::size_of::<ContainerMachine>();
    assert!(size <= 176, "ContainerMachine is {size} bytes");
}

#[test]
fn a_missing_tag_goes_err_image_pull_then_image_pull_backoff_with_doubling_delays() {
    let spec = pod(
        "Always",
        json!([{"name": "nginx", "image": "nginx:1.9.21"}]),
        json!([]),
    );
    let mut h = Harness::new(spec, sim(Timing::FAST), Timing::FAST);
    h.at(0);
    assert_eq!(h.waiting(0), "ErrImagePull");
    assert_eq!(h.reasons(), ["Pulling", "Failed", "Failed"]);
    assert_eq!(
        h.events[1].message,
        "Failed to pull image \"nginx:1.9.21\": rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:1.9.21\": failed to resolve reference \"docker.io/library/nginx:1.9.21\": docker.io/library/nginx:1.9.21: not found"
    );
    assert_eq!(h.events[2].message, "Error: ErrImagePull");
    assert!(h.events[1].warning);
    // The next sync reports the back-off.
    h.at(200);
    assert_eq!(h.waiting(200), "ImagePullBackOff");
    assert_eq!(&h.reasons()[3..], ["BackOff", "Failed"]);
    assert_eq!(
        h.events[3].message,
        "Back-off pulling image \"nginx:1.9.21\""
    );
    let msg = h.status(200)["containerStatuses"][0]["state"]["waiting"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.starts_with(
            "Back-off pulling image \"nginx:1.9.21\": ErrImagePull: rpc error: code = NotFound"
        ),
        "{msg}"
    );
    assert_eq!(h.status(200)["phase"], "Pending");
    // Retried after 10 s, then 20 s.
    let mut pulls = vec![];
    let mut now = 200;
    while pulls.len() < 3 {
        let next = h.at(now).unwrap();
        now = ms(next);
        let n = h.events.iter().filter(|e| e.reason == "Pulling").count();
        if n > pulls.len() + 1 {
            pulls.push(now);
        }
        h.at(now);
        if h.events.iter().filter(|e| e.reason == "Pulling").count() > pulls.len() + 1 {
            pulls.push(now);
        }
    }
    assert_eq!(pulls, [10_000, 30_000, 70_000]);
}

#[test]
fn a_completing_image_under_never_ends_succeeded_and_completed() {
    let spec = pod(
        "Never",
        json!([{"name": "c", "image": "busybox", "command": ["sh", "-c", "sleep 3"]}]),
        json!([]),
    );
    let mut h = Harness::new(spec, sim(Timing::FAST), Timing::FAST);
    assert_eq!(h.at(0), Some(t(3000)));
    assert_eq!(h.status(0)["phase"], "Running");
    assert_eq!(h.at(3000), None);
    let s = h.status(3000);
    assert_eq!(s["phase"], "Succeeded");
    assert_eq!(
        s["containerStatuses"][0]["state"]["terminated"]["reason"],
        "Completed"
    );
    assert_eq!(
        s["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        0
    );
    let c: Vec<(String, String, String)> = s["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap().into(),
                c["status"].as_str().unwrap().into(),
                c["reason"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> = [
        ("PodReadyToStartContainers", "False", ""),
        ("Initialized", "True", "PodCompleted"),
        ("Ready", "False", "PodCompleted"),
        ("ContainersReady", "False", "PodCompleted"),
        ("PodScheduled", "True", ""),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(c, want);
}

#[test]
fn a_crashing_container_restarts_once_then_backs_off() {
    let rt = FakeRuntime::new();
    rt.script(
        "app",
        crate::images::Behaviour::Exits {
            after: Duration::from_secs(1),
            code: 1,
        },
    );
    let spec = pod(
        "Always",
        json!([{"name": "app", "image": "example.com/app:1"}]),
        json!([]),
    );
    let mut h = Harness::new(spec, rt, Timing::FAST);
    h.at(0);
    h.at(1000); // exits with 1: restarted at once
    let s = h.status(1000);
    assert_eq!(s["containerStatuses"][0]["restartCount"], 1);
    assert_eq!(
        s["containerStatuses"][0]["lastState"]["terminated"]["reason"],
        "Error"
    );
    assert_eq!(s["phase"], "Running");
    h.at(2000); // exits again within 10 s: CrashLoopBackOff
    assert_eq!(h.waiting(2000), "CrashLoopBackOff");
    let msg = h.status(2000)["containerStatuses"][0]["state"]["waiting"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        msg,
        "back-off 10s restarting failed container=app pod=web_default(u1)"
    );
    let backoff = h.events.iter().find(|e| e.reason == "BackOff").unwrap();
    assert_eq!(
        backoff.message,
        "Back-off restarting failed container app in pod web_default(u1)"
    );
    assert!(backoff.warning);
    assert_eq!(h.status(2000)["containerStatuses"][0]["restartCount"], 1);
    assert_eq!(h.at(2000), Some(t(12_000)));
    h.at(12_000);
    assert_eq!(h.status(12_000)["containerStatuses"][0]["restartCount"], 2);
    assert!(h.status(12_000)["containerStatuses"][0]["state"]["running"].is_object());
    h.at(13_000);
    assert_eq!(h.at(13_000), Some(t(33_000)), "the second back-off is 20 s");
}

#[test]
fn init_containers_run_in_order_before_the_containers() {
    let rt = FakeRuntime::new();
    rt.script(
        "init-a",
        crate::images::Behaviour::Exits {
            after: Duration::from_secs(1),
            code: 0,
        },
    );
    rt.script(
        "init-b",
        crate::images::Behaviour::Exits {
            after: Duration::from_secs(1),
            code: 0,
        },
    );
    let spec = pod(
        "Always",
        json!([{"name": "app", "image": "nginx"}]),
        json!([{"name": "init-a", "image": "busybox"}, {"name": "init-b", "image": "busybox"}]),
    );
    let mut h = Harness::new(spec, rt, Timing::FAST);
    h.at(0);
    let s = h.status(0);
    assert_eq!(s["phase"], "Pending");
    assert_eq!(
        s["conditions"][1]["message"],
        "containers with incomplete status: [init-a init-b]"
    );
    assert_eq!(
        s["containerStatuses"][0]["state"]["waiting"]["reason"],
        "PodInitializing"
    );
    assert!(s["initContainerStatuses"][0]["state"]["running"].is_object());
    h.at(1000);
    let s = h.status(1000);
    assert_eq!(
        s["initContainerStatuses"][0]["state"]["terminated"]["reason"],
        "Completed"
    );
    assert!(s["initContainerStatuses"][1]["state"]["running"].is_object());
    h.at(2000);
    let s = h.status(2000);
    assert_eq!(s["phase"], "Running");
    assert_eq!(s["conditions"][1]["status"], "True");
    let order: Vec<String> =
        h.rt.calls()
            .into_iter()
            .filter(|c| c.starts_with("start"))
            .collect();
    assert_eq!(order, ["start init-a", "start init-b", "start app"]);
}

#[test]
fn a_failed_init_container_under_never_fails_the_pod() {
    let rt = FakeRuntime::new();
    rt.script(
        "init",
        crate::images::Behaviour::Exits {
            after: Duration::ZERO,
            code: 2,
        },
    );
    let spec = pod(
        "Never",
        json!([{"name": "app", "image": "nginx"}]),
        json!([{"name": "init", "image": "busybox"}]),
    );
    let mut h = Harness::new(spec, rt, Timing::FAST);
    h.at(0);
    assert_eq!(h.status(0)["phase"], "Failed");
    assert_eq!(
        h.status(0)["initContainerStatuses"][0]["state"]["terminated"]["reason"],
        "Error"
    );
}

#[test]
fn readiness_waits_for_the_probe_initial_delay() {
    let spec = pod(
        "Always",
        json!([{"name": "nginx", "image": "nginx", "readinessProbe": {"httpGet": {"port": 80}, "initialDelaySeconds": 5}}]),
        json!([]),
    );
    let mut h = Harness::new(spec, sim(Timing::FAST), Timing::FAST);
    assert_eq!(h.at(0), Some(t(5000)));
    assert_eq!(h.status(0)["containerStatuses"][0]["ready"], false);
    assert_eq!(h.status(0)["containerStatuses"][0]["started"], true);
    assert_eq!(h.status(0)["conditions"][2]["status"], "False");
    h.at(5000);
    assert_eq!(h.status(5000)["containerStatuses"][0]["ready"], true);
    assert_eq!(h.status(5000)["conditions"][2]["status"], "True");
}

#[test]
fn deleting_a_running_pod_stops_its_containers_and_ends_it() {
    let spec = pod(
        "Always",
        json!([{"name": "nginx", "image": "nginx:1.7.9"}]),
        json!([]),
    );
    let timing = Timing::REALISTIC;
    let mut h = Harness::new(spec.clone(), sim(timing), timing);
    let mut now = 0;
    while let Some(next) = h.at(now) {
        now = ms(next);
    }
    assert_eq!(h.status(now)["phase"], "Running");
    h.update(spec, true, Some(30), now);
    assert_eq!(h.events.last().unwrap().reason, "Killing");
    assert_eq!(h.events.last().unwrap().message, "Stopping container nginx");
    assert_eq!(
        h.at(now),
        Some(t(now + 200)),
        "nginx exits 0.2 s after SIGTERM"
    );
    assert!(!h.m.is_terminal());
    h.at(now + 200);
    assert!(h.m.is_terminal());
    let s = h.status(now + 200);
    assert_eq!(s["phase"], "Succeeded", "nginx exits 0 on SIGTERM");
    assert_eq!(
        s["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        0
    );
}

#[test]
fn changing_the_image_restarts_the_container_with_the_new_one() {
    let spec = pod(
        "Always",
        json!([{"name": "nginx", "image": "nginx:1.7.9"}]),
        json!([]),
    );
    let mut h = Harness::new(spec, sim(Timing::FAST), Timing::FAST);
    h.at(0);
    let new = pod(
        "Always",
        json!([{"name": "nginx", "image": "nginx:1.9.1"}]),
        json!([]),
    );
    h.update(new, false, None, 10);
    h.at(10);
    let s = h.status(10);
    assert_eq!(
        s["containerStatuses"][0]["image"],
        "docker.io/library/nginx:1.9.1"
    );
    assert_eq!(s["containerStatuses"][0]["restartCount"], 1);
    assert!(h
        .events
        .iter()
        .any(|e| e.message == "Container nginx definition changed, will be restarted"));
}

#[test]
fn a_node_keeps_one_copy_of_each_container_definition_across_updates() {
    let def = || json!([{"name": "nginx", "image": "nginx:1.27"}]);
    let init = || json!([{"name": "init", "image": "busybox"}]);
    let mut h = Harness::new(
        pod("Always", def(), init()),
        sim(Timing::FAST),
        Timing::FAST,
    );
    let shared = |m: &PodMachine| {
        Arc::ptr_eq(&m.spec.containers[0], &m.containers[0].spec)
            && Arc::ptr_eq(&m.spec.init_containers[0], &m.init[0].spec)
    };
    assert!(shared(&h.m));
    h.at(0);
    // A status echo brings the same definitions again, freshly parsed.
    for deleting in [false, true] {
        h.update(pod("Always", def(), init()), deleting, Some(0), 10);
        assert!(shared(&h.m), "deleting: {deleting}");
    }
}

#[test]
fn an_invalid_image_name_waits_with_invalid_image_name() {
    let spec = pod(
        "Always",
        json!([{"name": "c", "image": "NGINX"}]),
        json!([]),
    );
    let mut h = Harness::new(spec, sim(Timing::FAST), Timing::FAST);
    assert_eq!(h.at(0), None);
    assert_eq!(h.waiting(0), "InvalidImageName");
    assert_eq!(h.reasons(), ["InspectFailed", "Failed"]);
}

#[test]
fn active_deadline_fails_the_pod_with_deadline_exceeded() {
    let spec = pod_with(json!({
        "restartPolicy": "Always",
        "containers": [{"name": "nginx", "image": "nginx"}],
        "activeDeadlineSeconds": 5,
    }));
    let mut h = Harness::new(spec, sim(Timing::FAST), Timing::FAST);
    assert_eq!(h.at(0), Some(t(5000)));
    h.at(5000);
    assert!(h.m.is_terminal());
    let s = h.status(5000);
    assert_eq!(s["phase"], "Failed");
    assert_eq!(s["reason"], "DeadlineExceeded");
    assert!(h.reasons().contains(&"DeadlineExceeded"));
}

fn pod_with(spec: Value) -> PodSpecView {
    let p: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "u1", "generation": 1},
        "spec": spec
    }))
    .unwrap();
    PodSpecView::from_pod(&p)
}

fn config_map<R: ContainerRuntime>(h: &mut Harness<R>, name: &str, key: &str, value: &str) {
    h.sources.objects.insert(
        (crate::apidata::Kind::ConfigMap, name.into()),
        crate::apidata::Fetched::Found {
            data: [(key.to_string(), value.to_string())].into(),
            binary: Default::default(),
        },
    );
}

#[test]
fn a_missing_configmap_volume_keeps_the_pod_creating_with_failed_mount_until_it_exists() {
    let spec = pod_with(json!({
        "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "infinity"],
            "volumeMounts": [{"name": "config", "mountPath": "/etc/config"}]}],
        "volumes": [{"name": "config", "configMap": {"name": "app"}}]
    }));
    let mut h = Harness::new(spec, sim(Timing::FAST), Timing::FAST);
    assert_eq!(h.at(0), Some(t(500)), "retried after 500 ms");
    assert_eq!(h.reasons(), ["FailedMount"]);
    assert_eq!(
        h.events[0].message,
        "MountVolume.SetUp failed for volume \"config\" : configmap \"app\" not found"
    );
    assert_eq!(h.waiting(0), "ContainerCreating");
    assert_eq!(h.at(500), Some(t(1500)), "then after 1 s");
    config_map(&mut h, "app", "mode", "fast");
    h.at(1500);
    assert_eq!(h.status(1500)["phase"], "Running");
}

#[test]
fn a_running_pods_configmap_volume_follows_the_configmap_at_each_sync() {
    let spec = pod_with(json!({
        "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "infinity"],
            "volumeMounts": [{"name": "config", "mountPath": "/etc/config"}]}],
        "volumes": [{"name": "config", "configMap": {"name": "app"}}]
    }));
    let timing = Timing {
        volume_sync: Duration::from_secs(60),
        ..Timing::FAST
    };
    let mut h = Harness::new(spec, FakeRuntime::new(), timing);
    config_map(&mut h, "app", "mode", "fast");
    assert_eq!(h.at(0), Some(t(60_000)), "the next sync");
    assert_eq!(h.status(0)["phase"], "Running");
    let volume_calls = |h: &Harness<FakeRuntime>| -> Vec<String> {
        h.rt.calls()
            .into_iter()
            .filter(|c| c.starts_with("volume "))
            .collect()
    };
    assert!(volume_calls(&h).is_empty(), "written with the sandbox");
    config_map(&mut h, "app", "mode", "slow");
    h.at(30_000);
    assert!(volume_calls(&h).is_empty(), "not before the sync");
    assert_eq!(h.at(60_000), Some(t(120_000)));
    assert_eq!(volume_calls(&h), ["volume sandbox-u1 config mode=slow"]);
    // A ConfigMap gone: the files stay as they were, and the kubelet says why.
    h.sources.objects.clear();
    h.at(120_000);
    assert_eq!(volume_calls(&h).len(), 1);
    assert_eq!(h.reasons().last(), Some(&"FailedMount"));
    assert_eq!(h.status(120_000)["phase"], "Running");
}

#[test]
fn a_missing_configmap_key_in_env_shows_create_container_config_error_and_is_retried() {
    let spec = pod_with(json!({
        "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "infinity"],
            "env": [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "app", "key": "mode"}}}]}]
    }));
    let mut h = Harness::new(spec, sim(Timing::FAST), Timing::FAST);
    let next = h.at(0);
    assert_eq!(h.waiting(0), "CreateContainerConfigError");
    let s = h.status(0);
    assert_eq!(
        s["containerStatuses"][0]["state"]["waiting"]["message"],
        "configmap \"app\" not found"
    );
    let failed = h.events.iter().find(|e| e.reason == "Failed").unwrap();
    assert_eq!(failed.message, "Error: configmap \"app\" not found");
    assert!(failed.warning);
    assert_eq!(next, Some(t(10_000)));
    config_map(&mut h, "app", "other", "x");
    h.at(10_000);
    assert_eq!(
        h.status(10_000)["containerStatuses"][0]["state"]["waiting"]["message"],
        "couldn't find key mode in ConfigMap default/app"
    );
    config_map(&mut h, "app", "mode", "fast");
    h.at(20_000);
    assert_eq!(h.status(20_000)["phase"], "Running");
}
