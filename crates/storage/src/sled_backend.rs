//! The sled backend and `SledStorage`, the engine over it plus its group-commit flusher.
//!
//! On-disk layout: one sled tree (`kube-lite`) with prefixed keys. A write is two plain
//! inserts, its event first and then its object — not one `apply_batch`: sled 0.34 seals and
//! writes its IO buffer twice per batch (`PageCache::pin_log`), i.e. two pwrite +
//! sync_file_range per write on its IO threads, which defeated the group commit (see
//! docs/benchmarks.md). Plain inserts share the IO buffer until the flusher's `flush`.
//! Atomicity comes from recovery instead: sled recovers a prefix of its log, so a crash can
//! leave at most the newest writes' events without their objects (never an object without
//! its event), and `recover` re-applies the last retained event of every key whose stored
//! object is older. The log's last event is never compacted, so an rv is never reused:
//! - `o<key>` → 8-byte big-endian rv ++ the object's JSON bytes;
//! - `e<rv as 8-byte big-endian>` → the encoded event (type, prev rv, key, object, prev);
//! - `mrv` → a recent last rv (8-byte big-endian), rewritten by the flusher with each
//!   compaction and on close; recovery takes max(`mrv`, last event rv), so it may lag.
//!
//! The event log keeps the last `Options::retention` events; older ones are deleted by the
//! flusher thread after each flush, never on the write path. On open the current rv is
//! max(`mrv`, last event rv) and the retained events are loaded into the in-memory window.

use crate::backend::{Backend, Entry, Recovered, ScanIter};
use crate::engine::{lock, Engine};
use crate::{Event, EventType, Options, Result, StorageError, Stored};
use bytes::Bytes;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const OBJ: u8 = b'o';
const EVT: u8 = b'e';
const META_RV: &[u8] = b"mrv";

fn internal(e: impl std::fmt::Display) -> StorageError {
    StorageError::Internal(e.to_string())
}

fn obj_key(key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(OBJ);
    k.extend_from_slice(key.as_bytes());
    k
}

fn evt_key(rv: u64) -> [u8; 9] {
    let mut k = [EVT; 9];
    k[1..].copy_from_slice(&rv.to_be_bytes());
    k
}

fn be_u64(b: &[u8]) -> Result<u64> {
    let a: [u8; 8] = b
        .get(..8)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| internal("truncated u64"))?;
    Ok(u64::from_be_bytes(a))
}

/// The stored value of an object: 8-byte big-endian rv ++ its JSON bytes.
fn object_value(s: &Stored) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + s.bytes.len());
    v.extend_from_slice(&s.rv.to_be_bytes());
    v.extend_from_slice(&s.bytes);
    v
}

fn decode_object(v: &[u8]) -> Result<Stored> {
    Ok(Stored {
        rv: be_u64(v)?,
        bytes: Bytes::copy_from_slice(&v[8..]),
    })
}

fn encode_event(e: &Entry) -> Vec<u8> {
    let ev = &e.ev;
    let prev_len = ev.prev.as_ref().map_or(0, |p| p.len());
    let mut out = Vec::with_capacity(1 + 8 + 12 + ev.key.len() + ev.object.len() + prev_len + 1);
    out.push(match ev.kind {
        EventType::Added => b'A',
        EventType::Modified => b'M',
        EventType::Deleted => b'D',
    });
    out.extend_from_slice(&e.prev_rv.to_be_bytes());
    for part in [ev.key.as_bytes(), &ev.object[..]] {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
    }
    match &ev.prev {
        Some(p) => {
            out.push(1);
            out.extend_from_slice(&(p.len() as u32).to_be_bytes());
            out.extend_from_slice(p);
        }
        None => out.push(0),
    }
    out
}

/// A cursor over an encoded event.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }

    fn chunk(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_be_bytes(self.take(4)?.try_into().ok()?) as usize;
        self.take(len)
    }
}

