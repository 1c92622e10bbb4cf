//! `kubectl get`: resource types (comma lists, categories, `type/name`), names, selectors,
//! all namespaces; server-side Tables rendered as kubectl does, or `-o json|yaml|name`.

use anyhow::{anyhow, Result};
use http::Method;
use serde_json::{json, Map, Value};

use crate::client::{Api, ServerError, ACCEPT_JSON, ACCEPT_TABLE};
use crate::discovery::{Discovery, Resource};
use crate::table::{table_lines, tabwrite, TableOptions};
use crate::{gojson, goyaml, jsonpath, Ctx};

/// Options of `get`.
#[derive(Clone, Debug, Default)]
pub struct GetArgs {
    pub args: Vec<String>,
    pub output: Option<String>,
    pub selector: Option<String>,
    pub field_selector: Option<String>,
    pub all_namespaces: bool,
    pub show_labels: bool,
    pub show_managed_fields: bool,
    pub no_headers: bool,
    pub watch: bool,
    pub watch_only: bool,
    pub output_watch_events: bool,
}

/// One thing to fetch: a whole collection or one named object.
struct Request {
    resource: Resource,
    name: Option<String>,
}

/// Splits `get` arguments into requests as kubectl's resource builder does.
async fn plan(ctx: &Ctx, disc: &mut Discovery, args: &[String]) -> Result<(Vec<Request>, bool)> {
    let mut reqs = Vec::new();
    if args.is_empty() {
        return Err(anyhow!(
            "You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources."
        ));
    }
    let single_item_implied;
    if args.iter().all(|a| a.contains('/')) {
        single_item_implied = args.len() == 1;
        for a in args {
            let (t, n) = a.split_once('/').unwrap_or((a, ""));
            let r = disc.resolve(&ctx.api, t).await?;
            reqs.push(Request {
                resource: r,
                name: Some(n.to_string()),
            });
        }
    } else {
        let types = &args[0];
        let names = &args[1..];
        if names.iter().any(|n| n.contains('/')) {
            return Err(anyhow!(
                "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'"
            ));
        }
        let resources = disc.resolve_types(&ctx.api, types).await?;
        single_item_implied = names.len() == 1 && resources.len() == 1;
        for r in resources {
            if names.is_empty() {
                reqs.push(Request {
                    resource: r,
                    name: None,
                });
            } else {
                for n in names {
                    reqs.push(Request {
                        resource: r.clone(),
                        name: Some(n.clone()),
                    });
                }
            }
        }
    }
    Ok((reqs, single_item_implied))
}

fn query(a: &GetArgs, extra: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded_pairs(extra);
    if let Some(l) = &a.selector {
        q.push(("labelSelector", l.clone()));
    }
    if let Some(f) = &a.field_selector {
        q.push(("fieldSelector", f.clone()));
    }
    query_string(&q)
}

/// `?k=v&…` with the values percent-encoded; empty for no pairs.
pub fn query_string<K: AsRef<str>, V: AsRef<str>>(q: &[(K, V)]) -> String {
    let s: Vec<String> = q
        .iter()
        .map(|(k, v)| format!("{}={}", k.as_ref(), encode(v.as_ref())))
        .collect();
    if s.is_empty() {
        String::new()
    } else {
        format!("?{}", s.join("&"))
    }
}

