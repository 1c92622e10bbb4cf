//! The built-in `nginx`: a static HTTP server listening on port 80 of the pod's network
//! namespace, serving `/usr/share/nginx/html` of the container (its writable layer, where
//! nginx's default pages are written, or the volume mounted there), and printing nginx's
//! `combined` access log lines to the container's stdout.

use super::output::Tee;
use crate::logs::Stream;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const HTML: &str = "/usr/share/nginx/html";

const INDEX: &str = "<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href=\"http://nginx.org/\">nginx.org</a>.<br/>
Commercial support is available at
<a href=\"http://nginx.com/\">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
";

const ERROR_50X: &str = "<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
</body>
</html>
";

/// The pages the nginx image ships.
pub fn default_files() -> Vec<(String, String)> {
    vec![
        (format!("{HTML}/index.html"), INDEX.to_string()),
        (format!("{HTML}/50x.html"), ERROR_50X.to_string()),
    ]
}

/// Where the served directory is on this node: a volume mounted at (or above) it, else the
/// container's writable layer.
pub fn html_dir(
    mounts: &[crate::runtime::Mount],
    volumes: &HashMap<String, PathBuf>,
    upper: &Path,
) -> PathBuf {
    let html = Path::new(HTML);
    let best = mounts
        .iter()
        .filter_map(|m| {
            let p = super::spawn::container_path(&m.path)?;
            let rest = html.strip_prefix(&p).ok()?;
            let source = super::sub_path_source(volumes.get(&m.volume)?, m).ok()?;
            Some((p.components().count(), source.join(rest)))
        })
        .max_by_key(|(depth, _)| *depth);
    match best {
        Some((_, dir)) => dir,
        None => upper.join(html.strip_prefix("/").unwrap_or(html)),
    }
}

/// A listening socket on `port` in the network namespace of `holder`.
pub fn listen(holder: libc::pid_t, port: u16) -> std::io::Result<std::net::TcpListener> {
    super::exec::in_netns(holder, move || {
        std::net::TcpListener::bind(("0.0.0.0", port))
    })
}

