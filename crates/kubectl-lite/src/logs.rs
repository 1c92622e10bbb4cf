//! `logs`: resolves `POD`, `POD CONTAINER` or `TYPE/NAME` to one pod and container as kubectl
//! does (a workload's first pod by kubectl's logging order, the default container with its
//! `Defaulted container` notice) and streams `pods/log` to stdout.

use std::cmp::Ordering;
use std::io::Write as _;

use anyhow::{anyhow, bail, Result};
use http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::Value;

use crate::client::{RawError, ServerError, ACCEPT_JSON};
use crate::discovery::Discovery;
use crate::Ctx;

const USAGE: &str = "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command";

/// The flags of `kubectl logs`.
#[derive(Debug, Default)]
pub struct LogsArgs {
    pub args: Vec<String>,
    pub container: Option<String>,
    pub follow: bool,
    pub previous: bool,
    pub tail: i64,
    pub timestamps: bool,
    pub since: Option<String>,
    pub since_time: Option<String>,
    pub limit_bytes: Option<i64>,
}

pub async fn run(ctx: &mut Ctx, a: &LogsArgs) -> Result<i32> {
    let (target, positional_container) = match a.args.as_slice() {
        [t] => (t.clone(), None),
        [t, c] => (t.clone(), Some(c.clone())),
        _ => bail!("{USAGE}\nSee 'kubectl logs -h' for help and examples"),
    };
    let container = a.container.clone().or(positional_container);
    let pod = first_pod(ctx, &target).await?;
    let name = pod["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let container = match container {
        Some(c) => c,
        None => {
            let (c, notice) = default_container(&pod)?;
            if let Some(n) = notice {
                eprintln!("{n}");
            }
            c
        }
    };
    let query = log_query(&container, a)?;
    let path = format!(
        "/api/v1/namespaces/{}/pods/{}/log?{}",
        ctx.namespace, name, query
    );
    stream_to_stdout(ctx, &path).await
}

/// The pod `target` names: a pod by name, or the first pod (kubectl's logging order) of the
/// workload or service `TYPE/NAME`; prints `Found N pods, using pod/X` like kubectl.
async fn first_pod(ctx: &mut Ctx, target: &str) -> Result<Value> {
    let pod_path = |name: &str| format!("/api/v1/namespaces/{}/pods/{}", ctx.namespace, name);
    let Some((ty, name)) = target.split_once('/') else {
        return get_target(ctx, &pod_path(target)).await;
    };
    let mut disc = Discovery::load(&ctx.api).await?;
    let res = disc.resolve(&ctx.api, ty).await?;
    if res.kind == "Pod" {
        return get_target(ctx, &pod_path(name)).await;
    }
    let obj = get_target(ctx, &res.object(&ctx.namespace, name)).await?;
    let selector = selector_of(&obj).ok_or_else(|| {
        anyhow!(
            "cannot attach to {}: selector for {} not implemented",
            res.kind_prefix(),
            res.kind_prefix()
        )
    })?;
    let list = ctx
        .api
        .get(&format!(
            "/api/v1/namespaces/{}/pods?labelSelector={}",
            ctx.namespace,
            crate::get::encode(&selector)
        ))
        .await?;
    let mut pods: Vec<Value> = list["items"].as_array().cloned().unwrap_or_default();
    if pods.is_empty() {
        bail!("timed out waiting for the condition");
    }
    pods.sort_by(by_logging);
    if pods.len() > 1 {
        eprintln!(
            "Found {} pods, using pod/{}",
            pods.len(),
            pods[0]["metadata"]["name"].as_str().unwrap_or_default()
        );
    }
    Ok(pods.swap_remove(0))
}

/// The object `logs` names; kubectl's resource builder words a missing one as
/// `error: error from server (NotFound): pods "x" not found in namespace "default"`.
async fn get_target(ctx: &Ctx, path: &str) -> Result<Value> {
    ctx.api
        .get(path)
        .await
        .map_err(|e| match e.downcast::<ServerError>() {
            Ok(se) if se.code == 404 => RawError(format!(
                "error: error from server (NotFound): {} in namespace \"{}\"",
                se.message, ctx.namespace
            ))
            .into(),
            Ok(se) => se.into(),
            Err(e) => e,
        })
}

