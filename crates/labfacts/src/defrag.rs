//! IPv4 and IPv6 fragment reassembly (RFC 791, RFC 8200): fragments in, whole IP
//! datagrams and facts about the ones given up out. Pure: no I/O, no words (the
//! analyzer phrases the facts).
//!
//! A datagram is identified as the RFCs say: IPv4 by (source, destination, protocol,
//! identification), IPv6 by (source, destination, identification of its Fragment
//! header). Its IPv4 header (options included) or its IPv6 header and unfragmentable
//! extension headers come from the fragment at offset 0; the reassembled datagram is
//! laid out as one unfragmented IP packet (fragment fields cleared, lengths and the
//! IPv4 checksum set), so the caller decodes it exactly like a packet that never was
//! fragmented.
//!
//! # Limits (untrusted input never sizes an allocation)
//! - **Per datagram**: its payload (fragment offset + data length) may not pass
//!   [`MAX_PAYLOAD`] (65,535) bytes, nor the whole datagram the 16-bit length field of
//!   its header (IPv4 total length with the header, IPv6 payload length with the
//!   unfragmentable extension headers); at most [`MAX_FRAGMENTS`] fragments each.
//! - **In progress**: at most [`Limits::max_datagrams`] (default 1,024) datagrams and
//!   [`Limits::max_bytes`] (default 16 MiB) held, counting the data, the headers
//!   kept and [`PIECE_OVERHEAD`] bytes per piece and per frame number. Past either, the
//!   oldest datagram is given up.
//! - Bytes are stored as they arrive (one piece per fragment, never a buffer sized from
//!   an offset or a claimed total); the reassembled packet is built only when every
//!   byte is there.
//!
//! # Timeouts (capture time, checked as frames arrive: [`Defragmenter::expire`])
//! IPv4 [`TIMEOUT_V4`] = 30 s after the first fragment (RFC 791 suggests 15 s for the
//! initial timer, RFC 1122 60 to 120 s; Linux's `net.ipv4.ipfrag_time` is 30 s, the
//! receiver a lab capture shows), IPv6 [`TIMEOUT_V6`] = 60 s (RFC 8200 section 4.5).
//!
//! # Overlaps
//! - **IPv6**: a fragment that overlaps bytes already held discards the whole datagram
//!   (RFC 5722); an exact duplicate (same offset and length) is ignored (RFC 5722
//!   erratum 3089, as Linux does).
//! - **IPv4**: the first copy of every byte is kept, and the overlap is recorded in the
//!   [`Datagram`] (bytes overlapped, bytes that differed, fragments that partly
//!   overlapped). Linux (since 4.19) discards an IPv4 datagram whose fragments partly
//!   overlap, so the receiver may not have seen what is reassembled here.
//!
//! # Given up, with a [`Dropped`] fact
//! Timeout, overlap (IPv6), too big, a fragment ending past the end a last fragment
//! set, a last fragment that contradicts a known end or held bytes, a non-last
//! fragment whose length is not a multiple of 8 (RFC 8200 discards such an IPv6
//! fragment; Linux trims an IPv4 one to a multiple of 8; either way the bytes the
//! receiver kept are not the ones captured), a fragment cut by the snaplen (its
//! bytes cannot be had), too many fragments, eviction by a cap, and the end of the
//! capture ([`Defragmenter::finish`]).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Microseconds (capture time).
pub type Micros = u64;

/// Largest reassembled payload (fragment offset + data length) accepted.
pub const MAX_PAYLOAD: usize = 65_535;
/// Fragments kept per datagram: 65,535 bytes in 8-byte fragments are 8,192 of them.
pub const MAX_FRAGMENTS: usize = 8_192;
/// Bytes charged against [`Limits::max_bytes`] for each piece and each frame number
/// held, for the bookkeeping around the data (a flood of 8-byte fragments costs more
/// than its 8 bytes).
pub const PIECE_OVERHEAD: usize = 32;
/// IPv4 reassembly timeout: 30 s.
pub const TIMEOUT_V4: Micros = 30_000_000;
/// IPv6 reassembly timeout: 60 s (RFC 8200).
pub const TIMEOUT_V6: Micros = 60_000_000;
/// Extension headers walked before the Fragment header (each is at least 8 bytes, so
/// the packet length bounds the walk too).
const MAX_EXTENSIONS: usize = 16;

