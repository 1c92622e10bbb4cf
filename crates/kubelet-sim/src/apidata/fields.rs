//! The downward API's values: a pod field by its `fieldPath` (`fieldpath.ExtractFieldPathAsString`
//! and the kubelet's status fields) and a container resource by `resourceFieldRef`
//! (`ExtractContainerResourceValue`, limits defaulting to the node's allocatable as the kubelet
//! defaults them for the downward API).

use super::{DataError, NodeFacts};
use crate::lifecycle::{ContainerSpec, PodSpecView};
use crate::scheduler::resources::parse_milli;
use crate::small_map::SmallMap;
use apimachinery::go_quote;
use k8s_openapi::api::core::v1::ResourceFieldSelector;

/// The pod as the downward API sees it at container creation.
#[derive(Clone, Copy, Debug)]
pub struct PodFields<'a> {
    pub spec: &'a PodSpecView,
    pub pod_ip: Option<&'a str>,
    pub node: &'a NodeFacts,
}

/// `fieldpath.FormatMap`: `key="value"` lines sorted by key, no final newline.
pub fn format_map(m: &SmallMap) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `metadata.labels['key']` → `("labels", "key")`.
fn subscript(path: &str) -> Option<(&str, &str)> {
    let (field, rest) = path.strip_prefix("metadata.")?.split_once("['")?;
    Some((field, rest.strip_suffix("']")?))
}

/// The value of a pod field by its `fieldPath`.
pub fn field_value(path: &str, pod: &PodFields<'_>) -> Result<String, DataError> {
    let spec = pod.spec;
    let ip = pod.pod_ip.unwrap_or_default().to_string();
    Ok(match path {
        "metadata.name" => spec.name.clone(),
        "metadata.namespace" => spec.namespace.clone(),
        "metadata.uid" => spec.uid.clone(),
        "metadata.labels" => format_map(&spec.labels),
        "metadata.annotations" => format_map(&spec.annotations),
        "spec.nodeName" => spec.node_name.clone(),
        "spec.serviceAccountName" => spec.service_account_name.clone(),
        "status.hostIP" | "status.hostIPs" => pod.node.host_ip.clone(),
        "status.podIP" | "status.podIPs" => ip,
        _ => match subscript(path) {
            Some(("labels", k)) => spec.labels.get(k).unwrap_or_default().to_string(),
            Some(("annotations", k)) => spec.annotations.get(k).unwrap_or_default().to_string(),
            _ => return Err(DataError(format!("unsupported fieldPath: {path}"))),
        },
    })
}

/// The value of a container resource (`limits.cpu`, `requests.memory`, …) in units of the
/// selector's divisor, rounded up. An unset limit is the node's allocatable; an unset request
/// is the limit when one is set (API defaulting), else 0.
pub fn resource_value(
    sel: &ResourceFieldSelector,
    c: &ContainerSpec,
    node: &NodeFacts,
) -> Result<String, DataError> {
    let unsupported = || DataError(format!("unsupported container resource : {}", sel.resource));
    let (list, name) = sel.resource.split_once('.').ok_or_else(unsupported)?;
    let allocatable = match name {
        "cpu" => node.cpu_milli,
        "memory" => node.memory * 1000,
        "ephemeral-storage" => node.ephemeral_storage * 1000,
        _ if name.starts_with("hugepages-") => 0,
        _ => return Err(unsupported()),
    };
    let limit = c.limits.get(name).copied();
    let milli = match list {
        "limits" => limit.unwrap_or(allocatable),
        "requests" => c.requests.get(name).copied().or(limit).unwrap_or(0),
        _ => return Err(unsupported()),
    };
    let divisor = sel
        .divisor
        .as_ref()
        .and_then(|d| parse_milli(&d.0))
        .filter(|d| *d != 0)
        .unwrap_or(1000);
    let value = if name == "cpu" {
        div_ceil(milli, divisor)
    } else {
        // Memory and storage count whole bytes (`Quantity.Value()` rounds up).
        div_ceil(div_ceil(milli, 1000), div_ceil(divisor, 1000).max(1))
    };
    Ok(value.to_string())
}

