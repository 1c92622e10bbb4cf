//! What a Service's EndpointSlices and Endpoints should contain, computed from the Service and
//! its pods with no I/O: ready and not-ready addresses with their conditions, node names and
//! target refs, ports resolved against the pods' named container ports, at most 100 endpoints
//! per slice (`maxEndpointsPerSlice`) and 1000 addresses in Endpoints (then
//! `endpoints.kubernetes.io/over-capacity: truncated`).

use super::pods::PodInfo;
use k8s_openapi::api::core::v1::Service;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
pub const CONTROLLER: &str = "endpointslice-controller.k8s.io";
pub const SERVICE_NAME: &str = "kubernetes.io/service-name";
pub const MAX_PER_SLICE: usize = 100;
pub const MAX_ENDPOINTS_ADDRESSES: usize = 1000;

/// A Service port resolved for one pod: (name, port, protocol, appProtocol).
type Port = (Option<String>, i32, String, Option<String>);

fn resolve_ports(svc: &Service, pod: &PodInfo) -> Vec<Port> {
    let spec = svc.spec.clone().unwrap_or_default();
    spec.ports
        .iter()
        .flatten()
        .filter_map(|p| {
            let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            let port = match &p.target_port {
                None => p.port,
                Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n)) => *n,
                Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(name)) => {
                    match name.parse::<i32>() {
                        Ok(n) => n,
                        Err(_) => pod
                            .named_port(name)
                            .filter(|(_, proto)| *proto == protocol)
                            .map(|(n, _)| *n)?,
                    }
                }
            };
            Some((p.name.clone(), port, protocol, p.app_protocol.clone()))
        })
        .collect()
}

/// A Service's selector, if it has a non-empty one (only those get endpoints).
pub fn selector_of(svc: &Service) -> Option<&BTreeMap<String, String>> {
    svc.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
}

/// The pods a Service selects (none for a Service without a selector).
pub fn selected<'a>(svc: &Service, pods: impl Iterator<Item = &'a PodInfo>) -> Vec<&'a PodInfo> {
    let Some(sel) = selector_of(svc) else {
        return Vec::new();
    };
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let mut v: Vec<&PodInfo> = pods
        .filter(|p| *p.namespace == *ns && !p.terminal && p.ip.is_some())
        .filter(|p| p.labels.matches(sel))
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

fn publish_not_ready(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false)
}

fn headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

fn port_json(p: &Port) -> Value {
    let mut m = Map::new();
    if let Some(n) = &p.0 {
        m.insert("name".into(), json!(n));
    } else {
        m.insert("name".into(), json!(""));
    }
    m.insert("port".into(), json!(p.1));
    m.insert("protocol".into(), json!(p.2));
    if let Some(a) = &p.3 {
        m.insert("appProtocol".into(), json!(a));
    }
    Value::Object(m)
}

/// The labels of a Service's slices (its own labels plus the controller's).
pub fn slice_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut l = svc.metadata.labels.clone().unwrap_or_default();
    l.insert(
        SERVICE_NAME.into(),
        svc.metadata.name.clone().unwrap_or_default(),
    );
    l.insert(MANAGED_BY.into(), CONTROLLER.into());
    if headless(svc) {
        l.insert("service.kubernetes.io/headless".into(), String::new());
    }
    l
}

