//! Streams a trace file line by line (bounded line length, whatever the file holds),
//! pairs `<unfinished ...>` with `<... resumed>` per thread, and hands each finished
//! call to a callback. Counts what it could not read instead of failing.

use super::parse::{self, Call, Clock, Record};
use std::collections::HashMap;
use std::io::BufRead;

/// Longer lines are cut and counted as malformed (strace's default -s 32 keeps lines
/// well under 1 kB; a huge -s still fits).
pub const LINE_MAX: usize = 64 * 1024;
/// Threads with an unfinished call kept at once; more are counted as malformed.
const PENDING_MAX: usize = 4096;

/// What reading a trace met.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub lines: u64,
    pub calls: u64,
    /// Lines that are not strace output (or cut); the first one is kept.
    pub malformed: u64,
    /// The first of them: line number, its first 80 characters (data), and why.
    pub first_malformed: Option<(u64, String, LineFault)>,
    /// Unfinished calls never resumed (the program was killed, or the trace cut).
    pub unresumed: u64,
    pub exits: u64,
    pub signals: u64,
}

/// Why a trace line could not be read (words: `labsniff::words::trace`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFault {
    /// Longer than [`LINE_MAX`] bytes.
    TooLong,
    /// More than `PENDING_MAX` threads had an unfinished call.
    TooManyUnfinished,
    /// A `<... resumed>` line whose `<unfinished ...>` line was not seen.
    ResumedWithoutUnfinished,
    /// Not strace output.
    NotStrace(parse::ParseError),
    /// A line of a labnet `--trace-events` file that is not one of its events: the
    /// JSON parser's message (data).
    NotLabnetEvent(String),
}

impl ReadStats {
    fn bad(&mut self, line_no: u64, text: &str, why: LineFault) {
        self.malformed += 1;
        if self.first_malformed.is_none() {
            let excerpt: String = text.chars().take(80).collect();
            self.first_malformed = Some((line_no, excerpt, why));
        }
    }
}

/// Read every line of `input`; `on_call` gets each finished call in the order it
/// returned (an unfinished call when it resumes, with its start time).
pub fn calls<R: BufRead>(
    mut input: R,
    clock: Clock,
    mut on_call: impl FnMut(&Call<'_>),
) -> std::io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut pending: HashMap<Option<u32>, (u64, String)> = HashMap::new();
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    loop {
        buf.clear();
        let (n, cut) = read_line(&mut input, &mut buf)?;
        if n == 0 {
            break;
        }
        stats.lines += 1;
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim_end_matches(['\n', '\r']);
        if cut {
            stats.bad(stats.lines, text, LineFault::TooLong);
            continue;
        }
        if text.trim().is_empty() {
            continue;
        }
        match parse::line(text, clock) {
            Ok(Record::Call(call)) => {
                stats.calls += 1;
                on_call(&call);
            }
            Ok(Record::Unfinished { tid, ts, head }) => {
                if pending.len() >= PENDING_MAX && !pending.contains_key(&tid) {
                    stats.bad(stats.lines, text, LineFault::TooManyUnfinished);
                    continue;
                }
                if pending.insert(tid, (ts, head.to_string())).is_some() {
                    stats.unresumed += 1;
                }
            }
            Ok(Record::Resumed {
                tid, name, tail, ..
            }) => match pending.remove(&tid) {
                Some((ts, head)) if head.starts_with(name) => {
                    let joined = format!("{head}{tail}");
                    match parse::call(tid, ts, &joined) {
                        Ok(call) => {
                            stats.calls += 1;
                            on_call(&call);
                        }
                        Err(e) => stats.bad(stats.lines, text, LineFault::NotStrace(e)),
                    }
                }
                _ => stats.bad(stats.lines, text, LineFault::ResumedWithoutUnfinished),
            },
            Ok(Record::Signal { .. }) => stats.signals += 1,
            Ok(Record::Exit { tid, .. }) => {
                stats.exits += 1;
                if pending.remove(&tid).is_some() {
                    stats.unresumed += 1;
                }
            }
            Err(e) => stats.bad(stats.lines, text, LineFault::NotStrace(e)),
        }
    }
    stats.unresumed += pending.len() as u64;
    Ok(stats)
}

/// One line of labnet's `--trace-events` file.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LabnetEvent {
    pub ts: f64,
    #[serde(default)]
    pub thread: Option<String>,
    #[serde(default)]
    pub tid: Option<u32>,
    #[serde(default)]
    pub token: Option<u64>,
    pub fd: i64,
    pub call: String,
    #[serde(default)]
    pub bytes: Option<u64>,
    #[serde(default)]
    pub local: Option<std::net::SocketAddr>,
    #[serde(default)]
    pub peer: Option<std::net::SocketAddr>,
}

/// Whether `input` holds JSON lines (labnet's `--trace-events`) rather than strace
/// output: its first non-blank byte is `{`.
pub fn is_json<R: BufRead>(input: &mut R) -> bool {
    match input.fill_buf() {
        Ok(buf) => buf
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'{'),
        Err(_) => false,
    }
}

/// Read labnet's `--trace-events` JSON lines (same bounds and counts as [`calls`]).
pub fn labnet_events<R: BufRead>(
    mut input: R,
    mut on_event: impl FnMut(&LabnetEvent),
) -> std::io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    loop {
        buf.clear();
        let (n, cut) = read_line(&mut input, &mut buf)?;
        if n == 0 {
            break;
        }
        stats.lines += 1;
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        if cut {
            stats.bad(stats.lines, text, LineFault::TooLong);
            continue;
        }
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<LabnetEvent>(text) {
            Ok(e) => {
                stats.calls += 1;
                on_event(&e);
            }
            Err(e) => stats.bad(stats.lines, text, LineFault::NotLabnetEvent(e.to_string())),
        }
    }
    Ok(stats)
}

/// One line into `buf`, at most [`LINE_MAX`] bytes kept; the rest of a longer line is
/// skipped. Gives the bytes consumed and whether the line was cut.
fn read_line<R: BufRead>(input: &mut R, buf: &mut Vec<u8>) -> std::io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut cut = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok((consumed, cut));
        }
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = LINE_MAX.saturating_sub(buf.len());
        if take > room {
            cut = true;
        }
        buf.extend_from_slice(&chunk[..take.min(room)]);
        input.consume(take);
        consumed += take;
        if done {
            return Ok((consumed, cut));
        }
    }
}
