//! One pod on one node (the kubelet's pod worker): builds or re-adopts the lifecycle machine,
//! steps it when its next transition is due or the pod changes, writes the status when it
//! changed (a merge patch of `status`), records the machine's events, and once a deleted pod's
//! containers have stopped deletes it for good (`gracePeriodSeconds=0`, uid precondition).
//!
//! A node runs one worker per pod, and most of them are waiting most of the time: what a worker
//! holds across its waits is what each pod costs the node, so it is kept to the machine and a
//! few words. The start (the pod, its spec and status, the first sources) runs in a future of
//! its own; the awaits an idle worker is not in (sources, writes, the removal) are boxed, and
//! so are its sleep and its wait on real processes, made only when there is one.

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
///
/// Of its own conditions the base keeps what the next status reads from them (type, status,
/// transition time), not their reasons and messages: a node holds one base per pod.
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
    conds.extend(own_conds.iter().filter(|c| owned(c)).map(|c| {
        json!({
            "type": c["type"],
            "status": c["status"],
            "lastTransitionTime": c["lastTransitionTime"],
        })
    }));
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

/// A change of the pod's spec or deletion for the next step: the new spec, whether it is being
/// deleted, its grace period. Boxed: a worker holds one across its waits only now and then,
/// and its future's size is paid by every pod on the node.
type Update = Box<(PodSpecView, bool, Option<i64>)>;

/// Run `f` in the node's environment for one pod (its clock, runtime, timing and addresses, and
/// the pod's sources); returns what `f` returns and the events it raised.
fn in_env<R>(
    ctx: &NodeContext,
    sources: &Sources,
    f: impl FnOnce(&mut Env<'_>) -> R,
) -> (R, Vec<Event>) {
    let mut events = Vec::new();
    let out = {
        let mut ips = ctx.ips.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut Env {
            now: ctx.clock.now(),
            runtime: ctx.runtime.as_ref(),
            timing: &ctx.timing,
            ips: &mut *ips,
            sources,
            events: &mut events,
        })
    };
    (out, events)
}

/// Step the machine with the node's runtime, addresses and the pod's sources, and record its
/// events; returns the next wake-up.
fn step(
    ctx: &NodeContext,
    m: &mut PodMachine,
    sources: &Sources,
    update: Option<Update>,
) -> Option<SystemTime> {
    let (wake, events) = in_env(ctx, sources, |env| {
        if let Some(update) = update {
            let (spec, deleting, grace) = *update;
            m.update(spec, deleting, grace, env);
        }
        m.step(env)
    });
    record(ctx, &m.spec, events);
    wake
}

