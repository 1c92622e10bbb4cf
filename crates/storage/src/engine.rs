//! The shared engine: implements the whole `Storage` contract once over a `Backend` — rv
//! allocation, serialized writes, the in-memory event window (retention and compaction),
//! snapshot lists at any retained rv, watch registration and the durable-rv bookkeeping.
//!
//! Ordering rules that make reads consistent without blocking writers:
//! - A write pushes its event into the window *before* applying it to the backend and only
//!   then publishes the new current rv. So any object a reader sees with rv > `at` has its
//!   event in the window, and a list at `at` can undo it (state at `at` = `prev` of the first
//!   event on that key with rv > `at`).
//! - Watchers are fed only by `Hub::publish` (after the covering flush for sled, at write time
//!   for memory); registration replays the window up to the hub's published rv under the hub
//!   lock, so replay and live delivery meet exactly, with no gap and no duplicate.

use crate::backend::{Backend, Entry};
use crate::flusher::FlushSignal;
use crate::watch::Hub;
use crate::{
    DurableFuture, Event, EventType, ListRequest, ListResult, Options, ReadAt, Result,
    StorageError, Stored, WatchStream,
};
use bytes::Bytes;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use tokio::sync::watch;

/// Lock a mutex, ignoring poisoning (every critical section leaves the data consistent).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The retained tail of the event log.
struct Log {
    /// The newest retained events, ascending by rv (rvs of failed writes are skipped, so there
    /// may be gaps).
    window: VecDeque<Entry>,
    /// The object bytes the window's events hold (`Entry::held_bytes`; what
    /// `Options::window_bytes` bounds).
    window_bytes: usize,
    /// The rvs of the retained events older than the window, which only the backend's log
    /// holds (`Backend::LOGS_EVENTS`), ascending.
    spilled: VecDeque<u64>,
    /// Every event with rv > this is retained; states at rv >= this can be rebuilt.
    compacted_through: u64,
}

impl Log {
    fn retained(&self) -> usize {
        self.spilled.len() + self.window.len()
    }

    fn pop_window(&mut self) -> Option<Entry> {
        let e = self.window.pop_front()?;
        self.window_bytes -= e.held_bytes();
        Some(e)
    }

    /// Move the oldest window events to `spilled` until the window's objects fit in `budget`
    /// bytes (keeping the newest event); returns them. Only for a backend that logs events.
    fn spill(&mut self, budget: usize) -> Vec<Entry> {
        let mut out = Vec::new();
        while self.window_bytes > budget && self.window.len() > 1 {
            let e = self.pop_window().expect("window is not empty");
            self.spilled.push_back(e.rv());
            out.push(e);
        }
        out
    }
}

/// Why the retained events after an rv cannot be read.
#[derive(Debug)]
pub(crate) enum Gap {
    /// Some were compacted away: the oldest retained rv.
    Compacted(u64),
    /// Reading the backend's log failed.
    Failed(StorageError),
}

/// Shared with `durable` futures so they need not keep the engine alive.
#[derive(Default)]
pub(crate) struct Status {
    pub failed: OnceLock<StorageError>,
    pub closed: AtomicBool,
}

/// The state of every key whose latest event is still in the window (`None`: deleted), by
/// that event's rv. A write then reads a recently written key from memory instead of the
/// backend, and its event's `prev` is the very bytes of the event before it, not a copy:
/// the window holds each object once however often it changed.
#[derive(Default)]
struct Latest(HashMap<Arc<str>, (u64, Option<Stored>)>);

enum Op {
    Create(Value),
    Update(Option<u64>, Value),
    Delete(Option<u64>),
}

pub(crate) struct Engine<B: Backend> {
    pub backend: B,
    opts: Options,
    /// Serializes writers so rv order == log order == publish order.
    write: Mutex<Latest>,
    current: AtomicU64,
    log: RwLock<Log>,
    /// Mirror of `log.compacted_through` for lock-free readers.
    oldest: AtomicU64,
    pub hub: Hub,
    /// Written but not yet published events (flushing backends only), ascending by rv.
    pending: Mutex<VecDeque<Arc<Event>>>,
    pub flush_signal: FlushSignal,
    /// The rv covered by the last completed flush.
    flushed: AtomicU64,
    flush_count: AtomicU64,
    /// The durable rv, updated after the flush covering it completed and its events were
    /// offered to watchers.
    durable_tx: watch::Sender<u64>,
    pub status: Arc<Status>,
}

