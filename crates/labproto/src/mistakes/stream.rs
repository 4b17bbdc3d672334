//! Judging a sender's bytes as a whole: every way a student may have packed the
//! lab's messages (the lab's `!`, native alignment, little-endian, a wrong `20s`
//! length, no padding at all, a wrong size field, plain text) is read over ALL the
//! bytes received, and the reading that explains all of them wins, with its
//! evidence: where each message starts and the fields it decodes to.
//!
//! The first message alone often cannot decide: `struct.pack('BII', 1, 1, 5) +
//! b'hello'` (12-byte native header) also reads as a valid `'!BII'` header (version 1,
//! order 1, size 5) followed by `"\0\0\0he"`, leaving `"llo"`. Only the bytes after
//! it say which reading is true.
//!
//! Field offsets come from [`crate::v2::field`], [`crate::v3::field`] and
//! [`crate::native`]; nothing here restates them.

use crate::native::{bii, bii20s, bll20s};
use crate::{text, v2, v3, Proto};
use std::fmt::Write as _;
use std::ops::Range;

/// How the sender packed its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Packing {
    /// The lab's own format: `'!BII20s'` (v2) or `'!BII'` + payload (v3).
    Lab(Proto),
    /// `'BII'` + payload: native alignment, a 12-byte little-endian header.
    NativeBii,
    /// `'BII20s'`: native alignment, 32 bytes, little-endian.
    NativeBii20s,
    /// `'BLL20s'` on x86-64 Linux: 44 bytes, little-endian.
    NativeBll20s,
    /// `'<BII'` + payload (`'=BII'` gives the same bytes on a little-endian machine).
    LittleBii,
    /// `'<BII20s'` (or `'=BII20s'`).
    LittleBii20s,
    /// `'!BII{n}s'` with n ≠ 20: v2 with a payload field of the wrong length.
    V2PayloadLen(u8),
    /// A v2 sender that packs `'!BII'` + payload: no padding of the payload to 20 bytes.
    V2Unpadded,
    /// The lab's v3 header, but its size field is not the number of payload bytes
    /// that follow (each message found by the next header: same version, next order).
    V3SizeField,
    /// No `struct` at all: text.
    Text,
}

/// Where the fields sit, for the packings that have a fixed geometry.
#[derive(Debug, Clone)]
struct Geometry {
    header: usize,
    padding: Range<usize>,
    order: Range<usize>,
    size: Range<usize>,
    little: bool,
    /// Fixed-size messages (v2-like) have this many bytes; None: header + size.
    fixed: Option<usize>,
}

impl Packing {
    /// Every packing worth trying for a sender that should speak `proto`, the lab's
    /// first (it wins ties).
    pub fn candidates(proto: Proto) -> Vec<Packing> {
        match proto {
            Proto::V3 => vec![
                Packing::Lab(Proto::V3),
                Packing::NativeBii,
                Packing::LittleBii,
                Packing::V3SizeField,
                Packing::Text,
            ],
            Proto::V2 => {
                let mut all = vec![
                    Packing::Lab(Proto::V2),
                    Packing::NativeBii20s,
                    Packing::NativeBll20s,
                    Packing::LittleBii20s,
                    Packing::V2Unpadded,
                ];
                all.extend(
                    (1..=MAX_WRONG_PAYLOAD_LEN)
                        .filter(|&n| usize::from(n) != v2::PAYLOAD_LEN)
                        .map(Packing::V2PayloadLen),
                );
                all.push(Packing::Text);
                all
            }
            Proto::Text => vec![Packing::Text],
        }
    }

    /// The lab's own format.
    pub fn is_lab(self) -> bool {
        matches!(self, Packing::Lab(_))
    }

