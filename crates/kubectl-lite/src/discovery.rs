//! Resource kinds from aggregated discovery (`/api`, `/apis` as `APIGroupDiscoveryList`),
//! cached under kubectl's discovery cache directory with a TTL and refreshed when a name
//! does not resolve. No per-kind table lives in the client.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, Result};
use http::Method;
use serde_json::{json, Value};

use crate::client::{Api, ACCEPT_DISCOVERY};
use crate::config::discovery_cache_dir;

const TTL: Duration = Duration::from_secs(6 * 3600);
const CACHE_FILE: &str = "kubectl-lite-aggregated.json";

/// One served resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub resource: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub verbs: Vec<String>,
    pub categories: Vec<String>,
    pub subresources: Vec<String>,
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods`, `deployments.apps`: the name kubectl uses in messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// `pod`, `deployment.apps`: the `-o name` / `created` prefix.
    pub fn kind_prefix(&self) -> String {
        let k = self.kind.to_lowercase();
        if self.group.is_empty() {
            k
        } else {
            format!("{k}.{}", self.group)
        }
    }

    /// The collection path, in `ns` when namespaced (None: all namespaces).
    pub fn collection(&self, ns: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match (self.namespaced, ns) {
            (true, Some(ns)) => format!("{base}/namespaces/{ns}/{}", self.resource),
            _ => format!("{base}/{}", self.resource),
        }
    }

    pub fn object(&self, ns: &str, name: &str) -> String {
        format!("{}/{}", self.collection(Some(ns)), name)
    }
}

/// The served resources, in discovery order (preferred versions first).
pub struct Discovery {
    pub resources: Vec<Resource>,
    fresh: bool,
}

fn parse(doc: &Value, out: &mut Vec<Resource>) {
    for group in doc["items"].as_array().into_iter().flatten() {
        let gname = group["metadata"]["name"].as_str().unwrap_or("");
        for version in group["versions"].as_array().into_iter().flatten() {
            let v = version["version"].as_str().unwrap_or("");
            for r in version["resources"].as_array().into_iter().flatten() {
                let strs = |key: &str| -> Vec<String> {
                    r[key]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                };
                out.push(Resource {
                    group: gname.to_string(),
                    version: v.to_string(),
                    resource: r["resource"].as_str().unwrap_or("").to_string(),
                    singular: r["singularResource"].as_str().unwrap_or("").to_string(),
                    kind: r["responseKind"]["kind"].as_str().unwrap_or("").to_string(),
                    namespaced: r["scope"] == "Namespaced",
                    short_names: strs("shortNames"),
                    verbs: strs("verbs"),
                    categories: strs("categories"),
                    subresources: r["subresources"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| s["subresource"].as_str().map(str::to_string))
                        .collect(),
                });
            }
        }
    }
}

fn cache_path(api: &Api) -> Option<PathBuf> {
    discovery_cache_dir(&api.server).map(|d| d.join(CACHE_FILE))
}

impl Discovery {
    pub fn from_documents(core: &Value, groups: &Value) -> Discovery {
        let mut resources = Vec::new();
        parse(core, &mut resources);
        parse(groups, &mut resources);
        Discovery {
            resources,
            fresh: true,
        }
    }

    /// The cached document when younger than the TTL, else a fresh one (then cached).
    pub async fn load(api: &Api) -> Result<Discovery> {
        if let Some(path) = cache_path(api) {
            let young = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age < TTL);
            if young {
                if let Ok(text) = std::fs::read(&path) {
                    if let Ok(v) = serde_json::from_slice::<Value>(&text) {
                        let mut d = Discovery::from_documents(&v["api"], &v["apis"]);
                        d.fresh = false;
                        return Ok(d);
                    }
                }
            }
        }
        Discovery::fetch(api).await
    }

    pub async fn fetch(api: &Api) -> Result<Discovery> {
        let (core, groups) = tokio::try_join!(
            api.json(Method::GET, "/api?timeout=32s", ACCEPT_DISCOVERY, None),
            api.json(Method::GET, "/apis?timeout=32s", ACCEPT_DISCOVERY, None)
        )
        .inspect_err(|e| log_refused(api, e))?;
        if core["kind"] != "APIGroupDiscoveryList" {
            return Err(anyhow!(
                "the server does not serve aggregated discovery (apidiscovery.k8s.io/v2)"
            ));
        }
        if let Some(path) = cache_path(api) {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            let doc = json!({"api": core, "apis": groups});
            if std::fs::write(&tmp, serde_json::to_vec(&doc)?).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
        Ok(Discovery::from_documents(&core, &groups))
    }

    /// Resolves a name as kubectl's REST mapper does: plural, singular, short name or kind,
    /// optionally qualified as `name.group` or `name.version.group`.
    pub fn find(&self, name: &str) -> Option<&Resource> {
        let lower = name.to_lowercase();
        let matches = |r: &Resource, n: &str| {
            r.resource == n
                || r.singular == n
                || r.kind.to_lowercase() == n
                || r.short_names.iter().any(|s| s == n)
        };
        let unqualified = self.resources.iter().find(|r| matches(r, &lower));
        if unqualified.is_some() {
            return unqualified;
        }
        let (head, rest) = lower.split_once('.')?;
        self.resources.iter().find(|r| {
            matches(r, head) && (r.group == rest || format!("{}.{}", r.version, r.group) == rest)
        })
    }

    /// Like [`Discovery::find`], refetching once (when the cache was used) before giving up.
    pub async fn resolve(&mut self, api: &Api, name: &str) -> Result<Resource> {
        if let Some(r) = self.find(name) {
            return Ok(r.clone());
        }
        if !self.fresh {
            *self = Discovery::fetch(api).await?;
            if let Some(r) = self.find(name) {
                return Ok(r.clone());
            }
        }
        Err(anyhow!(
            "the server doesn't have a resource type \"{name}\""
        ))
    }

    /// The resources a comma-separated type argument names (`pods,deploy`, `all`): each type
    /// by name, else by category, else resolved with a refetch (its error names the type).
    pub async fn resolve_types(&mut self, api: &Api, types: &str) -> Result<Vec<Resource>> {
        let mut resources = Vec::new();
        for t in types.split(',').filter(|t| !t.is_empty()) {
            if let Some(r) = self.find(t).cloned() {
                resources.push(r);
                continue;
            }
            let cat = self.category(t);
            if cat.is_empty() {
                resources.push(self.resolve(api, t).await?);
            } else {
                resources.extend(cat);
            }
        }
        Ok(resources)
    }

    /// The resources listed for a category name such as `all`.
    pub fn category(&self, name: &str) -> Vec<Resource> {
        self.resources
            .iter()
            .filter(|r| r.categories.iter().any(|c| c == name))
            .cloned()
            .collect()
    }
}

/// kubectl (client-go's memcache discovery, retrying) logs a refused connection five times
/// through klog before its own message; kubectl-lite prints the same lines.
fn log_refused(api: &Api, e: &anyhow::Error) {
    let Some(raw) = e.downcast_ref::<crate::client::RawError>() else {
        return;
    };
    if !raw.0.starts_with("The connection to the server") {
        return;
    }
    let base = api.server.trim_end_matches('/');
    let hostport = base.split_once("://").map_or(base, |(_, h)| h);
    for _ in 0..5 {
        eprintln!(
            "{} memcache.go:265] \"Unhandled Error\" err=\"couldn't get current server API group list: Get \\\"{base}/api?timeout=32s\\\": dial tcp {hostport}: connect: connection refused\"",
            klog_header('E')
        );
    }
}

/// klog's line header: `E1203 17:53:37.010769   21349` (UTC).
fn klog_header(severity: char) -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719468;
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    format!(
        "{severity}{month:02}{day:02} {:02}:{:02}:{:02}.{:06} {:>7}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_micros(),
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_by_plural_singular_short_name_kind_and_group() {
        let core = json!({"items":[{"metadata":{"name":""},"versions":[{"version":"v1","resources":[
            {"resource":"pods","singularResource":"pod","shortNames":["po"],"scope":"Namespaced",
             "responseKind":{"group":"","version":"v1","kind":"Pod"},"verbs":["get"]}]}]}]});
        let groups = json!({"items":[{"metadata":{"name":"apps"},"versions":[{"version":"v1","resources":[
            {"resource":"deployments","singularResource":"deployment","shortNames":["deploy"],"scope":"Namespaced",
             "responseKind":{"group":"apps","version":"v1","kind":"Deployment"},"categories":["all"]}]}]}]});
        let d = Discovery::from_documents(&core, &groups);
        for n in ["pods", "pod", "po", "Pod"] {
            assert_eq!(d.find(n).unwrap().resource, "pods");
        }
        for n in [
            "deploy",
            "deployments.apps",
            "deployment.v1.apps",
            "Deployment",
        ] {
            assert_eq!(d.find(n).unwrap().kind_prefix(), "deployment.apps");
        }
        assert!(d.find("foo").is_none());
        assert_eq!(d.category("all").len(), 1);
        assert_eq!(
            d.find("deploy").unwrap().object("ns", "x"),
            "/apis/apps/v1/namespaces/ns/deployments/x"
        );
    }
}
