//! Printers of the kinds of the smaller groups: coordination.k8s.io Lease, discovery.k8s.io
//! EndpointSlice, storage.k8s.io StorageClass, apps/v1 ControllerRevision, networking.k8s.io
//! Ingress, policy PodDisruptionBudget, and the events.k8s.io/v1 view of Event (printed as the
//! core Event, like upstream's internal type).

use super::At;
use super::{cell, int_at, list_at, str_at, TableSpec};
use crate::table::{Column, AGE, NAME};
use serde_json::{json, Map, Value};
use std::time::SystemTime;

// --- Lease --------------------------------------------------------------------------------

pub const LEASE_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Holder",
        "string",
        "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.",
    ),
    AGE,
];

pub fn lease_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        super::name(obj),
        cell(str_at(obj, "/spec/holderIdentity")),
        super::age(obj, now),
    ]
}

pub static LEASE: TableSpec = TableSpec::new(LEASE_COLUMNS, lease_row);

// --- EndpointSlice ------------------------------------------------------------------------

pub const ENDPOINTSLICE_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "AddressType",
        "string",
        "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.",
    ),
    Column::new(
        "Ports",
        "string",
        "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates \"all ports\". Each slice may include a maximum of 100 ports.",
    ),
    Column::new(
        "Endpoints",
        "string",
        "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.",
    ),
    AGE,
];

/// `listWithMoreString`: up to three items, then ` + N more...`; `<unset>` when empty.
fn list_with_more(items: Vec<String>) -> String {
    const MAX: usize = 3;
    let count = items.len();
    let joined = items[..count.min(MAX)].join(",");
    if count > MAX {
        format!("{joined} + {} more...", count - MAX)
    } else if joined.is_empty() {
        "<unset>".into()
    } else {
        joined
    }
}

pub fn endpointslice_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let ports = list_at(obj, "/ports")
        .iter()
        .map(
            |p| match (p.get("port").and_then(Value::as_i64), p.get("name")) {
                (Some(n), _) => n.to_string(),
                (None, Some(Value::String(name))) => name.clone(),
                _ => "*".into(),
            },
        )
        .collect();
    let addresses = list_at(obj, "/endpoints")
        .iter()
        .flat_map(|e| list_at(e, "/addresses"))
        .map(|a| a.as_str().unwrap_or("").to_string())
        .collect();
    vec![
        super::name(obj),
        cell(str_at(obj, "/addressType")),
        cell(list_with_more(ports)),
        cell(list_with_more(addresses)),
        super::age(obj, now),
    ]
}

pub static ENDPOINTSLICE: TableSpec = TableSpec::new(ENDPOINTSLICE_COLUMNS, endpointslice_row);

// --- StorageClass -------------------------------------------------------------------------

pub const STORAGECLASS_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Provisioner",
        "string",
        "provisioner indicates the type of the provisioner.",
    ),
    Column::new(
        "ReclaimPolicy",
        "string",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.",
    ),
    Column::new(
        "VolumeBindingMode",
        "string",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.",
    ),
    Column::new(
        "AllowVolumeExpansion",
        "string",
        "allowVolumeExpansion shows whether the storage class allow volume expand.",
    ),
    AGE,
];

fn annotation<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj.at("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// NAME gets ` (default)` on the default class; the ALLOWVOLUMEEXPANSION cell is a boolean.
pub fn storageclass_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let mut name = str_at(obj, "/metadata/name").to_string();
    if annotation(obj, "storageclass.kubernetes.io/is-default-class") == "true"
        || annotation(obj, "storageclass.beta.kubernetes.io/is-default-class") == "true"
    {
        name.push_str(" (default)");
    }
    let or = |ptr: &str, default: &'static str| match str_at(obj, ptr) {
        "" => default.to_string(),
        s => s.to_string(),
    };
    vec![
        cell(name),
        cell(str_at(obj, "/provisioner")),
        cell(or("/reclaimPolicy", "Delete")),
        cell(or("/volumeBindingMode", "Immediate")),
        json!(obj.get("allowVolumeExpansion") == Some(&Value::Bool(true))),
        super::age(obj, now),
    ]
}

pub static STORAGECLASS: TableSpec = TableSpec::new(STORAGECLASS_COLUMNS, storageclass_row);

// --- ControllerRevision -------------------------------------------------------------------

