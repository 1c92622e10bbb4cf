//! Objects built with k8s-pb's prost types, encoded in the `k8s\0` envelope as the Go clients
//! send them, decoded back to JSON.

use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::batch::v1 as batch;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use protobuf_json::{decode_request, ErrorKind};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn envelope(api_version: &str, kind: &str, obj: &impl Message) -> Vec<u8> {
    let u = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(obj.encode_to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut out = b"k8s\0".to_vec();
    out.extend(u.encode_to_vec());
    out
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn qty(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity { string: s(v) }))
        .collect()
}

fn int(i: i32) -> Option<IntOrString> {
    Some(IntOrString {
        r#type: Some(0),
        int_val: Some(i),
        str_val: Some(String::new()),
    })
}

fn string(v: &str) -> Option<IntOrString> {
    Some(IntOrString {
        r#type: Some(1),
        int_val: Some(0),
        str_val: s(v),
    })
}

fn time(seconds: i64) -> Option<meta::Time> {
    Some(meta::Time {
        seconds: Some(seconds),
        nanos: Some(0),
    })
}

/// ObjectMeta the way Go writes it: every non-pointer field present, zero or not.
fn go_meta(name: &str, namespace: &str) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: s(name),
        generate_name: s(""),
        namespace: s(namespace),
        self_link: s(""),
        uid: s(""),
        resource_version: s(""),
        generation: Some(0),
        creation_timestamp: Some(meta::Time::default()),
        ..Default::default()
    }
}

fn decode(api_version: &str, kind: &str, obj: &impl Message) -> Value {
    decode_request(&envelope(api_version, kind, obj)).expect("decode")
}

