//! The process runtime: pods get real sandboxes and shell images run real processes.
//!
//! Each pod's sandbox is a holder process (`sleep infinity` as PID 1 of new UTS, network, IPC
//! and PID namespaces; hostname `spec.hostname` or the pod's name; its own loopback). A
//! container of a shell-type image (busybox, alpine, ubuntu, python, …) runs its
//! `command`/`args` with the host's programs, inside those namespaces and a mount namespace
//! of its own (`spawn`): the host root read-only under an overlay whose writable layer is
//! `<data>/runtime/<node>/<container-id>/upper`, the image's catalog files laid over, the
//! pod's volumes at their mountPaths, the cluster's data dir hidden. `nginx` is a built-in
//! static server in the pod's network namespace (`nginx`). An image declared with an
//! entrypoint runs it. Images with nothing runnable (fluentd, unknown images) run a silent
//! placeholder process that lives and exits as the catalog says, so `exec` works in every
//! pod. Output goes to the container's CRI log file; the exit
//! code decides `Completed`/`Error`; an exit notifies the pod's worker (`changes`).
//!
//! Volumes: emptyDir → `<data>/runtime/<node>/pods/<uid>/volumes/<name>` (removed with the
//! sandbox); configMap, secret, downwardAPI and projected → the same place, filled with the
//! files the kubelet made (`files`, the atomic writer's layout) and mounted read-only; a PVC → its PersistentVolume's directory (`volumes::claim_dir`), which outlives
//! the pod; hostPath → `<data>/runtime/<node>/hostpath/<path>`, never the host's own path.
//!
//! `/etc/hosts` is the kubelet's file for the pod (`<pods>/<uid>/etc-hosts`), bound into each
//! container that does not mount something there itself.
//!
//! Without root, kube-lite runs in a user namespace of its own (`rootless`), where the host's
//! mounts are locked: the container's root is then its writable layer with an overlay per
//! top-level directory of the host's.
//!
//! Every process dies with the runtime: the holders and the intermediates are started from
//! one spawner thread with `PR_SET_PDEATHSIG`, and `Drop` kills what is left.

mod attach;
mod exec;
mod files;
mod nginx;
mod output;
pub mod rootless;
mod spawn;
mod sys;
#[cfg(test)]
mod tests;

use super::{
    simulated::exit_reason, ContainerConfig, ContainerRuntime, ContainerStatus, ExecProcess,
    ExecRequest, PodVolume, PortStream, PullPlan, RuntimeError, SandboxConfig, SimulatedRuntime,
    VolumeSource,
};
use crate::images::{random_id, Behaviour, Catalog, ImageInfo, ImageRef, Profile};
use crate::logs::{LogStore, Stream};
use futures::future::BoxFuture;
use spawn::{Bind, RootPlan, Started};
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::Notify;

/// How long to wait for a container's output after its process exited (a child it left
/// behind may hold the pipes open).
const OUTPUT_DRAIN: Duration = Duration::from_millis(300);

/// What a container of an image runs as here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Its command line, with the host's programs.
    Shell,
    /// The built-in static HTTP server.
    Nginx,
    /// An image with nothing runnable here (fluentd, an image not in the catalog): a
    /// placeholder process that holds the container's root, so `exec` works, and lives and
    /// exits as the catalog says a container of the image does. It prints nothing.
    Placeholder,
}

fn kind_of(image: &ImageInfo) -> Option<Kind> {
    match image.profile {
        Some(Profile::Shell) => Some(Kind::Shell),
        Some(Profile::Server) if image.reference.repository() == "docker.io/library/nginx" => {
            Some(Kind::Nginx)
        }
        // An image declared with an entrypoint runs it with the host's programs.
        _ if !image.entrypoint.is_empty() => Some(Kind::Shell),
        _ => None,
    }
}

/// A pod's sandbox.
struct Sandbox {
    uid: String,
    holder: Started,
    /// `<root>/pods/<uid>`: the emptyDirs.
    dir: PathBuf,
    volumes: HashMap<String, PathBuf>,
    /// The API-data volumes (always mounted read-only) and the files last written there.
    payloads: HashMap<String, Vec<super::VolumeFile>>,
    /// The pod's `/etc/hosts`.
    hosts: PathBuf,
    changes: Arc<Notify>,
}

impl Sandbox {
    fn kill(&mut self) {
        if let Some(fd) = &self.holder.pidfd {
            sys::pidfd_kill(fd, libc::SIGKILL);
        }
        let _ = self.holder.child.kill();
        let _ = self.holder.child.wait();
    }
}

#[derive(Clone, Copy, Debug)]
enum State {
    Created,
    Running {
        started_at: SystemTime,
    },
    Exited {
        started_at: SystemTime,
        finished_at: SystemTime,
        code: i32,
    },
}

