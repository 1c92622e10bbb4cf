//! The small describers: Namespace (with quotas and limit ranges), ConfigMap (its data),
//! PersistentVolumeClaim, and the generic describer for every other kind (the object's
//! fields as indented `Key:  value` lines with kubectl's smart labels).

use serde_json::Value;

use super::common::{self, items, s, v};
use super::writer::{w, Writer};
use super::Related;

pub fn namespace(ns: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    w!(w, 0, "Name:\t{}\n", s(&ns["metadata"]["name"]));
    common::labels_multiline(&mut w, "", "Labels", &ns["metadata"]["labels"]);
    common::annotations_multiline(&mut w, "Annotations", &ns["metadata"]["annotations"]);
    w!(w, 0, "Status:\t{}\n", s(&ns["status"]["phase"]));
    let conditions = items(&ns["status"]["conditions"]);
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n");
        w.write(1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n");
        w.write(1, "----\t------\t------------------\t------\t-------\n");
        for c in conditions {
            w!(
                w,
                1,
                "{}\t{}\t{}\t{}\t{}\n",
                s(&c["type"]),
                s(&c["status"]),
                common::rfc1123z(&c["lastTransitionTime"]),
                s(&c["reason"]),
                s(&c["message"])
            );
        }
    }
    if let Some(quotas) = &rel.quotas {
        w.write(0, "\n");
        if quotas.is_empty() {
            w.write(0, "No resource quota.\n");
        } else {
            w.write(0, "Resource Quotas\n");
            let mut sorted: Vec<&Value> = quotas.iter().collect();
            sorted.sort_by(|a, b| s(&a["metadata"]["name"]).cmp(s(&b["metadata"]["name"])));
            for q in sorted {
                w!(w, 1, "Name:\t{}\n", s(&q["metadata"]["name"]));
                w.write(1, "Resource\tUsed\tHard\n");
                w.write(1, "--------\t---\t---\n");
                let hard = q["status"]["hard"].as_object().cloned().unwrap_or_default();
                for r in common::sorted_resource_names(hard.keys().map(String::as_str)) {
                    let used = match v(&q["status"]["used"][r]) {
                        u if u.is_empty() => "0".to_string(),
                        u => u,
                    };
                    w!(w, 1, "{r}\t{used}\t{}\n", v(&hard[r]));
                }
            }
        }
    }
    if let Some(limits) = &rel.limit_ranges {
        w.write(0, "\n");
        if limits.is_empty() {
            w.write(0, "No LimitRange resource.\n");
        } else {
            w.write(0, "Resource Limits\n Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n");
            w.write(0, " ----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n");
            for lr in limits {
                for item in items(&lr["spec"]["limits"]) {
                    limit_range_item(&mut w, item);
                }
            }
        }
    }
    w.finish()
}

/// One `LimitRangeItem` as rows `Type Resource Min Max Default Request Default Limit Ratio`.
fn limit_range_item(w: &mut Writer, item: &Value) {
    let mut names: Vec<&str> = Vec::new();
    for key in [
        "min",
        "max",
        "default",
        "defaultRequest",
        "maxLimitRequestRatio",
    ] {
        for k in item[key].as_object().into_iter().flatten().map(|(k, _)| k) {
            if !names.contains(&k.as_str()) {
                names.push(k);
            }
        }
    }
    names.sort();
    let cell = |key: &str, r: &str| match v(&item[key][r]) {
        x if x.is_empty() => "-".to_string(),
        x => x,
    };
    for r in names {
        w!(
            w,
            0,
            " {}\t{r}\t{}\t{}\t{}\t{}\t{}\n",
            s(&item["type"]),
            cell("min", r),
            cell("max", r),
            cell("defaultRequest", r),
            cell("default", r),
            cell("maxLimitRequestRatio", r)
        );
    }
}

pub fn config_map(cm: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    w!(w, 0, "Name:\t{}\n", s(&cm["metadata"]["name"]));
    w!(w, 0, "Namespace:\t{}\n", s(&cm["metadata"]["namespace"]));
    common::labels_multiline(&mut w, "", "Labels", &cm["metadata"]["labels"]);
    common::annotations_multiline(&mut w, "Annotations", &cm["metadata"]["annotations"]);
    w.write(0, "\nData\n====\n");
    for (k, val) in cm["data"].as_object().into_iter().flatten() {
        w!(w, 0, "{k}:\n----\n");
        w!(w, 0, "{}\n", s(val));
        w.write(0, "\n");
    }
    w.write(0, "\nBinaryData\n====\n");
    for (k, val) in cm["binaryData"].as_object().into_iter().flatten() {
        let len = super::storage::base64_decode(s(val)).len();
        w!(w, 0, "{k}: {len} bytes\n");
    }
    w.write(0, "\n");
    common::finish_with_events(w, rel)
}

