//! `kubectl describe node`: roles, taints, lease, conditions, addresses, capacity, system
//! info, the non-terminated pods with their requests and limits against allocatable, the
//! allocated totals, and events.

use serde_json::Value;

use super::common::{self, items, s, v};
use super::writer::{w, Writer};
use super::Related;

pub fn render(node: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (meta, spec, status) = (&node["metadata"], &node["spec"], &node["status"]);
    w!(w, 0, "Name:\t{}\n", s(&meta["name"]));
    let mut roles: Vec<String> = meta["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, val)| {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                (!role.is_empty()).then(|| role.to_string())
            } else if k == "kubernetes.io/role" && !s(val).is_empty() {
                Some(s(val).to_string())
            } else {
                None
            }
        })
        .collect();
    roles.sort();
    roles.dedup();
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    };
    w!(w, 0, "Roles:\t{roles}\n");
    common::labels_multiline(&mut w, "", "Labels", &meta["labels"]);
    common::annotations_multiline(&mut w, "Annotations", &meta["annotations"]);
    w!(
        w,
        0,
        "CreationTimestamp:\t{}\n",
        common::rfc1123z(&meta["creationTimestamp"])
    );
    common::taints_multiline(&mut w, "Taints", &spec["taints"]);
    w!(w, 0, "Unschedulable:\t{}\n", spec["unschedulable"] == true);
    match &rel.lease {
        Some(lease) => {
            let ls = &lease["spec"];
            w.write(0, "Lease:\n");
            let holder = match s(&ls["holderIdentity"]) {
                "" => "<unset>".to_string(),
                h => h.to_string(),
            };
            w!(w, 1, "HolderIdentity:\t{holder}\n");
            for (title, key) in [("AcquireTime", "acquireTime"), ("RenewTime", "renewTime")] {
                let t = if ls[key].is_string() {
                    common::rfc1123z(&ls[key])
                } else {
                    "<unset>".to_string()
                };
                w!(w, 1, "{title}:\t{t}\n");
            }
        }
        None => {
            w!(
                w,
                0,
                "Lease:\tFailed to get lease: leases.coordination.k8s.io \"{}\" not found\n",
                s(&meta["name"])
            );
        }
    }
    common::conditions_table(&mut w, &status["conditions"], "lastHeartbeatTime");
    w.write(0, "Addresses:\n");
    for a in items(&status["addresses"]) {
        w!(w, 1, "{}:\t{}\n", s(&a["type"]), s(&a["address"]));
    }
    for (title, key) in [("Capacity", "capacity"), ("Allocatable", "allocatable")] {
        let Some(map) = status[key].as_object().filter(|m| !m.is_empty()) else {
            continue;
        };
        w!(w, 0, "{title}:\n");
        for r in common::sorted_resource_names(map.keys().map(String::as_str)) {
            w!(w, 0, "  {r}:\t{}\n", v(&map[r]));
        }
    }
    let info = &status["nodeInfo"];
    w.write(0, "System Info:\n");
    for (title, key) in [
        ("Machine ID", "machineID"),
        ("System UUID", "systemUUID"),
        ("Boot ID", "bootID"),
        ("Kernel Version", "kernelVersion"),
        ("OS Image", "osImage"),
        ("Operating System", "operatingSystem"),
        ("Architecture", "architecture"),
        ("Container Runtime Version", "containerRuntimeVersion"),
        ("Kubelet Version", "kubeletVersion"),
        ("Kube-Proxy Version", "kubeProxyVersion"),
    ] {
        w!(w, 0, "  {title}:\t{}\n", s(&info[key]));
    }
    if !s(&spec["podCIDR"]).is_empty() {
        w!(w, 0, "PodCIDR:\t{}\n", s(&spec["podCIDR"]));
    }
    let cidrs: Vec<&str> = items(&spec["podCIDRs"]).iter().map(s).collect();
    if !cidrs.is_empty() {
        w!(w, 0, "PodCIDRs:\t{}\n", cidrs.join(","));
    }
    if !s(&spec["providerID"]).is_empty() {
        w!(w, 0, "ProviderID:\t{}\n", s(&spec["providerID"]));
    }
    node_resources(&mut w, node, rel);
    common::finish_with_events(w, rel)
}

/// Sum of a resource over a pod's containers (`PodRequests`/`PodLimits`, without
/// overhead or init-container maxima).
fn pod_total(pod: &Value, which: &str, resource: &str) -> Quantity {
    let mut q = Quantity::default();
    for c in items(&pod["spec"]["containers"]) {
        if let Some(text) = c["resources"][which][resource].as_str() {
            q.add(&Quantity::parse(text));
        }
    }
    q
}

fn percent(part: &Quantity, whole: &Quantity, milli: bool) -> i64 {
    let (p, w) = if milli {
        (part.milli, whole.milli)
    } else {
        (part.milli / 1000, whole.milli / 1000)
    };
    if w == 0 {
        return 0;
    }
    (p as f64 / w as f64 * 100.0) as i64
}

