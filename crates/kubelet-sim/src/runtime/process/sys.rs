//! The Linux calls the sandbox makes, as thin wrappers that neither allocate nor panic, so they
//! can run between `fork` and `exec` (in `pre_exec` hooks): mounts, namespaces, `pivot_root`,
//! capabilities, the loopback interface, `fork`/`waitpid`, pidfds.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::RawFd;

pub fn cstr(s: impl AsRef<[u8]>) -> io::Result<CString> {
    CString::new(s.as_ref()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn check_long(r: libc::c_long) -> io::Result<libc::c_long> {
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn opt(s: Option<&CStr>) -> *const libc::c_char {
    s.map_or(std::ptr::null(), CStr::as_ptr)
}

pub fn mount(
    src: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
    data: Option<&CStr>,
) -> io::Result<()> {
    // SAFETY: every pointer is a NUL-terminated string or null, as mount(2) takes them.
    check(unsafe {
        libc::mount(
            opt(src),
            target.as_ptr(),
            opt(fstype),
            flags,
            opt(data).cast(),
        )
    })
    .map(drop)
}

/// Bind `src` at `target`, read-only when asked (a bind mount needs a remount for that).
pub fn bind(src: &CStr, target: &CStr, read_only: bool) -> io::Result<()> {
    mount(Some(src), target, None, libc::MS_BIND | libc::MS_REC, None)?;
    if read_only {
        set_read_only(target)?;
    }
    Ok(())
}

/// Make the mount at `target` and those under it read-only, leaving their other flags alone:
/// in a user namespace the host's `nosuid`/`nodev`/`noexec` are locked, and a remount that
/// dropped them would be refused (`mount_setattr`, with a flag-keeping remount before 5.12).
fn set_read_only(target: &CStr) -> io::Result<()> {
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    const MOUNT_ATTR_RDONLY: u64 = 0x1;
    const AT_RECURSIVE: libc::c_uint = 0x8000;
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: a NUL-terminated path and a mount_attr of the size passed.
    let r = check_long(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            target.as_ptr(),
            AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    });
    match r {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {}
        r => return r.map(drop),
    }
    // SAFETY: statvfs is plain data; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    check(unsafe { libc::statvfs(target.as_ptr(), &mut st) })?;
    let keep = [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ]
    .iter()
    .filter(|(st_flag, _)| st.f_flag & st_flag != 0)
    .fold(0, |m, (_, ms)| m | ms);
    mount(
        None,
        target,
        None,
        libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_REC | keep,
        None,
    )
}

/// Make `target` (already a mount point or bind it onto itself) read-only.
pub fn make_read_only(target: &CStr) -> io::Result<()> {
    bind(target, target, true)
}

pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::unshare(flags) }).map(drop)
}

/// Join the namespace at `path` (`/proc/<pid>/ns/<kind>`).
pub fn setns_path(path: &CStr, kind: libc::c_int) -> io::Result<()> {
    // SAFETY: a NUL-terminated path; the descriptor is closed below.
    let fd = check(unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) })?;
    // SAFETY: fd is the namespace file just opened.
    let r = check(unsafe { libc::setns(fd, kind) });
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    r.map(drop)
}

pub fn sethostname(name: &[u8]) -> io::Result<()> {
    // SAFETY: pointer and length of a live slice.
    check(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) }).map(drop)
}

pub fn chdir(path: &CStr) -> io::Result<()> {
    // SAFETY: NUL-terminated path.
    check(unsafe { libc::chdir(path.as_ptr()) }).map(drop)
}

/// `mkdir`, where an existing directory is fine.
pub fn mkdir(path: &CStr, mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: NUL-terminated path.
    match check(unsafe { libc::mkdir(path.as_ptr(), mode) }) {
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
        r => r.map(drop),
    }
}

/// Whether `path` is a symbolic link (false when it does not exist).
pub fn is_symlink(path: &CStr) -> bool {
    // SAFETY: stat is plain data; the path is NUL-terminated.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let r = unsafe { libc::lstat(path.as_ptr(), &mut st) };
    r == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFLNK
}

/// `mkdir` that refuses to go through a symbolic link (a volume's contents are the pod's to
/// change: a link planted there must not lead a mount point out of the container's root).
pub fn mkdir_nofollow(path: &CStr, mode: libc::mode_t) -> io::Result<()> {
    if is_symlink(path) {
        return Err(io::Error::from_raw_os_error(libc::ELOOP));
    }
    mkdir(path, mode)
}

/// Create an empty file to bind a device onto, unless something is there already (which
/// may not be ours to open for writing: a host file seen from a user namespace).
pub fn touch(path: &CStr) -> io::Result<()> {
    // SAFETY: stat is plain data; the path is NUL-terminated.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::stat(path.as_ptr(), &mut st) } == 0 {
        return Ok(());
    }
    // SAFETY: NUL-terminated path; the descriptor is closed at once.
    let fd = check(unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
            0o644 as libc::c_uint,
        )
    })?;
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    Ok(())
}

pub fn symlink(target: &CStr, link: &CStr) -> io::Result<()> {
    // SAFETY: NUL-terminated paths.
    match check(unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) }) {
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
        r => r.map(drop),
    }
}

/// Make the current directory the root of the mount namespace and detach the old root
/// (`pivot_root(".", ".")`, then unmount what is stacked on top).
pub fn pivot_to_cwd() -> io::Result<()> {
    let dot = c".";
    // SAFETY: NUL-terminated paths.
    check_long(unsafe { libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) })?;
    // SAFETY: NUL-terminated path.
    check(unsafe { libc::umount2(dot.as_ptr(), libc::MNT_DETACH) })?;
    chdir(c"/")
}

