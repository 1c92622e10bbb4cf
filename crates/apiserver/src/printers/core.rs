//! Printers of the core/v1 kinds besides Pod: Namespace, Service, Endpoints, ConfigMap,
//! Secret, ServiceAccount, Node, PersistentVolume, PersistentVolumeClaim and Event.

use super::At;
use super::{cell, format_labels, int_at, is_set, list_at, map_len, quantity, str_at, TableSpec};
use crate::table::{Column, AGE, NAME};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::SystemTime;

// --- Namespace ----------------------------------------------------------------------------

pub const NAMESPACE_COLUMNS: &[Column] = &[
    NAME,
    Column::new("Status", "string", "The status of the namespace"),
    AGE,
];

pub fn namespace_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        super::name(obj),
        cell(str_at(obj, "/status/phase")),
        super::age(obj, now),
    ]
}

pub static NAMESPACE: TableSpec = TableSpec::new(NAMESPACE_COLUMNS, namespace_row);

// --- Service ------------------------------------------------------------------------------

pub const SERVICE_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Type",
        "string",
        "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
    ),
    Column::new(
        "Cluster-IP",
        "string",
        "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    Column::new(
        "External-IP",
        "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.",
    ),
    Column::new(
        "Port(s)",
        "string",
        "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    AGE,
    Column::new(
        "Selector",
        "string",
        "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/",
    )
    .wide(),
];

/// `spec.type`, which defaulting always sets (ClusterIP).
fn service_type(obj: &Value) -> &str {
    match str_at(obj, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    }
}

fn strings(obj: &Value, ptr: &str) -> Vec<String> {
    list_at(obj, ptr)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// EXTERNAL-IP by service type (`getServiceExternalIP`, wide: never clipped).
fn external_ip(obj: &Value) -> String {
    let external = strings(obj, "/spec/externalIPs");
    match service_type(obj) {
        "ClusterIP" | "NodePort" if external.is_empty() => "<none>".into(),
        "ClusterIP" | "NodePort" => external.join(","),
        "LoadBalancer" => {
            let lb: BTreeSet<&str> = list_at(obj, "/status/loadBalancer/ingress")
                .iter()
                .filter_map(|i| match (str_at(i, "/ip"), str_at(i, "/hostname")) {
                    ("", "") => None,
                    ("", host) => Some(host),
                    (ip, _) => Some(ip),
                })
                .collect();
            let mut all: Vec<String> = lb.into_iter().map(str::to_string).collect();
            all.extend(external);
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => str_at(obj, "/spec/externalName").to_string(),
        _ => "<unknown>".into(),
    }
}

/// PORT(S): `port/proto` or `port:nodePort/proto`, comma-joined (`makePortString`).
fn service_ports(obj: &Value) -> String {
    let ports: Vec<String> = list_at(obj, "/spec/ports")
        .iter()
        .map(|p| {
            let port = int_at(p, "/port");
            let proto = match str_at(p, "/protocol") {
                "" => "TCP",
                x => x,
            };
            match int_at(p, "/nodePort") {
                n if n > 0 => format!("{port}:{n}/{proto}"),
                _ => format!("{port}/{proto}"),
            }
        })
        .collect();
    if ports.is_empty() {
        "<none>".into()
    } else {
        ports.join(",")
    }
}

pub fn service_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let cluster_ip = match (
        str_at(obj, "/spec/clusterIPs/0"),
        str_at(obj, "/spec/clusterIP"),
    ) {
        ("", "") => "<none>",
        ("", ip) | (ip, _) => ip,
    };
    vec![
        super::name(obj),
        cell(service_type(obj)),
        cell(cluster_ip),
        cell(external_ip(obj)),
        cell(service_ports(obj)),
        super::age(obj, now),
        cell(format_labels(obj.at("/spec/selector"))),
    ]
}

pub static SERVICE: TableSpec = TableSpec::new(SERVICE_COLUMNS, service_row);

// --- Endpoints ----------------------------------------------------------------------------

pub const ENDPOINTS_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Endpoints",
        "string",
        "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.",
    ),
    AGE,
];

