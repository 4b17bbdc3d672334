//! The server's strace trace handed in beside a capture: `NAME.strace` next to
//! `NAME.pcap` (or `NAME.pcapng`), found without being named, read with labfacts'
//! reader (`-ttt` or `-tt`: a time of day is taken on the capture's first day, UTC)
//! and joined to the capture's conversations. A trace that cannot be read is said in
//! the thread requirements' evidence; the capture is graded all the same.

use super::facts::Trace;
use crate::event::{ConversationRecord, MessageEvent};
use crate::syscalls::{join, threads, Clock, TraceInput};
use labfacts::index::CaptureIndex;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The extension of a trace handed in beside a capture.
pub const EXTENSION: &str = "strace";

/// `NAME.strace` for the capture `NAME.pcap`.
pub fn path_for(capture: &Path) -> PathBuf {
    capture.with_extension(EXTENSION)
}

/// Whether `path` is a trace (left out when a folder's files are graded).
pub fn is_trace(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == EXTENSION)
}

/// The trace beside `capture`, read and joined to the capture's conversations.
pub fn read(capture: &Path, index: &CaptureIndex<'_>) -> Trace {
    let path = path_for(capture);
    let name = path.display().to_string();
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Trace::Missing {
                capture: file_name(capture),
                expected: file_name(&path),
            }
        }
        Err(e) => {
            return Trace::Unopened {
                name,
                error: e.to_string(),
            }
        }
    };
    let mut input = BufReader::new(file);
    let clock = clock(&mut input, index);
    let convs: Vec<&ConversationRecord> = index.convs.clone();
    let mut joined = join(&convs, vec![TraceInput { name, input, clock }]);
    let messages: Vec<&MessageEvent> = index.all_messages().collect();
    let threads = threads::server_threads(&joined, &messages);
    let summary = joined.traces.pop().unwrap_or_default();
    Trace::Joined {
        summary: Box::new(summary),
        threads,
        time_of_day: matches!(clock, Clock::Day(_)),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `-ttt` (seconds since the epoch), or `-tt` (a time of day) on the day, UTC, of the
/// capture's first conversation: decided by the first line that starts with a time.
fn clock<R: BufRead>(input: &mut R, index: &CaptureIndex<'_>) -> Clock {
    let day = index
        .convs
        .iter()
        .map(|c| c.start_ts)
        .filter(|t| t.is_finite() && *t > 0.0)
        .fold(None, |min: Option<f64>, t| {
            Some(min.map_or(t, |m| m.min(t)))
        })
        .map(|first| (first as u64 / 86_400) * 86_400 * 1_000_000);
    let Ok(buf) = input.fill_buf() else {
        return Clock::Epoch;
    };
    // The first line, when it is within the buffer (a trace's lines are short).
    let first = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    match day {
        Some(midnight) if crate::syscalls::parse::time_of_day(&first) => Clock::Day(midnight),
        _ => Clock::Epoch,
    }
}
