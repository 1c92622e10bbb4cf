//! `pods/log` end to end, through the real `kube-lite up --fast` binary and the real kubectl
//! (`KUBE_LITE_KUBECTL`, default `kubectl`): the kubelet's errors for containers without a log
//! yet, kube-apiserver's errors for unknown containers and bad parameters, and `logs -f`
//! ending when the container ends.

use std::time::{Duration, Instant};
use testkit::{run, KubeLite, Output};

fn start() -> KubeLite {
    KubeLite::start(env!("CARGO_BIN_EXE_kube-lite"), &["--fast"])
}

fn kubectl(k: &KubeLite, args: &[&str]) -> Output {
    run(k.kubectl().args(args))
}

fn apply(k: &KubeLite, yaml: &str) {
    let mut c = k.kubectl();
    c.args(["apply", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("kubectl");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run kubectl until its output satisfies `pred` (30 s at most); returns that output.
fn until(k: &KubeLite, args: &[&str], what: &str, pred: impl Fn(&Output) -> bool) -> Output {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = kubectl(k, args);
        if pred(&o) {
            return o;
        }
        if Instant::now() > deadline {
            panic!(
                "timed out waiting for {what}; last `kubectl {}`:\n{}{}",
                args.join(" "),
                o.stdout,
                o.stderr
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn pod_yaml(name: &str, image: &str, command: &str, policy: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  restartPolicy: {policy}\n  containers:\n  - name: main\n    image: {image}\n    command: {command}\n"
    )
}

#[test]
fn logs_of_a_container_that_cannot_start_or_does_not_exist_are_refused_with_kubelet_and_apiserver_words(
) {
    let k = start();
    apply(&k, &pod_yaml("badtag", "nginx:1.9.21", "[]", "Always"));
    let o = until(&k, &["logs", "badtag"], "the pull to fail", |o| {
        o.stderr.contains("waiting to start: ")
            && !o.stderr.contains("ContainerCreating")
            && !o.stderr.contains("no logs yet")
    });
    assert_ne!(o.code, 0);
    assert!(
        o.stderr.contains("Error from server (BadRequest): container \"main\" in pod \"badtag\" is waiting to start: ")
            && (o.stderr.contains("image can't be pulled")
                || o.stderr.contains("trying and failing to pull image")),
        "{}",
        o.stderr
    );
    // kubectl checks the name itself; the server says the same to other clients.
    let o = kubectl(&k, &["logs", "badtag", "-c", "nope"]);
    assert_ne!(o.code, 0);
    assert!(
        o.stderr
            .contains("container nope is not valid for pod badtag"),
        "{}",
        o.stderr
    );
    let (code, body) = k.get("/api/v1/namespaces/default/pods/badtag/log?container=nope");
    assert_eq!(code, 400, "{body}");
    assert_eq!(
        body["message"],
        "container nope is not valid for pod badtag"
    );
}

#[test]
fn bad_log_parameters_are_a_status_naming_the_field() {
    let k = start();
    apply(
        &k,
        &pod_yaml("sleeper", "busybox", "[sleep, '3600']", "Always"),
    );
    until(
        &k,
        &["get", "pod", "sleeper", "-o", "jsonpath={.status.phase}"],
        "Running",
        |o| o.stdout == "Running",
    );
    let base = "/api/v1/namespaces/default/pods/sleeper/log";
    let (code, body) = k.get(&format!("{base}?tailLines=abc"));
    assert_eq!(
        (code, body["reason"].as_str()),
        (400, Some("BadRequest")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("tailLines"),
        "{body}"
    );
    let (code, body) = k.get(&format!("{base}?tailLines=-1"));
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "PodLogOptions \"sleeper\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0"
    );
    let (code, body) = k.get(&format!("{base}?limitBytes=0&sinceSeconds=0"));
    assert_eq!(code, 422, "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains("limitBytes") && msg.contains("sinceSeconds"),
        "{msg}"
    );
    let (code, body) = k.get(&format!("{base}?follow=maybe"));
    assert_eq!(code, 400, "{body}");
    let (code, body) = k.get("/api/v1/namespaces/default/pods/ghost/log");
    assert_eq!(code, 404, "{body}");
    let o = kubectl(&k, &["logs", "sleeper", "--previous"]);
    assert!(
        o.stderr
            .contains("previous terminated container \"main\" in pod \"sleeper\" not found"),
        "{}",
        o.stderr
    );
    let o = kubectl(&k, &["logs", "sleeper", "--tail=5", "--timestamps"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, ""), "{}", o.stderr);
}

#[test]
fn logs_follow_returns_when_the_container_ends() {
    let k = start();
    apply(&k, &pod_yaml("brief", "busybox", "[sleep, '3']", "Never"));
    until(
        &k,
        &["get", "pod", "brief", "-o", "jsonpath={.status.phase}"],
        "Running",
        |o| o.stdout == "Running",
    );
    let began = Instant::now();
    let o = kubectl(&k, &["logs", "-f", "brief"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "the follow ended {:?} after the start",
        began.elapsed()
    );
    until(
        &k,
        &["get", "pod", "brief", "-o", "jsonpath={.status.phase}"],
        "Succeeded",
        |o| o.stdout == "Succeeded",
    );
}
