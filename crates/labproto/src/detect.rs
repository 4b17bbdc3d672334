//! Heuristics for the sniffer: which protocol do the first bytes of a stream look
//! like, and where can framing safely start again after bytes went missing.
//!
//! Scores are 0–100 and explainable: each comes with the reason a learner can check.

pub use crate::chain::{v3_chain, V3Chain};
use crate::{v2, v3, Proto};

/// How plausible each protocol is for the first bytes of a stream (0–100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Plausibility {
    pub text: u8,
    pub v2: u8,
    pub v3: u8,
}

/// A protocol guess with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess {
    pub proto: Proto,
    pub score: u8,
    pub reason: String,
}

/// Score `first` (the first bytes of a stream, or one datagram) against each protocol.
/// `at_end` says the stream ended after these bytes (so a partial frame is suspicious).
pub fn plausibility(first: &[u8], max_size: u32, at_end: bool) -> Plausibility {
    Plausibility {
        text: text_score(first),
        v2: v2_score(first, at_end),
        v3: v3_score(first, max_size, at_end),
    }
}

/// The most plausible protocol, or `None` when the bytes do not decide yet
/// (too few bytes, or nothing scores at least 50).
pub fn guess(first: &[u8], max_size: u32, at_end: bool) -> Option<Guess> {
    if first.is_empty() {
        return None;
    }
    let p = plausibility(first, max_size, at_end);
    // Bytes packed with a wrong `struct` format (native alignment, little-endian)
    // fit no lab format cleanly, but the recognisers are strict enough to say which
    // protocol the sender meant; report that one, so the mistake is explained in its
    // context rather than the bytes being called text.
    if p.v2.max(p.v3) < 90 {
        if let Some(m) = crate::mistakes::recognise(None, first, max_size, at_end).first() {
            return Some(Guess {
                proto: m.proto(),
                score: 60,
                reason: format!(
                    "the bytes look like {} packed with a wrong struct format ({})",
                    m.proto(),
                    m.code()
                ),
            });
        }
    }
    // On ties prefer the stricter format: v2 (fixed length, padding checked), then v3.
    let ranked = [(Proto::V2, p.v2), (Proto::V3, p.v3), (Proto::Text, p.text)];
    let (proto, score) =
        ranked.iter().copied().fold(
            (Proto::Text, 0u8),
            |best, c| if c.1 > best.1 { c } else { best },
        );
    if score < 50 {
        return None;
    }
    let reason = match proto {
        Proto::Text => format!("{score}% of the first {} bytes are printable text", first.len()),
        Proto::V2 => format!(
            "the bytes split into 29-byte `!BII20s` records with one version byte, plausible sizes and NUL padding (v2 score {score}, v3 {}, text {})",
            p.v3, p.text
        ),
        Proto::V3 => format!(
            "the bytes chain as `!BII` headers whose size fields land exactly on the next header (v3 score {score}, v2 {}, text {})",
            p.v2, p.text
        ),
    };
    Some(Guess {
        proto,
        score,
        reason,
    })
}

fn text_score(bytes: &[u8]) -> u8 {
    if bytes.is_empty() {
        return 0;
    }
    // Lab text is typed by people: control bytes (other than tab and line ends) in the
    // first bytes mean a binary header, however printable the payload after it is.
    if bytes
        .iter()
        .take(v3::HEADER_LEN)
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return 10;
    }
    let mut good = 0usize;
    for chunk in bytes.utf8_chunks() {
        good += chunk
            .valid()
            .chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
            .map(char::len_utf8)
            .sum::<usize>();
    }
    (good * 100 / bytes.len()) as u8
}

/// Is this 29-byte record a believable v2 message? Version must match `version`
/// when given; the size must be believable; bytes after the carried payload must be NUL.
pub fn v2_record_plausible(record: &[u8], version: Option<u8>) -> bool {
    let Ok(p) = v2::Packet::new_checked(record) else {
        return false;
    };
    if version.is_some_and(|v| v != p.version()) || p.version() == 0 {
        return false;
    }
    // `20s` pads with NUL bytes: anything after the carried payload must be zero.
    let carried = p.payload().len();
    p.size() <= 1 << 24 && p.payload_field()[carried..].iter().all(|&b| b == 0)
}

fn v2_score(bytes: &[u8], at_end: bool) -> u8 {
    if bytes.len() < v2::MESSAGE_LEN {
        return if !at_end && bytes.first().is_some_and(|&v| (1..16).contains(&v)) {
            30
        } else {
            0
        };
    }
    let version = bytes[0];
    let records = bytes.len() / v2::MESSAGE_LEN;
    let all_ok = bytes
        .chunks_exact(v2::MESSAGE_LEN)
        .all(|r| v2_record_plausible(r, Some(version)));
    if !all_ok {
        return 5;
    }
    let exact = bytes.len() % v2::MESSAGE_LEN == 0;
    let mut score: u8 = 80;
    if exact {
        score += 10;
    } else if at_end {
        score -= 40;
    }
    if records >= 2
        && orders_increase(
            bytes
                .chunks_exact(v2::MESSAGE_LEN)
                .map(|r| v2::Packet::new_unchecked(r).order()),
        )
    {
        score += 10;
    }
    score
}

