//! Closed-loop load: N clients, each on its own keep-alive connection, sending the next request
//! as soon as the previous response (body included) arrived. A warm-up, then a fixed window;
//! throughput counts requests started inside the window, latency is send → last body byte.

use crate::client::{configmap, Conn};
use crate::stats::{cpu_us, ms, record, Latencies};
use anyhow::{bail, Result};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What each request of a load run is.
#[derive(Clone)]
enum Op {
    Get(Arc<str>),
    /// POST a new ConfigMap named `<prefix>-<client>-<n>` into `path`.
    Create {
        path: Arc<str>,
        prefix: Arc<str>,
    },
}

/// One measurement window's raw figures (several windows merge into one `Outcome`).
#[derive(Default)]
struct Raw {
    lat: Vec<u64>,
    secs: f64,
    /// CPU µs used in the window by the server (when its pid is known) and by this client.
    server_cpu: Option<u64>,
    client_cpu: Option<u64>,
}

impl Raw {
    fn merge(&mut self, o: Raw) {
        let first = self.secs == 0.0;
        self.lat.extend(o.lat);
        self.secs += o.secs;
        // A CPU figure missing from any window makes the total unknown.
        let sum = |a: Option<u64>, b: Option<u64>| if first { b } else { Some(a? + b?) };
        self.server_cpu = sum(self.server_cpu, o.server_cpu);
        self.client_cpu = sum(self.client_cpu, o.client_cpu);
    }

    fn outcome(self) -> Outcome {
        let n = self.lat.len().max(1) as f64;
        Outcome {
            rps: self.lat.len() as f64 / self.secs,
            server_cpu_us: self.server_cpu.map(|c| c as f64 / n),
            client_cpu_us: self.client_cpu.map(|c| c as f64 / n),
            lat: Latencies::new(self.lat),
        }
    }
}

pub struct Outcome {
    pub rps: f64,
    pub lat: Latencies,
    /// Server CPU time per request in the window, µs (when the server's pid is known).
    pub server_cpu_us: Option<f64>,
    /// This (client) process's CPU time per request in the window, µs.
    pub client_cpu_us: Option<f64>,
}

async fn run(
    addr: SocketAddr,
    server_pid: Option<u32>,
    op: Op,
    clients: usize,
    warmup: Duration,
    window: Duration,
) -> Result<Raw> {
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        conns.push(Conn::connect(addr).await?);
    }
    let start = Instant::now() + Duration::from_millis(20);
    let from = start + warmup;
    let until = from + window;
    let mut tasks = Vec::with_capacity(clients);
    for (c, mut conn) in conns.into_iter().enumerate() {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(start.into()).await;
            let mut lat = Vec::with_capacity(1 << 14);
            let mut n = 0u64;
            loop {
                let (method, path, body, want) = match &op {
                    Op::Get(p) => (Method::GET, &**p, None, StatusCode::OK),
                    Op::Create { path, prefix } => {
                        n += 1;
                        let body = configmap(&format!("{prefix}-{c}-{n}"), 64);
                        (Method::POST, &**path, Some(body), StatusCode::CREATED)
                    }
                };
                let t0 = Instant::now();
                if t0 >= until {
                    break;
                }
                conn.expect(method, path, body, want).await?;
                if t0 >= from {
                    lat.push(t0.elapsed().as_micros() as u64);
                }
            }
            anyhow::Ok(lat)
        }));
    }
    // CPU used by the server and by this client inside the measurement window.
    tokio::time::sleep_until(from.into()).await;
    let me = std::process::id();
    let cpu0 = (server_pid.and_then(cpu_us), cpu_us(me));
    tokio::time::sleep_until(until.into()).await;
    let cpu1 = (server_pid.and_then(cpu_us), cpu_us(me));
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    if all.is_empty() {
        bail!("no request completed in the measurement window");
    }
    let delta = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?));
    Ok(Raw {
        lat: all,
        secs: window.as_secs_f64(),
        server_cpu: delta(cpu0.0, cpu1.0),
        client_cpu: delta(cpu0.1, cpu1.1),
    })
}

