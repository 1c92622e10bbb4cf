//! `version`, `api-resources` and `config view|get-contexts|use-context|current-context`.

use anyhow::{anyhow, Result};
use serde_json::{json, Value};

use crate::config::{self, Flags};
use crate::discovery::{Discovery, Resource};
use crate::table::tabwrite;
use crate::{goyaml, Ctx};

pub fn client_version() {
    println!(
        "Client Version: v1.35.0-kubectl-lite.{}",
        env!("CARGO_PKG_VERSION")
    );
}

pub async fn version(ctx: &Ctx) -> Result<i32> {
    client_version();
    let v = ctx.api.get("/version?timeout=32s").await?;
    println!("Server Version: {}", v["gitVersion"].as_str().unwrap_or(""));
    Ok(0)
}

/// The rows of `api-resources`: each resource once (its preferred version), optionally only
/// the (non-)namespaced ones or those supporting `verb`, sorted by group then name.
pub fn served_resources<'a>(
    disc: &'a Discovery,
    namespaced: Option<bool>,
    verb: Option<&str>,
) -> Vec<&'a Resource> {
    let mut seen = std::collections::BTreeSet::new();
    let mut rows: Vec<&Resource> = disc
        .resources
        .iter()
        .filter(|r| seen.insert((r.group.clone(), r.resource.clone())))
        .filter(|r| namespaced.is_none_or(|n| n == r.namespaced))
        .filter(|r| verb.is_none_or(|v| r.verbs.iter().any(|x| x == v)))
        .collect();
    rows.sort_by(|a, b| a.group.cmp(&b.group).then(a.resource.cmp(&b.resource)));
    rows
}

pub async fn api_resources(
    ctx: &Ctx,
    namespaced: Option<bool>,
    no_headers: bool,
    output: Option<&str>,
) -> Result<i32> {
    let disc = Discovery::fetch(&ctx.api).await?;
    let rows = served_resources(&disc, namespaced, None);
    if output == Some("name") {
        for r in rows {
            println!("{}", r.qualified());
        }
        return Ok(0);
    }
    let wide = output == Some("wide");
    let mut lines = Vec::new();
    if !no_headers {
        let mut h: Vec<String> = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
            .map(String::from)
            .to_vec();
        if wide {
            h.push("VERBS".into());
            h.push("CATEGORIES".into());
        }
        lines.push(h);
    }
    for r in rows {
        let mut l = vec![
            r.resource.clone(),
            r.short_names.join(","),
            r.api_version(),
            r.namespaced.to_string(),
            r.kind.clone(),
        ];
        if wide {
            l.push(r.verbs.join(","));
            l.push(r.categories.join(","));
        }
        lines.push(l);
    }
    print!("{}", tabwrite(&lines));
    Ok(0)
}

fn sorted_by_name(v: &Value) -> Value {
    let mut items = v.as_array().cloned().unwrap_or_default();
    items.sort_by(|a, b| {
        a["name"]
            .as_str()
            .unwrap_or("")
            .cmp(b["name"].as_str().unwrap_or(""))
    });
    Value::Array(items)
}

fn redact(cfg: &mut Value) {
    for (list, field, key, text) in [
        (
            "clusters",
            "cluster",
            "certificate-authority-data",
            "DATA+OMITTED",
        ),
        ("users", "user", "client-certificate-data", "DATA+OMITTED"),
        ("users", "user", "client-key-data", "DATA+OMITTED"),
        ("users", "user", "token", "REDACTED"),
        ("users", "user", "password", "REDACTED"),
    ] {
        for e in cfg[list].as_array_mut().into_iter().flatten() {
            if let Some(v) = e[field].get_mut(key) {
                *v = json!(text);
            }
        }
    }
}

