//! The common frame, decoded by hand: Ethernet II (no VLAN tag) or raw IP, an
//! unfragmented IPv4 packet captured whole, and a TCP header with well-formed options.
//!
//! Nearly every frame of a lab capture is exactly that. etherparse's general
//! slicing (every link, tunnel and extension header, lax error recovery) and the
//! copies of its large slice structs were ~15% of `labsniff -r` (perf, 2.3 M
//! packets). Anything unusual — other links or EtherTypes, IPv6, fragments, a cut
//! frame, odd lengths, unknown or malformed TCP options — returns `None` and takes
//! the general path in [`super::decode`], which owns every error message. A test
//! checks that this path gives exactly what the general path gives.

use super::{Micros, Packet, TcpFlags, TcpOptions, TcpSegment, Transport};
use crate::link::LinkKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

const ETHERNET_HEADER: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const IPV4_MIN_HEADER: usize = 20;
const TCP_MIN_HEADER: usize = 20;
const PROTOCOL_TCP: u8 = 6;

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The frame as a TCP-over-IPv4 packet, or `None` for "use the general path".
pub fn decode(kind: LinkKind, frame: u64, ts: Micros, data: &[u8]) -> Option<Packet<'_>> {
    let ip = match kind {
        LinkKind::Ethernet => {
            if be16(data, 12)? != ETHERTYPE_IPV4 {
                return None;
            }
            data.get(ETHERNET_HEADER..)?
        }
        LinkKind::Ipv4 | LinkKind::RawIp => data,
        _ => return None,
    };
    let first = *ip.first()?;
    let header_len = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header_len < IPV4_MIN_HEADER {
        return None;
    }
    let total_len = usize::from(be16(ip, 2)?);
    // Whole (nothing cut by the snaplen; Ethernet padding after it is fine), with
    // room for a TCP header.
    if total_len > ip.len() || total_len < header_len + TCP_MIN_HEADER {
        return None;
    }
    // More-fragments flag or a fragment offset: reassembly is not this path's job.
    if be16(ip, 6)? & 0x3fff != 0 || ip[9] != PROTOCOL_TCP {
        return None;
    }
    let src_ip = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst_ip = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let tcp = &ip[header_len..total_len];
    let data_offset = usize::from(tcp[12] >> 4) * 4;
    if data_offset < TCP_MIN_HEADER || data_offset > tcp.len() {
        return None;
    }
    let options = tcp_options(&tcp[TCP_MIN_HEADER..data_offset])?;
    let flags = tcp[13];
    let payload = &tcp[data_offset..];
    Some(Packet {
        frame,
        ts,
        src: SocketAddr::new(IpAddr::V4(src_ip), be16(tcp, 0)?),
        dst: SocketAddr::new(IpAddr::V4(dst_ip), be16(tcp, 2)?),
        transport: Transport::Tcp(TcpSegment {
            seq: be32(tcp, 4)?,
            ack: be32(tcp, 8)?,
            flags: TcpFlags {
                fin: flags & 0x01 != 0,
                syn: flags & 0x02 != 0,
                rst: flags & 0x04 != 0,
                psh: flags & 0x08 != 0,
                ack: flags & 0x10 != 0,
            },
            window: be16(tcp, 14)?,
            options,
            payload,
            wire_len: payload.len(),
        }),
    })
}

