//! End to end: the same commands through the real kubectl and through kubectl-lite against
//! one real `kube-lite up`, asserting equal stdout, stderr and exit code (AGE cells masked).
//!
//! Locating the server binary: cargo exposes only this package's binaries to its tests, so
//! the test looks for `kube-lite` in (1) `$KUBE_LITE_BIN`, (2) the target directory holding
//! kubectl-lite (`cargo build -p kube-lite` with the same `CARGO_TARGET_DIR` puts it there),
//! (3) the workspace's `target/debug`. The real kubectl is `$KUBE_LITE_KUBECTL`, else
//! `.tools/bin/kubectl` (testkit's rule). When either is missing the test says so and
//! passes without comparing.

mod common;

use std::path::Path;

use common::{apply_manifest, kubectl_ok, lite, mask, same, settle, start_server};
use testkit::{run, KubeLite};

#[test]
fn get_output_matches_the_real_kubectl() {
    let Some(server) = start_server(&[]) else {
        return;
    };
    let setup = run(server.kubectl().args([
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=2",
    ]));
    assert_eq!(setup.code, 0, "{}", setup.stderr);
    run(server
        .kubectl()
        .args(["create", "configmap", "cm1", "--from-literal=a=<b&c>"]));
    run(server
        .kubectl()
        .args(["label", "configmap", "cm1", "tier=web"]));
    // Strings that exercise every go-yaml quoting and folding rule.
    let long = "word ".repeat(40);
    let data = serde_json::json!({
        "plain": long.trim(), "single": format!("*{}", long.trim()), "lead": " x", "trail": "x ",
        "multi": "a\nb\n", "multi2": "a\nb", "multi3": "a\n\nb\n\n", "tab": "a\tb",
        "uni": "héllo ✓", "nonbmp": "😀", "num": "0123", "float": "1e3", "bool": "yes",
        "colon": "a: b", "hash": "a #b", "dash": "- x", "date": "2024-01-02", "hex": "0x1F",
        "empty": "", "null": "null", "tilde": "~", "quote": "it's", "dq": "say \"hi\"",
        "longdq": format!("2024-01-02 {long}"), "url": "http://x:80/a?b=c", "a10": "1", "a9": "2",
        "A_b": "3", "_c": "4", "longword": "x".repeat(100), "spnl": "a \nb", "nbsp": "a\u{a0}b"
    });
    let cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "yamltest"}, "data": data});
    let file = server.dir.path().join("yamltest.json");
    std::fs::write(&file, cm.to_string()).unwrap();
    let applied = run(server.kubectl().arg("apply").arg("-f").arg(&file));
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    settle(&server);
    for args in [
        &["get", "pods"][..],
        &["get", "deploy"],
        &["get", "rs,pods"],
        &["get", "deploy,cm", "--no-headers"],
        &["get", "cm,deploy,rs", "cm1"],
        &["get", "sts,ds"],
        &["get", "rs,pods,deploy", "-A", "-o", "wide"],
        &["get", "pods", "-A"],
        &["get", "namespaces"],
        &["get", "all"],
        &["get", "cm", "-o", "yaml"],
        &["get", "cm", "-o", "json"],
        &["get", "cm", "yamltest", "-o", "yaml"],
        &["get", "cm", "yamltest", "-o", "json"],
        &["get", "deploy", "web", "-o", "yaml"],
        &["get", "deploy", "web", "-o", "json"],
        &["get", "deployment.apps/web", "-o", "name"],
        &["get", "pods", "-o", "name"],
        &["get", "pods", "-o", "wide"],
        &["get", "cm", "--show-labels"],
        &["get", "cm", "-l", "tier=web"],
        &["get", "cm", "--field-selector", "metadata.name=cm1"],
        &["get", "pods", "-n", "kube-system"],
        &[
            "get",
            "pods",
            "-o",
            r#"jsonpath={.items[?(@.status.phase=="Running")].metadata.name}"#,
        ],
        &[
            "get",
            "deploy",
            "-o",
            "jsonpath={.items[?(@.spec.replicas>1)].metadata.name}",
        ],
        &[
            "get",
            "cm",
            "-o",
            r#"jsonpath={range .items[?(@.metadata.labels)]}{.metadata.name}{"\n"}{end}"#,
        ],
        &[
            "get",
            "deploy",
            "web",
            "-o",
            r#"jsonpath={.status.conditions[?(@.type=="Available")].status}"#,
        ],
        &[
            "get",
            "pods",
            "-o",
            "jsonpath={.items[?(@.metadata.name!=@.spec.nodeName)].spec.containers[*].name}",
        ],
        &[
            "get",
            "deploy",
            "web",
            "-o",
            r#"jsonpath={.metadata[?(@.name=="x")]}"#,
        ],
        &[
            "get",
            "pods",
            "-o",
            "jsonpath={.items[?(@.spec.priority==1.5)]}",
        ],
        &["get", "foo"],
        &["get", "pods", "nope"],
        &["get", "cm", "cm1", "nope"],
        &["logs", "nope"],
        &["logs", "pod/nope", "--tail=1"],
        &["logs", "deploy/nope"],
        &["logs"],
        &["logs", "a", "b", "c"],
    ] {
        same(&server, args);
    }
}

