//! What the joined calls prove about one conversation, and about the server across
//! conversations: plain values, no words (the report's `syscalls` section says them).

use super::calls::{Op, Side, SockCall, SocketCalls};
use crate::event::{ConversationRecord, Dir, MessageEvent};
use labproto::Proto;

/// Microseconds since the epoch of a capture timestamp.
pub fn micros(ts: f64) -> u64 {
    (ts * 1e6).round() as u64
}

/// `accept()`/`accept4()` that returned the server's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptFact {
    pub tid: Option<u32>,
    pub call: &'static str,
    pub listen_fd: i64,
    pub fd: i64,
    /// When it returned, µs.
    pub end: u64,
    /// µs from the handshake's last ACK (the client's) to the return; negative would
    /// mean a clock mismatch between trace and capture.
    pub after_ack: Option<i64>,
    pub ack_frame: Option<u64>,
}

/// `connect()` of the client's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectFact {
    pub tid: Option<u32>,
    pub ts: u64,
    pub end: u64,
    pub errno: Option<String>,
    /// µs from the call's start to the SYN.
    pub syn_after: Option<i64>,
    pub syn_frame: Option<u64>,
}

/// One send or receive call, with the stream offset of its first byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Io {
    pub tid: Option<u32>,
    pub ts: u64,
    pub end: u64,
    pub call: &'static str,
    pub asked: Option<u64>,
    /// Bytes moved (0 at end of stream or on error).
    pub moved: u64,
    pub ret: Option<i64>,
    pub errno: Option<String>,
    /// Offset in the direction's byte stream before this call.
    pub offset: u64,
}

/// One side's calls on its socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideFacts {
    pub side: Side,
    pub trace: usize,
    pub fd: i64,
    /// Threads that made calls on this socket, in order of first call.
    pub threads: Vec<u32>,
    pub accept: Option<AcceptFact>,
    pub connect: Option<ConnectFact>,
    pub sends: Vec<Io>,
    pub recvs: Vec<Io>,
    /// epoll_wait/poll/select returns with this socket ready: (call, µs, token).
    pub ready: Vec<(&'static str, u64, Option<u64>)>,
    pub shutdown: Option<(u64, &'static str)>,
    pub close: Option<u64>,
    /// Calls on the socket beyond what was kept.
    pub calls_dropped: u64,
    /// First and last call, µs.
    pub span: (u64, u64),
}

/// Which calls wrote and read one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageCalls {
    /// Index into the conversation's message list (report order).
    pub message: usize,
    pub dir: Dir,
    /// Stream offset and length of the message's bytes.
    pub offset: u64,
    pub len: u64,
    /// Indices into the sender's `sends` whose bytes overlap the message.
    pub sends: Vec<usize>,
    /// Indices into the receiver's `recvs`, with how many of the message's bytes each
    /// returned.
    pub recvs: Vec<(usize, u64)>,
}

/// Everything the traces say about one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvFacts {
    pub conv: u64,
    pub sides: Vec<SideFacts>,
    pub messages: Vec<MessageCalls>,
}

impl ConvFacts {
    pub fn side(&self, side: Side) -> Option<&SideFacts> {
        self.sides.iter().find(|s| s.side == side)
    }
}

/// The facts of `c` from its joined sockets (one per side is used: the first).
pub fn conversation(
    c: &ConversationRecord,
    messages: &[&MessageEvent],
    sockets: &[SocketCalls],
) -> ConvFacts {
    let mut sides = Vec::new();
    for side in [Side::Client, Side::Server] {
        if let Some(s) = sockets.iter().find(|s| s.side == side) {
            sides.push(side_facts(c, s));
        }
    }
    let mut facts = ConvFacts {
        conv: c.conv,
        sides,
        messages: Vec::new(),
    };
    facts.messages = message_calls(c, messages, &facts);
    // In the report's order (by completion time, both directions merged).
    facts.messages.sort_by_key(|m| m.message);
    facts
}