impl<B: Backend> Engine<B> {
    /// Recover the backend's state and build the event window.
    pub fn open(backend: B, mut opts: Options) -> Result<Self> {
        opts.retention = opts.retention.max(1);
        opts.watch_buffer = opts.watch_buffer.max(2);
        let rec = backend.recover(opts.retention)?;
        let last_rv = rec.last_rv.max(1);
        let mut events = rec.events;
        // The window must end at the last rv, or it cannot rebuild anything.
        if events.last().map(Entry::rv) != Some(last_rv) {
            events.clear();
        }
        if events.len() > opts.retention {
            events.drain(..events.len() - opts.retention);
        }
        let compacted_through = events.first().map(|e| e.rv() - 1).unwrap_or(last_rv);
        let mut log = Log {
            window: events.into(),
            window_bytes: 0,
            spilled: VecDeque::new(),
            compacted_through,
        };
        log.window_bytes = log.window.iter().map(Entry::held_bytes).sum();
        if B::LOGS_EVENTS {
            log.spill(opts.window_bytes);
        }
        if B::NEEDS_FLUSH {
            // What recovery read may only be in the OS page cache: make it durable first.
            backend.flush()?;
        }
        Ok(Engine {
            backend,
            opts,
            write: Mutex::new(Latest::default()),
            current: AtomicU64::new(last_rv),
            log: RwLock::new(log),
            oldest: AtomicU64::new(compacted_through),
            hub: Hub::new(last_rv),
            pending: Mutex::new(VecDeque::new()),
            flush_signal: FlushSignal::new(last_rv),
            flushed: AtomicU64::new(last_rv),
            flush_count: AtomicU64::new(0),
            durable_tx: watch::Sender::new(last_rv),
            status: Arc::new(Status::default()),
        })
    }

    pub fn current_rv(&self) -> u64 {
        self.current.load(Ordering::Acquire)
    }

    pub fn oldest_rv(&self) -> u64 {
        self.oldest.load(Ordering::Acquire)
    }

    pub fn flushed_rv(&self) -> u64 {
        self.flushed.load(Ordering::Acquire)
    }

    pub fn flush_count(&self) -> u64 {
        self.flush_count.load(Ordering::Relaxed)
    }

    pub fn watcher_count(&self) -> usize {
        self.hub.watcher_count()
    }

    /// Retained events held in memory (the rest only in the backend's log).
    #[cfg(test)]
    pub(crate) fn in_memory(&self) -> usize {
        self.log
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .window
            .len()
    }

    fn check_open(&self) -> Result<()> {
        if let Some(e) = self.status.failed.get() {
            return Err(e.clone());
        }
        if self.status.closed.load(Ordering::Acquire) {
            return Err(StorageError::Internal("storage is closed".into()));
        }
        Ok(())
    }

    // ---- writes ----

    pub fn create(&self, key: &str, obj: Value) -> Result<Stored> {
        self.write(key, Op::Create(obj))
    }

    pub fn update(&self, key: &str, expected_rv: Option<u64>, obj: Value) -> Result<Stored> {
        self.write(key, Op::Update(expected_rv, obj))
    }

    pub fn delete(&self, key: &str, expected_rv: Option<u64>) -> Result<Stored> {
        self.write(key, Op::Delete(expected_rv))
    }

