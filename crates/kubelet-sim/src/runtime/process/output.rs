//! A container's stdout and stderr into its CRI log file: one thread per stream reads the
//! pipe and writes each line (`F`), splitting lines longer than 16 KiB into partial ones
//! (`P`), as containerd does; what is read also goes, as it comes, to the sessions attached
//! to the process (`attach`).

use super::attach::MainIo;
use crate::logs::{LogWriter, Stream};
use std::io::Read;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const MAX_LINE: usize = 16 * 1024;

/// The readers of one container; `wait` returns once both reached EOF (or after `limit`).
pub struct Pumps {
    done: mpsc::Receiver<()>,
    count: usize,
}

impl Pumps {
    pub fn start(
        writer: LogWriter,
        streams: Vec<(Stream, Box<dyn Read + Send>)>,
        io: Arc<MainIo>,
    ) -> Pumps {
        let writer = Arc::new(Mutex::new(writer));
        let (tx, done) = mpsc::channel();
        let count = streams.len();
        for (stream, r) in streams {
            let w = writer.clone();
            let tx = tx.clone();
            let io = io.clone();
            std::thread::spawn(move || {
                pump(r, stream, &w, &io);
                let _ = tx.send(());
            });
        }
        Pumps { done, count }
    }

    /// Wait for the streams to end; a process that left a child holding them open is waited
    /// for only `limit`.
    pub fn wait(self, limit: Duration) {
        let until = std::time::Instant::now() + limit;
        for _ in 0..self.count {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if self.done.recv_timeout(left).is_err() {
                return;
            }
        }
    }
}

fn pump(mut r: Box<dyn Read + Send>, stream: Stream, w: &Mutex<LogWriter>, io: &MainIo) {
    let mut buf = vec![0u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    let write = |text: &[u8], partial: bool| {
        w.lock()
            .unwrap_or_else(|e| e.into_inner())
            .line(SystemTime::now(), stream, text, partial);
    };
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        io.publish(stream, &buf[..n]);
        let mut chunk = &buf[..n];
        while let Some(i) = chunk.iter().position(|b| *b == b'\n') {
            line.extend_from_slice(&chunk[..i]);
            write(&line, false);
            line.clear();
            chunk = &chunk[i + 1..];
        }
        line.extend_from_slice(chunk);
        while line.len() >= MAX_LINE {
            write(&line[..MAX_LINE], true);
            line.drain(..MAX_LINE);
        }
    }
    if !line.is_empty() {
        write(&line, false);
    }
}

/// A log written line by line (nginx's access log): each line also goes to the attached
/// sessions.
pub struct Tee {
    pub log: LogWriter,
    pub io: Arc<MainIo>,
}

impl Tee {
    pub fn line(&mut self, t: SystemTime, stream: Stream, text: &[u8], partial: bool) {
        self.log.line(t, stream, text, partial);
        let mut data = text.to_vec();
        if !partial {
            data.push(b'\n');
        }
        self.io.publish(stream, &data);
    }
}
