//! HTTP handlers of the OpenAPI endpoints, with kube-apiserver's caching headers: every
//! document has a quoted `ETag` (its content hash) and answers `If-None-Match` with 304; a v3
//! group-version document asked for with the current `?hash=` is `Cache-Control: public,
//! immutable` (a stale hash is redirected to the current URL). The media type is negotiated as
//! kube-openapi does (the `Accept` clauses by quality, the first offer a clause matches): v3
//! documents are JSON only (a client accepting nothing but protobuf gets 406); `/openapi/v2`
//! is JSON or gnostic's protobuf, which client-go's `OpenAPISchema()` asks for alone.

use super::{documents, v2_document, v2_protobuf_document, Document};
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

const JSON: &str = "application/json";
/// The protobuf media type client-go asks for (`@` is not a MIME token character, so Go's
/// `mime.ParseMediaType` rejects it: kube-apiserver answers with [`PROTOBUF_V2`]).
const PROTOBUF_V2_DEPRECATED: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
const PROTOBUF_V2: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// Which of `offers` (media types, in the server's order of preference) answers an `Accept`
/// header (absent or empty = `*/*`): clauses are tried by descending quality (`q=0` refuses),
/// then the more specific first, then in order; the first offer a clause matches wins.
fn negotiate(accept: Option<&str>, offers: &[&str]) -> Option<usize> {
    let accept = accept
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("*/*");
    let mut clauses: Vec<(f32, u8, usize, &str)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(i, clause)| {
            let mut parts = clause.split(';');
            let media = parts.next()?.trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let wildcards = media.split('/').filter(|p| *p == "*").count() as u8;
            (q > 0.0 && media.contains('/')).then_some((q, wildcards, i, media))
        })
        .collect();
    clauses.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    clauses.iter().find_map(|(_, _, _, media)| {
        let (ty, sub) = media.split_once('/')?;
        offers.iter().position(|offer| {
            let (oty, osub) = offer.split_once('/').unwrap_or((offer, ""));
            (ty == "*" || ty.eq_ignore_ascii_case(oty))
                && (sub == "*" || sub.eq_ignore_ascii_case(osub))
        })
    })
}

fn accept(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())
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

/// A document (of media type `content_type`) with its ETag, or 304 when the client has it.
fn document(doc: &Document, headers: &HeaderMap, content_type: &'static str) -> Response {
    let etag = format!("\"{}\"", doc.hash);
    let mut r = if etag_matches(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = (StatusCode::OK, doc.bytes.clone()).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// `GET /openapi/v3`: the group-versions and their documents' URLs.
pub async fn index(headers: HeaderMap) -> Response {
    document(&documents().await.index, &headers, JSON)
}

/// `GET /openapi/v3/<api/v1 | apis/<group>/<version>>`.
pub async fn group(Path(gv): Path<String>, uri: Uri, headers: HeaderMap) -> Response {
    let docs = documents().await;
    let gv = gv.trim_matches('/');
    let Some(doc) = docs.groups.get(gv) else {
        return crate::error::ApiError::page_not_found().into_response();
    };
    if negotiate(accept(&headers), &[JSON]).is_none() {
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
    let mut r = document(doc, &headers, JSON);
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

/// `GET /openapi/v2`: the swagger 2.0 document, as JSON (the default) or gnostic's protobuf.
pub async fn v2(headers: HeaderMap) -> Response {
    let offers = [JSON, PROTOBUF_V2_DEPRECATED, PROTOBUF_V2];
    let mut r = match negotiate(accept(&headers), &offers) {
        None => return not_acceptable(),
        Some(0) => document(v2_document().await, &headers, JSON),
        Some(_) => document(v2_protobuf_document().await, &headers, PROTOBUF_V2),
    };
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
        let r = call("/openapi/v2", &[("accept", PROTOBUF_V2_DEPRECATED)]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], PROTOBUF_V2);
        assert_eq!(r.headers()["etag"], v2.headers()["etag"]);
        let r = call("/openapi/v2", &[("accept", "application/yaml")]).await;
        assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
    }

    #[test]
    fn accept_headers_pick_the_offer_kube_openapi_would() {
        let v2 = [JSON, PROTOBUF_V2_DEPRECATED, PROTOBUF_V2];
        let cases: &[(Option<&str>, &[&str], Option<usize>)] = &[
            (None, &v2, Some(0)),
            (Some(""), &v2, Some(0)),
            (Some("*/*"), &v2, Some(0)),
            (Some("application/*"), &v2, Some(0)),
            (Some(PROTOBUF_V2_DEPRECATED), &v2, Some(1)),
            (Some(PROTOBUF_V2), &v2, Some(2)),
            (Some("application/json, */*"), &v2, Some(0)),
            (
                Some(&format!("{PROTOBUF_V2_DEPRECATED}, application/json")),
                &v2,
                Some(1),
            ),
            (
                Some(&format!("application/json;q=0.5, {PROTOBUF_V2}")),
                &v2,
                Some(2),
            ),
            (Some(&format!("*/*, {PROTOBUF_V2}")), &v2, Some(2)),
            (Some("application/json;q=0"), &v2, None),
            (Some("application/yaml"), &v2, None),
            (Some(PROTOBUF_V2_DEPRECATED), &[JSON], None),
            (Some("text/html, */*;q=0.8"), &[JSON], Some(0)),
        ];
        for (accept, offers, want) in cases {
            assert_eq!(
                negotiate(*accept, offers),
                *want,
                "{accept:?} of {offers:?}"
            );
        }
    }
}
