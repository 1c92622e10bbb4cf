//! The kill -9 loop: on one data directory, each trial runs concurrent writers against a live
//! `kube-lite up` for a random 0.2–1 s, SIGKILLs the server, restarts it on the same data
//! directory and checks that every acknowledged (201) create is there with the uid its 201
//! carried. After the last trial every trial's acknowledged creates are checked once more.

use crate::client::{addr_of, configmap, Conn};
use crate::stats::record;
use anyhow::{bail, Context, Result};
use hyper::{Method, StatusCode};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

struct Server {
    child: Child,
    url: String,
}

async fn start(bin: &Path, data_dir: &Path) -> Result<Server> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.with_extension("log"))?;
    let mut cmd = Command::new(bin);
    cmd.arg("up")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--kubeconfig")
        .arg(data_dir.with_extension("kubeconfig"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    // SAFETY: prctl is async-signal-safe; the child dies with this (main) thread.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(at) = line.find("http://") {
                let url: String = line[at..]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect();
                return Ok(url);
            }
        }
        bail!("kube-lite exited before serving")
    })
    .await
    .context("kube-lite did not start within 30 s")??;
    Ok(Server { child, url })
}

/// name → uid of every ConfigMap the list at `path` returns.
async fn uids(url: &str, path: &str) -> Result<HashMap<String, String>> {
    let mut c = Conn::connect(addr_of(url)?).await?;
    let body = c.expect(Method::GET, path, None, StatusCode::OK).await?;
    let list: Value = serde_json::from_slice(&body)?;
    let mut out = HashMap::new();
    for item in list["items"].as_array().context("list without items")? {
        let m = &item["metadata"];
        let key = format!(
            "{}/{}",
            m["namespace"].as_str().unwrap_or(""),
            m["name"].as_str().unwrap_or("")
        );
        out.insert(key, m["uid"].as_str().unwrap_or("").to_string());
    }
    Ok(out)
}

/// Acknowledged creates as (namespace/name, uid).
type Acks = Vec<(String, String)>;

async fn writer(url: String, ns: String, w: usize) -> Acks {
    let mut acks = Vec::new();
    let Ok(addr) = addr_of(&url) else { return acks };
    let Ok(mut c) = Conn::connect(addr).await else {
        return acks;
    };
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    for i in 0.. {
        let name = format!("d-{w}-{i}");
        let Ok((status, body)) = c
            .request(Method::POST, &path, Some(configmap(&name, 64)))
            .await
        else {
            break; // the server died mid-request: not acknowledged
        };
        if status != StatusCode::CREATED {
            break;
        }
        let uid = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["metadata"]["uid"].as_str().map(str::to_string))
            .unwrap_or_default();
        acks.push((format!("{ns}/{name}"), uid));
    }
    acks
}

#[derive(Default)]
struct Check {
    lost: usize,
    uid_mismatch: usize,
}

fn check(acks: &Acks, found: &HashMap<String, String>) -> Check {
    let mut c = Check::default();
    for (key, uid) in acks {
        match found.get(key) {
            None => c.lost += 1,
            Some(u) if u != uid => c.uid_mismatch += 1,
            Some(_) => {}
        }
    }
    c
}

pub async fn run(
    bin: PathBuf,
    data_dir: PathBuf,
    trials: usize,
    writers: usize,
    seed: Option<u64>,
    results: &Path,
) -> Result<()> {
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let mut server = start(&bin, &data_dir).await?;
    let mut all_acks: Acks = Vec::new();
    let (mut lost, mut mismatched, mut unacked_present) = (0usize, 0usize, 0usize);
    for t in 0..trials {
        let ns = format!("dur-{t}");
        let mut c = Conn::connect(addr_of(&server.url)?).await?;
        let ns_body = serde_json::to_vec(&json!({"metadata": {"name": ns}}))?;
        c.expect(
            Method::POST,
            "/api/v1/namespaces",
            Some(ns_body.into()),
            StatusCode::CREATED,
        )
        .await?;
        drop(c);
        let tasks: Vec<_> = (0..writers)
            .map(|w| tokio::spawn(writer(server.url.clone(), ns.clone(), w)))
            .collect();
        let run_for = Duration::from_millis(rng.gen_range(200..=1000));
        tokio::time::sleep(run_for).await;
        server.child.start_kill()?; // SIGKILL
        server.child.wait().await?;
        let mut acks = Acks::new();
        for task in tasks {
            acks.extend(
                tokio::time::timeout(Duration::from_secs(10), task)
                    .await
                    .context("a writer hung after the kill")??,
            );
        }
        server = start(&bin, &data_dir).await?;
        let found = uids(&server.url, &format!("/api/v1/namespaces/{ns}/configmaps")).await?;
        let c = check(&acks, &found);
        let extra = found.len().saturating_sub(acks.len() - c.lost);
        println!(
            "KILL-9    trial {:>2}: killed after {:>4} ms, {:>5} acknowledged creates, {} lost, {} uid mismatches ({} unacknowledged in-flight creates survived)",
            t + 1,
            run_for.as_millis(),
            acks.len(),
            c.lost,
            c.uid_mismatch,
            extra
        );
        lost += c.lost;
        mismatched += c.uid_mismatch;
        unacked_present += extra;
        all_acks.extend(acks);
    }
    // Every trial's acknowledged creates, after the last restart.
    let found = uids(&server.url, "/api/v1/configmaps").await?;
    let last = check(&all_acks, &found);
    println!(
        "KILL-9    after all {trials} trials: {} acknowledged creates re-checked, {} lost, {} uid mismatches ({:.1} s)",
        all_acks.len(),
        last.lost,
        last.uid_mismatch,
        started.elapsed().as_secs_f64()
    );
    let _ = server.child.start_kill();
    let _ = server.child.wait().await;
    record(
        results,
        &json!({"phase": "durability", "trials": trials, "writers": writers, "seed": seed,
                "acked": all_acks.len(), "lost": lost + last.lost,
                "uid_mismatch": mismatched + last.uid_mismatch,
                "unacked_present": unacked_present}),
    )
}