    fn write(&self, key: &str, op: Op) -> Result<Stored> {
        let mut latest = lock(&self.write);
        self.check_open()?;
        let (key, cur): (Arc<str>, Option<Stored>) = match latest.0.get_key_value(key) {
            Some((k, (_, cur))) => (k.clone(), cur.clone()),
            None => (Arc::from(key), self.backend.get(key)?),
        };
        let key = &key;
        let rv = self.current.load(Ordering::Acquire) + 1;
        let check = |cur: Option<&Stored>, expected: Option<u64>| -> Result<()> {
            let cur = cur.ok_or_else(|| StorageError::NotFound(key.to_string()))?;
            match expected {
                Some(e) if e != cur.rv => Err(StorageError::Conflict {
                    key: key.to_string(),
                    expected: e,
                    actual: cur.rv,
                }),
                _ => Ok(()),
            }
        };
        let (kind, bytes, keep) = match op {
            Op::Create(obj) => {
                if cur.is_some() {
                    return Err(StorageError::AlreadyExists(key.to_string()));
                }
                (EventType::Added, encode_with_rv(obj, rv)?, true)
            }
            Op::Update(expected, obj) => {
                check(cur.as_ref(), expected)?;
                (EventType::Modified, encode_with_rv(obj, rv)?, true)
            }
            Op::Delete(expected) => {
                check(cur.as_ref(), expected)?;
                let last = cur.as_ref().map(Stored::value).unwrap_or_default();
                (EventType::Deleted, encode_with_rv(last, rv)?, false)
            }
        };
        let stored = Stored {
            rv,
            bytes: bytes.clone(),
        };
        let prev_rv = cur.as_ref().map_or(0, |c| c.rv);
        let entry = Entry {
            ev: Arc::new(Event {
                kind,
                key: key.clone(),
                rv,
                object: bytes,
                prev: cur.map(|c| c.bytes),
            }),
            prev_rv,
        };
        let mut dropped = Vec::new();
        {
            let mut log = self.log.write().unwrap_or_else(|e| e.into_inner());
            log.window_bytes += entry.held_bytes();
            log.window.push_back(entry.clone());
            // Retention counts every retained event, in memory or only on disk.
            while log.retained() > self.opts.retention {
                if let Some(rv) = log.spilled.pop_front() {
                    log.compacted_through = rv;
                } else {
                    let d = log.pop_window().expect("window is not empty");
                    log.compacted_through = d.rv();
                    dropped.push(d);
                }
            }
            // Events that leave memory stay readable in the backend's log (applied by earlier
            // writes: writes are serialized).
            if B::LOGS_EVENTS {
                dropped.extend(log.spill(self.opts.window_bytes));
            }
            self.oldest.store(log.compacted_through, Ordering::Release);
        }
        for d in dropped {
            if latest.0.get(&d.ev.key).is_some_and(|(rv, _)| *rv == d.rv()) {
                latest.0.remove(&d.ev.key);
            }
        }
        let applied = self.backend.apply(keep.then_some(&stored), &entry);
        if let Err(e) = applied {
            let mut log = self.log.write().unwrap_or_else(|e| e.into_inner());
            if log.window.back().map(Entry::rv) == Some(rv) {
                let e = log.window.pop_back().expect("window is not empty");
                log.window_bytes -= e.held_bytes();
            }
            // The rv is burned, never reused: a reader may have seen the event's `prev`.
            self.current.store(rv, Ordering::Release);
            if B::NEEDS_FLUSH {
                self.flush_signal.request(rv);
            }
            return Err(e);
        }
        latest
            .0
            .insert(key.clone(), (rv, keep.then(|| stored.clone())));
        self.current.store(rv, Ordering::Release);
        if B::NEEDS_FLUSH {
            lock(&self.pending).push_back(entry.ev);
            self.flush_signal.request(rv);
        } else {
            self.hub.publish(&[entry.ev], self.oldest_rv());
        }
        Ok(stored)
    }

    // ---- durability ----

    /// Called by the flusher once a flush covering `target` completed.
    pub fn after_flush(&self, target: u64) {
        self.flushed.store(target, Ordering::Release);
        self.flush_count.fetch_add(1, Ordering::Relaxed);
        let events: Vec<Arc<Event>> = {
            let mut p = lock(&self.pending);
            let n = p.partition_point(|e| e.rv <= target);
            p.drain(..n).collect()
        };
        if !events.is_empty() {
            self.hub.publish(&events, self.oldest_rv());
        }
        self.durable_tx.send_replace(target);
    }

    /// Called by the flusher when a flush failed: every later write and durable wait fails.
    pub fn fail(&self, err: StorageError) {
        tracing::error!(error = %err, "storage flush failed; the store is now read-only");
        let _ = self.status.failed.set(err);
        self.durable_tx.send_modify(|_| {});
    }

    /// Refuse further writes (the caller then stops the flusher and closes the hub).
    pub fn close_writes(&self) {
        let _w = lock(&self.write);
        self.status.closed.store(true, Ordering::Release);
    }

    /// End every watch stream and wake durable waiters (after the final flush).
    pub fn close_watchers(&self) {
        self.hub.close();
        self.durable_tx.send_modify(|_| {});
    }

