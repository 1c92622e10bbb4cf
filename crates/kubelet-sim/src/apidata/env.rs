//! A container's environment as the kubelet makes it (`makeEnvironmentVariables`): `envFrom`
//! ConfigMaps and Secrets first (each key with the source's `prefix`), then `env` in order, a
//! later name replacing an earlier one; literal values expand `$(VAR)` against the variables
//! defined before them; `valueFrom` reads a ConfigMap or Secret key (`optional` skips a
//! missing one), a pod field or a container resource. Then the command and args expand
//! against the whole environment (`ExpandContainerCommandAndArgs`).

use super::expand::expand;
use super::fields::{field_value, resource_value, PodFields};
use super::{lookup, DataError, Kind, Sources};
use crate::lifecycle::ContainerSpec;

/// A resolved environment, in definition order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvList(pub Vec<(String, String)>);

impl EnvList {
    fn set(&mut self, name: &str, value: String) {
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `$(VAR)` in `s` expanded against these variables.
    pub fn expand(&self, s: &str) -> String {
        expand(s, |n| self.get(n))
    }
}

/// What a container runs with: its environment, command and args, all resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub env: Vec<(String, String)>,
    pub command: Vec<String>,
    pub args: Vec<String>,
}

/// An environment variable name the kubelet accepts from `envFrom` (printable ASCII, no `=`).
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'=')
}

/// A key's text value: a ConfigMap's `data` only, a Secret's bytes as (lossy) UTF-8.
fn key_value(
    sources: &Sources,
    kind: Kind,
    name: &str,
    key: &str,
    optional: bool,
    ns: &str,
) -> Result<Option<String>, DataError> {
    let Some((data, binary)) = lookup(sources, kind, name, optional)? else {
        return Ok(None);
    };
    let value = match kind {
        Kind::ConfigMap => data.get(key).cloned(),
        Kind::Secret => binary
            .get(key)
            .map(|b| String::from_utf8_lossy(b).into_owned()),
    };
    match value {
        Some(v) => Ok(Some(v)),
        None if optional => Ok(None),
        None => Err(DataError(format!(
            "couldn't find key {key} in {} {ns}/{name}",
            kind.kind()
        ))),
    }
}

