//! Recording core/v1 Events as the kubelet and the scheduler do (`record.EventRecorder`): named
//! `<object>.<hex nanoseconds>`, with source and reporting component, and a repeat of the same
//! event (same object, reason, message, source) counted on the existing one (`count`,
//! `lastTimestamp`) instead of creating another. Writes happen in the background, a bounded
//! number at a time; a failed event write is logged and dropped, as upstream does.

use crate::time::SimClock;
use apimachinery::clock::rfc3339;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Patch, PatchParams};
use kube::Api;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::UNIX_EPOCH;
use tokio::sync::{mpsc, Semaphore};

/// The object an event is about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: &'static str,
    pub api_version: &'static str,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub field_path: Option<String>,
}

impl ObjectRef {
    pub fn pod(namespace: &str, name: &str, uid: &str) -> ObjectRef {
        ObjectRef {
            kind: "Pod",
            api_version: "v1",
            namespace: namespace.into(),
            name: name.into(),
            uid: uid.into(),
            field_path: None,
        }
    }
}

/// Who reports: `kubelet` on a host, `default-scheduler`, a provisioner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub component: String,
    pub host: Option<String>,
}

#[derive(Debug)]
struct Record {
    object: ObjectRef,
    source: Source,
    warning: bool,
    reason: String,
    message: String,
}

/// Sends events to the API server in the background. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::UnboundedSender<Record>,
}

/// How many distinct events are remembered for counting repeats.
const CACHE: usize = 20_000;
/// How many event writes may be in flight.
const IN_FLIGHT: usize = 32;

impl Recorder {
    /// Start the writer task.
    pub fn spawn(client: kube::Client, clock: SimClock) -> Recorder {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(client, clock, rx));
        Recorder { tx }
    }

    /// A recorder whose events go nowhere (unit tests).
    pub fn discard() -> Recorder {
        let (tx, _) = mpsc::unbounded_channel();
        Recorder { tx }
    }

    pub fn record(
        &self,
        object: ObjectRef,
        source: &Source,
        warning: bool,
        reason: &str,
        message: String,
    ) {
        let _ = self.tx.send(Record {
            object,
            source: source.clone(),
            warning,
            reason: reason.into(),
            message,
        });
    }
}

/// The Event object for a first occurrence.
fn event_object(r: &Record, name: &str, now: std::time::SystemTime) -> Value {
    let ns = if r.object.namespace.is_empty() {
        "default"
    } else {
        &r.object.namespace
    };
    let mut involved = json!({
        "kind": r.object.kind,
        "apiVersion": r.object.api_version,
        "name": r.object.name,
        "uid": r.object.uid,
    });
    if !r.object.namespace.is_empty() {
        involved["namespace"] = json!(r.object.namespace);
    }
    if let Some(fp) = &r.object.field_path {
        involved["fieldPath"] = json!(fp);
    }
    let mut source = json!({"component": r.source.component});
    if let Some(h) = &r.source.host {
        source["host"] = json!(h);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": involved,
        "reason": r.reason,
        "message": r.message,
        "source": source,
        "firstTimestamp": rfc3339(now),
        "lastTimestamp": rfc3339(now),
        "count": 1,
        "type": if r.warning { "Warning" } else { "Normal" },
        "eventTime": null,
        "reportingComponent": r.source.component,
        "reportingInstance": r.source.host.clone().unwrap_or_default(),
    })
}

async fn write_loop(
    client: kube::Client,
    clock: SimClock,
    mut rx: mpsc::UnboundedReceiver<Record>,
) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    // key → (namespace, event name, count)
    let mut seen: HashMap<String, (String, String, i32)> = HashMap::new();
    let mut order: VecDeque<String> = VecDeque::new();
    let mut last_nanos: u128 = 0;
    while let Some(r) = rx.recv().await {
        let now = clock.now();
        let key = format!(
            "{}\x00{}\x00{}\x00{}\x00{}\x00{}\x00{}",
            r.object.uid,
            r.object.field_path.as_deref().unwrap_or(""),
            r.source.component,
            r.source.host.as_deref().unwrap_or(""),
            r.warning,
            r.reason,
            r.message
        );
        let ns = if r.object.namespace.is_empty() {
            "default".to_string()
        } else {
            r.object.namespace.clone()
        };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        if let Some((ns, name, count)) = seen.get_mut(&key) {
            *count += 1;
            let patch = json!({"count": *count, "lastTimestamp": rfc3339(now)});
            let name = name.clone();
            let api: Api<Event> = Api::namespaced(client.clone(), ns);
            tokio::spawn(async move {
                if let Err(e) = api
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                {
                    tracing::debug!("event {name}: {e}");
                }
                drop(permit);
            });
            continue;
        }
        // Names must differ even when the clock does not move (a fake clock, a coarse one).
        let nanos = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .max(last_nanos + 1);
        last_nanos = nanos;
        let name = format!("{}.{:x}", r.object.name, nanos);
        seen.insert(key.clone(), (ns.clone(), name.clone(), 1));
        order.push_back(key);
        while order.len() > CACHE {
            if let Some(old) = order.pop_front() {
                seen.remove(&old);
            }
        }
        let body = event_object(&r, &name, now);
        let client = client.clone();
        let path = format!("/api/v1/namespaces/{ns}/events");
        tokio::spawn(async move {
            match serde_json::from_value::<Event>(body) {
                Ok(ev) => {
                    if let Err(e) = crate::writes::create(&client, &path, &ev).await {
                        tracing::debug!("event {name}: {e}");
                    }
                }
                Err(e) => tracing::warn!("event {name}: {e}"),
            }
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_carries_its_source_involved_object_and_field_path() {
        let r = Record {
            object: ObjectRef {
                field_path: Some("spec.containers{nginx}".into()),
                ..ObjectRef::pod("default", "web", "u1")
            },
            source: Source {
                component: "kubelet".into(),
                host: Some("kube-lite-worker".into()),
            },
            warning: false,
            reason: "Pulling".into(),
            message: "Pulling image \"nginx\"".into(),
        };
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let v = event_object(&r, "web.1", t);
        assert_eq!(v["involvedObject"]["fieldPath"], "spec.containers{nginx}");
        assert_eq!(
            v["source"],
            json!({"component": "kubelet", "host": "kube-lite-worker"})
        );
        assert_eq!(v["type"], "Normal");
        assert_eq!(v["count"], 1);
        assert_eq!(v["reportingInstance"], "kube-lite-worker");
        assert_eq!(v["metadata"]["namespace"], "default");
        serde_json::from_value::<Event>(v).unwrap();
    }
}
