//! The narrow key-value backend trait the shared engine is written against, and the log
//! entry type both the engine's event window and the backends' event logs hold.

use crate::{Event, Result, Stored};
use std::sync::Arc;

/// One event of the log plus the rv of its `prev` state (0 when there is none), so a reader
/// can rebuild an older state with correct rvs without parsing JSON.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub ev: Arc<Event>,
    pub prev_rv: u64,
}

impl Entry {
    pub fn rv(&self) -> u64 {
        self.ev.rv
    }

    /// The object bytes this event keeps alive: its object and its `prev`. Counted for both
    /// even though `prev` is often the object of an earlier event still in memory, so a
    /// window's total bounds its real memory (a `prev` whose own event has left the window
    /// stays alive as long as this event does).
    pub fn held_bytes(&self) -> usize {
        self.ev.object.len() + self.ev.prev.as_ref().map_or(0, |p| p.len())
    }

    /// The object's state just before this event.
    pub fn prev_state(&self) -> Option<Stored> {
        self.ev.prev.clone().map(|bytes| Stored {
            rv: self.prev_rv,
            bytes,
        })
    }
}

/// What a backend recovered on open.
pub(crate) struct Recovered {
    /// The highest rv ever written (at least 1 for a fresh store).
    pub last_rv: u64,
    /// The retained tail of the event log, ascending by rv (at most `retention` entries).
    pub events: Vec<Entry>,
}

pub(crate) type ScanIter<'a> = Box<dyn Iterator<Item = Result<(String, Stored)>> + Send + 'a>;

/// A key-value store of objects plus an event log and the last rv. The engine serializes all
/// calls to `apply`; reads may run concurrently with it.
pub(crate) trait Backend: Send + Sync + 'static {
    /// True when writes only become durable through `flush` (then a group-commit flusher
    /// thread runs and watchers see an event only after the flush covering it).
    const NEEDS_FLUSH: bool;

    /// True when `events_between` reads the event log back: then the engine keeps only the
    /// newest events in memory.
    const LOGS_EVENTS: bool;

    fn get(&self, key: &str) -> Result<Option<Stored>>;

    /// Objects whose keys start with `prefix` and are strictly greater than `start_after`,
    /// in key order.
    fn scan<'a>(&'a self, prefix: &str, start_after: Option<&str>) -> ScanIter<'a>;

    /// Atomically (as one crash-consistent unit, possibly completed by `recover`): set
    /// (`Some`) or remove (`None`) the object at `entry.ev.key` and append `entry` to the
    /// event log.
    fn apply(&self, object: Option<&Stored>, entry: &Entry) -> Result<()>;

    /// Drop logged events with rv <= `through_rv` (always below the last event) and record
    /// `last_rv` as the last rv. Called off the write path.
    fn compact_events(&self, through_rv: u64, last_rv: u64) -> Result<()>;

    /// Recover the last rv (max of the recorded one and the last event's) and the last
    /// `retention` events.
    fn recover(&self, retention: usize) -> Result<Recovered>;

    /// The logged events with `after < rv <= through`, ascending (only with `LOGS_EVENTS`).
    fn events_between(&self, after: u64, through: u64) -> Result<Vec<Entry>>;

    /// Make every applied write durable.
    fn flush(&self) -> Result<()>;
}
