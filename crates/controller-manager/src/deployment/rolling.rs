//! RollingUpdate (`rolling.go`, §1.4): each sync either grows the new ReplicaSet within
//! maxSurge, or shrinks old ones within maxUnavailable (unhealthy replicas first), then syncs
//! the rollout status; a complete rollout cleans up old revisions.

use super::util::*;
use super::{DeploymentController, Step};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

impl DeploymentController {
    /// `rolloutRolling`.
    pub(crate) async fn rollout_rolling(
        &self,
        d: &mut Deployment,
        rs_list: Vec<ReplicaSet>,
    ) -> Step {
        let (new_rs, mut old) = self.get_all_replica_sets(d, rs_list, true).await?;
        let Some(mut new_rs) = new_rs else {
            anyhow::bail!("no new replica set");
        };
        if self.reconcile_new_rs(d, &old, &mut new_rs).await? {
            return self.sync_rollout_status(d, &old, Some(&new_rs)).await;
        }
        if self.reconcile_old_rss(d, &mut old, &new_rs).await? {
            return self.sync_rollout_status(d, &old, Some(&new_rs)).await;
        }
        if d.status.as_ref().is_some_and(|s| deployment_complete(d, s)) {
            self.cleanup(d, &old).await?;
        }
        self.sync_rollout_status(d, &old, Some(&new_rs)).await
    }

    /// `reconcileNewReplicaSet`: whether the new RS was scaled.
    async fn reconcile_new_rs(
        &self,
        d: &Deployment,
        old: &[ReplicaSet],
        new_rs: &mut ReplicaSet,
    ) -> anyhow::Result<bool> {
        let want = replicas(d);
        let cur = rs_replicas(new_rs);
        if cur == want {
            return Ok(false);
        }
        let target = if cur > want {
            want
        } else {
            let all: Vec<&ReplicaSet> = old.iter().chain(std::iter::once(&*new_rs)).collect();
            new_rs_new_replicas(d, &all, new_rs)
        };
        let (scaled, updated) = self.scale_rs(new_rs, target, d).await?;
        *new_rs = updated;
        Ok(scaled)
    }

    /// `reconcileOldReplicaSets`: whether any old RS was scaled down.
    async fn reconcile_old_rss(
        &self,
        d: &Deployment,
        old: &mut [ReplicaSet],
        new_rs: &ReplicaSet,
    ) -> anyhow::Result<bool> {
        let old_pods: i32 = old.iter().map(rs_replicas).sum();
        if old_pods == 0 {
            return Ok(false);
        }
        let all: Vec<&ReplicaSet> = old.iter().chain(std::iter::once(new_rs)).collect();
        let max_down = max_scaled_down(d, &all, Some(new_rs));
        if max_down <= 0 {
            return Ok(false);
        }
        let cleaned = self.cleanup_unhealthy(d, old, max_down).await?;
        let scaled = self.scale_down_old_for_rolling(d, old, new_rs).await?;
        Ok(cleaned + scaled > 0)
    }

    /// `cleanupUnhealthyReplicas`: shrink old RSes by their unavailable replicas, oldest
    /// first, up to `max_cleanup`.
    async fn cleanup_unhealthy(
        &self,
        d: &Deployment,
        old: &mut [ReplicaSet],
        max_cleanup: i32,
    ) -> anyhow::Result<i32> {
        let mut order: Vec<usize> = (0..old.len()).collect();
        order.sort_by(|a, b| super::sync::by_creation(&old[*a], &old[*b]));
        let mut total = 0;
        for i in order {
            if total >= max_cleanup {
                break;
            }
            let spec = rs_replicas(&old[i]);
            let available = rs_available_bound(&old[i]);
            if spec == 0 || spec == available {
                continue;
            }
            let down = (max_cleanup - total).min(spec - available);
            let (_, updated) = self.scale_rs(&old[i], spec - down, d).await?;
            old[i] = updated;
            total += down;
        }
        Ok(total)
    }

    /// `scaleDownOldReplicaSetsForRollingUpdate`: shrink old RSes, oldest first, by as many
    /// available replicas as exceed minAvailable.
    async fn scale_down_old_for_rolling(
        &self,
        d: &Deployment,
        old: &mut [ReplicaSet],
        new_rs: &ReplicaSet,
    ) -> anyhow::Result<i32> {
        let min_avail = replicas(d) - max_unavailable(d);
        let available: i32 = old
            .iter()
            .chain(std::iter::once(new_rs))
            .map(rs_available_bound)
            .sum();
        if available <= min_avail {
            return Ok(0);
        }
        let to_remove = available - min_avail;
        let mut order: Vec<usize> = (0..old.len()).collect();
        order.sort_by(|a, b| super::sync::by_creation(&old[*a], &old[*b]));
        let mut total = 0;
        for i in order {
            if total >= to_remove {
                break;
            }
            let spec = rs_replicas(&old[i]);
            if spec == 0 {
                continue;
            }
            let down = spec.min(to_remove - total);
            let (_, updated) = self.scale_rs(&old[i], spec - down, d).await?;
            old[i] = updated;
            total += down;
        }
        Ok(total)
    }
}
