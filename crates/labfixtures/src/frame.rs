//! The one frame builder: link header, IPv4/IPv6 header and TCP/UDP segment, laid
//! out with `pnet_packet` and checksummed with its functions.
//!
//! Both [`crate::Capture`] (in memory) and [`crate::synth`] (streamed to disk) build
//! every frame here, so the two cannot disagree on a byte.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use pnet_packet::ip::{IpNextHeaderProtocol, IpNextHeaderProtocols};
use pnet_packet::ipv4::{self, Ipv4Flags, MutableIpv4Packet};
use pnet_packet::ipv6::MutableIpv6Packet;
use pnet_packet::tcp::{self, MutableTcpPacket, TcpOption};
use pnet_packet::udp::{self, MutableUdpPacket};

use crate::link::{self, LinkInfo, LinkType, AF_INET6_BSD};

pub const IPV4_HEADER_LEN: usize = 20;
pub const IPV6_HEADER_LEN: usize = 40;
pub const TCP_HEADER_LEN: usize = 20;
pub const UDP_HEADER_LEN: usize = 8;
/// TTL of IPv4 packets and hop limit of IPv6 packets (Linux's default).
pub const HOP_LIMIT: u8 = 64;
/// MSS announced in SYNs: what Linux announces on `lo` (MTU 65536 − 40).
pub const SYN_MSS: u16 = 65495;
/// Window scale shift announced in SYNs.
pub const SYN_WINDOW_SCALE: u8 = 7;
/// Window field of SYN segments (never scaled).
pub const SYN_WINDOW: u16 = 65535;
/// Window field of every later segment: 65536 bytes after the ×128 scale.
pub const DATA_WINDOW: u16 = 512;

/// TCP flag bits, as on the wire.
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// Which TCP options a segment carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOptions {
    None,
    /// SYN / SYN-ACK options: MSS 65495, SACK permitted, window scale 7, and TSval/TSecr
    /// when given (laid out as Linux does: 12 bytes without timestamps, 20 with).
    Syn {
        timestamp: Option<(u32, u32)>,
    },
    /// [`TcpOptions::Syn`] with another MSS (1460 on an Ethernet link of MTU 1500).
    SynMss {
        mss: u16,
        timestamp: Option<(u32, u32)>,
    },
    /// NOP, NOP, timestamps (TSval, TSecr): 12 bytes, as on every segment of a
    /// connection that negotiated timestamps.
    Timestamp(u32, u32),
}

impl TcpOptions {
    fn to_pnet(self) -> Vec<TcpOption> {
        match self {
            TcpOptions::None => Vec::new(),
            TcpOptions::Syn { timestamp } => TcpOptions::SynMss {
                mss: SYN_MSS,
                timestamp,
            }
            .to_pnet(),
            TcpOptions::SynMss {
                mss,
                timestamp: None,
            } => vec![
                TcpOption::mss(mss),
                TcpOption::nop(),
                TcpOption::nop(),
                TcpOption::sack_perm(),
                TcpOption::nop(),
                TcpOption::wscale(SYN_WINDOW_SCALE),
            ],
            TcpOptions::SynMss {
                mss,
                timestamp: Some((val, ecr)),
            } => vec![
                TcpOption::mss(mss),
                TcpOption::sack_perm(),
                TcpOption::timestamp(val, ecr),
                TcpOption::nop(),
                TcpOption::wscale(SYN_WINDOW_SCALE),
            ],
            TcpOptions::Timestamp(val, ecr) => vec![
                TcpOption::nop(),
                TcpOption::nop(),
                TcpOption::timestamp(val, ecr),
            ],
        }
    }

    /// Bytes of options (always a multiple of 4).
    pub fn len(self) -> usize {
        match self {
            TcpOptions::None => 0,
            TcpOptions::Syn { timestamp: None }
            | TcpOptions::SynMss {
                timestamp: None, ..
            }
            | TcpOptions::Timestamp(..) => 12,
            TcpOptions::Syn { timestamp: Some(_) }
            | TcpOptions::SynMss {
                timestamp: Some(_), ..
            } => 20,
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// One TCP segment to build.
#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Sent by the server (decides MACs and the SLL packet type).
    pub from_server: bool,
    pub seq: u32,
    pub ack: u32,
    /// Bits from [`flags`].
    pub flags: u8,
    pub window: u16,
    pub options: TcpOptions,
    pub payload: &'a [u8],
}

/// Source and destination as one IP family. A v4 address paired with a v6 one is
/// written as its v4-mapped v6 address (`::ffff:a.b.c.d`), as a dual-stack socket would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IpPair {
    V4(Ipv4Addr, Ipv4Addr),
    V6(Ipv6Addr, Ipv6Addr),
}

impl IpPair {
    fn of(src: IpAddr, dst: IpAddr) -> IpPair {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => IpPair::V4(s, d),
            (s, d) => IpPair::V6(as_v6(s), as_v6(d)),
        }
    }