pub fn persistent_volume_claim(pvc: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let (meta, spec, status) = (&pvc["metadata"], &pvc["spec"], &pvc["status"]);
    w!(w, 0, "Name:\t{}\n", s(&meta["name"]));
    w!(w, 0, "Namespace:\t{}\n", s(&meta["namespace"]));
    common::class_and_status(&mut w, meta, spec, &status["phase"], rel.now);
    w!(w, 0, "Volume:\t{}\n", s(&spec["volumeName"]));
    common::labels_multiline(&mut w, "", "Labels", &meta["labels"]);
    common::annotations_multiline(&mut w, "Annotations", &meta["annotations"]);
    let finalizers: Vec<&str> = items(&meta["finalizers"]).iter().map(s).collect();
    w!(w, 0, "Finalizers:\t[{}]\n", finalizers.join(" "));
    let (mut capacity, mut modes) = (String::new(), String::new());
    if !s(&spec["volumeName"]).is_empty() {
        modes = access_modes(&status["accessModes"]);
        capacity = v(&status["capacity"]["storage"]);
    }
    w!(w, 0, "Capacity:\t{capacity}\n");
    w!(w, 0, "Access Modes:\t{modes}\n");
    if !s(&spec["volumeMode"]).is_empty() {
        w!(w, 0, "VolumeMode:\t{}\n", s(&spec["volumeMode"]));
    }
    let ds = &spec["dataSource"];
    if ds.is_object() {
        w.write(0, "DataSource:\n");
        if !s(&ds["apiGroup"]).is_empty() {
            w!(w, 1, "APIGroup:\t{}\n", s(&ds["apiGroup"]));
        }
        w!(w, 1, "Kind:\t{}\n", s(&ds["kind"]));
        w!(w, 1, "Name:\t{}\n", s(&ds["name"]));
    }
    let mut used_by = rel.used_by.clone();
    used_by.sort();
    w.write(0, "Used By:\t");
    if used_by.is_empty() {
        w.line("<none>");
    } else {
        for (i, p) in used_by.iter().enumerate() {
            if i != 0 {
                w.write(0, "\t");
            }
            w!(w, 0, "{p}\n");
        }
    }
    common::conditions_table(&mut w, &status["conditions"], "lastProbeTime");
    common::finish_with_events(w, rel)
}

/// `GetAccessModesAsString`: `RWO,ROX,RWX,RWOP` in that order, each once.
pub fn access_modes(modes: &Value) -> String {
    let list: Vec<&str> = items(modes).iter().map(s).collect();
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| list.contains(m))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

pub fn service_account(sa: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    w!(w, 0, "Name:\t{}\n", s(&sa["metadata"]["name"]));
    w!(w, 0, "Namespace:\t{}\n", s(&sa["metadata"]["namespace"]));
    common::labels_multiline(&mut w, "", "Labels", &sa["metadata"]["labels"]);
    common::annotations_multiline(&mut w, "Annotations", &sa["metadata"]["annotations"]);
    let names: Vec<&str> = items(&sa["imagePullSecrets"])
        .iter()
        .map(|x| s(&x["name"]))
        .collect();
    if names.is_empty() {
        w.write(0, "Image pull secrets:\t<none>\n");
    }
    for (i, name) in names.iter().enumerate() {
        let header = if i == 0 {
            "Image pull secrets:"
        } else {
            "                   "
        };
        w!(w, 0, "{header}\t{name}\n");
    }
    common::finish_with_events(w, rel)
}

/// kubectl's generic describer for kinds without their own.
pub fn generic(obj: &Value, rel: &Related) -> String {
    let mut w = Writer::default();
    let meta = &obj["metadata"];
    common::header(&mut w, meta);
    const SKIP: &[&str] = &[
        ".metadata.managedFields",
        ".metadata.name",
        ".metadata.namespace",
        ".metadata.labels",
        ".metadata.annotations",
    ];
    unstructured(&mut w, 0, obj, "", SKIP);
    common::finish_with_events(w, rel)
}

