//! One captured frame decoded to what labsniff needs: addresses, ports, TCP header
//! fields and options, and the transport payload (a slice of the frame, not a copy).

use crate::link::{Header, LinkError, LinkKind};
use etherparse::{LaxNetSlice, TcpOptionElement, TcpSlice, TransportSlice};
use std::net::{IpAddr, SocketAddr};

/// Microseconds since the Unix epoch.
pub type Micros = u64;

/// TCP flags that matter for conversation tracking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

/// TCP options a handshake negotiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    /// Maximum segment size.
    pub mss: Option<u16>,
    /// Window scale shift count.
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// The timestamps option (RFC 7323, kind 8) was present: it takes 10 bytes, 12 with
    /// the two NOPs that align it, of the TCP header of every segment that carries it.
    pub timestamps: bool,
}

/// The TCP part of a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub options: TcpOptions,
    /// The payload bytes captured.
    pub payload: &'a [u8],
    /// Payload bytes the segment carried on the wire (more than `payload.len()` when
    /// the capture cut the frame).
    pub wire_len: usize,
}

/// What a packet carries above IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport<'a> {
    Tcp(TcpSegment<'a>),
    Udp {
        payload: &'a [u8],
        /// Payload bytes on the wire, from the UDP length field.
        wire_len: usize,
    },
}

/// A decoded TCP or UDP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Frame number in the capture, from 1.
    pub frame: u64,
    pub ts: Micros,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport<'a>,
}

impl Packet<'_> {
    /// The payload captured and its length on the wire.
    pub fn payload(&self) -> (&[u8], usize) {
        match &self.transport {
            Transport::Tcp(t) => (t.payload, t.wire_len),
            Transport::Udp { payload, wire_len } => (payload, *wire_len),
        }
    }

    /// The capture cut this packet's payload short.
    pub fn truncated(&self) -> bool {
        let (captured, wire) = self.payload();
        captured.len() < wire
    }
}

mod fast;
pub mod icmp;

/// What a frame holds, for the analyzer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A TCP or UDP packet.
    Packet(Packet<'a>),
    /// An IP fragment (IPv4 with MF or an offset, IPv6 with a fragmenting Fragment
    /// header): for [`crate::defrag`]; its transport header, if any, is not decoded.
    Fragment(crate::defrag::Fragment<'a>),
    /// An ICMP or ICMPv6 error quoting a TCP or UDP packet: for the conversation of the
    /// packet it answers.
    IcmpError(icmp::IcmpError),
    /// Not TCP/UDP over IP (ARP, other ICMP, ...): nothing to report.
    Other,
}

/// Decode a frame. `Ok(None)`: not a TCP/UDP over IP packet (ARP, ICMP, ...), or an IP
/// fragment ([`decode_frame`] tells those apart), nothing to report. Errors say which
/// layer is cut off or broken.
pub fn decode(
    kind: LinkKind,
    frame: u64,
    ts: Micros,
    data: &[u8],
) -> Result<Option<Packet<'_>>, LinkError> {
    match decode_frame(kind, frame, ts, data)? {
        Decoded::Packet(p) => Ok(Some(p)),
        Decoded::Fragment(_) | Decoded::IcmpError(_) | Decoded::Other => Ok(None),
    }
}

/// [`decode`] with IP fragments handed back as such.
pub fn decode_frame(
    kind: LinkKind,
    frame: u64,
    ts: Micros,
    data: &[u8],
) -> Result<Decoded<'_>, LinkError> {
    match fast::decode(kind, frame, ts, data) {
        Some(packet) => Ok(Decoded::Packet(packet)),
        None => decode_any(kind, frame, ts, data),
    }
}

/// The fast path alone: a plain TCP-over-IPv4 frame, or `None` for "ask
/// [`decode_frame`]" (fragments always are). For the analyzer's hot loop, where
/// wrapping the packet in [`Decoded`] cost a copy of it per frame.
#[inline]
pub fn decode_fast(kind: LinkKind, frame: u64, ts: Micros, data: &[u8]) -> Option<Packet<'_>> {
    fast::decode(kind, frame, ts, data)
}

/// [`decode_frame`] without the fast path (after [`decode_fast`] said `None`).
pub fn decode_frame_general(
    kind: LinkKind,
    frame: u64,
    ts: Micros,
    data: &[u8],
) -> Result<Decoded<'_>, LinkError> {
    decode_any(kind, frame, ts, data)
}

