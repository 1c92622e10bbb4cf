//! Describers of the supporting kinds kube-lite serves and kubectl describes in its own way:
//! StorageClass, EndpointSlice and Secret (data sizes, never values, except a service
//! account token).

use serde_json::Value;

use super::common::{self, items, s};
use super::writer::{w, Writer};
use super::Related;

pub fn storage_class(sc: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let meta = &sc["metadata"];
    w!(w, 0, "Name:\t{}\n", s(&meta["name"]));
    let ann = &meta["annotations"];
    let default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|k| s(&ann[*k]) == "true");
    w!(
        w,
        0,
        "IsDefaultClass:\t{}\n",
        if default { "Yes" } else { "No" }
    );
    w!(w, 0, "Annotations:\t{}\n", common::format_labels(ann));
    w!(w, 0, "Provisioner:\t{}\n", s(&sc["provisioner"]));
    w!(
        w,
        0,
        "Parameters:\t{}\n",
        common::format_labels(&sc["parameters"])
    );
    let expansion = match sc["allowVolumeExpansion"].as_bool() {
        Some(b) => common::bool_text(b),
        None => "<unset>",
    };
    w!(w, 0, "AllowVolumeExpansion:\t{expansion}\n");
    let options = items(&sc["mountOptions"]);
    if options.is_empty() {
        w.write(0, "MountOptions:\t<none>\n");
    } else {
        w.write(0, "MountOptions:\n");
        for o in options {
            w!(w, 1, "{}\n", s(o));
        }
    }
    for (title, key) in [
        ("ReclaimPolicy", "reclaimPolicy"),
        ("VolumeBindingMode", "volumeBindingMode"),
    ] {
        if !s(&sc[key]).is_empty() {
            w!(w, 0, "{title}:\t{}\n", s(&sc[key]));
        }
    }
    common::finish_with_events(w, rel)
}

pub fn persistent_volume(pv: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (meta, spec) = (&pv["metadata"], &pv["spec"]);
    w!(w, 0, "Name:\t{}\n", s(&meta["name"]));
    common::labels_multiline(&mut w, "", "Labels", &meta["labels"]);
    common::annotations_multiline(&mut w, "Annotations", &meta["annotations"]);
    let finalizers: Vec<&str> = items(&meta["finalizers"]).iter().map(s).collect();
    w!(w, 0, "Finalizers:\t[{}]\n", finalizers.join(" "));
    common::class_and_status(&mut w, meta, spec, &pv["status"]["phase"], rel.now);
    let claim = &spec["claimRef"];
    if claim.is_object() {
        w!(
            w,
            0,
            "Claim:\t{}/{}\n",
            s(&claim["namespace"]),
            s(&claim["name"])
        );
    } else {
        w.write(0, "Claim:\t\n");
    }
    w!(
        w,
        0,
        "Reclaim Policy:\t{}\n",
        s(&spec["persistentVolumeReclaimPolicy"])
    );
    w!(
        w,
        0,
        "Access Modes:\t{}\n",
        super::simple::access_modes(&spec["accessModes"])
    );
    if !s(&spec["volumeMode"]).is_empty() {
        w!(w, 0, "VolumeMode:\t{}\n", s(&spec["volumeMode"]));
    }
    let capacity = match common::v(&spec["capacity"]["storage"]) {
        c if c.is_empty() => "0".to_string(),
        c => c,
    };
    w!(w, 0, "Capacity:\t{capacity}\n");
    w.write(0, "Node Affinity:\t");
    let required = &spec["nodeAffinity"]["required"];
    if !required.is_object() {
        w.line("<none>");
    } else {
        w.line("");
        w.write(1, "Required Terms:\t");
        let terms = items(&required["nodeSelectorTerms"]);
        if terms.is_empty() {
            w.line("<none>");
        } else {
            w.line("");
            for (i, term) in terms.iter().enumerate() {
                w!(w, 2, "Term {i}:\t");
                let reqs = items(&term["matchExpressions"]);
                if reqs.is_empty() {
                    w.line("<none>");
                }
                for (j, r) in reqs.iter().enumerate() {
                    if j != 0 {
                        w.write(2, "\t");
                    }
                    let mut expr = format!("{} {}", s(&r["key"]), s(&r["operator"]).to_lowercase());
                    let values: Vec<&str> = items(&r["values"]).iter().map(s).collect();
                    if !values.is_empty() {
                        expr.push_str(&format!(" [{}]", values.join(", ")));
                    }
                    w!(w, 0, "{expr}\n");
                }
            }
        }
    }
    w!(w, 0, "Message:\t{}\n", s(&pv["status"]["message"]));
    w.write(0, "Source:\n");
    if let Some(h) = spec.get("hostPath") {
        common::host_path_source(&mut w, h);
    } else if let Some(l) = spec.get("local") {
        w!(
            w,
            2,
            "Type:\tLocalVolume (a persistent volume backed by local storage on a node)\n    Path:\t{}\n",
            s(&l["path"])
        );
    } else {
        w.write(1, "<unknown>\n");
    }
    common::finish_with_events(w, rel)
}