fn side_facts(c: &ConversationRecord, s: &SocketCalls) -> SideFacts {
    let tcp = c.tcp.as_ref();
    let mut f = SideFacts {
        side: s.side,
        trace: s.trace,
        fd: s.fd,
        threads: Vec::new(),
        accept: None,
        connect: None,
        sends: Vec::new(),
        recvs: Vec::new(),
        ready: Vec::new(),
        shutdown: None,
        close: None,
        calls_dropped: s.calls_dropped,
        span: (u64::MAX, 0),
    };
    let (mut sent, mut got) = (0u64, 0u64);
    for call in &s.calls {
        if let Some(tid) = call.tid {
            if !f.threads.contains(&tid) {
                f.threads.push(tid);
            }
        }
        f.span = (f.span.0.min(call.ts), f.span.1.max(call.end()));
        match call.op {
            Op::Accept { listen_fd } => {
                let ack = tcp.and_then(|t| t.ack_ts.map(micros));
                f.accept = Some(AcceptFact {
                    tid: call.tid,
                    call: call.call,
                    listen_fd,
                    fd: s.fd,
                    end: call.end(),
                    after_ack: ack.map(|a| call.end() as i64 - a as i64),
                    ack_frame: tcp.and_then(|t| t.ack_frame),
                });
            }
            Op::Connect if f.connect.is_none() => {
                let syn = tcp.and_then(|t| t.syn_ts.map(micros));
                f.connect = Some(ConnectFact {
                    tid: call.tid,
                    ts: call.ts,
                    end: call.end(),
                    errno: call.errno.clone(),
                    syn_after: syn.map(|s| s as i64 - call.ts as i64),
                    syn_frame: tcp.and_then(|t| t.syn_frame),
                });
            }
            Op::Connect => {}
            Op::Send => f.sends.push(io(call, &mut sent)),
            Op::Recv => f.recvs.push(io(call, &mut got)),
            Op::Ready { token } => f.ready.push((call.call, call.end(), token)),
            Op::Shutdown { how } => f.shutdown = Some((call.ts, how)),
            Op::Close => f.close = Some(call.ts),
        }
    }
    if f.span.0 == u64::MAX {
        f.span = (0, 0);
    }
    f
}

fn io(call: &SockCall, offset: &mut u64) -> Io {
    let moved = call.moved();
    let out = Io {
        tid: call.tid,
        ts: call.ts,
        end: call.end(),
        call: call.call,
        asked: call.asked,
        moved,
        ret: call.ret,
        errno: call.errno.clone(),
        offset: *offset,
    };
    *offset += moved;
    out
}

/// Map each message's byte range to the sends and recvs that overlap it.
fn message_calls(
    c: &ConversationRecord,
    messages: &[&MessageEvent],
    facts: &ConvFacts,
) -> Vec<MessageCalls> {
    let mut out = Vec::new();
    for dir in Dir::BOTH {
        let (sender, receiver) = match dir {
            Dir::ClientToServer => (Side::Client, Side::Server),
            Dir::ServerToClient => (Side::Server, Side::Client),
        };
        let total = match dir {
            Dir::ClientToServer => c.bytes_c2s,
            Dir::ServerToClient => c.bytes_s2c,
        };
        let list: Vec<(usize, u64, Option<u64>)> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.dir == dir)
            .filter_map(|(i, m)| Some((i, m.offset?, wire_len(m))))
            .collect();
        for (k, &(i, offset, len)) in list.iter().enumerate() {
            // Framed messages know their length; text runs to the next message (a gap in
            // the capture would otherwise stretch a message over it).
            let next = list.get(k + 1).map_or(total, |&(_, o, _)| o);
            let end = len.map_or(next, |l| offset + l).max(offset);
            let overlap = |io: &Io| {
                let (a, b) = (io.offset, io.offset + io.moved);
                b.min(end).saturating_sub(a.max(offset))
            };
            let sends = facts.side(sender).map_or(Vec::new(), |s| {
                (s.sends.iter().enumerate())
                    .filter(|(_, io)| overlap(io) > 0)
                    .map(|(j, _)| j)
                    .collect()
            });
            let recvs = facts.side(receiver).map_or(Vec::new(), |s| {
                (s.recvs.iter().enumerate())
                    .map(|(j, io)| (j, overlap(io)))
                    .filter(|(_, n)| *n > 0)
                    .collect()
            });
            out.push(MessageCalls {
                message: i,
                dir,
                offset,
                len: end - offset,
                sends,
                recvs,
            });
        }
    }
    out
}

