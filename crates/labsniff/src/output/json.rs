//! JSON lines: one event per line, fields in the order of the event structs.
//!
//! Messages (nearly every line of a capture) are written by hand from borrowed data
//! straight into the sink's block of pending lines: the same bytes serde_json writes
//! for [`Event::Message`] (tests hold the two together), without building the owned
//! event first. Every other event goes through serde.

use crate::event::{seconds, Event, MessageRef, Sink, TransportKind};
use std::io::Write;

/// Lines are gathered here and handed to the writer in blocks of about this size.
/// 1 MiB rather than 64 KiB: writing the dense bench capture's 362 MB of lines into a
/// file took 0.07 s less system time a run (median 0.171 s against 0.243 s, 30
/// rotated rounds each; 256 KiB: 0.196 s), with no change into a pipe. A live
/// capture writes out at each batch anyway ([`Sink::flush`]).
const BLOCK: usize = 1 << 20;

/// Writes each event as one JSON object on its own line.
#[derive(Debug)]
pub struct JsonSink<W: Write> {
    out: W,
    /// Live captures: write out and flush at each [`Sink::flush`] (each batch of
    /// frames), so lines appear as they happen.
    flush_each: bool,
    /// Lines not yet handed to `out` are `pending[..used]`. The rest of `pending` is
    /// initialised bytes kept from earlier blocks (zeros at first): a message is
    /// written into `pending[used..]` with slice copies, with no per-field reserve or
    /// length update and no zero-fill per line; `pending` grows only when a line's
    /// bound does not fit.
    pending: Vec<u8>,
    used: usize,
    /// Other events' lines, written by serde, before they are copied into `pending`.
    scratch: Vec<u8>,
    kept: Kept,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, flush_each: bool) -> JsonSink<W> {
        JsonSink {
            out,
            flush_each,
            pending: vec![0; BLOCK + 4096],
            used: 0,
            scratch: Vec::new(),
            kept: Kept::default(),
        }
    }

    fn line_done(&mut self, flush: bool) -> std::io::Result<()> {
        if flush {
            self.write_pending()?;
            self.out.flush()?;
        } else if self.used >= BLOCK {
            self.write_pending()?;
        }
        Ok(())
    }

    fn write_pending(&mut self) -> std::io::Result<()> {
        let result = self.out.write_all(&self.pending[..self.used]);
        self.used = 0;
        result
    }
}

impl<W: Write> Drop for JsonSink<W> {
    /// As `BufWriter`: lines still pending go out (an error here has nowhere to go).
    fn drop(&mut self) {
        if self.used > 0 {
            let _ = self.write_pending();
            let _ = self.out.flush();
        }
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        self.scratch.clear();
        super::json_event::to_writer(&mut self.scratch, &event)?;
        self.scratch.push(b'\n');
        let end = self.used + self.scratch.len();
        if self.pending.len() < end {
            self.pending.resize(end, 0);
        }
        self.pending[self.used..end].copy_from_slice(&self.scratch);
        self.used = end;
        self.line_done(matches!(event, Event::Summary(_)))
    }

    fn message(&mut self, message: &MessageRef<'_>) -> std::io::Result<()> {
        let end = write_at(&mut self.pending, self.used, message, &mut self.kept)?;
        // The line's bound leaves room for the newline.
        self.pending[end] = b'\n';
        self.used = end + 1;
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
    write_message_with(out, m, &mut Kept::default())
}

/// [`write_message`] with what is kept between lines (the line prefixes, the last
/// whole seconds) in `kept`.
pub fn write_message_with(
    out: &mut Vec<u8>,
    m: &MessageRef<'_>,
    kept: &mut Kept,
) -> std::io::Result<()> {
    let end = write_at(out, out.len(), m, kept)?;
    out.truncate(end);
    Ok(())
}

/// What the message writer keeps from one line to the next.
#[derive(Debug, Default)]
pub struct Kept {
    prefixes: Prefixes,
    seconds: Seconds,
}

/// Bytes a message line takes at most besides its prefix, payload, hex and frames:
/// the field names and punctuation after the prefix (94), `version` (4, `null`),
/// `order` and `size` (10 each), `ts` (32, see [`timestamp`]), `offset` (20) and the
/// newline a sink adds (1): 171, rounded up.
const FIXED: usize = 192;

/// Each frame number: a comma and at most 20 digits.
const PER_FRAME: usize = 21;

/// How the payload is written inside its JSON string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payload {
    /// Printable ASCII, nothing to escape: copied as it is.
    Plain,
    /// ASCII with bytes to escape (at most 6 bytes each, `\u00XX`).
    Ascii,
    /// Not ASCII: lossy UTF-8, escaped (at most 6 bytes per byte: an escape, a copied
    /// byte of a valid sequence, or U+FFFD's 3 bytes for an invalid one).
    Other,
}

