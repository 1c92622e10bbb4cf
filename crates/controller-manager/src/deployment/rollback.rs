//! The legacy server-side rollback (`rollback.go`, §1.9): the annotation
//! `deprecated.deployment.rollback.to=<revision>` copies that revision's template back into
//! the Deployment. (`kubectl rollout undo` patches the template itself; the new-RS lookup in
//! `sync` then re-uses the matching old ReplicaSet with the next revision number.)

use super::util::*;
use super::{DeploymentController, Step};
use crate::shared::events::EventType;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::PostParams;
use kube::ResourceExt;

pub(crate) fn rollback_to(d: &Deployment) -> Option<i64> {
    let v = d.metadata.annotations.as_ref()?.get(ROLLBACK_TO)?;
    Some(v.parse().unwrap_or(0))
}

/// `LastRevision`: the second-highest revision.
pub(crate) fn last_revision(all: &[&ReplicaSet]) -> i64 {
    let (mut max, mut second) = (0, 0);
    for rs in all {
        let v = revision(rs);
        if v >= max {
            second = max;
            max = v;
        } else if v > second {
            second = v;
        }
    }
    second
}

impl DeploymentController {
    /// `rollback`.
    pub(crate) async fn rollback(&self, d: &mut Deployment, rs_list: Vec<ReplicaSet>) -> Step {
        let (new_rs, old) = self.get_all_replica_sets(d, rs_list, true).await?;
        let all: Vec<&ReplicaSet> = old.iter().chain(new_rs.as_ref()).collect();
        let mut to = rollback_to(d).unwrap_or(0);
        if to == 0 {
            to = last_revision(&all);
            if to == 0 {
                self.event(
                    d,
                    EventType::Warning,
                    "DeploymentRollbackRevisionNotFound",
                    "Unable to find last revision.".into(),
                );
                return self.clear_rollback_to(d).await;
            }
        }
        if let Some(rs) = all.iter().find(|rs| revision(rs) == to) {
            let template = rs
                .spec
                .as_ref()
                .and_then(|s| s.template.clone())
                .unwrap_or_default();
            let spec = d.spec.get_or_insert_with(Default::default);
            if !equal_ignore_hash(&spec.template, &template) {
                let mut t = template;
                if let Some(labels) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
                    labels.remove(POD_TEMPLATE_HASH);
                }
                spec.template = t;
                set_annotations_from_rs(d, rs);
                self.event(
                    d,
                    EventType::Normal,
                    "DeploymentRollback",
                    format!(
                        "Rolled back deployment \"{}\" to revision {}",
                        d.name_any(),
                        to
                    ),
                );
            } else {
                self.event(
                    d,
                    EventType::Warning,
                    "DeploymentRollbackTemplateUnchanged",
                    format!("The rollback revision contains the same template as current deployment \"{}\"", d.name_any()),
                );
            }
            return self.clear_rollback_to(d).await;
        }
        self.event(
            d,
            EventType::Warning,
            "DeploymentRollbackRevisionNotFound",
            "Unable to find the revision to rollback to.".into(),
        );
        self.clear_rollback_to(d).await
    }

    async fn clear_rollback_to(&self, d: &mut Deployment) -> Step {
        if let Some(a) = d.metadata.annotations.as_mut() {
            a.remove(ROLLBACK_TO);
        }
        let ns = d.namespace().unwrap_or_default();
        self.api(&ns)
            .replace(&d.name_any(), &PostParams::default(), d)
            .await?;
        Ok(None)
    }
}

/// `SetDeploymentAnnotationsTo`: the Deployment keeps its skip-list annotations and takes the
/// RS's others.
fn set_annotations_from_rs(d: &mut Deployment, rs: &ReplicaSet) {
    let mut out: std::collections::BTreeMap<String, String> = d
        .metadata
        .annotations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| SKIP_ANNOTATIONS.contains(&k.as_str()))
        .collect();
    for (k, v) in rs.metadata.annotations.clone().unwrap_or_default() {
        if !SKIP_ANNOTATIONS.contains(&k.as_str()) {
            out.insert(k, v);
        }
    }
    d.metadata.annotations = Some(out);
}