/// A running container's handles.
struct Live {
    pid: libc::pid_t,
    pidfd: Option<OwnedFd>,
    /// The intermediate process (its pid, to kill it with the process).
    outer: libc::pid_t,
    /// Set for nginx: stops the server.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The main process's stdio, for `attach`.
    io: Arc<attach::MainIo>,
}

struct Container {
    id: String,
    config: ContainerConfig,
    kind: Kind,
    sandbox: String,
    layer: PathBuf,
    state: Mutex<(State, Option<Live>, bool)>,
    exited: Condvar,
    changes: Arc<Notify>,
}

impl Container {
    fn lock(&self) -> std::sync::MutexGuard<'_, (State, Option<Live>, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn signal(&self, signal: libc::c_int) {
        let g = self.lock();
        if let Some(fd) = g.1.as_ref().and_then(|l| l.pidfd.as_ref()) {
            sys::pidfd_kill(fd, signal);
        }
    }

    fn kill(&self) {
        let mut g = self.lock();
        if let Some(live) = g.1.as_mut() {
            if let Some(stop) = live.stop.take() {
                let _ = stop.send(());
            }
            if let Some(fd) = &live.pidfd {
                sys::pidfd_kill(fd, libc::SIGKILL);
            }
            if live.outer > 0 {
                // SAFETY: plain kill(2) of our own child, which is not reaped before the
                // waiter marks the container exited (and clears `Live`) under this lock.
                unsafe { libc::kill(live.outer, libc::SIGKILL) };
            }
        }
    }

    /// The process ended with `code`.
    fn exit(&self, code: i32) {
        let mut g = self.lock();
        if let State::Running { started_at } = g.0 {
            g.0 = State::Exited {
                started_at,
                finished_at: SystemTime::now(),
                code,
            };
        }
        g.1 = None;
        let removed = g.2;
        drop(g);
        self.exited.notify_all();
        self.changes.notify_one();
        if removed {
            let _ = std::fs::remove_dir_all(&self.layer);
        }
    }
}

enum Entry {
    /// Left to the simulated runtime.
    Simulated,
    Process(Arc<Container>),
}

#[derive(Default)]
struct Tables {
    sandboxes: HashMap<String, Sandbox>,
    /// Pod uid → sandbox id.
    by_pod: HashMap<String, String>,
    containers: HashMap<String, Entry>,
    changes: HashMap<String, Arc<Notify>>,
}

type Job = Box<dyn FnOnce() + Send>;

/// One node's process runtime.
pub struct ProcessRuntime {
    sim: SimulatedRuntime,
    catalog: Arc<Catalog>,
    logs: Arc<LogStore>,
    data_dir: PathBuf,
    /// How containers' roots are made: `None` for one overlay of the host's root; the
    /// per-directory plan in a user namespace (`rootless`), read once from the host's root
    /// and mounts; or why that plan could not be read.
    tops: Result<Option<Vec<rootless::Top>>, String>,
    /// `<data>/runtime/<node>`.
    root: PathBuf,
    tables: Mutex<Tables>,
    /// The thread every process is forked from (their `PR_SET_PDEATHSIG` parent).
    spawner: Mutex<mpsc::Sender<Job>>,
}

/// Why the process runtime cannot run on this machine.
pub fn unavailable_reason(data_dir: &Path) -> Option<String> {
    if let Some(why) = rootless::failure() {
        return Some(why.to_string());
    }
    let probe = ProcessRuntime::new(
        "probe",
        data_dir,
        Arc::new(Catalog::from_yaml("repositories: []").ok()?),
        super::Timing::FAST,
        LogStore::new(data_dir),
    );
    let config = SandboxConfig {
        uid: "probe".into(),
        name: "probe".into(),
        namespace: "probe".into(),
        hostname: "probe".into(),
        ..SandboxConfig::default()
    };
    let r = match probe.run_pod_sandbox(&config) {
        Ok(id) => {
            let r = probe.probe_container(&id);
            probe.stop_pod_sandbox(&id);
            r.err()
        }
        Err(e) => Some(e.to_string()),
    };
    let _ = std::fs::remove_dir_all(&probe.root);
    r
}

