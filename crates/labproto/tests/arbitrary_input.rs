//! Arbitrary bytes into every input-driven entry point that needs no framer: the
//! detection heuristics, the `struct`-mistake recognisers and the checked v2/v3 views.
//! A bounded, always-on version of what `fuzz/` (cargo fuzz) explores at length: none
//! of these may panic, and their answers must stay in range.
#![allow(clippy::unwrap_used)]

use labproto::{detect, mistakes, v2, v3, Error, Part, Proto};
use proptest::prelude::*;

const PROTOS: [Proto; 3] = [Proto::Text, Proto::V2, Proto::V3];

/// Bytes that often look like lab messages: a valid v2/v3 stream with a few bytes
/// changed and cut anywhere, or plain random bytes.
fn lab_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let v3_stream = prop::collection::vec(
        (any::<u32>(), prop::collection::vec(any::<u8>(), 0..40)),
        0..5,
    )
    .prop_map(|msgs| {
        let mut out = Vec::new();
        for (order, payload) in msgs {
            v3::Repr {
                version: 1,
                order,
                payload: &payload,
            }
            .emit_to_vec(&mut out)
            .unwrap();
        }
        out
    });
    let v2_stream = prop::collection::vec(
        (any::<u32>(), prop::collection::vec(any::<u8>(), 0..30)),
        0..5,
    )
    .prop_map(|msgs| {
        msgs.iter()
            .flat_map(|(order, m)| v2::Repr::new(1, *order, m).to_bytes())
            .collect::<Vec<u8>>()
    });
    let mutated = (
        prop_oneof![v3_stream, v2_stream],
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        any::<usize>(),
    )
        .prop_map(|(mut bytes, flips, cut)| {
            if !bytes.is_empty() {
                for (at, value) in flips {
                    let i = at % bytes.len();
                    bytes[i] = value;
                }
                bytes.truncate(cut % (bytes.len() + 1));
            }
            bytes
        });
    prop_oneof![mutated, prop::collection::vec(any::<u8>(), 0..200)]
}

fn max_sizes() -> impl Strategy<Value = u32> {
    prop_oneof![Just(labproto::DEFAULT_MAX_SIZE), 0u32..64, any::<u32>()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn detection_scores_stay_in_range(bytes in lab_like_bytes(), max_size in max_sizes(), at_end: bool) {
        let p = detect::plausibility(&bytes, max_size, at_end);
        prop_assert!(p.text <= 100 && p.v2 <= 100 && p.v3 <= 100, "{p:?}");
        match detect::guess(&bytes, max_size, at_end) {
            Some(g) => {
                let expected = match g.proto {
                    Proto::Text => p.text,
                    Proto::V2 => p.v2,
                    Proto::V3 => p.v3,
                };
                // A guess from a recognised struct mistake carries its own score.
                if !g.reason.contains("wrong struct format") {
                    prop_assert_eq!(g.score, expected);
                }
                prop_assert!(g.score >= 50 && g.score <= 100);
                prop_assert!(!g.reason.is_empty());
            }
            None => prop_assert!(bytes.is_empty() || p.text.max(p.v2).max(p.v3) < 50, "{p:?}"),
        }
        let chain = detect::v3_chain(&bytes, max_size);
        prop_assert!(chain.consumed <= bytes.len());
    }

    #[test]
    fn resync_offsets_are_inside_and_proven(bytes in lab_like_bytes(), max_size in max_sizes(), version: u8, min_frames in 0usize..4) {
        for proto in PROTOS {
            let Some(at) = detect::resync(proto, &bytes, version, max_size, min_frames) else {
                continue;
            };
            match proto {
                Proto::Text => prop_assert_eq!(at, 0),
                Proto::V2 => {
                    prop_assert!(at < bytes.len());
                    prop_assert!(detect::v2_record_plausible(&bytes[at..], Some(version)));
                }
                Proto::V3 => {
                    prop_assert!(at < bytes.len());
                    prop_assert_eq!(bytes[at], version);
                    let chain = detect::v3_chain(&bytes[at..], max_size);
                    prop_assert!(chain.frames >= 1 && chain.same_version && !chain.oversize, "{chain:?}");
                }
            }
        }
    }

    #[test]
    fn mistakes_never_panic_and_explain_themselves(bytes in lab_like_bytes(), max_size in max_sizes(), at_end: bool) {
        for proto in [None, Some(Proto::Text), Some(Proto::V2), Some(Proto::V3)] {
            let found = mistakes::recognise(proto, &bytes, max_size, at_end);
            // The recognisers report the first mistake that the bytes prove, not a list.
            prop_assert!(found.len() <= 1, "{found:?}");
            for m in found {
                prop_assert!(!m.to_string().is_empty());
                prop_assert!(["struct_native_alignment", "struct_little_endian", "size_mismatch"].contains(&m.code()));
            }
        }
    }

    #[test]
    fn v2_checked_view_reads_any_bytes(bytes in lab_like_bytes()) {
        match v2::Packet::new_checked(&bytes[..]) {
            Ok(p) => {
                prop_assert!(bytes.len() >= v2::MESSAGE_LEN);
                prop_assert_eq!(p.version(), bytes[0]);
                prop_assert_eq!(p.order(), u32::from_be_bytes(bytes[1..5].try_into().unwrap()));
                prop_assert_eq!(p.size(), u32::from_be_bytes(bytes[5..9].try_into().unwrap()));
                prop_assert_eq!(p.payload_field(), &bytes[9..29]);
                prop_assert_eq!(p.payload().len(), (p.size() as usize).min(v2::PAYLOAD_LEN));
                prop_assert_eq!(p.truncated(), p.size() as usize > v2::PAYLOAD_LEN);
                let r = v2::Repr::parse(&bytes).unwrap();
                prop_assert_eq!(r.payload, p.payload());
            }
            Err(e) => {
                prop_assert!(bytes.len() < v2::MESSAGE_LEN);
                prop_assert_eq!(e, Error::Truncated { proto: Proto::V2, part: Part::Message, required_len: v2::MESSAGE_LEN, len: bytes.len() });
            }
        }
    }

    #[test]
    fn v3_checked_view_reads_any_bytes(bytes in lab_like_bytes()) {
        match v3::Packet::new_checked(&bytes[..]) {
            Ok(p) => {
                let size = u32::from_be_bytes(bytes[5..9].try_into().unwrap());
                prop_assert_eq!(p.version(), bytes[0]);
                prop_assert_eq!(p.order(), u32::from_be_bytes(bytes[1..5].try_into().unwrap()));
                prop_assert_eq!(p.size(), size);
                prop_assert_eq!(p.total_len(), v3::HEADER_LEN as u64 + u64::from(size));
                prop_assert_eq!(p.payload(), &bytes[v3::HEADER_LEN..v3::HEADER_LEN + size as usize]);
                let r = v3::Repr::parse(&bytes).unwrap();
                prop_assert_eq!(r.to_vec().unwrap(), &bytes[..r.buffer_len()]);
            }
            Err(Error::Truncated { proto: Proto::V3, part: Part::Header, required_len, len }) => {
                prop_assert!(bytes.len() < v3::HEADER_LEN);
                prop_assert_eq!((required_len, len), (v3::HEADER_LEN, bytes.len()));
            }
            Err(Error::Truncated { proto: Proto::V3, part: Part::Message, required_len, len }) => {
                let size = u32::from_be_bytes(bytes[5..9].try_into().unwrap());
                prop_assert_eq!(required_len as u64, v3::HEADER_LEN as u64 + u64::from(size));
                prop_assert!(len < required_len);
                prop_assert_eq!(len, bytes.len());
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}