const PROTO_HOP_BY_HOP: u8 = 0;
const PROTO_ROUTING: u8 = 43;
const PROTO_FRAGMENT: u8 = 44;
const PROTO_DEST_OPTIONS: u8 = 60;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

/// The bounds the defragmenter keeps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Datagrams in progress at once.
    pub max_datagrams: usize,
    /// Bytes held in total (data, headers, [`PIECE_OVERHEAD`] per piece and frame).
    pub max_bytes: usize,
    pub timeout_v4: Micros,
    pub timeout_v6: Micros,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_datagrams: 1024,
            max_bytes: 16 << 20,
            timeout_v4: TIMEOUT_V4,
            timeout_v6: TIMEOUT_V6,
        }
    }
}

/// What identifies the fragments of one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    V4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: u8,
        id: u16,
    },
    V6 {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        id: u32,
    },
}

impl Key {
    pub fn src(&self) -> IpAddr {
        match *self {
            Key::V4 { src, .. } => IpAddr::V4(src),
            Key::V6 { src, .. } => IpAddr::V6(src),
        }
    }
    pub fn dst(&self) -> IpAddr {
        match *self {
            Key::V4 { dst, .. } => IpAddr::V4(dst),
            Key::V6 { dst, .. } => IpAddr::V6(dst),
        }
    }
    /// The IP identification (16 bits for IPv4, 32 for IPv6).
    pub fn id(&self) -> u32 {
        match *self {
            Key::V4 { id, .. } => u32::from(id),
            Key::V6 { id, .. } => id,
        }
    }
    pub fn is_v6(&self) -> bool {
        matches!(self, Key::V6 { .. })
    }
    fn family(&self) -> usize {
        usize::from(self.is_v6())
    }
}

/// The IP fields of one fragment, borrowed from its frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub key: Key,
    /// Fragment offset in bytes.
    pub offset: usize,
    /// More-fragments flag.
    pub more: bool,
    /// The data captured after the fragment's headers.
    pub data: &'a [u8],
    /// Data bytes on the wire, from the IP length field (more than `data.len()` when the
    /// capture cut the frame).
    pub wire_len: usize,
    /// IPv4: the header with its options. IPv6: the IPv6 header and the extension
    /// headers before the Fragment header (the unfragmentable part).
    pub header: &'a [u8],
    /// The protocol of the fragmentable part: IPv4's protocol field, the Fragment
    /// header's next header for IPv6.
    pub next_header: u8,
    /// IPv6: the index in `header` of the next-header byte that named the Fragment
    /// header (6, the IPv6 header's, without extension headers before it).
    pub next_header_at: usize,
    /// The fragment's IP packet length on the wire (header included).
    pub ip_len: usize,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// The fragment an IP packet (starting at its IP header) is, or `None` when it is not
/// a fragment (or too broken to be one: the packet decoder reports that).
pub fn parse(ip: &[u8]) -> Option<Fragment<'_>> {
    match ip.first()? >> 4 {
        4 => parse_v4(ip),
        6 => parse_v6(ip),
        _ => None,
    }
}

fn parse_v4(ip: &[u8]) -> Option<Fragment<'_>> {
    let header_len = usize::from(ip.first()? & 0x0f) * 4;
    if header_len < 20 || ip.len() < header_len {
        return None;
    }
    let total = usize::from(be16(ip, 2)?);
    let field = be16(ip, 6)?;
    let more = field & 0x2000 != 0;
    let offset = usize::from(field & 0x1fff) * 8;
    if (!more && offset == 0) || total < header_len {
        return None;
    }
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    Some(Fragment {
        key: Key::V4 {
            src,
            dst,
            protocol: ip[9],
            id: be16(ip, 4)?,
        },
        offset,
        more,
        data: &ip[header_len..total.min(ip.len())],
        wire_len: total - header_len,
        header: &ip[..header_len],
        next_header: ip[9],
        next_header_at: 9,
        ip_len: total,
    })
}

