//! Golden-file tests: the real kubectl (`KUBE_LITE_KUBECTL`) against `kube-lite up --fast`, its
//! stdout, stderr and exit code compared byte for byte with `fixtures/golden/kubectl/<name>.txt`
//! after [`mask`] has replaced what differs from run to run (ages, generated names, IPs, uids,
//! timestamps, resourceVersions). The golden files are written from what a real v1.35 cluster
//! prints (kubectl's own messages, kube-apiserver's printers and error wording), never copied
//! from kube-lite without that check; `UPDATE_GOLDEN=1` rewrites them from the current output.
//!
//! `kubectl describe` depends on timing (event ages, how a rollout interleaves), so the describe
//! tests compare the deterministic header block and assert the shape of the rest.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use testkit::{kubectl, kubectl_ok as ok, rows, run, until, KubeLite, Output};

fn start() -> KubeLite {
    let k = KubeLite::start(env!("CARGO_BIN_EXE_kube-lite"), &["--fast"]);
    until(&k, &["get", "nodes"], "3 Ready nodes", |o| {
        o.matches(" Ready ").count() == 3
    });
    k
}

fn fixture(name: &str) -> String {
    format!("{}/../../fixtures/{name}.yaml", env!("CARGO_MANIFEST_DIR"))
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/golden/kubectl")
        .join(format!("{name}.txt"))
}

/// kubectl with `input` on stdin.
fn kubectl_stdin(k: &KubeLite, args: &[&str], input: &str) -> Output {
    let mut child = k
        .kubectl()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("kubectl");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The transcript a golden file holds: the command (fixture paths relative to the repository),
/// exit code, stdout and stderr, masked.
fn transcript(args: &[&str], o: &Output) -> String {
    let repo = format!("{}/../../", env!("CARGO_MANIFEST_DIR"));
    format!(
        "$ kubectl {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" ").replace(&repo, ""),
        o.code,
        mask(&o.stdout),
        mask(&o.stderr)
    )
}

/// Compare `args`' outcome `o` with the golden file `name` (or rewrite it with `UPDATE_GOLDEN=1`).
#[track_caller]
fn check(name: &str, args: &[&str], o: &Output) {
    let got = transcript(args, o);
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert!(
        want == got,
        "{name}: output differs from {}\n--- want\n{want}\n--- got\n{got}\n--- raw stdout\n{}\n--- raw stderr\n{}",
        path.display(),
        o.stdout,
        o.stderr
    );
}

/// Run kubectl with `args` and compare with the golden file `name`.
#[track_caller]
fn golden(k: &KubeLite, name: &str, args: &[&str]) -> Output {
    let o = kubectl(k, args);
    check(name, args, &o);
    o
}

// ---------------------------------------------------------------------------------------------
// Masking

/// The alphabet of generateName suffixes and pod-template-hashes (apimachinery `util/rand`,
/// `SafeEncodeString`): no vowels, so English words never match.
const SAFE_ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";

/// Replace what differs between runs by placeholders and keep every other byte. A kubectl table
/// (a block of lines whose first line is an upper-case header of columns three or more spaces
/// apart) has its cells masked one by one (an AGE or DURATION cell becomes `<age>`) and is then
/// re-aligned exactly as kubectl's tabwriter aligns it, so the masks cannot shift columns.
pub fn mask(text: &str) -> String {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        if is_table_header(lines[i]) {
            let mut j = i;
            while j < lines.len() && !lines[j].is_empty() {
                j += 1;
            }
            out.extend(mask_table(&lines[i..j]));
            i = j;
        } else {
            out.push(mask_text(lines[i]));
            i += 1;
        }
    }
    out.join("\n")
}

/// Split a table line into its cells: kubectl's tabwriter puts at least 3 spaces between cells.
fn cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut spaces = 0;
    for c in line.chars() {
        if c == ' ' {
            spaces += 1;
            continue;
        }
        if spaces >= 3 && !cur.is_empty() {
            cells.push(std::mem::take(&mut cur));
        } else {
            cur.extend(std::iter::repeat_n(' ', spaces));
        }
        spaces = 0;
        cur.push(c);
    }
    if !cur.is_empty() {
        cells.push(cur);
    }
    cells
}