/// [`decode`] without the fast path for plain TCP over IPv4: every link type,
/// every error. (Public so that tests can hold the two paths together.)
pub fn decode_general(
    kind: LinkKind,
    frame: u64,
    ts: Micros,
    data: &[u8],
) -> Result<Option<Packet<'_>>, LinkError> {
    match decode_any(kind, frame, ts, data)? {
        Decoded::Packet(p) => Ok(Some(p)),
        Decoded::Fragment(_) | Decoded::IcmpError(_) | Decoded::Other => Ok(None),
    }
}

/// A reassembled IP datagram (from [`crate::defrag`], starting at its IP header),
/// decoded exactly as a frame of raw IP would be; `frame` is the fragment's that
/// completed it. (Its fragments' frames travel beside the packet, not in it: a
/// larger [`Packet`] cost a copy per frame on the hot path.)
pub fn decode_reassembled(
    frame: u64,
    ts: Micros,
    ip: &[u8],
) -> Result<Option<Packet<'_>>, LinkError> {
    decode_general(LinkKind::RawIp, frame, ts, ip)
}

/// Where `part` (a subslice of `whole`) starts in it.
fn offset_in(whole: &[u8], part: &[u8]) -> Option<usize> {
    (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)
}

/// The general path: etherparse's slicing of every link, tunnel and extension header.
fn decode_any(
    kind: LinkKind,
    frame: u64,
    ts: Micros,
    data: &[u8],
) -> Result<Decoded<'_>, LinkError> {
    let sliced = match kind.slice(data).and_then(crate::link::tunnel::innermost) {
        Ok(s) => s,
        Err(LinkError::NotIp { .. }) => return Ok(Decoded::Other),
        Err(e) => return Err(e),
    };
    // A fragment: etherparse leaves its transport alone (rightly: only the first
    // fragment has the header, and it describes the whole datagram). The defragmenter
    // reads the IP layer itself, from where etherparse found its header.
    if let Some(at) = fragment_at(sliced.net.as_ref(), data) {
        return Ok(data
            .get(at..)
            .and_then(crate::defrag::parse)
            .map_or(Decoded::Other, Decoded::Fragment));
    }
    let Some((src_ip, dst_ip, missing)) = addresses(sliced.net.as_ref()) else {
        return stopped(sliced.stop_err);
    };
    if let Some(error) = icmp_error(sliced.net.as_ref(), frame, ts, src_ip) {
        return Ok(Decoded::IcmpError(error));
    }
    let Some(transport) = transport(sliced.transport.as_ref(), missing) else {
        return stopped(sliced.stop_err);
    };
    let (src_port, dst_port) = ports(sliced.transport.as_ref());
    Ok(Decoded::Packet(Packet {
        frame,
        ts,
        src: SocketAddr::new(src_ip, src_port),
        dst: SocketAddr::new(dst_ip, dst_port),
        transport,
    }))
}

/// Where the IP header of a fragment starts in `data` (`None`: not a fragment).
fn fragment_at(net: Option<&LaxNetSlice<'_>>, data: &[u8]) -> Option<usize> {
    match net {
        Some(LaxNetSlice::Ipv4(ip)) if ip.payload().fragmented => {
            offset_in(data, ip.header().slice())
        }
        Some(LaxNetSlice::Ipv6(ip)) if ip.payload().fragmented => {
            offset_in(data, ip.header().slice())
        }
        _ => None,
    }
}

/// An ICMP or ICMPv6 error in the IP payload (as far as captured), sent by `reporter`.
fn icmp_error(
    net: Option<&LaxNetSlice<'_>>,
    frame: u64,
    ts: Micros,
    reporter: IpAddr,
) -> Option<icmp::IcmpError> {
    let (payload, v6) = match net {
        Some(LaxNetSlice::Ipv4(ip)) => (ip.payload(), false),
        Some(LaxNetSlice::Ipv6(ip)) => (ip.payload(), true),
        _ => return None,
    };
    let wanted = if v6 {
        etherparse::IpNumber::IPV6_ICMP
    } else {
        etherparse::IpNumber::ICMP
    };
    if payload.ip_number != wanted {
        return None;
    }
    icmp::parse(frame, ts, reporter, v6, payload.payload)
}

/// The IP source and destination, and the bytes of the IP packet that the capture
/// cut off (from the IP length field); `None` without an IP layer (ARP, or slicing
/// stopped before it).
fn addresses(net: Option<&LaxNetSlice<'_>>) -> Option<(IpAddr, IpAddr, usize)> {
    match net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let auth = ip.extensions().auth.map_or(0, |a| a.slice().len());
            let have = h.slice().len() + auth + ip.payload().payload.len();
            Some((
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                usize::from(h.total_len()).saturating_sub(have),
            ))
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let have = ip.extensions().slice().len() + ip.payload().payload.len();
            Some((
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                usize::from(h.payload_length()).saturating_sub(have),
            ))
        }
        Some(LaxNetSlice::Arp(_)) | None => None,
    }
}

