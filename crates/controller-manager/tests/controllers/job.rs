use crate::common::*;
use apimachinery::clock::FakeClock;
use controller_manager::shared::time::to_time;
use k8s_openapi::api::batch::v1::{Job, JobStatus};
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateTerminated, ContainerStatus, Event, Pod, PodStatus,
};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

pub fn job(name: &str, spec: Value) -> Job {
    let mut spec = spec;
    spec["template"] = json!({"spec": {
        "restartPolicy": spec.get("restartPolicy").cloned().unwrap_or(json!("Never")),
        "containers": [{"name": "train", "image": "nemo1107/train"}]
    }});
    spec.as_object_mut().unwrap().remove("restartPolicy");
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name}, "spec": spec
    }))
    .unwrap()
}

pub fn fake_clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::at(
        UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    ))
}

/// Play the kubelet: the pod's container terminated with `ok` (phase Succeeded or Failed).
pub async fn finish(c: &Cluster, mut pod: Pod, ok: bool) {
    let t = to_time(c.clock.now());
    pod.status = Some(PodStatus {
        phase: Some(if ok { "Succeeded" } else { "Failed" }.into()),
        container_statuses: Some(vec![ContainerStatus {
            name: "train".into(),
            image: "nemo1107/train".into(),
            image_id: String::new(),
            ready: false,
            restart_count: 0,
            state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: if ok { 0 } else { 1 },
                    reason: Some(if ok { "Completed" } else { "Error" }.into()),
                    started_at: Some(t.clone()),
                    finished_at: Some(t),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let api: Api<Pod> = c.api();
    api.replace_status(&pod.name_any(), &PostParams::default(), &pod)
        .await
        .expect("pod status");
}

/// Pods of job `name` that are still running (not terminal, not deleting).
pub async fn running(c: &Cluster, name: &str) -> Vec<Pod> {
    pods(c, &format!("batch.kubernetes.io/job-name={name}"))
        .await
        .into_iter()
        .filter(|p| {
            !matches!(
                p.status.as_ref().and_then(|s| s.phase.as_deref()),
                Some("Succeeded" | "Failed")
            )
        })
        .collect()
}

pub async fn all_pods(c: &Cluster, name: &str) -> Vec<Pod> {
    let api: Api<Pod> = c.api();
    api.list(&ListParams::default().labels(&format!("batch.kubernetes.io/job-name={name}")))
        .await
        .unwrap()
        .items
}

pub async fn status(c: &Cluster, name: &str) -> JobStatus {
    c.api::<Job>()
        .get(name)
        .await
        .unwrap()
        .status
        .unwrap_or_default()
}

pub fn conds(s: &JobStatus) -> Vec<(String, String)> {
    s.conditions
        .iter()
        .flatten()
        .filter(|c| c.status == "True")
        .map(|c| (c.type_.clone(), c.reason.clone().unwrap_or_default()))
        .collect()
}

fn has(s: &JobStatus, t: &str) -> bool {
    conds(s).iter().any(|(ty, _)| ty == t)
}

async fn wait_running(c: &Cluster, name: &str, n: usize) -> Vec<Pod> {
    eventually(&format!("{n} running pods of {name}"), || async {
        let p = running(c, name).await;
        (p.len() == n).then_some(p)
    })
    .await
}

async fn events(c: &Cluster, obj: &str) -> Vec<(String, String)> {
    let api: Api<Event> = c.api();
    api.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(obj))
        .map(|e| (e.reason.unwrap_or_default(), e.message.unwrap_or_default()))
        .collect()
}

#[tokio::test]
async fn a_job_runs_one_pod_to_completion_and_reports_complete() {
    let c = Cluster::start().await;
    c.create::<Job>(&job("myjob", json!({"backoffLimit": 2})))
        .await;
    let pod = wait_running(&c, "myjob", 1).await.remove(0);
    assert!(pod.name_any().starts_with("myjob-"));
    assert_eq!(
        pod.metadata.finalizers,
        Some(vec!["batch.kubernetes.io/job-tracking".to_string()])
    );
    let r = &pod.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!((r.kind.as_str(), r.controller), ("Job", Some(true)));
    eventually("active 1", || async {
        (status(&c, "myjob").await.active == Some(1)).then_some(())
    })
    .await;
    finish(&c, pod.clone(), true).await;
    let s = eventually("Complete", || async {
        let s = status(&c, "myjob").await;
        has(&s, "Complete").then_some(s)
    })
    .await;
    assert_eq!(
        conds(&s),
        vec![
            ("SuccessCriteriaMet".into(), "CompletionsReached".into()),
            ("Complete".into(), "CompletionsReached".into())
        ]
    );
    assert_eq!(
        (s.succeeded, s.failed, s.active),
        (Some(1), Some(0), Some(0))
    );
    assert!(s.start_time.is_some() && s.completion_time.is_some());
    let p = c.api::<Pod>().get(&pod.name_any()).await.unwrap();
    assert!(p.metadata.finalizers.unwrap_or_default().is_empty());
    let evs = eventually("events", || async {
        let e = events(&c, "myjob").await;
        (e.len() >= 2).then_some(e)
    })
    .await;
    assert!(evs.contains(&(
        "SuccessfulCreate".into(),
        format!("Created pod: {}", pod.name_any())
    )));
    assert!(evs.contains(&("Completed".into(), "Job completed".into())));
}

#[tokio::test]
async fn completions_3_with_parallelism_2_runs_at_most_two_pods_at_once() {
    let c = Cluster::start().await;
    c.create::<Job>(&job("par", json!({"completions": 3, "parallelism": 2})))
        .await;
    let first = wait_running(&c, "par", 2).await;
    finish(&c, first[0].clone(), true).await;
    finish(&c, first[1].clone(), true).await;
    let last = wait_running(&c, "par", 1).await;
    finish(&c, last[0].clone(), true).await;
    let s = eventually("Complete", || async {
        let s = status(&c, "par").await;
        has(&s, "Complete").then_some(s)
    })
    .await;
    assert_eq!(s.succeeded, Some(3));
    assert_eq!(all_pods(&c, "par").await.len(), 3);
}

#[tokio::test]
async fn failed_pods_are_retried_with_backoff_until_the_backoff_limit() {
    let clock = fake_clock();
    let c = Cluster::start_with_clock(clock.clone()).await;
    c.create::<Job>(&job("fail", json!({"backoffLimit": 2})))
        .await;
    for (i, delay) in [10u64, 20].iter().enumerate() {
        let p = wait_running(&c, "fail", 1).await.remove(0);
        finish(&c, p, false).await;
        eventually("failure counted", || async {
            (status(&c, "fail").await.failed == Some(i as i32 + 1)).then_some(())
        })
        .await;
        // No replacement before the backoff has passed on the clock.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            running(&c, "fail").await.is_empty(),
            "replaced before {delay}s"
        );
        clock.advance(Duration::from_secs(delay - 1));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            running(&c, "fail").await.is_empty(),
            "replaced before {delay}s"
        );
        clock.advance(Duration::from_secs(1));
    }
    let p = wait_running(&c, "fail", 1).await.remove(0);
    finish(&c, p, false).await;
    let s = eventually("Failed", || async {
        let s = status(&c, "fail").await;
        has(&s, "Failed").then_some(s)
    })
    .await;
    assert_eq!(
        conds(&s),
        vec![
            ("FailureTarget".into(), "BackoffLimitExceeded".into()),
            ("Failed".into(), "BackoffLimitExceeded".into())
        ]
    );
    let failed = s
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Failed")
        .unwrap();
    assert_eq!(
        failed.message.as_deref(),
        Some("Job has reached the specified backoff limit")
    );
    assert_eq!(s.failed, Some(3));
    assert_eq!(
        all_pods(&c, "fail").await.len(),
        3,
        "exactly 1 + backoffLimit pods"
    );
}

#[tokio::test]
async fn a_job_past_its_active_deadline_fails_with_deadline_exceeded() {
    let clock = fake_clock();
    let c = Cluster::start_with_clock(clock.clone()).await;
    c.create::<Job>(&job("slow", json!({"activeDeadlineSeconds": 30})))
        .await;
    wait_running(&c, "slow", 1).await;
    clock.advance(Duration::from_secs(31));
    let s = eventually("Failed", || async {
        let s = status(&c, "slow").await;
        has(&s, "Failed").then_some(s)
    })
    .await;
    assert_eq!(conds(&s).last().unwrap().1, "DeadlineExceeded");
    assert!(running(&c, "slow").await.is_empty());
}

#[tokio::test]
async fn a_suspended_job_deletes_its_pods_and_resumes() {
    let c = Cluster::start().await;
    let api = c.api::<Job>();
    api.create(&PostParams::default(), &job("sus", json!({})))
        .await
        .unwrap();
    wait_running(&c, "sus", 1).await;
    let patch = |v: bool| json!({"spec": {"suspend": v}});
    api.patch("sus", &PatchParams::default(), &Patch::Merge(&patch(true)))
        .await
        .unwrap();
    eventually("suspended, no pods", || async {
        let s = status(&c, "sus").await;
        (conds(&s).contains(&("Suspended".into(), "JobSuspended".into()))
            && all_pods(&c, "sus").await.is_empty()
            && s.active == Some(0))
        .then_some(())
    })
    .await;
    api.patch("sus", &PatchParams::default(), &Patch::Merge(&patch(false)))
        .await
        .unwrap();
    wait_running(&c, "sus", 1).await;
    let s = status(&c, "sus").await;
    let sc = s
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Suspended")
        .unwrap();
    assert_eq!(
        (sc.status.as_str(), sc.reason.as_deref()),
        ("False", Some("JobResumed"))
    );
}

#[tokio::test]
async fn an_indexed_job_runs_one_pod_per_index_and_reports_completed_indexes() {
    let c = Cluster::start().await;
    c.create::<Job>(&job(
        "idx",
        json!({"completions": 3, "parallelism": 3, "completionMode": "Indexed"}),
    ))
    .await;
    let mut pods = wait_running(&c, "idx", 3).await;
    pods.sort_by_key(|p| p.annotations()["batch.kubernetes.io/job-completion-index"].clone());
    for (i, p) in pods.iter().enumerate() {
        assert_eq!(
            p.labels()["batch.kubernetes.io/job-completion-index"],
            i.to_string()
        );
        assert!(p.name_any().starts_with(&format!("idx-{i}-")));
        assert_eq!(
            p.spec.as_ref().unwrap().hostname.as_deref(),
            Some(format!("idx-{i}").as_str())
        );
    }
    finish(&c, pods[0].clone(), true).await;
    finish(&c, pods[2].clone(), true).await;
    eventually("0,2 completed", || async {
        (status(&c, "idx").await.completed_indexes.as_deref() == Some("0,2")).then_some(())
    })
    .await;
    finish(&c, pods[1].clone(), true).await;
    let s = eventually("Complete", || async {
        let s = status(&c, "idx").await;
        has(&s, "Complete").then_some(s)
    })
    .await;
    assert_eq!(
        (s.completed_indexes.as_deref(), s.succeeded),
        (Some("0-2"), Some(3))
    );
}
