//! Shared support for the apiserver's HTTP test suites: an in-process API server over memory
//! storage (served by axum on a loopback port from a background runtime), a small blocking
//! HTTP client speaking to it, URL helpers per kind, and a minimal valid sample of every kind.

#![allow(dead_code)] // each test binary uses its own subset

use apiserver::kinds::Kind;
use apiserver::Registry;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::Duration;
use storage::{MemoryStorage, Options, Storage};

/// The label every sample carries, so selectors can pick exactly the test's objects out of
/// cluster-scoped collections (which also hold the bootstrapped namespaces).
pub const SAMPLE_LABEL: &str = "sample=yes";

/// An API server running in this process over a fresh memory store.
pub struct Server {
    pub url: String,
    pub store: Arc<MemoryStorage>,
    pub registry: Arc<Registry>,
    agent: ureq::Agent,
    rt: Option<tokio::runtime::Runtime>,
}

/// A response: status code, body (JSON, or a string when it is not JSON) and headers.
#[derive(Debug)]
pub struct Resp {
    pub code: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Resp {
    /// Assert the status code, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, code: u16) -> Value {
        assert_eq!(self.code, code, "unexpected status; body: {}", self.body);
        self.body
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    /// A server with the default event retention.
    pub fn start() -> Server {
        Server::with_retention(storage::EVENT_RETENTION)
    }

    /// A server whose store keeps only the last `retention` events (for 410 Expired cases).
    pub fn with_retention(retention: usize) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let store = Arc::new(MemoryStorage::with_options(Options {
            retention,
            ..Options::default()
        }));
        let dyn_store: Arc<dyn Storage> = store.clone();
        let registry = Arc::new(Registry::new(
            dyn_store,
            Arc::new(apiserver::clock::SystemClock),
        ));
        let listener = rt.block_on(async {
            registry.bootstrap().await.expect("bootstrap");
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind")
        });
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let app = apiserver::app(registry.clone());
        rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Server {
            url,
            store,
            registry,
            agent,
            rt: Some(rt),
        }
    }

