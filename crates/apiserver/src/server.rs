//! Serving the API on a socket: open storage, bootstrap, accept connections until shutdown,
//! then flush storage.

use crate::clock::SystemClock;
use crate::registry::Registry;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use storage::Storage;

/// Where and from what the server runs.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
}

/// A registry over a sled store in `data_dir`, with the default namespaces created.
pub async fn open_registry(
    data_dir: &std::path::Path,
) -> anyhow::Result<(Arc<Registry>, Arc<storage::SledStorage>)> {
    std::fs::create_dir_all(data_dir)?;
    let store = Arc::new(storage::SledStorage::open(&data_dir.join("db"))?);
    let dyn_store: Arc<dyn Storage> = store.clone();
    let registry = Arc::new(Registry::new(dyn_store, Arc::new(SystemClock)));
    registry
        .bootstrap()
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap: {e}"))?;
    Ok((registry, store))
}

/// Serve until `shutdown` resolves, then flush storage.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Arc<Registry>,
    store: Arc<storage::SledStorage>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = crate::app(registry.clone());
    let shutdown = async move {
        shutdown.await;
        registry.end_watches();
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    store.close()?;
    Ok(())
}

/// An API server running inside this process over memory storage, for tests of clients
/// (controllers, nodes, kubectl-lite): serves on a free loopback port until dropped.
pub struct InProcess {
    pub url: String,
    pub registry: Arc<Registry>,
    task: tokio::task::JoinHandle<()>,
}

impl InProcess {
    /// Start on the current tokio runtime with the given clock.
    pub async fn start_with_clock(
        clock: Arc<dyn crate::clock::Clock>,
    ) -> anyhow::Result<InProcess> {
        let store: Arc<dyn Storage> = Arc::new(storage::MemoryStorage::new());
        let registry = Arc::new(Registry::new(store, clock));
        registry
            .bootstrap()
            .await
            .map_err(|e| anyhow::anyhow!("bootstrap: {e}"))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = crate::app(registry.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(InProcess {
            url,
            registry,
            task,
        })
    }

    pub async fn start() -> anyhow::Result<InProcess> {
        InProcess::start_with_clock(Arc::new(SystemClock)).await
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.task.abort();
    }
}