/// `net.JoinHostPort`: IPv6 addresses in brackets.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `formatEndpoints`: up to three ready `ip:port` pairs, then ` + N more...`.
pub fn format_endpoints(obj: &Value) -> String {
    const MAX: usize = 3;
    let subsets = list_at(obj, "/subsets");
    if subsets.is_empty() {
        return "<none>".into();
    }
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for ss in subsets {
        let addresses = list_at(ss, "/addresses");
        let ports = list_at(ss, "/ports");
        if ports.is_empty() {
            // Headless services may have no ports.
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(str_at(a, "/ip").to_string());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(str_at(a, "/ip"), int_at(port, "/port")));
            }
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count - MAX)
    } else {
        joined
    }
}

pub fn endpoints_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        super::name(obj),
        cell(format_endpoints(obj)),
        super::age(obj, now),
    ]
}

pub static ENDPOINTS: TableSpec = TableSpec::new(ENDPOINTS_COLUMNS, endpoints_row);

// --- ConfigMap, Secret, ServiceAccount ----------------------------------------------------

pub const CONFIGMAP_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Data",
        "string",
        "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
    ),
    AGE,
];

pub fn configmap_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        super::name(obj),
        json!(map_len(obj, "/data") + map_len(obj, "/binaryData")),
        super::age(obj, now),
    ]
}

pub static CONFIGMAP: TableSpec = TableSpec::new(CONFIGMAP_COLUMNS, configmap_row);

pub const SECRET_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Type",
        "string",
        "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
    ),
    Column::new(
        "Data",
        "string",
        "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
    ),
    AGE,
];

/// DATA counts the keys of `data`, with `stringData` merged in as the conversion does.
pub fn secret_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let keys: BTreeSet<&String> = ["/data", "/stringData"]
        .iter()
        .filter_map(|p| obj.at(p).and_then(Value::as_object))
        .flat_map(|m| m.keys())
        .collect();
    vec![
        super::name(obj),
        cell(str_at(obj, "/type")),
        json!(keys.len()),
        super::age(obj, now),
    ]
}

pub static SECRET: TableSpec = TableSpec::new(SECRET_COLUMNS, secret_row);

pub const SERVICEACCOUNT_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Secrets",
        "string",
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret",
    ),
    AGE,
];

pub fn serviceaccount_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        super::name(obj),
        json!(list_at(obj, "/secrets").len()),
        super::age(obj, now),
    ]
}

pub static SERVICEACCOUNT: TableSpec = TableSpec::new(SERVICEACCOUNT_COLUMNS, serviceaccount_row);

// --- Node ---------------------------------------------------------------------------------

const NODE_ADDRESSES_DOC: &str = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";

pub const NODE_COLUMNS: &[Column] = &[
    NAME,
    Column::new("Status", "string", "The status of the node"),
    Column::new("Roles", "string", "The roles of the node"),
    AGE,
    Column::new("Version", "string", "Kubelet Version reported by the node."),
    Column::new("Internal-IP", "string", NODE_ADDRESSES_DOC).wide(),
    Column::new("External-IP", "string", NODE_ADDRESSES_DOC).wide(),
    Column::new(
        "OS-Image",
        "string",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    )
    .wide(),
    Column::new(
        "Kernel-Version",
        "string",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    )
    .wide(),
    Column::new(
        "Container-Runtime",
        "string",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    )
    .wide(),
];

/// STATUS: `Ready`, `NotReady` or `Unknown`, plus `SchedulingDisabled` when cordoned.
pub fn node_status(obj: &Value) -> String {
    // The last Ready condition wins, as in upstream's condition map.
    let ready = list_at(obj, "/status/conditions")
        .iter()
        .rev()
        .find(|c| str_at(c, "/type") == "Ready");
    let mut status = vec![match ready {
        None => "Unknown",
        Some(c) if str_at(c, "/status") == "True" => "Ready",
        Some(_) => "NotReady",
    }];
    if obj.at("/spec/unschedulable") == Some(&Value::Bool(true)) {
        status.push("SchedulingDisabled");
    }
    status.join(",")
}

