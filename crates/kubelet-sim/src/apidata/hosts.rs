//! The pod's `/etc/hosts` as the kubelet writes it (`managedHostsFileContent`): a header, the
//! localhost lines, the pod's address with its hostname (fully qualified first when the pod
//! has a `subdomain`), then the `hostAliases`.

use crate::lifecycle::PodSpecView;

/// The cluster's DNS domain.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The hosts file of `pod` at address `ip`.
pub fn hosts_file(pod: &PodSpecView, ip: &str) -> String {
    let mut out = String::from(
        "# Kubernetes-managed hosts file.\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         fe00::0\tip6-mcastprefix\n\
         fe00::1\tip6-allnodes\n\
         fe00::2\tip6-allrouters\n",
    );
    let host = pod.hostname();
    match &pod.subdomain {
        Some(sub) => out.push_str(&format!(
            "{ip}\t{host}.{sub}.{}.svc.{CLUSTER_DOMAIN}\t{host}\n",
            pod.namespace
        )),
        None => out.push_str(&format!("{ip}\t{host}\n")),
    }
    if !pod.host_aliases.is_empty() {
        out.push_str("\n# Entries added by HostAliases.\n");
        for a in &pod.host_aliases {
            let names = a.hostnames.clone().unwrap_or_default().join("\t");
            out.push_str(&format!("{}\t{names}\n", a.ip));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn pod(spec: Value) -> PodSpecView {
        let mut spec = spec;
        spec["containers"] = json!([{"name": "c", "image": "busybox"}]);
        let p: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
            "metadata": {"name": "web-0", "namespace": "shop"},
            "spec": spec
        }))
        .unwrap();
        PodSpecView::from_pod(&p)
    }

    const HEADER: &str = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n";

    #[test]
    fn the_hosts_file_names_the_pod_its_subdomain_and_host_aliases() {
        let table = [
            (json!({}), "10.244.1.4\tweb-0\n"),
            (json!({"hostname": "db"}), "10.244.1.4\tdb\n"),
            (
                json!({"subdomain": "web"}),
                "10.244.1.4\tweb-0.web.shop.svc.cluster.local\tweb-0\n",
            ),
            (
                json!({"hostAliases": [{"ip": "127.0.0.1", "hostnames": ["foo.local", "bar.local"]},
                                        {"ip": "10.1.2.3", "hostnames": ["baz"]}]}),
                "10.244.1.4\tweb-0\n\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tbaz\n",
            ),
        ];
        for (spec, tail) in table {
            assert_eq!(
                hosts_file(&pod(spec.clone()), "10.244.1.4"),
                format!("{HEADER}{tail}"),
                "{spec}"
            );
        }
    }
}