    pub fn durable(&self, rv: u64) -> DurableFuture {
        if !B::NEEDS_FLUSH || *self.durable_tx.borrow() >= rv {
            return Box::pin(std::future::ready(Ok(())));
        }
        let mut rx = self.durable_tx.subscribe();
        let status = Arc::clone(&self.status);
        Box::pin(async move {
            loop {
                if *rx.borrow_and_update() >= rv {
                    return Ok(());
                }
                if let Some(e) = status.failed.get() {
                    return Err(e.clone());
                }
                if status.closed.load(Ordering::Acquire) {
                    return Err(StorageError::Internal(format!(
                        "storage closed before rv {rv} was durable"
                    )));
                }
                if rx.changed().await.is_err() {
                    return match *rx.borrow() >= rv {
                        true => Ok(()),
                        false => Err(StorageError::Internal("storage dropped".into())),
                    };
                }
            }
        })
    }

    // ---- reads ----

    pub fn get(&self, key: &str) -> Result<Stored> {
        self.backend
            .get(key)?
            .ok_or_else(|| StorageError::NotFound(key.to_owned()))
    }

    /// The retained events with rv > `rv`: from the backend's log those older than the window
    /// (read without holding the log lock), then the window's.
    pub(crate) fn events_after(&self, rv: u64) -> std::result::Result<Vec<Entry>, Gap> {
        let (on_disk, in_memory) = {
            let log = self.log.read().unwrap_or_else(|e| e.into_inner());
            if rv < log.compacted_through {
                return Err(Gap::Compacted(log.compacted_through));
            }
            let start = log.window.partition_point(|e| e.rv() <= rv);
            let in_memory: Vec<Entry> = log.window.range(start..).cloned().collect();
            let from = log.spilled.partition_point(|&s| s <= rv);
            let on_disk: Vec<u64> = log.spilled.range(from..).copied().collect();
            (on_disk, in_memory)
        };
        let Some(&through) = on_disk.last() else {
            return Ok(in_memory);
        };
        let mut events = self
            .backend
            .events_between(rv, through)
            .map_err(Gap::Failed)?;
        // The compactor deletes only events at or below `compacted_through`: if that is still
        // at or below `rv`, the read missed nothing.
        let oldest = self.oldest_rv();
        if oldest > rv {
            return Err(Gap::Compacted(oldest));
        }
        if !events.iter().map(Entry::rv).eq(on_disk.iter().copied()) {
            return Err(Gap::Failed(StorageError::Internal(format!(
                "the event log lacks retained events between rv {rv} and {through}"
            ))));
        }
        events.extend(in_memory);
        Ok(events)
    }

    pub fn watch(&self, prefix: &str, after_rv: u64) -> Result<WatchStream> {
        self.check_open()?;
        let current = self.current_rv();
        if after_rv > current {
            return Err(StorageError::TooLarge {
                requested: after_rv,
                current,
            });
        }
        self.hub
            .register(prefix, after_rv, self.opts.watch_buffer, |published| {
                let entries = self.events_after(after_rv).map_err(|gap| match gap {
                    Gap::Compacted(oldest) => StorageError::Expired {
                        requested: after_rv,
                        oldest,
                    },
                    Gap::Failed(e) => e,
                })?;
                Ok(entries
                    .into_iter()
                    .take_while(|e| e.rv() <= published)
                    .filter(|e| e.ev.key.starts_with(prefix))
                    .map(|e| e.ev)
                    .collect())
            })
    }

    pub fn list(&self, req: &ListRequest<'_>) -> Result<ListResult> {
        loop {
            if let Some(r) = self.try_list(req)? {
                return Ok(r);
            }
            // A `Latest` list lost the window race (compaction overtook it): retry at a newer rv.
        }
    }