/// Bytes a v2/v3 message takes in the stream (None for text).
fn wire_len(m: &MessageEvent) -> Option<u64> {
    match m.proto {
        Proto::V2 => Some(labproto::v2::MESSAGE_LEN as u64),
        Proto::V3 => Some(labproto::v3::HEADER_LEN as u64 + u64::from(m.size?)),
        Proto::Text => None,
    }
}

/// One server thread's share of the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerThread {
    pub tid: u32,
    /// Conversations whose socket its accept() returned.
    pub accepted: Vec<u64>,
    /// Conversations it sent, received or waited for readiness on.
    pub served: Vec<u64>,
    /// First and last of those calls, µs.
    pub span: (u64, u64),
}

/// How the traced server spread its connections over threads: each thread with its
/// conversations, and the readiness wake-ups in time order `(µs, conv, fd)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerModel {
    pub threads: Vec<ServerThread>,
    pub wakeups: Vec<(u64, u64, i64)>,
    /// How often consecutive wake-ups were for different sockets.
    pub switches: usize,
}

/// Wake-ups listed for the capture-wide note at most.
const WAKEUPS_MAX: usize = 100_000;

pub fn server_model(all: &[ConvFacts]) -> ServerModel {
    let mut model = ServerModel::default();
    for c in all {
        let Some(s) = c.side(Side::Server) else {
            continue;
        };
        let accept = s.accept.as_ref().and_then(|a| a.tid.map(|t| (t, a.end)));
        if let Some((tid, end)) = accept {
            thread(&mut model, tid, (end, end)).accepted.push(c.conv);
        }
        // Per thread, the span of its send/recv/readiness calls on this socket.
        let mut spans: Vec<(u32, u64, u64)> = Vec::new();
        let io = s
            .sends
            .iter()
            .chain(&s.recvs)
            .map(|io| (io.tid, io.ts, io.end));
        for (tid, from, to) in io {
            let Some(tid) = tid else { continue };
            match spans.iter_mut().find(|x| x.0 == tid) {
                Some(x) => *x = (tid, x.1.min(from), x.2.max(to)),
                None => spans.push((tid, from, to)),
            }
        }
        for (tid, from, to) in spans {
            let t = thread(&mut model, tid, (from, to));
            t.span = (t.span.0.min(from), t.span.1.max(to));
            t.served.push(c.conv);
        }
        for &(_, at, _) in &s.ready {
            if model.wakeups.len() < WAKEUPS_MAX {
                model.wakeups.push((at, c.conv, s.fd));
            }
        }
    }
    model.wakeups.sort();
    model.switches = model
        .wakeups
        .windows(2)
        .filter(|w| w[0].1 != w[1].1)
        .count();
    model
}

fn thread(model: &mut ServerModel, tid: u32, span: (u64, u64)) -> &mut ServerThread {
    let at = match model.threads.iter().position(|t| t.tid == tid) {
        Some(i) => i,
        None => {
            model.threads.push(ServerThread {
                tid,
                accepted: Vec::new(),
                served: Vec::new(),
                span,
            });
            model.threads.len() - 1
        }
    };
    &mut model.threads[at]
}