    /// The format, as the student would have written it.
    pub fn format(self) -> String {
        match self {
            Packing::Lab(Proto::V2) => "'!BII20s'".into(),
            Packing::Lab(_) => "'!BII' + payload".into(),
            Packing::NativeBii => format!("'{}' + payload", bii::FORMAT),
            Packing::NativeBii20s => format!("'{}'", bii20s::FORMAT),
            Packing::NativeBll20s => format!("'{}'", bll20s::FORMAT),
            Packing::LittleBii => "'<BII' + payload (or '=BII': the same bytes)".into(),
            Packing::LittleBii20s => "'<BII20s' (or '=BII20s': the same bytes)".into(),
            Packing::V2PayloadLen(n) => format!("'!BII{n}s'"),
            Packing::V2Unpadded => "'!BII' + payload, not padded to 20 bytes".into(),
            Packing::V3SizeField => "'!BII' + payload with a wrong size field".into(),
            Packing::Text => "text (no struct.pack)".into(),
        }
    }

    /// Where the fields sit, in words.
    pub fn layout(self) -> String {
        let Some(g) = self.geometry() else {
            return match self {
                Packing::V3SizeField => "a 9-byte big-endian header (version at byte 0, order \
                                         1..5, size 5..9), then the payload up to the next header"
                    .into(),
                _ => "printable text, no header".into(),
            };
        };
        let order = if g.little {
            "little-endian"
        } else {
            "big-endian"
        };
        let pad = if g.padding.is_empty() {
            String::new()
        } else {
            format!(", padding {:?} zero", g.padding)
        };
        let rest = match g.fixed {
            Some(n) => format!("{} payload bytes, {n} bytes per message", n - g.header),
            None => "then size payload bytes".into(),
        };
        format!(
            "a {}-byte {order} header (version at byte 0{pad}, order {:?}, size {:?}), {rest}",
            g.header, g.order, g.size
        )
    }

    /// The one change that makes the sender's bytes the lab's.
    pub fn fix(self) -> String {
        let lab = |p: Proto| match p {
            Proto::V2 => "struct.pack('!BII20s', version, order, size, payload)",
            _ => "struct.pack('!BII', version, order, size) + payload",
        };
        match self {
            Packing::Lab(_) => String::new(),
            Packing::NativeBii | Packing::LittleBii => format!(
                "write the format as '!BII' (add '!'): use {}; '!' means network byte order \
                 (big-endian) and no padding",
                lab(Proto::V3)
            ),
            Packing::NativeBii20s | Packing::NativeBll20s | Packing::LittleBii20s => format!(
                "write the format as '!BII20s' (add '!'): use {}; '!' means network byte order \
                 (big-endian) and no padding",
                lab(Proto::V2)
            ),
            Packing::V2PayloadLen(n) => format!(
                "write the format as '!BII20s' (20s, not {n}s): use {}; every message is 29 bytes",
                lab(Proto::V2)
            ),
            Packing::V2Unpadded => format!(
                "pack with the fixed format '!BII20s': use {}; it pads every payload to 20 \
                 bytes, 29 bytes per message",
                lab(Proto::V2)
            ),
            Packing::V3SizeField => "put the payload's length in bytes in the size field: \
                                     payload = text.encode(), then len(payload)"
                .into(),
            Packing::Text => "pack each message: use struct.pack('!BII', version, order, size) \
                              + payload (v3) or struct.pack('!BII20s', ...) (v2)"
                .into(),
        }
    }

