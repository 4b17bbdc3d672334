//! Which server thread served which client socket, and which readiness calls
//! (select/poll/epoll) returned which of those sockets ready: plain values, no words
//! (`labsniff grade` says them for exercises 2.2 and 3.2).
//!
//! Read from the joined sockets of the server's side only; the client's sockets (a
//! client traced too) are left out.

use super::calls::{CloneCall, Op, Side, SockCall, SocketCalls};
use super::facts::micros;
use super::join::Joined;
use crate::event::{Dir, MessageEvent};
use std::collections::BTreeMap;

/// Readiness calls kept at most; the rest are counted.
pub const READY_MAX: usize = 10_000;

/// One thread's send/recv calls on one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadIo {
    pub tid: u32,
    pub calls: u64,
    /// First call's start and last call's return, µs.
    pub first: u64,
    pub last: u64,
}

/// The accept()/accept4() that returned a served socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptCall {
    pub tid: Option<u32>,
    pub call: &'static str,
    /// When it started (the time on its trace line) and returned, µs.
    pub ts: u64,
    pub end: u64,
}

/// A server socket of one conversation, and the threads that served it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedSocket {
    pub conv: u64,
    /// Index into `Joined::traces`.
    pub trace: usize,
    pub fd: i64,
    pub accept: Option<AcceptCall>,
    /// Threads that sent or received on it, in order of first call.
    pub io: Vec<ThreadIo>,
    /// Send/recv calls with no thread id (strace without -f).
    pub io_without_tid: u64,
}

/// A served socket that a readiness call returned ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadySocket {
    pub conv: u64,
    pub fd: i64,
    /// The last frame of the client's last message complete before the call returned
    /// (what made the socket readable), when there is one.
    pub after_frame: Option<u64>,
}

/// One select/poll/epoll_wait return that named served sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyCall {
    pub trace: usize,
    pub tid: Option<u32>,
    pub call: &'static str,
    /// When it started (the time on its trace line) and returned, µs.
    pub ts: u64,
    pub end: u64,
    /// The served sockets it returned ready, by fd.
    pub ready: Vec<ReadySocket>,
}

/// How the traced server's threads served its clients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerThreads {
    /// One per conversation with a traced server socket, by conversation.
    pub sockets: Vec<ServedSocket>,
    /// Readiness calls in the order they returned, first [`READY_MAX`].
    pub ready: Vec<ReadyCall>,
    pub ready_dropped: u64,
    /// Every trace's clone()/clone3() calls: (trace, call).
    pub clones: Vec<(usize, CloneCall)>,
}

impl ServerThreads {
    /// Each thread that sent or received on a served socket, with those
    /// conversations, in order of the threads' first appearance.
    pub fn io_threads(&self) -> Vec<(u32, Vec<u64>)> {
        let mut out: Vec<(u32, Vec<u64>)> = Vec::new();
        for s in &self.sockets {
            for io in &s.io {
                match out.iter_mut().find(|(t, _)| *t == io.tid) {
                    Some((_, convs)) if !convs.contains(&s.conv) => convs.push(s.conv),
                    Some(_) => {}
                    None => out.push((io.tid, vec![s.conv])),
                }
            }
        }
        out
    }

    /// Each thread whose readiness calls returned served sockets, with those
    /// conversations (ascending) and how many such calls it made.
    pub fn ready_threads(&self) -> Vec<(u32, Vec<u64>, usize)> {
        let mut out: Vec<(u32, Vec<u64>, usize)> = Vec::new();
        for r in &self.ready {
            let Some(tid) = r.tid else { continue };
            let at = match out.iter().position(|(t, _, _)| *t == tid) {
                Some(i) => i,
                None => {
                    out.push((tid, Vec::new(), 0));
                    out.len() - 1
                }
            };
            let (_, convs, calls) = &mut out[at];
            *calls += 1;
            for s in &r.ready {
                if !convs.contains(&s.conv) {
                    convs.push(s.conv);
                }
            }
            convs.sort_unstable();
        }
        out
    }

    /// The served socket of conversation `conv`.
    pub fn socket(&self, conv: u64) -> Option<&ServedSocket> {
        self.sockets.iter().find(|s| s.conv == conv)
    }
}

/// A readiness return: when it returned, when it started, trace, thread, call.
type ReadyKey = (u64, u64, usize, Option<u32>, &'static str);

/// The server threads of `joined`; `messages` (the capture's, any order) give the
/// frames that made a socket ready.
pub fn server_threads(joined: &Joined, messages: &[&MessageEvent]) -> ServerThreads {
    let mut out = ServerThreads::default();
    // Readiness returns by (time, trace, thread, call): one call may name several fds.
    let mut ready: BTreeMap<ReadyKey, Vec<ReadySocket>> = BTreeMap::new();
    for (&conv, list) in &joined.sockets {
        let Some(s) = list.iter().find(|s| s.side == Side::Server) else {
            continue;
        };
        out.sockets.push(served(conv, s));
        let requests: Vec<(u64, u64)> = messages
            .iter()
            .filter(|m| m.conv == conv && m.dir == Dir::ClientToServer)
            .filter_map(|m| Some((micros(m.ts), *m.frames.last()?)))
            .collect();
        for c in s.calls.iter().filter(|c| matches!(c.op, Op::Ready { .. })) {
            let after_frame = requests
                .iter()
                .filter(|(ts, _)| *ts <= c.end())
                .max()
                .map(|&(_, frame)| frame);
            let key = (c.end(), c.ts, s.trace, c.tid, c.call);
            if ready.len() >= READY_MAX && !ready.contains_key(&key) {
                out.ready_dropped += 1;
                continue;
            }
            let sockets = ready.entry(key).or_default();
            if !sockets.iter().any(|r| r.conv == conv) {
                sockets.push(ReadySocket {
                    conv,
                    fd: s.fd,
                    after_frame,
                });
            }
        }
    }
    for ((end, ts, trace, tid, call), mut sockets) in ready {
        sockets.sort_by_key(|r| r.fd);
        out.ready.push(ReadyCall {
            trace,
            tid,
            call,
            ts,
            end,
            ready: sockets,
        });
    }
    for (n, t) in joined.traces.iter().enumerate() {
        out.clones.extend(t.clones.iter().map(|c| (n, *c)));
    }
    out
}

fn served(conv: u64, s: &SocketCalls) -> ServedSocket {
    let mut out = ServedSocket {
        conv,
        trace: s.trace,
        fd: s.fd,
        accept: None,
        io: Vec::new(),
        io_without_tid: 0,
    };
    for c in &s.calls {
        match c.op {
            Op::Accept { .. } => {
                out.accept = Some(AcceptCall {
                    tid: c.tid,
                    call: c.call,
                    ts: c.ts,
                    end: c.end(),
                });
            }
            Op::Send | Op::Recv => io(&mut out, c),
            _ => {}
        }
    }
    out
}

fn io(out: &mut ServedSocket, c: &SockCall) {
    let Some(tid) = c.tid else {
        out.io_without_tid += 1;
        return;
    };
    match out.io.iter_mut().find(|t| t.tid == tid) {
        Some(t) => {
            t.calls += 1;
            t.first = t.first.min(c.ts);
            t.last = t.last.max(c.end());
        }
        None => out.io.push(ThreadIo {
            tid,
            calls: 1,
            first: c.ts,
            last: c.end(),
        }),
    }
}

#[cfg(test)]
mod tests;
