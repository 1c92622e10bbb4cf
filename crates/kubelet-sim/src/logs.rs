//! Container logs: the per-container log files in CRI format (`<RFC3339Nano> <stream> <F|P>
//! <text>` per line) that runtimes write under `<data_dir>/logs/pods/<ns>_<pod>_<uid>/<container>/
//! <container-id>.log`, which containers are still writing (so `follow` knows when to end), and
//! reading them as the kubelet serves `pods/log` (since, tail, timestamps, limitBytes, follow).
//! `container_for_logs` picks the container id as the kubelet's `validateContainerLogStatus`
//! does, with its error texts.
//!
//! Files outlive their container (`--previous` reads the last run); a container keeps its two
//! most recent runs' files, and a pod's directory is removed when the pod is deleted. A file
//! rotates by size (`log_rotation`); reads see the current file, a follower moves on to the
//! new one after a rotation.

use crate::log_rotation::{self, Rotation};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, watch};

/// Which output stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn word(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Which container's log a file is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogKey {
    pub namespace: String,
    pub pod: String,
    pub pod_uid: String,
    pub container: String,
    /// The runtime's container id (64 hex digits, no `containerd://`).
    pub container_id: String,
}

/// What a reader wants (`PodLogOptions` after validation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    pub follow: bool,
    pub tail_lines: Option<u64>,
    /// Lines at or after this time only.
    pub since: Option<SystemTime>,
    pub timestamps: bool,
    pub limit_bytes: Option<u64>,
    /// Only this stream (`stream=Stdout|Stderr`); both when `None`.
    pub stream: Option<Stream>,
}

/// `2026-12-03T17:29:45.123456789Z`: RFC 3339 with nine fraction digits, UTC.
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = apimachinery::clock::rfc3339(UNIX_EPOCH + Duration::from_secs(d.as_secs()));
    format!("{}.{:09}Z", secs.trim_end_matches('Z'), d.subsec_nanos())
}

/// One line of a CRI log file.
fn cri_line(t: SystemTime, stream: Stream, text: &[u8], partial: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 48);
    out.extend_from_slice(timestamp(t).as_bytes());
    out.push(b' ');
    out.extend_from_slice(stream.word().as_bytes());
    out.extend_from_slice(if partial { b" P " } else { b" F " });
    out.extend_from_slice(text);
    out.push(b'\n');
    out
}

/// A parsed CRI line.
#[derive(Debug, PartialEq, Eq)]
struct Entry<'a> {
    time: SystemTime,
    stamp: &'a [u8],
    stream: Stream,
    partial: bool,
    text: &'a [u8],
}

fn parse_line(line: &[u8]) -> Option<Entry<'_>> {
    let mut parts = line.splitn(4, |b| *b == b' ');
    let stamp = parts.next()?;
    let stream = match parts.next()? {
        b"stdout" => Stream::Stdout,
        b"stderr" => Stream::Stderr,
        _ => return None,
    };
    let partial = match parts.next()? {
        b"P" => true,
        b"F" => false,
        _ => return None,
    };
    let text = parts.next().unwrap_or(b"");
    let time = apimachinery::clock::parse_rfc3339(std::str::from_utf8(stamp).ok()?)?;
    Some(Entry {
        time,
        stamp,
        stream,
        partial,
        text,
    })
}

/// Appends lines to one container's log file, rotating it by size.
pub struct LogWriter {
    file: std::fs::File,
    path: PathBuf,
    /// The current file's size.
    size: u64,
    rotation: Rotation,
}

