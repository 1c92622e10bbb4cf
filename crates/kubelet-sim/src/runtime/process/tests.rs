//! The process runtime against real processes (root and Linux namespaces, as on CI).

use super::*;
use crate::images::Resolution;
use crate::runtime::{Mount, VolumeFile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Node {
    rt: ProcessRuntime,
    dir: tempfile::TempDir,
}

fn node() -> Node {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let rt = ProcessRuntime::new(
        "node-1",
        &data,
        Arc::new(Catalog::embedded()),
        super::super::Timing::FAST,
        LogStore::new(&data),
    );
    Node { rt, dir }
}

impl Node {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn sandbox(&self, uid: &str, hostname: &str, volumes: Vec<PodVolume>) -> String {
        self.rt
            .run_pod_sandbox(&SandboxConfig {
                uid: uid.into(),
                name: hostname.into(),
                namespace: "default".into(),
                hostname: hostname.into(),
                ip: "10.244.0.9".into(),
                volumes,
                hosts: format!("127.0.0.1\tlocalhost\n10.244.0.9\t{hostname}\n"),
            })
            .unwrap()
    }

    fn config(&self, uid: &str, image: &str, command: &[&str]) -> ContainerConfig {
        let info = match self.rt.sim.catalog_resolve(image) {
            Resolution::Found(i) => i,
            Resolution::NotFound(_) => panic!("{image}"),
        };
        ContainerConfig {
            pod_uid: uid.into(),
            pod_name: format!("pod-{uid}"),
            namespace: "default".into(),
            name: "c".into(),
            image: std::sync::Arc::new(info),
            command: command.iter().map(|s| s.to_string()).collect(),
            args: vec![],
            restart_policy: "Never".into(),
            attempt: 0,
            mounts: vec![],
            env: vec![],
            working_dir: None,
            io: Default::default(),
        }
    }

    fn start(&self, config: &ContainerConfig) -> String {
        let id = self.rt.create_container(config).unwrap();
        self.rt.start_container(&id, SystemTime::now()).unwrap();
        id
    }

    /// Run a command in pod `uid` to its end: (exit code, stdout lines).
    fn run(&self, uid: &str, command: &[&str]) -> (i32, Vec<String>) {
        self.run_config(self.config(uid, "busybox", command))
    }

    fn run_config(&self, config: ContainerConfig) -> (i32, Vec<String>) {
        let id = self.start(&config);
        let code = self
            .rt
            .wait_exited(&id, Duration::from_secs(20))
            .expect("exits");
        (code, self.log(&config, &id))
    }

    fn log(&self, config: &ContainerConfig, id: &str) -> Vec<String> {
        let text = std::fs::read_to_string(self.rt.logs.path(&config.log_key(id))).unwrap();
        text.lines()
            .filter_map(|l| l.split_once(" stdout F ").map(|(_, t)| t.to_string()))
            .collect()
    }
}

fn gone(pid: libc::pid_t) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // A zombie runs nothing.
        Ok(s) => s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_container_runs_with_its_pods_hostname() {
    let n = node();
    n.sandbox("u1", "web-0", vec![]);
    let (code, out) = n.run(
        "u1",
        &["sh", "-c", "cat /proc/sys/kernel/hostname; echo $HOSTNAME"],
    );
    assert_eq!(code, 0);
    assert_eq!(out[0], "web-0");
}

#[test]
fn exit_codes_are_reported_as_completed_or_error() {
    let n = node();
    n.sandbox("u1", "p", vec![]);
    let id = n.start(&n.config(
        "u1",
        "busybox",
        &["sh", "-c", "echo out; echo err >&2; exit 3"],
    ));
    assert_eq!(n.rt.wait_exited(&id, Duration::from_secs(20)), Some(3));
    assert!(matches!(
        n.rt.container_status(&id, SystemTime::now()).unwrap(),
        ContainerStatus::Exited {
            exit_code: 3,
            reason: "Error",
            ..
        }
    ));
    let config = n.config("u1", "busybox", &[]);
    let log = std::fs::read_to_string(n.rt.logs.path(&config.log_key(&id))).unwrap();
    assert!(
        log.contains(" stdout F out\n") && log.contains(" stderr F err\n"),
        "{log}"
    );
    let (code, _) = n.run("u1", &["true"]);
    assert_eq!(code, 0);
}

#[test]
fn a_file_written_in_a_container_is_neither_on_the_host_nor_in_another_pod() {
    let n = node();
    n.sandbox("a", "a", vec![]);
    n.sandbox("b", "b", vec![]);
    let name = format!("/tmp/kube-lite-test-{}", random_id());
    let (code, _) = n.run(
        "a",
        &["sh", "-c", &format!("echo hi > {name} && cat {name}")],
    );
    assert_eq!(code, 0);
    assert!(!Path::new(&name).exists(), "the host's /tmp is untouched");
    let (code, _) = n.run("b", &["test", "-e", &name]);
    assert_eq!(code, 1, "another pod does not see it");
    // Nor can a pod see the cluster's data dir.
    let data = n.data();
    let (code, out) = n.run("a", &["sh", "-c", &format!("ls -A {}", data.display())]);
    assert_eq!((code, out), (0, vec![]));
}

#[test]
fn a_claims_directory_persists_across_pod_recreation() {
    let n = node();
    let pv = n.data().join("volumes").join("pvc-1234_default_data");
    std::fs::create_dir_all(&pv).unwrap();
    let volumes = vec![PodVolume {
        name: "d".into(),
        source: VolumeSource::Claim("data".into()),
    }];
    let sb = n.sandbox("first", "web-0", volumes.clone());
    let mut config = n.config("first", "busybox", &["sh", "-c", "echo kept > /data/file"]);
    config.mounts = vec![Mount::new("d", "/data", false)];
    assert_eq!(n.run_config(config).0, 0);
    n.rt.stop_pod_sandbox(&sb);
    assert_eq!(std::fs::read_to_string(pv.join("file")).unwrap(), "kept\n");
    n.sandbox("second", "web-0", volumes);
    let mut config = n.config("second", "busybox", &["cat", "/data/file"]);
    config.mounts = vec![Mount::new("d", "/data", true)];
    assert_eq!(n.run_config(config), (0, vec!["kept".to_string()]));
}

#[test]
fn api_data_volumes_are_read_only_files_and_etc_hosts_is_the_pods() {
    let n = node();
    let file = |path: &str, data: &str| VolumeFile {
        path: path.into(),
        data: data.as_bytes().to_vec(),
        mode: 0o644,
    };
    let volumes = vec![PodVolume {
        name: "config".into(),
        source: VolumeSource::Files(vec![file("mode", "fast"), file("sub/level", "3")]),
    }];
    n.sandbox("u", "web-1", volumes);
    let mut config = n.config(
        "u",
        "busybox",
        &[
            "sh",
            "-c",
            "cat /etc/config/mode; echo; cat /etc/config/sub/level; echo; \
             touch /etc/config/x 2>/dev/null || echo read-only; grep web-1 /etc/hosts",
        ],
    );
    // Not asked for read-only: the volume's kind makes it so.
    config.mounts = vec![Mount::new("config", "/etc/config", false)];
    assert_eq!(
        n.run_config(config),
        (
            0,
            ["fast", "3", "read-only", "10.244.0.9\tweb-1"]
                .map(String::from)
                .to_vec()
        )
    );
}

#[test]
fn a_mount_path_through_a_link_planted_in_a_volume_is_refused_and_creates_nothing_on_the_host() {
    let n = node();
    let volumes = vec![PodVolume {
        name: "v".into(),
        source: VolumeSource::EmptyDir,
    }];
    n.sandbox("u", "p", volumes);
    let target = format!("/tmp/kube-lite-escape-{}", random_id());
    let mut plant = n.config("u", "busybox", &["ln", "-s", &target, "/vol/link"]);
    plant.mounts = vec![Mount::new("v", "/vol", false)];
    assert_eq!(n.run_config(plant).0, 0);
    let mut follow = n.config("u", "busybox", &["true"]);
    follow.mounts = vec![
        Mount::new("v", "/vol", false),
        Mount::new("v", "/vol/link/inner", false),
    ];
    let id = n.rt.create_container(&follow).unwrap();
    assert!(n.rt.start_container(&id, SystemTime::now()).is_err());
    assert!(!Path::new(&target).exists());
}

#[test]
fn a_mount_path_under_a_host_link_lands_where_the_link_points_inside_the_container() {
    assert_eq!(
        spawn::resolve_in_root(Path::new("/no-such-dir/x")),
        PathBuf::from("/no-such-dir/x")
    );
    if std::fs::read_link("/var/run").is_ok_and(|t| t == Path::new("/run")) {
        assert_eq!(
            spawn::resolve_in_root(Path::new("/var/run/secrets")),
            PathBuf::from("/run/secrets")
        );
    }
}

#[test]
fn the_probe_says_why_sandboxes_cannot_be_made_here() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(unavailable_reason(&dir.path().join("data")), None);
    let bad = dir.path().join("a,b");
    let why = unavailable_reason(&bad).expect("overlayfs cannot take a comma");
    assert!(why.contains("comma"), "{why}");
}

