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

/// The object an event is about (`involvedObject`), packed because tens of thousands may wait
/// in a recorder's queue: its kind and apiVersion are mostly literals (`Cow::Borrowed`), and
/// its namespace, name, uid, field path and resourceVersion share one allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectRef {
    kind: Cow<'static, str>,
    api_version: Cow<'static, str>,
    /// namespace, name, uid, field path, resourceVersion, one after another.
    text: Box<str>,
    /// Where each of the first four parts ends in `text`.
    ends: [u32; 4],
    has_field_path: bool,
    has_resource_version: bool,
}

impl ObjectRef {
    pub fn new(
        kind: impl Into<Cow<'static, str>>,
        api_version: impl Into<Cow<'static, str>>,
        namespace: &str,
        name: &str,
        uid: &str,
    ) -> ObjectRef {
        ObjectRef {
            kind: kind.into(),
            api_version: api_version.into(),
            ..ObjectRef::default()
        }
        .with_parts([namespace, name, uid, "", ""], false, false)
    }

    pub fn pod(namespace: &str, name: &str, uid: &str) -> ObjectRef {
        ObjectRef::new("Pod", "v1", namespace, name, uid)
    }

    /// The reference of any object (`ref.GetReference`).
    pub fn of<K: kube::Resource<DynamicType = ()>>(obj: &K) -> ObjectRef {
        let r = obj.object_ref(&());
        ObjectRef::new(
            r.kind.unwrap_or_default(),
            r.api_version.unwrap_or_default(),
            r.namespace.as_deref().unwrap_or_default(),
            r.name.as_deref().unwrap_or_default(),
            r.uid.as_deref().unwrap_or_default(),
        )
        .with_field_path(r.field_path.as_deref())
        .with_resource_version(r.resource_version.as_deref())
    }

    /// The same reference to a part of the object (`spec.containers{nginx}`).
    pub fn with_field_path(self, field_path: Option<&str>) -> ObjectRef {
        self.rebuilt(field_path, self.resource_version())
    }

    pub fn with_resource_version(self, resource_version: Option<&str>) -> ObjectRef {
        self.rebuilt(self.field_path(), resource_version)
    }

    fn rebuilt(&self, field_path: Option<&str>, resource_version: Option<&str>) -> ObjectRef {
        let [ns, name, uid, _, _] = self.parts();
        ObjectRef {
            kind: self.kind.clone(),
            api_version: self.api_version.clone(),
            ..ObjectRef::default()
        }
        .with_parts(
            [
                ns,
                name,
                uid,
                field_path.unwrap_or(""),
                resource_version.unwrap_or(""),
            ],
            field_path.is_some(),
            resource_version.is_some(),
        )
    }

    fn with_parts(mut self, parts: [&str; 5], has_fp: bool, has_rv: bool) -> ObjectRef {
        let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        for (i, p) in parts.iter().enumerate() {
            text.push_str(p);
            if let Some(end) = self.ends.get_mut(i) {
                *end = u32::try_from(text.len()).unwrap_or(u32::MAX);
            }
        }
        self.text = text.into_boxed_str();
        self.has_field_path = has_fp;
        self.has_resource_version = has_rv;
        self
    }

    fn parts(&self) -> [&str; 5] {
        let mut out = [""; 5];
        let mut start = 0;
        for (i, part) in out.iter_mut().enumerate() {
            let end = self.ends.get(i).map_or(self.text.len(), |&e| e as usize);
            *part = &self.text[start..end];
            start = end;
        }
        out
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    pub fn namespace(&self) -> &str {
        self.parts()[0]
    }

    pub fn name(&self) -> &str {
        self.parts()[1]
    }

    pub fn uid(&self) -> &str {
        self.parts()[2]
    }

    pub fn field_path(&self) -> Option<&str> {
        self.has_field_path.then(|| self.parts()[3])
    }

    pub fn resource_version(&self) -> Option<&str> {
        self.has_resource_version.then(|| self.parts()[4])
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
            kind: self.object.kind(),
            namespace: self.object.namespace(),
            name: self.object.name(),
            uid: self.object.uid(),
            api_version: self.object.api_version(),
            field_path: self.object.field_path().unwrap_or(""),
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
        match self.object.namespace() {
            "" => "default",
            ns => ns,
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
        "kind": r.object.kind(),
        "apiVersion": r.object.api_version(),
        "name": r.object.name(),
        "uid": r.object.uid(),
    });
    if !r.object.namespace().is_empty() {
        involved["namespace"] = json!(r.object.namespace());
    }
    if let Some(rv) = r.object.resource_version() {
        involved["resourceVersion"] = json!(rv);
    }
    if let Some(fp) = r.object.field_path() {
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

    #[test]
    fn a_packed_reference_gives_back_each_part() {
        let r = ObjectRef::pod("default", "web-0", "u-1");
        assert_eq!(
            (r.kind(), r.api_version(), r.namespace(), r.name(), r.uid()),
            ("Pod", "v1", "default", "web-0", "u-1")
        );
        assert_eq!((r.field_path(), r.resource_version()), (None, None));
        let r = r
            .with_resource_version(Some("42"))
            .with_field_path(Some("spec.containers{nginx}"));
        assert_eq!(
            (r.name(), r.field_path(), r.resource_version()),
            ("web-0", Some("spec.containers{nginx}"), Some("42"))
        );
        // Present but empty is not absent.
        let r = ObjectRef::new("Node", "v1", "", "n1", "n1").with_field_path(Some(""));
        assert_eq!((r.namespace(), r.field_path()), ("", Some("")));
        assert!(std::mem::size_of::<ObjectRef>() <= 88);
    }

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
            object: Arc::new(
                ObjectRef::pod("default", "web", "u1")
                    .with_field_path(Some("spec.containers{nginx}")),
            ),
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
