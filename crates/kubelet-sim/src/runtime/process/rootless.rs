//! Running without root: kube-lite enters a user namespace of its own at start (as
//! rootlesskit does for rootless container engines), where it is root with the capabilities
//! to make pod sandboxes, mapped to the user who started it; and, because the host's mounts
//! are locked in such a namespace (the host's root cannot be the lower layer of one overlay),
//! a container's root is then built directory by directory (`Top`).

use std::io;
use std::path::Path;

/// Why `enter` failed, for the nodes' report.
static FAILED: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Enter a new user namespace where the caller's user and group are root. Must run before
/// the process has a second thread. Does nothing for root; returns whether it entered one.
pub fn enter() -> io::Result<bool> {
    // SAFETY: plain syscalls.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid == 0 {
        return Ok(false);
    }
    let entered = super::sys::unshare(libc::CLONE_NEWUSER).and_then(|()| {
        // An unprivileged process may map only its own ids, and its group only once it gave
        // up setgroups(2).
        std::fs::write("/proc/self/setgroups", "deny")?;
        std::fs::write("/proc/self/uid_map", format!("0 {uid} 1"))?;
        std::fs::write("/proc/self/gid_map", format!("0 {gid} 1"))
    });
    if let Err(e) = &entered {
        let _ = FAILED.set(format!("cannot enter a user namespace as uid {uid}: {e}"));
    }
    entered.map(|()| true)
}

/// Why this process could not enter a user namespace, if it tried and failed.
pub fn failure() -> Option<&'static str> {
    FAILED.get().map(String::as_str)
}

/// Whether a `uid_map` is the initial user namespace's (every id mapped to itself).
pub fn maps_every_id(uid_map: &str) -> bool {
    let lines: Vec<Vec<&str>> = uid_map
        .lines()
        .map(|l| l.split_whitespace().collect())
        .filter(|f: &Vec<&str>| !f.is_empty())
        .collect();
    matches!(lines.as_slice(), [l] if l.as_slice() == ["0", "0", "4294967295"])
}

/// Whether this process is in a user namespace other than the initial one, where the
/// mounts it inherited are locked.
pub fn in_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|m| !maps_every_id(&m))
}

/// The mount points of a `/proc/self/mountinfo` (field 5, octal escapes undone).
pub fn mount_points(mountinfo: &str) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape)
        .collect()
}

/// `\040` → space, as mountinfo escapes space, tab, newline and backslash.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An entry of the host's root directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostEntry {
    Dir(String),
    Link(String, String),
    /// A file or anything else: not carried into containers.
    Other(String),
}

/// What a top-level directory of a container's root is, when it cannot be one overlay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Top {
    /// An overlay of the host's directory with the container's writable layer: as the whole
    /// root is where mounts are not locked.
    Overlay(String),
    /// The host's directory, read-only with what is mounted under it: it has mounts an
    /// overlay cannot take, and the container cannot work without it.
    ReadOnly(String),
    /// An empty directory of the container's own (`/proc`, `/dev`, and host directories with
    /// mounts under them, such as `/tmp` or `/run`, whose contents are the host's business).
    Empty(String),
    /// The same symbolic link as the host's (`/bin → usr/bin`).
    Link(String, String),
}

/// Directories a container needs from the host even when they have mounts under them.
const SYSTEM: &[&str] = &[
    "bin", "etc", "lib", "lib32", "lib64", "libx32", "opt", "sbin", "usr", "var",
];

/// Made fresh for each container, never taken from the host.
const OWN: &[&str] = &["dev", "proc", "sys"];