    /// One attempt at a consistent list; `Ok(None)` asks the caller to retry.
    fn try_list(&self, req: &ListRequest<'_>) -> Result<Option<ListResult>> {
        let current = self.current_rv();
        let at = match req.at {
            ReadAt::Latest => current,
            ReadAt::Exact(rv) if rv > current => {
                return Err(StorageError::TooLarge {
                    requested: rv,
                    current,
                });
            }
            ReadAt::Exact(rv) => rv,
        };
        let lost = |gap: Gap| match (gap, req.at) {
            (Gap::Failed(e), _) => Err(e),
            (Gap::Compacted(_), ReadAt::Latest) => Ok(None),
            (Gap::Compacted(oldest), ReadAt::Exact(_)) => Err(StorageError::Expired {
                requested: at,
                oldest,
            }),
        };
        let in_range = |k: &str| k.starts_with(req.prefix) && req.start_after.is_none_or(|s| k > s);
        let accept = |s: &Stored| req.filter.is_none_or(|f| f(s));

        let mut snap = Snapshot {
            at,
            hi: at,
            overrides: BTreeMap::new(),
        };
        if let Err(gap) = snap.refresh(self, &in_range) {
            return lost(gap);
        }
        let mut page: Vec<(String, Stored)> = Vec::new();
        let mut remaining = 0usize;
        let mut emit = |key: String, state: Option<Stored>| {
            if let Some(s) = state.filter(|s| accept(s)) {
                if req.limit == 0 || page.len() < req.limit {
                    page.push((key, s));
                } else {
                    remaining += 1;
                }
            }
        };
        // Keys the scan produced (ascending) and states at `at` of keys the scan missed
        // because they were deleted while it ran.
        let mut scanned: Vec<String> = Vec::new();
        let mut missed: Vec<(String, Stored)> = Vec::new();
        let mut cursor: Option<String> = None;
        // Fused: a live (sled) iterator may yield keys inserted after it first reported its end.
        let mut scan = self.backend.scan(req.prefix, req.start_after).fuse();
        let mut held: Option<(String, Stored)> = None;
        let mut refreshed_for: Option<String> = None;
        loop {
            if held.is_none() {
                held = scan.next().transpose()?;
                // Defensive: never let a live iterator take the merge backwards.
                if let (Some((k, _)), Some(c)) = (&held, &cursor) {
                    if k <= c {
                        held = None;
                        continue;
                    }
                }
            }
            let next_ov = match &cursor {
                Some(c) => snap
                    .overrides
                    .range::<str, _>((Bound::Excluded(c.as_str()), Bound::Unbounded))
                    .next(),
                None => snap.overrides.iter().next(),
            }
            .map(|(k, _)| k.clone());
            let take_override = match (&held, &next_ov) {
                (None, None) => break,
                (None, Some(_)) => true,
                (Some((sk, _)), Some(ok)) => ok <= sk,
                (Some(_), None) => false,
            };
            if take_override {
                let key = next_ov.expect("override chosen");
                if held.as_ref().is_some_and(|(sk, _)| *sk == key) {
                    held = None;
                    scanned.push(key.clone());
                }
                let state = snap.overrides[&key].clone();
                cursor = Some(key.clone());
                emit(key, state);
                continue;
            }
            let (key, stored) = held.take().expect("scan item chosen");
            if stored.rv > at {
                // Written after `at` and after our last window read: its event is in the
                // window now. Refresh, then reconsider this key (and any new keys before it).
                if refreshed_for.as_deref() == Some(key.as_str()) {
                    return Err(StorageError::Internal(format!(
                        "no event for {key} at rv {}",
                        stored.rv
                    )));
                }
                match snap.refresh(self, &in_range) {
                    Ok(new) => {
                        let passed = |k: &str| cursor.as_deref().is_some_and(|c| k <= c);
                        collect_missed(&snap, &new, &passed, &scanned, &mut missed)
                    }
                    Err(gap) => return lost(gap),
                }
                refreshed_for = Some(key.clone());
                held = Some((key, stored));
                continue;
            }
            scanned.push(key.clone());
            cursor = Some(key.clone());
            emit(key, Some(stored));
        }
        // Keys deleted after our last window read and before the scan reached them.
        match snap.refresh(self, &in_range) {
            Ok(new) => collect_missed(&snap, &new, &|_| true, &scanned, &mut missed),
            Err(gap) => return lost(gap),
        }
        if !missed.is_empty() {
            eprintln!(
                "MISSED at={at} {:?} scanned={:?} page={:?}",
                missed.iter().map(|m| &m.0).collect::<Vec<_>>(),
                scanned,
                page.iter().map(|p| &p.0).collect::<Vec<_>>()
            );
        }
        for (key, s) in missed {
            if !accept(&s) {
                continue;
            }
            let fits = req.limit == 0
                || page.len() < req.limit
                || page.last().is_some_and(|(k, _)| key < *k);
            if fits {
                let pos = page.partition_point(|(k, _)| *k < key);
                page.insert(pos, (key, s));
                if req.limit > 0 && page.len() > req.limit {
                    page.pop();
                    remaining += 1;
                }
            } else {
                remaining += 1;
            }
        }
        let more_after = (remaining > 0)
            .then(|| page.last().map(|(k, _)| k.clone()))
            .flatten();
        Ok(Some(ListResult {
            items: page,
            rv: at,
            more_after,
            remaining: (remaining > 0).then_some(remaining),
        }))
    }
}