#[test]
fn deployment_with_full_pod_template() {
    let container = core::Container {
        name: s("web"),
        image: s("nginx:1.7.9"),
        command: vec!["nginx".into()],
        args: vec!["-g".into(), "daemon off;".into()],
        working_dir: s(""),
        ports: vec![core::ContainerPort {
            name: s("http"),
            host_port: Some(0),
            container_port: Some(80),
            protocol: s("TCP"),
            host_ip: s(""),
        }],
        env: vec![
            core::EnvVar {
                name: s("MODE"),
                value: s("prod"),
                value_from: None,
            },
            core::EnvVar {
                name: s("EMPTY"),
                value: s(""),
                value_from: None,
            },
            core::EnvVar {
                name: s("PASSWORD"),
                value: s(""),
                value_from: Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector {
                        local_object_reference: Some(core::LocalObjectReference { name: s("db") }),
                        key: s("password"),
                        optional: Some(false),
                    }),
                    ..Default::default()
                }),
            },
            core::EnvVar {
                name: s("POD_IP"),
                value: None,
                value_from: Some(core::EnvVarSource {
                    field_ref: Some(core::ObjectFieldSelector {
                        api_version: s("v1"),
                        field_path: s("status.podIP"),
                    }),
                    ..Default::default()
                }),
            },
        ],
        resources: Some(core::ResourceRequirements {
            limits: qty(&[("cpu", "500m"), ("memory", "128Mi")]),
            requests: qty(&[("cpu", "250m")]),
            claims: vec![],
        }),
        volume_mounts: vec![core::VolumeMount {
            name: s("config"),
            read_only: Some(true),
            mount_path: s("/etc/nginx/conf.d"),
            sub_path: s(""),
            ..Default::default()
        }],
        liveness_probe: Some(core::Probe {
            handler: Some(core::ProbeHandler {
                http_get: Some(core::HttpGetAction {
                    path: s("/healthz"),
                    port: string("http"),
                    host: s(""),
                    scheme: s("HTTP"),
                    http_headers: vec![core::HttpHeader {
                        name: s("X-Probe"),
                        value: s("1"),
                    }],
                }),
                ..Default::default()
            }),
            initial_delay_seconds: Some(3),
            timeout_seconds: Some(1),
            period_seconds: Some(10),
            success_threshold: Some(1),
            failure_threshold: Some(3),
            termination_grace_period_seconds: None,
        }),
        readiness_probe: Some(core::Probe {
            handler: Some(core::ProbeHandler {
                tcp_socket: Some(core::TcpSocketAction {
                    port: int(80),
                    host: s(""),
                }),
                ..Default::default()
            }),
            initial_delay_seconds: Some(0),
            ..Default::default()
        }),
        termination_message_path: s("/dev/termination-log"),
        termination_message_policy: s("File"),
        image_pull_policy: s(""),
        security_context: Some(core::SecurityContext {
            run_as_non_root: Some(false),
            run_as_user: Some(0),
            ..Default::default()
        }),
        stdin: Some(false),
        stdin_once: Some(false),
        tty: Some(false),
        ..Default::default()
    };
    let volumes = vec![
        core::Volume {
            name: s("config"),
            volume_source: Some(core::VolumeSource {
                config_map: Some(core::ConfigMapVolumeSource {
                    local_object_reference: Some(core::LocalObjectReference { name: s("nginx") }),
                    items: vec![core::KeyToPath {
                        key: s("default.conf"),
                        path: s("default.conf"),
                        mode: None,
                    }],
                    default_mode: Some(0o644),
                    optional: None,
                }),
                ..Default::default()
            }),
        },
        core::Volume {
            name: s("scratch"),
            volume_source: Some(core::VolumeSource {
                empty_dir: Some(core::EmptyDirVolumeSource {
                    medium: s(""),
                    size_limit: Some(Quantity { string: s("1Gi") }),
                }),
                ..Default::default()
            }),
        },
    ];
    let d = apps::Deployment {
        metadata: Some(meta::ObjectMeta {
            labels: map(&[("app", "web")]),
            annotations: map(&[("note", "x")]),
            ..go_meta("web", "default")
        }),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(2),
            selector: Some(meta::LabelSelector {
                match_labels: map(&[("app", "web")]),
                match_expressions: vec![meta::LabelSelectorRequirement {
                    key: s("tier"),
                    operator: s("In"),
                    values: vec!["front".into(), "edge".into()],
                }],
            }),
            template: Some(core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels: map(&[("app", "web")]),
                    creation_timestamp: time(1_767_323_045),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    volumes,
                    containers: vec![container],
                    restart_policy: s("Always"),
                    termination_grace_period_seconds: Some(0),
                    dns_policy: s(""),
                    service_account_name: s(""),
                    host_network: Some(false),
                    automount_service_account_token: Some(false),
                    ..Default::default()
                }),
            }),
            strategy: Some(apps::DeploymentStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_unavailable: int(0),
                    max_surge: string("25%"),
                }),
            }),
            min_ready_seconds: Some(0),
            revision_history_limit: Some(0),
            paused: Some(false),
            progress_deadline_seconds: None,
        }),
        status: Some(apps::DeploymentStatus {
            observed_generation: Some(0),
            replicas: Some(0),
            ..Default::default()
        }),
    };
    let got = decode("apps/v1", "Deployment", &d);
    let want = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "creationTimestamp": null,
            "labels": {"app": "web"},
            "annotations": {"note": "x"}
        },
        "spec": {
            "replicas": 2,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "edge"]}]
            },
            "template": {
                "metadata": {"labels": {"app": "web"}, "creationTimestamp": "2026-01-02T03:04:05Z"},
                "spec": {
                    "volumes": [
                        {"name": "config", "configMap": {
                            "name": "nginx",
                            "items": [{"key": "default.conf", "path": "default.conf"}],
                            "defaultMode": 420
                        }},
                        {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}
                    ],
                    "containers": [{
                        "name": "web",
                        "image": "nginx:1.7.9",
                        "command": ["nginx"],
                        "args": ["-g", "daemon off;"],
                        "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                        "env": [
                            {"name": "MODE", "value": "prod"},
                            {"name": "EMPTY"},
                            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {
                                "name": "db", "key": "password", "optional": false
                            }}},
                            {"name": "POD_IP", "valueFrom": {"fieldRef": {
                                "apiVersion": "v1", "fieldPath": "status.podIP"
                            }}}
                        ],
                        "resources": {
                            "limits": {"cpu": "500m", "memory": "128Mi"},
                            "requests": {"cpu": "250m"}
                        },
                        "volumeMounts": [{"name": "config", "readOnly": true, "mountPath": "/etc/nginx/conf.d"}],
                        "livenessProbe": {
                            "httpGet": {
                                "path": "/healthz",
                                "port": "http",
                                "scheme": "HTTP",
                                "httpHeaders": [{"name": "X-Probe", "value": "1"}]
                            },
                            "initialDelaySeconds": 3,
                            "timeoutSeconds": 1,
                            "periodSeconds": 10,
                            "successThreshold": 1,
                            "failureThreshold": 3
                        },
                        "readinessProbe": {"tcpSocket": {"port": 80}},
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                        "securityContext": {"runAsNonRoot": false, "runAsUser": 0}
                    }],
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 0,
                    "automountServiceAccountToken": false
                }
            },
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}
            },
            "revisionHistoryLimit": 0
        },
        "status": {}
    });
    assert_eq!(
        got,
        want,
        "got {}",
        serde_json::to_string_pretty(&got).unwrap()
    );
}