    fn geometry(self) -> Option<Geometry> {
        let lab3 = Geometry {
            header: v3::HEADER_LEN,
            padding: 0..0,
            order: v3::field::ORDER,
            size: v3::field::SIZE,
            little: false,
            fixed: None,
        };
        let lab2 = Geometry {
            header: v2::field::PAYLOAD.start,
            padding: 0..0,
            order: v2::field::ORDER,
            size: v2::field::SIZE,
            little: false,
            fixed: Some(v2::MESSAGE_LEN),
        };
        Some(match self {
            Packing::Lab(Proto::V2) => lab2,
            Packing::Lab(_) | Packing::V2Unpadded => lab3,
            Packing::NativeBii => Geometry {
                header: bii::HEADER_LEN,
                padding: bii::PADDING,
                order: bii::ORDER,
                size: bii::SIZE,
                little: true,
                fixed: None,
            },
            Packing::NativeBii20s => Geometry {
                header: bii20s::PAYLOAD.start,
                padding: bii20s::PADDING,
                order: bii20s::ORDER,
                size: bii20s::SIZE,
                little: true,
                fixed: Some(bii20s::MESSAGE_LEN),
            },
            Packing::NativeBll20s => Geometry {
                header: bll20s::PAYLOAD.start,
                padding: bll20s::PADDING,
                order: bll20s::ORDER,
                size: bll20s::SIZE,
                little: true,
                fixed: Some(bll20s::MESSAGE_LEN),
            },
            Packing::LittleBii => Geometry {
                little: true,
                ..lab3
            },
            Packing::LittleBii20s => Geometry {
                little: true,
                ..lab2
            },
            Packing::V2PayloadLen(n) => Geometry {
                fixed: Some(v2::field::PAYLOAD.start + usize::from(n)),
                ..lab2
            },
            Packing::V3SizeField | Packing::Text => return None,
        })
    }
}

/// The longest wrong `20s` tried (`'!BII64s'`).
const MAX_WRONG_PAYLOAD_LEN: u8 = 64;

/// One message as a packing reads it; offsets are into the whole stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Where it starts.
    pub offset: usize,
    /// Bytes it covers.
    pub len: usize,
    pub version: u8,
    pub order: u64,
    /// The size field.
    pub size: u64,
    /// The payload bytes (fixed layouts: the whole field, NUL padding included).
    pub payload: Range<usize>,
    /// Payload bytes used: fixed layouts up to the last non-NUL byte, else all.
    pub used: usize,
}

/// One packing read over the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub packing: Packing,
    /// Whole messages, from byte 0.
    pub messages: Vec<Decoded>,
    /// Bytes they cover.
    pub consumed: usize,
    /// Bytes received in all.
    pub total: usize,
    /// Where and why this reading cannot go on (None: every byte read fits it, a
    /// partial message at the end included when the stream has not ended).
    pub stop: Option<String>,
    /// Messages whose order is not the previous one's + 1, or whose payload starts
    /// with a NUL byte: possible, but each makes this reading less likely.
    pub anomalies: usize,
}

impl Reading {
    /// Every byte is a whole message of this packing, none left over.
    pub fn explains_all(&self) -> bool {
        self.stop.is_none() && self.consumed == self.total && self.total > 0
    }

    /// The bytes read so far fit (a partial last message allowed).
    pub fn consistent(&self) -> bool {
        self.stop.is_none() && self.total > 0
    }

    /// The first `max` messages, decoded, for evidence.
    pub fn evidence(&self, bytes: &[u8], max: usize) -> String {
        let mut out = String::new();
        for (i, m) in self.messages.iter().take(max).enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            let payload = bytes.get(m.payload.start..m.payload.start + m.used);
            let shown = payload.map_or(&[][..], |p| &p[..p.len().min(24)]);
            let _ = write!(
                out,
                "message {} at byte {}: version {}, order {}, size {}, payload \"{}\"{}",
                i + 1,
                m.offset,
                m.version,
                m.order,
                m.size,
                text::escape(shown),
                if m.used > shown.len() { "…" } else { "" }
            );
        }
        if self.messages.len() > max {
            let _ = write!(out, "; {} more", self.messages.len() - max);
        }
        out
    }

    /// How the reading ends: every byte explained, or where it breaks.
    pub fn ending(&self) -> String {
        match &self.stop {
            Some(why) => why.clone(),
            None if self.consumed == self.total => format!(
                "all {} bytes are {} whole message{}",
                self.total,
                self.messages.len(),
                if self.messages.len() == 1 { "" } else { "s" }
            ),
            None => format!(
                "the last {} bytes (from byte {}) are an unfinished message",
                self.total - self.consumed,
                self.consumed
            ),
        }
    }
}

