//! More link types and IP tunnels around an IP packet that the frame builder made:
//! PPP (9, 50, 51), Cisco HDLC (50), Linux NFLOG (239), IEEE 802.11 (105), radiotap
//! (127), Prism (119), FDDI (10), Linux ARCnet (129), IP over InfiniBand (242); IP-in-IP, 6in4, IPv6-in-IPv6 and Teredo. Link
//! headers are laid out by hand from their specifications, outer IP and UDP headers
//! with pnet_packet: nothing here is shared with the parser.
//!
//! [`rewrap`] takes a raw-IP [`Capture`] and gives its frames inside a tunnel and/or
//! another link; [`write_pcap`] writes them.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use pnet_packet::ip::{IpNextHeaderProtocol, IpNextHeaderProtocols};
use pnet_packet::ipv4::{self, Ipv4Flags, MutableIpv4Packet};
use pnet_packet::ipv6::MutableIpv6Packet;
use pnet_packet::udp::{self, MutableUdpPacket};

use crate::link::{CLIENT_MAC, SERVER_MAC};
use crate::savefile::SavefileWriter;
use crate::{Capture, FileFormat};

/// The access point's address (the BSSID) in 802.11 frames.
pub const BSSID: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0xaa];
/// Tunnel endpoints: client side, server side.
pub const TUNNEL_V4: [Ipv4Addr; 2] = [Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)];
pub const TUNNEL_V6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1),
    Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 2),
];
/// The Teredo client's UDP port (the relay's is 3544).
pub const TEREDO_CLIENT_PORT: u16 = 40001;
pub const TEREDO_PORT: u16 = 3544;

/// A link type around the IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    /// DLT_PPP (9) with address and control (ff 03), 2-byte protocol.
    PppHdlc,
    /// DLT_PPP (9) without address and control.
    PppBare,
    /// DLT_PPP (9), address and control, then a 1-byte (compressed) protocol.
    PppCompressed,
    /// LINKTYPE_PPP_HDLC (50): ff 03, protocol.
    PppSerial,
    /// LINKTYPE_PPP_HDLC (50) holding Cisco HDLC: 0f 00, EtherType.
    CiscoHdlc,
    /// LINKTYPE_PPP_ETHER (51): PPPoE session header, PPP protocol.
    PppEther,
    /// LINKTYPE_NFLOG (239): header, a packet-header TLV, a prefix TLV, the payload TLV.
    Nflog,
    /// LINKTYPE_IEEE802_11 (105): a data frame to (client) or from (server) the AP.
    Ieee80211,
    /// LINKTYPE_IEEE802_11 (105): a QoS data frame with four addresses (a bridge).
    Ieee80211QosWds,
    /// LINKTYPE_IEEE802_11_RADIOTAP (127): TSFT, Flags (FCS at end), Rate; a QoS data
    /// frame; the FCS.
    Radiotap,
    /// LINKTYPE_IEEE802_11_PRISM (119): a 144-byte Prism header, a data frame.
    Prism,
    /// LINKTYPE_FDDI (10): frame control, addresses, LLC/SNAP.
    Fddi,
    /// DLT_ARCNET_LINUX (129): source, destination, offset (2), protocol id in RFC 1201
    /// framing (IPv4 0xd4, IPv6 0xc4), split flag, sequence number.
    ArcnetLinux,
    /// LINKTYPE_IPOIB (242): a 40-byte pseudo GRH (as illumos' ibd passes it up and
    /// tshark reads it), then EtherType and 2 reserved bytes.
    Ipoib,
}

impl Wrap {
    pub const ALL: [Wrap; 14] = [
        Wrap::PppHdlc,
        Wrap::PppBare,
        Wrap::PppCompressed,
        Wrap::PppSerial,
        Wrap::CiscoHdlc,
        Wrap::PppEther,
        Wrap::Nflog,
        Wrap::Ieee80211,
        Wrap::Ieee80211QosWds,
        Wrap::Radiotap,
        Wrap::Prism,
        Wrap::Fddi,
        Wrap::ArcnetLinux,
        Wrap::Ipoib,
    ];

    /// The LINKTYPE in the file header.
    pub fn linktype(self) -> u32 {
        match self {
            Wrap::PppHdlc | Wrap::PppBare | Wrap::PppCompressed => 9,
            Wrap::PppSerial | Wrap::CiscoHdlc => 50,
            Wrap::PppEther => 51,
            Wrap::Nflog => 239,
            Wrap::Ieee80211 | Wrap::Ieee80211QosWds => 105,
            Wrap::Radiotap => 127,
            Wrap::Prism => 119,
            Wrap::Fddi => 10,
            Wrap::ArcnetLinux => 129,
            Wrap::Ipoib => 242,
        }
    }

