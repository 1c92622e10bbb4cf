//! Admission steps that read the store: Service ClusterIP and NodePort allocation (the
//! `service-cidr` 10.96.0.0/12 and the node-port range 30000-32767), and the default
//! StorageClass for PersistentVolumeClaims (the `DefaultStorageClass` plugin).
//!
//! Allocation is done in the create (and update) flow so the response already carries the
//! allocated values, as kube-apiserver's does. The "allocator" is the set of values the stored
//! Services use: an address is free again as soon as its Service is gone. New addresses are
//! drawn at random from the range (as upstream's allocator does), so two concurrent creates
//! practically never pick the same one.

use crate::error::FieldError;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::net::Ipv4Addr;
use storage::{ListRequest, Storage};

/// The Service ClusterIP range (`--service-cluster-ip-range`, kind's and kubeadm's default).
pub const SERVICE_CIDR: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 96, 0, 0), 12);
/// The address of the `kubernetes` Service (the first of the range).
pub const KUBERNETES_SERVICE_IP: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 1);
/// `--service-node-port-range`.
pub const NODE_PORTS: std::ops::RangeInclusive<i64> = 30000..=32767;

const DEFAULT_CLASS_ANNOTATIONS: [&str; 2] = [
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
];

fn list_values(store: &dyn Storage, prefix: &str) -> Vec<Value> {
    store
        .list(&ListRequest::new(prefix))
        .map(|r| r.items.into_iter().map(|(_, s)| s.value()).collect())
        .unwrap_or_default()
}

fn in_range(ip: Ipv4Addr) -> bool {
    let (net, bits) = SERVICE_CIDR;
    let mask = u32::MAX << (32 - bits);
    u32::from(ip) & mask == u32::from(net)
}

fn range_text() -> String {
    format!("{}/{}", SERVICE_CIDR.0, SERVICE_CIDR.1)
}

/// The ClusterIPs and NodePorts the stored Services hold, except the Service `skip` (ns/name).
fn used(store: &dyn Storage, skip: &str) -> (HashSet<Ipv4Addr>, HashSet<i64>) {
    let mut ips = HashSet::new();
    let mut ports = HashSet::new();
    for s in list_values(store, "/core/services/") {
        let id = format!(
            "{}/{}",
            s.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or(""),
            s.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
        );
        if id == skip {
            continue;
        }
        for ip in s
            .pointer("/spec/clusterIPs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(ip) = ip.as_str().and_then(|x| x.parse().ok()) {
                ips.insert(ip);
            }
        }
        if let Some(ip) = s
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .and_then(|x| x.parse().ok())
        {
            ips.insert(ip);
        }
        for p in s
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = p.get("nodePort").and_then(Value::as_i64) {
                ports.insert(n);
            }
        }
    }
    (ips, ports)
}

/// A free address of the range, drawn at random; never the network address, the broadcast
/// address or the `kubernetes` Service's.
fn random_free_ip(used: &HashSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    use rand::Rng;
    let (net, bits) = SERVICE_CIDR;
    let base = u32::from(net);
    let size = 1u32 << (32 - bits);
    let mut rng = rand::thread_rng();
    for _ in 0..10_000 {
        let ip = Ipv4Addr::from(base + rng.gen_range(2..size - 1));
        if !used.contains(&ip) {
            return Some(ip);
        }
    }
    (2..size - 1)
        .map(|o| Ipv4Addr::from(base + o))
        .find(|ip| !used.contains(ip))
}

fn random_free_port(used: &HashSet<i64>) -> Option<i64> {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    for _ in 0..1000 {
        let p = rng.gen_range(NODE_PORTS);
        if !used.contains(&p) {
            return Some(p);
        }
    }
    NODE_PORTS.clone().find(|p| !used.contains(p))
}

fn service_id(obj: &Value) -> String {
    format!(
        "{}/{}",
        obj.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(""),
        obj.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    )
}