fn div_ceil(a: i128, b: i128) -> i128 {
    (a + b - 1).div_euclid(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use serde_json::json;

    fn pod() -> PodSpecView {
        let p: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "shop", "uid": "u-1",
                "labels": {"app": "web", "tier": "front"},
                "annotations": {"note": "say \"hi\"\n"}},
            "spec": {"nodeName": "kube-lite-worker", "serviceAccountName": "builder",
                "containers": [{"name": "c", "image": "busybox",
                    "resources": {"limits": {"cpu": "500m", "memory": "128Mi"},
                                  "requests": {"memory": "64Mi"}}},
                               {"name": "bare", "image": "busybox"}]}
        }))
        .unwrap();
        PodSpecView::from_pod(&p)
    }

    fn node() -> NodeFacts {
        NodeFacts {
            host_ip: "172.18.0.3".into(),
            cpu_milli: 4000,
            memory: 8 * 1024 * 1024 * 1024,
            ephemeral_storage: 100 * 1024 * 1024 * 1024,
        }
    }

    #[test]
    fn field_paths_give_the_pods_identity_addresses_labels_and_annotations() {
        let spec = pod();
        let node = node();
        let f = PodFields {
            spec: &spec,
            pod_ip: Some("10.244.1.5"),
            node: &node,
        };
        let table = [
            ("metadata.name", "web"),
            ("metadata.namespace", "shop"),
            ("metadata.uid", "u-1"),
            ("metadata.labels['app']", "web"),
            ("metadata.labels['nope']", ""),
            ("metadata.annotations['note']", "say \"hi\"\n"),
            ("metadata.labels", "app=\"web\"\ntier=\"front\""),
            ("metadata.annotations", "note=\"say \\\"hi\\\"\\n\""),
            ("spec.nodeName", "kube-lite-worker"),
            ("spec.serviceAccountName", "builder"),
            ("status.hostIP", "172.18.0.3"),
            ("status.hostIPs", "172.18.0.3"),
            ("status.podIP", "10.244.1.5"),
            ("status.podIPs", "10.244.1.5"),
        ];
        for (path, want) in table {
            assert_eq!(field_value(path, &f).unwrap(), want, "{path}");
        }
        assert_eq!(
            field_value("spec.restartPolicy", &f).unwrap_err().0,
            "unsupported fieldPath: spec.restartPolicy"
        );
    }

    #[test]
    fn resource_fields_round_up_by_divisor_and_default_limits_to_the_node_allocatable() {
        let spec = pod();
        let node = node();
        let table = [
            // (container, resource, divisor, value)
            (0, "limits.cpu", None, "1"),
            (0, "limits.cpu", Some("1m"), "500"),
            (0, "limits.memory", None, "134217728"),
            (0, "limits.memory", Some("1Mi"), "128"),
            (0, "requests.memory", Some("1Mi"), "64"),
            (0, "requests.cpu", Some("1m"), "500"),
            (1, "limits.cpu", None, "4"),
            (1, "limits.memory", Some("1Gi"), "8"),
            (1, "requests.cpu", None, "0"),
            (1, "requests.memory", None, "0"),
            (1, "limits.ephemeral-storage", Some("1Gi"), "100"),
        ];
        for (i, resource, divisor, want) in table {
            let sel = ResourceFieldSelector {
                resource: resource.into(),
                divisor: divisor.map(|d| Quantity(d.into())),
                container_name: None,
            };
            let got = resource_value(&sel, &spec.containers[i], &node).unwrap();
            assert_eq!(got, want, "{i} {resource} {divisor:?}");
        }
        let bad = ResourceFieldSelector {
            resource: "limits.gpu".into(),
            ..Default::default()
        };
        assert_eq!(
            resource_value(&bad, &spec.containers[0], &node)
                .unwrap_err()
                .0,
            "unsupported container resource : limits.gpu"
        );
    }
}
