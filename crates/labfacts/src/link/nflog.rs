//! Linux NFLOG (DLT 239, what `tcpdump -i nflog` writes): a 4-byte header (address
//! family, version, resource id), then netlink attributes (TLVs: a length that counts
//! the 4-byte TLV header, a type, the value, padding to 4 bytes). The attribute of type
//! NFULA_PAYLOAD holds the IP packet. Lengths and types are in the capturing host's
//! byte order: little-endian, as on every host that writes these files in practice
//! (libpcap's and tshark's reading too).

use super::{need, Header, LinkError};
use etherparse::{EtherType, LaxSlicedPacket};

const HEADER: usize = 4;
const TLV_HEADER: usize = 4;
/// NFULA_PAYLOAD.
const PAYLOAD: u16 = 9;
/// The type's low bits (NLA_TYPE_MASK: without the nested and byte-order flags).
const TYPE_MASK: u16 = 0x3fff;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// The IP packet of an NFLOG message.
pub(super) fn nflog(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    need(Header::Nflog, frame, HEADER)?;
    let ether_type = match frame[0] {
        AF_INET => EtherType::IPV4,
        AF_INET6 => EtherType::IPV6,
        other => {
            return Err(LinkError::NotIp {
                layer: Header::Nflog,
                protocol: u32::from(other),
            })
        }
    };
    let packet = payload(frame)?;
    Ok(LaxSlicedPacket::from_ether_type(ether_type, packet))
}

/// The value of the NFULA_PAYLOAD attribute (as far as captured: a packet cut by the
/// snapshot length is still decoded, and the IP layer tells what is missing).
fn payload(frame: &[u8]) -> Result<&[u8], LinkError> {
    const LAYER: Header = Header::NflogTlv;
    let mut at = HEADER;
    // Every attribute takes at least 4 bytes, so this ends within the frame's length.
    while at < frame.len() {
        need(LAYER, frame, at + TLV_HEADER)?;
        let len = usize::from(u16::from_le_bytes([frame[at], frame[at + 1]]));
        let kind = u16::from_le_bytes([frame[at + 2], frame[at + 3]]) & TYPE_MASK;
        if len < TLV_HEADER {
            return Err(LinkError::LengthTooShort {
                layer: LAYER,
                claimed: len,
                min: TLV_HEADER,
            });
        }
        if kind == PAYLOAD {
            let end = frame.len().min(at + len);
            return Ok(&frame[at + TLV_HEADER..end]);
        }
        need(LAYER, frame, at + len)?;
        at += (len + 3) & !3;
    }
    // A message without the packet (logged with a copy range of 0): nothing to decode.
    Err(LinkError::NotIp {
        layer: Header::Nflog,
        protocol: 0,
    })
}