pub fn endpoint_slice(eps: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let meta = &eps["metadata"];
    common::header(&mut w, meta);
    w!(w, 0, "AddressType:\t{}\n", s(&eps["addressType"]));
    let or_unset = |v: &Value| match v {
        Value::Null => "<unset>".to_string(),
        Value::String(x) if x.is_empty() => "<unset>".to_string(),
        other => common::v(other),
    };
    let ports = items(&eps["ports"]);
    if ports.is_empty() {
        w.write(0, "Ports: <unset>\n");
    } else {
        w.write(0, "Ports:\n");
        w.write(1, "Name\tPort\tProtocol\n");
        w.write(1, "----\t----\t--------\n");
        for p in ports {
            w!(
                w,
                1,
                "{}\t{}\t{}\n",
                or_unset(&p["name"]),
                or_unset(&p["port"]),
                s(&p["protocol"])
            );
        }
    }
    let endpoints = items(&eps["endpoints"]);
    if endpoints.is_empty() {
        w.write(0, "Endpoints: <none>\n");
    } else {
        w.write(0, "Endpoints:\n");
        for e in endpoints {
            let addrs: Vec<&str> = items(&e["addresses"]).iter().map(s).collect();
            let addrs = if addrs.is_empty() {
                "<none>".to_string()
            } else {
                addrs.join(", ")
            };
            w!(w, 1, "- Addresses:\t{addrs}\n");
            w.write(2, "Conditions:\n");
            w!(w, 3, "Ready:\t{}\n", or_unset(&e["conditions"]["ready"]));
            w!(w, 2, "Hostname:\t{}\n", or_unset(&e["hostname"]));
            if e["targetRef"].is_object() {
                w!(
                    w,
                    2,
                    "TargetRef:\t{}/{}\n",
                    s(&e["targetRef"]["kind"]),
                    s(&e["targetRef"]["name"])
                );
            }
            w!(w, 2, "NodeName:\t{}\n", or_unset(&e["nodeName"]));
            w!(w, 2, "Zone:\t{}\n", or_unset(&e["zone"]));
        }
    }
    common::finish_with_events(w, rel)
}

pub fn secret(secret: &Value, _rel: &Related) -> String {
    let mut w = Writer::default();
    let meta = &secret["metadata"];
    common::header(&mut w, meta);
    let kind = s(&secret["type"]);
    w!(w, 0, "\nType:\t{kind}\n");
    w.write(0, "\nData\n====\n");
    for (k, v) in secret["data"].as_object().into_iter().flatten() {
        let bytes = base64_decode(s(v));
        if k == "token" && kind == "kubernetes.io/service-account-token" {
            w!(w, 0, "{k}:\t{}\n", String::from_utf8_lossy(&bytes));
        } else {
            w!(w, 0, "{k}:\t{} bytes\n", bytes.len());
        }
    }
    w.finish()
}

/// Standard base64 (the API's encoding of `[]byte`); invalid characters are skipped.
pub fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for v in text.bytes().filter_map(value) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_data_decodes_to_its_bytes() {
        for (text, want) in [
            ("", ""),
            ("YQ==", "a"),
            ("YWI=", "ab"),
            ("YWJj", "abc"),
            ("aGVsbG8gd29ybGQ=", "hello world"),
        ] {
            assert_eq!(base64_decode(text), want.as_bytes(), "{text}");
        }
    }
}
