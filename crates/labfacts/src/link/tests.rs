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
    let e = LinkKind::from_dlt(7).unwrap_err();
    assert_eq!(e.code(), "link_unsupported");
    assert_eq!(
        e,
        LinkError::UnsupportedLinkType {
            dlt: 7,
            name: Some("ARCNET".to_string())
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

mod new_links {
    //! PPP, NFLOG, 802.11 (radiotap, Prism), FDDI and tunnels: frames built by
    //! labfixtures (independently of this parser), then damaged.

    use super::*;
    use crate::link::encap::Undecoded;
    use crate::packet::decode_frame;
    use labfixtures::wrap::{Tunnel, Wrap};

    fn kind(w: Wrap) -> LinkKind {
        LinkKind::from_dlt(w.linktype() as i32).unwrap()
    }

    /// The headers a cut inside `w`'s link header may name.
    fn link_headers(w: Wrap) -> &'static [Header] {
        match w {
            Wrap::PppHdlc | Wrap::PppBare | Wrap::PppCompressed | Wrap::PppSerial => &[Header::Ppp],
            Wrap::CiscoHdlc => &[Header::Ppp, Header::CiscoHdlc],
            Wrap::PppEther => &[Header::PppoeSession, Header::Ppp],
            Wrap::Nflog => &[Header::Nflog, Header::NflogTlv],
            Wrap::Ieee80211 | Wrap::Ieee80211QosWds => {
                &[Header::Ieee80211, Header::Llc, Header::Snap]
            }
            Wrap::Radiotap => &[
                Header::Radiotap,
                Header::Ieee80211,
                Header::Llc,
                Header::Snap,
            ],
            Wrap::Prism => &[Header::Prism, Header::Ieee80211, Header::Llc, Header::Snap],
            Wrap::Fddi => &[Header::Fddi, Header::Llc, Header::Snap],
            // labsniff's words name no ARCnet or IPoIB header yet.
            Wrap::ArcnetLinux | Wrap::Ipoib => &[Header::Other],
        }
    }

    #[test]
    fn whole_frames_decode_to_the_packet() {
        for w in Wrap::ALL {
            for from_server in [false, true] {
                assert_decodes(
                    kind(w),
                    &w.frame(&ipv4_tcp(), from_server),
                    "10.0.0.2:40000",
                );
                assert_decodes(kind(w), &w.frame(&ipv6_tcp(), from_server), "[::1]:40000");
            }
        }
    }

    /// Every cut of every frame: no panic; a cut inside the link header is a truncated
    /// frame naming that header; any other error is a truncated IP or TCP layer (or,
    /// with radiotap's FCS taken off the cut frame's end, the 802.11 layers).
    #[test]
    fn every_cut_is_a_truncated_frame_naming_its_header() {
        let ip = ipv4_tcp();
        let ip_layers = [Header::Ip, Header::Ipv4, Header::Ipv4Packet, Header::Tcp];
        for w in Wrap::ALL {
            let frame = w.frame(&ip, false);
            let link_len = frame.windows(ip.len()).position(|x| x == ip).unwrap();
            for cut in 0..frame.len() {
                let Err(e) = decode_frame(kind(w), 1, 0, &frame[..cut]) else {
                    continue;
                };
                let LinkError::Truncated { layer, .. } = e else {
                    panic!("{w:?} cut at {cut}: {e:?}");
                };
                let named = link_headers(w).contains(&layer);
                if cut < link_len {
                    assert!(named, "{w:?} cut at {cut}: {e:?}");
                } else {
                    assert!(
                        named || ip_layers.contains(&layer),
                        "{w:?} cut at {cut}: {e:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_cut_of_every_tunnel_never_panics_and_names_an_ip_layer() {
        for t in Tunnel::ALL {
            let inner = if t == Tunnel::Ipip {
                ipv4_tcp()
            } else {
                ipv6_tcp()
            };
            let packet = t.packet(&inner, true);
            assert_decodes(
                LinkKind::RawIp,
                &packet,
                if t == Tunnel::Ipip {
                    "10.0.0.2:40000"
                } else {
                    "[::1]:40000"
                },
            );
            for cut in 0..packet.len() {
                match decode_frame(LinkKind::RawIp, 1, 0, &packet[..cut]) {
                    Ok(_) => {}
                    Err(LinkError::Truncated { .. }) => {}
                    Err(e) => panic!("{t:?} cut at {cut}: {e:?}"),
                }
            }
        }
    }

    #[test]
    fn ppp_control_protocols_and_wifi_management_frames_are_skipped_quietly() {
        // LCP (0xc021) over PPP; a beacon; a null data frame.
        assert_eq!(
            decode(LinkKind::Ppp, 1, 0, &[0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4]),
            Ok(None)
        );
        let mut beacon = vec![0x80, 0];
        beacon.resize(40, 0);
        assert_eq!(decode(LinkKind::Ieee80211, 1, 0, &beacon), Ok(None));
        let mut null = vec![0x48, 0x01];
        null.resize(24, 0);
        assert_eq!(decode(LinkKind::Ieee80211, 1, 0, &null), Ok(None));
        // NFLOG of another family, and a message without the packet.
        assert_eq!(decode(LinkKind::Nflog, 1, 0, &[7, 0, 0, 1]), Ok(None));
        assert_eq!(
            decode(
                LinkKind::Nflog,
                1,
                0,
                &[2, 0, 0, 1, 8, 0, 10, 0, b'a', 0, 0, 0]
            ),
            Ok(None)
        );
    }

    #[test]
    fn wifi_frames_that_cannot_be_decoded_say_why() {
        let frame = Wrap::Ieee80211.frame(&ipv4_tcp(), false);
        let with = |at: usize, bits: u8| {
            let mut f = frame.clone();
            f[at] |= bits;
            LinkKind::Ieee80211.slice(&f).unwrap_err()
        };
        assert_eq!(
            with(1, 0x40),
            LinkError::Undecoded(Undecoded::Ieee80211Protected)
        );
        assert_eq!(
            with(1, 0x04),
            LinkError::Undecoded(Undecoded::Ieee80211Fragment)
        );
        assert_eq!(
            with(22, 0x01),
            LinkError::Undecoded(Undecoded::Ieee80211Fragment)
        );
        let qos = Wrap::Ieee80211QosWds.frame(&ipv4_tcp(), false);
        let mut amsdu = qos.clone();
        amsdu[30] |= 0x80;
        assert_eq!(
            LinkKind::Ieee80211.slice(&amsdu).unwrap_err(),
            LinkError::Undecoded(Undecoded::Ieee80211Amsdu)
        );
    }

    #[test]
    fn lengths_shorter_than_their_header_are_malformed() {
        let e = LinkKind::Nflog
            .slice(&[2, 0, 0, 1, 2, 0, 9, 0])
            .unwrap_err();
        assert_eq!(
            e,
            LinkError::LengthTooShort {
                layer: Header::NflogTlv,
                claimed: 2,
                min: 4
            }
        );
        assert_eq!(e.code(), "frame_malformed");
        let e = LinkKind::Radiotap
            .slice(&[0, 0, 4, 0, 0, 0, 0, 0])
            .unwrap_err();
        assert_eq!(
            e,
            LinkError::LengthTooShort {
                layer: Header::Radiotap,
                claimed: 4,
                min: 8
            }
        );
    }

    #[test]
    fn radiotap_without_fcs_and_with_data_padding() {
        // Flags only (no TSFT): 0x20 data pad; a QoS header of 26 bytes padded to 28.
        let ip = ipv4_tcp();
        let mut frame = vec![0, 0, 9, 0, 0x02, 0, 0, 0, 0x20];
        let mut wlan = Wrap::Ieee80211.frame(&ip, false);
        wlan[0] = 0x88;
        wlan.splice(24..24, [0, 0, 0xee, 0xee]);
        frame.extend_from_slice(&wlan);
        assert_decodes(LinkKind::Radiotap, &frame, "10.0.0.2:40000");
        // Two present words (the first with the extension bit), then TSFT at offset
        // 16 (8-aligned), Flags (FCS at the end) and Rate: a 26-byte header.
        let fcs = Wrap::Radiotap.frame(&ip, false);
        let mut extended = vec![0, 0, 26, 0, 0x07, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0];
        extended.extend_from_slice(&fcs[8..]);
        assert_decodes(LinkKind::Radiotap, &extended, "10.0.0.2:40000");
        // Without the FCS flag the 4 FCS bytes stay: IP's length still bounds the packet.
        let mut no_flag = fcs.clone();
        no_flag[16] = 0;
        assert_decodes(LinkKind::Radiotap, &no_flag, "10.0.0.2:40000");
    }

    #[test]
    fn tunnels_nest_at_most_four_deep() {
        let mut packet = ipv4_tcp();
        for depth in 1..=5 {
            packet = Tunnel::Ipip.packet(&packet, false);
            let result = decode(LinkKind::RawIp, 1, 0, &packet);
            if depth <= 4 {
                assert!(matches!(result, Ok(Some(_))), "{depth}: {result:?}");
            } else {
                assert_eq!(result, Err(LinkError::Undecoded(Undecoded::TunnelTooDeep)));
            }
        }
    }

    #[test]
    fn udp_on_the_teredo_port_that_is_not_ipv6_stays_udp() {
        let builder = PacketBuilder::ipv4([10, 0, 0, 2], [10, 0, 0, 1], 64).udp(40000, 3544);
        let mut out = Vec::new();
        let text = b"hello, this line is longer than an IPv6 header is!\n";
        builder.write(&mut out, text).unwrap();
        let pkt = decode(LinkKind::RawIp, 1, 0, &out).unwrap().unwrap();
        assert_eq!(pkt.payload(), (&text[..], text.len()));
    }

    #[test]
    fn arcnet_rfc1051_ip_and_the_numbers() {
        assert_eq!(LinkKind::from_dlt(129), Ok(LinkKind::ArcnetLinux));
        assert_eq!(LinkKind::from_dlt(242), Ok(LinkKind::Ipoib));
        assert_eq!(LinkKind::ArcnetLinux.name(), "arcnet_linux");
        assert_eq!(LinkKind::Ipoib.name(), "ipoib");
        // RFC 1051 IPv4 (0xf0): no split flag or sequence number.
        let frame = with_header(&[2, 1, 0, 0, 0xf0], &ipv4_tcp());
        assert_decodes(LinkKind::ArcnetLinux, &frame, "10.0.0.2:40000");
        // A split flag is not a reason to stop (Linux reassembled the packet).
        let frame = with_header(&[2, 1, 0, 0, 0xd4, 0x03, 0, 7], &ipv4_tcp());
        assert_decodes(LinkKind::ArcnetLinux, &frame, "10.0.0.2:40000");
    }

    #[test]
    fn arcnet_and_ipoib_short_frames_are_truncated_with_the_numbers() {
        let cut = |kind: LinkKind, frame: &[u8]| kind.slice(frame).unwrap_err();
        let truncated = |required_len, len| LinkError::Truncated {
            layer: Header::Other,
            required_len,
            len,
        };
        assert_eq!(cut(LinkKind::ArcnetLinux, &[]), truncated(5, 0));
        assert_eq!(cut(LinkKind::ArcnetLinux, &[2, 1, 0, 0]), truncated(5, 4));
        // RFC 1201: the split flag and sequence number are part of the header.
        assert_eq!(
            cut(LinkKind::ArcnetLinux, &[2, 1, 0, 0, 0xd4, 0]),
            truncated(8, 6)
        );
        assert_eq!(
            cut(LinkKind::ArcnetLinux, &[2, 1, 0, 0, 0xc4, 0, 0]),
            truncated(8, 7)
        );
        // A whole header and nothing after it: the IP header is what is missing.
        let e = decode_frame(LinkKind::ArcnetLinux, 3, 0, &[2, 1, 0, 0, 0xf0]).unwrap_err();
        assert!(
            matches!(
                e,
                LinkError::Truncated {
                    layer: Header::Ip | Header::Ipv4,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(cut(LinkKind::Ipoib, &[0; 43]), truncated(44, 43));
        assert_eq!(cut(LinkKind::Ipoib, &[]), truncated(44, 0));
    }

    #[test]
    fn arcnet_and_ipoib_protocols_that_are_not_ip_are_skipped_quietly() {
        // ARCnet: RFC 1201 ARP (0xd5), RARP (0xd6), RFC 1051 ARP (0xf1), IPX (0xfa).
        for protocol in [0xd5u8, 0xd6, 0xf1, 0xfa, 0x00] {
            let frame = [2, 1, 0, 0, protocol, 0, 0, 1, 0, 1, 8, 0];
            assert_eq!(
                LinkKind::ArcnetLinux.slice(&frame).unwrap_err(),
                LinkError::NotIp {
                    layer: Header::Other,
                    protocol: u32::from(protocol)
                }
            );
            assert_eq!(decode(LinkKind::ArcnetLinux, 1, 0, &frame), Ok(None));
        }
        // IPoIB: ARP (0x0806) after the pseudo GRH.
        let mut arp = vec![0u8; 40];
        arp.extend_from_slice(&[0x08, 0x06, 0, 0]);
        arp.resize(72, 0);
        assert_eq!(
            LinkKind::Ipoib.slice(&arp).unwrap_err(),
            LinkError::NotIp {
                layer: Header::Other,
                protocol: 0x0806
            }
        );
        assert_eq!(decode(LinkKind::Ipoib, 1, 0, &arp), Ok(None));
    }

    /// Juniper's types (JUNIPER_ETHER 178, JUNIPER_PPP 180, JUNIPER_ATM1 137, ...) stay
    /// unsupported, named by their number: their headers differ per PIC.
    #[test]
    fn juniper_link_types_stay_unsupported() {
        for dlt in [137, 178, 180, 183] {
            match LinkKind::from_dlt(dlt) {
                Err(LinkError::UnsupportedLinkType { dlt: d, .. }) => assert_eq!(d, dlt),
                other => panic!("{dlt}: {other:?}"),
            }
        }
    }
}