#[test]
fn a_stopped_container_gets_sigterm_then_sigkill_after_its_grace() {
    let n = node();
    n.sandbox("u", "p", vec![]);
    let polite = n.start(&n.config("u", "busybox", &["sleep", "1000"]));
    let stubborn = n.start(&n.config(
        "u",
        "busybox",
        &["sh", "-c", "trap '' TERM; while :; do sleep 1; done"],
    ));
    std::thread::sleep(Duration::from_millis(200)); // let the shell install its trap
    n.rt.stop_container(&polite, Duration::from_secs(30), SystemTime::now())
        .unwrap();
    n.rt.stop_container(&stubborn, Duration::from_millis(300), SystemTime::now())
        .unwrap();
    assert_eq!(
        n.rt.wait_exited(&polite, Duration::from_secs(10)),
        Some(143)
    );
    assert_eq!(
        n.rt.wait_exited(&stubborn, Duration::from_secs(10)),
        Some(137)
    );
}

#[test]
fn no_process_is_left_after_the_runtime_is_dropped() {
    let n = node();
    n.sandbox("u", "p", vec![]);
    let id = n.start(&n.config("u", "busybox", &["sleep", "1000"]));
    let c = n.rt.container(&id).unwrap();
    let (pid, outer) = {
        let g = c.lock();
        let live = g.1.as_ref().unwrap();
        (live.pid, live.outer)
    };
    let holder =
        n.rt.with(|t| t.sandboxes.values().next().unwrap().holder.pid);
    assert!(!gone(pid) && !gone(holder));
    drop(n);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while ![pid, outer, holder].into_iter().all(gone) {
        assert!(
            std::time::Instant::now() < deadline,
            "a pod process outlived the runtime"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn nginx_serves_its_default_page_on_the_pods_own_localhost_and_logs_the_request() {
    let n = node();
    let web = n.sandbox("web", "web", vec![]);
    let other = n.sandbox("other", "other", vec![]);
    let config = n.config("web", "nginx:1.27", &[]);
    let id = n.start(&config);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut s = n.rt.port_forward(&web, 80).await.unwrap();
        s.write
            .write_all(
                b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: test/1\r\nConnection: close\r\n\r\n",
            )
            .await
            .unwrap();
        let mut body = String::new();
        s.read.read_to_string(&mut body).await.unwrap();
        assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
        assert!(body.contains("<h1>Welcome to nginx!</h1>"), "{body}");
        assert!(
            n.rt.port_forward(&other, 80).await.is_err(),
            "another pod's localhost has nothing on port 80"
        );
        // The walkthrough's StatefulSet step: a page written through `exec` is served, and
        // `curl` in the container reaches the server on the pod's localhost.
        let req = ExecRequest {
            command: vec![
                "sh".into(),
                "-c".into(),
                "echo \"$(hostname)\" > /usr/share/nginx/html/index.html && curl -s http://localhost".into(),
            ],
            stdout: true,
            ..ExecRequest::default()
        };
        let mut p = n.rt.exec(&id, req).await.unwrap();
        let mut out = String::new();
        p.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
        assert_eq!((p.exit.await.unwrap(), out.as_str()), (0, "web\n"));
    });
    let log = n.log(&config, &id);
    assert!(
        log.iter().any(|l| l.starts_with("127.0.0.1 - - [")
            && l.ends_with("\"GET / HTTP/1.1\" 200 615 \"-\" \"test/1\" \"-\"")),
        "{log:?}"
    );
    n.rt.stop_container(&id, Duration::from_secs(30), SystemTime::now())
        .unwrap();
    assert_eq!(n.rt.wait_exited(&id, Duration::from_secs(10)), Some(0));
}

#[test]
fn exec_runs_a_command_inside_the_running_container() {
    let n = node();
    n.sandbox("u", "exec-pod", vec![]);
    let id = n.start(&n.config(
        "u",
        "busybox",
        &["sh", "-c", "echo made > /tmp/x; sleep 1000"],
    ));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // The container's file appears once its shell ran.
        let mut last = String::new();
        for _ in 0..100 {
            let req = ExecRequest {
                command: vec![
                    "sh".into(),
                    "-c".into(),
                    "cat /proc/sys/kernel/hostname /tmp/x".into(),
                ],
                stdout: true,
                stderr: true,
                ..ExecRequest::default()
            };
            let mut p = n.rt.exec(&id, req).await.unwrap();
            let mut out = String::new();
            p.stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .await
                .unwrap();
            let code = p.exit.await.unwrap();
            if code == 0 {
                assert_eq!(out, "exec-pod\nmade\n");
                return;
            }
            last = out;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("exec never saw the container's file: {last:?}");
    });
    rt.block_on(async {
        let req = ExecRequest {
            command: vec!["cat".into()],
            stdin: true,
            stdout: true,
            ..ExecRequest::default()
        };
        let mut p = n.rt.exec(&id, req).await.unwrap();
        let mut stdin = p.stdin.take().unwrap();
        stdin.write_all(b"echoed\n").await.unwrap();
        stdin.shutdown().await.unwrap();
        drop(stdin);
        let mut out = String::new();
        p.stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .await
            .unwrap();
        assert_eq!(out, "echoed\n");
        assert_eq!(p.exit.await.unwrap(), 0);
    });
}