fn parse_v6(ip: &[u8]) -> Option<Fragment<'_>> {
    if ip.len() < 40 {
        return None;
    }
    let end = 40 + usize::from(be16(ip, 4)?);
    let avail = end.min(ip.len());
    let mut next = ip[6];
    let mut next_at = 6;
    let mut pos = 40;
    for _ in 0..MAX_EXTENSIONS {
        match next {
            PROTO_HOP_BY_HOP | PROTO_ROUTING | PROTO_DEST_OPTIONS => {
                let len = (usize::from(*ip[..avail].get(pos + 1)?) + 1) * 8;
                next_at = pos;
                next = ip[pos];
                pos += len;
            }
            PROTO_FRAGMENT => {
                let frag = ip[..avail].get(pos..pos + 8)?;
                let field = u16::from_be_bytes([frag[2], frag[3]]);
                let offset = usize::from(field >> 3) * 8;
                let more = field & 1 != 0;
                if !more && offset == 0 {
                    // An atomic fragment (RFC 6946): a whole packet, not ours.
                    return None;
                }
                let data_at = pos + 8;
                return Some(Fragment {
                    key: Key::V6 {
                        src: Ipv6Addr::from(<[u8; 16]>::try_from(&ip[8..24]).ok()?),
                        dst: Ipv6Addr::from(<[u8; 16]>::try_from(&ip[24..40]).ok()?),
                        id: u32::from_be_bytes([frag[4], frag[5], frag[6], frag[7]]),
                    },
                    offset,
                    more,
                    data: &ip[data_at..avail],
                    wire_len: end - data_at,
                    header: &ip[..pos],
                    next_header: frag[0],
                    next_header_at: next_at,
                    ip_len: end,
                });
            }
            _ => return None,
        }
    }
    None
}

/// Why a datagram was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Not complete within the timeout after its first fragment.
    Timeout { waited: Micros, timeout: Micros },
    /// IPv6: a fragment overlapped bytes already held (RFC 5722).
    Overlap,
    /// A fragment reached past [`MAX_PAYLOAD`] or the header's length field.
    TooBig { end: usize, max: usize },
    /// A fragment ended past the datagram's end (known from its last fragment).
    PastEnd { end: usize, known_end: usize },
    /// A last fragment put the end elsewhere than known or before bytes already held.
    Inconsistent { end: usize, known_end: usize },
    /// A fragment with more-fragments set whose length is not a multiple of 8.
    NotMultipleOf8 { len: usize },
    /// The capture cut a fragment (snaplen): its bytes cannot be had.
    Truncated { captured: usize, wire: usize },
    /// More than [`MAX_FRAGMENTS`] fragments.
    TooManyFragments { max: usize },
    /// Evicted to stay within [`Limits::max_datagrams`].
    TooManyDatagrams { max: usize },
    /// Evicted to stay within [`Limits::max_bytes`].
    TooManyBytes { max: usize },
    /// The capture ended with the datagram incomplete.
    CaptureEnded,
}

/// A datagram given up, and what had arrived of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub key: Key,
    /// Frames of its fragments, in capture order (the one that made it be given up
    /// included).
    pub frames: Vec<u64>,
    /// Data bytes held when given up.
    pub bytes: usize,
    /// The datagram's payload length, when its last fragment had arrived.
    pub end: Option<usize>,
    /// The protocol above IP (IPv6: once the first fragment, which names it, came).
    pub protocol: Option<u8>,
    /// The transport's ports, when the first fragment of a TCP or UDP datagram had.
    pub ports: Option<(u16, u16)>,
    pub reason: DropReason,
}

