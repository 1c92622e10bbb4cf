//! `kubectl get -w / --watch-only [--output-watch-events]`: the current Table, then one
//! row per event of a Table watch, printed as kubectl's table printer does in watch mode
//! (headers once per column set, remembered column widths, an EVENT column on request);
//! with `-o json|yaml|name|jsonpath=` each object (or `{"type", "object"}` event) as
//! kubectl's printers print a stream of objects.

use anyhow::{anyhow, Result};
use http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::Value;

use crate::client::{ServerError, ACCEPT_JSON, ACCEPT_TABLE};
use crate::discovery::Discovery;
use crate::get::{encode, GetArgs};
use crate::table::{table_lines, tabwrite_remembering, TableOptions};
use crate::{gojson, goyaml, jsonpath, Ctx};

/// kubectl's `HumanReadablePrinter` state across watch events.
#[derive(Default)]
pub struct WatchPrinter {
    last_columns: Option<Value>,
    printed_headers: bool,
    widths: Vec<usize>,
}

impl WatchPrinter {
    /// Takes the columns of a table that is not printed (a suppressed event).
    pub fn remember_columns(&mut self, table: &Value) {
        let columns = &table["columnDefinitions"];
        if columns.as_array().is_some_and(|c| !c.is_empty()) && self.last_columns.is_none() {
            self.last_columns = Some(columns.clone());
        }
    }

    /// The text for one Table (the initial list, or one event's): headers only when the
    /// columns are new; rows prefixed by the event type when `event` is given.
    pub fn print(&mut self, table: &Value, event: Option<&str>, opts: &TableOptions) -> String {
        let mut table = table.clone();
        let columns = table["columnDefinitions"].clone();
        let no_columns = columns.as_array().is_none_or(Vec::is_empty);
        let mut no_headers = opts.no_headers;
        if self.printed_headers && (no_columns || Some(&columns) == self.last_columns.as_ref()) {
            no_headers = true;
        }
        if no_columns {
            table["columnDefinitions"] = self.last_columns.clone().unwrap_or(Value::Null);
        } else if Some(&columns) != self.last_columns.as_ref() {
            self.last_columns = Some(columns);
            self.printed_headers = false;
        }
        let rows = table["rows"].as_array().map_or(0, Vec::len);
        if rows > 0 {
            self.printed_headers = true;
        } else {
            // kubectl prints no header for a table without rows.
            return String::new();
        }
        let opts = TableOptions {
            no_headers,
            ..opts.clone()
        };
        let mut lines = table_lines(&table, &opts, true);
        if let Some(event) = event {
            // kubectl pads the event types to eight characters.
            let event = format!("{event:<8}");
            for (i, line) in lines.iter_mut().enumerate() {
                let cell = if i == 0 && !no_headers {
                    "EVENT"
                } else {
                    &event
                };
                line.insert(0, cell.to_string());
            }
        }
        tabwrite_remembering(&lines, &mut self.widths)
    }
}

/// How watched objects are printed.
enum Printer {
    Table(WatchPrinter, TableOptions),
    /// `-o json|yaml|name|jsonpath=`; `printed` counts objects (YAML separates them).
    Objects {
        format: String,
        printed: usize,
        show_managed_fields: bool,
    },
}

impl Printer {
    fn print(&mut self, disc: &Discovery, obj: &Value, event: Option<&str>) -> Result<String> {
        match self {
            Printer::Table(p, opts) => Ok(p.print(obj, event, opts)),
            Printer::Objects {
                format,
                printed,
                show_managed_fields,
            } => {
                *printed += 1;
                // kubectl's printer leaves managedFields out of the object itself; inside a
                // watch event (`--output-watch-events`) they stay.
                if event.is_none() && !*show_managed_fields {
                    let mut obj = obj.clone();
                    crate::get::omit_managed_fields(&mut obj, format);
                    return object_text(disc, format, &obj, event, *printed);
                }
                object_text(disc, format, obj, event, *printed)
            }
        }
    }
}

