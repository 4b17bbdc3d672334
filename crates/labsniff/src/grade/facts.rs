//! What the requirements read of one capture: labfacts' one index of the analysis's
//! events (with its derived facts: echo pairs, concurrency), the conversations to the
//! lab port, the format problems labproto named, and the server's threads from a trace
//! handed in beside the capture. No words: the checks write those.

use crate::event::{ConversationRecord, Diagnostic, Dir, Event, MessageEvent, TransportKind};
use labfacts::index::CaptureIndex;
use labfacts::syscalls::threads::ServerThreads;
use labfacts::syscalls::TraceSummary;

/// What the analysis of one capture said, as the requirements read it: labfacts' one
/// index of the events, with its derived facts (echo pairs, concurrency).
#[derive(Debug)]
pub struct Facts<'a> {
    pub port: u16,
    pub index: CaptureIndex<'a>,
    pub diagnostics: Vec<&'a Diagnostic>,
    /// The server's strace trace handed in beside the capture (`NAME.strace`).
    pub trace: Trace,
}

/// The trace beside a capture, as the thread requirements read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trace {
    /// None was handed in: the capture's file name and the trace's expected name.
    Missing { capture: String, expected: String },
    /// It could not be opened: the file and the system's reason.
    Unopened { name: String, error: String },
    /// Read and joined to the capture's conversations.
    Joined {
        summary: Box<TraceSummary>,
        threads: ServerThreads,
        /// Its lines carry a time of day (`strace -tt`), not seconds since the epoch.
        time_of_day: bool,
    },
}

impl<'a> Facts<'a> {
    pub fn of(events: &'a [Event], port: u16) -> Facts<'a> {
        let index = CaptureIndex::new(events);
        let mut diagnostics: Vec<&Diagnostic> = index.conv_diags().collect();
        diagnostics.extend(index.capture_diags.iter().copied());
        Facts {
            port,
            index,
            diagnostics,
            trace: Trace::Missing {
                capture: String::new(),
                expected: String::new(),
            },
        }
    }

    /// Conversations to the lab port over `transport`.
    pub(super) fn lab(&self, transport: TransportKind) -> Vec<&'a ConversationRecord> {
        self.index
            .convs
            .iter()
            .copied()
            .filter(|c| c.transport == transport && c.server.port() == self.port)
            .collect()
    }

    pub(super) fn messages_of(&self, conv: u64, dir: Dir) -> Vec<&'a MessageEvent> {
        self.index.messages_in(conv, dir).collect()
    }

    /// The struct-mistake and framing diagnostics of `conv` (what labproto named).
    pub(super) fn format_problems(&self, conv: u64) -> Vec<&'a Diagnostic> {
        self.diagnostics
            .iter()
            .copied()
            .filter(|d| d.conv == Some(conv) && d.kind.mistake().is_some())
            .collect()
    }
}