/// Facts about a reassembled datagram; its bytes and frames are in the [`Assembled`]
/// the caller passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram {
    pub key: Key,
    /// Payload bytes after the (unfragmentable) headers.
    pub payload_len: usize,
    /// Fragments received (duplicates included).
    pub fragments: usize,
    /// The largest fragment's IP packet length (the sender's MTU, or up to 7 bytes
    /// under it: fragment data comes in multiples of 8).
    pub largest_fragment: usize,
    /// Bytes that arrived more than once.
    pub overlap_bytes: usize,
    /// Of those, bytes whose later copy differed from the first (which was kept).
    pub differing_bytes: usize,
    /// IPv4: fragments that brought new bytes and also overlapped held ones (not
    /// mere duplicates).
    pub partial_overlaps: usize,
}

/// Where a reassembled datagram is written: the whole IP packet and the frames of its
/// fragments in capture order. Reused from datagram to datagram.
#[derive(Debug, Default, Clone)]
pub struct Assembled {
    pub packet: Vec<u8>,
    pub frames: Vec<u64>,
}

/// One datagram being reassembled.
#[derive(Debug)]
struct InProgress {
    serial: u64,
    first_ts: Micros,
    frames: Vec<u64>,
    /// From the fragment at offset 0.
    header: Option<Vec<u8>>,
    next_header: u8,
    next_header_at: usize,
    /// Data by offset; pieces never overlap.
    pieces: BTreeMap<usize, Vec<u8>>,
    end: Option<usize>,
    held: usize,
    charged: usize,
    largest_fragment: usize,
    overlap_bytes: usize,
    differing_bytes: usize,
    partial_overlaps: usize,
}

impl InProgress {
    fn new(serial: u64, first_ts: Micros) -> InProgress {
        InProgress {
            serial,
            first_ts,
            frames: Vec::new(),
            header: None,
            next_header: 0,
            next_header_at: 0,
            pieces: BTreeMap::new(),
            end: None,
            held: 0,
            charged: 0,
            largest_fragment: 0,
            overlap_bytes: 0,
            differing_bytes: 0,
            partial_overlaps: 0,
        }
    }

    fn highest_end(&self) -> usize {
        self.pieces
            .last_key_value()
            .map_or(0, |(&at, data)| at + data.len())
    }

    /// The end, as a last fragment (`more` false) ending at `end` sets it, must agree
    /// with everything else: why not, if it does not.
    fn end_problem(&self, more: bool, end: usize) -> Option<DropReason> {
        match (more, self.end) {
            (false, Some(known)) if known != end => Some(DropReason::Inconsistent {
                end,
                known_end: known,
            }),
            (false, _) if self.highest_end() > end => Some(DropReason::Inconsistent {
                end,
                known_end: self.highest_end(),
            }),
            (true, Some(known)) if end > known => Some(DropReason::PastEnd {
                end,
                known_end: known,
            }),
            _ => None,
        }
    }

    /// Take what `frag` (ending at `end`) brings: the end (a last fragment), its data,
    /// the headers (the fragment at offset 0). The bytes to charge against
    /// [`Limits::max_bytes`] (its frame number included), or `None` when its data
    /// overlaps held bytes where that discards the datagram (IPv6).
    fn add(&mut self, frag: &Fragment<'_>, end: usize) -> Option<usize> {
        let mut charge = PIECE_OVERHEAD;
        if !frag.more {
            self.end = Some(end);
        }
        let held_before = self.held;
        let inserted = if frag.key.is_v6() {
            insert_v6(self, frag.offset, frag.data)
        } else {
            insert_v4(self, frag.offset, frag.data)
        };
        match inserted {
            Inserted::Overlap => return None,
            Inserted::Ok { new_pieces } => charge += new_pieces * PIECE_OVERHEAD,
        }
        if frag.offset == 0 && self.header.is_none() {
            self.header = Some(frag.header.to_vec());
            self.next_header = frag.next_header;
            self.next_header_at = frag.next_header_at;
            charge += frag.header.len();
        }
        charge += self.held - held_before;
        Some(charge)
    }

    fn ports(&self) -> Option<(u16, u16)> {
        if self.header.is_none() || !matches!(self.next_header, PROTO_TCP | PROTO_UDP) {
            return None;
        }
        let first = self.pieces.get(&0)?;
        Some((be16(first, 0)?, be16(first, 2)?))
    }
}

