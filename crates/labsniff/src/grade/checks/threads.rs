//! The thread checks (2.2 and 3.2), from the server's trace handed in beside the
//! capture: packets look the same whether one thread selects or a thread serves each
//! client, so without a trace these requirements are undecided, saying what to hand in.
//! They read labfacts' `syscalls::threads` facts only.

use crate::event::Dir;
use crate::grade::{Facts, Trace, Verdict};
use crate::syscalls::threads::{ReadyCall, ServedSocket, ServerThreads};
use crate::syscalls::TraceSummary;

/// The command a student runs to make the trace (`NAME` as the capture's).
fn strace_command(name: &str) -> String {
    format!("strace -f -ttt -T -yy -o {name} python3 server.py")
}

/// The trace's facts with at least two served sockets and thread ids, or the
/// undecided verdict saying why not.
fn usable<'f>(f: &'f Facts) -> Result<(&'f TraceSummary, &'f ServerThreads, bool), Verdict> {
    let (summary, threads, tod) = match &f.trace {
        Trace::Missing { capture, expected } => {
            return Err(Verdict::undecided(
                format!(
                    "cannot tell from packets (both servers' packets look alike): hand in \
                     {expected} beside {capture}, the server's trace made while the clients \
                     ran: {}",
                    strace_command(expected)
                ),
                Vec::new(),
            ))
        }
        Trace::Unopened { name, error } => {
            return Err(Verdict::undecided(
                format!("cannot tell: the trace {name} could not be opened ({error})"),
                Vec::new(),
            ))
        }
        Trace::Joined {
            summary,
            threads,
            time_of_day,
        } => (summary.as_ref(), threads, *time_of_day),
    };
    let name = &summary.name;
    let bad = malformed(summary);
    let why = if let Some(e) = &summary.error {
        format!("the trace {name} could not be read to its end ({e})")
    } else if summary.read.calls == 0 {
        format!(
            "no system call could be read from {name}{bad}; expected the output of `{}`",
            strace_command("NAME.strace")
        )
    } else if threads.sockets.is_empty() {
        format!(
            "{name}: {} read, but no server socket in it has the addresses (and time) of a \
             conversation in the capture (a trace of another run, or of a client?){bad}",
            crate::words::count(summary.read.calls, "call")
        )
    } else if served(threads).len() < 2 {
        format!(
            "{name} shows the server sending or receiving on {} only: trace the server \
             while both clients are served{bad}",
            crate::words::count(served(threads).len() as u64, "client socket")
        )
    } else if threads.io_threads().is_empty() {
        format!("{name} has no thread ids: run strace with -f{bad}")
    } else {
        return Ok((summary, threads, tod));
    };
    Err(Verdict::undecided(
        format!("cannot tell: {why}"),
        Vec::new(),
    ))
}

/// The served sockets that were sent or received on.
fn served(t: &ServerThreads) -> Vec<&ServedSocket> {
    t.sockets
        .iter()
        .filter(|s| !s.io.is_empty() || s.io_without_tid > 0)
        .collect()
}

/// `; 3 lines not strace output (first: line 7, ...)`, or nothing.
fn malformed(t: &TraceSummary) -> String {
    match &t.read.first_malformed {
        Some((line, text, why)) => format!(
            "; {} of {} not strace output (first: line {line}, {}: \"{text}\")",
            crate::words::count(t.read.malformed, "line"),
            t.name,
            crate::words::trace::line_fault(why)
        ),
        None => String::new(),
    }
}

/// A trace time as the trace's lines print it: seconds since the epoch (`-ttt`) or the
/// time of day, UTC (`-tt`).
fn at(us: u64, time_of_day: bool) -> String {
    let (s, frac) = (us / 1_000_000, us % 1_000_000);
    if time_of_day {
        let d = s % 86_400;
        format!("{:02}:{:02}:{:02}.{frac:06}", d / 3600, d / 60 % 60, d % 60)
    } else {
        format!("{s}.{frac:06}")
    }
}

/// `conversation 1 (127.0.0.1:40100, fd 4)`.
fn socket_text(f: &Facts, s: &ServedSocket) -> String {
    match f.index.conv(s.conv) {
        Some(c) => format!("conversation {} ({}, fd {})", s.conv, c.client, s.fd),
        None => format!("conversation {} (fd {})", s.conv, s.fd),
    }
}

/// The first frame of the client's first message on `conv` (its request).
fn request_frame(f: &Facts, conv: u64) -> Option<u64> {
    f.index
        .messages_in(conv, Dir::ClientToServer)
        .next()
        .and_then(|m| m.frames.first().copied())
}

fn io_tids(s: &ServedSocket) -> String {
    let tids: Vec<String> = s.io.iter().map(|t| t.tid.to_string()).collect();
    match tids.len() {
        1 => format!("thread {}", tids[0]),
        _ => format!("threads {}", tids.join(", ")),
    }
}

