//! Target `framer`: labproto's framers fed one stream in arbitrary chunks, and the
//! detection heuristics and `struct`-mistake recognisers fed the same bytes.
//!
//! Input layout:
//! ```text
//! [proto: u8 % 3 -> text, v2, v3] [max_size: u16 BE, 0xffff = DEFAULT_MAX_SIZE]
//! [n: u8 % 16] [n chunk lengths: u8 each, used in turn] [stream bytes ...]
//! ```
//! A small max_size is deliberate: it makes the "size over the limit" path reachable.

use crate::reader::Reader;
use labproto::detect::{self, Plausibility};
use labproto::framer::decoder_for;
use labproto::{mistakes, v2, v3, Error, Framer, Message, Part, Proto};

const PROTOS: [Proto; 3] = [Proto::Text, Proto::V2, Proto::V3];

/// One decoded fuzz input.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    pub proto: Proto,
    pub max_size: u32,
    /// Chunk lengths, used in turn; empty means one push of the whole stream.
    pub splits: &'a [u8],
    pub stream: &'a [u8],
}

impl<'a> Case<'a> {
    pub fn decode(input: &'a [u8]) -> Case<'a> {
        let mut r = Reader::new(input);
        let proto = PROTOS[usize::from(r.u8() % 3)];
        let max_size = match r.u16() {
            u16::MAX => labproto::DEFAULT_MAX_SIZE,
            small => u32::from(small),
        };
        let n = usize::from(r.u8() % 16);
        let splits = r.bytes(n);
        Case {
            proto,
            max_size,
            splits,
            stream: r.rest(),
        }
    }
}

/// The input bytes for a case (what `bin/seeds.rs` writes).
pub fn encode(proto: Proto, max_size: u16, splits: &[u8], stream: &[u8]) -> Vec<u8> {
    let mut out = vec![match proto {
        Proto::Text => 0,
        Proto::V2 => 1,
        Proto::V3 => 2,
    }];
    out.extend_from_slice(&max_size.to_be_bytes());
    let splits = &splits[..splits.len().min(15)];
    out.push(splits.len() as u8);
    out.extend_from_slice(splits);
    out.extend_from_slice(stream);
    out
}

pub fn check(input: &[u8]) {
    let case = Case::decode(input);
    check_detectors(case.stream, case.max_size);
    let whole = run_framer(&case, &[]);
    let chunked = run_framer(&case, case.splits);
    if case.proto == Proto::Text {
        // Text frames are the chunks pushed; only their concatenation is fixed.
        let join = |o: &Outcome| {
            o.frames
                .iter()
                .flat_map(|f| f.1.clone())
                .collect::<Vec<u8>>()
        };
        assert_eq!(join(&whole), join(&chunked), "text frames differ by split");
        assert_eq!(join(&whole), case.stream, "text frames are not the stream");
    } else {
        // Frames up to the first error are the same whatever the split; after an
        // error, where resync finds a start depends on the bytes available then.
        assert_eq!(
            whole.before_error(),
            chunked.before_error(),
            "frames differ between one push and chunks {:?}",
            case.splits
        );
        assert_eq!(
            whole.first_error, chunked.first_error,
            "first errors differ"
        );
    }
}

#[derive(Debug, Default)]
struct Outcome {
    frames: Vec<(u64, Vec<u8>)>,
    first_error: Option<(usize, Error)>,
}

impl Outcome {
    fn before_error(&self) -> &[(u64, Vec<u8>)] {
        let n = self.first_error.as_ref().map_or(self.frames.len(), |e| e.0);
        &self.frames[..n]
    }
}

/// Chunks of `stream` with lengths taken from `splits` in turn (a 0 pushes nothing;
/// when every length is 0, the stream follows in one push after one round of them).
fn chunks<'a>(stream: &'a [u8], splits: &[u8]) -> Vec<&'a [u8]> {
    if splits.iter().all(|&len| len == 0) {
        let mut out = vec![&stream[..0]; splits.len()];
        out.push(stream);
        return out;
    }
    let mut out = Vec::new();
    let mut rest = stream;
    for &len in splits.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(usize::from(len).min(rest.len()));
        out.push(head);
        rest = tail;
    }
    out
}

fn run_framer(case: &Case<'_>, splits: &[u8]) -> Outcome {
    let (proto, max_size, stream) = (case.proto, case.max_size, case.stream);
    let mut framer = Framer::new(decoder_for(proto, max_size));
    let mut out = Outcome::default();
    let mut pushed = 0usize;
    // Bytes handed out as frames or skipped after an error.
    let mut covered = 0usize;
    for chunk in chunks(stream, splits) {
        framer.push(chunk);
        pushed += chunk.len();
        loop {
            match framer.next_frame() {
                Ok(Some(frame)) => {
                    let len = frame.bytes.len();
                    assert_eq!(frame.offset, covered as u64, "frame offset");
                    assert_eq!(frame.end(), (covered + len) as u64, "frame end");
                    assert!(len > 0, "empty frame at {covered}");
                    assert_eq!(frame.bytes, &stream[covered..covered + len], "frame bytes");
                    check_frame(proto, max_size, frame.bytes);
                    out.frames.push((frame.offset, frame.bytes.to_vec()));
                    covered += len;
                }
                Ok(None) => break,
                Err(error) => {
                    check_error(proto, max_size, &error, covered, framer.pending());
                    if out.first_error.is_none() {
                        out.first_error = Some((out.frames.len(), error.clone()));
                    }
                    // Stuck on the error until told to skip.
                    assert_eq!(framer.next_frame(), Err(error.clone()), "error not sticky");
                    assert_eq!(framer.error(), Some(&error));
                    let pending = framer.pending();
                    let skip = detect::resync(proto, &pending[1..], pending[0], max_size, 2)
                        .map_or(pending.len(), |at| at + 1);
                    framer.skip(skip);
                    covered += skip;
                    assert_eq!(framer.error(), None, "skip did not clear the error");
                }
            }
            assert_eq!(framer.offset(), covered as u64, "framer offset");
            assert_eq!(framer.pending(), &stream[covered..pushed], "pending bytes");
        }
    }
    check_finish(&framer, proto, covered);
    out
}

