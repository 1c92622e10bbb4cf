//! The Service network: the `kubernetes` Service (10.96.0.1, with the API server's endpoint on
//! the control-plane node) and the EndpointSlice and Endpoints controllers, which keep each
//! selector Service's slices (`<service>-xxxxx`) and Endpoints listing its pods. ClusterIPs and
//! NodePorts themselves are allocated by the API server when the Service is created.
//!
//! Layout: `pods` (the controller's compact cache of every pod), `slices` (what a Service's
//! slices and Endpoints should contain, computed with no I/O); this module owns the controller
//! loop: the watches, the dirty Services and the writes.

pub mod pods;
pub mod slices;

use crate::informer::PodEvent;
use crate::small_map::SmallMap;
use crate::time::SimClock;
use apimachinery::clock::rfc3339;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::Api;
use pods::PodCache;
use serde_json::{json, Value};
use slices::{CONTROLLER, MANAGED_BY, SERVICE_NAME};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;
use tokio::sync::mpsc;

/// The API server's address as the `kubernetes` Service's endpoint (kind's layout).
pub const API_ENDPOINT_PORT: i32 = 6443;
const BATCH: Duration = Duration::from_millis(100);

/// Create the `kubernetes` Service and its endpoints if missing.
pub async fn bootstrap_kubernetes_service(
    client: &kube::Client,
    api_ip: &str,
) -> anyhow::Result<()> {
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    if services.get_opt("kubernetes").await?.is_none() {
        let svc: Service = serde_json::from_value(json!({
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": API_ENDPOINT_PORT}],
                     "sessionAffinity": "None"},
        }))?;
        match services.create(&PostParams::default(), &svc).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
    }
    let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), "default");
    if endpoints.get_opt("kubernetes").await?.is_none() {
        let ep: Endpoints = serde_json::from_value(json!({
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": api_ip}], "ports": [{"name": "https", "port": API_ENDPOINT_PORT, "protocol": "TCP"}]}],
        }))?;
        let _ = endpoints.create(&PostParams::default(), &ep).await;
    }
    let slices_api: Api<EndpointSlice> = Api::namespaced(client.clone(), "default");
    if slices_api.get_opt("kubernetes").await?.is_none() {
        let s: EndpointSlice = serde_json::from_value(json!({
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {SERVICE_NAME: "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [api_ip], "conditions": {"ready": true}}],
            "ports": [{"name": "https", "port": API_ENDPOINT_PORT, "protocol": "TCP"}],
        }))?;
        let _ = slices_api.create(&PostParams::default(), &s).await;
    }
    Ok(())
}

enum Input {
    Service(Box<watcher::Event<Service>>),
    Slice(Box<watcher::Event<EndpointSlice>>),
}

/// An input, unboxed (only ever on the stack for a moment).
#[allow(clippy::large_enum_variant)]
enum Event {
    Service(watcher::Event<Service>),
    Slice(watcher::Event<EndpointSlice>),
}

/// One of our slices as last seen.
#[derive(Clone, Debug)]
struct SliceState {
    name: String,
    endpoints: Value,
    ports: Value,
    labels: BTreeMap<String, String>,
}

fn key(ns: &str, name: &str) -> String {
    format!("{ns}/{name}")
}

fn slice_state(s: &EndpointSlice) -> SliceState {
    SliceState {
        name: s.metadata.name.clone().unwrap_or_default(),
        endpoints: serde_json::to_value(&s.endpoints).unwrap_or(Value::Null),
        ports: s
            .ports
            .as_ref()
            .and_then(|p| serde_json::to_value(p).ok())
            .unwrap_or(Value::Null),
        labels: s.metadata.labels.clone().unwrap_or_default(),
    }
}

/// Normalize what a slice's `endpoints`/`ports` look like once stored and read back typed.
fn normalize(endpoints: &Value, ports: &Value) -> (Value, Value) {
    let e: Vec<k8s_openapi::api::discovery::v1::Endpoint> =
        serde_json::from_value(if endpoints.is_null() {
            json!([])
        } else {
            endpoints.clone()
        })
        .unwrap_or_default();
    let p: Option<Vec<k8s_openapi::api::discovery::v1::EndpointPort>> =
        serde_json::from_value(ports.clone()).unwrap_or_default();
    (
        serde_json::to_value(e).unwrap_or(Value::Null),
        p.and_then(|p| serde_json::to_value(p).ok())
            .unwrap_or(Value::Null),
    )
}

struct Controller {
    client: kube::Client,
    clock: SimClock,
    services: HashMap<String, Service>,
    pods: PodCache,
    slices: HashMap<String, Vec<SliceState>>,
    /// Endpoints subsets we last wrote per Service.
    endpoints: HashMap<String, Value>,
    dirty: HashSet<String>,
    /// The existing slices have been listed (before that, syncing could duplicate them).
    slices_listed: bool,
}

