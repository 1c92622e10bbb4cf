//! HTTP handlers of the OpenAPI endpoints, with kube-apiserver's caching headers: every
//! document has a quoted `ETag` (its content hash) and answers `If-None-Match` with 304; a v3
//! group-version document asked for with the current `?hash=` is `Cache-Control: public,
//! immutable` (a stale hash is redirected to the current URL). Only JSON is served: a client
//! accepting nothing but protobuf gets 406, as from a server without that format.

use super::{documents, v2_document, Document};
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// Whether the `Accept` header admits JSON (absent = anything).
fn accepts_json(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|part| {
        let media = part.split(';').next().unwrap_or("").trim();
        matches!(media, "application/json" | "application/*" | "*/*")
    })
}

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        })
}

fn not_acceptable() -> Response {
    let mut r = StatusCode::NOT_ACCEPTABLE.into_response();
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    r
}

/// A document with its ETag, or 304 when the client has it.
fn document(doc: &Document, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", doc.hash);
    let mut r = if etag_matches(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = (StatusCode::OK, doc.bytes.clone()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// `GET /openapi/v3`: the group-versions and their documents' URLs.
pub async fn index(headers: HeaderMap) -> Response {
    document(&documents().await.index, &headers)
}

/// `GET /openapi/v3/<api/v1 | apis/<group>/<version>>`.
pub async fn group(Path(gv): Path<String>, uri: Uri, headers: HeaderMap) -> Response {
    let docs = documents().await;
    let gv = gv.trim_matches('/');
    let Some(doc) = docs.groups.get(gv) else {
        return crate::error::ApiError::page_not_found().into_response();
    };
    if !accepts_json(&headers) {
        return not_acceptable();
    }
    let hash = uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "hash")
            .map(|(_, v)| v.into_owned())
    });
    if let Some(h) = hash.as_deref().filter(|h| !h.is_empty()) {
        if h != doc.hash {
            let mut r = StatusCode::MOVED_PERMANENTLY.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/openapi/v3/{gv}?hash={}", doc.hash)) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            return r;
        }
    }
    let mut r = document(doc, &headers);
    let h = r.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    if hash.is_some_and(|x| !x.is_empty()) {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, immutable"),
        );
        let expires =
            httpdate(std::time::SystemTime::now() + std::time::Duration::from_secs(365 * 86400));
        if let Ok(v) = HeaderValue::from_str(&expires) {
            h.insert(header::EXPIRES, v);
        }
    }
    r
}

/// `GET /openapi/v2`: the swagger 2.0 document, as JSON.
pub async fn v2(headers: HeaderMap) -> Response {
    if !accepts_json(&headers) {
        return not_acceptable();
    }
    let mut r = document(v2_document().await, &headers);
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    r
}

/// An HTTP date (`Mon, 02 Jan 2006 15:04:05 GMT`).
fn httpdate(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // `2006-01-02T15:04:05Z`
    let stamp = crate::clock::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    let field = |r: std::ops::Range<usize>| stamp.get(r).unwrap_or("00").to_string();
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MO: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month: usize = field(5..7).parse().unwrap_or(1);
    format!(
        "{}, {} {} {} {} GMT",
        WD[((secs / 86400) % 7) as usize],
        field(8..10),
        MO[month.clamp(1, 12) - 1],
        field(0..4),
        field(11..19),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_rfc1123() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_136_214_245);
        assert_eq!(httpdate(t), "Mon, 02 Jan 2006 15:04:05 GMT");
    }

    async fn call(path: &str, headers: &[(&str, &str)]) -> Response {
        use tower::ServiceExt;
        let registry = std::sync::Arc::new(crate::Registry::new(
            std::sync::Arc::new(storage::MemoryStorage::new()),
            std::sync::Arc::new(crate::clock::SystemClock),
        ));
        let mut req = axum::http::Request::builder().uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        crate::http::app(registry)
            .oneshot(req.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn documents_are_served_with_kube_apiserver_caching_headers() {
        let index = call("/openapi/v3", &[]).await;
        assert_eq!(index.status(), StatusCode::OK);
        let body = axum::body::to_bytes(index.into_body(), usize::MAX)
            .await
            .unwrap();
        let index: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap()
            .to_string();
        let hash = url.rsplit_once("hash=").unwrap().1.to_string();

        let doc = call(&url, &[("accept", "application/json")]).await;
        assert_eq!(doc.status(), StatusCode::OK);
        let h = doc.headers();
        assert_eq!(h["cache-control"], "public, immutable");
        assert_eq!(h["etag"], format!("\"{hash}\""));
        assert_eq!(h["content-type"], "application/json");

        let plain = call("/openapi/v3/apis/apps/v1", &[]).await;
        assert!(plain.headers().get("cache-control").is_none());
        let stale = call("/openapi/v3/apis/apps/v1?hash=OLD", &[]).await;
        assert_eq!(stale.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(stale.headers()["location"], url.as_str());
        let etag = format!("\"{hash}\"");
        let cached = call("/openapi/v3/apis/apps/v1", &[("if-none-match", &etag)]).await;
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
        let proto = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf";
        let r = call(&url, &[("accept", proto)]).await;
        assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
        assert_eq!(
            call("/openapi/v3/apis/nope/v1", &[]).await.status(),
            StatusCode::NOT_FOUND
        );

        let v2 = call("/openapi/v2", &[("accept", "application/json")]).await;
        assert_eq!(v2.status(), StatusCode::OK);
        assert!(v2.headers().get("etag").is_some());
        let proto = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
        let r = call("/openapi/v2", &[("accept", proto)]).await;
        assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
    }

    #[test]
    fn protobuf_only_accept_is_not_json() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/com.github.proto-openapi.spec.v2@v1.0+protobuf"),
        );
        assert!(!accepts_json(&h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, */*"),
        );
        assert!(accepts_json(&h));
        assert!(accepts_json(&HeaderMap::new()));
    }
}