impl Payload {
    fn of(bytes: &[u8]) -> Payload {
        // The usual payload is printable ASCII: one branch-free pass the compiler
        // vectorises proves it.
        if !bytes
            .iter()
            .fold(false, |any, &b| any | (b >= 0x80) | needs_escape(b))
        {
            Payload::Plain
        } else if bytes.is_ascii() {
            Payload::Ascii
        } else {
            Payload::Other
        }
    }

    fn max_len(self, len: usize) -> usize {
        match self {
            Payload::Plain => len,
            Payload::Ascii | Payload::Other => 6 * len,
        }
    }
}

/// Writes `m`'s line (no newline) at `buf[at..]`, first growing `buf` with zeros when
/// it is shorter than `at` plus the line's bound (the line plus at least one spare
/// byte); returns where the line ends. Bytes past that end are left as they are.
fn write_at(
    buf: &mut Vec<u8>,
    at: usize,
    m: &MessageRef<'_>,
    kept: &mut Kept,
) -> std::io::Result<usize> {
    let payload = Payload::of(m.payload);
    let prefix = kept.prefixes.get(m);
    let end = at
        + prefix.len()
        + FIXED
        + payload.max_len(m.payload.len())
        + 2 * m.payload.len()
        + PER_FRAME * m.frames.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    let mut line = Line {
        buf: &mut buf[at..end],
        at: 0,
    };
    line.put(prefix);
    line.optional(m.version.map(u64::from));
    line.put(b",\"order\":");
    line.optional(m.order.map(u64::from));
    line.put(b",\"size\":");
    line.optional(m.size.map(u64::from));
    line.put(b",\"payload\":\"");
    match payload {
        Payload::Plain => line.put(m.payload),
        Payload::Ascii => escaped(&mut line, m.payload),
        Payload::Other => lossy(&mut line, m.payload),
    }
    line.put(b"\",\"payload_hex\":\"");
    line.hex(m.payload);
    line.put(if m.truncated {
        b"\",\"truncated\":true,\"frames\":["
    } else {
        b"\",\"truncated\":false,\"frames\":["
    });
    if let Some((first, rest)) = m.frames.split_first() {
        line.number(*first);
        for frame in rest {
            line.byte(b',');
            line.number(*frame);
        }
    }
    line.put(b"],\"ts\":");
    timestamp(&mut line, &mut kept.seconds, m.ts_micros)?;
    line.put(b",\"offset\":");
    line.optional(m.offset);
    line.byte(b'}');
    Ok(at + line.at)
}