    /// The store's current resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.store.current_rv()
    }

    /// Send a request; a transport failure (the server dropped the connection, e.g. because a
    /// handler panicked) fails the test.
    #[track_caller]
    pub fn request(&self, method: &str, path: &str, ct: Option<&str>, body: &[u8]) -> Resp {
        let headers: Vec<(&str, &str)> = ct.map(|ct| ("content-type", ct)).into_iter().collect();
        self.request_with(method, path, &headers, body)
    }

    /// A GET with an `Accept` header (`as=Table`, `as=PartialObjectMetadata`, …).
    #[track_caller]
    pub fn get_as(&self, path: &str, accept: &str) -> Resp {
        self.request_with("GET", path, &[("accept", accept)], b"")
    }

    #[track_caller]
    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut b = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(body.to_vec()).expect("request");
        let mut resp = self
            .agent
            .run(req)
            .unwrap_or_else(|e| panic!("{method} {path}: transport error: {e}"));
        let code = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            code,
            body,
            headers,
        }
    }

    #[track_caller]
    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, None, b"")
    }

    #[track_caller]
    pub fn post(&self, path: &str, body: &Value) -> Resp {
        self.request(
            "POST",
            path,
            Some("application/json"),
            body.to_string().as_bytes(),
        )
    }

    #[track_caller]
    pub fn put(&self, path: &str, body: &Value) -> Resp {
        self.request(
            "PUT",
            path,
            Some("application/json"),
            body.to_string().as_bytes(),
        )
    }

    #[track_caller]
    pub fn merge_patch(&self, path: &str, patch: &Value) -> Resp {
        self.request(
            "PATCH",
            path,
            Some("application/merge-patch+json"),
            patch.to_string().as_bytes(),
        )
    }

    #[track_caller]
    pub fn json_patch(&self, path: &str, patch: &Value) -> Resp {
        self.request(
            "PATCH",
            path,
            Some("application/json-patch+json"),
            patch.to_string().as_bytes(),
        )
    }

    #[track_caller]
    pub fn delete(&self, path: &str) -> Resp {
        self.request("DELETE", path, None, b"")
    }

    #[track_caller]
    pub fn delete_with(&self, path: &str, opts: &Value) -> Resp {
        self.request(
            "DELETE",
            path,
            Some("application/json"),
            opts.to_string().as_bytes(),
        )
    }

    /// Open a watch (`path` includes `watch=true` and its options). Reading an event waits at
    /// most 10 s, so a missing event fails the test instead of hanging it.
    #[track_caller]
    pub fn watch(&self, path: &str) -> Watch {
        self.watch_as(path, "application/json")
    }

    /// A watch with an `Accept` header (`as=PartialObjectMetadata`, …).
    #[track_caller]
    pub fn watch_as(&self, path: &str, accept: &str) -> Watch {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_per_read(Some(Duration::from_secs(10)))
            .build()
            .into();
        let resp = agent
            .get(&format!("{}{path}", self.url))
            .header("accept", accept)
            .call()
            .unwrap_or_else(|e| panic!("watch {path}: {e}"));
        let code = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Watch {
            code,
            content_type,
            lines: Box::new(BufReader::new(resp.into_body().into_reader())),
            path: path.to_string(),
        }
    }

    /// Create the namespace `name` (and fail the test if that is refused).
    #[track_caller]
    pub fn create_namespace(&self, name: &str) {
        self.post("/api/v1/namespaces", &json!({"metadata": {"name": name}}))
            .expect(201);
    }

    /// A place to put objects of `kind`: its own namespace when it is namespaced.
    #[track_caller]
    pub fn scope(&self, kind: &'static Kind) -> Scope {
        let ns = kind.namespaced.then(|| namespace_for(kind));
        if let Some(ns) = &ns {
            if self.get(&format!("/api/v1/namespaces/{ns}")).code == 404 {
                self.create_namespace(ns);
            }
        }
        Scope { kind, ns }
    }

    /// Create `sample(kind, name)` (with `extra` merged into it) and return the stored object.
    #[track_caller]
    pub fn create(&self, s: &Scope, name: &str, extra: &Value) -> Value {
        let mut obj = sample(s.kind, name);
        json_patch::merge(&mut obj, extra);
        self.post(&s.collection(), &obj).expect(201)
    }

    /// Delete an object and see it gone: a pending deletion is completed by clearing its
    /// finalizers (and `spec.finalizers` through `/finalize`, for namespaces).
    #[track_caller]
    pub fn remove(&self, s: &Scope, name: &str) {
        let r = self.delete(&s.item(name));
        assert!(r.code == 200 || r.code == 202, "delete {name}: {r:?}");
        self.finish_deletion(s, name);
    }

    /// Complete the pending deletion of an object (if any) and check it is gone.
    #[track_caller]
    pub fn finish_deletion(&self, s: &Scope, name: &str) {
        let cur = self.get(&s.item(name));
        if cur.code == 200 {
            let fins = cur.body.pointer("/metadata/finalizers");
            if fins.is_some_and(|f| f.as_array().is_some_and(|a| !a.is_empty())) {
                self.merge_patch(&s.item(name), &json!({"metadata": {"finalizers": null}}))
                    .expect(200);
            }
            if s.kind.has(apiserver::kinds::Subresource::Finalize)
                && self.get(&s.item(name)).code == 200
            {
                let mut obj = self.get(&s.item(name)).expect(200);
                obj["spec"]["finalizers"] = json!([]);
                self.put(&format!("{}/finalize", s.item(name)), &obj)
                    .expect(200);
            }
        }
        self.get(&s.item(name)).expect(404);
    }

    /// Names of the items of a list response, in order.
    #[track_caller]
    pub fn list_names(&self, path: &str) -> Vec<String> {
        let body = self.get(path).expect(200);
        names(&body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// The names of a list's items.
pub fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect()
}

/// An open watch stream.
pub struct Watch {
    pub code: u16,
    pub content_type: String,
    lines: Box<dyn BufRead + Send>,
    path: String,
}

impl Watch {
    /// Assert the watch was accepted (200), showing the Status otherwise.
    #[track_caller]
    pub fn expect_ok(&mut self) {
        if self.code != 200 {
            let body = self.try_next();
            panic!("watch {} answered {}: {body:?}", self.path, self.code);
        }
    }

    /// The next event (`{"type": .., "object": ..}`); fails the test when the stream ends or
    /// stays silent for 10 s.
    #[track_caller]
    pub fn next_event(&mut self) -> Value {
        self.try_next()
            .unwrap_or_else(|| panic!("watch {}: the stream ended or went silent", self.path))
    }

    /// The next event, or None when the stream ended (or timed out).
    pub fn try_next(&mut self) -> Option<Value> {
        loop {
            let mut line = String::new();
            match self.lines.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) if line.trim().is_empty() => continue,
                Ok(_) => {
                    return Some(
                        serde_json::from_str(&line)
                            .unwrap_or_else(|e| panic!("watch line is not JSON ({e}): {line}")),
                    )
                }
            }
        }
    }

    /// Read events until one about `name` of type `ty` arrives; returns the events about
    /// `name` seen on the way (including that one).
    #[track_caller]
    pub fn until(&mut self, name: &str, ty: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let ev = self.next_event();
            if ev["object"]["metadata"]["name"] == name {
                let done = ev["type"] == ty;
                seen.push(ev);
                if done {
                    return seen;
                }
            }
        }
    }
}

