//! Defaulting of the shared types, as `pkg/apis/core/v1/defaults.go` (v1.35) does it: pod specs
//! (in pods and in every pod template), containers, probes, volumes, and the pod-only fields
//! that admission plugins fill in (service account, priority, default tolerations).

use super::util::{default_field, obj_mut};
use serde_json::{json, Value};

/// `imagePullPolicy` from the image reference: Always for `:latest` or no tag (and no digest).
pub fn image_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    // The tag is after the last ':' that follows the last '/' (a registry port is not a tag).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        None => "Always",
        Some((_, "latest")) => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn default_probe(p: &mut Value) {
    if !p.is_object() {
        return;
    }
    default_field(p, "", "timeoutSeconds", json!(1));
    default_field(p, "", "periodSeconds", json!(10));
    default_field(p, "", "successThreshold", json!(1));
    default_field(p, "", "failureThreshold", json!(3));
    if p.get("httpGet").is_some_and(Value::is_object) {
        default_field(p, "httpGet", "path", json!("/"));
        default_field(p, "httpGet", "scheme", json!("HTTP"));
    }
}

fn default_container(c: &mut Value) {
    if !c.is_object() {
        return;
    }
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    default_field(c, "", "imagePullPolicy", json!(image_pull_policy(&image)));
    default_field(
        c,
        "",
        "terminationMessagePath",
        json!("/dev/termination-log"),
    );
    default_field(c, "", "terminationMessagePolicy", json!("File"));
    default_field(c, "", "resources", json!({}));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter(|p| p.is_object()) {
            default_field(p, "", "protocol", json!("TCP"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe) {
            default_probe(p);
        }
    }
    // Requests default to limits when unset.
    let limits = c
        .pointer("/resources/limits")
        .and_then(Value::as_object)
        .cloned();
    if let Some(limits) = limits {
        let requests = obj_mut(c, "resources.requests");
        for (k, v) in limits {
            requests.entry(k).or_insert(v);
        }
    }
}

fn default_volume(v: &mut Value) {
    for source in ["configMap", "secret", "projected", "downwardAPI"] {
        if v.get(source).is_some_and(Value::is_object) {
            default_field(v, source, "defaultMode", json!(420));
        }
    }
    if v.get("hostPath").is_some_and(Value::is_object) {
        default_field(v, "hostPath", "type", json!(""));
    }
    if let Some(e) = v.get_mut("emptyDir") {
        if e.is_null() {
            *e = json!({});
        }
    }
}

/// `SetDefaults_PodSpec` and the defaults of everything inside a pod spec.
pub fn pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    default_field(spec, "", "dnsPolicy", json!("ClusterFirst"));
    default_field(spec, "", "restartPolicy", json!("Always"));
    default_field(spec, "", "terminationGracePeriodSeconds", json!(30));
    default_field(spec, "", "securityContext", json!({}));
    default_field(spec, "", "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            cs.iter_mut().for_each(default_container);
        }
    }
    if let Some(vs) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        vs.iter_mut()
            .filter(|v| v.is_object())
            .for_each(default_volume);
    }
}

/// Defaults of a pod template at `path` (e.g. `spec.template`).
pub fn pod_template(obj: &mut Value, path: &str) {
    if let Some(spec) = obj.pointer_mut(&format!("/{}/spec", path.replace('.', "/"))) {
        pod_spec(spec);
    }
}

/// Defaults of a Pod: its spec, plus what v1.35's pod defaulting and admission add
/// (service links, service account, priority, the not-ready/unreachable tolerations).
pub fn pod(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec") {
        pod_spec(spec);
    }
    default_field(obj, "spec", "enableServiceLinks", json!(true));
    default_field(obj, "spec", "serviceAccountName", json!("default"));
    let sa = obj
        .pointer("/spec/serviceAccountName")
        .cloned()
        .unwrap_or(json!("default"));
    default_field(obj, "spec", "serviceAccount", sa);
    default_field(obj, "spec", "priority", json!(0));
    default_field(
        obj,
        "spec",
        "preemptionPolicy",
        json!("PreemptLowerPriority"),
    );
    // DefaultTolerationSeconds admission: tolerate not-ready/unreachable for 300 s.
    let spec = obj_mut(obj, "spec");
    let tolerations = spec.entry("tolerations").or_insert(json!([]));
    if let Some(list) = tolerations.as_array_mut() {
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            let present = list.iter().any(|t| {
                let k = t.get("key").and_then(Value::as_str);
                let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
                (k == Some(key) || (k.is_none() && t.get("operator") == Some(&json!("Exists"))))
                    && (effect.is_empty() || effect == "NoExecute")
            });
            if !present {
                list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
            }
        }
    }
}

