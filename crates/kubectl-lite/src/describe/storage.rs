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
    if let Some(events) = &rel.events {
        common::events(&mut w, events, rel.now);
    }
    w.finish()
}

pub fn endpoint_slice(eps: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let meta = &eps["metadata"];
    w!(w, 0, "Name:\t{}\n", s(&meta["name"]));
    w!(w, 0, "Namespace:\t{}\n", s(&meta["namespace"]));
    common::labels_multiline(&mut w, "", "Labels", &meta["labels"]);
    common::annotations_multiline(&mut w, "Annotations", &meta["annotations"]);
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
    if let Some(events) = &rel.events {
        common::events(&mut w, events, rel.now);
    }
    w.finish()
}

pub fn secret(secret: &Value, _rel: &Related) -> String {
    let mut w = Writer::default();
    let meta = &secret["metadata"];
    w!(w, 0, "Name:\t{}\n", s(&meta["name"]));
    w!(w, 0, "Namespace:\t{}\n", s(&meta["namespace"]));
    common::labels_multiline(&mut w, "", "Labels", &meta["labels"]);
    common::annotations_multiline(&mut w, "Annotations", &meta["annotations"]);
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