#[test]
fn describe_output_matches_the_real_kubectl() {
    let Some(server) = start_server(&["--fast"]) else {
        return;
    };
    let setup: &[&[&str]] = &[
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=2",
            "--port=80",
        ],
        &["expose", "deployment", "web", "--port=80"],
        &["create", "configmap", "cm1", "--from-literal=a=b"],
        &["create", "job", "j1", "--image=busybox"],
        &[
            "create",
            "cronjob",
            "cj",
            "--image=busybox",
            "--schedule=*/5 * * * *",
        ],
        &["create", "serviceaccount", "robot"],
        &[
            "create",
            "secret",
            "generic",
            "s1",
            "--from-literal=a=hello",
        ],
    ];
    kubectl_ok(&server, setup);
    apply_manifest(&server, "workloads.yaml", DESCRIBE_WORKLOADS);
    settle(&server);
    for args in [
        &["describe", "deploy", "web"][..],
        &["describe", "deployment.apps/web", "svc/web"],
        &["describe", "rs"],
        &["describe", "pods"],
        &["describe", "pod", "web"],
        &["describe", "pods", "-l", "app=db"],
        &["describe", "pods", "-A", "--show-events=false"],
        &["describe", "svc", "web"],
        &["describe", "cm", "cm1"],
        &["describe", "job", "j1"],
        &["describe", "cronjob", "cj"],
        &["describe", "sts", "db"],
        &["describe", "ds", "ds"],
        &["describe", "pvc"],
        &["describe", "pv"],
        &["describe", "nodes"],
        &["describe", "ns", "default"],
        &["describe", "sa", "robot"],
        &["describe", "lease", "-n", "kube-node-lease"],
        &["describe", "storageclass"],
        &["describe", "endpointslices"],
        &["describe", "secret", "s1"],
        &["describe", "deploy", "nope"],
        &["describe", "cm", "cm1", "nope"],
        &["describe", "nope"],
        &["describe"],
        &["completion"],
        &["completion", "tcsh"],
        &["completion", "bash", "zsh"],
    ] {
        same(&server, args);
    }
}

