//! GET `pods/{name}/log`: `PodLogOptions` from the query, validated as kube-apiserver does
//! (bad numbers and booleans 400, out-of-range values 422 naming the field), the container
//! resolved against the pod, then the bytes streamed from the node agent as `text/plain`.

use super::Request;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::node_agent::LogOptions;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

pub fn handle(req: Request) -> ApiResult<Response> {
    let name = req.name().to_string();
    let pod = req.registry.get(req.target(), &name)?.value();
    let mut opts = options(&req, &name)?;
    opts.container = container(&pod, &name, req.query.get("container").unwrap_or(""))?;
    let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
    // Not on a node yet: kube-apiserver has no kubelet to ask and answers an empty log.
    if node.is_empty() {
        return Ok(text(Body::empty()));
    }
    let agent = req.registry.node_agent().ok_or_else(|| {
        ApiError::service_unavailable(format!(
            "no kubelet answers for node {node:?}: this server runs no nodes"
        ))
    })?;
    let stream = agent.container_logs(&pod, &opts)?;
    Ok(text(Body::from_stream(
        stream.map(Ok::<_, std::convert::Infallible>),
    )))
}

fn text(body: Body) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/plain"));
    r
}

/// The query's `PodLogOptions`, checked as `ValidatePodLogOptions` does.
fn options(req: &Request, name: &str) -> ApiResult<LogOptions> {
    let q = &req.query;
    let mut causes = Vec::new();
    let tail = q.int("tailLines")?;
    if let Some(n) = tail.filter(|n| *n < 0) {
        causes.push(FieldError::invalid(
            "tailLines",
            &json!(n),
            "must be greater than or equal to 0",
        ));
    }
    let limit = q.int("limitBytes")?;
    if let Some(n) = limit.filter(|n| *n < 1) {
        causes.push(FieldError::invalid(
            "limitBytes",
            &json!(n),
            "must be greater than 0",
        ));
    }
    let since_seconds = q.int("sinceSeconds")?;
    let since_time = match q.get("sinceTime").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(apimachinery::clock::parse_rfc3339(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "parsing time {s:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse sinceTime"
            ))
        })?),
    };
    if since_seconds.is_some() && since_time.is_some() {
        causes.push(FieldError::forbidden(
            "",
            "at most one of `sinceTime` or `sinceSeconds` may be specified",
        ));
    }
    if let Some(n) = since_seconds.filter(|n| *n < 1) {
        causes.push(FieldError::invalid(
            "sinceSeconds",
            &json!(n),
            "must be greater than 0",
        ));
    }
    let stream = q.get("stream").filter(|s| !s.is_empty());
    if let Some(s) = stream {
        if !matches!(s, "Stdout" | "Stderr" | "All") {
            causes.push(FieldError::not_supported(
                "stream",
                &json!(s),
                &["All", "Stderr", "Stdout"],
            ));
        } else if s != "All" && tail.is_some() {
            causes.push(FieldError::forbidden(
                "",
                "`tailLines` and specific `stream` are mutually exclusive for now",
            ));
        }
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid("PodLogOptions", "", name, causes));
    }
    let now = req.registry.clock.now();
    Ok(LogOptions {
        container: String::new(),
        follow: q.bool("follow")?,
        previous: q.bool("previous")?,
        tail_lines: tail.map(|n| n as u64),
        since: since_time.or_else(|| since_seconds.map(|s| now - Duration::from_secs(s as u64))),
        timestamps: q.bool("timestamps")?,
        limit_bytes: limit.map(|n| n as u64),
        stream: stream.filter(|s| *s != "All").map(str::to_string),
    })
}

fn names(pod: &Value, field: &str) -> Vec<String> {
    pod["spec"][field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect()
}

/// The container a log or exec request is about, as kube-apiserver's `LogLocation` and
/// `streamLocation` resolve it.
pub(super) fn container(pod: &Value, name: &str, asked: &str) -> ApiResult<String> {
    let main = names(pod, "containers");
    if asked.is_empty() {
        return match main.len() {
            1 => Ok(main[0].clone()),
            0 => Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}"
            ))),
            _ => {
                let mut msg = format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    main.join(" ")
                );
                let init = names(pod, "initContainers");
                if !init.is_empty() {
                    msg += &format!(" or one of the init containers: [{}]", init.join(" "));
                }
                Err(ApiError::bad_request(msg))
            }
        };
    }
    let known = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .any(|f| names(pod, f).iter().any(|n| n == asked));
    if !known {
        return Err(ApiError::bad_request(format!(
            "container {asked} is not valid for pod {name}"
        )));
    }
    Ok(asked.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Value {
        json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}], "initContainers": [{"name": "i"}]}})
    }

    #[test]
    fn the_container_is_resolved_as_kube_apiserver_does() {
        let one = json!({"spec": {"containers": [{"name": "only"}]}});
        assert_eq!(container(&one, "p", "").unwrap(), "only");
        assert_eq!(container(&pod(), "p", "i").unwrap(), "i");
        assert_eq!(
            container(&pod(), "p", "").unwrap_err().message,
            "a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [i]"
        );
        let e = container(&pod(), "p", "x").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "container x is not valid for pod p")
        );
    }
}
