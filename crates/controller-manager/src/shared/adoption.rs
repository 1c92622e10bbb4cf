//! Adoption and release by selector (`ControllerRefManager.ClaimObject`, §0): an owner keeps
//! what it controls and still selects, releases what it controls but no longer selects, and
//! adopts matching orphans — with upstream's strategic-merge patches. Anything controlled by
//! another owner is left alone.

use super::pods::controller_ref;
use apimachinery::labels::Selector;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

/// What an owner does with a candidate object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Controlled and selected: keep.
    Keep,
    /// Controlled but no longer selected: release.
    Release,
    /// An orphan that matches: adopt.
    Adopt,
    /// Not ours (another controller's, or not selected, or being deleted).
    Ignore,
}

/// The owner side of a claim.
pub struct Owner<'a> {
    pub uid: &'a str,
    pub namespace: &'a str,
    pub deleting: bool,
    pub selector: &'a Selector,
}

/// The pure decision of `ClaimObject`.
pub fn classify(owner: &Owner<'_>, meta: &ObjectMeta) -> Claim {
    let matches = owner.selector.matches(super::labels_of(meta));
    match controller_ref(meta) {
        Some(r) if r.uid == owner.uid => {
            if matches || owner.deleting {
                Claim::Keep
            } else {
                Claim::Release
            }
        }
        Some(_) => Claim::Ignore,
        None => {
            if matches
                && !owner.deleting
                && meta.deletion_timestamp.is_none()
                && meta.namespace.as_deref() == Some(owner.namespace)
            {
                Claim::Adopt
            } else {
                Claim::Ignore
            }
        }
    }
}

fn is_gone(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404 || s.code == 422)
}

/// Claim `candidates` for `owner`: returns the ones it now controls. `recheck` is a live read
/// of the owner (`RecheckDeletionTimestamp`) done once before the first adoption; when it
/// says the owner is gone or deleting, nothing is adopted.
pub async fn claim<K, R, RF>(
    api: &Api<K>,
    owner: &Owner<'_>,
    owner_ref: &OwnerReference,
    candidates: Vec<Arc<K>>,
    recheck: R,
) -> Result<Vec<Arc<K>>, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Debug,
    R: FnOnce() -> RF,
    RF: Future<Output = Result<bool, kube::Error>>,
{
    let mut out = Vec::new();
    let mut recheck = Some(recheck);
    let mut may_adopt = true;
    for obj in candidates {
        let meta = obj.meta();
        let uid = meta.uid.as_deref().unwrap_or_default();
        match classify(owner, meta) {
            Claim::Keep => out.push(obj),
            Claim::Ignore => {}
            Claim::Release => {
                let patch = json!({"metadata": {
                    "ownerReferences": [{"$patch": "delete", "uid": owner.uid}],
                    "uid": uid,
                }});
                match api
                    .patch(
                        &obj.name_any(),
                        &PatchParams::default(),
                        &Patch::Strategic(&patch),
                    )
                    .await
                {
                    Ok(_) => {}
                    Err(e) if is_gone(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            Claim::Adopt => {
                if let Some(r) = recheck.take() {
                    may_adopt = r().await?;
                }
                if !may_adopt {
                    continue;
                }
                let patch = json!({"metadata": {
                    "ownerReferences": [owner_ref],
                    "uid": uid,
                }});
                match api
                    .patch(
                        &obj.name_any(),
                        &PatchParams::default(),
                        &Patch::Strategic(&patch),
                    )
                    .await
                {
                    Ok(adopted) => out.push(Arc::new(adopted)),
                    Err(e) if is_gone(&e) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(labels: &[(&str, &str)], ctrl: Option<&str>, deleting: bool) -> ObjectMeta {
        ObjectMeta {
            namespace: Some("ns".into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            owner_references: ctrl.map(|uid| {
                vec![OwnerReference {
                    uid: uid.into(),
                    controller: Some(true),
                    ..Default::default()
                }]
            }),
            deletion_timestamp: deleting
                .then(|| super::super::time::to_time(std::time::UNIX_EPOCH)),
            ..Default::default()
        }
    }

    #[test]
    fn claims_follow_controller_ref_and_selector() {
        let sel = Selector::from_set([("app", "web")]);
        let owner = Owner {
            uid: "me",
            namespace: "ns",
            deleting: false,
            selector: &sel,
        };
        let web = [("app", "web")];
        let other = [("app", "db")];
        assert_eq!(
            classify(&owner, &meta(&web, Some("me"), false)),
            Claim::Keep
        );
        assert_eq!(
            classify(&owner, &meta(&other, Some("me"), false)),
            Claim::Release
        );
        assert_eq!(classify(&owner, &meta(&web, None, false)), Claim::Adopt);
        assert_eq!(classify(&owner, &meta(&web, None, true)), Claim::Ignore);
        assert_eq!(
            classify(&owner, &meta(&web, Some("them"), false)),
            Claim::Ignore
        );
        assert_eq!(classify(&owner, &meta(&other, None, false)), Claim::Ignore);
        let deleting = Owner {
            deleting: true,
            ..owner
        };
        assert_eq!(
            classify(&deleting, &meta(&other, Some("me"), false)),
            Claim::Keep
        );
        assert_eq!(classify(&deleting, &meta(&web, None, false)), Claim::Ignore);
    }
}
