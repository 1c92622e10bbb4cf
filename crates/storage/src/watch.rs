//! Watch fan-out: a registry of watchers grouped by key prefix. Publishing an event looks up
//! only the groups whose prefix the key starts with (one hash lookup per distinct prefix
//! length), then `try_send`s into each watcher's bounded channel — writers never wait on a
//! watcher. A watcher whose queue is full gets `Err(Expired)` in the slot kept free for it and
//! is dropped, which ends its stream.

use crate::engine::lock;
use crate::{Event, Result, StorageError, WatchStream};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Sweep watchers whose receiver was dropped after this many published events (or
/// registrations), so watchers of quiet prefixes are cleaned up too.
const SWEEP_EVERY: usize = 1024;

type Tx = mpsc::Sender<Result<Arc<Event>>>;

struct Watcher {
    tx: Tx,
    /// The rv of the last event queued for this watcher (or its start rv).
    last_rv: u64,
}

struct HubInner {
    /// Every event with rv <= this has been offered to the registered watchers.
    published: u64,
    groups: HashMap<Box<str>, Vec<Watcher>>,
    /// Distinct prefix lengths in `groups` -> number of groups with that length.
    lens: BTreeMap<usize, usize>,
    count: usize,
    since_sweep: usize,
    closed: bool,
}

pub(crate) struct Hub {
    inner: Mutex<HubInner>,
}

impl Hub {
    pub fn new(published: u64) -> Self {
        Hub {
            inner: Mutex::new(HubInner {
                published,
                groups: HashMap::new(),
                lens: BTreeMap::new(),
                count: 0,
                since_sweep: 0,
                closed: false,
            }),
        }
    }

    /// Register a watcher. `replay(published)` runs under the hub lock and returns the
    /// already-published events (rv > start, <= published, matching the prefix) to queue first;
    /// everything published later is delivered live.
    pub fn register(
        &self,
        prefix: &str,
        after_rv: u64,
        buffer: usize,
        replay: impl FnOnce(u64) -> Result<Vec<Arc<Event>>>,
    ) -> Result<WatchStream> {
        let mut h = lock(&self.inner);
        if h.closed {
            return Err(StorageError::Internal("storage is closed".into()));
        }
        let events = replay(h.published)?;
        let (tx, rx) = mpsc::channel(events.len() + buffer.max(2));
        let mut last_rv = after_rv;
        for ev in events {
            last_rv = ev.rv;
            tx.try_send(Ok(ev))
                .expect("the channel has room for the whole replay");
        }
        match h.groups.get_mut(prefix) {
            Some(ws) => ws.push(Watcher { tx, last_rv }),
            None => {
                h.groups
                    .insert(prefix.into(), vec![Watcher { tx, last_rv }]);
                *h.lens.entry(prefix.len()).or_default() += 1;
            }
        }
        h.count += 1;
        h.since_sweep += SWEEP_EVERY / 64;
        if h.since_sweep >= SWEEP_EVERY {
            h.sweep();
        }
        Ok(WatchStream { rx })
    }

    /// Offer `events` (ascending, all newer than anything published before) to the watchers.
    pub fn publish(&self, events: &[Arc<Event>], oldest: u64) {
        let mut guard = lock(&self.inner);
        let h = &mut *guard;
        if let Some(last) = events.last() {
            h.published = h.published.max(last.rv);
        }
        if h.count > 0 {
            let mut removed = false;
            for ev in events {
                for &len in h.lens.keys() {
                    if len > ev.key.len() {
                        break;
                    }
                    if !ev.key.is_char_boundary(len) {
                        continue;
                    }
                    if let Some(ws) = h.groups.get_mut(&ev.key[..len]) {
                        let before = ws.len();
                        ws.retain_mut(|w| deliver(w, ev, oldest));
                        removed |= ws.len() != before;
                    }
                }
            }
            if removed {
                h.reindex();
            }
        }
        h.since_sweep += events.len();
        if h.since_sweep >= SWEEP_EVERY {
            h.sweep();
        }
    }

    /// Live watchers (sweeps dropped receivers first).
    pub fn watcher_count(&self) -> usize {
        let mut h = lock(&self.inner);
        h.sweep();
        h.count
    }

    /// Drop every watcher (their streams end) and refuse new ones.
    pub fn close(&self) {
        let mut h = lock(&self.inner);
        h.closed = true;
        h.groups.clear();
        h.reindex();
    }
}

impl HubInner {
    fn sweep(&mut self) {
        self.since_sweep = 0;
        for ws in self.groups.values_mut() {
            ws.retain(|w| !w.tx.is_closed());
        }
        self.reindex();
    }

    /// Drop empty groups and recompute the length index and count.
    fn reindex(&mut self) {
        self.groups.retain(|_, ws| !ws.is_empty());
        self.lens.clear();
        self.count = 0;
        for (p, ws) in &self.groups {
            *self.lens.entry(p.len()).or_default() += 1;
            self.count += ws.len();
        }
    }
}

/// Queue `ev` for `w`; false when the watcher is gone or was just expired.
fn deliver(w: &mut Watcher, ev: &Arc<Event>, oldest: u64) -> bool {
    if ev.rv <= w.last_rv {
        // The watch started at or after this rv (it may be applied but not yet published).
        return true;
    }
    if w.tx.capacity() <= 1 {
        // The last free slot carries the expiry; the stream ends after it.
        let _ = w.tx.try_send(Err(StorageError::Expired {
            requested: w.last_rv,
            oldest,
        }));
        return false;
    }
    match w.tx.try_send(Ok(Arc::clone(ev))) {
        Ok(()) => {
            w.last_rv = ev.rv;
            true
        }
        Err(_) => false,
    }
}
