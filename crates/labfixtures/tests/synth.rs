//! Synthetic lab sessions read back with libpcap + etherparse, messages decoded by labproto.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;

use common::{read_with_libpcap, slice, transport, Seg, TempPath};
use labfixtures::{synth, LinkType};
use labproto::v3::{Repr, V3Decoder};
use labproto::Framer;

/// Per connection (client port) and direction: the byte stream in sequence order.
#[derive(Default)]
struct Streams {
    c2s: Vec<u8>,
    s2c: Vec<u8>,
    next_seq: [Option<u32>; 2],
    syns: usize,
    fins: usize,
    pure_client_acks: usize,
}

#[test]
fn small_session_reads_back_and_decodes() {
    let path = TempPath::new("synth-3x4.pcap");
    let stats = synth::lab_session(&path.0, 3, 4, 2024).unwrap();
    assert_eq!(stats.packets, synth::expected_packets(3, 4));
    // Per connection: 3 handshake + 4 × 2 messages + 1 ACK (after pair 4) + 4 teardown.
    assert_eq!(stats.packets, 3 * 16);
    assert_eq!(stats.messages, 3 * 4 * 2);

    let (datalink, records) = read_with_libpcap(&path.0);
    assert_eq!(datalink, 1);
    assert_eq!(records.len() as u64, stats.packets);
    let bytes: u64 = records.iter().map(|r| u64::from(r.len)).sum();
    assert_eq!(bytes, stats.bytes);

    let mut conns: BTreeMap<u16, Streams> = BTreeMap::new();
    for rec in &records {
        let (packet, _) = slice(LinkType::Ethernet, &rec.data);
        let (ipv6, seg) = transport(&packet);
        assert!(!ipv6);
        let Seg::Tcp {
            src_port,
            dst_port,
            seq,
            syn,
            fin,
            payload,
            ..
        } = seg
        else {
            panic!("synth writes TCP only");
        };
        let (client_port, dir) = if dst_port == 5005 {
            (src_port, 0)
        } else {
            assert_eq!(src_port, 5005);
            (dst_port, 1)
        };
        assert!((32768..=60999).contains(&client_port), "port {client_port}");
        let s = conns.entry(client_port).or_default();
        if syn {
            s.syns += 1;
            s.next_seq[dir] = Some(seq.wrapping_add(1));
            continue;
        }
        assert_eq!(Some(seq), s.next_seq[dir], "in-order segments, no gaps");
        s.next_seq[dir] = Some(seq.wrapping_add(payload.len() as u32 + u32::from(fin)));
        if fin {
            s.fins += 1;
        }
        if dir == 0 && payload.is_empty() && !fin {
            s.pure_client_acks += 1;
        }
        if dir == 0 {
            s.c2s.extend_from_slice(&payload);
        } else {
            s.s2c.extend_from_slice(&payload);
        }
    }
    assert_eq!(conns.len(), 3);
    let mut messages = 0;
    for (port, s) in &conns {
        assert_eq!(
            (s.syns, s.fins),
            (2, 2),
            "conn {port}: SYN and FIN each way"
        );
        // Handshake ACK, one ACK after pair 4, teardown ACK.
        assert_eq!(s.pure_client_acks, 3, "conn {port}");
        assert_eq!(s.c2s, s.s2c, "conn {port}: the server echoes every byte");
        let mut framer = Framer::new(V3Decoder::default());
        framer.push(&s.c2s);
        let mut order = 0;
        while let Some(frame) = framer.next_frame().unwrap() {
            let m = Repr::parse(frame.bytes).unwrap();
            order += 1;
            assert_eq!((m.version, m.order), (1, order), "conn {port}");
            assert!(
                (10..=60).contains(&m.payload.len()),
                "conn {port}: size {}",
                m.payload.len()
            );
            messages += 2;
        }
        assert_eq!(order, 4, "conn {port}: 4 requests");
        assert!(framer.pending().is_empty());
    }
    assert_eq!(messages, stats.messages);
}

#[test]
fn interleaves_and_is_deterministic() {
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut c = Vec::new();
    let sa = synth::lab_session_to(&mut a, 120, 3, 5).unwrap();
    synth::lab_session_to(&mut b, 120, 3, 5).unwrap();
    synth::lab_session_to(&mut c, 120, 3, 6).unwrap();
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(a, c, "another seed, other payloads");
    assert_eq!(sa.packets, synth::expected_packets(120, 3));

    // With 50 open at once the first 50 handshakes come before any data.
    let path = TempPath::new("synth-interleave.pcap");
    std::fs::write(&path.0, &a).unwrap();
    let (_, records) = read_with_libpcap(&path.0);
    let first_data = records
        .iter()
        .position(
            |r| match transport(&slice(LinkType::Ethernet, &r.data).0).1 {
                Seg::Tcp { payload, .. } => !payload.is_empty(),
                Seg::Udp { .. } => true,
            },
        )
        .unwrap();
    assert_eq!(first_data, 50 * 3);
}

#[test]
fn zero_pairs_and_zero_conns() {
    let mut out = Vec::new();
    let s = synth::lab_session_to(&mut out, 0, 10, 1).unwrap();
    assert_eq!((s.packets, out.len()), (0, 24));
    let mut out = Vec::new();
    let s = synth::lab_session_to(&mut out, 2, 0, 1).unwrap();
    assert_eq!((s.packets, s.messages), (14, 0));
}

#[test]
fn unwritable_path_says_where() {
    let err =
        synth::lab_session(std::path::Path::new("/nonexistent-dir/x.pcap"), 1, 1, 1).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot create /nonexistent-dir/x.pcap:"),
        "{err}"
    );
}
