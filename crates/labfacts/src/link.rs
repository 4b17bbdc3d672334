//! Link layer: which capture link types labsniff reads, and how a frame of each becomes
//! an etherparse [`LaxSlicedPacket`] starting at the IP layer.
//!
//! Ethernet (with 802.1Q / 802.1ad tags) and raw IP go straight to etherparse; MPLS,
//! PPPoE, 802.1ah PBB, LLC/SNAP and VN-Tag are walked in [`encap`] first. Linux
//! cooked captures (SLL, SLL2) and BSD NULL/LOOP have small fixed headers that we strip
//! here, then etherparse parses from the carried EtherType or from the IP header.
//! PPP ([`ppp`]), Linux NFLOG ([`nflog`]), IEEE 802.11 with or without radiotap or
//! Prism headers and FDDI ([`wifi`]) are walked by hand to their IP header; IP tunnels
//! (IP-in-IP, 6in4, IPv6-in-IPv6, Teredo) are followed above the link ([`tunnel`]).
//! Linux ARCnet ([`arcnet`]) and IP over InfiniBand ([`ipoib`]) have fixed headers with
//! a protocol id or EtherType. Juniper's DLT_JUNIPER_* types are not read: their
//! headers differ per PIC and carry cookies of per-type lengths.

use etherparse::{EtherType, LaxSlicedPacket};

/// The link types labsniff understands, by what their frames start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// DLT_EN10MB (1): Ethernet II, possibly VLAN / QinQ tagged.
    Ethernet,
    /// DLT_LINUX_SLL (113): Linux cooked capture v1, 16-byte header (`-i any`).
    LinuxSll,
    /// DLT_LINUX_SLL2 (276): Linux cooked capture v2, 20-byte header.
    LinuxSll2,
    /// DLT_NULL (0): 4-byte address family in the capturing host's byte order.
    Null,
    /// DLT_LOOP (108): 4-byte address family in network byte order (OpenBSD).
    Loop,
    /// DLT_RAW (12 on Linux, 14 on OpenBSD, LINKTYPE_RAW 101): raw IPv4 or IPv6.
    RawIp,
    /// LINKTYPE_IPV4 (228): raw IPv4 only.
    Ipv4,
    /// LINKTYPE_IPV6 (229): raw IPv6 only.
    Ipv6,
    /// DLT_PPP (9): PPP, with or without the HDLC address and control bytes.
    Ppp,
    /// DLT_PPP_SERIAL (50): PPP in HDLC-like framing (RFC 1662), or Cisco HDLC.
    PppSerial,
    /// DLT_PPP_ETHER (51): a PPPoE session header, then PPP.
    PppEther,
    /// DLT_NFLOG (239): Linux netfilter log messages (`tcpdump -i nflog`).
    Nflog,
    /// DLT_IEEE802_11 (105): 802.11 frames without a radio header.
    Ieee80211,
    /// DLT_IEEE802_11_RADIO (127): a radiotap header, then the 802.11 frame.
    Radiotap,
    /// DLT_PRISM_HEADER (119): a 144-byte Prism monitor header, then the 802.11 frame.
    Prism,
    /// DLT_FDDI (10): FDDI frames with LLC/SNAP.
    Fddi,
    /// DLT_ARCNET_LINUX (129): Linux ARCnet, RFC 1201 or RFC 1051 framing.
    ArcnetLinux,
    /// LINKTYPE_IPOIB (242): IP over InfiniBand with its 40-byte pseudo GRH.
    Ipoib,
}

/// Address family values that mean IPv6 in a NULL/LOOP header: Linux 10, FreeBSD 28,
/// macOS/iOS 30, NetBSD/OpenBSD 24 (a capture may come from any of them).
const AF_INET6_VALUES: [u32; 4] = [10, 24, 28, 30];
const AF_INET: u32 = 2;

