//! The `kube-lite` binary: argument parsing only; each subcommand lives in its own module.

mod controller_manager;
mod kubeconfig;
mod malloc;
mod node_agent;
mod up;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kube-lite",
    version,
    about = "Kubernetes on a laptop: the real API, no cluster, no container engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the cluster in the foreground (API server; controllers and nodes join it).
    Up(up::UpArgs),
    /// Run the controllers alone against a running API server.
    ControllerManager(controller_manager::ControllerManagerArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KUBE_LITE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Up(args) => up::run(args),
        Command::ControllerManager(args) => controller_manager::run(args),
    }
}