/// `SetDefaults_Service`: type, session affinity, port protocol and targetPort, traffic policy.
pub fn service(obj: &mut Value) {
    default_field(obj, "spec", "type", json!("ClusterIP"));
    default_field(obj, "spec", "sessionAffinity", json!("None"));
    let svc_type = obj
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if svc_type != "ExternalName" {
        default_field(obj, "spec", "internalTrafficPolicy", json!("Cluster"));
    }
    if svc_type == "NodePort" || svc_type == "LoadBalancer" {
        default_field(obj, "spec", "externalTrafficPolicy", json!("Cluster"));
    }
    if let Some(ports) = obj.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter(|p| p.is_object()) {
            default_field(p, "", "protocol", json!("TCP"));
            let port = p.get("port").cloned().unwrap_or(Value::Null);
            default_field(p, "", "targetPort", port);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_pull_policy_follows_the_tag() {
        let cases = [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.7.9", "IfNotPresent"),
            ("localhost:5000/nginx", "Always"),
            ("localhost:5000/nginx:1.9", "IfNotPresent"),
            ("nginx@sha256:abc", "IfNotPresent"),
        ];
        for (image, want) in cases {
            assert_eq!(image_pull_policy(image), want, "{image}");
        }
    }

    #[test]
    fn pod_template_gets_the_v1_35_defaults() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "nginx", "image": "nginx:1.7.9", "ports": [{"containerPort": 80}],
             "readinessProbe": {"httpGet": {"port": 80}}}]}}}});
        pod_template(&mut d, "spec.template");
        let spec = &d["spec"]["template"]["spec"];
        assert_eq!(spec["dnsPolicy"], "ClusterFirst");
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["schedulerName"], "default-scheduler");
        assert_eq!(spec["securityContext"], json!({}));
        assert_eq!(spec["terminationGracePeriodSeconds"], 30);
        let c = &spec["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["terminationMessagePolicy"], "File");
        assert_eq!(c["resources"], json!({}));
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(c["readinessProbe"]["periodSeconds"], 10);
        assert_eq!(c["readinessProbe"]["httpGet"]["scheme"], "HTTP");
        assert!(
            spec.get("enableServiceLinks").is_none(),
            "templates do not get pod-only defaults"
        );
    }

    #[test]
    fn pods_get_admission_defaults_once() {
        let mut p = json!({"spec": {"containers": [{"name": "a", "image": "busybox"}]}});
        pod(&mut p);
        pod(&mut p);
        assert_eq!(p["spec"]["serviceAccountName"], "default");
        assert_eq!(p["spec"]["tolerations"].as_array().unwrap().len(), 2);
        assert_eq!(p["spec"]["containers"][0]["imagePullPolicy"], "Always");
    }

    #[test]
    fn limits_become_requests_when_requests_are_unset() {
        let mut s = json!({"containers": [{"name": "a", "image": "x:1", "resources": {"limits": {"cpu": "1"}}}]});
        pod_spec(&mut s);
        assert_eq!(s["containers"][0]["resources"]["requests"]["cpu"], "1");
    }

    #[test]
    fn service_ports_default_protocol_and_target_port() {
        let mut s = json!({"spec": {"ports": [{"port": 80}]}});
        service(&mut s);
        assert_eq!(s["spec"]["type"], "ClusterIP");
        assert_eq!(
            s["spec"]["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(s["spec"]["sessionAffinity"], "None");
    }
}