/// Mark the Services of `ns` that select `labels`.
fn touch(
    services: &HashMap<String, Service>,
    dirty: &mut HashSet<String>,
    ns: &str,
    labels: &SmallMap,
) {
    for (k, s) in services {
        if s.metadata.namespace.as_deref() != Some(ns) {
            continue;
        }
        let Some(sel) = slices::selector_of(s) else {
            continue;
        };
        if labels.matches(sel) {
            dirty.insert(k.clone());
        }
    }
}

impl Controller {
    fn on_pod(&mut self, ev: PodEvent) {
        let (services, dirty) = (&self.services, &mut self.dirty);
        match ev {
            PodEvent::Applied(p) => self
                .pods
                .apply(&p, |ns, labels| touch(services, dirty, ns, labels)),
            PodEvent::Deleted(p) => self.pods.remove(
                p.metadata.uid.as_deref().unwrap_or_default(),
                |ns, labels| touch(services, dirty, ns, labels),
            ),
            PodEvent::Restarted | PodEvent::Synced => {}
        }
    }

    fn on_input(&mut self, input: Input) {
        let input = match input {
            Input::Service(e) => Event::Service(*e),
            Input::Slice(e) => Event::Slice(*e),
        };
        match input {
            Event::Service(watcher::Event::Apply(s))
            | Event::Service(watcher::Event::InitApply(s)) => {
                let k = key(
                    s.metadata.namespace.as_deref().unwrap_or(""),
                    s.metadata.name.as_deref().unwrap_or(""),
                );
                self.dirty.insert(k.clone());
                self.services.insert(k, s);
            }
            Event::Service(watcher::Event::Delete(s)) => {
                let k = key(
                    s.metadata.namespace.as_deref().unwrap_or(""),
                    s.metadata.name.as_deref().unwrap_or(""),
                );
                self.services.remove(&k);
                self.dirty.insert(k);
            }
            Event::Slice(watcher::Event::Apply(s)) | Event::Slice(watcher::Event::InitApply(s)) => {
                let Some(svc) = s
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(SERVICE_NAME))
                    .cloned()
                else {
                    return;
                };
                let k = key(s.metadata.namespace.as_deref().unwrap_or(""), &svc);
                let st = slice_state(&s);
                let list = self.slices.entry(k).or_default();
                match list.iter_mut().find(|x| x.name == st.name) {
                    Some(x) => *x = st,
                    None => list.push(st),
                }
                list.sort_by(|a, b| a.name.cmp(&b.name));
            }
            Event::Slice(watcher::Event::Delete(s)) => {
                let Some(svc) = s
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(SERVICE_NAME))
                    .cloned()
                else {
                    return;
                };
                let k = key(s.metadata.namespace.as_deref().unwrap_or(""), &svc);
                let name = s.metadata.name.clone().unwrap_or_default();
                if let Some(list) = self.slices.get_mut(&k) {
                    list.retain(|x| x.name != name);
                }
            }
            Event::Slice(watcher::Event::InitDone) => self.slices_listed = true,
            Event::Service(_) | Event::Slice(_) => {}
        }
    }

    async fn sync(&mut self, k: &str) {
        let (ns, name) = k.split_once('/').unwrap_or(("", k));
        let slices_api: Api<EndpointSlice> = Api::namespaced(self.client.clone(), ns);
        let ep_api: Api<Endpoints> = Api::namespaced(self.client.clone(), ns);
        let Some(svc) = self.services.get(k).cloned() else {
            for s in self.slices.remove(k).unwrap_or_default() {
                let _ = slices_api.delete(&s.name, &DeleteParams::default()).await;
            }
            if self.endpoints.remove(k).is_some() {
                let _ = ep_api.delete(name, &DeleteParams::default()).await;
            }
            return;
        };
        let has_selector = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .is_some_and(|s| !s.is_empty());
        if !has_selector {
            return;
        }
        let now = rfc3339(self.clock.now());
        let pods = slices::selected(&svc, self.pods.iter());
        let desired = slices::desired_slices(&svc, &pods);
        let (subsets, truncated) = slices::desired_subsets(&svc, &pods);
        drop(pods);
        let labels = slices::slice_labels(&svc);
        let existing = self.slices.get(k).cloned().unwrap_or_default();
        let owner = json!([{"apiVersion": "v1", "kind": "Service", "name": name, "uid": svc.metadata.uid, "controller": true, "blockOwnerDeletion": true}]);
        for (i, (eps, ports)) in desired.iter().enumerate() {
            let (eps, ports) = normalize(eps, ports);
            match existing.get(i) {
                Some(cur) => {
                    let (ce, cp) = normalize(&cur.endpoints, &cur.ports);
                    if ce == eps && cp == ports && cur.labels == labels {
                        continue;
                    }
                    let patch = json!({
                        "metadata": {"labels": labels, "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": now}},
                        "endpoints": eps, "ports": ports,
                    });
                    match slices_api
                        .patch(&cur.name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                    {
                        Ok(s) => self.on_input(Input::Slice(Box::new(watcher::Event::Apply(s)))),
                        Err(e) => tracing::debug!("endpointslice {ns}/{}: {e}", cur.name),
                    }
                }
                None => {
                    let mut obj = json!({
                        "metadata": {"generateName": format!("{name}-"), "namespace": ns, "labels": labels, "ownerReferences": owner,
                                     "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": now}},
                        "addressType": "IPv4",
                        "endpoints": eps,
                    });
                    if !ports.is_null() {
                        obj["ports"] = ports;
                    }
                    match serde_json::from_value::<EndpointSlice>(obj) {
                        Ok(s) => match slices_api.create(&PostParams::default(), &s).await {
                            Ok(s) => {
                                self.on_input(Input::Slice(Box::new(watcher::Event::Apply(s))))
                            }
                            Err(e) => tracing::debug!("endpointslice for {k}: {e}"),
                        },
                        Err(e) => tracing::warn!("endpointslice for {k}: {e}"),
                    }
                }
            }
        }
        for extra in existing.iter().skip(desired.len()) {
            if slices_api
                .delete(&extra.name, &DeleteParams::default())
                .await
                .is_ok()
            {
                if let Some(list) = self.slices.get_mut(k) {
                    list.retain(|x| x.name != extra.name);
                }
            }
        }
        // Endpoints.
        if self.endpoints.get(k) == Some(&subsets) {
            return;
        }
        let mut ep_labels = svc.metadata.labels.clone().unwrap_or_default();
        if svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None") {
            ep_labels.insert("service.kubernetes.io/headless".into(), String::new());
        }
        let mut annotations = json!({"endpoints.kubernetes.io/last-change-trigger-time": now});
        if truncated {
            annotations["endpoints.kubernetes.io/over-capacity"] = json!("truncated");
        }
        let obj = json!({"metadata": {"name": name, "namespace": ns, "labels": ep_labels, "annotations": annotations}, "subsets": subsets});
        let result = match ep_api.get_opt(name).await {
            Ok(Some(_)) => ep_api
                .patch(name, &PatchParams::default(), &Patch::Merge(&obj))
                .await
                .map(|_| ()),
            Ok(None) => match serde_json::from_value::<Endpoints>(obj) {
                Ok(e) => ep_api.create(&PostParams::default(), &e).await.map(|_| ()),
                Err(e) => {
                    tracing::warn!("endpoints {k}: {e}");
                    return;
                }
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                self.endpoints.insert(k.to_string(), subsets);
            }
            Err(e) => tracing::debug!("endpoints {k}: {e}"),
        }
    }
}