/// `06/Dec/2026:10:20:03 +0000`.
fn time_local(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let s = apimachinery::clock::rfc3339(UNIX_EPOCH + Duration::from_secs(secs));
    // 2026-12-06T10:20:03Z
    let month = s
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| {
            [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ]
            .get(m.wrapping_sub(1))
            .copied()
        })
        .unwrap_or("Jan");
    format!(
        "{}/{}/{}:{} +0000",
        s.get(8..10).unwrap_or("01"),
        month,
        s.get(0..4).unwrap_or("1970"),
        s.get(11..19).unwrap_or("00:00:00")
    )
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" => "application/javascript",
        "json" => "application/json",
        "txt" => "text/plain",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn error_page(status: StatusCode, version: &str) -> String {
    let line = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    format!(
        "<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n<center><h1>{line}</h1></center>\r\n<hr><center>nginx/{version}</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// Answer one request from the files under `root`.
fn respond(
    root: &Path,
    method: &hyper::Method,
    path: &str,
    version: &str,
) -> Response<Full<Bytes>> {
    let page = |status: StatusCode| {
        let body = error_page(status, version);
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut().insert(
            "content-type",
            hyper::header::HeaderValue::from_static("text/html"),
        );
        r
    };
    if method != hyper::Method::GET && method != hyper::Method::HEAD {
        return page(StatusCode::METHOD_NOT_ALLOWED);
    }
    let Some(decoded) = percent_decode(path) else {
        return page(StatusCode::BAD_REQUEST);
    };
    let mut file = root.to_path_buf();
    for c in Path::new(&decoded).components() {
        match c {
            Component::Normal(n) => file.push(n),
            Component::RootDir | Component::CurDir => {}
            _ => return page(StatusCode::BAD_REQUEST),
        }
    }
    if file.is_dir() {
        if !decoded.ends_with('/') {
            let mut r = page(StatusCode::MOVED_PERMANENTLY);
            if let Ok(v) = hyper::header::HeaderValue::from_str(&format!("{decoded}/")) {
                r.headers_mut().insert("location", v);
            }
            return r;
        }
        file.push("index.html");
        // nginx without autoindex: a directory with no index page is 403 Forbidden (an empty
        // volume mounted over the html directory, as in the walkthrough's StatefulSet).
        if !file.exists() {
            return page(StatusCode::FORBIDDEN);
        }
    }
    // Files only inside the served directory: a symlink must not lead out of it (this
    // server runs in kube-lite's own process, which sees the host).
    let inside = match (file.canonicalize(), root.canonicalize()) {
        (Ok(f), Ok(r)) => f.starts_with(&r).then_some(f),
        _ => None,
    };
    let Some(real) = inside else {
        return page(StatusCode::NOT_FOUND);
    };
    match std::fs::read(&real) {
        Ok(body) => {
            let mut r = Response::new(Full::new(Bytes::from(if method == hyper::Method::HEAD {
                Vec::new()
            } else {
                body
            })));
            r.headers_mut().insert(
                "content-type",
                hyper::header::HeaderValue::from_static(content_type(&real)),
            );
            r
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => page(StatusCode::FORBIDDEN),
        Err(_) => page(StatusCode::NOT_FOUND),
    }
}

/// Serve until `stop` fires (SIGTERM) or its sender is dropped (the container is killed).
pub fn serve(
    listener: std::net::TcpListener,
    root: PathBuf,
    version: String,
    log: Tee,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let log = Arc::new(Mutex::new(log));
    rt.block_on(async move {
        if listener.set_nonblocking(true).is_err() {
            return;
        }
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            return;
        };
        let root = Arc::new(root);
        let version = Arc::new(version);
        let mut stop = stop;
        loop {
            let (stream, peer) = tokio::select! {
                _ = &mut stop => break,
                a = listener.accept() => match a {
                    Ok(a) => a,
                    Err(_) => continue,
                },
            };
            let root = root.clone();
            let log = log.clone();
            let version = version.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let r = respond(&root, req.method(), req.uri().path(), &version);
                        access_log(&log, peer, &req, &r);
                        let mut r = r;
                        if let Ok(v) =
                            hyper::header::HeaderValue::from_str(&format!("nginx/{version}"))
                        {
                            r.headers_mut().insert("server", v);
                        }
                        async move { Ok::<_, std::convert::Infallible>(r) }
                    });
                let io = hyper_util::rt::TokioIo::new(stream);
                // A client that shuts down its sending side after the request still gets the
                // answer, as from nginx (and as `kubectl port-forward` relays a local client).
                let _ = hyper::server::conn::http1::Builder::new()
                    .half_close(true)
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
}

/// `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
/// "$http_referer" "$http_user_agent" "$http_x_forwarded_for"` (the image's `main` format).
fn access_log(
    log: &Mutex<Tee>,
    peer: SocketAddr,
    req: &Request<hyper::body::Incoming>,
    resp: &Response<Full<Bytes>>,
) {
    use hyper::body::Body;
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string()
    };
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let line = format!(
        "{} - - [{}] \"{} {} {:?}\" {} {} \"{}\" \"{}\" \"{}\"",
        peer.ip(),
        time_local(SystemTime::now()),
        req.method(),
        target,
        req.version(),
        resp.status().as_u16(),
        resp.body().size_hint().exact().unwrap_or(0),
        header("referer"),
        header("user-agent"),
        header("x-forwarded-for"),
    );
    log.lock().unwrap_or_else(|e| e.into_inner()).line(
        SystemTime::now(),
        Stream::Stdout,
        line.as_bytes(),
        false,
    );
}

/// nginx's version as the `Server` header says it: the image tag when it is one.
pub fn version_of(tag: Option<&str>) -> String {
    match tag {
        Some(t) if t.starts_with(|c: char| c.is_ascii_digit()) => {
            t.split('-').next().unwrap_or(t).to_string()
        }
        _ => "1.27.3".to_string(),
    }
}
