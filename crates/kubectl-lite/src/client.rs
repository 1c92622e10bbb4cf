//! The HTTP side: a kube-rs `Client` built from the resolved configuration, raw requests
//! with explicit `Accept`/`Content-Type`, and `metav1.Status` errors printed as kubectl does.

use anyhow::{Context as _, Result};
use http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::Value;

use crate::config::Resolved;

pub const ACCEPT_JSON: &str = "application/json";
pub const ACCEPT_TABLE: &str =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
pub const ACCEPT_DISCOVERY: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// A server the command talks to.
pub struct Api {
    client: kube::Client,
    pub server: String,
    pub command: String,
}

/// A failed API call: the server's Status, printed as `Error from server (Reason): message`.
#[derive(Debug)]
pub struct ServerError {
    pub code: u16,
    pub reason: String,
    pub message: String,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.reason.is_empty() {
            write!(f, "Error from server: {}", self.message)
        } else {
            write!(f, "Error from server ({}): {}", self.reason, self.message)
        }
    }
}

impl std::error::Error for ServerError {}

/// The text of an RFC 7234 warning value `299 - "quoted \"text\""`.
pub fn warning_text(w: &str) -> String {
    let quoted = w.split_once(" - ").map(|(_, t)| t).unwrap_or(w).trim();
    let Some(inner) = quoted.strip_prefix('"') else {
        return quoted.to_string();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '"' => break,
            c => out.push(c),
        }
    }
    out
}

/// An error kubectl prints as is, without the `error: ` prefix (connection refused,
/// configuration errors).
#[derive(Debug)]
pub struct RawError(pub String);

impl std::fmt::Display for RawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RawError {}

impl ServerError {
    pub fn from_body(code: u16, body: &[u8]) -> ServerError {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let message = v["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
        let reason = v["reason"].as_str().unwrap_or("").to_string();
        ServerError {
            code,
            reason,
            message,
        }
    }
}

impl Api {
    pub async fn connect(resolved: &Resolved, server_flag: bool, command: &str) -> Result<Api> {
        let url = resolved.server.parse().context("invalid server URL")?;
        let needs_auth = resolved.loaded.config["users"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|u| u["user"].as_object().is_some_and(|m| !m.is_empty()));
        let mut config = if needs_auth && !resolved.context_name.is_empty() {
            let kc: kube::config::Kubeconfig =
                serde_json::from_value(resolved.loaded.config.clone())
                    .context("invalid kubeconfig")?;
            let opts = kube::config::KubeConfigOptions {
                context: Some(resolved.context_name.clone()),
                ..Default::default()
            };
            let mut c = kube::Config::from_custom_kubeconfig(kc, &opts).await?;
            if server_flag {
                c.cluster_url = url;
            }
            c
        } else {
            kube::Config::new(url)
        };
        config.default_namespace = resolved.namespace.clone();
        let client = kube::Client::try_from(config)?;
        Ok(Api {
            client,
            server: resolved.server.clone(),
            command: command.to_string(),
        })
    }

    /// Sends one request; returns the status code and body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        accept: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<(u16, Vec<u8>)> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("accept", accept)
            .header("user-agent", "kubectl-lite/v1.35.0")
            .header("kubectl-command", format!("kubectl {}", self.command));
        let body = match body {
            Some((ct, bytes)) => {
                req = req.header("content-type", ct);
                bytes
            }
            None => Vec::new(),
        };
        let req = req.body(kube::client::Body::from(body))?;
        let resp = self.client.send(req).await.map_err(|_| {
            RawError(format!(
                "The connection to the server {} was refused - did you specify the right host or port?",
                self.server
                    .split_once("://")
                    .map(|(_, h)| h)
                    .unwrap_or(&self.server)
                    .trim_end_matches('/')
            ))
        })?;
        let code = resp.status().as_u16();
        // kubectl prints each `Warning: 299 - "text"` response header as `Warning: text`.
        for w in resp.headers().get_all("warning") {
            if let Ok(w) = w.to_str() {
                eprintln!("Warning: {}", warning_text(w));
            }
        }
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading the response: {e}"))?
            .to_bytes()
            .to_vec();
        Ok((code, bytes))
    }

    /// A request whose non-2xx answer becomes a [`ServerError`]; the body parsed as JSON.
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        accept: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<Value> {
        let (code, bytes) = self.raw(method, path, accept, body).await?;
        if !(200..300).contains(&code) {
            return Err(ServerError::from_body(code, &bytes).into());
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// The kube-rs client, for the calls it speaks natively (exec's WebSocket).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    pub async fn get(&self, path: &str) -> Result<Value> {
        self.json(Method::GET, path, ACCEPT_JSON, None).await
    }
}

impl Api {
    /// Sends a prepared request (streaming bodies such as watches).
    pub async fn send(
        &self,
        req: Request<kube::client::Body>,
    ) -> Result<http::Response<kube::client::Body>> {
        Ok(self.client.send(req).await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn warning_headers_are_unquoted() {
        assert_eq!(
            super::warning_text(r#"299 - "unknown field \"metadata.bogus\"""#),
            r#"unknown field "metadata.bogus""#
        );
    }
}
