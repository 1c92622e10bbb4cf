//! The kubelet's back-off (`flowcontrol.Backoff`, used for image pulls and crash loops): 10 s,
//! doubled on each failure up to 300 s, forgotten after `2 × max` without an update.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

pub const INITIAL: Duration = Duration::from_secs(10);
pub const MAX: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, Debug)]
struct Entry {
    backoff: Duration,
    last_update: SystemTime,
}

/// Per-key back-off, keyed as upstream does (`<podUID>_<image>` for pulls,
/// `<pod>_<ns>_<uid>_<container>` for restarts).
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    entries: HashMap<String, Entry>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(INITIAL, MAX)
    }
}

fn since(later: SystemTime, earlier: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or_default()
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max,
            entries: HashMap::new(),
        }
    }

    fn expired(&self, event: SystemTime, e: &Entry) -> bool {
        since(event, e.last_update) > self.max * 2
    }

    /// Record a failure at `now`: start at the initial delay, or double (up to the max).
    pub fn next(&mut self, key: &str, now: SystemTime) {
        let fresh = match self.entries.get(key) {
            None => true,
            Some(e) => self.expired(now, e),
        };
        let backoff = if fresh {
            self.initial
        } else {
            (self.entries[key].backoff * 2).min(self.max)
        };
        self.entries.insert(
            key.to_string(),
            Entry {
                backoff,
                last_update: now,
            },
        );
    }

    /// The current delay of a key (zero when it has none).
    pub fn get(&self, key: &str) -> Duration {
        self.entries.get(key).map(|e| e.backoff).unwrap_or_default()
    }

    /// `IsInBackOffSince`: whether less than the delay has passed between `event` and `now`.
    pub fn in_backoff_since(&self, key: &str, event: SystemTime, now: SystemTime) -> bool {
        match self.entries.get(key) {
            None => false,
            Some(e) if self.expired(event, e) => false,
            Some(e) => since(now, event) < e.backoff,
        }
    }

    /// `IsInBackOffSinceUpdate`: whether `now` is still within the delay after the last failure.
    pub fn in_backoff_since_update(&self, key: &str, now: SystemTime) -> bool {
        match self.entries.get(key) {
            None => false,
            Some(e) if self.expired(now, e) => false,
            Some(e) => since(now, e.last_update) < e.backoff,
        }
    }

    /// When the delay after the last failure ends.
    pub fn until(&self, key: &str) -> Option<SystemTime> {
        self.entries.get(key).map(|e| e.last_update + e.backoff)
    }

    pub fn forget(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// Forget every key that starts with `prefix` (a pod that is gone).
    pub fn forget_prefix(&mut self, prefix: &str) {
        self.entries.retain(|k, _| !k.starts_with(prefix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn delays_double_from_ten_seconds_up_to_five_minutes() {
        let mut b = Backoff::default();
        let mut seen = Vec::new();
        for now in 0..7 {
            b.next("k", t(now));
            seen.push(b.get("k").as_secs());
        }
        assert_eq!(seen, [10, 20, 40, 80, 160, 300, 300]);
    }

    #[test]
    fn in_backoff_since_update_is_true_only_within_the_delay() {
        let mut b = Backoff::default();
        assert!(!b.in_backoff_since_update("k", t(0)));
        b.next("k", t(100));
        let cases = [(100, true), (109, true), (110, false), (200, false)];
        for (now, want) in cases {
            assert_eq!(b.in_backoff_since_update("k", t(now)), want, "at {now}");
        }
        assert_eq!(b.until("k"), Some(t(110)));
    }

    #[test]
    fn in_backoff_since_measures_from_the_event() {
        let mut b = Backoff::default();
        b.next("k", t(0));
        b.next("k", t(5)); // 20 s now
        assert!(b.in_backoff_since("k", t(10), t(29)));
        assert!(!b.in_backoff_since("k", t(10), t(30)));
    }

    #[test]
    fn an_entry_is_forgotten_after_twice_the_max_without_updates() {
        let mut b = Backoff::default();
        b.next("k", t(0));
        b.next("k", t(1));
        assert_eq!(b.get("k"), Duration::from_secs(20));
        b.next("k", t(1 + 601));
        assert_eq!(b.get("k"), Duration::from_secs(10));
        b.forget_prefix("k");
        assert_eq!(b.get("k"), Duration::ZERO);
    }
}
