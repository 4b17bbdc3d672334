//! Every link type × both file formats, read back by libpcap and etherparse.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{read_with_libpcap, slice, transport, Seg, TempPath};
use labfixtures::{lab, Capture, Dir, FileFormat, LinkType};

/// What frame N must carry: (src port, seq, ack, flags "S"/"SA"/"A"/"PA"/"FA"/"RA", payload).
type Want = (u16, u32, u32, &'static str, Vec<u8>);

/// An IPv4 echo conversation, an IPv6 loopback one across the sequence wrap with
/// timestamps, and a UDP exchange. Returns the capture and per frame what it carries.
fn scenario(link: LinkType) -> (Capture, Vec<Want>) {
    let mut cap = Capture::new(link);
    let hello = lab::v3(1, b"hello");
    let long: Vec<u8> = (0..100u8).collect();
    let mut f4 = cap.tcp(
        "10.0.0.2:40000".parse().unwrap(),
        "10.0.0.1:5005".parse().unwrap(),
    );
    f4.handshake(&mut cap);
    assert_eq!(f4.send(&mut cap, Dir::C2S, &hello), 4);
    assert_eq!(f4.send(&mut cap, Dir::S2C, &hello), 5);
    assert_eq!(
        f4.send_split(&mut cap, Dir::C2S, &long, 30),
        vec![6, 7, 8, 9]
    );
    f4.close(&mut cap);

    let forty = [b'x'; 40];
    let mut f6 = cap
        .tcp(
            "[::1]:40001".parse().unwrap(),
            "[::1]:5005".parse().unwrap(),
        )
        .with_isns(0xFFFF_FFF0, 0xFFFF_FFFE)
        .with_timestamps();
    f6.handshake(&mut cap);
    f6.send(&mut cap, Dir::C2S, &forty);
    f6.send(&mut cap, Dir::S2C, &forty);
    assert_eq!(f6.rst(&mut cap, Dir::C2S), 19);

    cap.advance(1_000_000);
    assert_eq!(
        cap.udp(
            "10.0.0.2:40002".parse().unwrap(),
            "10.0.0.1:5005".parse().unwrap(),
            b"ping"
        ),
        20
    );
    cap.udp(
        "10.0.0.1:5005".parse().unwrap(),
        "10.0.0.2:40002".parse().unwrap(),
        b"pong",
    );

    let c = 40000;
    let s = 5005;
    let want: Vec<Want> = vec![
        (c, 1000, 0, "S", vec![]),
        (s, 5000, 1001, "SA", vec![]),
        (c, 1001, 5001, "A", vec![]),
        (c, 1001, 5001, "PA", hello.clone()),
        (s, 5001, 1015, "PA", hello.clone()),
        (c, 1015, 5015, "PA", long[..30].to_vec()),
        (c, 1045, 5015, "PA", long[30..60].to_vec()),
        (c, 1075, 5015, "PA", long[60..90].to_vec()),
        (c, 1105, 5015, "PA", long[90..].to_vec()),
        (c, 1115, 5015, "FA", vec![]),
        (s, 5015, 1116, "A", vec![]),
        (s, 5015, 1116, "FA", vec![]),
        (c, 1116, 5016, "A", vec![]),
        (40001, 0xFFFF_FFF0, 0, "S", vec![]),
        (s, 0xFFFF_FFFE, 0xFFFF_FFF1, "SA", vec![]),
        (40001, 0xFFFF_FFF1, 0xFFFF_FFFF, "A", vec![]),
        (40001, 0xFFFF_FFF1, 0xFFFF_FFFF, "PA", forty.to_vec()),
        (s, 0xFFFF_FFFF, 25, "PA", forty.to_vec()),
        (40001, 25, 39, "RA", vec![]),
    ];
    (cap, want)
}

fn flags_of(syn: bool, fin: bool, rst: bool, payload: &[u8], ack: u32) -> &'static str {
    match (syn, fin, rst) {
        (true, _, _) if ack == 0 => "S",
        (true, _, _) => "SA",
        (_, true, _) => "FA",
        (_, _, true) => "RA",
        _ if payload.is_empty() => "A",
        _ => "PA",
    }
}

