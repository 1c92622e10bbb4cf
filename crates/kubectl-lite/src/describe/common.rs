//! Sections several describers print the same way: multi-line labels, annotations,
//! taints and tolerations, selectors, times (`RFC1123Z`, ages), the pod template with its
//! containers and volumes, conditions and the Events table.

use std::time::SystemTime;

use apimachinery::clock::parse_rfc3339;
use apimachinery::duration::human_duration_nanos;
use serde_json::Value;

use super::writer::{w, Writer};
use crate::gojson::go_number;

/// A string field, or "".
pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// A scalar as Go's `%v` prints it: strings raw, numbers as Go, null as "".
pub fn v(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => go_number(n),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// An integer field, 0 when absent (Go's zero value).
pub fn n(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// `True`/`False` (kubectl's `printBool`).
pub fn bool_text(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// Items of a list field (empty when absent).
pub fn items(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// `time.Format(time.RFC1123Z)` in UTC: `Mon, 02 Jan 2006 15:04:05 +0000`; the zero time
/// for an absent timestamp, as Go prints a zero `metav1.Time`.
pub fn rfc1123z(ts: &Value) -> String {
    let secs = ts
        .as_str()
        .and_then(parse_rfc3339)
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(-62_135_596_800); // 0001-01-01T00:00:00Z
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
        WEEKDAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `translateTimestampSince`: the HumanDuration since `ts`, `<unknown>` when absent.
pub fn since(ts: &Value, now: SystemTime) -> String {
    let Some(t) = ts
        .as_str()
        .filter(|t| !t.is_empty())
        .and_then(parse_rfc3339)
    else {
        return "<unknown>".to_string();
    };
    let nanos = match now.duration_since(t) {
        Ok(d) => d.as_nanos() as i64,
        Err(e) => -(e.duration().as_nanos() as i64),
    };
    human_duration_nanos(nanos)
}

/// `printLabelsMultilineWithIndent`: `Title:\tk=v` then one `\tk=v` line per further key.
/// The lines most describers open with: `Name`, `Namespace`, `Labels`, `Annotations`.
pub fn header(w: &mut Writer, meta: &Value) {
    w!(w, 0, "Name:\t{}\n", s(&meta["name"]));
    w!(w, 0, "Namespace:\t{}\n", s(&meta["namespace"]));
    labels_multiline(w, "", "Labels", &meta["labels"]);
    annotations_multiline(w, "Annotations", &meta["annotations"]);
}

pub fn labels_multiline(w: &mut Writer, indent: &str, title: &str, labels: &Value) {
    let pairs: Vec<String> = labels
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, val)| format!("{k}={}", s(val)))
        .collect();
    lines_multiline(w, indent, title, sorted(pairs));
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The shared shape of the multi-line fields: `<none>` when empty.
fn lines_multiline(w: &mut Writer, indent: &str, title: &str, values: Vec<String>) {
    w!(w, 0, "{indent}{title}:\t");
    if values.is_empty() {
        w.line("<none>");
        return;
    }
    for (i, val) in values.iter().enumerate() {
        if i != 0 {
            w!(w, 0, "{indent}\t");
        }
        w!(w, 0, "{val}\n");
    }
}

const MAX_ANNOTATION_LEN: usize = 140;

/// `printAnnotationsMultiline`: sorted, without the last-applied annotation; long or
/// multi-line values go below their key, each line cut at 138 bytes with `...`.
pub fn annotations_multiline(w: &mut Writer, title: &str, annotations: &Value) {
    w!(w, 0, "{title}:\t");
    let mut keys: Vec<&String> = annotations
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .filter(|k| *k != "kubectl.kubernetes.io/last-applied-configuration")
        .collect();
    if keys.is_empty() {
        w.line("<none>");
        return;
    }
    keys.sort();
    for (i, key) in keys.into_iter().enumerate() {
        if i != 0 {
            w.write(0, "\t");
        }
        let value = s(&annotations[key.as_str()]);
        let value = value.strip_suffix('\n').unwrap_or(value);
        if value.len() + key.len() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
            w!(w, 0, "{key}:\n");
            for line in value.split('\n') {
                w!(w, 0, "\t  {}\n", shorten(line, MAX_ANNOTATION_LEN - 2));
            }
        } else {
            w!(w, 0, "{key}: {value}\n");
        }
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    } else {
        s.to_string()
    }
}

/// `printTolerationsMultilineWithIndent`: `key=value:Effect op=Exists for 300s`, by key.
pub fn tolerations_multiline(w: &mut Writer, indent: &str, title: &str, tolerations: &Value) {
    let mut list: Vec<&Value> = items(tolerations).iter().collect();
    list.sort_by(|a, b| s(&a["key"]).cmp(s(&b["key"])));
    let texts = list
        .into_iter()
        .map(|t| {
            let (key, value, effect) = (s(&t["key"]), s(&t["value"]), s(&t["effect"]));
            let mut out = key.to_string();
            if !value.is_empty() {
                out.push_str(&format!("={value}"));
            }
            if !effect.is_empty() {
                out.push_str(&format!(":{effect}"));
            }
            if s(&t["operator"]) == "Exists" && value.is_empty() {
                out.push_str(if key.is_empty() && effect.is_empty() {
                    "op=Exists"
                } else {
                    " op=Exists"
                });
            }
            if let Some(secs) = t["tolerationSeconds"].as_i64() {
                out.push_str(&format!(" for {secs}s"));
            }
            out
        })
        .collect();
    lines_multiline(w, indent, title, texts);
}

/// `printTaintsMultilineWithIndent`: `key=value:Effect`, by effect then key.
pub fn taints_multiline(w: &mut Writer, title: &str, taints: &Value) {
    let mut list: Vec<&Value> = items(taints).iter().collect();
    list.sort_by_key(|t| format!("{},{}", s(&t["effect"]), s(&t["key"])));
    let texts = list
        .into_iter()
        .map(|t| {
            let (key, value, effect) = (s(&t["key"]), s(&t["value"]), s(&t["effect"]));
            if value.is_empty() {
                format!("{key}:{effect}")
            } else {
                format!("{key}={value}:{effect}")
            }
        })
        .collect();
    lines_multiline(w, "", title, texts);
}

/// `labels.FormatLabels`: sorted `k=v,...` or `<none>`.
pub fn format_labels(map: &Value) -> String {
    crate::table::format_labels(Some(map))
}

/// `LabelSelectorAsSelector(sel).String()`: requirements sorted by key; "" for none.
pub fn selector_string(sel: &Value) -> String {
    let mut reqs: Vec<(String, String)> = Vec::new();
    for (k, val) in sel["matchLabels"].as_object().into_iter().flatten() {
        reqs.push((k.clone(), format!("{k}={}", s(val))));
    }
    for e in items(&sel["matchExpressions"]) {
        let key = s(&e["key"]).to_string();
        let mut values: Vec<&str> = items(&e["values"]).iter().map(s).collect();
        values.sort();
        let text = match s(&e["operator"]) {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.clone(),
            "DoesNotExist" => format!("!{key}"),
            _ => continue,
        };
        reqs.push((key, text));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    reqs.into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",")
}

/// `metav1.FormatLabelSelector`: the selector, or `<none>` when it selects by nothing.
pub fn format_label_selector(sel: &Value) -> String {
    let text = selector_string(sel);
    if text.is_empty() {
        "<none>".to_string()
    } else {
        text
    }
}

/// `Kind/name` of the controller owner reference, if any.
pub fn controlled_by(obj: &Value) -> Option<String> {
    items(&obj["metadata"]["ownerReferences"])
        .iter()
        .find(|r| r["controller"] == true)
        .map(|r| format!("{}/{}", s(&r["kind"]), s(&r["name"])))
}

/// `Conditions:` with `Type Status Reason` columns (workload controllers).
pub fn conditions_with_reason(w: &mut Writer, conditions: &Value) {
    if items(conditions).is_empty() {
        return;
    }
    w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
    w.write(1, "----\t------\t------\n");
    for c in items(conditions) {
        w!(
            w,
            1,
            "{} \t{}\t{}\n",
            s(&c["type"]),
            s(&c["status"]),
            s(&c["reason"])
        );
    }
}

/// `Limits:`/`Requests:` of a resource requirements object at `level`.
/// A `Conditions:` table (nothing without conditions); `probe_field` is the first time column
/// (`lastProbeTime`, or a node's `lastHeartbeatTime`), its header that name capitalized.
pub fn conditions_table(w: &mut Writer, conditions: &Value, probe_field: &str) {
    let conditions = items(conditions);
    if conditions.is_empty() {
        return;
    }
    let mut header = probe_field.to_string();
    header[..1].make_ascii_uppercase();
    w.write(0, "Conditions:\n");
    w!(
        w,
        1,
        "Type\tStatus\t{header}\tLastTransitionTime\tReason\tMessage\n"
    );
    w.write(
        1,
        "----\t------\t-----------------\t------------------\t------\t-------\n",
    );
    for c in conditions {
        w!(
            w,
            1,
            "{} \t{} \t{} \t{} \t{} \t{}\n",
            s(&c["type"]),
            s(&c["status"]),
            rfc1123z(&c[probe_field]),
            rfc1123z(&c["lastTransitionTime"]),
            s(&c["reason"]),
            s(&c["message"])
        );
    }
}

/// The `StorageClass:` and `Status:` lines of a volume or claim: the class from the spec or
/// the beta annotation, and `Terminating (lasts …)` once deletion has started.
pub fn class_and_status(
    w: &mut Writer,
    meta: &Value,
    spec: &Value,
    phase: &Value,
    now: SystemTime,
) {
    let class = match s(&spec["storageClassName"]) {
        "" => s(&meta["annotations"]["volume.beta.kubernetes.io/storage-class"]),
        c => c,
    };
    w!(w, 0, "StorageClass:\t{class}\n");
    if meta["deletionTimestamp"].is_string() {
        w!(
            w,
            0,
            "Status:\tTerminating (lasts {})\n",
            since(&meta["deletionTimestamp"], now)
        );
    } else {
        w!(w, 0, "Status:\t{}\n", s(phase));
    }
}

pub fn resources(w: &mut Writer, res: &Value, level: usize) {
    for (title, key) in [("Limits", "limits"), ("Requests", "requests")] {
        let Some(map) = res[key].as_object().filter(|m| !m.is_empty()) else {
            continue;
        };
        w!(w, level, "{title}:\n");
        for name in sorted_resource_names(map.keys().map(String::as_str)) {
            w!(w, level + 1, "{name}:\t{}\n", v(&map[name]));
        }
    }
}

/// `SortedResourceNames`: plain alphabetical order of the names.
pub fn sorted_resource_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = names.collect();
    v.sort();
    v
}

/// `DescribeProbe` (v1.35): `http-get http://:80/ delay=0s timeout=1s period=10s #success=1 #failure=3`.
pub fn probe(p: &Value) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        n(&p["initialDelaySeconds"]),
        n(&p["timeoutSeconds"]),
        n(&p["periodSeconds"]),
        n(&p["successThreshold"]),
        n(&p["failureThreshold"])
    );
    if let Some(e) = p.get("exec") {
        let cmd: Vec<&str> = items(&e["command"]).iter().map(s).collect();
        return format!("exec [{}] {attrs}", cmd.join(" "));
    }
    if let Some(h) = p.get("httpGet") {
        let scheme = s(&h["scheme"]).to_lowercase();
        let port = v(&h["port"]);
        let host = s(&h["host"]);
        let hostport = if port.is_empty() {
            host.to_string()
        } else if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut url = String::new();
        if !scheme.is_empty() {
            url.push_str(&format!("{scheme}:"));
        }
        if !scheme.is_empty() || !hostport.is_empty() {
            url.push_str(&format!("//{hostport}"));
        }
        let path = s(&h["path"]);
        if !path.is_empty() && !path.starts_with('/') && !hostport.is_empty() {
            url.push('/');
        }
        url.push_str(path);
        return format!("http-get {url} {attrs}");
    }
    if let Some(t) = p.get("tcpSocket") {
        return format!("tcp-socket {}:{} {attrs}", s(&t["host"]), v(&t["port"]));
    }
    if let Some(g) = p.get("grpc") {
        return format!("grpc <pod>:{} {} {attrs}", n(&g["port"]), s(&g["service"]));
    }
    format!("unknown {attrs}")
}

