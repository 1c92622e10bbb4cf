//! The pod the controllers cache (`CachedPod`): only what they read of a pod — its metadata,
//! the node it runs on or is pinned to, its phase, Ready condition and container restarts and
//! finish times — so the shared pod cache holds a fraction of a k8s-openapi `Pod` (whose
//! containers, volumes and full statuses no controller reads; they are skipped while
//! deserializing). The pods the controllers create from templates stay full `Pod`s.
//!
//! Fields are named and nested as in k8s-openapi, so the same accessors read either type.

use k8s_openapi::api::core::v1::{NodeAffinity, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::NamespaceResourceScope;
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;

/// A pod as the controllers' cache holds it (`GET /api/v1/pods` deserializes into it).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct CachedPod {
    /// All of it but `managedFields`, which the informer drops on arrival.
    pub metadata: ObjectMeta,
    pub spec: Option<CachedPodSpec>,
    pub status: Option<CachedPodStatus>,
}

/// Where the pod runs: what ranking (assigned or not, co-located siblings) and the DaemonSet
/// controller (`GetTargetNodeName`) read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CachedPodSpec {
    pub node_name: Option<String>,
    pub affinity: Option<CachedAffinity>,
}

/// Of the affinity, the node affinity: a daemon pod's pinning term.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CachedAffinity {
    pub node_affinity: Option<NodeAffinity>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CachedPodStatus {
    pub phase: Option<String>,
    /// Only the Ready condition: the one the controllers read (readiness, availability,
    /// ranking, a Job pod's finish time).
    #[serde(deserialize_with = "ready_condition_only")]
    pub conditions: Option<Vec<CachedPodCondition>>,
    pub container_statuses: Option<Vec<CachedContainerStatus>>,
    pub init_container_statuses: Option<Vec<CachedContainerStatus>>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct CachedPodCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub last_transition_time: Option<Time>,
}

/// Of a container status: its name, readiness, restarts (ranking, a Job's restart limit) and
/// when it terminated (a Job pod's finish time); not its image, IDs, last state or resources.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct CachedContainerStatus {
    pub name: String,
    pub ready: bool,
    pub restart_count: i32,
    pub started: Option<bool>,
    pub state: Option<CachedContainerState>,
}

/// Of the current state, whether and when the container terminated.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct CachedContainerState {
    pub terminated: Option<CachedContainerStateTerminated>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct CachedContainerStateTerminated {
    pub finished_at: Option<Time>,
}

fn ready_condition_only<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<CachedPodCondition>>, D::Error> {
    let conditions = Option::<Vec<CachedPodCondition>>::deserialize(d)?;
    Ok(conditions.map(|c| c.into_iter().filter(|c| c.type_ == "Ready").collect()))
}

