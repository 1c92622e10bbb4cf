//! Steps shared by every strategy (`sync.go`): finding or creating the new ReplicaSet and
//! syncing revisions, scaling (proportionally while a rollout is under way), revision-history
//! cleanup, the paused conditions, and the status.

use super::util::{self, *};
use super::{DeploymentController, Step};
use crate::shared::events::EventType;
use crate::shared::pod_control::controller_ref;
use crate::shared::{is_already_exists, is_not_found, key_of};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, PostParams};
use kube::ResourceExt;
use std::cmp::Ordering;

/// Oldest first (creationTimestamp, then name): `ReplicaSetsByCreationTimestamp`.
pub(crate) fn by_creation(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    a.metadata
        .creation_timestamp
        .cmp(&b.metadata.creation_timestamp)
        .then_with(|| a.name_any().cmp(&b.name_any()))
}

/// `isScalingEvent`: an active RS was sized for a different `spec.replicas`.
pub(crate) fn is_scaling_event(
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    old: &[ReplicaSet],
) -> bool {
    old.iter()
        .chain(new_rs)
        .filter(|rs| rs_replicas(rs) > 0)
        .filter_map(desired_replicas_annotation)
        .any(|desired| desired != replicas(d))
}

fn opt(n: i32) -> Option<i32> {
    (n != 0).then_some(n)
}

/// `calculateStatus`.
pub(crate) fn calculate_status(
    d: &Deployment,
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    now: std::time::SystemTime,
) -> DeploymentStatus {
    let available: i32 = all.iter().map(|rs| rs_status(rs).2).sum();
    let total: i32 = all.iter().map(|rs| rs_replicas(rs)).sum();
    let actual: i32 = all.iter().map(|rs| rs_status(rs).0).sum();
    let ready: i32 = all.iter().map(|rs| rs_status(rs).1).sum();
    let terminating: Option<i32> = all
        .iter()
        .filter_map(|rs| rs.status.as_ref().and_then(|s| s.terminating_replicas))
        .fold(None, |acc, n| Some(acc.unwrap_or(0) + n));
    let old = d.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: opt(actual),
        updated_replicas: opt(new_rs.map(|rs| rs_status(rs).0).unwrap_or(0)),
        ready_replicas: opt(ready),
        available_replicas: opt(available),
        unavailable_replicas: opt((total - available).max(0)),
        terminating_replicas: terminating,
        collision_count: old.collision_count,
        conditions: old.conditions.clone(),
    };
    let c = if available >= replicas(d) - max_unavailable(d) {
        new_condition(
            AVAILABLE,
            "True",
            MIN_AVAILABLE,
            "Deployment has minimum availability.".into(),
            now,
        )
    } else {
        new_condition(
            AVAILABLE,
            "False",
            MIN_UNAVAILABLE,
            "Deployment does not have minimum availability.".into(),
            now,
        )
    };
    set_condition(&mut status, c);
    status
}

impl DeploymentController {
    /// `getAllReplicaSetsAndSyncRevision`: (new RS, old RSes); creates the new RS when asked.
    pub(crate) async fn get_all_replica_sets(
        &self,
        d: &mut Deployment,
        mut rs_list: Vec<ReplicaSet>,
        create: bool,
    ) -> anyhow::Result<(Option<ReplicaSet>, Vec<ReplicaSet>)> {
        rs_list.sort_by(by_creation);
        let template = d.spec.clone().unwrap_or_default().template;
        let new_idx = rs_list.iter().position(|rs| {
            rs.spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(|t| equal_ignore_hash(t, &template))
        });
        let existing = new_idx.map(|i| rs_list.remove(i));
        let old = rs_list;
        let new_rs = self.get_new_rs(d, existing, &old, create).await?;
        Ok((new_rs, old))
    }