/// ROLES: from `node-role.kubernetes.io/<role>` and `kubernetes.io/role=<role>` labels.
pub fn node_roles(obj: &Value) -> String {
    let roles: BTreeSet<&str> = obj
        .at("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                (!role.is_empty()).then_some(role)
            } else if k == "kubernetes.io/role" {
                v.as_str().filter(|v| !v.is_empty())
            } else {
                None
            }
        })
        .collect();
    if roles.is_empty() {
        "<none>".into()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    }
}

fn node_address<'a>(obj: &'a Value, ty: &str) -> &'a str {
    list_at(obj, "/status/addresses")
        .iter()
        .find(|a| str_at(a, "/type") == ty)
        .map_or("<none>", |a| str_at(a, "/address"))
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() {
        "<unknown>"
    } else {
        s
    }
}

pub fn node_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        super::name(obj),
        cell(node_status(obj)),
        cell(node_roles(obj)),
        super::age(obj, now),
        cell(str_at(obj, "/status/nodeInfo/kubeletVersion")),
        cell(node_address(obj, "InternalIP")),
        cell(node_address(obj, "ExternalIP")),
        cell(or_unknown(str_at(obj, "/status/nodeInfo/osImage"))),
        cell(or_unknown(str_at(obj, "/status/nodeInfo/kernelVersion"))),
        cell(or_unknown(str_at(
            obj,
            "/status/nodeInfo/containerRuntimeVersion",
        ))),
    ]
}

pub static NODE: TableSpec = TableSpec::new(NODE_COLUMNS, node_row);

// --- PersistentVolume, PersistentVolumeClaim ----------------------------------------------

/// `GetAccessModesAsString`: `RWO,ROX,RWX,RWOP` in that order, duplicates dropped.
pub fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// The storage class: the beta annotation when present, else `spec.storageClassName`.
fn storage_class(obj: &Value) -> &str {
    match obj
        .at("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
        .and_then(Value::as_str)
    {
        Some(class) => class,
        None => str_at(obj, "/spec/storageClassName"),
    }
}

/// The phase, or `Terminating` once deleted.
fn volume_phase(obj: &Value) -> &str {
    if is_set(obj, "/metadata/deletionTimestamp") {
        "Terminating"
    } else {
        str_at(obj, "/status/phase")
    }
}

fn or_unset(obj: &Value, ptr: &str) -> String {
    match obj.at(ptr).and_then(Value::as_str) {
        Some(s) => s.to_string(),
        None => "<unset>".into(),
    }
}

/// A `storage` quantity in canonical form (`0` when absent).
fn storage_quantity(obj: &Value, ptr: &str) -> String {
    match obj.at(ptr).and_then(Value::as_str) {
        Some(q) => quantity::canonical(q),
        None => "0".into(),
    }
}

pub const PERSISTENTVOLUME_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Capacity",
        "string",
        "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity",
    ),
    Column::new(
        "Access Modes",
        "string",
        "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes",
    ),
    Column::new(
        "Reclaim Policy",
        "string",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming",
    ),
    Column::new(
        "Status",
        "string",
        "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase",
    ),
    Column::new(
        "Claim",
        "string",
        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding",
    ),
    Column::new("StorageClass", "string", "StorageClass of the pv"),
    Column::new(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pv",
    ),
    Column::new(
        "Reason",
        "string",
        "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
    ),
    AGE,
    Column::new(
        "VolumeMode",
        "string",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.",
    )
    .wide(),
];

pub fn persistentvolume_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let claim = if is_set(obj, "/spec/claimRef") {
        format!(
            "{}/{}",
            str_at(obj, "/spec/claimRef/namespace"),
            str_at(obj, "/spec/claimRef/name")
        )
    } else {
        String::new()
    };
    vec![
        super::name(obj),
        cell(storage_quantity(obj, "/spec/capacity/storage")),
        cell(access_modes(list_at(obj, "/spec/accessModes"))),
        cell(str_at(obj, "/spec/persistentVolumeReclaimPolicy")),
        cell(volume_phase(obj)),
        cell(claim),
        cell(storage_class(obj)),
        cell(or_unset(obj, "/spec/volumeAttributesClassName")),
        cell(str_at(obj, "/status/reason")),
        super::age(obj, now),
        cell(or_unset(obj, "/spec/volumeMode")),
    ]
}

