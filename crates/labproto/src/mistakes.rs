//! Recognisers for the classic mistakes students make with Python's `struct`.
//!
//! - **Native alignment**: a format without `!` (or `<`, `>`, `=`) uses the C layout of
//!   the machine: `'BII20s'` pads the version byte to 4 bytes (32 bytes in all) and
//!   `'BLL20s'` on x86-64 Linux uses 8-byte longs aligned to 8 (44 bytes); both in
//!   little-endian order.
//! - **Little-endian header**: `'<BII'` writes the same 9 bytes in the wrong order,
//!   so a big-endian reader sees a huge size.
//! - **Size that disagrees with the data**: the size field says one thing, the bytes
//!   that follow say another.
//!
//! Each recogniser looks at the first message of a stream and only reports what the
//! bytes prove; `recognise` returns an empty list for well-formed messages.
//!
//! The first message alone can be ambiguous (a native `'BII'` header also reads as a
//! valid `'!BII'` one): [`stream`] reads every byte of a sender every way it may have
//! packed them and keeps the reading that explains all of them.

use crate::chain::v3_chain;
use crate::native::{bii, bii20s, bll20s};
use crate::{v2, v3, Proto};
use std::fmt;

pub mod stream;

/// A recognised `struct` mistake, with the numbers that prove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// The sender packed with native alignment (no `!`).
    NativeAlignment {
        /// The format the bytes match, e.g. `BLL20s`.
        format: &'static str,
        /// Bytes per message it produces.
        message_len: usize,
        /// Bytes per message the lab format has (29 for v2, 9-byte header for v3).
        expected_len: usize,
        /// The size field read the sender's way (little-endian).
        size: u64,
    },
    /// The header is little-endian (`'<BII'`).
    LittleEndian {
        proto: Proto,
        /// The size field read as the lab reads it (big-endian) ...
        size_big_endian: u32,
        /// ... and as the sender wrote it.
        size_little_endian: u32,
    },
    /// The size field disagrees with the payload that follows.
    SizeMismatch {
        proto: Proto,
        declared: u32,
        actual: usize,
    },
}

impl Mistake {
    /// The lab protocol the sender meant to speak.
    pub fn proto(&self) -> Proto {
        match self {
            Mistake::NativeAlignment { format, .. } if format.ends_with("20s") => Proto::V2,
            Mistake::NativeAlignment { .. } => Proto::V3,
            Mistake::LittleEndian { proto, .. } | Mistake::SizeMismatch { proto, .. } => *proto,
        }
    }

    /// A short stable identifier for programs.
    pub fn code(&self) -> &'static str {
        match self {
            Mistake::NativeAlignment { .. } => "struct_native_alignment",
            Mistake::LittleEndian { .. } => "struct_little_endian",
            Mistake::SizeMismatch { .. } => "size_mismatch",
        }
    }
}

impl fmt::Display for Mistake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mistake::NativeAlignment { format, message_len, expected_len, size } => write!(
                f,
                "these bytes match struct.pack('{format}', ...) without '!': native alignment pads fields \
                 and stores them little-endian, giving {message_len} bytes where the lab format has \
                 {expected_len} (the size field, read the sender's way, is {size}); use '!' for network byte order"
            ),
            Mistake::LittleEndian { proto, size_big_endian, size_little_endian } => write!(
                f,
                "the {proto} header looks little-endian ('<BII'): read in network byte order its size is \
                 {size_big_endian}, read little-endian it is {size_little_endian}, which fits the data; use '!' \
                 (big-endian) as the lab does"
            ),
            Mistake::SizeMismatch { proto, declared, actual } => write!(
                f,
                "the {proto} size field says {declared} bytes but {actual} bytes of payload follow"
            ),
        }
    }
}

/// Check the first message of a stream (or one datagram) for `struct` mistakes.
/// `proto` is the protocol the conversation is expected to carry, when known;
/// `at_end` says no more bytes follow `bytes`.
pub fn recognise(proto: Option<Proto>, bytes: &[u8], max_size: u32, at_end: bool) -> Vec<Mistake> {
    let mut found = Vec::new();
    if bytes.len() < v3::HEADER_LEN || bytes[0] == 0 {
        return found;
    }
    if let Some(m) = native_blll20s(bytes).or_else(|| native_bii20s(bytes)) {
        found.push(m);
        return found;
    }
    if proto != Some(Proto::V2) {
        if let Some(m) = native_bii_v3(bytes, max_size, at_end) {
            found.push(m);
            return found;
        }
    }
    if let Some(m) = little_endian(proto, bytes, max_size, at_end) {
        found.push(m);
        return found;
    }
    if let Some(m) = size_mismatch(proto, bytes, max_size, at_end) {
        found.push(m);
    }
    found
}

fn le_u32(b: &[u8]) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&b[..4]);
    u32::from_le_bytes(raw)
}

fn le_u64(b: &[u8]) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&b[..8]);
    u64::from_le_bytes(raw)
}

