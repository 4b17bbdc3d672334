//! Keeps the events a report needs, within bounds: a capture of a whole lab session
//! must not be held in memory just to be explained.
//!
//! Kept whole: conversation records, the summary. Kept up to a cap: messages (per
//! conversation, and only for the first conversations, which are the ones explained
//! in detail), diagnostics. What was dropped is counted, and the report says so.

use crate::event::{Event, MessageRef, Sink};
use std::collections::HashMap;

/// Conversations whose messages are kept for the detailed sections.
pub const CONVERSATIONS_DETAILED: usize = 100;
/// Messages kept per detailed conversation.
pub const MESSAGES_PER_CONVERSATION: usize = 500;
/// Diagnostics kept in all.
pub const DIAGNOSTICS_KEPT: usize = 10_000;
/// Analysis events (flagged frames) kept per conversation; the conversation record
/// counts them all.
pub const ANALYSIS_PER_CONVERSATION: usize = 2_000;
/// Conversations whose analysis events are kept.
pub const ANALYSIS_CONVERSATIONS: usize = 100;
/// Segment events (only emitted when asked for) kept in all: 1,000,000 of about
/// 100 bytes each.
pub const SEGMENTS_KEPT: usize = 1_000_000;

/// A sink that collects a bounded set of events for [`crate::report::render`].
#[derive(Debug, Default)]
pub struct CollectSink {
    pub events: Vec<Event>,
    kept_messages: HashMap<u64, usize, crate::flow_hash::FlowHashBuilder>,
    diagnostics: usize,
    kept_analysis: HashMap<u64, usize, crate::flow_hash::FlowHashBuilder>,
    /// Analysis events not kept because of the caps.
    pub analysis_dropped: u64,
    /// Messages not kept because of the caps.
    pub messages_dropped: u64,
    /// Diagnostics not kept because of the cap.
    pub diagnostics_dropped: u64,
    segments: usize,
    /// Segment events not kept because of the cap.
    pub segments_dropped: u64,
}

impl CollectSink {
    pub fn new() -> CollectSink {
        CollectSink::default()
    }
}

impl CollectSink {
    /// Counts an analysis event against its caps; false when it is not to be kept.
    fn keep_analysis(&mut self, conv: u64) -> bool {
        let kept = counted(
            &mut self.kept_analysis,
            conv,
            ANALYSIS_CONVERSATIONS,
            ANALYSIS_PER_CONVERSATION,
        );
        self.analysis_dropped += u64::from(!kept);
        kept
    }

    /// Counts the message against the caps; false when it is not to be kept.
    fn keep_message(&mut self, conv: u64) -> bool {
        let kept = counted(
            &mut self.kept_messages,
            conv,
            CONVERSATIONS_DETAILED,
            MESSAGES_PER_CONVERSATION,
        );
        self.messages_dropped += u64::from(!kept);
        kept
    }
}

/// Counts one more event of conversation `conv` in `kept` (events kept per
/// conversation) if it is within the caps: at most `per_conv` each, for the first
/// `convs` conversations. One lookup for a conversation already counted (most events);
/// a conversation past the first `convs` is not inserted, so the map does not grow
/// with every conversation.
fn counted(
    kept: &mut HashMap<u64, usize, crate::flow_hash::FlowHashBuilder>,
    conv: u64,
    convs: usize,
    per_conv: usize,
) -> bool {
    if let Some(n) = kept.get_mut(&conv) {
        let room = *n < per_conv;
        *n += usize::from(room);
        return room;
    }
    if kept.len() >= convs {
        return false;
    }
    kept.insert(conv, 1);
    true
}

impl Sink for CollectSink {
    /// Messages past the caps are counted without being built.
    fn message(&mut self, message: &MessageRef<'_>) -> std::io::Result<()> {
        if self.keep_message(message.conv) {
            self.events.push(Event::Message(message.to_event()));
        }
        Ok(())
    }

    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        match &event {
            Event::Message(m) => {
                if !self.keep_message(m.conv) {
                    return Ok(());
                }
            }
            Event::Diagnostic(_) => {
                if self.diagnostics >= DIAGNOSTICS_KEPT {
                    self.diagnostics_dropped += 1;
                    return Ok(());
                }
                self.diagnostics += 1;
            }
            Event::Analysis(a) => {
                if !self.keep_analysis(a.conv) {
                    return Ok(());
                }
            }
            Event::Segment(_) => {
                if self.segments >= SEGMENTS_KEPT {
                    self.segments_dropped += 1;
                    return Ok(());
                }
                self.segments += 1;
            }
            // Few: at most one of each kind per conversation and direction.
            Event::Conversation(_) | Event::Summary(_) | Event::Cause(_) => {}
        }
        self.events.push(event);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_kept_for_the_first_conversations_up_to_their_cap() {
        let mut sink = CollectSink::new();
        let convs = CONVERSATIONS_DETAILED as u64 + 5;
        let per = MESSAGES_PER_CONVERSATION + 7;
        let mut kept = vec![0usize; convs as usize + 1];
        // Interleaved, as conversations' messages come.
        for _ in 0..per {
            for conv in 1..=convs {
                kept[conv as usize] += usize::from(sink.keep_message(conv));
            }
        }
        for conv in 1..=convs {
            let want = if conv as usize <= CONVERSATIONS_DETAILED {
                MESSAGES_PER_CONVERSATION
            } else {
                0
            };
            assert_eq!(kept[conv as usize], want, "conversation {conv}");
        }
        let all = convs * per as u64;
        let kept_all = (CONVERSATIONS_DETAILED * MESSAGES_PER_CONVERSATION) as u64;
        assert_eq!(sink.messages_dropped, all - kept_all);
        assert_eq!(sink.kept_messages.len(), CONVERSATIONS_DETAILED);
    }

    #[test]
    fn analysis_events_have_their_own_caps() {
        let mut sink = CollectSink::new();
        let kept = (0..ANALYSIS_PER_CONVERSATION + 3)
            .filter(|_| sink.keep_analysis(7))
            .count();
        assert_eq!(kept, ANALYSIS_PER_CONVERSATION);
        assert_eq!(sink.analysis_dropped, 3);
        // Messages of the same conversation are counted apart.
        assert!(sink.keep_message(7));
        assert_eq!(sink.messages_dropped, 0);
    }
}
