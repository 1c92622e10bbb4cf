//! Client configuration as kubectl resolves it: `--kubeconfig`, else every file of
//! `$KUBECONFIG` merged (first definition of a name wins, first `current-context` wins),
//! else `~/.kube/config`; `--context`, `--server`, `-n`; no configuration at all means
//! `http://localhost:8080`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use serde_json::{json, Map, Value};

/// Connection flags shared by every command.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub server: Option<String>,
    pub namespace: Option<String>,
}

/// The merged kubeconfig (v1 shape, as JSON) and the files it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub config: Value,
    pub files: Vec<PathBuf>,
}

/// The files kubectl would read, in precedence order.
pub fn config_files(flag: Option<&Path>) -> Vec<PathBuf> {
    if let Some(p) = flag {
        return vec![p.to_path_buf()];
    }
    if let Some(list) = std::env::var_os("KUBECONFIG") {
        return std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
    }
    home_dir()
        .map(|h| vec![h.join(".kube").join("config")])
        .unwrap_or_default()
}

pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// Reads and merges the kubeconfig files. A `--kubeconfig` file must exist; `$KUBECONFIG`
/// entries and `~/.kube/config` that do not exist are skipped.
pub fn load(flag: Option<&Path>) -> Result<Loaded> {
    let mut docs = Vec::new();
    let mut files = Vec::new();
    for path in config_files(flag) {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let doc: Value = if text.trim().is_empty() {
                    json!({})
                } else {
                    serde_yaml::from_str(&text).with_context(|| {
                        format!("error loading config file \"{}\"", path.display())
                    })?
                };
                docs.push(doc);
                files.push(path);
            }
            Err(e) if flag.is_none() && e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(anyhow!(
                    "stat {}: {}",
                    path.display(),
                    if e.kind() == std::io::ErrorKind::NotFound {
                        "no such file or directory".to_string()
                    } else {
                        e.to_string()
                    }
                ))
            }
        }
    }
    Ok(Loaded {
        config: merge(&docs),
        files,
    })
}

/// Merges kubeconfig documents as client-go's loader does: for `clusters`, `users` and
/// `contexts` the first file naming an entry wins; `current-context` and `preferences` come
/// from the first file that sets them. Entries keep first-seen order.
pub fn merge(docs: &[Value]) -> Value {
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!("v1"));
    out.insert("kind".into(), json!("Config"));
    for list in ["clusters", "contexts", "users"] {
        let mut merged: Vec<Value> = Vec::new();
        for doc in docs {
            for entry in doc
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = entry.get("name").and_then(Value::as_str).unwrap_or("");
                if !merged
                    .iter()
                    .any(|e| e.get("name").and_then(Value::as_str) == Some(name))
                {
                    merged.push(entry.clone());
                }
            }
        }
        out.insert(list.into(), Value::Array(merged));
    }
    let current = docs
        .iter()
        .filter_map(|d| d.get("current-context").and_then(Value::as_str))
        .find(|s| !s.is_empty())
        .unwrap_or("");
    out.insert("current-context".into(), json!(current));
    let prefs = docs
        .iter()
        .filter_map(|d| d.get("preferences"))
        .find(|p| p.as_object().is_some_and(|m| !m.is_empty()))
        .cloned()
        .unwrap_or(json!({}));
    out.insert("preferences".into(), prefs);
    Value::Object(out)
}

fn named<'a>(config: &'a Value, list: &str, name: &str) -> Option<&'a Value> {
    config
        .get(list)?
        .as_array()?
        .iter()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
}

/// What a command connects to.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub server: String,
    pub namespace: String,
    /// Whether `-n` was given (or the context sets a namespace).
    pub context_name: String,
    pub loaded: Loaded,
}