/// Read `bytes` every way a sender of `proto` may have packed them; best first. At
/// the end of the stream (`at_end`) a partial last message counts against a reading.
/// The best reading explains all bytes if any does; the lab's wins when it does.
pub fn judge(proto: Proto, bytes: &[u8], max_size: u32, at_end: bool) -> Vec<Reading> {
    let mut all: Vec<(usize, Reading)> = Packing::candidates(proto)
        .into_iter()
        .map(|p| read(p, bytes, max_size, at_end))
        .enumerate()
        .collect();
    all.sort_by_key(|(index, r)| {
        (
            !r.explains_all(),
            !r.consistent(),
            !r.packing.is_lab(),
            r.anomalies,
            std::cmp::Reverse(r.messages.len()),
            *index,
        )
    });
    all.into_iter().map(|(_, r)| r).collect()
}

/// Read `bytes` as `packing` packs them.
pub fn read(packing: Packing, bytes: &[u8], max_size: u32, at_end: bool) -> Reading {
    let mut r = match (packing, packing.geometry()) {
        (_, Some(g)) => walk(packing, &g, bytes, u64::from(max_size)),
        (Packing::V3SizeField, None) => by_next_header(bytes, max_size, at_end),
        _ => as_text(bytes),
    };
    if at_end && r.stop.is_none() && r.consumed < r.total {
        r.stop = Some(format!(
            "the last {} bytes (from byte {}) are an unfinished message: the stream ended",
            r.total - r.consumed,
            r.consumed
        ));
    }
    if packing == Packing::V2Unpadded
        && !r.messages.is_empty()
        && r.messages.iter().all(|m| m.len == v2::MESSAGE_LEN)
    {
        // Every message is 29 bytes: that is the lab's v2, not a missing padding.
        r.stop
            .get_or_insert_with(|| "every message is 29 bytes: nothing is unpadded".into());
    }
    if r.total == 0 {
        r.stop.get_or_insert_with(|| "no bytes".into());
    }
    r
}

fn field(b: &[u8], range: Range<usize>, little: bool) -> u64 {
    let fold = |acc: u64, &x: &u8| (acc << 8) | u64::from(x);
    let bytes = b.get(range).unwrap_or(&[]);
    if little {
        bytes.iter().rev().fold(0, fold)
    } else {
        bytes.iter().fold(0, fold)
    }
}

fn empty(packing: Packing, bytes: &[u8]) -> Reading {
    Reading {
        packing,
        messages: Vec::new(),
        consumed: 0,
        total: bytes.len(),
        stop: None,
        anomalies: 0,
    }
}

