//! Watch fan-out latency: open W watch streams from one resourceVersion, then make spaced
//! creates; for every watcher and every write, the time from the write's request being sent
//! to that watcher receiving the event's bytes.

use crate::client::{addr_of, configmap, Conn};
use crate::stats::{cpu_us, ms, record, Latencies};
use anyhow::{bail, Context, Result};
use bytes::BytesMut;
use http_body_util::BodyExt;
use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};

const COLL: &str = "/api/v1/namespaces/default/configmaps";
/// The write index in an event line (`..."name":"<prefix><i>"...`).
fn write_index(line: &[u8], prefix: &str) -> Option<usize> {
    let p = prefix.as_bytes();
    let at = line.windows(p.len()).position(|w| w == p)? + p.len();
    let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&line[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

pub async fn run(
    url: &str,
    server_pid: Option<u32>,
    watchers: usize,
    writes: usize,
    interval: Duration,
    results: &Path,
) -> Result<()> {
    let addr = addr_of(url)?;
    // Unique per run, so the phase can be repeated against one server.
    let prefix: Arc<str> = Arc::from(format!("watch-bench-{}-", std::process::id()));
    let mut c = Conn::connect(addr).await?;
    let list: Value = serde_json::from_slice(
        &c.expect(
            Method::GET,
            &format!("{COLL}?limit=1"),
            None,
            StatusCode::OK,
        )
        .await?,
    )?;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .context("list without resourceVersion")?
        .to_string();

    // Open the watchers (a few connects at a time); each reports once its response head came.
    let open_started = Instant::now();
    let gate = Arc::new(Semaphore::new(64));
    let (ready_tx, mut ready_rx) = mpsc::channel::<Result<()>>(watchers);
    let deadline = Arc::new(std::sync::OnceLock::<Instant>::new());
    let mut tasks = Vec::with_capacity(watchers);
    for _ in 0..watchers {
        let gate = Arc::clone(&gate);
        let ready_tx = ready_tx.clone();
        let deadline = Arc::clone(&deadline);
        let path = format!("{COLL}?watch=true&resourceVersion={rv}");
        let prefix = Arc::clone(&prefix);
        tasks.push(tokio::spawn(async move {
            let mut got: Vec<Option<Instant>> = vec![None; writes];
            let opened = async {
                let _permit = gate.acquire().await?;
                let mut conn = Conn::connect(addr).await?;
                let resp = conn.send(Method::GET, &path, None).await?;
                if resp.status() != StatusCode::OK {
                    bail!("watch answered {}", resp.status());
                }
                anyhow::Ok((conn, resp.into_body()))
            }
            .await;
            let (_conn, mut body) = match opened {
                Ok(x) => {
                    let _ = ready_tx.send(Ok(())).await;
                    x
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e)).await;
                    return got;
                }
            };
            drop(ready_tx);
            let mut buf = BytesMut::new();
            let mut left = writes;
            while left > 0 {
                let frame = match deadline.get() {
                    Some(d) => match tokio::time::timeout_at((*d).into(), body.frame()).await {
                        Ok(f) => f,
                        Err(_) => break,
                    },
                    None => body.frame().await,
                };
                let Some(Ok(frame)) = frame else { break };
                let now = Instant::now();
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                buf.extend_from_slice(&data);
                while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                    let line = buf.split_to(nl + 1);
                    if let Some(i) = write_index(&line, &prefix).filter(|&i| i < writes) {
                        if got[i].is_none() {
                            got[i] = Some(now);
                            left -= 1;
                        }
                    }
                }
            }
            got
        }));
    }
    drop(ready_tx);
    let mut open = 0;
    while let Some(r) = ready_rx.recv().await {
        r.context("opening a watch")?;
        open += 1;
    }
    if open != watchers {
        bail!("only {open} of {watchers} watches opened");
    }
    println!(
        "WATCH     {watchers} watches open from rv {rv} in {:.2} s",
        open_started.elapsed().as_secs_f64()
    );
    // Let the server's watch tasks settle before the first write.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The writes: one connection each, sent on a fixed schedule.
    let mut writers = Vec::with_capacity(writes);
    for _ in 0..writes {
        writers.push(Conn::connect(addr).await?);
    }
    let me = std::process::id();
    let cpu0 = (server_pid.and_then(cpu_us), cpu_us(me));
    let t0 = Instant::now() + Duration::from_millis(10);
    let mut sends = Vec::with_capacity(writes);
    for (i, mut w) in writers.into_iter().enumerate() {
        let at = t0 + interval * i as u32;
        let prefix = Arc::clone(&prefix);
        sends.push(tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let body = configmap(&format!("{prefix}{i}"), 64);
            let sent = Instant::now();
            w.expect(Method::POST, COLL, Some(body), StatusCode::CREATED)
                .await?;
            anyhow::Ok((sent, sent.elapsed()))
        }));
    }
    let mut sent_at = Vec::with_capacity(writes);
    let mut acks = Vec::with_capacity(writes);
    for s in sends {
        let (sent, ack) = s.await??;
        sent_at.push(sent);
        acks.push(ack.as_micros() as u64);
    }
    let _ = deadline.set(Instant::now() + Duration::from_secs(5));
    let mut lat = Vec::with_capacity(watchers * writes);
    let mut missing = 0usize;
    for t in tasks {
        for (i, got) in t.await?.into_iter().enumerate() {
            match got {
                Some(at) => lat.push(at.saturating_duration_since(sent_at[i]).as_micros() as u64),
                None => missing += 1,
            }
        }
    }
    let cpu1 = (server_pid.and_then(cpu_us), cpu_us(me));
    // CPU per delivery over the write phase (the writes themselves included).
    let per = |a: Option<u64>, b: Option<u64>| {
        Some(b?.saturating_sub(a?) as f64 / lat.len().max(1) as f64)
    };
    let (server_cpu, client_cpu) = (per(cpu0.0, cpu1.0), per(cpu0.1, cpu1.1));
    let lat = Latencies::new(lat);
    let acks = Latencies::new(acks);
    println!(
        "WATCH     {watchers} watchers x {writes} writes: delivery p50 {} ms  p99 {} ms  max {} ms  ({} events, {missing} missing; the writes' own 201 p50 {} ms)",
        ms(lat.quantile(0.5)),
        ms(lat.quantile(0.99)),
        ms(lat.max()),
        lat.len(),
        ms(acks.quantile(0.5)),
    );
    if let (Some(s), Some(c)) = (server_cpu, client_cpu) {
        println!("WATCH     CPU per delivery: server {s:.1} µs, client {c:.1} µs");
    }
    record(
        results,
        &json!({"phase": "watch", "watchers": watchers, "writes": writes,
                "p50_us": lat.quantile(0.5), "p99_us": lat.quantile(0.99), "max_us": lat.max(),
                "events": lat.len(), "missing": missing, "ack_p50_us": acks.quantile(0.5),
                "server_cpu_us": server_cpu, "client_cpu_us": client_cpu}),
    )
}
