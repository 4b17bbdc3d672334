//! ARCnet as Linux captures it (DLT_ARCNET_LINUX, 129): source and destination station
//! ids (1 byte each), a 2-byte offset field, then the ARCnet protocol id. RFC 1201
//! protocols (IPv4 0xd4, IPv6 0xc4, ARP 0xd5, ...) follow it with a split flag and a
//! 2-byte sequence number; RFC 1051 IPv4 (0xf0) does not. Linux reassembles RFC 1201
//! fragments before the capture sees them, so the payload is decoded whatever the split
//! flag says, as tshark does. Not here: BSD's DLT_ARCNET (7), without the offset field.

use super::{need, Header, LinkError};
use etherparse::{EtherType, LaxSlicedPacket};

/// Source, destination, offset (2): the bytes before the protocol id.
const STATIONS_AND_OFFSET: usize = 4;
/// RFC 1201 IPv4.
const IPV4_1201: u8 = 0xd4;
/// RFC 2497 IPv6 (in RFC 1201 framing).
const IPV6_1201: u8 = 0xc4;
/// RFC 1051 IPv4 (no split flag or sequence number).
const IPV4_1051: u8 = 0xf0;
/// Split flag and sequence number after an RFC 1201 protocol id.
const RFC1201_FIELDS: usize = 3;

/// The header's name in errors: labsniff's words name no ARCnet header yet.
const LAYER: Header = Header::Other;

/// The IP packet of a Linux ARCnet frame.
pub(super) fn linux(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    let at = STATIONS_AND_OFFSET;
    need(LAYER, frame, at + 1)?;
    let protocol = frame[at];
    let (ether_type, payload_at) = match protocol {
        IPV4_1051 => (EtherType::IPV4, at + 1),
        IPV4_1201 => (EtherType::IPV4, at + 1 + RFC1201_FIELDS),
        IPV6_1201 => (EtherType::IPV6, at + 1 + RFC1201_FIELDS),
        // ARP, RARP, AppleTalk, IPX, diagnostics ...: not IP.
        other => {
            return Err(LinkError::NotIp {
                layer: LAYER,
                protocol: u32::from(other),
            })
        }
    };
    need(LAYER, frame, payload_at)?;
    Ok(LaxSlicedPacket::from_ether_type(
        ether_type,
        &frame[payload_at..],
    ))
}
