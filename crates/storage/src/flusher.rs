//! Group commit: a dedicated std thread that flushes (fsyncs) the backend while there are
//! unflushed writes. Every writer that arrived during one flush is covered by the next, so
//! concurrent writers share fsyncs. After each flush it publishes the covered events to
//! watchers, advances the durable rv, and compacts the on-disk event log off the write path.

use crate::backend::Backend;
use crate::engine::{lock, Engine};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

struct FlushState {
    /// The highest rv applied to the backend (so every write up to it is applied).
    requested: u64,
    shutdown: bool,
}

pub(crate) struct FlushSignal {
    state: Mutex<FlushState>,
    cv: Condvar,
}

impl FlushSignal {
    pub fn new(rv: u64) -> Self {
        FlushSignal {
            state: Mutex::new(FlushState {
                requested: rv,
                shutdown: false,
            }),
            cv: Condvar::new(),
        }
    }

    /// Record that every write up to `rv` is applied and wake the flusher.
    pub fn request(&self, rv: u64) {
        let mut s = lock(&self.state);
        if rv > s.requested {
            s.requested = rv;
            self.cv.notify_one();
        }
    }

    pub fn shutdown(&self) {
        lock(&self.state).shutdown = true;
        self.cv.notify_one();
    }

    /// Block until there is something newer than `flushed` to flush (returns its rv), or
    /// shutdown was requested and nothing is left (returns None).
    fn wait(&self, flushed: u64) -> Option<u64> {
        let mut s = lock(&self.state);
        loop {
            if s.requested > flushed {
                return Some(s.requested);
            }
            if s.shutdown {
                return None;
            }
            s = self.cv.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

pub(crate) fn spawn<B: Backend>(engine: Arc<Engine<B>>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("storage-flusher".into())
        .spawn(move || run(&engine))
}

fn run<B: Backend>(engine: &Engine<B>) {
    let mut flushed = engine.flushed_rv();
    // Recovery may have left events older than the window on disk: compact them first.
    let mut compacted_on_disk = 0;
    loop {
        let oldest = engine.oldest_rv();
        if oldest > compacted_on_disk {
            if let Err(e) = engine.backend.compact_events(oldest) {
                tracing::warn!(error = %e, "event log compaction failed");
            }
            compacted_on_disk = oldest;
        }
        let Some(target) = engine.flush_signal.wait(flushed) else {
            break;
        };
        if let Err(e) = engine.backend.flush() {
            engine.fail(e);
            break;
        }
        flushed = target;
        engine.after_flush(target);
    }
}
