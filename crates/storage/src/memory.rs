//! The in-memory backend (a `BTreeMap` of objects) and `MemoryStorage`, the engine over it:
//! every write is durable as soon as it is applied, so watchers see it immediately.

use crate::backend::{Backend, Entry, Recovered, ScanIter};
use crate::engine::Engine;
use crate::{Options, Result, Stored};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock};

/// How many objects a scan copies out per lock acquisition.
const SCAN_CHUNK: usize = 256;

#[derive(Default)]
pub(crate) struct MemoryBackend {
    objects: RwLock<BTreeMap<String, Stored>>,
}

impl MemoryBackend {
    /// The next chunk of in-range objects strictly after `after`.
    fn chunk(&self, prefix: &str, after: Bound<&str>) -> Vec<(String, Stored)> {
        let map = self.objects.read().unwrap_or_else(|e| e.into_inner());
        map.range::<str, _>((after, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(SCAN_CHUNK)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl Backend for MemoryBackend {
    const NEEDS_FLUSH: bool = false;
    /// Every retained event stays in the engine's window.
    const LOGS_EVENTS: bool = false;

    fn get(&self, key: &str) -> Result<Option<Stored>> {
        Ok(self
            .objects
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned())
    }

    fn scan<'a>(&'a self, prefix: &str, start_after: Option<&str>) -> ScanIter<'a> {
        let prefix = prefix.to_owned();
        let mut after: Option<String> = start_after
            .filter(|s| *s >= prefix.as_str())
            .map(str::to_owned);
        let mut buf = std::collections::VecDeque::new();
        let mut done = false;
        Box::new(std::iter::from_fn(move || {
            if buf.is_empty() && !done {
                let bound = match &after {
                    Some(a) => Bound::Excluded(a.as_str()),
                    None => Bound::Included(prefix.as_str()),
                };
                let chunk = self.chunk(&prefix, bound);
                done = chunk.len() < SCAN_CHUNK;
                if let Some((k, _)) = chunk.last() {
                    after = Some(k.clone());
                }
                buf.extend(chunk);
            }
            buf.pop_front().map(Ok)
        }))
    }

    fn apply(&self, object: Option<&Stored>, entry: &Entry) -> Result<()> {
        let mut map = self.objects.write().unwrap_or_else(|e| e.into_inner());
        match object {
            Some(s) => {
                map.insert(entry.ev.key.to_string(), s.clone());
            }
            None => {
                map.remove(&*entry.ev.key);
            }
        }
        Ok(())
    }

    fn compact_events(&self, _through_rv: u64, _last_rv: u64) -> Result<()> {
        Ok(())
    }

    fn recover(&self, _retention: usize) -> Result<Recovered> {
        Ok(Recovered {
            last_rv: 1,
            events: Vec::new(),
        })
    }

    fn events_between(&self, _after: u64, _through: u64) -> Result<Vec<Entry>> {
        Ok(Vec::new())
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// Storage kept entirely in memory (tests, `--in-memory` servers). `durable` resolves at once.
pub struct MemoryStorage {
    pub(crate) engine: Arc<Engine<MemoryBackend>>,
}

impl MemoryStorage {
    /// An empty store (current rv 1) with default options.
    pub fn new() -> Self {
        Self::with_options(Options::default())
    }

    /// An empty store with the given retention and watch buffer.
    pub fn with_options(opts: Options) -> Self {
        let engine = Engine::open(MemoryBackend::default(), opts)
            .expect("the memory backend cannot fail to open");
        MemoryStorage {
            engine: Arc::new(engine),
        }
    }

    /// Live watchers (dropped receivers are swept first).
    pub fn watcher_count(&self) -> usize {
        self.engine.watcher_count()
    }

    /// The oldest rv a watch or exact list can start from (events after it are retained).
    pub fn oldest_rv(&self) -> u64 {
        self.engine.oldest_rv()
    }
}

impl Default for MemoryStorage {
    fn default() -> Self {
        Self::new()
    }
}

crate::engine::delegate_storage!(MemoryStorage);
