//! `kube-lite controller-manager`: run the controllers alone, as a client of any kube-lite
//! API server (the one `up` serves, or another), until Ctrl-C or SIGTERM.

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ControllerManagerArgs {
    /// Kubeconfig to connect with (default: $KUBECONFIG, then ~/.kube/config, as kubectl).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Context to use from the kubeconfig (default: its current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Workers per controller.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
}

async fn client(args: &ControllerManagerArgs) -> anyhow::Result<kube::Client> {
    let config = match &args.kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read the kubeconfig {}", path.display()))?;
            let opts = kube::config::KubeConfigOptions {
                context: args.context.clone(),
                ..Default::default()
            };
            kube::Config::from_custom_kubeconfig(kc, &opts).await?
        }
        None if args.context.is_some() => {
            let opts = kube::config::KubeConfigOptions {
                context: args.context.clone(),
                ..Default::default()
            };
            kube::Config::from_kubeconfig(&opts).await?
        }
        None => kube::Config::infer().await?,
    };
    crate::up::client_as(config, "kube-controller-manager")
}

pub fn run(args: ControllerManagerArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let client = client(&args).await?;
        let opts = controller_manager::Options {
            workers: args.workers,
            ..Default::default()
        };
        let signalled = crate::up::shutdown_signal()?;
        println!("kube-lite controller-manager is running");
        tokio::select! {
            r = controller_manager::run_with(client, opts) => r,
            _ = signalled => Ok(()),
        }
    })
}
