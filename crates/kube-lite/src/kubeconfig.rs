//! Writing the kubeconfig: a standalone file, or a `kube-lite` cluster/user/context merged
//! into `$KUBECONFIG` (its first file) or `~/.kube/config` and made current, as kind does.
//! Files are written with mode 0600.

use anyhow::Context;
use serde_yaml::{Mapping, Value};
use std::path::{Path, PathBuf};

pub const CONTEXT: &str = "kube-lite";

/// Where a merged kubeconfig goes: the first `$KUBECONFIG` entry, else `~/.kube/config`.
pub fn default_path() -> PathBuf {
    if let Some(kc) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        if let Some(first) = std::env::split_paths(&kc).find(|p| !p.as_os_str().is_empty()) {
            return first;
        }
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".kube").join("config")
}

/// Replace (or append) the entry called `name` in the list `key` of a kubeconfig.
fn upsert(doc: &mut Mapping, key: &str, name: &str, entry_key: &str, entry: Value) {
    let list = doc
        .entry(Value::from(key))
        .or_insert_with(|| Value::Sequence(Vec::new()));
    if !list.is_sequence() {
        *list = Value::Sequence(Vec::new());
    }
    let seq = list.as_sequence_mut().expect("sequence");
    let mut item = Mapping::new();
    item.insert(Value::from("name"), Value::from(name));
    item.insert(Value::from(entry_key), entry);
    match seq
        .iter_mut()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
    {
        Some(existing) => *existing = Value::Mapping(item),
        None => seq.push(Value::Mapping(item)),
    }
}

/// Merge the kube-lite entries for `server` into a kubeconfig document.
pub fn merge(existing: Option<&str>, server: &str) -> anyhow::Result<String> {
    let mut doc: Mapping = match existing.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => {
            serde_yaml::from_str(text).context("the existing kubeconfig is not valid YAML")?
        }
        None => Mapping::new(),
    };
    doc.insert(Value::from("apiVersion"), Value::from("v1"));
    doc.insert(Value::from("kind"), Value::from("Config"));
    let mut cluster = Mapping::new();
    cluster.insert(Value::from("server"), Value::from(server));
    upsert(
        &mut doc,
        "clusters",
        CONTEXT,
        "cluster",
        Value::Mapping(cluster),
    );
    upsert(
        &mut doc,
        "users",
        CONTEXT,
        "user",
        Value::Mapping(Mapping::new()),
    );
    let mut ctx = Mapping::new();
    ctx.insert(Value::from("cluster"), Value::from(CONTEXT));
    ctx.insert(Value::from("user"), Value::from(CONTEXT));
    upsert(
        &mut doc,
        "contexts",
        CONTEXT,
        "context",
        Value::Mapping(ctx),
    );
    doc.insert(Value::from("current-context"), Value::from(CONTEXT));
    doc.entry(Value::from("preferences"))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    Ok(serde_yaml::to_string(&doc)?)
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("kube-lite.tmp");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Write the kubeconfig; returns the file written.
pub fn write(server: &str, standalone: Option<&Path>) -> anyhow::Result<PathBuf> {
    let (path, existing) = match standalone {
        Some(p) => (p.to_path_buf(), None),
        None => {
            let p = default_path();
            let text = std::fs::read_to_string(&p).ok();
            (p, text)
        }
    };
    let text = merge(existing.as_deref(), server)?;
    write_private(&path, &text)
        .with_context(|| format!("cannot write the kubeconfig {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_other_clusters_and_makes_kube_lite_current() {
        let existing = "apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster:\n    server: https://x\ncontexts:\n- name: other\n  context:\n    cluster: other\n    user: other\ncurrent-context: other\nusers:\n- name: other\n  user: {}\n";
        let out = merge(Some(existing), "http://127.0.0.1:9999").unwrap();
        let doc: Value = serde_yaml::from_str(&out).unwrap();
        assert_eq!(doc["current-context"], Value::from("kube-lite"));
        let clusters = doc["clusters"].as_sequence().unwrap();
        assert_eq!(clusters.len(), 2);
        assert_eq!(
            clusters[1]["cluster"]["server"],
            Value::from("http://127.0.0.1:9999")
        );
    }

    #[test]
    fn merge_replaces_a_previous_kube_lite_entry() {
        let first = merge(None, "http://127.0.0.1:1").unwrap();
        let second = merge(Some(&first), "http://127.0.0.1:2").unwrap();
        let doc: Value = serde_yaml::from_str(&second).unwrap();
        assert_eq!(doc["clusters"].as_sequence().unwrap().len(), 1);
        assert_eq!(
            doc["clusters"][0]["cluster"]["server"],
            Value::from("http://127.0.0.1:2")
        );
    }

    #[test]
    fn written_kubeconfig_is_private() {
        let dir = std::env::temp_dir().join(format!("kube-lite-kc-{}", std::process::id()));
        let path = dir.join("config");
        write("http://127.0.0.1:3", Some(&path)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