/// Why `frag` (ending at `end`) is refused on sight, if it is: the capture cut it, it
/// reaches past what its datagram's length field can count, or it is not the last
/// and its length is not a multiple of 8.
fn refusal(frag: &Fragment<'_>, end: usize) -> Option<DropReason> {
    // The 16-bit length field the reassembled datagram must fit: IPv4's counts the
    // header, IPv6's the extension headers after the fixed 40 bytes.
    let counted_header = if frag.key.is_v6() {
        frag.header.len().saturating_sub(40)
    } else {
        frag.header.len()
    };
    let max = MAX_PAYLOAD.min(usize::from(u16::MAX) - counted_header.min(MAX_PAYLOAD));
    if frag.data.len() < frag.wire_len {
        Some(DropReason::Truncated {
            captured: frag.data.len(),
            wire: frag.wire_len,
        })
    } else if end > max {
        Some(DropReason::TooBig { end, max })
    } else if frag.more && frag.wire_len % 8 != 0 {
        Some(DropReason::NotMultipleOf8 { len: frag.wire_len })
    } else {
        None
    }
}

/// What inserting a fragment's data found.
enum Inserted {
    Ok { new_pieces: usize },
    Overlap,
}

/// The reassembler. See the module documentation for its limits and policies.
#[derive(Debug, Default)]
pub struct Defragmenter {
    limits: Limits,
    datagrams: HashMap<Key, InProgress>,
    /// Per family (IPv4, IPv6), datagrams by serial: the oldest first, for timeouts
    /// (one timeout per family, so each order is also expiry order) and eviction.
    order: [BTreeMap<u64, Key>; 2],
    next_serial: u64,
    held_bytes: usize,
    dropped: Vec<Dropped>,
}

impl Defragmenter {
    pub fn new(limits: Limits) -> Defragmenter {
        Defragmenter {
            limits,
            ..Defragmenter::default()
        }
    }

    /// Datagrams in progress (the caller's one branch per frame: nothing to expire
    /// while this is 0).
    pub fn in_progress(&self) -> usize {
        self.datagrams.len()
    }

    /// Bytes held, as counted against [`Limits::max_bytes`].
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// The datagrams given up since the last call.
    pub fn take_dropped(&mut self) -> Vec<Dropped> {
        std::mem::take(&mut self.dropped)
    }

    /// Whether datagrams were given up since the last [`Self::take_dropped`].
    pub fn has_dropped(&self) -> bool {
        !self.dropped.is_empty()
    }

    /// Give up the datagrams whose timeout has passed at capture time `now`.
    pub fn expire(&mut self, now: Micros) {
        for family in 0..2 {
            let timeout = if family == 0 {
                self.limits.timeout_v4
            } else {
                self.limits.timeout_v6
            };
            while let Some((_, &key)) = self.order[family].first_key_value() {
                let Some(first_ts) = self.datagrams.get(&key).map(|d| d.first_ts) else {
                    break;
                };
                let waited = now.saturating_sub(first_ts);
                if waited < timeout {
                    break;
                }
                self.give_up(key, DropReason::Timeout { waited, timeout });
            }
        }
    }

    /// The end of the capture: every datagram in progress is given up.
    pub fn finish(&mut self) {
        let mut left: Vec<(u64, Key)> =
            self.datagrams.iter().map(|(k, d)| (d.serial, *k)).collect();
        left.sort_unstable_by_key(|&(serial, _)| serial);
        for (_, key) in left {
            self.give_up(key, DropReason::CaptureEnded);
        }
    }