    /// The frame carrying `ip` (an IPv4 or IPv6 packet).
    pub fn frame(self, ip: &[u8], from_server: bool) -> Vec<u8> {
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ppp = if v6 { 0x0057u16 } else { 0x0021 };
        let ether_type: u16 = if v6 { 0x86dd } else { 0x0800 };
        let header = match self {
            Wrap::PppHdlc | Wrap::PppSerial => [&[0xff, 0x03][..], &ppp.to_be_bytes()].concat(),
            Wrap::PppBare => ppp.to_be_bytes().to_vec(),
            Wrap::PppCompressed => vec![0xff, 0x03, ppp.to_be_bytes()[1]],
            Wrap::CiscoHdlc => [&[0x0f, 0x00][..], &ether_type.to_be_bytes()].concat(),
            Wrap::PppEther => pppoe(ip.len(), ppp),
            Wrap::Nflog => return nflog(ip, v6),
            Wrap::Ieee80211 => [wifi_header(from_server, false), snap(ether_type)].concat(),
            Wrap::Ieee80211QosWds => [wifi_header(from_server, true), snap(ether_type)].concat(),
            Wrap::Radiotap => return radiotap(ip, from_server, ether_type),
            Wrap::Prism => [prism(), wifi_header(from_server, false), snap(ether_type)].concat(),
            Wrap::Fddi => [fddi(from_server), snap(ether_type)].concat(),
            Wrap::ArcnetLinux => arcnet(from_server, v6),
            Wrap::Ipoib => [
                &ipoib_grh(from_server)[..],
                &ether_type.to_be_bytes(),
                &[0, 0],
            ]
            .concat(),
        };
        [&header[..], ip].concat()
    }
}

fn pppoe(ip_len: usize, ppp: u16) -> Vec<u8> {
    let len = u16::try_from(ip_len + 2).unwrap_or(u16::MAX);
    [
        &[0x11, 0x00, 0x12, 0x34][..],
        &len.to_be_bytes(),
        &ppp.to_be_bytes(),
    ]
    .concat()
}

/// One netlink attribute: length (counting its 4-byte header, not the padding) and
/// type, little-endian as an x86 host writes them, then the value padded to 4 bytes.
fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
    let len = u16::try_from(4 + value.len()).unwrap_or(u16::MAX);
    let mut out = [&len.to_le_bytes()[..], &kind.to_le_bytes(), value].concat();
    out.resize(out.len().div_ceil(4) * 4, 0);
    out
}

fn nflog(ip: &[u8], v6: bool) -> Vec<u8> {
    let family = if v6 { 10 } else { 2 };
    let hw_protocol: u16 = if v6 { 0x86dd } else { 0x0800 };
    // NFULA_PACKET_HDR: hardware protocol (big-endian), hook (NF_INET_LOCAL_IN), pad.
    let packet_hdr = [&hw_protocol.to_be_bytes()[..], &[1, 0]].concat();
    [
        vec![family, 0, 0x00, 0x05],
        tlv(1, &packet_hdr),
        tlv(10, b"lab\0"),
        tlv(9, ip),
    ]
    .concat()
}

fn snap(ether_type: u16) -> Vec<u8> {
    [&[0xaa, 0xaa, 0x03, 0, 0, 0][..], &ether_type.to_be_bytes()].concat()
}

/// An 802.11 data header: client to server goes to the AP (ToDS: BSSID, SA, DA),
/// server to client comes from it (FromDS: DA, BSSID, SA); `wds`: QoS data with both
/// flags and four addresses (RA, TA, DA, SA) and a QoS Control field.
fn wifi_header(from_server: bool, wds: bool) -> Vec<u8> {
    let (sa, da) = if from_server {
        (SERVER_MAC, CLIENT_MAC)
    } else {
        (CLIENT_MAC, SERVER_MAC)
    };
    let sequence = [0x10, 0x00];
    if wds {
        return [
            &[0x88, 0x03, 0x00, 0x00][..],
            &BSSID,
            &BSSID,
            &da,
            &sequence,
            &sa,
            &[0x00, 0x00],
        ]
        .concat();
    }
    let (flags, a1, a2, a3) = if from_server {
        (0x02, da, BSSID, sa)
    } else {
        (0x01, BSSID, sa, da)
    };
    [&[0x08, flags, 0x00, 0x00][..], &a1, &a2, &a3, &sequence].concat()
}

/// A QoS data header without the fourth address (ToDS or FromDS by direction).
fn wifi_qos_header(from_server: bool) -> Vec<u8> {
    let mut header = wifi_header(from_server, false);
    header[0] = 0x88;
    header.extend_from_slice(&[0x00, 0x00]);
    header
}

