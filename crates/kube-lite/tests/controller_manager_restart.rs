//! `kube-lite controller-manager` as a separate process: killed in the middle of a rolling
//! update and started again, it finishes the rollout without creating any extra pod.

use kube::api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REPLICAS: usize = 6;

fn resource(group: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: "v1".into(),
        api_version: if group.is_empty() {
            "v1".into()
        } else {
            format!("{group}/v1")
        },
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn start_controller_manager(kubeconfig: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kube-lite"))
        .arg("controller-manager")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kube-lite controller-manager")
}

fn image(p: &DynamicObject) -> String {
    p.data
        .pointer("/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn ready(p: &DynamicObject) -> bool {
    p.data
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

async fn live_pods(pods: &Api<DynamicObject>) -> Vec<DynamicObject> {
    pods.list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect()
}

async fn wait_for<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_controller_manager_finishes_a_rollout_without_extra_pods() {
    let server = apiserver::server::InProcess::start()
        .await
        .expect("api server");
    let dir = std::env::temp_dir().join(format!("kube-lite-cm-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: {}\ncontexts:\n- name: t\n  context:\n    cluster: t\n    user: t\nusers:\n- name: t\n  user: {{}}\ncurrent-context: t\n",
            server.url
        ),
    )
    .unwrap();
    let client = kube::Client::try_from(kube::Config::new(server.url.parse().unwrap())).unwrap();
    let pods: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", &resource("", "Pod", "pods"));
    let deployments: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "default",
        &resource("apps", "Deployment", "deployments"),
    );

    // The test plays the kubelet: each pod becomes Running and Ready 300ms after it appears.
    let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
    let kubelet = {
        let pods = pods.clone();
        let seen = seen.clone();
        tokio::spawn(async move {
            let mut first_seen = std::collections::HashMap::<String, Instant>::new();
            loop {
                for p in live_pods(&pods).await {
                    let name = p.name_any();
                    seen.lock().unwrap().insert(name.clone());
                    let t0 = *first_seen.entry(name.clone()).or_insert_with(Instant::now);
                    if ready(&p) || t0.elapsed() < Duration::from_millis(300) {
                        continue;
                    }
                    let mut p = p;
                    let now = apimachinery_now();
                    p.data["status"] = json!({
                        "phase": "Running",
                        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
                        "containerStatuses": [{"name": "c", "image": image(&p), "imageID": "", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": now}}}]
                    });
                    let _ = pods.replace_status(&name, &PostParams::default(), &p).await;
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        })
    };

    let mut cm = start_controller_manager(&kubeconfig);
    let d: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "app:v1"}]}}
        }
    }))
    .unwrap();
    deployments
        .create(&PostParams::default(), &d)
        .await
        .unwrap();
    let all_ready = |want: &'static str| {
        let pods = pods.clone();
        async move {
            let p = live_pods(&pods).await;
            p.len() == REPLICAS && p.iter().all(|p| ready(p) && image(p) == want)
        }
    };
    wait_for("v1 ready", || all_ready("app:v1")).await;
    let v1_pods = seen.lock().unwrap().len();
    assert_eq!(v1_pods, REPLICAS);

    deployments
        .patch("web", &PatchParams::default(), &Patch::Merge(json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "app:v2"}]}}}})))
        .await
        .unwrap();
    // Kill it once the rollout is under way: some new pods, some old ones left.
    wait_for("the rollout under way", || {
        let pods = pods.clone();
        async move {
            let p = live_pods(&pods).await;
            let new = p.iter().filter(|p| image(p) == "app:v2").count();
            (2..REPLICAS - 1).contains(&new)
        }
    })
    .await;
    cm.kill().expect("kill");
    cm.wait().expect("reap");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let during = live_pods(&pods).await.len();
    assert!(
        during <= REPLICAS + 1,
        "{during} pods while the controllers were down"
    );

    let mut cm = start_controller_manager(&kubeconfig);
    wait_for("v2 rolled out", || all_ready("app:v2")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let end = live_pods(&pods).await;
    assert_eq!(end.len(), REPLICAS);
    // Every pod ever created: the v1 set plus exactly one v2 pod per replica.
    assert_eq!(
        seen.lock().unwrap().len(),
        2 * REPLICAS,
        "no extra pods were created"
    );
    cm.kill().ok();
    cm.wait().ok();
    kubelet.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

fn apimachinery_now() -> String {
    apiserver::clock::rfc3339(std::time::SystemTime::now())
}
