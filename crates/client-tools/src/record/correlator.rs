//! client-go's `EventCorrelator` (`tools/record/events_cache.go`), which every v1.35 controller
//! and the kubelet put between their recorder and the API server. Pure: the caller passes the
//! time. Hand-written (no crate does this); its three stages run in upstream's order:
//!
//! 1. **Aggregation.** Events that differ only in their message (same source, object, type and
//!    reason) within 10 minutes: from the 10th distinct message on, the event is replaced by one
//!    aggregate event, `(combined from similar events): <message>`, counted on from then on.
//! 2. **Counting.** An event equal to one already recorded (or the aggregate) is not created
//!    again: the existing Event's `count`, `lastTimestamp` and `message` are patched.
//! 3. **Spam filter.** Each source and object gets a token bucket of 25 events, refilled at one
//!    event per 5 minutes; an event finding it empty is dropped (its count still goes on).
//!
//! So a ReplicaSet scaled to 10,000 shows its first 25 `SuccessfulCreate` events, as on a real
//! cluster, and a crash-looping container's `BackOff` is one Event whose count grows.
//! Keys are 64-bit hashes of upstream's key strings, and each cache is a 4,096-entry LRU by
//! default, as upstream's.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime};

/// More distinct messages than this (for one source, object, type, reason) get aggregated.
pub const AGGREGATE_MAX_EVENTS: usize = 10;
/// How long similar events are remembered for aggregation.
pub const AGGREGATE_INTERVAL: Duration = Duration::from_secs(600);
/// Events a source may send about one object at once.
pub const SPAM_BURST: f64 = 25.0;
/// How fast that allowance refills (events per second: one per 5 minutes).
pub const SPAM_QPS: f64 = 1.0 / 300.0;
/// Entries of each cache (`maxLruCacheEntries`).
pub const DEFAULT_CACHE_ENTRIES: usize = 4096;
/// The prefix of an aggregate event's message.
pub const COMBINED_PREFIX: &str = "(combined from similar events): ";

/// One event as the recorder made it, before correlation.
#[derive(Clone, Copy, Debug)]
pub struct Incoming<'a> {
    pub source_component: &'a str,
    pub source_host: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
    pub api_version: &'a str,
    pub field_path: &'a str,
    pub type_: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
}

/// What to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Correlated {
    /// Nothing (the spam filter dropped it).
    Skip,
    /// Create an Event with this name, message, first timestamp and count.
    Create(Observation),
    /// Patch the Event of that name: its `count`, `lastTimestamp` and `message`.
    Update(Observation),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub name: String,
    pub message: String,
    pub first_timestamp: SystemTime,
    pub count: i32,
}

/// The correlator's state: three LRU caches.
pub struct Correlator {
    aggregates: Lru<Aggregate>,
    observed: Lru<Logged>,
    spam: Lru<Bucket>,
}

/// Hashes of the distinct messages seen, at most `AGGREGATE_MAX_EVENTS`: a set, held as the
/// first hash plus the rest, so the usual single message allocates nothing.
#[derive(Clone)]
struct Aggregate {
    first: u64,
    more: Vec<u64>,
    last: SystemTime,
}

impl Aggregate {
    fn len(&self) -> usize {
        1 + self.more.len()
    }

    fn insert(&mut self, h: u64) {
        if self.first != h && !self.more.contains(&h) {
            self.more.push(h);
        }
    }

    /// Drop one of the hashes (`PopAny`); only called with more than one.
    fn pop_any(&mut self) {
        if let Some(h) = self.more.pop() {
            self.first = h;
        }
    }
}

/// An event already recorded: the time its name was made of (the name is
/// `<object name>.<hex nanoseconds>`, and the object is part of every key), when it was first
/// seen and how often.
#[derive(Clone)]
struct Logged {
    nanos: u64,
    first: SystemTime,
    count: i32,
}

/// A token bucket (`golang.org/x/time/rate`, as `flowcontrol`'s passive limiter uses it).
#[derive(Clone)]
struct Bucket {
    tokens: f64,
    last: SystemTime,
}

impl Bucket {
    fn full(now: SystemTime) -> Bucket {
        Bucket {
            tokens: SPAM_BURST,
            last: now,
        }
    }

