//! `kube-lite-bench`: the issue-2 benchmark driver. Each subcommand is one phase and appends
//! its figures to a results file (one JSON object per line); `report` prints the comparison
//! and the summary. `scripts/bench` builds everything and runs every phase in one go; see
//! docs/benchmarks.md for the method.

mod ceiling;
mod client;
mod durability;
mod load;
mod report;
mod stats;
mod watch;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "kube-lite-bench",
    about = "The kube-lite benchmark (run scripts/bench)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve a fixed JSON body from a trivial axum handler (the GET ceiling).
    Ceiling {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// The body to serve (e.g. what `prepare` saved).
        #[arg(long)]
        body_file: PathBuf,
    },
    /// Create the ConfigMap the GET phase reads and save its GET response body.
    Prepare {
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "bench-get")]
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// GET throughput and latency at several client counts, kube-lite and the ceiling
    /// measured alternately.
    Get {
        /// kube-lite's URL.
        #[arg(long)]
        url: String,
        /// kube-lite's pid, to report its CPU time per request.
        #[arg(long)]
        server_pid: Option<u32>,
        /// The ceiling's URL (`kube-lite-bench ceiling`).
        #[arg(long)]
        ceiling_url: Option<String>,
        #[arg(long)]
        ceiling_pid: Option<u32>,
        #[arg(
            long,
            default_value = "/api/v1/namespaces/default/configmaps/bench-get"
        )]
        path: String,
        #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
        clients: Vec<usize>,
        /// Measurement per target and client count, seconds.
        #[arg(long, default_value_t = 3.0)]
        duration: f64,
        /// Warm-up before each slice, seconds.
        #[arg(long, default_value_t = 0.25)]
        warmup: f64,
        /// Split each measurement into this many alternating slices.
        #[arg(long, default_value_t = 3)]
        slices: u32,
        #[arg(long)]
        results: PathBuf,
    },
    /// Durable creates per second (each 201 comes after its flush).
    Create {
        #[arg(long)]
        url: String,
        /// The server's pid, to report its CPU time per create.
        #[arg(long)]
        server_pid: Option<u32>,
        #[arg(long, default_value_t = 64)]
        clients: usize,
        #[arg(long, default_value_t = 3.0)]
        duration: f64,
        #[arg(long, default_value_t = 0.5)]
        warmup: f64,
        #[arg(long)]
        results: PathBuf,
    },
    /// Watch fan-out latency.
    Watch {
        #[arg(long)]
        url: String,
        /// The server's pid, to report its CPU time per delivered event.
        #[arg(long)]
        server_pid: Option<u32>,
        #[arg(long, default_value_t = 1000)]
        watchers: usize,
        #[arg(long, default_value_t = 20)]
        writes: usize,
        #[arg(long, default_value_t = 50)]
        interval_ms: u64,
        #[arg(long)]
        results: PathBuf,
    },
    /// The kill -9 durability loop (starts and kills `kube-lite up` itself).
    Durability {
        /// The kube-lite binary.
        #[arg(long)]
        kube_lite: PathBuf,
        /// Data directory shared by every trial (created if missing).
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 20)]
        trials: usize,
        #[arg(long, default_value_t = 16)]
        writers: usize,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        results: PathBuf,
    },
    /// Print the comparison and the summary; exit 1 when a target was missed.
    Report {
        #[arg(long)]
        results: PathBuf,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Ceiling { listen, body_file } => ceiling::run(listen, &body_file),
        Cmd::Prepare { url, name, out } => runtime()?.block_on(async {
            let body = load::prepare(&url, &name).await?;
            std::fs::write(&out, &body)?;
            Ok(())
        }),
        Cmd::Get {
            url,
            server_pid,
            ceiling_url,
            ceiling_pid,
            path,
            clients,
            duration,
            warmup,
            slices,
            results,
        } => {
            let mut targets = vec![load::GetTarget {
                name: "kube-lite".into(),
                url,
                pid: server_pid,
            }];
            if let Some(url) = ceiling_url {
                targets.push(load::GetTarget {
                    name: "ceiling".into(),
                    url,
                    pid: ceiling_pid,
                });
            }
            runtime()?.block_on(load::get(
                &targets,
                &path,
                &clients,
                secs(warmup),
                secs(duration),
                slices,
                &results,
            ))
        }
        Cmd::Create {
            url,
            server_pid,
            clients,
            duration,
            warmup,
            results,
        } => runtime()?.block_on(load::create(
            &url,
            server_pid,
            clients,
            secs(warmup),
            secs(duration),
            &results,
        )),
        Cmd::Watch {
            url,
            server_pid,
            watchers,
            writes,
            interval_ms,
            results,
        } => runtime()?.block_on(watch::run(
            &url,
            server_pid,
            watchers,
            writes,
            Duration::from_millis(interval_ms),
            &results,
        )),
        Cmd::Durability {
            kube_lite,
            data_dir,
            trials,
            writers,
            seed,
            results,
        } => {
            // A current-thread runtime on the main thread: the servers it spawns get
            // PR_SET_PDEATHSIG tied to this thread, so they never outlive the bench.
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(durability::run(
                    kube_lite, data_dir, trials, writers, seed, &results,
                ))
        }
        Cmd::Report { results } => {
            if !report::run(&results)? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
