//! Recreate (`recreate.go`, §1.5): scale every old ReplicaSet to zero, wait until none of
//! their pods is running, then create and scale up the new one.

use super::util::*;
use super::{DeploymentController, Step};
use crate::shared::cached_pod::CachedPod;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::ResourceExt;
use std::sync::Arc;

/// `oldPodsRunning`.
fn old_pods_running(
    new_rs: Option<&ReplicaSet>,
    old: &[ReplicaSet],
    pods: &[(String, Vec<Arc<CachedPod>>)],
) -> bool {
    if old.iter().map(|rs| rs_status(rs).0).sum::<i32>() > 0 {
        return true;
    }
    let new_uid = new_rs.and_then(|rs| rs.uid());
    pods.iter()
        .filter(|(uid, _)| Some(uid) != new_uid.as_ref())
        .flat_map(|(_, pods)| pods.iter())
        .any(|p| {
            !matches!(
                p.status.as_ref().and_then(|s| s.phase.as_deref()),
                Some("Succeeded") | Some("Failed")
            )
        })
}

impl DeploymentController {
    /// `rolloutRecreate`.
    pub(crate) async fn rollout_recreate(
        &self,
        d: &mut Deployment,
        rs_list: Vec<ReplicaSet>,
        pods: Vec<(String, Vec<Arc<CachedPod>>)>,
    ) -> Step {
        let (mut new_rs, mut old) = self.get_all_replica_sets(d, rs_list.clone(), false).await?;
        let mut scaled = false;
        for rs in old.iter_mut() {
            if rs_replicas(rs) > 0 {
                let (s, updated) = self.scale_rs(rs, 0, d).await?;
                scaled |= s;
                *rs = updated;
            }
        }
        if scaled || old_pods_running(new_rs.as_ref(), &old, &pods) {
            return self.sync_rollout_status(d, &old, new_rs.as_ref()).await;
        }
        if new_rs.is_none() {
            let list: Vec<ReplicaSet> = old.clone();
            let (n, o) = self.get_all_replica_sets(d, list, true).await?;
            new_rs = n;
            old = o;
        }
        if let Some(rs) = new_rs.as_mut() {
            let want = replicas(d);
            *rs = self.scale_rs(rs, want, d).await?.1;
        }
        if d.status.as_ref().is_some_and(|s| deployment_complete(d, s)) {
            self.cleanup(d, &old).await?;
        }
        self.sync_rollout_status(d, &old, new_rs.as_ref()).await
    }
}
