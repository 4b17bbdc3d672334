//! Ethernet encapsulations that etherparse 0.18 does not parse (it knows 802.1Q/802.1ad
//! VLAN tags and MACsec only): MPLS label stacks, PPPoE sessions, 802.1ah PBB
//! (I-TAG and an inner Ethernet header), 802.3 length field with LLC/SNAP, and
//! Cisco VN-Tag; VLAN tags before or between them. Walked here by hand down to the
//! IP header, which etherparse then slices as usual.
//!
//! What cannot be decoded is not a per-frame error: [`Undecoded`] names it, and the
//! analyzer says it once per capture with the number of frames ([`Tally`]).

use super::{Header, LinkError};
use etherparse::EtherType;

const VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];
const MPLS_UNICAST: u16 = 0x8847;
const MPLS_MULTICAST: u16 = 0x8848;
const PPPOE_SESSION: u16 = 0x8864;
const PBB_ITAG: u16 = 0x88e7;
const VN_TAG: u16 = 0x8926;
/// EtherType values below this are an 802.3 length field (IEEE 802.3 clause 3.2.6).
const ETHERTYPE_MIN: u16 = 0x0600;
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
/// Nested headers walked at most: a frame is at most 256 KiB, but a crafted one must
/// not loop long (each step consumes at least 4 bytes anyway).
const MAX_DEPTH: usize = 32;

/// An encapsulation found but not decoded down to IP (a capture-wide diagnostic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undecoded {
    /// MPLS whose payload starts with a 0 nibble: a pseudowire control word
    /// (RFC 4385), then an emulated Ethernet or other link.
    MplsControlWord,
    /// MPLS whose payload is neither IPv4 nor IPv6 by its first nibble (an Ethernet
    /// pseudowire without a control word, most likely).
    MplsOther,
    /// 802.3 LLC/SNAP with an organisation code other than 0 (not an EtherType).
    SnapOui,
    /// More nested headers than [`MAX_DEPTH`].
    TooDeep,
    /// An 802.11 data frame with the Protected Frame flag: encrypted (WEP, WPA),
    /// its payload cannot be read without the keys.
    Ieee80211Protected,
    /// A fragment of an 802.11 frame (More Fragments flag or a fragment number).
    Ieee80211Fragment,
    /// An 802.11 QoS data frame carrying an A-MSDU (several subframes).
    Ieee80211Amsdu,
    /// More nested IP tunnels than [`super::tunnel::MAX_TUNNELS`].
    TunnelTooDeep,
}