impl LogWriter {
    fn open(path: PathBuf, rotation: Rotation) -> io::Result<LogWriter> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            file,
            path,
            size,
            rotation,
        })
    }

    /// Write `text` (without its newline) as one full line, or a partial one (no newline in
    /// the output: the next line continues it); rotate the file once it is big enough.
    pub fn line(&mut self, t: SystemTime, stream: Stream, text: &[u8], partial: bool) {
        let line = cri_line(t, stream, text, partial);
        if let Err(e) = self.file.write_all(&line) {
            tracing::debug!("container log write: {e}");
            return;
        }
        self.size += line.len() as u64;
        if self.size >= self.rotation.max_size {
            self.rotate(t);
        }
    }

    fn rotate(&mut self, t: SystemTime) {
        match log_rotation::rotate(&self.path, t, self.rotation.max_files) {
            Ok(false) => {}
            Ok(true) => match LogWriter::open(self.path.clone(), self.rotation) {
                Ok(w) => *self = w,
                Err(e) => tracing::warn!("container log {}: {e}", self.path.display()),
            },
            Err(e) => tracing::warn!("rotating container log {}: {e}", self.path.display()),
        }
    }
}

/// The log files of a node host: where they are and which are still being written.
#[derive(Debug)]
pub struct LogStore {
    root: PathBuf,
    rotation: Rotation,
    /// Containers whose process may still write, by id; the sender flips to `true` when it
    /// ends. Made when the first follower asks (a node keeps an entry per container, and most
    /// are never followed).
    live: Mutex<HashMap<String, Option<watch::Sender<bool>>>>,
}

impl LogStore {
    pub fn new(data_dir: &Path) -> Arc<LogStore> {
        LogStore::with_rotation(data_dir, Rotation::default())
    }

    /// Logs whose files rotate by `rotation` instead of the kubelet's defaults.
    pub fn with_rotation(data_dir: &Path, rotation: Rotation) -> Arc<LogStore> {
        Arc::new(LogStore {
            root: data_dir.join("logs").join("pods"),
            rotation,
            live: Mutex::new(HashMap::new()),
        })
    }

    fn pod_dir(&self, namespace: &str, pod: &str, uid: &str) -> PathBuf {
        self.root.join(format!("{namespace}_{pod}_{uid}"))
    }

    pub fn path(&self, key: &LogKey) -> PathBuf {
        self.pod_dir(&key.namespace, &key.pod, &key.pod_uid)
            .join(&key.container)
            .join(format!("{}.log", key.container_id))
    }

