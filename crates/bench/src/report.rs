//! The final report: the GET comparison with ratios, and the summary of figure / target / pass.

use crate::stats::{load, ms};
use anyhow::Result;
use serde_json::Value;
use std::path::Path;

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(0.0)
}

fn u(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

/// Print the report; Ok(true) when every target was met.
pub fn run(results: &Path) -> Result<bool> {
    let recs = load(results)?;
    let recs = &recs;
    let phase = |p: &'static str| recs.iter().filter(move |r| r["phase"] == p);
    let mut rows: Vec<(String, String, String, bool)> = Vec::new();

    println!();
    println!("GET one ConfigMap, kube-lite vs ceiling (trivial axum handler, same bytes):");
    println!(
        "  {:>7} | {:>10} {:>8} {:>8} {:>8} | {:>10} {:>8} {:>8} {:>8} | {:>6}",
        "clients",
        "kube req/s",
        "p50 ms",
        "p99 ms",
        "srv µs",
        "ceil req/s",
        "p50 ms",
        "p99 ms",
        "srv µs",
        "ratio"
    );
    let cpu = |r: &Value| {
        r["server_cpu_us"]
            .as_f64()
            .map_or("-".to_string(), |c| format!("{c:.1}"))
    };
    for k in phase("get").filter(|r| r["target"] == "kube-lite") {
        let n = u(k, "clients");
        let Some(c) = phase("get").find(|r| r["target"] == "ceiling" && u(r, "clients") == n)
        else {
            continue;
        };
        let ratio = f(k, "rps") / f(c, "rps").max(1e-9);
        println!(
            "  {:>7} | {:>10.0} {:>8} {:>8} {:>8} | {:>10.0} {:>8} {:>8} {:>8} | {:>5.0}%",
            n,
            f(k, "rps"),
            ms(u(k, "p50_us")),
            ms(u(k, "p99_us")),
            cpu(k),
            f(c, "rps"),
            ms(u(c, "p50_us")),
            ms(u(c, "p99_us")),
            cpu(c),
            ratio * 100.0
        );
        rows.push((
            format!("GET throughput vs ceiling, {n} clients"),
            ">= 50%".into(),
            format!("{:.0}% ({:.0} req/s)", ratio * 100.0, f(k, "rps")),
            ratio >= 0.5,
        ));
    }
    println!(
        "  (srv µs = the server process's CPU time per request; client and server share the cores)"
    );
    for c in phase("create") {
        rows.push((
            format!("durable creates/s, {} clients", u(c, "clients")),
            ">= 5000/s".into(),
            format!(
                "{:.0}/s (p50 {} ms, p99 {} ms)",
                f(c, "rps"),
                ms(u(c, "p50_us")),
                ms(u(c, "p99_us"))
            ),
            f(c, "rps") >= 5000.0,
        ));
    }
    for w in phase("watch") {
        rows.push((
            format!("watch delivery p99, {} watchers", u(w, "watchers")),
            "<= 50 ms".into(),
            format!(
                "{} ms (p50 {}, max {}, {} missing)",
                ms(u(w, "p99_us")),
                ms(u(w, "p50_us")),
                ms(u(w, "max_us")),
                u(w, "missing")
            ),
            u(w, "p99_us") <= 50_000 && u(w, "missing") == 0,
        ));
    }
    for d in phase("durability") {
        let bad = u(d, "lost") + u(d, "uid_mismatch");
        rows.push((
            format!("kill -9 lost writes, {} trials", u(d, "trials")),
            "0".into(),
            format!(
                "{} lost, {} uid mismatches of {} acked",
                u(d, "lost"),
                u(d, "uid_mismatch"),
                u(d, "acked")
            ),
            bad == 0,
        ));
    }

    println!();
    println!("Summary:");
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(6).max(6);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(8).max(8);
    println!(
        "  {:<w0$} | {:<9} | {:<w2$} | pass",
        "figure", "target", "measured"
    );
    println!(
        "  {}-+-{}-+-{}-+-----",
        "-".repeat(w0),
        "-".repeat(9),
        "-".repeat(w2)
    );
    for (name, target, measured, pass) in &rows {
        println!(
            "  {name:<w0$} | {target:<9} | {measured:<w2$} | {}",
            if *pass { "yes" } else { "NO" }
        );
    }
    Ok(rows.iter().all(|r| r.3))
}
