//! Output for people: one aligned line per message as it is decoded, then the
//! diagnostics, a conversation table and the totals.

use crate::event::{
    ConversationRecord, Diagnostic, Dir, Event, MessageEvent, MessageRef, Severity, Sink, Summary,
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
    /// The message line being written, kept to reuse its allocation.
    line: String,
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
            line: String::new(),
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn message(&mut self, m: &Line<'_>) -> std::io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            let header = format!(
                "{:<11} {:<15} {:>5} {:<47} {:<5} {}",
                "frames", "time (UTC)", "conv", "client ↔ server", "proto", "fields and payload"
            );
            let header = self.paint(&header, "1");
            writeln!(self.out, "{header}")?;
        }
        self.line.clear();
        m.write_to(&mut self.line);
        self.out.write_all(self.line.as_bytes())
    }

    /// One message line now, as the listing prints it (live follow).
    pub fn message_line(&mut self, m: &MessageEvent) -> std::io::Result<()> {
        self.message(&Line::of_event(m))
    }

    /// [`PlainSink::message_line`] of a message not yet built into an event (the
    /// hot path of live capture: no allocation per message).
    pub fn message_ref_line(&mut self, m: &MessageRef<'_>) -> std::io::Result<()> {
        self.message(&Line::of_ref(m))
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
    fn message(&mut self, message: &MessageRef<'_>) -> std::io::Result<()> {
        self.message_ref_line(message)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        match event {
            Event::Message(m) => self.message(&Line::of_event(&m))?,
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

/// What one message line shows, borrowed from either form of a message.
struct Line<'a> {
    conv: u64,
    proto: labproto::Proto,
    dir: Dir,
    client: &'a str,
    server: &'a str,
    fields: Option<(u8, u32, u32)>,
    size: Option<u32>,
    payload: &'a [u8],
    truncated: bool,
    frames: &'a [u64],
    micros: u64,
}

impl<'a> Line<'a> {
    fn of_event(m: &'a MessageEvent) -> Line<'a> {
        Line {
            conv: m.conv,
            proto: m.proto,
            dir: m.dir,
            client: &m.client,
            server: &m.server,
            fields: fields(m.version, m.order, m.size),
            size: m.size,
            payload: &m.payload_bytes,
            truncated: m.truncated,
            frames: &m.frames,
            micros: (m.ts * 1e6).round() as u64,
        }
    }

    fn of_ref(m: &'a MessageRef<'_>) -> Line<'a> {
        Line {
            conv: m.conv,
            proto: m.proto,
            dir: m.dir,
            client: m.client,
            server: m.server,
            fields: fields(m.version, m.order, m.size),
            size: m.size,
            payload: m.payload,
            truncated: m.truncated,
            frames: m.frames,
            micros: m.ts_micros,
        }
    }

    /// `frames  time  conv  client → server  proto  fields payload`, aligned as the
    /// header, with its newline; written without `format!` (a live capture writes
    /// millions): the same characters as the `{:<11} {} {:>5} {:<47} {:<5} …` layout
    /// (the test compares them with that model).
    fn write_to(&self, line: &mut String) {
        let mut n = itoa::Buffer::new();
        let start = line.len();
        match (self.frames.first(), self.frames.last()) {
            (Some(a), Some(b)) if a != b => {
                line.push_str(n.format(*a));
                line.push('-');
                line.push_str(n.format(*b));
            }
            (Some(a), _) => line.push_str(n.format(*a)),
            _ => line.push('-'),
        }
        pad_to(line, start, 11);
        line.push(' ');
        push_clock(line, self.micros);
        line.push(' ');
        pad_left(line, n.format(self.conv), 5);
        line.push(' ');
        let start = line.len();
        pad_left(line, self.client, 21);
        line.push_str(match self.dir {
            Dir::ClientToServer => " → ",
            Dir::ServerToClient => " ← ",
        });
        line.push_str(self.server);
        pad_to(line, start, 47);
        line.push(' ');
        let start = line.len();
        line.push_str(self.proto.as_str());
        pad_to(line, start, 5);
        line.push(' ');
        if let Some((v, o, s)) = self.fields {
            line.push_str("version=");
            line.push_str(n.format(v));
            line.push_str(" order=");
            line.push_str(n.format(o));
            line.push_str(" size=");
            line.push_str(n.format(s));
            line.push(' ');
        }
        push_payload(line, self.payload);
        if self.truncated {
            line.push_str(" (truncated: ");
            line.push_str(n.format(self.payload.len()));
            line.push_str(" of ");
            line.push_str(n.format(self.size.unwrap_or(0)));
            line.push_str(" bytes carried)");
        }
        line.push('\n');
    }
}

/// `text` right-aligned in `width` characters, as `{:>width}` writes it.
fn pad_left(line: &mut String, text: &str, width: usize) {
    let chars = text.chars().count();
    line.extend(std::iter::repeat_n(' ', width.saturating_sub(chars)));
    line.push_str(text);
}

/// [`clock`] written into `line`.
fn push_clock(line: &mut String, micros: u64) {
    let day = micros % 86_400_000_000;
    let (h, rest) = (day / 3_600_000_000, day % 3_600_000_000);
    let (m, rest) = (rest / 60_000_000, rest % 60_000_000);
    push_digits(line, h, 2);
    line.push(':');
    push_digits(line, m, 2);
    line.push(':');
    push_digits(line, rest / 1_000_000, 2);
    line.push('.');
    push_digits(line, rest % 1_000_000, 6);
}

/// The last `digits` decimal digits of `value`, with leading zeros.
fn push_digits(line: &mut String, value: u64, digits: u32) {
    let mut div = 10u64.pow(digits - 1);
    while div > 0 {
        line.push(char::from(b'0' + ((value / div) % 10) as u8));
        div /= 10;
    }
}

/// [`cut_payload`] written into `line`; printable ASCII that needs no cut, the usual
/// message, is copied as it is.
fn push_payload(line: &mut String, bytes: &[u8]) {
    let plain = bytes.len() <= PAYLOAD_SHOWN
        && bytes
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) && b != b'\\' && b != b'"');
    match std::str::from_utf8(bytes) {
        Ok(text) if plain => {
            line.push('"');
            line.push_str(text);
            line.push('"');
        }
        _ => line.push_str(&cut_payload(bytes)),
    }
}