fn form_urlencoded_pairs<'a>(extra: &[(&'a str, &str)]) -> Vec<(&'a str, String)> {
    extra.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

/// kubectl's JSON and YAML printers leave `metadata.managedFields` out unless asked
/// (`--show-managed-fields`); the other formats see the whole object.
pub fn omit_managed_fields(obj: &mut Value, output: &str) {
    if !matches!(output, "json" | "yaml") {
        return;
    }
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
}

/// Percent-encodes a query value.
pub fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Lists a collection, following `continue` tokens (kubectl's chunking with limit=500).
async fn list_all(api: &Api, path: &str, a: &GetArgs, accept: &str) -> Result<Value> {
    let mut cont = String::new();
    let mut merged: Option<Value> = None;
    loop {
        let mut extra = vec![("limit", "500")];
        // A row's object is read only for the NAMESPACE and LABELS columns; without them
        // the server need not send every object's metadata (managedFields and all).
        if accept == ACCEPT_TABLE && !a.all_namespaces && !a.show_labels {
            extra.push(("includeObject", "None"));
        }
        if !cont.is_empty() {
            extra.push(("continue", cont.as_str()));
        }
        let page = api
            .json(
                Method::GET,
                &format!("{path}{}", query(a, &extra)),
                accept,
                None,
            )
            .await?;
        let next = page["metadata"]["continue"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let key = if page["kind"] == "Table" {
            "rows"
        } else {
            "items"
        };
        match &mut merged {
            None => merged = Some(page),
            Some(m) => {
                let more = page[key].as_array().cloned().unwrap_or_default();
                if let Some(arr) = m[key].as_array_mut() {
                    arr.extend(more);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        cont = next;
    }
    Ok(merged.unwrap_or(Value::Null))
}

pub async fn run(ctx: &mut Ctx, a: &GetArgs) -> Result<i32> {
    if a.watch || a.watch_only {
        return crate::watch::run(ctx, a).await;
    }
    let mut disc = Discovery::load(&ctx.api).await?;
    let (reqs, single_item_implied) = plan(ctx, &mut disc, &a.args).await?;
    let output = a.output.clone().unwrap_or_default();
    let ns = ctx.namespace.clone();
    let mut errors: Vec<String> = Vec::new();
    let human = output.is_empty() || output == "wide";
    if human {
        // Fetch everything first: kubectl prefixes names with their kind when the objects it
        // got (lists, even empty, and found named objects) span more than one kind.
        let mut results = Vec::new();
        for r in &reqs {
            let res = &r.resource;
            let list_ns = (!a.all_namespaces).then_some(ns.as_str());
            let result = match &r.name {
                None => list_all(&ctx.api, &res.collection(list_ns), a, ACCEPT_TABLE).await,
                Some(n) => {
                    ctx.api
                        .json(Method::GET, &res.object(&ns, n), ACCEPT_TABLE, None)
                        .await
                }
            };
            results.push(result);
        }
        let kinds: std::collections::BTreeSet<(String, String)> = reqs
            .iter()
            .zip(&results)
            .filter(|(_, res)| res.is_ok())
            .map(|(r, _)| (r.resource.group.clone(), r.resource.kind.clone()))
            .collect();
        let with_kind = kinds.len() > 1;
        let mut out_lines: Vec<Vec<String>> = Vec::new();
        let mut text = String::new();
        let mut last: Option<String> = None;
        let mut printed_rows = false;
        let mut total_rows = 0usize;
        for (r, result) in reqs.iter().zip(results) {
            let res = &r.resource;
            let table = match result {
                Ok(t) => t,
                Err(e) => {
                    errors.push(error_text(&e, res, r.name.as_deref()));
                    continue;
                }
            };
            let rows = table["rows"].as_array().map(Vec::len).unwrap_or(0);
            if rows == 0 {
                continue;
            }
            let mapping = res.qualified();
            let new_table = last.as_deref() != Some(mapping.as_str());
            if new_table {
                // kubectl flushes its tabwriter for every new kind: tables align separately.
                text.push_str(&tabwrite(&out_lines));
                out_lines.clear();
                if printed_rows && !a.no_headers {
                    text.push('\n');
                }
            }
            let opts = TableOptions {
                wide: output == "wide",
                with_namespace: a.all_namespaces && res.namespaced,
                show_labels: a.show_labels,
                kind_prefix: with_kind.then(|| res.kind_prefix()),
                no_headers: a.no_headers,
            };
            out_lines.extend(table_lines(&table, &opts, new_table));
            last = Some(mapping);
            printed_rows = true;
            total_rows += rows;
        }
        text.push_str(&tabwrite(&out_lines));
        print!("{text}");
        if total_rows == 0 && errors.is_empty() {
            let all_namespaced = reqs.iter().all(|r| r.resource.namespaced);
            if !a.all_namespaces && all_namespaced {
                eprintln!("No resources found in {ns} namespace.");
            } else {
                eprintln!("No resources found");
            }
        }
    } else {
        let mut objects: Vec<Value> = Vec::new();
        for r in &reqs {
            let res = &r.resource;
            let list_ns = (!a.all_namespaces).then_some(ns.as_str());
            match &r.name {
                None => match list_all(&ctx.api, &res.collection(list_ns), a, ACCEPT_JSON).await {
                    Ok(list) => {
                        for mut item in list["items"].as_array().cloned().unwrap_or_default() {
                            if let Some(m) = item.as_object_mut() {
                                m.entry("apiVersion")
                                    .or_insert_with(|| json!(res.api_version()));
                                m.entry("kind").or_insert_with(|| json!(res.kind));
                            }
                            objects.push(item);
                        }
                    }
                    Err(e) => errors.push(error_text(&e, res, None)),
                },
                Some(n) => match ctx.api.get(&res.object(&ns, n)).await {
                    Ok(obj) => objects.push(obj),
                    Err(e) => errors.push(error_text(&e, res, Some(n))),
                },
            }
        }
        // kubectl's JSON and YAML printers leave managedFields out (unless
        // --show-managed-fields); jsonpath and custom-columns see them.
        if !a.show_managed_fields {
            for o in objects.iter_mut() {
                omit_managed_fields(o, &output);
            }
        }
        let doc = if single_item_implied && objects.len() == 1 {
            objects.pop().unwrap_or(Value::Null)
        } else {
            let mut meta = Map::new();
            // kubectl rebuilds the list for display and never carries the server's version.
            meta.insert("resourceVersion".into(), json!(""));
            json!({"apiVersion": "v1", "items": objects, "kind": "List", "metadata": meta})
        };
        let ok = !(errors.len() == reqs.len() && single_item_implied);
        if ok {
            match output.as_str() {
                "json" => print!("{}", gojson::to_string_pretty(&doc)),
                "yaml" => print!("{}", goyaml::to_string(&doc)),
                "name" => {
                    let items: Vec<&Value> = if doc["kind"] == "List" {
                        doc["items"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
                    } else {
                        vec![&doc]
                    };
                    for it in items {
                        println!("{}/{}", name_prefix(&disc, it), it["metadata"]["name"].as_str().unwrap_or(""));
                    }
                }
                other if other.starts_with("jsonpath=") => {
                    print!("{}", jsonpath::render_for_get(strip_quotes(&other["jsonpath=".len()..]), &doc)?)
                }
                other if other.starts_with("custom-columns=") => print!(
                    "{}",
                    jsonpath::custom_columns(&other["custom-columns=".len()..], &doc, a.no_headers)?
                ),
                other => {
                    return Err(anyhow!(
                        "unable to match a printer suitable for the output format \"{other}\", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
                    ))
                }
            }
        }
    }
    for e in &errors {
        eprintln!("{e}");
    }
    Ok(if errors.is_empty() { 0 } else { 1 })
}

/// kubectl drops one pair of quotes around a JSONPath template (`-o jsonpath='{...}'` typed
/// inside other quotes).
fn strip_quotes(t: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = t.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    t
}

/// `pod`, `deployment.apps` for an object, from its apiVersion and kind.
pub fn name_prefix(disc: &Discovery, obj: &Value) -> String {
    let api_version = obj["apiVersion"].as_str().unwrap_or("");
    let kind = obj["kind"].as_str().unwrap_or("");
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    disc.resources
        .iter()
        .find(|r| r.group == group && r.kind == kind)
        .map(Resource::kind_prefix)
        .unwrap_or_else(|| {
            if group.is_empty() {
                kind.to_lowercase()
            } else {
                format!("{}.{group}", kind.to_lowercase())
            }
        })
}

fn error_text(e: &anyhow::Error, _res: &Resource, _name: Option<&str>) -> String {
    if let Some(se) = e.downcast_ref::<ServerError>() {
        se.to_string()
    } else if let Some(raw) = e.downcast_ref::<crate::client::RawError>() {
        raw.to_string()
    } else {
        format!("error: {e}")
    }
}