pub const CONTROLLERREVISION_COLUMNS: &[Column] = &[
    NAME,
    Column::new("Controller", "string", "Controller of the object"),
    Column::new(
        "Revision",
        "string",
        "revision indicates the revision of the state represented by Data.",
    ),
    AGE,
];

/// CONTROLLER: `<kind>.<group>/<name>` of the controlling owner (lowercased), or `<none>`.
pub fn controller_name(obj: &Value) -> String {
    let Some(owner) = list_at(obj, "/metadata/ownerReferences")
        .iter()
        .find(|r| r.get("controller") == Some(&Value::Bool(true)))
    else {
        return "<none>".into();
    };
    let api_version = str_at(owner, "/apiVersion");
    let group = match api_version.split_once('/') {
        Some((group, _)) => group,
        None => "",
    };
    let kind = str_at(owner, "/kind");
    let name = str_at(owner, "/name");
    match (group, kind) {
        ("", "") => name.to_string(),
        ("", kind) => format!("{}/{name}", kind.to_lowercase()),
        (group, kind) => format!("{}/{name}", format!("{kind}.{group}").to_lowercase()),
    }
}

pub fn controllerrevision_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        super::name(obj),
        cell(controller_name(obj)),
        json!(int_at(obj, "/revision")),
        super::age(obj, now),
    ]
}

pub static CONTROLLERREVISION: TableSpec =
    TableSpec::new(CONTROLLERREVISION_COLUMNS, controllerrevision_row);

// --- events.k8s.io/v1 Event ---------------------------------------------------------------