/// The TCP or UDP part, `missing` bytes of the IP packet having been cut off by the
/// capture; `None` for any other transport (or none).
fn transport<'a>(slice: Option<&TransportSlice<'a>>, missing: usize) -> Option<Transport<'a>> {
    match slice {
        Some(TransportSlice::Tcp(tcp)) => Some(Transport::Tcp(tcp_segment(tcp, missing))),
        Some(TransportSlice::Udp(udp)) => {
            let wire_len = usize::from(udp.length()).saturating_sub(8);
            Some(Transport::Udp {
                payload: udp.payload(),
                wire_len: wire_len.max(udp.payload().len()),
            })
        }
        _ => None,
    }
}

/// A TCP segment's fields, options and payload (`missing` bytes cut off by the
/// capture).
fn tcp_segment<'a>(tcp: &TcpSlice<'a>, missing: usize) -> TcpSegment<'a> {
    TcpSegment {
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags: TcpFlags {
            syn: tcp.syn(),
            ack: tcp.ack(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            psh: tcp.psh(),
        },
        window: tcp.window_size(),
        options: tcp_options(tcp),
        payload: tcp.payload(),
        wire_len: tcp.payload().len() + missing,
    }
}

/// The options a handshake negotiates, from a TCP header (damaged options skipped).
fn tcp_options(tcp: &TcpSlice<'_>) -> TcpOptions {
    let mut options = TcpOptions::default();
    for option in tcp.options_iterator().flatten() {
        match option {
            TcpOptionElement::MaximumSegmentSize(m) => options.mss = Some(m),
            TcpOptionElement::WindowScale(w) => options.window_scale = Some(w),
            TcpOptionElement::SelectiveAcknowledgementPermitted => options.sack_permitted = true,
            TcpOptionElement::Timestamp(..) => options.timestamps = true,
            _ => {}
        }
    }
    options
}

/// The transport's source and destination ports (0 without TCP or UDP).
fn ports(slice: Option<&TransportSlice<'_>>) -> (u16, u16) {
    match slice {
        Some(TransportSlice::Tcp(t)) => (t.source_port(), t.destination_port()),
        Some(TransportSlice::Udp(u)) => (u.source_port(), u.destination_port()),
        _ => (0, 0),
    }
}

/// Where slicing stopped, when it stopped before a TCP or UDP packet: its error, or
/// nothing to report (slicing ended at a layer labsniff does not read).
fn stopped<'a>(
    stop_err: Option<(etherparse::err::packet::SliceError, etherparse::err::Layer)>,
) -> Result<Decoded<'a>, LinkError> {
    match stop_err {
        Some((err, layer)) => Err(stop_error(err, layer)),
        None => Ok(Decoded::Other),
    }
}

fn header_of(layer: etherparse::err::Layer) -> Header {
    use etherparse::err::Layer::*;
    match layer {
        LinuxSllHeader => Header::LinuxSll,
        Ethernet2Header => Header::Ethernet,
        VlanHeader => Header::Vlan,
        IpHeader => Header::Ip,
        Ipv4Header => Header::Ipv4,
        Ipv4Packet => Header::Ipv4Packet,
        IpAuthHeader => Header::IpAuthentication,
        Ipv6Header => Header::Ipv6,
        Ipv6Packet => Header::Ipv6Packet,
        Ipv6ExtHeader
        | Ipv6HopByHopHeader
        | Ipv6DestOptionsHeader
        | Ipv6RouteHeader
        | Ipv6FragHeader => Header::Ipv6Extension,
        UdpHeader => Header::Udp,
        UdpPayload => Header::UdpPayload,
        TcpHeader => Header::Tcp,
        _ => Header::Other,
    }
}

fn stop_error(
    err: etherparse::err::packet::SliceError,
    layer: etherparse::err::Layer,
) -> LinkError {
    use etherparse::err::packet::SliceError;
    let layer = header_of(layer);
    match err {
        SliceError::Len(l) => LinkError::Truncated {
            layer,
            required_len: l.required_len,
            len: l.len,
        },
        other => LinkError::Malformed {
            layer,
            reason: other.to_string(),
        },
    }
}
