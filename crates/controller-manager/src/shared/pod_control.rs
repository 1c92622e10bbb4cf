//! Pod control (`controller.RealPodControl`): pods built from an owner's template (generateName
//! `<owner>-`, template labels, annotations and finalizers, a controller ownerReference with
//! blockOwnerDeletion), created and deleted through the API.

use super::error_message;
use super::events::{EventType, Recorder};
use super::expectations::Expectations;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client, Resource, ResourceExt};

/// The controller reference `owner` puts on what it creates.
pub fn controller_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    OwnerReference {
        api_version: K::api_version(&()).to_string(),
        kind: K::kind(&()).to_string(),
        name: owner.name_any(),
        uid: owner.uid().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `GetPodFromTemplate`: the pod a controller named `parent` creates from `template`.
pub fn pod_from_template(template: &PodTemplateSpec, parent: &str, owner: OwnerReference) -> Pod {
    let tm = template.metadata.clone().unwrap_or_default();
    let prefix = format!("{parent}-");
    let generate_name = if apimachinery::is_dns1123_subdomain(&format!("{prefix}a")).is_empty() {
        prefix
    } else {
        parent.to_string()
    };
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name),
            labels: tm.labels,
            annotations: tm.annotations,
            finalizers: tm.finalizers,
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

#[derive(Clone)]
pub struct PodControl {
    client: Client,
}

impl PodControl {
    pub fn new(client: Client) -> Self {
        PodControl { client }
    }

    pub async fn create(&self, namespace: &str, pod: &Pod) -> Result<Pod, kube::Error> {
        Api::<Pod>::namespaced(self.client.clone(), namespace)
            .create(&PostParams::default(), pod)
            .await
    }

    /// `RealPodControl.CreatePods`: create `pod` for `owner` (queue key `key`), note the
    /// created name in the owner's expectations and record `SuccessfulCreate` or
    /// `FailedCreate`; the error is the API's message.
    pub async fn create_for<K: Resource<DynamicType = ()>>(
        &self,
        owner: &K,
        key: &str,
        pod: &Pod,
        expectations: &Expectations,
        recorder: &Recorder,
    ) -> Result<(), String> {
        let namespace = owner.namespace().unwrap_or_default();
        match self.create(&namespace, pod).await {
            Ok(p) => {
                expectations.created(key, &p.name_any());
                recorder.event(
                    owner,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!("Created pod: {}", p.name_any()),
                );
                Ok(())
            }
            Err(e) => {
                let msg = error_message(&e);
                recorder.event(
                    owner,
                    EventType::Warning,
                    "FailedCreate",
                    format!("Error creating: {msg}"),
                );
                Err(msg)
            }
        }
    }

    /// Delete a pod; one that is already gone counts as deleted.
    pub async fn delete(&self, namespace: &str, name: &str) -> Result<(), kube::Error> {
        match Api::<Pod>::namespaced(self.client.clone(), namespace)
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn pods_from_a_template_carry_its_metadata_and_the_controller_ref() {
        let template = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
                annotations: Some(BTreeMap::from([("a".to_string(), "b".to_string())])),
                finalizers: Some(vec!["f".into()]),
                ..Default::default()
            }),
            spec: Some(Default::default()),
        };
        let owner = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: "web".into(),
            uid: "u1".into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        };
        let pod = pod_from_template(&template, "web", owner.clone());
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("web-"));
        assert_eq!(
            pod.metadata.labels,
            template.metadata.as_ref().unwrap().labels
        );
        assert_eq!(pod.metadata.annotations.unwrap()["a"], "b");
        assert_eq!(pod.metadata.finalizers, Some(vec!["f".to_string()]));
        assert_eq!(pod.metadata.owner_references, Some(vec![owner]));
    }
}
