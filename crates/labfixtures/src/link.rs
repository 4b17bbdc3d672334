//! The link layers a capture can have, and how each one's header is laid out.
//!
//! Numbers come from <https://www.tcpdump.org/linktypes.html>.

use pnet_packet::ethernet::{EtherType, MutableEthernetPacket};
use pnet_packet::sll::MutableSLLPacket;
use pnet_packet::sll2::MutableSLL2Packet;
use pnet_packet::vlan::{ClassOfService, MutableVlanPacket};

/// LINKTYPE_NULL: BSD loopback, a 4-byte address family in the capturing host's byte order.
pub const LINKTYPE_NULL: u32 = 0;
/// LINKTYPE_ETHERNET (also carries 802.1Q / 802.1ad tags).
pub const LINKTYPE_ETHERNET: u32 = 1;
/// LINKTYPE_RAW: the frame starts with the IPv4 or IPv6 header.
pub const LINKTYPE_RAW: u32 = 101;
/// LINKTYPE_LOOP: OpenBSD loopback, the 4-byte address family always big-endian.
pub const LINKTYPE_LOOP: u32 = 108;
/// LINKTYPE_IPV4: raw IPv4 only.
pub const LINKTYPE_IPV4: u32 = 228;
/// LINKTYPE_IPV6: raw IPv6 only.
pub const LINKTYPE_IPV6: u32 = 229;
/// DLT_RAW as libpcap on Linux reports a LINKTYPE_RAW file (`pcap_datalink()`).
pub const DLT_RAW_LINUX: u32 = 12;
/// LINKTYPE_LINUX_SLL: Linux "cooked" capture, version 1 (16-byte header).
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// LINKTYPE_LINUX_SLL2: Linux "cooked" capture, version 2 (20-byte header).
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// AF_INET in a LINKTYPE_NULL header (the same on every BSD and on macOS).
pub const AF_INET: u32 = 2;
/// AF_INET6 as NetBSD/OpenBSD write it in LINKTYPE_NULL headers (the default here).
pub const AF_INET6_BSD: u32 = 24;
/// AF_INET6 as macOS writes it in LINKTYPE_NULL headers.
pub const AF_INET6_DARWIN: u32 = 30;

/// 802.1Q customer tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// 802.1ad service tag (outer tag of QinQ).
pub const ETHERTYPE_QINQ: u16 = 0x88a8;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

/// ARPHRD_ETHER: the interface is an Ethernet card.
pub const ARPHRD_ETHER: u16 = 1;
/// ARPHRD_LOOPBACK: the interface is `lo`.
pub const ARPHRD_LOOPBACK: u16 = 772;
/// SLL packet type: addressed to this host (the capture is taken on the server; on
/// `lo` every packet has this type).
pub const PACKET_HOST: u8 = 0;
/// SLL packet type: sent by this host.
pub const PACKET_OUTGOING: u8 = 4;

/// MAC address of the client side's interface (locally administered).
pub const CLIENT_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
/// MAC address of the server side's interface (locally administered).
pub const SERVER_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

/// The link layer of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Plain Ethernet II.
    Ethernet,
    /// Ethernet with one 802.1Q tag (TPID 0x8100).
    EthernetVlan { vid: u16 },
    /// Ethernet with an 802.1ad outer tag (TPID 0x88a8) and an 802.1Q inner tag.
    EthernetQinQ { outer: u16, inner: u16 },
    /// Linux cooked capture v1 (`tcpdump -i any` on older libpcap).
    LinuxSll,
    /// Linux cooked capture v2 (`tcpdump -i any` on libpcap ≥ 1.10).
    LinuxSll2,
    /// BSD loopback, address family as a little-endian u32 (captured on x86/ARM).
    NullLe,
    /// BSD loopback, address family as a big-endian u32 (captured on a big-endian host).
    NullBe,
    /// No link header: the frame is the IP packet.
    RawIp,
}

