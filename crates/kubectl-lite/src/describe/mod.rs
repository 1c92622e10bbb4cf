//! `kubectl describe`: resolves `TYPE [NAME...]`, `TYPE/NAME`, `-l`, `-A` like `get`, fetches
//! what each describer needs (events by field selector, the controller's pods, ReplicaSets,
//! EndpointSlices, quotas) and prints kubectl's text. The describers are pure functions of
//! the object and its [`Related`] data, chosen from the [`DESCRIBERS`] table by group and
//! kind; every other kind gets the generic describer. `-f` describes the objects manifests
//! name (loaded as `apply`/`delete -f` load them).

mod common;
mod ingress;
mod node;
mod pod;
mod rbac;
mod scaling;
mod service;
mod simple;
mod storage;
mod workloads;
mod writer;

use std::collections::BTreeMap;
use std::time::SystemTime;

use anyhow::{anyhow, Result};
use serde_json::Value;

use crate::client::ServerError;
use crate::discovery::{Discovery, Resource};
use crate::Ctx;
use common::{items, s};

/// Options of `describe`.
#[derive(Clone, Debug, Default)]
pub struct DescribeArgs {
    pub args: Vec<String>,
    pub selector: Option<String>,
    pub all_namespaces: bool,
    pub show_events: Option<bool>,
    /// `-f`: describe the objects these manifests name.
    pub files: Vec<String>,
    /// `-R`: walk `-f` directories recursively.
    pub recursive: bool,
}

/// Pods of a controller by phase (`getPodStatusForController`).
#[derive(Clone, Debug, Default)]
pub struct PodCounts {
    pub running: usize,
    pub waiting: usize,
    pub succeeded: usize,
    pub failed: usize,
}

/// A Service an Ingress routes to: the Service (or why it could not be read) and its
/// EndpointSlices.
#[derive(Clone, Debug)]
pub struct Backend {
    pub service: Result<Value, String>,
    pub slices: Vec<Value>,
}

/// What a describer prints besides the object itself.
#[derive(Clone, Debug)]
pub struct Related {
    pub now: SystemTime,
    pub events: Option<Vec<Value>>,
    pub pods: PodCounts,
    pub old_rs: Vec<Value>,
    pub new_rs: Vec<Value>,
    pub slices: Vec<Value>,
    pub quotas: Option<Vec<Value>>,
    pub limit_ranges: Option<Vec<Value>>,
    pub used_by: Vec<String>,
    pub node_pods: Vec<Value>,
    pub lease: Option<Value>,
    /// An Ingress's backend Services by name.
    pub backends: BTreeMap<String, Backend>,
}

impl Default for Related {
    fn default() -> Self {
        Related {
            now: SystemTime::now(),
            events: None,
            pods: PodCounts::default(),
            old_rs: Vec::new(),
            new_rs: Vec::new(),
            slices: Vec::new(),
            quotas: None,
            limit_ranges: None,
            used_by: Vec::new(),
            node_pods: Vec::new(),
            lease: None,
            backends: BTreeMap::new(),
        }
    }
}

/// Related data a describer asks for.
#[derive(Clone, Copy, PartialEq)]
enum Need {
    /// Events of the object (when events are shown).
    Events,
    /// Its pods by phase (workload controllers).
    PodCounts,
    /// Its old and new ReplicaSets (Deployment).
    ReplicaSets,
    /// The Service's EndpointSlices.
    EndpointSlices,
    /// ResourceQuotas and LimitRanges of the namespace.
    Quotas,
    /// Pods mounting the claim.
    UsedBy,
    /// Non-terminated pods on the node and its lease.
    NodePods,
    /// The Services (and their EndpointSlices) an Ingress routes to.
    IngressBackends,
}

struct Describer {
    group: &'static str,
    kind: &'static str,
    needs: &'static [Need],
    render: fn(&Value, &Related) -> String,
}

use Need::*;