fn zeros(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
}

/// `struct.pack('BLL20s', ...)` on x86-64 Linux: B, 7 pad, Q order, Q size, 20s = 44 bytes.
fn native_blll20s(b: &[u8]) -> Option<Mistake> {
    if b.len() < bll20s::MESSAGE_LEN || !zeros(&b[bll20s::PADDING]) {
        return None;
    }
    let size = le_u64(&b[bll20s::SIZE]);
    let carried = (size as usize).min(v2::PAYLOAD_LEN);
    let payload = &b[bll20s::PAYLOAD];
    // A real payload must be non-empty and NUL-padded after `size` bytes.
    (size > 0 && size <= 1 << 24 && payload[0] != 0 && zeros(&payload[carried..])).then_some(
        Mistake::NativeAlignment {
            format: bll20s::FORMAT,
            message_len: bll20s::MESSAGE_LEN,
            expected_len: v2::MESSAGE_LEN,
            size,
        },
    )
}

/// `struct.pack('BII20s', ...)`: B, 3 pad, I order, I size (little-endian), 20s = 32 bytes.
fn native_bii20s(b: &[u8]) -> Option<Mistake> {
    if b.len() < bii20s::MESSAGE_LEN || !zeros(&b[bii20s::PADDING]) {
        return None;
    }
    let size = le_u32(&b[bii20s::SIZE]);
    let carried = (size as usize).min(v2::PAYLOAD_LEN);
    let payload = &b[bii20s::PAYLOAD];
    // In a correct v2 message bytes 9..12 would be the first payload bytes; here they
    // are the size's high bytes (zero) while real payload starts at byte 12.
    (size > 0
        && size <= 1 << 24
        && payload[0] != 0
        && zeros(&b[v2::field::PAYLOAD.start..bii20s::PAYLOAD.start])
        && zeros(&payload[carried..]))
    .then_some(Mistake::NativeAlignment {
        format: bii20s::FORMAT,
        message_len: bii20s::MESSAGE_LEN,
        expected_len: v2::MESSAGE_LEN,
        size: u64::from(size),
    })
}

/// `struct.pack('BII', ...) + payload`: a 12-byte little-endian header.
fn native_bii_v3(b: &[u8], max_size: u32, at_end: bool) -> Option<Mistake> {
    const HEADER: usize = bii::HEADER_LEN;
    if b.len() < HEADER || !zeros(&b[bii::PADDING]) {
        return None;
    }
    let size = le_u32(&b[bii::SIZE]);
    let big = v3::Packet::new_unchecked(b).size();
    // Read the lab's way, bytes 5..9 hold the order's high byte and the size's low
    // bytes: implausible unless tiny. Read natively, the header + size must fit.
    let fits = if at_end {
        HEADER + size as usize == b.len()
    } else {
        HEADER + size as usize <= b.len()
            && b.get(HEADER + size as usize).is_none_or(|&v| v == b[0])
    };
    (size > 0
        && size <= max_size
        && big != size
        && fits
        && b.len() > HEADER
        && b[HEADER] != 0
        && !zeros(&b[HEADER..HEADER + (size as usize).min(b.len() - HEADER)]))
    .then_some(Mistake::NativeAlignment {
        format: bii::FORMAT,
        message_len: HEADER,
        expected_len: v3::HEADER_LEN,
        size: u64::from(size),
    })
    .filter(|_| v3_chain(b, max_size).consumed != b.len() || !at_end)
}

fn little_endian(proto: Option<Proto>, b: &[u8], max_size: u32, at_end: bool) -> Option<Mistake> {
    let big = v3::Packet::new_unchecked(b).size();
    let little = le_u32(&b[v3::field::SIZE]);
    if big == little || little > max_size {
        return None;
    }
    // v2 read big-endian: sizes that are absurd for a lab message.
    if proto != Some(Proto::V3) && b.len() >= v2::MESSAGE_LEN && big > 1 << 24 {
        let carried = (little as usize).min(v2::PAYLOAD_LEN);
        if zeros(&b[v2::field::PAYLOAD.start + carried..v2::MESSAGE_LEN]) {
            return Some(Mistake::LittleEndian {
                proto: Proto::V2,
                size_big_endian: big,
                size_little_endian: little,
            });
        }
    }
    if proto != Some(Proto::V2)
        && (big > max_size || v3::HEADER_LEN as u64 + u64::from(big) > b.len() as u64 && at_end)
    {
        let end = v3::HEADER_LEN + little as usize;
        let fits = if at_end {
            end == b.len()
        } else {
            end <= b.len()
        };
        if fits {
            return Some(Mistake::LittleEndian {
                proto: Proto::V3,
                size_big_endian: big,
                size_little_endian: little,
            });
        }
    }
    None
}