/// Keep what an update leaves out but was allocated before (`patchAllocatedValues`): the
/// ClusterIPs, IP families and NodePorts (matched by port and protocol).
pub fn keep_allocated_service_values(new: &mut Value, old: &Value) {
    let svc_type = new
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if svc_type != "ExternalName" {
        let empty = |v: Option<&Value>| v.is_none_or(|x| x.is_null() || x == "" || x == &json!([]));
        if empty(spec.get("clusterIP")) && empty(spec.get("clusterIPs")) {
            for k in ["clusterIP", "clusterIPs"] {
                if let Some(v) = old.pointer(&format!("/spec/{k}")) {
                    spec.insert(k.into(), v.clone());
                }
            }
        }
        for k in ["ipFamilies", "ipFamilyPolicy"] {
            if empty(spec.get(k)) {
                if let Some(v) = old.pointer(&format!("/spec/{k}")) {
                    spec.insert(k.into(), v.clone());
                }
            }
        }
    }
    let node_ports = svc_type == "NodePort" || svc_type == "LoadBalancer";
    let old_ports = old
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut() {
            let Some(pm) = p.as_object_mut() else {
                continue;
            };
            if !node_ports {
                pm.remove("nodePort");
                continue;
            }
            if pm
                .get("nodePort")
                .is_some_and(|n| n.as_i64().unwrap_or(0) != 0)
            {
                continue;
            }
            let same = old_ports.iter().find(|o| {
                o.get("port") == pm.get("port")
                    && o.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
                        == pm.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
            });
            if let Some(n) = same
                .and_then(|o| o.get("nodePort"))
                .filter(|n| !n.is_null())
            {
                pm.insert("nodePort".into(), n.clone());
            }
        }
    }
}

/// Allocate what a Service needs and has not got: a ClusterIP (unless headless or
/// ExternalName), the IP families, and NodePorts for NodePort and LoadBalancer Services.
/// Requested values are checked against the ranges and the values already in use.
pub fn allocate_service(
    obj: &mut Value,
    old: Option<&Value>,
    store: &dyn Storage,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let svc_type = obj
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    let (mut used_ips, mut used_ports) = used(store, &service_id(obj));
    let old_ips: Vec<Value> = old
        .and_then(|o| o.pointer("/spec/clusterIPs"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let old_ports: HashSet<i64> = old
        .and_then(|o| o.pointer("/spec/ports"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("nodePort").and_then(Value::as_i64))
        .collect();
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return errs;
    };
    if svc_type != "ExternalName" {
        let requested = spec
            .get("clusterIP")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| {
                spec.get("clusterIPs")
                    .and_then(|v| v.get(0))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            });
        let ip = match requested {
            Some(ip) if ip == "None" => Some(ip),
            Some(ip) if old_ips.first().and_then(Value::as_str) == Some(ip.as_str()) => Some(ip),
            Some(ip) => match ip.parse::<Ipv4Addr>() {
                Err(_) => {
                    errs.push(FieldError::invalid(
                        "spec.clusterIPs[0]",
                        &json!(ip),
                        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                    ));
                    None
                }
                Ok(addr) if !in_range(addr) => {
                    errs.push(FieldError::invalid(
                        "spec.clusterIPs",
                        &json!([ip]),
                        &format!(
                            "failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}",
                            range_text()
                        ),
                    ));
                    None
                }
                Ok(addr) if used_ips.contains(&addr) => {
                    errs.push(FieldError::invalid(
                        "spec.clusterIPs",
                        &json!([ip]),
                        &format!("failed to allocate IP {ip}: provided IP is already allocated"),
                    ));
                    None
                }
                Ok(_) => Some(ip),
            },
            None => match random_free_ip(&used_ips) {
                Some(ip) => {
                    used_ips.insert(ip);
                    Some(ip.to_string())
                }
                None => {
                    errs.push(FieldError::invalid(
                        "spec.clusterIPs",
                        &json!([]),
                        &format!(
                            "failed to allocate a serviceIP: range is full ({})",
                            range_text()
                        ),
                    ));
                    None
                }
            },
        };
        if let Some(ip) = ip {
            spec.insert("clusterIP".into(), json!(ip));
            spec.insert("clusterIPs".into(), json!([ip]));
            spec.entry("ipFamilies").or_insert(json!(["IPv4"]));
            spec.entry("ipFamilyPolicy").or_insert(json!("SingleStack"));
        }
    }
    if svc_type == "NodePort" || svc_type == "LoadBalancer" {
        if svc_type == "LoadBalancer" {
            spec.entry("allocateLoadBalancerNodePorts")
                .or_insert(json!(true));
        }
        if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for (i, p) in ports.iter_mut().enumerate() {
                let Some(pm) = p.as_object_mut() else {
                    continue;
                };
                match pm.get("nodePort").and_then(Value::as_i64).filter(|n| *n != 0) {
                    Some(n) if old_ports.contains(&n) => {}
                    Some(n) if !NODE_PORTS.contains(&n) => errs.push(FieldError::invalid(
                        format!("spec.ports[{i}].nodePort"),
                        &json!(n),
                        &format!(
                            "provided port is not in the valid range. The range of valid ports is {}-{}",
                            NODE_PORTS.start(),
                            NODE_PORTS.end()
                        ),
                    )),
                    Some(n) if used_ports.contains(&n) => errs.push(FieldError::invalid(
                        format!("spec.ports[{i}].nodePort"),
                        &json!(n),
                        "provided port is already allocated",
                    )),
                    Some(n) => {
                        used_ports.insert(n);
                    }
                    None => {
                        if let Some(n) = random_free_port(&used_ports) {
                            used_ports.insert(n);
                            pm.insert("nodePort".into(), json!(n));
                        }
                    }
                }
            }
        }
    }
    errs
}