/// Hand a step's events to the recorder (the buffer goes with them: an idle worker keeps
/// none). Events about the same part of the pod share one reference to it while queued.
fn record(ctx: &NodeContext, spec: &PodSpecView, events: Vec<Event>) {
    let mut shared: Option<Arc<ObjectRef>> = None;
    for e in events {
        let object = match shared.take() {
            Some(o) if o.field_path() == e.field_path.as_deref() => o,
            _ => Arc::new(
                ObjectRef::pod(&spec.namespace, &spec.name, &spec.uid)
                    .with_field_path(e.field_path.as_deref()),
            ),
        };
        ctx.recorder.record(
            shared.insert(object).clone(),
            &ctx.source,
            e.warning,
            e.reason,
            e.message,
        );
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

/// The status after a step, as the merge patch to write (`{"status": ...}`), serialized once
/// for the fingerprint and the write and held as compact JSON while waiting for a write slot
/// (many workers wait at once); `api_status` becomes the base of the next one.
fn status_patch(
    ctx: &NodeContext,
    m: &PodMachine,
    api_status: &mut Box<str>,
) -> Box<serde_json::value::RawValue> {
    let base = serde_json::from_str(api_status).unwrap_or_else(|_| json!({}));
    let status = status::pod_status(m, ctx.clock.now(), &ctx.host_ip, &base);
    *api_status = compact(&rebase(base, &status));
    serde_json::value::to_raw_value(&json!({"status": status})).expect("a JSON value serializes")
}

/// What building the machine leaves to the worker's loop.
struct Started {
    m: PodMachine,
    /// What the API shows of the status (`prior`), as compact JSON: a serde_json tree is
    /// several times larger, and a node holds one per pod.
    api_status: Box<str>,
    /// The deletion of a pod that was already being deleted.
    update: Option<Update>,
    /// The ConfigMaps and Secrets read for the start, for the first step.
    sources: Box<Sources>,
}

/// Build the machine of a pod new to the node, or re-adopt the containers its status shows.
async fn start(ctx: &NodeContext, pod: Arc<Pod>) -> Started {
    let spec = PodSpecView::from_pod_in(&pod, &ctx.specs, None);
    let initial = Box::new(sources(ctx, &spec, true).await);
    let api_status = compact(&prior(&pod));
    let full_status = pod
        .status
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or(Value::Null);
    let adopting =
        full_status.get("containerStatuses").is_some() || full_status.get("podIP").is_some();
    let update = pod.metadata.deletion_timestamp.is_some().then(|| {
        Box::new((
            spec.clone(),
            true,
            pod.metadata.deletion_grace_period_seconds,
        ))
    });
    let (m, events) = in_env(ctx, &initial, |env| {
        if adopting {
            adopt::adopt(spec, &full_status, env)
        } else {
            PodMachine::start(spec, env.now, &ctx.timing)
        }
    });
    record(ctx, &m.spec, events);
    Started {
        m,
        api_status,
        update,
        sources: initial,
    }
}

/// `f`'s output, or never if there is no `f`.
async fn or_never(f: Option<impl std::future::Future<Output = ()>>) {
    match f {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

pub async fn run(ctx: Arc<NodeContext>, pod: Arc<Pod>, mut rx: Receiver) {
    // A pod that is already over: nothing runs; the API server removes it when deleted.
    if matches!(phase(&pod), "Succeeded" | "Failed") {
        while let PodUpdate::Changed(_) = rx.recv().await {}
        return;
    }
    // A worker lives as long as its pod: it keeps what it needs, not the pod it started with.
    // Built in a boxed future of its own: an async fn keeps a slot for every local in scope
    // across an await, moved out or not, and an idle worker needs none of what the start
    // does (the pod, its spec and full status, the first sources).
    let Started {
        mut m,
        mut api_status,
        mut update,
        sources: initial,
    } = Box::pin(start(&ctx, pod)).await;
    let mut written: Option<u64> = None;
    // Real processes: their exits wake the worker (nothing to poll).
    let changes = ctx.runtime.changes(&m.spec.uid);
    let mut fresh = Some(initial);
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
            step(&ctx, &mut m, &sources, update.take())
        };
        // Scoped: an idle worker keeps only the patch's fingerprint.
        {
            let patch = status_patch(&ctx, &m, &mut api_status);
            let print = fingerprint(patch.get());
            if written != Some(print) {
                // Boxed, like every rarely taken await here: an idle worker's future stays
                // small. The future owns the patch, so it is freed as soon as the write is
                // done.
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
        }
        if m.is_terminal() && m.deleting {
            Box::pin(remove(&ctx, &m.spec)).await;
            // Wait for the deletion to be seen (or the node to go).
            while let PodUpdate::Changed(_) = rx.recv().await {}
            ctx.logs
                .remove_pod(&m.spec.namespace, &m.spec.name, &m.spec.uid);
            return;
        }
        // Boxed, and made only when there is one: a sleep (or a wait on real processes) is
        // larger than the rest of an idle worker's wait, and a pod with no wake-up due and
        // simulated containers waits for its mailbox alone.
        let sleep = wake.map(|t| Box::pin(ctx.clock.sleep_until(t)));
        let changed = changes.as_ref().map(|n| Box::pin(n.notified()));
        tokio::select! {
            _ = or_never(changed) => {}
            u = rx.recv() => match u {
                PodUpdate::Deleted => {
                    forget(&ctx, &m);
                    return;
                }
                PodUpdate::Changed(p) => {
                    let own = serde_json::from_str(&api_status).unwrap_or_else(|_| json!({}));
                    api_status = compact(&rebase(prior(&p), &own));
                    let spec = PodSpecView::from_pod_in(&p, &ctx.specs, Some(&m.spec));
                    update = Some(Box::new((spec, p.metadata.deletion_timestamp.is_some(), p.metadata.deletion_grace_period_seconds)));
                }
            },
            _ = or_never(sleep) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rebase;
    use serde_json::json;

    /// The size of the future `f` returns, without calling it.
    fn future_size<A, B, C, F: std::future::Future>(_: impl FnOnce(A, B, C) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    #[test]
    fn an_idle_pod_worker_stays_small() {
        // A node keeps one worker per pod, waiting: its machine (256 bytes, its spec view 80 of
        // them: the rest of the spec is shared by the pods of its template), the wait (its
        // mailbox's `recv`, 88 bytes, and the sleep and the wait on real processes, boxed when
        // there is one) and a few words of loop state come to 560 bytes (release and debug
        // builds). 640 leaves room for a field or two, not for what the worker must not keep
        // across its waits: the start's locals (the spec view alone is 80 bytes), a sleep made
        // even when no wake-up is due (208), the back-off tables in the machine (208), the
        // whole spec inline (360 bytes, 840 for the future). Before these were taken out the
        // worker's future was 2,000 bytes.
        let size = future_size(super::run);
        assert!(size <= 640, "a waiting pod worker's future is {size} bytes");
    }

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
    fn a_worker_keeps_only_the_type_status_and_time_of_its_own_conditions() {
        let mut ready = cond("Ready", "False", "T15");
        ready["reason"] = json!("ContainersNotReady");
        ready["message"] = json!("containers with unready status: [web]");
        ready["lastProbeTime"] = json!(null);
        ready["observedGeneration"] = json!(1);
        let mut gate = cond("example.com/gate", "False", "T12");
        gate["reason"] = json!("Waiting");
        let api = json!({"conditions": [gate.clone()]});
        let base = rebase(api, &json!({"conditions": [ready]}));
        // What the next status reads of its own conditions (the time a status began) stays;
        // the rest is rebuilt by every step. Other writers' conditions stay whole.
        assert_eq!(
            base["conditions"],
            json!([gate, {"type": "Ready", "status": "False", "lastTransitionTime": "T15"}])
        );
    }

    #[test]
    fn before_its_first_status_a_worker_builds_on_what_the_api_shows() {
        let api = json!({"conditions": [cond("Ready", "True", "T17")]});
        assert_eq!(rebase(api.clone(), &json!({})), api);
    }
}