fn decode_event(rv: u64, v: &[u8]) -> Result<Entry> {
    let mut r = Reader(v);
    let entry = (|| {
        let kind = match r.take(1)?[0] {
            b'A' => EventType::Added,
            b'M' => EventType::Modified,
            b'D' => EventType::Deleted,
            _ => return None,
        };
        let prev_rv = u64::from_be_bytes(r.take(8)?.try_into().ok()?);
        let key = std::str::from_utf8(r.chunk()?).ok()?;
        let object = Bytes::copy_from_slice(r.chunk()?);
        let prev = match r.take(1)?[0] {
            0 => None,
            _ => Some(Bytes::copy_from_slice(r.chunk()?)),
        };
        Some(Entry {
            ev: Arc::new(Event {
                kind,
                key: Arc::from(key),
                rv,
                object,
                prev,
            }),
            prev_rv,
        })
    })();
    entry.ok_or_else(|| internal(format!("corrupt event at rv {rv}")))
}

pub(crate) struct SledBackend {
    db: sled::Db,
    tree: sled::Tree,
}

impl SledBackend {
    /// Make every key's object match its last retained event when the object is older (a
    /// crash between a write's event insert and its object insert; only the newest,
    /// never-acknowledged writes can be torn so, and their events are in the tail).
    fn redo_torn_writes(&self, events: &[Entry]) -> Result<()> {
        let mut last: std::collections::HashMap<&str, &Entry> = Default::default();
        for e in events {
            last.insert(&e.ev.key, e);
        }
        for (key, e) in last {
            let okey = obj_key(key);
            let cur_rv = match self.tree.get(&okey).map_err(internal)? {
                Some(v) => be_u64(&v)?,
                None => 0,
            };
            if cur_rv >= e.rv() {
                continue;
            }
            match e.ev.kind {
                EventType::Deleted if cur_rv == 0 => {}
                EventType::Deleted => {
                    self.tree.remove(okey).map_err(internal)?;
                }
                EventType::Added | EventType::Modified => {
                    let s = Stored {
                        rv: e.rv(),
                        bytes: e.ev.object.clone(),
                    };
                    self.tree.insert(okey, object_value(&s)).map_err(internal)?;
                }
            }
        }
        Ok(())
    }
}

impl Backend for SledBackend {
    const NEEDS_FLUSH: bool = true;
    const LOGS_EVENTS: bool = true;

    fn get(&self, key: &str) -> Result<Option<Stored>> {
        self.tree
            .get(obj_key(key))
            .map_err(internal)?
            .map(|v| decode_object(&v))
            .transpose()
    }