/// `(type, name)` of an event.
pub fn ev_summary(ev: &Value) -> (String, String) {
    (
        ev["type"].as_str().unwrap_or("").to_string(),
        ev["object"]["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

/// The namespace a test puts a namespaced kind's objects in.
pub fn namespace_for(kind: &Kind) -> String {
    let group = kind.group.split('.').next().filter(|g| !g.is_empty());
    format!("ns-{}-{}", kind.plural, group.unwrap_or("core"))
}

/// Where a kind's objects live in one test: the kind and its namespace (None: cluster-scoped).
#[derive(Clone, Debug)]
pub struct Scope {
    pub kind: &'static Kind,
    pub ns: Option<String>,
}

impl Scope {
    /// The same kind in another namespace (namespaced kinds only).
    pub fn in_namespace(&self, ns: &str) -> Scope {
        assert!(self.kind.namespaced);
        Scope {
            kind: self.kind,
            ns: Some(ns.to_string()),
        }
    }

    pub fn collection(&self) -> String {
        collection_path(self.kind, self.ns.as_deref())
    }

    pub fn item(&self, name: &str) -> String {
        format!("{}/{name}", self.collection())
    }

    /// The collection URL with query parameters appended.
    pub fn query(&self, q: &str) -> String {
        format!("{}?{q}", self.collection())
    }
}

/// `/api/v1[/namespaces/<ns>]/<plural>` or `/apis/<group>/<version>[/namespaces/<ns>]/<plural>`.
pub fn collection_path(kind: &Kind, ns: Option<&str>) -> String {
    let root = if kind.group.is_empty() {
        format!("/api/{}", kind.version)
    } else {
        format!("/apis/{}/{}", kind.group, kind.version)
    };
    match ns {
        Some(ns) => format!("{root}/namespaces/{ns}/{}", kind.plural),
        None => format!("{root}/{}", kind.plural),
    }
}

/// Every kind the server serves, with a label for messages (`deployments.apps`).
pub fn kinds() -> Vec<&'static Kind> {
    apiserver::kinds::all()
}

pub fn label(kind: &Kind) -> String {
    if kind.group.is_empty() {
        kind.plural.to_string()
    } else {
        format!("{}.{}", kind.plural, kind.group)
    }
}

/// Run `f` for every kind `pick` selects, collecting failures so one broken kind does not hide
/// the others; fails listing every failing kind. At least one kind must be selected.
#[track_caller]
pub fn for_each_kind(pick: impl Fn(&Kind) -> bool, f: impl Fn(&'static Kind)) {
    let mut failed = Vec::new();
    let mut ran = 0;
    for kind in kinds().into_iter().filter(|k| pick(k)) {
        ran += 1;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(kind)));
        if let Err(e) = r {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {msg}", label(kind)));
        }
    }
    assert!(ran > 0, "no kind was selected");
    assert!(
        failed.is_empty(),
        "{} of {ran} kinds failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

pub fn all_kinds(_: &Kind) -> bool {
    true
}

fn pod_spec() -> Value {
    json!({"containers": [{"name": "c", "image": "busybox:1.36"}]})
}

fn template() -> Value {
    json!({"metadata": {"labels": {"app": "sample"}}, "spec": pod_spec()})
}

/// A minimal valid object of `kind` called `name`, labelled `sample=yes`.
pub fn sample(kind: &Kind, name: &str) -> Value {
    let body = match (kind.group, kind.kind) {
        ("", "Namespace") => json!({}),
        ("", "Pod") => json!({"spec": pod_spec()}),
        ("", "Service") => {
            json!({"spec": {"selector": {"app": "sample"}, "ports": [{"port": 80}]}})
        }
        ("", "Endpoints") => json!({"subsets": []}),
        ("", "ConfigMap") => json!({"data": {"key": "value"}}),
        ("", "Secret") => json!({"data": {"key": "dmFsdWU="}}),
        ("", "ServiceAccount") => json!({}),
        ("", "Node") => json!({"spec": {}}),
        ("", "PersistentVolume") => json!({"spec": {
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/tmp/pv"}}}),
        ("", "PersistentVolumeClaim") => json!({"spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
        ("", "Event") => json!({
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": namespace_for(kind), "apiVersion": "v1"},
            "reason": "Started", "message": "hello", "type": "Normal",
            "source": {"component": "test"}}),
        ("apps", "Deployment") | ("apps", "ReplicaSet") | ("apps", "DaemonSet") => json!({"spec": {
            "selector": {"matchLabels": {"app": "sample"}}, "template": template()}}),
        ("apps", "StatefulSet") => json!({"spec": {
            "serviceName": "svc", "selector": {"matchLabels": {"app": "sample"}}, "template": template()}}),
        ("apps", "ControllerRevision") => json!({"revision": 1, "data": {"k": "v"}}),
        ("batch", "Job") => {
            let mut t = template();
            t["spec"]["restartPolicy"] = json!("Never");
            json!({"spec": {"template": t}})
        }
        ("batch", "CronJob") => {
            let mut t = template();
            t["spec"]["restartPolicy"] = json!("Never");
            json!({"spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": t}}}})
        }
        ("coordination.k8s.io", "Lease") => json!({"spec": {"holderIdentity": "me"}}),
        ("discovery.k8s.io", "EndpointSlice") => json!({"addressType": "IPv4", "endpoints": []}),
        ("storage.k8s.io", "StorageClass") => {
            json!({"provisioner": "kubernetes.io/no-provisioner"})
        }
        ("events.k8s.io", "Event") => json!({
            "regarding": {"kind": "Pod", "name": "p", "namespace": namespace_for(kind), "apiVersion": "v1"},
            "reason": "Started", "note": "hello", "type": "Normal", "action": "Start",
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "reportingController": "test", "reportingInstance": "test-1"}),
        ("networking.k8s.io", "Ingress") => json!({"spec": {"defaultBackend": {
            "service": {"name": "svc", "port": {"number": 80}}}}}),
        ("autoscaling", "HorizontalPodAutoscaler") => json!({"spec": {"maxReplicas": 3,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
        ("policy", "PodDisruptionBudget") => json!({"spec": {"minAvailable": 1,
            "selector": {"matchLabels": {"app": "sample"}}}}),
        ("rbac.authorization.k8s.io", "Role") | ("rbac.authorization.k8s.io", "ClusterRole") => {
            json!({"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]})
        }
        ("rbac.authorization.k8s.io", "RoleBinding")
        | ("rbac.authorization.k8s.io", "ClusterRoleBinding") => json!({
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}]}),
        _ => panic!(
            "no sample for {}: add one to tests/common/mod.rs",
            label(kind)
        ),
    };
    let mut obj = json!({
        "apiVersion": kind.api_version(),
        "kind": kind.kind,
        "metadata": {"name": name, "labels": {"sample": "yes", "name": name}},
    });
    json_patch::merge(&mut obj, &body);
    obj
}

/// A JSON patch changing something in the kind's spec that its update validation allows
/// (None: the kind has no spec).
pub fn spec_change(kind: &Kind) -> Option<Value> {
    let op = |path: &str, value: Value| Some(json!([{"op": "add", "path": path, "value": value}]));
    match (kind.group, kind.kind) {
        ("", "Pod") => op("/spec/containers/0/image", json!("busybox:1.37")),
        ("", "Service") => op("/spec/ports/0/port", json!(8080)),
        ("", "Namespace") => op("/spec/finalizers", json!(["kubernetes", "example.com/x"])),
        ("", "Node") => op("/spec/unschedulable", json!(true)),
        ("", "PersistentVolume") => op("/spec/capacity/storage", json!("2Gi")),
        ("", "PersistentVolumeClaim") => op("/spec/resources/requests/storage", json!("2Gi")),
        ("apps", "Deployment") | ("apps", "ReplicaSet") | ("apps", "StatefulSet") => {
            op("/spec/replicas", json!(3))
        }
        ("apps", "DaemonSet") => op("/spec/minReadySeconds", json!(5)),
        ("batch", "Job") => op("/spec/parallelism", json!(2)),
        ("batch", "CronJob") => op("/spec/schedule", json!("*/7 * * * *")),
        ("coordination.k8s.io", "Lease") => op("/spec/holderIdentity", json!("you")),
        _ => None,
    }
}

/// A status the kind's type accepts, differing from its initial status.
pub fn status_sample(kind: &Kind) -> Value {
    match (kind.group, kind.kind) {
        ("", "Namespace") => json!({"phase": "Active", "conditions": [
            {"type": "NamespaceDeletionDiscoveryFailure", "status": "False"}]}),
        ("", "Pod") => json!({"phase": "Running", "podIP": "10.0.0.9"}),
        ("", "Service") => json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}),
        ("", "Node") => json!({"capacity": {"cpu": "4"}}),
        ("", "PersistentVolume") => json!({"phase": "Available"}),
        ("", "PersistentVolumeClaim") => json!({"phase": "Bound"}),
        ("apps", "Deployment") => json!({"replicas": 1, "observedGeneration": 1}),
        ("apps", "ReplicaSet") | ("apps", "StatefulSet") => {
            json!({"replicas": 1, "observedGeneration": 1})
        }
        ("apps", "DaemonSet") => json!({"currentNumberScheduled": 1, "desiredNumberScheduled": 1,
            "numberMisscheduled": 0, "numberReady": 1, "observedGeneration": 1}),
        ("batch", "Job") => json!({"active": 1}),
        ("batch", "CronJob") => json!({"lastScheduleTime": "2026-01-01T00:00:00Z"}),
        _ => panic!(
            "no status sample for {}: add one to tests/common/mod.rs",
            label(kind)
        ),
    }
}

impl Server {
    /// A server-side apply of `config` as `manager` (`extra` query parameters appended).
    #[track_caller]
    pub fn apply(&self, path: &str, manager: &str, extra: &str, config: &Value) -> Resp {
        self.request(
            "PATCH",
            &format!("{path}?fieldManager={manager}{extra}"),
            Some("application/apply-patch+yaml"),
            config.to_string().as_bytes(),
        )
    }
}

/// The managedFields entry of `manager` with `operation` in an object.
pub fn managed_entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}