/// MSS, window scale and SACK-permitted from the options; `None` when an option is
/// not one of the common kinds with its one valid length (the general path decides).
fn tcp_options(mut bytes: &[u8]) -> Option<TcpOptions> {
    // Linux's options on every segment after the handshake when timestamps are on:
    // NOP, NOP, timestamps (what the loop below finds too, without the loop).
    if bytes.len() == 12 && bytes[..4] == [1, 1, 8, 10] {
        return Some(TcpOptions {
            timestamps: true,
            ..TcpOptions::default()
        });
    }
    let mut options = TcpOptions::default();
    while let Some(&kind) = bytes.first() {
        match kind {
            0 => break,
            1 => {
                bytes = &bytes[1..];
                continue;
            }
            _ => {}
        }
        let len = usize::from(*bytes.get(1)?);
        let body = bytes.get(2..len)?;
        match (kind, len) {
            (2, 4) => options.mss = Some(u16::from_be_bytes([body[0], body[1]])),
            (3, 3) => options.window_scale = Some(body[0]),
            (4, 2) => options.sack_permitted = true,
            (8, 10) => options.timestamps = true,
            (5, 10 | 18 | 26 | 34) => {}
            _ => return None,
        }
        bytes = &bytes[len..];
    }
    Some(options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::decode_general;
    use labfixtures::{lab, Capture, Dir, LinkType};
    use proptest::prelude::*;

    /// Frames of every kind a lab conversation has, with and without TCP timestamps,
    /// on `link`: handshake (MSS, SACK-permitted, window scale), data, ACKs, FIN, RST,
    /// plus a UDP datagram and an IPv6 conversation (both for the general path).
    fn frames(link: LinkType) -> Vec<Vec<u8>> {
        let mut cap = Capture::new(link);
        let server = "10.0.0.1:5005".parse().unwrap();
        let mut plain = cap.tcp("10.0.0.2:40000".parse().unwrap(), server);
        plain.handshake(&mut cap);
        plain.send(&mut cap, Dir::C2S, &lab::v3(1, b"hello"));
        plain.ack(&mut cap, Dir::S2C);
        plain.send(&mut cap, Dir::S2C, &lab::v3(1, b"hello"));
        plain.close(&mut cap);
        let mut stamped = cap
            .tcp("10.0.0.3:40001".parse().unwrap(), server)
            .with_timestamps();
        stamped.handshake(&mut cap);
        stamped.send(
            &mut cap,
            Dir::C2S,
            &lab::v2(7, b"a longer message, cut to twenty"),
        );
        stamped.rst(&mut cap, Dir::S2C);
        let mut v6 = cap.tcp(
            "[2001:db8::2]:40002".parse().unwrap(),
            "[2001:db8::1]:5005".parse().unwrap(),
        );
        v6.handshake(&mut cap);
        cap.udp("10.0.0.4:40003".parse().unwrap(), server, b"hi\n");
        cap.frame_list().iter().map(|f| f.data.clone()).collect()
    }

    fn kind_of(link: LinkType) -> LinkKind {
        LinkKind::from_dlt(link.dlt() as i32).unwrap()
    }

    /// Wherever the fast path answers, the general path gives the same packet.
    fn agree(kind: LinkKind, data: &[u8]) -> bool {
        match decode(kind, 9, 1234, data) {
            Some(fast) => {
                assert_eq!(decode_general(kind, 9, 1234, data), Ok(Some(fast)));
                true
            }
            None => false,
        }
    }

    #[test]
    fn takes_plain_tcp_over_ipv4_and_agrees_with_the_general_path() {
        for link in [LinkType::Ethernet, LinkType::RawIp] {
            let all = frames(link);
            let taken = all.iter().filter(|f| agree(kind_of(link), f)).count();
            // All but the 3 IPv6 handshake frames and the UDP datagram.
            assert_eq!(taken, all.len() - 4, "{link:?}");
        }
    }

    #[test]
    fn leaves_vlan_sll_and_cut_frames_to_the_general_path() {
        for link in [LinkType::EthernetVlan { vid: 5 }, LinkType::LinuxSll] {
            for f in frames(link) {
                assert!(!agree(kind_of(link), &f), "{link:?}");
            }
        }
        for f in frames(LinkType::Ethernet) {
            assert!(!agree(LinkKind::Ethernet, &f[..f.len() - 1]) || f.len() == 60);
        }
    }

    #[test]
    fn leaves_ip_fragments_to_the_defragmenter() {
        for (client, server) in [
            ("10.0.0.2:40000", "10.0.0.1:5005"),
            ("[2001:db8::2]:40000", "[2001:db8::1]:5005"),
        ] {
            let mut cap = Capture::new(LinkType::Ethernet);
            let mut flow = cap.tcp(client.parse().unwrap(), server.parse().unwrap());
            flow.handshake(&mut cap);
            flow.send(&mut cap.fragmenting(1500), Dir::C2S, &[7u8; 4000]);
            let all = cap.frame_list();
            assert_eq!(all.len(), 6);
            for (i, f) in all[3..].iter().enumerate() {
                assert!(
                    decode(LinkKind::Ethernet, 1, 0, &f.data).is_none(),
                    "fragment {i}"
                );
                let general = crate::packet::decode_frame(LinkKind::Ethernet, 1, 0, &f.data);
                match general {
                    Ok(crate::packet::Decoded::Fragment(frag)) => {
                        assert_eq!(frag.more, i < 2);
                        assert_eq!(frag.offset == 0, i == 0);
                    }
                    other => panic!("fragment {i}: {other:?}"),
                }
                assert_eq!(decode_general(LinkKind::Ethernet, 1, 0, &f.data), Ok(None));
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_on_damaged_frames(
            which in 0usize..32,
            edits in proptest::collection::vec((0usize..120, any::<u8>()), 1..4),
            cut in 0usize..140,
        ) {
            for link in [LinkType::Ethernet, LinkType::RawIp] {
                let all = frames(link);
                let mut f = all[which % all.len()].clone();
                for &(at, value) in &edits {
                    if let Some(b) = f.get_mut(at) {
                        *b = value;
                    }
                }
                f.truncate(cut.max(1));
                agree(kind_of(link), &f);
            }
        }
    }
}
