//! `default-scheduler`: watches pods without a node (whose schedulerName is
//! default-scheduler) and the nodes; for each pod runs the filters over every node, scores the
//! feasible ones and binds to the best (`POST pods/<name>/binding`, then a `Scheduled` event).
//! A pod no node can take gets `PodScheduled=False` (`Unschedulable`, upstream's message) and a
//! `FailedScheduling` event, and is retried when nodes or pods change (with a per-pod back-off
//! of 1 s doubling to 10 s) and at least every minute.

pub mod diagnosis;
pub mod filters;
pub mod resources;
pub mod score;

use crate::events::{ObjectRef, Recorder, Source};
use crate::informer::PodEvent;
use crate::time::SimClock;
use filters::{Failure, NodeView, PodView};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::Api;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, Semaphore};

pub const NAME: &str = "default-scheduler";
const RETRY_AT_LEAST: Duration = Duration::from_secs(60);
const BACKOFF_INITIAL: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// A pod's share of a node, as counted while it is bound there.
#[derive(Clone, Debug)]
struct Placed {
    node: String,
    requests: resources::Resources,
    non_zero: (i128, i128),
    host_ports: Vec<(String, i32)>,
}

/// A pod no node could take.
struct Waiting {
    pod: Arc<Pod>,
    attempts: u32,
    last_try: SystemTime,
    /// Something changed in the cluster since the last try.
    moved: bool,
}

enum Input {
    Node(Box<watcher::Event<Node>>),
    BindFailed(String, Arc<Pod>),
}

/// The scheduler's state (its cache and queues).
pub struct Scheduler {
    nodes: BTreeMap<String, NodeView>,
    placed: HashMap<String, Placed>,
    active: VecDeque<String>,
    queued: HashMap<String, Arc<Pod>>,
    waiting: HashMap<String, Waiting>,
    /// Last condition message written per pod (to skip repeating it).
    reported: HashMap<String, String>,
    /// Failed attempts of pods back in the active queue.
    attempts: HashMap<String, u32>,
}

fn uid(p: &Pod) -> String {
    p.metadata.uid.clone().unwrap_or_default()
}

fn is_terminal(p: &Pod) -> bool {
    matches!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded") | Some("Failed")
    )
}

fn wants_us(p: &Pod) -> bool {
    let spec = p.spec.as_ref();
    let unassigned = spec
        .and_then(|s| s.node_name.as_deref())
        .is_none_or(str::is_empty);
    let ours = spec
        .and_then(|s| s.scheduler_name.as_deref())
        .unwrap_or(NAME)
        == NAME;
    unassigned && ours && p.metadata.deletion_timestamp.is_none() && !is_terminal(p)
}

fn gated(p: &Pod) -> bool {
    p.spec
        .as_ref()
        .and_then(|s| s.scheduling_gates.as_ref())
        .is_some_and(|g| !g.is_empty())
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new()
    }
}

impl Scheduler {
    pub fn new() -> Scheduler {
        Scheduler {
            nodes: BTreeMap::new(),
            placed: HashMap::new(),
            active: VecDeque::new(),
            queued: HashMap::new(),
            waiting: HashMap::new(),
            reported: HashMap::new(),
            attempts: HashMap::new(),
        }
    }

    fn place(&mut self, uid: &str, node: &str, pod: &PodView) {
        self.unplace(uid);
        let p = Placed {
            node: node.to_string(),
            requests: pod.requests.clone(),
            non_zero: pod.non_zero,
            host_ports: pod.host_ports.clone(),
        };
        if let Some(n) = self.nodes.get_mut(node) {
            Self::account(n, &p, 1);
        }
        self.placed.insert(uid.to_string(), p);
    }

    fn unplace(&mut self, uid: &str) -> bool {
        let Some(p) = self.placed.remove(uid) else {
            return false;
        };
        if let Some(n) = self.nodes.get_mut(&p.node) {
            Self::account(n, &p, -1);
        }
        true
    }

