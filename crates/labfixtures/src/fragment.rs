//! IP fragmentation as a sending host does it: an IP packet (starting at its IP
//! header, as [`crate::Capture::udp_ip_packet`] builds one) cut into fragments of at
//! most `mtu` bytes (RFC 791 section 2.3 / 3.2; RFC 8200 section 4.5), headers laid
//! out with `pnet_packet`.
//!
//! - IPv4: every fragment repeats the header (options included), DF cleared, MF on all
//!   but the last, the offset in 8-byte units, total length and checksum set; the
//!   data of every fragment but the last is the largest multiple of 8 that fits.
//! - IPv6: the unfragmentable part (the IPv6 header and the Hop-by-Hop, Routing and
//!   Destination Options headers at its front) is repeated, then an 8-byte Fragment
//!   header with the given identification; payload length set per fragment.

use pnet_packet::ip::IpNextHeaderProtocol;
use pnet_packet::ipv4::{self, MutableIpv4Packet};
use pnet_packet::ipv6::{MutableFragmentPacket, MutableIpv6Packet};

const FRAGMENT_HEADER_LEN: usize = 8;
const NEXT_FRAGMENT: u8 = 44;

/// Fragments of `packet` (IPv4 or IPv6, by its version nibble) of at most `mtu` bytes
/// each. A packet that fits is returned whole (one "fragment", unchanged). `id` is the
/// IPv6 identification (IPv4 keeps the packet's own). Returns nothing for a packet
/// that is not IP or an MTU too small for 8 bytes of data.
pub fn fragment(packet: &[u8], mtu: usize, id: u32) -> Vec<Vec<u8>> {
    if packet.len() <= mtu {
        return vec![packet.to_vec()];
    }
    match packet.first().map(|b| b >> 4) {
        Some(4) => fragment_v4(packet, mtu),
        Some(6) => fragment_v6(packet, mtu, id),
        _ => Vec::new(),
    }
}

/// The data sizes of the fragments: `chunk` each (a multiple of 8), the rest last.
fn chunks(len: usize, chunk: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < len {
        let n = chunk.min(len - at);
        out.push((at, n));
        at += n;
    }
    out
}

fn fragment_v4(packet: &[u8], mtu: usize) -> Vec<Vec<u8>> {
    let header_len = usize::from(packet[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]])).min(packet.len());
    let chunk = (mtu.saturating_sub(header_len)) & !7;
    if chunk == 0 || total <= header_len {
        return Vec::new();
    }
    let data = &packet[header_len..total];
    let pieces = chunks(data.len(), chunk);
    let last = pieces.len() - 1;
    pieces
        .iter()
        .enumerate()
        .map(|(i, &(at, n))| {
            let mut out = Vec::with_capacity(header_len + n);
            out.extend_from_slice(&packet[..header_len]);
            out.extend_from_slice(&data[at..at + n]);
            if let Some(mut ip) = MutableIpv4Packet::new(&mut out) {
                ip.set_total_length((header_len + n) as u16);
                ip.set_flags(if i < last {
                    ipv4::Ipv4Flags::MoreFragments
                } else {
                    0
                });
                ip.set_fragment_offset((at / 8) as u16);
                ip.set_checksum(0);
                let sum = ipv4::checksum(&ip.to_immutable());
                ip.set_checksum(sum);
            }
            out
        })
        .collect()
}

/// Length of the unfragmentable part (IPv6 header and the extension headers 0, 43, 60
/// at its front) and the index of the next-header byte that ends it.
fn unfragmentable(packet: &[u8]) -> Option<(usize, usize)> {
    let mut next = *packet.get(6)?;
    let mut next_at = 6;
    let mut pos = 40;
    while matches!(next, 0 | 43 | 60) {
        let len = (usize::from(*packet.get(pos + 1)?) + 1) * 8;
        next_at = pos;
        next = packet[pos];
        pos += len;
    }
    (pos <= packet.len()).then_some((pos, next_at))
}