/// `printUnstructuredContent`: fields sorted; maps and lists nest one level deeper.
fn unstructured(w: &mut Writer, level: usize, content: &Value, prefix: &str, skip: &[&str]) {
    let Some(map) = content.as_object() else {
        return;
    };
    let mut fields: Vec<&String> = map.keys().collect();
    fields.sort();
    for field in fields {
        let value = &map[field.as_str()];
        let path = format!("{prefix}.{field}");
        if skip.contains(&path.as_str()) {
            continue;
        }
        match value {
            Value::Object(_) => {
                w!(w, level, "{}:\n", smart_label(field));
                unstructured(w, level + 1, value, &path, skip);
            }
            Value::Array(list) => {
                w!(w, level, "{}:\n", smart_label(field));
                for child in list {
                    if child.is_object() {
                        unstructured(w, level + 1, child, &path, skip);
                    } else {
                        w!(w, level + 1, "{}\n", go_value(child));
                    }
                }
            }
            other => w!(w, level, "{}:\t{}\n", smart_label(field), go_value(other)),
        }
    }
}

/// A JSON scalar as Go's `%v` of the decoded value (`<nil>` for null, floats as Go).
fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => crate::gojson::go_number(n),
        },
        other => common::v(other),
    }
}

/// `smartLabelFor` (v1.35): `apiVersion` → `API Version`, `podIP` → `Pod Ip`; names with
/// anything but letters and `-` stay as they are.
pub fn smart_label(field: &str) -> String {
    if field.chars().any(|c| !c.is_alphabetic() && c != '-') {
        return field.to_string();
    }
    let words: Vec<String> = camel_split(field)
        .into_iter()
        .filter(|p| p != "_")
        .map(|p| {
            let upper = p.to_uppercase();
            if ["API", "URL", "UID", "OSB", "GUID"].contains(&upper.as_str()) {
                upper
            } else {
                // x/text's English title case: first letter upper, the rest lower.
                let mut c = p.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                    None => p,
                }
            }
        })
        .collect();
    words.join(" ")
}

/// fatih/camelcase's split: runs of lower case, upper case (the last upper letter of a run
/// followed by lower case starts the next word), digits, and other characters.
fn camel_split(s: &str) -> Vec<String> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Lower,
        Upper,
        Digit,
        Other,
    }
    let class = |c: char| {
        if c.is_lowercase() {
            Class::Lower
        } else if c.is_uppercase() {
            Class::Upper
        } else if c.is_numeric() {
            Class::Digit
        } else {
            Class::Other
        }
    };
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut last: Option<Class> = None;
    for c in s.chars() {
        let k = class(c);
        if Some(k) == last {
            if let Some(r) = runs.last_mut() {
                r.push(c);
            }
        } else {
            runs.push(vec![c]);
        }
        last = Some(k);
    }
    // An upper-case run followed by a lower-case run gives its last letter to the latter.
    for i in 0..runs.len().saturating_sub(1) {
        let upper = runs[i].first().is_some_and(|c| c.is_uppercase());
        let lower = runs[i + 1].first().is_some_and(|c| c.is_lowercase());
        if upper && lower {
            if let Some(c) = runs[i].pop() {
                runs[i + 1].insert(0, c);
            }
        }
    }
    runs.into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.into_iter().collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_labels_split_camel_case_and_keep_acronyms() {
        for (field, want) in [
            ("apiVersion", "API Version"),
            ("kind", "Kind"),
            ("podIP", "Pod Ip"),
            ("uid", "UID"),
            ("creationTimestamp", "Creation Timestamp"),
            ("resourceVersion", "Resource Version"),
            ("holderIdentity", "Holder Identity"),
            ("leaseDurationSeconds", "Lease Duration Seconds"),
            ("x-y", "X - Y"),
            ("a.b", "a.b"),
            ("IPFamilies", "Ip Families"),
        ] {
            assert_eq!(smart_label(field), want, "{field}");
        }
    }

    #[test]
    fn access_modes_are_abbreviated_in_kubectl_order() {
        assert_eq!(
            access_modes(&serde_json::json!(["ReadWriteMany", "ReadWriteOnce"])),
            "RWO,RWX"
        );
    }
}
