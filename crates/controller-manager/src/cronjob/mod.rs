//! The CronJob controller (`pkg/controller/cronjob/cronjob_controllerv2.go`, §6): creates a Job
//! `<cronjob>-<scheduled Unix minutes>` from the jobTemplate at each scheduled time (in
//! `spec.timeZone`), honouring concurrencyPolicy, startingDeadlineSeconds and suspend; tracks
//! its active Jobs, lastScheduleTime and lastSuccessfulTime; prunes finished Jobs to the
//! history limits; and requeues itself at the next scheduled time on the `Clock`.

pub mod schedule;

use crate::shared::events::{EventType, Recorder};
use crate::shared::informer::Informer;
use crate::shared::pod_control::controller_ref;
use crate::shared::pods::controller_ref as ctrl_of;
use crate::shared::time::{from_time, to_time};
use crate::shared::{error_message, is_already_exists, is_not_found, split_key};
use crate::Context;
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, PostParams, PropagationPolicy};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Resource, ResourceExt};
use schedule::{most_recent, Schedule, ScheduleError, MAX_MISSED};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::shared::owned::{self, Owned};
use crate::shared::queue::{run_workers, Queue};

/// The annotation with the scheduled time (RFC 3339 in the schedule's zone).
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Requeues land this long after the scheduled time. Upstream adds 100ms against skew between
/// its cron arithmetic and the clock; here the next time is computed exactly and the queue
/// fires at `due <= now`, so none is needed (and a fake clock stepped by whole minutes lands
/// exactly on the schedule).
const NEXT_DELTA: Duration = Duration::ZERO;

pub struct CronJobController {
    ctx: Context,
    cronjobs: Store<CronJob>,
    jobs: Store<Job>,
    queue: Arc<Queue>,
    recorder: Recorder,
}

/// A Job's finished condition type (`Complete` or `Failed`), if any.
fn finished_status(job: &Job) -> Option<&'static str> {
    let conds = job.status.as_ref()?.conditions.as_ref()?;
    ["Complete", "Failed"]
        .into_iter()
        .find(|t| conds.iter().any(|c| c.type_ == *t && c.status == "True"))
}

impl CronJobController {
    pub fn new(
        ctx: &Context,
        cronjobs: &mut Informer<CronJob>,
        jobs: &mut Informer<Job>,
    ) -> Arc<Self> {
        let queue = Queue::new(ctx.clock.clone());
        owned::enqueue_owners(cronjobs, &queue, None);
        Owned {
            kind: "CronJob",
            owners: cronjobs.store.clone(),
            selector_of: None,
            expectations: None,
            queue: queue.clone(),
            resync_all: false,
        }
        .watch(jobs);
        Arc::new(CronJobController {
            ctx: ctx.clone(),
            cronjobs: cronjobs.store.clone(),
            jobs: jobs.store.clone(),
            queue,
            recorder: Recorder::new(ctx.client.clone(), "cronjob-controller", ctx.clock.clone()),
        })
    }

    pub async fn run(self: Arc<Self>, workers: usize) {
        let c = self.clone();
        run_workers(self.queue.clone(), workers, "cronjob", move |k| {
            let c = c.clone();
            async move { c.sync(&k).await }
        })
        .await
    }