fn fragment_v6(packet: &[u8], mtu: usize, id: u32) -> Vec<Vec<u8>> {
    let Some((split, next_at)) = unfragmentable(packet) else {
        return Vec::new();
    };
    let next_header = packet[next_at];
    let chunk = mtu.saturating_sub(split + FRAGMENT_HEADER_LEN) & !7;
    let end = (40 + usize::from(u16::from_be_bytes([packet[4], packet[5]]))).min(packet.len());
    if chunk == 0 || end <= split {
        return Vec::new();
    }
    let data = &packet[split..end];
    let pieces = chunks(data.len(), chunk);
    let last = pieces.len() - 1;
    pieces
        .iter()
        .enumerate()
        .map(|(i, &(at, n))| {
            let mut out = Vec::with_capacity(split + FRAGMENT_HEADER_LEN + n);
            out.extend_from_slice(&packet[..split]);
            out[next_at] = NEXT_FRAGMENT;
            out.resize(split + FRAGMENT_HEADER_LEN, 0);
            out.extend_from_slice(&data[at..at + n]);
            if let Some(mut ip) = MutableIpv6Packet::new(&mut out) {
                ip.set_payload_length((split - 40 + FRAGMENT_HEADER_LEN + n) as u16);
            }
            if let Some(mut frag) = MutableFragmentPacket::new(&mut out[split..]) {
                frag.set_next_header(IpNextHeaderProtocol(next_header));
                frag.set_reserved(0);
                frag.set_fragment_offset_with_flags((at as u16 & !7) | u16::from(i < last));
                frag.set_id(id);
            }
            out
        })
        .collect()
}

/// `packet` (IPv6) with an extension header of type `kind` (0 Hop-by-Hop, 60
/// Destination Options) of 8 bytes (PadN only) inserted right after the IPv6 header:
/// for tests of Fragment header chains.
pub fn with_extension_header(packet: &[u8], kind: u8) -> Vec<u8> {
    if packet.len() < 40 || packet[0] >> 4 != 6 {
        return packet.to_vec();
    }
    let mut out = packet[..40].to_vec();
    // next header, length 0 (8 bytes), PadN option of 4 bytes of padding.
    out.extend_from_slice(&[packet[6], 0, 1, 4, 0, 0, 0, 0]);
    out.extend_from_slice(&packet[40..]);
    out[6] = kind;
    let len = u16::from_be_bytes([packet[4], packet[5]]).saturating_add(8);
    out[4..6].copy_from_slice(&len.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4_packet(data_len: usize) -> Vec<u8> {
        let mut p = vec![0u8; 20 + data_len];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&((20 + data_len) as u16).to_be_bytes());
        p[4..6].copy_from_slice(&7u16.to_be_bytes());
        p[9] = 17;
        for (i, b) in p[20..].iter_mut().enumerate() {
            *b = i as u8;
        }
        p
    }

    #[test]
    fn ipv4_fragments_fill_the_mtu_with_multiples_of_8() {
        let frags = fragment(&v4_packet(4008), 1500, 0);
        let lens: Vec<usize> = frags.iter().map(Vec::len).collect();
        assert_eq!(lens, vec![1500, 1500, 20 + 4008 - 2 * 1480]);
        let offsets: Vec<u16> = frags
            .iter()
            .map(|f| u16::from_be_bytes([f[6], f[7]]))
            .collect();
        assert_eq!(offsets, vec![0x2000, 0x2000 | 185, 370]);
        let rebuilt: Vec<u8> = frags.iter().flat_map(|f| f[20..].to_vec()).collect();
        assert_eq!(rebuilt, v4_packet(4008)[20..].to_vec());
    }

    #[test]
    fn ipv6_fragments_keep_the_unfragmentable_part() {
        let mut p = vec![0u8; 40 + 4008];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&4008u16.to_be_bytes());
        p[6] = 17;
        let p = with_extension_header(&p, 0);
        let frags = fragment(&p, 1500, 0xabcd);
        assert_eq!(frags.len(), 3);
        for (i, f) in frags.iter().enumerate() {
            assert_eq!(f[6], 0, "hop-by-hop stays first");
            assert_eq!(f[40], NEXT_FRAGMENT);
            assert_eq!(f[48], 17);
            let field = u16::from_be_bytes([f[50], f[51]]);
            assert_eq!(field & 1, u16::from(i < 2));
            assert_eq!(u32::from_be_bytes([f[52], f[53], f[54], f[55]]), 0xabcd);
            assert!(f.len() <= 1500);
        }
        assert_eq!(frags[1][50..52], ((1440u16) | 1).to_be_bytes());
    }
}