#[test]
fn secret_bytes_data_is_base64() {
    let mut data = BTreeMap::new();
    data.insert("password".to_string(), b"s3cr3t".to_vec());
    data.insert("binary".to_string(), vec![0u8, 0xff, 0x10]);
    data.insert("empty".to_string(), vec![]);
    let secret = core::Secret {
        metadata: Some(go_meta("creds", "")),
        immutable: None,
        data,
        string_data: map(&[("user", "admin")]),
        r#type: s("Opaque"),
    };
    let got = decode("v1", "Secret", &secret);
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds", "creationTimestamp": null},
            "data": {"password": "czNjcjN0", "binary": "AP8Q", "empty": ""},
            "stringData": {"user": "admin"},
            "type": "Opaque"
        })
    );
}

#[test]
fn job_from_cronjob() {
    let job = batch::Job {
        metadata: Some(meta::ObjectMeta {
            annotations: map(&[("cronjob.kubernetes.io/instantiate", "manual")]),
            owner_references: vec![meta::OwnerReference {
                api_version: s("batch/v1"),
                kind: s("CronJob"),
                name: s("hello"),
                uid: s("0b5c1a8e-1111-2222-3333-444455556666"),
                controller: Some(true),
                block_owner_deletion: None,
            }],
            ..go_meta("manual", "default")
        }),
        spec: Some(batch::JobSpec {
            parallelism: None,
            backoff_limit: Some(0),
            suspend: Some(false),
            ttl_seconds_after_finished: Some(100),
            template: Some(core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    creation_timestamp: Some(meta::Time::default()),
                    ..Default::default()
                }),
                spec: Some(core::PodSpec {
                    containers: vec![core::Container {
                        name: s("hello"),
                        image: s("busybox"),
                        command: vec!["sh".into(), "-c".into(), "date; echo hi".into()],
                        resources: Some(core::ResourceRequirements::default()),
                        ..Default::default()
                    }],
                    restart_policy: s("OnFailure"),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }),
        status: Some(batch::JobStatus {
            start_time: None,
            active: Some(0),
            ready: None,
            ..Default::default()
        }),
    };
    let got = decode("batch/v1", "Job", &job);
    assert_eq!(
        got,
        json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": "manual",
                "namespace": "default",
                "creationTimestamp": null,
                "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
                "ownerReferences": [{
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": "hello",
                    "uid": "0b5c1a8e-1111-2222-3333-444455556666",
                    "controller": true
                }]
            },
            "spec": {
                "backoffLimit": 0,
                "suspend": false,
                "ttlSecondsAfterFinished": 100,
                "template": {
                    "metadata": {"creationTimestamp": null},
                    "spec": {
                        "containers": [{
                            "name": "hello",
                            "image": "busybox",
                            "command": ["sh", "-c", "date; echo hi"],
                            "resources": {}
                        }],
                        "restartPolicy": "OnFailure"
                    }
                }
            },
            "status": {}
        })
    );
}

#[test]
fn namespace_and_configmap() {
    let ns = core::Namespace {
        metadata: Some(go_meta("team-a", "")),
        spec: Some(core::NamespaceSpec::default()),
        status: Some(core::NamespaceStatus {
            phase: s(""),
            conditions: vec![],
        }),
    };
    assert_eq!(
        decode("v1", "Namespace", &ns),
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "team-a", "creationTimestamp": null},
            "spec": {},
            "status": {}
        })
    );

    let mut binary = BTreeMap::new();
    binary.insert("blob".to_string(), vec![1u8, 2, 3]);
    let cm = core::ConfigMap {
        metadata: Some(go_meta("c", "default")),
        immutable: Some(false),
        data: map(&[("a", "b"), ("empty", "")]),
        binary_data: binary,
    };
    assert_eq!(
        decode("v1", "ConfigMap", &cm),
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "creationTimestamp": null},
            "immutable": false,
            "data": {"a": "b", "empty": ""},
            "binaryData": {"blob": "AQID"}
        })
    );
}