fn fields(version: Option<u8>, order: Option<u32>, size: Option<u32>) -> Option<(u8, u32, u32)> {
    Some((version?, order?, size?))
}

/// Spaces after `line[start..]` up to `width` characters, as `{:<width}` pads.
fn pad_to(line: &mut String, start: usize, width: usize) {
    let written = line[start..].chars().count();
    line.extend(std::iter::repeat_n(' ', width.saturating_sub(written)));
}

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

/// `HH:MM:SS.ffffff` (UTC) of microseconds since the epoch (the model of [`push_clock`]).
#[cfg(test)]
fn clock(micros: u64) -> String {
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

    /// The line as it was formatted before it was written without allocations (the
    /// obviously correct model of `Line::write_to`).
    fn model(m: &crate::event::MessageEvent) -> String {
        let frames = match (m.frames.first(), m.frames.last()) {
            (Some(a), Some(b)) if a != b => format!("{a}-{b}"),
            (Some(a), _) => a.to_string(),
            _ => "-".to_string(),
        };
        let arrow = match m.dir {
            crate::event::Dir::ClientToServer => "→",
            crate::event::Dir::ServerToClient => "←",
        };
        let peers = format!("{:>21} {arrow} {}", m.client, m.server);
        let mut fields = String::new();
        if let (Some(v), Some(o), Some(s)) = (m.version, m.order, m.size) {
            fields = format!("version={v} order={o} size={s} ");
        }
        let mut payload = super::cut_payload(&m.payload_bytes);
        if m.truncated {
            payload.push_str(&format!(
                " (truncated: {} of {} bytes carried)",
                m.payload_bytes.len(),
                m.size.unwrap_or(0)
            ));
        }
        format!(
            "{frames:<11} {} {:>5} {peers:<47} {:<5} {fields}{payload}\n",
            super::clock((m.ts * 1e6).round() as u64),
            m.conv,
            m.proto.as_str()
        )
    }

    #[test]
    fn message_lines_match_the_model_from_both_forms() {
        use crate::event::{Dir, MessageRef, TransportKind};
        use labproto::Proto;
        let payloads: [&[u8]; 4] = [b"", b"hello", &[0u8, 255, 10, 13, 0xe2, 0x82], &[b'x'; 150]];
        let frame_sets: [&[u64]; 3] = [&[], &[7], &[8, 9, 11]];
        let peers = [
            ("127.0.0.1:41000", "127.0.0.1:5005"),
            ("[2001:db8::1]:65535", "[2001:db8::2]:5005"),
        ];
        let mut checked = 0;
        for (i, payload) in payloads.iter().enumerate() {
            for frames in frame_sets {
                for (client, server) in peers {
                    for proto in [Proto::Text, Proto::V2, Proto::V3] {
                        let binary = proto != Proto::Text;
                        let m = MessageRef {
                            conv: 1 + i as u64 * 999,
                            transport: TransportKind::Tcp,
                            proto,
                            dir: if i % 2 == 0 {
                                Dir::ClientToServer
                            } else {
                                Dir::ServerToClient
                            },
                            client,
                            server,
                            version: binary.then_some(1),
                            order: binary.then_some(4_000_000_000),
                            size: binary.then_some(37),
                            payload,
                            truncated: proto == Proto::V2,
                            frames,
                            ts_micros: 1_700_000_000_123_456 + i as u64 * 86_399_999_999,
                            offset: None,
                        };
                        let event = m.to_event();
                        let mut from_ref = String::new();
                        super::Line::of_ref(&m).write_to(&mut from_ref);
                        let mut from_event = String::new();
                        super::Line::of_event(&event).write_to(&mut from_event);
                        assert_eq!(from_ref, model(&event));
                        assert_eq!(from_event, from_ref);
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 4 * 3 * 2 * 3);
    }

    #[test]
    fn clock_shows_utc_time_of_day() {
        assert_eq!(super::clock(1_700_000_000_000_010), "22:13:20.000010");
        for micros in [
            0,
            59_999_999,
            86_399_999_999,
            1_700_000_000_123_456,
            u64::MAX / 7,
        ] {
            let mut line = String::new();
            super::push_clock(&mut line, micros);
            assert_eq!(line, super::clock(micros));
        }
    }
}
