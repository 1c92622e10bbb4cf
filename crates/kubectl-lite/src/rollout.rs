//! `rollout status|history|undo|restart` for deployments, with kubectl's messages.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};
use http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::{json, Value};

use crate::client::ACCEPT_JSON;
use crate::discovery::{Discovery, Resource};
use crate::mutate::{targets, LAST_APPLIED};
use crate::Ctx;

async fn one_deployment(ctx: &Ctx, args: &[String]) -> Result<(Resource, String)> {
    let (res, name) = one_target(ctx, args).await?;
    if res.kind != "Deployment" {
        return Err(anyhow!(
            "no status viewer has been implemented for {}",
            group_kind(&res)
        ));
    }
    Ok((res, name))
}

fn group_kind(res: &Resource) -> String {
    if res.group.is_empty() {
        res.kind.clone()
    } else {
        format!("{}.{}", res.kind, res.group)
    }
}

async fn one_target(ctx: &Ctx, args: &[String]) -> Result<(Resource, String)> {
    let mut disc = Discovery::load(&ctx.api).await?;
    let mut t = targets(ctx, &mut disc, args).await?;
    if t.is_empty() {
        return Err(anyhow!("required resource not specified"));
    }
    Ok(t.remove(0))
}

/// kubectl's `DeploymentStatusViewer`: the message and whether the rollout is done.
pub fn deployment_status(d: &Value) -> Result<(String, bool)> {
    let name = d["metadata"]["name"].as_str().unwrap_or("");
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(0);
    let st = &d["status"];
    let observed = st["observedGeneration"].as_i64().unwrap_or(0);
    if generation > observed {
        return Ok((
            "Waiting for deployment spec update to be observed...\n".into(),
            false,
        ));
    }
    let progressing = st["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Progressing");
    if progressing.is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded") {
        return Err(anyhow!(
            "deployment \"{name}\" exceeded its progress deadline"
        ));
    }
    let n = |k: &str| st[k].as_i64().unwrap_or(0);
    let updated = n("updatedReplicas");
    if let Some(want) = d["spec"]["replicas"].as_i64() {
        if updated < want {
            return Ok((format!("Waiting for deployment \"{name}\" rollout to finish: {updated} out of {want} new replicas have been updated...\n"), false));
        }
    }
    if n("replicas") > updated {
        return Ok((format!("Waiting for deployment \"{name}\" rollout to finish: {} old replicas are pending termination...\n", n("replicas") - updated), false));
    }
    if n("availableReplicas") < updated {
        return Ok((format!("Waiting for deployment \"{name}\" rollout to finish: {} of {updated} updated replicas are available...\n", n("availableReplicas")), false));
    }
    Ok((
        format!("deployment \"{name}\" successfully rolled out\n"),
        true,
    ))
}

/// kubectl's `DaemonSetStatusViewer`.
pub fn daemon_set_status(d: &Value) -> Result<(String, bool)> {
    let name = d["metadata"]["name"].as_str().unwrap_or("");
    if d["spec"]["updateStrategy"]["type"] != "RollingUpdate" {
        return Err(anyhow!(
            "rollout status is only available for RollingUpdate strategy type"
        ));
    }
    let st = &d["status"];
    let n = |k: &str| st[k].as_i64().unwrap_or(0);
    if d["metadata"]["generation"].as_i64().unwrap_or(0) > n("observedGeneration") {
        return Ok((
            "Waiting for daemon set spec update to be observed...\n".into(),
            false,
        ));
    }
    let desired = n("desiredNumberScheduled");
    if n("updatedNumberScheduled") < desired {
        return Ok((format!("Waiting for daemon set \"{name}\" rollout to finish: {} out of {desired} new pods have been updated...\n", n("updatedNumberScheduled")), false));
    }
    if n("numberAvailable") < desired {
        return Ok((format!("Waiting for daemon set \"{name}\" rollout to finish: {} of {desired} updated pods are available...\n", n("numberAvailable")), false));
    }
    Ok((
        format!("daemon set \"{name}\" successfully rolled out\n"),
        true,
    ))
}