    /// `getNewReplicaSet`.
    async fn get_new_rs(
        &self,
        d: &mut Deployment,
        existing: Option<ReplicaSet>,
        old: &[ReplicaSet],
        create: bool,
    ) -> anyhow::Result<Option<ReplicaSet>> {
        let old_refs: Vec<&ReplicaSet> = old.iter().collect();
        let new_revision = max_revision(&old_refs) + 1;
        let now = self.ctx.clock.now();
        let spec = d.spec.clone().unwrap_or_default();
        if let Some(rs) = existing {
            let mut copy = rs.clone();
            let annotations_updated = set_new_rs_annotations(d, &mut copy, new_revision, true);
            let rs_spec = copy.spec.get_or_insert_with(Default::default);
            let min_ready_changed =
                rs_spec.min_ready_seconds.unwrap_or(0) != spec.min_ready_seconds.unwrap_or(0);
            if annotations_updated || min_ready_changed {
                rs_spec.min_ready_seconds = spec.min_ready_seconds;
                return Ok(Some(self.update_rs(&copy).await?));
            }
            let rev = copy
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(REVISION))
                .cloned()
                .unwrap_or_default();
            let mut needs_update = set_deployment_revision(d, &rev);
            let has_progressing = d
                .status
                .as_ref()
                .is_some_and(|s| condition(s, PROGRESSING).is_some());
            if progress_deadline(d).is_some() && !has_progressing {
                let c = new_condition(
                    PROGRESSING,
                    "True",
                    FOUND_NEW_RS,
                    format!("Found new replica set \"{}\"", copy.name_any()),
                    now,
                );
                set_condition(d.status.get_or_insert_with(Default::default), c);
                needs_update = true;
            }
            if needs_update {
                self.update_status(d).await?;
            }
            return Ok(Some(copy));
        }
        if !create {
            return Ok(None);
        }
        let ns = d.namespace().unwrap_or_default();
        let collision = d.status.as_ref().and_then(|s| s.collision_count);
        let hash = compute_hash(&spec.template, collision);
        let mut template = spec.template.clone();
        template
            .metadata
            .get_or_insert_with(Default::default)
            .labels
            .get_or_insert_with(Default::default)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut sel = spec.selector.clone();
        sel.match_labels
            .get_or_insert_with(Default::default)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut new_rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(format!("{}-{}", d.name_any(), hash)),
                namespace: Some(ns.clone()),
                owner_references: Some(vec![controller_ref(d)]),
                labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: spec.min_ready_seconds,
                selector: sel,
                template: Some(template),
            }),
            status: None,
        };
        let mut all_refs: Vec<&ReplicaSet> = old.iter().collect();
        all_refs.push(&new_rs);
        let count = new_rs_new_replicas(d, &all_refs, &new_rs);
        new_rs.spec.as_mut().unwrap().replicas = Some(count);
        set_new_rs_annotations(d, &mut new_rs, new_revision, false);
        let mut already_exists = false;
        let created = match self
            .rs_api(&ns)
            .create(&PostParams::default(), &new_rs)
            .await
        {
            Ok(rs) => rs,
            Err(e) if is_already_exists(&e) => {
                already_exists = true;
                let name = new_rs.name_any();
                let found = match self
                    .rss
                    .get(&kube::runtime::reflector::ObjectRef::new(&name).within(&ns))
                {
                    Some(rs) => (*rs).clone(),
                    None => self.rs_api(&ns).get(&name).await?,
                };
                let ours = crate::shared::pods::controller_ref(&found.metadata)
                    .is_some_and(|r| Some(&r.uid) == d.metadata.uid.as_ref());
                let same = found
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .is_some_and(|t| equal_ignore_hash(t, &spec.template));
                if ours && same {
                    found
                } else {
                    let st = d.status.get_or_insert_with(Default::default);
                    st.collision_count = Some(st.collision_count.unwrap_or(0) + 1);
                    self.update_status(d).await?;
                    anyhow::bail!(
                        "hash collision: replica set {name} exists with another template"
                    );
                }
            }
            Err(e) => {
                let msg = format!(
                    "Failed to create new replica set \"{}\": {}",
                    new_rs.name_any(),
                    crate::shared::error_message(&e)
                );
                if progress_deadline(d).is_some() {
                    let c = new_condition(PROGRESSING, "False", FAILED_RS_CREATE, msg.clone(), now);
                    set_condition(d.status.get_or_insert_with(Default::default), c);
                    let _ = self.update_status(d).await;
                }
                self.event(d, EventType::Warning, FAILED_RS_CREATE, msg);
                return Err(e.into());
            }
        };
        if !already_exists && count > 0 {
            self.event(
                d,
                EventType::Normal,
                "ScalingReplicaSet",
                format!(
                    "Scaled up replica set {} from 0 to {}",
                    created.name_any(),
                    count
                ),
            );
        }
        let mut needs_update = set_deployment_revision(d, &new_revision.to_string());
        if !already_exists && progress_deadline(d).is_some() {
            let c = new_condition(
                PROGRESSING,
                "True",
                NEW_RS_CREATED,
                format!("Created new replica set \"{}\"", created.name_any()),
                now,
            );
            set_condition(d.status.get_or_insert_with(Default::default), c);
            needs_update = true;
        }
        if needs_update {
            self.update_status(d).await?;
        }
        Ok(Some(created))
    }

    /// `scaleReplicaSetAndRecordEvent` / `scaleReplicaSet`: resize an RS and refresh its
    /// desired/max annotations. Returns whether the size changed, and the RS as written.
    pub(crate) async fn scale_rs(
        &self,
        rs: &ReplicaSet,
        new_size: i32,
        d: &Deployment,
    ) -> anyhow::Result<(bool, ReplicaSet)> {
        let old_size = rs_replicas(rs);
        let size_changed = old_size != new_size;
        let mut copy = rs.clone();
        let ann_changed =
            set_replicas_annotations(&mut copy, replicas(d), replicas(d) + max_surge(d));
        if !size_changed && !ann_changed {
            return Ok((false, rs.clone()));
        }
        copy.spec.get_or_insert_with(Default::default).replicas = Some(new_size);
        let updated = self.update_rs(&copy).await?;
        if size_changed {
            let op = if new_size > old_size { "up" } else { "down" };
            self.event(
                d,
                EventType::Normal,
                "ScalingReplicaSet",
                format!(
                    "Scaled {op} replica set {} from {old_size} to {new_size}",
                    rs.name_any()
                ),
            );
        }
        Ok((size_changed, updated))
    }

    /// `sync`: scale (paused, or a scaling event) and clean up, then write the status.
    pub(crate) async fn sync(
        &self,
        d: &mut Deployment,
        new_rs: Option<ReplicaSet>,
        mut old: Vec<ReplicaSet>,
    ) -> Step {
        let new_rs = self.scale(d, new_rs, &mut old).await?;
        if d.spec.as_ref().and_then(|s| s.paused) == Some(true)
            && super::rollback::rollback_to(d).is_none()
        {
            self.cleanup(d, &old).await?;
        }
        let all: Vec<&ReplicaSet> = old.iter().chain(new_rs.as_ref()).collect();
        self.sync_deployment_status(d, &all, new_rs.as_ref())
            .await?;
        Ok(None)
    }

    /// `scale`: proportional scaling; returns the new RS as now written.
    async fn scale(
        &self,
        d: &Deployment,
        mut new_rs: Option<ReplicaSet>,
        old: &mut [ReplicaSet],
    ) -> anyhow::Result<Option<ReplicaSet>> {
        let want = replicas(d);
        // FindActiveOrLatest
        let mut olds_newest_first: Vec<usize> = (0..old.len()).collect();
        olds_newest_first.sort_by(|a, b| by_creation(&old[*b], &old[*a]));
        let active_count = old
            .iter()
            .chain(new_rs.iter())
            .filter(|rs| rs_replicas(rs) > 0)
            .count();
        if new_rs.is_some() || !old.is_empty() {
            let target: Option<Option<usize>> = match active_count {
                0 => Some(if new_rs.is_some() {
                    None
                } else {
                    Some(olds_newest_first[0])
                }),
                1 => Some(if new_rs.as_ref().is_some_and(|rs| rs_replicas(rs) > 0) {
                    None
                } else {
                    old.iter().position(|rs| rs_replicas(rs) > 0)
                }),
                _ => None,
            };
            if let Some(t) = target {
                let rs = match t {
                    None => new_rs.as_ref().unwrap(),
                    Some(i) => &old[i],
                };
                if rs_replicas(rs) == want {
                    return Ok(new_rs);
                }
                let (_, updated) = self.scale_rs(rs, want, d).await?;
                match t {
                    None => new_rs = Some(updated),
                    Some(i) => old[i] = updated,
                }
                return Ok(new_rs);
            }
        }
        if let Some(n) = new_rs.as_ref().filter(|n| is_saturated(d, n)) {
            let _ = n;
            for rs in old.iter_mut() {
                if rs_replicas(rs) > 0 {
                    *rs = self.scale_rs(rs, 0, d).await?.1;
                }
            }
            return Ok(new_rs);
        }
        if !is_rolling_update(d) {
            return Ok(new_rs);
        }
        // Proportional scaling over the active RSes. Index usize::MAX stands for the new RS.
        let mut actives: Vec<(usize, ReplicaSet)> = old
            .iter()
            .enumerate()
            .filter(|(_, rs)| rs_replicas(rs) > 0)
            .map(|(i, rs)| (i, rs.clone()))
            .collect();
        if let Some(n) = new_rs.as_ref().filter(|n| rs_replicas(n) > 0) {
            actives.push((usize::MAX, n.clone()));
        }
        let current: i32 = actives.iter().map(|(_, rs)| rs_replicas(rs)).sum();
        let allowed = if want > 0 { want + max_surge(d) } else { 0 };
        let to_add = allowed - current;
        match to_add.cmp(&0) {
            // Larger first; newer first on ties (scale up) or older first (scale down).
            Ordering::Greater => actives.sort_by(|(_, a), (_, b)| {
                rs_replicas(b)
                    .cmp(&rs_replicas(a))
                    .then_with(|| by_creation(b, a))
            }),
            Ordering::Less => actives.sort_by(|(_, a), (_, b)| {
                rs_replicas(b)
                    .cmp(&rs_replicas(a))
                    .then_with(|| by_creation(a, b))
            }),
            Ordering::Equal => {}
        }
        let mut added = 0;
        let mut sizes: Vec<i32> = Vec::new();
        for (_, rs) in &actives {
            if to_add != 0 {
                let p = proportion(rs, d, to_add, added);
                sizes.push(rs_replicas(rs) + p);
                added += p;
            } else {
                sizes.push(rs_replicas(rs));
            }
        }
        for (i, (idx, rs)) in actives.iter().enumerate() {
            if i == 0 && to_add != 0 {
                sizes[0] = (sizes[0] + to_add - added).max(0);
            }
            let (_, updated) = self.scale_rs(rs, sizes[i], d).await?;
            if *idx == usize::MAX {
                new_rs = Some(updated);
            } else {
                old[*idx] = updated;
            }
        }
        Ok(new_rs)
    }

    /// `cleanupDeployment`: delete the oldest surplus old RSes beyond revisionHistoryLimit.
    pub(crate) async fn cleanup(&self, d: &Deployment, old: &[ReplicaSet]) -> anyhow::Result<()> {
        let Some(limit) = d
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .filter(|l| *l != i32::MAX)
        else {
            return Ok(());
        };
        let mut cleanable: Vec<&ReplicaSet> = old
            .iter()
            .filter(|rs| rs.metadata.deletion_timestamp.is_none())
            .collect();
        let diff = cleanable.len() as i64 - limit as i64;
        if diff <= 0 {
            return Ok(());
        }
        cleanable.sort_by(|a, b| {
            revision(a)
                .cmp(&revision(b))
                .then_with(|| by_creation(a, b))
        });
        for rs in cleanable.into_iter().take(diff as usize) {
            let st = rs.status.clone().unwrap_or_default();
            if st.replicas != 0
                || rs_replicas(rs) != 0
                || rs.metadata.generation.unwrap_or(0) > st.observed_generation.unwrap_or(0)
            {
                continue;
            }
            let ns = rs.namespace().unwrap_or_default();
            match self
                .rs_api(&ns)
                .delete(&rs.name_any(), &DeleteParams::default())
                .await
            {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// `syncDeploymentStatus`: write the calculated status if it changed.
    pub(crate) async fn sync_deployment_status(
        &self,
        d: &mut Deployment,
        all: &[&ReplicaSet],
        new_rs: Option<&ReplicaSet>,
    ) -> anyhow::Result<()> {
        let status = calculate_status(d, all, new_rs, self.ctx.clock.now());
        if d.status.as_ref() == Some(&status) {
            return Ok(());
        }
        d.status = Some(status);
        self.update_status(d).await
    }

    /// `syncStatusOnly` (a Deployment being deleted).
    pub(crate) async fn sync_status_only(
        &self,
        d: &mut Deployment,
        rs_list: Vec<ReplicaSet>,
    ) -> Step {
        let (new_rs, old) = self.get_all_replica_sets(d, rs_list, false).await?;
        let all: Vec<&ReplicaSet> = old.iter().chain(new_rs.as_ref()).collect();
        self.sync_deployment_status(d, &all, new_rs.as_ref())
            .await?;
        Ok(None)
    }

    /// `checkPausedConditions`.
    pub(crate) async fn check_paused_conditions(&self, d: &mut Deployment) -> anyhow::Result<()> {
        if progress_deadline(d).is_none() {
            return Ok(());
        }
        let status = d.status.clone().unwrap_or_default();
        let cond = util::condition(&status, PROGRESSING);
        if cond.is_some_and(|c| c.reason.as_deref() == Some(TIMED_OUT)) {
            return Ok(());
        }
        let paused_cond = cond.is_some_and(|c| c.reason.as_deref() == Some(PAUSED));
        let paused = d.spec.as_ref().and_then(|s| s.paused) == Some(true);
        let now = self.ctx.clock.now();
        let c = if paused && !paused_cond {
            new_condition(
                PROGRESSING,
                "Unknown",
                PAUSED,
                "Deployment is paused".into(),
                now,
            )
        } else if !paused && paused_cond {
            new_condition(
                PROGRESSING,
                "Unknown",
                RESUMED,
                "Deployment is resumed".into(),
                now,
            )
        } else {
            return Ok(());
        };
        set_condition(d.status.get_or_insert_with(Default::default), c);
        tracing::debug!(deployment = %key_of(d), "paused condition changed");
        self.update_status(d).await
    }
}

/// `SetDeploymentRevision`: whether the annotation changed.
pub(crate) fn set_deployment_revision(d: &mut Deployment, revision: &str) -> bool {
    let ann = d.metadata.annotations.get_or_insert_with(Default::default);
    if ann.get(REVISION).map(String::as_str) == Some(revision) {
        return false;
    }
    ann.insert(REVISION.into(), revision.into());
    true
}
