//! Object storage: the small `Storage` contract every backend meets (create, get, list,
//! update with precondition, delete, watch from a resourceVersion, durability), the
//! key layout, and the backends (sled for `kube-lite up`, memory for tests).
//!
//! Contract (checked by the one conformance suite in `conformance.rs`, run on every backend):
//! - A global resourceVersion (`u64`, rendered as a decimal string) is bumped by every write.
//!   Stored bytes are the object's JSON with `metadata.resourceVersion` set to the write's rv.
//! - Keys are `/<group or "core">/<resource>/<namespace>/<name>` (`namespace` empty for
//!   cluster-scoped kinds); a list or watch takes a key prefix ending in `/`.
//! - Every write appends an event to the event log (kept for `EVENT_RETENTION` events) so a
//!   watch can replay from any retained rv; an older rv is `Expired` (HTTP 410).
//! - Writes return once applied in memory; `durable(rv)` resolves once that rv is on disk.
//!   Concurrent writers share one flush (group commit). Watchers see only durable events.
//!
//! Layout: `engine` implements the whole contract once over the narrow `backend::Backend`
//! key-value trait; `memory` and `sled_backend` are the two backends; `watch` fans events out
//! to watchers; `flusher` runs the group-commit flusher and the log compactor threads.
//!
//! Event retention: the last `Options::retention` events (default `EVENT_RETENTION`) are kept
//! in an in-memory window of `Arc<Event>` and, for sled, in the on-disk log (older on-disk
//! events are deleted by a background compactor thread, never on the write path; a restart
//! reloads the retained tail). With sled only the newest of them stay in memory, as many as hold
//! `Options::window_bytes` of object bytes (objects and `prev` states); a watch or list that reaches back further reads the rest from the on-disk log. A watch or `ReadAt::Exact` list from an rv older than the
//! window is `Expired`; one newer than the current rv is `TooLarge`. An event's `prev` is the
//! very bytes of the event before it on the same key when that one is still in the window (the
//! engine keeps the latest state of every such key), so the window holds each state once. A watcher whose bounded
//! queue (`Options::watch_buffer` live events) fills up gets `Err(Expired)` as its last item.

mod backend;
#[cfg(test)]
mod conformance;
mod engine;
mod flusher;
mod memory;
mod sled_backend;
mod watch;

pub use memory::MemoryStorage;
pub use sled_backend::SledStorage;

use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// How many events the log keeps for watch replay and snapshot reads (documented in
/// docs/architecture.md). A watch or paged list from an older rv gets 410 Expired.
pub const EVENT_RETENTION: usize = 10_000;

/// How many bytes of retained events (their objects and previous states) the engine keeps in
/// memory when the backend can read its event log back (sled); older retained events are read
/// from disk when a watch or an exact-rv list reaches back to them. The newest event always
/// stays in memory. 8 MiB is a few thousand events of ordinary objects: a watch that resumes
/// after a short break, or a paged list, finds its events in memory; at 10,000 pods, 16 MiB
/// cost ~8 MB more RSS (docs/benchmarks.md).
pub const WINDOW_BYTES: usize = 8 << 20;

/// How many live events a watcher may have queued (unread) before it is expired: the slow
/// watcher receives `Err(Expired)` as its last item instead of blocking writers.
pub const DEFAULT_WATCH_BUFFER: usize = 2_048;

/// Tuning knobs shared by both backends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Events kept for watch replay and exact-rv lists (at least 1).
    pub retention: usize,
    /// Live events a watcher may have queued before it is expired (at least 2).
    pub watch_buffer: usize,
    /// Bytes of retained events kept in memory by a backend that logs events (`WINDOW_BYTES`).
    pub window_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retention: EVENT_RETENTION,
            watch_buffer: DEFAULT_WATCH_BUFFER,
            window_bytes: WINDOW_BYTES,
        }
    }
}

/// A stored object: its JSON bytes (with `metadata.resourceVersion` = `rv`) and its rv.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub rv: u64,
    pub bytes: Bytes,
}