/// kubectl's `StatefulSetStatusViewer`.
pub fn stateful_set_status(s: &Value) -> Result<(String, bool)> {
    let strategy = &s["spec"]["updateStrategy"];
    if strategy["type"] != "RollingUpdate" {
        return Err(anyhow!(
            "rollout status is only available for RollingUpdate strategy type"
        ));
    }
    let st = &s["status"];
    let n = |k: &str| st[k].as_i64().unwrap_or(0);
    let observed = n("observedGeneration");
    if observed == 0 || s["metadata"]["generation"].as_i64().unwrap_or(0) > observed {
        return Ok((
            "Waiting for statefulset spec update to be observed...\n".into(),
            false,
        ));
    }
    let replicas = s["spec"]["replicas"].as_i64();
    if let Some(r) = replicas {
        if n("readyReplicas") < r {
            return Ok((
                format!(
                    "Waiting for {} pods to be ready...\n",
                    r - n("readyReplicas")
                ),
                false,
            ));
        }
    }
    if strategy["rollingUpdate"].is_object() {
        if let (Some(r), Some(p)) = (replicas, strategy["rollingUpdate"]["partition"].as_i64()) {
            if n("updatedReplicas") < r - p {
                return Ok((format!("Waiting for partitioned roll out to finish: {} out of {} new pods have been updated...\n", n("updatedReplicas"), r - p), false));
            }
        }
        return Ok((
            format!(
                "partitioned roll out complete: {} new pods have been updated...\n",
                n("updatedReplicas")
            ),
            true,
        ));
    }
    let update = st["updateRevision"].as_str().unwrap_or("");
    let current = st["currentRevision"].as_str().unwrap_or("");
    if update != current {
        return Ok((format!("waiting for statefulset rolling update to complete {} pods at revision {update}...\n", n("updatedReplicas")), false));
    }
    Ok((
        format!(
            "statefulset rolling update complete {} pods at revision {current}...\n",
            n("currentReplicas")
        ),
        true,
    ))
}

/// The status viewer of a kind, as kubectl's `StatusViewerFor`.
type Viewer = fn(&Value) -> Result<(String, bool)>;

pub async fn status(ctx: &mut Ctx, args: &[String], watch: bool) -> Result<i32> {
    let (res, name) = one_target(ctx, args).await?;
    let viewer: Viewer = match (res.group.as_str(), res.kind.as_str()) {
        ("apps", "Deployment") => deployment_status,
        ("apps", "DaemonSet") => daemon_set_status,
        ("apps", "StatefulSet") => stateful_set_status,
        _ => {
            return Err(anyhow!(
                "no status viewer has been implemented for {}",
                group_kind(&res)
            ))
        }
    };
    let path = res.object(&ctx.namespace, &name);
    let d = ctx.api.get(&path).await?;
    let (msg, done) = viewer(&d)?;
    print!("{msg}");
    if done || !watch {
        return Ok(0);
    }
    let rv = d["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let watch_path = format!(
        "{}?fieldSelector=metadata.name%3D{name}&resourceVersion={rv}&watch=true",
        res.collection(Some(&ctx.namespace))
    );
    loop {
        let req = Request::builder()
            .method(Method::GET)
            .uri(&watch_path)
            .header("accept", ACCEPT_JSON)
            .body(kube::client::Body::empty())?;
        let resp = ctx.api.send(req).await?;
        let mut body = resp.into_body();
        let mut buf: Vec<u8> = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| anyhow!("watch: {e}"))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            buf.extend_from_slice(&data);
            while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                let Ok(ev) = serde_json::from_slice::<Value>(&line) else {
                    continue;
                };
                if ev["type"] == "DELETED" {
                    return Err(anyhow!("object has been deleted"));
                }
                if ev["type"] != "ADDED" && ev["type"] != "MODIFIED" {
                    continue;
                }
                let (msg, done) = viewer(&ev["object"])?;
                print!("{msg}");
                if done {
                    return Ok(0);
                }
            }
        }
    }
}

