//! Event recording for the controllers: each controller has its own recorder with source
//! `<name>-controller`, writing core/v1 Events in order through client-go's event correlator
//! (`client_tools::record`), as every v1.35 controller's `record.EventBroadcaster` does. So a
//! repeat is counted on the existing Event, the 10th distinct `SuccessfulCreate` of one object
//! within ten minutes starts a combined event, and one object gets at most 25 events at once
//! (then one per five minutes).

use apimachinery::clock::Clock;
use client_tools::record::{ObjectRef, Options, Source};
use kube::{Client, Resource};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

/// Records events for one controller (`source.component`).
#[derive(Clone)]
pub struct Recorder {
    inner: client_tools::record::Recorder,
    source: Source,
}

impl Recorder {
    /// Start the writer task; events are dropped when the API refuses them (as upstream).
    pub fn new(client: Client, controller: &str, clock: Arc<dyn Clock>) -> Recorder {
        Recorder {
            inner: client_tools::record::Recorder::spawn(client, clock, Options::default()),
            source: Source::component(controller),
        }
    }

    /// Record an event about `obj`.
    pub fn event<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        type_: EventType,
        reason: &str,
        note: impl Into<String>,
    ) {
        self.inner.record(
            ObjectRef::of(obj),
            &self.source,
            type_ == EventType::Warning,
            reason.to_string(),
            note.into(),
        );
    }
}
