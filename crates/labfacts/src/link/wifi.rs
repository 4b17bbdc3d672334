//! IEEE 802.11 data frames (DLT 105), behind a radiotap (127) or Prism (119) monitor
//! header or not, and FDDI (10): a MAC header, then 802.2 LLC/SNAP with an EtherType
//! (RFC 1042), walked by [`super::encap::llc_snap`].
//!
//! Management and control frames and null data frames carry no IP: skipped quietly.
//! Protected (encrypted) frames, fragments and A-MSDUs are recognised but not decoded:
//! an [`Undecoded`] kind each, said once per capture.

use super::encap::{self, Undecoded};
use super::{from_walk, need, Header, LinkError};
use etherparse::LaxSlicedPacket;

/// Frame control, duration, three addresses, sequence control.
const MAC_HEADER: usize = 24;
/// The fourth address, when both ToDS and FromDS are set (a wireless bridge).
const ADDR4: usize = 6;
const QOS_CONTROL: usize = 2;
const HT_CONTROL: usize = 4;
const TYPE_DATA: u8 = 2;
const TO_DS: u8 = 0x01;
const FROM_DS: u8 = 0x02;
const MORE_FRAGMENTS: u8 = 0x04;
const PROTECTED: u8 = 0x40;
/// The Order flag: on a QoS data frame, an HT Control field follows QoS Control.
const ORDER: u8 = 0x80;
/// Subtype bits: QoS (0x8) and "no data" (0x4, null function frames).
const SUBTYPE_QOS: u8 = 0x8;
const SUBTYPE_NO_DATA: u8 = 0x4;
/// QoS Control bit 7: A-MSDU present.
const AMSDU: u8 = 0x80;
const FCS: usize = 4;
const RADIOTAP_MIN: usize = 8;
/// Radiotap flags: the frame ends with the FCS; padding after the 802.11 header.
const RADIOTAP_FCS: u8 = 0x10;
const RADIOTAP_DATA_PAD: u8 = 0x20;
/// The Prism monitor header is always 144 bytes.
const PRISM_HEADER: usize = 144;
/// FDDI frame control, destination and source addresses.
const FDDI_HEADER: usize = 13;

/// What the radio header says about the 802.11 frame after it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Radio {
    /// The last 4 bytes are the frame check sequence.
    fcs: bool,
    /// The 802.11 header is padded to a multiple of 4 bytes.
    data_pad: bool,
}

/// An 802.11 frame down to its IP packet.
pub(super) fn ieee80211(frame: &[u8], radio: Radio) -> Result<LaxSlicedPacket<'_>, LinkError> {
    let frame = if radio.fcs {
        &frame[..frame.len().saturating_sub(FCS)]
    } else {
        frame
    };
    let mut at = mac_header_len(frame)?;
    if radio.data_pad {
        at = (at + 3) & !3;
    }
    from_walk(frame, encap::llc_snap(frame, at)?, Header::Ieee80211)
}

/// Where a data frame's body starts; errors for frames that carry no IP or cannot
/// be decoded.
fn mac_header_len(frame: &[u8]) -> Result<usize, LinkError> {
    const LAYER: Header = Header::Ieee80211;
    need(LAYER, frame, 2)?;
    let (control, flags) = (frame[0], frame[1]);
    let (version, kind, subtype) = (control & 0x03, (control >> 2) & 0x03, control >> 4);
    if version != 0 || kind != TYPE_DATA || subtype & SUBTYPE_NO_DATA != 0 {
        return Err(LinkError::NotIp {
            layer: LAYER,
            protocol: u32::from(control),
        });
    }
    if flags & PROTECTED != 0 {
        return Err(LinkError::Undecoded(Undecoded::Ieee80211Protected));
    }
    let four_addresses = flags & (TO_DS | FROM_DS) == TO_DS | FROM_DS;
    let qos_at = MAC_HEADER + if four_addresses { ADDR4 } else { 0 };
    let qos = subtype & SUBTYPE_QOS != 0;
    let len = match (qos, flags & ORDER != 0) {
        (false, _) => qos_at,
        (true, false) => qos_at + QOS_CONTROL,
        (true, true) => qos_at + QOS_CONTROL + HT_CONTROL,
    };
    need(LAYER, frame, len)?;
    if flags & MORE_FRAGMENTS != 0 || frame[22] & 0x0f != 0 {
        return Err(LinkError::Undecoded(Undecoded::Ieee80211Fragment));
    }
    if qos && frame[qos_at] & AMSDU != 0 {
        return Err(LinkError::Undecoded(Undecoded::Ieee80211Amsdu));
    }
    Ok(len)
}

/// Radiotap: version, pad, the header's length (little-endian), present flags; then
/// the 802.11 frame.
pub(super) fn radiotap(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    const LAYER: Header = Header::Radiotap;
    need(LAYER, frame, RADIOTAP_MIN)?;
    let len = usize::from(u16::from_le_bytes([frame[2], frame[3]]));
    if len < RADIOTAP_MIN {
        return Err(LinkError::LengthTooShort {
            layer: LAYER,
            claimed: len,
            min: RADIOTAP_MIN,
        });
    }
    need(LAYER, frame, len)?;
    let flags = radiotap_flags(&frame[..len]);
    let radio = Radio {
        fcs: flags & RADIOTAP_FCS != 0,
        data_pad: flags & RADIOTAP_DATA_PAD != 0,
    };
    ieee80211(&frame[len..], radio)
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The radiotap Flags field (0 when absent): after the present words (each with bit
/// 31 set is followed by another) and the TSFT field (8 bytes, 8-aligned) if present.
fn radiotap_flags(header: &[u8]) -> u8 {
    const TSFT: u32 = 0x1;
    const FLAGS: u32 = 0x2;
    const EXT: u32 = 0x8000_0000;
    let Some(present) = le32(header, 4) else {
        return 0;
    };
    if present & FLAGS == 0 {
        return 0;
    }
    let mut at = 8;
    let mut word = present;
    // Each extra word takes 4 bytes of the (bounded) header.
    while word & EXT != 0 {
        let Some(next) = le32(header, at) else {
            return 0;
        };
        word = next;
        at += 4;
    }
    if present & TSFT != 0 {
        at = ((at + 7) & !7) + 8;
    }
    header.get(at).copied().unwrap_or(0)
}

/// Prism: a fixed 144-byte header, then the 802.11 frame.
pub(super) fn prism(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    need(Header::Prism, frame, PRISM_HEADER)?;
    ieee80211(&frame[PRISM_HEADER..], Radio::default())
}

/// FDDI: frame control and two addresses, then LLC/SNAP.
pub(super) fn fddi(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    need(Header::Fddi, frame, FDDI_HEADER)?;
    from_walk(frame, encap::llc_snap(frame, FDDI_HEADER)?, Header::Fddi)
}
