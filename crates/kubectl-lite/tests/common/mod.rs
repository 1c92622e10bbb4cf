//! Helpers shared by the end-to-end suites that compare kubectl-lite with the real kubectl
//! against one `kube-lite up` (see compare_with_kubectl.rs for how the binaries are found).
#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

use testkit::{run, KubeLite, Output};

pub fn kube_lite_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KUBE_LITE_BIN") {
        return Some(PathBuf::from(p));
    }
    let here = Path::new(env!("CARGO_BIN_EXE_kubectl-lite"));
    let beside = here.with_file_name("kube-lite");
    if beside.exists() {
        return Some(beside);
    }
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/kube-lite");
    ws.exists().then_some(ws)
}

pub fn kubectl_available() -> bool {
    std::env::var_os("KUBE_LITE_KUBECTL").is_some()
        || Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../.tools/bin/kubectl")
            .exists()
}

/// kubectl-lite with the same isolated environment as `server.kubectl()`, but its own cache.
pub fn lite(server: &KubeLite) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-lite"));
    let home = server.dir.path().join("home-lite");
    let _ = std::fs::create_dir_all(&home);
    c.env("KUBECONFIG", server.kubeconfig())
        .env("HOME", &home)
        .env("KUBECACHEDIR", server.dir.path().join("kubecache-lite"));
    c
}

fn is_age(tok: &str) -> bool {
    let mut digits = false;
    let mut units = 0;
    for c in tok.chars() {
        if c.is_ascii_digit() {
            digits = true;
        } else if "smhdy".contains(c) && digits {
            units += 1;
            digits = false;
        } else {
            return false;
        }
    }
    units > 0 && !digits && units <= 2
}

/// Replaces every age-like token (and the padding after it) with `<age> `.
pub fn mask(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut masked = String::new();
        let mut rest = line;
        while !rest.is_empty() {
            let word_end = rest.find(' ').unwrap_or(rest.len());
            let word = &rest[..word_end];
            let after = &rest[word_end..];
            let spaces = after.len() - after.trim_start_matches(' ').len();
            if is_age(word) {
                masked.push_str("<age> ");
            } else {
                masked.push_str(word);
                masked.push_str(&after[..spaces]);
            }
            rest = &after[spaces..];
        }
        out.push_str(&masked);
        out.push('\n');
    }
    out
}

pub fn same(server: &KubeLite, args: &[&str]) {
    same_in(server, None, args)
}

/// `same`, with both clients running in `cwd` (relative manifest paths).
pub fn same_in(server: &KubeLite, cwd: Option<&Path>, args: &[&str]) {
    let at = |mut c: Command| {
        if let Some(d) = cwd {
            c.current_dir(d);
        }
        c
    };
    let outputs = || {
        let want: Output = run(at(server.kubectl()).args(args));
        let got: Output = run(at(lite(server)).args(args));
        (
            (got.code, mask(&got.stdout), mask(&got.stderr)),
            (want.code, mask(&want.stdout), mask(&want.stderr)),
        )
    };
    let (mut got, mut want) = outputs();
    if got != want {
        // The controllers (and a node simulator) may have changed a status in between.
        settle(server);
        (got, want) = outputs();
    }
    assert_eq!(got, want, "kubectl-lite {args:?} differs from kubectl");
}

/// Waits (up to 15 s) until the controllers stop changing what `get all` shows, so the two
/// clients see the same state.
pub fn settle(server: &KubeLite) {
    let snapshot = || mask(&run(server.kubectl().args(["get", "all", "-A", "-o", "wide"])).stdout);
    let mut last = snapshot();
    let mut stable = 0;
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(400));
        let now = snapshot();
        stable = if now == last { stable + 1 } else { 0 };
        if stable == 3 {
            return;
        }
        last = now;
    }
}

/// Replaces klog line headers (`E1203 17:53:37.010769   21349 `: time and pid) with `<klog> `.
pub fn mask_klog(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let b = line.as_bytes();
        let is_header = b.len() > 22
            && b"EWIF".contains(&b[0])
            && b[1..5].iter().all(u8::is_ascii_digit)
            && (b[5], b[8], b[14]) == (b' ', b':', b'.');
        if is_header {
            let pid_and_rest = line[21..].trim_start();
            out.push_str("<klog>");
            out.push_str(pid_and_rest.trim_start_matches(|c: char| c.is_ascii_digit()));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Runs setup commands through the real kubectl; each must succeed.
pub fn kubectl_ok(server: &KubeLite, steps: &[&[&str]]) {
    for args in steps {
        let out = run(server.kubectl().args(*args));
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    }
}

/// Writes `text` as `name` in the server's directory and applies it with the real kubectl.
pub fn apply_manifest(server: &KubeLite, name: &str, text: &str) {
    let file = server.dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    let out = run(server.kubectl().arg("apply").arg("-f").arg(&file));
    assert_eq!(out.code, 0, "{name}: {}", out.stderr);
}

/// Starts `kube-lite up` with `args`, or says why the comparison is skipped.
pub fn start_server(args: &[&str]) -> Option<KubeLite> {
    let (Some(bin), true) = (kube_lite_bin(), kubectl_available()) else {
        eprintln!("skipped: kube-lite binary or kubectl not found (see compare_with_kubectl.rs)");
        return None;
    };
    Some(KubeLite::start(&bin, args))
}
