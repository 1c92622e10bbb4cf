//! A property: whatever the readiness timings, a rolling update never has more than
//! `replicas + maxSurge` live pods nor fewer than `replicas - maxUnavailable` available ones,
//! and ends at the new template with exactly `replicas` pods.

use crate::common::*;
use controller_manager::deployment::util::resolve_fenceposts;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use proptest::prelude::*;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn image(p: &Pod) -> String {
    p.spec.as_ref().unwrap().containers[0]
        .image
        .clone()
        .unwrap_or_default()
}

async fn rollout(
    replicas: i32,
    surge: i32,
    unavailable: i32,
    delays: Vec<u64>,
) -> Result<(), String> {
    let (max_surge, max_unavailable) = resolve_fenceposts(
        Some(&IntOrString::Int(surge)),
        Some(&IntOrString::Int(unavailable)),
        replicas,
    )
    .unwrap();
    let max_unavailable = max_unavailable.min(replicas);
    let mut c = Cluster::start().await;
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let s2 = seen.clone();
    c.run_kubelet(move |p| {
        let mut seen = s2.lock().unwrap();
        let n = seen.len();
        let due = *seen
            .entry(p.name_any())
            .or_insert_with(|| Instant::now() + Duration::from_millis(delays[n % delays.len()]));
        (Instant::now() >= due).then_some(Verdict::Ready)
    });
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "prop"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "prop"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
            "template": {"metadata": {"labels": {"app": "prop"}}, "spec": {"containers": [{"name": "c", "image": "app:v1"}]}}
        }
    }))
    .unwrap();
    let deployments: Api<Deployment> = c.api();
    deployments
        .create(&PostParams::default(), &d)
        .await
        .unwrap();
    let done = |want: &'static str| {
        let c = &c;
        async move {
            let p = pods(c, "app=prop").await;
            (p.len() == replicas as usize && p.iter().all(|p| is_ready(p) && image(p) == want))
                .then_some(())
        }
    };
    eventually("v1 ready", || done("app:v1")).await;

    // Watch every pod change and check the bounds on each observed state.
    let violations: Arc<Mutex<Vec<String>>> = Arc::default();
    let checking = Arc::new(AtomicBool::new(false));
    let (v2, ch2) = (violations.clone(), checking.clone());
    let pod_api: Api<Pod> = c.api();
    let checker = tokio::spawn(async move {
        let mut live: HashMap<String, Pod> = HashMap::new();
        let mut stream = watcher::watcher(pod_api, watcher::Config::default()).boxed();
        while let Some(Ok(ev)) = stream.next().await {
            match ev {
                watcher::Event::Apply(p) | watcher::Event::InitApply(p) => {
                    if p.metadata.deletion_timestamp.is_some() {
                        live.remove(&p.name_any());
                    } else {
                        live.insert(p.name_any(), p);
                    }
                }
                watcher::Event::Delete(p) => {
                    live.remove(&p.name_any());
                }
                _ => continue,
            }
            if !ch2.load(Ordering::SeqCst) {
                continue;
            }
            let total = live.len() as i32;
            let available = live.values().filter(|p| is_ready(p)).count() as i32;
            if total > replicas + max_surge {
                v2.lock()
                    .unwrap()
                    .push(format!("{total} live pods > {replicas} + {max_surge}"));
            }
            if available < replicas - max_unavailable {
                v2.lock().unwrap().push(format!(
                    "{available} available < {replicas} - {max_unavailable}"
                ));
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    checking.store(true, Ordering::SeqCst);
    deployments
        .patch("prop", &PatchParams::default(), &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "app:v2"}]}}}})))
        .await
        .unwrap();
    eventually("v2 rolled out", || done("app:v2")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    checker.abort();
    let v = violations.lock().unwrap().clone();
    if v.is_empty() {
        Ok(())
    } else {
        Err(v.join("; "))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, max_shrink_iters: 0, ..ProptestConfig::default() })]

    #[test]
    fn rolling_updates_stay_within_surge_and_unavailability_bounds(
        replicas in 1i32..=6,
        surge in 0i32..=3,
        unavailable in 0i32..=3,
        delays in proptest::collection::vec(0u64..250, 1..8),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let result = rt.block_on(rollout(replicas, surge, unavailable, delays));
        prop_assert!(result.is_ok(), "{:?}", result);
    }
}