fn check_link(link: LinkType, format: FileFormat) {
    let (cap, want) = scenario(link);
    assert_eq!(cap.frames(), 21);
    let path = TempPath::new(&format!("{link:?}.{}", format.extension()));
    cap.write(&path.0, format).unwrap();
    assert_eq!(std::fs::read(&path.0).unwrap(), cap.to_bytes(format));

    let (datalink, records) = read_with_libpcap(&path.0);
    // libpcap reports DLT numbers: the same as the file's LINKTYPE except raw IP (12).
    assert_eq!(datalink as u32, link.dlt(), "{link:?} datalink");
    assert_eq!(records.len(), 21, "{link:?} {format:?} frame count");

    for (i, rec) in records.iter().enumerate() {
        let what = format!("{link:?} {format:?} frame {}", i + 1);
        assert_eq!(rec.caplen, rec.len, "{what}: not cut");
        assert_eq!(rec.data, cap.frame(i + 1).unwrap().data, "{what}: bytes");
        let expected_ts =
            1_700_000_000_000_000 + 10 * i as u64 + if i >= 19 { 1_000_000 } else { 0 };
        assert_eq!(rec.ts_micros, expected_ts, "{what}: timestamp");

        let (packet, facts) = slice(link, &rec.data);
        let (ipv6, seg) = transport(&packet);
        let from_server = match &seg {
            Seg::Tcp { src_port, .. } | Seg::Udp { src_port, .. } => *src_port == 5005,
        };
        let loopback = (13..19).contains(&i);
        assert_eq!(ipv6, loopback, "{what}: IP version");

        match link {
            LinkType::EthernetVlan { vid } => assert_eq!(facts.vlan_ids, vec![vid], "{what}"),
            LinkType::EthernetQinQ { outer, inner } => {
                assert_eq!(facts.vlan_ids, vec![outer, inner], "{what}")
            }
            LinkType::LinuxSll | LinkType::LinuxSll2 => {
                let ptype = if from_server && !loopback { 4 } else { 0 };
                let arphrd = if loopback { 772 } else { 1 };
                assert_eq!(facts.sll, Some((ptype, arphrd)), "{what}: SLL type, ARPHRD");
            }
            LinkType::NullLe | LinkType::NullBe => {
                assert_eq!(facts.null_af, Some(if ipv6 { 24 } else { 2 }), "{what}: AF")
            }
            LinkType::Ethernet | LinkType::RawIp => assert_eq!(facts, Default::default()),
        }

        match seg {
            Seg::Tcp {
                src_port,
                seq,
                ack,
                syn,
                fin,
                rst,
                header_len,
                payload,
                ..
            } => {
                let got = (
                    src_port,
                    seq,
                    ack,
                    flags_of(syn, fin, rst, &payload, ack),
                    payload,
                );
                assert_eq!(got, want[i], "{what}");
                let expected_header = match (loopback, syn, rst) {
                    (false, true, _) => 32,
                    (false, false, _) => 20,
                    (true, true, _) => 40,
                    (true, false, true) => 20,
                    (true, false, false) => 32,
                };
                assert_eq!(header_len, expected_header, "{what}: TCP header length");
            }
            Seg::Udp {
                src_port,
                dst_port,
                payload,
            } => {
                let expected: (u16, u16, &[u8]) = if i == 19 {
                    (40002, 5005, b"ping")
                } else {
                    (5005, 40002, b"pong")
                };
                assert_eq!((src_port, dst_port, &payload[..]), expected, "{what}");
            }
        }
    }
}

#[test]
fn every_link_type_both_formats() {
    for link in LinkType::all() {
        for format in [FileFormat::Pcap, FileFormat::PcapNg] {
            check_link(link, format);
        }
    }
}

