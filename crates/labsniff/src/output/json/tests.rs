use super::*;
use crate::event::Dir;
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
/// Through the sink, lines are serde's lines: lines longer and shorter than the
/// stale bytes of earlier blocks they are written over, awkward payloads, several
/// frames, serde's own lines (emitted events) between, and lines longer than a
/// block (the block grows).
#[test]
fn sink_lines_are_serde_lines() {
    let mut written = Vec::new();
    let mut expected = Vec::new();
    {
        let mut sink = JsonSink::new(&mut written, false);
        for i in 0..6_000usize {
            let len = match i {
                700 | 1_301 => BLOCK + BLOCK / 2,
                _ => i * 7_919 % 301,
            };
            let payload: Vec<u8> = (0..len)
                .map(|j| match (i + j) % 97 {
                    0 => b'"',
                    1 if i % 13 == 0 => 0xc3,
                    _ => b'a' + ((i + j) % 26) as u8,
                })
                .collect();
            let frames = [i as u64, 1_000 * i as u64];
            let m = MessageRef {
                conv: i as u64 % 5,
                ..message(
                    &payload,
                    &frames[..1 + i % 2],
                    1_700_000_000_000_000 + 123_457 * i as u64,
                )
            };
            if i % 10 == 0 {
                sink.emit(Event::Message(m.to_event())).unwrap();
            } else {
                sink.message(&m).unwrap();
            }
            expected.push(by_serde(&m));
        }
    }
    let written = String::from_utf8(written).unwrap();
    assert!(written.ends_with('\n'));
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines.len(), expected.len());
    for (i, (line, serde)) in lines.iter().zip(&expected).enumerate() {
        assert_eq!(line, serde, "line {i}");
    }
}

/// The whole seconds are kept from one timestamp to the next, as in a sink.
#[test]
fn timestamps_across_whole_seconds() {
    let mut kept = Seconds::default();
    for secs in [DIGITS_FOR.start, 1_700_000_000, DIGITS_FOR.end - 1] {
        for frac in (0..1_000_000).step_by(7) {
            let micros = secs * 1_000_000 + frac;
            let serde = serde_json::to_vec(&seconds(micros)).unwrap();
            assert_eq!(ts_text(&mut kept, micros), serde, "{micros} µs");
        }
    }
}

/// What [`timestamp`] writes, alone on a line of 32 bytes (its bound).
fn ts_text(kept: &mut Seconds, micros: u64) -> Vec<u8> {
    let mut buf = [0xffu8; 32];
    let mut line = Line {
        buf: &mut buf,
        at: 0,
    };
    timestamp(&mut line, kept, micros).unwrap();
    let len = line.at;
    buf[..len].to_vec()
}

/// Each 4-digit half takes every value, the other half a few.
#[test]
fn eight_digits_of_every_half() {
    for half in 0..10_000u32 {
        for other in [0, 1, 1_234, 5_000, 9_999] {
            for n in [half * 10_000 + other, other * 10_000 + half] {
                let text = (ZEROS_ASCII + eight_digits(n)).to_le_bytes();
                assert_eq!(text.as_slice(), format!("{n:08}").as_bytes(), "{n}");
            }
        }
    }
}

/// Every decimal length, and the numbers on either side of each power of ten.
#[test]
fn numbers_as_itoa_writes_them() {
    let mut numbers = vec![0, 1, 9, u64::MAX];
    for power in 1..20 {
        let p = 10u64.pow(power);
        numbers.extend([p - 1, p, p + 1, p + p / 2]);
    }
    for n in numbers {
        let mut buf = [0u8; 32];
        let mut line = Line {
            buf: &mut buf,
            at: 0,
        };
        line.number(n);
        let len = line.at;
        assert_eq!(&buf[..len], itoa::Buffer::new().format(n).as_bytes());
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
    fn numbers_as_itoa_writes_any(n in any::<u64>(), shift in 0u32..64) {
        let n = n >> shift;
        let mut buf = [0u8; 32];
        let mut line = Line { buf: &mut buf, at: 0 };
        line.number(n);
        let len = line.at;
        let mut itoa = itoa::Buffer::new();
        prop_assert_eq!(&buf[..len], itoa.format(n).as_bytes());
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
        let serde = serde_json::to_vec(&seconds(micros)).unwrap();
        // Whole seconds rendered afresh, and kept from the second before.
        prop_assert_eq!(&ts_text(&mut Seconds::default(), micros), &serde);
        let mut kept = Seconds::default();
        ts_text(&mut kept, micros.saturating_sub(1_000_000));
        prop_assert_eq!(&ts_text(&mut kept, micros), &serde);
    }

    /// One `Kept` across messages of several conversations (three of them in one
    /// set of prefixes), directions and endpoints (some the same length, a byte
    /// apart) gives each line exactly serde's bytes.
    #[test]
    fn prefixes_kept_across_lines_change_nothing(
        picks in proptest::collection::vec((0usize..6, any::<bool>(), 0usize..6, 0usize..2), 1..60),
    ) {
        let mut kept = Kept::default();
        let convs = [0, 1, 2, PREFIX_SETS, 2 * PREFIX_SETS, 2 * PREFIX_SETS + 1];
        let clients = [
            "10.0.0.2:40000",
            "10.0.0.3:40000",
            "10.0.0.2:40001",
            "[::1]:1",
            "a\"b",
            "[2001:db8:1234:5678:9abc:def0:1234:5678%a-long-scope-name]:40000",
        ];
        for (conv, c2s, client, proto) in picks {
            let m = MessageRef {
                conv: convs[conv],
                dir: if c2s { Dir::ClientToServer } else { Dir::ServerToClient },
                client: clients[client],
                proto: [labproto::Proto::V2, labproto::Proto::V3][proto],
                ..message(b"x", &[1], 1_700_000_000_000_001)
            };
            let mut out = Vec::new();
            write_message_with(&mut out, &m, &mut kept).unwrap();
            prop_assert_eq!(String::from_utf8(out).unwrap(), by_serde(&m));
        }
    }

    /// `same` is `==`: equal bytes, and one byte changed anywhere, at every length
    /// around its words.
    #[test]
    fn same_is_eq(
        a in proptest::collection::vec(any::<u8>(), 0..80),
        at in any::<prop::sample::Index>(),
        to in any::<u8>(),
        shorter in any::<bool>(),
    ) {
        let mut b = a.clone();
        if !b.is_empty() {
            b[at.index(a.len())] = to;
        }
        prop_assert!(same(&a, &a));
        prop_assert_eq!(same(&a, &b), a == b);
        if shorter && !a.is_empty() {
            prop_assert!(!same(&a, &a[..a.len() - 1]));
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
