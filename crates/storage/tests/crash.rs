//! Crash safety of `SledStorage`: this test binary re-executes itself as a child that writes
//! continuously and prints every write once `durable` resolved; the parent SIGKILLs it
//! mid-stream, reopens the store and checks that every acknowledged write survived with the
//! same bytes and that new rvs exceed every acknowledged rv. Several trials share one store,
//! so recovery after repeated crashes is covered too.

use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use storage::{SledStorage, Storage};

const CHILD_DIR: &str = "STORAGE_CRASH_CHILD_DIR";
const CHILD_TRIAL: &str = "STORAGE_CRASH_CHILD_TRIAL";
const WRITERS: usize = 8;

/// The child: a no-op unless started by the parent with `CHILD_DIR` set.
#[test]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let trial = std::env::var(CHILD_TRIAL).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let s = Arc::new(SledStorage::open(Path::new(&dir)).unwrap());
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let (s, trial) = (Arc::clone(&s), trial.clone());
            tasks.push(tokio::spawn(async move {
                let counter = format!("/core/configmaps/t{trial}/w{w}");
                let mut crv = s.create(&counter, json!({"data": {"n": 0}})).unwrap().rv;
                s.durable(crv).await.unwrap();
                for i in 0u64.. {
                    let key = format!("/core/pods/t{trial}/w{w}-{i}");
                    let obj = json!({"kind": "Pod", "metadata": {"name": key, "uid": format!("uid-{trial}-{w}-{i}")}});
                    let st = s.create(&key, obj).unwrap();
                    s.durable(st.rv).await.unwrap();
                    println!("ACK {} {} {}", st.rv, key, std::str::from_utf8(&st.bytes).unwrap());
                    if i % 4 == 0 {
                        crv = s.update(&counter, Some(crv), json!({"data": {"n": i}})).unwrap().rv;
                        s.durable(crv).await.unwrap();
                        println!("UPD {crv} {counter}");
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn sigkill_mid_stream_keeps_every_durable_write() {
    if std::env::var(CHILD_DIR).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    // Every acknowledged create (rv, key, bytes) and the last acknowledged rv of each counter.
    let mut acked: Vec<(u64, String, String)> = Vec::new();
    let mut counters: std::collections::HashMap<String, u64> = Default::default();
    for trial in 0..5 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_TRIAL, trial.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let kill_after = 150 + 120 * trial;
        let mut seen = 0;
        let mut parse = |line: &str| {
            if let Some(rest) = line.strip_prefix("ACK ") {
                let mut parts = rest.splitn(3, ' ');
                let rv: u64 = parts.next().unwrap().parse().unwrap();
                let key = parts.next().unwrap().to_owned();
                acked.push((rv, key, parts.next().unwrap().to_owned()));
                true
            } else if let Some(rest) = line.strip_prefix("UPD ") {
                let (rv, key) = rest.split_once(' ').unwrap();
                let rv: u64 = rv.parse().unwrap();
                let e = counters.entry(key.to_owned()).or_default();
                *e = (*e).max(rv);
                false
            } else {
                false
            }
        };
        for line in lines.by_ref() {
            if parse(&line.unwrap()) {
                seen += 1;
                if seen >= kill_after {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL on unix
                               // Lines already printed were acknowledged before the kill.
        for line in lines {
            match line {
                Ok(l) => {
                    parse(&l);
                }
                Err(_) => break,
            }
        }
        child.wait().unwrap();
        assert!(
            seen >= kill_after,
            "trial {trial}: the child stopped early after {seen} acks"
        );

        let s = SledStorage::open(dir.path()).unwrap();
        for (rv, key, bytes) in &acked {
            let got = s.get(key).unwrap_or_else(|e| {
                panic!("trial {trial}: acknowledged {key} (rv {rv}) lost: {e}")
            });
            assert_eq!(got.rv, *rv);
            assert_eq!(
                std::str::from_utf8(&got.bytes).unwrap(),
                bytes,
                "trial {trial}: {key} changed"
            );
        }
        for (key, rv) in &counters {
            assert!(
                s.get(key).unwrap().rv >= *rv,
                "trial {trial}: acknowledged update of {key} lost"
            );
        }
        let max_acked = acked
            .iter()
            .map(|a| a.0)
            .chain(counters.values().copied())
            .max()
            .unwrap();
        assert!(s.current_rv() >= max_acked);
        let next = s
            .create(&format!("/core/pods/after/{trial}"), json!({"kind": "Pod"}))
            .unwrap();
        assert!(
            next.rv > max_acked,
            "trial {trial}: rv {} reused (max acked {max_acked})",
            next.rv
        );
        s.close().unwrap();
    }
}
