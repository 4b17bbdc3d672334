//! `--trace-events FILE`: the system-call-level facts from inside labnet, one JSON
//! line per socket call (time, thread name and id, selector token, fd, call, bytes,
//! addresses), so that `labsniff -r CAP --syscalls FILE` can join them to a capture
//! as it joins an strace trace, without strace.
//!
//! ```text
//! {"ts":1796117357.079776,"thread":"labnet-1","tid":30047,"token":null,"fd":4,"call":"accept","bytes":null,"local":"127.0.0.1:5005","peer":"127.0.0.1:41000"}
//! ```

use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the events go; cheap to clone (one file shared by every thread).
#[derive(Debug, Clone)]
pub struct TraceEvents {
    out: Arc<Mutex<BufWriter<File>>>,
}

/// What the call did, named as labsniff's `syscall` lines name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Call {
    Accept,
    Connect,
    Send,
    Recv,
    /// The selector reported the socket ready (mio's poll: epoll_wait).
    Ready,
    Shutdown,
    Close,
}

#[derive(Serialize)]
struct Line<'a> {
    ts: f64,
    thread: &'a str,
    tid: Option<u32>,
    token: Option<usize>,
    fd: i32,
    call: Call,
    bytes: Option<u64>,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
}

/// One socket's identity in the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sock {
    pub fd: i32,
    pub token: Option<usize>,
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
}

impl Sock {
    /// From a std or mio stream (anything with a raw fd and addresses).
    pub fn of<S: std::os::fd::AsRawFd>(
        s: &S,
        local: Option<SocketAddr>,
        peer: Option<SocketAddr>,
        token: Option<usize>,
    ) -> Sock {
        Sock {
            fd: s.as_raw_fd(),
            token,
            local,
            peer,
        }
    }
}

impl TraceEvents {
    pub fn create(path: &Path) -> std::io::Result<TraceEvents> {
        Ok(TraceEvents {
            out: Arc::new(Mutex::new(BufWriter::new(File::create(path)?))),
        })
    }

    /// One event, written and flushed at once (a server stopped by Ctrl-C loses none).
    pub fn record(&self, sock: &Sock, call: Call, bytes: Option<u64>) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let ts = now.as_secs() as f64 + f64::from(now.subsec_micros()) / 1e6;
        let thread = std::thread::current();
        let line = Line {
            ts,
            thread: thread.name().unwrap_or("main"),
            tid: thread_id(),
            token: sock.token,
            fd: sock.fd,
            call,
            bytes,
            local: sock.local,
            peer: sock.peer,
        };
        if let Ok(mut out) = self.out.lock() {
            // A full disk must not stop the server: the trace is a teaching aid.
            let _ = serde_json::to_writer(&mut *out, &line);
            let _ = out.write_all(b"\n");
            let _ = out.flush();
        }
    }
}

/// Record on `trace` when there is one.
pub fn record(trace: Option<&TraceEvents>, sock: &Sock, call: Call, bytes: Option<u64>) {
    if let Some(t) = trace {
        t.record(sock, call, bytes);
    }
}

thread_local! {
    static TID: Option<u32> = read_tid();
}

/// The kernel's thread id (what strace -f prints), read once per thread from
/// /proc/thread-self (a link to PID/task/TID), so that no unsafe call is needed.
fn thread_id() -> Option<u32> {
    TID.with(|t| *t)
}

fn read_tid() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}