#[test]
fn exec_with_a_tty_gets_a_terminal_of_the_size_asked_for() {
    let n = node();
    n.sandbox("u", "p", vec![]);
    let id = n.start(&n.config("u", "busybox", &["sleep", "1000"]));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let req = ExecRequest {
            command: vec![
                "sh".into(),
                "-c".into(),
                "read go; stty size; test -t 0 && echo interactive".into(),
            ],
            stdin: true,
            stdout: true,
            tty: true,
            ..ExecRequest::default()
        };
        let mut p = n.rt.exec(&id, req).await.unwrap();
        assert!(p.stderr.is_none(), "a tty merges stderr into stdout");
        (p.resize.take().unwrap())(100, 30);
        let mut stdin = p.stdin.take().unwrap();
        stdin.write_all(b"go\n").await.unwrap();
        stdin.flush().await.unwrap();
        let mut out = String::new();
        p.stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .await
            .unwrap();
        assert!(out.contains("30 100\r\ninteractive\r\n"), "{out:?}");
        assert_eq!(p.exit.await.unwrap(), 0);
    });
}

#[test]
fn args_without_a_command_replace_the_images_cmd_as_a_container_runtime_does() {
    let n = node();
    n.sandbox("args", "args", vec![]);
    let mut c = n.config("args", "busybox", &[]);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // The walkthrough's CronJob: `args: [/bin/sh, -c, ...]` and no command.
    c.args = s(&["/bin/sh", "-c", "echo Hello from the Kubernetes cluster"]);
    assert_eq!(command_line(&c), c.args);
    let (code, out) = n.run_config(c.clone());
    assert_eq!((code, out), (0, s(&["Hello from the Kubernetes cluster"])));
    // command + args; command alone; neither (the image's CMD).
    c.command = s(&["echo"]);
    c.args = s(&["a", "b"]);
    assert_eq!(command_line(&c), s(&["echo", "a", "b"]));
    c.args.clear();
    assert_eq!(command_line(&c), s(&["echo"]));
    c.command.clear();
    assert_eq!(command_line(&c), c.image.command);
    // An image with an ENTRYPOINT: args follow it in place of the CMD; a command replaces both.
    let image = std::sync::Arc::make_mut(&mut c.image);
    image.entrypoint = s(&["python", "train.py"]);
    image.command = s(&["1"]);
    assert_eq!(command_line(&c), s(&["python", "train.py", "1"]));
    c.args = s(&["3", "softmax", "0.5"]);
    assert_eq!(
        command_line(&c),
        s(&["python", "train.py", "3", "softmax", "0.5"])
    );
    c.command = s(&["sh"]);
    assert_eq!(command_line(&c), s(&["sh", "3", "softmax", "0.5"]));
}