#[test]
fn snaplen_cuts_long_frames() {
    for format in [FileFormat::Pcap, FileFormat::PcapNg] {
        let mut cap = Capture::new(LinkType::Ethernet);
        cap.set_snaplen(96);
        let mut flow = cap.tcp(
            "10.0.0.2:40000".parse().unwrap(),
            "10.0.0.1:5005".parse().unwrap(),
        );
        let short = flow.send(&mut cap, Dir::C2S, b"hi");
        let long = flow.send(&mut cap, Dir::C2S, &[7u8; 500]);
        let path = TempPath::new(&format!("snaplen.{}", format.extension()));
        cap.write(&path.0, format).unwrap();
        let (_, records) = read_with_libpcap(&path.0);
        assert_eq!(records.len(), 2);
        // 14 Ethernet + 20 IPv4 + 20 TCP + 2 = 56 bytes, under the snaplen.
        assert_eq!(
            (records[short - 1].caplen, records[short - 1].len),
            (56, 56)
        );
        // 54 + 500 = 554 bytes on the wire, 96 captured.
        assert_eq!((records[long - 1].caplen, records[long - 1].len), (96, 554));
        assert_eq!(records[long - 1].data, cap.frame(long).unwrap().data[..96]);
    }
}

#[test]
fn out_of_order_gap_and_overlap_segments() {
    let mut cap = Capture::new(LinkType::RawIp);
    let mut flow = cap
        .tcp(
            "10.0.0.2:40000".parse().unwrap(),
            "10.0.0.1:5005".parse().unwrap(),
        )
        .with_isns(100, 900);
    flow.handshake(&mut cap);
    // Bytes 10..20 arrive before 0..10; then a retransmission of 5..15 overlaps both.
    let late = flow.segment_at(&mut cap, Dir::C2S, 10, b"klmnopqrst");
    let early = flow.segment_at(&mut cap, Dir::C2S, 0, b"abcdefghij");
    let overlap = flow.segment_at(&mut cap, Dir::C2S, 5, b"fghijklmno");
    assert_eq!(
        flow.next_seq(Dir::C2S),
        101,
        "segment_at does not move the flow"
    );
    flow.advance_seq(Dir::C2S, 20);
    // 30 bytes lost by the capture, then the flow carries on.
    flow.advance_seq(Dir::C2S, 30);
    let after_gap = flow.send(&mut cap, Dir::C2S, b"zz");
    let ack = flow.ack(&mut cap, Dir::S2C);
    let expect = [
        (late, 111, &b"klmnopqrst"[..]),
        (early, 101, b"abcdefghij"),
        (overlap, 106, b"fghijklmno"),
        (after_gap, 151, b"zz"),
        (ack, 901, b""),
    ];
    let bytes = cap.to_bytes(FileFormat::Pcap);
    let path = TempPath::new("ooo.pcap");
    std::fs::write(&path.0, bytes).unwrap();
    let (_, records) = read_with_libpcap(&path.0);
    for (n, seq, payload) in expect {
        let (packet, _) = slice(LinkType::RawIp, &records[n - 1].data);
        match transport(&packet).1 {
            Seg::Tcp {
                seq: got_seq,
                payload: got,
                ack: got_ack,
                ..
            } => {
                assert_eq!((got_seq, &got[..]), (seq, payload), "frame {n}");
                if n == ack {
                    assert_eq!(got_ack, 153, "the server acknowledges all 52 bytes");
                }
            }
            other => panic!("frame {n}: {other:?}"),
        }
    }
}

#[test]
fn refused_and_syn_only() {
    let mut cap = Capture::new(LinkType::LinuxSll2);
    let mut flow = cap.tcp(
        "127.0.0.1:40000".parse().unwrap(),
        "127.0.0.1:5005".parse().unwrap(),
    );
    flow.refused(&mut cap);
    let mut lone = cap.tcp(
        "127.0.0.1:40001".parse().unwrap(),
        "127.0.0.1:5005".parse().unwrap(),
    );
    lone.syn_only(&mut cap);
    assert_eq!(cap.frames(), 3);
    let path = TempPath::new("refused.pcapng");
    cap.write(&path.0, FileFormat::PcapNg).unwrap();
    let (_, records) = read_with_libpcap(&path.0);
    let segs: Vec<Seg> = records
        .iter()
        .map(|r| transport(&slice(LinkType::LinuxSll2, &r.data).0).1)
        .collect();
    let summary: Vec<(u16, u32, u32, bool, bool)> = segs
        .iter()
        .map(|s| match s {
            Seg::Tcp {
                src_port,
                seq,
                ack,
                syn,
                rst,
                ..
            } => (*src_port, *seq, *ack, *syn, *rst),
            Seg::Udp { .. } => panic!("no UDP here"),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (40000, 1000, 0, true, false),
            (5005, 0, 1001, false, true),
            (40001, 1000, 0, true, false),
        ]
    );
}