    fn account(n: &mut NodeView, p: &Placed, sign: i128) {
        for (k, v) in &p.requests {
            *n.requested.entry(k.clone()).or_default() += sign * v;
        }
        n.pods += sign as i64;
        n.non_zero.0 += sign * p.non_zero.0;
        n.non_zero.1 += sign * p.non_zero.1;
        for hp in &p.host_ports {
            if sign > 0 {
                n.host_ports.insert(hp.clone());
            } else {
                n.host_ports.remove(hp);
            }
        }
    }

    /// Something freed room or added nodes: pods that waited may fit now.
    fn cluster_changed(&mut self) {
        for w in self.waiting.values_mut() {
            w.moved = true;
        }
    }

    fn enqueue(&mut self, pod: Arc<Pod>) {
        let id = uid(&pod);
        if let Some(w) = self.waiting.get_mut(&id) {
            w.pod = pod;
            return;
        }
        if self.queued.insert(id.clone(), pod).is_none() {
            self.active.push_back(id);
        }
    }

    fn on_pod(&mut self, ev: PodEvent) {
        match ev {
            PodEvent::Applied(p) => {
                let id = uid(&p);
                if wants_us(&p) {
                    if self.placed.contains_key(&id) {
                        // Bound by us a moment ago; the watch has not caught up.
                        return;
                    }
                    if gated(&p) {
                        return;
                    }
                    self.enqueue(p);
                    return;
                }
                self.queued.remove(&id);
                self.waiting.remove(&id);
                self.reported.remove(&id);
                let node = p
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .filter(|n| !n.is_empty());
                match node {
                    Some(node) if !is_terminal(&p) => {
                        if self.placed.get(&id).is_none_or(|pl| pl.node != node) {
                            self.place(&id, &node, &PodView::from_pod(&p));
                        }
                    }
                    _ => {
                        if self.unplace(&id) {
                            self.cluster_changed();
                        }
                    }
                }
            }
            PodEvent::Deleted(p) => {
                let id = uid(&p);
                self.attempts.remove(&id);
                self.queued.remove(&id);
                self.waiting.remove(&id);
                self.reported.remove(&id);
                if self.unplace(&id) {
                    self.cluster_changed();
                }
            }
            PodEvent::Restarted | PodEvent::Synced => {}
        }
    }

    fn on_node(&mut self, ev: watcher::Event<Node>) {
        match ev {
            watcher::Event::Apply(n) | watcher::Event::InitApply(n) => {
                let mut view = NodeView::from_node(&n);
                let name = view.name.clone();
                for p in self.placed.values().filter(|p| p.node == name) {
                    Self::account(&mut view, p, 1);
                }
                self.nodes.insert(view.name.clone(), view);
                self.cluster_changed();
            }
            watcher::Event::Delete(n) => {
                self.nodes.remove(n.metadata.name.as_deref().unwrap_or(""));
            }
            watcher::Event::Init | watcher::Event::InitDone => {}
        }
    }

    /// Try one pod: the chosen node, or the reasons every node gave.
    pub fn schedule_one(&self, pod: &PodView) -> Result<String, Vec<Failure>> {
        let mut feasible = Vec::new();
        let mut failures = Vec::new();
        for n in self.nodes.values() {
            match filters::filter(pod, n) {
                Ok(()) => feasible.push(n),
                Err(f) => failures.push(f),
            }
        }
        match score::select(pod, &feasible) {
            Some(n) => Ok(n.name.clone()),
            None => Err(failures),
        }
    }

    /// Move waiting pods whose back-off is over (and that something changed for, or that
    /// waited a minute) back to the active queue.
    fn flush(&mut self, now: SystemTime) {
        let due: Vec<String> = self
            .waiting
            .iter()
            .filter(|(_, w)| {
                let backoff = BACKOFF_INITIAL
                    .saturating_mul(1u32 << w.attempts.min(8).saturating_sub(1))
                    .min(BACKOFF_MAX);
                let since = now.duration_since(w.last_try).unwrap_or_default();
                (w.moved && since >= backoff) || since >= RETRY_AT_LEAST
            })
            .map(|(k, _)| k.clone())
            .collect();
        for id in due {
            if let Some(w) = self.waiting.remove(&id) {
                self.queued.insert(id.clone(), w.pod);
                self.active.push_back(id.clone());
                self.attempts.insert(id, w.attempts);
            }
        }
    }
}

