//! The words for what the input layer found: link errors and the headers they name,
//! encapsulations not decoded, damaged capture files.

use labfacts::capfile::FileFault;
use labfacts::link::encap::Undecoded;
use labfacts::link::{Header, LinkError};

/// The header's name, as a sentence says it ("the {name} needs 20 bytes").
pub fn header(h: Header) -> &'static str {
    match h {
        Header::Ethernet => "Ethernet header",
        Header::VlanTag => "802.1Q VLAN tag",
        Header::Vlan => "VLAN tag",
        Header::VnTag => "VN-Tag",
        Header::PbbItag => "802.1ah I-TAG",
        Header::MplsLabelStack => "MPLS label stack",
        Header::IpAfterMpls => "IP header after MPLS",
        Header::PppoeSession => "PPPoE session header",
        Header::Ppp => "PPP header",
        Header::CiscoHdlc => "Cisco HDLC header",
        Header::Nflog => "NFLOG header",
        Header::NflogTlv => "NFLOG attribute (TLV)",
        Header::Ieee80211 => "802.11 header",
        Header::Radiotap => "radiotap header",
        Header::Prism => "Prism monitor header",
        Header::Fddi => "FDDI header",
        Header::Llc => "802.2 LLC header",
        Header::Snap => "802.2 SNAP header",
        Header::LinuxSll => "Linux cooked (SLL) header",
        Header::LinuxSll2 => "Linux cooked (SLL2) header",
        Header::BsdNull => "BSD loopback (NULL) header",
        Header::Ip => "IP header",
        Header::Ipv4 => "IPv4 header",
        Header::Ipv4Packet => "IPv4 packet",
        Header::IpAuthentication => "IP authentication header",
        Header::Ipv6 => "IPv6 header",
        Header::Ipv6Packet => "IPv6 packet",
        Header::Ipv6Extension => "IPv6 extension header",
        Header::Udp => "UDP header",
        Header::UdpPayload => "UDP payload",
        Header::Tcp => "TCP header",
        Header::Other => "link or network header",
    }
}

/// The link types labsniff reads, as the `link_unsupported` sentence lists them.
pub const SUPPORTED: &str = "labsniff reads Ethernet (1), Linux cooked SLL (113) and SLL2 (276), \
     BSD NULL (0) and LOOP (108), raw IP (12, 14, 101, 228, 229), PPP (9), PPP in HDLC \
     framing (50), PPPoE (51), Linux NFLOG (239), IEEE 802.11 (105) also with radiotap \
     (127) or Prism (119) headers, FDDI (10), Linux ARCnet (129) and IP over InfiniBand \
     (242)";

/// Why a frame could not be decoded, in one clause.
pub fn link_error(e: &LinkError) -> String {
    match e {
        LinkError::UnsupportedLinkType { dlt, name } => {
            let name = name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default();
            format!("link type {dlt}{name} is not supported: {SUPPORTED}")
        }
        LinkError::Truncated {
            layer,
            required_len,
            len,
        } => format!(
            "the {} needs {required_len} bytes, only {len} were captured",
            header(*layer)
        ),
        LinkError::NotIp { layer, protocol } => format!(
            "the {} carries protocol 0x{protocol:04x}, which is not IPv4 or IPv6",
            header(*layer)
        ),
        LinkError::LengthTooShort {
            layer,
            claimed,
            min,
        } => format!(
            "the {} says it is {claimed} bytes long, less than the {min} bytes its own header takes",
            header(*layer)
        ),
        LinkError::Malformed { layer, reason } => {
            format!("the {} could not be parsed: {reason}", header(*layer))
        }
        LinkError::Undecoded(what) => {
            format!("the frame carries {}: not decoded", undecoded(*what))
        }
    }
}

/// Words for "N frames carry ...: not decoded".
pub fn undecoded(what: Undecoded) -> &'static str {
    match what {
        Undecoded::MplsControlWord => "MPLS with a pseudowire control word",
        Undecoded::MplsOther => {
            "MPLS with a payload that is neither IPv4 nor IPv6 (by its first nibble)"
        }
        Undecoded::SnapOui => "802.3 LLC/SNAP with a vendor organisation code (not an EtherType)",
        Undecoded::TooDeep => "more than 32 nested link headers (VLAN, MPLS, PBB, ...)",
        Undecoded::Ieee80211Protected => {
            "802.11 data encrypted with WEP or WPA (unreadable without the keys)"
        }
        Undecoded::Ieee80211Fragment => "a fragment of an 802.11 frame (not reassembled)",
        Undecoded::Ieee80211Amsdu => "an 802.11 A-MSDU (several frames aggregated in one)",
        Undecoded::TunnelTooDeep => {
            "more than 4 IP tunnels inside one another (IP-in-IP, 6in4, Teredo)"
        }
    }
}

