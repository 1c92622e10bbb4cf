//! Starting processes inside a pod sandbox: the holder (the pause role: PID 1 of fresh UTS,
//! network, IPC and PID namespaces, with the pod's hostname and its own loopback up) and
//! container processes (they join the holder's namespaces, get a mount namespace of their own
//! whose root is an overlay of the host's root with a per-container writable layer — or, in a
//! user namespace, one overlay per top-level directory (`rootless::Top`) — the pod's volumes,
//! a minimal `/dev`, `/proc`, a read-only `/sys`, the cluster's data dir hidden under a
//! tmpfs, then `pivot_root` and a docker-like reduced capability set).
//!
//! Every path and string is prepared before `fork`; the hooks only make system calls. The
//! child std gives us is an intermediate process outside the pod's PID namespace: it forks the
//! real process (inside it), reports its pid on a pipe, and exits with its exit code (128 +
//! signal when killed). Both die when their parent does (`PR_SET_PDEATHSIG`).

use super::rootless::Top;
use super::sys::{self, cstr};
use std::ffi::CString;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A started process: the intermediate (`child`, whose exit code is the process's) and the
/// process itself.
pub struct Started {
    pub child: Child,
    pub pid: libc::pid_t,
    pub pidfd: Option<OwnedFd>,
}

/// Run the `fork` half of a spawn and read the real process's pid from the intermediate.
fn finish(
    mut cmd: Command,
    pid_r: OwnedFd,
    pid_w: OwnedFd,
    hook: impl FnMut() -> io::Result<()> + Send + Sync + 'static,
) -> io::Result<Started> {
    // SAFETY: the hook makes only system calls (no allocation, no locks) before exec or _exit.
    unsafe { cmd.pre_exec(hook) };
    let spawned = cmd.spawn();
    drop(pid_w);
    let mut child = spawned?;
    let mut buf = [0u8; 4];
    let mut r = std::fs::File::from(pid_r);
    if let Err(e) = r.read_exact(&mut buf) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(io::Error::other(format!(
            "the sandbox process did not start: {e}"
        )));
    }
    let pid = libc::pid_t::from_ne_bytes(buf);
    Ok(Started {
        child,
        pid,
        pidfd: sys::pidfd_open(pid).ok(),
    })
}

/// The intermediate's side after its fork: report the pid, let go of every descriptor but
/// stdio (so std's spawn sees the exec of the real process), and exit as it does.
fn intermediate(pid_w: i32, child: libc::pid_t) -> ! {
    let _ = sys::write_all(pid_w, &child.to_ne_bytes());
    sys::close_from(3);
    sys::exit(sys::wait_code(child))
}

fn sleep_command() -> Command {
    let mut cmd = Command::new("sleep");
    cmd.arg("infinity")
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Start a pod's holder: PID 1 of new UTS/network/IPC/PID namespaces named `hostname`, the
/// pod's IP (when given) an address of its loopback, so what listens in the pod answers on it.
pub fn holder(hostname: &str, ip: Option<std::net::Ipv4Addr>) -> io::Result<Started> {
    let (pid_r, pid_w) = sys::pipe()?;
    let w = pid_w.as_raw_fd();
    let name = hostname.as_bytes().to_vec();
    let parent = sys::getpid();
    let hook = move || {
        sys::die_with_parent(Some(parent))?;
        sys::unshare(
            libc::CLONE_NEWUTS | libc::CLONE_NEWNET | libc::CLONE_NEWIPC | libc::CLONE_NEWPID,
        )?;
        sys::sethostname(&name)?;
        sys::loopback_up()?;
        if let Some(ip) = ip {
            sys::add_loopback_address(ip.octets())?;
        }
        let child = sys::fork()?;
        if child == 0 {
            // PID 1 of the pod: its parent is outside the namespace, so no ppid check.
            sys::die_with_parent(None)?;
            return Ok(());
        }
        intermediate(w, child)
    };
    finish(sleep_command(), pid_r, pid_w, hook)
}

/// One bind mount into the container's root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    pub source: PathBuf,
    /// Absolute path inside the container.
    pub target: String,
    pub read_only: bool,
}

/// What a container's root is made of.
#[derive(Clone, Debug)]
pub struct RootPlan {
    /// The holder's pid (its namespaces are joined).
    pub holder: libc::pid_t,
    /// `<layer>/{upper,work,merged}`.
    pub layer: PathBuf,
    /// The cluster's data dir (hidden in the container).
    pub data_dir: PathBuf,
    pub binds: Vec<Bind>,
    pub working_dir: Option<String>,
    /// The process's stdin is a pty's follower side, to become its controlling terminal.
    pub tty: bool,
    /// `None`: the root is one overlay of the host's `/`. `Some`: the host's mounts are
    /// locked (a user namespace), so each top-level directory is made as planned, on a root
    /// that is the writable layer itself.
    pub tops: Option<Vec<Top>>,
}