/// The scheduler's connection to the API.
struct Io {
    client: kube::Client,
    recorder: Recorder,
    source: Source,
    binds: Arc<Semaphore>,
    failed: mpsc::UnboundedSender<Input>,
}

impl Io {
    fn bind(&self, pod: Arc<Pod>, node: String) {
        let client = self.client.clone();
        let recorder = self.recorder.clone();
        let source = self.source.clone();
        let binds = self.binds.clone();
        let failed = self.failed.clone();
        tokio::spawn(async move {
            let _permit = binds.acquire_owned().await;
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            let api: Api<Pod> = Api::namespaced(client, &ns);
            let body = json!({
                "apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": name, "namespace": ns, "uid": pod.metadata.uid},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node},
            });
            match api
                .create_subresource::<Value, Value>("binding", &name, &PostParams::default(), &body)
                .await
            {
                Ok(_) => recorder.record(
                    ObjectRef::pod(&ns, &name, &uid(&pod)),
                    &source,
                    false,
                    "Scheduled",
                    format!("Successfully assigned {ns}/{name} to {node}"),
                ),
                Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
                Err(e) => {
                    tracing::debug!("binding {ns}/{name}: {e}");
                    let _ = failed.send(Input::BindFailed(uid(&pod), pod));
                }
            }
        });
    }

    fn report(&self, pod: &Pod, message: String, condition_changed: bool) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        self.recorder.record(
            ObjectRef::pod(&ns, &name, &uid(pod)),
            &self.source,
            true,
            "FailedScheduling",
            message.clone(),
        );
        if !condition_changed {
            return;
        }
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let now = apimachinery::clock::rfc3339(SystemTime::now());
        let patch = json!({"status": {"conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
            "lastProbeTime": null, "lastTransitionTime": now,
        }]}});
        tokio::spawn(async move {
            if let Err(e) = api
                .patch_status(&name, &PatchParams::default(), &Patch::Strategic(&patch))
                .await
            {
                tracing::debug!("condition of {ns}/{name}: {e}");
            }
        });
    }
}

/// The current PodScheduled=False message of a pod, if any.
fn current_message(p: &Pod) -> Option<String> {
    p.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .and_then(|c| c.message.clone())
}