/// Which header of a frame a [`LinkError`] is about (the words naming it are
/// labsniff's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Header {
    Ethernet,
    /// An 802.1Q / 802.1ad tag, as the encapsulation walk meets it.
    VlanTag,
    /// A VLAN tag as etherparse slices it.
    Vlan,
    VnTag,
    /// 802.1ah PBB I-TAG.
    PbbItag,
    MplsLabelStack,
    /// The first byte after the bottom of an MPLS label stack.
    IpAfterMpls,
    PppoeSession,
    /// The PPP address, control and protocol fields.
    Ppp,
    /// Cisco HDLC (address, control, EtherType) in a DLT_PPP_SERIAL capture.
    CiscoHdlc,
    /// The 4-byte NFLOG header (family, version, resource id).
    Nflog,
    /// A type-length-value attribute of an NFLOG message.
    NflogTlv,
    /// The IEEE 802.11 MAC header.
    Ieee80211,
    /// The radiotap header before an 802.11 frame.
    Radiotap,
    /// The Prism monitor header before an 802.11 frame.
    Prism,
    /// The FDDI MAC header.
    Fddi,
    /// 802.2 LLC after an 802.3 length field.
    Llc,
    /// 802.2 SNAP after LLC.
    Snap,
    LinuxSll,
    LinuxSll2,
    /// BSD NULL/LOOP.
    BsdNull,
    /// The IP header, version not yet known.
    Ip,
    Ipv4,
    Ipv4Packet,
    IpAuthentication,
    Ipv6,
    Ipv6Packet,
    Ipv6Extension,
    Udp,
    UdpPayload,
    Tcp,
    /// A layer etherparse names that labsniff does not tell apart.
    Other,
}

/// Why a frame could not be turned into an IP packet: the facts; the words are
/// labsniff's (`labsniff::words::link`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// A link type labsniff does not read.
    UnsupportedLinkType {
        dlt: i32,
        /// libpcap's name of the type (data, e.g. `IEEE802_11`), when it knows one.
        name: Option<String>,
    },
    /// The capture cut the frame inside `layer`.
    Truncated {
        layer: Header,
        required_len: usize,
        len: usize,
    },
    /// `layer` carries something other than IPv4 or IPv6.
    NotIp { layer: Header, protocol: u32 },
    /// A length field of `layer` says `claimed` bytes, less than the `min` its own
    /// header takes.
    LengthTooShort {
        layer: Header,
        claimed: usize,
        min: usize,
    },
    /// `layer` could not be parsed.
    Malformed {
        layer: Header,
        /// etherparse's description of what is wrong (data: the library's message).
        reason: String,
    },
    /// An encapsulation labsniff recognises but does not decode (counted per
    /// capture, not reported per frame).
    Undecoded(encap::Undecoded),
}

impl LinkError {
    /// A short stable identifier for programs.
    pub fn code(&self) -> &'static str {
        match self {
            LinkError::UnsupportedLinkType { .. } => "link_unsupported",
            LinkError::Truncated { .. } => "frame_truncated",
            LinkError::NotIp { .. } => "not_ip",
            LinkError::Malformed { .. } | LinkError::LengthTooShort { .. } => "frame_malformed",
            LinkError::Undecoded(_) => "encapsulation_undecoded",
        }
    }
}

impl LinkKind {
    /// The link kind for a libpcap DLT value (as `pcap_datalink` reports it).
    pub fn from_dlt(dlt: i32) -> Result<LinkKind, LinkError> {
        Ok(match dlt {
            1 => LinkKind::Ethernet,
            113 => LinkKind::LinuxSll,
            276 => LinkKind::LinuxSll2,
            0 => LinkKind::Null,
            108 => LinkKind::Loop,
            12 | 14 | 101 => LinkKind::RawIp,
            228 => LinkKind::Ipv4,
            229 => LinkKind::Ipv6,
            9 => LinkKind::Ppp,
            50 => LinkKind::PppSerial,
            51 => LinkKind::PppEther,
            239 => LinkKind::Nflog,
            105 => LinkKind::Ieee80211,
            127 => LinkKind::Radiotap,
            119 => LinkKind::Prism,
            10 => LinkKind::Fddi,
            129 => LinkKind::ArcnetLinux,
            242 => LinkKind::Ipoib,
            other => {
                return Err(LinkError::UnsupportedLinkType {
                    dlt: other,
                    name: pcaprt::Linktype(other).get_name().ok(),
                })
            }
        })
    }

