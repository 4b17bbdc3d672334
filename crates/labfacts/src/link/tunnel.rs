//! IP tunnels, followed to the packet inside so that lab traffic in a tunnel is
//! analysed: IP-in-IP (IPv4 protocol 4), IPv6-in-IPv4 (protocol 41: 6in4, 6to4),
//! IPv4/IPv6 in IPv6 (next header 4 or 41) and Teredo (IPv6 in UDP, port 3544,
//! RFC 4380). At most [`MAX_TUNNELS`] deep.

use super::encap::Undecoded;
use super::{from_ip, LinkError};
use etherparse::{IpNumber, LaxNetSlice, LaxSlicedPacket, TransportSlice};

/// Tunnels followed inside one another at most.
pub const MAX_TUNNELS: usize = 4;
const TEREDO_PORT: u16 = 3544;
const IPV6_HEADER: usize = 40;
/// Teredo indicators before the IPv6 packet: authentication (type 0x0001: lengths of
/// the client id and authentication value, 8 bytes of nonce and confirmation) and
/// origin indication (type 0x0000, 8 bytes).
const TEREDO_AUTH_FIXED: usize = 13;
const TEREDO_ORIGIN: usize = 8;

/// The innermost packet of `sliced`: itself when it is not a tunnel.
pub fn innermost(sliced: LaxSlicedPacket<'_>) -> Result<LaxSlicedPacket<'_>, LinkError> {
    let mut sliced = sliced;
    for _ in 0..MAX_TUNNELS {
        match inner(&sliced) {
            Some(ip) => sliced = from_ip(ip)?,
            None => return Ok(sliced),
        }
    }
    match inner(&sliced) {
        Some(_) => Err(LinkError::Undecoded(Undecoded::TunnelTooDeep)),
        None => Ok(sliced),
    }
}

/// The IP packet a tunnel packet carries (`None`: not a tunnel).
fn inner<'a>(sliced: &LaxSlicedPacket<'a>) -> Option<&'a [u8]> {
    let payload = match &sliced.net {
        Some(LaxNetSlice::Ipv4(ip)) => ip.payload(),
        Some(LaxNetSlice::Ipv6(ip)) => ip.payload(),
        _ => return None,
    };
    // A fragment of a tunnel packet is the defragmenter's; the whole one comes back.
    if payload.fragmented {
        return None;
    }
    match payload.ip_number {
        IpNumber::IPV4 | IpNumber::IPV6 => Some(payload.payload),
        IpNumber::UDP => teredo(sliced.transport.as_ref()),
        _ => None,
    }
}

/// A UDP datagram to or from port 3544 whose payload, after any Teredo indicators,
/// is exactly one IPv6 packet (by its version and payload length).
fn teredo<'a>(transport: Option<&TransportSlice<'a>>) -> Option<&'a [u8]> {
    let Some(TransportSlice::Udp(udp)) = transport else {
        return None;
    };
    if udp.source_port() != TEREDO_PORT && udp.destination_port() != TEREDO_PORT {
        return None;
    }
    let wire_len = usize::from(udp.length()).saturating_sub(8);
    let at = indicators(udp.payload())?;
    let ip = &udp.payload()[at..];
    let is_ipv6 = match ip {
        [first, _, _, _, hi, lo, ..] => {
            let packet_len = IPV6_HEADER + usize::from(u16::from_be_bytes([*hi, *lo]));
            first >> 4 == 6 && wire_len == at + packet_len
        }
        // Cut before the IPv6 payload length: a UDP datagram as any other.
        _ => false,
    };
    is_ipv6.then_some(ip)
}

/// Bytes of Teredo indicators at the start of `payload` (`None`: they are cut short).
fn indicators(payload: &[u8]) -> Option<usize> {
    let mut at = 0;
    if payload.get(..2)? == [0, 1] {
        let id_len = usize::from(*payload.get(2)?);
        let auth_len = usize::from(*payload.get(3)?);
        at += TEREDO_AUTH_FIXED + id_len + auth_len;
    }
    if payload.get(at..at + 2)? == [0, 0] {
        at += TEREDO_ORIGIN;
    }
    payload.get(at..).map(|_| at)
}