/// Radiotap with TSFT, Flags (0x10: the frame ends with its FCS) and Rate.
fn radiotap(ip: &[u8], from_server: bool, ether_type: u16) -> Vec<u8> {
    let mut header = vec![0, 0, 18, 0, 0x07, 0, 0, 0];
    header.extend_from_slice(&0x0123_4567_89ab_cdefu64.to_le_bytes());
    header.extend_from_slice(&[0x10, 0x0c]);
    let wlan = [&wifi_qos_header(from_server)[..], &snap(ether_type), ip].concat();
    let fcs = crc32(&wlan).to_le_bytes();
    [&header[..], &wlan, &fcs].concat()
}

/// IEEE 802.3 CRC-32 (reflected, polynomial 0xedb88320), as 802.11's FCS.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The Prism (wlan-ng) monitor header: message code, length 144, device name, then
/// ten items (DID, status, length 4, value), little-endian.
fn prism() -> Vec<u8> {
    let mut out = [&0x44u32.to_le_bytes()[..], &144u32.to_le_bytes()].concat();
    let mut name = [0u8; 16];
    name[..5].copy_from_slice(b"wlan0");
    out.extend_from_slice(&name);
    for item in 1..=10u32 {
        out.extend_from_slice(&((item << 12) | 0x44).to_le_bytes());
        out.extend_from_slice(&[0, 0, 4, 0]);
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out
}

/// FDDI: frame control 0x50 (asynchronous LLC frame), destination, source.
fn fddi(from_server: bool) -> Vec<u8> {
    let (src, dst) = if from_server {
        (SERVER_MAC, CLIENT_MAC)
    } else {
        (CLIENT_MAC, SERVER_MAC)
    };
    [&[0x50][..], &dst, &src].concat()
}

/// Linux ARCnet: station ids (client 2, server 1), offset 0, the RFC 1201 protocol id,
/// split flag 0 (not fragmented), sequence number.
fn arcnet(from_server: bool, v6: bool) -> Vec<u8> {
    let (src, dst) = if from_server { (1, 2) } else { (2, 1) };
    let protocol = if v6 { 0xc4 } else { 0xd4 };
    vec![src, dst, 0, 0, protocol, 0, 0x00, 0x01]
}

/// The 40-byte pseudo GRH: IP version 6 (top nibble), traffic class and flow label 0,
/// the source QP number, source and destination GIDs (link-local prefix, a port GUID).
fn ipoib_grh(from_server: bool) -> Vec<u8> {
    let gid = |port: u8| {
        [
            &[0xfe, 0x80, 0, 0, 0, 0, 0, 0][..],
            &[2, 0, 0, 0, 0, 0, 0, port],
        ]
        .concat()
    };
    let (src, dst) = if from_server { (1, 2) } else { (2, 1) };
    [&[0x60, 0, 0, 0][..], &[0, 0, 0, 0x48], &gid(src), &gid(dst)].concat()
}

/// An IP tunnel around the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tunnel {
    /// IPv4 in IPv4 (protocol 4).
    Ipip,
    /// IPv6 in IPv4 (protocol 41).
    SixInFour,
    /// IPv6 in IPv6 (next header 41).
    SixInSix,
    /// IPv6 in UDP over IPv4, relay port 3544; the relay's datagrams start with an
    /// origin indication.
    Teredo,
}

impl Tunnel {
    pub const ALL: [Tunnel; 4] = [
        Tunnel::Ipip,
        Tunnel::SixInFour,
        Tunnel::SixInSix,
        Tunnel::Teredo,
    ];

    /// The outer packet carrying `ip`.
    pub fn packet(self, ip: &[u8], from_server: bool) -> Vec<u8> {
        let (a, b) = if from_server { (1, 0) } else { (0, 1) };
        let (src4, dst4) = (TUNNEL_V4[a], TUNNEL_V4[b]);
        match self {
            Tunnel::Ipip => ipv4(src4, dst4, IpNextHeaderProtocols::Ipv4, ip),
            Tunnel::SixInFour => ipv4(src4, dst4, IpNextHeaderProtocols::Ipv6, ip),
            Tunnel::SixInSix => ipv6(TUNNEL_V6[a], TUNNEL_V6[b], ip),
            Tunnel::Teredo => teredo(src4, dst4, from_server, ip),
        }
    }
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpNextHeaderProtocol, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 20 + payload.len()];
    if let Some(mut ip) = MutableIpv4Packet::new(&mut out) {
        ip.set_version(4);
        ip.set_header_length(5);
        ip.set_total_length(u16::try_from(20 + payload.len()).unwrap_or(u16::MAX));
        ip.set_identification(0x7777);
        ip.set_flags(Ipv4Flags::DontFragment);
        ip.set_ttl(64);
        ip.set_next_level_protocol(protocol);
        ip.set_source(src);
        ip.set_destination(dst);
        ip.set_payload(payload);
        let checksum = ipv4::checksum(&ip.to_immutable());
        ip.set_checksum(checksum);
    }
    out
}

fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 40 + payload.len()];
    if let Some(mut ip) = MutableIpv6Packet::new(&mut out) {
        ip.set_version(6);
        ip.set_payload_length(u16::try_from(payload.len()).unwrap_or(u16::MAX));
        ip.set_next_header(IpNextHeaderProtocols::Ipv6);
        ip.set_hop_limit(64);
        ip.set_source(src);
        ip.set_destination(dst);
        ip.set_payload(payload);
    }
    out
}

/// Teredo: the relay (server side, port 3544) prefixes an origin indication (type 0,
/// the client's port and address obfuscated by XOR with all ones, RFC 4380 5.1.1).
fn teredo(src: Ipv4Addr, dst: Ipv4Addr, from_server: bool, ip: &[u8]) -> Vec<u8> {
    let (sport, dport) = if from_server {
        (TEREDO_PORT, TEREDO_CLIENT_PORT)
    } else {
        (TEREDO_CLIENT_PORT, TEREDO_PORT)
    };
    let mut payload = Vec::new();
    if from_server {
        payload.extend_from_slice(&[0, 0]);
        payload.extend_from_slice(&(!TEREDO_CLIENT_PORT).to_be_bytes());
        payload.extend_from_slice(&(!u32::from(dst)).to_be_bytes());
    }
    payload.extend_from_slice(ip);
    let mut datagram = vec![0u8; 8 + payload.len()];
    if let Some(mut u) = MutableUdpPacket::new(&mut datagram) {
        u.set_source(sport);
        u.set_destination(dport);
        u.set_length(u16::try_from(8 + payload.len()).unwrap_or(u16::MAX));
        u.set_payload(&payload);
        let checksum = udp::ipv4_checksum(&u.to_immutable(), &src, &dst);
        u.set_checksum(checksum);
    }
    ipv4(src, dst, IpNextHeaderProtocols::Udp, &datagram)
}

/// The frames of `cap` (a [`crate::LinkType::RawIp`] capture), each IP packet inside
/// `tunnel` if given, then inside `wrap` if given (raw IP otherwise): timestamp and
/// bytes. A packet is the server's when its source port is `server_port`.
pub fn rewrap(
    cap: &Capture,
    server_port: u16,
    tunnel: Option<Tunnel>,
    wrap: Option<Wrap>,
) -> Vec<(u64, Vec<u8>)> {
    cap.frame_list()
        .iter()
        .map(|f| {
            let from_server = source_port(&f.data) == Some(server_port);
            let ip = match tunnel {
                Some(t) => t.packet(&f.data, from_server),
                None => f.data.clone(),
            };
            let frame = match wrap {
                Some(w) => w.frame(&ip, from_server),
                None => ip,
            };
            (f.ts_micros, frame)
        })
        .collect()
}

/// The TCP or UDP source port of an unfragmented IPv4 or IPv6 packet without options
/// or extension headers (what the frame builder makes).
fn source_port(ip: &[u8]) -> Option<u16> {
    let at = match ip.first()? >> 4 {
        4 => usize::from(ip[0] & 0x0f) * 4,
        6 => 40,
        _ => return None,
    };
    Some(u16::from_be_bytes([*ip.get(at)?, *ip.get(at + 1)?]))
}

/// Write frames as a pcap file of `linktype` (snaplen 262144).
pub fn write_pcap(path: &Path, linktype: u32, frames: &[(u64, Vec<u8>)]) -> io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut w = SavefileWriter::new(file, FileFormat::Pcap, linktype, 262_144)?;
    for (ts, data) in frames {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        w.write_frame(*ts, data, len)?;
    }
    w.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_check_string() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn fixed_headers_have_their_sizes() {
        assert_eq!(prism().len(), 144);
        assert_eq!(wifi_header(false, false).len(), 24);
        assert_eq!(wifi_header(true, true).len(), 32);
        assert_eq!(wifi_qos_header(true).len(), 26);
        assert_eq!(fddi(true).len(), 13);
        assert_eq!(ipoib_grh(false).len(), 40);
        assert_eq!(arcnet(false, false).len(), 8);
        let ip = [0x45u8; 21];
        let frame = Wrap::Nflog.frame(&ip, false);
        // Header 4, packet header TLV 8, prefix TLV 8, payload TLV 4 + 21 + 3 padding.
        assert_eq!(frame.len(), 4 + 8 + 8 + 28);
        assert_eq!(&frame[20..22], &25u16.to_le_bytes());
    }
}
