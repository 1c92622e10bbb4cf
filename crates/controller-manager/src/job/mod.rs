//! The Job controller (`pkg/controller/job`, §5): runs pods until `completions` succeed
//! (NonIndexed, or Indexed with one pod per completion index), tracking finished pods through
//! the `batch.kubernetes.io/job-tracking` finalizer and `status.uncountedTerminatedPods`,
//! retrying failures with the exponential pod-failure backoff up to `backoffLimit`, enforcing
//! `activeDeadlineSeconds`, honouring suspend, writing the v1.35 condition sequence
//! (SuccessCriteriaMet → Complete, FailureTarget → Failed) and deleting finished Jobs after
//! `ttlSecondsAfterFinished`. Delays are measured on the `Clock`.

pub mod util;

use crate::shared::adoption::{self, Owner};
use crate::shared::cached_pod::CachedPod;
use crate::shared::events::{EventType, Recorder};
use crate::shared::expectations::Expectations;
use crate::shared::informer::Informer;
use crate::shared::owned;
use crate::shared::pod_control::{controller_ref, pod_from_template, PodControl};
use crate::shared::pods::{is_active, is_ready};
use crate::shared::queue::{run_workers, Queue};
use crate::shared::slow_start::{slow_start_batch, INITIAL_BATCH};
use crate::shared::time::{from_time, to_time};
use crate::shared::{error_message, is_not_found, ranking, selector, split_key};
use crate::Context;
use k8s_openapi::api::batch::v1::{Job, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions, PropagationPolicy};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};
use serde_json::json;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use util::*;

pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
pub const INDEX_KEY: &str = "batch.kubernetes.io/job-completion-index";
/// At most this many pods are created, deleted or counted per sync (`MaxPodCreateDeletePerSync`,
/// `maxUncountedPods`).
pub const MAX_PER_SYNC: usize = 500;

/// Consecutive failures since the last success, and when the last one finished.
#[derive(Clone, Copy, Default)]
struct BackoffRecord {
    failures: u32,
    last_failure: Option<SystemTime>,
}

pub struct JobController {
    ctx: Context,
    jobs: Store<Job>,
    pods: Store<CachedPod>,
    queue: Arc<Queue>,
    expectations: Arc<Expectations>,
    /// Pod UIDs whose tracking finalizer we removed and the store may still show.
    finalizers_removed: Mutex<HashMap<String, HashSet<String>>>,
    backoff: Mutex<HashMap<String, BackoffRecord>>,
    recorder: Recorder,
    pod_control: PodControl,
}

impl JobController {
    pub fn new(
        ctx: &Context,
        jobs: &mut Informer<Job>,
        pods: &mut Informer<CachedPod>,
    ) -> Arc<Self> {
        let queue = Queue::new(ctx.clock.clone());
        let expectations = Arc::new(Expectations::new(ctx.clock.clone()));
        let c = Arc::new(JobController {
            ctx: ctx.clone(),
            jobs: jobs.store.clone(),
            pods: pods.store.clone(),
            queue: queue.clone(),
            expectations: expectations.clone(),
            finalizers_removed: Mutex::new(HashMap::new()),
            backoff: Mutex::new(HashMap::new()),
            recorder: Recorder::new(ctx.client.clone(), "job-controller", ctx.clock.clone()),
            pod_control: PodControl::new(ctx.client.clone()),
        });
        owned::watch_pod_owner(
            "Job",
            jobs,
            pods,
            |j: &Job| j.spec.as_ref()?.selector.as_ref(),
            &queue,
            &expectations,
        );
        c
    }

    pub async fn run(self: Arc<Self>, workers: usize) {
        let c = self.clone();
        run_workers(self.queue.clone(), workers, "job", move |k| {
            let c = c.clone();
            async move { c.sync(&k).await }
        })
        .await
    }