#[test]
fn get_watch_prints_the_same_rows_as_kubectl() {
    let Some(server) = start_server(&["--fast"]) else {
        return;
    };
    let out = run(server
        .kubectl()
        .args(["create", "deployment", "web", "--image=nginx"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    settle(&server);
    for args in [
        &["get", "deploy", "-w"][..],
        &["get", "rs", "-A", "--watch", "--output-watch-events"],
        &["get", "deploy", "web", "--watch-only"],
        &["get", "pods", "-l", "app=web", "-w", "-o", "wide"],
        &[
            "get",
            "deploy",
            "web",
            "-w",
            "-o",
            "json",
            "--output-watch-events",
        ],
        &["get", "rs", "-w", "-o", "yaml"],
        &["get", "deploy", "--watch-only", "-o", "name"],
    ] {
        let dir = server.dir.path();
        let spawn = |mut c: std::process::Command, name: &str| {
            let file = std::fs::File::create(dir.join(name)).unwrap();
            c.args(args)
                .stdout(file)
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        let want = spawn(server.kubectl(), "want.out");
        let got = spawn(lite(&server), "got.out");
        // Both have listed (or, with --watch-only, started watching) before anything changes.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        for replicas in ["--replicas=2", "--replicas=1"] {
            let out = run(server.kubectl().args(["scale", "deploy", "web", replicas]));
            assert_eq!(out.code, 0, "{}", out.stderr);
            settle(&server);
        }
        for mut child in [want, got] {
            run(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]));
            let status = child.wait().unwrap();
            assert_eq!(
                status.code(),
                Some(1),
                "{args:?}: Ctrl-C ends the watch with exit 1"
            );
        }
        let read = |name: &str| mask(&std::fs::read_to_string(dir.join(name)).unwrap());
        assert_eq!(
            read("got.out"),
            read("want.out"),
            "kubectl-lite {args:?} differs"
        );
    }
}

#[test]
fn rollout_pause_and_resume_print_what_kubectl_prints() {
    let Some(server) = start_server(&["--fast"]) else {
        return;
    };
    for args in [
        &["create", "deployment", "web", "--image=nginx"][..],
        &["create", "configmap", "cm1"],
    ] {
        let out = run(server.kubectl().args(args));
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    let steps: [&[&str]; 7] = [
        &["rollout", "pause", "deploy/web"],
        &["rollout", "pause", "deploy/web"],
        &["rollout", "resume", "deployment", "web"],
        &["rollout", "resume", "deployment", "web"],
        &["rollout", "pause", "deploy/web", "deploy/nope"],
        &["rollout", "resume", "deploy/web", "cm/cm1"],
        &["rollout", "pause", "nope/x"],
    ];
    // The same sequence from the same state through each client.
    let transcript = |client: &dyn Fn() -> std::process::Command| {
        run(server.kubectl().args(["rollout", "resume", "deploy/web"]));
        steps
            .iter()
            .map(|args| {
                let out = run(client().args(*args));
                (out.code, out.stdout, out.stderr)
            })
            .collect::<Vec<_>>()
    };
    let want = transcript(&|| server.kubectl());
    let got = transcript(&|| lite(&server));
    assert_eq!(got, want);
}

/// A StatefulSet with most container fields (probes, env, resources, mounts, claims)
/// and a DaemonSet, for `describe`.
const DESCRIBE_WORKLOADS: &str = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}, annotations: {a: b}}
    spec:
      containers:
      - name: c
        image: nginx
        command: ["sh", "-c"]
        args: ["sleep 1"]
        env: [{name: A, value: "1"}, {name: B, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
        readinessProbe: {httpGet: {path: /, port: 80}}
        livenessProbe: {exec: {command: ["true"]}}
        volumeMounts: [{name: data, mountPath: /data}, {name: cfg, mountPath: /cfg, readOnly: true}]
      volumes: [{name: cfg, configMap: {name: cm1}}, {name: tmp, emptyDir: {}}]
      tolerations: [{key: k, operator: Equal, value: v, effect: NoSchedule}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: ds}}
  template:
    metadata: {labels: {app: ds}}
    spec: {containers: [{name: c, image: nginx}]}
"#;

#[test]
fn age_masking_keeps_everything_but_the_age() {
    assert_eq!(mask("a   12s   b\n"), "a   <age> b\n");
    assert_eq!(mask("x   3m4s\n"), "x   <age> \n");
    assert_eq!(mask("web-1   1/1\n"), "web-1   1/1\n");
}

fn deployment_yaml(name: &str, replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: nginx\n        image: {image}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-cm\ndata:\n  k: v\n"
    )
}