#[test]
fn null_link_with_macos_inet6() {
    let mut cap = Capture::new(LinkType::NullBe);
    cap.set_null_af_inet6(30);
    cap.udp(
        "[::1]:40000".parse().unwrap(),
        "[::1]:5005".parse().unwrap(),
        b"x",
    );
    let frame = &cap.frame(1).unwrap().data;
    assert_eq!(&frame[..4], &[0, 0, 0, 30]);
    assert_eq!(frame[4] >> 4, 6);
}

#[test]
fn raw_frames_are_kept_verbatim() {
    let mut cap = Capture::new(LinkType::Ethernet);
    cap.push_raw_frame(vec![0xde, 0xad]);
    cap.push_raw_frame(Vec::new());
    let path = TempPath::new("raw.pcap");
    cap.write(&path.0, FileFormat::Pcap).unwrap();
    let (_, records) = read_with_libpcap(&path.0);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].data, vec![0xde, 0xad]);
    assert_eq!((records[1].caplen, records[1].len), (0, 0));
}

#[test]
fn file_linktype_override() {
    use labfixtures::link::{LINKTYPE_IPV4, LINKTYPE_LOOP};
    let cases = [
        (LinkType::RawIp, LINKTYPE_IPV4, 228),
        (LinkType::NullBe, LINKTYPE_LOOP, 108),
        (LinkType::Ethernet, 147, 147),
    ];
    for (link, file_linktype, dlt) in cases {
        let mut cap = Capture::new(link);
        cap.set_file_linktype(file_linktype);
        assert_eq!(cap.file_linktype(), file_linktype);
        cap.udp(
            "10.0.0.2:40000".parse().unwrap(),
            "10.0.0.1:5005".parse().unwrap(),
            b"x",
        );
        for format in [FileFormat::Pcap, FileFormat::PcapNg] {
            let path = TempPath::new(&format!("lt{file_linktype}.{}", format.extension()));
            cap.write(&path.0, format).unwrap();
            let (datalink, records) = read_with_libpcap(&path.0);
            assert_eq!((datalink, records.len()), (dlt, 1), "{link:?} {format:?}");
            assert_eq!(records[0].data, cap.frame(1).unwrap().data);
        }
    }
}

#[test]
fn syn_ack_alone_and_raw_segments() {
    use labfixtures::frame::flags;
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(
        "10.0.0.2:40000".parse().unwrap(),
        "10.0.0.1:5005".parse().unwrap(),
    );
    let sa = flow.syn_ack(&mut cap);
    let odd = flow.raw_segment(
        &mut cap,
        Dir::C2S,
        1001,
        5001,
        flags::FIN | flags::PSH | flags::ACK,
        b"bye",
    );
    assert_eq!((sa, odd), (1, 2));
    assert_eq!(
        flow.next_seq(Dir::C2S),
        1001,
        "raw_segment does not move the flow"
    );
    let (p, _) = slice(LinkType::Ethernet, &cap.frame(1).unwrap().data);
    assert!(matches!(
        transport(&p).1,
        Seg::Tcp {
            src_port: 5005,
            seq: 5000,
            ack: 1001,
            syn: true,
            ..
        }
    ));
    let (p, _) = slice(LinkType::Ethernet, &cap.frame(2).unwrap().data);
    let Seg::Tcp {
        seq, fin, payload, ..
    } = transport(&p).1
    else {
        panic!("TCP expected")
    };
    assert_eq!((seq, fin, &payload[..]), (1001, true, &b"bye"[..]));
}
