//! Latency samples (microseconds) and the results file (one JSON object per line).

use anyhow::{Context, Result};
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// Sorted latency samples in microseconds.
pub struct Latencies(Vec<u64>);

impl Latencies {
    pub fn new(mut v: Vec<u64>) -> Self {
        v.sort_unstable();
        Latencies(v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The q-quantile (0..=1), nearest-rank; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.0.is_empty() {
            return 0;
        }
        let rank = ((q * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1]
    }

    pub fn max(&self) -> u64 {
        self.0.last().copied().unwrap_or(0)
    }
}

/// Microseconds as milliseconds (3 decimals below 10 ms, else 1).
pub fn ms(us: u64) -> String {
    if us < 10_000 {
        format!("{:.3}", us as f64 / 1000.0)
    } else {
        format!("{:.1}", us as f64 / 1000.0)
    }
}

/// Append one result record.
pub fn record(results: &Path, v: &Value) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(results)
        .with_context(|| format!("opening {}", results.display()))?;
    writeln!(f, "{v}")?;
    Ok(())
}

/// Every record in the results file.
pub fn load(results: &Path) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(results)
        .with_context(|| format!("reading {}", results.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).context("bad results line"))
        .collect()
}

/// CPU time (user + system) a process has used so far, in microseconds (None when unknown).
pub fn cpu_us(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the `(comm)`: state is field 3, utime 14 and stime 15 (1-based).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(ticks * 1_000_000 / hz)
}
