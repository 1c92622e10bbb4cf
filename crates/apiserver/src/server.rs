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
    let app = crate::app(registry);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    store.close()?;
    Ok(())
}
