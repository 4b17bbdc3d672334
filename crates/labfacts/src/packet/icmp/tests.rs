use super::*;

/// An ICMP port unreachable from 10.55.0.1 quoting a UDP datagram 10.55.0.2:40000 →
/// 10.55.0.1:5005.
fn port_unreachable_v4() -> Vec<u8> {
    let mut m = vec![3, 3, 0, 0, 0, 0, 0, 0];
    m.extend([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 17, 0, 0]);
    m.extend([10, 55, 0, 2, 10, 55, 0, 1]);
    m.extend([0x9c, 0x40, 0x13, 0x8d, 0, 20, 0, 0]);
    m
}

fn reporter() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 55, 0, 1))
}

#[test]
fn port_unreachable_quotes_the_udp_datagram() {
    let e = parse(7, 1, reporter(), false, &port_unreachable_v4()).expect("an error");
    assert_eq!(e.kind, IcmpKind::PortUnreachable);
    assert_eq!((e.icmp_type, e.code, e.mtu), (3, 3, None));
    assert!(!e.quoted.tcp);
    assert_eq!(e.quoted.src, "10.55.0.2:40000".parse().unwrap());
    assert_eq!(e.quoted.dst, "10.55.0.1:5005".parse().unwrap());
}

#[test]
fn tcp_quote_gives_the_sequence_number_and_fragmentation_needed_the_mtu() {
    let mut m = port_unreachable_v4();
    m[1] = 4;
    m[6..8].copy_from_slice(&1400u16.to_be_bytes());
    m[8 + 9] = 6;
    m.truncate(28);
    m.extend([0x9c, 0x40, 0x13, 0x8d, 0xde, 0xad, 0xbe, 0xef]);
    let e = parse(1, 1, reporter(), false, &m).expect("an error");
    assert_eq!(e.kind, IcmpKind::FragmentationNeeded);
    assert_eq!(e.mtu, Some(1400));
    assert_eq!(e.quoted.tcp_seq, Some(0xdead_beef));
    // Only the ports quoted: still joined, no sequence number.
    m.truncate(32);
    assert_eq!(
        parse(1, 1, reporter(), false, &m).unwrap().quoted.tcp_seq,
        None
    );
}

#[test]
fn icmpv6_port_unreachable_and_packet_too_big() {
    let mut m = vec![1, 4, 0, 0, 0, 0, 0, 0];
    let mut ip6 = vec![0x60, 0, 0, 0, 0, 16, 17, 64];
    let a: Ipv6Addr = "fd55::2".parse().unwrap();
    let b: Ipv6Addr = "fd55::1".parse().unwrap();
    ip6.extend(a.octets());
    ip6.extend(b.octets());
    m.extend(&ip6);
    m.extend([0x9c, 0x40, 0x13, 0x8d, 0, 16, 0, 0]);
    let e = parse(2, 1, IpAddr::V6(b), true, &m).expect("an error");
    assert_eq!(e.kind, IcmpKind::PortUnreachable);
    assert_eq!(e.quoted.dst, "[fd55::1]:5005".parse().unwrap());
    m[0] = 2;
    m[4..8].copy_from_slice(&1280u32.to_be_bytes());
    let e = parse(2, 1, IpAddr::V6(b), true, &m).expect("an error");
    assert_eq!((e.kind, e.mtu), (IcmpKind::FragmentationNeeded, Some(1280)));
}

#[test]
fn not_errors_are_none() {
    let mut m = port_unreachable_v4();
    m[0] = 8; // echo request
    assert!(parse(1, 1, reporter(), false, &m).is_none());
    m[0] = 128; // ICMPv6 echo request
    assert!(parse(1, 1, reporter(), true, &m).is_none());
    // A quoted later fragment has no ports.
    let mut m = port_unreachable_v4();
    m[8 + 7] = 1;
    assert!(parse(1, 1, reporter(), false, &m).is_none());
    // IHL under 5, wrong IP version in the quote.
    let mut m = port_unreachable_v4();
    m[8] = 0x44;
    assert!(parse(1, 1, reporter(), false, &m).is_none());
    m[8] = 0x65;
    assert!(parse(1, 1, reporter(), false, &m).is_none());
}

#[test]
fn every_truncation_and_every_byte_value_is_safe() {
    let whole = port_unreachable_v4();
    for len in 0..whole.len() {
        // Cut anywhere before the ports: no error read (never a panic).
        let got = parse(1, 1, reporter(), false, &whole[..len]);
        assert_eq!(got.is_some(), len >= 32, "length {len}");
    }
    // Hostile: every value of every byte, at both versions.
    for at in 0..whole.len() {
        for v in 0..=255u8 {
            let mut m = whole.clone();
            m[at] = v;
            let _ = parse(1, 1, reporter(), false, &m);
            let _ = parse(1, 1, reporter(), true, &m);
        }
    }
    // A huge IHL points past the end.
    let mut m = whole.clone();
    m[8] = 0x4f;
    assert!(parse(1, 1, reporter(), false, &m).is_none());
}

/// An ICMPv6 port unreachable quoting a TCP segment (ports and sequence number).
fn port_unreachable_v6_tcp() -> Vec<u8> {
    let mut m = vec![1, 4, 0, 0, 0, 0, 0, 0];
    m.extend([0x60, 0, 0, 0, 0, 20, 6, 64]);
    m.extend("fd55::2".parse::<Ipv6Addr>().unwrap().octets());
    m.extend("fd55::1".parse::<Ipv6Addr>().unwrap().octets());
    m.extend([0x9c, 0x40, 0x13, 0x8d, 0xde, 0xad, 0xbe, 0xef]);
    m
}

#[test]
fn icmpv6_and_tcp_quotes_cut_at_every_length_are_safe() {
    let v6 = port_unreachable_v6_tcp();
    let reporter6: IpAddr = "fd55::1".parse().unwrap();
    for len in 0..=v6.len() {
        let got = parse(1, 1, reporter6, true, &v6[..len]);
        // The ports end at 8 + 40 + 4; the sequence number needs 4 more.
        assert_eq!(got.is_some(), len >= 52, "length {len}");
        if let Some(e) = got {
            let seq = (len >= 56).then_some(0xdead_beef);
            assert_eq!(e.quoted.tcp_seq, seq, "length {len}");
        }
        // The same bytes read as ICMPv4 are not an IPv4 quote: None, never a panic.
        assert!(parse(1, 1, reporter(), false, &v6[..len]).is_none());
    }
    // Hostile ICMPv6: every value of every byte of the header and the quote.
    for at in 0..v6.len() {
        for v in 0..=255u8 {
            let mut m = v6.clone();
            m[at] = v;
            let _ = parse(1, 1, reporter6, true, &m);
        }
    }
}