/// kubectl's describer map, restricted to the kinds with a describer of their own here.
const DESCRIBERS: &[Describer] = &[
    Describer {
        group: "",
        kind: "Pod",
        needs: &[Events],
        render: pod::render,
    },
    Describer {
        group: "",
        kind: "Service",
        needs: &[EndpointSlices, Events],
        render: service::render,
    },
    Describer {
        group: "",
        kind: "Node",
        needs: &[NodePods, Events],
        render: node::render,
    },
    Describer {
        group: "",
        kind: "Namespace",
        needs: &[Quotas],
        render: simple::namespace,
    },
    Describer {
        group: "",
        kind: "ConfigMap",
        needs: &[Events],
        render: simple::config_map,
    },
    Describer {
        group: "",
        kind: "ServiceAccount",
        needs: &[Events],
        render: simple::service_account,
    },
    Describer {
        group: "",
        kind: "PersistentVolumeClaim",
        needs: &[UsedBy, Events],
        render: simple::persistent_volume_claim,
    },
    Describer {
        group: "",
        kind: "PersistentVolume",
        needs: &[Events],
        render: storage::persistent_volume,
    },
    Describer {
        group: "",
        kind: "Secret",
        needs: &[],
        render: storage::secret,
    },
    Describer {
        group: "storage.k8s.io",
        kind: "StorageClass",
        needs: &[Events],
        render: storage::storage_class,
    },
    Describer {
        group: "discovery.k8s.io",
        kind: "EndpointSlice",
        needs: &[Events],
        render: storage::endpoint_slice,
    },
    Describer {
        group: "apps",
        kind: "Deployment",
        needs: &[Events, ReplicaSets],
        render: workloads::deployment,
    },
    Describer {
        group: "apps",
        kind: "ReplicaSet",
        needs: &[PodCounts, Events],
        render: workloads::replica_set,
    },
    Describer {
        group: "apps",
        kind: "StatefulSet",
        needs: &[PodCounts, Events],
        render: workloads::stateful_set,
    },
    Describer {
        group: "apps",
        kind: "DaemonSet",
        needs: &[PodCounts, Events],
        render: workloads::daemon_set,
    },
    Describer {
        group: "batch",
        kind: "Job",
        needs: &[Events],
        render: workloads::job,
    },
    Describer {
        group: "batch",
        kind: "CronJob",
        needs: &[Events],
        render: workloads::cron_job,
    },
    Describer {
        group: "networking.k8s.io",
        kind: "Ingress",
        needs: &[IngressBackends, Events],
        render: ingress::render,
    },
    Describer {
        group: "autoscaling",
        kind: "HorizontalPodAutoscaler",
        needs: &[Events],
        render: scaling::horizontal_pod_autoscaler,
    },
    Describer {
        group: "policy",
        kind: "PodDisruptionBudget",
        needs: &[Events],
        render: scaling::pod_disruption_budget,
    },
    Describer {
        group: "rbac.authorization.k8s.io",
        kind: "Role",
        needs: &[],
        render: rbac::role,
    },
    Describer {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        needs: &[],
        render: rbac::role,
    },
    Describer {
        group: "rbac.authorization.k8s.io",
        kind: "RoleBinding",
        needs: &[],
        render: rbac::binding,
    },
    Describer {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRoleBinding",
        needs: &[],
        render: rbac::binding,
    },
];

const GENERIC: Describer = Describer {
    group: "",
    kind: "",
    needs: &[Events],
    render: simple::generic,
};

fn describer_for(r: &Resource) -> &'static Describer {
    DESCRIBERS
        .iter()
        .find(|d| d.group == r.group && d.kind == r.kind)
        .unwrap_or(&GENERIC)
}

/// One object to describe.
struct Target {
    resource: Resource,
    namespace: String,
    name: String,
}