/// A line written into bytes that are already there, from `at` on: each piece is
/// one slice copy (constant pieces become a few stores), with no capacity check or
/// length update of a `Vec`. Its writer sized `buf` for the line's bound: a piece
/// past the end would panic, not grow it.
struct Line<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Line<'_> {
    /// `n` in decimal, as itoa writes it. Writes up to 7 bytes past the digits
    /// (the line's bound leaves room: no number is a line's last piece).
    #[inline(always)]
    fn number(&mut self, n: u64) {
        if n < 10 {
            self.byte(b'0' + n as u8);
        } else if n < 100 {
            self.put(&DECIMAL_PAIRS[n as usize]);
        } else if n < 100_000_000 {
            self.leading(n as u32);
        } else {
            self.number_wide(n);
        }
    }

    /// `n` of 9 to 20 digits: its leading part, then blocks of 8 digits.
    #[cold]
    fn number_wide(&mut self, n: u64) {
        let (high, low) = (n / 100_000_000, (n % 100_000_000) as u32);
        if high < 100_000_000 {
            self.leading(high as u32);
        } else {
            self.leading((high / 100_000_000) as u32);
            self.eight((high % 100_000_000) as u32);
        }
        self.eight(low);
    }

    /// `1 <= n < 10^8` without leading zeros: written as 8 digits in one store, the
    /// line advancing past the ones that are not leading zeros.
    #[inline]
    fn leading(&mut self, n: u32) {
        let digits = eight_digits(n);
        // Leading zeros are the low bytes (the first in memory) that are 0.
        let zeros = digits.trailing_zeros() / 8;
        self.store8(ZEROS_ASCII + (digits >> (8 * zeros)), 8 - zeros as usize);
    }

    /// `n < 10^8` as 8 digits, with leading zeros.
    #[inline]
    fn eight(&mut self, n: u32) {
        self.store8(ZEROS_ASCII + eight_digits(n), 8);
    }

    /// Stores 8 bytes (`word`'s, little-endian) and advances by `len`.
    #[inline]
    fn store8(&mut self, word: u64, len: usize) {
        let at = self.at;
        self.buf[at..at + 8].copy_from_slice(&word.to_le_bytes());
        self.at = at + len;
    }

    #[inline(always)]
    fn optional(&mut self, value: Option<u64>) {
        match value {
            Some(n) => self.number(n),
            None => self.put(b"null"),
        }
    }

    /// Two lower-case hex digits per byte, written in place by table, 8 bytes per
    /// round of the loop: about 3.6 instructions a byte, against 4.5 a byte at a time.
    /// (Computing the digits 16 bytes at a time, which the compiler vectorises with
    /// SSE2, came out no better: 3.75 a byte, and worse written as 16-bit lanes.)
    fn hex(&mut self, bytes: &[u8]) {
        let end = self.at + 2 * bytes.len();
        let out = &mut self.buf[self.at..end];
        let mut outs = out.chunks_exact_mut(16);
        let mut ins = bytes.chunks_exact(8);
        for (out, bytes) in (&mut outs).zip(&mut ins) {
            for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
                pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
            }
        }
        for (pair, &b) in outs
            .into_remainder()
            .chunks_exact_mut(2)
            .zip(ins.remainder())
        {
            pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
        }
        self.at = end;
    }
}

/// Where escaped text goes: a line being written, or a growing `Vec` (a prefix).
trait Put {
    fn put(&mut self, bytes: &[u8]);
    fn byte(&mut self, b: u8);
}

impl Put for Line<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        self.buf[self.at..end].copy_from_slice(bytes);
        self.at = end;
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        self.buf[self.at] = b;
        self.at += 1;
    }
}

impl Put for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn byte(&mut self, b: u8) {
        self.push(b);
    }
}

/// Eight `b'0'`s: added to [`eight_digits`]' values, the digits as text.
const ZEROS_ASCII: u64 = 0x3030_3030_3030_3030;

/// `n < 10^8` as its 8 decimal digits (with leading zeros), one per byte as the
/// values 0 to 9, the most significant digit in the low byte (first in memory once
/// stored little-endian). Splits into two 4-digit halves, each into two 2-digit
/// quarters, each into digits, all halves (then quarters) at once in one `u64`:
/// multiplications by reciprocals (10,486 / 2^20 is 1/100 and 103 / 2^10 is 1/10 over
/// the ranges here), as in Lemire's "Converting integers to fixed-digit
/// representations quickly" (2021). The two halves never carry into each other (a
/// half times 10,486 is under 2^27), so a test checks every value of each half.
#[inline]
fn eight_digits(n: u32) -> u64 {
    let halves = u64::from(n / 10_000) | (u64::from(n % 10_000) << 32);
    let hundreds = ((halves * 10_486) >> 20) & ((0x7f << 32) | 0x7f);
    let quarters = ((halves - 100 * hundreds) << 16) + hundreds;
    let tens = ((quarters * 103) >> 10) & ((0xf << 48) | (0xf << 32) | (0xf << 16) | 0xf);
    tens + ((quarters - 10 * tens) << 8)
}

