//! Just enough of an Ethernet frame to decide and log its fate: the addresses, the
//! transport ports, TCP flags, sequence numbers and payload length.
//!
//! Hand-written (a few fixed offsets) so labnet needs no packet-parsing crate;
//! every read is bounds-checked, a cut or odd frame is summarised as far as it goes.

use serde::Serialize;
use std::net::IpAddr;

/// The transport part of an IP frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "proto", rename_all = "lowercase")]
pub enum Transport {
    Tcp {
        sport: u16,
        dport: u16,
        /// "SYN", "SYN,ACK", "ACK", "FIN,ACK", "PSH,ACK", "RST"...
        flags: String,
        #[serde(skip)]
        syn: bool,
        seq: u32,
        ack: u32,
        win: u16,
        /// Payload bytes.
        len: usize,
    },
    Udp {
        sport: u16,
        dport: u16,
        len: usize,
    },
    Icmp {
        /// IP protocol number (1 ICMP, 58 ICMPv6).
        ip_proto: u8,
    },
    Other {
        ip_proto: u8,
    },
}

/// What the forwarder knows about one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// IPv4 or IPv6: impairment applies.
    Ip {
        src: IpAddr,
        dst: IpAddr,
        transport: Transport,
    },
    /// ARP and anything else: passed at once, never impaired, so neighbour
    /// discovery of IPv4 always works.
    NonIp { ethertype: u16 },
}

impl Frame {
    pub fn is_ip(&self) -> bool {
        matches!(self, Frame::Ip { .. })
    }
    pub fn is_syn(&self) -> bool {
        matches!(
            self,
            Frame::Ip {
                transport: Transport::Tcp { syn: true, .. },
                ..
            }
        )
    }
    pub fn is_tcp_data(&self) -> bool {
        matches!(self, Frame::Ip { transport: Transport::Tcp { len, .. }, .. } if *len > 0)
    }
    pub fn is_udp(&self) -> bool {
        matches!(
            self,
            Frame::Ip {
                transport: Transport::Udp { .. },
                ..
            }
        )
    }
}

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}
fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(i)?,
        *b.get(i + 1)?,
        *b.get(i + 2)?,
        *b.get(i + 3)?,
    ]))
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;

/// Summarise an Ethernet frame (a frame too short to hold an Ethernet header is
/// `NonIp { ethertype: 0 }`).
pub fn parse(frame: &[u8]) -> Frame {
    let Some(ethertype) = u16_at(frame, 12) else {
        return Frame::NonIp { ethertype: 0 };
    };
    let ip = frame.get(14..).unwrap_or(&[]);
    let parsed = match ethertype {
        ETH_IPV4 => parse_ipv4(ip),
        ETH_IPV6 => parse_ipv6(ip),
        _ => None,
    };
    parsed.unwrap_or(Frame::NonIp { ethertype })
}

fn parse_ipv4(ip: &[u8]) -> Option<Frame> {
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let total = usize::from(u16_at(ip, 2)?);
    let proto = *ip.get(9)?;
    let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
    let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
    // Ethernet pads short frames to 60 bytes: the IP total length says where data ends.
    let body = ip.get(ihl..total.min(ip.len()).max(ihl))?;
    Some(Frame::Ip {
        src: IpAddr::from(src),
        dst: IpAddr::from(dst),
        transport: transport(proto, body),
    })
}

fn parse_ipv6(ip: &[u8]) -> Option<Frame> {
    let payload_len = usize::from(u16_at(ip, 4)?);
    let next = *ip.get(6)?;
    let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
    let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
    // Extension headers are not followed: the lab's traffic has none.
    let body = ip.get(40..(40 + payload_len).min(ip.len()).max(40))?;
    Some(Frame::Ip {
        src: IpAddr::from(src),
        dst: IpAddr::from(dst),
        transport: transport(next, body),
    })
}

fn tcp_flags(bits: u8) -> String {
    const NAMES: [(u8, &str); 6] = [
        (0x02, "SYN"),
        (0x01, "FIN"),
        (0x04, "RST"),
        (0x08, "PSH"),
        (0x10, "ACK"),
        (0x20, "URG"),
    ];
    let names: Vec<&str> = NAMES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    names.join(",")
}

fn transport(proto: u8, body: &[u8]) -> Transport {
    let other = Transport::Other { ip_proto: proto };
    match proto {
        6 => (|| {
            let offset = usize::from(body.get(12)? >> 4) * 4;
            let bits = *body.get(13)?;
            Some(Transport::Tcp {
                sport: u16_at(body, 0)?,
                dport: u16_at(body, 2)?,
                flags: tcp_flags(bits),
                syn: bits & 0x02 != 0,
                seq: u32_at(body, 4)?,
                ack: u32_at(body, 8)?,
                win: u16_at(body, 14)?,
                len: body.len().saturating_sub(offset),
            })
        })()
        .unwrap_or(other),
        17 => (|| {
            Some(Transport::Udp {
                sport: u16_at(body, 0)?,
                dport: u16_at(body, 2)?,
                len: body.len().saturating_sub(8),
            })
        })()
        .unwrap_or(other),
        1 | 58 => Transport::Icmp { ip_proto: proto },
        _ => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_tcp(flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12] = 0x08;
        let total = 20 + 20 + payload.len();
        let mut ip = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0,
            0,
            64,
            6,
            0,
            0,
        ];
        ip.extend([10, 55, 0, 2, 10, 55, 0, 1]);
        let mut tcp = vec![
            0xa0, 0x00, 0x13, 0x8d, 0, 0, 0, 7, 0, 0, 0, 9, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0,
        ];
        tcp.extend_from_slice(payload);
        f.extend(ip);
        f.extend(tcp);
        f
    }

    #[test]
    fn tcp_over_ipv4_is_summarised() {
        let f = parse(&ipv4_tcp(0x18, b"hello"));
        assert!(f.is_tcp_data() && !f.is_syn());
        let Frame::Ip { src, transport, .. } = f else {
            panic!("not IP")
        };
        assert_eq!(src.to_string(), "10.55.0.2");
        assert_eq!(
            transport,
            Transport::Tcp {
                sport: 40960,
                dport: 5005,
                flags: "PSH,ACK".into(),
                syn: false,
                seq: 7,
                ack: 9,
                win: 65535,
                len: 5
            }
        );
        assert!(parse(&ipv4_tcp(0x02, b"")).is_syn());
    }

    #[test]
    fn ethernet_padding_is_not_payload_and_cut_frames_do_not_panic() {
        let mut f = ipv4_tcp(0x10, b"");
        f.extend([0u8; 6]); // padding to 60 bytes
        assert!(!parse(&f).is_tcp_data());
        for cut in 0..f.len() {
            let _ = parse(&f[..cut]);
        }
        assert_eq!(parse(&[0u8; 3]), Frame::NonIp { ethertype: 0 });
    }
}
