//! API discovery built from the kinds table: the legacy documents (`APIVersions`,
//! `APIGroupList`, `APIGroup`, `APIResourceList`) and the aggregated `apidiscovery.k8s.io/v2`
//! `APIGroupDiscoveryList` that kubectl 1.35 asks for first.

use crate::kinds::{Kind, KindTable, Subresource};
use axum::http::HeaderMap;
use serde_json::{json, Value};

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Groups in the order kube-apiserver lists them (the core group is served at `/api`).
fn groups(kinds: &KindTable) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for k in kinds.iter() {
        if !k.group.is_empty() && !out.contains(&(k.group, k.version)) {
            out.push((k.group, k.version));
        }
    }
    out
}

fn in_group<'a>(
    kinds: &'a KindTable,
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static Kind> + 'a {
    kinds
        .iter()
        .filter(move |k| k.group == group && k.version == version)
}

fn sub_name(s: Subresource) -> &'static str {
    s.name()
}

fn sub_verbs(s: Subresource) -> &'static [&'static str] {
    match s {
        Subresource::Status | Subresource::Scale => &["get", "patch", "update"],
        Subresource::Binding => &["create"],
        Subresource::Finalize => &["update"],
        Subresource::Log => &["get"],
        Subresource::Exec | Subresource::Attach | Subresource::PortForward => &["create", "get"],
    }
}

/// (group, version, kind) a subresource answers with.
fn sub_kind(k: &Kind, s: Subresource) -> (&'static str, &'static str, &'static str) {
    match s {
        Subresource::Scale => ("autoscaling", "v1", "Scale"),
        Subresource::Binding => ("", "v1", "Binding"),
        Subresource::Exec => ("", "v1", "PodExecOptions"),
        Subresource::Attach => ("", "v1", "PodAttachOptions"),
        Subresource::PortForward => ("", "v1", "PodPortForwardOptions"),
        _ => (k.group, k.version, k.kind),
    }
}

/// `APIResourceList` for one group/version.
pub fn resource_list(kinds: &KindTable, group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for k in in_group(kinds, group, version) {
        let mut r = json!({
            "name": k.plural, "singularName": k.singular, "namespaced": k.namespaced,
            "kind": k.kind, "verbs": VERBS,
        });
        if !k.short_names.is_empty() {
            r["shortNames"] = json!(k.short_names);
        }
        if !k.categories.is_empty() {
            r["categories"] = json!(k.categories);
        }
        resources.push(r);
        for s in k.subresources {
            let (g, v, kind) = sub_kind(k, *s);
            let mut r = json!({"name": format!("{}/{}", k.plural, sub_name(*s)), "singularName": "",
                "namespaced": k.namespaced, "kind": kind, "verbs": sub_verbs(*s)});
            if g != group || v != version {
                r["group"] = json!(g);
                r["version"] = json!(v);
            }
            resources.push(r);
        }
    }
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

fn group_doc(group: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `APIGroup` for `/apis/<group>`.
pub fn api_group(kinds: &KindTable, group: &str) -> Option<Value> {
    let (g, v) = groups(kinds).into_iter().find(|(g, _)| *g == group)?;
    let mut doc = group_doc(g, v);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

pub fn api_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]})
}

pub fn api_group_list(kinds: &KindTable) -> Value {
    let groups: Vec<Value> = groups(kinds)
        .into_iter()
        .map(|(g, v)| group_doc(g, v))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Whether the client asked for the aggregated discovery document.
pub fn wants_aggregated(headers: &HeaderMap) -> bool {
    headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("as=APIGroupDiscoveryList") && a.contains("v=v2"))
}

pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn aggregated_resource(k: &Kind) -> Value {
    let mut r = json!({
        "resource": k.plural,
        "responseKind": {"group": k.group, "version": k.version, "kind": k.kind},
        "scope": if k.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": k.singular,
        "verbs": VERBS,
    });
    if !k.short_names.is_empty() {
        r["shortNames"] = json!(k.short_names);
    }
    if !k.categories.is_empty() {
        r["categories"] = json!(k.categories);
    }
    if !k.subresources.is_empty() {
        let subs: Vec<Value> = k
            .subresources
            .iter()
            .map(|s| {
                let (g, v, kind) = sub_kind(k, *s);
                json!({"subresource": sub_name(*s), "responseKind": {"group": g, "version": v, "kind": kind},
                       "verbs": sub_verbs(*s)})
            })
            .collect();
        r["subresources"] = json!(subs);
    }
    r
}

fn aggregated_group(kinds: &KindTable, group: &str, version: &str) -> Value {
    let resources: Vec<Value> = in_group(kinds, group, version)
        .map(aggregated_resource)
        .collect();
    json!({"metadata": {"name": group}, "versions": [{"version": version, "resources": resources, "freshness": "Current"}]})
}

/// The aggregated document for `/api` (core) or `/apis` (every other group).
pub fn aggregated(kinds: &KindTable, core: bool) -> Value {
    let items: Vec<Value> = if core {
        vec![aggregated_group(kinds, "", "v1")]
    } else {
        groups(kinds)
            .into_iter()
            .map(|(g, v)| aggregated_group(kinds, g, v))
            .collect()
    };
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_resource_list_has_scale_subresource_in_autoscaling() {
        let kinds = KindTable::builtin();
        let doc = resource_list(&kinds, "apps", "v1").unwrap();
        let scale = doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(scale["group"], "autoscaling");
        assert_eq!(scale["kind"], "Scale");
    }

    #[test]
    fn aggregated_core_group_lists_pods_with_short_name_and_category() {
        let doc = aggregated(&KindTable::builtin(), true);
        let pods = doc["items"][0]["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "pods")
            .unwrap()
            .clone();
        assert_eq!(pods["shortNames"], json!(["po"]));
        assert_eq!(pods["categories"], json!(["all"]));
        assert_eq!(pods["scope"], "Namespaced");
    }
}
