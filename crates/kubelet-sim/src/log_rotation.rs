//! Container log rotation by size, as the kubelet's container log manager does it
//! (`pkg/kubelet/logs/container_log_manager.go`): once a container's current log file reaches
//! `containerLogMaxSize` (default 10Mi) it is renamed `<log>.<YYYYMMDD-hhmmss>` and the
//! runtime writes a new one; before that, temporary and already-compressed leftovers are
//! removed, at most `containerLogMaxFiles - 2` older rotated files are kept (oldest removed
//! first) and they are gzipped, so a container has at most `containerLogMaxFiles` files: the
//! current one, the newest rotated one as it was, and the rest `.gz`. As upstream, `kubectl
//! logs` reads only the current file (a follower moves on to the new file after a rotation).
//!
//! Upstream rotates from a 10-second monitor loop; here the writer rotates after the line that
//! reached the size, but not twice in one second (the rotated name has second precision), so a
//! file may grow past the limit for up to a second, as it may between upstream's checks.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const COMPRESSED: &str = ".gz";
const TEMPORARY: &str = ".tmp";

/// The kubelet's `containerLogMaxSize` and `containerLogMaxFiles`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate the current file once it has this many bytes.
    pub max_size: u64,
    /// Files a container's log may have, the current one included (at least 2).
    pub max_files: usize,
}

impl Default for Rotation {
    /// The kubelet's defaults: 10Mi, 5 files.
    fn default() -> Rotation {
        Rotation {
            max_size: 10 * 1024 * 1024,
            max_files: 5,
        }
    }
}

impl Rotation {
    /// The limits checked as the kubelet checks its configuration.
    pub fn new(max_size: u64, max_files: usize) -> Result<Rotation, String> {
        if max_files < 2 {
            return Err(format!(
                "invalid configuration: containerLogMaxFiles (--container-log-max-files) {max_files} must be equal to or greater than 2"
            ));
        }
        if max_size == 0 {
            return Err(
                "invalid configuration: containerLogMaxSize (--container-log-max-size) must be a positive quantity"
                    .into(),
            );
        }
        Ok(Rotation {
            max_size,
            max_files,
        })
    }
}

/// `10Mi`, `512Ki`, `1G`, `2048` as bytes (the binary and decimal suffixes of a quantity).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, suffix) = s.split_at(split);
    let n: u64 = digits.parse().map_err(|_| {
        format!("invalid size {s:?}: a number with an optional suffix (Ki, Mi, Gi, k, M, G)")
    })?;
    let unit: u64 = match suffix {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        _ => return Err(format!("invalid size {s:?}: unknown suffix {suffix:?}")),
    };
    n.checked_mul(unit)
        .ok_or_else(|| format!("invalid size {s:?}: too large"))
}

/// `<log>.<YYYYMMDD-hhmmss>` (Go's `20060102-150405`) for a rotation at `t` (UTC).
pub fn rotated_path(log: &Path, t: SystemTime) -> PathBuf {
    // `2026-12-03T17:29:45.123456789Z` → `20261203-172945`.
    let stamp: String = crate::logs::timestamp(t)
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .map(|c| if c == 'T' { '-' } else { c })
        .collect();
    let mut name = log.as_os_str().to_owned();
    name.push(format!(".{stamp}"));
    PathBuf::from(name)
}

/// What to do with a log's rotated files (their names, any order) before its current file
/// becomes the newest rotated one: remove temporaries, uncompressed files whose `.gz` exists
/// and the oldest beyond `max_files - 2`; compress the uncompressed rest.
/// Returns (remove, compress), each oldest first.
pub fn plan(rotated: &[String], max_files: usize) -> (Vec<String>, Vec<String>) {
    let in_use = |l: &String| {
        !l.ends_with(TEMPORARY)
            && (l.ends_with(COMPRESSED) || !rotated.contains(&format!("{l}{COMPRESSED}")))
    };
    let (mut kept, mut remove): (Vec<String>, Vec<String>) =
        rotated.iter().cloned().partition(in_use);
    kept.sort();
    let excess = kept.len().saturating_sub(max_files.saturating_sub(2));
    remove.extend(kept.drain(..excess));
    remove.sort();
    let compress = kept
        .into_iter()
        .filter(|l| !l.ends_with(COMPRESSED))
        .collect();
    (remove, compress)
}

/// The rotated files of `log` in its directory (full paths as strings).
fn rotated_files(log: &Path) -> io::Result<Vec<String>> {
    let dir = log.parent().unwrap_or(Path::new("."));
    let prefix = format!("{}.", log.file_name().unwrap_or_default().to_string_lossy());
    Ok(std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path().to_string_lossy().into_owned())
        .collect())
}