/// Runs `args` (with `NAME` standing for the object name) through kubectl on `kubectl1`
/// and through kubectl-lite on `klite01`, and compares with the names unified.
fn same_on_own_objects(server: &KubeLite, dir: &Path, args: &[&str]) {
    let subst = |name: &str| -> Vec<String> {
        args.iter()
            .map(|a| {
                a.replace("NAME", name)
                    .replace("DIR", &dir.display().to_string())
            })
            .collect()
    };
    let want = run(server.kubectl().args(subst("kubectl1")));
    let got = run(lite(server).args(subst("klite01")));
    // Server-assigned identity differs between the two objects; everything else must not.
    let unify = |s: &str| {
        let s = s.replace("kubectl1", "OBJ").replace("klite01", "OBJ");
        let kept: Vec<&str> = s
            .lines()
            .filter(|l| {
                !["uid:", "resourceVersion:", "creationTimestamp:"]
                    .iter()
                    .any(|k| l.trim_start().starts_with(k))
            })
            .collect();
        mask(&kept.join("\n"))
    };
    assert_eq!(
        (got.code, unify(&got.stdout), unify(&got.stderr)),
        (want.code, unify(&want.stdout), unify(&want.stderr)),
        "kubectl-lite {args:?} differs from kubectl"
    );
}

#[test]
fn server_side_apply_prints_what_kubectl_prints() {
    let Some(server) = start_server(&[]) else {
        return;
    };
    let dir = server.dir.path().join("manifests");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["kubectl1", "klite01"] {
        std::fs::write(
            dir.join(format!("{name}.yaml")),
            deployment_yaml(name, 2, "nginx:1.14"),
        )
        .unwrap();
    }
    let steps: &[&[&str]] = &[
        &["apply", "--server-side", "-f", "DIR/NAME.yaml"],
        &["apply", "--server-side", "-f", "DIR/NAME.yaml"],
        // Another manager takes spec.replicas: the apply conflicts, and says what to do.
        &["scale", "deploy/NAME", "--replicas=3"],
        &["apply", "--server-side", "-f", "DIR/NAME.yaml"],
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "DIR/NAME.yaml",
        ],
        &["get", "deploy", "NAME", "-o", "jsonpath={.spec.replicas}"],
        &[
            "apply",
            "--server-side",
            "--field-manager=ci",
            "-f",
            "DIR/NAME.yaml",
        ],
        &["apply", "--force-conflicts", "-f", "DIR/NAME.yaml"],
    ];
    for s in steps {
        same_on_own_objects(&server, &dir, s);
    }
}

#[test]
fn write_commands_print_what_kubectl_prints() {
    let Some(server) = start_server(&[]) else {
        return;
    };
    let dir = server.dir.path().join("manifests");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |replicas, image| {
        for name in ["kubectl1", "klite01"] {
            std::fs::write(
                dir.join(format!("{name}.yaml")),
                deployment_yaml(name, replicas, image),
            )
            .unwrap();
        }
    };
    write(2, "nginx:1.14");
    let steps: &[&[&str]] = &[
        &["apply", "-f", "DIR/NAME.yaml"],
        &["apply", "-f", "DIR/NAME.yaml"],
        &["get", "cm", "NAME-cm", "-o", "yaml"],
    ];
    for s in steps {
        same_on_own_objects(&server, &dir, s);
    }
    write(3, "nginx:1.16");
    let steps: &[&[&str]] = &[
        &["apply", "-f", "DIR/NAME.yaml"],
        &["create", "-f", "DIR/NAME.yaml"],
        &["delete", "cm", "NAME-cm"],
        &["create", "-f", "DIR/NAME.yaml"],
        &["apply", "-f", "DIR/NAME.yaml"],
        &["scale", "deploy/NAME", "--replicas=4"],
        &["scale", "deployment", "NAME", "--replicas=1"],
        &["set", "image", "deploy/NAME", "nginx=nginx:1.17"],
        &["set", "image", "deploy/NAME", "nginx=nginx:1.17"],
        &["label", "deploy", "NAME", "tier=web"],
        &["label", "deploy", "NAME", "tier=db"],
        &["label", "deploy", "NAME", "tier=db", "--overwrite"],
        &["label", "deploy", "NAME", "tier-"],
        &["label", "deploy", "NAME", "tier-"],
        &["annotate", "deploy", "NAME", "note=hi"],
        &["rollout", "history", "deploy/NAME"],
        &["rollout", "undo", "deploy/NAME", "--to-revision=99"],
        &["rollout", "restart", "deploy/NAME"],
        &["delete", "-f", "DIR/NAME.yaml"],
        &["delete", "deploy", "NAME"],
        &["delete", "cm", "--all", "-l", "a=b"],
        &["delete", "cm", "-l", "nothing=here"],
        &["config", "get-contexts"],
        &["config", "view"],
    ];
    for s in steps {
        same_on_own_objects(&server, &dir, s);
    }
}