impl LinkType {
    /// The LINKTYPE number written in the savefile header.
    pub fn linktype(&self) -> u32 {
        match self {
            LinkType::Ethernet | LinkType::EthernetVlan { .. } | LinkType::EthernetQinQ { .. } => {
                LINKTYPE_ETHERNET
            }
            LinkType::LinuxSll => LINKTYPE_LINUX_SLL,
            LinkType::LinuxSll2 => LINKTYPE_LINUX_SLL2,
            LinkType::NullLe | LinkType::NullBe => LINKTYPE_NULL,
            LinkType::RawIp => LINKTYPE_RAW,
        }
    }

    /// The DLT number libpcap's `pcap_datalink()` reports when it reads such a file.
    /// Equal to [`LinkType::linktype`] except for raw IP: libpcap maps LINKTYPE_RAW
    /// (101, in the file) to DLT_RAW, which is 12 on Linux (14 on OpenBSD).
    pub fn dlt(&self) -> u32 {
        match self {
            LinkType::RawIp => DLT_RAW_LINUX,
            other => other.linktype(),
        }
    }

    /// Bytes of link header in front of the IP header.
    pub fn header_len(&self) -> usize {
        match self {
            LinkType::Ethernet => 14,
            LinkType::EthernetVlan { .. } => 18,
            LinkType::EthernetQinQ { .. } => 22,
            LinkType::LinuxSll => 16,
            LinkType::LinuxSll2 => 20,
            LinkType::NullLe | LinkType::NullBe => 4,
            LinkType::RawIp => 0,
        }
    }

    /// Every link type, with sample tag values, for tests that sweep them all.
    pub fn all() -> [LinkType; 8] {
        [
            LinkType::Ethernet,
            LinkType::EthernetVlan { vid: 100 },
            LinkType::EthernetQinQ {
                outer: 200,
                inner: 300,
            },
            LinkType::LinuxSll,
            LinkType::LinuxSll2,
            LinkType::NullLe,
            LinkType::NullBe,
            LinkType::RawIp,
        ]
    }
}

/// What a link header must say about the packet it carries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkInfo {
    pub ipv6: bool,
    /// Sent by the server: the capture is taken on the server, so this is "outgoing".
    pub from_server: bool,
    /// Both addresses are loopback addresses: the capture interface is `lo`.
    pub loopback: bool,
    /// AF_INET6 value for LINKTYPE_NULL headers.
    pub null_af_inet6: u32,
}

/// Write the link header into `buf`, which is exactly [`LinkType::header_len`] long.
pub(crate) fn write_header(link: LinkType, buf: &mut [u8], info: LinkInfo) {
    let ethertype = if info.ipv6 {
        ETHERTYPE_IPV6
    } else {
        ETHERTYPE_IPV4
    };
    let (src_mac, dst_mac) = if info.from_server {
        (SERVER_MAC, CLIENT_MAC)
    } else {
        (CLIENT_MAC, SERVER_MAC)
    };
    match link {
        LinkType::Ethernet => ethernet(buf, src_mac, dst_mac, ethertype),
        LinkType::EthernetVlan { vid } => {
            ethernet(buf, src_mac, dst_mac, ETHERTYPE_VLAN);
            vlan_tag(&mut buf[14..], vid, ethertype);
        }
        LinkType::EthernetQinQ { outer, inner } => {
            ethernet(buf, src_mac, dst_mac, ETHERTYPE_QINQ);
            vlan_tag(&mut buf[14..], outer, ETHERTYPE_VLAN);
            vlan_tag(&mut buf[18..], inner, ethertype);
        }
        LinkType::LinuxSll => {
            if let Some(mut sll) = MutableSLLPacket::new(buf) {
                sll.set_packet_type(u16::from(packet_type(info)));
                sll.set_link_layer_address_type(arphrd(info));
                sll.set_link_layer_address_len(6);
                sll.set_link_layer_address(&sll_address(info, src_mac));
                sll.set_protocol(EtherType(ethertype));
            }
        }
        LinkType::LinuxSll2 => {
            if let Some(mut sll) = MutableSLL2Packet::new(buf) {
                sll.set_protocol_type(EtherType(ethertype));
                sll.set_reserved(0);
                // lo is interface 1 on Linux; call the Ethernet card interface 2.
                sll.set_interface_index(if info.loopback { 1 } else { 2 });
                sll.set_arphrd_type(arphrd(info));
                sll.set_packet_type(packet_type(info));
                sll.set_link_layer_address_length(6);
                sll.set_link_layer_address(&sll_address(info, src_mac));
            }
        }
        LinkType::NullLe => buf.copy_from_slice(&null_family(info).to_le_bytes()),
        LinkType::NullBe => buf.copy_from_slice(&null_family(info).to_be_bytes()),
        LinkType::RawIp => {}
    }
}