/// The API identity of a `Pod`: `Api::<CachedPod>` lists and watches `/api/v1/pods`.
impl kube::Resource for CachedPod {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(dt: &()) -> Cow<'_, str> {
        Pod::kind(dt)
    }

    fn group(dt: &()) -> Cow<'_, str> {
        Pod::group(dt)
    }

    fn version(dt: &()) -> Cow<'_, str> {
        Pod::version(dt)
    }

    fn api_version(dt: &()) -> Cow<'_, str> {
        Pod::api_version(dt)
    }

    fn plural(dt: &()) -> Cow<'_, str> {
        Pod::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;
    use kube::Resource;
    use serde_json::json;

    fn time(s: &str) -> Time {
        Time(s.parse::<Timestamp>().unwrap())
    }

    /// A Running pod of a Job as the API server sends it, with all a kubelet reports.
    fn running_pod() -> serde_json::Value {
        let terminated = json!({"terminated": {"exitCode": 3, "reason": "Error",
            "containerID": "containerd://8e", "startedAt": "2026-01-01T00:00:10Z",
            "finishedAt": "2026-01-01T00:01:00Z"}});
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "pi-1-x7k2p", "generateName": "pi-1-", "namespace": "default",
                "uid": "5d0b", "resourceVersion": "4211",
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"app": "pi", "batch.kubernetes.io/job-completion-index": "1"},
                "annotations": {"controller.kubernetes.io/pod-deletion-cost": "5",
                    "batch.kubernetes.io/job-completion-index": "1"},
                "finalizers": ["batch.kubernetes.io/job-tracking"],
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "pi",
                    "uid": "u", "controller": true, "blockOwnerDeletion": true}],
                "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                    "apiVersion": "v1", "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}]},
            "spec": {"nodeName": "kube-lite-worker", "hostname": "pi-1", "subdomain": "pi",
                "restartPolicy": "OnFailure", "serviceAccountName": "default",
                "containers": [{"name": "pi", "image": "perl:5.34",
                    "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                "initContainers": [{"name": "init", "image": "busybox"}],
                "volumes": [{"name": "data", "emptyDir": {}}],
                "nodeSelector": {"disk": "ssd"},
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                    {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name",
                        "operator": "In", "values": ["kube-lite-worker"]}]}]}},
                    "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 1, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}},
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                    "effect": "NoExecute", "tolerationSeconds": 300}]},
            "status": {"phase": "Running", "hostIP": "10.0.0.2", "podIP": "10.244.0.7",
                "startTime": "2026-01-01T00:00:01Z", "qosClass": "Burstable",
                "conditions": [
                    {"type": "PodScheduled", "status": "True",
                        "lastTransitionTime": "2026-01-01T00:00:00Z"},
                    {"type": "Ready", "status": "True", "reason": "PodReady",
                        "lastTransitionTime": "2026-01-01T00:01:05Z"}],
                "containerStatuses": [{"name": "pi", "image": "perl:5.34",
                    "imageID": "docker.io/library/perl@sha256:0d17", "containerID": "containerd://9f",
                    "ready": true, "restartCount": 2, "started": true,
                    "state": {"running": {"startedAt": "2026-01-01T00:01:02Z"}},
                    "lastState": terminated.clone(),
                    "allocatedResources": {"cpu": "100m"}}],
                "initContainerStatuses": [{"name": "init", "image": "busybox", "imageID": "",
                    "ready": false, "restartCount": 1, "state": terminated}]}
        })
    }

    #[test]
    fn the_controllers_cache_keeps_what_they_read_of_a_pod() {
        let full: Pod = serde_json::from_value(running_pod()).unwrap();
        let pod: CachedPod = serde_json::from_value(running_pod()).unwrap();
        // All the metadata (the informer drops managedFields on arrival).
        assert_eq!(pod.metadata, full.metadata);
        // The node it runs on and the node its affinity pins it to.
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("kube-lite-worker"));
        let node_affinity = spec.affinity.as_ref().unwrap().node_affinity.as_ref();
        let full_affinity = full.spec.as_ref().unwrap().affinity.as_ref().unwrap();
        assert_eq!(node_affinity, full_affinity.node_affinity.as_ref());
        // The phase and the Ready condition (type, status, when it last changed).
        let status = pod.status.as_ref().unwrap();
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert_eq!(
            status.conditions,
            Some(vec![CachedPodCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_transition_time: Some(time("2026-01-01T00:01:05Z")),
            }])
        );
        // Each container's name, readiness, restarts and, once terminated, when it finished.
        assert_eq!(
            status.container_statuses,
            Some(vec![CachedContainerStatus {
                name: "pi".into(),
                ready: true,
                restart_count: 2,
                started: Some(true),
                state: Some(CachedContainerState { terminated: None }),
            }])
        );
        assert_eq!(
            status.init_container_statuses,
            Some(vec![CachedContainerStatus {
                name: "init".into(),
                ready: false,
                restart_count: 1,
                started: None,
                state: Some(CachedContainerState {
                    terminated: Some(CachedContainerStateTerminated {
                        finished_at: Some(time("2026-01-01T00:01:00Z")),
                    }),
                }),
            }])
        );
    }

    #[test]
    fn a_cached_pod_is_a_fraction_of_a_pods_size() {
        assert!(std::mem::size_of::<CachedPod>() * 4 < std::mem::size_of::<Pod>());
    }

    #[test]
    fn a_cached_pod_is_listed_and_watched_as_a_pod() {
        assert_eq!(
            CachedPod::url_path(&(), Some("ns")),
            "/api/v1/namespaces/ns/pods"
        );
        assert_eq!(
            (CachedPod::kind(&()), CachedPod::api_version(&())),
            (Pod::kind(&()), Pod::api_version(&()))
        );
    }
}