    fn scan<'a>(&'a self, prefix: &str, start_after: Option<&str>) -> ScanIter<'a> {
        let pfx = obj_key(prefix);
        let lower = match start_after {
            Some(s) if s >= prefix => Bound::Excluded(obj_key(s)),
            _ => Bound::Included(pfx.clone()),
        };
        let iter = self.tree.range::<Vec<u8>, _>((lower, Bound::Unbounded));
        Box::new(
            iter.take_while(move |r| r.as_ref().map_or(true, |(k, _)| k.starts_with(&pfx)))
                .map(|r| {
                    let (k, v) = r.map_err(internal)?;
                    let key = String::from_utf8(k[1..].to_vec()).map_err(internal)?;
                    Ok((key, decode_object(&v)?))
                }),
        )
    }

    fn apply(&self, object: Option<&Stored>, entry: &Entry) -> Result<()> {
        // The event first: after a crash `recover` can redo the object from it (module doc).
        let ekey = evt_key(entry.rv());
        self.tree
            .insert(&ekey[..], encode_event(entry))
            .map_err(internal)?;
        let applied = match object {
            Some(s) => self.tree.insert(obj_key(&entry.ev.key), object_value(s)),
            None => self.tree.remove(obj_key(&entry.ev.key)),
        };
        if let Err(e) = applied {
            // The write fails: do not let recovery redo it from its event.
            let _ = self.tree.remove(&ekey[..]);
            return Err(internal(e));
        }
        Ok(())
    }

    fn compact_events(&self, through_rv: u64, last_rv: u64) -> Result<()> {
        // One key at a time, oldest first: no batch, so writers are never blocked for long,
        // and an interrupted compaction just leaves a few old events to drop next time.
        for k in self.tree.range(evt_key(0)..=evt_key(through_rv)).keys() {
            self.tree.remove(k.map_err(internal)?).map_err(internal)?;
        }
        self.tree
            .insert(META_RV, &last_rv.to_be_bytes()[..])
            .map_err(internal)?;
        Ok(())
    }

    fn recover(&self, retention: usize) -> Result<Recovered> {
        let meta_rv = self
            .tree
            .get(META_RV)
            .map_err(internal)?
            .map(|v| be_u64(&v))
            .transpose()?
            .unwrap_or(1);
        let mut events = Vec::new();
        for r in self.tree.scan_prefix([EVT]).rev().take(retention) {
            let (k, v) = r.map_err(internal)?;
            events.push(decode_event(be_u64(&k[1..])?, &v)?);
        }
        events.reverse();
        self.redo_torn_writes(&events)?;
        let last_ev = events.last().map_or(0, Entry::rv);
        Ok(Recovered {
            last_rv: meta_rv.max(last_ev).max(1),
            events,
        })
    }

    fn events_between(&self, after: u64, through: u64) -> Result<Vec<Entry>> {
        if through <= after {
            return Ok(Vec::new());
        }
        self.tree
            .range(evt_key(after + 1)..=evt_key(through))
            .map(|r| {
                let (k, v) = r.map_err(internal)?;
                decode_event(be_u64(&k[1..])?, &v)
            })
            .collect()
    }

    fn flush(&self) -> Result<()> {
        self.db.flush().map(|_| ()).map_err(internal)
    }
}

/// Storage in a sled database directory (what `kube-lite up` uses). Writes are applied at
/// once (visible to get/list); `durable(rv)` resolves after a group-commit flush covering rv,
/// and watchers see only durable events. `close()` (or drop) flushes and stops the flusher.
pub struct SledStorage {
    pub(crate) engine: Arc<Engine<SledBackend>>,
    /// The flusher and compactor threads (taken by `close`).
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// sled's page cache (its default is 1 GiB). Reads it misses come from the OS page cache; the
/// API server's hot paths (watch events, lists of recent writes) do not go to sled at all.
const CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Open sled at `path`. sled's IO threads drop their handle on the file lock a moment after
/// the previous `Db` in this process has closed, so a reopen retries a held lock briefly
/// before reporting it (another live process keeps it held and gets the error).
fn open_db(path: &Path) -> Result<sled::Db> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .flush_every_ms(None)
            .open()
        {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other.map_err(internal),
        }
    }
}

impl SledStorage {
    /// Open (or create) the store at `path` with default options.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, Options::default())
    }

    /// Open (or create) the store at `path` with the given retention and watch buffer.
    pub fn open_with(path: &Path, opts: Options) -> Result<Self> {
        let db = open_db(path)?;
        let tree = db.open_tree("kube-lite").map_err(internal)?;
        let engine = Arc::new(Engine::open(SledBackend { db, tree }, opts)?);
        let threads = crate::flusher::spawn(Arc::clone(&engine)).map_err(internal)?;
        Ok(SledStorage {
            engine,
            threads: Mutex::new(threads),
        })
    }

    /// Stop accepting writes, flush everything, stop the flusher and end all watch streams.
    /// Idempotent; also done on drop. Blocks for one flush.
    pub fn close(&self) -> Result<()> {
        let threads = std::mem::take(&mut *lock(&self.threads));
        if threads.is_empty() {
            return Ok(());
        }
        self.engine.close_writes();
        self.engine.flush_signal.shutdown();
        let mut panicked = false;
        for t in threads {
            panicked |= t.join().is_err();
        }
        let flushed = self.engine.backend.flush();
        self.engine.close_watchers();
        if panicked {
            return Err(internal("a storage thread panicked"));
        }
        if let Some(e) = self.engine.status.failed.get() {
            return Err(e.clone());
        }
        flushed
    }

    /// How many group-commit flushes have completed since open.
    pub fn flush_count(&self) -> u64 {
        self.engine.flush_count()
    }

    /// The rv covered by the last completed flush (every event a watcher gets is <= it).
    pub fn durable_rv(&self) -> u64 {
        self.engine.flushed_rv()
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

impl Drop for SledStorage {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::error!(error = %e, "closing sled storage failed");
        }
    }
}

