//! Whole-stream readings: the ambiguous first messages of each struct mistake, and a
//! model check over generated message sequences (bounded in count).

use super::*;
use proptest::prelude::*;

const MAX: u32 = crate::DEFAULT_MAX_SIZE;

/// What Python's struct writes for one message, packed `packing`'s way (an encoder
/// written from the struct docs, independent of the readers under test).
fn pack(packing: Packing, version: u8, order: u32, payload: &[u8]) -> Vec<u8> {
    let size = payload.len() as u32;
    let padded = |n: usize| {
        let mut p = payload[..payload.len().min(n)].to_vec();
        p.resize(n, 0);
        p
    };
    let mut out = vec![version];
    match packing {
        Packing::Lab(Proto::V3) | Packing::V2Unpadded => {
            out.extend(order.to_be_bytes());
            out.extend(size.to_be_bytes());
            out.extend(payload);
        }
        Packing::Lab(_) => {
            out.extend(order.to_be_bytes());
            out.extend(size.to_be_bytes());
            out.extend(padded(20));
        }
        Packing::NativeBii | Packing::NativeBii20s => {
            out.extend([0, 0, 0]);
            out.extend(order.to_le_bytes());
            out.extend(size.to_le_bytes());
            out.extend(if packing == Packing::NativeBii {
                payload.to_vec()
            } else {
                padded(20)
            });
        }
        Packing::NativeBll20s => {
            out.extend([0; 7]);
            out.extend(u64::from(order).to_le_bytes());
            out.extend(u64::from(size).to_le_bytes());
            out.extend(padded(20));
        }
        Packing::LittleBii | Packing::LittleBii20s => {
            out.extend(order.to_le_bytes());
            out.extend(size.to_le_bytes());
            out.extend(if packing == Packing::LittleBii {
                payload.to_vec()
            } else {
                padded(20)
            });
        }
        Packing::V2PayloadLen(n) => {
            out.extend(order.to_be_bytes());
            out.extend(size.to_be_bytes());
            out.extend(padded(usize::from(n)));
        }
        // len(text) of a str with one 2-byte character: one less than the bytes.
        Packing::V3SizeField => {
            out.extend(order.to_be_bytes());
            out.extend(size.saturating_sub(1).to_be_bytes());
            out.extend(payload);
        }
        Packing::Text => return payload.to_vec(),
    }
    out
}

fn stream(packing: Packing, texts: &[&str]) -> Vec<u8> {
    texts
        .iter()
        .zip(1..)
        .flat_map(|(t, order)| pack(packing, 1, order, t.as_bytes()))
        .collect()
}

fn best(proto: Proto, bytes: &[u8], at_end: bool) -> Reading {
    judge(proto, bytes, MAX, at_end).remove(0)
}

#[test]
fn native_bii_first_message_reads_as_lab_but_the_stream_does_not() {
    // python3 -c "import struct; print((struct.pack('BII',1,1,5)+b'hello').hex())"
    let first = pack(Packing::NativeBii, 1, 1, b"hello");
    assert_eq!(first[..12], [1, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0]);
    // Read the lab's way, the first 14 bytes are a valid message ...
    let lab = read(Packing::Lab(Proto::V3), &first, MAX, false);
    assert_eq!(lab.messages.len(), 1);
    assert_eq!((lab.messages[0].order, lab.messages[0].size), (1, 5));
    assert_eq!(lab.consumed, 14);
    // ... but the whole 17 bytes are exactly one native message.
    let b = best(Proto::V3, &first, false);
    assert_eq!(b.packing, Packing::NativeBii);
    assert!(b.explains_all());
    let all = stream(Packing::NativeBii, &["hello", "second message", "bye"]);
    let readings = judge(Proto::V3, &all, MAX, true);
    assert_eq!(readings[0].packing, Packing::NativeBii);
    assert_eq!(
        readings[0].evidence(&all, 2),
        "message 1 at byte 0: version 1, order 1, size 5, payload \"hello\"; message 2 at \
         byte 17: version 1, order 2, size 14, payload \"second message\"; 1 more"
    );
    let lab = readings
        .iter()
        .find(|r| r.packing.is_lab())
        .map(Reading::ending);
    assert_eq!(
        lab.as_deref(),
        Some("byte 14 holds 0x6c where message 2's version byte (0x01) should be")
    );
    assert!(readings[0]
        .packing
        .fix()
        .starts_with("write the format as '!BII' (add '!')"));
}

#[test]
fn little_endian_v3_and_equals_are_one_reading() {
    let all = stream(Packing::LittleBii, &["hi", "there"]);
    let b = best(Proto::V3, &all, true);
    assert_eq!(b.packing, Packing::LittleBii);
    assert_eq!(b.messages.len(), 2);
    assert!(b.packing.format().contains("'=BII'"));
}

#[test]
fn v2_without_padding_is_ambiguous_until_a_message_is_not_20_bytes() {
    // '!BII%ds' % len(msg): a 20-byte first message is exactly a lab v2 message.
    let first = stream(Packing::V2Unpadded, &["exactly twenty bytes"]);
    assert_eq!(first.len(), 29);
    assert_eq!(
        best(Proto::V2, &first, false).packing,
        Packing::Lab(Proto::V2)
    );
    let all = stream(
        Packing::V2Unpadded,
        &["exactly twenty bytes", "hi", "bye now"],
    );
    let b = best(Proto::V2, &all, true);
    assert_eq!(b.packing, Packing::V2Unpadded, "{b:?}");
    assert_eq!(b.messages.len(), 3);
    assert_eq!(b.messages[1].offset, 29);
}

