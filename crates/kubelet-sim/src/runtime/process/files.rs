//! Writing a configMap, secret, downwardAPI or projected volume the way the kubelet's atomic
//! writer lays it out: the files in a timestamped directory `..<YYYY_MM_DD_HH_MM_SS.n>`, a
//! link `..data` to it, and one link per top-level name (`key → ..data/key`), so `ls -la` in
//! the container shows what it shows on a real node. The volume is written when the sandbox
//! is made, and again (one atomic `..data` swap) when a periodic sync finds its object changed.

use crate::runtime::VolumeFile;
use std::collections::BTreeSet;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::time::SystemTime;

/// `..2026_12_06_13_33_56.<n>`: the atomic writer's timestamped directory name.
fn stamp(now: SystemTime) -> String {
    let t = apimachinery::clock::rfc3339(now);
    // 2026-12-06T13:33:56Z
    let digits: String = t
        .chars()
        .take(19)
        .map(|c| if c.is_ascii_digit() { c } else { '_' })
        .collect();
    format!("..{digits}.{}", rand::random::<u32>())
}

/// Write `files` into volume directory `dir` (which exists), replacing what was there.
pub fn write(dir: &Path, files: &[VolumeFile]) -> io::Result<()> {
    let name = stamp(SystemTime::now());
    let ts = dir.join(&name);
    std::fs::create_dir(&ts)?;
    std::fs::set_permissions(&ts, std::fs::Permissions::from_mode(0o755))?;
    let mut top = BTreeSet::new();
    for f in files {
        let path = ts.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &f.data)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(f.mode))?;
        if let Some(first) = f.path.split('/').next() {
            top.insert(first.to_string());
        }
    }
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    symlink(&name, &tmp)?;
    std::fs::rename(&tmp, dir.join("..data"))?;
    // What an earlier write left: its directory and the links no longer in the payload.
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let n = entry.file_name().to_string_lossy().into_owned();
        if n.starts_with("..") && n != name && n != "..data" {
            std::fs::remove_dir_all(entry.path())?;
        } else if !n.starts_with("..") && !top.contains(&n) {
            std::fs::remove_file(entry.path())?;
        }
    }
    for t in &top {
        let link = dir.join(t);
        if std::fs::symlink_metadata(&link).is_err() {
            symlink(Path::new("..data").join(t), &link)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, data: &str, mode: u32) -> VolumeFile {
        VolumeFile {
            path: path.into(),
            data: data.as_bytes().to_vec(),
            mode,
        }
    }

    #[test]
    fn files_are_links_through_data_into_a_timestamped_directory_with_their_modes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            &[file("a.conf", "x=1\n", 0o644), file("sub/b", "2", 0o400)],
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(d.join("a.conf")).unwrap(), "x=1\n");
        assert_eq!(std::fs::read_to_string(d.join("sub/b")).unwrap(), "2");
        assert_eq!(
            std::fs::read_link(d.join("a.conf")).unwrap(),
            Path::new("..data/a.conf")
        );
        assert_eq!(
            std::fs::read_link(d.join("sub")).unwrap(),
            Path::new("..data/sub")
        );
        let target = std::fs::read_link(d.join("..data")).unwrap();
        assert!(target.to_string_lossy().starts_with("..20"), "{target:?}");
        let mode = std::fs::metadata(d.join("sub/b"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o400);

        // A second write replaces the payload and leaves nothing of the first.
        write(d, &[file("c", "3", 0o644)]).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with("..20"))
            .collect();
        names.sort();
        assert_eq!(names, ["..data", "c"]);
        assert_eq!(std::fs::read_to_string(d.join("c")).unwrap(), "3");
    }
}
