//! Time for the simulation: the `Clock` seam (system or fake) plus waiting until an instant, so
//! tests move a `FakeClock` forward instead of sleeping.

use apimachinery::clock::{Clock, FakeClock, SystemClock};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// A clock the simulation reads and waits on.
#[derive(Clone)]
pub struct SimClock {
    clock: Arc<dyn Clock>,
    fake: Option<Arc<FakeClock>>,
    /// Bumped whenever the fake clock moves, so waiters re-check it.
    moved: watch::Sender<u64>,
}

impl SimClock {
    pub fn system() -> SimClock {
        SimClock {
            clock: Arc::new(SystemClock),
            fake: None,
            moved: watch::channel(0).0,
        }
    }

    /// A clock that moves only through `advance` (the same `FakeClock` can drive the API server).
    pub fn fake(clock: Arc<FakeClock>) -> SimClock {
        SimClock {
            clock: clock.clone(),
            fake: Some(clock),
            moved: watch::channel(0).0,
        }
    }

    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// The underlying clock (to share with other components).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub fn is_fake(&self) -> bool {
        self.fake.is_some()
    }

    /// Move a fake clock forward and wake everyone waiting on it (no-op for the system clock).
    pub fn advance(&self, d: Duration) {
        if let Some(f) = &self.fake {
            f.advance(d);
            self.moved.send_modify(|n| *n += 1);
        }
    }

    /// Resolve once the clock reads `t` or later.
    pub async fn sleep_until(&self, t: SystemTime) {
        let mut rx = self.moved.subscribe();
        loop {
            let now = self.now();
            let Ok(left) = t.duration_since(now) else {
                return;
            };
            if left.is_zero() {
                return;
            }
            if self.fake.is_some() {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            } else {
                tokio::time::sleep(left).await;
            }
        }
    }

    pub async fn sleep(&self, d: Duration) {
        self.sleep_until(self.now() + d).await;
    }
}

impl std::fmt::Debug for SimClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SimClock({})",
            if self.fake.is_some() {
                "fake"
            } else {
                "system"
            }
        )
    }
}

/// Go's `time.Duration.String()` (`1.5s`, `350ms`, `2m30s`, `0s`), as upstream messages print it.
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    let trim = |whole: u128, frac: u128, width: usize, unit: &str| {
        let mut s = whole.to_string();
        if frac > 0 {
            let f = format!("{frac:0width$}");
            s.push('.');
            s.push_str(f.trim_end_matches('0'));
        }
        s.push_str(unit);
        s
    };
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return trim(nanos / 1_000, nanos % 1_000, 3, "µs");
    }
    if nanos < 1_000_000_000 {
        return trim(nanos / 1_000_000, nanos % 1_000_000, 6, "ms");
    }
    let secs = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&trim(s, frac, 9, "s"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_duration_prints_like_go() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_millis(350), "350ms"),
            (Duration::from_micros(1_500), "1.5ms"),
            (Duration::from_millis(1_234), "1.234s"),
            (Duration::from_secs(10), "10s"),
            (Duration::from_secs(80), "1m20s"),
            (Duration::from_secs(300), "5m0s"),
            (Duration::from_secs(3_700), "1h1m40s"),
        ];
        for (d, want) in cases {
            assert_eq!(go_duration(d), want, "{d:?}");
        }
    }

    #[tokio::test]
    async fn a_fake_clock_wakes_sleepers_only_when_advanced() {
        let clock = SimClock::fake(Arc::new(FakeClock::at(SystemTime::UNIX_EPOCH)));
        let c = clock.clone();
        let t = tokio::spawn(async move { c.sleep(Duration::from_secs(10)).await });
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(5));
        tokio::task::yield_now().await;
        assert!(!t.is_finished());
        clock.advance(Duration::from_secs(5));
        tokio::time::timeout(Duration::from_secs(5), t)
            .await
            .unwrap()
            .unwrap();
    }
}