/// Follow a fixed geometry from byte 0. Each step consumes at least one header, so
/// the loop runs at most `bytes.len()` times.
fn walk(packing: Packing, g: &Geometry, bytes: &[u8], max_size: u64) -> Reading {
    let mut r = empty(packing, bytes);
    let Some(&version) = bytes.first() else {
        return r;
    };
    if version == 0 {
        r.stop = Some("byte 0 (the version byte) is 0".into());
        return r;
    }
    while r.consumed < bytes.len() {
        let at = r.consumed;
        let rest = &bytes[at..];
        if rest[0] != version {
            r.stop = Some(format!(
                "byte {at} holds {:#04x} where message {}'s version byte ({version:#04x}) \
                 should be",
                rest[0],
                r.messages.len() + 1
            ));
            break;
        }
        let pad = &rest[g.padding.start.min(rest.len())..g.padding.end.min(rest.len())];
        if let Some(i) = pad.iter().position(|&x| x != 0) {
            r.stop = Some(format!(
                "byte {} holds {:#04x} where a padding byte (0) should be",
                at + g.padding.start + i,
                pad[i]
            ));
            break;
        }
        if rest.len() < g.header {
            break;
        }
        let size = field(rest, g.size.clone(), g.little);
        if size > max_size {
            r.stop = Some(format!(
                "message {} at byte {at}: bytes {}..{} read as the size field give {size}, over \
                 the {max_size}-byte limit",
                r.messages.len() + 1,
                at + g.size.start,
                at + g.size.end
            ));
            break;
        }
        let len = g.fixed.unwrap_or(g.header + size as usize);
        if rest.len() < len {
            break;
        }
        let order = field(rest, g.order.clone(), g.little);
        let payload = &rest[g.header..len];
        let used = match g.fixed {
            Some(_) => payload.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1),
            None => payload.len(),
        };
        let follows = r
            .messages
            .last()
            .is_none_or(|m| m.order.wrapping_add(1) == order);
        if !follows || (size > 0 && payload.first() == Some(&0)) {
            r.anomalies += 1;
        }
        r.messages.push(Decoded {
            offset: at,
            len,
            version,
            order,
            size,
            payload: at + g.header..at + len,
            used,
        });
        r.consumed += len;
    }
    r
}

/// v3 headers found one after the other (same version, order + 1); each message runs
/// to the next header (or the end). A reading only when some size field disagrees
/// with the payload that follows; the search visits each byte once.
fn by_next_header(bytes: &[u8], max_size: u32, at_end: bool) -> Reading {
    let mut r = empty(Packing::V3SizeField, bytes);
    let Some(&version) = bytes.first() else {
        return r;
    };
    let header_at = |p: usize, order: u32| -> bool {
        v3::Packet::new_checked(&bytes[p..])
            .is_ok_and(|h| h.version() == version && h.order() == order && h.size() <= max_size)
    };
    let Some(first) = v3::Packet::new_checked(bytes).ok() else {
        return r;
    };
    if version == 0 || first.size() > max_size {
        r.stop = Some("byte 0 does not start a v3 header".into());
        return r;
    }
    let mut disagree = 0;
    while r.consumed < bytes.len() {
        let at = r.consumed;
        let Ok(h) = v3::Packet::new_checked(&bytes[at..]) else {
            break;
        };
        let next =
            (at + v3::HEADER_LEN..bytes.len()).find(|&p| header_at(p, h.order().wrapping_add(1)));
        let end = match next {
            Some(p) => p,
            None if at_end => bytes.len(),
            None => break,
        };
        let actual = end - at - v3::HEADER_LEN;
        if actual as u64 != u64::from(h.size()) {
            disagree += 1;
        }
        r.messages.push(Decoded {
            offset: at,
            len: end - at,
            version,
            order: u64::from(h.order()),
            size: u64::from(h.size()),
            payload: at + v3::HEADER_LEN..end,
            used: actual,
        });
        r.consumed = end;
    }
    if disagree == 0 {
        r.stop = Some("every size field matches its payload".into());
    }
    r
}

/// The whole stream as text: valid UTF-8, no control characters but line ends and
/// tabs (a lab header always holds some: its order and size have zero high bytes).
fn as_text(bytes: &[u8]) -> Reading {
    let mut r = empty(Packing::Text, bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            r.stop = Some(format!("byte {} is not UTF-8 text", e.valid_up_to()));
            return r;
        }
    };
    if let Some((at, c)) = text
        .char_indices()
        .find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        r.stop = Some(format!(
            "byte {at} holds {:#04x}, not printable text",
            u32::from(c)
        ));
        return r;
    }
    r.messages.push(Decoded {
        offset: 0,
        len: bytes.len(),
        version: 0,
        order: 0,
        size: bytes.len() as u64,
        payload: 0..bytes.len(),
        used: bytes.len(),
    });
    r.consumed = bytes.len();
    r
}

#[cfg(test)]
mod tests;