/// The desired content (`endpoints` and `ports`) of each of a Service's EndpointSlices.
pub fn desired_slices(svc: &Service, pods: &[&PodInfo]) -> Vec<(Value, Value)> {
    let svc_name = svc.metadata.name.clone().unwrap_or_default();
    // Group pods by their resolved port list (each slice has one port list).
    let mut groups: Vec<(Vec<Port>, Vec<Value>)> = Vec::new();
    for p in pods {
        let ports = resolve_ports(svc, p);
        let ready = p.ready || publish_not_ready(svc);
        let mut ep = json!({
            "addresses": [p.ip.as_deref().unwrap_or_default()],
            "conditions": {"ready": ready && !p.terminating, "serving": ready, "terminating": p.terminating},
            "targetRef": {"kind": "Pod", "namespace": &*p.namespace, "name": p.name, "uid": p.uid},
        });
        if let Some(n) = p.node.as_deref() {
            ep["nodeName"] = json!(n);
        }
        if let (Some(h), Some(sd)) = (p.hostname(), p.subdomain()) {
            if sd == svc_name {
                ep["hostname"] = json!(h);
            }
        }
        match groups.iter_mut().find(|(ps, _)| *ps == ports) {
            Some((_, eps)) => eps.push(ep),
            None => groups.push((ports, vec![ep])),
        }
    }
    let mut out = Vec::new();
    for (ports, eps) in groups {
        let ports_json = json!(ports.iter().map(port_json).collect::<Vec<_>>());
        for chunk in eps.chunks(MAX_PER_SLICE) {
            out.push((json!(chunk), ports_json.clone()));
        }
    }
    if out.is_empty() {
        // A placeholder slice: no endpoints, no ports.
        out.push((Value::Null, Value::Null));
    }
    out
}