/// One object of a watch stream in a non-table format.
fn object_text(
    disc: &Discovery,
    format: &str,
    obj: &Value,
    event: Option<&str>,
    count: usize,
) -> Result<String> {
    Ok(match format {
        "json" => match event {
            // kubectl writes a watch event as one compact line, `type` before `object`.
            Some(t) => format!(
                "{{\"type\":{},\"object\":{}}}\n",
                gojson::to_string_compact(&Value::String(t.to_string())),
                gojson::to_string_compact(obj)
            ),
            None => gojson::to_string_pretty(obj),
        },
        "yaml" => {
            let doc = match event {
                Some(t) => serde_json::json!({"type": t, "object": obj}),
                None => obj.clone(),
            };
            let sep = if count > 1 { "---\n" } else { "" };
            format!("{sep}{}", goyaml::to_string(&doc))
        }
        "name" => format!(
            "{}/{}\n",
            crate::get::name_prefix(disc, obj),
            obj["metadata"]["name"].as_str().unwrap_or("")
        ),
        other => match other.strip_prefix("jsonpath=") {
            Some(t) => {
                let doc = match event {
                    Some(ty) => serde_json::json!({"type": ty, "object": obj}),
                    None => obj.clone(),
                };
                jsonpath::render_for_get(t, &doc)?
            }
            None => {
                return Err(anyhow!(
                    "unable to match a printer suitable for the output format \"{other}\", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
                ))
            }
        },
    })
}

pub async fn run(ctx: &mut Ctx, a: &GetArgs) -> Result<i32> {
    let mut disc = Discovery::load(&ctx.api).await?;
    let (types, name) = match a.args.as_slice() {
        [] => {
            return Err(anyhow!(
                "You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources."
            ))
        }
        [one] if one.contains('/') => {
            let (t, n) = one.split_once('/').unwrap_or((one, ""));
            (t.to_string(), Some(n.to_string()))
        }
        [t] => (t.clone(), None),
        [t, n] => (t.clone(), Some(n.clone())),
        _ => return Err(anyhow!("watch is only supported on individual resources and resource collections, but 2 resources were found")),
    };
    if types.contains(',') {
        return Err(anyhow!("you may only specify a single resource type"));
    }
    let res = disc.resolve(&ctx.api, &types).await?;
    let ns = ctx.namespace.clone();
    let list_ns = (!a.all_namespaces).then_some(ns.as_str());
    let collection = res.collection(list_ns);
    let mut query: Vec<(String, String)> = Vec::new();
    if let Some(l) = &a.selector {
        query.push(("labelSelector".into(), l.clone()));
    }
    let mut field_selector = a.field_selector.clone();
    let format = a.output.clone().unwrap_or_default();
    let table = format.is_empty() || format == "wide";
    let accept = if table { ACCEPT_TABLE } else { ACCEPT_JSON };
    let (initial, rv) = match &name {
        None => {
            let q = render_query(&query);
            let t = ctx
                .api
                .json(Method::GET, &format!("{collection}{q}"), accept, None)
                .await?;
            let rv = t["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("0")
                .to_string();
            (t, rv)
        }
        Some(n) => {
            let t = ctx
                .api
                .json(Method::GET, &res.object(&ns, n), accept, None)
                .await
                .map_err(|e| match e.downcast::<ServerError>() {
                    Ok(se) => anyhow::Error::new(se),
                    Err(e) => e,
                })?;
            let by_name = format!("metadata.name={n}");
            field_selector = Some(match field_selector {
                Some(f) => format!("{f},{by_name}"),
                None => by_name,
            });
            (t, "0".to_string())
        }
    };
    let opts = TableOptions {
        wide: a.output.as_deref() == Some("wide"),
        with_namespace: a.all_namespaces && res.namespaced,
        show_labels: a.show_labels,
        kind_prefix: None,
        no_headers: a.no_headers,
    };
    let event = a.output_watch_events.then_some("ADDED");
    let mut printer = if table {
        Printer::Table(WatchPrinter::default(), opts)
    } else {
        Printer::Objects {
            format: format.clone(),
            printed: 0,
            show_managed_fields: a.show_managed_fields,
        }
    };
    if !a.watch_only {
        if table {
            print!("{}", printer.print(&disc, &initial, event)?);
        } else {
            // A list prints item by item, each with the list's apiVersion and kind.
            let objects = match initial["items"].as_array() {
                Some(items) if name.is_none() => items
                    .iter()
                    .map(|i| {
                        let mut i = i.clone();
                        if let Some(m) = i.as_object_mut() {
                            m.entry("apiVersion")
                                .or_insert_with(|| Value::String(res.api_version()));
                            m.entry("kind")
                                .or_insert_with(|| Value::String(res.kind.clone()));
                        }
                        i
                    })
                    .collect(),
                _ => vec![initial.clone()],
            };
            for o in &objects {
                print!("{}", printer.print(&disc, o, event)?);
            }
        }
    }
    // A watch of one object starts with a synthetic ADDED event for what was just printed.
    let mut suppress_first = name.is_some();
    if let Some(f) = field_selector {
        query.push(("fieldSelector".into(), f));
    }
    query.push(("resourceVersion".into(), rv));
    query.push(("watch".into(), "true".into()));
    let req = Request::builder()
        .method(Method::GET)
        .uri(format!("{collection}{}", render_query(&query)))
        .header("accept", accept)
        .body(kube::client::Body::empty())?;
    let resp = ctx.api.send(req).await?;
    if !resp.status().is_success() {
        let code = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        return Err(ServerError::from_body(code, &body).into());
    }
    let mut body = resp.into_body();
    let mut buf: Vec<u8> = Vec::new();
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let frame = tokio::select! {
            _ = &mut interrupted => return Ok(1),
            f = body.frame() => f,
        };
        let Some(frame) = frame else { return Ok(0) };
        let Ok(data) = frame.map_err(|e| anyhow!("watch: {e}"))?.into_data() else {
            continue;
        };
        buf.extend_from_slice(&data);
        while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            let Ok(ev) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            let kind = ev["type"].as_str().unwrap_or("");
            if kind == "ERROR" {
                let msg = ev["object"]["message"].as_str().unwrap_or("").to_string();
                return Err(anyhow!("{msg}"));
            }
            if kind == "BOOKMARK" {
                continue;
            }
            if suppress_first {
                // Not printed, but its columns serve the next events (which have none).
                suppress_first = false;
                if let Printer::Table(p, _) = &mut printer {
                    p.remember_columns(&ev["object"]);
                }
                continue;
            }
            let event = a.output_watch_events.then_some(kind);
            print!("{}", printer.print(&disc, &ev["object"], event)?);
        }
    }
}

