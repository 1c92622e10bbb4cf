//! Recording core/v1 Events as client-go's `tools/record` does for every v1.35 controller and
//! the kubelet: an event is named `<object>.<hex nanoseconds>`, carries its source and reporting
//! component, and goes through the `correlator` (aggregation of similar events, counting of
//! repeats on the existing Event, the per-object spam filter) before it is written. Writes happen
//! in the background, a bounded number at a time (one at a time keeps them in order); a failed
//! write is logged and dropped, as upstream does after its retries.

pub mod correlator;

use apimachinery::clock::{rfc3339, Clock};
use correlator::{Correlated, Correlator, Incoming, Observation};
use kube::api::Patch;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, Semaphore};

/// The object an event is about (`involvedObject`). Its kind and apiVersion are mostly
/// literals (`Cow::Borrowed`), so a pod's reference allocates only its own names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: Cow<'static, str>,
    pub api_version: Cow<'static, str>,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: Option<String>,
    pub field_path: Option<String>,
}

impl ObjectRef {
    pub fn pod(namespace: &str, name: &str, uid: &str) -> ObjectRef {
        ObjectRef {
            kind: "Pod".into(),
            api_version: "v1".into(),
            namespace: namespace.into(),
            name: name.into(),
            uid: uid.into(),
            ..ObjectRef::default()
        }
    }

    /// The reference of any object (`ref.GetReference`).
    pub fn of<K: kube::Resource<DynamicType = ()>>(obj: &K) -> ObjectRef {
        let r = obj.object_ref(&());
        ObjectRef {
            kind: r.kind.unwrap_or_default().into(),
            api_version: r.api_version.unwrap_or_default().into(),
            namespace: r.namespace.unwrap_or_default(),
            name: r.name.unwrap_or_default(),
            uid: r.uid.unwrap_or_default(),
            resource_version: r.resource_version,
            field_path: r.field_path,
        }
    }
}

/// Who reports: a controller (`replicaset-controller`), `kubelet` on a host,
/// `default-scheduler`, a provisioner. Cheap to clone: every queued event holds its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub component: Arc<str>,
    pub host: Option<Arc<str>>,
}

impl Source {
    pub fn component(component: &str) -> Source {
        Source {
            component: component.into(),
            host: None,
        }
    }
}

/// An event waiting for the writer. A large rollout queues tens of thousands of these (the
/// simulated nodes record four or five a pod faster than they can be written), so a record
/// shares its object with the other events recorded with the same `Arc<ObjectRef>` and its
/// source with every event of that source, and keeps its message without spare capacity.
#[derive(Debug)]
struct Record {
    object: Arc<ObjectRef>,
    source: Source,
    warning: bool,
    reason: Cow<'static, str>,
    message: Box<str>,
}

impl Record {
    fn incoming(&self) -> Incoming<'_> {
        Incoming {
            source_component: &self.source.component,
            source_host: self.source.host.as_deref().unwrap_or(""),
            kind: &self.object.kind,
            namespace: &self.object.namespace,
            name: &self.object.name,
            uid: &self.object.uid,
            api_version: &self.object.api_version,
            field_path: self.object.field_path.as_deref().unwrap_or(""),
            type_: self.type_(),
            reason: &self.reason,
            message: &self.message,
        }
    }

    fn type_(&self) -> &'static str {
        if self.warning {
            "Warning"
        } else {
            "Normal"
        }
    }

    fn namespace(&self) -> &str {
        if self.object.namespace.is_empty() {
            "default"
        } else {
            &self.object.namespace
        }
    }
}

/// How a recorder writes.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Event writes in flight at once (1 keeps them in the order recorded).
    pub in_flight: usize,
    /// Entries of each of the correlator's caches.
    pub cache_entries: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            in_flight: 1,
            cache_entries: correlator::DEFAULT_CACHE_ENTRIES,
        }
    }
}

/// Sends events to the API server in the background. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::UnboundedSender<Record>,
}

impl Recorder {
    /// Start the writer task.
    pub fn spawn(client: kube::Client, clock: Arc<dyn Clock>, options: Options) -> Recorder {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(client, clock, options, rx));
        Recorder { tx }
    }

    /// A recorder whose events go nowhere (unit tests).
    pub fn discard() -> Recorder {
        let (tx, _) = mpsc::unbounded_channel();
        Recorder { tx }
    }

    pub fn record(
        &self,
        object: impl Into<Arc<ObjectRef>>,
        source: &Source,
        warning: bool,
        reason: impl Into<Cow<'static, str>>,
        message: String,
    ) {
        let _ = self.tx.send(Record {
            object: object.into(),
            source: source.clone(),
            warning,
            reason: reason.into(),
            message: message.into_boxed_str(),
        });
    }
}