impl ProcessRuntime {
    pub fn new(
        node: &str,
        data_dir: &Path,
        catalog: Arc<Catalog>,
        timing: super::Timing,
        logs: Arc<LogStore>,
    ) -> ProcessRuntime {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(format!("sandboxes-{node}"))
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job();
                }
            })
            .expect("a thread for the sandbox spawner");
        // The path as the container's lower layer has it: symlinks resolved, so the tmpfs
        // that hides it lands inside the container's root.
        let _ = std::fs::create_dir_all(data_dir);
        let data_dir = std::fs::canonicalize(data_dir)
            .or_else(|_| std::path::absolute(data_dir))
            .unwrap_or_else(|_| data_dir.to_path_buf());
        let root = data_dir.join("runtime").join(node);
        // Writable layers of containers whose processes died with an earlier kube-lite.
        for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        ProcessRuntime {
            sim: SimulatedRuntime::new(catalog.clone(), timing).with_logs(logs.clone()),
            catalog,
            logs,
            root,
            data_dir,
            tops: if rootless::in_user_namespace() {
                rootless::host_plan()
                    .map(Some)
                    .map_err(|e| format!("cannot read the host's root and mounts: {e}"))
            } else {
                Ok(None)
            },
            tables: Mutex::new(Tables::default()),
            spawner: Mutex::new(tx),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Tables) -> T) -> T {
        f(&mut self.tables.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Run `f` on the spawner thread.
    fn on_spawner<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.spawner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .map_err(|_| std::io::Error::other("the sandbox spawner is gone"))?;
        rx.recv()
            .map_err(|_| std::io::Error::other("the sandbox spawner is gone"))?
    }

    fn container(&self, id: &str) -> Option<Arc<Container>> {
        self.with(|t| match t.containers.get(id) {
            Some(Entry::Process(c)) => Some(c.clone()),
            _ => None,
        })
    }

    fn is_simulated(&self, id: &str) -> bool {
        self.with(|t| matches!(t.containers.get(id), Some(Entry::Simulated) | None))
    }

    /// Where a volume's files are on this node.
    fn volume_dir(
        &self,
        pod_dir: &Path,
        namespace: &str,
        v: &PodVolume,
    ) -> Result<PathBuf, String> {
        let dir = match &v.source {
            VolumeSource::EmptyDir | VolumeSource::Unsupported | VolumeSource::Files(_) => {
                pod_dir.join("volumes").join(&v.name)
            }
            VolumeSource::HostPath(p) => {
                let inside = spawn::container_path(p)
                    .ok_or_else(|| format!("hostPath {p:?} must be an absolute path without .."))?;
                self.root
                    .join("hostpath")
                    .join(inside.strip_prefix("/").unwrap_or(&inside))
            }
            VolumeSource::Claim(claim) => {
                crate::volumes::claim_dir(&self.data_dir, namespace, claim)
                    .ok_or_else(|| format!("persistentvolumeclaim \"{claim}\" is not bound"))?
            }
        };
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if let VolumeSource::Files(f) = &v.source {
            files::write(&dir, f).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        Ok(dir)
    }

    /// Start a throwaway container in sandbox `id` to see that mounts work.
    fn probe_container(&self, sandbox: &str) -> Result<(), String> {
        let holder = self
            .with(|t| t.sandboxes.get(sandbox).map(|s| s.holder.pid))
            .ok_or("no sandbox")?;
        let layer = self.root.join("probe-layer");
        for d in ["upper", "work", "merged"] {
            std::fs::create_dir_all(layer.join(d)).map_err(|e| e.to_string())?;
        }
        let plan = RootPlan {
            holder,
            layer: layer.clone(),
            data_dir: self.data_dir.clone(),
            binds: vec![],
            working_dir: None,
            tty: false,
            tops: self.tops().map_err(|e| e.to_string())?,
        };
        let r = self.on_spawner(move || {
            let mut cmd = Command::new("true");
            cmd.env_clear()
                .env("PATH", DEFAULT_PATH)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut s = spawn::in_container(cmd, &plan)?;
            s.child.wait()
        });
        let _ = std::fs::remove_dir_all(&layer);
        match r {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("a container process ended with {status}")),
            Err(e) => Err(format!("cannot start a container process: {e}")),
        }
    }

    /// How containers' roots are made here: `None` for one overlay of the host's root.
    fn tops(&self) -> Result<Option<Vec<rootless::Top>>, RuntimeError> {
        self.tops.clone().map_err(RuntimeError::Failed)
    }

    /// The root of container `c`: its pod's namespaces, its layer and its volume mounts.
    fn root_plan(&self, c: &Container) -> Result<RootPlan, RuntimeError> {
        let (holder, binds) = self
            .with(|t| {
                let sb = t.sandboxes.get(&c.sandbox)?;
                let mut binds = Vec::new();
                for m in &c.config.mounts {
                    let Some(dir) = sb.volumes.get(&m.volume) else {
                        continue;
                    };
                    binds.push(sub_path_source(dir, m).map(|source| Bind {
                        source,
                        target: m.path.clone(),
                        read_only: m.read_only || sb.payloads.contains_key(&m.volume),
                    }));
                }
                let mut binds = match binds.into_iter().collect::<Result<Vec<_>, _>>() {
                    Ok(b) => b,
                    Err(e) => return Some(Err(e)),
                };
                let own_hosts = binds.iter().any(|b| {
                    spawn::container_path(&b.target).is_some_and(|p| p == Path::new("/etc/hosts"))
                });
                if !own_hosts && sb.hosts.is_file() {
                    binds.insert(
                        0,
                        Bind {
                            source: sb.hosts.clone(),
                            target: "/etc/hosts".into(),
                            read_only: false,
                        },
                    );
                }
                Some(Ok((sb.holder.pid, binds)))
            })
            .ok_or_else(|| RuntimeError::Failed(format!("sandbox {} is gone", c.sandbox)))??;
        Ok(RootPlan {
            holder,
            layer: c.layer.clone(),
            data_dir: self.data_dir.clone(),
            binds,
            working_dir: c.config.working_dir.clone(),
            tty: c.config.io.tty,
            tops: self.tops()?,
        })
    }

    fn start_process(&self, c: &Arc<Container>) -> Result<(), RuntimeError> {
        let plan = self.root_plan(c)?;
        let argv = match c.kind {
            Kind::Placeholder => {
                let i = &c.config;
                let lives =
                    self.catalog
                        .behaviour(&i.image, &i.command, &i.args, &i.restart_policy);
                placeholder(&lives, i.image.stop_exit_code)
            }
            _ => command_line(&c.config),
        };
        let env = environment(&c.config);
        let spec = c.config.io;
        let failed = |e: std::io::Error| {
            RuntimeError::Failed(format!(
                "failed to create containerd task: failed to start container process: {e}"
            ))
        };
        // `tty: true`: the process runs on a pty whose leader side we keep.
        let (leader, follower) = match spec.tty.then(exec::openpty).transpose().map_err(failed)? {
            Some((l, f)) => (Some(Arc::new(l)), Some(f)),
            None => (None, None),
        };
        let started = self
            .on_spawner(move || {
                let mut cmd = Command::new(&argv[0]);
                cmd.args(&argv[1..]).env_clear().envs(env);
                match &follower {
                    Some(f) => exec::on_pty(&mut cmd, f)?,
                    None => {
                        let stdin = if spec.stdin {
                            Stdio::piped()
                        } else {
                            Stdio::null()
                        };
                        cmd.stdin(stdin)
                            .stdout(Stdio::piped())
                            .stderr(Stdio::piped());
                    }
                }
                let s = spawn::in_container(cmd, &plan);
                drop(follower);
                s
            })
            .map_err(failed)?;
        let Started {
            mut child,
            pid,
            pidfd,
        } = started;
        let key = c.config.log_key(&c.id);
        let writer = self
            .logs
            .writer(&key)
            .map_err(|e| RuntimeError::Failed(format!("container log: {e}")))?;
        let mut streams: Vec<(Stream, Box<dyn std::io::Read + Send>)> = Vec::new();
        let mut stdin: Option<Box<dyn std::io::Write + Send>> = None;
        match &leader {
            Some(l) => {
                let dup = || l.try_clone().map(std::fs::File::from).map_err(failed);
                streams.push((Stream::Stdout, Box::new(dup()?)));
                if spec.stdin {
                    stdin = Some(Box::new(dup()?));
                }
            }
            None => {
                if let Some(o) = child.stdout.take() {
                    streams.push((Stream::Stdout, Box::new(o)));
                }
                if let Some(e) = child.stderr.take() {
                    streams.push((Stream::Stderr, Box::new(e)));
                }
                if let Some(i) = child.stdin.take() {
                    stdin = Some(Box::new(i));
                }
            }
        }
        let io = attach::MainIo::new(stdin, spec.stdin_once, leader);
        let pumps = output::Pumps::start(writer, streams, io.clone());
        {
            let mut g = c.lock();
            g.0 = State::Running {
                started_at: SystemTime::now(),
            };
            g.1 = Some(Live {
                pid,
                pidfd,
                outer: child.id() as libc::pid_t,
                stop: None,
                io: io.clone(),
            });
        }
        self.logs.started(&key.container_id);
        let c = c.clone();
        let logs = self.logs.clone();
        std::thread::spawn(move || {
            let code = match child.wait() {
                Ok(s) => exit_code(s),
                Err(_) => 255,
            };
            pumps.wait(OUTPUT_DRAIN);
            io.close();
            logs.ended(&key.container_id);
            c.exit(code);
        });
        Ok(())
    }

    fn start_nginx(&self, c: &Arc<Container>, id: &str) -> Result<(), RuntimeError> {
        let (holder, html) = self
            .with(|t| {
                let sb = t.sandboxes.get(&c.sandbox)?;
                let html = nginx::html_dir(&c.config.mounts, &sb.volumes, &c.layer.join("upper"));
                Some((sb.holder.pid, html))
            })
            .ok_or_else(|| RuntimeError::Failed(format!("sandbox {} is gone", c.sandbox)))?;
        let key = c.config.log_key(id);
        let writer = self
            .logs
            .writer(&key)
            .map_err(|e| RuntimeError::Failed(format!("container log: {e}")))?;
        let io = attach::MainIo::new(None, false, None);
        let writer = output::Tee {
            log: writer,
            io: io.clone(),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let listener = nginx::listen(holder, 80).map_err(|e| {
            RuntimeError::Failed(format!("nginx: bind() to 0.0.0.0:80 failed: {e}"))
        })?;
        // A process that holds the container's root and namespaces, so `kubectl exec` has
        // somewhere to run (the server itself is not a process in the pod).
        let mut plan = self.root_plan(c)?;
        plan.tty = false;
        let keeper = self
            .on_spawner(move || {
                let mut cmd = Command::new("sleep");
                cmd.arg("infinity")
                    .env_clear()
                    .env("PATH", DEFAULT_PATH)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                spawn::in_container(cmd, &plan)
            })
            .map_err(|e| {
                RuntimeError::Failed(format!(
                    "failed to create containerd task: failed to start container process: {e}"
                ))
            })?;
        let Started {
            child: mut keeper,
            pid,
            pidfd,
        } = keeper;
        {
            let mut g = c.lock();
            g.0 = State::Running {
                started_at: SystemTime::now(),
            };
            g.1 = Some(Live {
                pid,
                pidfd,
                outer: keeper.id() as libc::pid_t,
                stop: Some(stop),
                io: io.clone(),
            });
        }
        self.logs.started(id);
        let c = c.clone();
        let logs = self.logs.clone();
        let id = id.to_string();
        let version = nginx::version_of(c.config.image.reference.tag.as_deref());
        std::thread::spawn(move || {
            nginx::serve(listener, html, version, writer, stopped);
            io.close();
            c.kill();
            let _ = keeper.kill();
            let _ = keeper.wait();
            logs.ended(&id);
            c.exit(c.config.image.stop_exit_code);
        });
        Ok(())
    }
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The argv as a container runtime builds it: `command` then `args`; without `command`, the
/// `args` replace the image's CMD (the runnable images — shells, python — have no ENTRYPOINT,
/// and the catalog's `command` is their CMD); a bare shell when there is nothing.
/// The process's argv as a container runtime builds it: `command` replaces the image's
/// ENTRYPOINT (and drops its CMD), `args` replace the CMD.
/// What mount `m` of volume directory `dir` binds: the directory, or its `subPath` — created
/// as a directory when missing, as the kubelet does, and refused when it leads out of the
/// volume (through `..` or a link the pod planted).
fn sub_path_source(dir: &Path, m: &super::Mount) -> Result<PathBuf, RuntimeError> {
    let Some(sub) = &m.sub_path else {
        return Ok(dir.to_path_buf());
    };
    let refused = || {
        RuntimeError::Failed(format!(
            "failed to prepare subPath for volumeMount \"{}\": subPath {sub:?} leads out of the volume",
            m.volume
        ))
    };
    let rel = Path::new(sub);
    if rel.is_absolute()
        || rel.components().any(|c| {
            !matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
    {
        return Err(refused());
    }
    let at = dir.join(rel);
    if std::fs::symlink_metadata(&at).is_err() {
        std::fs::create_dir_all(&at).map_err(|e| {
            RuntimeError::Failed(format!(
                "failed to create subPath directory for volumeMount \"{}\": {e}",
                m.volume
            ))
        })?;
    }
    let (real, root) = (std::fs::canonicalize(&at), std::fs::canonicalize(dir));
    match (real, root) {
        (Ok(real), Ok(root)) if real.starts_with(&root) => Ok(real),
        _ => Err(refused()),
    }
}

fn command_line(c: &ContainerConfig) -> Vec<String> {
    let mut argv: Vec<String> = if !c.command.is_empty() {
        c.command.iter().chain(&c.args).cloned().collect()
    } else {
        let cmd = if c.args.is_empty() {
            &c.image.command
        } else {
            &c.args
        };
        c.image.entrypoint.iter().chain(cmd).cloned().collect()
    };
    if argv.is_empty() {
        argv.push("sh".into());
    }
    argv
}

/// The placeholder's command line: it sleeps as long as the image's container lives, exits
/// with its code, and with the image's stop code on SIGTERM.
fn placeholder(lives: &Behaviour, stop_exit_code: i32) -> Vec<String> {
    let (length, code) = match lives {
        Behaviour::RunsForever => ("infinity".to_string(), 0),
        Behaviour::Exits { after, code } => (format!("{:.3}", after.as_secs_f64()), *code),
    };
    let script = format!(
        "trap 'kill $s 2>/dev/null; exit {stop_exit_code}' TERM; sleep {length} & s=$!; wait $s; exit {code}"
    );
    vec!["/bin/sh".into(), "-c".into(), script]
}

fn environment(c: &ContainerConfig) -> Vec<(String, String)> {
    let mut env = vec![
        ("PATH".to_string(), DEFAULT_PATH.to_string()),
        ("HOSTNAME".to_string(), c.pod_name.clone()),
        ("HOME".to_string(), "/root".to_string()),
    ];
    for (k, v) in &c.env {
        env.retain(|(e, _)| e != k);
        env.push((k.clone(), v.clone()));
    }
    env
}

fn exit_code(s: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    s.code()
        .or_else(|| s.signal().map(|n| 128 + n))
        .unwrap_or(255)
}

impl Drop for ProcessRuntime {
    fn drop(&mut self) {
        let (containers, sandboxes) = self.with(|t| {
            (
                t.containers
                    .drain()
                    .filter_map(|(_, e)| match e {
                        Entry::Process(c) => Some(c),
                        Entry::Simulated => None,
                    })
                    .collect::<Vec<_>>(),
                t.sandboxes.drain().map(|(_, s)| s).collect::<Vec<_>>(),
            )
        });
        for c in containers {
            c.kill();
        }
        for mut s in sandboxes {
            s.kill();
        }
    }
}

impl ContainerRuntime for ProcessRuntime {
    fn version(&self) -> String {
        self.sim.version()
    }

    fn image_present(&self, image: &ImageRef) -> bool {
        self.sim.image_present(image)
    }

    fn pull_image(&self, image: &ImageRef) -> PullPlan {
        self.sim.pull_image(image)
    }

    fn image_pulled(&self, image: &Arc<ImageInfo>) {
        self.sim.image_pulled(image)
    }

    fn present_image(&self, image: &ImageRef) -> Option<Arc<ImageInfo>> {
        self.sim.present_image(image)
    }

    fn run_pod_sandbox(&self, pod: &SandboxConfig) -> Result<String, RuntimeError> {
        let dir = self.root.join("pods").join(&pod.uid);
        let mut volumes = HashMap::new();
        let mut payloads = HashMap::new();
        for v in &pod.volumes {
            let d = self
                .volume_dir(&dir, &pod.namespace, v)
                .map_err(RuntimeError::Failed)?;
            volumes.insert(v.name.clone(), d);
            if let VolumeSource::Files(f) = &v.source {
                payloads.insert(v.name.clone(), f.clone());
            }
        }
        let hosts = dir.join("etc-hosts");
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&hosts, &pod.hosts))
            .map_err(|e| RuntimeError::Failed(format!("{}: {e}", hosts.display())))?;
        // As the kubelet does: at most 63 characters, not ending in `-` or `.`.
        let mut hostname: String = pod.hostname.chars().take(63).collect();
        while hostname.ends_with(['-', '.']) {
            hostname.pop();
        }
        let ip = pod.ip.parse::<std::net::Ipv4Addr>().ok();
        let holder = self
            .on_spawner(move || spawn::holder(&hostname, ip))
            .map_err(|e| {
                RuntimeError::Failed(format!("failed to create the pod's namespaces: {e}"))
            })?;
        let id = random_id();
        self.with(|t| {
            let changes = t
                .changes
                .entry(pod.uid.clone())
                .or_insert_with(|| Arc::new(Notify::new()))
                .clone();
            if let Some(old) = t.by_pod.insert(pod.uid.clone(), id.clone()) {
                if let Some(mut s) = t.sandboxes.remove(&old) {
                    s.kill();
                }
            }
            t.sandboxes.insert(
                id.clone(),
                Sandbox {
                    uid: pod.uid.clone(),
                    holder,
                    dir,
                    volumes,
                    payloads,
                    hosts,
                    changes,
                },
            );
        });
        Ok(id)
    }

    fn stop_pod_sandbox(&self, sandbox_id: &str) {
        let sb = self.with(|t| {
            let sb = t.sandboxes.remove(sandbox_id)?;
            if t.by_pod.get(&sb.uid).is_some_and(|s| s == sandbox_id) {
                t.by_pod.remove(&sb.uid);
                t.changes.remove(&sb.uid);
            }
            Some(sb)
        });
        if let Some(mut sb) = sb {
            sb.kill();
            let _ = std::fs::remove_dir_all(&sb.dir);
        }
        self.sim.stop_pod_sandbox(sandbox_id);
    }

    fn create_container(&self, config: &ContainerConfig) -> Result<String, RuntimeError> {
        let kind = Some(kind_of(&config.image).unwrap_or(Kind::Placeholder));
        let sandbox = self.with(|t| {
            let sb = t.by_pod.get(&config.pod_uid)?.clone();
            let changes = t.sandboxes.get(&sb)?.changes.clone();
            Some((sb, changes))
        });
        let (Some(kind), Some((sandbox, changes))) = (kind, sandbox) else {
            let id = self.sim.create_container(config)?;
            self.with(|t| t.containers.insert(id.clone(), Entry::Simulated));
            return Ok(id);
        };
        let id = random_id();
        self.logs
            .create(&config.log_key(&id))
            .map_err(|e| RuntimeError::Failed(format!("failed to create container log: {e}")))?;
        let layer = self.root.join(&id);
        for d in ["upper", "work", "merged"] {
            std::fs::create_dir_all(layer.join(d)).map_err(|e| {
                RuntimeError::Failed(format!("failed to create the container's layer: {e}"))
            })?;
        }
        for (path, content) in files_of(&config.image, kind) {
            let Some(inside) = spawn::container_path(&path) else {
                continue;
            };
            let at = layer
                .join("upper")
                .join(inside.strip_prefix("/").unwrap_or(&inside));
            if let Some(parent) = at.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            // A script (`#!`) is executable, as it would be in the image.
            let mode = if content.starts_with("#!") {
                0o755
            } else {
                0o644
            };
            let _ = std::fs::write(&at, content);
            let _ = std::fs::set_permissions(&at, std::fs::Permissions::from_mode(mode));
        }
        let c = Arc::new(Container {
            id: id.clone(),
            config: config.clone(),
            kind,
            sandbox,
            layer,
            state: Mutex::new((State::Created, None, false)),
            exited: Condvar::new(),
            changes,
        });
        self.with(|t| t.containers.insert(id.clone(), Entry::Process(c)));
        Ok(id)
    }

    fn adopt_container(&self, config: &ContainerConfig, id: &str, started_at: SystemTime) {
        // Its process died with the previous kube-lite: it is reported as killed, and the
        // restart policy decides.
        let changes = self.with(|t| {
            t.changes
                .entry(config.pod_uid.clone())
                .or_insert_with(|| Arc::new(Notify::new()))
                .clone()
        });
        let now = SystemTime::now();
        let c = Arc::new(Container {
            id: id.to_string(),
            config: config.clone(),
            kind: Kind::Shell,
            sandbox: String::new(),
            layer: self.root.join(id),
            state: Mutex::new((
                State::Exited {
                    started_at,
                    finished_at: now,
                    code: 137,
                },
                None,
                false,
            )),
            exited: Condvar::new(),
            changes,
        });
        self.with(|t| t.containers.insert(id.to_string(), Entry::Process(c)));
    }

    fn start_container(&self, id: &str, now: SystemTime) -> Result<(), RuntimeError> {
        let Some(c) = self.container(id) else {
            return self.sim.start_container(id, now);
        };
        match c.lock().0 {
            State::Created => {}
            State::Running { .. } => {
                return Err(RuntimeError::WrongState {
                    id: id.into(),
                    state: "running",
                    op: "start",
                })
            }
            State::Exited { .. } => {
                return Err(RuntimeError::WrongState {
                    id: id.into(),
                    state: "exited",
                    op: "start",
                })
            }
        }
        match c.kind {
            Kind::Shell | Kind::Placeholder => self.start_process(&c),
            Kind::Nginx => self.start_nginx(&c, id),
        }
    }

    fn stop_container(
        &self,
        id: &str,
        grace: Duration,
        now: SystemTime,
    ) -> Result<SystemTime, RuntimeError> {
        let Some(c) = self.container(id) else {
            return self.sim.stop_container(id, grace, now);
        };
        {
            let mut g = c.lock();
            match g.0 {
                State::Created => {
                    g.0 = State::Exited {
                        started_at: now,
                        finished_at: now,
                        code: 0,
                    };
                    return Ok(now);
                }
                State::Exited { finished_at, .. } => return Ok(finished_at),
                State::Running { .. } => {}
            }
            if let Some(stop) = g.1.as_mut().and_then(|l| l.stop.take()) {
                // nginx exits at once on SIGTERM.
                let _ = stop.send(());
                return Ok(now);
            }
        }
        c.signal(libc::SIGTERM);
        let killer = c.clone();
        std::thread::spawn(move || {
            let g = killer.lock();
            let (g, timeout) = killer
                .exited
                .wait_timeout_while(g, grace, |g| matches!(g.0, State::Running { .. }))
                .unwrap_or_else(|e| e.into_inner());
            drop(g);
            if timeout.timed_out() {
                killer.kill();
            }
        });
        Ok(now + grace)
    }

    fn container_status(&self, id: &str, now: SystemTime) -> Result<ContainerStatus, RuntimeError> {
        let Some(c) = self.container(id) else {
            return self.sim.container_status(id, now);
        };
        let state = c.lock().0;
        Ok(match state {
            State::Created => ContainerStatus::Created,
            State::Running { started_at } => ContainerStatus::Running { started_at },
            State::Exited {
                started_at,
                finished_at,
                code,
            } => ContainerStatus::Exited {
                started_at,
                finished_at,
                exit_code: code,
                reason: exit_reason(code),
            },
        })
    }

    fn next_change(&self, id: &str) -> Option<SystemTime> {
        if self.is_simulated(id) {
            return self.sim.next_change(id);
        }
        None
    }

    fn changes(&self, pod_uid: &str) -> Option<Arc<Notify>> {
        Some(self.with(|t| {
            t.changes
                .entry(pod_uid.to_string())
                .or_insert_with(|| Arc::new(Notify::new()))
                .clone()
        }))
    }

    fn sandbox_of(&self, pod_uid: &str) -> Option<String> {
        self.with(|t| t.by_pod.get(pod_uid).cloned())
    }

    fn writes_volume_files(&self) -> bool {
        true
    }

    fn update_volumes(&self, sandbox_id: &str, volumes: &[PodVolume]) {
        self.with(|t| {
            let Some(sb) = t.sandboxes.get_mut(sandbox_id) else {
                return;
            };
            for v in volumes {
                let VolumeSource::Files(files) = &v.source else {
                    continue;
                };
                let (Some(dir), Some(old)) =
                    (sb.volumes.get(&v.name), sb.payloads.get_mut(&v.name))
                else {
                    continue;
                };
                if old == files {
                    continue;
                }
                match files::write(dir, files) {
                    Ok(()) => *old = files.clone(),
                    Err(e) => tracing::warn!("updating volume {} of pod {}: {e}", v.name, sb.uid),
                }
            }
        });
    }

    fn remove_container(&self, id: &str) {
        let entry = self.with(|t| t.containers.remove(id));
        match entry {
            Some(Entry::Process(c)) => {
                let running = {
                    let mut g = c.lock();
                    g.2 = true;
                    matches!(g.0, State::Running { .. })
                };
                if running {
                    c.kill();
                } else {
                    let _ = std::fs::remove_dir_all(&c.layer);
                }
            }
            Some(Entry::Simulated) | None => self.sim.remove_container(id),
        }
    }

    fn supports_exec(&self) -> bool {
        true
    }

    fn exec(
        &self,
        id: &str,
        req: ExecRequest,
    ) -> BoxFuture<'static, Result<ExecProcess, RuntimeError>> {
        let target = self.container(id).and_then(|c| {
            let g = c.lock();
            let live = g.1.as_ref()?;
            Some((live.pid, c.config.working_dir.clone()))
        });
        let r = match target {
            None => Err(RuntimeError::Failed(format!(
                "container {id} is not running in a sandbox of this node"
            ))),
            Some((pid, wd)) => {
                let spawner = self.spawner_handle();
                exec::start(spawner, pid, wd, req)
            }
        };
        Box::pin(async move { r })
    }

    fn attach(
        &self,
        id: &str,
        req: ExecRequest,
    ) -> BoxFuture<'static, Result<ExecProcess, RuntimeError>> {
        let io = self
            .container(id)
            .and_then(|c| Some(c.lock().1.as_ref()?.io.clone()));
        let r = match io {
            None => Err(RuntimeError::Failed(format!(
                "container {id} is not running in a sandbox of this node"
            ))),
            Some(io) => io.attach(&req).map_err(RuntimeError::Failed),
        };
        Box::pin(async move { r })
    }

    fn port_forward(
        &self,
        sandbox_id: &str,
        port: u16,
    ) -> BoxFuture<'static, Result<PortStream, RuntimeError>> {
        let holder = self.with(|t| t.sandboxes.get(sandbox_id).map(|s| s.holder.pid));
        Box::pin(async move {
            let holder = holder.ok_or_else(|| {
                RuntimeError::Failed("the pod's sandbox is not running on this node".into())
            })?;
            exec::connect(holder, port).await
        })
    }
}

/// Files the image brings (nginx's pages) to lay over the host root.
fn files_of(image: &ImageInfo, kind: Kind) -> Vec<(String, String)> {
    let mut files = image.files.clone();
    if kind == Kind::Nginx && files.is_empty() {
        files = nginx::default_files();
    }
    files
}

impl ProcessRuntime {
    /// Wait for container `id` to exit (tests); its exit code.
    #[cfg(test)]
    fn wait_exited(&self, id: &str, limit: Duration) -> Option<i32> {
        let c = self.container(id)?;
        let g = c.lock();
        let (g, _) = c
            .exited
            .wait_timeout_while(g, limit, |g| !matches!(g.0, State::Exited { .. }))
            .unwrap_or_else(|e| e.into_inner());
        match g.0 {
            State::Exited { code, .. } => Some(code),
            _ => None,
        }
    }

    /// A handle to run closures on the spawner thread from other threads.
    fn spawner_handle(&self) -> exec::Spawner {
        exec::Spawner(
            self.spawner
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}