/// The undo information a list needs: for every in-range key written after `at`, its state
/// at `at` (`prev` of its first event after `at`). Covers the window up to `hi`.
struct Snapshot {
    at: u64,
    hi: u64,
    overrides: BTreeMap<String, Option<Stored>>,
}

impl Snapshot {
    /// Read window events after `hi`; returns the keys newly added to `overrides`.
    fn refresh<B: Backend>(
        &mut self,
        engine: &Engine<B>,
        in_range: &dyn Fn(&str) -> bool,
    ) -> std::result::Result<Vec<String>, Gap> {
        let entries = engine.events_after(self.hi)?;
        let mut new = Vec::new();
        for e in entries {
            debug_assert!(e.rv() > self.at);
            self.hi = self.hi.max(e.rv());
            if in_range(&e.ev.key) && !self.overrides.contains_key(&*e.ev.key) {
                self.overrides.insert(e.ev.key.to_string(), e.prev_state());
                new.push(e.ev.key.to_string());
            }
        }
        Ok(new)
    }
}

/// Among keys newly found written after `at`: those the list already `passed` that existed at
/// `at` but the scan never saw (deleted before the scan reached them).
fn collect_missed(
    snap: &Snapshot,
    new: &[String],
    passed: &dyn Fn(&str) -> bool,
    scanned: &[String],
    missed: &mut Vec<(String, Stored)>,
) {
    for key in new {
        if !passed(key) || scanned.binary_search(key).is_ok() {
            continue;
        }
        if let Some(Some(s)) = snap.overrides.get(key) {
            missed.push((key.clone(), s.clone()));
        }
    }
}

/// Set `metadata.resourceVersion` (creating `metadata` if absent) and serialize.
pub(crate) fn encode_with_rv(mut obj: Value, rv: u64) -> Result<Bytes> {
    let map = obj
        .as_object_mut()
        .ok_or_else(|| StorageError::InvalidObject("expected a JSON object".into()))?;
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    if meta.is_null() {
        *meta = Value::Object(Default::default());
    }
    let meta = meta
        .as_object_mut()
        .ok_or_else(|| StorageError::InvalidObject("metadata must be an object".into()))?;
    meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
    // Without spare capacity: the bytes may stay in memory a long time (the event window, the
    // latest state of a key), and a `Vec` grown while serializing holds up to twice its length.
    serde_json::to_vec(&obj)
        .map(|v| Bytes::from(v.into_boxed_slice()))
        .map_err(|e| StorageError::InvalidObject(e.to_string()))
}

/// Implement `Storage` for a wrapper holding `engine: Arc<Engine<_>>`.
macro_rules! delegate_storage {
    ($t:ty) => {
        impl $crate::Storage for $t {
            fn create(&self, key: &str, obj: serde_json::Value) -> $crate::Result<$crate::Stored> {
                self.engine.create(key, obj)
            }
            fn get(&self, key: &str) -> $crate::Result<$crate::Stored> {
                self.engine.get(key)
            }
            fn list(&self, req: &$crate::ListRequest<'_>) -> $crate::Result<$crate::ListResult> {
                self.engine.list(req)
            }
            fn update(
                &self,
                key: &str,
                expected_rv: Option<u64>,
                obj: serde_json::Value,
            ) -> $crate::Result<$crate::Stored> {
                self.engine.update(key, expected_rv, obj)
            }
            fn delete(
                &self,
                key: &str,
                expected_rv: Option<u64>,
            ) -> $crate::Result<$crate::Stored> {
                self.engine.delete(key, expected_rv)
            }
            fn watch(&self, prefix: &str, after_rv: u64) -> $crate::Result<$crate::WatchStream> {
                self.engine.watch(prefix, after_rv)
            }
            fn current_rv(&self) -> u64 {
                self.engine.current_rv()
            }
            fn durable(&self, rv: u64) -> $crate::DurableFuture {
                self.engine.durable(rv)
            }
        }
    };
}
pub(crate) use delegate_storage;