/// A path inside the container, checked: absolute, no `..`.
pub fn container_path(p: &str) -> Option<PathBuf> {
    let path = Path::new(p);
    if !path.is_absolute() {
        return None;
    }
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// An in-container path with the symbolic links of the image (the host's root, the lower
/// layer) resolved inside the container's root: `/var/run/x` → `/run/x` where `/var/run` is a
/// link to `/run`. Links in volumes are not followed here; the mount refuses them.
pub fn resolve_in_root(inside: &Path) -> PathBuf {
    let mut todo: Vec<std::ffi::OsString> = inside
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            _ => None,
        })
        .rev()
        .collect();
    let mut out = PathBuf::from("/");
    let mut hops = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            out.pop();
            continue;
        }
        let next = out.join(&name);
        match std::fs::read_link(&next) {
            Ok(target) if hops < 40 => {
                hops += 1;
                if target.is_absolute() {
                    out = PathBuf::from("/");
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(n) => todo.push(n.to_os_string()),
                        Component::ParentDir => todo.push("..".into()),
                        _ => {}
                    }
                }
            }
            _ => out = next,
        }
    }
    out
}

/// `merged` + an in-container path, and the directories to create on the way.
fn under(merged: &Path, inside: &Path) -> io::Result<(CString, Vec<CString>)> {
    let mut dirs = Vec::new();
    let mut at = merged.to_path_buf();
    for c in inside.components() {
        if let Component::Normal(n) = c {
            at.push(n);
            dirs.push(cstr(at.as_os_str().as_encoded_bytes())?);
        }
    }
    Ok((cstr(at.as_os_str().as_encoded_bytes())?, dirs))
}

fn path_c(p: &Path) -> io::Result<CString> {
    cstr(p.as_os_str().as_encoded_bytes())
}

/// How the container's root is mounted at `merged`.
enum Root {
    /// One overlay (its options).
    Whole(CString),
    /// The writable layer bound there, then a mount per top-level directory.
    PerDirectory {
        upper: CString,
        mounts: Vec<TopMount>,
    },
}

enum TopMount {
    /// Overlay options and the mount point.
    Overlay(CString, CString),
    /// The host's directory and the mount point.
    ReadOnly(CString, CString),
}

/// Everything the hooks need, as C strings.
struct Prepared {
    ns: Vec<(CString, libc::c_int)>,
    merged: CString,
    root: Root,
    data_dir: (CString, Vec<CString>),
    dev: CString,
    devices: Vec<(CString, CString)>,
    dev_dirs: Vec<CString>,
    dev_links: Vec<(CString, CString)>,
    pts: CString,
    shm: CString,
    sys: CString,
    proc_dir: CString,
    binds: Vec<(CString, CString, Vec<CString>, bool, bool)>,
    workdir: CString,
    workdir_dirs: Vec<CString>,
    tty: bool,
}

fn prepare(plan: &RootPlan) -> io::Result<Prepared> {
    let ns = ["ipc", "uts", "net", "pid"]
        .iter()
        .zip([
            libc::CLONE_NEWIPC,
            libc::CLONE_NEWUTS,
            libc::CLONE_NEWNET,
            libc::CLONE_NEWPID,
        ])
        .map(|(n, k)| Ok((cstr(format!("/proc/{}/ns/{n}", plan.holder))?, k)))
        .collect::<io::Result<Vec<_>>>()?;
    let merged = plan.layer.join("merged");
    if plan.layer.to_string_lossy().contains([',', ':']) {
        return Err(io::Error::other(
            "the data dir path has a comma or colon (overlayfs cannot use it)",
        ));
    }
    let root = match &plan.tops {
        None => Root::Whole(cstr(format!(
            "lowerdir=/,upperdir={},workdir={}",
            plan.layer.join("upper").display(),
            plan.layer.join("work").display()
        ))?),
        Some(tops) => per_directory(&plan.layer, &merged, tops)?,
    };
    let data_inside = container_path(&plan.data_dir.to_string_lossy())
        .ok_or_else(|| io::Error::other("the data dir is not absolute"))?;
    let dev = merged.join("dev");
    let devices = ["null", "zero", "full", "random", "urandom", "tty"]
        .iter()
        .map(|d| Ok((cstr(format!("/dev/{d}"))?, path_c(&dev.join(d))?)))
        .collect::<io::Result<Vec<_>>>()?;
    let dev_dirs = vec![path_c(&dev.join("pts"))?, path_c(&dev.join("shm"))?];
    let dev_links = [
        ("pts/ptmx", "ptmx"),
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ]
    .iter()
    .map(|(t, l)| Ok((cstr(*t)?, path_c(&dev.join(l))?)))
    .collect::<io::Result<Vec<_>>>()?;
    let mut binds = Vec::new();
    for b in &plan.binds {
        let inside = container_path(&b.target)
            .map(|p| resolve_in_root(&p))
            .ok_or_else(|| io::Error::other(format!("bad mountPath {:?}", b.target)))?;
        let (target, dirs) = under(&merged, &inside)?;
        let is_file = b.source.is_file();
        binds.push((path_c(&b.source)?, target, dirs, b.read_only, is_file));
    }
    let wd = plan
        .working_dir
        .as_deref()
        .and_then(container_path)
        .unwrap_or_else(|| PathBuf::from("/"));
    let (_, workdir_dirs) = under(Path::new("/"), &wd)?;
    Ok(Prepared {
        ns,
        root,
        data_dir: under(&merged, &data_inside)?,
        pts: path_c(&dev.join("pts"))?,
        shm: path_c(&dev.join("shm"))?,
        dev: path_c(&dev)?,
        devices,
        dev_dirs,
        dev_links,
        sys: path_c(&merged.join("sys"))?,
        proc_dir: path_c(&merged.join("proc"))?,
        merged: path_c(&merged)?,
        binds,
        workdir: path_c(&wd)?,
        workdir_dirs,
        tty: plan.tty,
    })
}

