//! Keeps the events a report needs, within bounds: a capture of a whole lab session
//! must not be held in memory just to be explained.
//!
//! Kept whole: conversation records, the summary. Kept up to a cap: messages (per
//! conversation, and only for the first conversations, which are the ones explained
//! in detail), diagnostics. What was dropped is counted, and the report says so.

use crate::event::{Event, Sink};
use std::collections::HashMap;

/// Conversations whose messages are kept for the detailed sections.
pub const CONVERSATIONS_DETAILED: usize = 100;
/// Messages kept per detailed conversation.
pub const MESSAGES_PER_CONVERSATION: usize = 500;
/// Diagnostics kept in all.
pub const DIAGNOSTICS_KEPT: usize = 10_000;

/// A sink that collects a bounded set of events for [`crate::report::render`].
#[derive(Debug, Default)]
pub struct CollectSink {
    pub events: Vec<Event>,
    kept_messages: HashMap<u64, usize>,
    diagnostics: usize,
    /// Messages not kept because of the caps.
    pub messages_dropped: u64,
    /// Diagnostics not kept because of the cap.
    pub diagnostics_dropped: u64,
}

impl CollectSink {
    pub fn new() -> CollectSink {
        CollectSink::default()
    }
}

impl Sink for CollectSink {
    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        match &event {
            Event::Message(m) => {
                let detailed = self.kept_messages.len() < CONVERSATIONS_DETAILED
                    || self.kept_messages.contains_key(&m.conv);
                let kept = self.kept_messages.entry(m.conv).or_insert(0);
                if !detailed || *kept >= MESSAGES_PER_CONVERSATION {
                    self.messages_dropped += 1;
                    if !detailed {
                        // Do not let the map itself grow with every conversation.
                        self.kept_messages.remove(&m.conv);
                    }
                    return Ok(());
                }
                *kept += 1;
            }
            Event::Diagnostic(_) => {
                if self.diagnostics >= DIAGNOSTICS_KEPT {
                    self.diagnostics_dropped += 1;
                    return Ok(());
                }
                self.diagnostics += 1;
            }
            Event::Conversation(_) | Event::Summary(_) => {}
        }
        self.events.push(event);
        Ok(())
    }
}