fn node_resources(w: &mut Writer, node: &Value, rel: &Related) {
    let pods = &rel.node_pods;
    w!(w, 0, "Non-terminated Pods:\t({} in total)\n", pods.len());
    w.write(
        1,
        "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n",
    );
    w.write(
        1,
        "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n",
    );
    let alloc_map = if node["status"]["allocatable"]
        .as_object()
        .is_some_and(|m| !m.is_empty())
    {
        &node["status"]["allocatable"]
    } else {
        &node["status"]["capacity"]
    };
    let alloc = |r: &str| Quantity::parse(alloc_map[r].as_str().unwrap_or("0"));
    let (acpu, amem, aeph) = (alloc("cpu"), alloc("memory"), alloc("ephemeral-storage"));
    let mut totals: Vec<Quantity> = vec![Quantity::default(); 6];
    for p in pods {
        let q = [
            pod_total(p, "requests", "cpu"),
            pod_total(p, "limits", "cpu"),
            pod_total(p, "requests", "memory"),
            pod_total(p, "limits", "memory"),
            pod_total(p, "requests", "ephemeral-storage"),
            pod_total(p, "limits", "ephemeral-storage"),
        ];
        for (t, x) in totals.iter_mut().zip(&q) {
            t.add(x);
        }
        w!(
            w,
            1,
            "{}\t{}\t\t{} ({}%)\t{} ({}%)\t{} ({}%)\t{} ({}%)\t{}\n",
            s(&p["metadata"]["namespace"]),
            s(&p["metadata"]["name"]),
            q[0],
            percent(&q[0], &acpu, true),
            q[1],
            percent(&q[1], &acpu, true),
            q[2],
            percent(&q[2], &amem, false),
            q[3],
            percent(&q[3], &amem, false),
            common::since(&p["metadata"]["creationTimestamp"], rel.now)
        );
    }
    w.write(
        0,
        "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n",
    );
    w.write(1, "Resource\tRequests\tLimits\n");
    w.write(1, "--------\t--------\t------\n");
    for (name, i, whole, milli) in [
        ("cpu", 0, &acpu, true),
        ("memory", 2, &amem, false),
        ("ephemeral-storage", 4, &aeph, false),
    ] {
        w!(
            w,
            1,
            "{name}\t{} ({}%)\t{} ({}%)\n",
            totals[i],
            percent(&totals[i], whole, milli),
            totals[i + 1],
            percent(&totals[i + 1], whole, milli)
        );
    }
    // Huge pages, then extended resources, each sorted by name.
    let names: Vec<&str> = alloc_map
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .collect();
    let mut huge: Vec<&str> = names
        .iter()
        .copied()
        .filter(|r| r.starts_with("hugepages-"))
        .collect();
    huge.sort();
    for r in huge {
        let (req, lim) = pod_sums(pods, r);
        let whole = alloc(r);
        w!(
            w,
            1,
            "{r}\t{req} ({}%)\t{lim} ({}%)\n",
            percent(&req, &whole, false),
            percent(&lim, &whole, false)
        );
    }
    let mut extended: Vec<&str> = names
        .iter()
        .copied()
        .filter(|r| {
            r.contains('/') && !r.starts_with("requests.") && !r.starts_with("kubernetes.io/")
        })
        .collect();
    extended.sort();
    for r in extended {
        let (req, lim) = pod_sums(pods, r);
        w!(w, 1, "{r}\t{req}\t{lim}\n");
    }
}

fn pod_sums(pods: &[Value], resource: &str) -> (Quantity, Quantity) {
    let (mut req, mut lim) = (Quantity::default(), Quantity::default());
    for p in pods {
        req.add(&pod_total(p, "requests", resource));
        lim.add(&pod_total(p, "limits", resource));
    }
    (req, lim)
}

/// A resource quantity in thousandths, remembering whether it was written with binary
/// suffixes (its canonical form then uses Ki/Mi/Gi like Go's `Quantity.String()`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Quantity {
    milli: i128,
    binary: bool,
}

impl Quantity {
    pub fn parse(text: &str) -> Quantity {
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .unwrap_or(text.len());
        let (num, suffix) = text.split_at(split);
        let (mult, binary): (f64, bool) = match suffix {
            "m" => (0.001, false),
            "" => (1.0, false),
            "k" => (1e3, false),
            "M" => (1e6, false),
            "G" => (1e9, false),
            "T" => (1e12, false),
            "P" => (1e15, false),
            "Ki" => (1024.0, true),
            "Mi" => (1024f64.powi(2), true),
            "Gi" => (1024f64.powi(3), true),
            "Ti" => (1024f64.powi(4), true),
            "Pi" => (1024f64.powi(5), true),
            _ => (1.0, false),
        };
        let value: f64 = num.parse().unwrap_or(0.0);
        Quantity {
            milli: (value * mult * 1000.0).round() as i128,
            binary,
        }
    }

    fn add(&mut self, other: &Quantity) {
        if self.milli == 0 {
            self.binary = other.binary;
        }
        self.milli += other.milli;
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.milli == 0 {
            return f.write_str("0");
        }
        if self.milli % 1000 != 0 {
            return write!(f, "{}m", self.milli);
        }
        let units = self.milli / 1000;
        if self.binary {
            for (suffix, pow) in [("Pi", 5), ("Ti", 4), ("Gi", 3), ("Mi", 2), ("Ki", 1)] {
                let base = 1024i128.pow(pow);
                if units % base == 0 {
                    return write!(f, "{}{suffix}", units / base);
                }
            }
            return write!(f, "{units}");
        }
        for (suffix, pow) in [("P", 15), ("T", 12), ("G", 9), ("M", 6), ("k", 3)] {
            let base = 10i128.pow(pow);
            if units % base == 0 {
                return write!(f, "{}{suffix}", units / base);
            }
        }
        write!(f, "{units}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_print_in_canonical_form() {
        for (text, want) in [
            ("100m", "100m"),
            ("2", "2"),
            ("1000m", "1"),
            ("128Mi", "128Mi"),
            ("1024Mi", "1Gi"),
            ("1500k", "1500k"),
            ("0", "0"),
        ] {
            assert_eq!(Quantity::parse(text).to_string(), want, "{text}");
        }
    }
}
