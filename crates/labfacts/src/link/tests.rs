//! Frames for every link type, built by hand around an etherparse-built IP packet.

use super::*;
use crate::packet::{decode, Transport};
use etherparse::{PacketBuilder, TcpOptionElement};

const PAYLOAD: &[u8] = b"hello";

fn ipv4_tcp() -> Vec<u8> {
    let builder = PacketBuilder::ipv4([10, 0, 0, 2], [10, 0, 0, 1], 64)
        .tcp(40000, 5005, 1001, 512)
        .ack(5001)
        .psh();
    let mut out = Vec::new();
    builder.write(&mut out, PAYLOAD).unwrap();
    out
}

fn ipv6_tcp() -> Vec<u8> {
    let mut a = [0u8; 16];
    a[15] = 1;
    let builder = PacketBuilder::ipv6(a, a, 64)
        .tcp(40000, 5005, 1001, 512)
        .ack(5001);
    let mut out = Vec::new();
    builder.write(&mut out, PAYLOAD).unwrap();
    out
}

/// The frame decodes to a TCP packet 40000 -> 5005 carrying PAYLOAD.
fn assert_decodes(kind: LinkKind, frame: &[u8], src: &str) {
    let pkt = decode(kind, 7, 0, frame).unwrap().unwrap();
    assert_eq!(pkt.src.to_string(), src);
    assert_eq!(pkt.dst.port(), 5005);
    match pkt.transport {
        Transport::Tcp(t) => {
            assert_eq!(
                (t.seq, t.ack, t.payload, t.wire_len),
                (1001, 5001, PAYLOAD, 5)
            );
            assert!(t.flags.ack && !t.flags.syn);
        }
        other => panic!("not TCP: {other:?}"),
    }
}

fn with_header(header: &[u8], ip: &[u8]) -> Vec<u8> {
    [header, ip].concat()
}

#[test]
fn ethernet_plain_vlan_and_qinq() {
    let mac = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    let plain = with_header(&[&mac[..], &[0x08, 0x00]].concat(), &ipv4_tcp());
    assert_decodes(LinkKind::Ethernet, &plain, "10.0.0.2:40000");
    let vlan = [&mac[..], &[0x81, 0x00, 0x00, 42, 0x08, 0x00]].concat();
    assert_decodes(
        LinkKind::Ethernet,
        &with_header(&vlan, &ipv4_tcp()),
        "10.0.0.2:40000",
    );
    let qinq = [
        &mac[..],
        &[0x88, 0xa8, 0x00, 100, 0x81, 0x00, 0x00, 42, 0x86, 0xdd],
    ]
    .concat();
    assert_decodes(
        LinkKind::Ethernet,
        &with_header(&qinq, &ipv6_tcp()),
        "[::1]:40000",
    );
}

#[test]
fn linux_cooked_v1_and_v2() {
    // SLL: packet type 0, ARPHRD 772 (loopback), address length 0, 8 address bytes, protocol.
    let mut sll = vec![0, 0, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    sll.extend_from_slice(&[0x08, 0x00]);
    assert_decodes(
        LinkKind::LinuxSll,
        &with_header(&sll, &ipv4_tcp()),
        "10.0.0.2:40000",
    );
    // SLL2: protocol, reserved, ifindex, ARPHRD 1, packet type 4, address length 6, address.
    let sll2 = [
        0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 4, 6, 2, 0, 0, 0, 0, 2, 0, 0,
    ];
    assert_decodes(
        LinkKind::LinuxSll2,
        &with_header(&sll2, &ipv6_tcp()),
        "[::1]:40000",
    );
}

#[test]
fn null_in_both_byte_orders_and_loop() {
    assert_decodes(
        LinkKind::Null,
        &with_header(&2u32.to_le_bytes(), &ipv4_tcp()),
        "10.0.0.2:40000",
    );
    assert_decodes(
        LinkKind::Null,
        &with_header(&2u32.to_be_bytes(), &ipv4_tcp()),
        "10.0.0.2:40000",
    );
    for af6 in [10u32, 24, 28, 30] {
        assert_decodes(
            LinkKind::Null,
            &with_header(&af6.to_le_bytes(), &ipv6_tcp()),
            "[::1]:40000",
        );
        assert_decodes(
            LinkKind::Null,
            &with_header(&af6.to_be_bytes(), &ipv6_tcp()),
            "[::1]:40000",
        );
    }
    assert_decodes(
        LinkKind::Loop,
        &with_header(&30u32.to_be_bytes(), &ipv6_tcp()),
        "[::1]:40000",
    );
}

#[test]
fn raw_ip_link_types() {
    for dlt in [12, 14, 101] {
        let kind = LinkKind::from_dlt(dlt).unwrap();
        assert_eq!(kind, LinkKind::RawIp);
        assert_decodes(kind, &ipv4_tcp(), "10.0.0.2:40000");
        assert_decodes(kind, &ipv6_tcp(), "[::1]:40000");
    }
    assert_decodes(
        LinkKind::from_dlt(228).unwrap(),
        &ipv4_tcp(),
        "10.0.0.2:40000",
    );
    assert_decodes(LinkKind::from_dlt(229).unwrap(), &ipv6_tcp(), "[::1]:40000");
}

#[test]
fn dlt_numbers() {
    let kinds: Vec<LinkKind> = [1, 113, 276, 0, 108]
        .iter()
        .map(|&d| LinkKind::from_dlt(d).unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            LinkKind::Ethernet,
            LinkKind::LinuxSll,
            LinkKind::LinuxSll2,
            LinkKind::Null,
            LinkKind::Loop
        ]
    );
}

