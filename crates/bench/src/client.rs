//! A minimal HTTP/1.1 client: one keep-alive connection per simulated client, requests sent
//! one at a time on it (no pooling, no pipelining), so N clients = N connections.

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// Parse `http://host:port[/...]` into a socket address.
pub fn addr_of(url: &str) -> Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("not an http:// URL: {url}"))?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    hostport
        .parse()
        .with_context(|| format!("not an ip:port URL: {url}"))
}

pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> Result<Conn> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn {
            sender,
            host: addr.to_string(),
        })
    }

    /// Send a request and return the response with its body still streaming.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Response<Incoming>> {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.host)
            .header(hyper::header::ACCEPT, "application/json");
        if body.is_some() {
            b = b.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let req = b.body(Full::new(body.unwrap_or_default()))?;
        self.sender.ready().await?;
        Ok(self.sender.send_request(req).await?)
    }

    /// Send a request and read the whole response body.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<(StatusCode, Bytes)> {
        let resp = self.send(method, path, body).await?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }

    /// A request that must answer `want`; returns the body.
    pub async fn expect(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        want: StatusCode,
    ) -> Result<Bytes> {
        let (status, bytes) = self.request(method.clone(), path, body).await?;
        if status != want {
            bail!(
                "{method} {path}: got {status}, want {want}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        Ok(bytes)
    }
}

/// A ConfigMap creation body.
pub fn configmap(name: &str, data_len: usize) -> Bytes {
    let v = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "kube-lite-bench"}},
        "data": {"payload": "x".repeat(data_len)},
    });
    Bytes::from(serde_json::to_vec(&v).expect("json"))
}
