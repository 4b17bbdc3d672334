//! ICMP and ICMPv6 errors (destination unreachable, fragmentation needed / packet too
//! big, time exceeded) with the header they quote: which packet they answer. Every
//! field is read through a bounds check; a short or hostile message gives `None`.

use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// What an ICMP error says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IcmpKind {
    /// ICMP 3/0, ICMPv6 1/0: no route to the network.
    NetUnreachable,
    /// ICMP 3/1, ICMPv6 1/3: the host did not answer (ARP / neighbour discovery).
    HostUnreachable,
    /// ICMP 3/2: the host does not speak the transport protocol.
    ProtocolUnreachable,
    /// ICMP 3/3, ICMPv6 1/4: nothing bound to the port on the host.
    PortUnreachable,
    /// ICMP 3/4 (fragmentation needed and DF set), ICMPv6 2 (packet too big).
    FragmentationNeeded,
    /// ICMP 3/9, 3/10, 3/13, ICMPv6 1/1: a filter (firewall) refused it.
    AdministrativelyProhibited,
    /// Any other destination-unreachable code.
    OtherUnreachable,
    /// ICMP 11/0, ICMPv6 3/0: the TTL / hop limit ran out on the way.
    TtlExceeded,
    /// ICMP 11/1, ICMPv6 3/1: the fragments were not all received in time.
    ReassemblyTimeExceeded,
}

/// The packet an ICMP error quotes: its transport and 4-tuple, as it was sent (`src`
/// is its sender), and the TCP sequence number when the quote holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted {
    /// TCP (else UDP).
    pub tcp: bool,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub tcp_seq: Option<u32>,
}

/// One ICMP or ICMPv6 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpError {
    pub frame: u64,
    pub ts: u64,
    /// The host (or router) that sent the error.
    pub reporter: IpAddr,
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    pub kind: IcmpKind,
    /// Fragmentation needed / packet too big: the next hop's MTU (0 when unsaid).
    pub mtu: Option<u32>,
    pub quoted: Quoted,
}

const TCP: u8 = 6;
const UDP: u8 = 17;

fn byte(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// The kind of an ICMPv4 error, and the MTU it names (`None`: not an error labsniff reads).
fn kind_v4(icmp_type: u8, code: u8, msg: &[u8]) -> Option<(IcmpKind, Option<u32>)> {
    let kind = match (icmp_type, code) {
        (3, 0) => IcmpKind::NetUnreachable,
        (3, 1) => IcmpKind::HostUnreachable,
        (3, 2) => IcmpKind::ProtocolUnreachable,
        (3, 3) => IcmpKind::PortUnreachable,
        (3, 4) => {
            let mtu = be16(msg, 6).map(u32::from);
            return Some((IcmpKind::FragmentationNeeded, mtu));
        }
        (3, 9 | 10 | 13) => IcmpKind::AdministrativelyProhibited,
        (3, _) => IcmpKind::OtherUnreachable,
        (11, 0) => IcmpKind::TtlExceeded,
        (11, _) => IcmpKind::ReassemblyTimeExceeded,
        _ => return None,
    };
    Some((kind, None))
}

/// The kind of an ICMPv6 error, and the MTU it names.
fn kind_v6(icmp_type: u8, code: u8, msg: &[u8]) -> Option<(IcmpKind, Option<u32>)> {
    let kind = match (icmp_type, code) {
        (1, 0) => IcmpKind::NetUnreachable,
        (1, 1 | 5 | 6) => IcmpKind::AdministrativelyProhibited,
        (1, 3) => IcmpKind::HostUnreachable,
        (1, 4) => IcmpKind::PortUnreachable,
        (1, _) => IcmpKind::OtherUnreachable,
        (2, _) => return Some((IcmpKind::FragmentationNeeded, be32(msg, 4))),
        (3, 0) => IcmpKind::TtlExceeded,
        (3, _) => IcmpKind::ReassemblyTimeExceeded,
        _ => return None,
    };
    Some((kind, None))
}

/// The quoted IPv4 packet (from its IP header): TCP or UDP, with its ports.
fn quoted_v4(q: &[u8]) -> Option<Quoted> {
    let first = byte(q, 0)?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    // A quoted fragment other than the first carries no transport header.
    if be16(q, 6)? & 0x1fff != 0 {
        return None;
    }
    let src = IpAddr::V4(Ipv4Addr::from(array::<4>(q, 12)?));
    let dst = IpAddr::V4(Ipv4Addr::from(array::<4>(q, 16)?));
    transport(byte(q, 9)?, src, dst, q.get(ihl..)?)
}

/// The quoted IPv6 packet: TCP or UDP right after the fixed header (a quote with
/// extension headers is not followed).
fn quoted_v6(q: &[u8]) -> Option<Quoted> {
    if byte(q, 0)? >> 4 != 6 {
        return None;
    }
    let src = IpAddr::V6(Ipv6Addr::from(array::<16>(q, 8)?));
    let dst = IpAddr::V6(Ipv6Addr::from(array::<16>(q, 24)?));
    transport(byte(q, 6)?, src, dst, q.get(40..)?)
}

/// The quoted transport header: ports (its first 4 bytes), and TCP's sequence number
/// (the next 4, which RFC 792's 64 quoted bits always include).
fn transport(proto: u8, src: IpAddr, dst: IpAddr, t: &[u8]) -> Option<Quoted> {
    let tcp = match proto {
        TCP => true,
        UDP => false,
        _ => return None,
    };
    let (sport, dport) = (be16(t, 0)?, be16(t, 2)?);
    let tcp_seq = if tcp { be32(t, 4) } else { None };
    Some(Quoted {
        tcp,
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        tcp_seq,
    })
}

/// An ICMP (`v6` false) or ICMPv6 message `msg` (from its type byte) sent by
/// `reporter`: the error and what it quotes, or `None` (not an error, or too short).
pub fn parse(frame: u64, ts: u64, reporter: IpAddr, v6: bool, msg: &[u8]) -> Option<IcmpError> {
    let (icmp_type, code) = (byte(msg, 0)?, byte(msg, 1)?);
    let (kind, mtu) = if v6 {
        kind_v6(icmp_type, code, msg)?
    } else {
        kind_v4(icmp_type, code, msg)?
    };
    let quote = msg.get(8..)?;
    let quoted = if v6 {
        quoted_v6(quote)?
    } else {
        quoted_v4(quote)?
    };
    Some(IcmpError {
        frame,
        ts,
        reporter,
        v6,
        icmp_type,
        code,
        kind,
        mtu,
        quoted,
    })
}

#[cfg(test)]
mod tests;
