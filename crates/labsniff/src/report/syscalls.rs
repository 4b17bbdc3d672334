//! "System calls": what the programs did, from their strace traces, beside the frames
//! (facts from [`crate::syscalls::facts`]; only words here), and the capture-wide
//! notes on threads, readiness and the traces themselves.

use super::{words, FrameLists, Style};
use crate::event::{ConversationRecord, Dir, MessageEvent};
use crate::syscalls::facts::{ConvFacts, Io, MessageCalls, ServerModel, ServerThread, SideFacts};
use crate::syscalls::{Joined, Side, TraceSummary};
use std::fmt::Write as _;

/// Messages whose calls are listed per conversation; the rest are counted.
const MESSAGES_MAX: usize = 20;
/// Byte counts listed per message before "…".
const SIZES_MAX: usize = 8;

/// Trace time (µs since the epoch) as strace -ttt prints it, so that the line can be
/// found in the trace and in Wireshark's epoch time column.
fn at(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

fn thread(tid: Option<u32>) -> String {
    tid.map_or_else(
        || "the traced thread".to_string(),
        |t| format!("thread {t}"),
    )
}

fn who(s: &SideFacts, joined: &Joined) -> String {
    let trace = joined.traces.get(s.trace).map_or("?", |t| t.name.as_str());
    let threads = match s.threads.as_slice() {
        [] => String::new(),
        [t] => format!(", thread {t}"),
        list => format!(
            ", threads {}",
            list.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!("{} (trace {trace}{threads}, fd {})", s.side.as_str(), s.fd)
}

/// The section of one conversation; empty when no trace joined it. The frame lists
/// it writes are noted in `lists` (for the report's legend).
pub fn section(
    c: &ConversationRecord,
    messages: &[&MessageEvent],
    facts: &ConvFacts,
    joined: &Joined,
    lists: &mut FrameLists,
    style: &Style,
) -> String {
    let mut out = words::section_title("System calls (from the traces)", style);
    for s in &facts.sides {
        if let Some(note) = accept_note(s, joined) {
            out.push_str(&words::bullet(&note));
        }
        if let Some(note) = connect_note(s, joined) {
            out.push_str(&words::bullet(&note));
        }
    }
    message_calls(&mut out, c, messages, facts, lists);
    for s in &facts.sides {
        out.push_str(&ends(s, c));
    }
    out
}

/// The server's accept(): which thread took the connection from the listen backlog,
/// and how long after the handshake.
fn accept_note(s: &SideFacts, joined: &Joined) -> Option<String> {
    let a = s.accept.as_ref()?;
    let delay = match (a.after_ack, a.ack_frame) {
        (Some(d), Some(frame)) if d >= 0 => format!(
            ", {} after the handshake's last ACK (frame {frame}): the kernel completed the \
             handshake by itself and queued the connection; {}() only took it from the \
             listen backlog",
            words::duration(d as f64 / 1e6),
            a.call
        ),
        (Some(d), Some(frame)) => format!(
            ", {} before the handshake's last ACK (frame {frame}) by the capture's clock: \
             the trace and the capture do not share a clock (another host?)",
            words::duration(-d as f64 / 1e6)
        ),
        _ => String::new(),
    };
    let on = if a.listen_fd >= 0 {
        format!(" on the listening fd {}", a.listen_fd)
    } else {
        String::new()
    };
    Some(format!(
        "{}: {} called {}(){on}, which returned fd {} at {}{delay}",
        who(s, joined),
        thread(a.tid),
        a.call,
        a.fd,
        at(a.end)
    ))
}

/// The client's connect(): when it returned (or how it failed), and when its SYN left.
fn connect_note(s: &SideFacts, joined: &Joined) -> Option<String> {
    let k = s.connect.as_ref()?;
    let syn = match (k.syn_after, k.syn_frame) {
        (Some(d), Some(frame)) if d >= 0 => format!(
            "; its SYN (frame {frame}) left {} after the call began",
            words::duration(d as f64 / 1e6)
        ),
        _ => String::new(),
    };
    let result = match k.errno.as_deref() {
        Some("EINPROGRESS") => " and returned at once with EINPROGRESS: the socket was \
             non-blocking (a connect with a timeout, as Python's settimeout() or Rust's \
             connect_timeout() make), so the program then waited for it to become writable"
            .to_string(),
        Some(e) => format!(" and failed with {e}"),
        None => format!(
            ", which returned at {} once the SYN-ACK had come",
            at(k.end)
        ),
    };
    Some(format!(
        "{}: {} called connect() at {}{result}{syn}",
        who(s, joined),
        thread(k.tid),
        at(k.ts)
    ))
}

/// A bullet per message (the first [`MESSAGES_MAX`] with calls) naming the calls that
/// wrote and read it, then how many more have calls.
fn message_calls(
    out: &mut String,
    c: &ConversationRecord,
    messages: &[&MessageEvent],
    facts: &ConvFacts,
    lists: &mut FrameLists,
) {
    let mut listed = 0;
    for mc in &facts.messages {
        let Some(m) = messages.get(mc.message) else {
            continue;
        };
        if listed == MESSAGES_MAX {
            break;
        }
        let Some(calls) = calls_of(c, facts, mc) else {
            continue;
        };
        listed += 1;
        out.push_str(&words::bullet(&format!(
            "{} {} ({} bytes, {}) — {calls}",
            mc.dir.sender(),
            words::message(m),
            words::thousands(mc.len),
            lists.frames(&m.frames)
        )));
    }
    let more = facts
        .messages
        .iter()
        .filter(|mc| !mc.sends.is_empty() || !mc.recvs.is_empty())
        .count()
        .saturating_sub(listed);
    if more > 0 {
        out.push_str(&words::bullet(&format!(
            "... and {more} more messages with their calls (--json lists every call)"
        )));
    }
}

/// `client: one send() of … ; server: 2 recv() calls returned it …`: the sender's
/// writes and the receiver's reads of one message, as far as each side was traced
/// (none: `None`).
fn calls_of(c: &ConversationRecord, facts: &ConvFacts, mc: &MessageCalls) -> Option<String> {
    let (sender, receiver) = match mc.dir {
        Dir::ClientToServer => (Side::Client, Side::Server),
        Dir::ServerToClient => (Side::Server, Side::Client),
    };
    let mut parts = Vec::new();
    if let Some(s) = facts.side(sender).filter(|_| !mc.sends.is_empty()) {
        parts.push(format!(
            "{}: {}",
            sender.as_str(),
            sends(&mc.sends, s, mc.len)
        ));
    }
    if let Some(r) = facts.side(receiver).filter(|_| !mc.recvs.is_empty()) {
        parts.push(format!(
            "{}: {}",
            receiver.as_str(),
            recvs(&mc.recvs, r, mc.len, c.proto)
        ));
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("; "))
}

fn plural(n: usize, call: &str) -> String {
    if n == 1 {
        format!("1 {call}() call")
    } else {
        format!("{n} {call}() calls")
    }
}

fn call_names(list: &[&Io]) -> String {
    let mut names: Vec<&str> = list.iter().map(|io| io.call).collect();
    names.dedup();
    names.join("/")
}

fn sends(idx: &[usize], s: &SideFacts, len: u64) -> String {
    let list: Vec<&Io> = idx.iter().filter_map(|&i| s.sends.get(i)).collect();
    let Some(first) = list.first() else {
        return String::new();
    };
    let name = call_names(&list);
    if list.len() == 1 {
        let whole = if first.moved == len {
            "exactly this message".to_string()
        } else {
            format!(
                "{} bytes with this message among them",
                words::thousands(first.moved)
            )
        };
        return format!(
            "one {name}() of {} bytes at {} ({whole})",
            words::thousands(first.moved),
            at(first.ts)
        );
    }
    format!(
        "{} wrote it, from {} to {}",
        plural(list.len(), &name),
        at(first.ts),
        at(list.last().map_or(first.end, |l| l.end))
    )
}

fn recvs(idx: &[(usize, u64)], s: &SideFacts, len: u64, proto: Option<labproto::Proto>) -> String {
    let list: Vec<(&Io, u64)> = idx
        .iter()
        .filter_map(|&(i, n)| Some((s.recvs.get(i)?, n)))
        .collect();
    let Some(&(first, first_n)) = list.first() else {
        return String::new();
    };
    let ios: Vec<&Io> = list.iter().map(|(io, _)| *io).collect();
    let name = call_names(&ios);
    if list.len() == 1 {
        let with = if first.moved > len {
            format!(
                " (it returned {} bytes: more than this message)",
                words::thousands(first.moved)
            )
        } else {
            String::new()
        };
        return format!("one {name}() returned it whole at {}{with}", at(first.end));
    }
    let mut sizes: Vec<String> = list
        .iter()
        .take(SIZES_MAX)
        .map(|(_, n)| words::thousands(*n))
        .collect();
    if list.len() > SIZES_MAX {
        sizes.push("…".to_string());
    }
    // v3's reader asks for the 9-byte header, then for the payload.
    let header = match proto {
        Some(labproto::Proto::V3) => Some(labproto::v3::HEADER_LEN as u64),
        _ => None,
    };
    let asked = match first.asked {
        Some(a) if Some(a) == header && first_n == a => {
            format!(", the first asking for exactly the {a}-byte header")
        }
        _ => String::new(),
    };
    format!(
        "{} returned it ({} bytes){asked}, returning from {} to {}",
        plural(list.len(), &name),
        sizes.join(" + "),
        at(first.end),
        at(list.last().map_or(first.end, |(l, _)| l.end))
    )
}

/// Readiness, shutdown and close of one side.
fn ends(s: &SideFacts, c: &ConversationRecord) -> String {
    let mut out = String::new();
    let side = s.side.as_str();
    if !s.ready.is_empty() {
        let mut calls: Vec<&str> = s.ready.iter().map(|r| r.0).collect();
        calls.sort_unstable();
        calls.dedup();
        let token = s.ready.iter().find_map(|r| r.2);
        let token = match token {
            Some(t) => format!(" (epoll data {t}: the selector key's token)"),
            None => String::new(),
        };
        out.push_str(&words::bullet(&format!(
            "{side}: {} returned fd {} ready {}{token}",
            calls.join("/"),
            s.fd,
            if s.ready.len() == 1 {
                "once".to_string()
            } else {
                format!("{} times", s.ready.len())
            }
        )));
    }
    let eof = s.recvs.iter().find(|io| io.ret == Some(0));
    if let Some(io) = eof {
        out.push_str(&words::bullet(&format!(
            "{side}: {}() returned 0 (end of stream: the peer's FIN{}) at {}",
            io.call,
            match (side, c.tcp.as_ref()) {
                ("server", Some(t)) => t
                    .fin_c2s_frame
                    .map_or(String::new(), |f| format!(", frame {f}")),
                ("client", Some(t)) => t
                    .fin_s2c_frame
                    .map_or(String::new(), |f| format!(", frame {f}")),
                _ => String::new(),
            },
            at(io.ts)
        )));
    }
    if let Some((ts, how)) = s.shutdown {
        out.push_str(&words::bullet(&format!(
            "{side}: shutdown({how}) at {}",
            at(ts)
        )));
    }
    if let Some(ts) = s.close {
        out.push_str(&words::bullet(&format!("{side}: close() at {}", at(ts))));
    }
    if s.calls_dropped > 0 {
        out.push_str(&words::bullet(&format!(
            "{side}: {} more calls on this socket were not kept",
            s.calls_dropped
        )));
    }
    out
}

/// Capture-wide notes: which thread served which client, readiness across sockets,
/// and what each trace gave (or why it gave nothing).
pub fn capture_notes(
    convs: &[&ConversationRecord],
    model: &ServerModel,
    joined: &Joined,
) -> Vec<String> {
    let workers: Vec<&ServerThread> = model
        .threads
        .iter()
        .filter(|t| !t.served.is_empty())
        .collect();
    let threads = match workers.as_slice() {
        [_, _, ..] => Some(threads_note(convs, model, &workers)),
        [t] => one_thread_note(convs, model, t),
        [] => None,
    };
    threads
        .into_iter()
        .chain(joined.traces.iter().filter_map(trace_note))
        .collect()
}

/// `127.0.0.1:50000`: the client of conversation `conv`, as the notes name it.
fn client_of(convs: &[&ConversationRecord], conv: u64) -> String {
    convs
        .iter()
        .find(|c| c.conv == conv)
        .map_or_else(|| format!("conversation {conv}"), |c| c.client.to_string())
}

/// Several server threads served clients: what each thread accepted and served, and
/// whether they served at the same time (a thread per client).
fn threads_note(
    convs: &[&ConversationRecord],
    model: &ServerModel,
    workers: &[&ServerThread],
) -> String {
    let mut list: Vec<String> = Vec::new();
    for t in &model.threads {
        let mut did = Vec::new();
        if !t.accepted.is_empty() {
            let clients: Vec<String> = t.accepted.iter().map(|&c| client_of(convs, c)).collect();
            did.push(format!("accepted {}", clients.join(", ")));
        }
        if !t.served.is_empty() {
            let clients: Vec<String> = t.served.iter().map(|&c| client_of(convs, c)).collect();
            did.push(format!("served {}", clients.join(", ")));
        }
        list.push(format!("thread {} {}", t.tid, did.join(" and ")));
    }
    let mut note = format!("server threads (from the trace): {}", list.join("; "));
    let mut overlap: Option<(u64, u64)> = None;
    for (i, a) in workers.iter().enumerate() {
        for b in &workers[i + 1..] {
            let (from, to) = (a.span.0.max(b.span.0), a.span.1.min(b.span.1));
            if from < to {
                overlap = Some(overlap.map_or((from, to), |(f, t)| (f.min(from), t.max(to))));
            }
        }
    }
    match overlap {
        Some((from, to)) => {
            let _ = write!(
                note,
                "; they served their clients at the same time from {} to {}: a thread per client",
                at(from),
                at(to)
            );
        }
        None => note.push_str("; their calls did not overlap in time"),
    }
    note
}

/// One server thread served several connections: in turn, by a selector's event loop
/// when the readiness calls say so (none for a thread that served one).
fn one_thread_note(
    convs: &[&ConversationRecord],
    model: &ServerModel,
    t: &ServerThread,
) -> Option<String> {
    if t.served.len() < 2 {
        return None;
    }
    let mut note = format!(
        "the server served {} connections from one thread ({}): ",
        t.served.len(),
        t.tid
    );
    if model.wakeups.is_empty() {
        note.push_str("one after the other or by its own loop (no readiness calls were traced)");
    } else {
        let mut fds: Vec<(i64, u64)> = model.wakeups.iter().map(|w| (w.2, w.1)).collect();
        fds.sort_unstable();
        fds.dedup();
        let per: Vec<String> = fds
            .iter()
            .map(|(fd, conv)| format!("fd {fd} ({})", client_of(convs, *conv)))
            .collect();
        let _ = write!(
            note,
            "the readiness calls woke it for {}, {} of {} wake-ups for a different socket than \
             the one before: a selector's event loop serving the clients in turn",
            per.join(" and "),
            model.switches,
            model.wakeups.len().saturating_sub(1)
        );
    }
    Some(note)
}

fn trace_note(t: &TraceSummary) -> Option<String> {
    if let Some(e) = &t.error {
        return Some(format!(
            "trace {}: could not be read to the end ({e})",
            t.name
        ));
    }
    let bad = match &t.read.first_malformed {
        Some((line, text, why)) => format!(
            "; {} not strace output (first: line {line}, {}: \"{text}\")",
            words::count(t.read.malformed, "line"),
            crate::words::trace::line_fault(why)
        ),
        None => String::new(),
    };
    if t.read.calls == 0 {
        return Some(format!(
            "trace {}: no system calls could be read{bad}; expected the output of `{}`",
            t.name,
            crate::syscalls::STRACE_COMMAND
        ));
    }
    if t.joined == 0 {
        let why = if t.other_time > 0 {
            format!(
                "{} had the capture's addresses but at other times (a trace from another run or day?)",
                words::count(t.other_time, "socket")
            )
        } else if t.sockets > 0 {
            format!(
                "none of its {} TCP sockets has the addresses of a conversation in the capture \
                 (another program's trace, or another host's?)",
                t.sockets
            )
        } else {
            "it holds no TCP socket with a known address (run strace with -yy, or trace the \
             program from its start)"
                .to_string()
        };
        return Some(format!(
            "trace {}: {} read, not joined: {why}{bad}; the report above is the capture's alone",
            t.name,
            words::count(t.read.calls, "call")
        ));
    }
    if t.read.malformed > 0 || t.read.unresumed > 0 {
        return Some(format!(
            "trace {}: {} joined to conversations{bad}{}",
            t.name,
            words::count(t.joined, "socket"),
            if t.read.unresumed > 0 {
                format!(
                    "; {} never resumed (the trace was cut)",
                    words::count(t.read.unresumed, "unfinished call")
                )
            } else {
                String::new()
            }
        ));
    }
    None
}