#[test]
fn service_target_port_int_or_string() {
    let svc = core::Service {
        metadata: Some(go_meta("web", "default")),
        spec: Some(core::ServiceSpec {
            ports: vec![
                core::ServicePort {
                    name: s("http"),
                    protocol: s("TCP"),
                    app_protocol: None,
                    port: Some(80),
                    target_port: int(8080),
                    node_port: Some(0),
                },
                core::ServicePort {
                    name: s("metrics"),
                    protocol: s("TCP"),
                    port: Some(9090),
                    target_port: string("metrics"),
                    ..Default::default()
                },
                core::ServicePort {
                    name: s("unset"),
                    port: Some(443),
                    // Go's zero IntOrString: the server defaults it to `port`.
                    target_port: int(0),
                    ..Default::default()
                },
            ],
            selector: map(&[("app", "web")]),
            cluster_ip: s(""),
            cluster_ips: vec!["10.0.0.10".into()],
            r#type: s("ClusterIP"),
            session_affinity: s(""),
            ip_families: vec!["IPv4".into()],
            ip_family_policy: s("SingleStack"),
            publish_not_ready_addresses: Some(false),
            ..Default::default()
        }),
        status: Some(core::ServiceStatus {
            load_balancer: Some(core::LoadBalancerStatus::default()),
            conditions: vec![],
        }),
    };
    assert_eq!(
        decode("v1", "Service", &svc),
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": null},
            "spec": {
                "ports": [
                    {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                    {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": "metrics"},
                    {"name": "unset", "port": 443}
                ],
                "selector": {"app": "web"},
                "clusterIPs": ["10.0.0.10"],
                "type": "ClusterIP",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack"
            },
            "status": {"loadBalancer": {}}
        })
    );
}

#[test]
fn pod_acronyms_times_and_packed_scalars() {
    let pod = core::Pod {
        metadata: Some(meta::ObjectMeta {
            deletion_timestamp: time(0),
            deletion_grace_period_seconds: Some(0),
            ..go_meta("p", "default")
        }),
        spec: Some(core::PodSpec {
            containers: vec![core::Container {
                name: s("c"),
                ..Default::default()
            }],
            host_ipc: Some(true),
            host_pid: Some(true),
            security_context: Some(core::PodSecurityContext {
                supplemental_groups: vec![1000, 2000, -1],
                ..Default::default()
            }),
            ..Default::default()
        }),
        status: Some(core::PodStatus {
            pod_ip: s("10.1.2.3"),
            pod_ips: vec![core::PodIp { ip: s("10.1.2.3") }],
            host_ip: s("192.168.0.1"),
            start_time: Some(meta::Time {
                seconds: Some(1_767_323_045),
                nanos: Some(500),
            }),
            ..Default::default()
        }),
    };
    let got = decode("v1", "Pod", &pod);
    assert_eq!(got["metadata"]["deletionTimestamp"], "1970-01-01T00:00:00Z");
    assert_eq!(got["metadata"]["deletionGracePeriodSeconds"], 0);
    assert_eq!(got["spec"]["hostIPC"], true);
    assert_eq!(got["spec"]["hostPID"], true);
    assert_eq!(
        got["spec"]["securityContext"]["supplementalGroups"],
        json!([1000, 2000, -1])
    );
    assert_eq!(got["status"]["podIP"], "10.1.2.3");
    assert_eq!(got["status"]["podIPs"], json!([{"ip": "10.1.2.3"}]));
    assert_eq!(got["status"]["hostIP"], "192.168.0.1");
    assert_eq!(got["status"]["startTime"], "2026-01-02T03:04:05Z");
}

#[test]
fn repeated_scalars_packed_or_not() {
    // PodSecurityContext.supplementalGroups (4, int64): Go writes it unpacked, a packed
    // encoding is equally valid.
    let unpacked = [0x20, 0xe8, 0x07, 0x20, 0x02];
    let packed = [0x22, 0x03, 0xe8, 0x07, 0x02];
    for bytes in [&unpacked[..], &packed[..]] {
        assert_eq!(
            protobuf_json::decode_message("api.core.v1.PodSecurityContext", bytes).unwrap(),
            json!({"supplementalGroups": [1000, 2]})
        );
    }
}