fn ports_text(ports: &Value, key: &str) -> String {
    items(ports)
        .iter()
        .map(|p| {
            let base = format!("{}/{}", n(&p[key]), s(&p["protocol"]));
            match s(&p["name"]) {
                "" => base,
                name => format!("{base} ({name})"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn none_if_empty(s: String) -> String {
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s
    }
}

/// `describeContainers`: one block per container; `statuses` only for pods (templates
/// have none); `space` is "  " inside a pod template.
pub fn containers(
    w: &mut Writer,
    label: &str,
    containers: &Value,
    statuses: Option<(&Value, &Value)>,
    space: &str,
) {
    let pod = statuses.map(|(_, pod)| pod);
    let statuses = statuses.map(|(st, _)| st);
    let list = items(containers);
    let none = if list.is_empty() { " <none>" } else { "" };
    w!(w, 0, "{space}{label}:{none}\n");
    let name_indent = if space.is_empty() { "" } else { " " };
    for c in list {
        let name = s(&c["name"]);
        let status = statuses.and_then(|st| items(st).iter().find(|x| s(&x["name"]) == name));
        w!(w, 1, "{name_indent}{name}:\n");
        if let Some(st) = status {
            w!(w, 2, "Container ID:\t{}\n", s(&st["containerID"]));
        }
        w!(w, 2, "Image:\t{}\n", s(&c["image"]));
        if let Some(st) = status {
            w!(w, 2, "Image ID:\t{}\n", s(&st["imageID"]));
        }
        let ports = ports_text(&c["ports"], "containerPort");
        if ports.contains(',') {
            w!(w, 2, "Ports:\t{ports}\n");
        } else {
            w!(w, 2, "Port:\t{}\n", none_if_empty(ports));
        }
        let host_ports = ports_text(&c["ports"], "hostPort");
        if host_ports.contains(',') {
            w!(w, 2, "Host Ports:\t{host_ports}\n");
        } else {
            w!(w, 2, "Host Port:\t{}\n", none_if_empty(host_ports));
        }
        for (title, key) in [("Command", "command"), ("Args", "args")] {
            if !items(&c[key]).is_empty() {
                w!(w, 2, "{title}:\n");
                for arg in items(&c[key]) {
                    for line in s(arg).split('\n') {
                        w!(w, 3, "{line}\n");
                    }
                }
            }
        }
        if let Some(st) = status {
            container_state(w, "State", &st["state"]);
            if st["lastState"].get("terminated").is_some() {
                container_state(w, "Last State", &st["lastState"]);
            }
            w!(w, 2, "Ready:\t{}\n", bool_text(st["ready"] == true));
            w!(w, 2, "Restart Count:\t{}\n", n(&st["restartCount"]));
        }
        resources(w, &c["resources"], 2);
        for (title, key) in [
            ("Liveness", "livenessProbe"),
            ("Readiness", "readinessProbe"),
            ("Startup", "startupProbe"),
        ] {
            if c.get(key).is_some() {
                w!(w, 2, "{title}:\t{}\n", probe(&c[key]));
            }
        }
        if !items(&c["envFrom"]).is_empty() {
            env_from(w, &c["envFrom"]);
        }
        env(w, &c["env"], pod);
        mounts(w, c);
    }
}

fn container_state(w: &mut Writer, title: &str, state: &Value) {
    if let Some(r) = state.get("running") {
        w!(w, 2, "{title}:\tRunning\n");
        w!(w, 3, "Started:\t{}\n", rfc1123z(&r["startedAt"]));
    } else if let Some(wt) = state.get("waiting") {
        w!(w, 2, "{title}:\tWaiting\n");
        if !s(&wt["reason"]).is_empty() {
            w!(w, 3, "Reason:\t{}\n", s(&wt["reason"]));
        }
    } else if let Some(t) = state.get("terminated") {
        w!(w, 2, "{title}:\tTerminated\n");
        if !s(&t["reason"]).is_empty() {
            w!(w, 3, "Reason:\t{}\n", s(&t["reason"]));
        }
        if !s(&t["message"]).is_empty() {
            w!(w, 3, "Message:\t{}\n", s(&t["message"]));
        }
        w!(w, 3, "Exit Code:\t{}\n", n(&t["exitCode"]));
        if n(&t["signal"]) > 0 {
            w!(w, 3, "Signal:\t{}\n", n(&t["signal"]));
        }
        w!(w, 3, "Started:\t{}\n", rfc1123z(&t["startedAt"]));
        w!(w, 3, "Finished:\t{}\n", rfc1123z(&t["finishedAt"]));
    } else {
        w!(w, 2, "{title}:\tWaiting\n");
    }
}

fn env_from(w: &mut Writer, env_from: &Value) {
    w.write(2, "Environment Variables from:\n");
    for e in items(env_from) {
        let (from, r) = if e.get("configMapRef").is_some() {
            ("ConfigMap", &e["configMapRef"])
        } else {
            ("Secret", &e["secretRef"])
        };
        let optional = r["optional"] == true;
        match s(&e["prefix"]) {
            "" => w!(w, 3, "{}\t{from}\tOptional: {optional}\n", s(&r["name"])),
            p => w!(
                w,
                3,
                "{}\t{from} with prefix '{p}'\tOptional: {optional}\n",
                s(&r["name"])
            ),
        }
    }
}

/// `fieldpath.ExtractFieldPathAsString` for the paths a pod's env may name.
pub fn pod_field(pod: &Value, path: &str) -> String {
    let (meta, spec, status) = (&pod["metadata"], &pod["spec"], &pod["status"]);
    let sub = |map: &str, rest: &str| {
        let key = rest.trim_start_matches("['").trim_end_matches("']");
        s(&meta[map][key]).to_string()
    };
    match path {
        "metadata.name" => s(&meta["name"]).to_string(),
        "metadata.namespace" => s(&meta["namespace"]).to_string(),
        "metadata.uid" => s(&meta["uid"]).to_string(),
        "spec.nodeName" => s(&spec["nodeName"]).to_string(),
        "spec.serviceAccountName" => s(&spec["serviceAccountName"]).to_string(),
        "status.podIP" => s(&status["podIP"]).to_string(),
        "status.hostIP" => s(&status["hostIP"]).to_string(),
        "status.podIPs" => items(&status["podIPs"])
            .iter()
            .map(|i| s(&i["ip"]))
            .collect::<Vec<_>>()
            .join(","),
        "status.hostIPs" => items(&status["hostIPs"])
            .iter()
            .map(|i| s(&i["ip"]))
            .collect::<Vec<_>>()
            .join(","),
        p if p.starts_with("metadata.labels[") => sub("labels", &p["metadata.labels".len()..]),
        p if p.starts_with("metadata.annotations[") => {
            sub("annotations", &p["metadata.annotations".len()..])
        }
        _ => String::new(),
    }
}

fn env(w: &mut Writer, env: &Value, pod: Option<&Value>) {
    let list = items(env);
    let none = if list.is_empty() { "\t<none>" } else { "" };
    w!(w, 2, "Environment:{none}\n");
    for e in list {
        let name = s(&e["name"]);
        let Some(from) = e.get("valueFrom") else {
            for (i, line) in s(&e["value"]).split('\n').enumerate() {
                if i == 0 {
                    w!(w, 3, "{name}:\t{line}\n");
                } else {
                    w!(w, 3, "\t{line}\n");
                }
            }
            continue;
        };
        if let Some(f) = from.get("fieldRef") {
            let value = pod
                .map(|p| pod_field(p, s(&f["fieldPath"])))
                .unwrap_or_default();
            w!(
                w,
                3,
                "{name}:\t{value} ({}:{})\n",
                s(&f["apiVersion"]),
                s(&f["fieldPath"])
            );
        } else if let Some(r) = from.get("resourceFieldRef") {
            w!(w, 3, "{name}:\t ({})\n", s(&r["resource"]));
        } else if let Some(k) = from.get("secretKeyRef") {
            w!(
                w,
                3,
                "{name}:\t<set to the key '{}' in secret '{}'>\tOptional: {}\n",
                s(&k["key"]),
                s(&k["name"]),
                k["optional"] == true
            );
        } else if let Some(k) = from.get("configMapKeyRef") {
            w!(
                w,
                3,
                "{name}:\t<set to the key '{}' of config map '{}'>\tOptional: {}\n",
                s(&k["key"]),
                s(&k["name"]),
                k["optional"] == true
            );
        }
    }
}

fn mounts(w: &mut Writer, c: &Value) {
    let mut list: Vec<&Value> = items(&c["volumeMounts"]).iter().collect();
    let none = if list.is_empty() { "\t<none>" } else { "" };
    w!(w, 2, "Mounts:{none}\n");
    list.sort_by(|a, b| s(&a["mountPath"]).cmp(s(&b["mountPath"])));
    for m in list {
        let mut flags = vec![if m["readOnly"] == true { "ro" } else { "rw" }.to_string()];
        if !s(&m["subPath"]).is_empty() {
            flags.push(format!("path={:?}", s(&m["subPath"])));
        }
        w!(
            w,
            3,
            "{} from {} ({})\n",
            s(&m["mountPath"]),
            s(&m["name"]),
            flags.join(",")
        );
    }
    let mut devices: Vec<&Value> = items(&c["volumeDevices"]).iter().collect();
    if !devices.is_empty() {
        w.write(2, "Devices:\n");
        devices.sort_by(|a, b| s(&a["devicePath"]).cmp(s(&b["devicePath"])));
        for d in devices {
            w!(w, 3, "{} from {}\n", s(&d["devicePath"]), s(&d["name"]));
        }
    }
}

/// `describeVolumes`: each volume's source with its fields (`<unknown>` for sources
/// kube-lite does not serve).
pub fn volumes(w: &mut Writer, volumes: &Value, space: &str) {
    let list = items(volumes);
    if list.is_empty() {
        w!(w, 0, "{space}Volumes:\t<none>\n");
        return;
    }
    w!(w, 0, "{space}Volumes:\n");
    let name_indent = if space.is_empty() { "" } else { " " };
    for vol in list {
        w!(w, 1, "{name_indent}{}:\n", s(&vol["name"]));
        let field = |k: &str| -> Option<&Value> { vol.get(k) };
        if let Some(h) = field("hostPath") {
            host_path_source(w, h);
        } else if let Some(e) = field("emptyDir") {
            let size = match v(&e["sizeLimit"]) {
                x if x.is_empty() || x == "0" => "<unset>".to_string(),
                x => x,
            };
            w!(
                w,
                2,
                "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t{}\n    SizeLimit:\t{size}\n",
                s(&e["medium"])
            );
        } else if let Some(sec) = field("secret") {
            w!(
                w,
                2,
                "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t{}\n    Optional:\t{}\n",
                s(&sec["secretName"]),
                sec["optional"] == true
            );
        } else if let Some(cm) = field("configMap") {
            w!(
                w,
                2,
                "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{}\n    Optional:\t{}\n",
                s(&cm["name"]),
                cm["optional"] == true
            );
        } else if let Some(c) = field("persistentVolumeClaim") {
            w!(
                w,
                2,
                "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t{}\n    ReadOnly:\t{}\n",
                s(&c["claimName"]),
                c["readOnly"] == true
            );
        } else if let Some(d) = field("downwardAPI") {
            w.write(
                2,
                "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n",
            );
            for it in items(&d["items"]) {
                if let Some(f) = it.get("fieldRef") {
                    w!(w, 3, "{} -> {}\n", s(&f["fieldPath"]), s(&it["path"]));
                }
                if let Some(r) = it.get("resourceFieldRef") {
                    w!(w, 3, "{} -> {}\n", s(&r["resource"]), s(&it["path"]));
                }
            }
        } else if let Some(p) = field("projected") {
            w.write(
                2,
                "Type:\tProjected (a volume that contains injected data from multiple sources)\n",
            );
            for src in items(&p["sources"]) {
                if let Some(sec) = src.get("secret") {
                    w!(
                        w,
                        2,
                        "SecretName:\t{}\n    Optional:\t{}\n",
                        s(&sec["name"]),
                        sec["optional"] == true
                    );
                } else if src.get("downwardAPI").is_some() {
                    w.write(2, "DownwardAPI:\ttrue\n");
                } else if let Some(cm) = src.get("configMap") {
                    w!(
                        w,
                        2,
                        "ConfigMapName:\t{}\n    Optional:\t{}\n",
                        s(&cm["name"]),
                        cm["optional"] == true
                    );
                } else if let Some(t) = src.get("serviceAccountToken") {
                    w!(
                        w,
                        2,
                        "TokenExpirationSeconds:\t{}\n",
                        n(&t["expirationSeconds"])
                    );
                }
            }
        } else {
            w.write(1, "<unknown>\n");
        }
    }
}

/// `printHostPathVolumeSource` (pod volumes and PersistentVolumes).
pub fn host_path_source(w: &mut Writer, h: &Value) {
    let t = match s(&h["type"]) {
        "" => "<none>",
        t => t,
    };
    w!(
        w,
        2,
        "Type:\tHostPath (bare host directory volume)\n    Path:\t{}\n    HostPathType:\t{t}\n",
        s(&h["path"])
    );
}

/// `DescribePodTemplate`.
pub fn pod_template(w: &mut Writer, template: &Value) {
    w.write(0, "Pod Template:\n");
    let spec = &template["spec"];
    labels_multiline(w, "", "  Labels", &template["metadata"]["labels"]);
    if template["metadata"]["annotations"]
        .as_object()
        .is_some_and(|m| !m.is_empty())
    {
        annotations_multiline(w, "  Annotations", &template["metadata"]["annotations"]);
    }
    if !s(&spec["serviceAccountName"]).is_empty() {
        w!(
            w,
            1,
            "Service Account:\t{}\n",
            s(&spec["serviceAccountName"])
        );
    }
    if !items(&spec["initContainers"]).is_empty() {
        containers(w, "Init Containers", &spec["initContainers"], None, "  ");
    }
    containers(w, "Containers", &spec["containers"], None, "  ");
    volumes(w, &spec["volumes"], "  ");
    if !s(&spec["priorityClassName"]).is_empty() {
        w!(
            w,
            1,
            "Priority Class Name:\t{}\n",
            s(&spec["priorityClassName"])
        );
    }
    labels_multiline(w, "", "  Node-Selectors", &spec["nodeSelector"]);
    tolerations_multiline(w, "", "  Tolerations", &spec["tolerations"]);
}

/// How most describers end: the Events table (when events were searched), then the text.
pub fn finish_with_events(mut w: Writer, rel: &super::Related) -> String {
    if let Some(list) = &rel.events {
        events(&mut w, list, rel.now);
    }
    w.finish()
}

/// `DescribeEvents`: sorted by last timestamp; age `2m3s (x3 over 5m)` for repeated ones.
pub fn events(w: &mut Writer, events: &[Value], now: SystemTime) {
    if events.is_empty() {
        w.write(0, "Events:\t<none>\n");
        return;
    }
    w.flush();
    let mut list: Vec<&Value> = events.iter().collect();
    let last = |e: &Value| {
        e["lastTimestamp"]
            .as_str()
            .and_then(parse_rfc3339)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    };
    list.sort_by_key(|e| last(e));
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.write(1, "----\t------\t----\t----\t-------\n");
    for e in list {
        let first = if e["eventTime"].is_string() {
            since(&e["eventTime"], now)
        } else {
            since(&e["firstTimestamp"], now)
        };
        let interval = if let Some(series) = e.get("series").filter(|x| x.is_object()) {
            format!(
                "{} (x{} over {first})",
                since(&series["lastObservedTime"], now),
                n(&series["count"])
            )
        } else if n(&e["count"]) > 1 {
            format!(
                "{} (x{} over {first})",
                since(&e["lastTimestamp"], now),
                n(&e["count"])
            )
        } else {
            first
        };
        let source = match s(&e["source"]["component"]) {
            "" => s(&e["reportingComponent"]),
            c => c,
        };
        let mut message = s(&e["message"]).trim().to_string();
        let field_path = s(&e["involvedObject"]["fieldPath"]);
        if !field_path.is_empty() {
            message = format!("{field_path}: {message}");
        }
        w!(
            w,
            1,
            "{}\t{}\t{interval}\t{source}\t{message}\n",
            s(&e["type"]),
            s(&e["reason"])
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_print_as_go_rfc1123z_in_utc() {
        for (ts, want) in [
            ("2026-12-06T16:50:17Z", "Sun, 06 Dec 2026 16:50:17 +0000"),
            ("2024-02-29T00:00:00Z", "Thu, 29 Feb 2024 00:00:00 +0000"),
            ("1970-01-01T00:00:00Z", "Thu, 01 Jan 1970 00:00:00 +0000"),
        ] {
            assert_eq!(rfc1123z(&json!(ts)), want, "{ts}");
        }
        assert_eq!(rfc1123z(&Value::Null), "Mon, 01 Jan 0001 00:00:00 +0000");
    }

    #[test]
    fn selectors_sort_requirements_by_key() {
        let sel = json!({"matchLabels": {"b": "2", "a": "1"},
            "matchExpressions": [{"key": "aa", "operator": "In", "values": ["y", "x"]},
                                 {"key": "z", "operator": "DoesNotExist"}]});
        assert_eq!(selector_string(&sel), "a=1,aa in (x,y),b=2,!z");
        assert_eq!(format_label_selector(&json!({})), "<none>");
    }

    #[test]
    fn tolerations_print_key_value_effect_operator_and_seconds() {
        let mut w = Writer::default();
        tolerations_multiline(
            &mut w,
            "",
            "Tolerations",
            &json!([
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ]),
        );
        assert_eq!(
            w.finish(),
            "Tolerations:  node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n              node.kubernetes.io/unreachable:NoExecute op=Exists for 300s\n"
        );
    }

    #[test]
    fn annotations_skip_last_applied_and_fold_long_values() {
        let mut w = Writer::default();
        let long = "x".repeat(150);
        annotations_multiline(
            &mut w,
            "Annotations",
            &json!({"kubectl.kubernetes.io/last-applied-configuration": "{}", "a": "1", "b": long}),
        );
        let out = w.finish();
        assert!(out.starts_with("Annotations:  a: 1\n              b:\n                "));
        assert!(out.ends_with(&format!("{}...\n", "x".repeat(138))));
    }

    #[test]
    fn repeated_events_show_count_and_span() {
        let now = parse_rfc3339("2026-01-01T00:10:00Z").unwrap();
        let mut w = Writer::default();
        events(
            &mut w,
            &[json!({"type": "Normal", "reason": "Pulled", "count": 3,
                "firstTimestamp": "2026-01-01T00:05:00Z", "lastTimestamp": "2026-01-01T00:07:57Z",
                "source": {"component": "kubelet"}, "message": "done ",
                "involvedObject": {"fieldPath": "spec.containers{c}"}})],
            now,
        );
        assert_eq!(
            w.finish(),
            "Events:\n  Type    Reason  Age                From     Message\n  ----    ------  ----               ----     -------\n  Normal  Pulled  2m3s (x3 over 5m)  kubelet  spec.containers{c}: done\n"
        );
    }
}