    /// `syncJob`.
    async fn sync(&self, k: &str) -> anyhow::Result<Option<Duration>> {
        let (ns, name) = split_key(k);
        let Some(job) = self.jobs.get(&ObjectRef::new(name).within(ns)) else {
            self.expectations.delete(k);
            self.backoff.lock().expect("backoff").remove(k);
            self.finalizers_removed.lock().expect("fin").remove(k);
            return Ok(None);
        };
        let job = (*job).clone();
        let now = self.ctx.clock.now();
        let uid = job.uid().unwrap_or_default();
        let pods_api: Api<CachedPod> = Api::namespaced(self.ctx.client.clone(), ns);
        let jobs_api: Api<Job> = Api::namespaced(self.ctx.client.clone(), ns);
        let owned: Vec<Arc<CachedPod>> = {
            let spec = job.spec.clone().unwrap_or_default();
            let sel = selector(&spec.selector.clone().unwrap_or_default());
            let owner = Owner {
                uid: &uid,
                namespace: ns,
                deleting: job.metadata.deletion_timestamp.is_some(),
                selector: &sel,
            };
            let candidates: Vec<Arc<CachedPod>> = self
                .pods
                .state()
                .into_iter()
                .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
                .collect();
            adoption::claim(
                &pods_api,
                &owner,
                &controller_ref(&job),
                candidates,
                || async {
                    let fresh = jobs_api.get(name).await?;
                    Ok(fresh.uid() == job.uid() && fresh.metadata.deletion_timestamp.is_none())
                },
            )
            .await?
        };
        if is_finished(&job) {
            // Pods of a finished Job no longer need tracking.
            self.remove_finalizers(
                k,
                ns,
                owned.iter().filter(|p| has_finalizer(p)).cloned().collect(),
            )
            .await?;
            return self.ttl(&jobs_api, &job, now).await;
        }
        let needs_sync = self
            .expectations
            .satisfied(k, |n| owned::seen(&self.pods, ns, n));
        let spec = job.spec.clone().unwrap_or_default();
        let mut status = job.status.clone().unwrap_or_default();
        let mut conds = status.conditions.clone().unwrap_or_default();
        let suspended = spec.suspend.unwrap_or(false);
        let indexed = spec.completion_mode.as_deref() == Some("Indexed");
        let completions = spec.completions;
        let parallelism = spec.parallelism.unwrap_or(1).max(0);
        let backoff_limit = spec.backoff_limit.unwrap_or(6);
        let has_cond = |conds: &Vec<_>, t: &str| {
            conds
                .iter()
                .any(|c: &k8s_openapi::api::batch::v1::JobCondition| {
                    c.type_ == t && c.status == "True"
                })
        };

        // Start time and suspension.
        if suspended {
            if set_condition(
                &mut conds,
                new_condition("Suspended", "True", "JobSuspended", "Job suspended", now),
            ) {
                self.recorder
                    .event(&job, EventType::Normal, "Suspended", "Job suspended");
            }
        } else {
            if has_cond(&conds, "Suspended") {
                set_condition(
                    &mut conds,
                    new_condition("Suspended", "False", "JobResumed", "Job resumed", now),
                );
                self.recorder
                    .event(&job, EventType::Normal, "Resumed", "Job resumed");
                status.start_time = Some(to_time(now));
            }
            if status.start_time.is_none() {
                status.start_time = Some(to_time(now));
            }
        }

        // Counting finished pods (uncountedTerminatedPods, then the finalizer, then counters).
        let mut uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
        let mut unc_succ: Vec<String> = uncounted.succeeded.clone().unwrap_or_default();
        let mut unc_fail: Vec<String> = uncounted.failed.clone().unwrap_or_default();
        let terminal_target =
            has_cond(&conds, "FailureTarget") || has_cond(&conds, "SuccessCriteriaMet");
        let removed_already: HashSet<String> = {
            let mut m = self.finalizers_removed.lock().expect("fin");
            let set = m.entry(k.to_string()).or_default();
            set.retain(|u| {
                owned
                    .iter()
                    .any(|p| p.uid().as_deref() == Some(u) && has_finalizer(p))
            });
            set.clone()
        };
        let mut newly: Vec<(Arc<CachedPod>, bool)> = Vec::new();
        for p in &owned {
            let pu = p.uid().unwrap_or_default();
            if !has_finalizer(p) || removed_already.contains(&pu) {
                continue;
            }
            if unc_succ.contains(&pu) || unc_fail.contains(&pu) {
                continue;
            }
            let phase = p
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_default();
            let succeeded = phase == "Succeeded";
            let failed = phase == "Failed"
                || (p.metadata.deletion_timestamp.is_some() && phase != "Succeeded");
            if (succeeded || failed) && newly.len() < MAX_PER_SYNC {
                newly.push((p.clone(), succeeded));
            }
        }
        newly.sort_by_key(|(p, _)| finish_time(p));
        let mut completed = parse_indexes(status.completed_indexes.as_deref().unwrap_or(""));
        {
            let mut b = self.backoff.lock().expect("backoff");
            let rec = b.entry(k.to_string()).or_default();
            for (p, ok) in &newly {
                let pu = p.uid().unwrap_or_default();
                if *ok {
                    unc_succ.push(pu);
                    rec.failures = 0;
                    if indexed {
                        if let Some(i) = pod_index(p).filter(|i| completions.is_none_or(|c| *i < c))
                        {
                            completed.insert(i);
                        }
                    }
                } else {
                    unc_fail.push(pu);
                    // Pods this controller deleted (suspend, excess, failure) count as failed
                    // but do not delay replacements; only pods that failed do.
                    if p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed") {
                        rec.failures += 1;
                        rec.last_failure = finish_time(p).max(rec.last_failure);
                    }
                }
            }
        }
        let failed_total = status.failed.unwrap_or(0) + unc_fail.len() as i32;
        let succeeded_total = if indexed {
            completed.len() as i32
        } else {
            status.succeeded.unwrap_or(0) + unc_succ.len() as i32
        };
        let active: Vec<Arc<CachedPod>> = owned.iter().filter(|p| is_active(p)).cloned().collect();
        let mut requeue: Option<Duration> = None;
        let mut min_requeue = |d: Duration| {
            requeue = Some(requeue.map_or(d, |r: Duration| r.min(d)));
        };

