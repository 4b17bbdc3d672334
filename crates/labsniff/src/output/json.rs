//! JSON lines: one event per line, fields in the order of the event structs.

use crate::event::{Event, Sink};
use std::io::Write;

/// Writes each event as one JSON object on its own line.
#[derive(Debug)]
pub struct JsonSink<W: Write> {
    out: W,
    /// Flush after every line (live captures: lines appear as they happen).
    flush_each: bool,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, flush_each: bool) -> JsonSink<W> {
        JsonSink { out, flush_each }
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, &event)?;
        self.out.write_all(b"\n")?;
        if self.flush_each || matches!(event, Event::Summary(_)) {
            self.out.flush()?;
        }
        Ok(())
    }
}