/// What is wrong with a record or block of a capture file.
pub fn file_fault(fault: &FileFault) -> String {
    let record = |pcapng: bool| if pcapng { "block" } else { "record" };
    match fault {
        FileFault::BlockTooShort { len } => format!(
            "the block says it is {len} bytes long, less than the 12 bytes of any pcapng block (its type and two lengths): the file is damaged here"
        ),
        FileFault::RecordBeforeHeader => "a record before the file header".to_string(),
        FileFault::GzipCut { reason } => format!(
            "the gzip data is damaged or cut here ({reason}); frames after it cannot be read"
        ),
        FileFault::GzipCutInsideRecord { reason } => format!(
            "the gzip data is damaged or cut inside this record ({reason}); frames after it cannot be read"
        ),
        FileFault::EndsInsideRecord => "the file ends inside this record".to_string(),
        FileFault::GzipUnreadable => {
            "the gzip data is damaged or cut here; records after it cannot be read".to_string()
        }
        FileFault::Unreadable => "the file could not be read here".to_string(),
        FileFault::Damaged { pcapng, parser } => format!(
            "this {} is damaged ({parser}); records after it cannot be read",
            record(*pcapng)
        ),
        FileFault::TooLong {
            pcapng,
            claimed,
            max,
        } => {
            let what = if *pcapng {
                format!("the block says it is {claimed} bytes long")
            } else {
                format!("the record says its frame has {claimed} bytes")
            };
            format!(
                "{what}, more than any capture holds ({} MiB at most): the file is damaged here",
                max >> 20
            )
        }
        FileFault::RecordTooLong => "the record is too long to be read".to_string(),
        FileFault::RecordNotLocated => "the record could not be located".to_string(),
        FileFault::BadTimestampResolution { interface, tsresol } => format!(
            "interface {interface} has a timestamp resolution (if_tsresol {tsresol}) that cannot be used"
        ),
        FileFault::ObsoletePacketBlockTooShort => {
            "this obsolete Packet Block is too short".to_string()
        }
        FileFault::UnknownInterface { id, described } => format!(
            "this packet block names interface {id}, but its section describes {described} interface{}: the frame is skipped",
            if *described == 1 { "" } else { "s" }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labfacts::link::LinkKind;

    /// The sentences the engine's own tests asserted before the words moved here.
    #[test]
    fn link_errors_in_words() {
        let e = LinkKind::from_dlt(7).unwrap_err();
        assert_eq!(
            link_error(&e),
            "link type 7 (ARCNET) is not supported: labsniff reads Ethernet (1), Linux cooked SLL (113) \
             and SLL2 (276), BSD NULL (0) and LOOP (108), raw IP (12, 14, 101, 228, 229), PPP (9), \
             PPP in HDLC framing (50), PPPoE (51), Linux NFLOG (239), IEEE 802.11 (105) also with \
             radiotap (127) or Prism (119) headers, FDDI (10), Linux ARCnet (129) and IP over \
             InfiniBand (242)"
        );
        let said = |e: LinkError| link_error(&e);
        assert_eq!(
            said(LinkKind::LinuxSll2.slice(&[0; 3]).unwrap_err()),
            "the Linux cooked (SLL2) header needs 20 bytes, only 3 were captured"
        );
        assert_eq!(
            said(LinkKind::Ethernet.slice(&[0; 5]).unwrap_err()),
            "the Ethernet header needs 14 bytes, only 5 were captured"
        );
        assert_eq!(
            said(LinkKind::Null.slice(&17u32.to_le_bytes()).unwrap_err()),
            "the BSD loopback (NULL) header carries protocol 0x0011, which is not IPv4 or IPv6"
        );
        assert_eq!(
            said(LinkKind::RawIp.slice(&[]).unwrap_err()),
            "the IP header needs 1 bytes, only 0 were captured"
        );
        let e = LinkKind::RawIp.slice(&[0x70, 0, 0, 0]).unwrap_err();
        assert!(
            said(e.clone()).starts_with("the IP header could not be parsed: "),
            "{e:?}"
        );
        assert_eq!(
            said(LinkError::Undecoded(Undecoded::SnapOui)),
            "the frame carries 802.3 LLC/SNAP with a vendor organisation code (not an EtherType): not decoded"
        );
    }
}