/// A workload's pod selector as a label-selector string (`matchLabels` and `matchExpressions`
/// of `spec.selector`, or a Service's map selector).
fn selector_of(obj: &Value) -> Option<String> {
    let sel = &obj["spec"]["selector"];
    let labels = sel
        .get("matchLabels")
        .or_else(|| (obj["kind"] == "Service").then_some(sel))?;
    let mut parts: Vec<String> = labels
        .as_object()?
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    for e in sel["matchExpressions"].as_array().into_iter().flatten() {
        let key = e["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match e["operator"].as_str().unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            _ => format!("!{key}"),
        });
    }
    Some(parts.join(","))
}

/// kubectl's `ByLogging` order: scheduled before unscheduled, Running before other phases,
/// ready before not ready, more restarts first, then newer before older.
pub fn by_logging(a: &Value, b: &Value) -> Ordering {
    let scheduled = |p: &Value| {
        p["spec"]["nodeName"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    };
    let running = |p: &Value| p["status"]["phase"] == "Running";
    let ready = |p: &Value| {
        p["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    };
    let restarts = |p: &Value| -> i64 {
        p["status"]["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["restartCount"].as_i64().unwrap_or(0))
            .max()
            .unwrap_or(0)
    };
    let created = |p: &Value| {
        p["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    scheduled(b)
        .cmp(&scheduled(a))
        .then_with(|| running(b).cmp(&running(a)))
        .then_with(|| ready(b).cmp(&ready(a)))
        .then_with(|| restarts(b).cmp(&restarts(a)))
        .then_with(|| created(b).cmp(&created(a)))
}

/// The container kubectl picks when none is named: the only one, or the
/// `kubectl.kubernetes.io/default-container` annotation's, or the first — with kubectl's
/// `Defaulted container "a" out of: a, b, init (init)` notice when there was a choice.
pub fn default_container(pod: &Value) -> Result<(String, Option<String>)> {
    let names = |key: &str| -> Vec<String> {
        pod["spec"][key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    };
    let containers = names("containers");
    let first = containers
        .first()
        .cloned()
        .ok_or_else(|| anyhow!("pod has no containers"))?;
    let annotated = pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"]
        .as_str()
        .filter(|a| containers.iter().any(|c| c == a));
    if let Some(a) = annotated {
        return Ok((a.to_string(), None));
    }
    let init = names("initContainers");
    let ephemeral = names("ephemeralContainers");
    if containers.len() == 1 && init.is_empty() && ephemeral.is_empty() {
        return Ok((first, None));
    }
    let mut all: Vec<String> = containers.clone();
    all.extend(init.iter().map(|n| format!("{n} (init)")));
    all.extend(ephemeral.iter().map(|n| format!("{n} (ephem)")));
    let notice = format!("Defaulted container \"{first}\" out of: {}", all.join(", "));
    Ok((first, Some(notice)))
}

/// The `PodLogOptions` query kubectl sends for these flags.
fn log_query(container: &str, a: &LogsArgs) -> Result<String> {
    let mut q = vec![format!("container={}", crate::get::encode(container))];
    if a.follow {
        q.push("follow=true".into());
    }
    if a.previous {
        q.push("previous=true".into());
    }
    if a.tail >= 0 {
        q.push(format!("tailLines={}", a.tail));
    }
    if a.timestamps {
        q.push("timestamps=true".into());
    }
    if let Some(b) = a.limit_bytes {
        q.push(format!("limitBytes={b}"));
    }
    if a.since.is_some() && a.since_time.is_some() {
        bail!("at most one of `sinceTime` or `sinceSeconds` may be specified");
    }
    if let Some(s) = &a.since {
        let d = apimachinery::duration::parse_go(s).ok_or_else(|| {
            anyhow!("invalid argument \"{s}\" for \"--since\" flag: time: invalid duration \"{s}\"")
        })?;
        q.push(format!(
            "sinceSeconds={}",
            d.as_secs() + u64::from(d.subsec_nanos() > 0)
        ));
    }
    if let Some(t) = &a.since_time {
        q.push(format!("sinceTime={}", crate::get::encode(t)));
    }
    Ok(q.join("&"))
}

/// Copies the log to stdout as it arrives (a followed log ends with the container).
async fn stream_to_stdout(ctx: &Ctx, path: &str) -> Result<i32> {
    let req = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("accept", ACCEPT_JSON)
        .header("user-agent", "kubectl-lite/v1.35.0")
        .header("kubectl-command", "kubectl logs")
        .body(kube::client::Body::empty())?;
    let resp = ctx.api.send(req).await?;
    let code = resp.status().as_u16();
    let mut body = resp.into_body();
    if !(200..300).contains(&code) {
        let bytes = body.collect().await?.to_bytes();
        return Err(ServerError::from_body(code, &bytes).into());
    }
    let mut out = std::io::stdout().lock();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            out.write_all(&data)?;
            out.flush()?;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_only_container_is_chosen_without_a_notice() {
        let pod = json!({"spec": {"containers": [{"name": "app"}]}});
        assert_eq!(default_container(&pod).unwrap(), ("app".to_string(), None));
    }

    #[test]
    fn the_first_of_several_containers_is_chosen_with_kubectls_notice() {
        let pod = json!({"spec": {
            "initContainers": [{"name": "setup"}],
            "containers": [{"name": "web"}, {"name": "sidecar"}]
        }});
        assert_eq!(
            default_container(&pod).unwrap(),
            (
                "web".to_string(),
                Some("Defaulted container \"web\" out of: web, sidecar, setup (init)".to_string())
            )
        );
    }

    #[test]
    fn the_default_container_annotation_wins_silently() {
        let pod = json!({
            "metadata": {"annotations": {"kubectl.kubernetes.io/default-container": "sidecar"}},
            "spec": {"containers": [{"name": "web"}, {"name": "sidecar"}]}
        });
        assert_eq!(
            default_container(&pod).unwrap(),
            ("sidecar".to_string(), None)
        );
    }

    #[test]
    fn running_ready_newer_pods_are_logged_first() {
        let pod = |name: &str, node: &str, phase: &str, ready: &str, created: &str| {
            json!({
                "metadata": {"name": name, "creationTimestamp": created},
                "spec": {"nodeName": node},
                "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]}
            })
        };
        let mut pods = [
            pod("pending", "", "Pending", "False", "2026-01-01T00:00:09Z"),
            pod("old", "n1", "Running", "True", "2026-01-01T00:00:01Z"),
            pod("unready", "n1", "Running", "False", "2026-01-01T00:00:08Z"),
            pod("new", "n1", "Running", "True", "2026-01-01T00:00:05Z"),
        ];
        pods.sort_by(by_logging);
        let names: Vec<&str> = pods
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["new", "old", "unready", "pending"]);
    }

    #[test]
    fn flags_become_pod_log_options() {
        let a = LogsArgs {
            follow: true,
            previous: true,
            tail: 5,
            timestamps: true,
            since: Some("90s".into()),
            limit_bytes: Some(100),
            ..Default::default()
        };
        assert_eq!(
            log_query("web", &a).unwrap(),
            "container=web&follow=true&previous=true&tailLines=5&timestamps=true&limitBytes=100&sinceSeconds=90"
        );
        let none = LogsArgs {
            tail: -1,
            ..Default::default()
        };
        assert_eq!(log_query("web", &none).unwrap(), "container=web");
    }

    #[test]
    fn workload_selectors_become_label_selectors() {
        let d = json!({"spec": {"selector": {"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}}});
        assert_eq!(selector_of(&d).unwrap(), "app=web,tier in (a,b)");
        let svc = json!({"kind": "Service", "spec": {"selector": {"app": "web"}}});
        assert_eq!(selector_of(&svc).unwrap(), "app=web");
    }
}