/// The per-directory root: the top-level directories and links made in the writable layer
/// now (before `fork`), the mounts for the hook.
fn per_directory(layer: &Path, merged: &Path, tops: &[Top]) -> io::Result<Root> {
    let upper = layer.join("upper");
    let mut mounts = Vec::new();
    for top in tops {
        match top {
            Top::Link(name, target) => {
                let at = upper.join(name);
                if at.symlink_metadata().is_err() {
                    std::os::unix::fs::symlink(target, at)?;
                }
            }
            Top::Empty(name) => std::fs::create_dir_all(upper.join(name))?,
            Top::ReadOnly(name) => {
                std::fs::create_dir_all(upper.join(name))?;
                mounts.push(TopMount::ReadOnly(
                    cstr(format!("/{name}"))?,
                    path_c(&merged.join(name))?,
                ));
            }
            Top::Overlay(name) => {
                let (up, work) = (upper.join(name), layer.join("work").join(name));
                std::fs::create_dir_all(&up)?;
                std::fs::create_dir_all(&work)?;
                // user.* xattrs: trusted.* ones are not the user namespace's to set.
                let options = format!(
                    "userxattr,lowerdir=/{name},upperdir={},workdir={}",
                    up.display(),
                    work.display()
                );
                mounts.push(TopMount::Overlay(
                    cstr(options)?,
                    path_c(&merged.join(name))?,
                ));
            }
        }
    }
    Ok(Root::PerDirectory {
        upper: path_c(&upper)?,
        mounts,
    })
}

