//! One pod on one node (the kubelet's pod worker): builds or re-adopts the lifecycle machine,
//! steps it when its next transition is due or the pod changes, writes the status when it
//! changed (a merge patch of `status`), records the machine's events, and once a deleted pod's
//! containers have stopped deletes it for good (`gracePeriodSeconds=0`, uid precondition).

use super::mailbox::{PodUpdate, Receiver};
use super::NodeContext;
use crate::apidata::{references, Sources};
use crate::events::ObjectRef;
use crate::lifecycle::{adopt, status, Env, Event, PodMachine, PodSpecView};
use client_tools::writes;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Preconditions};
use kube::Api;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::SystemTime;

/// `v` as compact JSON, with no spare capacity: a node keeps one per pod between steps (a
/// `String` grown while formatting holds up to twice its length).
fn compact(v: &Value) -> Box<str> {
    v.to_string().into_boxed_str()
}

/// The parts of the pod's current status the next status is built on (conditions for their
/// transition times and the ones the kubelet does not own, the QoS class) — kept small, as a
/// node holds one per pod.
fn prior(pod: &Pod) -> Value {
    let Some(s) = pod.status.as_ref() else {
        return json!({});
    };
    let mut v = json!({});
    if let Some(c) = &s.conditions {
        v["conditions"] = serde_json::to_value(c).unwrap_or(Value::Null);
    }
    if let Some(q) = &s.qos_class {
        v["qosClass"] = json!(q);
    }
    v
}

/// The base of the next status once the API shows `api` (from `prior`): the conditions the
/// kubelet writes come from `own`, the last status this worker built, and the rest (other
/// writers' conditions, PodScheduled, the QoS class) from the API. The real kubelet's status
/// manager does the same with its cache: a pod event that arrives late, or the echo of an
/// earlier write, must not move a transition time back, or every write's echo would undo the
/// one after it and the worker would rewrite the status forever.
fn rebase(mut api: Value, own: &Value) -> Value {
    let Some(own_conds) = own.get("conditions").and_then(Value::as_array) else {
        return api;
    };
    let owned = |c: &Value| {
        status::KUBELET_CONDITIONS.contains(&c.get("type").and_then(Value::as_str).unwrap_or(""))
    };
    let mut conds: Vec<Value> = api
        .get("conditions")
        .and_then(Value::as_array)
        .map(|c| c.iter().filter(|c| !owned(c)).cloned().collect())
        .unwrap_or_default();
    conds.extend(own_conds.iter().filter(|c| owned(c)).cloned());
    api["conditions"] = Value::Array(conds);
    api
}