    fn try_accept(&mut self, now: SystemTime) -> bool {
        let elapsed = now.duration_since(self.last).unwrap_or_default();
        self.tokens = (self.tokens + elapsed.as_secs_f64() * SPAM_QPS).min(SPAM_BURST);
        self.last = self.last.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn hash(parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

impl Default for Correlator {
    fn default() -> Self {
        Correlator::with_capacity(DEFAULT_CACHE_ENTRIES)
    }
}

impl Correlator {
    pub fn with_capacity(entries: usize) -> Correlator {
        Correlator {
            aggregates: Lru::new(entries),
            observed: Lru::new(entries),
            spam: Lru::new(entries),
        }
    }

    /// Correlate `ev` at `now`; a new Event is named `<object name>.<nanos in hex>`.
    pub fn correlate(&mut self, ev: &Incoming<'_>, nanos: u64, now: SystemTime) -> Correlated {
        let e = ev;
        let object = [e.kind, e.namespace, e.name, e.uid, e.api_version];
        let source = [e.source_component, e.source_host];
        // getEventKey: source, object (with its field path), type, reason, message.
        let event_key = hash(
            &[
                &source[..],
                &object[..],
                &[e.field_path, e.type_, e.reason, e.message],
            ]
            .concat(),
        );
        // EventAggregatorByReasonFunc: source, object, type, reason, reporting controller and
        // instance (the source again); the message is the local key.
        let aggregate_key =
            hash(&[&source[..], &object[..], &[e.type_, e.reason], &source[..]].concat());
        let spam_key = hash(&[&source[..], &object[..]].concat());

        // 1. Aggregation.
        let message_hash = hash(&[e.message]);
        let mut record = match self
            .aggregates
            .get(aggregate_key)
            .filter(|r| now.duration_since(r.last).unwrap_or_default() <= AGGREGATE_INTERVAL)
        {
            Some(mut r) => {
                r.insert(message_hash);
                r
            }
            None => Aggregate {
                first: message_hash,
                more: Vec::new(),
                last: now,
            },
        };
        record.last = now;
        let aggregated = record.len() >= AGGREGATE_MAX_EVENTS;
        if aggregated {
            // Do not grow the set beyond the threshold (`PopAny`).
            record.pop_any();
        }
        self.aggregates.put(aggregate_key, record);
        let (key, message) = if aggregated {
            (aggregate_key, format!("{COMBINED_PREFIX}{}", e.message))
        } else {
            (event_key, e.message.to_string())
        };

        // 2. Counting (recorded even when the spam filter then drops the event).
        let logged = match self.observed.get(key) {
            Some(l) => Logged {
                count: l.count + 1,
                ..l
            },
            None => Logged {
                nanos,
                first: now,
                count: 1,
            },
        };
        self.observed.put(key, logged.clone());
        let obs = Observation {
            name: format!("{}.{:x}", e.name, logged.nanos),
            message,
            first_timestamp: logged.first,
            count: logged.count,
        };

        // 3. Spam filter.
        let mut bucket = self.spam.get(spam_key).unwrap_or_else(|| Bucket::full(now));
        let accepted = bucket.try_accept(now);
        self.spam.put(spam_key, bucket);
        match (accepted, obs.count) {
            (false, _) => Correlated::Skip,
            (true, 1) => Correlated::Create(obs),
            (true, _) => Correlated::Update(obs),
        }
    }
}

/// A least-recently-used map of `u64` keys (`groupcache/lru`): getting or putting an entry makes
/// it the most recent; beyond the capacity the least recent goes. The entries sit in one slab,
/// linked from most to least recent by index, with a map from key to slot: about 40 bytes of
/// bookkeeping an entry (each of a recorder's three caches holds thousands).
struct Lru<V> {
    slots: HashMap<u64, u32>,
    entries: Vec<Node<V>>,
    /// Most recently used slot, and least (`NIL` when empty).
    head: u32,
    tail: u32,
    capacity: usize,
}

const NIL: u32 = u32::MAX;

struct Node<V> {
    key: u64,
    value: V,
    /// Towards the most recent, and towards the least.
    newer: u32,
    older: u32,
}

impl<V: Clone> Lru<V> {
    fn new(capacity: usize) -> Lru<V> {
        Lru {
            slots: HashMap::new(),
            entries: Vec::new(),
            head: NIL,
            tail: NIL,
            capacity: capacity.clamp(1, NIL as usize - 1),
        }
    }

    fn unlink(&mut self, i: u32) {
        let (newer, older) = {
            let n = &self.entries[i as usize];
            (n.newer, n.older)
        };
        match newer {
            NIL => self.head = older,
            j => self.entries[j as usize].older = older,
        }
        match older {
            NIL => self.tail = newer,
            j => self.entries[j as usize].newer = newer,
        }
    }

    fn push_front(&mut self, i: u32) {
        let old_head = self.head;
        {
            let n = &mut self.entries[i as usize];
            n.newer = NIL;
            n.older = old_head;
        }
        match old_head {
            NIL => self.tail = i,
            j => self.entries[j as usize].newer = i,
        }
        self.head = i;
    }

    fn get(&mut self, key: u64) -> Option<V> {
        let i = *self.slots.get(&key)?;
        self.unlink(i);
        self.push_front(i);
        Some(self.entries[i as usize].value.clone())
    }

    fn put(&mut self, key: u64, value: V) {
        let i = if let Some(&i) = self.slots.get(&key) {
            self.entries[i as usize].value = value;
            self.unlink(i);
            i
        } else if self.entries.len() < self.capacity {
            let i = self.entries.len() as u32;
            self.entries.push(Node {
                key,
                value,
                newer: NIL,
                older: NIL,
            });
            self.slots.insert(key, i);
            i
        } else {
            // Full: the least recent entry's slot takes the new one.
            let i = self.tail;
            self.unlink(i);
            let n = &mut self.entries[i as usize];
            let evicted = std::mem::replace(&mut n.key, key);
            n.value = value;
            self.slots.remove(&evicted);
            self.slots.insert(key, i);
            i
        };
        self.push_front(i);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    fn ev<'a>(object: &'a str, reason: &'a str, message: &'a str) -> Incoming<'a> {
        Incoming {
            source_component: "replicaset-controller",
            source_host: "",
            kind: "ReplicaSet",
            namespace: "default",
            name: object,
            uid: object,
            api_version: "apps/v1",
            field_path: "",
            type_: "Normal",
            reason,
            message,
        }
    }

    /// What each of a sequence of events became: `C` create, `U<n>` update to count n, `S` skip,
    /// with `*` when the message is the aggregate's.
    fn outcomes(c: &mut Correlator, events: &[(u64, Incoming<'_>)]) -> Vec<String> {
        events
            .iter()
            .enumerate()
            .map(|(i, (t, e))| {
                let shown = |o: &Observation| {
                    if o.message.starts_with(COMBINED_PREFIX) {
                        "*"
                    } else {
                        ""
                    }
                };
                match c.correlate(e, i as u64, at(*t)) {
                    Correlated::Skip => "S".to_string(),
                    Correlated::Create(o) => format!("C{}", shown(&o)),
                    Correlated::Update(o) => format!("U{}{}", o.count, shown(&o)),
                }
            })
            .collect()
    }

    #[test]
    fn a_repeated_event_is_counted_on_the_first_one() {
        let mut c = Correlator::default();
        let e = ev("web", "BackOff", "Back-off restarting failed container");
        let got = outcomes(&mut c, &[(0, e), (10, e), (20, e)]);
        assert_eq!(got, ["C", "U2", "U3"]);
        // The update keeps the first event's name and first timestamp.
        match c.correlate(&e, 0xff, at(30)) {
            Correlated::Update(o) => {
                assert_eq!(
                    (o.name.as_str(), o.first_timestamp, o.count),
                    ("web.0", at(0), 4)
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_tenth_distinct_message_starts_the_combined_event() {
        let mut c = Correlator::default();
        let msgs: Vec<String> = (0..13).map(|i| format!("Created pod: web-{i}")).collect();
        let events: Vec<(u64, Incoming)> = msgs
            .iter()
            .map(|m| (1, ev("web", "SuccessfulCreate", m)))
            .collect();
        let got = outcomes(&mut c, &events);
        let mut want = vec!["C"; 9];
        want.extend(["C*", "U2*", "U3*", "U4*"]);
        assert_eq!(got, want);
    }

    #[test]
    fn similar_events_older_than_ten_minutes_start_over() {
        let mut c = Correlator::default();
        let msgs: Vec<String> = (0..10).map(|i| format!("Created pod: web-{i}")).collect();
        // Nine similar events, then the tenth more than ten minutes after the ninth.
        let mut events: Vec<(u64, Incoming)> = msgs[..9]
            .iter()
            .map(|m| (0, ev("web", "SuccessfulCreate", m)))
            .collect();
        events.push((601, ev("web", "SuccessfulCreate", &msgs[9])));
        assert_eq!(outcomes(&mut c, &events), vec!["C"; 10]);
    }

    #[test]
    fn a_source_gets_25_events_about_one_object_then_one_per_five_minutes() {
        let mut c = Correlator::default();
        let e = ev("web", "BackOff", "Back-off restarting failed container");
        let events: Vec<(u64, Incoming)> = (0..27).map(|_| (0, e)).collect();
        let got = outcomes(&mut c, &events);
        assert_eq!(got[24], "U25");
        assert_eq!(&got[25..], ["S", "S"]);
        // After five minutes one more gets through, carrying the count of every observation.
        assert_eq!(outcomes(&mut c, &[(300, e), (301, e)]), ["U28", "S"]);
        // Other objects and other sources have their own allowance.
        let other = ev("api", "BackOff", "Back-off restarting failed container");
        let kubelet = Incoming {
            source_component: "kubelet",
            ..e
        };
        assert_eq!(
            outcomes(&mut c, &[(301, other), (301, kubelet)]),
            ["C", "C"]
        );
    }

    #[test]
    fn a_replicaset_scaled_to_thousands_records_its_first_25_creations() {
        let mut c = Correlator::default();
        let msgs: Vec<String> = (0..10_000)
            .map(|i| format!("Created pod: web-{i}"))
            .collect();
        let events: Vec<(u64, Incoming)> = msgs
            .iter()
            .map(|m| (0, ev("web", "SuccessfulCreate", m)))
            .collect();
        let got = outcomes(&mut c, &events);
        let sent = got.iter().filter(|o| *o != "S").count();
        assert_eq!(sent, 25);
        assert_eq!(got[24], "U16*");
        // Nothing about other objects was evicted to make room: one key per cache.
        assert_eq!((c.aggregates.len(), c.spam.len()), (1, 1));
    }

    /// The slab-linked cache against the plainest LRU (a list, most recent first) over a long
    /// pseudo-random run of gets and puts on a few keys.
    #[test]
    fn the_caches_evict_exactly_what_a_plain_lru_would() {
        for capacity in [1, 2, 7] {
            let mut lru = Lru::new(capacity);
            let mut plain: Vec<(u64, u32)> = Vec::new();
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            for step in 0..20_000u32 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let key = x % 11;
                let at = plain.iter().position(|(k, _)| *k == key);
                if x.is_multiple_of(3) {
                    let want = at.map(|i| plain.remove(i));
                    if let Some(e) = want {
                        plain.insert(0, e);
                    }
                    assert_eq!(lru.get(key), want.map(|(_, v)| v), "step {step}");
                } else {
                    if let Some(i) = at {
                        plain.remove(i);
                    }
                    plain.insert(0, (key, step));
                    plain.truncate(capacity);
                    lru.put(key, step);
                }
                assert_eq!(lru.len(), plain.len());
            }
        }
    }

    /// Each of the three caches holds thousands of entries: an observed event keeps the time
    /// its name was made of, not the name.
    #[test]
    fn a_cache_entry_stays_small() {
        assert!(std::mem::size_of::<Node<Logged>>() <= 48);
        assert!(std::mem::size_of::<Node<Aggregate>>() <= 64);
        assert!(std::mem::size_of::<Node<Bucket>>() <= 48);
    }

    #[test]
    fn the_caches_keep_the_most_recently_used_entries() {
        let mut lru = Lru::new(2);
        lru.put(1, "a");
        lru.put(2, "b");
        assert_eq!(lru.get(1), Some("a"));
        lru.put(3, "c");
        assert_eq!(
            (lru.get(1), lru.get(2), lru.get(3)),
            (Some("a"), None, Some("c"))
        );
        assert_eq!(lru.len(), 2);
    }
}