    /// `syncCronJob`.
    async fn sync(&self, k: &str) -> anyhow::Result<Option<Duration>> {
        let (ns, name) = split_key(k);
        if self
            .cronjobs
            .get(&ObjectRef::new(name).within(ns))
            .is_none()
        {
            return Ok(None);
        }
        let cj_api: Api<CronJob> = Api::namespaced(self.ctx.client.clone(), ns);
        let job_api: Api<Job> = Api::namespaced(self.ctx.client.clone(), ns);
        // A live read: the status this controller wrote last must be the one it acts on.
        let cj = match cj_api.get(name).await {
            Ok(cj) => cj,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if cj.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let uid = cj.uid().unwrap_or_default();
        let spec = cj.spec.clone().unwrap_or_default();
        let mut status = cj.status.clone().unwrap_or_default();
        let mut active = status.active.clone().unwrap_or_default();
        let owned: Vec<Arc<Job>> = self
            .jobs
            .state()
            .into_iter()
            .filter(|j| j.metadata.namespace.as_deref() == Some(ns))
            .filter(|j| ctrl_of(&j.metadata).is_some_and(|r| r.uid == uid))
            .collect();
        let in_active = |active: &Vec<ObjectReference>, j: &Job| {
            active.iter().any(|r| r.uid.is_some() && r.uid == j.uid())
        };

        // Track the Jobs: finished ones leave `active`, unexpected ones are reported.
        for j in &owned {
            let found = in_active(&active, j);
            match (found, finished_status(j)) {
                (true, Some(st)) => {
                    active.retain(|r| r.uid != j.uid());
                    self.recorder.event(
                        &cj,
                        EventType::Normal,
                        "SawCompletedJob",
                        format!("Saw completed job: {}, status: {st}", j.name_any()),
                    );
                }
                (false, None) if j.metadata.deletion_timestamp.is_none() => {
                    self.recorder.event(
                        &cj,
                        EventType::Warning,
                        "UnexpectedJob",
                        format!(
                            "Saw a job that the controller did not create or forgot: {}",
                            j.name_any()
                        ),
                    );
                }
                _ => {}
            }
        }
        // Active refs whose Job is gone (checked live, the store may lag behind a create).
        let mut kept = Vec::new();
        for r in active {
            let in_store = owned.iter().any(|j| j.uid() == r.uid);
            if in_store {
                kept.push(r);
                continue;
            }
            let rname = r.name.clone().unwrap_or_default();
            match job_api.get(&rname).await {
                Ok(j) if j.uid() == r.uid && finished_status(&j).is_none() => kept.push(r),
                Ok(j) if j.uid() == r.uid => self.recorder.event(
                    &cj,
                    EventType::Normal,
                    "SawCompletedJob",
                    format!(
                        "Saw completed job: {}, status: {}",
                        j.name_any(),
                        finished_status(&j).unwrap_or_default()
                    ),
                ),
                Ok(_) => self.missing_job(&cj, &rname),
                Err(e) if is_not_found(&e) => self.missing_job(&cj, &rname),
                Err(e) => return Err(e.into()),
            }
        }
        let mut active = kept;
        let last_success = owned
            .iter()
            .filter(|j| finished_status(j) == Some("Complete") && !in_active(&active, j))
            .filter_map(|j| j.status.as_ref()?.completion_time.clone())
            .max_by_key(|t| t.0);
        if let Some(t) = last_success {
            if status
                .last_successful_time
                .as_ref()
                .is_none_or(|old| old.0 < t.0)
            {
                status.last_successful_time = Some(t);
            }
        }

        // History limits.
        self.prune(&cj, &job_api, &owned, &active).await;

        let now = self.ctx.clock.now();
        let parsed = schedule::parse(&spec.schedule, spec.time_zone.as_deref());
        let (sched, tz_prefix) = match parsed {
            Ok(s) => s,
            Err(e) => {
                let reason = match e {
                    ScheduleError::UnknownTimeZone(_) => "UnknownTimeZone",
                    ScheduleError::Unparseable(_) => "UnparseableSchedule",
                };
                self.recorder
                    .event(&cj, EventType::Warning, reason, e.to_string());
                status.active = Some(active);
                self.write_status(&cj_api, &cj, status).await?;
                return Ok(None);
            }
        };
        if tz_prefix {
            self.recorder.event(
                &cj,
                EventType::Warning,
                "UnsupportedSchedule",
                "CRON_TZ or TZ used in schedule is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
            );
        }
        let requeue_after = |from: SystemTime| -> Option<Duration> {
            let next = sched.next(from.max(now))?;
            Some(next.duration_since(now).unwrap_or_default() + NEXT_DELTA)
        };
        if spec.suspend.unwrap_or(false) {
            status.active = Some(active);
            self.write_status(&cj_api, &cj, status).await?;
            return Ok(None);
        }
        let earliest = status
            .last_schedule_time
            .as_ref()
            .or(cj.metadata.creation_timestamp.as_ref())
            .map(from_time)
            .unwrap_or(now);
        let sds = spec.starting_deadline_seconds;
        let (scheduled, missed) = most_recent(&sched, earliest, now, sds);
        let Some(scheduled) = scheduled else {
            status.active = Some(active);
            self.write_status(&cj_api, &cj, status).await?;
            return Ok(requeue_after(now));
        };
        if missed > MAX_MISSED {
            self.recorder.event(
                &cj,
                EventType::Warning,
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
            );
        }
        let too_late = sds.is_some_and(|s| scheduled + Duration::from_secs(s.max(0) as u64) < now);
        let job_name = schedule::job_name(&cj.name_any(), scheduled);
        let already = active
            .iter()
            .any(|r| r.name.as_deref() == Some(job_name.as_str()))
            || status.last_schedule_time.as_ref().map(from_time) == Some(scheduled);
        let policy = spec
            .concurrency_policy
            .clone()
            .unwrap_or_else(|| "Allow".into());
        if too_late {
            self.recorder.event(
                &cj,
                EventType::Warning,
                "MissSchedule",
                format!(
                    "Missed scheduled time to start a job: {}",
                    schedule::rfc1123z(&sched, scheduled)
                ),
            );
        } else if already {
            // Already started (or being tracked): nothing to do until the next schedule.
        } else if policy == "Forbid" && !active.is_empty() {
            self.recorder.event(
                &cj,
                EventType::Normal,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
            );
        } else {
            if policy == "Replace" {
                for r in std::mem::take(&mut active) {
                    let n = r.name.clone().unwrap_or_default();
                    match delete_job(&job_api, &n).await {
                        Ok(()) => self.recorder.event(
                            &cj,
                            EventType::Normal,
                            "SuccessfulDelete",
                            format!("Deleted job {n}"),
                        ),
                        Err(e) => {
                            self.recorder.event(
                                &cj,
                                EventType::Warning,
                                "FailedDelete",
                                format!("Deleted job: {}", error_message(&e)),
                            );
                            active.push(r);
                        }
                    }
                }
                if !active.is_empty() {
                    status.active = Some(active);
                    self.write_status(&cj_api, &cj, status).await?;
                    anyhow::bail!("could not replace the active jobs");
                }
            }
            let job = job_from_template(&cj, &sched, scheduled);
            match job_api.create(&PostParams::default(), &job).await {
                Ok(j) => {
                    self.recorder.event(
                        &cj,
                        EventType::Normal,
                        "SuccessfulCreate",
                        format!("Created job {}", j.name_any()),
                    );
                    active.push(j.object_ref(&()));
                    status.last_schedule_time = Some(to_time(scheduled));
                }
                Err(e) if is_already_exists(&e) => {
                    // Created earlier (a lost status write): track it if it is ours.
                    if let Ok(j) = job_api.get(&job_name).await {
                        if ctrl_of(&j.metadata).is_some_and(|r| r.uid == uid) {
                            if finished_status(&j).is_none() && !in_active(&active, &j) {
                                active.push(j.object_ref(&()));
                            }
                            status.last_schedule_time = Some(to_time(scheduled));
                        }
                    }
                }
                Err(e) => {
                    self.recorder.event(
                        &cj,
                        EventType::Warning,
                        "FailedCreate",
                        format!("Error creating job: {}", error_message(&e)),
                    );
                    status.active = Some(active);
                    self.write_status(&cj_api, &cj, status).await?;
                    return Err(e.into());
                }
            }
        }
        status.active = Some(active);
        self.write_status(&cj_api, &cj, status).await?;
        Ok(requeue_after(scheduled))
    }

    fn missing_job(&self, cj: &CronJob, name: &str) {
        self.recorder.event(
            cj,
            EventType::Normal,
            "MissingJob",
            format!("Active job went missing: {name}"),
        );
    }

    async fn write_status(
        &self,
        api: &Api<CronJob>,
        cj: &CronJob,
        mut status: CronJobStatus,
    ) -> anyhow::Result<()> {
        if status.active.as_ref().is_some_and(Vec::is_empty) {
            status.active = None;
        }
        let mut old = cj.status.clone().unwrap_or_default();
        if old.active.as_ref().is_some_and(Vec::is_empty) {
            old.active = None;
        }
        if old == status {
            return Ok(());
        }
        let mut c = cj.clone();
        c.status = Some(status);
        api.replace_status(&cj.name_any(), &PostParams::default(), &c)
            .await?;
        Ok(())
    }

    /// `cleanupFinishedJobs`: keep the newest `successfulJobsHistoryLimit` (3) Complete and
    /// `failedJobsHistoryLimit` (1) Failed Jobs, by start time.
    async fn prune(
        &self,
        cj: &CronJob,
        api: &Api<Job>,
        owned: &[Arc<Job>],
        active: &[ObjectReference],
    ) {
        let spec = cj.spec.clone().unwrap_or_default();
        for (kind, limit) in [
            ("Complete", spec.successful_jobs_history_limit.unwrap_or(3)),
            ("Failed", spec.failed_jobs_history_limit.unwrap_or(1)),
        ] {
            let mut done: Vec<&Arc<Job>> = owned
                .iter()
                .filter(|j| finished_status(j) == Some(kind))
                .filter(|j| j.metadata.deletion_timestamp.is_none())
                .filter(|j| !active.iter().any(|r| r.uid == j.uid()))
                .collect();
            let excess = done.len().saturating_sub(limit.max(0) as usize);
            if excess == 0 {
                continue;
            }
            // Oldest first; a missing start time sorts last; ties by name.
            done.sort_by(|a, b| {
                let sa = a
                    .status
                    .as_ref()
                    .and_then(|s| s.start_time.clone())
                    .map(|t| t.0);
                let sb = b
                    .status
                    .as_ref()
                    .and_then(|s| s.start_time.clone())
                    .map(|t| t.0);
                match (sa, sb) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
                .then_with(|| a.name_any().cmp(&b.name_any()))
            });
            for j in done.into_iter().take(excess) {
                let n = j.name_any();
                match delete_job(api, &n).await {
                    Ok(()) => self.recorder.event(
                        cj,
                        EventType::Normal,
                        "SuccessfulDelete",
                        format!("Deleted job {n}"),
                    ),
                    Err(e) => self.recorder.event(
                        cj,
                        EventType::Warning,
                        "FailedDelete",
                        format!("Deleted job: {}", error_message(&e)),
                    ),
                }
            }
        }
    }
}

/// Delete a Job with Background propagation (its pods go with it); a missing one counts.
async fn delete_job(api: &Api<Job>, name: &str) -> Result<(), kube::Error> {
    let dp = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..Default::default()
    };
    match api.delete(name, &dp).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `getJobFromTemplate2`: the Job for `scheduled`.
pub fn job_from_template(cj: &CronJob, sched: &Schedule, scheduled: SystemTime) -> Job {
    let spec = cj.spec.clone().unwrap_or_default();
    let tmpl = spec.job_template;
    let tm = tmpl.metadata.unwrap_or_default();
    let mut annotations = tm.annotations.unwrap_or_default();
    annotations.insert(
        SCHEDULED_TIMESTAMP.into(),
        schedule::scheduled_timestamp(sched, scheduled),
    );
    Job {
        metadata: ObjectMeta {
            name: Some(schedule::job_name(&cj.name_any(), scheduled)),
            namespace: cj.namespace(),
            labels: tm.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![controller_ref(cj)]),
            ..Default::default()
        },
        spec: tmpl.spec,
        status: None,
    }
}
