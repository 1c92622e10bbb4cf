//! Expectations (client-go `ControllerExpectations`, tracked by name): the pods an owner has
//! created or deleted and not yet seen in its informer, so a level-triggered sync never acts
//! on a cache that lags behind its own writes (no double creates, no double deletes). An
//! owner's expectations are satisfied once every name has been observed, or after 5 minutes.

use apimachinery::clock::Clock;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Upstream's `ExpectationsTimeout`.
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// How the informer's store sees a pod right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Absent,
    Present,
    Deleting,
}

#[derive(Default)]
struct Entry {
    in_flight: u32,
    adds: HashSet<String>,
    dels: HashSet<String>,
    since: Option<SystemTime>,
}

pub struct Expectations {
    inner: Mutex<HashMap<String, Entry>>,
    clock: Arc<dyn Clock>,
}

impl Expectations {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Expectations {
            inner: Mutex::new(HashMap::new()),
            clock,
        }
    }

    fn with<R>(&self, key: &str, f: impl FnOnce(&mut Entry) -> R) -> R {
        let mut m = self.inner.lock().expect("expectations lock");
        let e = m.entry(key.to_string()).or_default();
        f(e)
    }

    /// `n` creates are about to be sent.
    pub fn expect_creations(&self, key: &str, n: u32) {
        let now = self.clock.now();
        self.with(key, |e| {
            e.in_flight += n;
            e.since = Some(now);
        });
    }

    /// A create succeeded with this name.
    pub fn created(&self, key: &str, name: &str) {
        self.with(key, |e| {
            e.in_flight = e.in_flight.saturating_sub(1);
            e.adds.insert(name.to_string());
        });
    }

    /// A create failed or was skipped: nothing will be observed for it.
    pub fn creation_skipped(&self, key: &str, n: u32) {
        self.with(key, |e| e.in_flight = e.in_flight.saturating_sub(n));
    }

    /// A delete of `name` is about to be sent.
    pub fn expect_deletion(&self, key: &str, name: &str) {
        let now = self.clock.now();
        self.with(key, |e| {
            e.dels.insert(name.to_string());
            e.since = Some(now);
        });
    }

    /// A delete failed: its deletion will not be observed.
    pub fn deletion_failed(&self, key: &str, name: &str) {
        self.with(key, |e| {
            e.dels.remove(name);
        });
    }

    /// The informer saw `name` (owned by `key`) in the given state.
    pub fn observe(&self, key: &str, name: &str, seen: Seen) {
        let mut m = self.inner.lock().expect("expectations lock");
        if let Some(e) = m.get_mut(key) {
            if seen != Seen::Absent {
                e.adds.remove(name);
            }
            if seen != Seen::Present {
                e.dels.remove(name);
                e.adds.remove(name);
            }
        }
    }

    /// Whether the owner may act: everything expected has been observed (checked against the
    /// store through `seen`), or the expectations expired.
    pub fn satisfied(&self, key: &str, seen: impl Fn(&str) -> Seen) -> bool {
        let now = self.clock.now();
        let mut m = self.inner.lock().expect("expectations lock");
        let Some(e) = m.get_mut(key) else {
            return true;
        };
        e.adds.retain(|n| seen(n) == Seen::Absent);
        e.dels.retain(|n| seen(n) == Seen::Present);
        let fulfilled = e.in_flight == 0 && e.adds.is_empty() && e.dels.is_empty();
        let expired = e
            .since
            .is_some_and(|t| now.duration_since(t).unwrap_or_default() > EXPECTATIONS_TIMEOUT);
        if fulfilled || expired {
            m.remove(key);
            true
        } else {
            false
        }
    }

    /// Forget an owner (it was deleted).
    pub fn delete(&self, key: &str) {
        self.inner.lock().expect("expectations lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::clock::FakeClock;
    use std::time::UNIX_EPOCH;

    fn exp() -> (Arc<FakeClock>, Expectations) {
        let c = Arc::new(FakeClock::at(UNIX_EPOCH + Duration::from_secs(1000)));
        (c.clone(), Expectations::new(c))
    }

    #[test]
    fn creates_are_expected_until_the_store_shows_them() {
        let (_, e) = exp();
        e.expect_creations("ns/rs", 2);
        e.created("ns/rs", "a");
        e.created("ns/rs", "b");
        assert!(!e.satisfied("ns/rs", |_| Seen::Absent));
        e.observe("ns/rs", "a", Seen::Present);
        assert!(!e.satisfied("ns/rs", |n| if n == "b" {
            Seen::Absent
        } else {
            Seen::Present
        }));
        assert!(e.satisfied("ns/rs", |_| Seen::Present));
    }

    #[test]
    fn deletes_are_expected_until_the_pod_is_gone_or_deleting() {
        let (_, e) = exp();
        e.expect_deletion("k", "a");
        assert!(!e.satisfied("k", |_| Seen::Present));
        assert!(e.satisfied("k", |_| Seen::Deleting));
    }

    #[test]
    fn failed_operations_are_not_waited_for() {
        let (_, e) = exp();
        e.expect_creations("k", 3);
        e.creation_skipped("k", 3);
        e.expect_deletion("k", "x");
        e.deletion_failed("k", "x");
        assert!(e.satisfied("k", |_| Seen::Present));
    }

    #[test]
    fn expectations_expire_after_five_minutes() {
        let (c, e) = exp();
        e.expect_creations("k", 1);
        e.created("k", "a");
        assert!(!e.satisfied("k", |_| Seen::Absent));
        c.advance(EXPECTATIONS_TIMEOUT + Duration::from_secs(1));
        assert!(e.satisfied("k", |_| Seen::Absent));
    }

    #[test]
    fn an_owner_without_expectations_is_satisfied() {
        let (_, e) = exp();
        assert!(e.satisfied("nobody", |_| Seen::Absent));
    }
}