#[cfg(test)]
mod tests {
    use super::Engine;
    use crate::memory::MemoryBackend;
    use crate::Options;
    use serde_json::json;

    fn engine(retention: usize) -> Engine<MemoryBackend> {
        let opts = Options {
            retention,
            ..Options::default()
        };
        Engine::open(MemoryBackend::default(), opts).unwrap()
    }

    #[test]
    fn the_window_holds_each_state_of_an_object_once() {
        // sled hands out a fresh copy on every read, so sharing can only come from the engine.
        let dir = tempfile::tempdir().unwrap();
        let store = crate::SledStorage::open(&dir.path().join("db")).unwrap();
        let e = &store.engine;
        e.create("/core/pods/ns/a", json!({"metadata": {"name": "a"}}))
            .unwrap();
        e.update(
            "/core/pods/ns/a",
            None,
            json!({"metadata": {"name": "a"}, "x": 1}),
        )
        .unwrap();
        e.delete("/core/pods/ns/a", None).unwrap();
        let w = e.events_after(1).unwrap();
        assert_eq!(w.len(), 3);
        // Each event's `prev` is the very bytes of the event before it, not a copy.
        for pair in w.windows(2) {
            let prev = pair[1].ev.prev.as_ref().unwrap();
            assert_eq!(prev.as_ptr(), pair[0].ev.object.as_ptr());
            assert_eq!(pair[1].prev_rv, pair[0].rv());
        }
    }

    #[test]
    fn the_memory_window_bounds_the_bytes_its_events_hold_including_their_prev_states() {
        let dir = tempfile::tempdir().unwrap();
        let budget = 20_000;
        let opts = Options {
            window_bytes: budget,
            ..Options::default()
        };
        let store = crate::SledStorage::open_with(&dir.path().join("db"), opts).unwrap();
        let e = &store.engine;
        let pad = "x".repeat(1_000);
        // Each key changes once: every update's `prev` is an object whose event soon leaves
        // the window, so counting objects alone would keep about twice the budget alive.
        for i in 0..40 {
            let key = format!("/core/pods/ns/p{i}");
            e.create(&key, json!({"metadata": {"name": "p"}, "pad": pad}))
                .unwrap();
        }
        for i in 0..40 {
            let key = format!("/core/pods/ns/p{i}");
            e.update(
                &key,
                None,
                json!({"metadata": {"name": "p"}, "pad": pad, "x": 1}),
            )
            .unwrap();
        }
        let log = e.log.read().unwrap();
        let mut held: Vec<*const u8> = Vec::new();
        let mut bytes = 0;
        for entry in &log.window {
            for b in [Some(&entry.ev.object), entry.ev.prev.as_ref()]
                .into_iter()
                .flatten()
            {
                if !held.contains(&b.as_ptr()) {
                    held.push(b.as_ptr());
                    bytes += b.len();
                }
            }
        }
        assert!(
            bytes <= budget,
            "{bytes} bytes held by a window of {budget}"
        );
        assert!(log.window.len() >= 5, "the window keeps what fits");
        assert_eq!(
            log.window_bytes,
            log.window.iter().map(|e| e.held_bytes()).sum::<usize>()
        );
    }

    #[test]
    fn a_key_whose_events_left_the_window_is_read_from_the_backend_again() {
        let e = engine(2);
        e.create("/core/pods/ns/a", json!({"metadata": {"name": "a"}}))
            .unwrap();
        for i in 0..3 {
            e.create(
                &format!("/core/pods/ns/b{i}"),
                json!({"metadata": {"name": "b"}}),
            )
            .unwrap();
        }
        // `a`'s event was compacted away; its state still comes right from the backend.
        let a = e.update(
            "/core/pods/ns/a",
            Some(2),
            json!({"metadata": {"name": "a"}, "x": 1}),
        );
        assert!(a.is_ok(), "{a:?}");
        assert!(matches!(
            e.create("/core/pods/ns/a", json!({})),
            Err(crate::StorageError::AlreadyExists(_))
        ));
        e.delete("/core/pods/ns/a", None).unwrap();
        assert!(matches!(
            e.get("/core/pods/ns/a"),
            Err(crate::StorageError::NotFound(_))
        ));
        e.create("/core/pods/ns/a", json!({})).unwrap();
    }
}