/// A fingerprint of a status patch (its JSON), to skip writing the same one twice.
fn fingerprint(json: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    json.hash(&mut h);
    h.finish()
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// The ConfigMaps and Secrets `spec` references, read when `needed` (none are read for a pod
/// that references none).
async fn sources(ctx: &NodeContext, spec: &PodSpecView, needed: bool) -> Sources {
    if needed && !references(spec).is_empty() {
        return super::sources::fetch(&ctx.client, spec, &ctx.facts).await;
    }
    Sources {
        node: ctx.facts.clone(),
        ..Sources::default()
    }
}

/// Step the machine with the node's runtime, addresses and the pod's sources; returns the
/// next wake-up.
/// A change of the pod's spec or deletion for the next step: the new spec, whether it is being
/// deleted, its grace period. Boxed: a worker holds one across its waits only now and then,
/// and its future's size is paid by every pod on the node.
type Update = Box<(PodSpecView, bool, Option<i64>)>;

fn step(
    ctx: &NodeContext,
    m: &mut PodMachine,
    events: &mut Vec<Event>,
    sources: &Sources,
    update: Option<Update>,
) -> Option<SystemTime> {
    let mut ips = ctx.ips.lock().unwrap_or_else(|e| e.into_inner());
    let mut env = Env {
        now: ctx.clock.now(),
        runtime: ctx.runtime.as_ref(),
        timing: &ctx.timing,
        ips: &mut *ips,
        sources,
        events,
    };
    if let Some(update) = update {
        let (spec, deleting, grace) = *update;
        m.update(spec, deleting, grace, &mut env);
    }
    m.step(&mut env)
}

/// Hand the step's events to the recorder. The buffer goes with them (taken, not drained):
/// an idle worker keeps no spare capacity.
fn record(ctx: &NodeContext, spec: &PodSpecView, events: &mut Vec<Event>) {
    for e in std::mem::take(events) {
        let object = ObjectRef {
            field_path: e.field_path,
            ..ObjectRef::pod(&spec.namespace, &spec.name, &spec.uid)
        };
        ctx.recorder
            .record(object, &ctx.source, e.warning, e.reason, e.message);
    }
}

/// Give back what a pod held on the node when it vanished without a clean stop.
fn forget(ctx: &NodeContext, m: &PodMachine) {
    use crate::lifecycle::IpSource;
    for c in m.all() {
        if let Some(id) = &c.container_id {
            ctx.runtime.remove_container(id);
        }
    }
    if let Some(sb) = &m.sandbox_id {
        ctx.runtime.stop_pod_sandbox(sb);
    }
    ctx.ips
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .release(&m.spec.uid);
    ctx.logs
        .remove_pod(&m.spec.namespace, &m.spec.name, &m.spec.uid);
}

/// Write the pod's status (a merge patch of `status`) once a write slot is free (the simulated
/// nodes share one bound on API writes in flight).
async fn write_status(
    ctx: &NodeContext,
    spec: &PodSpecView,
    patch: Box<serde_json::value::RawValue>,
) -> kube::Result<()> {
    let _permit = ctx.writes.clone().acquire_owned().await;
    writes::patch_pod_status(&ctx.client, &spec.namespace, &spec.name, &patch).await
}

/// Remove a terminated pod that is being deleted: delete it with grace 0, on the condition that
/// it is still the same pod (its uid), as the kubelet's status manager does.
async fn remove(ctx: &NodeContext, spec: &PodSpecView) {
    let _permit = ctx.writes.clone().acquire_owned().await;
    let dp = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: Some(spec.uid.clone()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &spec.namespace);
    if let Err(e) = api.delete(&spec.name, &dp).await {
        tracing::debug!("delete pod {}/{}: {e}", spec.namespace, spec.name);
    }
}

pub async fn run(ctx: Arc<NodeContext>, pod: Arc<Pod>, mut rx: Receiver) {
    // A pod that is already over: nothing runs; the API server removes it when deleted.
    if matches!(phase(&pod), "Succeeded" | "Failed") {
        while let PodUpdate::Changed(_) = rx.recv().await {}
        return;
    }
    let spec = PodSpecView::from_pod(&pod);
    let initial = Box::pin(sources(&ctx, &spec, true)).await;
    // Kept as compact JSON between steps (a serde_json tree is several times larger, and a
    // node holds one per pod).
    let mut api_status = compact(&prior(&pod));
    let mut events = Vec::new();
    let full_status = pod
        .status
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or(Value::Null);
    let adopting =
        full_status.get("containerStatuses").is_some() || full_status.get("podIP").is_some();
    let mut update = pod.metadata.deletion_timestamp.is_some().then(|| {
        Box::new((
            spec.clone(),
            true,
            pod.metadata.deletion_grace_period_seconds,
        ))
    });
    let mut m = {
        let mut ips = ctx.ips.lock().unwrap_or_else(|e| e.into_inner());
        let mut env = Env {
            now: ctx.clock.now(),
            runtime: ctx.runtime.as_ref(),
            timing: &ctx.timing,
            ips: &mut *ips,
            sources: &initial,
            events: &mut events,
        };
        if adopting {
            adopt::adopt(spec, &full_status, &mut env)
        } else {
            PodMachine::start(spec, env.now, &ctx.timing)
        }
    };
    drop(full_status);
    // A worker lives as long as its pod: it keeps what it needs, not the pod it started with.
    drop(pod);
    let mut written: Option<u64> = None;
    // Real processes: their exits wake the worker (nothing to poll).
    let changes = ctx.runtime.changes(&m.spec.uid);
    let mut fresh = Some(Box::new(initial));
    loop {
        // Scoped, and the first sources boxed: an idle worker holds neither (its future's size
        // is paid by every pod on the node).
        let wake = {
            let sources = match fresh.take() {
                Some(s) => *s,
                None => {
                    let volumes_due =
                        m.volumes_due(ctx.clock.now(), &ctx.timing, ctx.runtime.as_ref());
                    Box::pin(sources(&ctx, &m.spec, m.needs_sources() || volumes_due)).await
                }
            };
            step(&ctx, &mut m, &mut events, &sources, update.take())
        };
        record(&ctx, &m.spec, &mut events);
        let now = ctx.clock.now();
        let base = serde_json::from_str(&api_status).unwrap_or_else(|_| json!({}));
        let status = status::pod_status(&m, now, &ctx.host_ip, &base);
        api_status = compact(&rebase(base, &status));
        // Serialized once, for the fingerprint and the write, and held as compact JSON while
        // waiting for a write slot (many workers wait at once); the tree is dropped now, not
        // at the end of the iteration, or every idle worker would keep its last one across
        // the wait below.
        let patch = serde_json::value::to_raw_value(&json!({"status": status}))
            .expect("a JSON value serializes");
        drop(status);
        let print = fingerprint(patch.get());
        if written == Some(print) {
            // Not held across the wait below: an idle worker keeps only its fingerprint.
            drop(patch);
        } else {
            // Boxed, like every rarely taken await here: an idle worker's future stays small.
            // The future owns the patch, so it is freed as soon as the write is done.
            match Box::pin(write_status(&ctx, &m.spec, patch)).await {
                Ok(_) => written = Some(print),
                Err(kube::Error::Api(e)) if e.code == 404 => {
                    forget(&ctx, &m);
                    return;
                }
                Err(e) => {
                    tracing::debug!("status of pod {}/{}: {e}", m.spec.namespace, m.spec.name)
                }
            }
        }
        if m.is_terminal() && m.deleting {
            Box::pin(remove(&ctx, &m.spec)).await;
            // Wait for the deletion to be seen (or the node to go).
            while let PodUpdate::Changed(_) = rx.recv().await {}
            ctx.logs
                .remove_pod(&m.spec.namespace, &m.spec.name, &m.spec.uid);
            return;
        }
        let sleep = async {
            match wake {
                Some(t) => ctx.clock.sleep_until(t).await,
                None => std::future::pending::<()>().await,
            }
        };
        let changed = async {
            match &changes {
                Some(n) => n.notified().await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = changed => {}
            u = rx.recv() => match u {
                PodUpdate::Deleted => {
                    forget(&ctx, &m);
                    return;
                }
                PodUpdate::Changed(p) => {
                    let own = serde_json::from_str(&api_status).unwrap_or_else(|_| json!({}));
                    api_status = compact(&rebase(prior(&p), &own));
                    let spec = PodSpecView::from_pod(&p);
                    update = Some(Box::new((spec, p.metadata.deletion_timestamp.is_some(), p.metadata.deletion_grace_period_seconds)));
                }
            },
            _ = sleep => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rebase;
    use serde_json::json;

    fn cond(ty: &str, status: &str, at: &str) -> serde_json::Value {
        json!({"type": ty, "status": status, "lastTransitionTime": at})
    }

    #[test]
    fn a_late_pod_event_does_not_move_the_kubelets_transition_times() {
        let own = json!({"conditions": [cond("Ready", "True", "T15"), cond("ContainersReady", "True", "T15")]});
        // The echo of an earlier write (or a stale event) says the pod became ready later.
        let api = json!({"conditions": [
            cond("Ready", "True", "T17"),
            cond("ContainersReady", "True", "T17"),
            cond("PodScheduled", "True", "T10"),
            cond("example.com/gate", "False", "T12"),
        ], "qosClass": "BestEffort"});
        let base = rebase(api, &own);
        let conds = base["conditions"].as_array().unwrap();
        let at = |ty: &str| {
            conds
                .iter()
                .find(|c| c["type"] == ty)
                .map(|c| c["lastTransitionTime"].clone())
        };
        assert_eq!(at("Ready"), Some(json!("T15")));
        assert_eq!(at("ContainersReady"), Some(json!("T15")));
        // What others write still comes from the API.
        assert_eq!(at("PodScheduled"), Some(json!("T10")));
        assert_eq!(at("example.com/gate"), Some(json!("T12")));
        assert_eq!(base["qosClass"], "BestEffort");
        assert_eq!(conds.len(), 4);
    }

    #[test]
    fn before_its_first_status_a_worker_builds_on_what_the_api_shows() {
        let api = json!({"conditions": [cond("Ready", "True", "T17")]});
        assert_eq!(rebase(api.clone(), &json!({})), api);
    }
}