        // Failure and success criteria.
        let mut delete_all_active = suspended;
        if !terminal_target {
            let restart_policy = spec
                .template
                .spec
                .as_ref()
                .and_then(|s| s.restart_policy.clone())
                .unwrap_or_default();
            let restarts: i32 = active
                .iter()
                .filter_map(|p| p.status.as_ref())
                .flat_map(|s| {
                    s.container_statuses
                        .iter()
                        .flatten()
                        .chain(s.init_container_statuses.iter().flatten())
                })
                .map(|c| c.restart_count)
                .sum();
            let exceeds_restarts = restart_policy == "OnFailure"
                && if backoff_limit == 0 {
                    restarts > 0
                } else {
                    restarts >= backoff_limit
                };
            let failure = if failed_total > backoff_limit || exceeds_restarts {
                Some((
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                ))
            } else if let (Some(ads), Some(start), false) = (
                spec.active_deadline_seconds,
                status.start_time.as_ref(),
                suspended,
            ) {
                let deadline = from_time(start) + Duration::from_secs(ads.max(0) as u64);
                if now >= deadline {
                    Some((
                        "DeadlineExceeded",
                        "Job was active longer than specified deadline",
                    ))
                } else {
                    min_requeue(deadline.duration_since(now).unwrap_or_default());
                    None
                }
            } else {
                None
            };
            if let Some((reason, msg)) = failure {
                set_condition(
                    &mut conds,
                    new_condition("FailureTarget", "True", reason, msg, now),
                );
                delete_all_active = true;
            } else {
                let done = match completions {
                    None => succeeded_total > 0 && active.is_empty(),
                    Some(c) => succeeded_total >= c && active.is_empty(),
                };
                if done {
                    set_condition(
                        &mut conds,
                        new_condition(
                            "SuccessCriteriaMet",
                            "True",
                            "CompletionsReached",
                            "Reached expected number of succeeded pods",
                            now,
                        ),
                    );
                }
            }
        }

