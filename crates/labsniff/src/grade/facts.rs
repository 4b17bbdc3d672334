//! What the requirements read of one capture: labfacts' one index of the analysis's
//! events (with its derived facts: echo pairs, concurrency), the conversations to the
//! lab port, and the format problems labproto named. No words: the checks write those.

use crate::event::{ConversationRecord, Diagnostic, Dir, Event, MessageEvent, TransportKind};
use labfacts::index::CaptureIndex;

/// What the analysis of one capture said, as the requirements read it: labfacts' one
/// index of the events, with its derived facts (echo pairs, concurrency).
#[derive(Debug)]
pub struct Facts<'a> {
    pub port: u16,
    pub index: CaptureIndex<'a>,
    pub diagnostics: Vec<&'a Diagnostic>,
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
