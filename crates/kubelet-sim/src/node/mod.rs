//! Simulated nodes: what a node object looks like when kind's kubelet registers it (labels,
//! annotations, taints, podCIDR, capacity, addresses, nodeInfo, conditions), its Lease in
//! `kube-node-lease`, and the manager that registers the default nodes, adopts nodes created
//! through the API and runs a kubelet for each.

pub mod host;
pub mod manager;

use apimachinery::clock::{rfc3339, rfc3339_micro};
use host::Host;
use serde_json::{json, Map, Value};
use std::time::SystemTime;

pub use manager::NodeManager;

/// The kubelet version every node reports.
pub const KUBELET_VERSION: &str = "v1.35.0";
pub const CONTROL_PLANE: &str = "kube-lite-control-plane";
pub const CONTROL_PLANE_LABEL: &str = "node-role.kubernetes.io/control-plane";
/// Pods a node takes (`--max-pods`).
pub const MAX_PODS: u32 = 110;
/// How long a Lease is valid (`nodeLeaseDurationSeconds`); renewed every quarter of it.
pub const LEASE_SECONDS: i32 = 40;

/// The default cluster: `kube-lite-control-plane`, `kube-lite-worker`, `kube-lite-worker2`, ...
pub fn default_nodes(workers: usize) -> Vec<String> {
    let mut v = vec![CONTROL_PLANE.to_string()];
    for i in 1..=workers {
        v.push(if i == 1 {
            "kube-lite-worker".to_string()
        } else {
            format!("kube-lite-worker{i}")
        });
    }
    v
}

/// The labels the kubelet (and kubeadm, for the control plane) puts on a node.
pub fn labels(name: &str, control_plane: bool, host: &Host) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("beta.kubernetes.io/arch".into(), json!(host.architecture));
    m.insert("beta.kubernetes.io/os".into(), json!("linux"));
    m.insert("kubernetes.io/arch".into(), json!(host.architecture));
    m.insert("kubernetes.io/hostname".into(), json!(name));
    m.insert("kubernetes.io/os".into(), json!("linux"));
    if control_plane {
        m.insert(CONTROL_PLANE_LABEL.into(), json!(""));
        m.insert(
            "node.kubernetes.io/exclude-from-external-load-balancers".into(),
            json!(""),
        );
    }
    m
}

fn quantities(host: &Host) -> Value {
    json!({
        "cpu": host.cpus.to_string(),
        "ephemeral-storage": format!("{}Ki", host.ephemeral_storage_ki),
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": format!("{}Ki", host.memory_ki),
        "pods": MAX_PODS.to_string(),
    })
}

/// A node condition of kube-lite's own (not the kubelet's): `True` when pods on the node
/// cannot get real sandboxes (the process runtime was asked for but is unavailable, so pods
/// are simulated), with the reason as its message. Like node-problem-detector's conditions it
/// says something is wrong without making the node NotReady; it is absent when all is well.
pub const SANDBOXES_UNAVAILABLE: &str = "SandboxesUnavailable";

/// Why a node's pods are simulated, as its event and condition say it.
pub fn sandboxes_unavailable_message(why: &str) -> String {
    format!(
        "pods run in the simulated runtime: the process runtime cannot make pod sandboxes here: {why}"
    )
}