#[test]
fn errors_name_the_header_and_the_numbers() {
    let e = LinkKind::from_dlt(147).unwrap_err();
    assert_eq!(e.code(), "link_unsupported");
    assert_eq!(
        e,
        LinkError::UnsupportedLinkType {
            dlt: 147,
            name: Some("USER0".to_string())
        }
    );
    assert_eq!(
        LinkKind::LinuxSll.slice(&[0; 10]).unwrap_err(),
        LinkError::Truncated {
            layer: Header::LinuxSll,
            required_len: 16,
            len: 10
        }
    );
    assert_eq!(
        LinkKind::LinuxSll2.slice(&[0; 3]).unwrap_err(),
        LinkError::Truncated {
            layer: Header::LinuxSll2,
            required_len: 20,
            len: 3
        }
    );
    assert_eq!(
        LinkKind::Ethernet.slice(&[0; 5]).unwrap_err(),
        LinkError::Truncated {
            layer: Header::Ethernet,
            required_len: 14,
            len: 5
        }
    );
    assert_eq!(
        LinkKind::Null.slice(&17u32.to_le_bytes()).unwrap_err(),
        LinkError::NotIp {
            layer: Header::BsdNull,
            protocol: 0x11
        }
    );
    assert_eq!(
        LinkKind::RawIp.slice(&[]).unwrap_err(),
        LinkError::Truncated {
            layer: Header::Ip,
            required_len: 1,
            len: 0
        }
    );
    let e = LinkKind::RawIp.slice(&[0x70, 0, 0, 0]).unwrap_err();
    assert_eq!(e.code(), "frame_malformed");
    assert!(
        matches!(&e, LinkError::Malformed { layer: Header::Ip, reason } if !reason.is_empty()),
        "{e:?}"
    );
}

#[test]
fn cut_ip_and_tcp_headers_say_what_is_missing() {
    let mut frame = ipv4_tcp();
    frame.truncate(30);
    let e = decode(LinkKind::RawIp, 3, 0, &frame).unwrap_err();
    assert_eq!(
        e,
        LinkError::Truncated {
            layer: Header::Tcp,
            required_len: 20,
            len: 10
        }
    );
    frame.truncate(12);
    let e = decode(LinkKind::RawIp, 3, 0, &frame).unwrap_err();
    assert_eq!(e.code(), "frame_truncated");
    assert!(
        matches!(
            e,
            LinkError::Truncated {
                layer: Header::Ip | Header::Ipv4 | Header::Ipv4Packet,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn cut_payload_keeps_the_wire_length() {
    let mut frame = ipv4_tcp();
    frame.truncate(frame.len() - 3);
    let pkt = decode(LinkKind::RawIp, 3, 0, &frame).unwrap().unwrap();
    assert!(pkt.truncated());
    assert_eq!(pkt.payload(), (&PAYLOAD[..2], 5));
}

#[test]
fn syn_options_are_read() {
    let builder = PacketBuilder::ipv4([10, 0, 0, 2], [10, 0, 0, 1], 64)
        .tcp(40000, 5005, 1000, 65535)
        .syn()
        .options(&[
            TcpOptionElement::MaximumSegmentSize(1460),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOptionElement::Timestamp(1, 0),
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(7),
        ])
        .unwrap();
    let mut frame = Vec::new();
    builder.write(&mut frame, &[]).unwrap();
    let pkt = decode(LinkKind::RawIp, 1, 0, &frame).unwrap().unwrap();
    let Transport::Tcp(t) = pkt.transport else {
        panic!("not TCP")
    };
    assert!(t.flags.syn && !t.flags.ack);
    assert_eq!(
        t.options,
        crate::packet::TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: true
        }
    );
}

#[test]
fn non_ip_frames_are_skipped_quietly() {
    let mac = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    let arp = [&mac[..], &[0x08, 0x06], &[0u8; 28]].concat();
    assert_eq!(decode(LinkKind::Ethernet, 1, 0, &arp), Ok(None));
    let sll_other = [0u8, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0xcc];
    assert_eq!(decode(LinkKind::LinuxSll, 1, 0, &sll_other), Ok(None));
}