    fn header_len(self) -> usize {
        match self {
            IpPair::V4(..) => IPV4_HEADER_LEN,
            IpPair::V6(..) => IPV6_HEADER_LEN,
        }
    }

    fn loopback(self) -> bool {
        match self {
            IpPair::V4(s, d) => s.is_loopback() && d.is_loopback(),
            IpPair::V6(s, d) => s.is_loopback() && d.is_loopback(),
        }
    }
}

fn as_v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// Builds whole frames for one link type; remembers the IPv4 identification counter.
#[derive(Debug, Clone)]
pub struct FrameBuilder {
    link: LinkType,
    next_ip_id: u16,
    null_af_inet6: u32,
}

impl FrameBuilder {
    pub fn new(link: LinkType) -> FrameBuilder {
        FrameBuilder {
            link,
            next_ip_id: 1,
            null_af_inet6: AF_INET6_BSD,
        }
    }

    pub fn link(&self) -> LinkType {
        self.link
    }

    /// The AF_INET6 value written in LINKTYPE_NULL headers (24 by default; macOS writes 30).
    pub fn set_null_af_inet6(&mut self, family: u32) {
        self.null_af_inet6 = family;
    }

    /// Replace `out` with the frame carrying `seg`.
    ///
    /// Length fields saturate at 65535: a payload too large for one IP packet gives a
    /// frame whose length fields are wrong (a malformed packet, not a panic).
    pub fn tcp(&mut self, out: &mut Vec<u8>, seg: &TcpSegment<'_>) {
        let ips = IpPair::of(seg.src.ip(), seg.dst.ip());
        let header_len = TCP_HEADER_LEN + seg.options.len();
        let l4_len = header_len + seg.payload.len();
        let at = self.begin(
            out,
            ips,
            l4_len,
            seg.from_server,
            IpNextHeaderProtocols::Tcp,
        );
        let Some(mut tcp) = MutableTcpPacket::new(&mut out[at..]) else {
            return;
        };
        tcp.set_source(seg.src.port());
        tcp.set_destination(seg.dst.port());
        tcp.set_sequence(seg.seq);
        tcp.set_acknowledgement(seg.ack);
        // header_len ≤ 40, so the data offset (in 32-bit words) fits its 4 bits.
        tcp.set_data_offset((header_len / 4) as u8);
        tcp.set_reserved(0);
        tcp.set_flags(seg.flags);
        tcp.set_window(seg.window);
        tcp.set_urgent_ptr(0);
        tcp.set_options(&seg.options.to_pnet());
        tcp.set_payload(seg.payload);
        let checksum = match ips {
            IpPair::V4(s, d) => tcp::ipv4_checksum(&tcp.to_immutable(), &s, &d),
            IpPair::V6(s, d) => tcp::ipv6_checksum(&tcp.to_immutable(), &s, &d),
        };
        tcp.set_checksum(checksum);
    }

    /// Replace `out` with the frame carrying one UDP datagram.
    pub fn udp(
        &mut self,
        out: &mut Vec<u8>,
        src: SocketAddr,
        dst: SocketAddr,
        from_server: bool,
        payload: &[u8],
    ) {
        let ips = IpPair::of(src.ip(), dst.ip());
        let l4_len = UDP_HEADER_LEN + payload.len();
        let at = self.begin(out, ips, l4_len, from_server, IpNextHeaderProtocols::Udp);
        let Some(mut udp) = MutableUdpPacket::new(&mut out[at..]) else {
            return;
        };
        udp.set_source(src.port());
        udp.set_destination(dst.port());
        udp.set_length(saturate_u16(l4_len));
        udp.set_payload(payload);
        let checksum = match ips {
            IpPair::V4(s, d) => udp::ipv4_checksum(&udp.to_immutable(), &s, &d),
            IpPair::V6(s, d) => udp::ipv6_checksum(&udp.to_immutable(), &s, &d),
        };
        udp.set_checksum(checksum);
    }

    /// Replace `out` with the frame carrying the IP packet `ip` as it is (a fragment
    /// from [`crate::fragment`], say).
    pub fn ip(&mut self, out: &mut Vec<u8>, ip: &[u8], from_server: bool) {
        let ipv6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let loopback = if ipv6 {
            let addr = |at: usize| {
                ip.get(at..at + 16)
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
                    .map(Ipv6Addr::from)
            };
            addr(8)
                .zip(addr(24))
                .is_some_and(|(s, d)| s.is_loopback() && d.is_loopback())
        } else {
            ip.len() >= 20 && ip[12] == 127 && ip[16] == 127
        };
        let link_len = self.link.header_len();
        out.clear();
        out.resize(link_len, 0);
        let info = LinkInfo {
            ipv6,
            from_server,
            loopback,
            null_af_inet6: self.null_af_inet6,
        };
        link::write_header(self.link, &mut out[..link_len], info);
        out.extend_from_slice(ip);
    }