#[test]
fn micro_time_lease_and_events() {
    use k8s_pb::api::coordination::v1 as coord;
    let lease = coord::Lease {
        metadata: Some(go_meta("l", "kube-node-lease")),
        spec: Some(coord::LeaseSpec {
            holder_identity: s("node-1"),
            lease_duration_seconds: Some(40),
            renew_time: Some(meta::MicroTime {
                seconds: Some(1_767_323_045),
                nanos: Some(123_456_789),
            }),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    };
    assert_eq!(
        decode("coordination.k8s.io/v1", "Lease", &lease)["spec"],
        json!({
            "holderIdentity": "node-1",
            "leaseDurationSeconds": 40,
            "renewTime": "2026-01-02T03:04:05.123456Z",
            "leaseTransitions": 0
        })
    );
    let ev = core::Event {
        metadata: Some(go_meta("e", "default")),
        involved_object: Some(core::ObjectReference {
            kind: s("Pod"),
            name: s("p"),
            ..Default::default()
        }),
        reason: s("Started"),
        count: Some(0),
        event_time: Some(meta::MicroTime::default()),
        reporting_component: s(""),
        reporting_instance: s(""),
        ..Default::default()
    };
    let got = decode("v1", "Event", &ev);
    assert_eq!(got["involvedObject"], json!({"kind": "Pod", "name": "p"}));
    assert_eq!(got["eventTime"], Value::Null);
    assert_eq!(got["reportingComponent"], "");
    assert_eq!(got["reportingInstance"], "");
    assert!(got.get("count").is_none());
}

#[test]
fn delete_options_any_api_version() {
    let opts = meta::DeleteOptions {
        grace_period_seconds: Some(0),
        propagation_policy: s("Foreground"),
        preconditions: Some(meta::Preconditions {
            uid: s("u-1"),
            resource_version: None,
        }),
        dry_run: vec!["All".into()],
        ..Default::default()
    };
    for v in ["v1", "apps/v1", "meta.k8s.io/v1"] {
        assert_eq!(
            decode(v, "DeleteOptions", &opts),
            json!({
                "apiVersion": v,
                "kind": "DeleteOptions",
                "gracePeriodSeconds": 0,
                "propagationPolicy": "Foreground",
                "preconditions": {"uid": "u-1"},
                "dryRun": ["All"]
            })
        );
    }
}

#[test]
fn controller_revision_raw_extension() {
    let cr = apps::ControllerRevision {
        metadata: Some(go_meta("r1", "default")),
        data: Some(k8s_pb::apimachinery::pkg::runtime::RawExtension {
            raw: Some(br#"{"spec":{"template":{"x":1}}}"#.to_vec()),
        }),
        revision: Some(3),
    };
    let got = decode("apps/v1", "ControllerRevision", &cr);
    assert_eq!(got["data"], json!({"spec": {"template": {"x": 1}}}));
    assert_eq!(got["revision"], 3);
}

#[test]
fn unknown_fields_are_skipped() {
    let ns = core::Namespace {
        metadata: Some(go_meta("n", "")),
        ..Default::default()
    };
    let mut raw = ns.encode_to_vec();
    // field 99 varint, field 98 fixed32, field 97 fixed64, field 96 bytes
    raw.extend([0x98, 0x06, 0x01]);
    raw.extend([0x95, 0x06, 1, 2, 3, 4]);
    raw.extend([0x89, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]);
    raw.extend([0x82, 0x06, 2, b'h', b'i']);
    let body = raw_envelope("v1", "Namespace", raw);
    assert_eq!(
        decode_request(&body).unwrap(),
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "n", "creationTimestamp": null}})
    );
}

fn raw_envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let u = Unknown {
        type_meta: Some(TypeMeta {
            api_version: s(api_version),
            kind: s(kind),
        }),
        raw: Some(raw),
        content_encoding: None,
        content_type: None,
    };
    let mut out = b"k8s\0".to_vec();
    out.extend(u.encode_to_vec());
    out
}