    /// A stable name for the link type (the summary's `link_type`).
    pub fn name(self) -> &'static str {
        match self {
            LinkKind::Ethernet => "ethernet",
            LinkKind::LinuxSll => "linux_sll",
            LinkKind::LinuxSll2 => "linux_sll2",
            LinkKind::Null => "null",
            LinkKind::Loop => "loop",
            LinkKind::RawIp => "raw",
            LinkKind::Ipv4 => "ipv4",
            LinkKind::Ipv6 => "ipv6",
            LinkKind::Ppp => "ppp",
            LinkKind::PppSerial => "ppp_serial",
            LinkKind::PppEther => "ppp_ether",
            LinkKind::Nflog => "nflog",
            LinkKind::Ieee80211 => "ieee802_11",
            LinkKind::Radiotap => "ieee802_11_radiotap",
            LinkKind::Prism => "ieee802_11_prism",
            LinkKind::Fddi => "fddi",
            LinkKind::ArcnetLinux => "arcnet_linux",
            LinkKind::Ipoib => "ipoib",
        }
    }

    /// Parse one frame down to IP and transport.
    pub fn slice(self, frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
        match self {
            LinkKind::Ethernet => ethernet(frame),
            LinkKind::LinuxSll => linux_sll(frame),
            LinkKind::LinuxSll2 => linux_sll2(frame),
            LinkKind::Null => null_header(frame, false),
            LinkKind::Loop => null_header(frame, true),
            LinkKind::RawIp => from_ip(frame),
            LinkKind::Ipv4 => Ok(LaxSlicedPacket::from_ether_type(EtherType::IPV4, frame)),
            LinkKind::Ipv6 => Ok(LaxSlicedPacket::from_ether_type(EtherType::IPV6, frame)),
            LinkKind::Ppp => ppp::ppp(frame),
            LinkKind::PppSerial => ppp::serial(frame),
            LinkKind::PppEther => ppp::pppoe(frame),
            LinkKind::Nflog => nflog::nflog(frame),
            LinkKind::Ieee80211 => wifi::ieee80211(frame, wifi::Radio::default()),
            LinkKind::Radiotap => wifi::radiotap(frame),
            LinkKind::Prism => wifi::prism(frame),
            LinkKind::Fddi => wifi::fddi(frame),
            LinkKind::ArcnetLinux => arcnet::linux(frame),
            LinkKind::Ipoib => ipoib::ipoib(frame),
        }
    }
}

/// Ethernet: plain or VLAN-tagged frames as etherparse slices them; other
/// encapsulations from where [`encap::ethernet`] found the IP header.
fn ethernet(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    match encap::ethernet(frame)? {
        encap::Walk::Ip { plain: true, .. } => {
            LaxSlicedPacket::from_ethernet(frame).map_err(|e| LinkError::Truncated {
                layer: Header::Ethernet,
                required_len: e.required_len,
                len: e.len,
            })
        }
        walk => from_walk(frame, walk, Header::Ethernet),
    }
}

/// The packet from where an encapsulation walk found the IP header of `frame`
/// (`layer`: the link header that carries something other than IP, if so).
fn from_walk(
    frame: &[u8],
    walk: encap::Walk,
    layer: Header,
) -> Result<LaxSlicedPacket<'_>, LinkError> {
    match walk {
        encap::Walk::Ip {
            ether_type, offset, ..
        } => match frame.get(offset..) {
            Some(payload) => Ok(LaxSlicedPacket::from_ether_type(ether_type, payload)),
            None => Err(LinkError::Truncated {
                layer: Header::Ip,
                required_len: offset + 1,
                len: frame.len(),
            }),
        },
        encap::Walk::NotIp { protocol } => Err(LinkError::NotIp { layer, protocol }),
    }
}

