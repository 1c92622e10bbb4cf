//! Group commit and background log compaction for flushing backends.
//!
//! The flusher is a dedicated std thread that flushes (fsyncs) the backend while there are
//! unflushed writes; every writer that arrived meanwhile is covered by the next flush, so
//! concurrent writers share fsyncs. When the last flush covered several writes (concurrent
//! writers), it lingers briefly while writes keep arriving — until no new write came for
//! `GAP` or it lingered `MAX_LINGER` — so that one flush covers the whole burst instead of a
//! trickle (a lone sequential writer never lingers). After each flush it offers the covered events to watchers, then advances the
//! durable rv.
//!
//! The compactor is a second thread that deletes on-disk events older than the in-memory
//! window once `COMPACT_EVERY` have accumulated, one key at a time (no global batch lock,
//! nothing on the write path), and records the last rv in the backend's meta key.

use crate::backend::Backend;
use crate::engine::{lock, Engine};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// While lingering, flush once no write arrived for this long...
const GAP: Duration = Duration::from_millis(2);
/// ...or once it has lingered this long. Each flush costs more than its fsync: sled 0.34
/// hands the write to its IO thread pool, which wakes all seven of its idle threads. Under a
/// 10,000-pod rollout, 500 µs / 4 ms made ~10,000 flushes and ~280,000 context switches;
/// 2 ms / 10 ms make ~1,500 flushes and ~140,000 switches, and the rollout takes about a
/// quarter less CPU (docs/benchmarks.md). A lone writer never lingers, so this adds no
/// latency to a single kubectl request.
const MAX_LINGER: Duration = Duration::from_millis(10);
/// Compact the on-disk log once this many events fell out of the window.
const COMPACT_EVERY: u64 = 256;

struct FlushState {
    /// The highest rv applied to the backend (so every write up to it is applied).
    requested: u64,
    /// When `requested` last advanced.
    last_request: Instant,
    /// The flusher waits for a first write (a lingering flusher wakes on its own timeout, so
    /// writers wake it only when it is idle: one futex wake per flush, not per write).
    idle: bool,
    shutdown: bool,
}

pub(crate) struct FlushSignal {
    state: Mutex<FlushState>,
    cv: Condvar,
    /// Wakes the compactor.
    compact_cv: Condvar,
}

impl FlushSignal {
    pub fn new(rv: u64) -> Self {
        FlushSignal {
            state: Mutex::new(FlushState {
                requested: rv,
                last_request: Instant::now(),
                idle: false,
                shutdown: false,
            }),
            cv: Condvar::new(),
            compact_cv: Condvar::new(),
        }
    }

    /// Record that every write up to `rv` is applied and wake the flusher.
    pub fn request(&self, rv: u64) {
        let mut s = lock(&self.state);
        if rv > s.requested {
            s.requested = rv;
            s.last_request = Instant::now();
            if s.idle {
                self.cv.notify_one();
            }
        }
    }

    pub fn shutdown(&self) {
        lock(&self.state).shutdown = true;
        self.cv.notify_all();
        self.compact_cv.notify_all();
    }

    /// Block until there is something newer than `flushed` worth flushing (returns its rv),
    /// or shutdown was requested and nothing is left (returns None).
    fn wait(&self, flushed: u64, linger: bool) -> Option<u64> {
        let mut s = lock(&self.state);
        let mut first_seen: Option<Instant> = None;
        loop {
            if s.requested > flushed {
                if !linger || s.shutdown {
                    return Some(s.requested);
                }
                let now = Instant::now();
                let since_first = now - *first_seen.get_or_insert(now);
                let idle = now.saturating_duration_since(s.last_request);
                if idle >= GAP || since_first >= MAX_LINGER {
                    return Some(s.requested);
                }
                let timeout = (GAP - idle).min(MAX_LINGER - since_first);
                s = self
                    .cv
                    .wait_timeout(s, timeout)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
                continue;
            }
            if s.shutdown {
                return None;
            }
            s.idle = true;
            s = self.cv.wait(s).unwrap_or_else(|e| e.into_inner());
            s.idle = false;
        }
    }

    /// Wake the compactor (after the window dropped events).
    fn poke_compactor(&self) {
        self.compact_cv.notify_one();
    }

    /// Block until `ready()` or shutdown; false on shutdown.
    fn wait_compact(&self, ready: impl Fn() -> bool) -> bool {
        let mut s = lock(&self.state);
        loop {
            if s.shutdown {
                return false;
            }
            if ready() {
                return true;
            }
            s = self.compact_cv.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Start the flusher and compactor threads.
pub(crate) fn spawn<B: Backend>(engine: Arc<Engine<B>>) -> std::io::Result<Vec<JoinHandle<()>>> {
    let e = Arc::clone(&engine);
    let flusher = std::thread::Builder::new()
        .name("storage-flusher".into())
        .spawn(move || run_flusher(&e))?;
    let c = Arc::clone(&engine);
    let compactor = std::thread::Builder::new()
        .name("storage-compactor".into())
        .spawn(move || run_compactor(&c));
    match compactor {
        Ok(c) => Ok(vec![flusher, c]),
        Err(err) => {
            engine.flush_signal.shutdown();
            let _ = flusher.join();
            Err(err)
        }
    }
}

fn run_flusher<B: Backend>(engine: &Engine<B>) {
    let mut flushed = engine.flushed_rv();
    let mut last_batch = 0;
    // The window's oldest rv when the compactor was last woken: it has work only once
    // `COMPACT_EVERY` more events left the window, so it is not woken after every flush.
    let mut poked = engine.oldest_rv();
    while let Some(target) = engine.flush_signal.wait(flushed, last_batch > 1) {
        if let Err(e) = engine.backend.flush() {
            engine.fail(e);
            break;
        }
        last_batch = target - flushed;
        flushed = target;
        engine.after_flush(target);
        let oldest = engine.oldest_rv();
        if oldest >= poked + COMPACT_EVERY {
            poked = oldest;
            engine.flush_signal.poke_compactor();
        }
    }
    engine.flush_signal.poke_compactor();
}

fn run_compactor<B: Backend>(engine: &Engine<B>) {
    // Recovery may have left events older than the window on disk: compact them first.
    let mut compacted = 0;
    loop {
        let oldest = engine.oldest_rv();
        if oldest > compacted {
            if let Err(e) = engine.backend.compact_events(oldest, engine.flushed_rv()) {
                tracing::warn!(error = %e, "event log compaction failed");
            }
            compacted = oldest;
        }
        if !engine
            .flush_signal
            .wait_compact(|| engine.oldest_rv() >= compacted + COMPACT_EVERY)
        {
            break;
        }
    }
}