/// gzip `path` to `path.gz` (through `path.gz.tmp`) and remove it.
fn compress(path: &str) -> io::Result<()> {
    let tmp = format!("{path}{COMPRESSED}{TEMPORARY}");
    let mut input = std::fs::File::open(path)?;
    let out = std::fs::File::create(&tmp)?;
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    io::copy(&mut input, &mut gz)?;
    gz.finish()?.flush()?;
    std::fs::rename(&tmp, format!("{path}{COMPRESSED}"))?;
    std::fs::remove_file(path)
}

/// Rotate `log` at `t` keeping at most `max_files` files: false when a file rotated in the
/// same second exists (the caller writes on and tries again later).
pub fn rotate(log: &Path, t: SystemTime, max_files: usize) -> io::Result<bool> {
    let to = rotated_path(log, t);
    let gz = PathBuf::from(format!("{}{COMPRESSED}", to.display()));
    if to.exists() || gz.exists() {
        return Ok(false);
    }
    let (remove, compress_these) = plan(&rotated_files(log)?, max_files);
    for r in remove {
        let _ = std::fs::remove_file(r);
    }
    for c in compress_these {
        compress(&c)?;
    }
    std::fs::rename(log, &to)?;
    Ok(true)
}

/// The names of the files in `dir`, sorted (tests).
#[cfg(test)]
pub(crate) fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn sizes_are_read_as_quantities() {
        for (s, want) in [
            ("10Mi", Ok(10 << 20)),
            ("512Ki", Ok(512 << 10)),
            ("1Gi", Ok(1 << 30)),
            ("2k", Ok(2000)),
            ("3M", Ok(3_000_000)),
            ("4096", Ok(4096)),
        ] {
            assert_eq!(parse_size(s), want, "{s}");
        }
        for bad in ["", "Mi", "10Xi", "-1", "1.5Mi"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fewer_than_two_files_or_no_size_is_an_invalid_configuration() {
        assert!(Rotation::new(1, 2).is_ok());
        assert!(Rotation::new(1, 1)
            .unwrap_err()
            .contains("must be equal to or greater than 2"));
        assert!(Rotation::new(0, 5).is_err());
        assert_eq!(Rotation::default(), Rotation::new(10 << 20, 5).unwrap());
    }

    #[test]
    fn a_rotated_file_is_named_by_the_second_of_its_rotation() {
        let t = UNIX_EPOCH + Duration::from_millis(1_764_782_985_123);
        assert_eq!(
            rotated_path(Path::new("/l/abc.log"), t),
            PathBuf::from("/l/abc.log.20251203-172945")
        );
    }

    #[test]
    fn the_plan_keeps_max_files_minus_two_rotated_files_and_compresses_them() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        // (rotated files, max files) → (remove, compress)
        type Case = (
            &'static [&'static str],
            usize,
            &'static [&'static str],
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            (&[], 5, &[], &[]),
            (&["l.1"], 5, &[], &["l.1"]),
            (&["l.1.gz", "l.2"], 5, &[], &["l.2"]),
            (
                &["l.3", "l.1.gz", "l.2.gz", "l.4.gz"],
                5,
                &["l.1.gz"],
                &["l.3"],
            ),
            // Two files at most: the current and the one about to be rotated.
            (&["l.1.gz", "l.2"], 2, &["l.1.gz", "l.2"], &[]),
            // Leftovers of an interrupted compression.
            (
                &["l.1", "l.1.gz", "l.2.gz.tmp", "l.2"],
                5,
                &["l.1", "l.2.gz.tmp"],
                &["l.2"],
            ),
        ];
        for (rotated, max, remove, compress) in cases {
            assert_eq!(
                plan(&s(rotated), *max),
                (s(remove), s(compress)),
                "{rotated:?} max {max}"
            );
        }
    }

    #[test]
    fn rotating_renames_the_log_and_leaves_at_most_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("c.log");
        let t0 = UNIX_EPOCH + Duration::from_secs(1_764_782_985);
        for i in 0..6u64 {
            std::fs::write(&log, format!("run {i}\n")).unwrap();
            assert!(rotate(&log, t0 + Duration::from_secs(i), 3).unwrap());
        }
        std::fs::write(&log, "current\n").unwrap();
        assert_eq!(
            names_in(dir.path()),
            ["c.log", "c.log.20251203-172949.gz", "c.log.20251203-172950"]
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("c.log.20251203-172950")).unwrap(),
            "run 5\n"
        );
        let gz = std::fs::File::open(dir.path().join("c.log.20251203-172949.gz")).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz), &mut text).unwrap();
        assert_eq!(text, "run 4\n");
        // Not twice in one second.
        assert!(!rotate(&log, t0 + Duration::from_secs(5), 3).unwrap());
    }
}
