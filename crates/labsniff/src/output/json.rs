//! JSON lines: one event per line, fields in the order of the event structs.
//!
//! Messages (nearly every line of a capture) are written by hand from borrowed data
//! into a reused line buffer: the same bytes serde_json writes for
//! [`Event::Message`] (a test holds the two together), without building the owned
//! event first. Every other event goes through serde.

use crate::event::{seconds, Dir, Event, MessageRef, Sink, TransportKind};
use std::collections::HashMap;
use std::io::Write;

/// Lines are gathered here and handed to the writer in blocks of about this size.
const BLOCK: usize = 64 * 1024;

/// Writes each event as one JSON object on its own line.
#[derive(Debug)]
pub struct JsonSink<W: Write> {
    out: W,
    /// Live captures: write out and flush at each [`Sink::flush`] (each batch of
    /// frames), so lines appear as they happen.
    flush_each: bool,
    /// Lines not yet handed to `out`. Messages are rendered straight into it: no
    /// per-line copy between a line buffer and a `BufWriter`.
    pending: Vec<u8>,
    prefixes: Prefixes,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, flush_each: bool) -> JsonSink<W> {
        JsonSink {
            out,
            flush_each,
            pending: Vec::with_capacity(BLOCK + 4096),
            prefixes: Prefixes::default(),
        }
    }

    fn line_done(&mut self, flush: bool) -> std::io::Result<()> {
        self.pending.push(b'\n');
        if flush {
            self.write_pending()?;
            self.out.flush()?;
        } else if self.pending.len() >= BLOCK {
            self.write_pending()?;
        }
        Ok(())
    }

    fn write_pending(&mut self) -> std::io::Result<()> {
        let result = self.out.write_all(&self.pending);
        self.pending.clear();
        result
    }
}

impl<W: Write> Drop for JsonSink<W> {
    /// As `BufWriter`: lines still pending go out (an error here has nowhere to go).
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.write_pending();
            let _ = self.out.flush();
        }
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        super::json_event::to_writer(&mut self.pending, &event)?;
        self.line_done(matches!(event, Event::Summary(_)))
    }

    fn message(&mut self, message: &MessageRef<'_>) -> std::io::Result<()> {
        write_message_with(&mut self.pending, message, &mut self.prefixes)?;
        self.line_done(false)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.flush_each {
            self.write_pending()?;
            self.out.flush()?;
        }
        Ok(())
    }
}

/// `message` as serde_json writes `Event::Message(message.to_event())`.
pub fn write_message(out: &mut Vec<u8>, m: &MessageRef<'_>) -> std::io::Result<()> {
    write_message_with(out, m, &mut Prefixes::default())
}

/// The text every message line of one conversation and direction starts with, up to
/// `"version":`: the same for each of that conversation's messages, so it is rendered
/// once per conversation and direction instead of once per line. A lab capture
/// interleaves many conversations (the bench capture: 5,000 at once), so the texts
/// are kept by conversation, up to [`PREFIXES_KEPT`] at a time.
#[derive(Debug, Default)]
pub struct Prefixes {
    by_key: HashMap<(u64, Dir), Prefix, crate::flow_hash::FlowHashBuilder>,
}

/// Prefixes kept at most; past it they are all forgotten and rendered again as
/// needed (a bound on memory, not a cache policy that matters).
pub const PREFIXES_KEPT: usize = 16_384;

#[derive(Debug)]
struct Prefix {
    transport: TransportKind,
    proto: labproto::Proto,
    client: String,
    server: String,
    text: Vec<u8>,
}

impl Prefix {
    fn is_for(&self, m: &MessageRef<'_>) -> bool {
        self.transport == m.transport
            && self.proto == m.proto
            && self.client == m.client
            && self.server == m.server
    }

    fn new(m: &MessageRef<'_>) -> Prefix {
        let mut text = Vec::with_capacity(96 + m.client.len() + m.server.len());
        let mut numbers = itoa::Buffer::new();
        text.extend_from_slice(b"{\"type\":\"message\",\"conv\":");
        text.extend_from_slice(numbers.format(m.conv).as_bytes());
        text.extend_from_slice(b",\"transport\":\"");
        text.extend_from_slice(m.transport.as_str().as_bytes());
        text.extend_from_slice(b"\",\"proto\":");
        string(&mut text, m.proto.as_str().as_bytes());
        text.extend_from_slice(b",\"dir\":\"");
        text.extend_from_slice(m.dir.as_str().as_bytes());
        text.extend_from_slice(b"\",\"client\":");
        string(&mut text, m.client.as_bytes());
        text.extend_from_slice(b",\"server\":");
        string(&mut text, m.server.as_bytes());
        text.extend_from_slice(b",\"version\":");
        Prefix {
            transport: m.transport,
            proto: m.proto,
            client: m.client.to_string(),
            server: m.server.to_string(),
            text,
        }
    }
}

