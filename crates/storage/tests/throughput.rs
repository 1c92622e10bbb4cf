//! Ignored benchmarks (run with `cargo test --release -p storage --test throughput -- --ignored
//! --nocapture`): durable creates per second with 64 concurrent writers, and watch fan-out
//! latency with 1,000 watchers, and the raw cost of a create (no durable wait).

use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage::{SledStorage, Storage};

fn pod(key: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": key, "namespace": "default", "uid": "0f8d6b7e-1a2b-4c3d-9e8f-112233445566", "labels": {"app": "bench"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}})
}

async fn run_writers(s: Arc<SledStorage>, writers: usize, each: usize, tag: &str) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (s, tag) = (Arc::clone(&s), tag.to_owned());
        tasks.push(tokio::spawn(async move {
            for i in 0..each {
                let key = format!("/core/pods/{tag}{w}/p{i}");
                let rv = s.create(&key, pod(&key)).unwrap().rv;
                s.durable(rv).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn durable_creates_per_second_64_writers() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(SledStorage::open(dir.path()).unwrap());
    run_writers(Arc::clone(&s), 64, 20, "warm").await;
    let (writers, each) = (64, 500);
    let flushes = s.flush_count();
    let cpu0 = cpu();
    let took = run_writers(Arc::clone(&s), writers, each, "ns").await;
    let n = writers * each;
    println!(
        "durable creates: {n} in {:.2?} = {:.0}/s with {writers} writers; {} flushes ({:.1} writes/flush); \
         process cpu {:.2?}",
        took,
        n as f64 / took.as_secs_f64(),
        s.flush_count() - flushes,
        n as f64 / (s.flush_count() - flushes) as f64,
        cpu() - cpu0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn watch_fanout_latency_1000_watchers() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(SledStorage::open(dir.path()).unwrap());
    let (watchers, writers, each) = (1000, 64, 50);
    let total = writers * each;
    let start_rv = s.current_rv();
    // rv -> time the write returned (events are only delivered after the flush, later).
    let sent: Arc<Vec<std::sync::OnceLock<Instant>>> =
        Arc::new((0..total + 1).map(|_| std::sync::OnceLock::new()).collect());
    let mut tasks = Vec::new();
    for i in 0..watchers {
        // Half watch the whole collection, half one writer's namespace.
        let prefix = if i % 2 == 0 {
            "/core/pods/".to_owned()
        } else {
            format!("/core/pods/ns{}/", i % writers)
        };
        let expect = if i % 2 == 0 { total } else { each };
        let mut w = s.watch(&prefix, start_rv).unwrap();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::with_capacity(expect / 8 + 1);
            for n in 0..expect {
                let ev = w.rx.recv().await.unwrap().unwrap();
                if n % 8 == 0 {
                    got.push((ev.rv, Instant::now()));
                }
            }
            got
        }));
    }
    let start = Instant::now();
    let mut ws = Vec::new();
    for w in 0..writers {
        let (s, sent) = (Arc::clone(&s), Arc::clone(&sent));
        ws.push(tokio::spawn(async move {
            for i in 0..each {
                let key = format!("/core/pods/ns{w}/p{i}");
                let rv = s.create(&key, pod(&key)).unwrap().rv;
                let _ = sent[(rv - start_rv) as usize].set(Instant::now());
                s.durable(rv).await.unwrap();
            }
        }));
    }
    for w in ws {
        w.await.unwrap();
    }
    let write_time = start.elapsed();
    let mut lat = Vec::new();
    for t in tasks {
        for (rv, at) in t.await.unwrap() {
            let sent_at = sent[(rv - start_rv) as usize].get().copied().unwrap_or(at);
            lat.push(at.saturating_duration_since(sent_at));
        }
    }
    let all_done = start.elapsed();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize];
    println!(
        "{watchers} watchers, {total} durable creates by {writers} writers: writes {:.0}/s, all delivered in {:.2?}; \
         write->watcher latency p50 {:.2?} p99 {:.2?} max {:.2?} ({} samples)",
        total as f64 / write_time.as_secs_f64(),
        all_done,
        pct(0.5),
        pct(0.99),
        lat[lat.len() - 1],
        lat.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn raw_create_cost() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(SledStorage::open(dir.path()).unwrap());
    let m = storage::MemoryStorage::new();
    for (name, st) in [
        ("sled", &*s as &dyn Storage),
        ("memory", &m as &dyn Storage),
    ] {
        let start = Instant::now();
        let n = 20000;
        for i in 0..n {
            let key = format!("/core/pods/x/p{i}");
            st.create(&key, pod(&key)).unwrap();
        }
        println!(
            "{name}: {:.1?} per create (no durable wait)",
            start.elapsed() / n
        );
    }
}

/// User + system CPU time of this process so far (Linux `/proc/self/stat`, 100 Hz ticks).
fn cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}