/// How each top-level entry of the host's root becomes part of a container's root, given the
/// host's mount points.
pub fn plan(entries: &[HostEntry], mount_points: &[String]) -> Vec<Top> {
    let has_mounts = |name: &str| {
        let dir = format!("/{name}");
        mount_points
            .iter()
            .any(|m| m == &dir || m.strip_prefix(&dir).is_some_and(|r| r.starts_with('/')))
    };
    // Overlay options are comma- and colon-separated.
    let plain = |name: &str| !name.contains([',', ':', '\\']);
    let mut out: Vec<Top> = entries
        .iter()
        .filter_map(|e| match e {
            HostEntry::Link(name, target) => Some(Top::Link(name.clone(), target.clone())),
            HostEntry::Other(_) => None,
            HostEntry::Dir(name) if OWN.contains(&name.as_str()) => Some(Top::Empty(name.clone())),
            HostEntry::Dir(name) if !has_mounts(name) && plain(name) => {
                Some(Top::Overlay(name.clone()))
            }
            HostEntry::Dir(name) if SYSTEM.contains(&name.as_str()) => {
                Some(Top::ReadOnly(name.clone()))
            }
            HostEntry::Dir(name) => Some(Top::Empty(name.clone())),
        })
        .collect();
    out.sort_by(|a, b| name_of(a).cmp(name_of(b)));
    out
}

fn name_of(t: &Top) -> &str {
    match t {
        Top::Overlay(n) | Top::ReadOnly(n) | Top::Empty(n) | Top::Link(n, _) => n,
    }
}

/// This host's root directory, planned.
pub fn host_plan() -> io::Result<Vec<Top>> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")?;
    let mut entries = Vec::new();
    for e in std::fs::read_dir("/")? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = Path::new("/").join(&name);
        let kind = e.file_type()?;
        entries.push(if kind.is_symlink() {
            let target = std::fs::read_link(&path)?;
            HostEntry::Link(name, target.to_string_lossy().into_owned())
        } else if kind.is_dir() {
            HostEntry::Dir(name)
        } else {
            HostEntry::Other(name)
        });
    }
    Ok(plan(&entries, &mount_points(&mountinfo)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_identity_map_of_every_id_is_the_initial_user_namespace() {
        for (map, initial) in [
            ("         0          0 4294967295\n", true),
            ("0 0 4294967295", true),
            ("         0       1000          1\n", false),
            ("0 100000 65536\n", false),
            ("0 0 4294967295\n1 1 1\n", false),
            ("", false),
        ] {
            assert_eq!(maps_every_id(map), initial, "{map:?}");
        }
    }

    #[test]
    fn mount_points_come_from_the_fifth_field_with_octal_escapes_undone() {
        let info = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                    23 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw\n\
                    40 22 0:33 / /mnt/my\\040disk rw - ext4 /dev/sdb1 rw\n";
        assert_eq!(mount_points(info), ["/", "/dev", "/mnt/my disk"]);
    }

    #[test]
    fn directories_without_mounts_are_overlays_and_the_rest_read_only_or_empty() {
        let dir = |n: &str| HostEntry::Dir(n.into());
        let entries = [
            dir("usr"),
            dir("etc"),
            dir("tmp"),
            dir("home"),
            dir("proc"),
            dir("dev"),
            dir("srv"),
            dir("odd,name"),
            HostEntry::Link("bin".into(), "usr/bin".into()),
            HostEntry::Other(".dockerenv".into()),
        ];
        let mounts: Vec<String> = ["/", "/proc", "/dev", "/etc/hosts", "/home", "/tmp/x/y"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            plan(&entries, &mounts),
            [
                Top::Link("bin".into(), "usr/bin".into()),
                Top::Empty("dev".into()),
                // Docker binds /etc/hosts: /etc cannot be an overlay, and is needed.
                Top::ReadOnly("etc".into()),
                // A mount at the directory itself counts.
                Top::Empty("home".into()),
                Top::Empty("odd,name".into()),
                Top::Empty("proc".into()),
                Top::Overlay("srv".into()),
                Top::Empty("tmp".into()),
                Top::Overlay("usr".into()),
            ]
        );
    }

    #[test]
    fn a_mount_beside_a_directory_with_a_longer_name_does_not_count_as_under_it() {
        let entries = [HostEntry::Dir("lib".into())];
        let mounts = vec!["/lib64".to_string(), "/library/x".to_string()];
        assert_eq!(plan(&entries, &mounts), [Top::Overlay("lib".into())]);
    }
}