fn size_mismatch(proto: Option<Proto>, b: &[u8], max_size: u32, at_end: bool) -> Option<Mistake> {
    match proto {
        Some(Proto::V2) if b.len() >= v2::MESSAGE_LEN => {
            let p = v2::Packet::new_unchecked(b);
            let field = p.payload_field();
            let used = field.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
            let declared = p.size();
            let carried = (declared as usize).min(v2::PAYLOAD_LEN);
            // Bytes after the declared size (the sender under-stated it), or NUL
            // padding where declared bytes should be (the sender over-stated it).
            let disagrees = used > declared as usize || (used > 0 && used < carried);
            disagrees.then_some(Mistake::SizeMismatch {
                proto: Proto::V2,
                declared,
                actual: used,
            })
        }
        Some(Proto::V3) if at_end => {
            let chain = v3_chain(b, max_size);
            let rest = &b[chain.consumed..];
            if rest.len() >= v3::HEADER_LEN {
                let p = v3::Packet::new_unchecked(rest);
                if p.size() <= max_size {
                    return Some(Mistake::SizeMismatch {
                        proto: Proto::V3,
                        declared: p.size(),
                        actual: rest.len() - v3::HEADER_LEN,
                    });
                }
            }
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn native_blll20s_from_python() {
        // python3 -c "import struct; print(struct.pack('BLL20s',1,7,5,b'hello').hex())"
        let b = hex("01000000000000000700000000000000050000000000000068656c6c6f000000000000000000000000000000");
        let m = recognise(Some(Proto::V2), &b, 1 << 20, true);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].code(), "struct_native_alignment");
        assert_eq!(
            m[0].to_string(),
            "these bytes match struct.pack('BLL20s', ...) without '!': native alignment pads fields and \
             stores them little-endian, giving 44 bytes where the lab format has 29 (the size field, read \
             the sender's way, is 5); use '!' for network byte order"
        );
    }

    #[test]
    fn native_bii20s_from_python() {
        // python3 -c "import struct; print(struct.pack('BII20s',1,7,5,b'hello').hex())"
        let b = hex("01000000070000000500000068656c6c6f000000000000000000000000000000");
        let m = recognise(Some(Proto::V2), &b, 1 << 20, true);
        assert!(
            matches!(
                m[..],
                [Mistake::NativeAlignment {
                    format: "BII20s",
                    message_len: 32,
                    size: 5,
                    ..
                }]
            ),
            "{m:?}"
        );
    }

    #[test]
    fn little_endian_v2_and_v3() {
        // python3 -c "import struct; print(struct.pack('<BII20s',1,7,5,b'hello').hex())"
        let b = hex("01070000000500000068656c6c6f000000000000000000000000000000");
        let m = recognise(Some(Proto::V2), &b, 1 << 20, true);
        assert_eq!(
            m,
            vec![Mistake::LittleEndian {
                proto: Proto::V2,
                size_big_endian: 0x0500_0000,
                size_little_endian: 5
            }]
        );
        // python3 -c "import struct; print((struct.pack('<BII',1,7,5)+b'hello').hex())"
        let b = hex("01070000000500000068656c6c6f");
        let m = recognise(Some(Proto::V3), &b, 1 << 20, true);
        assert_eq!(
            m,
            vec![Mistake::LittleEndian {
                proto: Proto::V3,
                size_big_endian: 0x0500_0000,
                size_little_endian: 5
            }]
        );
        assert_eq!(
            m[0].to_string(),
            "the v3 header looks little-endian ('<BII'): read in network byte order its size is 83886080, \
             read little-endian it is 5, which fits the data; use '!' (big-endian) as the lab does"
        );
    }

    #[test]
    fn v3_size_disagrees_with_data() {
        // python3 -c "import struct; print((struct.pack('!BII',1,1,10)+b'hello').hex())"
        let b = hex("01000000010000000a68656c6c6f");
        let m = recognise(Some(Proto::V3), &b, 1 << 20, true);
        assert_eq!(
            m,
            vec![Mistake::SizeMismatch {
                proto: Proto::V3,
                declared: 10,
                actual: 5
            }]
        );
        assert_eq!(
            m[0].to_string(),
            "the v3 size field says 10 bytes but 5 bytes of payload follow"
        );
    }

    #[test]
    fn correct_messages_have_no_mistakes() {
        let v2 = v2::Repr::new(1, 1, b"hello").to_bytes();
        assert_eq!(recognise(Some(Proto::V2), &v2, 1 << 20, true), vec![]);
        assert_eq!(recognise(None, &v2, 1 << 20, true), vec![]);
        let v3 = v3::Repr {
            version: 1,
            order: 1,
            payload: b"hello there",
        }
        .to_vec()
        .unwrap();
        assert_eq!(recognise(Some(Proto::V3), &v3, 1 << 20, true), vec![]);
        assert_eq!(recognise(None, &v3, 1 << 20, true), vec![]);
        let long = v2::Repr::new(1, 2, b"a message longer than twenty bytes").to_bytes();
        assert_eq!(recognise(Some(Proto::V2), &long, 1 << 20, true), vec![]);
    }
}