#[test]
fn discovery_is_cached_per_server_and_refetched_when_a_name_is_unknown() {
    let Some(server) = start_server(&[]) else {
        return;
    };
    let out = run(lite(&server).args(["get", "pods"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let cache = server
        .dir
        .path()
        .join("kubecache-lite/discovery")
        .join(server.addr().replace(':', "_"))
        .join("kubectl-lite-aggregated.json");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).expect("discovery cache written")).unwrap();
    assert_eq!(doc["api"]["kind"], "APIGroupDiscoveryList");
    // A stale cache that lacks every core resource: `get cm` must refetch, not fail.
    std::fs::write(
        &cache,
        serde_json::to_vec(&serde_json::json!({"api": {"items": []}, "apis": doc["apis"]}))
            .unwrap(),
    )
    .unwrap();
    let out = run(lite(&server).args(["get", "cm", "-n", "kube-system"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let refreshed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    assert!(!refreshed["api"]["items"].as_array().unwrap().is_empty());
    let out = run(lite(&server).args(["get", "nosuchkind"]));
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            1,
            "error: the server doesn't have a resource type \"nosuchkind\"\n"
        )
    );
}

#[test]
fn version_client_prints_the_client_version_without_a_server() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-lite"))
        .args(["version", "--client", "--server=http://127.0.0.1:1"])
        .output()
        .expect("run kubectl-lite");
    assert!(o.status.success(), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("Client Version: v1.35.0-kubectl-lite."),
        "{out}"
    );
    assert!(!out.contains("Server Version"), "{out}");
}

/// `create deployment web` with two replicas.
const WEB_DEPLOYMENT: &[&str] = &[
    "create",
    "deployment",
    "web",
    "--image=nginx",
    "--replicas=2",
];

/// Objects of the kinds with their own describers beyond the workloads: an Ingress routing
/// to a served and to a missing Service, an HPA (no controller fills its status), two
/// PodDisruptionBudgets, and RBAC roles and bindings.
const DESCRIBE_POLICY: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  labels:
    tier: edge
  annotations:
    example.com/owner: team-a
spec:
  ingressClassName: nginx
  defaultBackend:
    service:
      name: web
      port:
        name: http
  tls:
  - hosts: [shop.example.com, www.shop.example.com]
    secretName: shop-tls
  - hosts: [sni.example.com]
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
      - path: /api
        pathType: Prefix
        backend:
          service:
            name: api
            port:
              number: 8080
  - http:
      paths:
      - path: /static
        pathType: ImplementationSpecific
        backend:
          resource:
            apiGroup: k8s.example.com
            kind: StorageBucket
            name: static
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: plain
spec:
  defaultBackend:
    service:
      name: web
      port:
        number: 80
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 60
  - type: Resource
    resource:
      name: memory
      target:
        type: AverageValue
        averageValue: 500Mi
  - type: Pods
    pods:
      metric:
        name: packets-per-second
      target:
        type: AverageValue
        averageValue: 1k
  - type: Object
    object:
      metric:
        name: requests-per-second
      describedObject:
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        name: shop
      target:
        type: Value
        value: 10k
  - type: External
    external:
      metric:
        name: queue_messages_ready
      target:
        type: AverageValue
        averageValue: "30"
  - type: ContainerResource
    containerResource:
      name: cpu
      container: nginx
      target:
        type: Utilization
        averageUtilization: 70
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
      policies:
      - type: Percent
        value: 100
        periodSeconds: 15
    scaleUp:
      selectPolicy: Min
      policies:
      - type: Pods
        value: 4
        periodSeconds: 60
      - type: Percent
        value: 100
        periodSeconds: 15
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: bare
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: StatefulSet
    name: db
  maxReplicas: 3
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: web
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: db
spec:
  maxUnavailable: 25%
  selector:
    matchExpressions:
    - key: app
      operator: In
      values: [db, cache]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: pod-reader
  labels:
    team: a
rules:
- apiGroups: [""]
  resources: [pods, pods/log]
  verbs: [get, list]
- apiGroups: [""]
  resources: [pods]
  verbs: [watch, get]
- apiGroups: ["", apps]
  resources: [configmaps, deployments/scale]
  resourceNames: [web, db]
  verbs: [get, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ops
rules:
- apiGroups: [apps, batch]
  resources: [deployments, jobs]
  verbs: ["*"]
- nonResourceURLs: [/healthz, /metrics]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-pods
subjects:
- kind: ServiceAccount
  name: robot
  namespace: default
- kind: User
  name: jane
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: pod-reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ops-team
subjects:
- kind: Group
  name: ops
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: ClusterRole
  name: ops
  apiGroup: rbac.authorization.k8s.io
"#;

#[test]
fn describe_of_ingress_hpa_pdb_and_rbac_matches_the_real_kubectl() {
    let Some(server) = start_server(&["--fast"]) else {
        return;
    };
    kubectl_ok(&server, &[WEB_DEPLOYMENT]);
    apply_manifest(&server, "policy.yaml", DESCRIBE_POLICY);
    settle(&server);
    for args in [
        &["describe", "ingress", "shop"][..],
        &["describe", "ing"],
        &["describe", "hpa", "web"],
        &["describe", "hpa", "bare", "--show-events=false"],
        &["describe", "pdb"],
        &["describe", "role", "pod-reader"],
        &["describe", "clusterrole", "ops"],
        &["describe", "rolebinding", "read-pods"],
        &["describe", "clusterrolebinding", "ops-team"],
        &["describe", "roles,rolebindings"],
    ] {
        same(&server, args);
    }
    // The kinds are served and described (not merely failing alike).
    for (kind, name, line) in [
        ("ingress", "shop", "web:80 (10."),
        ("hpa", "web", "resource cpu on pods"),
        ("pdb", "db", "Max unavailable:"),
        ("clusterrole", "ops", "[/metrics]"),
        ("rolebinding", "read-pods", "ServiceAccount"),
    ] {
        let out = run(lite(&server).args(["describe", kind, name]));
        assert_eq!(out.code, 0, "{kind}: {}", out.stderr);
        assert!(out.stdout.contains(line), "{kind}: {}", out.stdout);
    }
}

const DESCRIBE_FILE_OBJECTS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-a\ndata:\n  k: v\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: robot\n";

#[test]
fn describe_f_describes_the_objects_manifests_name_like_kubectl() {
    let Some(server) = start_server(&["--fast"]) else {
        return;
    };
    let dir = server.dir.path().join("describe-f");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.yaml"), DESCRIBE_FILE_OBJECTS).unwrap();
    std::fs::write(
        dir.join("sub/b.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-b\n  namespace: kube-system\n",
    )
    .unwrap();
    std::fs::write(
        server.dir.path().join("missing.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nope\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: gone\n",
    )
    .unwrap();
    kubectl_ok(
        &server,
        &[&["apply", "-R", "-f", &dir.display().to_string()]],
    );
    settle(&server);
    for args in [
        &["describe", "-f", "describe-f/a.yaml"][..],
        &["describe", "-f", "describe-f"],
        &["describe", "-R", "-f", "describe-f"],
        &[
            "describe",
            "-f",
            "describe-f/sub/b.yaml",
            "--show-events=false",
        ],
        &["describe", "-f", "missing.yaml"],
        &["describe", "-f", "no-such-file.yaml"],
        &["-n", "other", "describe", "-f", "describe-f/sub/b.yaml"],
        &["describe", "-f", "describe-f/a.yaml", "cm", "cm-a"],
        &["delete", "-f", "describe-f/a.yaml", "cm"],
    ] {
        common::same_in(&server, Some(server.dir.path()), args);
    }
    // `-f -` reads the manifest from stdin.
    let input = DESCRIBE_FILE_OBJECTS.as_bytes();
    let want = testkit::run_with_input(server.kubectl().args(["describe", "-f", "-"]), input);
    let got = testkit::run_with_input(lite(&server).args(["describe", "-f", "-"]), input);
    assert_eq!(
        (got.code, mask(&got.stdout), mask(&got.stderr)),
        (want.code, mask(&want.stdout), mask(&want.stderr))
    );
}

#[test]
fn complete_offers_the_commands_types_and_live_names_kubectl_offers() {
    let Some(server) = start_server(&["--fast"]) else {
        return;
    };
    kubectl_ok(
        &server,
        &[
            WEB_DEPLOYMENT,
            &["create", "deployment", "worker", "--image=nginx"],
            &["create", "configmap", "cm1"],
            &["-n", "kube-system", "create", "configmap", "sys-cm"],
        ],
    );
    settle(&server);
    let pods = run(lite(&server).args(["get", "pods", "-o", "name"])).stdout;
    let first_pod = pods.lines().next().unwrap().trim_start_matches("pod/");
    for args in [
        &["__complete", "ge"][..],
        &["__complete", "des"],
        &["__complete", "rollout", ""],
        &["__complete", "get", ""],
        &["__complete", "get", "deploy"],
        &["__complete", "describe", "pods,s"],
        &["__complete", "get", "pods", ""],
        &["__complete", "get", "pods", "web-"],
        &["__complete", "get", "pods", first_pod, ""],
        &["__complete", "delete", "deploy", "w"],
        &["__complete", "describe", "deploy/"],
        &["__complete", "label", "deploy/web", ""],
        &["__complete", "annotate", "cm", ""],
        &["__complete", "-n", "kube-system", "get", "cm", ""],
        &["__complete", "get", "cm", "--namespace=kube-system", "s"],
        &["__complete", "edit", "nosuchtype", ""],
        &["__complete", "scale", ""],
        &["__complete", "scale", "deployment", ""],
        &["__complete", "rollout", "status", "deployment", "web", ""],
        &["__complete", "rollout", "restart", "deployment/w"],
        &["__completeNoDesc", "get", "deploy", ""],
        &["__complete", "logs", ""],
        &["__complete", "get", "pods", "-n", ""],
        &["__complete", "-n", "kube"],
        &["__complete", "get", "--namespace=kube-"],
        &["__complete", "get", "pods", "-o", ""],
        &["__complete", "get", "all", ""],
        &["__complete", "describe", "deploy,cm", ""],
        &["__complete", "exec", "web"],
        &["__complete", "logs", "d"],
        &["__complete", "exec", "deployments/w"],
    ] {
        same(&server, args);
    }
    // The bash script asks the binary: a TAB after `get pods ` offers the pod names.
    let script = run(lite(&server).args(["completion", "bash"])).stdout;
    let bin = env!("CARGO_BIN_EXE_kubectl-lite");
    let probe = format!(
        "{script}\nCOMP_WORDS=({bin} get deploy ''); COMP_CWORD=3\n__kubectl_lite_complete\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n"
    );
    let replies = run(std::process::Command::new("bash")
        .arg("-c")
        .arg(&probe)
        .envs(lite_env(&server)));
    assert_eq!(replies.stdout, "web\nworker\n", "{}", replies.stderr);
}

/// The environment `lite()` gives kubectl-lite (kubeconfig, home, cache).
fn lite_env(server: &KubeLite) -> Vec<(String, String)> {
    let c = lite(server);
    c.get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string())))
        .collect()
}