fn check_frame(proto: Proto, max_size: u32, bytes: &[u8]) {
    let message = match Message::decode(proto, bytes) {
        Ok(m) => m,
        Err(e) => panic!(
            "{proto} frame of {} bytes does not decode: {e}",
            bytes.len()
        ),
    };
    assert_eq!(message.proto, proto);
    match proto {
        Proto::Text => assert_eq!(message.payload, bytes),
        Proto::V2 => {
            assert_eq!(bytes.len(), v2::MESSAGE_LEN, "v2 frame length");
            let size = message.size.unwrap_or(0) as usize;
            assert_eq!(message.payload.len(), size.min(v2::PAYLOAD_LEN));
            assert_eq!(message.truncated, size > v2::PAYLOAD_LEN);
        }
        Proto::V3 => {
            let size = message.size.unwrap_or(u32::MAX);
            assert!(size <= max_size, "v3 frame with size {size} > {max_size}");
            assert_eq!(
                bytes.len(),
                v3::HEADER_LEN + size as usize,
                "v3 frame length"
            );
            assert_eq!(message.encode(), bytes, "v3 re-encoding differs");
        }
    }
}

fn check_error(proto: Proto, max_size: u32, error: &Error, covered: usize, pending: &[u8]) {
    match *error {
        Error::SizeOverLimit {
            offset,
            size,
            limit,
        } => {
            assert_eq!(proto, Proto::V3, "size error from a {proto} framer");
            assert_eq!(offset, covered as u64, "error offset");
            assert_eq!(limit, max_size);
            assert!(size > max_size);
            let header = v3::Packet::new_checked(pending).map(|p| p.size());
            let announced = pending
                .get(5..9)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            assert!(header.is_err() || header == Ok(size));
            assert_eq!(announced, Some(size), "error size is not the header's");
        }
        ref other => panic!("unexpected framer error: {other}"),
    }
    assert!(!error.to_string().is_empty());
}

fn check_finish<D: labproto::Decoder>(framer: &Framer<D>, proto: Proto, covered: usize) {
    let pending = framer.pending().len();
    match framer.finish() {
        Ok(()) => assert_eq!(pending, 0, "finish accepted {pending} pending bytes"),
        Err(Error::IncompleteAtEnd {
            proto: p,
            part,
            offset,
            required_len,
            len,
        }) => {
            assert_eq!(p, proto);
            assert_eq!(offset, covered as u64);
            assert_eq!(len, pending);
            assert!(
                len > 0 && required_len > len,
                "needs {required_len}, has {len}"
            );
            if proto == Proto::V3 && len < v3::HEADER_LEN {
                assert_eq!(part, Part::Header);
            }
        }
        Err(other) => panic!("finish: unexpected error {other}"),
    }
}

/// Detection and mistake recognition on arbitrary bytes: no panic, sane answers.
pub fn check_detectors(bytes: &[u8], max_size: u32) {
    for at_end in [false, true] {
        let p = detect::plausibility(bytes, max_size, at_end);
        let Plausibility { text, v2, v3 } = p;
        assert!(
            text <= 100 && v2 <= 100 && v3 <= 100,
            "score over 100: {p:?}"
        );
        if let Some(g) = detect::guess(bytes, max_size, at_end) {
            let expected = match g.proto {
                Proto::Text => text,
                Proto::V2 => v2,
                Proto::V3 => v3,
            };
            if g.reason.contains("wrong struct format") {
                // Bytes packed with a wrong `struct` format are guessed as the
                // protocol the sender meant, which the recognisers must confirm.
                let mistake = mistakes::recognise(None, bytes, max_size, at_end);
                let meant = mistake.first().map(|m| m.proto());
                assert_eq!(meant, Some(g.proto), "struct-mistake guess unconfirmed");
            } else {
                assert_eq!(g.score, expected, "guess score differs from plausibility");
            }
            assert!(g.score >= 50 && !g.reason.is_empty());
        }
        for proto in [None, Some(Proto::Text), Some(Proto::V2), Some(Proto::V3)] {
            for m in mistakes::recognise(proto, bytes, max_size, at_end) {
                assert!(!m.to_string().is_empty() && !m.code().is_empty());
            }
        }
    }
    let chain = detect::v3_chain(bytes, max_size);
    assert!(
        chain.consumed <= bytes.len(),
        "v3 chain past the end: {chain:?}"
    );
    let version = bytes.first().copied().unwrap_or(1);
    for proto in PROTOS {
        for min_frames in [0, 1, 3] {
            let Some(at) = detect::resync(proto, bytes, version, max_size, min_frames) else {
                continue;
            };
            match proto {
                Proto::Text => assert_eq!(at, 0),
                Proto::V2 => {
                    assert!(at < bytes.len());
                    assert!(detect::v2_record_plausible(&bytes[at..], Some(version)));
                }
                Proto::V3 => {
                    assert!(at < bytes.len());
                    assert!(detect::v3_chain(&bytes[at..], max_size).frames >= 1);
                }
            }
        }
    }
}