impl Prefixes {
    /// The prefix of `m`'s line, rendered now if it is not kept (or was kept for
    /// other endpoints: a conversation number is only trusted with the same names).
    fn get(&mut self, m: &MessageRef<'_>) -> &[u8] {
        use std::collections::hash_map::Entry;
        let key = (m.conv, m.dir);
        if self.by_key.len() >= PREFIXES_KEPT && !self.by_key.contains_key(&key) {
            self.by_key.clear();
        }
        let prefix = match self.by_key.entry(key) {
            Entry::Occupied(e) => {
                let prefix = e.into_mut();
                if !prefix.is_for(m) {
                    *prefix = Prefix::new(m);
                }
                prefix
            }
            Entry::Vacant(e) => e.insert(Prefix::new(m)),
        };
        &prefix.text
    }
}

/// [`write_message`] with the line prefixes kept in `prefixes` between calls.
pub fn write_message_with(
    out: &mut Vec<u8>,
    m: &MessageRef<'_>,
    prefixes: &mut Prefixes,
) -> std::io::Result<()> {
    out.reserve(192 + m.client.len() + m.server.len() + 3 * m.payload.len() + 21 * m.frames.len());
    let mut numbers = itoa::Buffer::new();
    out.extend_from_slice(prefixes.get(m));
    optional(out, &mut numbers, m.version.map(u64::from));
    out.extend_from_slice(b",\"order\":");
    optional(out, &mut numbers, m.order.map(u64::from));
    out.extend_from_slice(b",\"size\":");
    optional(out, &mut numbers, m.size.map(u64::from));
    out.extend_from_slice(b",\"payload\":\"");
    // The usual payload is printable ASCII: one branch-free pass the compiler
    // vectorises proves it, then one copy.
    let plain = !m
        .payload
        .iter()
        .fold(false, |any, &b| any | (b >= 0x80) | needs_escape(b));
    if plain {
        out.extend_from_slice(m.payload);
    } else if m.payload.is_ascii() {
        escaped(out, m.payload);
    } else {
        lossy(out, m.payload);
    }
    out.extend_from_slice(b"\",\"payload_hex\":\"");
    let start = out.len();
    out.resize(start + 2 * m.payload.len(), 0);
    for (pair, &b) in out[start..].chunks_exact_mut(2).zip(m.payload) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
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
    timestamp(out, &mut numbers, m.ts_micros)?;
    out.extend_from_slice(b",\"offset\":");
    optional(out, &mut numbers, m.offset);
    out.push(b'}');
    Ok(())
}

/// The whole seconds for which [`timestamp`] writes the digits itself: 2^13 s (1970,
/// 2 h 16 min) to 2^32 s (the year 2106). `seconds` adds the rounded fraction to the
/// seconds; from 2^13 s on, no `s.uuuuuu` lies within that rounding error (2^-54) of a
/// midpoint between two f64s (its distance from one is at least 2^(e-47)/10^6 at
/// magnitude 2^e), so the sum is the f64 nearest to `s.uuuuuu`. Below 2^32 s the f64
/// ulp is under 1 µs, so no other decimal of 6 or fewer fraction digits lies within
/// half an ulp of it, and its shortest round-trip form is `s.uuuuuu` with trailing
/// zeros cut. (At 1 s the sum is not the nearest f64: 1.545902 comes out as
/// 1.5459019999999999.)
const DIGITS_FOR: std::ops::Range<u64> = (1 << 13)..(1 << 32);

/// `seconds(micros)` as serde_json writes the f64 (its shortest round-trip form):
/// written from the integer in [`DIGITS_FOR`], through serde_json otherwise.
fn timestamp(out: &mut Vec<u8>, numbers: &mut itoa::Buffer, micros: u64) -> std::io::Result<()> {
    let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
    if !DIGITS_FOR.contains(&secs) {
        serde_json::to_writer(&mut *out, &seconds(micros))?;
        return Ok(());
    }
    out.extend_from_slice(numbers.format(secs).as_bytes());
    out.push(b'.');
    if frac == 0 {
        out.push(b'0');
        return Ok(());
    }
    let mut digits = [0u8; 6];
    let mut rest = frac;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let len = 6 - digits.iter().rev().take_while(|&&d| d == b'0').count();
    out.extend_from_slice(&digits[..len]);
    Ok(())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Each byte's two lower-case hex digits.
const HEX_PAIRS: [[u8; 2]; 256] = {
    let mut table = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = [HEX[b >> 4], HEX[b & 15]];
        b += 1;
    }
    table
};