fn is_table_header(line: &str) -> bool {
    let c = cells(line);
    c.len() >= 2
        && c[0] == "NAME"
        && c.iter().all(|h| {
            h.chars()
                .all(|ch| ch.is_ascii_uppercase() || " -()/".contains(ch))
        })
}

/// The cells of a row that has empty ones (fewer cells than the header): cut at the columns
/// where the header's cells start, as kubectl's tabwriter aligned them.
fn cells_at_header_columns(header: &str, line: &str) -> Vec<String> {
    let hdr: Vec<char> = header.chars().collect();
    let starts: Vec<usize> = (0..hdr.len())
        .filter(|&i| {
            hdr[i] != ' ' && (i == 0 || (i >= 3 && hdr[i - 3..i].iter().all(|&c| c == ' ')))
        })
        .collect();
    let row: Vec<char> = line.chars().collect();
    let cut = |from: usize, to: usize| -> String {
        let to = to.min(row.len());
        row.get(from..to).map_or(String::new(), |cs| {
            cs.iter().collect::<String>().trim().to_string()
        })
    };
    starts
        .iter()
        .enumerate()
        .map(|(c, &from)| cut(from, starts.get(c + 1).copied().unwrap_or(row.len())))
        .collect()
}

/// Mask each cell and re-align like kubectl's `tabwriter.NewWriter(out, 6, 4, 3, ' ', 0)`:
/// every cell but a line's last is padded to max(widest cell + 3, 6).
fn mask_table(lines: &[&str]) -> Vec<String> {
    let header_cells = lines.first().map_or(0, |h| cells(h).len());
    let table: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            let mut row = cells(l);
            if row.len() < header_cells {
                row = cells_at_header_columns(lines[0], l);
            }
            row.iter().map(|c| mask_cell(c)).collect()
        })
        .collect();
    let ncols = table.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..ncols)
        .map(|c| {
            table
                .iter()
                .filter(|r| c + 1 < r.len())
                .map(|r| r[c].chars().count())
                .max()
                .map_or(0, |w| (w + 3).max(6))
        })
        .collect();
    table
        .iter()
        .map(|r| {
            let mut line = String::new();
            for (c, cell) in r.iter().enumerate() {
                line.push_str(cell);
                if c + 1 < r.len() {
                    let pad = widths[c] - cell.chars().count();
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            line
        })
        .collect()
}

/// An age or duration as kubectl prints it (`5s`, `3m2s`, `2d4h`, `<invalid>`).
fn is_age(cell: &str) -> bool {
    if cell == "<invalid>" {
        return true;
    }
    let mut digits = 0;
    let mut units = 0;
    for c in cell.chars() {
        if c.is_ascii_digit() {
            digits += 1;
        } else if "smhdy".contains(c) && digits > 0 {
            digits = 0;
            units += 1;
        } else {
            return false;
        }
    }
    units > 0 && digits == 0
}

fn mask_cell(cell: &str) -> String {
    if is_age(cell) {
        "<age>".to_string()
    } else {
        mask_text(cell)
    }
}

/// Mask timestamps, uids, IPs, resourceVersions, generated-name suffixes and
/// pod-template-hashes in free text.
fn mask_text(s: &str) -> String {
    let s = mask_rfc3339(s);
    let s = mask_describe_time(&s);
    let s = mask_uids(&s);
    let s = mask_ips(&s);
    let s = mask_resource_version(&s);
    let s = mask_hash_labels(&s);
    mask_generated(&s)
}

/// The value of a `pod-template-hash` or `controller-revision-hash` label (`=`, `: `, `":"`).
fn mask_hash_labels(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(p) = rest.find("-hash") {
        let (head, tail) = rest.split_at(p + "-hash".len());
        out.push_str(head);
        rest = tail;
        let sep = [": \"", "\":\"", "=", ": "]
            .into_iter()
            .find(|sep| rest.starts_with(sep));
        if let Some(sep) = sep {
            let after = &rest[sep.len()..];
            let n = after
                .bytes()
                .take_while(|c| SAFE_ALPHABET.as_bytes().contains(c))
                .count();
            if (6..=10).contains(&n) {
                out.push_str(sep);
                out.push_str("<hash>");
                rest = &after[n..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replace every match of `pat` (a byte-wise matcher returning the match length at a position).
fn replace_all(s: &str, with: &str, pat: impl Fn(&[u8]) -> Option<usize>) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        // Only start a match at a char boundary after a non-word byte.
        let boundary = i == 0 || !(b[i - 1].is_ascii_alphanumeric());
        if boundary && s.is_char_boundary(i) {
            if let Some(n) = pat(&b[i..]) {
                out.push_str(&s[copied..i]);
                out.push_str(with);
                i += n;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&s[copied..]);
    out
}

/// Match `shape` at the start of `b`: `9` a digit, `x` a lower-case hex digit, `A` an ASCII
/// letter, anything else itself.
fn shape(b: &[u8], shape: &str) -> Option<usize> {
    let sh = shape.as_bytes();
    if b.len() < sh.len() {
        return None;
    }
    for (c, p) in b.iter().zip(sh) {
        let ok = match p {
            b'9' => c.is_ascii_digit(),
            b'x' => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
            b'A' => c.is_ascii_alphabetic(),
            _ => c == p,
        };
        if !ok {
            return None;
        }
    }
    Some(sh.len())
}

/// `2026-12-03T18:02:25Z` (also with fractional seconds) → `<timestamp>`.
fn mask_rfc3339(s: &str) -> String {
    replace_all(s, "<timestamp>", |b| {
        let n = shape(b, "9999-99-99T99:99:99")?;
        let mut m = n;
        if b.get(m) == Some(&b'.') {
            m += 1;
            while b.get(m).is_some_and(u8::is_ascii_digit) {
                m += 1;
            }
        }
        (b.get(m) == Some(&b'Z')).then_some(m + 1)
    })
}

/// `Thu, 03 Dec 2026 18:02:25 +0000` (kubectl describe's RFC 1123Z) → `<timestamp>`.
fn mask_describe_time(s: &str) -> String {
    replace_all(s, "<timestamp>", |b| {
        shape(b, "AAA, 99 AAA 9999 99:99:99 +9999")
    })
}

/// `8e621af0-983e-40d4-b11e-4b6ab114d703` → `<uid>`.
fn mask_uids(s: &str) -> String {
    replace_all(s, "<uid>", |b| {
        let n = shape(b, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")?;
        (!b.get(n).is_some_and(u8::is_ascii_alphanumeric)).then_some(n)
    })
}

/// A dotted IPv4 address → `<ip>`.
fn mask_ips(s: &str) -> String {
    replace_all(s, "<ip>", |b| {
        let mut i = 0;
        for part in 0..4 {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
                i += 1;
            }
            if i == start {
                return None;
            }
            if part < 3 {
                if b.get(i) != Some(&b'.') {
                    return None;
                }
                i += 1;
            }
        }
        (!b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'.')).then_some(i)
    })
}

/// `resourceVersion: "512"` (YAML) and `"resourceVersion":"512"` (JSON) → `"<rv>"`.
fn mask_resource_version(s: &str) -> String {
    let mut out = s.to_string();
    for key in ["resourceVersion: \"", "\"resourceVersion\":\""] {
        let mut res = String::new();
        let mut rest = out.as_str();
        while let Some(p) = rest.find(key) {
            let after = &rest[p + key.len()..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            res.push_str(&rest[..p + key.len()]);
            if digits > 0 && after[digits..].starts_with('"') {
                res.push_str("<rv>");
                rest = &after[digits..];
            } else {
                rest = after;
            }
        }
        res.push_str(rest);
        out = res;
    }
    out
}

/// `-<5 chars>` at the end of a name → `-<suffix>`; `-<6..10 chars>` → `-<hash>` (a
/// pod-template-hash or a controller-revision-hash), both in the safe alphabet and followed by
/// a non-name character.
fn mask_generated(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if b[i] == b'-' && i > 0 && b[i - 1].is_ascii_alphanumeric() {
            let n = b[i + 1..]
                .iter()
                .take_while(|c| SAFE_ALPHABET.as_bytes().contains(c))
                .count();
            let end = i + 1 + n;
            let ends_name = !b
                .get(end)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'_');
            let placeholder = match n {
                5 => Some("-<suffix>"),
                6..=10 => Some("-<hash>"),
                _ => None,
            };
            if let (Some(p), true) = (placeholder, ends_name) {
                out.push_str(&s[copied..i]);
                out.push_str(p);
                i = end;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&s[copied..]);
    out
}

#[test]
fn masking_replaces_only_volatile_parts() {
    // Ages in a table, with the columns re-aligned the way kubectl aligns them.
    let table = "NAME                        READY   STATUS    RESTARTS   AGE   IP           NODE\n\
                 mydeploy-66d9b755f5-22kjh   1/1     Running   0          4s    10.244.2.5   kube-lite-worker2\n\
                 mysts-0                     1/1     Running   0          3m2s   10.244.1.14   kube-lite-worker\n";
    // (the rows are not aligned with each other: the mask re-aligns from the cells)
    assert_eq!(
        mask(table),
        "NAME                       READY   STATUS    RESTARTS   AGE     IP     NODE\n\
         mydeploy-<hash>-<suffix>   1/1     Running   0          <age>   <ip>   kube-lite-worker2\n\
         mysts-0                    1/1     Running   0          <age>   <ip>   kube-lite-worker\n"
    );
    // Narrow columns keep tabwriter's minimum width of 6.
    assert_eq!(
        mask("NAME   AGE\nab     <invalid>\n"),
        "NAME   AGE\nab     <age>\n"
    );
    assert_eq!(
        mask("NAME   A   B\nx      1   2\n"),
        "NAME   A     B\nx      1     2\n"
    );
    // Empty cells (an Ingress without ADDRESS, a binding without GROUPS) keep their column.
    assert_eq!(
        mask("NAME   CLASS    HOSTS   ADDRESS   PORTS   AGE\nweb    <none>   *                 80      5s\n"),
        "NAME   CLASS    HOSTS   ADDRESS   PORTS   AGE\nweb    <none>   *                 80      <age>\n"
    );
    assert_eq!(
        mask("NAME   USERS   GROUPS   SERVICEACCOUNTS\nrb     jane             default/default\n"),
        "NAME   USERS   GROUPS   SERVICEACCOUNTS\nrb     jane             default/default\n"
    );
    // Cells with single spaces stay one cell.
    assert_eq!(
        mask("NAME    SCHEDULE      AGE\nhello   */1 * * * *   10s\n"),
        "NAME    SCHEDULE      AGE\nhello   */1 * * * *   <age>\n"
    );
    // Free text: timestamps, uids, rvs, IPs, generated names; everything else untouched.
    assert_eq!(
        mask_text(
            "  creationTimestamp: \"2026-12-03T18:02:25Z\"\n  resourceVersion: \"512\"\n  uid: 8e621af0-983e-40d4-b11e-4b6ab114d703"
        ),
        "  creationTimestamp: \"<timestamp>\"\n  resourceVersion: \"<rv>\"\n  uid: <uid>"
    );
    assert_eq!(
        mask_text("CreationTimestamp:      Thu, 03 Dec 2026 18:02:25 +0000"),
        "CreationTimestamp:      <timestamp>"
    );
    assert_eq!(
        mask_text("Node:  kube-lite-worker2/172.18.0.4 at 2026-12-03T18:02:25.123456Z"),
        "Node:  kube-lite-worker2/<ip> at <timestamp>"
    );
    assert_eq!(
        mask_text("message: ReplicaSet \"mydeploy-66d9b755f5\" has successfully progressed."),
        "message: ReplicaSet \"mydeploy-<hash>\" has successfully progressed."
    );
    assert_eq!(
        mask_text("pod-template-hash=66d9b755f5,run=nginx pod-template-hash: 7bc7887cbf"),
        "pod-template-hash=<hash>,run=nginx pod-template-hash: <hash>"
    );
    assert_eq!(
        mask_text("pod/fluentd-blz5k pvc-1ffa3023-a231-4f80-bd12-33b6cadb5567"),
        "pod/fluentd-<suffix> pvc-<uid>"
    );
    // Names that merely look similar are kept: vowels, dots, other lengths, versions.
    for keep in [
        "kube-lite-control-plane",
        "nginx-vol-mysts-0",
        "nginx:1.9.1",
        "v1.35.0",
        "deployment.apps/mydeploy",
        "kube-node-lease",
        "ab-cd",
        "443/TCP",
        "1/1",
        "10/10",
        "25%",
        "0 0 1 1 *",
    ] {
        assert_eq!(mask_text(keep), keep);
    }
    assert!(is_age("5s") && is_age("3m2s") && is_age("2d4h") && is_age("45m"));
    assert!(!is_age("s") && !is_age("5") && !is_age("1/1") && !is_age("10s5"));
}

// ---------------------------------------------------------------------------------------------
// Settling helpers

fn rollout_done(k: &KubeLite) {
    ok(
        k,
        &["rollout", "status", "deployment/mydeploy", "--timeout=120s"],
    );
}

/// `kubectl get <what>` until its first row has `want` as its leading cells.
fn until_row(k: &KubeLite, what: &[&str], want: &[&str]) {
    until(k, what, &format!("{want:?}"), |o| {
        rows(o)
            .iter()
            .any(|r| r.len() >= want.len() && r[..want.len()] == *want)
    });
}

// ---------------------------------------------------------------------------------------------
// Resource messages and errors

#[test]
fn resource_messages_and_errors() {
    let k = start();
    let manifest = std::fs::read_to_string(fixture("mydeploy")).unwrap();
    let file = fixture("mydeploy");

    // Strict validation of a new object rejects an unknown field on create.
    let unknown = manifest.replace("  replicas: 10\n", "  replicas: 10\n  foo: 1\n");
    let args = ["apply", "--validate=strict", "-f", "-"];
    check(
        "apply-unknown-field-strict",
        &args,
        &kubectl_stdin(&k, &args, &unknown),
    );
    // A wrong type reads as kube-apiserver's Go decoder words it.
    let wrong = manifest.replace("  replicas: 10\n", "  replicas: \"three\"\n");
    check("apply-wrong-type", &args, &kubectl_stdin(&k, &args, &wrong));

    golden(&k, "apply-created", &["apply", "-f", &file]);
    golden(&k, "apply-unchanged", &["apply", "-f", &file]);
    let args = ["apply", "-f", "-"];
    let o = kubectl_stdin(&k, &args, &manifest.replace("replicas: 10", "replicas: 4"));
    check("apply-configured", &args, &o);
    golden(
        &k,
        "scale-scaled",
        &["scale", "deployment", "mydeploy", "--replicas=10"],
    );
    rollout_done(&k);
    golden(
        &k,
        "set-image-image-updated",
        &["set", "image", "deployment/mydeploy", "nginx=nginx:1.9.1"],
    );
    rollout_done(&k);
    golden(
        &k,
        "label-labeled",
        &["label", "deployment", "mydeploy", "tier=web"],
    );
    golden(
        &k,
        "annotate-annotated",
        &["annotate", "deployment", "mydeploy", "owner=me"],
    );
    golden(
        &k,
        "rollout-undo-rolled-back",
        &["rollout", "undo", "deployment/mydeploy"],
    );
    rollout_done(&k);
    let args = ["edit", "deployment", "mydeploy"];
    let o = run(k
        .kubectl()
        .args(args)
        .env("KUBE_EDITOR", "sed -i 's/replicas: 10/replicas: 6/'"));
    check("edit-edited", &args, &o);
    until_row(&k, &["get", "deployment", "mydeploy"], &["mydeploy", "6/6"]);

    // Errors and exit codes.
    golden(&k, "get-notfound", &["get", "deployment", "x"]);
    golden(&k, "get-unknown-resource-type", &["get", "foo"]);
    golden(
        &k,
        "scale-notfound",
        &["scale", "deployment", "nope", "--replicas=2"],
    );
    golden(
        &k,
        "patch-bad-json",
        &["patch", "deployment", "mydeploy", "-p", "{bad"],
    );
    golden(
        &k,
        "patch-json-unknown-op",
        &[
            "patch",
            "deployment",
            "mydeploy",
            "--type=json",
            "-p",
            r#"[{"op":"nope"}]"#,
        ],
    );

    golden(&k, "delete-deleted", &["delete", "deployment", "mydeploy"]);
    golden(&k, "get-no-resources", &["get", "deployment"]);
}

// ---------------------------------------------------------------------------------------------
// Tables and -o yaml

/// A pod pinned to a node (no scheduling), so its `-o wide` row is deterministic.
const PINNED_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  nodeName: kube-lite-worker
  containers:
  - name: nginx
    image: nginx:1.9.1
";

#[test]
fn tables_and_defaulted_deployment_yaml() {
    let k = start();
    golden(&k, "get-pods-empty", &["get", "pods"]);
    ok(&k, &["apply", "-f", &fixture("mydeploy")]);
    rollout_done(&k);
    until_row(
        &k,
        &["get", "deployment", "mydeploy"],
        &["mydeploy", "10/10", "10", "10"],
    );
    // The tutorial's Deployment, defaulted by the server, with its settled status.
    golden(
        &k,
        "get-deployment-mydeploy-yaml",
        &["get", "deployment", "mydeploy", "-o", "yaml"],
    );

    for f in ["mysts", "fluentd", "job"] {
        ok(&k, &["apply", "-f", &fixture(f)]);
    }
    // A schedule that never fires during the test, so the row is stable.
    ok(
        &k,
        &[
            "create",
            "cronjob",
            "hello",
            "--image=busybox",
            "--schedule=0 0 1 1 *",
        ],
    );
    let args = ["apply", "-f", "-"];
    let o = kubectl_stdin(&k, &args, PINNED_POD);
    assert_eq!(o.code, 0, "{}", o.stderr);

    until_row(&k, &["get", "sts"], &["mysts", "3/3"]);
    until_row(&k, &["get", "ds"], &["fluentd", "2", "2", "2", "2", "2"]);
    until_row(&k, &["get", "job"], &["myjob", "Complete", "1/1"]);
    until_row(&k, &["get", "pod", "web"], &["web", "1/1", "Running"]);
    until(&k, &["get", "pvc"], "3 Bound claims", |o| {
        o.matches(" Bound ").count() == 3
    });

    golden(&k, "get-deployment", &["get", "deploy"]);
    golden(&k, "get-rs-wide", &["get", "rs", "-o", "wide"]);
    golden(&k, "get-pod-wide", &["get", "pod", "web", "-o", "wide"]);
    golden(&k, "get-sts", &["get", "sts"]);
    golden(&k, "get-ds", &["get", "ds"]);
    golden(&k, "get-job", &["get", "job"]);
    golden(&k, "get-cronjob", &["get", "cronjob"]);
    golden(&k, "get-svc", &["get", "svc"]);
    golden(&k, "get-pvc", &["get", "pvc"]);
    golden(&k, "get-ns", &["get", "ns"]);
    golden(&k, "get-all", &["get", "all"]);

    // The nodes report the host's kernel: mask it with the value the node reports.
    let kernel = ok(
        &k,
        &[
            "get",
            "node",
            "kube-lite-worker",
            "-o",
            "jsonpath={.status.nodeInfo.kernelVersion}",
        ],
    );
    let args = ["get", "nodes", "-o", "wide"];
    let mut o = kubectl(&k, &args);
    o.stdout = o.stdout.replace(kernel.trim(), "<kernel>");
    check("get-nodes-wide", &args, &o);
}

#[test]
fn tables_of_ingress_hpa_pdb_and_rbac() {
    let k = start();
    // Ingress, HPA, PDB, Role, RoleBinding objects whose status no controller fills.
    ok(&k, &["apply", "-f", &fixture("ingress-hpa-pdb-rbac")]);
    golden(
        &k,
        "get-ingress-hpa-pdb-role-rolebinding",
        &["get", "ingress,hpa,pdb,role,rolebinding"],
    );
    golden(
        &k,
        "get-rolebinding-wide",
        &["get", "rolebinding", "-o", "wide"],
    );
}

// ---------------------------------------------------------------------------------------------
// describe

/// The part of `kubectl describe` before its `Events:` line, and the event rows after it as
/// (type, reason, from, message) — the age column dropped.
fn split_events(out: &str) -> (String, Vec<(String, String, String, String)>) {
    let (head, events) = out.split_once("Events:").expect("an Events: section");
    let rows = events
        .lines()
        .skip(3) // the rest of the "Events:" line, the header and the dashes
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            // The age of a counted event reads `5s (x2 over 10s)`.
            let from = if c[3].starts_with("(x") { 6 } else { 3 };
            (
                c[0].to_string(),
                c[1].to_string(),
                c[from].to_string(),
                c[from + 1..].join(" "),
            )
        })
        .collect();
    (format!("{head}Events:"), rows)
}

#[test]
fn describe_deployment_after_a_rollout() {
    let k = start();
    ok(&k, &["apply", "-f", &fixture("mydeploy")]);
    rollout_done(&k);
    let old_rs = ok(
        &k,
        &[
            "get",
            "rs",
            "-l",
            "run=nginx",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ],
    );
    ok(
        &k,
        &["set", "image", "deployment/mydeploy", "nginx=nginx:1.9.1"],
    );
    rollout_done(&k);
    let args = ["describe", "deployment", "mydeploy"];
    // The conditions settle (NewReplicaSetAvailable) right after the rollout completes.
    let out = until(&k, &args, "NewReplicaSetAvailable", |o| {
        o.contains("NewReplicaSetAvailable") && o.contains("10 available")
    });
    let (head, events) = split_events(&out);
    check(
        "describe-deployment-head",
        &args,
        &Output {
            code: 0,
            stdout: format!("{head}\n"),
            stderr: String::new(),
        },
    );
    let new_rs = head
        .lines()
        .find_map(|l| l.strip_prefix("NewReplicaSet:"))
        .and_then(|l| l.split_whitespace().next())
        .expect("NewReplicaSet line")
        .to_string();
    assert_ne!(new_rs, old_rs);

    let scaling: Vec<&str> = events
        .iter()
        .filter(|e| e.1 == "ScalingReplicaSet")
        .map(|e| {
            assert_eq!(
                (e.0.as_str(), e.2.as_str()),
                ("Normal", "deployment-controller")
            );
            e.3.as_str()
        })
        .collect();
    assert!(scaling.len() >= 4, "{out}");
    // As client-go's event correlator does: from the 10th distinct message of one reason about
    // one object within ten minutes, the events are combined into one.
    const COMBINED: &str = "(combined from similar events): ";
    for (i, m) in scaling.iter().enumerate() {
        assert_eq!(m.starts_with(COMBINED), i >= 9, "event {i}: {out}");
    }
    let combined = scaling.len() >= 10;
    let scaling: Vec<&str> = scaling
        .iter()
        .map(|m| m.strip_prefix(COMBINED).unwrap_or(m))
        .collect();
    assert_eq!(
        scaling[0],
        format!("Scaled up replica set {old_rs} from 0 to 10"),
        "{out}"
    );
    assert_eq!(
        scaling[1],
        format!("Scaled up replica set {new_rs} from 0 to 3"),
        "{out}"
    );
    assert_eq!(
        scaling[2],
        format!("Scaled down replica set {old_rs} from 10 to 8"),
        "{out}"
    );
    // The rollout ends with the old set scaled to 0 and the new one up to 10; which of the two
    // steps comes last depends on when the last new pods turn ready.
    let ends = |prefix: String, to: &str| {
        scaling
            .iter()
            .any(|m| m.starts_with(&prefix) && m.ends_with(to))
    };
    // The combined event shows only the latest of the steps it counts, so an end step folded
    // into it is not listed on its own.
    assert!(
        combined || ends(format!("Scaled down replica set {old_rs} from "), " to 0"),
        "{out}"
    );
    assert!(
        combined || ends(format!("Scaled up replica set {new_rs} from "), " to 10"),
        "{out}"
    );
    let last = scaling.last().unwrap();
    assert!(
        (last.starts_with(&format!("Scaled down replica set {old_rs} from "))
            && last.ends_with(" to 0"))
            || (last.starts_with(&format!("Scaled up replica set {new_rs} from "))
                && last.ends_with(" to 10")),
        "{out}"
    );
    // Every step is a well-formed scale message of one of the two ReplicaSets.
    for m in &scaling {
        let rest = m
            .strip_prefix("Scaled up replica set ")
            .or_else(|| m.strip_prefix("Scaled down replica set "))
            .unwrap_or_else(|| panic!("{m}"));
        let w: Vec<&str> = rest.split(' ').collect();
        assert!(
            w.len() == 5 && (w[0] == old_rs || w[0] == new_rs) && w[1] == "from" && w[3] == "to",
            "{m}"
        );
    }
    assert!(
        combined
            || scaling.iter().any(|m| m
                .starts_with(&format!("Scaled up replica set {new_rs} from "))
                && m.ends_with(" to 10"))
    );
}

#[test]
fn describe_pod_and_node() {
    let k = start();
    let args = ["apply", "-f", "-"];
    let o = kubectl_stdin(&k, &args, PINNED_POD);
    assert_eq!(o.code, 0, "{}", o.stderr);
    until_row(&k, &["get", "pod", "web"], &["web", "1/1", "Running"]);
    let out = until(&k, &["describe", "pod", "web"], "the Started event", |o| {
        o.contains(" Started ")
    });
    for line in [
        "Name:             web",
        "Namespace:        default",
        "Priority:         0",
        "Service Account:  default",
        "Status:           Running",
        "Containers:",
        "  nginx:",
        "    Image:          nginx:1.9.1",
        "    State:          Running",
        "    Ready:          True",
        "    Restart Count:  0",
        "Conditions:",
        "  Type                        Status",
        "  Ready                       True ",
        "QoS Class:                    BestEffort",
    ] {
        assert!(out.lines().any(|l| l == line), "{line:?} in\n{out}");
    }
    assert!(
        out.lines()
            .any(|l| mask_text(l) == "Node:             kube-lite-worker/<ip>"),
        "{out}"
    );
    let (_, events) = split_events(&out);
    let reasons: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    // A pod bound by spec.nodeName is never scheduled by the scheduler: no Scheduled event.
    let kubelet: Vec<&str> = reasons
        .iter()
        .copied()
        .filter(|r| *r != "Scheduled")
        .collect();
    assert!(
        kubelet == ["Pulling", "Pulled", "Created", "Started"]
            || kubelet == ["Pulled", "Created", "Started"],
        "{out}"
    );
    for e in &events {
        assert_eq!((e.0.as_str(), e.2.as_str()), ("Normal", "kubelet"), "{out}");
    }
    let msg = |r: &str| {
        events
            .iter()
            .find(|e| e.1 == r)
            .map(|e| e.3.clone())
            .unwrap()
    };
    assert!(msg("Created").ends_with("Container created"), "{out}");
    assert!(msg("Started").ends_with("Container started"), "{out}");

    // A scheduled pod gets the scheduler's event.
    ok(&k, &["run", "sched", "--image=nginx:1.9.1"]);
    until_row(&k, &["get", "pod", "sched"], &["sched", "1/1", "Running"]);
    let out = until(&k, &["describe", "pod", "sched"], "Started", |o| {
        o.contains(" Started ")
    });
    let (_, events) = split_events(&out);
    // kubectl sorts events by time at second resolution for the kubelet's: within one
    // second the order of Scheduled and Pulling is not defined (sort.Sort is not stable).
    let sched = events
        .iter()
        .find(|e| e.1 == "Scheduled")
        .expect("a Scheduled event");
    assert_eq!(
        (sched.0.as_str(), sched.1.as_str(), sched.2.as_str()),
        ("Normal", "Scheduled", "default-scheduler"),
        "{out}"
    );
    assert!(
        sched
            .3
            .starts_with("Successfully assigned default/sched to kube-lite-worker"),
        "{out}"
    );

    let node = ok(&k, &["describe", "node", "kube-lite-worker"]);
    for section in [
        "Name:               kube-lite-worker",
        "Conditions:",
        "Addresses:",
        "Capacity:",
        "Allocatable:",
        "System Info:",
        "Non-terminated Pods:",
        "Allocated resources:",
        "Events:",
    ] {
        assert!(
            node.lines().any(|l| l.starts_with(section)),
            "{section:?} in\n{node}"
        );
    }
    for cond in ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"] {
        assert!(
            node.lines()
                .any(|l| l.trim_start().starts_with(&format!("{cond} "))),
            "{cond} in\n{node}"
        );
    }
    for res in ["cpu:", "memory:", "pods:", "ephemeral-storage:"] {
        assert!(
            node.lines().any(|l| l.trim_start().starts_with(res)),
            "{res} in\n{node}"
        );
    }
    for info in [
        "Machine ID:",
        "Kernel Version:",
        "OS Image:",
        "Operating System:",
        "Architecture:",
        "Container Runtime Version:",
        "Kubelet Version:",
    ] {
        assert!(
            node.lines().any(|l| l.trim_start().starts_with(info)),
            "{info} in\n{node}"
        );
    }
    // The pinned pod is listed among the node's non-terminated pods.
    let pods = node
        .split_once("Non-terminated Pods:")
        .unwrap()
        .1
        .split_once("Allocated resources:")
        .unwrap()
        .0;
    assert!(
        pods.lines()
            .any(|l| l.split_whitespace().take(2).eq(["default", "web"])),
        "{pods}"
    );
    assert!(
        pods.lines()
            .nth(1)
            .is_some_and(|l| l.split_whitespace().eq([
                "Namespace",
                "Name",
                "CPU",
                "Requests",
                "CPU",
                "Limits",
                "Memory",
                "Requests",
                "Memory",
                "Limits",
                "Age"
            ])),
        "{pods}"
    );
}
