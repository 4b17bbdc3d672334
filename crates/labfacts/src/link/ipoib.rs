//! IP over InfiniBand (LINKTYPE_IPOIB, 242). libpcap's list describes the link header
//! as RFC 4391's 4 bytes (an EtherType, 2 reserved bytes), but the captures that exist
//! (Solaris/illumos DLPI, the only libpcap source of this type) start with the 40-byte
//! pseudo global route header the ibd driver passes up (version/class/flow, source QP
//! number, source and destination GIDs), and tshark reads them so: 40 bytes, then the
//! 4-byte IPoIB header, then the packet.

use super::{from_ether_type, need, Header, LinkError};
use etherparse::LaxSlicedPacket;

/// The pseudo global route header before the IPoIB header.
const GRH: usize = 40;
/// EtherType and reserved.
const IPOIB_HEADER: usize = 4;

/// The header's name in errors: labsniff's words name no IPoIB header yet.
const LAYER: Header = Header::Other;

/// The IP packet of an IPoIB frame (ARP and the rest are not IP).
pub(super) fn ipoib(frame: &[u8]) -> Result<LaxSlicedPacket<'_>, LinkError> {
    need(LAYER, frame, GRH + IPOIB_HEADER)?;
    let protocol = u16::from_be_bytes([frame[GRH], frame[GRH + 1]]);
    from_ether_type(LAYER, protocol, &frame[GRH + IPOIB_HEADER..])
}