/// In the intermediate: join the pod and build the container's root (its process pivots into it).
fn enter_root(p: &Prepared) -> io::Result<()> {
    for (path, kind) in &p.ns {
        sys::setns_path(path, *kind)?;
    }
    sys::unshare(libc::CLONE_NEWNS)?;
    sys::mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE, None)?;
    match &p.root {
        Root::Whole(options) => sys::mount(
            Some(c"overlay"),
            &p.merged,
            Some(c"overlay"),
            0,
            Some(options),
        )?,
        Root::PerDirectory { upper, mounts } => {
            sys::bind(upper, &p.merged, false)?;
            for m in mounts {
                match m {
                    TopMount::Overlay(options, target) => {
                        sys::mount(Some(c"overlay"), target, Some(c"overlay"), 0, Some(options))?
                    }
                    TopMount::ReadOnly(src, target) => sys::bind(src, target, true)?,
                }
            }
        }
    }
    // The cluster's state (other pods' layers and volumes, the API's database) is not the
    // pod's to see.
    for d in &p.data_dir.1 {
        sys::mkdir(d, 0o755)?;
    }
    sys::mount(
        Some(c"tmpfs"),
        &p.data_dir.0,
        Some(c"tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RDONLY,
        Some(c"size=4k,mode=755"),
    )?;
    sys::mkdir(&p.dev, 0o755)?;
    sys::mount(
        Some(c"tmpfs"),
        &p.dev,
        Some(c"tmpfs"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some(c"mode=755,size=64k"),
    )?;
    for d in &p.dev_dirs {
        sys::mkdir(d, 0o755)?;
    }
    for (src, target) in &p.devices {
        sys::touch(target)?;
        sys::bind(src, target, false)?;
    }
    for (target, link) in &p.dev_links {
        sys::symlink(target, link)?;
    }
    sys::mount(
        Some(c"devpts"),
        &p.pts,
        Some(c"devpts"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some(c"newinstance,ptmxmode=0666,mode=0620"),
    )?;
    sys::mount(
        Some(c"shm"),
        &p.shm,
        Some(c"tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        Some(c"mode=1777,size=65536k"),
    )?;
    sys::mkdir(&p.sys, 0o555)?;
    sys::mount(
        Some(c"sysfs"),
        &p.sys,
        Some(c"sysfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RDONLY,
        None,
    )?;
    sys::mkdir(&p.proc_dir, 0o555)?;
    for (src, target, dirs, ro, is_file) in &p.binds {
        let (last, parents) = dirs
            .split_last()
            .map_or((None, &[][..]), |(l, p)| (Some(l), p));
        for d in parents {
            sys::mkdir_nofollow(d, 0o755)?;
        }
        if let Some(l) = last {
            if sys::is_symlink(l) {
                return Err(io::Error::from_raw_os_error(libc::ELOOP));
            }
            if *is_file {
                sys::touch(l)?;
            } else {
                sys::mkdir(l, 0o755)?;
            }
        }
        sys::bind(src, target, *ro)?;
    }
    Ok(())
}

/// In the container's process (PID namespace joined): `/proc` (before the pivot: in a user
/// namespace the kernel lets a proc be mounted only while the host's is visible), the pivot
/// into the root, the working directory, and the reduced capabilities.
fn finish_inside(p: &Prepared) -> io::Result<()> {
    sys::mount(
        Some(c"proc"),
        &p.proc_dir,
        Some(c"proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )?;
    sys::chdir(&p.merged)?;
    sys::pivot_to_cwd()?;
    for ro in [
        c"/proc/sys",
        c"/proc/sysrq-trigger",
        c"/proc/irq",
        c"/proc/bus",
        c"/proc/fs",
    ] {
        match sys::make_read_only(ro) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            r => r?,
        }
    }
    for d in &p.workdir_dirs {
        sys::mkdir(d, 0o755)?;
    }
    sys::chdir(&p.workdir)?;
    if p.tty {
        sys::controlling_tty()?;
    }
    sys::drop_capabilities()
}

/// Start `cmd` as a process of the container whose root `plan` describes. `cmd` has its
/// program, arguments, environment and stdio set; it must not set a current dir.
pub fn in_container(cmd: Command, plan: &RootPlan) -> io::Result<Started> {
    let prepared = prepare(plan)?;
    let (pid_r, pid_w) = sys::pipe()?;
    let w = pid_w.as_raw_fd();
    let parent = sys::getpid();
    let hook = move || {
        sys::die_with_parent(Some(parent))?;
        enter_root(&prepared)?;
        let child = sys::fork()?;
        if child == 0 {
            // Its parent is outside the PID namespace joined (getppid is 0 here).
            sys::die_with_parent(None)?;
            finish_inside(&prepared)?;
            return Ok(());
        }
        intermediate(w, child)
    };
    finish(cmd, pid_r, pid_w, hook)
}

/// Start `cmd` inside the namespaces (mount included) of a running container process `pid`
/// (`kubectl exec`): its root and working directory are the container's.
pub fn join_container(
    cmd: Command,
    pid: libc::pid_t,
    working_dir: Option<&str>,
    setup_tty: bool,
) -> io::Result<Started> {
    let ns = ["ipc", "uts", "net", "pid", "mnt"]
        .iter()
        .zip([
            libc::CLONE_NEWIPC,
            libc::CLONE_NEWUTS,
            libc::CLONE_NEWNET,
            libc::CLONE_NEWPID,
            libc::CLONE_NEWNS,
        ])
        .map(|(n, k)| Ok((cstr(format!("/proc/{pid}/ns/{n}"))?, k)))
        .collect::<io::Result<Vec<_>>>()?;
    let wd = working_dir
        .and_then(container_path)
        .unwrap_or_else(|| PathBuf::from("/"));
    let wd = path_c(&wd)?;
    let (pid_r, pid_w) = sys::pipe()?;
    let w = pid_w.as_raw_fd();
    let parent = sys::getpid();
    let hook = move || {
        sys::die_with_parent(Some(parent))?;
        for (path, kind) in &ns {
            sys::setns_path(path, *kind)?;
        }
        let child = sys::fork()?;
        if child == 0 {
            // Its parent is outside the PID namespace joined (getppid is 0 here).
            sys::die_with_parent(None)?;
            if sys::chdir(&wd).is_err() {
                sys::chdir(c"/")?;
            }
            if setup_tty {
                sys::controlling_tty()?;
            }
            sys::drop_capabilities()?;
            return Ok(());
        }
        intermediate(w, child)
    };
    finish(cmd, pid_r, pid_w, hook)
}
