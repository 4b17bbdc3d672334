//! Follows each socket through a trace (fd → addresses, from socket/bind/connect/
//! accept4 returns, getsockname/getpeername, and `-yy` annotations when present), keeps
//! the calls made on it, and when it closes (or the trace ends) joins it to the
//! capture's conversation with the same addresses at the same time.
//!
//! Streaming: only open sockets and joined sockets' calls (capped) are held.

use super::follow::{Follower, OpenSocket};
use super::read::{self, ReadStats};
use super::Clock;
use crate::event::ConversationRecord;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::net::SocketAddr;

/// Calls kept per joined socket; the rest are counted.
pub const CALLS_PER_SOCKET: usize = 5_000;
/// Open fds followed at once per trace.
pub(super) const OPEN_MAX: usize = 65_536;
/// Thread ids listed per trace.
pub(super) const THREADS_MAX: usize = 256;
/// A socket's first call may come this long before its conversation's first frame
/// (a capture started late) or after its end, in microseconds.
const SLACK_US: u64 = 2_000_000;

/// Which end of the conversation a traced socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

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
    /// Index into [`Joined::traces`].
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
}

/// Every trace's summary, and the joined sockets per conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Joined {
    pub traces: Vec<TraceSummary>,
    pub sockets: BTreeMap<u64, Vec<SocketCalls>>,
}

/// One trace to read.
pub struct TraceInput<R> {
    pub name: String,
    pub input: R,
    pub clock: Clock,
}

impl<R> std::fmt::Debug for TraceInput<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceInput")
            .field("name", &self.name)
            .finish()
    }
}

/// Join every trace to `convs`.
pub fn join<R: BufRead>(convs: &[&ConversationRecord], traces: Vec<TraceInput<R>>) -> Joined {
    let index = ConvIndex::new(convs);
    let mut joined = Joined::default();
    for (n, trace) in traces.into_iter().enumerate() {
        let mut follow = Follower::new(n, &index);
        let mut input = trace.input;
        let result = if read::is_json(&mut input) {
            read::labnet_events(input, |e| follow.event(e))
        } else {
            read::calls(input, trace.clock, |call| follow.call(call))
        };
        let mut summary = follow.finish(&mut joined.sockets);
        summary.name = trace.name;
        match result {
            Ok(stats) => summary.read = stats,
            Err(e) => summary.error = Some(e.to_string()),
        }
        joined.traces.push(summary);
    }
    joined
}

/// The capture's TCP conversations by address.
pub(super) struct ConvIndex<'a> {
    by_pair: HashMap<(SocketAddr, SocketAddr), Vec<&'a ConversationRecord>>,
    by_server: HashMap<SocketAddr, Vec<&'a ConversationRecord>>,
}

impl<'a> ConvIndex<'a> {
    fn new(convs: &[&'a ConversationRecord]) -> ConvIndex<'a> {
        let mut by_pair: HashMap<_, Vec<_>> = HashMap::new();
        let mut by_server: HashMap<_, Vec<_>> = HashMap::new();
        for c in convs {
            if c.transport != crate::event::TransportKind::Tcp {
                continue;
            }
            if let (Ok(client), Ok(server)) = (c.client.parse(), c.server.parse()) {
                by_pair.entry((client, server)).or_default().push(*c);
                by_server.entry(server).or_default().push(*c);
            }
        }
        ConvIndex { by_pair, by_server }
    }

    /// The conversation of a socket with these addresses first used at `first` (µs);
    /// `Err(true)` when the addresses match one but the time does not.
    pub(super) fn find(&self, s: &OpenSocket) -> Result<(u64, Side), bool> {
        let remote = s.remote.ok_or(false)?;
        let near = |c: &ConversationRecord| {
            let start = (c.start_ts * 1e6) as u64;
            let end = (c.end_ts * 1e6) as u64;
            s.first + SLACK_US >= start && s.first <= end + SLACK_US
        };
        let mut wrong_time = false;
        // The server's socket: peer = client, local = server (or its wildcard bind).
        for ((client, server), list) in &self.by_pair {
            if *client != remote {
                continue;
            }
            let local_ok = s.local.is_none_or(|l| {
                l.port() == server.port() && (l.ip() == server.ip() || l.ip().is_unspecified())
            });
            if !local_ok {
                continue;
            }
            match list.iter().find(|c| near(c)) {
                Some(c) => return Ok((c.conv, Side::Server)),
                None => wrong_time = true,
            }
        }
        // The client's socket: peer = server, local = client when known, else the
        // conversation whose SYN came right after connect().
        if let Some(local) = s
            .local
            .filter(|l| !l.ip().is_unspecified() && l.port() != 0)
        {
            if let Some(list) = self.by_pair.get(&(local, remote)) {
                return match list.iter().find(|c| near(c)) {
                    Some(c) => Ok((c.conv, Side::Client)),
                    None => Err(true),
                };
            }
        } else if let (Some(list), Some(at)) = (self.by_server.get(&remote), s.connect_at) {
            let syn = |c: &ConversationRecord| c.tcp.as_ref().and_then(|t| t.syn_ts);
            let best = list
                .iter()
                .filter_map(|c| Some((c, (syn(c)? * 1e6) as u64)))
                .filter(|(_, syn)| *syn + 1_000 >= at && *syn <= at + SLACK_US)
                .min_by_key(|(_, syn)| syn.abs_diff(at));
            return match best {
                Some((c, _)) => Ok((c.conv, Side::Client)),
                None => Err(true),
            };
        }
        Err(wrong_time)
    }
}

#[cfg(test)]
mod tests;