/// The deployment's ReplicaSets by revision (controller-owned, matched by selector).
async fn replica_sets(ctx: &Ctx, d: &Value) -> Result<BTreeMap<i64, Value>> {
    let labels = d["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let ns = d["metadata"]["namespace"]
        .as_str()
        .unwrap_or(&ctx.namespace);
    let uid = d["metadata"]["uid"].as_str().unwrap_or("");
    let list = ctx
        .api
        .get(&format!(
            "/apis/apps/v1/namespaces/{ns}/replicasets?labelSelector={}",
            crate::get::encode(&labels)
        ))
        .await?;
    let mut out = BTreeMap::new();
    for rs in list["items"].as_array().into_iter().flatten() {
        let owned = rs["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|o| o["controller"] == true && o["uid"] == uid);
        if !owned {
            continue;
        }
        let rev = rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        out.insert(rev, rs.clone());
    }
    Ok(out)
}

pub async fn history(ctx: &mut Ctx, args: &[String], revision: Option<i64>) -> Result<i32> {
    let (res, name) = one_deployment(ctx, args).await?;
    let d = ctx.api.get(&res.object(&ctx.namespace, &name)).await?;
    let sets = replica_sets(ctx, &d).await?;
    if revision.is_some() {
        return Err(anyhow!("--revision is not supported by kubectl-lite"));
    }
    if sets.is_empty() {
        println!("No rollout history found.");
        return Ok(0);
    }
    let mut lines = vec![vec!["REVISION".to_string(), "CHANGE-CAUSE".to_string()]];
    for (rev, rs) in &sets {
        let cause = rs["metadata"]["annotations"]["kubernetes.io/change-cause"]
            .as_str()
            .filter(|s| !s.is_empty())
            .unwrap_or("<none>");
        lines.push(vec![rev.to_string(), cause.to_string()]);
    }
    // kubectl's tabbedString: tabwriter(minwidth 0, padding 2).
    let width = lines.iter().map(|l| l[0].len()).max().unwrap_or(0) + 2;
    let mut text = String::new();
    for l in &lines {
        text.push_str(&format!("{:<width$}{}\n", l[0], l[1]));
    }
    print!("{}/{name} \n{text}\n", res.kind_prefix());
    Ok(0)
}

const SKIP: &[&str] = &[
    LAST_APPLIED,
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

fn without_hash(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(l) = t["metadata"]["labels"].as_object_mut() {
        l.remove("pod-template-hash");
    }
    t
}

pub async fn undo(ctx: &mut Ctx, args: &[String], to_revision: i64) -> Result<i32> {
    let (res, name) = one_deployment(ctx, args).await?;
    let path = res.object(&ctx.namespace, &name);
    let d = ctx.api.get(&path).await?;
    if d["spec"]["paused"] == true {
        return Err(anyhow!(
            "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again"
        ));
    }
    let sets = replica_sets(ctx, &d).await?;
    let rs = if to_revision == 0 {
        let revs: Vec<&i64> = sets.keys().collect();
        if revs.len() < 2 {
            return Err(anyhow!(
                "no rollout history found for deployment \"{name}\""
            ));
        }
        sets.get(revs[revs.len() - 2])
    } else {
        sets.get(&to_revision)
    };
    let Some(rs) = rs else {
        return Err(anyhow!(
            "unable to find specified revision {to_revision} in history"
        ));
    };
    let rev = rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let template = without_hash(&rs["spec"]["template"]);
    if template == without_hash(&d["spec"]["template"]) {
        println!(
            "{}/{name} skipped rollback (current template already matches revision {rev})",
            res.kind_prefix()
        );
        return Ok(0);
    }
    let mut annotations = serde_json::Map::new();
    for k in SKIP {
        if let Some(v) = d["metadata"]["annotations"].get(*k) {
            annotations.insert(k.to_string(), v.clone());
        }
    }
    for (k, v) in rs["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if !SKIP.contains(&k.as_str()) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    let patch = json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]);
    ctx.api
        .json(
            Method::PATCH,
            &path,
            ACCEPT_JSON,
            Some(("application/json-patch+json", serde_json::to_vec(&patch)?)),
        )
        .await?;
    println!("{}/{name} rolled back", res.kind_prefix());
    Ok(0)
}

/// RFC 3339 UTC timestamp of now (Go's `time.Now().Format(time.RFC3339)` under UTC).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub async fn restart(ctx: &mut Ctx, args: &[String]) -> Result<i32> {
    let (res, name) = one_deployment(ctx, args).await?;
    let path = res.object(&ctx.namespace, &name);
    let d = ctx.api.get(&path).await?;
    if d["spec"]["paused"] == true {
        return Err(anyhow!(
            "can't restart paused deployment (run rollout resume first)"
        ));
    }
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": now_rfc3339()}}}}});
    patch_as_rollout(ctx, &path, &patch).await?;
    println!("{}/{name} restarted", res.kind_prefix());
    Ok(0)
}

/// A strategic merge patch of object `path`, recorded under kubectl's `kubectl-rollout`.
async fn patch_as_rollout(ctx: &Ctx, path: &str, patch: &Value) -> Result<()> {
    ctx.api
        .json(
            Method::PATCH,
            &format!("{path}?fieldManager=kubectl-rollout"),
            ACCEPT_JSON,
            Some((
                "application/strategic-merge-patch+json",
                serde_json::to_vec(patch)?,
            )),
        )
        .await?;
    Ok(())
}

/// What `rollout pause` (`true`) or `resume` (`false`) does to one object: the strategic
/// merge patch, or kubectl's reason for not patching (`Ok(None)`: already in that state).
pub fn pause_patch(kind: &str, obj: &Value, pause: bool) -> Result<Option<Value>, String> {
    if kind != "Deployment" {
        return Err(if pause {
            "pausing is not supported"
        } else {
            "resuming is not supported"
        }
        .into());
    }
    let paused = obj["spec"]["paused"] == true;
    match (pause, paused) {
        (true, true) => Err("is already paused".into()),
        (false, false) => Err("is not paused".into()),
        (true, false) => Ok(Some(json!({"spec": {"paused": true}}))),
        (false, true) => Ok(Some(json!({"spec": {"paused": null}}))),
    }
}

/// `rollout pause|resume`: each target patched, `deployment.apps/web paused`; errors
/// `error: deployments.apps "web" is already paused` after the others are done.
pub async fn pause_or_resume(ctx: &mut Ctx, args: &[String], pause: bool) -> Result<i32> {
    let mut disc = Discovery::load(&ctx.api).await?;
    let targets = targets(ctx, &mut disc, args).await?;
    if targets.is_empty() {
        return Err(anyhow!("required resource not specified"));
    }
    let mut failed = false;
    for (res, name) in targets {
        let path = res.object(&ctx.namespace, &name);
        let obj = match ctx.api.get(&path).await {
            Ok(o) => o,
            Err(e) => {
                crate::mutate::print_error(&e);
                failed = true;
                continue;
            }
        };
        match pause_patch(&res.kind, &obj, pause) {
            Ok(Some(patch)) => {
                patch_as_rollout(ctx, &path, &patch).await?;
                let verb = if pause { "paused" } else { "resumed" };
                println!("{}/{name} {verb}", res.kind_prefix());
            }
            Ok(None) => {}
            Err(reason) => {
                eprintln!("error: {} {:?} {reason}", res.qualified(), name);
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_and_resume_patch_only_deployments_in_the_other_state() {
        let running = json!({"spec": {}});
        let paused = json!({"spec": {"paused": true}});
        assert_eq!(
            pause_patch("Deployment", &running, true),
            Ok(Some(json!({"spec": {"paused": true}})))
        );
        assert_eq!(
            pause_patch("Deployment", &paused, false),
            Ok(Some(json!({"spec": {"paused": null}})))
        );
        assert_eq!(
            pause_patch("Deployment", &paused, true),
            Err("is already paused".into())
        );
        assert_eq!(
            pause_patch("Deployment", &running, false),
            Err("is not paused".into())
        );
        assert_eq!(
            pause_patch("ReplicaSet", &running, true),
            Err("pausing is not supported".into())
        );
        assert_eq!(
            pause_patch("DaemonSet", &running, false),
            Err("resuming is not supported".into())
        );
    }

    #[test]
    fn rollout_status_messages_follow_kubectl() {
        let mut d = json!({"metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 10},
            "status": {"observedGeneration": 1}});
        assert_eq!(
            deployment_status(&d).unwrap().0,
            "Waiting for deployment spec update to be observed...\n"
        );
        d["status"] = json!({"observedGeneration": 2, "updatedReplicas": 3, "replicas": 13});
        assert_eq!(deployment_status(&d).unwrap().0, "Waiting for deployment \"web\" rollout to finish: 3 out of 10 new replicas have been updated...\n");
        d["status"] = json!({"observedGeneration": 2, "updatedReplicas": 10, "replicas": 12});
        assert_eq!(deployment_status(&d).unwrap().0, "Waiting for deployment \"web\" rollout to finish: 2 old replicas are pending termination...\n");
        d["status"] = json!({"observedGeneration": 2, "updatedReplicas": 10, "replicas": 10, "availableReplicas": 7});
        assert_eq!(deployment_status(&d).unwrap().0, "Waiting for deployment \"web\" rollout to finish: 7 of 10 updated replicas are available...\n");
        d["status"]["availableReplicas"] = json!(10);
        assert_eq!(
            deployment_status(&d).unwrap(),
            (
                "deployment \"web\" successfully rolled out\n".to_string(),
                true
            )
        );
        d["status"]["conditions"] =
            json!([{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]);
        assert_eq!(
            deployment_status(&d).unwrap_err().to_string(),
            "deployment \"web\" exceeded its progress deadline"
        );
    }

    #[test]
    fn restart_timestamps_are_rfc3339_utc() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20);
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T');
    }
}
