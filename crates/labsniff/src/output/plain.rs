//! Output for people: one aligned line per message as it is decoded, then the
//! diagnostics, a conversation table and the totals.

use crate::event::{
    ConversationRecord, Diagnostic, Dir, Event, MessageEvent, Severity, Sink, Summary,
};
use comfy_table::{presets, CellAlignment, Table};
use std::io::Write;

/// Diagnostics and conversations kept for the end; more are counted, not kept.
const KEEP_MAX: usize = 1000;

/// Plain text output.
#[derive(Debug)]
pub struct PlainSink<W: Write> {
    out: W,
    colour: bool,
    /// Live: flush at each [`Sink::flush`] (each batch of frames).
    flush_each: bool,
    header_done: bool,
    diagnostics: Vec<Diagnostic>,
    diagnostics_not_kept: u64,
    conversations: Vec<ConversationRecord>,
    conversations_not_kept: u64,
}

impl<W: Write> PlainSink<W> {
    pub fn new(out: W, colour: bool, flush_each: bool) -> PlainSink<W> {
        PlainSink {
            out,
            colour,
            flush_each,
            header_done: false,
            diagnostics: Vec::new(),
            diagnostics_not_kept: 0,
            conversations: Vec::new(),
            conversations_not_kept: 0,
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn message(&mut self, m: &MessageEvent) -> std::io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            let header = format!(
                "{:<11} {:<15} {:>5} {:<47} {:<5} {}",
                "frames", "time (UTC)", "conv", "client ↔ server", "proto", "fields and payload"
            );
            let header = self.paint(&header, "1");
            writeln!(self.out, "{header}")?;
        }
        let frames = match (m.frames.first(), m.frames.last()) {
            (Some(a), Some(b)) if a != b => format!("{a}-{b}"),
            (Some(a), _) => a.to_string(),
            _ => "-".to_string(),
        };
        let arrow = match m.dir {
            Dir::ClientToServer => "→",
            Dir::ServerToClient => "←",
        };
        let peers = format!("{:>21} {arrow} {}", m.client, m.server);
        let mut fields = String::new();
        if let (Some(v), Some(o), Some(s)) = (m.version, m.order, m.size) {
            fields = format!("version={v} order={o} size={s} ");
        }
        let mut payload = cut_payload(&m.payload_bytes);
        if m.truncated {
            payload.push_str(&format!(
                " (truncated: {} of {} bytes carried)",
                m.payload_bytes.len(),
                m.size.unwrap_or(0)
            ));
        }
        writeln!(
            self.out,
            "{frames:<11} {} {:>5} {peers:<47} {:<5} {fields}{payload}",
            clock(m.ts),
            m.conv,
            m.proto.as_str()
        )?;
        Ok(())
    }

    /// One message line now, as the listing prints it (live follow).
    pub fn message_line(&mut self, m: &MessageEvent) -> std::io::Result<()> {
        self.message(m)
    }

    /// One line of other text now (live follow: an analysis finding).
    pub fn note_line(&mut self, text: &str) -> std::io::Result<()> {
        let line = self.paint(text, "33");
        writeln!(self.out, "{line}")?;
        Ok(())
    }