/// The Event object of an observation.
fn event_object(r: &Record, o: &Observation, now: SystemTime) -> Value {
    let mut involved = json!({
        "kind": &*r.object.kind,
        "apiVersion": &*r.object.api_version,
        "name": r.object.name,
        "uid": r.object.uid,
    });
    if !r.object.namespace.is_empty() {
        involved["namespace"] = json!(r.object.namespace);
    }
    if let Some(rv) = &r.object.resource_version {
        involved["resourceVersion"] = json!(rv);
    }
    if let Some(fp) = &r.object.field_path {
        involved["fieldPath"] = json!(fp);
    }
    let mut source = json!({"component": &*r.source.component});
    if let Some(h) = &r.source.host {
        source["host"] = json!(&**h);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": o.name, "namespace": r.namespace()},
        "involvedObject": involved,
        "reason": &*r.reason,
        "message": o.message,
        "source": source,
        "firstTimestamp": rfc3339(o.first_timestamp),
        "lastTimestamp": rfc3339(now),
        "count": o.count,
        "type": r.type_(),
        "reportingComponent": &*r.source.component,
        "reportingInstance": r.source.host.as_deref().unwrap_or_default(),
    })
}

async fn write_loop(
    client: kube::Client,
    clock: Arc<dyn Clock>,
    options: Options,
    mut rx: mpsc::UnboundedReceiver<Record>,
) {
    let slots = Arc::new(Semaphore::new(options.in_flight.max(1)));
    let mut correlator = Correlator::with_capacity(options.cache_entries);
    let mut last_nanos: u64 = 0;
    while let Some(r) = rx.recv().await {
        let now = clock.now();
        // Names must differ even when the clock does not move (a fake clock, a coarse one).
        // Nanoseconds since 1970 fit 64 bits until 2554.
        let nanos = u64::try_from(
            now.duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        )
        .unwrap_or(u64::MAX)
        .max(last_nanos + 1);
        last_nanos = nanos;
        let (update, obs) = match correlator.correlate(&r.incoming(), nanos, now) {
            Correlated::Skip => continue,
            Correlated::Create(o) => (false, o),
            Correlated::Update(o) => (true, o),
        };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let client = client.clone();
        tokio::spawn(async move {
            let path = format!("/api/v1/namespaces/{}/events", r.namespace());
            let mut result = Err(None);
            if update {
                let patch = json!({
                    "count": obs.count,
                    "lastTimestamp": rfc3339(now),
                    "message": obs.message,
                });
                let patch = Patch::Strategic(patch);
                result = crate::writes::patch(&client, &path, &obs.name, None, &patch)
                    .await
                    .map_err(Some);
            }
            // An Event that is gone (expired, deleted) is created again, as upstream does.
            let gone = matches!(&result, Err(Some(kube::Error::Api(s))) if s.code == 404);
            if !update || gone {
                let body = event_object(&r, &obs, now);
                result = crate::writes::create(&client, &path, &body)
                    .await
                    .map_err(Some);
            }
            if let Err(Some(e)) = result {
                tracing::debug!(event = %obs.name, reason = %r.reason, "event not recorded: {e}");
            }
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Event;

    /// A 10,000-pod rollout queues tens of thousands of events: each holds its message and
    /// pointers to what it shares (object, source), not copies of them.
    #[test]
    fn a_queued_event_stays_small() {
        assert!(
            std::mem::size_of::<Record>() <= 96,
            "{}",
            std::mem::size_of::<Record>()
        );
    }

    #[test]
    fn an_event_carries_its_source_involved_object_field_path_and_count() {
        let r = Record {
            object: Arc::new(ObjectRef {
                field_path: Some("spec.containers{nginx}".into()),
                ..ObjectRef::pod("default", "web", "u1")
            }),
            source: Source {
                component: "kubelet".into(),
                host: Some("kube-lite-worker".into()),
            },
            warning: false,
            reason: "Pulling".into(),
            message: "Pulling image \"nginx\"".into(),
        };
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let o = Observation {
            name: "web.1".into(),
            message: r.message.to_string(),
            first_timestamp: t,
            count: 3,
        };
        let v = event_object(&r, &o, t + std::time::Duration::from_secs(60));
        assert_eq!(v["involvedObject"]["fieldPath"], "spec.containers{nginx}");
        assert_eq!(
            v["source"],
            json!({"component": "kubelet", "host": "kube-lite-worker"})
        );
        assert_eq!(v["type"], "Normal");
        assert_eq!(v["count"], 3);
        assert_eq!(v["firstTimestamp"], "2027-01-15T08:00:00Z");
        assert_eq!(v["lastTimestamp"], "2027-01-15T08:01:00Z");
        assert_eq!(v["reportingInstance"], "kube-lite-worker");
        assert_eq!(v["metadata"]["namespace"], "default");
        serde_json::from_value::<Event>(v).unwrap();
    }
}
