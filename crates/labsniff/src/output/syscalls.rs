//! JSON lines of the joined system calls (`syscall`) and of each trace (`trace`),
//! written before the `summary` line (SCHEMA.md).

use crate::syscalls::join::Op;
use crate::syscalls::Joined;
use serde::Serialize;
use std::io::Write;

#[derive(Serialize)]
struct SyscallLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    conv: u64,
    side: &'static str,
    trace: &'a str,
    tid: Option<u32>,
    fd: i64,
    call: &'static str,
    op: &'static str,
    ts: f64,
    dur: Option<f64>,
    asked: Option<u64>,
    ret: Option<i64>,
    errno: Option<&'a str>,
    /// send/recv: stream offset (of the socket's sending or receiving direction)
    /// before the call.
    offset: Option<u64>,
    token: Option<u64>,
    listen_fd: Option<i64>,
}

#[derive(Serialize)]
struct Malformed<'a> {
    line: u64,
    text: &'a str,
    reason: String,
}

#[derive(Serialize)]
struct TraceLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    lines: u64,
    calls: u64,
    malformed: u64,
    first_malformed: Option<Malformed<'a>>,
    unresumed: u64,
    sockets: u64,
    joined: u64,
    other_time: u64,
    threads: &'a [u32],
    error: Option<&'a str>,
}

fn secs(us: u64) -> f64 {
    crate::event::seconds(us)
}

/// One `trace` line per trace, then one `syscall` line per kept call, by conversation.
pub fn write<W: Write>(out: &mut W, joined: &Joined) -> std::io::Result<()> {
    for t in &joined.traces {
        let line =
            TraceLine {
                kind: "trace",
                name: &t.name,
                lines: t.read.lines,
                calls: t.read.calls,
                malformed: t.read.malformed,
                first_malformed: t.read.first_malformed.as_ref().map(|(line, text, fault)| {
                    Malformed {
                        line: *line,
                        text,
                        reason: crate::words::trace::line_fault(fault),
                    }
                }),
                unresumed: t.read.unresumed,
                sockets: t.sockets,
                joined: t.joined,
                other_time: t.other_time,
                threads: &t.threads,
                error: t.error.as_deref(),
            };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    for sockets in joined.sockets.values() {
        for s in sockets {
            let trace = joined.traces.get(s.trace).map_or("", |t| t.name.as_str());
            let (mut sent, mut got) = (0u64, 0u64);
            for c in &s.calls {
                let (op, offset, token, listen_fd) = match c.op {
                    Op::Connect => ("connect", None, None, None),
                    Op::Accept { listen_fd } => ("accept", None, None, Some(listen_fd)),
                    Op::Send => {
                        let o = sent;
                        sent += c.moved();
                        ("send", Some(o), None, None)
                    }
                    Op::Recv => {
                        let o = got;
                        got += c.moved();
                        ("recv", Some(o), None, None)
                    }
                    Op::Ready { token } => ("ready", None, token, None),
                    Op::Shutdown { .. } => ("shutdown", None, None, None),
                    Op::Close => ("close", None, None, None),
                };
                let line = SyscallLine {
                    kind: "syscall",
                    conv: s.conv,
                    side: s.side.as_str(),
                    trace,
                    tid: c.tid,
                    fd: s.fd,
                    call: c.call,
                    op,
                    ts: secs(c.ts),
                    dur: c.dur.map(secs),
                    asked: c.asked,
                    ret: c.ret,
                    errno: c.errno.as_deref(),
                    offset,
                    token,
                    listen_fd,
                };
                serde_json::to_writer(&mut *out, &line)?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}