/// `00` to `99`.
const DECIMAL_PAIRS: [[u8; 2]; 100] = {
    let mut table = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        table[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    table
};

/// The text every message line of one conversation and direction starts with, up to
/// `"version":`: the same for each of that conversation's messages, so it is rendered
/// once per conversation and direction instead of once per line. A lab capture
/// interleaves many conversations (the bench capture: 5,000 at once), so the texts
/// are kept by conversation, up to [`PREFIXES_KEPT`] at a time: in sets of two,
/// indexed by the conversation number (modulo the sets per direction) and the
/// direction, so finding one is an index and a compare, not a hash lookup.
/// Conversation numbers count up from 1, so two open conversations share a set only
/// if [`PREFIX_SETS`] or more conversations started during the older one's life, and
/// only a third one in the set replaces a kept prefix (the one used less recently).
#[derive(Debug, Default)]
struct Prefixes {
    /// The set of conversation `c`, direction `d` is `sets[2 * (c % PREFIX_SETS) + d]`,
    /// its prefix used last first. Grown as conversation numbers come.
    sets: Vec<[Option<Prefix>; 2]>,
}

/// Prefixes kept at most (a bound on memory).
pub const PREFIXES_KEPT: usize = 16_384;

/// Sets of two prefixes per direction.
const PREFIX_SETS: u64 = PREFIXES_KEPT as u64 / 4;

#[derive(Debug)]
struct Prefix {
    conv: u64,
    transport: TransportKind,
    proto: labproto::Proto,
    client: String,
    server: String,
    text: Vec<u8>,
}

impl Prefix {
    fn is_for(&self, m: &MessageRef<'_>) -> bool {
        self.conv == m.conv
            && self.transport == m.transport
            && self.proto == m.proto
            && same(self.client.as_bytes(), m.client.as_bytes())
            && same(self.server.as_bytes(), m.server.as_bytes())
    }

    fn new(m: &MessageRef<'_>) -> Prefix {
        let mut text = Vec::with_capacity(96 + m.client.len() + m.server.len());
        text.put(b"{\"type\":\"message\",\"conv\":");
        text.put(itoa::Buffer::new().format(m.conv).as_bytes());
        text.put(b",\"transport\":\"");
        text.put(m.transport.as_str().as_bytes());
        text.put(b"\",\"proto\":");
        string(&mut text, m.proto.as_str().as_bytes());
        text.put(b",\"dir\":\"");
        text.put(m.dir.as_str().as_bytes());
        text.put(b"\",\"client\":");
        string(&mut text, m.client.as_bytes());
        text.put(b",\"server\":");
        string(&mut text, m.server.as_bytes());
        text.put(b",\"version\":");
        Prefix {
            conv: m.conv,
            transport: m.transport,
            proto: m.proto,
            client: m.client.to_string(),
            server: m.server.to_string(),
            text,
        }
    }
}

/// `a == b`, inline for the 8 to 64 bytes of an address and port: 8 bytes at a time
/// (the last word ending at the end), where two calls of `memcmp` per line cost
/// about 20 instructions each.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if !(8..=64).contains(&a.len()) {
        return a == b;
    }
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_ne_bytes(w)
    };
    let last = a.len() - 8;
    let mut diff = word(a, last) ^ word(b, last);
    let mut at = 0;
    while at < last {
        diff |= word(a, at) ^ word(b, at);
        at += 8;
    }
    diff == 0
}