fn v3_score(bytes: &[u8], max_size: u32, at_end: bool) -> u8 {
    if bytes.len() < v3::HEADER_LEN {
        return if !at_end && bytes.first().is_some_and(|&v| (1..16).contains(&v)) {
            30
        } else {
            0
        };
    }
    let chain = v3_chain(bytes, max_size);
    if chain.frames == 0 {
        // One header, payload still arriving.
        let p = v3::Packet::new_unchecked(bytes);
        return if chain.oversize || at_end || p.version() == 0 {
            5
        } else {
            // A header whose size reaches past the bytes seen so far: the rest of
            // the message is still to come (a large message spans segments).
            70
        };
    }
    if !chain.same_version || chain.oversize {
        return 10;
    }
    let exact = chain.consumed == bytes.len();
    let mut score: u8 = 75;
    if exact {
        score += 15;
    } else if at_end {
        score = 30;
    }
    if chain.frames >= 2 && chain.orders_increase {
        score += 10;
    }
    score
}

fn orders_increase(mut orders: impl Iterator<Item = u32>) -> bool {
    let Some(mut last) = orders.next() else {
        return true;
    };
    orders.all(|o| {
        let ok = o == last.wrapping_add(1);
        last = o;
        ok
    })
}

/// After a gap, the first offset in `buf` where framing can provably start again:
/// `min_frames` consecutive plausible messages with `version`, or at least one that
/// ends exactly at the end of `buf` (a segment boundary). `None`: no proof yet.
pub fn resync(
    proto: Proto,
    buf: &[u8],
    version: u8,
    max_size: u32,
    min_frames: usize,
) -> Option<usize> {
    let min_frames = min_frames.max(1);
    match proto {
        Proto::Text => Some(0),
        Proto::V2 => (0..buf.len()).find(|&p| {
            let rest = &buf[p..];
            let whole = rest.len() / v2::MESSAGE_LEN;
            let ok = rest
                .chunks_exact(v2::MESSAGE_LEN)
                .take(min_frames)
                .all(|r| v2_record_plausible(r, Some(version)));
            ok && (whole >= min_frames || (whole >= 1 && rest.len() % v2::MESSAGE_LEN == 0))
        }),
        Proto::V3 => (0..buf.len()).find(|&p| {
            let rest = &buf[p..];
            if rest[0] != version {
                return false;
            }
            let chain = v3_chain(rest, max_size);
            chain.same_version
                && !chain.oversize
                && (chain.frames >= min_frames
                    || (chain.frames >= 1 && chain.consumed == rest.len()))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v3_stream(n: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 1..=n {
            let payload = format!("message number {i}");
            v3::Repr {
                version: 1,
                order: i,
                payload: payload.as_bytes(),
            }
            .emit_to_vec(&mut out)
            .unwrap();
        }
        out
    }

    #[test]
    fn guesses_each_protocol() {
        assert_eq!(
            guess(b"hello server\n", 1 << 20, true).unwrap().proto,
            Proto::Text
        );
        let v2 = [
            v2::Repr::new(1, 1, b"hello").to_bytes(),
            v2::Repr::new(1, 2, b"world, longer than twenty").to_bytes(),
        ]
        .concat();
        assert_eq!(guess(&v2, 1 << 20, true).unwrap().proto, Proto::V2);
        assert_eq!(
            guess(&v3_stream(3), 1 << 20, true).unwrap().proto,
            Proto::V3
        );
        // A lone partial v3 header is not enough to decide.
        assert_eq!(guess(&[1, 0, 0], 1 << 20, false), None);
        // The first segment of a large v3 message with a printable payload is v3.
        let big = vec![b'a'; 3000];
        let msg = v3::Repr {
            version: 1,
            order: 1,
            payload: &big,
        }
        .to_vec()
        .unwrap();
        assert_eq!(
            guess(&msg[..1000], 1 << 20, false).unwrap().proto,
            Proto::V3
        );
        // A binary header makes text implausible.
        assert!(plausibility(&msg[..1000], 1 << 20, false).text < 50);
    }

    #[test]
    fn struct_mistakes_are_guessed_as_the_protocol_meant() {
        // python3: struct.pack('BLL20s',1,7,5,b'hello') and struct.pack('<BII',1,7,5)+b'hello'
        let mut native = vec![
            1u8, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0,
        ];
        native.extend_from_slice(b"hello");
        native.resize(44, 0);
        let g = guess(&native, 1 << 20, true).unwrap();
        assert_eq!(g.proto, Proto::V2, "{g:?}");
        assert_eq!(
            g.reason,
            "the bytes look like v2 packed with a wrong struct format (struct_native_alignment)"
        );
        let mut le = vec![1u8, 7, 0, 0, 0, 5, 0, 0, 0];
        le.extend_from_slice(b"hello");
        assert_eq!(guess(&le, 1 << 20, true).unwrap().proto, Proto::V3);
    }

    #[test]
    fn resync_finds_next_boundary() {
        let stream = v3_stream(5);
        let second = v3_chain(&stream, 1 << 20);
        assert_eq!(second.frames, 5);
        // Drop the first 7 bytes: the first message is unusable, framing restarts at message 2.
        let first_len = v3::HEADER_LEN + "message number 1".len();
        let at = resync(Proto::V3, &stream[7..], 1, 1 << 20, 2).unwrap();
        assert_eq!(at + 7, first_len);
    }
}