#[test]
fn v2_with_21s_and_native_bii20s() {
    let all = stream(Packing::V2PayloadLen(21), &["hello", "world"]);
    let b = best(Proto::V2, &all, true);
    assert_eq!(b.packing, Packing::V2PayloadLen(21));
    assert!(b.packing.fix().contains("20s, not 21s"));
    let all = stream(Packing::NativeBii20s, &["hello", "world"]);
    assert_eq!(best(Proto::V2, &all, true).packing, Packing::NativeBii20s);
}

#[test]
fn size_field_counting_characters_is_found_by_the_next_header() {
    // size = len(text) for a str with an accent: one byte short.
    let mut all = pack(Packing::Lab(Proto::V3), 1, 1, b"hello");
    let ola = "olá mundo".as_bytes();
    all.extend(pack(Packing::V3SizeField, 1, 2, ola));
    all.extend(pack(Packing::Lab(Proto::V3), 1, 3, b"bye"));
    // The first message alone is the lab's.
    assert_eq!(
        best(Proto::V3, &all[..14], true).packing,
        Packing::Lab(Proto::V3)
    );
    let b = best(Proto::V3, &all, true);
    assert_eq!(b.packing, Packing::V3SizeField, "{b:?}");
    assert_eq!(
        (b.messages[1].offset, b.messages[1].size, b.messages[1].used),
        (14, 9, 10)
    );
}

#[test]
fn text_and_lab_streams() {
    let t = b"hello server\n";
    assert_eq!(best(Proto::V3, t, true).packing, Packing::Text);
    for proto in [Proto::V2, Proto::V3] {
        let all = stream(
            Packing::Lab(proto),
            &["hello", "a longer message, 30 bytes..", ""],
        );
        let b = best(proto, &all, true);
        assert_eq!(b.packing, Packing::Lab(proto));
        assert!(b.explains_all());
    }
    assert!(!best(Proto::V3, &[], true).explains_all());
}

fn packings(proto: Proto) -> Vec<Packing> {
    Packing::candidates(proto)
        .into_iter()
        .filter(|p| *p != Packing::Text)
        .filter(|p| !matches!(p, Packing::V2PayloadLen(n) if n % 7 != 0 && *n != 21))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Model check: whatever packing wrote 1–6 messages of printable text, the best
    /// reading of the whole stream is that packing and decodes the same messages.
    #[test]
    fn the_packing_that_wrote_a_stream_explains_it(
        v3 in any::<bool>(),
        which in 0usize..64,
        version in 1u8..4,
        start in 0u32..1000,
        texts in proptest::collection::vec("[ -~]{1,30}", 1..6),
    ) {
        let proto = if v3 { Proto::V3 } else { Proto::V2 };
        let all = packings(proto);
        let packing = all[which % all.len()];
        let mut bytes = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            bytes.extend(pack(packing, version, start + i as u32, t.as_bytes()));
        }
        let readings = judge(proto, &bytes, MAX, true);
        let b = &readings[0];
        prop_assert!(b.explains_all(), "{packing:?}: {b:?}");
        // '!BII5s' with every message 5 bytes is the same bytes as '!BII' + 5 bytes.
        let same_len = texts.iter().all(|t| t.len() == texts[0].len());
        let equivalent = match (packing, b.packing) {
            (Packing::V2Unpadded, Packing::V2PayloadLen(n))
            | (Packing::V2PayloadLen(n), Packing::V2Unpadded) => {
                same_len && texts[0].len() == usize::from(n)
            }
            // Unpadded messages that happen to add up to whole 29-byte records read
            // as the lab's v2 too, and the lab's reading wins a tie (module doc).
            (Packing::V2Unpadded, Packing::Lab(Proto::V2)) => {
                (same_len && texts[0].len() == 20) || bytes.len() % crate::v2::MESSAGE_LEN == 0
            }
            _ => false,
        };
        // One record of a length two packings share ('!BII35s' and native 'BLL20s' are
        // both 44 bytes) is a tie the bytes cannot always break: the writer's own
        // reading must then explain it as well, with no fewer anomalies.
        let own = read(packing, &bytes, MAX, true);
        let tie = texts.len() == 1
            && own.explains_all()
            && own.messages.len() == b.messages.len()
            && b.anomalies <= own.anomalies;
        prop_assert!(
            b.packing == packing || equivalent || tie,
            "wrote {packing:?}, read {:?}",
            b.packing
        );
        if b.packing == packing {
            prop_assert_eq!(b.messages.len(), texts.len());
            for (m, (i, t)) in b.messages.iter().zip(texts.iter().enumerate()) {
                prop_assert_eq!(m.order, u64::from(start) + i as u64);
                prop_assert_eq!(m.version, version);
                let payload = &bytes[m.payload.start..m.payload.start + m.used];
                prop_assert!(t.as_bytes().starts_with(payload), "{t:?} {payload:?}");
            }
        }
        // Cut anywhere (a read that has not brought everything yet), the packing's
        // own reading still fits the bytes so far.
        for cut in [1, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
            if packing != Packing::V3SizeField && cut > 0 {
                let r = read(packing, &bytes[..cut], MAX, false);
                // Unpadded v2 whose whole messages so far all hold 20 bytes of text
                // is the lab's v2 too: the reader gives way to it (as above).
                let as_lab = packing == Packing::V2Unpadded
                    && r.messages.iter().all(|m| m.len == crate::v2::MESSAGE_LEN);
                prop_assert!(r.consistent() || as_lab, "{packing:?} cut at {cut}: {r:?}");
            }
        }
    }
}