        // Manage pods.
        let mut active_count = active.len() as i32;
        if needs_sync && job.metadata.deletion_timestamp.is_none() {
            if delete_all_active {
                active_count -= self.delete_pods(k, &job, ns, &active).await as i32;
            } else if !terminal_target && !has_cond(&conds, "SuccessCriteriaMet") {
                let want = want_active(completions, parallelism, succeeded_total, active_count);
                if active_count > want {
                    let mut ranked: Vec<(Arc<CachedPod>, i32)> =
                        active.iter().map(|p| (p.clone(), 0)).collect();
                    ranking::sort_for_deletion(&mut ranked, now);
                    let victims: Vec<Arc<CachedPod>> = ranked
                        .into_iter()
                        .take(((active_count - want) as usize).min(MAX_PER_SYNC))
                        .map(|(p, _)| p)
                        .collect();
                    active_count -= self.delete_pods(k, &job, ns, &victims).await as i32;
                } else if active_count < want {
                    let rec = self
                        .backoff
                        .lock()
                        .expect("backoff")
                        .get(k)
                        .copied()
                        .unwrap_or_default();
                    let remaining = rec.last_failure.map_or(Duration::ZERO, |t| {
                        (t + backoff_delay(rec.failures))
                            .duration_since(now)
                            .unwrap_or_default()
                    });
                    if remaining > Duration::ZERO {
                        min_requeue(remaining);
                    } else {
                        let n = ((want - active_count) as usize).min(MAX_PER_SYNC);
                        let indexes: Option<Vec<i32>> = indexed.then(|| {
                            let held: BTreeSet<i32> =
                                active.iter().filter_map(|p| pod_index(p)).collect();
                            pending_indexes(completions.unwrap_or(0), &completed, &held, n)
                        });
                        let n = indexes.as_ref().map_or(n, Vec::len);
                        let created = self.create_pods(k, &job, n, indexes).await;
                        active_count += created.0 as i32;
                        if let Some(e) = created.1 {
                            anyhow::bail!("creating pods: {e}");
                        }
                    }
                }
            }
        }