/// Ask for SIGKILL when the parent thread dies; fails if the parent (when known) is already
/// gone.
pub fn die_with_parent(expected_parent: Option<libc::pid_t>) -> io::Result<()> {
    // SAFETY: plain prctl.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) })?;
    // SAFETY: plain syscall.
    if expected_parent.is_some_and(|p| unsafe { libc::getppid() } != p) {
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    Ok(())
}

/// Start a session whose controlling terminal is stdin (a pty's follower side).
pub fn controlling_tty() -> io::Result<()> {
    // SAFETY: plain syscalls.
    check(unsafe { libc::setsid() })?;
    // SAFETY: plain ioctl on stdin.
    check(unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) }).map(drop)
}

/// Keep only the capabilities a container runtime grants by default (as Docker's set, less
/// `MKNOD`), and no new privileges through exec.
pub fn drop_capabilities() -> io::Result<()> {
    const KEEP: &[u32] = &[0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 29, 31];
    for cap in 0..64u32 {
        if KEEP.contains(&cap) {
            continue;
        }
        // SAFETY: plain prctl; capabilities past the kernel's last one fail with EINVAL.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong) };
        if r == -1 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINVAL) {
                return Err(e);
            }
        }
    }
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mask: u64 = KEEP.iter().fold(0, |m, c| m | (1u64 << c));
    let lo = Data {
        effective: mask as u32,
        permitted: mask as u32,
        inheritable: 0,
    };
    let hi = Data {
        effective: (mask >> 32) as u32,
        permitted: (mask >> 32) as u32,
        inheritable: 0,
    };
    let header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let data = [lo, hi];
    // SAFETY: capset(2) with a version-3 header and two data words.
    check_long(unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) })?;
    // SAFETY: plain prctl.
    check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }).map(drop)
}

/// Bring the loopback interface of the current network namespace up.
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: a datagram socket only for the ioctls; closed below.
    let fd =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo") {
        *d = *s as libc::c_char;
    }
    // SAFETY: fd is a socket and req an ifreq naming an interface.
    let r = check(unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) }).and_then(|_| {
        // SAFETY: the flags member was filled by SIOCGIFFLAGS.
        unsafe {
            req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        }
        // SAFETY: as above.
        check(unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) })
    });
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    r.map(drop)
}

/// Add `ip`/32 to the loopback interface of the current network namespace (as the alias
/// `lo:0`: the address ioctls need no netlink).
pub fn add_loopback_address(ip: [u8; 4]) -> io::Result<()> {
    // SAFETY: a datagram socket only for the ioctls; closed below.
    let fd =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    let set = |request: libc::Ioctl, addr: [u8; 4]| {
        // SAFETY: ifreq is plain data; all zeroes is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (d, s) in req.ifr_name.iter_mut().zip(b"lo:0") {
            *d = *s as libc::c_char;
        }
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(addr),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: a sockaddr_in fits the sockaddr member of the ifreq union.
        unsafe {
            std::ptr::write(
                std::ptr::addr_of_mut!(req.ifr_ifru.ifru_addr).cast::<libc::sockaddr_in>(),
                sin,
            )
        };
        // SAFETY: fd is a socket and req an ifreq naming an interface and an address.
        check(unsafe { libc::ioctl(fd, request, &req) })
    };
    let r = set(libc::SIOCSIFADDR, ip).and_then(|_| set(libc::SIOCSIFNETMASK, [255; 4]));
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    r.map(drop)
}

pub fn fork() -> io::Result<libc::pid_t> {
    // SAFETY: called in a single-threaded child (pre_exec) or before threads exist; the child
    // only makes async-signal-safe calls before it execs or exits.
    check(unsafe { libc::fork() })
}

/// Wait for `pid` and turn its end into a shell-style exit code (128 + signal).
pub fn wait_code(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r == -1 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return 255;
        }
    }
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        255
    }
}

pub fn exit(code: i32) -> ! {
    // SAFETY: ends the process without running Rust or C atexit code (we are a fork child).
    unsafe { libc::_exit(code) }
}

/// Write the whole buffer (small: a pid).
pub fn write_all(fd: RawFd, buf: &[u8]) -> io::Result<()> {
    let mut off = 0;
    while off < buf.len() {
        // SAFETY: pointer and length within buf.
        let n = unsafe { libc::write(fd, buf[off..].as_ptr().cast(), buf.len() - off) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        off += n as usize;
    }
    Ok(())
}

/// Close every descriptor from `from` on.
pub fn close_from(from: u32) {
    // SAFETY: close_range(2) on descriptors this process owns.
    unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0) };
}

/// A pipe whose ends close on exec.
pub fn pipe() -> io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: fds is a valid out array of two.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    })
}

/// A pidfd: signals sent through it cannot hit a recycled pid.
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain syscall.
    let fd = check_long(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: a new descriptor owned by nobody else.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as RawFd) })
}

pub fn pidfd_kill(fd: &std::os::fd::OwnedFd, signal: libc::c_int) {
    use std::os::fd::AsRawFd;
    // SAFETY: plain syscall on a pidfd we own.
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
}

/// The process id (what a fork child sees as its parent).
pub fn getpid() -> libc::pid_t {
    // SAFETY: plain syscall.
    unsafe { libc::getpid() }
}