crate::engine::delegate_storage!(SledStorage);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_encoding_round_trips() {
        for prev in [None, Some(Bytes::from_static(b"{\"a\":1}"))] {
            let e = Entry {
                ev: Arc::new(Event {
                    kind: EventType::Modified,
                    key: Arc::from("/core/pods/ns/a"),
                    rv: 42,
                    object: Bytes::from_static(b"{\"b\":2}"),
                    prev: prev.clone(),
                }),
                prev_rv: 7,
            };
            let d = decode_event(42, &encode_event(&e)).unwrap();
            assert_eq!(d.prev_rv, 7);
            assert_eq!(d.ev.kind, EventType::Modified);
            assert_eq!(&*d.ev.key, "/core/pods/ns/a");
            assert_eq!(d.ev.object, e.ev.object);
            assert_eq!(d.ev.prev, prev);
        }
    }

    /// A crash between a write's event insert and its object insert leaves the event alone:
    /// reopening redoes the object from it (creates, updates and deletes alike).
    #[test]
    fn recovery_redoes_writes_torn_after_their_event() {
        use crate::Storage;
        use serde_json::json;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let (a_rv, c_rv) = {
            let s = SledStorage::open(&path).unwrap();
            let a = s.create("/core/configmaps/ns/a", json!({"v": 1})).unwrap();
            let c = s.create("/core/configmaps/ns/c", json!({"v": 1})).unwrap();
            s.close().unwrap();
            (a.rv, c.rv)
        };
        // Append events with no object write, as a torn write would leave them.
        let (b_rv, a2_rv, c2_rv) = (c_rv + 1, c_rv + 2, c_rv + 3);
        {
            let db = sled::Config::new().path(&path).open().unwrap();
            let tree = db.open_tree("kube-lite").unwrap();
            let ev = |kind, key: &str, rv: u64, obj: &str, prev: Option<(u64, &str)>| Entry {
                ev: Arc::new(Event {
                    kind,
                    key: Arc::from(key),
                    rv,
                    object: Bytes::from(obj.to_owned()),
                    prev: prev.map(|p| Bytes::from(p.1.to_owned())),
                }),
                prev_rv: prev.map_or(0, |p| p.0),
            };
            for e in [
                ev(
                    EventType::Added,
                    "/core/configmaps/ns/b",
                    b_rv,
                    "{\"v\":2}",
                    None,
                ),
                ev(
                    EventType::Modified,
                    "/core/configmaps/ns/a",
                    a2_rv,
                    "{\"v\":3}",
                    Some((a_rv, "{\"v\":1}")),
                ),
                ev(
                    EventType::Deleted,
                    "/core/configmaps/ns/c",
                    c2_rv,
                    "{\"v\":1}",
                    Some((c_rv, "{\"v\":1}")),
                ),
            ] {
                tree.insert(&evt_key(e.rv())[..], encode_event(&e)).unwrap();
            }
            db.flush().unwrap();
        }
        let s = SledStorage::open(&path).unwrap();
        let b = s.get("/core/configmaps/ns/b").unwrap();
        assert_eq!((b.rv, &b.bytes[..]), (b_rv, &b"{\"v\":2}"[..]));
        let a = s.get("/core/configmaps/ns/a").unwrap();
        assert_eq!((a.rv, &a.bytes[..]), (a2_rv, &b"{\"v\":3}"[..]));
        assert!(matches!(
            s.get("/core/configmaps/ns/c"),
            Err(StorageError::NotFound(_))
        ));
        assert_eq!(s.current_rv(), c2_rv);
        let next = s.create("/core/configmaps/ns/d", json!({})).unwrap();
        assert_eq!(next.rv, c2_rv + 1);
    }
}