/// The node's conditions, keeping transition times from `prev` when unchanged: the kubelet's
/// (all healthy), then [`SANDBOXES_UNAVAILABLE`] when `sandboxes_unavailable` says why.
pub fn conditions(
    now: SystemTime,
    prev: &[Value],
    sandboxes_unavailable: Option<&str>,
) -> Vec<Value> {
    let mut table = vec![
        (
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        (
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        ),
        (
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        (
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
        ),
    ];
    let unavailable;
    if let Some(why) = sandboxes_unavailable {
        unavailable = sandboxes_unavailable_message(why);
        table.push((
            SANDBOXES_UNAVAILABLE,
            "True",
            "ProcessRuntimeUnavailable",
            &unavailable,
        ));
    }
    table
        .iter()
        .map(|(ty, status, reason, message)| {
            let since = prev
                .iter()
                .find(|c| {
                    c.get("type").and_then(Value::as_str) == Some(ty)
                        && c.get("status").and_then(Value::as_str) == Some(status)
                })
                .and_then(|c| c.get("lastTransitionTime").cloned())
                .unwrap_or_else(|| json!(rfc3339(now)));
            json!({
                "type": ty, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": rfc3339(now), "lastTransitionTime": since,
            })
        })
        .collect()
}

/// Stable per-node identifiers (machine-id, system UUID, boot id) derived from the name.
fn ids(name: &str) -> (String, String, String) {
    let h = crate::images::reference::fake_sha256(name);
    let uuid = |s: &str| {
        format!(
            "{}-{}-{}-{}-{}",
            &s[0..8],
            &s[8..12],
            &s[12..16],
            &s[16..20],
            &s[20..32]
        )
    };
    (h[0..32].to_string(), uuid(&h[32..64]), uuid(&h[16..48]))
}

/// The node's status as its kubelet reports it.
pub fn status(
    name: &str,
    ip: &str,
    host: &Host,
    runtime_version: &str,
    now: SystemTime,
    prev: &Value,
    sandboxes_unavailable: Option<&str>,
) -> Value {
    let prev_conds = prev
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (machine_id, system_uuid, boot_id) = ids(name);
    json!({
        "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
        "allocatable": quantities(host),
        "capacity": quantities(host),
        "conditions": conditions(now, &prev_conds, sandboxes_unavailable),
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "features": {"supplementalGroupsPolicy": true},
        "nodeInfo": {
            "architecture": host.architecture,
            "bootID": boot_id,
            "containerRuntimeVersion": runtime_version,
            "kernelVersion": host.kernel_version,
            "kubeProxyVersion": "",
            "kubeletVersion": KUBELET_VERSION,
            "machineID": machine_id,
            "operatingSystem": "linux",
            "osImage": host.os_image,
            "systemUUID": system_uuid,
        },
        "runtimeHandlers": [
            {"name": "runc", "features": {"recursiveReadOnlyMounts": true, "userNamespaces": true}},
            {"name": "", "features": {"recursiveReadOnlyMounts": true, "userNamespaces": true}},
        ],
    })
}

/// A node object as the kubelet registers it.
pub fn node_object(
    name: &str,
    ip: &str,
    pod_cidr: &str,
    host: &Host,
    runtime_version: &str,
    now: SystemTime,
) -> Value {
    let control_plane = name == CONTROL_PLANE;
    let mut spec = json!({"podCIDR": pod_cidr, "podCIDRs": [pod_cidr], "providerID": format!("kind://docker/kube-lite/{name}")});
    if control_plane {
        spec["taints"] = json!([{"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}]);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels(name, control_plane, host),
            "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": spec,
        "status": status(name, ip, host, runtime_version, now, &Value::Null, None),
    })
}

/// The node's Lease (renewed as the heartbeat).
pub fn lease(name: &str, node_uid: &str, now: SystemTime) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": name,
            "namespace": "kube-node-lease",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}],
        },
        "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": rfc3339_micro(now)},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host {
            cpus: 8,
            memory_ki: 16_000_000,
            ephemeral_storage_ki: 100_000_000,
            kernel_version: "6.8.0".into(),
            os_image: "Debian GNU/Linux 12 (bookworm)".into(),
            architecture: "amd64".into(),
        }
    }

    #[test]
    fn the_default_cluster_is_a_control_plane_and_workers() {
        assert_eq!(
            default_nodes(2),
            [
                "kube-lite-control-plane",
                "kube-lite-worker",
                "kube-lite-worker2"
            ]
        );
        assert_eq!(default_nodes(0), ["kube-lite-control-plane"]);
    }

    #[test]
    fn the_control_plane_is_labelled_and_tainted_like_kubeadm_does() {
        let t = SystemTime::UNIX_EPOCH;
        let cp = node_object(
            CONTROL_PLANE,
            "172.18.0.2",
            "10.244.0.0/24",
            &host(),
            "containerd://2.1.0",
            t,
        );
        assert_eq!(cp["metadata"]["labels"][CONTROL_PLANE_LABEL], "");
        assert_eq!(
            cp["spec"]["taints"],
            json!([{"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}])
        );
        let w = node_object(
            "kube-lite-worker",
            "172.18.0.3",
            "10.244.1.0/24",
            &host(),
            "containerd://2.1.0",
            t,
        );
        assert!(w["spec"].get("taints").is_none());
        assert_eq!(
            w["metadata"]["labels"]["kubernetes.io/hostname"],
            "kube-lite-worker"
        );
        assert_eq!(w["metadata"]["labels"]["kubernetes.io/arch"], "amd64");
        let s = &w["status"];
        assert_eq!(s["capacity"]["pods"], "110");
        assert_eq!(s["nodeInfo"]["kubeletVersion"], "v1.35.0");
        assert_eq!(
            s["addresses"][0],
            json!({"type": "InternalIP", "address": "172.18.0.3"})
        );
        let ready = &s["conditions"][3];
        assert_eq!(
            (ready["type"].as_str(), ready["reason"].as_str()),
            (Some("Ready"), Some("KubeletReady"))
        );
        assert_eq!(ready["message"], "kubelet is posting ready status");
        serde_json::from_value::<k8s_openapi::api::core::v1::Node>(w).unwrap();
    }

    #[test]
    fn a_node_without_sandboxes_says_so_in_a_condition_of_its_own_and_stays_ready() {
        let t0 = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let of = |why: Option<&str>| -> Vec<(String, String)> {
            conditions(t0, &[], why)
                .iter()
                .map(|c| (c["type"].to_string(), c["status"].to_string()))
                .collect()
        };
        let healthy = of(None);
        assert!(!healthy
            .iter()
            .any(|(t, _)| t.contains(SANDBOXES_UNAVAILABLE)));
        let without = conditions(t0, &[], Some("unshare: Operation not permitted"));
        let last = without.last().unwrap();
        assert_eq!(
            (&last["type"], &last["status"], &last["reason"]),
            (
                &json!(SANDBOXES_UNAVAILABLE),
                &json!("True"),
                &json!("ProcessRuntimeUnavailable")
            )
        );
        assert!(last["message"]
            .as_str()
            .unwrap()
            .ends_with(": unshare: Operation not permitted"));
        assert_eq!(
            without[..without.len() - 1],
            conditions(t0, &[], None)[..],
            "the kubelet's own conditions, Ready among them, are unchanged"
        );
    }

    #[test]
    fn heartbeats_keep_transition_times() {
        let t0 = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let first = conditions(t0, &[], None);
        let later = conditions(t0 + std::time::Duration::from_secs(300), &first, None);
        assert_eq!(
            later[3]["lastTransitionTime"],
            first[3]["lastTransitionTime"]
        );
        assert_ne!(later[3]["lastHeartbeatTime"], first[3]["lastHeartbeatTime"]);
    }
}