/// As `String::from_utf8_lossy` then escaped: one U+FFFD per invalid sequence.
fn lossy(out: &mut Vec<u8>, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        escaped(out, chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
}

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
    // Nothing to escape is the usual case: one branch-free pass the compiler
    // vectorises, then one copy.
    if !utf8.iter().fold(false, |any, &b| any | needs_escape(b)) {
        out.extend_from_slice(utf8);
        return;
    }
    let mut start = 0;
    let mut i = 0;
    while i < utf8.len() {
        let b = utf8[i];
        let escape = ESCAPE[usize::from(b)];
        if escape == 0 {
            i += 1;
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
        i += 1;
        start = i;
    }
    out.extend_from_slice(&utf8[start..]);
}

#[inline]
fn needs_escape(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn message<'a>(payload: &'a [u8], frames: &'a [u64], ts_micros: u64) -> MessageRef<'a> {
        MessageRef {
            conv: 42,
            transport: TransportKind::Tcp,
            proto: labproto::Proto::V3,
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
        let mut line = Vec::new();
        crate::output::json_event::to_writer(&mut line, &Event::Message(m.to_event())).unwrap();
        String::from_utf8(line).unwrap()
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
            proto: labproto::Proto::Text,
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

    /// Every 7th microsecond of a second at both ends of the digits' range and today.
    #[test]
    fn timestamps_across_whole_seconds() {
        let mut numbers = itoa::Buffer::new();
        for secs in [DIGITS_FOR.start, 1_700_000_000, DIGITS_FOR.end - 1] {
            for frac in (0..1_000_000).step_by(7) {
                let micros = secs * 1_000_000 + frac;
                let mut mine = Vec::new();
                timestamp(&mut mine, &mut numbers, micros).unwrap();
                let serde = serde_json::to_vec(&seconds(micros)).unwrap();
                assert_eq!(mine, serde, "{micros} µs");
            }
        }
    }

    proptest! {
        #[test]
        fn same_bytes_as_serde_for_long_ascii(
            payload in proptest::collection::vec(
                prop_oneof![Just(b'"'), Just(b'\\'), Just(b'\n'), Just(0x1f_u8), Just(0x7f_u8), b'a'..=b'z'],
                0..100,
            ),
        ) {
            let m = message(&payload, &[3], 1);
            prop_assert_eq!(by_hand(&m), by_serde(&m));
        }

        #[test]
        fn timestamps_as_serde_writes_them(
            micros in prop_oneof![
                0..10_000_000u64,
                (DIGITS_FOR.start - 10) * 1_000_000..(DIGITS_FOR.start + 10) * 1_000_000,
                1_000_000..(DIGITS_FOR.end + 10) * 1_000_000,
                (DIGITS_FOR.end - 10) * 1_000_000..(DIGITS_FOR.end + 10) * 1_000_000,
                1_500_000_000_000_000..1_900_000_000_000_000u64,
                any::<u64>(),
            ],
        ) {
            let mut mine = Vec::new();
            timestamp(&mut mine, &mut itoa::Buffer::new(), micros).unwrap();
            let serde = serde_json::to_string(&seconds(micros)).unwrap();
            prop_assert_eq!(String::from_utf8(mine).unwrap(), serde);
        }

        /// One `Prefixes` across messages of several conversations, directions and
        /// endpoints gives each line exactly serde's bytes.
        #[test]
        fn prefixes_kept_across_lines_change_nothing(
            picks in proptest::collection::vec((0u64..3, any::<bool>(), 0usize..3, 0usize..2), 1..40),
        ) {
            let mut prefixes = Prefixes::default();
            let clients = ["10.0.0.2:40000", "[::1]:1", "a\"b"];
            for (conv, c2s, client, proto) in picks {
                let m = MessageRef {
                    conv,
                    dir: if c2s { Dir::ClientToServer } else { Dir::ServerToClient },
                    client: clients[client],
                    proto: [labproto::Proto::V2, labproto::Proto::V3][proto],
                    ..message(b"x", &[1], 1_700_000_000_000_001)
                };
                let mut out = Vec::new();
                write_message_with(&mut out, &m, &mut prefixes).unwrap();
                prop_assert_eq!(String::from_utf8(out).unwrap(), by_serde(&m));
            }
        }

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