/// Resolves the server and namespace from the merged config and the flags.
pub fn resolve(flags: &Flags) -> Result<Resolved> {
    let loaded = load(flags.kubeconfig.as_deref())?;
    let cfg = &loaded.config;
    let context_name = flags
        .context
        .clone()
        .unwrap_or_else(|| cfg["current-context"].as_str().unwrap_or("").to_string());
    let context = if context_name.is_empty() {
        None
    } else {
        match named(cfg, "contexts", &context_name) {
            Some(c) => Some(c.get("context").cloned().unwrap_or(json!({}))),
            None if flags.context.is_some() => {
                return Err(crate::client::RawError(format!(
                    "Error in configuration: context was not found for specified context: {context_name}"
                ))
                .into())
            }
            None => None,
        }
    };
    let cluster = context
        .as_ref()
        .and_then(|c| c.get("cluster"))
        .and_then(Value::as_str)
        .and_then(|name| named(cfg, "clusters", name))
        .and_then(|c| c.get("cluster"));
    let server = flags
        .server
        .clone()
        .or_else(|| {
            cluster
                .and_then(|c| c.get("server"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "http://localhost:8080".to_string());
    // client-go: a server without a scheme is https only when TLS is configured.
    let tls = cluster.is_some_and(|c| {
        c.get("certificate-authority-data").is_some() || c.get("certificate-authority").is_some()
    });
    let server = if server.contains("://") {
        server
    } else if tls {
        format!("https://{server}")
    } else {
        format!("http://{server}")
    };
    let namespace = flags
        .namespace
        .clone()
        .or_else(|| {
            context
                .as_ref()
                .and_then(|c| c.get("namespace"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "default".to_string());
    Ok(Resolved {
        server,
        namespace,
        context_name,
        loaded,
    })
}

/// kubectl's discovery cache directory for a server: `<cache>/discovery/<host_port>`.
pub fn discovery_cache_dir(server: &str) -> Option<PathBuf> {
    let base = std::env::var_os("KUBECACHEDIR")
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|h| h.join(".kube").join("cache")))?;
    let host = server
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(server);
    let safe: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '/' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Some(base.join("discovery").join(safe.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(cluster: &str, server: &str, current: &str) -> Value {
        json!({
            "clusters": [{"name": cluster, "cluster": {"server": server}}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": "u", "namespace": format!("ns-{cluster}")}}],
            "users": [{"name": "u", "user": {}}],
            "current-context": current
        })
    }

    #[test]
    fn merged_kubeconfigs_keep_the_first_definition_of_each_name_and_first_current_context() {
        let a = cfg("one", "http://a:1", "one");
        let mut b = cfg("one", "http://b:2", "two");
        b["clusters"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "two", "cluster": {"server": "http://two:3"}}));
        let m = merge(&[a, b]);
        assert_eq!(m["current-context"], "one");
        assert_eq!(m["clusters"][0]["cluster"]["server"], "http://a:1");
        assert_eq!(m["clusters"][1]["name"], "two");
        assert_eq!(m["users"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn kubeconfig_env_lists_several_files_and_flags_override_server_and_namespace() {
        let dir = tempfile::tempdir().unwrap();
        let f1 = dir.path().join("a");
        let f2 = dir.path().join("b");
        std::fs::write(
            &f1,
            serde_yaml::to_string(&cfg("one", "http://a:1", "")).unwrap(),
        )
        .unwrap();
        std::fs::write(
            &f2,
            serde_yaml::to_string(&cfg("two", "http://b:2", "two")).unwrap(),
        )
        .unwrap();
        let loaded = load(Some(&f1)).unwrap();
        assert_eq!(loaded.files, vec![f1.clone()]);
        let merged = merge(&[
            serde_yaml::from_str(&std::fs::read_to_string(&f1).unwrap()).unwrap(),
            serde_yaml::from_str(&std::fs::read_to_string(&f2).unwrap()).unwrap(),
        ]);
        assert_eq!(merged["current-context"], "two");
        let flags = Flags {
            kubeconfig: Some(f2.clone()),
            namespace: Some("x".into()),
            ..Flags::default()
        };
        let r = resolve(&flags).unwrap();
        assert_eq!(
            (r.server.as_str(), r.namespace.as_str()),
            ("http://b:2", "x")
        );
        let flags = Flags {
            kubeconfig: Some(f2),
            server: Some("http://s:9".into()),
            ..Flags::default()
        };
        let r = resolve(&flags).unwrap();
        assert_eq!(
            (r.server.as_str(), r.namespace.as_str()),
            ("http://s:9", "ns-two")
        );
    }

    #[test]
    fn no_configuration_at_all_means_localhost_8080() {
        let merged = merge(&[]);
        assert_eq!(merged["current-context"], "");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        let r = resolve(&Flags {
            kubeconfig: Some(empty),
            ..Flags::default()
        })
        .unwrap();
        assert_eq!(r.server, "http://localhost:8080");
        assert_eq!(r.namespace, "default");
    }

    #[test]
    fn discovery_cache_lives_under_host_underscore_port() {
        let d = discovery_cache_dir("http://127.0.0.1:6443").unwrap();
        assert!(d.ends_with("discovery/127.0.0.1_6443"), "{d:?}");
    }
}
