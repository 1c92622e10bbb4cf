//! The work queue behind every controller (client-go's rate-limited delaying queue): a key is
//! queued at most once, never processed by two workers at once (a key added while it is being
//! processed runs again afterwards), and may be re-added after a delay measured on the `Clock`,
//! so a fake clock drives requeues (progress deadlines, minReadySeconds) without sleeping.

use apimachinery::clock::Clock;
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::Notify;

/// How often delayed keys are checked against the clock.
const TICK: Duration = Duration::from_millis(100);
/// Per-key failure backoff: 5ms doubling, capped (client-go's item exponential limiter, with a
/// lower cap so a transient API error never stalls a controller for long).
const BACKOFF_BASE: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

#[derive(Default)]
struct State {
    order: VecDeque<String>,
    queued: HashSet<String>,
    processing: HashSet<String>,
    dirty: HashSet<String>,
    delayed: Vec<(SystemTime, String)>,
    failures: HashMap<String, u32>,
}

pub struct Queue {
    state: Mutex<State>,
    notify: Notify,
    clock: Arc<dyn Clock>,
}

impl Queue {
    pub fn new(clock: Arc<dyn Clock>) -> Arc<Queue> {
        Arc::new(Queue {
            state: Mutex::new(State::default()),
            notify: Notify::new(),
            clock,
        })
    }

    /// Queue `key` now.
    pub fn add(&self, key: impl Into<String>) {
        let key = key.into();
        let mut s = self.state.lock().expect("queue lock");
        Self::push(&mut s, key);
        drop(s);
        self.notify.notify_one();
    }

    fn push(s: &mut State, key: String) {
        if s.processing.contains(&key) {
            s.dirty.insert(key);
        } else if s.queued.insert(key.clone()) {
            s.order.push_back(key);
        }
    }

    /// Queue `key` once `after` has passed on the clock.
    pub fn add_after(&self, key: impl Into<String>, after: Duration) {
        if after.is_zero() {
            return self.add(key);
        }
        let due = self.clock.now() + after;
        let key = key.into();
        let mut s = self.state.lock().expect("queue lock");
        if let Some(slot) = s.delayed.iter_mut().find(|(_, k)| *k == key) {
            slot.0 = slot.0.min(due);
        } else {
            s.delayed.push((due, key));
        }
    }

    /// Queue `key` after its failure backoff, and count the failure.
    pub fn add_rate_limited(&self, key: &str) {
        let n = {
            let mut s = self.state.lock().expect("queue lock");
            let n = s.failures.entry(key.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let delay = BACKOFF_BASE
            .saturating_mul(1u32 << (n - 1).min(20))
            .min(BACKOFF_MAX);
        self.add_after(key, delay);
    }

    /// Reset the failure backoff of `key`.
    pub fn forget(&self, key: &str) {
        self.state.lock().expect("queue lock").failures.remove(key);
    }

    fn promote_due(&self) {
        let now = self.clock.now();
        let mut s = self.state.lock().expect("queue lock");
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut s.delayed)
            .into_iter()
            .partition(|(t, _)| *t <= now);
        s.delayed = later;
        for (_, k) in due {
            Self::push(&mut s, k);
        }
    }

    /// Wait for the next key and mark it as being processed.
    pub async fn next(&self) -> String {
        loop {
            self.promote_due();
            {
                let mut s = self.state.lock().expect("queue lock");
                if let Some(k) = s.order.pop_front() {
                    s.queued.remove(&k);
                    s.processing.insert(k.clone());
                    return k;
                }
            }
            tokio::select! {
                _ = self.notify.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
            }
        }
    }

    /// The worker is done with `key`; if it was added meanwhile, queue it again.
    pub fn done(&self, key: &str) {
        let mut s = self.state.lock().expect("queue lock");
        s.processing.remove(key);
        if s.dirty.remove(key) {
            Self::push(&mut s, key.to_string());
            drop(s);
            self.notify.notify_one();
        }
    }

    /// Number of keys waiting (not delayed, not processing).
    pub fn len(&self) -> usize {
        self.state.lock().expect("queue lock").order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Run `workers` loops taking keys from `queue` and reconciling them. `reconcile` returns
/// `Ok(Some(d))` to look at the key again after `d`; an error requeues it with backoff.
pub async fn run_workers<F, Fut>(
    queue: Arc<Queue>,
    workers: usize,
    name: &'static str,
    reconcile: F,
) where
    F: Fn(String) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<Option<Duration>>> + Send,
{
    // A JoinSet, so dropping this future stops the workers too.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers.max(1) {
        let queue = queue.clone();
        let reconcile = reconcile.clone();
        tasks.spawn(async move {
            loop {
                let key = queue.next().await;
                match reconcile(key.clone()).await {
                    Ok(requeue) => {
                        queue.forget(&key);
                        if let Some(d) = requeue {
                            queue.add_after(key.clone(), d);
                        }
                    }
                    Err(e) => {
                        tracing::debug!(controller = name, key = %key, error = %e, "sync failed; retrying");
                        queue.add_rate_limited(&key);
                    }
                }
                queue.done(&key);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::clock::{FakeClock, SystemClock};
    use std::time::UNIX_EPOCH;

    #[tokio::test]
    async fn a_key_is_queued_once_until_taken() {
        let q = Queue::new(Arc::new(SystemClock));
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.len(), 2);
        assert_eq!(q.next().await, "a");
        assert_eq!(q.next().await, "b");
    }

    #[tokio::test]
    async fn a_key_added_while_processing_runs_again_after_done() {
        let q = Queue::new(Arc::new(SystemClock));
        q.add("a");
        let k = q.next().await;
        q.add("a");
        assert!(
            q.is_empty(),
            "not handed to a second worker while processing"
        );
        q.done(&k);
        assert_eq!(q.len(), 1);
    }

    #[tokio::test]
    async fn delayed_keys_follow_the_fake_clock() {
        let clock = Arc::new(FakeClock::at(UNIX_EPOCH + Duration::from_secs(1000)));
        let q = Queue::new(clock.clone());
        q.add_after("a", Duration::from_secs(60));
        q.promote_due();
        assert!(q.is_empty());
        clock.advance(Duration::from_secs(61));
        let got = tokio::time::timeout(Duration::from_secs(2), q.next()).await;
        assert_eq!(got.ok().as_deref(), Some("a"));
    }
}