#[test]
fn malformed_input() {
    // No magic.
    let e = decode_request(b"{\"kind\":\"Pod\"}").unwrap_err();
    assert_eq!(e.kind, ErrorKind::MissingMagic);

    // Unknown top-level kind.
    let e = decode_request(&raw_envelope("v1", "Widget", vec![])).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::UnknownKind {
            api_version: "v1".into(),
            kind: "Widget".into()
        }
    );
    assert!(e.to_string().contains("Widget"), "{e}");
    // Wrong apiVersion for a known kind.
    assert!(matches!(
        decode_request(&raw_envelope("apps/v1", "Pod", vec![]))
            .unwrap_err()
            .kind,
        ErrorKind::UnknownKind { .. }
    ));

    // A truncated object: cut the encoded Deployment short.
    let d = apps::Deployment {
        metadata: Some(go_meta("web", "default")),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(1),
            ..Default::default()
        }),
        status: None,
    };
    let raw = d.encode_to_vec();
    let e = decode_request(&raw_envelope(
        "apps/v1",
        "Deployment",
        raw[..raw.len() - 1].to_vec(),
    ))
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Truncated);
    assert_eq!(e.path(), "spec");
    // A truncated envelope.
    let body = envelope("apps/v1", "Deployment", &d);
    let e = decode_request(&body[..body.len() - 3]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Truncated);

    // Bad wire type: metadata (field 1, a message) sent as a varint.
    let e = decode_request(&raw_envelope("apps/v1", "Deployment", vec![0x08, 0x01])).unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::BadWireType { wire_type: 0, .. }),
        "{e}"
    );
    assert_eq!(e.path(), "metadata");
    assert_eq!(
        e.to_string(),
        "protobuf: bad wire type 0 (expected length-delimited) at metadata"
    );
    // Deeper: spec.replicas (field 1 of DeploymentSpec, a varint) as length-delimited.
    let e = decode_request(&raw_envelope(
        "apps/v1",
        "Deployment",
        vec![0x12, 0x03, 0x0a, 0x01, 0x00],
    ))
    .unwrap_err();
    assert_eq!(e.path(), "spec.replicas");

    // Invalid UTF-8 in a string, inside a repeated message.
    let obj = vec![0x0a, 0x03, 0x0a, 0x01, 0xff]; // metadata { name: b"\xff" }
    let e = decode_request(&raw_envelope("v1", "Namespace", obj)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidUtf8);
    assert_eq!(e.path(), "metadata.name");

    // Element index in repeated fields.
    let pod = core::Pod {
        spec: Some(core::PodSpec {
            containers: vec![
                core::Container {
                    name: s("a"),
                    ..Default::default()
                },
                core::Container {
                    name: s("b"),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut raw = pod.encode_to_vec();
    let last = raw.len() - 1;
    raw[last] = 0xff; // the second container's name "b" → invalid UTF-8
    let e = decode_request(&raw_envelope("v1", "Pod", raw)).unwrap_err();
    assert_eq!(e.path(), "spec.containers[1].name");

    // Overlong varint, groups, field number 0.
    let e = decode_request(&raw_envelope("v1", "Namespace", vec![0x80; 11])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::VarintTooLong);
    let e = decode_request(&raw_envelope("v1", "Namespace", vec![0x9b, 0x06])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedWireType(3)); // a group in unknown field 99
    let e = decode_request(&raw_envelope("v1", "Namespace", vec![0x00, 0x00])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidFieldNumber(0));

    // Invalid RawExtension JSON.
    let cr = apps::ControllerRevision {
        data: Some(k8s_pb::apimachinery::pkg::runtime::RawExtension {
            raw: Some(b"{not json".to_vec()),
        }),
        ..Default::default()
    };
    let e = decode_request(&envelope("apps/v1", "ControllerRevision", &cr)).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::InvalidJson(_)));
    assert_eq!(e.path(), "data");

    // A compressed body.
    let u = Unknown {
        type_meta: Some(TypeMeta {
            api_version: s("v1"),
            kind: s("Namespace"),
        }),
        raw: Some(vec![]),
        content_encoding: s("gzip"),
        content_type: None,
    };
    let mut body = b"k8s\0".to_vec();
    body.extend(u.encode_to_vec());
    assert_eq!(
        decode_request(&body).unwrap_err().kind,
        ErrorKind::UnsupportedEncoding("gzip".into())
    );
}

#[test]
fn table_covers_every_served_kind() {
    let kinds: Vec<_> = protobuf_json::kinds().collect();
    assert_eq!(kinds.len(), 25);
    for (v, k) in [
        ("v1", "Pod"),
        ("apps/v1", "Deployment"),
        ("batch/v1", "CronJob"),
        ("autoscaling/v1", "Scale"),
        ("events.k8s.io/v1", "Event"),
        ("storage.k8s.io/v1", "StorageClass"),
    ] {
        assert!(kinds.contains(&(v, k)), "{v} {k}");
    }
    // Every message's fields are sorted by number (the decoder binary-searches them).
    for m in protobuf_json::messages() {
        assert!(
            m.fields.windows(2).all(|w| w[0].number < w[1].number),
            "{}",
            m.name
        );
    }
}
