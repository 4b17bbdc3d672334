//! Property tests: emit→parse round trips, and framing that does not depend on how
//! the byte stream was split.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use labproto::framer::decoder_for;
use labproto::{v2, v3, Decoder, Error, Framer, Message, Proto};
use proptest::prelude::*;

/// Feed `stream` to a framer in the given chunk sizes; return the frames' messages.
fn frame_all<D: Decoder>(
    decoder: D,
    stream: &[u8],
    chunks: &[usize],
) -> (Vec<Message>, Result<(), Error>) {
    let mut framer = Framer::new(decoder);
    let proto = framer.proto();
    let mut out = Vec::new();
    let mut at = 0;
    let mut sizes = chunks.iter().copied().cycle();
    while at < stream.len() {
        let n = sizes.next().unwrap_or(1).clamp(1, stream.len() - at);
        framer.push(&stream[at..at + n]);
        at += n;
        loop {
            match framer.next_frame() {
                Ok(Some(frame)) => out.push(Message::decode(proto, frame.bytes).unwrap()),
                Ok(None) => break,
                Err(e) => return (out, Err(e)),
            }
        }
    }
    (out, framer.finish())
}

fn v3_messages() -> impl Strategy<Value = Vec<(u8, u32, Vec<u8>)>> {
    proptest::collection::vec(
        (
            1u8..4,
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 0..80),
        ),
        10,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn v2_round_trip(version: u8, order: u32, msg in proptest::collection::vec(any::<u8>(), 0..64)) {
        let repr = v2::Repr::new(version, order, &msg);
        let bytes = repr.to_bytes();
        let back = v2::Repr::parse(&bytes).unwrap();
        prop_assert_eq!(back.version, version);
        prop_assert_eq!(back.order, order);
        prop_assert_eq!(back.size as usize, msg.len());
        prop_assert_eq!(back.payload, &msg[..msg.len().min(20)]);
        prop_assert_eq!(back.truncated(), msg.len() > 20);
        prop_assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn v3_round_trip(version: u8, order: u32, payload in proptest::collection::vec(any::<u8>(), 0..600)) {
        let bytes = v3::Repr { version, order, payload: &payload }.to_vec().unwrap();
        prop_assert_eq!(bytes.len(), 9 + payload.len());
        let back = v3::Repr::parse(&bytes).unwrap();
        prop_assert_eq!((back.version, back.order, back.payload), (version, order, &payload[..]));
    }

    /// The framer gives identical messages for every split of a 10-message v3 stream.
    #[test]
    fn v3_any_split_same_messages(msgs in v3_messages(), chunks in proptest::collection::vec(1usize..40, 1..20)) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (version, order, payload) in &msgs {
            let m = Message::new(Proto::V3, *version, *order, payload).unwrap();
            stream.extend_from_slice(&m.encode());
            expected.push(m);
        }
        let (whole, end) = frame_all(v3::V3Decoder::default(), &stream, &[stream.len()]);
        let (split, end2) = frame_all(v3::V3Decoder::default(), &stream, &chunks);
        let (bytewise, end3) = frame_all(v3::V3Decoder::default(), &stream, &[1]);
        prop_assert_eq!(&whole, &expected);
        prop_assert_eq!(&split, &expected);
        prop_assert_eq!(&bytewise, &expected);
        prop_assert_eq!((end, end2, end3), (Ok(()), Ok(()), Ok(())));
    }

    #[test]
    fn v2_any_split_same_messages(
        msgs in proptest::collection::vec((any::<u32>(), proptest::collection::vec(any::<u8>(), 0..40)), 1..12),
        chunks in proptest::collection::vec(1usize..70, 1..20),
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (order, msg) in &msgs {
            let m = Message::new(Proto::V2, 1, *order, msg).unwrap();
            stream.extend_from_slice(&m.encode());
            expected.push(m);
        }
        let (split, end) = frame_all(v2::V2Decoder, &stream, &chunks);
        prop_assert_eq!(split, expected);
        prop_assert_eq!(end, Ok(()));
    }

    /// Arbitrary bytes never panic, and frames + what is left cover the input exactly.
    #[test]
    fn arbitrary_bytes_are_framed_or_refused(
        proto in prop_oneof![Just(Proto::Text), Just(Proto::V2), Just(Proto::V3)],
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        chunks in proptest::collection::vec(1usize..50, 1..10),
        max_size in 0u32..300,
    ) {
        let mut framer = Framer::new(decoder_for(proto, max_size));
        let mut covered = Vec::new();
        let mut at = 0;
        let mut sizes = chunks.iter().copied().cycle();
        let mut failed = false;
        while at < bytes.len() && !failed {
            let n = sizes.next().unwrap_or(1).clamp(1, bytes.len() - at);
            framer.push(&bytes[at..at + n]);
            at += n;
            loop {
                match framer.next_frame() {
                    Ok(Some(f)) => {
                        prop_assert_eq!(f.offset as usize, covered.len());
                        if proto == Proto::V3 {
                            prop_assert!(f.bytes.len() <= 9 + max_size as usize);
                        }
                        covered.extend_from_slice(f.bytes);
                    }
                    Ok(None) => break,
                    Err(Error::SizeOverLimit { offset, size, limit }) => {
                        prop_assert_eq!(offset as usize, covered.len());
                        prop_assert!(size > limit);
                        failed = true;
                        break;
                    }
                    Err(e) => prop_assert!(false, "unexpected error {e}"),
                }
            }
        }
        covered.extend_from_slice(framer.pending());
        prop_assert_eq!(&covered[..], &bytes[..at]);
    }
}

#[test]
fn size_field_of_all_ones_is_an_error_not_an_allocation() {
    let mut framer = Framer::new(v3::V3Decoder::default());
    framer.push(&[1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, b'x']);
    let err = framer.next_frame().unwrap_err();
    assert_eq!(
        err,
        Error::SizeOverLimit {
            offset: 0,
            size: 0xffff_ffff,
            limit: 1 << 20
        }
    );
    assert_eq!(err.code(), "size_over_limit");
    assert_eq!(err.offset(), Some(0));
    // Only the 10 pushed bytes are held.
    assert_eq!(framer.pending().len(), 10);
}