pub static PERSISTENTVOLUME: TableSpec =
    TableSpec::new(PERSISTENTVOLUME_COLUMNS, persistentvolume_row);

pub const PERSISTENTVOLUMECLAIM_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Status",
        "string",
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    Column::new(
        "Volume",
        "string",
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    Column::new(
        "Capacity",
        "string",
        "capacity represents the actual resources of the underlying volume.",
    ),
    Column::new(
        "Access Modes",
        "string",
        "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
    ),
    Column::new("StorageClass", "string", "StorageClass of the pvc"),
    Column::new(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    AGE,
    Column::new(
        "VolumeMode",
        "string",
        "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.",
    )
    .wide(),
];

/// CAPACITY and ACCESS MODES come from the status, and only once the claim is bound.
pub fn persistentvolumeclaim_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let volume = str_at(obj, "/spec/volumeName");
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            storage_quantity(obj, "/status/capacity/storage"),
            access_modes(list_at(obj, "/status/accessModes")),
        )
    };
    vec![
        super::name(obj),
        cell(volume_phase(obj)),
        cell(volume),
        cell(capacity),
        cell(modes),
        cell(storage_class(obj)),
        cell(or_unset(obj, "/spec/volumeAttributesClassName")),
        super::age(obj, now),
        cell(or_unset(obj, "/spec/volumeMode")),
    ]
}

pub static PERSISTENTVOLUMECLAIM: TableSpec =
    TableSpec::new(PERSISTENTVOLUMECLAIM_COLUMNS, persistentvolumeclaim_row);

// --- Event --------------------------------------------------------------------------------