    /// One fragment, captured in `frame` at `ts`. When it completes its datagram, the
    /// datagram is written to `out` and its facts returned. Datagrams given up meanwhile
    /// wait in [`Self::take_dropped`].
    pub fn fragment(
        &mut self,
        frag: &Fragment<'_>,
        frame: u64,
        ts: Micros,
        out: &mut Assembled,
    ) -> Option<Datagram> {
        let key = frag.key;
        let end = frag.offset + frag.wire_len;
        if let Some(reason) = refusal(frag, end) {
            self.refuse(key, frame, reason);
            return None;
        }
        if !self.datagrams.contains_key(&key) {
            self.start(key, ts);
        }
        let d = self.datagrams.get_mut(&key)?;
        d.frames.push(frame);
        d.largest_fragment = d.largest_fragment.max(frag.ip_len);
        if d.frames.len() > MAX_FRAGMENTS {
            self.give_up(key, DropReason::TooManyFragments { max: MAX_FRAGMENTS });
            return None;
        }
        if let Some(reason) = d.end_problem(frag.more, end) {
            self.give_up(key, reason);
            return None;
        }
        let Some(charge) = d.add(frag, end) else {
            self.give_up(key, DropReason::Overlap);
            return None;
        };
        d.charged += charge;
        self.held_bytes += charge;
        let complete = d.end == Some(d.held) && d.header.is_some();
        if complete {
            return self.assemble(key, out);
        }
        self.evict_over_bytes();
        None
    }

    /// A new datagram in progress, once the oldest ones past
    /// [`Limits::max_datagrams`] are given up.
    fn start(&mut self, key: Key, ts: Micros) {
        while self.datagrams.len() >= self.limits.max_datagrams.max(1) {
            let Some(oldest) = self.oldest() else { break };
            self.give_up(
                oldest,
                DropReason::TooManyDatagrams {
                    max: self.limits.max_datagrams,
                },
            );
        }
        let serial = self.next_serial;
        self.next_serial += 1;
        self.order[key.family()].insert(serial, key);
        self.datagrams.insert(key, InProgress::new(serial, ts));
    }

    /// Give up the oldest datagrams until the bytes held are within
    /// [`Limits::max_bytes`].
    fn evict_over_bytes(&mut self) {
        while self.held_bytes > self.limits.max_bytes {
            let Some(oldest) = self.oldest() else { break };
            self.give_up(
                oldest,
                DropReason::TooManyBytes {
                    max: self.limits.max_bytes,
                },
            );
        }
    }

    /// A fragment refused on sight: its datagram (if any) is given up with it.
    fn refuse(&mut self, key: Key, frame: u64, reason: DropReason) {
        if let Some(d) = self.datagrams.get_mut(&key) {
            d.frames.push(frame);
            self.give_up(key, reason);
        } else {
            self.dropped.push(Dropped {
                key,
                frames: vec![frame],
                bytes: 0,
                end: None,
                protocol: match key {
                    Key::V4 { protocol, .. } => Some(protocol),
                    Key::V6 { .. } => None,
                },
                ports: None,
                reason,
            });
        }
    }

    /// The datagram in progress created first, of either family.
    fn oldest(&self) -> Option<Key> {
        let v4 = self.order[0].first_key_value();
        let v6 = self.order[1].first_key_value();
        match (v4, v6) {
            (Some((a, k)), Some((b, _))) if a < b => Some(*k),
            (_, Some((_, k))) => Some(*k),
            (Some((_, k)), None) => Some(*k),
            (None, None) => None,
        }
    }

    fn remove(&mut self, key: Key) -> Option<InProgress> {
        let d = self.datagrams.remove(&key)?;
        self.order[key.family()].remove(&d.serial);
        self.held_bytes -= d.charged.min(self.held_bytes);
        Some(d)
    }

    fn give_up(&mut self, key: Key, reason: DropReason) {
        if let Some(d) = self.remove(key) {
            self.dropped.push(Dropped {
                key,
                bytes: d.held,
                end: d.end,
                protocol: match key {
                    Key::V4 { protocol, .. } => Some(protocol),
                    Key::V6 { .. } => d.header.is_some().then_some(d.next_header),
                },
                ports: d.ports(),
                frames: d.frames,
                reason,
            });
        }
    }