impl Undecoded {
    /// Every kind, in the order the diagnostics are said.
    pub const ALL: [Undecoded; 8] = [
        Undecoded::MplsControlWord,
        Undecoded::MplsOther,
        Undecoded::SnapOui,
        Undecoded::TooDeep,
        Undecoded::Ieee80211Protected,
        Undecoded::Ieee80211Fragment,
        Undecoded::Ieee80211Amsdu,
        Undecoded::TunnelTooDeep,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Where the walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// IP (`ether_type` IPv4 or IPv6) starts at `offset`; `plain`: only VLAN tags
    /// came before it, which etherparse's own Ethernet slicing handles.
    Ip {
        ether_type: EtherType,
        offset: usize,
        plain: bool,
    },
    /// Not IP (ARP, LLDP, STP, PPP control protocols, ...): nothing to report.
    NotIp { protocol: u32 },
}

fn be16(frame: &[u8], at: usize, layer: Header) -> Result<u16, LinkError> {
    match frame.get(at..at + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(LinkError::Truncated {
            layer,
            required_len: at + 2,
            len: frame.len(),
        }),
    }
}

/// Walk an Ethernet frame's headers to its IP header.
pub fn ethernet(frame: &[u8]) -> Result<Walk, LinkError> {
    // The type or length field of the outer Ethernet header.
    let mut at = 12;
    let mut plain = true;
    let mut layer = Header::Ethernet;
    for _ in 0..MAX_DEPTH {
        let kind = be16(frame, at, layer)?;
        at += 2;
        match kind {
            0x0800 => return ip(EtherType::IPV4, at, plain),
            0x86dd => return ip(EtherType::IPV6, at, plain),
            k if VLAN.contains(&k) => {
                // Tag control information, then the next type.
                at += 2;
                layer = Header::VlanTag;
            }
            VN_TAG => {
                // 4 bytes: direction, pointer, destination and source virtual interfaces.
                at += 4;
                plain = false;
                layer = Header::VnTag;
            }
            PBB_ITAG => {
                // I-TAG (priority, flags, 24-bit I-SID), then the customer's Ethernet
                // header: destination and source addresses, then its type.
                at += 4 + 12;
                plain = false;
                layer = Header::PbbItag;
            }
            MPLS_UNICAST | MPLS_MULTICAST => return mpls(frame, at),
            PPPOE_SESSION => return pppoe(frame, at),
            len if len < ETHERTYPE_MIN => return llc(frame, at, &mut plain),
            other => {
                return Ok(Walk::NotIp {
                    protocol: u32::from(other),
                })
            }
        }
    }
    Err(LinkError::Undecoded(Undecoded::TooDeep))
}

fn ip(ether_type: EtherType, offset: usize, plain: bool) -> Result<Walk, LinkError> {
    Ok(Walk::Ip {
        ether_type,
        offset,
        plain,
    })
}

/// Label stack entries of 4 bytes until one has the bottom-of-stack bit; then the
/// payload's first nibble says IPv4 (4) or IPv6 (6), as RFC 3032 leaves it to the
/// label's meaning and every analyser (tshark too) guesses it this way.
fn mpls(frame: &[u8], mut at: usize) -> Result<Walk, LinkError> {
    const LAYER: Header = Header::MplsLabelStack;
    for _ in 0..MAX_DEPTH {
        let entry = frame.get(at..at + 4).ok_or(LinkError::Truncated {
            layer: LAYER,
            required_len: at + 4,
            len: frame.len(),
        })?;
        at += 4;
        if entry[2] & 0x01 == 0 {
            continue;
        }
        let first = *frame.get(at).ok_or(LinkError::Truncated {
            layer: Header::IpAfterMpls,
            required_len: at + 1,
            len: frame.len(),
        })?;
        return match first >> 4 {
            4 => ip(EtherType::IPV4, at, false),
            6 => ip(EtherType::IPV6, at, false),
            0 => Err(LinkError::Undecoded(Undecoded::MplsControlWord)),
            _ => Err(LinkError::Undecoded(Undecoded::MplsOther)),
        };
    }
    Err(LinkError::Undecoded(Undecoded::TooDeep))
}

/// PPPoE session header (RFC 2516): version/type, code, session id, length (6 bytes),
/// then the PPP protocol field.
fn pppoe(frame: &[u8], at: usize) -> Result<Walk, LinkError> {
    let protocol = be16(frame, at + 6, Header::PppoeSession)?;
    match protocol {
        PPP_IPV4 => ip(EtherType::IPV4, at + 8, false),
        PPP_IPV6 => ip(EtherType::IPV6, at + 8, false),
        // LCP, IPCP, authentication: the link's own control traffic.
        other => Ok(Walk::NotIp {
            protocol: u32::from(other),
        }),
    }
}

/// 802.2 LLC and SNAP at `at` in a frame of a link that always carries LLC
/// (802.11, FDDI): the EtherType it carries, as [`ethernet`]'s walk would give it.
pub(super) fn llc_snap(frame: &[u8], at: usize) -> Result<Walk, LinkError> {
    llc(frame, at, &mut false)
}

/// 802.2 LLC after an 802.3 length field: SNAP (AA AA 03) with organisation code 0
/// carries an EtherType, which the walk then follows (RFC 1042).
fn llc(frame: &[u8], at: usize, plain: &mut bool) -> Result<Walk, LinkError> {
    const LAYER: Header = Header::Llc;
    let llc = frame.get(at..at + 3).ok_or(LinkError::Truncated {
        layer: LAYER,
        required_len: at + 3,
        len: frame.len(),
    })?;
    if llc != [0xaa, 0xaa, 0x03] {
        // STP, NetBIOS, IPX ...: not IP.
        return Ok(Walk::NotIp {
            protocol: u32::from(llc[0]),
        });
    }
    let snap = frame.get(at + 3..at + 8).ok_or(LinkError::Truncated {
        layer: Header::Snap,
        required_len: at + 8,
        len: frame.len(),
    })?;
    if snap[..3] != [0, 0, 0] {
        return Err(LinkError::Undecoded(Undecoded::SnapOui));
    }
    *plain = false;
    let ether_type = u16::from_be_bytes([snap[3], snap[4]]);
    let offset = at + 8;
    match ether_type {
        0x0800 => ip(EtherType::IPV4, offset, false),
        0x86dd => ip(EtherType::IPV6, offset, false),
        other => Ok(Walk::NotIp {
            protocol: u32::from(other),
        }),
    }
}

/// Frames per undecoded encapsulation, and the first of each: one diagnostic each at
/// the end of the capture. Fixed size.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// (frames, first frame number) per [`Undecoded`] variant.
    counts: [(u64, u64); Undecoded::ALL.len()],
}

impl Tally {
    pub fn add(&mut self, what: Undecoded, frame: u64) {
        let slot = &mut self.counts[what.index()];
        if slot.0 == 0 {
            slot.1 = frame;
        }
        slot.0 += 1;
    }

    /// Per encapsulation met, in [`Undecoded::ALL`]'s order: what, how many frames
    /// carried it, and the first of them.
    pub fn met(&self) -> impl Iterator<Item = (Undecoded, u64, u64)> + '_ {
        Undecoded::ALL.into_iter().filter_map(|what| {
            let (n, first) = self.counts[what.index()];
            (n > 0).then_some((what, n, first))
        })
    }
}