pub const EVENT_COLUMNS: &[Column] = &[
    Column::new(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    Column::new(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    Column::new(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    Column::new("Object", "string", "The object that this event is about."),
    Column::new(
        "Subobject",
        "string",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.",
    )
    .wide(),
    Column::new(
        "Source",
        "string",
        "The component reporting this event. Should be a short machine understandable string.",
    )
    .wide(),
    Column::new(
        "Message",
        "string",
        "A human-readable description of the status of this operation.",
    ),
    Column::new(
        "First Seen",
        "string",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    )
    .wide(),
    Column::new(
        "Count",
        "string",
        "The number of times this event has occurred.",
    )
    .wide(),
    NAME.wide(),
];

/// `formatEventSource`: component (or reportingComponent), then `, host` (or instance).
fn event_source(obj: &Value) -> String {
    let first = |a: &'static str, b: &'static str| match str_at(obj, a) {
        "" => str_at(obj, b),
        s => s,
    };
    let component = first("/source/component", "/reportingComponent");
    match first("/source/host", "/reportingInstance") {
        "" => component.to_string(),
        instance => format!("{component}, {instance}"),
    }
}

/// One row of a core/v1-shaped event (`printEvent`).
pub fn event_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let first_seen = match str_at(obj, "/firstTimestamp") {
        "" => super::since(str_at(obj, "/eventTime"), now),
        t => super::since(t, now),
    };
    let mut last_seen = match str_at(obj, "/lastTimestamp") {
        "" => first_seen.clone(),
        t => super::since(t, now),
    };
    let mut count = int_at(obj, "/count");
    if is_set(obj, "/series") {
        last_seen = super::since(str_at(obj, "/series/lastObservedTime"), now);
        count = int_at(obj, "/series/count");
    } else if count == 0 {
        // Singleton events of the new API have no count.
        count = 1;
    }
    let kind = str_at(obj, "/involvedObject/kind").to_lowercase();
    let target = match str_at(obj, "/involvedObject/name") {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    vec![
        cell(last_seen),
        cell(str_at(obj, "/type")),
        cell(str_at(obj, "/reason")),
        cell(target),
        cell(str_at(obj, "/involvedObject/fieldPath")),
        cell(event_source(obj)),
        cell(str_at(obj, "/message").trim()),
        cell(first_seen),
        json!(count),
        super::name(obj),
    ]
}

pub static EVENT: TableSpec = TableSpec::new(EVENT_COLUMNS, event_row);

#[cfg(test)]
mod tests {
    use super::super::test_support::{ago, meta, now};
    use super::*;

    fn names(cols: &[Column]) -> Vec<&str> {
        cols.iter().map(|c| c.name).collect()
    }
    fn wide(cols: &[Column]) -> Vec<&str> {
        cols.iter()
            .filter(|c| c.priority == 1)
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn namespace_row_shows_its_phase() {
        assert_eq!(names(NAMESPACE_COLUMNS), ["Name", "Status", "Age"]);
        let ns =
            json!({"metadata": meta("kube-system", 86400 * 30), "status": {"phase": "Active"}});
        assert_eq!(
            namespace_row(&ns, now()),
            vec![json!("kube-system"), json!("Active"), json!("30d")]
        );
    }

    #[test]
    fn service_columns_have_a_wide_selector() {
        assert_eq!(
            names(SERVICE_COLUMNS),
            [
                "Name",
                "Type",
                "Cluster-IP",
                "External-IP",
                "Port(s)",
                "Age",
                "Selector"
            ]
        );
        assert_eq!(wide(SERVICE_COLUMNS), ["Selector"]);
    }

    #[test]
    fn service_rows_show_type_cluster_ip_external_ip_and_ports() {
        let svc = |spec: Value, status: Value| json!({"metadata": meta("web", 60), "spec": spec, "status": status});
        let cases = vec![
            (
                "a ClusterIP service",
                svc(
                    json!({"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                           "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                           "selector": {"k8s-app": "kube-dns"}}),
                    json!({}),
                ),
                [
                    "ClusterIP",
                    "10.96.0.10",
                    "<none>",
                    "53/UDP,53/TCP",
                    "k8s-app=kube-dns",
                ],
            ),
            (
                "a NodePort service with external IPs",
                svc(
                    json!({"type": "NodePort", "clusterIPs": ["10.96.1.1"], "externalIPs": ["1.2.3.4"],
                           "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}),
                    json!({}),
                ),
                ["NodePort", "10.96.1.1", "1.2.3.4", "80:30080/TCP", "<none>"],
            ),
            (
                "a LoadBalancer service still waiting for its address",
                svc(
                    json!({"type": "LoadBalancer", "clusterIP": "10.96.1.2", "ports": [{"port": 443, "nodePort": 31443}]}),
                    json!({"loadBalancer": {}}),
                ),
                [
                    "LoadBalancer",
                    "10.96.1.2",
                    "<pending>",
                    "443:31443/TCP",
                    "<none>",
                ],
            ),
            (
                "a LoadBalancer service with ingress IPs and hostnames, sorted, then external IPs",
                svc(
                    json!({"type": "LoadBalancer", "clusterIPs": ["10.96.1.3"], "externalIPs": ["9.9.9.9"],
                           "ports": [{"port": 80, "protocol": "TCP"}]}),
                    json!({"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}, {"hostname": "lb.example.com"}, {"ip": "1.2.3.4"}]}}),
                ),
                [
                    "LoadBalancer",
                    "10.96.1.3",
                    "1.2.3.4,5.6.7.8,lb.example.com,9.9.9.9",
                    "80/TCP",
                    "<none>",
                ],
            ),
            (
                "an ExternalName service",
                svc(
                    json!({"type": "ExternalName", "externalName": "db.example.com"}),
                    json!({}),
                ),
                [
                    "ExternalName",
                    "<none>",
                    "db.example.com",
                    "<none>",
                    "<none>",
                ],
            ),
            (
                "a headless service",
                svc(
                    json!({"clusterIP": "None", "clusterIPs": ["None"], "ports": [{"port": 5432}]}),
                    json!({}),
                ),
                ["ClusterIP", "None", "<none>", "5432/TCP", "<none>"],
            ),
        ];
        for (name, obj, want) in cases {
            let cells = service_row(&obj, now());
            let got: Vec<&str> = [1, 2, 3, 4, 6]
                .iter()
                .map(|i| cells[*i].as_str().unwrap())
                .collect();
            assert_eq!(got, want, "{name}");
            assert_eq!(cells[5], json!("60s"));
        }
    }

    #[test]
    fn endpoints_show_up_to_three_addresses_then_how_many_more() {
        assert_eq!(names(ENDPOINTS_COLUMNS), ["Name", "Endpoints", "Age"]);
        let ep = |subsets: Value| json!({"metadata": meta("web", 10), "subsets": subsets});
        let cases = vec![
            (json!(null), "<none>"),
            (
                json!([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]),
                "10.0.0.1:80",
            ),
            (
                json!([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}]),
                "10.0.0.1,10.0.0.2",
            ),
            (
                json!([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 443}]}]),
                "[fd00::1]:443",
            ),
            (
                json!([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "10.0.0.3"},
                                      {"ip": "10.0.0.4"}, {"ip": "10.0.0.5"}],
                        "ports": [{"port": 80}]}]),
                "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...",
            ),
            (
                json!([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]},
                       {"addresses": [{"ip": "10.0.0.9"}], "ports": [{"port": 80}]}]),
                "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more...",
            ),
            (
                json!([{"notReadyAddresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]),
                "",
            ),
        ];
        for (subsets, want) in cases {
            assert_eq!(endpoints_row(&ep(subsets), now())[1], json!(want));
        }
    }

    #[test]
    fn configmap_secret_and_serviceaccount_rows_count_their_entries() {
        assert_eq!(names(CONFIGMAP_COLUMNS), ["Name", "Data", "Age"]);
        assert_eq!(names(SECRET_COLUMNS), ["Name", "Type", "Data", "Age"]);
        assert_eq!(names(SERVICEACCOUNT_COLUMNS), ["Name", "Secrets", "Age"]);
        let cm = json!({"metadata": meta("cfg", 5), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
        assert_eq!(
            configmap_row(&cm, now()),
            vec![json!("cfg"), json!(3), json!("5s")]
        );
        let secret = json!({"metadata": meta("s", 5), "type": "Opaque",
                            "data": {"user": "YQ=="}, "stringData": {"user": "a", "pass": "b"}});
        assert_eq!(
            secret_row(&secret, now()),
            vec![json!("s"), json!("Opaque"), json!(2), json!("5s")]
        );
        let sa = json!({"metadata": meta("default", 5)});
        assert_eq!(
            serviceaccount_row(&sa, now()),
            vec![json!("default"), json!(0), json!("5s")]
        );
    }

    #[test]
    fn node_status_and_roles_follow_conditions_labels_and_cordoning() {
        let node = |labels: Value, conds: Value, unschedulable: bool| {
            json!({"metadata": {"name": "n1", "creationTimestamp": ago(60), "labels": labels},
                   "spec": {"unschedulable": unschedulable}, "status": {"conditions": conds}})
        };
        let ready = json!([{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}]);
        let cases = vec![
            (node(json!({}), ready.clone(), false), "Ready", "<none>"),
            (
                node(
                    json!({}),
                    json!([{"type": "Ready", "status": "False"}]),
                    false,
                ),
                "NotReady",
                "<none>",
            ),
            (
                node(
                    json!({}),
                    json!([{"type": "Ready", "status": "Unknown"}]),
                    false,
                ),
                "NotReady",
                "<none>",
            ),
            (node(json!({}), json!([]), false), "Unknown", "<none>"),
            (
                node(json!({}), ready.clone(), true),
                "Ready,SchedulingDisabled",
                "<none>",
            ),
            (
                node(
                    json!({"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/": "",
                            "kubernetes.io/role": "master", "node-role.kubernetes.io/worker": "x"}),
                    ready.clone(),
                    false,
                ),
                "Ready",
                "control-plane,master,worker",
            ),
        ];
        for (n, status, roles) in cases {
            assert_eq!(node_status(&n), status);
            assert_eq!(node_roles(&n), roles);
        }
    }

    #[test]
    fn node_row_shows_version_addresses_and_unknown_system_info() {
        assert_eq!(
            names(NODE_COLUMNS),
            [
                "Name",
                "Status",
                "Roles",
                "Age",
                "Version",
                "Internal-IP",
                "External-IP",
                "OS-Image",
                "Kernel-Version",
                "Container-Runtime"
            ]
        );
        let n = json!({"metadata": meta("node-1", 86400 * 10),
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "addresses": [{"type": "Hostname", "address": "node-1"}, {"type": "InternalIP", "address": "172.18.0.2"}],
                       "nodeInfo": {"kubeletVersion": "v1.35.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
                                    "containerRuntimeVersion": "containerd://2.1.0"}}});
        assert_eq!(
            node_row(&n, now()),
            vec![
                json!("node-1"),
                json!("Ready"),
                json!("<none>"),
                json!("10d"),
                json!("v1.35.0"),
                json!("172.18.0.2"),
                json!("<none>"),
                json!("Debian GNU/Linux 12 (bookworm)"),
                json!("<unknown>"),
                json!("containerd://2.1.0")
            ]
        );
    }

    #[test]
    fn access_modes_are_abbreviated_in_a_fixed_order() {
        let modes = json!([
            "ReadWriteOncePod",
            "ReadWriteMany",
            "ReadWriteOnce",
            "ReadOnlyMany",
            "ReadWriteOnce"
        ]);
        assert_eq!(access_modes(modes.as_array().unwrap()), "RWO,ROX,RWX,RWOP");
        assert_eq!(access_modes(&[]), "");
    }

    #[test]
    fn persistentvolume_row_shows_capacity_modes_policy_claim_and_class() {
        assert_eq!(
            names(PERSISTENTVOLUME_COLUMNS),
            [
                "Name",
                "Capacity",
                "Access Modes",
                "Reclaim Policy",
                "Status",
                "Claim",
                "StorageClass",
                "VolumeAttributesClass",
                "Reason",
                "Age",
                "VolumeMode"
            ]
        );
        let pv = json!({"metadata": meta("pv0001", 300),
            "spec": {"capacity": {"storage": "1024Mi"}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "standard",
                     "claimRef": {"namespace": "default", "name": "data"}, "volumeMode": "Filesystem"},
            "status": {"phase": "Bound"}});
        assert_eq!(
            persistentvolume_row(&pv, now()),
            vec![
                json!("pv0001"),
                json!("1Gi"),
                json!("RWO"),
                json!("Retain"),
                json!("Bound"),
                json!("default/data"),
                json!("standard"),
                json!("<unset>"),
                json!(""),
                json!("5m"),
                json!("Filesystem")
            ]
        );
        let mut deleting = pv.clone();
        deleting["metadata"]["deletionTimestamp"] = json!(ago(1));
        deleting["metadata"]["annotations"] =
            json!({"volume.beta.kubernetes.io/storage-class": "legacy"});
        let cells = persistentvolume_row(&deleting, now());
        assert_eq!(
            (&cells[4], &cells[6]),
            (&json!("Terminating"), &json!("legacy"))
        );
        let bare = json!({"metadata": meta("pv", 1)});
        let cells = persistentvolume_row(&bare, now());
        assert_eq!(
            (&cells[1], &cells[5], &cells[10]),
            (&json!("0"), &json!(""), &json!("<unset>"))
        );
    }

    #[test]
    fn persistentvolumeclaim_row_shows_capacity_and_modes_only_once_bound() {
        assert_eq!(
            names(PERSISTENTVOLUMECLAIM_COLUMNS),
            [
                "Name",
                "Status",
                "Volume",
                "Capacity",
                "Access Modes",
                "StorageClass",
                "VolumeAttributesClass",
                "Age",
                "VolumeMode"
            ]
        );
        assert_eq!(wide(PERSISTENTVOLUMECLAIM_COLUMNS), ["VolumeMode"]);
        let pending = json!({"metadata": meta("data", 30),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                     "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"}});
        assert_eq!(
            persistentvolumeclaim_row(&pending, now()),
            vec![
                json!("data"),
                json!("Pending"),
                json!(""),
                json!(""),
                json!(""),
                json!(""),
                json!("<unset>"),
                json!("30s"),
                json!("Filesystem")
            ]
        );
        let bound = json!({"metadata": meta("data", 30),
            "spec": {"volumeName": "pvc-123", "storageClassName": "standard", "volumeAttributesClassName": "gold",
                     "volumeMode": "Filesystem"},
            "status": {"phase": "Bound", "capacity": {"storage": "2048Mi"}, "accessModes": ["ReadWriteOnce", "ReadOnlyMany"]}});
        assert_eq!(
            persistentvolumeclaim_row(&bound, now()),
            vec![
                json!("data"),
                json!("Bound"),
                json!("pvc-123"),
                json!("2Gi"),
                json!("RWO,ROX"),
                json!("standard"),
                json!("gold"),
                json!("30s"),
                json!("Filesystem")
            ]
        );
    }

    #[test]
    fn event_columns_put_subobject_source_first_seen_count_and_name_in_wide() {
        assert_eq!(
            names(EVENT_COLUMNS),
            [
                "Last Seen",
                "Type",
                "Reason",
                "Object",
                "Subobject",
                "Source",
                "Message",
                "First Seen",
                "Count",
                "Name"
            ]
        );
        assert_eq!(
            wide(EVENT_COLUMNS),
            ["Subobject", "Source", "First Seen", "Count", "Name"]
        );
        assert_eq!(EVENT_COLUMNS[9].format, "name");
    }

    #[test]
    fn event_row_of_a_kubelet_event() {
        let ev = json!({"metadata": meta("web-1.17a", 400),
            "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{nginx}"},
            "reason": "Pulled", "message": "Container image \"nginx\" already present on machine\n",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": ago(400), "lastTimestamp": ago(30), "count": 4, "type": "Normal"});
        assert_eq!(
            event_row(&ev, now()),
            vec![
                json!("30s"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web-1"),
                json!("spec.containers{nginx}"),
                json!("kubelet, node-1"),
                json!("Container image \"nginx\" already present on machine"),
                json!("6m40s"),
                json!(4),
                json!("web-1.17a")
            ]
        );
    }

    #[test]
    fn event_row_of_a_new_api_event_uses_event_time_series_and_reporting_controller() {
        let singleton = json!({"metadata": meta("e1", 90), "eventTime": "2025-12-31T23:58:30.123456Z",
            "involvedObject": {"kind": "Deployment", "name": "web"}, "reason": "ScalingReplicaSet",
            "reportingComponent": "deployment-controller", "type": "Normal", "message": "Scaled up"});
        let cells = event_row(&singleton, now());
        assert_eq!(
            (&cells[0], &cells[3], &cells[5], &cells[7], &cells[8]),
            (
                &json!("89s"),
                &json!("deployment/web"),
                &json!("deployment-controller"),
                &json!("89s"),
                &json!(1)
            )
        );
        let series = json!({"metadata": meta("e2", 900), "eventTime": ago(900),
            "series": {"count": 7, "lastObservedTime": ago(12)},
            "involvedObject": {"kind": "Node"}, "reportingComponent": "kubelet", "reportingInstance": "node-1"});
        let cells = event_row(&series, now());
        assert_eq!(
            (&cells[0], &cells[3], &cells[5], &cells[7], &cells[8]),
            (
                &json!("12s"),
                &json!("node"),
                &json!("kubelet, node-1"),
                &json!("15m"),
                &json!(7)
            )
        );
        let timeless = json!({"metadata": meta("e3", 1)});
        assert_eq!(event_row(&timeless, now())[0], json!("<unknown>"));
    }
}
