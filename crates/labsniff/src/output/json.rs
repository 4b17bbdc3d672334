//! JSON lines: one event per line, fields in the order of the event structs.
//!
//! Messages (nearly every line of a capture) are written by hand from borrowed data
//! into a reused line buffer: the same bytes serde_json writes for
//! [`Event::Message`] (a test holds the two together), without building the owned
//! event first. Every other event goes through serde.

use crate::event::{seconds, Event, MessageRef, Sink};
use std::io::Write;

/// Writes each event as one JSON object on its own line.
#[derive(Debug)]
pub struct JsonSink<W: Write> {
    out: W,
    /// Flush after every line (live captures: lines appear as they happen).
    flush_each: bool,
    /// One message line; keeps its capacity.
    line: Vec<u8>,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, flush_each: bool) -> JsonSink<W> {
        JsonSink {
            out,
            flush_each,
            line: Vec::with_capacity(1024),
        }
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

    fn message(&mut self, message: &MessageRef<'_>) -> std::io::Result<()> {
        self.line.clear();
        write_message(&mut self.line, message)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }
}

/// `message` as serde_json writes `Event::Message(message.to_event())`.
pub fn write_message(out: &mut Vec<u8>, m: &MessageRef<'_>) -> std::io::Result<()> {
    let mut numbers = itoa::Buffer::new();
    out.extend_from_slice(b"{\"type\":\"message\",\"conv\":");
    out.extend_from_slice(numbers.format(m.conv).as_bytes());
    out.extend_from_slice(b",\"transport\":");
    string(out, m.transport.as_str().as_bytes());
    out.extend_from_slice(b",\"proto\":");
    string(out, m.proto.as_bytes());
    out.extend_from_slice(b",\"dir\":");
    string(out, m.dir.as_str().as_bytes());
    out.extend_from_slice(b",\"client\":");
    string(out, m.client.as_bytes());
    out.extend_from_slice(b",\"server\":");
    string(out, m.server.as_bytes());
    out.extend_from_slice(b",\"version\":");
    optional(out, &mut numbers, m.version.map(u64::from));
    out.extend_from_slice(b",\"order\":");
    optional(out, &mut numbers, m.order.map(u64::from));
    out.extend_from_slice(b",\"size\":");
    optional(out, &mut numbers, m.size.map(u64::from));
    out.extend_from_slice(b",\"payload\":\"");
    // As `String::from_utf8_lossy`: one U+FFFD per invalid sequence.
    for chunk in m.payload.utf8_chunks() {
        escaped(out, chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
    out.extend_from_slice(b"\",\"payload_hex\":\"");
    for &b in m.payload {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
    out.extend_from_slice(b"\",\"truncated\":");
    out.extend_from_slice(if m.truncated { b"true" } else { b"false" });
    out.extend_from_slice(b",\"frames\":[");
    for (i, frame) in m.frames.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(numbers.format(*frame).as_bytes());
    }
    out.extend_from_slice(b"],\"ts\":");
    // serde_json's own float formatting (shortest round-trip), so the text matches.
    serde_json::to_writer(&mut *out, &seconds(m.ts_micros))?;
    out.extend_from_slice(b",\"offset\":");
    optional(out, &mut numbers, m.offset);
    out.push(b'}');
    Ok(())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn optional(out: &mut Vec<u8>, numbers: &mut itoa::Buffer, value: Option<u64>) {
    match value {
        Some(n) => out.extend_from_slice(numbers.format(n).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
}

fn string(out: &mut Vec<u8>, utf8: &[u8]) {
    out.push(b'"');
    escaped(out, utf8);
    out.push(b'"');
}

/// What serde_json writes for each byte of a string: 0 as is, `u` as `\u00XX`, else
/// a backslash and that letter.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Valid UTF-8 bytes, escaped for the inside of a JSON string; runs that need no
/// escape are copied whole.
fn escaped(out: &mut Vec<u8>, utf8: &[u8]) {
    let mut start = 0;
    for (i, &b) in utf8.iter().enumerate() {
        let escape = ESCAPE[usize::from(b)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&utf8[start..i]);
        if escape == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        } else {
            out.push(b'\\');
            out.push(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&utf8[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Dir, TransportKind};
    use proptest::prelude::*;

    fn message<'a>(payload: &'a [u8], frames: &'a [u64], ts_micros: u64) -> MessageRef<'a> {
        MessageRef {
            conv: 42,
            transport: TransportKind::Tcp,
            proto: "v3",
            dir: Dir::ServerToClient,
            client: "[::1]:40000",
            server: "127.0.0.1:5005",
            version: Some(1),
            order: Some(4_000_000_000),
            size: Some(payload.len() as u32),
            payload,
            truncated: false,
            frames,
            ts_micros,
            offset: Some(123),
        }
    }

    fn by_serde(m: &MessageRef<'_>) -> String {
        serde_json::to_string(&Event::Message(m.to_event())).unwrap()
    }

    fn by_hand(m: &MessageRef<'_>) -> String {
        let mut out = Vec::new();
        write_message(&mut out, m).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn same_bytes_as_serde_for_awkward_payloads() {
        let awkward: &[&[u8]] = &[
            b"",
            b"hello\n",
            b"\"quoted\" back\\slash",
            b"\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x20\x7f",
            "héllo wörld €".as_bytes(),
            b"\xff\xfe bad \xc3 utf8 \xe2\x82",
        ];
        for payload in awkward {
            let m = message(payload, &[1, 7, 9], 1_700_000_000_001_500);
            assert_eq!(by_hand(&m), by_serde(&m));
        }
    }

    #[test]
    fn same_bytes_as_serde_for_nulls_and_udp() {
        let m = MessageRef {
            transport: TransportKind::Udp,
            proto: "text",
            dir: Dir::ClientToServer,
            version: None,
            order: None,
            size: None,
            truncated: true,
            offset: None,
            ..message(b"hi\n", &[], 0)
        };
        let text = by_hand(&m);
        assert_eq!(text, by_serde(&m));
        assert!(text.contains("\"version\":null,\"order\":null,\"size\":null"));
    }

    proptest! {
        #[test]
        fn same_bytes_as_serde(
            payload in proptest::collection::vec(any::<u8>(), 0..80),
            frames in proptest::collection::vec(any::<u64>(), 0..4),
            ts in any::<u64>(),
        ) {
            let m = message(&payload, &frames, ts);
            prop_assert_eq!(by_hand(&m), by_serde(&m));
        }
    }
}