    /// Create the (empty) log file of a new container, dropping the files (current and
    /// rotated) of all but the newest earlier run.
    pub fn create(&self, key: &LogKey) -> io::Result<PathBuf> {
        let path = self.path(key);
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        let files: Vec<(String, PathBuf)> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect();
        // Runs by the time their current file was last written.
        let mut runs: Vec<(SystemTime, &str)> = files
            .iter()
            .filter_map(|(name, p)| {
                let id = name.strip_suffix(".log")?;
                Some((std::fs::metadata(p).ok()?.modified().ok()?, id))
            })
            .collect();
        runs.sort();
        let newest = runs.last().map(|(_, id)| format!("{id}.log"));
        for (name, p) in &files {
            if newest
                .as_ref()
                .is_none_or(|n| !name.starts_with(n.as_str()))
            {
                let _ = std::fs::remove_file(p);
            }
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        Ok(path)
    }

    /// Open a container's log for appending (creating it if needed).
    pub fn writer(&self, key: &LogKey) -> io::Result<LogWriter> {
        let path = self.path(key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        LogWriter::open(path, self.rotation)
    }

    /// The container runs: followers wait for more lines until `ended`.
    pub fn started(&self, container_id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(container_id.to_string(), None);
    }

    /// The container's process is gone and its output written: followers end at EOF.
    pub fn ended(&self, container_id: &str) {
        if let Some(tx) = self
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(container_id)
            .flatten()
        {
            tx.send_replace(true);
        }
    }

    fn ended_signal(&self, container_id: &str) -> Option<watch::Receiver<bool>> {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(container_id)
            .map(|tx| {
                tx.get_or_insert_with(|| watch::Sender::new(false))
                    .subscribe()
            })
    }

    /// Remove a deleted pod's logs.
    pub fn remove_pod(&self, namespace: &str, pod: &str, uid: &str) {
        let _ = std::fs::remove_dir_all(self.pod_dir(namespace, pod, uid));
    }

    /// Stream a container's log as the kubelet serves it: chunks of output on the returned
    /// channel until the end (EOF, the byte limit, or with `follow` the container's end).
    /// A missing file reads as empty.
    pub fn read(self: &Arc<Self>, key: &LogKey, opts: ReadOptions) -> mpsc::Receiver<Vec<u8>> {
        let (tx, rx) = mpsc::channel(16);
        let path = self.path(key);
        let ended = if opts.follow {
            self.ended_signal(&key.container_id)
        } else {
            None
        };
        tokio::spawn(follow(path, opts, ended, tx));
        rx
    }
}

/// Renders parsed lines into output bytes, honouring since, stream, timestamps and limitBytes.
struct Render {
    opts: ReadOptions,
    written: u64,
    /// The previous line was partial: the next continues it (no new timestamp).
    continuing: bool,
}

impl Render {
    /// Append a line's output; false once the byte limit is reached.
    fn push(&mut self, e: &Entry<'_>, out: &mut Vec<u8>) -> bool {
        if self.opts.since.is_some_and(|s| e.time < s) {
            return true;
        }
        if self.opts.stream.is_some_and(|s| s != e.stream) {
            return true;
        }
        let mut line = Vec::with_capacity(e.text.len() + 32);
        if self.opts.timestamps && !self.continuing {
            line.extend_from_slice(e.stamp);
            line.push(b' ');
        }
        line.extend_from_slice(e.text);
        if !e.partial {
            line.push(b'\n');
        }
        self.continuing = e.partial;
        if let Some(limit) = self.opts.limit_bytes {
            let room = limit.saturating_sub(self.written) as usize;
            if line.len() >= room {
                out.extend_from_slice(&line[..room]);
                self.written = limit;
                return false;
            }
        }
        self.written += line.len() as u64;
        out.extend_from_slice(&line);
        true
    }
}

/// The byte offset where the last `n` full lines of `data` begin.
fn tail_start(data: &[u8], n: u64) -> usize {
    if n == 0 {
        return data.len();
    }
    let mut seen = 0;
    // Skip the final newline, then count newlines backwards.
    let end = data.len().saturating_sub(1);
    for i in (0..end).rev() {
        if data[i] == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    0
}

async fn follow(
    path: PathBuf,
    opts: ReadOptions,
    mut ended: Option<watch::Receiver<bool>>,
    tx: mpsc::Sender<Vec<u8>>,
) {
    let mut render = Render {
        opts: opts.clone(),
        written: 0,
        continuing: false,
    };
    let mut file: Option<std::fs::File> = None;
    // The start of a line still being written.
    let mut carry: Vec<u8> = Vec::new();
    let mut first = true;
    loop {
        // Whether the writer had ended before this read: then what we read is all there is.
        let done = ended.as_ref().is_none_or(|e| *e.borrow());
        if file.is_none() {
            file = std::fs::File::open(&path).ok();
        }
        // Rotated before this read: the open file is complete, the rest is in a new one.
        let rotated = file.as_ref().is_some_and(|f| !same_file(f, &path));
        let mut data = std::mem::take(&mut carry);
        if let Some(f) = file.as_mut() {
            let _ = f.read_to_end(&mut data);
        }
        // Only whole lines; a line still being written waits for its newline.
        let whole = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        carry = data[whole..].to_vec();
        let mut start = 0;
        if first {
            if let Some(n) = opts.tail_lines {
                start = tail_start(&data[..whole], n);
            }
            first = false;
        }
        let mut out = Vec::new();
        let mut more = true;
        for line in data[start..whole].split(|b| *b == b'\n') {
            if line.is_empty() {
                continue;
            }
            if let Some(e) = parse_line(line) {
                if !render.push(&e, &mut out) {
                    more = false;
                    break;
                }
            }
        }
        if !out.is_empty() && tx.send(out).await.is_err() {
            return;
        }
        if !more {
            return;
        }
        if rotated {
            file = None;
            carry.clear();
            continue;
        }
        if done {
            return;
        }
        // Wait for the writer to end, or poll for new lines.
        let Some(e) = ended.as_mut() else { return };
        tokio::select! {
            _ = e.changed() => {}
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = tx.closed() => return,
        }
    }
}

/// Whether `path` still names the open file `f` (not a new file after a rotation).
fn same_file(f: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        (_, Err(_)) => true,
        _ => false,
    }
}

/// Why a container's log cannot be read (the kubelet's words; served as 400 BadRequest).
pub type LogError = String;

/// The container id whose log `kubectl logs [--previous]` reads, from the pod's status, as the
/// kubelet's `validateContainerLogStatus` picks it.
pub fn container_for_logs(
    pod: &Value,
    container: &str,
    previous: bool,
) -> Result<String, LogError> {
    let name = pod["metadata"]["name"].as_str().unwrap_or("");
    let status = &pod["status"];
    let found = [
        "containerStatuses",
        "initContainerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .filter_map(|f| status[*f].as_array())
    .flatten()
    .find(|s| s["name"].as_str() == Some(container));
    let Some(s) = found else {
        return Err(format!(
            "container {container:?} in pod {name:?} is not available"
        ));
    };
    let id = |v: &Value| {
        v["containerID"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(|s| s.rsplit("://").next().unwrap_or(s).to_string())
    };
    let last = &s["lastState"]["terminated"];
    let state = &s["state"];
    let terminated_err = || format!("container {container:?} in pod {name:?} is terminated");
    if previous {
        return id(last).ok_or_else(|| {
            format!("previous terminated container {container:?} in pod {name:?} not found")
        });
    }
    if state["running"].is_object() {
        return id(s).ok_or_else(terminated_err);
    }
    if state["terminated"].is_object() {
        return id(&state["terminated"])
            .or_else(|| id(last))
            .ok_or_else(terminated_err);
    }
    if last.is_object() {
        return id(last).ok_or_else(terminated_err);
    }
    if let Some(w) = state["waiting"].as_object() {
        let reason = w.get("reason").and_then(|r| r.as_str()).unwrap_or("");
        let why = match reason {
            "ErrImagePull" => "image can't be pulled".to_string(),
            "ImagePullBackOff" => "trying and failing to pull image".to_string(),
            r => r.to_string(),
        };
        return Err(format!(
            "container {container:?} in pod {name:?} is waiting to start: {why}"
        ));
    }
    Err(format!(
        "container {container:?} in pod {name:?} is waiting to start - no logs yet"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_764_782_985_000 + ms)
    }

    fn key() -> LogKey {
        LogKey {
            namespace: "default".into(),
            pod: "p".into(),
            pod_uid: "u".into(),
            container: "c".into(),
            container_id: "abc".into(),
        }
    }

    async fn collect(mut rx: mpsc::Receiver<Vec<u8>>) -> String {
        let mut out = Vec::new();
        while let Some(chunk) = rx.recv().await {
            out.extend(chunk);
        }
        String::from_utf8(out).unwrap()
    }

    fn store_with(lines: &[(u64, Stream, &str)]) -> (tempfile::TempDir, Arc<LogStore>) {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::new(dir.path());
        store.create(&key()).unwrap();
        let mut w = store.writer(&key()).unwrap();
        for (ms, s, text) in lines {
            w.line(t(*ms), *s, text.as_bytes(), false);
        }
        (dir, store)
    }

    /// A store whose files rotate past 100 bytes (two lines of ours), keeping 3 files.
    fn tiny_store() -> (tempfile::TempDir, Arc<LogStore>) {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::with_rotation(dir.path(), Rotation::new(100, 3).unwrap());
        store.create(&key()).unwrap();
        (dir, store)
    }

    fn write_lines(store: &LogStore, from: u64, to: u64) {
        let mut w = store.writer(&key()).unwrap();
        for i in from..to {
            w.line(
                t(i * 1000),
                Stream::Stdout,
                format!("line {i}").as_bytes(),
                false,
            );
        }
    }

    #[tokio::test]
    async fn a_log_past_its_max_size_rotates_and_logs_show_the_current_file() {
        let (_dir, store) = tiny_store();
        write_lines(&store, 0, 10);
        let dir = store.path(&key()).parent().unwrap().to_path_buf();
        assert_eq!(
            log_rotation::names_in(&dir),
            [
                "abc.log",
                "abc.log.20251203-172950.gz",
                "abc.log.20251203-172953"
            ],
            "the current file, the newest rotated one, the older ones compressed"
        );
        let all = collect(store.read(&key(), ReadOptions::default())).await;
        assert_eq!(all, "line 9\n");
    }

    #[tokio::test]
    async fn a_follower_reads_on_into_the_new_file_after_a_rotation() {
        let (_dir, store) = tiny_store();
        store.started("abc");
        write_lines(&store, 0, 1);
        let rx = store.read(
            &key(),
            ReadOptions {
                follow: true,
                ..ReadOptions::default()
            },
        );
        // Let the follower open the file before it rotates.
        tokio::time::sleep(Duration::from_millis(50)).await;
        write_lines(&store, 1, 4);
        store.ended("abc");
        assert_eq!(collect(rx).await, "line 0\nline 1\nline 2\nline 3\n");
    }

    #[test]
    fn a_new_run_keeps_the_previous_runs_rotated_files_and_drops_older_runs() {
        let (_dir, store) = tiny_store();
        write_lines(&store, 0, 3);
        let run = |id: &str| LogKey {
            container_id: id.into(),
            ..key()
        };
        std::thread::sleep(Duration::from_millis(20));
        store.create(&run("def")).unwrap();
        let dir = store.path(&key()).parent().unwrap().to_path_buf();
        let count = |prefix: &str| {
            log_rotation::names_in(&dir)
                .iter()
                .filter(|n| n.starts_with(prefix))
                .count()
        };
        assert_eq!((count("abc.log"), count("def.log")), (2, 1));
        std::thread::sleep(Duration::from_millis(20));
        store.create(&run("ghi")).unwrap();
        assert_eq!(
            (count("abc.log"), count("def.log"), count("ghi.log")),
            (0, 1, 1)
        );
    }

    #[test]
    fn lines_are_written_in_cri_format_with_nanosecond_timestamps() {
        let line = cri_line(t(5), Stream::Stdout, b"hello world", false);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "2025-12-03T17:29:45.005000000Z stdout F hello world\n"
        );
        let e = parse_line(b"2025-12-03T17:29:45.005000000Z stderr P a b").unwrap();
        assert_eq!(
            (e.stream, e.partial, e.text),
            (Stream::Stderr, true, &b"a b"[..])
        );
        assert_eq!(e.time, t(5));
    }

    #[tokio::test]
    async fn a_read_returns_every_line_and_tail_since_timestamps_and_limit_narrow_it() {
        let (_d, store) = store_with(&[
            (0, Stream::Stdout, "one"),
            (1000, Stream::Stderr, "two"),
            (2000, Stream::Stdout, "three"),
        ]);
        let all = collect(store.read(&key(), ReadOptions::default())).await;
        assert_eq!(all, "one\ntwo\nthree\n");
        let tail = ReadOptions {
            tail_lines: Some(2),
            ..Default::default()
        };
        assert_eq!(collect(store.read(&key(), tail)).await, "two\nthree\n");
        let zero = ReadOptions {
            tail_lines: Some(0),
            ..Default::default()
        };
        assert_eq!(collect(store.read(&key(), zero)).await, "");
        let since = ReadOptions {
            since: Some(t(1000)),
            ..Default::default()
        };
        assert_eq!(collect(store.read(&key(), since)).await, "two\nthree\n");
        let stamped = ReadOptions {
            timestamps: true,
            tail_lines: Some(1),
            ..Default::default()
        };
        assert_eq!(
            collect(store.read(&key(), stamped)).await,
            "2025-12-03T17:29:47.000000000Z three\n"
        );
        let limited = ReadOptions {
            limit_bytes: Some(6),
            ..Default::default()
        };
        assert_eq!(collect(store.read(&key(), limited)).await, "one\ntw");
        let stderr = ReadOptions {
            stream: Some(Stream::Stderr),
            ..Default::default()
        };
        assert_eq!(collect(store.read(&key(), stderr)).await, "two\n");
    }

    #[tokio::test]
    async fn a_follow_streams_new_lines_and_ends_when_the_container_ends() {
        let (_d, store) = store_with(&[(0, Stream::Stdout, "first")]);
        store.started("abc");
        let mut rx = store.read(
            &key(),
            ReadOptions {
                follow: true,
                ..Default::default()
            },
        );
        assert_eq!(rx.recv().await.unwrap(), b"first\n");
        store
            .writer(&key())
            .unwrap()
            .line(t(10), Stream::Stdout, b"second", false);
        assert_eq!(rx.recv().await.unwrap(), b"second\n");
        store.ended("abc");
        assert_eq!(rx.recv().await, None, "the stream ends with the container");
    }

    #[test]
    fn a_new_run_keeps_only_the_previous_runs_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::new(dir.path());
        for id in ["a", "b", "c"] {
            store
                .create(&LogKey {
                    container_id: id.into(),
                    ..key()
                })
                .unwrap();
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut left: Vec<String> = std::fs::read_dir(store.path(&key()).parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["b.log", "c.log"]);
        store.remove_pod("default", "p", "u");
        assert!(!store.path(&key()).parent().unwrap().exists());
    }

    fn pod(status: Value) -> Value {
        json!({"metadata": {"name": "web"}, "status": status})
    }

    #[test]
    fn the_container_to_read_follows_the_kubelets_rules_and_words() {
        let waiting = pod(json!({"containerStatuses": [
            {"name": "c", "state": {"waiting": {"reason": "ContainerCreating"}}}]}));
        assert_eq!(
            container_for_logs(&waiting, "c", false).unwrap_err(),
            "container \"c\" in pod \"web\" is waiting to start: ContainerCreating"
        );
        let pulling = pod(json!({"containerStatuses": [
            {"name": "c", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}));
        assert_eq!(
            container_for_logs(&pulling, "c", false).unwrap_err(),
            "container \"c\" in pod \"web\" is waiting to start: trying and failing to pull image"
        );
        assert_eq!(
            container_for_logs(&pod(json!({})), "c", false).unwrap_err(),
            "container \"c\" in pod \"web\" is not available"
        );
        let restarted = pod(json!({"containerStatuses": [{
            "name": "c", "containerID": "containerd://new",
            "state": {"running": {}},
            "lastState": {"terminated": {"containerID": "containerd://old", "exitCode": 1}}}]}));
        assert_eq!(container_for_logs(&restarted, "c", false).unwrap(), "new");
        assert_eq!(container_for_logs(&restarted, "c", true).unwrap(), "old");
        assert_eq!(
            container_for_logs(&waiting, "c", true).unwrap_err(),
            "previous terminated container \"c\" in pod \"web\" not found"
        );
        let done = pod(json!({"containerStatuses": [{
            "name": "c", "containerID": "containerd://x",
            "state": {"terminated": {"containerID": "containerd://x", "exitCode": 0}}}]}));
        assert_eq!(container_for_logs(&done, "c", false).unwrap(), "x");
    }
}