/// Create the object the GET phase reads; return its JSON as GET returns it.
pub async fn prepare(url: &str, name: &str) -> Result<Bytes> {
    let mut c = Conn::connect(crate::client::addr_of(url)?).await?;
    let coll = "/api/v1/namespaces/default/configmaps";
    // A ConfigMap of a typical size (about 1 KiB on the wire).
    c.expect(
        Method::POST,
        coll,
        Some(configmap(name, 700)),
        StatusCode::CREATED,
    )
    .await?;
    c.expect(Method::GET, &format!("{coll}/{name}"), None, StatusCode::OK)
        .await
}

/// "server x µs + client y µs CPU per request" when known.
fn cpu_note(o: &Outcome) -> String {
    match (o.server_cpu_us, o.client_cpu_us) {
        (Some(s), Some(c)) => format!("CPU/request: server {s:.1} µs, client {c:.1} µs"),
        (None, Some(c)) => format!("CPU/request: client {c:.1} µs"),
        _ => String::new(),
    }
}

/// A server the GET phase measures.
pub struct GetTarget {
    pub name: String,
    pub url: String,
    pub pid: Option<u32>,
}

/// GET at each client count, alternating between the targets in `slices` short windows
/// (each preceded by its own warm-up) so that background load on a shared machine hits
/// every target alike; each target gets `window` of measurement in total.
pub async fn get(
    targets: &[GetTarget],
    path: &str,
    concurrency: &[usize],
    warmup: Duration,
    window: Duration,
    slices: u32,
    results: &Path,
) -> Result<()> {
    let slices = slices.max(1);
    for &n in concurrency {
        let mut raws: Vec<Raw> = targets.iter().map(|_| Raw::default()).collect();
        for _ in 0..slices {
            for (t, raw) in targets.iter().zip(raws.iter_mut()) {
                let addr = crate::client::addr_of(&t.url)?;
                let op = Op::Get(Arc::from(path));
                raw.merge(run(addr, t.pid, op, n, warmup, window / slices).await?);
            }
        }
        for (t, raw) in targets.iter().zip(raws) {
            let o = raw.outcome();
            println!(
                "GET {:<9} clients={n:<3} {:>7.0} req/s  p50 {:>6} ms  p99 {:>6} ms  {}",
                t.name,
                o.rps,
                ms(o.lat.quantile(0.5)),
                ms(o.lat.quantile(0.99)),
                cpu_note(&o)
            );
            record(
                results,
                &json!({"phase": "get", "target": t.name, "clients": n, "rps": o.rps,
                        "p50_us": o.lat.quantile(0.5), "p99_us": o.lat.quantile(0.99),
                        "requests": o.lat.len(), "server_cpu_us": o.server_cpu_us,
                        "client_cpu_us": o.client_cpu_us}),
            )?;
        }
    }
    Ok(())
}

pub async fn create(
    url: &str,
    server_pid: Option<u32>,
    clients: usize,
    warmup: Duration,
    window: Duration,
    results: &Path,
) -> Result<()> {
    let addr = crate::client::addr_of(url)?;
    let op = Op::Create {
        path: Arc::from("/api/v1/namespaces/default/configmaps"),
        // Unique per run, so the phase can be repeated against one server.
        prefix: Arc::from(format!("bench-create-{}", std::process::id())),
    };
    let o = run(addr, server_pid, op, clients, warmup, window)
        .await?
        .outcome();
    println!(
        "CREATE    clients={clients:<3} {:>7.0} creates/s  p50 {:>6} ms  p99 {:>6} ms  {} (each 201 after its flush)",
        o.rps,
        ms(o.lat.quantile(0.5)),
        ms(o.lat.quantile(0.99)),
        cpu_note(&o)
    );
    record(
        results,
        &json!({"phase": "create", "clients": clients, "rps": o.rps,
                "p50_us": o.lat.quantile(0.5), "p99_us": o.lat.quantile(0.99),
                "requests": o.lat.len(), "server_cpu_us": o.server_cpu_us,
                "client_cpu_us": o.client_cpu_us}),
    )
}