    /// Size `out` for the whole frame, write the link and IP headers, and return the
    /// offset where the transport header starts.
    fn begin(
        &mut self,
        out: &mut Vec<u8>,
        ips: IpPair,
        l4_len: usize,
        from_server: bool,
        protocol: IpNextHeaderProtocol,
    ) -> usize {
        let link_len = self.link.header_len();
        let ip_at = link_len;
        let l4_at = ip_at + ips.header_len();
        out.clear();
        out.resize(l4_at + l4_len, 0);
        let info = LinkInfo {
            ipv6: matches!(ips, IpPair::V6(..)),
            from_server,
            loopback: ips.loopback(),
            null_af_inet6: self.null_af_inet6,
        };
        link::write_header(self.link, &mut out[..link_len], info);
        match ips {
            IpPair::V4(src, dst) => {
                let id = self.next_ip_id;
                self.next_ip_id = self.next_ip_id.wrapping_add(1);
                if let Some(mut ip) = MutableIpv4Packet::new(&mut out[ip_at..l4_at]) {
                    ip.set_version(4);
                    ip.set_header_length((IPV4_HEADER_LEN / 4) as u8);
                    ip.set_dscp(0);
                    ip.set_ecn(0);
                    ip.set_total_length(saturate_u16(IPV4_HEADER_LEN + l4_len));
                    ip.set_identification(id);
                    ip.set_flags(Ipv4Flags::DontFragment);
                    ip.set_fragment_offset(0);
                    ip.set_ttl(HOP_LIMIT);
                    ip.set_next_level_protocol(protocol);
                    ip.set_source(src);
                    ip.set_destination(dst);
                    let checksum = ipv4::checksum(&ip.to_immutable());
                    ip.set_checksum(checksum);
                }
            }
            IpPair::V6(src, dst) => {
                if let Some(mut ip) = MutableIpv6Packet::new(&mut out[ip_at..l4_at]) {
                    ip.set_version(6);
                    ip.set_traffic_class(0);
                    ip.set_flow_label(0);
                    ip.set_payload_length(saturate_u16(l4_len));
                    ip.set_next_header(protocol);
                    ip.set_hop_limit(HOP_LIMIT);
                    ip.set_source(src);
                    ip.set_destination(dst);
                }
            }
        }
        l4_at
    }
}

fn saturate_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(payload: &[u8]) -> TcpSegment<'_> {
        TcpSegment {
            src: "10.0.0.2:40000".parse().unwrap(),
            dst: "10.0.0.1:5005".parse().unwrap(),
            from_server: false,
            seq: 1,
            ack: 2,
            flags: flags::ACK,
            window: DATA_WINDOW,
            options: TcpOptions::Syn {
                timestamp: Some((7, 0)),
            },
            payload,
        }
    }

    #[test]
    fn ipv4_identification_counts_up() {
        let mut b = FrameBuilder::new(LinkType::RawIp);
        let mut out = Vec::new();
        for id in 1..=3u16 {
            b.tcp(&mut out, &seg(b"x"));
            assert_eq!(&out[4..6], &id.to_be_bytes());
            // Version 4, IHL 5; total length 20 + 40 + 1; DF; TTL 64; protocol 6.
            assert_eq!(&out[..4], &[0x45, 0, 0, 61]);
            assert_eq!(&out[6..10], &[0x40, 0, 64, 6]);
        }
    }

    #[test]
    fn syn_options_as_linux_lays_them_out() {
        let mut out = Vec::new();
        FrameBuilder::new(LinkType::RawIp).tcp(&mut out, &seg(b""));
        // Data offset 10 words (40 bytes), then MSS, SACK_PERM, TS, NOP, WS.
        assert_eq!(out[20 + 12], 10 << 4);
        assert_eq!(
            &out[40..60],
            &[2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 0, 1, 3, 3, 7]
        );
    }

    #[test]
    fn oversized_payloads_do_not_panic() {
        let big = vec![0u8; 70_000];
        let mut b = FrameBuilder::new(LinkType::Ethernet);
        let mut out = Vec::new();
        b.tcp(&mut out, &seg(&big));
        assert_eq!(out.len(), 14 + 20 + 40 + 70_000);
        // Total length saturates: the frame is malformed, as documented.
        assert_eq!(&out[16..18], &[0xff, 0xff]);
        b.udp(
            &mut out,
            "[::1]:1".parse().unwrap(),
            "[::1]:2".parse().unwrap(),
            true,
            &big,
        );
        assert_eq!(out.len(), 14 + 40 + 8 + 70_000);
    }
}
