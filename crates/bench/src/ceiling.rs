//! The GET ceiling: a trivial axum handler answering every request with a fixed JSON body,
//! served exactly as `kube-lite up` serves (axum::serve over a multi-thread tokio runtime with
//! default workers), so the gap between the two is the cost of kube-lite's request path.

use anyhow::{Context, Result};
use axum::http::header::CONTENT_TYPE;
use axum::Router;
use bytes::Bytes;
use std::net::SocketAddr;
use std::path::Path;

pub fn run(listen: SocketAddr, body_file: &Path) -> Result<()> {
    let body = Bytes::from(
        std::fs::read(body_file).with_context(|| format!("reading {}", body_file.display()))?,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let len = body.len();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(move || {
            let body = body.clone();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        });
        println!("ceiling serving a {len}-byte body at http://{addr}");
        axum::serve(listener, app).await?;
        Ok(())
    })
}