/// `DefaultStorageClass` admission: a claim that names no class (the field absent, not "")
/// gets the default StorageClass, the newest one if several are marked default.
pub fn default_storage_class(obj: &mut Value, store: &dyn Storage) {
    if obj
        .pointer("/spec/storageClassName")
        .is_some_and(|v| !v.is_null())
    {
        return;
    }
    let mut defaults: Vec<(String, String)> = list_values(store, "/storage.k8s.io/storageclasses/")
        .into_iter()
        .filter(|sc| {
            DEFAULT_CLASS_ANNOTATIONS.iter().any(|a| {
                sc.pointer("/metadata/annotations")
                    .and_then(|m| m.get(*a))
                    .and_then(Value::as_str)
                    == Some("true")
            })
        })
        .map(|sc| {
            (
                sc.pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                sc.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    defaults.sort();
    if let Some((_, name)) = defaults.pop() {
        super::util::obj_mut(obj, "spec").insert("storageClassName".into(), json!(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn store_with(services: &[Value]) -> Arc<dyn Storage> {
        let s: Arc<dyn Storage> = Arc::new(storage::MemoryStorage::new());
        for v in services {
            let key = storage::object_key(
                "",
                "services",
                v["metadata"]["namespace"].as_str().unwrap(),
                v["metadata"]["name"].as_str().unwrap(),
            );
            s.create(&key, v.clone()).unwrap();
        }
        s
    }

    fn svc(name: &str, spec: Value) -> Value {
        json!({"metadata": {"name": name, "namespace": "default"}, "spec": spec})
    }

    #[test]
    fn a_cluster_ip_service_gets_an_address_of_the_range_and_single_stack_ipv4() {
        let store = store_with(&[]);
        let mut s = svc("web", json!({"type": "ClusterIP", "ports": [{"port": 80}]}));
        assert!(allocate_service(&mut s, None, store.as_ref()).is_empty());
        let ip: Ipv4Addr = s["spec"]["clusterIP"].as_str().unwrap().parse().unwrap();
        assert!(in_range(ip) && ip != KUBERNETES_SERVICE_IP, "{ip}");
        assert_eq!(s["spec"]["clusterIPs"], json!([ip.to_string()]));
        assert_eq!(s["spec"]["ipFamilies"], json!(["IPv4"]));
        assert_eq!(s["spec"]["ipFamilyPolicy"], "SingleStack");
    }

    #[test]
    fn requested_addresses_are_checked_against_the_range_and_the_services_that_hold_them() {
        let store = store_with(&[svc(
            "a",
            json!({"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"]}),
        )]);
        let cases = [
            ("10.96.0.10", Some("provided IP is already allocated")),
            (
                "1.2.3.4",
                Some("is not in the valid range. The range of valid IPs is 10.96.0.0/12"),
            ),
            ("10.96.0.11", None),
            ("None", None),
        ];
        for (ip, want) in cases {
            let mut s = svc("b", json!({"clusterIP": ip}));
            let errs = allocate_service(&mut s, None, store.as_ref());
            match want {
                None => {
                    assert!(errs.is_empty(), "{ip}: {errs:?}");
                    assert_eq!(s["spec"]["clusterIPs"], json!([ip]));
                }
                Some(m) => assert!(errs[0].display().contains(m), "{ip}: {}", errs[0].display()),
            }
        }
    }

    #[test]
    fn node_port_services_get_free_ports_and_requested_ones_are_checked() {
        let store = store_with(&[svc(
            "a",
            json!({"type": "NodePort", "clusterIP": "10.96.0.10", "ports": [{"port": 80, "nodePort": 30080}]}),
        )]);
        let mut s = svc(
            "b",
            json!({"type": "NodePort", "ports": [{"port": 80}, {"port": 81, "nodePort": 30081}]}),
        );
        assert!(allocate_service(&mut s, None, store.as_ref()).is_empty());
        let n = s["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
        assert!(NODE_PORTS.contains(&n) && n != 30080);
        assert_eq!(s["spec"]["ports"][1]["nodePort"], 30081);
        let mut taken = svc(
            "c",
            json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}),
        );
        let errs = allocate_service(&mut taken, None, store.as_ref());
        assert_eq!(
            errs[0].display(),
            "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"
        );
    }

    #[test]
    fn an_update_keeps_the_allocated_address_and_node_ports() {
        let old = svc(
            "a",
            json!({"type": "NodePort", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                   "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                   "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}]}),
        );
        let mut new = svc(
            "a",
            json!({"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}]}),
        );
        keep_allocated_service_values(&mut new, &old);
        assert_eq!(new["spec"]["clusterIP"], "10.96.0.10");
        assert_eq!(new["spec"]["ports"][0]["nodePort"], 30080);
        let store = store_with(std::slice::from_ref(&old));
        assert!(allocate_service(&mut new, Some(&old), store.as_ref()).is_empty());
        assert_eq!(new["spec"]["clusterIPs"], json!(["10.96.0.10"]));
    }

    #[test]
    fn a_claim_without_a_class_gets_the_newest_default_class() {
        let store: Arc<dyn Storage> = Arc::new(storage::MemoryStorage::new());
        for (name, ts, default) in [
            ("old", "2020-01-01T00:00:00Z", true),
            ("standard", "2021-01-01T00:00:00Z", true),
            ("other", "2022-01-01T00:00:00Z", false),
        ] {
            let mut sc = json!({"metadata": {"name": name, "creationTimestamp": ts}});
            if default {
                sc["metadata"]["annotations"] =
                    json!({"storageclass.kubernetes.io/is-default-class": "true"});
            }
            store
                .create(
                    &storage::object_key("storage.k8s.io", "storageclasses", "", name),
                    sc,
                )
                .unwrap();
        }
        let mut pvc = json!({"spec": {}});
        default_storage_class(&mut pvc, store.as_ref());
        assert_eq!(pvc["spec"]["storageClassName"], "standard");
        let mut none = json!({"spec": {"storageClassName": ""}});
        default_storage_class(&mut none, store.as_ref());
        assert_eq!(none["spec"]["storageClassName"], "");
    }
}
