//! `kube-lite up`: open storage, write the kubeconfig, serve until Ctrl-C or SIGTERM.

use crate::kubeconfig;
use anyhow::{bail, Context};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct UpArgs {
    /// Where the cluster keeps its state (default: $XDG_DATA_HOME/kube-lite or ~/.local/share/kube-lite).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on (plain HTTP, no authentication).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Write a standalone kubeconfig here instead of merging into $KUBECONFIG or ~/.kube/config.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Number of simulated worker nodes (besides the control-plane node).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Remove the simulated delays of image pulls and container starts (tests, benchmarks).
    #[arg(long)]
    pub fast: bool,
    /// The simulated registry's image catalog (YAML, as fixtures/images.yaml) instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub image_catalog: Option<PathBuf>,
    /// The nodes' container runtime: `process` runs containers as real processes in per-pod
    /// Linux namespaces (shell images, nginx, images declared with an entrypoint; a silent
    /// placeholder for the rest, so exec works everywhere), and falls back to `simulated`, with
    /// a Warning event and a `SandboxesUnavailable` condition on each node, where sandboxes
    /// cannot be made; `simulated` runs nothing. Default: `process` on Linux, `simulated` with
    /// --fast.
    #[arg(long, env = "KUBE_LITE_RUNTIME", value_parser = ["process", "simulated"])]
    pub runtime: Option<String>,
    /// Rotate a container's log file once it reaches this size (the kubelet's
    /// containerLogMaxSize: a quantity such as 10Mi or 512Ki).
    #[arg(long, default_value = "10Mi", value_name = "SIZE", value_parser = kubelet_sim::log_rotation::parse_size)]
    pub container_log_max_size: u64,
    /// Log files a container may have, the current one included (the kubelet's
    /// containerLogMaxFiles; at least 2).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub container_log_max_files: usize,
    /// Allow a non-loopback --listen address: anyone who can reach it has full control of the cluster.
    #[arg(long)]
    pub insecure_listen_on_network: bool,
}

fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("kube-lite");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/kube-lite")
}

pub fn run(args: UpArgs) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() && !args.insecure_listen_on_network {
        bail!(
            "refusing to listen on {}: the API server has no authentication, so anyone on the network could control the cluster; \
             use a loopback address, or pass --insecure-listen-on-network if that is really what you want",
            args.listen
        );
    }
    if let Some(catalog) = &args.image_catalog {
        kubelet_sim::images::Catalog::from_file(catalog)?;
    }
    let rotation = kubelet_sim::log_rotation::Rotation::new(
        args.container_log_max_size,
        args.container_log_max_files,
    )
    .map_err(anyhow::Error::msg)?;
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let runtime = runtime_kind(args.runtime.as_deref(), args.fast);
    if runtime == kubelet_sim::RuntimeKind::Process {
        // Before the first thread: only a single-threaded process may change user namespace.
        // Where it fails, the nodes' probe reports that sandboxes cannot be made.
        if let Err(e) = kubelet_sim::enter_user_namespace() {
            tracing::warn!("cannot enter a user namespace for pod sandboxes: {e}");
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let (registry, store) = apiserver::server::open_registry(&data_dir)
            .await
            .with_context(|| format!("cannot open the data directory {}", data_dir.display()))?;
        let url = format!("http://{addr}");
        // Before the line that tells the user (and tests) the server is up.
        let signalled = shutdown_signal()?;
        let written = kubeconfig::write(&url, args.kubeconfig.as_deref())?;
        println!(
            "kube-lite is serving the Kubernetes API at {url} (context \"{}\" in {})",
            kubeconfig::CONTEXT,
            written.display()
        );
        // On the signal, stop the in-process components (controllers, nodes) first, then let
        // the server end its watches and drain its connections.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let drained = async move {
            let mut stopped = stopped;
            let _ = stopped.wait_for(|s| *s).await;
        };
        let mut server = tokio::spawn(apiserver::server::serve(
            listener,
            registry.clone(),
            store,
            drained,
        ));
        let logs = kubelet_sim::logs::LogStore::with_rotation(&data_dir, rotation);
        let runtimes = kubelet_sim::NodeRuntimes::new();
        registry.set_node_agent(std::sync::Arc::new(
            crate::node_agent::SimulatedKubelets::new(logs.clone(), runtimes.clone()),
        ));
        let controllers = tokio::spawn(controller_manager::run(in_process_client(
            &registry,
            "kube-controller-manager",
        )?));
        let client = in_process_client(&registry, "kubelet")?;
        let node_opts = kubelet_sim::Options {
            workers: args.workers,
            fast: args.fast,
            image_catalog: args.image_catalog.clone(),
            data_dir: data_dir.clone(),
            logs: Some(logs),
            log_rotation: rotation,
            runtime,
            runtimes: Some(runtimes),
        };
        let nodes = tokio::spawn(async move {
            if let Err(e) = kubelet_sim::run(client, node_opts).await {
                eprintln!("kube-lite: simulated nodes stopped: {e:#}");
            }
        });
        let early = tokio::select! {
            _ = signalled => None,
            r = &mut server => Some(r),
        };
        controllers.abort();
        nodes.abort();
        let _ = stop.send(true);
        match early {
            Some(r) => r?,
            None => server.await?,
        }
    })
}

/// `--runtime`, or the default: real processes where Linux namespaces are (the runtime falls
/// back by itself where they do not work), none with `--fast`.
fn runtime_kind(flag: Option<&str>, fast: bool) -> kubelet_sim::RuntimeKind {
    use kubelet_sim::RuntimeKind;
    match flag.and_then(|f| f.parse().ok()) {
        Some(k) => k,
        None if fast || !cfg!(target_os = "linux") => RuntimeKind::Simulated,
        None => RuntimeKind::Process,
    }
}

/// A kube-rs client of the API server this process serves, acting as `component`: its requests
/// go through the same router and handlers as requests over the socket (same REST semantics,
/// same JSON), without TCP and HTTP framing — like kube-apiserver's loopback client for its
/// own controllers. HTTP handling on both ends was a large part of a big rollout's CPU.
pub fn in_process_client(
    registry: &std::sync::Arc<apiserver::Registry>,
    component: &str,
) -> anyhow::Result<kube::Client> {
    let agent = http::HeaderValue::from_str(&user_agent(component)).context("User-Agent")?;
    let service = tower::ServiceBuilder::new()
        .map_request(move |mut r: http::Request<kube::client::Body>| {
            r.headers_mut()
                .insert(http::header::USER_AGENT, agent.clone());
            r
        })
        .service(apiserver::app(registry.clone()));
    Ok(kube::Client::new(service, "default"))
}

/// A client whose User-Agent names `component` as the real one's does, so the API server
/// records its writes under that field manager (`kube-controller-manager`, `kubelet`).
pub fn client_as(mut config: kube::Config, component: &str) -> anyhow::Result<kube::Client> {
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_str(&user_agent(component)).context("User-Agent")?,
    ));
    Ok(kube::Client::try_from(config)?)
}

/// `component/vX (os/arch) kubernetes/kube-lite`, the shape of the real components' agents.
fn user_agent(component: &str) -> String {
    format!(
        "{component}/v{} ({}/{}) kubernetes/kube-lite",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            a => a,
        }
    )
}

/// Installs the Ctrl-C and SIGTERM handlers now (so a signal that arrives before the caller
/// first waits is not fatal) and returns a future that resolves on either.
pub fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
    })
}
