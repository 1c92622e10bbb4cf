//! `kubectl describe service`: selector, type, IPs, each port with its endpoints (from the
//! Service's EndpointSlices), session affinity and traffic policies, events.

use serde_json::Value;

use super::common::{self, items, n, s, v};
use super::writer::{w, Writer};
use super::Related;

pub fn render(svc: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (meta, spec) = (&svc["metadata"], &svc["spec"]);
    common::header(&mut w, meta);
    w!(
        w,
        0,
        "Selector:\t{}\n",
        common::format_labels(&spec["selector"])
    );
    w!(w, 0, "Type:\t{}\n", s(&spec["type"]));
    if !s(&spec["ipFamilyPolicy"]).is_empty() {
        w!(w, 0, "IP Family Policy:\t{}\n", s(&spec["ipFamilyPolicy"]));
    }
    let joined = |key: &str| {
        let list: Vec<&str> = items(&spec[key]).iter().map(s).collect();
        list.join(",")
    };
    let or_none = |t: String| {
        if t.is_empty() {
            "<none>".to_string()
        } else {
            t
        }
    };
    w!(w, 0, "IP Families:\t{}\n", or_none(joined("ipFamilies")));
    w!(w, 0, "IP:\t{}\n", s(&spec["clusterIP"]));
    w!(w, 0, "IPs:\t{}\n", or_none(joined("clusterIPs")));
    if !items(&spec["externalIPs"]).is_empty() {
        w!(w, 0, "External IPs:\t{}\n", joined("externalIPs"));
    }
    if !s(&spec["loadBalancerIP"]).is_empty() {
        w!(
            w,
            0,
            "Desired LoadBalancer IP:\t{}\n",
            s(&spec["loadBalancerIP"])
        );
    }
    if !s(&spec["externalName"]).is_empty() {
        w!(w, 0, "External Name:\t{}\n", s(&spec["externalName"]));
    }
    let ingress = items(&svc["status"]["loadBalancer"]["ingress"]);
    if !ingress.is_empty() {
        let list: Vec<String> = ingress
            .iter()
            .map(|i| match (s(&i["ip"]), s(&i["ipMode"])) {
                ("", _) => s(&i["hostname"]).to_string(),
                (ip, "") => ip.to_string(),
                (ip, mode) => format!("{ip} ({mode})"),
            })
            .collect();
        w!(w, 0, "LoadBalancer Ingress:\t{}\n", list.join(", "));
    }
    for p in items(&spec["ports"]) {
        let name = match s(&p["name"]) {
            "" => "<unset>",
            name => name,
        };
        let proto = s(&p["protocol"]);
        w!(w, 0, "Port:\t{name}\t{}/{proto}\n", n(&p["port"]));
        w!(w, 0, "TargetPort:\t{}/{proto}\n", v(&p["targetPort"]));
        if n(&p["nodePort"]) != 0 {
            w!(w, 0, "NodePort:\t{name}\t{}/{proto}\n", n(&p["nodePort"]));
        }
        w!(
            w,
            0,
            "Endpoints:\t{}\n",
            endpoints(&rel.slices, s(&p["name"]))
        );
    }
    w!(w, 0, "Session Affinity:\t{}\n", s(&spec["sessionAffinity"]));
    if !s(&spec["externalTrafficPolicy"]).is_empty() {
        w!(
            w,
            0,
            "External Traffic Policy:\t{}\n",
            s(&spec["externalTrafficPolicy"])
        );
    }
    if !s(&spec["internalTrafficPolicy"]).is_empty() {
        w!(
            w,
            0,
            "Internal Traffic Policy:\t{}\n",
            s(&spec["internalTrafficPolicy"])
        );
    }
    if n(&spec["healthCheckNodePort"]) != 0 {
        w!(
            w,
            0,
            "HealthCheck NodePort:\t{}\n",
            n(&spec["healthCheckNodePort"])
        );
    }
    if !items(&spec["loadBalancerSourceRanges"]).is_empty() {
        w!(
            w,
            0,
            "LoadBalancer Source Ranges:\t{}\n",
            joined("loadBalancerSourceRanges")
        );
    }
    if !s(&spec["trafficDistribution"]).is_empty() {
        w!(
            w,
            0,
            "Traffic Distribution:\t{}\n",
            s(&spec["trafficDistribution"])
        );
    }
    common::finish_with_events(w, rel)
}

/// `formatEndpointSlices` for one port name: ready `ip:port`s, at most three, then
/// `+ N more...`; `<none>` without slices.
pub fn endpoints(slices: &[Value], port_name: &str) -> String {
    if slices.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let (mut more, mut count) = (false, 0);
    let ready = |e: &Value| e["conditions"]["ready"] != false;
    for slice in slices {
        let ports = items(&slice["ports"]);
        let mut add = |text: String, e: &Value| {
            if list.len() == MAX {
                more = true;
            }
            if !ready(e) {
                return;
            }
            if !more {
                list.push(text);
            }
            count += 1;
        };
        if ports.is_empty() {
            for e in items(&slice["endpoints"]) {
                add(s(&e["addresses"][0]).to_string(), e);
            }
        } else {
            for p in ports {
                if s(&p["name"]) != port_name {
                    continue;
                }
                for e in items(&slice["endpoints"]) {
                    let addr = s(&e["addresses"][0]);
                    let host = if addr.contains(':') {
                        format!("[{addr}]")
                    } else {
                        addr.to_string()
                    };
                    add(format!("{host}:{}", n(&p["port"])), e);
                }
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count - MAX)
    } else {
        ret
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoints_list_ready_addresses_up_to_three() {
        let slice = json!({"ports": [{"name": "", "port": 80}], "endpoints": [
            {"addresses": ["10.0.0.1"], "conditions": {"ready": true}},
            {"addresses": ["10.0.0.2"], "conditions": {"ready": false}},
            {"addresses": ["10.0.0.3"]}, {"addresses": ["10.0.0.4"]}, {"addresses": ["10.0.0.5"]}]});
        assert_eq!(
            endpoints(&[slice], ""),
            "10.0.0.1:80,10.0.0.3:80,10.0.0.4:80 + 1 more..."
        );
        assert_eq!(endpoints(&[], ""), "<none>");
    }
}