/// Resolve container `c`'s environment, command and args.
pub fn resolve(
    c: &ContainerSpec,
    pod: &PodFields<'_>,
    sources: &Sources,
) -> Result<Resolved, DataError> {
    let ns = pod.spec.namespace.as_str();
    let mut env = EnvList::default();
    for from in &c.env_from {
        let prefix = from.prefix.as_deref().unwrap_or("");
        let (kind, name, optional) = match (&from.config_map_ref, &from.secret_ref) {
            (Some(r), _) => (Kind::ConfigMap, &r.name, r.optional.unwrap_or(false)),
            (None, Some(r)) => (Kind::Secret, &r.name, r.optional.unwrap_or(false)),
            (None, None) => continue,
        };
        let Some((data, binary)) = lookup(sources, kind, name, optional)? else {
            continue;
        };
        let pairs: Vec<(&String, String)> = match kind {
            Kind::ConfigMap => data.iter().map(|(k, v)| (k, v.clone())).collect(),
            Kind::Secret => binary
                .iter()
                .map(|(k, v)| (k, String::from_utf8_lossy(v).into_owned()))
                .collect(),
        };
        for (k, v) in pairs {
            let full = format!("{prefix}{k}");
            // Upstream skips such keys with an `InvalidEnvironmentVariableNames` event.
            if valid_name(&full) {
                env.set(&full, v);
            }
        }
    }
    for e in &c.env {
        let value = match (&e.value, &e.value_from) {
            (Some(v), _) if !v.is_empty() => Some(env.expand(v)),
            (_, Some(from)) => {
                if let Some(r) = &from.config_map_key_ref {
                    let opt = r.optional.unwrap_or(false);
                    key_value(sources, Kind::ConfigMap, &r.name, &r.key, opt, ns)?
                } else if let Some(r) = &from.secret_key_ref {
                    let opt = r.optional.unwrap_or(false);
                    key_value(sources, Kind::Secret, &r.name, &r.key, opt, ns)?
                } else if let Some(f) = &from.field_ref {
                    Some(field_value(&f.field_path, pod)?)
                } else if let Some(r) = &from.resource_field_ref {
                    let target = match r.container_name.as_deref() {
                        Some(name) if !name.is_empty() => pod
                            .spec
                            .init_containers
                            .iter()
                            .chain(&pod.spec.containers)
                            .find(|x| x.name == name)
                            .ok_or_else(|| DataError(format!("container {name} not found")))?,
                        _ => c,
                    };
                    Some(resource_value(r, target, pod.node)?)
                } else {
                    Some(String::new())
                }
            }
            _ => Some(String::new()),
        };
        // An optional reference that is missing leaves the variable out.
        if let Some(v) = value {
            env.set(&e.name, v);
        }
    }
    Ok(Resolved {
        command: c.command.iter().map(|s| env.expand(s)).collect(),
        args: c.args.iter().map(|s| env.expand(s)).collect(),
        env: env.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apidata::{Fetched, NodeFacts};
    use crate::lifecycle::PodSpecView;
    use serde_json::{json, Value};
    use std::collections::BTreeMap;

    fn sources() -> Sources {
        let mut s = Sources {
            node: NodeFacts {
                host_ip: "172.18.0.3".into(),
                cpu_milli: 2000,
                memory: 1 << 30,
                ephemeral_storage: 1 << 34,
            },
            ..Sources::default()
        };
        let data = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        s.objects.insert(
            (Kind::ConfigMap, "app".into()),
            Fetched::Found {
                data: data(&[("mode", "fast"), ("level", "3"), ("bad=key", "x")]),
                binary: BTreeMap::new(),
            },
        );
        s.objects.insert(
            (Kind::Secret, "creds".into()),
            Fetched::Found {
                data: BTreeMap::new(),
                binary: [("password".to_string(), b"s3cret".to_vec())].into(),
            },
        );
        s
    }

    fn container(c: Value) -> PodSpecView {
        let mut c = c;
        c["name"] = json!("main");
        c["image"] = json!("busybox");
        let p: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({
            "metadata": {"name": "web-1", "namespace": "default", "uid": "u-9",
                "labels": {"app": "web"}},
            "spec": {"nodeName": "node-a", "containers": [c]}
        }))
        .unwrap();
        PodSpecView::from_pod(&p)
    }

    fn run(c: Value) -> Result<Resolved, String> {
        let spec = container(c);
        let s = sources();
        let f = PodFields {
            spec: &spec,
            pod_ip: Some("10.244.0.7"),
            node: &s.node,
        };
        resolve(&spec.containers[0], &f, &s).map_err(|e| e.0)
    }

    fn env_of(c: Value) -> Vec<(String, String)> {
        run(c).unwrap().env
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn env_values_come_from_configmaps_secrets_pod_fields_and_resources() {
        let table = [
            (
                json!({"env": [{"name": "A", "value": "1"}]}),
                pairs(&[("A", "1")]),
            ),
            (
                json!({"env": [{"name": "M", "valueFrom": {"configMapKeyRef": {"name": "app", "key": "mode"}}}]}),
                pairs(&[("M", "fast")]),
            ),
            (
                json!({"env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}}]}),
                pairs(&[("P", "s3cret")]),
            ),
            (
                json!({"env": [
                    {"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "L", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                    {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]}),
                pairs(&[
                    ("N", "web-1"),
                    ("L", "web"),
                    ("IP", "10.244.0.7"),
                    ("HOST", "172.18.0.3"),
                    ("NODE", "node-a"),
                ]),
            ),
            (
                json!({"env": [{"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}}]}),
                pairs(&[("CPU", "2000")]),
            ),
            (
                json!({"env": [
                    {"name": "GONE", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": true}}},
                    {"name": "NOKEY", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "user", "optional": true}}},
                    {"name": "EMPTY"}]}),
                pairs(&[("EMPTY", "")]),
            ),
        ];
        for (c, want) in table {
            assert_eq!(env_of(c.clone()), want, "{c}");
        }
    }

    #[test]
    fn env_from_adds_every_key_with_its_prefix_and_env_overrides_it() {
        let got = env_of(json!({
            "envFrom": [
                {"configMapRef": {"name": "app"}, "prefix": "APP_"},
                {"secretRef": {"name": "creds"}},
                {"configMapRef": {"name": "missing", "optional": true}}],
            "env": [{"name": "APP_mode", "value": "slow"}]
        }));
        assert_eq!(
            got,
            pairs(&[
                ("APP_level", "3"),
                ("APP_mode", "slow"),
                ("password", "s3cret")
            ])
        );
    }

    #[test]
    fn values_expand_variables_defined_before_them_and_the_command_sees_all() {
        let got = run(json!({
            "envFrom": [{"configMapRef": {"name": "app"}}],
            "env": [
                {"name": "LATER_REF", "value": "$(B)"},
                {"name": "A", "value": "a-$(mode)"},
                {"name": "B", "value": "$(A)-b $$(A) $(UNKNOWN)"}],
            "command": ["sh", "-c", "echo $(B) $$(A) $(LATER_REF) $HOME"],
            "args": ["$(level)"]
        }))
        .unwrap();
        assert_eq!(
            got.env[2..],
            pairs(&[
                ("LATER_REF", "$(B)"),
                ("A", "a-fast"),
                ("B", "a-fast-b $(A) $(UNKNOWN)"),
            ])[..]
        );
        assert_eq!(
            got.command,
            ["sh", "-c", "echo a-fast-b $(A) $(UNKNOWN) $(A) $(B) $HOME"]
        );
        assert_eq!(got.args, ["3"]);
    }

    #[test]
    fn a_missing_object_or_key_fails_with_the_kubelets_words() {
        let table = [
            (
                json!({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}]}),
                "configmap \"nope\" not found",
            ),
            (
                json!({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "app", "key": "k"}}}]}),
                "couldn't find key k in ConfigMap default/app",
            ),
            (
                json!({"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "user"}}}]}),
                "couldn't find key user in Secret default/creds",
            ),
            (
                json!({"envFrom": [{"secretRef": {"name": "vault"}}]}),
                "secret \"vault\" not found",
            ),
            (
                json!({"env": [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.nope"}}}]}),
                "unsupported fieldPath: spec.nope",
            ),
        ];
        for (c, want) in table {
            assert_eq!(run(c.clone()).unwrap_err(), want, "{c}");
        }
    }
}
