//! Writing responses: content negotiation (plain JSON, `as=Table`, `as=PartialObjectMetadata`),
//! single objects, lists assembled from stored bytes without re-parsing, and watch streams.

use crate::kinds::Kind;
use crate::registry::{ListPage, WatchFrame};
use crate::table::{self, IncludeObject};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, Bytes, BytesMut};
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::SystemTime;
use storage::Stored;
use tokio::sync::mpsc;

/// What representation the client asked for in `Accept`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representation {
    Object,
    Table,
    Metadata,
}

impl Representation {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let accept = headers
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // The first listed media type we can serve wins, as the apiserver's negotiation does.
        for part in accept.split(',') {
            let p = part.replace(' ', "");
            if p.contains("as=Table") && p.contains("g=meta.k8s.io") {
                return Representation::Table;
            }
            if p.contains("as=PartialObjectMetadata") && p.contains("g=meta.k8s.io") {
                return Representation::Metadata;
            }
            if p.starts_with("application/json") || p.starts_with("*/*") || p.is_empty() {
                return Representation::Object;
            }
        }
        Representation::Object
    }
}

pub fn json_response(code: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = (code, body.into()).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

pub fn value_response(code: StatusCode, v: &Value) -> Response {
    json_response(code, serde_json::to_vec(v).unwrap_or_default())
}

/// A stored object as `PartialObjectMetadata` (metadata watches of every pod are what the
/// garbage collector runs on, so nothing is parsed into a tree).
fn partial_metadata(stored: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&table::PartialMetadata::of(stored)).unwrap_or_default()
}

/// One object in the requested representation.
pub fn object(
    kind: &Kind,
    code: StatusCode,
    stored: Stored,
    rep: Representation,
    include: IncludeObject,
    now: SystemTime,
) -> Response {
    match rep {
        Representation::Object => json_response(code, stored.bytes),
        Representation::Metadata => json_response(code, partial_metadata(&stored.bytes)),
        Representation::Table => {
            let meta = json!({"resourceVersion": stored.rv.to_string()});
            let table = table::table(kind, [&stored.bytes[..]], meta, include, now, true);
            json_response(code, table)
        }
    }
}

fn list_meta(page: &ListPage) -> Value {
    let mut m = json!({"resourceVersion": page.rv.to_string()});
    if let Some(c) = &page.continue_token {
        m["continue"] = json!(c);
        if let Some(r) = page.remaining {
            m["remainingItemCount"] = json!(r);
        }
    }
    m
}

/// A list in the requested representation. Plain lists are assembled from the stored bytes.
pub fn list(
    kind: &Kind,
    page: ListPage,
    rep: Representation,
    include: IncludeObject,
    now: SystemTime,
) -> Response {
    match rep {
        Representation::Object => {
            let head = json!({"kind": kind.list_kind(), "apiVersion": kind.api_version(), "metadata": list_meta(&page)});
            let head = serde_json::to_vec(&head).unwrap_or_default();
            let size: usize = page
                .items
                .iter()
                .map(|(_, s)| s.bytes.len() + 1)
                .sum::<usize>()
                + head.len()
                + 16;
            let mut buf = BytesMut::with_capacity(size);
            buf.put_slice(&head[..head.len() - 1]);
            buf.put_slice(b",\"items\":[");
            for (i, (_, s)) in page.items.iter().enumerate() {
                if i > 0 {
                    buf.put_u8(b',');
                }
                buf.put_slice(&s.bytes);
            }
            buf.put_slice(b"]}");
            json_response(StatusCode::OK, buf.freeze())
        }
        Representation::Metadata => {
            #[derive(serde::Serialize)]
            struct List<'a> {
                kind: &'static str,
                #[serde(rename = "apiVersion")]
                api_version: &'static str,
                metadata: Value,
                items: Vec<table::PartialMetadata<'a>>,
            }
            let list = List {
                kind: "PartialObjectMetadataList",
                api_version: "meta.k8s.io/v1",
                metadata: list_meta(&page),
                items: page
                    .items
                    .iter()
                    .map(|(_, s)| table::PartialMetadata::of(&s.bytes))
                    .collect(),
            };
            json_response(
                StatusCode::OK,
                serde_json::to_vec(&list).unwrap_or_default(),
            )
        }
        Representation::Table => {
            let objs = page.items.iter().map(|(_, s)| &s.bytes[..]);
            let table = table::table(kind, objs, list_meta(&page), include, now, true);
            json_response(StatusCode::OK, table)
        }
    }
}

/// A watch stream: one JSON event per line, chunked.
pub fn watch_stream(
    kind: &'static Kind,
    rx: mpsc::Receiver<WatchFrame>,
    rep: Representation,
    include: IncludeObject,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
) -> Response {
    let mut first_table = true;
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx).map(move |frame| {
        let mut buf = BytesMut::new();
        match frame {
            WatchFrame::Event { kind: t, object } => {
                buf.put_slice(b"{\"type\":\"");
                buf.put_slice(t.as_bytes());
                buf.put_slice(b"\",\"object\":");
                match rep {
                    Representation::Table if t != "BOOKMARK" => {
                        let rv = table::resource_version(&object).unwrap_or_default();
                        let tbl = table::table(
                            kind,
                            [&object[..]],
                            json!({"resourceVersion": rv}),
                            include,
                            clock.now(),
                            first_table,
                        );
                        first_table = false;
                        buf.put_slice(&tbl);
                    }
                    Representation::Metadata if t != "BOOKMARK" => {
                        buf.put_slice(&partial_metadata(&object));
                    }
                    _ => buf.put_slice(&object),
                }
                buf.put_slice(b"}\n");
            }
            WatchFrame::Error(e) => {
                let ev = json!({"type": "ERROR", "object": e.status()});
                buf.put_slice(&serde_json::to_vec(&ev).unwrap_or_default());
                buf.put_u8(b'\n');
            }
        }
        Ok::<Bytes, std::io::Error>(buf.freeze())
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r.headers_mut().insert(
        "cache-control",
        HeaderValue::from_static("no-cache, private"),
    );
    r
}