impl Stored {
    /// Parse the stored JSON (it was serialized by the storage, so it is always valid).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One entry of the event log. For `Deleted`, `object` is the last state with
/// `metadata.resourceVersion` set to the deletion's rv. `prev` is the state before the write
/// (`None` for `Added`); it lets a reader rebuild the state at an older rv.
#[derive(Clone, Debug)]
pub struct Event {
    pub kind: EventType,
    pub key: Arc<str>,
    pub rv: u64,
    pub object: Bytes,
    pub prev: Option<Bytes>,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum StorageError {
    #[error("key {0} not found")]
    NotFound(String),
    #[error("key {0} already exists")]
    AlreadyExists(String),
    /// The object's current rv differs from the caller's precondition.
    #[error("conflict on {key}: expected rv {expected}, found {actual}")]
    Conflict {
        key: String,
        expected: u64,
        actual: u64,
    },
    /// The requested rv is older than the retained event log.
    #[error("too old resource version: {requested} ({oldest})")]
    Expired { requested: u64, oldest: u64 },
    /// The requested rv is newer than the store's current rv.
    #[error("too large resource version: {requested}, current resource version: {current}")]
    TooLarge { requested: u64, current: u64 },
    #[error("invalid object: {0}")]
    InvalidObject(String),
    #[error("storage failure: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// Which state a list reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadAt {
    /// The current state.
    Latest,
    /// The state exactly as of this rv (rebuilt from the event log; `Expired` if compacted).
    Exact(u64),
}

/// A page of a list: objects whose keys start with the prefix and sort after `start_after`.
#[derive(Clone)]
pub struct ListRequest<'a> {
    pub prefix: &'a str,
    /// Return only keys strictly greater than this (the continue position).
    pub start_after: Option<&'a str>,
    pub at: ReadAt,
    /// Called on each candidate; only matches are returned and counted against `limit`.
    pub filter: Option<&'a (dyn Fn(&Stored) -> bool + Sync)>,
    /// At most this many matches (0 = no limit).
    pub limit: usize,
}

impl<'a> ListRequest<'a> {
    /// Every object under `prefix`, latest state, no limit.
    pub fn new(prefix: &'a str) -> Self {
        ListRequest {
            prefix,
            start_after: None,
            at: ReadAt::Latest,
            filter: None,
            limit: 0,
        }
    }
}

impl std::fmt::Debug for ListRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListRequest")
            .field("prefix", &self.prefix)
            .field("start_after", &self.start_after)
            .field("at", &self.at)
            .field("filter", &self.filter.map(|_| "<fn>"))
            .field("limit", &self.limit)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct ListResult {
    /// Matches in key order, each with its key.
    pub items: Vec<(String, Stored)>,
    /// The rv the list reflects (the store's current rv for `Latest`).
    pub rv: u64,
    /// Set when `limit` cut the list: the key of the last returned item.
    pub more_after: Option<String>,
    /// When cut: how many matching items remain after the page (an estimate is fine).
    pub remaining: Option<usize>,
}

/// A live stream of events after a given rv, filtered to one key prefix.
pub struct WatchStream {
    pub rx: tokio::sync::mpsc::Receiver<Result<Arc<Event>>>,
}

pub type DurableFuture = Pin<Box<dyn Future<Output = Result<()>> + Send + 'static>>;

/// The storage contract. Methods other than `durable` and the watch stream are synchronous:
/// both backends apply a write in memory (or in sled's page cache) in microseconds.
pub trait Storage: Send + Sync + 'static {
    /// Store a new object; `obj.metadata.resourceVersion` is overwritten with the new rv.
    fn create(&self, key: &str, obj: serde_json::Value) -> Result<Stored>;
    fn get(&self, key: &str) -> Result<Stored>;
    fn list(&self, req: &ListRequest<'_>) -> Result<ListResult>;
    /// Replace an object. With `expected_rv`, fail with `Conflict` unless it is the current rv.
    fn update(&self, key: &str, expected_rv: Option<u64>, obj: serde_json::Value)
        -> Result<Stored>;
    /// Remove an object. With `expected_rv`, fail with `Conflict` unless it is the current rv.
    /// Returns the deleted state (its rv is the deletion's rv).
    fn delete(&self, key: &str, expected_rv: Option<u64>) -> Result<Stored>;
    /// Events for keys under `prefix` with rv > `after_rv`, replayed from the log then live.
    fn watch(&self, prefix: &str, after_rv: u64) -> Result<WatchStream>;
    /// The store's current (latest written) rv.
    fn current_rv(&self) -> u64;
    /// Resolves when every write up to `rv` is on disk.
    fn durable(&self, rv: u64) -> DurableFuture;
}

/// Read-modify-write that retries on conflict: `f` gets the current object and returns the
/// new one, or `Ok(None)` to leave it unchanged (then the current state is returned).
pub fn guaranteed_update<E: From<StorageError>>(
    store: &dyn Storage,
    key: &str,
    mut f: impl FnMut(&Stored) -> std::result::Result<Option<serde_json::Value>, E>,
) -> std::result::Result<Stored, E> {
    loop {
        let cur = store.get(key)?;
        match f(&cur)? {
            None => return Ok(cur),
            Some(next) => match store.update(key, Some(cur.rv), next) {
                Err(StorageError::Conflict { .. }) => continue,
                other => return Ok(other?),
            },
        }
    }
}

/// The storage key of an object.
pub fn object_key(group: &str, resource: &str, namespace: &str, name: &str) -> String {
    let g = if group.is_empty() { "core" } else { group };
    // Built by hand: `format!` here was ~6% of a GET's server CPU (docs/benchmarks.md).
    let mut k = String::with_capacity(4 + g.len() + resource.len() + namespace.len() + name.len());
    for part in [g, resource, namespace, name] {
        k.push('/');
        k.push_str(part);
    }
    k
}

/// The key prefix of a collection (`namespace` None = across namespaces).
pub fn collection_prefix(group: &str, resource: &str, namespace: Option<&str>) -> String {
    let g = if group.is_empty() { "core" } else { group };
    match namespace {
        Some(ns) => format!("/{g}/{resource}/{ns}/"),
        None => format!("/{g}/{resource}/"),
    }
}
