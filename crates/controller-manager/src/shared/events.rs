//! Event recording: events.k8s.io/v1 Events about an object (which the API server also serves
//! as core/v1 Events, so `kubectl describe` lists them), written asynchronously in order by one
//! task, like client-go's broadcaster. A repeat of the same event (same object, type, reason
//! and message) within the series window becomes a series update instead of a new Event.
//!
//! kube-runtime's `Recorder` is not used because it keys its series on the reason alone, so
//! "Created pod: a" then "Created pod: b" would show as one event with the first message; it
//! also reads the system clock rather than the `Clock` seam.

use super::time::from_time;
use apimachinery::clock::Clock;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource, ResourceExt};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// Repeats closer together than this extend a series (kube-runtime and client-go use 6 minutes).
const SERIES_WINDOW: Duration = Duration::from_secs(6 * 60);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

struct Pending {
    regarding: ObjectReference,
    type_: EventType,
    reason: String,
    note: String,
}

/// Records events for one controller (`reportingController`).
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::UnboundedSender<Pending>,
}

impl Recorder {
    /// Start the writer task; events are dropped when the API refuses them (as upstream).
    pub fn new(client: Client, controller: &str, clock: Arc<dyn Clock>) -> Recorder {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_events(client, controller.to_string(), clock, rx));
        Recorder { tx }
    }

    /// Record an event about `obj`.
    pub fn event<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        type_: EventType,
        reason: &str,
        note: impl Into<String>,
    ) {
        self.event_ref(obj.object_ref(&()), type_, reason, note);
    }

    pub fn event_ref(
        &self,
        regarding: ObjectReference,
        type_: EventType,
        reason: &str,
        note: impl Into<String>,
    ) {
        let _ = self.tx.send(Pending {
            regarding,
            type_,
            reason: reason.to_string(),
            note: note.into(),
        });
    }
}

fn micro(t: SystemTime) -> MicroTime {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let ts = Timestamp::new(d.as_secs() as i64, (d.subsec_micros() * 1000) as i32)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    MicroTime(ts)
}

type Key = (String, String, EventType, String, String);

async fn write_events(
    client: Client,
    controller: String,
    clock: Arc<dyn Clock>,
    mut rx: mpsc::UnboundedReceiver<Pending>,
) {
    let mut seen: HashMap<Key, Event> = HashMap::new();
    // Names are `<object>.<unix nanos hex>` as upstream; kept strictly increasing so two events
    // at the same instant (a fake clock stands still) do not collide.
    let mut last_nanos: u128 = 0;
    while let Some(p) = rx.recv().await {
        let now = clock.now();
        seen.retain(|_, e| {
            let last = e
                .series
                .as_ref()
                .map(|s| s.last_observed_time.0)
                .or(e.event_time.as_ref().map(|t| t.0));
            last.is_some_and(|t| {
                from_time(&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t)) + SERIES_WINDOW
                    > now
            })
        });
        let ns = p
            .regarding
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string());
        let key: Key = (
            ns.clone(),
            p.regarding.uid.clone().unwrap_or_default(),
            p.type_,
            p.reason.clone(),
            p.note.clone(),
        );
        let api: Api<Event> = Api::namespaced(client.clone(), &ns);
        let result = if let Some(prev) = seen.get(&key) {
            let count = prev.series.as_ref().map(|s| s.count + 1).unwrap_or(2);
            let mut ev = prev.clone();
            ev.series = Some(EventSeries {
                count,
                last_observed_time: micro(now),
            });
            let patch = serde_json::json!({"series": ev.series});
            api.patch(
                &ev.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .map(|_| ev)
        } else {
            let nanos = now
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
                .max(last_nanos + 1);
            last_nanos = nanos;
            let ev = Event {
                metadata: ObjectMeta {
                    name: Some(format!(
                        "{}.{:x}",
                        p.regarding.name.as_deref().unwrap_or(&controller),
                        nanos
                    )),
                    namespace: Some(ns.clone()),
                    ..Default::default()
                },
                event_time: Some(micro(now)),
                action: Some(p.reason.clone()),
                reason: Some(p.reason.clone()),
                note: Some(p.note.clone()),
                type_: Some(p.type_.as_str().to_string()),
                regarding: Some(p.regarding.clone()),
                reporting_controller: Some(controller.clone()),
                reporting_instance: Some(controller.clone()),
                ..Default::default()
            };
            api.create(&PostParams::default(), &ev).await
        };
        match result {
            Ok(ev) => {
                seen.insert(key, ev);
            }
            Err(e) => tracing::debug!(error = %e, reason = %p.reason, "event not recorded"),
        }
    }
}