/// events.k8s.io/v1 field → core/v1 field, as the conversion to the internal Event maps them.
const EVENT_V1_FIELDS: &[(&str, &str)] = &[
    ("metadata", "metadata"),
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reason", "reason"),
    ("type", "type"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("reportingController", "reportingComponent"),
    ("reportingInstance", "reportingInstance"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

/// The core/v1 shape of an events.k8s.io/v1 Event, field for field.
pub fn event_v1_as_core(obj: &Value) -> Value {
    let mut out = Map::new();
    for (v1, core) in EVENT_V1_FIELDS {
        if let Some(v) = obj.get(*v1) {
            out.insert((*core).to_string(), v.clone());
        }
    }
    Value::Object(out)
}

pub fn event_v1_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    super::core::event_row(&event_v1_as_core(obj), now)
}

/// The same columns as the core Event (one internal type, one printer upstream).
pub static EVENT_V1: TableSpec = TableSpec::new(super::core::EVENT_COLUMNS, event_v1_row);

// --- Ingress ------------------------------------------------------------------------------

pub const INGRESS_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    Column::new(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    Column::new(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    Column::new("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

/// `formatHosts`: the rules' hosts (rules without one are skipped), `*` when none. Once three
/// are listed, any further rule, with a host or not, makes it ` + N more...` with N counted
/// over all rules.
pub fn format_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == MAX {
            more = true;
        }
        let host = str_at(rule, "/host");
        if !more && !host.is_empty() {
            hosts.push(host);
        }
    }
    if hosts.is_empty() {
        return "*".into();
    }
    let joined = hosts.join(",");
    if more {
        format!("{joined} + {} more...", rules.len() - MAX)
    } else {
        joined
    }
}

/// `ingressLoadBalancerStatusStringer` (wide): each load-balancer ingress's IP, else its
/// hostname, without repeats. Upstream's order is a Go map's; here it is the status order.
pub fn ingress_address(obj: &Value) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for lb in list_at(obj, "/status/loadBalancer/ingress") {
        let addr = match (str_at(lb, "/ip"), str_at(lb, "/hostname")) {
            ("", "") => continue,
            ("", hostname) => hostname,
            (ip, _) => ip,
        };
        if !seen.contains(&addr) {
            seen.push(addr);
        }
    }
    seen.join(",")
}

/// CLASS is `<none>` without `ingressClassName`; PORTS is `80, 443` with any TLS entry.
pub fn ingress_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    let class = obj
        .at("/spec/ingressClassName")
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    let ports = if list_at(obj, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        super::name(obj),
        cell(class),
        cell(format_hosts(list_at(obj, "/spec/rules"))),
        cell(ingress_address(obj)),
        cell(ports),
        super::age(obj, now),
    ]
}

pub static INGRESS: TableSpec = TableSpec::new(INGRESS_COLUMNS, ingress_row);

// --- PodDisruptionBudget ------------------------------------------------------------------

pub const PDB_COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    Column::new(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    Column::new(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

/// `IntOrString.String()` of an optional field, `N/A` when unset.
fn int_or_string_or_na(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "N/A".into(),
    }
}

pub fn pdb_row(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        super::name(obj),
        cell(int_or_string_or_na(obj.at("/spec/minAvailable"))),
        cell(int_or_string_or_na(obj.at("/spec/maxUnavailable"))),
        json!(int_at(obj, "/status/disruptionsAllowed")),
        super::age(obj, now),
    ]
}

pub static PDB: TableSpec = TableSpec::new(PDB_COLUMNS, pdb_row);

#[cfg(test)]
mod tests {
    use super::super::test_support::{ago, meta, now};
    use super::*;

    fn names(cols: &[Column]) -> Vec<&str> {
        cols.iter().map(|c| c.name).collect()
    }

    #[test]
    fn lease_row_shows_the_holder() {
        assert_eq!(names(LEASE_COLUMNS), ["Name", "Holder", "Age"]);
        let l = json!({"metadata": meta("kube-scheduler", 120), "spec": {"holderIdentity": "node-1_abc"}});
        assert_eq!(
            lease_row(&l, now()),
            vec![json!("kube-scheduler"), json!("node-1_abc"), json!("2m")]
        );
        let free = json!({"metadata": meta("l", 1), "spec": {}});
        assert_eq!(lease_row(&free, now())[1], json!(""));
    }

    #[test]
    fn endpointslice_row_lists_ports_and_addresses_up_to_three() {
        assert_eq!(
            names(ENDPOINTSLICE_COLUMNS),
            ["Name", "AddressType", "Ports", "Endpoints", "Age"]
        );
        let es = json!({"metadata": meta("web-abc12", 60), "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80}, {"name": "metrics"}, {}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "10.0.0.3"]},
                          {"addresses": ["10.0.0.4"]}, {"addresses": ["10.0.0.5"]}]});
        assert_eq!(
            endpointslice_row(&es, now()),
            vec![
                json!("web-abc12"),
                json!("IPv4"),
                json!("80,metrics,*"),
                json!("10.0.0.1,10.0.0.2,10.0.0.3 + 2 more..."),
                json!("60s")
            ]
        );
        let empty = json!({"metadata": meta("e", 1), "addressType": "IPv6"});
        let cells = endpointslice_row(&empty, now());
        assert_eq!(
            (&cells[2], &cells[3]),
            (&json!("<unset>"), &json!("<unset>"))
        );
    }

    #[test]
    fn storageclass_row_marks_the_default_class_and_defaults_policies() {
        assert_eq!(
            names(STORAGECLASS_COLUMNS),
            [
                "Name",
                "Provisioner",
                "ReclaimPolicy",
                "VolumeBindingMode",
                "AllowVolumeExpansion",
                "Age"
            ]
        );
        let sc = json!({"metadata": {"name": "standard", "creationTimestamp": ago(3600 * 5),
                                     "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                        "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete",
                        "volumeBindingMode": "WaitForFirstConsumer"});
        assert_eq!(
            storageclass_row(&sc, now()),
            vec![
                json!("standard (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("WaitForFirstConsumer"),
                json!(false),
                json!("5h")
            ]
        );
        let plain =
            json!({"metadata": meta("fast", 1), "provisioner": "x", "allowVolumeExpansion": true});
        assert_eq!(
            storageclass_row(&plain, now()),
            vec![
                json!("fast"),
                json!("x"),
                json!("Delete"),
                json!("Immediate"),
                json!(true),
                json!("1s")
            ]
        );
    }

    #[test]
    fn controllerrevision_row_names_its_controller_with_kind_and_group() {
        assert_eq!(
            names(CONTROLLERREVISION_COLUMNS),
            ["Name", "Controller", "Revision", "Age"]
        );
        let mut cr = json!({"metadata": meta("web-6b8f7d", 30), "revision": 2});
        assert_eq!(
            controllerrevision_row(&cr, now()),
            vec![json!("web-6b8f7d"), json!("<none>"), json!(2), json!("30s")]
        );
        cr["metadata"]["ownerReferences"] = json!([
            {"apiVersion": "v1", "kind": "Pod", "name": "other"},
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": true}]);
        assert_eq!(controller_name(&cr), "statefulset.apps/web");
        cr["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "v1", "kind": "Node", "name": "n", "controller": true}]);
        assert_eq!(controller_name(&cr), "node/n");
    }

    #[test]
    fn events_v1_print_like_core_events() {
        let ev = json!({"metadata": meta("web.1", 300), "regarding": {"kind": "Pod", "name": "web"},
            "note": "Started container nginx", "reason": "Started", "type": "Normal",
            "reportingController": "kubelet", "reportingInstance": "node-1",
            "eventTime": ago(200), "deprecatedCount": 3, "deprecatedLastTimestamp": ago(10)});
        assert_eq!(
            event_v1_row(&ev, now()),
            vec![
                json!("10s"),
                json!("Normal"),
                json!("Started"),
                json!("pod/web"),
                json!(""),
                json!("kubelet, node-1"),
                json!("Started container nginx"),
                json!("3m20s"),
                json!(3),
                json!("web.1")
            ]
        );
    }

    #[test]
    fn ingress_hosts_list_three_then_count_the_remaining_rules() {
        let rules =
            |hosts: &[&str]| -> Vec<Value> { hosts.iter().map(|h| json!({"host": h})).collect() };
        let cases: [(&str, Vec<Value>, &str); 7] = [
            ("no rules", vec![], "*"),
            (
                "rules without hosts",
                vec![json!({}), json!({"host": ""})],
                "*",
            ),
            ("one host", rules(&["foo.bar.com"]), "foo.bar.com"),
            ("three hosts", rules(&["a", "b", "c"]), "a,b,c"),
            (
                "empty hosts are skipped",
                rules(&["a", "", "b", "c"]),
                "a,b,c",
            ),
            (
                "more than three",
                rules(&["a", "b", "c", "d", "e"]),
                "a,b,c + 2 more...",
            ),
            (
                "a hostless rule after three counts",
                rules(&["a", "b", "c", ""]),
                "a,b,c + 1 more...",
            ),
        ];
        for (case, rules, want) in cases {
            assert_eq!(format_hosts(&rules), want, "{case}");
        }
    }

    #[test]
    fn ingress_row_shows_class_hosts_address_and_ports() {
        assert_eq!(
            names(INGRESS_COLUMNS),
            ["Name", "Class", "Hosts", "Address", "Ports", "Age"]
        );
        let cases = [
            (
                "no class, no status, no TLS",
                json!({"metadata": meta("minimal", 60),
                       "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}),
                json!(["minimal", "<none>", "*", "", "80", "60s"]),
            ),
            (
                "class, hosts, load balancer and TLS",
                json!({"metadata": meta("web", 5 * 3600),
                       "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["foo.bar.com"], "secretName": "tls"}],
                                "rules": [{"host": "foo.bar.com"}, {"host": "bar.baz.com"}]},
                       "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}, {"hostname": "lb.example.com"},
                                                               {"ip": "10.0.0.1", "hostname": "x"}, {}]}}}),
                json!([
                    "web",
                    "nginx",
                    "foo.bar.com,bar.baz.com",
                    "10.0.0.1,lb.example.com",
                    "80, 443",
                    "5h"
                ]),
            ),
        ];
        for (case, obj, want) in cases {
            assert_eq!(Value::Array(ingress_row(&obj, now())), want, "{case}");
        }
    }

    #[test]
    fn pdb_row_shows_min_available_max_unavailable_or_na_and_allowed_disruptions() {
        assert_eq!(
            names(PDB_COLUMNS),
            [
                "Name",
                "Min Available",
                "Max Unavailable",
                "Allowed Disruptions",
                "Age"
            ]
        );
        let cases = [
            (
                "min available as a number",
                json!({"metadata": meta("zk", 300), "spec": {"minAvailable": 2},
                       "status": {"disruptionsAllowed": 1}}),
                json!(["zk", "2", "N/A", 1, "5m"]),
            ),
            (
                "max unavailable as a percentage, no status yet",
                json!({"metadata": meta("web", 10), "spec": {"maxUnavailable": "25%"}}),
                json!(["web", "N/A", "25%", 0, "10s"]),
            ),
            (
                "neither",
                json!({"metadata": meta("none", 1), "spec": {}}),
                json!(["none", "N/A", "N/A", 0, "1s"]),
            ),
        ];
        for (case, obj, want) in cases {
            assert_eq!(Value::Array(pdb_row(&obj, now())), want, "{case}");
        }
    }
}
