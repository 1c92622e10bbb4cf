//! `kubectl describe ingress` (networking.k8s.io/v1): address, class, default backend, TLS,
//! the rules table with each backend's endpoints (from its Service's EndpointSlices) and
//! the annotations after the rules, as kubectl orders them.

use serde_json::Value;

use super::common::{self, items, n, s};
use super::writer::{w, Writer};
use super::{Backend, Related};

/// `serviceBackendStringer`: `name:port` (the port number, else its name).
fn service_backend(svc: &Value) -> String {
    let port = match n(&svc["port"]["number"]) {
        0 => s(&svc["port"]["name"]).to_string(),
        num => num.to_string(),
    };
    format!("{}:{port}", s(&svc["name"]))
}

/// The Service names an Ingress's backends refer to (default backend, then rule paths).
pub fn backend_services(ing: &Value) -> Vec<String> {
    let spec = &ing["spec"];
    let mut names: Vec<String> = Vec::new();
    let paths = items(&spec["rules"])
        .iter()
        .flat_map(|r| items(&r["http"]["paths"]).iter().map(|p| &p["backend"]));
    for b in std::iter::once(&spec["defaultBackend"]).chain(paths) {
        let name = s(&b["service"]["name"]);
        if !name.is_empty() && !names.iter().any(|x| x == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// `describeBackendV1`: a service backend with its ready endpoints on the named port, or
/// a resource backend.
fn backend(b: &Value, rel: &Related) -> String {
    let svc = &b["service"];
    if svc.is_object() {
        let text = service_backend(svc);
        return match rel.backends.get(s(&svc["name"])) {
            Some(Backend {
                service: Ok(service),
                slices,
            }) => {
                let (number, name) = (n(&svc["port"]["number"]), s(&svc["port"]["name"]));
                let mut port_name = "";
                for sp in items(&service["spec"]["ports"]) {
                    if (number != 0 && number == n(&sp["port"]))
                        || (!name.is_empty() && name == s(&sp["name"]))
                    {
                        port_name = s(&sp["name"]);
                    }
                }
                format!("{text} ({})", super::service::endpoints(slices, port_name))
            }
            Some(Backend {
                service: Err(e), ..
            }) => format!("{text} (<error: {e}>)"),
            None => text,
        };
    }
    let r = &b["resource"];
    if r.is_object() {
        let group = match &r["apiGroup"] {
            Value::String(g) => g.as_str(),
            _ => "<none>",
        };
        return format!(
            "APIGroup: {group}, Kind: {}, Name: {}",
            s(&r["kind"]),
            s(&r["name"])
        );
    }
    String::new()
}

/// `ingressLoadBalancerStatusStringerV1` (wide): the sorted, distinct IPs or hostnames.
fn address(ing: &Value) -> String {
    let mut set: Vec<&str> = items(&ing["status"]["loadBalancer"]["ingress"])
        .iter()
        .map(|i| match s(&i["ip"]) {
            "" => s(&i["hostname"]),
            ip => ip,
        })
        .filter(|a| !a.is_empty())
        .collect();
    set.sort();
    set.dedup();
    set.join(",")
}

pub fn render(ing: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (meta, spec) = (&ing["metadata"], &ing["spec"]);
    w!(w, 0, "Name:\t{}\n", s(&meta["name"]));
    common::labels_multiline(&mut w, "", "Labels", &meta["labels"]);
    w!(w, 0, "Namespace:\t{}\n", s(&meta["namespace"]));
    w!(w, 0, "Address:\t{}\n", address(ing));
    let class = match &spec["ingressClassName"] {
        Value::String(c) => c.as_str(),
        _ => "<none>",
    };
    w!(w, 0, "Ingress Class:\t{class}\n");
    let default_backend = if spec["defaultBackend"].is_object() {
        backend(&spec["defaultBackend"], rel)
    } else {
        "<default>".to_string()
    };
    w!(w, 0, "Default backend:\t{default_backend}\n");
    let tls = items(&spec["tls"]);
    if !tls.is_empty() {
        w.write(0, "TLS:\n");
        for t in tls {
            let hosts: Vec<&str> = items(&t["hosts"]).iter().map(s).collect();
            match s(&t["secretName"]) {
                "" => w!(w, 1, "SNI routes {}\n", hosts.join(",")),
                secret => w!(w, 1, "{secret} terminates {}\n", hosts.join(",")),
            }
        }
    }
    w.write(0, "Rules:\n  Host\tPath\tBackends\n");
    w.write(1, "----\t----\t--------\n");
    let mut count = 0;
    for rule in items(&spec["rules"]) {
        if !rule["http"].is_object() {
            continue;
        }
        count += 1;
        let host = match s(&rule["host"]) {
            "" => "*",
            h => h,
        };
        w!(w, 1, "{host}\t\n");
        for p in items(&rule["http"]["paths"]) {
            w!(
                w,
                2,
                "\t{} \t{}\n",
                s(&p["path"]),
                backend(&p["backend"], rel)
            );
        }
    }
    if count == 0 {
        w!(w, 1, "*\t*\t{default_backend}\n");
    }
    common::annotations_multiline(&mut w, "Annotations", &meta["annotations"]);
    common::finish_with_events(w, rel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backends_show_the_endpoints_of_the_service_port_or_the_lookup_error() {
        let ing = json!({"metadata": {"name": "ing", "namespace": "default"},
            "spec": {"rules": [{"host": "a.example", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
                {"path": "/x", "pathType": "Prefix", "backend": {"service": {"name": "gone", "port": {"name": "http"}}}}]}}]}});
        assert_eq!(backend_services(&ing), ["web", "gone"]);
        let mut rel = Related::default();
        rel.backends.insert(
            "web".into(),
            Backend {
                service: Ok(json!({"spec": {"ports": [{"name": "http", "port": 80}]}})),
                slices: vec![json!({"ports": [{"name": "http", "port": 8080}],
                    "endpoints": [{"addresses": ["10.0.0.1"]}]})],
            },
        );
        rel.backends.insert(
            "gone".into(),
            Backend {
                service: Err("services \"gone\" not found".into()),
                slices: Vec::new(),
            },
        );
        let want = [
            "Name:             ing",
            "Labels:           <none>",
            "Namespace:        default",
            "Address:          ",
            "Ingress Class:    <none>",
            "Default backend:  <default>",
            "Rules:",
            "  Host        Path  Backends",
            "  ----        ----  --------",
            "  a.example   ",
            "              /    web:80 (10.0.0.1:8080)",
            "              /x   gone:http (<error: services \"gone\" not found>)",
            "Annotations:  <none>",
            "",
        ];
        assert_eq!(render(&ing, &rel), want.join("\n"));
    }
}
