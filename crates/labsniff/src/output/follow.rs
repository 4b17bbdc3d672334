//! Live follow: while a live capture runs, each message and each TCP analysis finding
//! is printed as one line the moment it is decoded (flushed, so a pipe gets it at
//! once), and the events are kept (bounded) for the report printed at Ctrl-C.

use super::collect::CollectSink;
use super::plain::PlainSink;
use crate::event::{Event, MessageRef, Sink};
use std::io::Write;

/// Lines now, the report later.
#[derive(Debug)]
pub struct FollowSink<W: Write> {
    lines: PlainSink<W>,
    /// What the report at the end is rendered from.
    pub collected: CollectSink,
}

impl<W: Write> FollowSink<W> {
    pub fn new(out: W, colour: bool) -> FollowSink<W> {
        FollowSink {
            lines: PlainSink::new(out, colour, true),
            collected: CollectSink::new(),
        }
    }
}

impl<W: Write> Sink for FollowSink<W> {
    fn flush(&mut self) -> std::io::Result<()> {
        Sink::flush(&mut self.lines)
    }

    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        match &event {
            Event::Message(m) => self.lines.message_line(m)?,
            Event::Analysis(a) => self.lines.note_line(&crate::report::analysis_text(a))?,
            Event::Cause(c) => self.lines.note_line(&crate::words::causes::text(c))?,
            _ => {}
        }
        self.collected.emit(event)
    }

    fn message(&mut self, message: &MessageRef<'_>) -> std::io::Result<()> {
        self.lines.message_ref_line(message)?;
        self.collected.message(message)
    }
}