    /// Lay the complete datagram out as one unfragmented IP packet in `out`.
    fn assemble(&mut self, key: Key, out: &mut Assembled) -> Option<Datagram> {
        let d = self.remove(key)?;
        let header = d.header.as_deref()?;
        out.packet.clear();
        out.packet.extend_from_slice(header);
        for piece in d.pieces.values() {
            out.packet.extend_from_slice(piece);
        }
        let payload_len = d.held;
        let p = &mut out.packet;
        if key.is_v6() {
            // Lengths were bounded when the fragments were taken, so this fits 16 bits.
            let len = (header.len() - 40 + payload_len) as u16;
            p[4..6].copy_from_slice(&len.to_be_bytes());
            p[d.next_header_at] = d.next_header;
        } else {
            let total = (header.len() + payload_len) as u16;
            p[2..4].copy_from_slice(&total.to_be_bytes());
            // Keep DF (and the reserved bit), clear MF and the offset.
            p[6] &= 0xc0;
            p[7] = 0;
            p[10] = 0;
            p[11] = 0;
            let sum = ipv4_checksum(&p[..header.len()]);
            p[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        out.frames.clear();
        out.frames.extend_from_slice(&d.frames);
        Some(Datagram {
            key,
            payload_len,
            fragments: d.frames.len(),
            largest_fragment: d.largest_fragment,
            overlap_bytes: d.overlap_bytes,
            differing_bytes: d.differing_bytes,
            partial_overlaps: d.partial_overlaps,
        })
    }
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in header.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The held pieces that overlap `[start, end)`, as (offset, length), lowest first.
fn overlapping(d: &InProgress, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut found: Vec<(usize, usize)> = Vec::new();
    // Pieces do not overlap, so their ends rise with their offsets: walking down from
    // the last piece starting before `end`, the first one ending at or before `start`
    // ends the search.
    for (&at, data) in d.pieces.range(..end).rev() {
        if at + data.len() <= start {
            break;
        }
        found.push((at, data.len()));
    }
    found.reverse();
    found
}

/// IPv4: keep the first copy of every byte; store only the bytes not held yet.
fn insert_v4(d: &mut InProgress, offset: usize, data: &[u8]) -> Inserted {
    let end = offset + data.len();
    if data.is_empty() {
        return Inserted::Ok { new_pieces: 0 };
    }
    let held = overlapping(d, offset, end);
    let mut fresh: Vec<(usize, usize)> = Vec::new();
    let mut cursor = offset;
    let mut overlap = 0;
    for &(at, len) in &held {
        if at > cursor {
            fresh.push((cursor, at));
        }
        let (from, to) = (at.max(offset), (at + len).min(end));
        overlap += to - from;
        if let Some(old) = d.pieces.get(&at) {
            let differing = old[from - at..to - at]
                .iter()
                .zip(&data[from - offset..to - offset])
                .filter(|(a, b)| a != b)
                .count();
            d.differing_bytes += differing;
        }
        cursor = cursor.max(at + len);
    }
    if cursor < end {
        fresh.push((cursor, end));
    }
    d.overlap_bytes += overlap;
    if overlap > 0 && !fresh.is_empty() {
        d.partial_overlaps += 1;
    }
    for &(from, to) in &fresh {
        d.pieces
            .insert(from, data[from - offset..to - offset].to_vec());
        d.held += to - from;
    }
    Inserted::Ok {
        new_pieces: fresh.len(),
    }
}

/// IPv6: an exact duplicate is ignored; any other overlap discards the datagram.
fn insert_v6(d: &mut InProgress, offset: usize, data: &[u8]) -> Inserted {
    let end = offset + data.len();
    if data.is_empty() {
        return Inserted::Ok { new_pieces: 0 };
    }
    let held = overlapping(d, offset, end);
    match held.as_slice() {
        [] => {
            d.pieces.insert(offset, data.to_vec());
            d.held += data.len();
            Inserted::Ok { new_pieces: 1 }
        }
        [(at, len)] if *at == offset && *len == data.len() => {
            d.overlap_bytes += data.len();
            if let Some(old) = d.pieces.get(at) {
                d.differing_bytes += old.iter().zip(data).filter(|(a, b)| a != b).count();
            }
            Inserted::Ok { new_pieces: 0 }
        }
        _ => Inserted::Overlap,
    }
}

#[cfg(test)]
mod tests;
