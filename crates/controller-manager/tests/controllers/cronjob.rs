use crate::common::*;
use crate::job::{fake_clock, finish, running};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Event;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use serde_json::{json, Value};
use std::time::Duration;

/// 1_800_000_000 s is minute 30_000_000.
const T0_MIN: u64 = 30_000_000;

fn cronjob(name: &str, extra: Value) -> CronJob {
    let mut v = json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": "*/1 * * * *",
            "jobTemplate": {"spec": {"backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "OnFailure",
                "containers": [{"name": "train", "image": "busybox",
                    "command": ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"]}]
            }}}}
        }
    });
    for (k, val) in extra.as_object().unwrap() {
        v["spec"][k] = val.clone();
    }
    serde_json::from_value(v).unwrap()
}

async fn job_names(c: &Cluster) -> Vec<String> {
    let mut n: Vec<String> = c
        .api::<Job>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|j| j.metadata.deletion_timestamp.is_none())
        .map(|j| j.name_any())
        .collect();
    n.sort();
    n
}

async fn has_job(c: &Cluster, name: &str) -> Job {
    eventually(&format!("job {name}"), || async {
        c.api::<Job>().get(name).await.ok()
    })
    .await
}

async fn finish_job(c: &Cluster, name: &str, ok: bool) {
    let pod = eventually(&format!("pod of {name}"), || async {
        running(c, name).await.into_iter().next()
    })
    .await;
    finish(c, pod, ok).await;
    eventually(&format!("{name} finished"), || async {
        let j = c.api::<Job>().get(name).await.ok()?;
        j.status?
            .conditions?
            .iter()
            .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
            .then_some(())
    })
    .await;
}

async fn event_notes(c: &Cluster, obj: &str, reason: &str) -> Vec<String> {
    let api: Api<Event> = c.api();
    api.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(obj))
        .filter(|e| e.reason.as_deref() == Some(reason))
        .map(|e| e.message.unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn an_every_minute_cronjob_creates_hello_minutes_jobs_as_the_clock_advances() {
    let clock = fake_clock();
    let c = Cluster::start_with_clock(clock.clone()).await;
    c.create::<CronJob>(&cronjob("hello", json!({}))).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(job_names(&c).await.is_empty());
    clock.advance(Duration::from_secs(60));
    let name = format!("hello-{}", T0_MIN + 1);
    let j = has_job(&c, &name).await;
    assert_eq!(
        j.annotations()["batch.kubernetes.io/cronjob-scheduled-timestamp"],
        "2027-01-15T08:01:00Z"
    );
    let r = &j.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (r.kind.as_str(), r.name.as_str(), r.controller),
        ("CronJob", "hello", Some(true))
    );
    let st = eventually("active 1", || async {
        let s = c.api::<CronJob>().get("hello").await.ok()?.status?;
        (s.active.as_ref().map(Vec::len) == Some(1)).then_some(s)
    })
    .await;
    assert!(st.last_schedule_time.is_some());
    finish_job(&c, &name, true).await;
    eventually("lastSuccessfulTime, nothing active", || async {
        let s = c.api::<CronJob>().get("hello").await.ok()?.status?;
        (s.active.unwrap_or_default().is_empty() && s.last_successful_time.is_some()).then_some(())
    })
    .await;
    clock.advance(Duration::from_secs(60));
    has_job(&c, &format!("hello-{}", T0_MIN + 2)).await;
    let created = eventually("events", || async {
        let n = event_notes(&c, "hello", "SuccessfulCreate").await;
        (n.len() == 2).then_some(n)
    })
    .await;
    assert!(created.contains(&format!("Created job {name}")));
    let saw = eventually("SawCompletedJob", || async {
        let n = event_notes(&c, "hello", "SawCompletedJob").await;
        (!n.is_empty()).then_some(n)
    })
    .await;
    assert_eq!(
        saw,
        vec![format!("Saw completed job: {name}, status: Complete")]
    );
}

#[tokio::test]
async fn forbid_skips_while_a_job_runs_and_replace_replaces_it() {
    let clock = fake_clock();
    let c = Cluster::start_with_clock(clock.clone()).await;
    c.create::<CronJob>(&cronjob("forbid", json!({"concurrencyPolicy": "Forbid"})))
        .await;
    c.create::<CronJob>(&cronjob("replace", json!({"concurrencyPolicy": "Replace"})))
        .await;
    clock.advance(Duration::from_secs(60));
    has_job(&c, &format!("forbid-{}", T0_MIN + 1)).await;
    has_job(&c, &format!("replace-{}", T0_MIN + 1)).await;
    eventually("both active", || async {
        let a = c
            .api::<CronJob>()
            .get("forbid")
            .await
            .ok()?
            .status?
            .active?;
        let b = c
            .api::<CronJob>()
            .get("replace")
            .await
            .ok()?
            .status?
            .active?;
        (a.len() == 1 && b.len() == 1).then_some(())
    })
    .await;
    clock.advance(Duration::from_secs(60));
    has_job(&c, &format!("replace-{}", T0_MIN + 2)).await;
    eventually("JobAlreadyActive", || async {
        (!event_notes(&c, "forbid", "JobAlreadyActive")
            .await
            .is_empty())
        .then_some(())
    })
    .await;
    eventually("the replaced job is deleted", || async {
        let names = job_names(&c).await;
        (names
            == vec![
                format!("forbid-{}", T0_MIN + 1),
                format!("replace-{}", T0_MIN + 2),
            ])
        .then_some(())
    })
    .await;
    assert_eq!(
        event_notes(&c, "replace", "SuccessfulDelete").await,
        vec![format!("Deleted job replace-{}", T0_MIN + 1)]
    );
}

#[tokio::test]
async fn a_schedule_missed_by_more_than_the_starting_deadline_is_skipped() {
    let clock = fake_clock();
    let c = Cluster::start_with_clock(clock.clone()).await;
    c.create::<CronJob>(&cronjob("late", json!({"startingDeadlineSeconds": 30})))
        .await;
    // The 08:01 run is 45s late at the next look, beyond the 30s deadline: it is not started
    // (with the deadline, upstream only looks back startingDeadlineSeconds).
    clock.advance(Duration::from_secs(105));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(job_names(&c).await.is_empty());
    clock.advance(Duration::from_secs(15));
    has_job(&c, &format!("late-{}", T0_MIN + 2)).await;
}

#[tokio::test]
async fn finished_jobs_are_pruned_to_three_successful_and_one_failed() {
    let clock = fake_clock();
    let c = Cluster::start_with_clock(clock.clone()).await;
    c.create::<CronJob>(&cronjob("hist", json!({}))).await;
    for i in 1..=6u64 {
        clock.advance(Duration::from_secs(60));
        let name = format!("hist-{}", T0_MIN + i);
        has_job(&c, &name).await;
        finish_job(&c, &name, i <= 4).await;
    }
    eventually("3 complete + 1 failed kept", || async {
        let names = job_names(&c).await;
        (names
            == (2..=4)
                .chain(6..=6)
                .map(|i| format!("hist-{}", T0_MIN + i))
                .collect::<Vec<_>>())
        .then_some(())
    })
    .await;
    let st = c
        .api::<CronJob>()
        .get("hist")
        .await
        .unwrap()
        .status
        .unwrap();
    assert!(st.last_successful_time.is_some() && st.last_schedule_time.is_some());
}