    fn summary(&mut self, s: &Summary) -> std::io::Result<()> {
        if !self.diagnostics.is_empty() {
            writeln!(self.out)?;
            let title = self.paint("Diagnostics", "1");
            writeln!(self.out, "{title}")?;
            let diagnostics = std::mem::take(&mut self.diagnostics);
            for d in &diagnostics {
                let (word, colour) = match d.severity {
                    Severity::Error => ("error", "31"),
                    Severity::Warning => ("warning", "33"),
                    Severity::Note => ("note", "36"),
                };
                let word = self.paint(&format!("{word:<7}"), colour);
                let text = crate::words::diagnostic::text(d);
                writeln!(self.out, "  {word} {:<24} {text}", d.code())?;
            }
            if self.diagnostics_not_kept > 0 {
                writeln!(self.out, "  ... and {} more", self.diagnostics_not_kept)?;
            }
        }
        if !self.conversations.is_empty() {
            writeln!(self.out)?;
            let title = self.paint("Conversations", "1");
            writeln!(self.out, "{title}")?;
            let mut table = Table::new();
            table.load_preset(presets::NOTHING);
            table.set_header(vec![
                "conv",
                "transport",
                "client",
                "server",
                "proto",
                "state",
                "bytes c→s",
                "bytes s→c",
                "msgs c→s",
                "msgs s→c",
                "gaps",
                "retrans",
                "frames",
            ]);
            for c in &self.conversations {
                let gaps: u64 = c.gaps.iter().map(|g| g.bytes).sum();
                table.add_row(vec![
                    c.conv.to_string(),
                    format!("{:?}", c.transport).to_lowercase(),
                    c.client.to_string(),
                    c.server.to_string(),
                    c.proto.map_or("-", labproto::Proto::as_str).to_string(),
                    c.state.code().to_string(),
                    c.bytes_c2s.to_string(),
                    c.bytes_s2c.to_string(),
                    c.messages_c2s.to_string(),
                    c.messages_s2c.to_string(),
                    if gaps > 0 {
                        format!("{gaps} B")
                    } else {
                        "-".to_string()
                    },
                    c.retransmissions.to_string(),
                    format!("{}-{}", c.first_frame, c.last_frame),
                ]);
            }
            for i in [0, 6, 7, 8, 9, 10, 11] {
                if let Some(col) = table.column_mut(i) {
                    col.set_cell_alignment(CellAlignment::Right);
                }
            }
            writeln!(self.out, "{table}")?;
            if self.conversations_not_kept > 0 {
                writeln!(self.out, "  ... and {} more", self.conversations_not_kept)?;
            }
        }
        if s.lab_packets == 0 {
            writeln!(self.out)?;
            writeln!(self.out, "{}", crate::words::summary::no_lab_traffic(s))?;
        } else if let Some(why) = crate::words::port_choice(&s.port_choice, s.lab_port) {
            writeln!(self.out)?;
            writeln!(self.out, "lab port {}: {why}", s.lab_port)?;
        }
        writeln!(self.out)?;
        writeln!(self.out, "{}", crate::words::summary::line(s))?;
        self.out.flush()
    }
}

impl<W: Write> Sink for PlainSink<W> {
    fn flush(&mut self) -> std::io::Result<()> {
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        match event {
            Event::Message(m) => self.message(&m)?,
            Event::Diagnostic(d) => {
                if self.diagnostics.len() < KEEP_MAX {
                    self.diagnostics.push(d);
                } else {
                    self.diagnostics_not_kept += 1;
                }
            }
            Event::Conversation(c) => {
                if self.conversations.len() < KEEP_MAX {
                    self.conversations.push(*c);
                } else {
                    self.conversations_not_kept += 1;
                }
            }
            Event::Summary(s) => self.summary(&s)?,
            // The per-message listing shows messages; the report shows these.
            Event::Analysis(_) | Event::Segment(_) | Event::Cause(_) => {}
        }
        Ok(())
    }
}

/// Payload characters printed per message line; `--json` carries every byte.
pub const PAYLOAD_SHOWN: usize = 100;

/// The payload escaped and quoted, cut after [`PAYLOAD_SHOWN`] characters with its
/// length said: `"abc…"… (100000 bytes)`.
fn cut_payload(bytes: &[u8]) -> String {
    let escaped = labproto::text::escape(bytes);
    if escaped.chars().count() <= PAYLOAD_SHOWN {
        return format!("\"{escaped}\"");
    }
    let cut: String = escaped.chars().take(PAYLOAD_SHOWN).collect();
    format!("\"{cut}\"… ({} bytes; --json shows them all)", bytes.len())
}

/// `HH:MM:SS.ffffff` (UTC) of seconds since the epoch.
fn clock(ts: f64) -> String {
    let micros = (ts * 1e6).round() as u64;
    let day = micros % 86_400_000_000;
    let (h, rest) = (day / 3_600_000_000, day % 3_600_000_000);
    let (m, rest) = (rest / 60_000_000, rest % 60_000_000);
    format!(
        "{h:02}:{m:02}:{:02}.{:06}",
        rest / 1_000_000,
        rest % 1_000_000
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_payloads_are_cut() {
        assert_eq!(super::cut_payload(b"hi"), "\"hi\"");
        let long = super::cut_payload(&[b'x'; 100_000]);
        assert!(long.starts_with(&format!("\"{}\"…", "x".repeat(super::PAYLOAD_SHOWN))));
        assert!(long.ends_with("(100000 bytes; --json shows them all)"));
    }

    #[test]
    fn clock_shows_utc_time_of_day() {
        assert_eq!(super::clock(1_700_000_000.000_01), "22:13:20.000010");
    }
}