#[test]
fn an_image_with_nothing_runnable_gets_a_placeholder_that_lives_as_the_catalog_says() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        (
            Behaviour::RunsForever,
            0,
            "trap 'kill $s 2>/dev/null; exit 0' TERM; sleep infinity & s=$!; wait $s; exit 0",
        ),
        (
            Behaviour::Exits {
                after: Duration::from_millis(2500),
                code: 3,
            },
            143,
            "trap 'kill $s 2>/dev/null; exit 143' TERM; sleep 2.500 & s=$!; wait $s; exit 3",
        ),
    ];
    for (lives, stop, script) in cases {
        assert_eq!(placeholder(&lives, stop), s(&["/bin/sh", "-c", script]));
    }
    // It really exits with the code, and with the stop code on SIGTERM.
    let run = |script: &str, term: bool| {
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", script])
            .spawn()
            .expect("sh");
        if term {
            std::thread::sleep(Duration::from_millis(200));
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        }
        child.wait().expect("wait").code()
    };
    let quick = placeholder(
        &Behaviour::Exits {
            after: Duration::from_millis(10),
            code: 3,
        },
        143,
    );
    assert_eq!(run(&quick[2], false), Some(3));
    let forever = placeholder(&Behaviour::RunsForever, 0);
    assert_eq!(run(&forever[2], true), Some(0));
}

