//! Facts about the machine kube-lite runs on, reported by every simulated node as kind's nodes
//! report their host's: CPUs, memory, disk, kernel, OS image, architecture.

use std::path::Path;

#[derive(Clone, Debug)]
pub struct Host {
    pub cpus: u64,
    pub memory_ki: u64,
    pub ephemeral_storage_ki: u64,
    pub kernel_version: String,
    pub os_image: String,
    /// `amd64`, `arm64`, ...
    pub architecture: String,
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Go's GOARCH for Rust's target arch.
pub fn goarch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

fn disk_ki(dir: &Path) -> Option<u64> {
    let c = std::ffi::CString::new(dir.as_os_str().to_string_lossy().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a valid out pointer.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| st.f_blocks as u64 * st.f_frsize as u64 / 1024)
}

impl Host {
    /// Read the host's facts (`data_dir` is where the disk figure comes from).
    pub fn detect(data_dir: &Path) -> Host {
        let memory_ki = read("/proc/meminfo")
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
            })
            .unwrap_or(8 * 1024 * 1024);
        let os_image = read("/etc/os-release")
            .and_then(|t| {
                t.lines().find_map(|l| {
                    l.strip_prefix("PRETTY_NAME=")
                        .map(|v| v.trim_matches('"').to_string())
                })
            })
            .unwrap_or_else(|| "Linux".into());
        Host {
            cpus: std::thread::available_parallelism()
                .map(|n| n.get() as u64)
                .unwrap_or(2),
            memory_ki,
            ephemeral_storage_ki: disk_ki(data_dir)
                .or_else(|| disk_ki(Path::new("/")))
                .unwrap_or(100 * 1024 * 1024),
            kernel_version: read("/proc/sys/kernel/osrelease").unwrap_or_else(|| "6.1.0".into()),
            os_image,
            architecture: goarch(std::env::consts::ARCH).to_string(),
        }
    }
}
