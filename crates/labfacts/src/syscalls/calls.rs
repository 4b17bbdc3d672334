//! The plain facts of traced sockets: what a call did ([`Op`], [`SockCall`]), a socket
//! being followed (`OpenSocket`) and one joined to a conversation ([`SocketCalls`]),
//! what a trace gave ([`TraceSummary`]). `follow` fills them, `conv_index` and `join`
//! read them.

use super::parse::Transport;
use super::read::ReadStats;
use std::net::SocketAddr;

/// Calls kept per joined socket; the rest are counted.
pub const CALLS_PER_SOCKET: usize = 5_000;
/// Open fds followed at once per trace.
pub(super) const OPEN_MAX: usize = 65_536;
/// Thread ids listed per trace.
pub(super) const THREADS_MAX: usize = 256;

/// Which end of the conversation a traced socket is.
pub use crate::event::dir::Side;

/// What a call did to its socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Connect,
    /// The call that returned this socket, on the listening fd.
    Accept {
        listen_fd: i64,
    },
    Send,
    Recv,
    /// epoll_wait/poll/select returned with this socket ready; `token`: the epoll data
    /// registered for it (mio's token, Python's fd).
    Ready {
        token: Option<u64>,
    },
    Shutdown {
        how: &'static str,
    },
    Close,
}

/// One call on a joined socket: facts only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SockCall {
    pub tid: Option<u32>,
    /// Start, microseconds since the epoch.
    pub ts: u64,
    /// Duration (-T), microseconds.
    pub dur: Option<u64>,
    /// The system call's name (`recvfrom`, `accept4`, `epoll_wait`, ...).
    pub call: &'static str,
    pub op: Op,
    /// Bytes asked for (send/recv).
    pub asked: Option<u64>,
    pub ret: Option<i64>,
    pub errno: Option<String>,
}

impl SockCall {
    /// When it returned, microseconds.
    pub fn end(&self) -> u64 {
        self.ts.saturating_add(self.dur.unwrap_or(0))
    }
    /// Bytes moved (0 for an error or end of stream).
    pub fn moved(&self) -> u64 {
        self.ret.filter(|&r| r > 0).map_or(0, |r| r as u64)
    }
}

/// The calls of one traced socket joined to a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketCalls {
    /// Index into `Joined::traces`.
    pub trace: usize,
    pub conv: u64,
    pub side: Side,
    pub fd: i64,
    pub calls: Vec<SockCall>,
    pub calls_dropped: u64,
}

/// What one trace gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceSummary {
    pub name: String,
    pub read: ReadStats,
    /// The file could not be read (or stopped being readable): why.
    pub error: Option<String>,
    /// Internet TCP sockets followed, joined to a conversation, with the capture's
    /// addresses but at another time.
    pub sockets: u64,
    pub joined: u64,
    pub other_time: u64,
    /// Thread ids seen, first [`THREADS_MAX`].
    pub threads: Vec<u32>,
    /// clone()/clone3() calls that returned a new thread or process, first
    /// [`THREADS_MAX`].
    pub clones: Vec<CloneCall>,
}

/// A clone()/clone3() that returned: who made it, when, and the new task's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloneCall {
    pub tid: Option<u32>,
    /// When it started (the time on its trace line) and returned, µs.
    pub ts: u64,
    pub end: u64,
    pub call: &'static str,
    /// The new thread's (or process's) id.
    pub child: u32,
    /// CLONE_THREAD was among the flags: a thread of the same process.
    pub thread: bool,
}

/// A socket fd being followed.
#[derive(Debug, Default)]
pub(super) struct OpenSocket {
    pub(super) fd: i64,
    pub(super) transport: Option<Transport>,
    pub(super) local: Option<SocketAddr>,
    pub(super) remote: Option<SocketAddr>,
    /// First call, µs.
    pub(super) first: u64,
    pub(super) connect_at: Option<u64>,
    pub(super) calls: Vec<SockCall>,
    pub(super) dropped: u64,
}

impl OpenSocket {
    pub(super) fn push(&mut self, call: SockCall) {
        if self.calls.len() < CALLS_PER_SOCKET {
            self.calls.push(call);
        } else {
            self.dropped += 1;
        }
    }
}