fn ethernet(buf: &mut [u8], src: [u8; 6], dst: [u8; 6], ethertype: u16) {
    // MAC addresses are written as bytes: pnet's MacAddr type lives in pnet_base,
    // which is not a dependency of this crate.
    buf[0..6].copy_from_slice(&dst);
    buf[6..12].copy_from_slice(&src);
    if let Some(mut eth) = MutableEthernetPacket::new(buf) {
        eth.set_ethertype(EtherType(ethertype));
    }
}

fn vlan_tag(buf: &mut [u8], vid: u16, inner_ethertype: u16) {
    if let Some(mut tag) = MutableVlanPacket::new(buf) {
        tag.set_priority_code_point(ClassOfService(0));
        tag.set_drop_eligible_indicator(0);
        tag.set_vlan_identifier(vid & 0x0fff);
        tag.set_ethertype(EtherType(inner_ethertype));
    }
}

/// On `lo` Linux hands libpcap each packet once, as received (PACKET_HOST), in both
/// directions (checked with `tcpdump -i any -y LINUX_SLL2` on loopback traffic); on an
/// Ethernet card the server's own packets are PACKET_OUTGOING.
fn packet_type(info: LinkInfo) -> u8 {
    if info.from_server && !info.loopback {
        PACKET_OUTGOING
    } else {
        PACKET_HOST
    }
}

fn arphrd(info: LinkInfo) -> u16 {
    if info.loopback {
        ARPHRD_LOOPBACK
    } else {
        ARPHRD_ETHER
    }
}

/// The 8-byte SLL address field: the sender's 6-byte MAC, zero-padded
/// (all zero on `lo`, whose MAC is 00:00:00:00:00:00).
fn sll_address(info: LinkInfo, src_mac: [u8; 6]) -> [u8; 8] {
    let mut addr = [0u8; 8];
    if !info.loopback {
        addr[..6].copy_from_slice(&src_mac);
    }
    addr
}

fn null_family(info: LinkInfo) -> u32 {
    if info.ipv6 {
        info.null_af_inet6
    } else {
        AF_INET
    }
}

#[cfg(test)]
mod tests {
    use crate::frame::FrameBuilder;
    use crate::LinkType;

    fn loopback_udp_frame(link: LinkType, from_server: bool) -> Vec<u8> {
        let mut out = Vec::new();
        FrameBuilder::new(link).udp(
            &mut out,
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:5005".parse().unwrap(),
            from_server,
            b"hi",
        );
        out
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn cooked_headers_match_a_real_loopback_capture() {
        // Headers tcpdump 4.99 / libpcap 1.10.3 wrote for UDP over 127.0.0.1, both
        // directions: `tcpdump -i any -y LINUX_SLL` and `-y LINUX_SLL2`.
        let sll = hex("00000304000600000000000000000800");
        let sll2 = hex("0800000000000001030400060000000000000000");
        for from_server in [false, true] {
            assert_eq!(
                loopback_udp_frame(LinkType::LinuxSll, from_server)[..16],
                sll[..]
            );
            assert_eq!(
                loopback_udp_frame(LinkType::LinuxSll2, from_server)[..20],
                sll2[..]
            );
        }
    }

    #[test]
    fn tagged_ethernet_headers() {
        let frame = loopback_udp_frame(
            LinkType::EthernetQinQ {
                outer: 0x123,
                inner: 0x0abc,
            },
            true,
        );
        assert_eq!(
            frame[..22],
            hex(concat!(
                "020000000001020000000002",
                "88a80123",
                "81000abc",
                "0800"
            ))[..]
        );
        let frame = loopback_udp_frame(LinkType::EthernetVlan { vid: 0xf005 }, false);
        // The VID is 12 bits: the top nibble is dropped, not spilled into PCP/DEI.
        assert_eq!(frame[12..18], hex("810000050800")[..]);
    }
}