fn render_query(q: &[(String, String)]) -> String {
    if q.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = q
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(columns: bool, name: &str) -> Value {
        let cols = if columns {
            json!([{"name": "Name", "format": "name", "priority": 0}, {"name": "Ready", "priority": 0}])
        } else {
            json!([])
        };
        json!({"kind": "Table", "columnDefinitions": cols,
               "rows": [{"cells": [name, "1/1"], "object": {"metadata": {"name": name}}}]})
    }

    #[test]
    fn watch_rows_print_the_header_once_and_keep_the_widest_columns_seen() {
        let mut p = WatchPrinter::default();
        let opts = TableOptions::default();
        assert_eq!(
            p.print(&table(true, "a"), None, &opts),
            "NAME   READY\na      1/1\n"
        );
        assert_eq!(
            p.print(&table(false, "a-much-longer-name"), None, &opts),
            "a-much-longer-name   1/1\n"
        );
        assert_eq!(
            p.print(&table(true, "b"), None, &opts),
            "b                    1/1\n"
        );
    }

    #[test]
    fn output_watch_events_adds_an_event_column() {
        let mut p = WatchPrinter::default();
        let opts = TableOptions::default();
        assert_eq!(
            p.print(&table(true, "a"), Some("ADDED"), &opts),
            "EVENT      NAME   READY\nADDED      a      1/1\n"
        );
        assert_eq!(
            p.print(&table(false, "a"), Some("DELETED"), &opts),
            "DELETED    a      1/1\n"
        );
    }

    #[test]
    fn an_empty_table_prints_nothing_and_the_first_row_brings_the_header() {
        let mut p = WatchPrinter::default();
        let opts = TableOptions::default();
        let empty = json!({"kind": "Table", "columnDefinitions": [{"name": "Name", "priority": 0}], "rows": []});
        assert_eq!(p.print(&empty, None, &opts), "");
        assert_eq!(
            p.print(
                &json!({"columnDefinitions": [], "rows": [{"cells": ["x"], "object": {}}]}),
                None,
                &opts
            ),
            "NAME\nx\n"
        );
    }
}