impl Prefixes {
    /// The prefix of `m`'s line, rendered now if it is not kept (a conversation's
    /// prefix is only taken with the same conversation number, transport, protocol and
    /// endpoints: the number alone is not trusted).
    fn get(&mut self, m: &MessageRef<'_>) -> &[u8] {
        let index = 2 * (m.conv % PREFIX_SETS) as usize + m.dir.index();
        if index >= self.sets.len() {
            self.sets.resize_with(index + 1, Default::default);
        }
        let set = &mut self.sets[index];
        let is_for = |kept: &Option<Prefix>| kept.as_ref().is_some_and(|p| p.is_for(m));
        if !is_for(&set[0]) {
            // The other is `m`'s, or the one to replace: used less recently either way.
            set.swap(0, 1);
            if !is_for(&set[0]) {
                set[0] = Some(Prefix::new(m));
            }
        }
        set[0].as_ref().map_or(&[], |p| &p.text)
    }
}

/// The last timestamp's whole seconds as [`timestamp`] writes them, with the point:
/// consecutive lines mostly fall in the same second.
#[derive(Debug, Default)]
struct Seconds {
    /// 0 at first: outside [`DIGITS_FOR`], so never looked up.
    secs: u64,
    /// The digits and the point, then zeros: copied whole (one 16-byte store), the
    /// line advancing by `len`.
    text: [u8; 16],
    len: usize,
}

impl Seconds {
    fn set(&mut self, secs: u64) {
        let mut line = Line {
            buf: &mut self.text,
            at: 0,
        };
        line.number(secs);
        let len = line.at;
        self.text[len..].fill(0);
        self.text[len] = b'.';
        self.len = len + 1;
        self.secs = secs;
    }
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
/// written from the integer in [`DIGITS_FOR`] (the whole seconds from `kept` when
/// they are the last line's), through serde_json otherwise. Writes at most 19 bytes
/// from where it starts and keeps at most 17 (`4294967295.999999`), or serde's text
/// (under 25): within the 32 the line's bound gives it.
fn timestamp(line: &mut Line<'_>, kept: &mut Seconds, micros: u64) -> std::io::Result<()> {
    let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
    if !DIGITS_FOR.contains(&secs) {
        let mut text = [0u8; 32];
        let mut rest = &mut text[..];
        serde_json::to_writer(&mut rest, &seconds(micros))?;
        let len = 32 - rest.len();
        line.put(&text[..len]);
        return Ok(());
    }
    if kept.secs != secs {
        kept.set(secs);
    }
    let at = line.at;
    line.buf[at..at + 16].copy_from_slice(&kept.text);
    line.at += kept.len;
    if frac == 0 {
        line.byte(b'0');
        return Ok(());
    }
    // Six digits (the 8 of `frac`, the two leading zeros shifted out); the line ends
    // after the last that is not a trailing zero (the high bytes that are 0).
    let digits = eight_digits(frac as u32) >> 16;
    let len = 8 - digits.leading_zeros() as usize / 8;
    line.store8(ZEROS_ASCII + digits, len);
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
fn lossy(out: &mut impl Put, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        escaped(out, chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            out.put("\u{FFFD}".as_bytes());
        }
    }
}

fn string(out: &mut impl Put, utf8: &[u8]) {
    out.byte(b'"');
    escaped(out, utf8);
    out.byte(b'"');
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
fn escaped(out: &mut impl Put, utf8: &[u8]) {
    // Nothing to escape is the usual case: one branch-free pass the compiler
    // vectorises, then one copy.
    if !utf8.iter().fold(false, |any, &b| any | needs_escape(b)) {
        out.put(utf8);
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
        out.put(&utf8[start..i]);
        if escape == b'u' {
            out.put(b"\\u00");
            out.byte(HEX[usize::from(b >> 4)]);
            out.byte(HEX[usize::from(b & 15)]);
        } else {
            out.byte(b'\\');
            out.byte(escape);
        }
        i += 1;
        start = i;
    }
    out.put(&utf8[start..]);
}

#[inline]
fn needs_escape(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\')
}

#[cfg(test)]
mod tests;