/// The desired `subsets` of the Service's Endpoints, and whether they were truncated.
pub fn desired_subsets(svc: &Service, pods: &[&PodInfo]) -> (Value, bool) {
    let mut groups: Vec<(Vec<Port>, Vec<Value>, Vec<Value>)> = Vec::new();
    let mut total = 0;
    let mut truncated = false;
    for p in pods {
        if p.terminating {
            continue;
        }
        if total >= MAX_ENDPOINTS_ADDRESSES {
            truncated = true;
            break;
        }
        total += 1;
        let ports = resolve_ports(svc, p);
        let mut addr = json!({"ip": p.ip.as_deref().unwrap_or_default(), "targetRef": {"kind": "Pod", "namespace": &*p.namespace, "name": p.name, "uid": p.uid}});
        if let Some(n) = p.node.as_deref() {
            addr["nodeName"] = json!(n);
        }
        if let (Some(h), Some(sd)) = (p.hostname(), p.subdomain()) {
            if svc.metadata.name.as_deref() == Some(sd) {
                addr["hostname"] = json!(h);
            }
        }
        let ready = p.ready || publish_not_ready(svc);
        let idx = match groups.iter().position(|(ps, _, _)| *ps == ports) {
            Some(i) => i,
            None => {
                groups.push((ports, Vec::new(), Vec::new()));
                groups.len() - 1
            }
        };
        if ready {
            groups[idx].1.push(addr);
        } else {
            groups[idx].2.push(addr);
        }
    }
    let subsets: Vec<Value> = groups
        .into_iter()
        .map(|(ports, ready, not_ready)| {
            let mut s = json!({"ports": ports.iter().map(|p| {
                let mut v = port_json(p);
                if p.0.is_none() { v.as_object_mut().map(|m| m.remove("name")); }
                v
            }).collect::<Vec<_>>()});
            if !ready.is_empty() {
                s["addresses"] = json!(ready);
            }
            if !not_ready.is_empty() {
                s["notReadyAddresses"] = json!(not_ready);
            }
            s
        })
        .collect();
    (json!(subsets), truncated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::pods::Extra;

    fn svc(v: Value) -> Service {
        serde_json::from_value(v).unwrap()
    }

    fn pod(name: &str, ready: bool, ip: &str) -> PodInfo {
        PodInfo {
            name: name.into(),
            namespace: "default".into(),
            uid: format!("uid-{name}").into(),
            labels: std::sync::Arc::new([("app", "web")].into()),
            ip: Some(ip.into()),
            node: Some("kube-lite-worker".into()),
            ready,
            terminating: false,
            terminal: false,
            extra: Some(Box::new(Extra {
                ports: [("http".to_string(), (8080, "TCP".to_string()))].into(),
                ..Extra::default()
            })),
        }
    }

    fn web() -> Service {
        svc(
            json!({"metadata": {"name": "web", "namespace": "default", "labels": {"team": "a"}},
            "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.10",
                     "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}}),
        )
    }

    #[test]
    fn a_slice_lists_ready_and_not_ready_pods_with_their_resolved_port() {
        let pods = [pod("a", true, "10.244.1.2"), pod("b", false, "10.244.2.2")];
        let sel = selected(&web(), pods.iter());
        let slices = desired_slices(&web(), &sel);
        assert_eq!(slices.len(), 1);
        let (eps, ports) = &slices[0];
        assert_eq!(
            ports,
            &json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
        );
        assert_eq!(eps[0]["addresses"], json!(["10.244.1.2"]));
        assert_eq!(
            eps[0]["conditions"],
            json!({"ready": true, "serving": true, "terminating": false})
        );
        assert_eq!(eps[1]["conditions"]["ready"], false);
        assert_eq!(eps[0]["nodeName"], "kube-lite-worker");
        assert_eq!(eps[0]["targetRef"]["name"], "a");
        let labels = slice_labels(&web());
        assert_eq!(labels[SERVICE_NAME], "web");
        assert_eq!(labels[MANAGED_BY], CONTROLLER);
        assert_eq!(labels["team"], "a");
    }

    #[test]
    fn endpoints_split_ready_and_not_ready_addresses() {
        let pods = [pod("a", true, "10.244.1.2"), pod("b", false, "10.244.2.2")];
        let sel = selected(&web(), pods.iter());
        let (subsets, truncated) = desired_subsets(&web(), &sel);
        assert!(!truncated);
        assert_eq!(subsets[0]["addresses"][0]["ip"], "10.244.1.2");
        assert_eq!(subsets[0]["notReadyAddresses"][0]["ip"], "10.244.2.2");
        assert_eq!(
            subsets[0]["ports"],
            json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
        );
    }

    #[test]
    fn selection_skips_other_namespaces_finished_pods_and_pods_without_ip() {
        let mut other = pod("c", true, "10.244.1.3");
        other.namespace = "kube-system".into();
        let mut done = pod("d", true, "10.244.1.4");
        done.terminal = true;
        let mut no_ip = pod("e", true, "");
        no_ip.ip = None;
        let pods = [pod("a", true, "10.244.1.2"), other, done, no_ip];
        let names: Vec<&str> = selected(&web(), pods.iter())
            .iter()
            .map(|p| &*p.name)
            .collect();
        assert_eq!(names, ["a"]);
        let no_selector =
            svc(json!({"metadata": {"name": "x", "namespace": "default"}, "spec": {}}));
        assert!(selected(&no_selector, pods.iter()).is_empty());
    }

    #[test]
    fn a_service_without_pods_gets_a_placeholder_slice_and_many_pods_are_chunked() {
        assert_eq!(
            desired_slices(&web(), &[]),
            vec![(Value::Null, Value::Null)]
        );
        let pods: Vec<PodInfo> = (0..250)
            .map(|i| {
                pod(
                    &format!("p{i:03}"),
                    true,
                    &format!("10.244.{}.{}", i / 200, i % 200 + 2),
                )
            })
            .collect();
        let sel = selected(&web(), pods.iter());
        let slices = desired_slices(&web(), &sel);
        let sizes: Vec<usize> = slices
            .iter()
            .map(|(e, _)| e.as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, [100, 100, 50]);
    }

    #[test]
    fn statefulset_pods_get_their_hostname_in_the_headless_service() {
        let headless = svc(
            json!({"metadata": {"name": "mysts", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "clusterIP": "None", "ports": [{"port": 8080, "targetPort": 80, "protocol": "TCP"}]}}),
        );
        let mut p = pod("mysts-0", true, "10.244.1.2");
        let extra = p.extra.get_or_insert_with(Default::default);
        extra.hostname = Some("mysts-0".into());
        extra.subdomain = Some("mysts".into());
        let pods = [p];
        let sel = selected(&headless, pods.iter());
        let slices = desired_slices(&headless, &sel);
        assert_eq!(slices[0].0[0]["hostname"], "mysts-0");
        assert_eq!(
            slices[0].1,
            json!([{"name": "", "port": 80, "protocol": "TCP"}])
        );
        assert_eq!(
            slice_labels(&headless)["service.kubernetes.io/headless"],
            ""
        );
    }
}