pub fn one_thread_selects(f: &Facts) -> Verdict {
    let (summary, t, tod) = match usable(f) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let served = served(t);
    let bad = malformed(summary);
    let frames: Vec<u64> = served
        .iter()
        .filter_map(|s| request_frame(f, s.conv))
        .collect();
    // The thread whose readiness calls returned the most served sockets.
    let selector = t
        .ready_threads()
        .into_iter()
        .filter(|(_, convs, _)| convs.len() >= 2)
        .max_by_key(|(_, convs, _)| convs.len());
    let Some((tid, convs, calls)) = selector else {
        return no_selector(f, t, &served, &bad, frames);
    };
    let others: Vec<String> = served
        .iter()
        .filter(|s| s.io.iter().any(|io| io.tid != tid))
        .map(|s| format!("{} by {}", socket_text(f, s), io_tids(s)))
        .collect();
    let first = first_ready(t, tid, &convs);
    let shown: Vec<String> = first
        .iter()
        .map(|(r, fd, frame)| {
            let after = frame.map_or(String::new(), |n| format!(", after the data of frame {n}"));
            format!("fd {fd} by {} at {}{after}", r.call, at(r.ts, tod))
        })
        .collect();
    let ready_frames: Vec<u64> = first.iter().filter_map(|x| x.2).collect();
    let of: Vec<String> = served
        .iter()
        .filter(|s| convs.contains(&s.conv))
        .map(|s| socket_text(f, s))
        .collect();
    let said = format!(
        "thread {tid}'s readiness calls returned {} ready ({}, first: {})",
        of.join(" and "),
        crate::words::count(calls as u64, "call"),
        shown.join("; ")
    );
    if others.is_empty() {
        Verdict::pass(
            format!("{said}; no other thread sent or received on a client socket{bad}"),
            ready_frames,
        )
    } else {
        Verdict::fail(
            format!(
                "{said}, but other threads served clients too: {}{bad}",
                others.join(", ")
            ),
            ready_frames.into_iter().chain(frames).collect(),
        )
    }
}

/// Per conversation of `convs`: the first readiness call of thread `tid` that returned
/// its socket, the fd and the frame that made it ready.
fn first_ready<'t>(
    t: &'t ServerThreads,
    tid: u32,
    convs: &[u64],
) -> Vec<(&'t ReadyCall, i64, Option<u64>)> {
    convs
        .iter()
        .filter_map(|&conv| {
            t.ready.iter().filter(|r| r.tid == Some(tid)).find_map(|r| {
                let s = r.ready.iter().find(|s| s.conv == conv)?;
                Some((r, s.fd, s.after_frame))
            })
        })
        .collect()
}

/// No thread's readiness calls returned two served sockets: a thread per client, or
/// one thread without select/poll/epoll.
fn no_selector(
    f: &Facts,
    t: &ServerThreads,
    served: &[&ServedSocket],
    bad: &str,
    frames: Vec<u64>,
) -> Verdict {
    let per: Vec<String> = served
        .iter()
        .map(|s| format!("{} by {}", socket_text(f, s), io_tids(s)))
        .collect();
    let readiness = if t.ready.is_empty() {
        "no select/poll/epoll call returned a client socket ready".to_string()
    } else {
        format!(
            "no thread's select/poll/epoll calls returned two clients' sockets ready ({} \
             returned one)",
            crate::words::count(t.ready.len() as u64, "call")
        )
    };
    let threads = t.io_threads();
    let how = if threads.len() >= 2 {
        "the clients were served by different threads"
    } else {
        "one thread served the clients without waiting for them in select/poll/epoll"
    };
    Verdict::fail(
        format!("{how}: {}; {readiness}{bad}", per.join(", ")),
        frames,
    )
}

pub fn thread_per_client(f: &Facts) -> Verdict {
    let (summary, t, tod) = match usable(f) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let served = served(t);
    let bad = malformed(summary);
    let frames: Vec<u64> = served
        .iter()
        .filter_map(|s| request_frame(f, s.conv))
        .collect();
    // A thread that sent or received on several clients' sockets.
    if let Some((tid, convs)) = t.io_threads().into_iter().find(|(_, c)| c.len() >= 2) {
        let of: Vec<String> = served
            .iter()
            .filter(|s| convs.contains(&s.conv))
            .map(|s| socket_text(f, s))
            .collect();
        let through = t
            .ready_threads()
            .into_iter()
            .find(|(r, _, _)| *r == tid)
            .and_then(|(_, _, calls)| {
                let call = t.ready.iter().find(|r| r.tid == Some(tid))?;
                Some(format!(
                    ", waiting in {} ({}, first at {})",
                    call.call,
                    crate::words::count(calls as u64, "call"),
                    at(call.ts, tod)
                ))
            })
            .unwrap_or_default();
        return Verdict::fail(
            format!(
                "one thread for several clients: thread {tid} sent or received on {}{through}{bad}",
                of.join(" and ")
            ),
            frames,
        );
    }
    let per: Vec<String> = served
        .iter()
        .map(|s| {
            let accept = s.accept.map_or(String::new(), |a| {
                let by = a.tid.map_or(String::new(), |t| format!(" by thread {t}"));
                format!(", accepted ({}){by} at {}", a.call, at(a.ts, tod))
            });
            format!("{} served by {}{accept}", socket_text(f, s), io_tids(s))
        })
        .collect();
    // The clone calls that started the threads that served.
    let servers: Vec<u32> = t.io_threads().iter().map(|(tid, _)| *tid).collect();
    let clones: Vec<String> = t
        .clones
        .iter()
        .filter(|(_, c)| c.thread && servers.contains(&c.child))
        .map(|(_, c)| {
            let by = c.tid.map_or(String::new(), |t| format!(" by thread {t}"));
            format!("{} → {}{by} at {}", c.call, c.child, at(c.ts, tod))
        })
        .collect();
    let clones = match clones.len() {
        0 => String::new(),
        n => format!(
            "; serving threads started by: {}{}",
            clones
                .iter()
                .take(4)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if n > 4 { ", …" } else { "" }
        ),
    };
    Verdict::pass(
        format!(
            "each client's socket had a thread of its own: {}{clones}{bad}",
            per.join("; ")
        ),
        frames,
    )
}