        // Persist newly finished pods as uncounted, remove their finalizers, then count them.
        let new_uncounted = !newly.is_empty();
        uncounted.succeeded = Some(unc_succ.clone());
        uncounted.failed = Some(unc_fail.clone());
        let terminating = owned
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_some() && !is_terminal(p))
            .count() as i32;
        let ready = active.iter().filter(|p| is_ready(p)).count() as i32;
        status.active = Some(active_count.max(0));
        status.ready = Some(ready);
        status.terminating = Some(terminating);
        status.conditions = Some(conds.clone());
        if indexed {
            status.completed_indexes = Some(format_indexes(&completed));
        }
        status.uncounted_terminated_pods = Some(uncounted.clone());
        let mut job = self.write_status(&jobs_api, &job, status.clone()).await?;
        let to_release: Vec<Arc<CachedPod>> = owned
            .iter()
            .filter(|p| has_finalizer(p))
            .filter(|p| {
                let u = p.uid().unwrap_or_default();
                unc_succ.contains(&u) || unc_fail.contains(&u)
            })
            .cloned()
            .collect();
        if new_uncounted || !to_release.is_empty() || !unc_succ.is_empty() || !unc_fail.is_empty() {
            self.remove_finalizers(k, ns, to_release).await?;
            // Every uncounted pod has lost its finalizer (or is gone): count it.
            status.succeeded = Some(if indexed {
                completed.len() as i32
            } else {
                status.succeeded.unwrap_or(0) + unc_succ.len() as i32
            });
            status.failed = Some(status.failed.unwrap_or(0) + unc_fail.len() as i32);
            status.uncounted_terminated_pods = Some(UncountedTerminatedPods::default());
            job = self.write_status(&jobs_api, &job, status.clone()).await?;
        } else if status.succeeded.is_none() || status.failed.is_none() {
            status.succeeded.get_or_insert(0);
            status.failed.get_or_insert(0);
        }

        // The final condition once nothing is left to count or terminate.
        let target = conds
            .iter()
            .find(|c| {
                (c.type_ == "FailureTarget" || c.type_ == "SuccessCriteriaMet")
                    && c.status == "True"
            })
            .cloned();
        if let Some(t) = target {
            let all_counted = status.uncounted_terminated_pods.as_ref().is_none_or(|u| {
                u.succeeded.as_deref().unwrap_or(&[]).is_empty()
                    && u.failed.as_deref().unwrap_or(&[]).is_empty()
            });
            if all_counted && terminating == 0 && active_count <= 0 {
                let reason = t.reason.clone().unwrap_or_default();
                let msg = t.message.clone().unwrap_or_default();
                if t.type_ == "SuccessCriteriaMet" {
                    set_condition(
                        &mut conds,
                        new_condition("Complete", "True", &reason, &msg, now),
                    );
                    status.completion_time = Some(to_time(now));
                    self.recorder
                        .event(&job, EventType::Normal, "Completed", "Job completed");
                } else {
                    set_condition(
                        &mut conds,
                        new_condition("Failed", "True", &reason, &msg, now),
                    );
                    self.recorder.event(&job, EventType::Warning, &reason, msg);
                }
                status.conditions = Some(conds);
                status.active = Some(0);
                status.ready = Some(0);
                job = self.write_status(&jobs_api, &job, status).await?;
                self.backoff.lock().expect("backoff").remove(k);
                return self.ttl(&jobs_api, &job, now).await;
            }
            // Otherwise pods being deleted are awaited through their events.
        }
        Ok(requeue)
    }

    /// PUT /status when it changed; returns the stored Job.
    async fn write_status(
        &self,
        api: &Api<Job>,
        job: &Job,
        status: JobStatus,
    ) -> anyhow::Result<Job> {
        if job.status.as_ref() == Some(&status) {
            return Ok(job.clone());
        }
        let mut j = job.clone();
        j.status = Some(status);
        Ok(api
            .replace_status(&job.name_any(), &PostParams::default(), &j)
            .await?)
    }

    /// Delete pods in parallel; returns how many were deleted.
    async fn delete_pods(&self, k: &str, job: &Job, ns: &str, pods: &[Arc<CachedPod>]) -> usize {
        let results = futures::future::join_all(pods.iter().take(MAX_PER_SYNC).map(|p| {
            let name = p.name_any();
            self.expectations.expect_deletion(k, &name);
            async move {
                match self.pod_control.delete(ns, &name).await {
                    Ok(()) => {
                        self.recorder.event(
                            job,
                            EventType::Normal,
                            "SuccessfulDelete",
                            format!("Deleted pod: {name}"),
                        );
                        true
                    }
                    Err(e) => {
                        self.expectations.deletion_failed(k, &name);
                        self.recorder.event(
                            job,
                            EventType::Warning,
                            "FailedDelete",
                            format!("Error deleting: {}", error_message(&e)),
                        );
                        false
                    }
                }
            }
        }))
        .await;
        results.into_iter().filter(|ok| *ok).count()
    }

    /// Create `n` pods by slow start (Indexed: one per index in `indexes`).
    async fn create_pods(
        &self,
        k: &str,
        job: &Job,
        n: usize,
        indexes: Option<Vec<i32>>,
    ) -> (usize, Option<String>) {
        if n == 0 {
            return (0, None);
        }
        self.expectations.expect_creations(k, n as u32);
        let spec = job.spec.clone().unwrap_or_default();
        let owner = controller_ref(job);
        let job_name = job.name_any();
        let next = Mutex::new(0usize);
        let (ok, err) = slow_start_batch(n, INITIAL_BATCH, || {
            let i = {
                let mut g = next.lock().expect("next");
                *g += 1;
                *g - 1
            };
            let index = indexes.as_ref().and_then(|v| v.get(i).copied());
            let pod = job_pod(&spec.template, &job_name, owner.clone(), index);
            async move {
                self.pod_control
                    .create_for(job, k, &pod, &self.expectations, &self.recorder)
                    .await
            }
        })
        .await;
        self.expectations.creation_skipped(k, (n - ok) as u32);
        (ok, err)
    }

    /// Remove the tracking finalizer (a JSON patch guarded by the finalizer's position).
    async fn remove_finalizers(
        &self,
        k: &str,
        ns: &str,
        pods: Vec<Arc<CachedPod>>,
    ) -> anyhow::Result<()> {
        let api: Api<CachedPod> = Api::namespaced(self.ctx.client.clone(), ns);
        let results = futures::future::join_all(pods.iter().map(|p| {
            let api = api.clone();
            async move {
                if !has_finalizer(p) {
                    return Ok(());
                }
                // `removeTrackingFinalizerPatch`: a strategic merge patch guarded by the UID.
                let patch = json!({"metadata": {
                    "$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER],
                    "uid": p.uid(),
                }});
                let r = api
                    .patch(
                        &p.name_any(),
                        &PatchParams::default(),
                        &Patch::Strategic(&patch),
                    )
                    .await;
                match r {
                    Ok(_) => Ok(()),
                    Err(e) if is_not_found(&e) => Ok(()),
                    Err(e) => Err(e),
                }
            }
        }))
        .await;
        let mut m = self.finalizers_removed.lock().expect("fin");
        let set = m.entry(k.to_string()).or_default();
        for (p, r) in pods.iter().zip(&results) {
            if r.is_ok() {
                set.insert(p.uid().unwrap_or_default());
            }
        }
        drop(m);
        for r in results {
            r?;
        }
        Ok(())
    }

    /// `ttlSecondsAfterFinished`: delete the finished Job (foreground, UID precondition) once the
    /// TTL has passed since its Complete or Failed condition; until then, requeue at that time.
    async fn ttl(
        &self,
        api: &Api<Job>,
        job: &Job,
        now: SystemTime,
    ) -> anyhow::Result<Option<Duration>> {
        let Some(ttl) = job.spec.as_ref().and_then(|s| s.ttl_seconds_after_finished) else {
            return Ok(None);
        };
        if job.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let finish = condition(job, "Complete")
            .or_else(|| condition(job, "Failed"))
            .and_then(|c| c.last_transition_time.as_ref())
            .map(from_time)
            .unwrap_or(now);
        let expire = finish + Duration::from_secs(ttl.max(0) as u64);
        if expire > now {
            return Ok(Some(expire.duration_since(now).unwrap_or_default()));
        }
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Foreground),
            preconditions: Some(Preconditions {
                uid: job.uid(),
                resource_version: None,
            }),
            ..Default::default()
        };
        match api.delete(&job.name_any(), &dp).await {
            Ok(_) => Ok(None),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

fn has_finalizer(p: &CachedPod) -> bool {
    p.metadata
        .finalizers
        .as_ref()
        .is_some_and(|f| f.iter().any(|f| f == TRACKING_FINALIZER))
}

fn is_terminal(p: &CachedPod) -> bool {
    matches!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// The pod a Job creates: the template with the tracking finalizer and, for Indexed Jobs, the
/// completion index (annotation, label, `JOB_COMPLETION_INDEX`, hostname `<job>-<i>`,
/// generateName `<job>-<i>-`).
pub fn job_pod(
    template: &k8s_openapi::api::core::v1::PodTemplateSpec,
    job: &str,
    owner: k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
    index: Option<i32>,
) -> Pod {
    let mut pod = pod_from_template(template, job, owner);
    pod.metadata
        .finalizers
        .get_or_insert_with(Vec::new)
        .push(TRACKING_FINALIZER.to_string());
    if let Some(i) = index {
        let v = i.to_string();
        pod.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(INDEX_KEY.into(), v.clone());
        pod.metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(INDEX_KEY.into(), v);
        let mut prefix = format!("{job}-{i}-");
        if prefix.len() > 58 {
            let keep = 58 - format!("-{i}-").len();
            prefix = format!("{}-{i}-", &job[..keep.min(job.len())]);
        }
        pod.metadata.generate_name = Some(prefix);
        if let Some(spec) = pod.spec.as_mut() {
            if spec.hostname.is_none() {
                spec.hostname = Some(format!("{job}-{i}"));
            }
            let env = EnvVar {
                name: "JOB_COMPLETION_INDEX".into(),
                value: None,
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        api_version: None,
                        field_path: format!("metadata.labels['{INDEX_KEY}']"),
                    }),
                    ..Default::default()
                }),
            };
            for c in spec
                .containers
                .iter_mut()
                .chain(spec.init_containers.iter_mut().flatten())
            {
                let envs = c.env.get_or_insert_with(Vec::new);
                if !envs.iter().any(|e| e.name == env.name) {
                    envs.push(env.clone());
                }
            }
        }
    }
    pod
}