fn need(layer: Header, frame: &[u8], required_len: usize) -> Result<(), LinkError> {
    if frame.len() < required_len {
        return Err(LinkError::Truncated {
            layer,
            required_len,
            len: frame.len(),
        });
    }
    Ok(())
}

fn from_ip(data: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    if data.is_empty() {
        return Err(LinkError::Truncated {
            layer: Header::Ip,
            required_len: 1,
            len: 0,
        });
    }
    LaxSlicedPacket::from_ip(data).map_err(|e| match e {
        etherparse::err::ip::LaxHeaderSliceError::Len(l) => LinkError::Truncated {
            layer: Header::Ip,
            required_len: l.required_len,
            len: l.len,
        },
        etherparse::err::ip::LaxHeaderSliceError::Content(c) => LinkError::Malformed {
            layer: Header::Ip,
            reason: c.to_string(),
        },
    })
}

fn from_ether_type<'a>(
    layer: Header,
    protocol: u16,
    payload: &'a [u8],
) -> Result<LaxSlicedPacket<'a>, LinkError> {
    let ether_type = EtherType(protocol);
    if ether_type != EtherType::IPV4 && ether_type != EtherType::IPV6 {
        return Err(LinkError::NotIp {
            layer,
            protocol: u32::from(protocol),
        });
    }
    Ok(LaxSlicedPacket::from_ether_type(ether_type, payload))
}

/// SLL v1: packet type, ARPHRD, address length, 8 address bytes, protocol (16 bytes).
/// Parsed by hand: etherparse 0.18's SLL parser refuses ARPHRD 772 (loopback), which
/// is exactly what `tcpdump -i any` records for `lo`.
fn linux_sll(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    const LAYER: Header = Header::LinuxSll;
    need(LAYER, frame, 16)?;
    let protocol = u16::from_be_bytes([frame[14], frame[15]]);
    from_ether_type(LAYER, protocol, &frame[16..])
}

/// SLL v2: protocol (u16), reserved, interface index, ARPHRD, packet type, address
/// length, 8 address bytes (20 bytes). etherparse has no SLL2 parser.
fn linux_sll2(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    const LAYER: Header = Header::LinuxSll2;
    need(LAYER, frame, 20)?;
    let protocol = u16::from_be_bytes([frame[0], frame[1]]);
    from_ether_type(LAYER, protocol, &frame[20..])
}

/// NULL/LOOP: a 4-byte address family. NULL stores it in the capturing host's byte
/// order, which may not be ours, so both orders are tried (the values are small).
fn null_header(frame: &[u8], network_order: bool) -> Result<LaxSlicedPacket<'_>, LinkError> {
    const LAYER: Header = Header::BsdNull;
    need(LAYER, frame, 4)?;
    let raw = [frame[0], frame[1], frame[2], frame[3]];
    let be = u32::from_be_bytes(raw);
    let le = u32::from_le_bytes(raw);
    let family = if network_order || be <= 0xffff {
        be
    } else {
        le
    };
    let payload = &frame[4..];
    if family == AF_INET {
        Ok(LaxSlicedPacket::from_ether_type(EtherType::IPV4, payload))
    } else if AF_INET6_VALUES.contains(&family) {
        Ok(LaxSlicedPacket::from_ether_type(EtherType::IPV6, payload))
    } else {
        Err(LinkError::NotIp {
            layer: LAYER,
            protocol: family,
        })
    }
}

mod arcnet;
pub mod encap;
mod ipoib;
mod nflog;
mod ppp;
pub mod tunnel;
mod wifi;

#[cfg(test)]
mod tests;
