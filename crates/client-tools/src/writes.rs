//! API writes whose answer the writer does not read: the request is sent and its status checked
//! (an error is still a `kube::Error::Api`), but the object the server returns is never
//! decoded. A node makes several writes for every pod it starts (status, events), and decoding
//! each returned Pod or Event was a large share of a big rollout's CPU.

use kube::api::{Patch, PatchParams, PostParams};
use kube::core::Request;
use serde::Serialize;

/// `POST` `body` to the collection at `path` (e.g. `/api/v1/namespaces/ns/events`).
pub async fn create(client: &kube::Client, path: &str, body: &impl Serialize) -> kube::Result<()> {
    let body = serde_json::to_vec(body).map_err(kube::Error::SerdeError)?;
    let req = Request::new(path)
        .create(&PostParams::default(), body)
        .map_err(kube::Error::BuildRequest)?;
    client.request_text(req).await.map(drop)
}

/// `PATCH` the object `name` of the collection at `path`, or its `subresource`.
pub async fn patch<P: Serialize>(
    client: &kube::Client,
    path: &str,
    name: &str,
    subresource: Option<&str>,
    patch: &Patch<P>,
) -> kube::Result<()> {
    let req = Request::new(path);
    let req = match subresource {
        Some(sub) => req.patch_subresource(sub, name, &PatchParams::default(), patch),
        None => req.patch(name, &PatchParams::default(), patch),
    }
    .map_err(kube::Error::BuildRequest)?;
    client.request_text(req).await.map(drop)
}

/// A JSON merge patch of a pod's `status` subresource.
pub async fn patch_pod_status(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    body: &impl Serialize,
) -> kube::Result<()> {
    let path = format!("/api/v1/namespaces/{namespace}/pods");
    patch(client, &path, name, Some("status"), &Patch::Merge(body)).await
}