pub async fn run(ctx: &mut Ctx, a: &DescribeArgs) -> Result<i32> {
    if a.args.is_empty() && a.files.is_empty() {
        return Err(anyhow!(
            "You must specify the type of resource to describe. Use \"kubectl api-resources\" for a complete list of supported resources."
        ));
    }
    crate::manifest::refuse_resource_args(&a.files, &a.args)?;
    let mut disc = Discovery::load(&ctx.api).await?;
    let ns = ctx.namespace.clone();
    let mut targets: Vec<Target> = Vec::new();
    let mut errors: Vec<anyhow::Error> = Vec::new();
    let mut not_found = false;
    // Objects named by manifests are not fetched first: their describer's GET reports a
    // missing one, as kubectl's file visitor (without `Latest()`) does.
    for (resource, namespace, name) in
        crate::mutate::manifest_targets(ctx, &mut disc, &a.files, a.recursive).await?
    {
        targets.push(Target {
            resource,
            namespace,
            name,
        });
    }
    let pairs: Vec<(Resource, Option<String>)> = if a.args.is_empty() {
        Vec::new()
    } else if a.args.iter().all(|x| x.contains('/')) {
        let mut v = Vec::new();
        for x in &a.args {
            let (t, n) = x.split_once('/').unwrap_or((x, ""));
            v.push((disc.resolve(&ctx.api, t).await?, Some(n.to_string())));
        }
        v
    } else {
        let resources = disc.resolve_types(&ctx.api, &a.args[0]).await?;
        let names = &a.args[1..];
        let mut v = Vec::new();
        for r in resources {
            if names.is_empty() {
                v.push((r, None));
            } else {
                v.extend(names.iter().map(|n| (r.clone(), Some(n.clone()))));
            }
        }
        v
    };
    for (r, name) in pairs {
        let obj_ns = if r.namespaced {
            ns.clone()
        } else {
            String::new()
        };
        match name {
            Some(n) => match ctx.api.get(&r.object(&ns, &n)).await {
                Ok(_) => targets.push(Target {
                    resource: r,
                    namespace: obj_ns,
                    name: n,
                }),
                Err(e) => {
                    let nf = e
                        .downcast_ref::<ServerError>()
                        .is_some_and(|se| se.code == 404);
                    not_found |= nf;
                    errors.push(e);
                }
            },
            None => {
                let list_ns = (!a.all_namespaces).then_some(ns.as_str());
                let mut q = vec![("limit".to_string(), "500".to_string())];
                if let Some(l) = &a.selector {
                    q.push(("labelSelector".into(), l.clone()));
                }
                match list(ctx, &r.collection(list_ns), &q).await {
                    Ok(objs) => {
                        for o in objs {
                            targets.push(Target {
                                resource: r.clone(),
                                namespace: s(&o["metadata"]["namespace"]).to_string(),
                                name: s(&o["metadata"]["name"]).to_string(),
                            });
                        }
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
    }
    // kubectl 1.35 shows events unless `--show-events=false`.
    let show_events = a.show_events.unwrap_or(true);
    // kubectl describes every object whose name starts with NAME when `TYPE NAME` finds none.
    if a.args.len() == 2 && !a.args[1].contains('/') && errors.len() == 1 && not_found {
        let r = disc.resolve(&ctx.api, &a.args[0]).await?;
        let q = vec![("limit".to_string(), "500".to_string())];
        let objs = list(ctx, &r.collection(Some(&ns)), &q).await?;
        let prefix = &a.args[1];
        let mut found = false;
        for o in objs {
            let name = s(&o["metadata"]["name"]);
            if name.starts_with(prefix.as_str()) {
                found = true;
                let t = Target {
                    resource: r.clone(),
                    namespace: s(&o["metadata"]["namespace"]).to_string(),
                    name: name.to_string(),
                };
                println!("{}", describe_one(ctx, &t, show_events).await?);
            }
        }
        if found {
            return Ok(0);
        }
        crate::mutate::print_error(&errors[0]);
        return Ok(1);
    }
    let mut first = true;
    for t in &targets {
        match describe_one(ctx, t, show_events).await {
            Ok(text) => {
                if first {
                    print!("{text}");
                    first = false;
                } else {
                    print!("\n\n{text}");
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if targets.is_empty() && errors.is_empty() {
        if a.all_namespaces {
            eprintln!("No resources found");
        } else {
            eprintln!("No resources found in {ns} namespace.");
        }
    }
    for e in &errors {
        crate::mutate::print_error(e);
    }
    Ok(i32::from(!errors.is_empty()))
}

/// A collection's items, following `continue` tokens.
async fn list(ctx: &Ctx, path: &str, q: &[(String, String)]) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut cont = String::new();
    loop {
        let mut q = q.to_vec();
        if !cont.is_empty() {
            q.push(("continue".into(), cont.clone()));
        }
        let page = ctx
            .api
            .get(&format!("{path}{}", crate::get::query_string(&q)))
            .await?;
        out.extend(items(&page["items"]).iter().cloned());
        cont = s(&page["metadata"]["continue"]).to_string();
        if cont.is_empty() {
            return Ok(out);
        }
    }
}

/// `fields.Set.AsSelector().String()` of the event search: keys sorted, values escaped.
pub fn event_selector(name: &str, namespace: &str, kind: Option<&str>, uid: &str) -> String {
    let esc = |v: &str| {
        v.replace('\\', "\\\\")
            .replace(',', "\\,")
            .replace('=', "\\=")
    };
    let mut terms = Vec::new();
    if let Some(k) = kind {
        terms.push(format!("involvedObject.kind={}", esc(k)));
    }
    terms.push(format!("involvedObject.name={}", esc(name)));
    terms.push(format!("involvedObject.namespace={}", esc(namespace)));
    if !uid.is_empty() {
        terms.push(format!("involvedObject.uid={}", esc(uid)));
    }
    terms.join(",")
}

async fn search_events(
    ctx: &Ctx,
    obj: &Value,
    kind: Option<&str>,
    uid: &str,
) -> Result<Vec<Value>> {
    let meta = &obj["metadata"];
    let ns = s(&meta["namespace"]);
    let path = if ns.is_empty() {
        "/api/v1/events".to_string()
    } else {
        format!("/api/v1/namespaces/{ns}/events")
    };
    let sel = event_selector(s(&meta["name"]), ns, kind, uid);
    let q = vec![
        ("fieldSelector".to_string(), sel),
        ("limit".to_string(), "500".to_string()),
    ];
    list(ctx, &path, &q).await
}

/// The EndpointSlices of a Service (by the `kubernetes.io/service-name` label).
async fn service_slices(ctx: &Ctx, ns: &str, service: &str) -> Result<Vec<Value>> {
    let q = vec![(
        "labelSelector".to_string(),
        format!("kubernetes.io/service-name={service}"),
    )];
    list(
        ctx,
        &format!("/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"),
        &q,
    )
    .await
}

/// An error as Go's `%v` prints it: a server error is its Status message.
fn error_text(e: &anyhow::Error) -> String {
    match e.downcast_ref::<ServerError>() {
        Some(se) => se.message.clone(),
        None => e.to_string(),
    }
}

async fn pods_of(ctx: &Ctx, obj: &Value, selector: &str) -> Result<Vec<Value>> {
    let ns = s(&obj["metadata"]["namespace"]);
    let mut q = vec![("limit".to_string(), "500".to_string())];
    if !selector.is_empty() {
        q.push(("labelSelector".into(), selector.to_string()));
    }
    list(ctx, &format!("/api/v1/namespaces/{ns}/pods"), &q).await
}

fn controlled_by_uid(obj: &Value, uid: &str) -> bool {
    items(&obj["metadata"]["ownerReferences"])
        .iter()
        .any(|r| r["controller"] == true && s(&r["uid"]) == uid)
}

/// A pod template without the `pod-template-hash` label and null fields (the typed
/// comparison of upstream's `EqualIgnoreHash`), for finding a Deployment's new RS.
fn template_without_hash(t: &Value) -> Value {
    let mut t = strip_nulls(t);
    if let Some(labels) = t["metadata"]["labels"].as_object_mut() {
        labels.remove("pod-template-hash");
        if labels.is_empty() {
            t["metadata"].as_object_mut().map(|m| m.remove("labels"));
        }
    }
    t
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), strip_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

async fn describe_one(ctx: &Ctx, t: &Target, show_events: bool) -> Result<String> {
    let r = &t.resource;
    let obj = ctx.api.get(&r.object(&t.namespace, &t.name)).await?;
    let d = describer_for(r);
    let mut rel = Related::default();
    let uid = s(&obj["metadata"]["uid"]).to_string();
    for need in d.needs {
        match need {
            Events if show_events => {
                // kubectl leaves the kind out of a pod's event search.
                let kind = (r.kind != "Pod").then_some(r.kind.as_str());
                let mut events = search_events(ctx, &obj, kind, &uid)
                    .await
                    .unwrap_or_default();
                if r.kind == "Node" {
                    // The kubelet records node events with the node's name as its UID.
                    let by_name = search_events(ctx, &obj, kind, &t.name)
                        .await
                        .unwrap_or_default();
                    events.extend(by_name);
                }
                rel.events = Some(events);
            }
            Events => {}
            PodCounts => {
                let sel = common::selector_string(&obj["spec"]["selector"]);
                for p in pods_of(ctx, &obj, &sel).await? {
                    if !controlled_by_uid(&p, &uid) {
                        continue;
                    }
                    match s(&p["status"]["phase"]) {
                        "Running" => rel.pods.running += 1,
                        "Pending" => rel.pods.waiting += 1,
                        "Succeeded" => rel.pods.succeeded += 1,
                        "Failed" => rel.pods.failed += 1,
                        _ => {}
                    }
                }
            }
            ReplicaSets => {
                let ns = s(&obj["metadata"]["namespace"]);
                let sel = common::selector_string(&obj["spec"]["selector"]);
                let q = vec![
                    ("labelSelector".to_string(), sel),
                    ("limit".to_string(), "500".to_string()),
                ];
                let owned: Vec<Value> = list(
                    ctx,
                    &format!("/apis/apps/v1/namespaces/{ns}/replicasets"),
                    &q,
                )
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|rs| controlled_by_uid(rs, &uid))
                .collect();
                let want = template_without_hash(&obj["spec"]["template"]);
                let new = owned
                    .iter()
                    .filter(|rs| template_without_hash(&rs["spec"]["template"]) == want)
                    .min_by_key(|rs| s(&rs["metadata"]["creationTimestamp"]).to_string())
                    .cloned();
                let new_name = new
                    .as_ref()
                    .map(|rs| s(&rs["metadata"]["name"]).to_string());
                rel.old_rs = owned
                    .iter()
                    .filter(|rs| Some(s(&rs["metadata"]["name"]).to_string()) != new_name)
                    .cloned()
                    .collect();
                rel.new_rs = new.into_iter().collect();
            }
            EndpointSlices => {
                rel.slices = service_slices(ctx, &t.namespace, &t.name)
                    .await
                    .unwrap_or_default();
            }
            IngressBackends => {
                for name in ingress::backend_services(&obj) {
                    // kubectl lists the slices first and reports the first failure.
                    let slices = service_slices(ctx, &t.namespace, &name).await;
                    let service = ctx
                        .api
                        .get(&format!(
                            "/api/v1/namespaces/{}/services/{name}",
                            t.namespace
                        ))
                        .await;
                    let backend = match (slices, service) {
                        (Ok(slices), Ok(service)) => Backend {
                            service: Ok(service),
                            slices,
                        },
                        (Err(e), _) | (_, Err(e)) => Backend {
                            service: Err(error_text(&e)),
                            slices: Vec::new(),
                        },
                    };
                    rel.backends.insert(name, backend);
                }
            }
            Quotas => {
                let q = vec![("limit".to_string(), "500".to_string())];
                let base = format!("/api/v1/namespaces/{}", t.name);
                rel.quotas = list(ctx, &format!("{base}/resourcequotas"), &q).await.ok();
                rel.limit_ranges = list(ctx, &format!("{base}/limitranges"), &q).await.ok();
            }
            UsedBy => {
                for p in pods_of(ctx, &obj, "").await.unwrap_or_default() {
                    let uses = items(&p["spec"]["volumes"])
                        .iter()
                        .any(|v| s(&v["persistentVolumeClaim"]["claimName"]) == t.name);
                    if uses {
                        rel.used_by.push(s(&p["metadata"]["name"]).to_string());
                    }
                }
            }
            NodePods => {
                let sel = format!(
                    "spec.nodeName={},status.phase!=Succeeded,status.phase!=Failed",
                    t.name
                );
                let q = vec![
                    ("fieldSelector".to_string(), sel),
                    ("limit".to_string(), "500".to_string()),
                ];
                rel.node_pods = list(ctx, "/api/v1/pods", &q).await.unwrap_or_default();
                rel.lease = ctx
                    .api
                    .get(&format!(
                        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{}",
                        t.name
                    ))
                    .await
                    .ok();
            }
        }
    }
    Ok((d.render)(&obj, &rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_search_selects_by_sorted_involved_object_fields() {
        assert_eq!(
            event_selector("web", "default", Some("Deployment"), "u-1"),
            "involvedObject.kind=Deployment,involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u-1"
        );
        assert_eq!(
            event_selector("n1", "", Some("Node"), "n1"),
            "involvedObject.kind=Node,involvedObject.name=n1,involvedObject.namespace=,involvedObject.uid=n1"
        );
    }
}