/// Run the scheduler until its inputs end.
pub async fn run(
    client: kube::Client,
    clock: SimClock,
    recorder: Recorder,
    mut pods: mpsc::UnboundedReceiver<PodEvent>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Input>();
    let nodes: Api<Node> = Api::all(client.clone());
    let node_tx = tx.clone();
    tokio::spawn(async move {
        let mut s = watcher(nodes, watcher::Config::default().any_semantic()).boxed();
        while let Some(ev) = s.next().await {
            match ev {
                Ok(ev) => {
                    if node_tx.send(Input::Node(Box::new(ev))).is_err() {
                        return;
                    }
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    let io = Io {
        client,
        recorder,
        source: Source {
            component: NAME.into(),
            host: None,
        },
        binds: Arc::new(Semaphore::new(64)),
        failed: tx,
    };
    let mut s = Scheduler::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut nodes_synced = false;
    loop {
        tokio::select! {
            ev = pods.recv() => match ev {
                Some(ev) => s.on_pod(ev),
                None => return,
            },
            Some(input) = rx.recv() => match input {
                Input::Node(ev) if matches!(*ev, watcher::Event::InitDone) => nodes_synced = true,
                Input::Node(ev) => s.on_node(*ev),
                Input::BindFailed(id, pod) => {
                    s.unplace(&id);
                    s.waiting.insert(id, Waiting { pod, attempts: 1, last_try: clock.now(), moved: true });
                }
            },
            _ = tick.tick() => s.flush(clock.now()),
        }
        // Drain whatever else is already waiting before scheduling a batch.
        while let Ok(ev) = pods.try_recv() {
            s.on_pod(ev);
        }
        if !nodes_synced {
            continue;
        }
        let now = clock.now();
        while let Some(id) = s.active.pop_front() {
            let Some(pod) = s.queued.remove(&id) else {
                continue;
            };
            let view = PodView::from_pod(&pod);
            match s.schedule_one(&view) {
                Ok(node) => {
                    s.attempts.remove(&id);
                    s.place(&id, &node, &view);
                    s.reported.remove(&id);
                    io.bind(pod, node);
                }
                Err(failures) => {
                    let message = diagnosis::fit_error(&failures, view.preemption_never);
                    let changed = s.reported.get(&id) != Some(&message)
                        && current_message(&pod).as_ref() != Some(&message);
                    s.reported.insert(id.clone(), message.clone());
                    io.report(&pod, message, changed);
                    let attempts = s.attempts.remove(&id).unwrap_or(0) + 1;
                    s.waiting.insert(
                        id,
                        Waiting {
                            pod,
                            attempts,
                            last_try: now,
                            moved: false,
                        },
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, taint: bool) -> Node {
        let mut v = json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"allocatable": {"cpu": "2", "memory": "8Gi", "pods": "110"}}});
        if taint {
            v["spec"] = json!({"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]});
        }
        serde_json::from_value(v).unwrap()
    }

    fn pod(name: &str, cpu: &str) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(
                json!({"metadata": {"name": name, "namespace": "default", "uid": name},
                "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}}),
            )
            .unwrap(),
        )
    }

    fn cluster() -> Scheduler {
        let mut s = Scheduler::new();
        for (n, t) in [("cp", true), ("w1", false), ("w2", false)] {
            s.on_node(watcher::Event::Apply(node(n, t)));
        }
        s
    }

    #[test]
    fn pods_avoid_the_tainted_control_plane_and_spread_over_workers() {
        let mut s = cluster();
        let mut count: HashMap<String, usize> = HashMap::new();
        for i in 0..6 {
            let p = pod(&format!("p{i}"), "100m");
            let view = PodView::from_pod(&p);
            let n = s.schedule_one(&view).unwrap();
            s.place(&uid(&p), &n, &view);
            *count.entry(n).or_default() += 1;
        }
        assert_eq!(count.get("cp"), None);
        assert_eq!(count["w1"], 3);
        assert_eq!(count["w2"], 3);
    }

    #[test]
    fn a_pod_that_fits_nowhere_gets_the_upstream_message_and_fits_once_room_is_freed() {
        let mut s = cluster();
        let big = pod("big", "1500m");
        let v = PodView::from_pod(&big);
        for name in ["w1", "w2"] {
            let filler = pod(&format!("fill-{name}"), "1");
            s.place(&uid(&filler), name, &PodView::from_pod(&filler));
        }
        let failures = s.schedule_one(&v).unwrap_err();
        assert_eq!(
            diagnosis::fit_error(&failures, false),
            "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
        );
        s.on_pod(PodEvent::Deleted(pod("fill-w2", "1")));
        assert_eq!(s.schedule_one(&v).unwrap(), "w2");
    }

    #[test]
    fn waiting_pods_return_after_their_backoff_once_the_cluster_changes() {
        let mut s = cluster();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        s.waiting.insert(
            "x".into(),
            Waiting {
                pod: pod("x", "1"),
                attempts: 1,
                last_try: t0,
                moved: false,
            },
        );
        s.flush(t0 + Duration::from_secs(5));
        assert!(s.active.is_empty(), "nothing changed");
        s.cluster_changed();
        s.flush(t0 + Duration::from_millis(500));
        assert!(s.active.is_empty(), "still in back-off");
        s.flush(t0 + Duration::from_secs(1));
        assert_eq!(s.active.len(), 1);
    }
}