/// Run the EndpointSlice and Endpoints controllers until the pod feed ends.
pub async fn run(
    client: kube::Client,
    clock: SimClock,
    mut pods: mpsc::UnboundedReceiver<PodEvent>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Input>();
    let services: Api<Service> = Api::all(client.clone());
    let stx = tx.clone();
    tokio::spawn(async move {
        let mut s = watcher(services, watcher::Config::default().any_semantic()).boxed();
        while let Some(ev) = s.next().await {
            match ev {
                Ok(ev) => {
                    if stx.send(Input::Service(Box::new(ev))).is_err() {
                        return;
                    }
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    let slices_api: Api<EndpointSlice> = Api::all(client.clone());
    tokio::spawn(async move {
        let cfg = watcher::Config::default()
            .any_semantic()
            .labels(&format!("{MANAGED_BY}={CONTROLLER}"));
        let mut s = watcher(slices_api, cfg).boxed();
        while let Some(ev) = s.next().await {
            match ev {
                Ok(ev) => {
                    if tx.send(Input::Slice(Box::new(ev))).is_err() {
                        return;
                    }
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    let mut c = Controller {
        client: client.clone(),
        clock,
        services: HashMap::new(),
        pods: PodCache::default(),
        slices: HashMap::new(),
        endpoints: HashMap::new(),
        dirty: HashSet::new(),
        slices_listed: false,
    };
    // Endpoints written before a restart are what we compare with.
    if let Ok(list) = Api::<Endpoints>::all(client)
        .list(&ListParams::default())
        .await
    {
        for e in list.items {
            let k = key(
                e.metadata.namespace.as_deref().unwrap_or(""),
                e.metadata.name.as_deref().unwrap_or(""),
            );
            c.endpoints.insert(
                k,
                serde_json::to_value(e.subsets.unwrap_or_default()).unwrap_or(Value::Null),
            );
        }
    }
    let mut tick = tokio::time::interval(BATCH);
    loop {
        tokio::select! {
            ev = pods.recv() => match ev {
                Some(ev) => c.on_pod(ev),
                None => return,
            },
            Some(input) = rx.recv() => c.on_input(input),
            _ = tick.tick(), if c.slices_listed => {
                let dirty: Vec<String> = c.dirty.drain().collect();
                for k in dirty {
                    c.sync(&k).await;
                }
            }
        }
    }
}