#[test]
fn a_sub_path_mounts_one_key_of_a_volume_or_a_directory_made_for_it_and_never_leads_out() {
    let n = node();
    let volumes = vec![
        PodVolume {
            name: "config".into(),
            source: VolumeSource::Files(vec![VolumeFile {
                path: "app.conf".into(),
                data: b"mode=fast\n".to_vec(),
                mode: 0o644,
            }]),
        },
        PodVolume {
            name: "v".into(),
            source: VolumeSource::EmptyDir,
        },
    ];
    n.sandbox("u", "p", volumes);
    let sub = |volume: &str, path: &str, sub: &str| Mount {
        sub_path: Some(sub.into()),
        ..Mount::new(volume, path, false)
    };
    let mut config = n.config(
        "u",
        "busybox",
        &[
            "sh",
            "-c",
            "cat /etc/app.conf; ls /etc/app.conf; echo x > /logs/out; ls /vol/web/logs",
        ],
    );
    config.mounts = vec![
        sub("config", "/etc/app.conf", "app.conf"),
        sub("v", "/logs", "web/logs"),
        Mount::new("v", "/vol", false),
    ];
    assert_eq!(
        n.run_config(config),
        (
            0,
            ["mode=fast", "/etc/app.conf", "out"]
                .map(String::from)
                .to_vec()
        )
    );
    // Out of the volume, by `..` or by a link the pod planted: refused.
    let mut plant = n.config("u", "busybox", &["ln", "-s", "/etc", "/vol/out"]);
    plant.mounts = vec![Mount::new("v", "/vol", false)];
    assert_eq!(n.run_config(plant).0, 0);
    for s in ["../other", "out", "/abs"] {
        let mut c = n.config("u", "busybox", &["true"]);
        c.mounts = vec![sub("v", "/x", s)];
        let id = n.rt.create_container(&c).unwrap();
        let e = n.rt.start_container(&id, SystemTime::now()).unwrap_err();
        assert!(
            e.to_string().contains("failed to prepare subPath"),
            "{s}: {e}"
        );
    }
}
