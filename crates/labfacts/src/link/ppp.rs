//! PPP links: DLT_PPP (9), DLT_PPP_SERIAL (50: RFC 1662 HDLC-like framing, or Cisco
//! HDLC) and DLT_PPP_ETHER (51: a PPPoE session header, then PPP), walked by hand to
//! the IP header.

use super::{from_ether_type, need, Header, LinkError};
use etherparse::{EtherType, LaxSlicedPacket};

const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
/// RFC 1662's all-stations address and unnumbered-information control bytes.
const HDLC_ADDRESS_CONTROL: [u8; 2] = [0xff, 0x03];
/// Cisco HDLC addresses: unicast and broadcast (RFC 1547 section 4.3.1).
const CISCO_HDLC: [u8; 2] = [0x0f, 0x8f];
/// PPPoE session header: version/type, code, session id, length.
const PPPOE_HEADER: usize = 6;

/// DLT_PPP: the address and control bytes (ff 03) when present, then the protocol.
pub(super) fn ppp(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    let at = if frame.starts_with(&HDLC_ADDRESS_CONTROL) {
        2
    } else {
        0
    };
    protocol(frame, at)
}

/// DLT_PPP_SERIAL: PPP in HDLC-like framing (starts with ff), or Cisco HDLC (0f or 8f,
/// a control byte, an EtherType).
pub(super) fn serial(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    need(Header::Ppp, frame, 1)?;
    if CISCO_HDLC.contains(&frame[0]) {
        const LAYER: Header = Header::CiscoHdlc;
        need(LAYER, frame, 4)?;
        let ether_type = u16::from_be_bytes([frame[2], frame[3]]);
        return from_ether_type(LAYER, ether_type, &frame[4..]);
    }
    ppp(frame)
}

/// DLT_PPP_ETHER: the 6-byte PPPoE session header (RFC 2516), then the PPP protocol.
pub(super) fn pppoe(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    need(Header::PppoeSession, frame, PPPOE_HEADER)?;
    protocol(frame, PPPOE_HEADER)
}

/// The PPP protocol field at `at`: one byte when its low bit is set (protocol field
/// compression, RFC 1661 section 6.5), otherwise two; then the packet it names.
fn protocol(frame: &[u8], at: usize) -> Result<LaxSlicedPacket<'_>, LinkError> {
    const LAYER: Header = Header::Ppp;
    need(LAYER, frame, at + 1)?;
    let (protocol, len) = if frame[at] & 0x01 == 1 {
        (u16::from(frame[at]), 1)
    } else {
        need(LAYER, frame, at + 2)?;
        (u16::from_be_bytes([frame[at], frame[at + 1]]), 2)
    };
    let ether_type = match protocol {
        PPP_IPV4 => EtherType::IPV4,
        PPP_IPV6 => EtherType::IPV6,
        // LCP, IPCP, authentication: the link's own control traffic.
        other => {
            return Err(LinkError::NotIp {
                layer: LAYER,
                protocol: u32::from(other),
            })
        }
    };
    Ok(LaxSlicedPacket::from_ether_type(
        ether_type,
        &frame[at + len..],
    ))
}