pub fn config_view(flags: &Flags, minify: bool, raw: bool) -> Result<i32> {
    let loaded = config::load(flags.kubeconfig.as_deref())?;
    let mut cfg = loaded.config;
    for list in ["clusters", "contexts", "users"] {
        cfg[list] = sorted_by_name(&cfg[list]);
    }
    if minify {
        let current = flags
            .context
            .clone()
            .unwrap_or_else(|| cfg["current-context"].as_str().unwrap_or("").to_string());
        let ctx = cfg["contexts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"] == current.as_str())
            .cloned()
            .ok_or_else(|| anyhow!("current-context must exist in order to minify"))?;
        let keep = |list: &str, name: &Value| -> Value {
            Value::Array(
                cfg[list]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|e| &e["name"] == name)
                    .cloned()
                    .collect(),
            )
        };
        let clusters = keep("clusters", &ctx["context"]["cluster"]);
        let users = keep("users", &ctx["context"]["user"]);
        cfg["clusters"] = clusters;
        cfg["users"] = users;
        cfg["contexts"] = json!([ctx]);
        cfg["current-context"] = json!(current);
    }
    if !raw {
        redact(&mut cfg);
    }
    if let Some(m) = cfg.as_object_mut() {
        if m["preferences"].as_object().is_some_and(|p| p.is_empty()) {
            m.remove("preferences");
        }
        for list in ["clusters", "contexts", "users"] {
            if m[list].as_array().is_some_and(Vec::is_empty) {
                m.insert(list.to_string(), Value::Null);
            }
        }
    }
    print!("{}", goyaml::to_string(&cfg));
    Ok(0)
}

pub fn get_contexts(flags: &Flags, no_headers: bool, output: Option<&str>) -> Result<i32> {
    let loaded = config::load(flags.kubeconfig.as_deref())?;
    let cfg = loaded.config;
    let current = cfg["current-context"].as_str().unwrap_or("");
    let contexts = sorted_by_name(&cfg["contexts"]);
    let contexts = contexts.as_array().cloned().unwrap_or_default();
    if output == Some("name") {
        for c in &contexts {
            println!("{}", c["name"].as_str().unwrap_or(""));
        }
        return Ok(0);
    }
    let mut lines = Vec::new();
    if !no_headers {
        lines.push(
            ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
                .map(String::from)
                .to_vec(),
        );
    }
    for c in &contexts {
        let name = c["name"].as_str().unwrap_or("");
        let s = |k: &str| c["context"][k].as_str().unwrap_or("").to_string();
        lines.push(vec![
            if name == current { "*" } else { "" }.to_string(),
            name.to_string(),
            s("cluster"),
            s("user"),
            s("namespace"),
        ]);
    }
    print!("{}", tabwrite(&lines));
    Ok(0)
}

pub fn use_context(flags: &Flags, name: &str) -> Result<i32> {
    let loaded = config::load(flags.kubeconfig.as_deref())?;
    let exists = loaded.config["contexts"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["name"] == name);
    if !exists {
        return Err(anyhow!("no context exists with the name: \"{name}\""));
    }
    let target = loaded
        .files
        .first()
        .cloned()
        .or_else(|| {
            config::config_files(flags.kubeconfig.as_deref())
                .into_iter()
                .next()
        })
        .ok_or_else(|| anyhow!("no kubeconfig file to modify"))?;
    let mut doc: Value = std::fs::read_to_string(&target)
        .ok()
        .and_then(|t| serde_yaml::from_str(&t).ok())
        .unwrap_or_else(|| json!({"apiVersion": "v1", "kind": "Config"}));
    doc["current-context"] = json!(name);
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&target, goyaml::to_string(&doc))?;
    println!("Switched to context \"{name}\".");
    Ok(0)
}

pub fn current_context(flags: &Flags) -> Result<i32> {
    let loaded = config::load(flags.kubeconfig.as_deref())?;
    match loaded.config["current-context"]
        .as_str()
        .filter(|s| !s.is_empty())
    {
        Some(c) => {
            println!("{c}");
            Ok(0)
        }
        None => Err(anyhow!("current-context is not set")),
    }
}
