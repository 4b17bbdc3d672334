//! Wireshark's TCP sequence analysis (`tcp.analysis.*`), one conversation at a time.
//!
//! The oracle is tshark 4.0 with its default preferences (relative sequence numbers,
//! "analyze TCP sequence numbers" and "calculate window scaling" on). The rules below
//! were written from the description of `tcp_analyze_sequence_number()` in
//! Wireshark's `packet-tcp.c` and its User's Guide ("TCP Analysis"), then checked
//! frame by frame against tshark (`tests/tshark_flags.rs`).
//!
//! ## State
//! Per direction ("fwd" is the direction of the segment at hand, "rev" the other):
//! `nextseq` (highest sequence number sent + 1, SYN and FIN counting one; 0 means
//! "nothing seen yet", as in Wireshark, which makes a `nextseq` of exactly 0 after a
//! wrap look unseen there too), the frame and time that set it, `maxseqtobeacked`
//! (end of the contiguous data seen), the last ACK number and its time, the last raw
//! window (all ones before the first segment), the window scale shift (unknown, none,
//! or 0–14), the duplicate-ACK count and the last frame that was not a duplicate ACK,
//! and the flags of the direction's last segment, and its unacknowledged segments
//! (end, frame, time: the first [`UNACKED_KEPT`] outstanding ones; later ones are
//! only counted, which only `rto` and `acks_frame` can miss). Per conversation: the
//! time of the most recent SYN and the initial RTT. Nothing grows with the number of
//! segments.
//!
//! Sequence comparisons are modulo 2^32 (RFC 1982 style: `a` is after `b` when
//! `(b - a)` as `i32` is negative), so wrap-around is handled as Wireshark does.
//! The segment length is the payload length on the wire (`wire_len`).
//!
//! ## Rules, in the order Wireshark checks them
//! "SFR" means SYN, FIN or RST set. A rule that says *stop* skips the rest of the
//! first group (rules 1–9) and continues at rule 10.
//! 1. **zero_window_probe**: length 1, `seq == fwd.nextseq`, rev's last window 0.
//!    *Stop.* (Such a probe does not move `nextseq` or `maxseqtobeacked`.)
//! 2. **zero_window**: window field 0 and no SFR.
//! 3. **lost_segment** ("previous segment not captured"): `fwd.nextseq` known,
//!    `seq` after it, no RST.
//! 4. **keep_alive**: length 0 or 1, `seq == fwd.nextseq - 1`, no SFR.
//! 5. **window_update**: length 0, window non-zero and changed, `seq == fwd.nextseq`,
//!    same ACK as fwd's last, no SFR.
//! 6. **window_full**: length > 0, rev's window scale known, `seq + len` equal to
//!    rev's last ACK + rev's last window (scaled by rev's shift unless that window came
//!    with rev's SYN), no SFR.
//! 7. **keep_alive_ack**: length 0, window non-zero and unchanged, `seq == fwd.nextseq`,
//!    same ACK, rev's last segment was a keep-alive, no SFR. *Stop.*
//! 8. **zero_window_probe_ack**: length 0, window 0 and unchanged, `seq ==
//!    fwd.nextseq`, same ACK, rev's last segment was a zero-window probe, no SFR. *Stop.*
//! 9. **duplicate_ack**: length 0, window non-zero and unchanged, `seq == fwd.nextseq`,
//!    same ACK, no SFR. The count goes up by one; the segment gets the count (#n) and
//!    the last frame of this direction that changed the ACK number.
//! 10. A segment whose ACK number differs from fwd's last resets fwd's count, and is
//!     the new "original" of later duplicates.
//! 11. **ack_lost_segment** ("ACKed unseen segment"): ACK flag, rev's
//!     `maxseqtobeacked` known and the ACK after it; rev's `maxseqtobeacked` then
//!     becomes rev's `nextseq` so that the gap is reported once.
//! 12. Segments with data, SYN or FIN, unless rule 4 flagged a keep-alive, are
//!     "not advancing" when `fwd.nextseq` is known and `seq` is before it — except a
//!     segment longer than one byte starting at `fwd.nextseq - 1` (data after a
//!     probe). Then the first that applies, in this order:
//!     - **spurious_retransmission**: length > 0, rev's last ACK non-zero, and
//!       `seq + len` not after it (every byte was already acknowledged) — checked
//!       first in tshark 4.0, so data already ACKed is never "out of order";
//!     - **fast_retransmission**: not advancing, rev sent at least 2 duplicate ACKs,
//!       rev's last ACK equals `seq`, less than 20 ms after that ACK;
//!     - **out_of_order**: not advancing, less than the initial RTT (3 ms while it
//!       is unknown) after the segment that set `fwd.nextseq`, and not ending exactly
//!       at `fwd.nextseq` (SYN and FIN counting one: a SYN-ACK sent again soon is a
//!       retransmission);
//!     - **retransmission**: not advancing; with the time since, and the frame of,
//!       the eldest unacknowledged segment of fwd (the segment that set
//!       `fwd.nextseq` when none is outstanding): Wireshark's `rto` and `rto_frame`.
//!
//!     A fast retransmission is also shown as a retransmission by Wireshark (both
//!     fields); so is a spurious one. [`SegmentAnalysis::flags`] carries both too.
//! 13. Bookkeeping: `fwd.nextseq` moves forward to `seq + len` (+1 for SYN or FIN)
//!     unless rule 1 applied; `fwd.maxseqtobeacked` follows it when this segment
//!     starts there; fwd's window, ACK number and ACK time, and the segment's flags,
//!     are remembered. A segment with data, SYN or FIN joins fwd's unacknowledged
//!     segments; the ACK number then drops every segment of rev it reaches the end
//!     of, and names the eldest that ends exactly there (`acks_frame`, `ack_rtt`).
//! 14. After the analysis, as Wireshark dissects the options: a SYN's window scale
//!     option sets fwd's shift (at most 14); a SYN without one means no scaling either
//!     way, and a SYN-ACK with one after a SYN without one means none for it either.
//!     A SYN without ACK records its time; the first segment with ACK and without SYN
//!     after that gives the initial RTT (from the most recent SYN), once.
//!
//! ## Against other Wireshark versions
//! tshark 4.0 was checked where versions differ: the spurious-retransmission test
//! comes before the fast-retransmission and out-of-order tests (later versions
//! reorder them, with a preference for fast retransmissions); a SYN or FIN counts
//! one sequence number however many segments are unacknowledged; a zero-window
//! probe ACK must repeat the ACK number (one that takes the probe's byte is a plain
//! zero window); `rto` is measured from the eldest unacknowledged segment.
//!
//! ## Reading the flags
//! - Linux probes a zero window with a segment of no data one byte below the next
//!   sequence number: by these rules (and in Wireshark) that is a `keep_alive`, and
//!   its answer a `keep_alive_ack`; `zero_window_probe` needs one byte of data at
//!   the next sequence number.
//! - tshark prints `initial_rtt` only in frames that get a "SEQ/ACK analysis" tree
//!   (a flag, an acknowledged segment, bytes in flight); [`TcpFlowAnalysis::initial_rtt`]
//!   gives it from the completing ACK on.
//! - Differences from Wireshark that remain are listed in labsniff's SCHEMA.md
//!   ("TCP analysis flags: differences from Wireshark").
use crate::event::Dir;
use crate::packet::{Micros, TcpSegment};

/// One flag per Wireshark `tcp.analysis.*` field, named without the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    Retransmission,
    FastRetransmission,
    SpuriousRetransmission,
    OutOfOrder,
    LostSegment,
    AckLostSegment,
    DuplicateAck,
    ZeroWindow,
    ZeroWindowProbe,
    ZeroWindowProbeAck,
    WindowFull,
    WindowUpdate,
    KeepAlive,
    KeepAliveAck,
}

impl Flag {
    /// Every flag, in the order of [`Flag`]'s variants.
    pub const ALL: [Flag; 14] = [
        Flag::Retransmission,
        Flag::FastRetransmission,
        Flag::SpuriousRetransmission,
        Flag::OutOfOrder,
        Flag::LostSegment,
        Flag::AckLostSegment,
        Flag::DuplicateAck,
        Flag::ZeroWindow,
        Flag::ZeroWindowProbe,
        Flag::ZeroWindowProbeAck,
        Flag::WindowFull,
        Flag::WindowUpdate,
        Flag::KeepAlive,
        Flag::KeepAliveAck,
    ];

    /// Wireshark's field name without `tcp.analysis.`.
    pub fn name(self) -> &'static str {
        match self {
            Flag::Retransmission => "retransmission",
            Flag::FastRetransmission => "fast_retransmission",
            Flag::SpuriousRetransmission => "spurious_retransmission",
            Flag::OutOfOrder => "out_of_order",
            Flag::LostSegment => "lost_segment",
            Flag::AckLostSegment => "ack_lost_segment",
            Flag::DuplicateAck => "duplicate_ack",
            Flag::ZeroWindow => "zero_window",
            Flag::ZeroWindowProbe => "zero_window_probe",
            Flag::ZeroWindowProbeAck => "zero_window_probe_ack",
            Flag::WindowFull => "window_full",
            Flag::WindowUpdate => "window_update",
            Flag::KeepAlive => "keep_alive",
            Flag::KeepAliveAck => "keep_alive_ack",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of [`Flag`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u16);

impl Flags {
    /// No flag.
    pub const EMPTY: Flags = Flags(0);

    pub fn contains(self, flag: Flag) -> bool {
        self.0 & flag.bit() != 0
    }

    pub fn insert(&mut self, flag: Flag) {
        self.0 |= flag.bit();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many flags are set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The flags set, in [`Flag::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl FromIterator<Flag> for Flags {
    fn from_iter<I: IntoIterator<Item = Flag>>(iter: I) -> Flags {
        let mut flags = Flags::EMPTY;
        for f in iter {
            flags.insert(f);
        }
        flags
    }
}

/// A duplicate ACK: Wireshark's `tcp.analysis.duplicate_ack_num` and
/// `tcp.analysis.duplicate_ack_frame`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DupAck {
    /// 1 for the first duplicate of an ACK, 2 for the second, ...
    pub num: u32,
    /// The frame whose ACK this one repeats.
    pub frame: u64,
}

/// For a retransmission: Wireshark's `tcp.analysis.rto` and `tcp.analysis.rto_frame`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retrans {
    /// Time since the segment that had sent the highest sequence number so far.
    pub rto: Micros,
    /// That segment's frame.
    pub rto_frame: u64,
}

/// What the analysis says about one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegmentAnalysis {
    pub flags: Flags,
    pub duplicate_ack: Option<DupAck>,
    /// Given for a plain retransmission (not fast, spurious or out of order) when the
    /// time since the original is not zero (tshark leaves `rto` out then).
    pub retransmitted: Option<Retrans>,
    /// Wireshark's `tcp.analysis.acks_frame`: the eldest segment of the other
    /// direction this ACK number ends exactly at.
    pub acks_frame: Option<u64>,
    /// Wireshark's `tcp.analysis.ack_rtt`: time since that segment (left out when 0).
    pub ack_rtt: Option<Micros>,
}

/// What is known of a direction's window scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WinScale {
    /// No SYN seen in this direction yet.
    Unknown,
    /// The handshake showed that windows are not scaled.
    NoScaling,
    /// Shift count 0–14.
    Shift(u8),
}

/// How many unacknowledged segments a direction keeps with their frame and time:
/// 256 × 1448 bytes cover 370 kB in flight. Bounded, so that the state does not grow
/// with the segments (at most 6 kB per direction; a vector that grows with the
/// outstanding segments, since a request/echo exchange has one or two: a full 6 kB
/// block allocated and zeroed per direction cost 12 kB per open conversation).
pub const UNACKED_KEPT: usize = 256;

/// One unacknowledged segment.
#[derive(Debug, Clone, Copy, Default)]
struct Sent {
    nextseq: u32,
    frame: u64,
    ts: Micros,
}

/// What is known of the eldest unacknowledged segment.
enum Eldest {
    /// None is outstanding.
    Empty,
    Known(Sent),
    /// Only segments that did not fit in [`UNACKED_KEPT`] are outstanding.
    Unknown,
}

/// Wireshark's list of a direction's unacknowledged segments: the first
/// [`UNACKED_KEPT`] of them with their frame and time, in the order they were sent.
/// Later ones, while the kept ones are all taken, are only counted, with the
/// furthest sequence number they end at: Wireshark drops a segment from its list
/// when an ACK reaches the segment's end, so an ACK reaching that furthest end
/// drops them all.
#[derive(Debug, Clone)]
struct Unacked {
    /// At most [`UNACKED_KEPT`].
    kept: Vec<Sent>,
    over: u32,
    over_furthest: u32,
}

impl Unacked {
    const fn new() -> Unacked {
        Unacked {
            kept: Vec::new(),
            over: 0,
            over_furthest: 0,
        }
    }

    fn push(&mut self, sent: Sent) {
        if self.over == 0 && self.kept.len() < UNACKED_KEPT {
            self.kept.push(sent);
        } else {
            if self.over == 0 || gt(sent.nextseq, self.over_furthest) {
                self.over_furthest = sent.nextseq;
            }
            self.over = self.over.saturating_add(1);
        }
    }

    fn eldest(&self) -> Eldest {
        match (self.kept.first(), self.over) {
            (Some(first), _) => Eldest::Known(*first),
            (None, 0) => Eldest::Empty,
            (None, _) => Eldest::Unknown,
        }
    }

    /// Drop every segment `ack` reaches the end of. Returns the eldest segment that
    /// ends exactly at `ack` (what Wireshark reports as acknowledged); `None` inside
    /// when none does, `Err` when only a counted-only segment could be it.
    fn acknowledge(&mut self, ack: u32) -> Result<Option<Sent>, Unknown> {
        let mut acked = None;
        self.kept.retain(|s| {
            if s.nextseq == ack && acked.is_none() {
                acked = Some(*s);
            }
            gt(s.nextseq, ack)
        });
        let over_before = self.over;
        if self.over > 0 && le(self.over_furthest, ack) {
            self.over = 0;
        }
        if acked.is_none() && over_before > 0 {
            return Err(Unknown);
        }
        Ok(acked)
    }
}

/// Not known: it depends on segments [`Unacked`] only counted.
#[derive(Debug)]
struct Unknown;

/// One direction's state (see the module documentation).
#[derive(Debug, Clone)]
struct Side {
    nextseq: u32,
    nextseq_frame: u64,
    nextseq_time: Micros,
    maxseqtobeacked: u32,
    lastack: u32,
    lastack_time: Option<Micros>,
    window: u32,
    /// The last window came with a SYN (SYN windows are never scaled).
    window_from_syn: bool,
    win_scale: WinScale,
    dupacknum: u32,
    lastnondupack: u64,
    last_flags: Flags,
    unacked: Unacked,
}

impl Side {
    const fn new() -> Side {
        Side {
            nextseq: 0,
            nextseq_frame: 0,
            nextseq_time: 0,
            maxseqtobeacked: 0,
            lastack: 0,
            lastack_time: None,
            // Wireshark starts a flow's window at all ones, so that nothing compares
            // equal to it (and no window counts as zero) before a segment is seen.
            window: u32::MAX,
            window_from_syn: false,
            win_scale: WinScale::Unknown,
            dupacknum: 0,
            lastnondupack: 0,
            last_flags: Flags::EMPTY,
            unacked: Unacked::new(),
        }
    }
}

/// Both directions of one TCP conversation.
#[derive(Debug, Clone)]
pub struct TcpFlowAnalysis {
    sides: [Side; 2],
    /// Time of the most recent SYN without ACK.
    mru_syn: Option<Micros>,
    /// Initial RTT; 0 while unknown (Wireshark tests its time for zero, so a zero RTT
    /// is measured again at the next ACK).
    first_rtt: Micros,
}

impl Default for TcpFlowAnalysis {
    fn default() -> Self {
        Self::new()
    }
}

/// `a` after `b` in sequence space.
fn gt(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}

/// `a` before `b` in sequence space.
fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a` not after `b` in sequence space.
fn le(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) >= 0
}

/// Microseconds from `then` to `now`; `None` when time went backwards (Wireshark's
/// unsigned difference is then huge, so no "within" test passes).
fn since(now: Micros, then: Micros) -> Option<Micros> {
    now.checked_sub(then)
}

/// Fast retransmissions come within this time of the last duplicate ACK.
const FAST_RETRANS_WINDOW: Micros = 20_000;
/// Out-of-order threshold while the initial RTT is unknown.
const DEFAULT_OOO_THRESHOLD: Micros = 3_000;
/// Largest window scale shift RFC 7323 allows (Wireshark clamps larger ones).
const MAX_WINDOW_SHIFT: u8 = 14;

impl TcpFlowAnalysis {
    pub fn new() -> Self {
        TcpFlowAnalysis {
            sides: [Side::new(), Side::new()],
            mru_syn: None,
            first_rtt: 0,
        }
    }

    /// Wireshark's `tcp.analysis.initial_rtt`, once known.
    pub fn initial_rtt(&self) -> Option<Micros> {
        (self.first_rtt != 0).then_some(self.first_rtt)
    }

    /// Analyse the next segment of the conversation, travelling in `dir`, captured as
    /// `frame` at `ts`. Segments must come in capture order.
    pub fn segment(
        &mut self,
        dir: Dir,
        frame: u64,
        ts: Micros,
        seg: &TcpSegment<'_>,
    ) -> SegmentAnalysis {
        let [client, server] = &mut self.sides;
        let (fwd, rev) = match dir {
            Dir::ClientToServer => (client, server),
            Dir::ServerToClient => (server, client),
        };
        let seq = seg.seq;
        let ack = seg.ack;
        // Longer than 4 GiB cannot be one segment; saturate rather than wrap.
        let seglen = u32::try_from(seg.wire_len).unwrap_or(u32::MAX);
        let f = seg.flags;
        let sfr = f.syn || f.fin || f.rst;
        let window = u32::from(seg.window);
        let mut out = SegmentAnalysis::default();
        let fl = &mut out.flags;

        // Rules 1-9; `break 'fwd` is Wireshark's jump to the end of this group.
        'fwd: {
            if seglen == 1 && seq == fwd.nextseq && rev.window == 0 {
                fl.insert(Flag::ZeroWindowProbe);
                break 'fwd;
            }
            if window == 0 && !sfr {
                fl.insert(Flag::ZeroWindow);
            }
            if fwd.nextseq != 0 && gt(seq, fwd.nextseq) && !f.rst {
                fl.insert(Flag::LostSegment);
            }
            if seglen <= 1 && seq == fwd.nextseq.wrapping_sub(1) && !sfr {
                fl.insert(Flag::KeepAlive);
            }
            let same_point = seglen == 0 && seq == fwd.nextseq && ack == fwd.lastack && !sfr;
            if same_point && window != 0 && window != fwd.window {
                fl.insert(Flag::WindowUpdate);
            }
            if seglen > 0 && !sfr {
                let shift = match rev.win_scale {
                    WinScale::Unknown => None,
                    WinScale::NoScaling => Some(0),
                    WinScale::Shift(_) if rev.window_from_syn => Some(0),
                    WinScale::Shift(s) => Some(u32::from(s)),
                };
                if let Some(shift) = shift {
                    let edge = rev.lastack.wrapping_add(rev.window.wrapping_shl(shift));
                    if seq.wrapping_add(seglen) == edge {
                        fl.insert(Flag::WindowFull);
                    }
                }
            }
            if same_point
                && window != 0
                && window == fwd.window
                && rev.last_flags.contains(Flag::KeepAlive)
            {
                fl.insert(Flag::KeepAliveAck);
                break 'fwd;
            }
            if same_point
                && window == 0
                && fwd.window == 0
                && rev.last_flags.contains(Flag::ZeroWindowProbe)
            {
                fl.insert(Flag::ZeroWindowProbeAck);
                break 'fwd;
            }
            if same_point && window != 0 && window == fwd.window {
                fwd.dupacknum = fwd.dupacknum.saturating_add(1);
                fl.insert(Flag::DuplicateAck);
                out.duplicate_ack = Some(DupAck {
                    num: fwd.dupacknum,
                    frame: fwd.lastnondupack,
                });
            }
        }

        // Rule 10.
        if ack != fwd.lastack {
            fwd.lastnondupack = frame;
            fwd.dupacknum = 0;
        }

        // Rule 11.
        if f.ack && rev.maxseqtobeacked != 0 && gt(ack, rev.maxseqtobeacked) {
            fl.insert(Flag::AckLostSegment);
            rev.maxseqtobeacked = rev.nextseq;
        }

        // Rule 12.
        if (seglen > 0 || f.syn || f.fin) && !fl.contains(Flag::KeepAlive) {
            let mut not_advanced = fwd.nextseq != 0 && lt(seq, fwd.nextseq);
            if seglen > 1 && fwd.nextseq.wrapping_sub(1) == seq {
                not_advanced = false;
            }
            let ooo_threshold = if self.first_rtt == 0 {
                DEFAULT_OOO_THRESHOLD
            } else {
                self.first_rtt
            };
            let after_dup_acks = rev
                .lastack_time
                .and_then(|t| since(ts, t))
                .is_some_and(|t| t < FAST_RETRANS_WINDOW);
            // Where this segment ends in sequence space (a SYN or FIN counts one): a
            // segment ending where the highest did is a copy of it, not out of order.
            let end = seq
                .wrapping_add(seglen)
                .wrapping_add(u32::from(f.syn || f.fin));
            let soon_after_highest = since(ts, fwd.nextseq_time).is_some_and(|t| t < ooo_threshold);
            if seglen > 0 && rev.lastack != 0 && le(seq.wrapping_add(seglen), rev.lastack) {
                fl.insert(Flag::SpuriousRetransmission);
                fl.insert(Flag::Retransmission);
            } else if not_advanced && rev.dupacknum >= 2 && rev.lastack == seq && after_dup_acks {
                fl.insert(Flag::FastRetransmission);
                fl.insert(Flag::Retransmission);
            } else if not_advanced && soon_after_highest && fwd.nextseq != end {
                fl.insert(Flag::OutOfOrder);
            } else if not_advanced {
                fl.insert(Flag::Retransmission);
                // Measured from the eldest unacknowledged segment (likely the one sent
                // again), or from the highest one when none is outstanding.
                let original = match fwd.unacked.eldest() {
                    Eldest::Known(s) => Some((s.frame, s.ts)),
                    Eldest::Empty => Some((fwd.nextseq_frame, fwd.nextseq_time)),
                    Eldest::Unknown => None,
                };
                out.retransmitted = original.and_then(|(rto_frame, t)| {
                    since(ts, t)
                        .filter(|rto| *rto != 0)
                        .map(|rto| Retrans { rto, rto_frame })
                });
            }
        }

        // Rule 13.
        let mut nextseq = seq.wrapping_add(seglen);
        if f.syn || f.fin {
            nextseq = nextseq.wrapping_add(1);
        }
        if seglen > 0 || f.syn || f.fin {
            fwd.unacked.push(Sent { nextseq, frame, ts });
        }
        let probe = fl.contains(Flag::ZeroWindowProbe);
        if (gt(nextseq, fwd.nextseq) || fwd.nextseq == 0) && !probe {
            fwd.nextseq = nextseq;
            fwd.nextseq_frame = frame;
            fwd.nextseq_time = ts;
        }
        if (seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !probe {
            fwd.maxseqtobeacked = fwd.nextseq;
        }
        fwd.window = window;
        fwd.window_from_syn = f.syn;
        fwd.lastack = ack;
        fwd.lastack_time = Some(ts);
        fwd.last_flags = out.flags;

        // Rule 13: this ACK number drops the other direction's segments it reaches.
        if let Ok(Some(sent)) = rev.unacked.acknowledge(ack) {
            out.acks_frame = Some(sent.frame);
            out.ack_rtt = since(ts, sent.ts).filter(|rtt| *rtt != 0);
        }

        // Rule 14: window scaling from the handshake.
        if f.syn {
            if let Some(shift) = seg.options.window_scale {
                fwd.win_scale = WinScale::Shift(shift.min(MAX_WINDOW_SHIFT));
            }
            if fwd.win_scale == WinScale::Unknown {
                fwd.win_scale = WinScale::NoScaling;
                rev.win_scale = WinScale::NoScaling;
            } else if f.ack && rev.win_scale == WinScale::NoScaling {
                fwd.win_scale = WinScale::NoScaling;
            }
        }

        // Rule 14: initial RTT.
        if f.ack && !f.syn && self.first_rtt == 0 {
            if let Some(syn) = self.mru_syn {
                self.first_rtt = ts.saturating_sub(syn);
            }
        }
        if f.syn && !f.ack {
            self.mru_syn = Some(ts);
        }

        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{TcpFlags, TcpOptions};

    const C: Dir = Dir::ClientToServer;
    const S: Dir = Dir::ServerToClient;

    /// A hand-built conversation: each call analyses one segment.
    struct Run {
        a: TcpFlowAnalysis,
        frame: u64,
        ts: Micros,
    }

    #[derive(Clone, Copy)]
    struct Seg {
        seq: u32,
        ack: u32,
        len: usize,
        win: u16,
        syn: bool,
        ackf: bool,
        fin: bool,
        rst: bool,
        wscale: Option<u8>,
    }

    fn data(seq: u32, ack: u32, len: usize) -> Seg {
        Seg {
            seq,
            ack,
            len,
            win: 512,
            syn: false,
            ackf: true,
            fin: false,
            rst: false,
            wscale: None,
        }
    }

    impl Seg {
        fn win(mut self, w: u16) -> Seg {
            self.win = w;
            self
        }
        fn fin(mut self) -> Seg {
            self.fin = true;
            self
        }
        fn rst(mut self) -> Seg {
            self.rst = true;
            self
        }
    }

    impl Run {
        fn new() -> Run {
            Run {
                a: TcpFlowAnalysis::new(),
                frame: 0,
                ts: 1_000_000,
            }
        }

        /// Advance the clock by `us` before the next segment.
        fn wait(&mut self, us: u64) {
            self.ts += us;
        }

        fn seg(&mut self, dir: Dir, s: Seg) -> SegmentAnalysis {
            self.frame += 1;
            self.ts += 10;
            let payload = vec![0u8; s.len];
            let seg = TcpSegment {
                seq: s.seq,
                ack: s.ack,
                flags: TcpFlags {
                    syn: s.syn,
                    ack: s.ackf,
                    fin: s.fin,
                    rst: s.rst,
                    psh: s.len > 0,
                },
                window: s.win,
                options: TcpOptions {
                    mss: None,
                    window_scale: s.wscale,
                    sack_permitted: false,
                    timestamps: false,
                },
                payload: &payload,
                wire_len: s.len,
            };
            self.a.segment(dir, self.frame, self.ts, &seg)
        }

        /// SYN (ISN `c`), SYN-ACK (ISN `s`), ACK, with window scale 7 both ways and
        /// `rtt` µs between SYN-ACK and ACK. The SYNs' window field is the data
        /// segments' (512), so that the first ACK is not a window update.
        fn handshake(&mut self, c: u32, s: u32, rtt: u64) {
            let syn = Seg {
                seq: c,
                ack: 0,
                len: 0,
                win: 512,
                syn: true,
                ackf: false,
                fin: false,
                rst: false,
                wscale: Some(7),
            };
            assert!(self.seg(C, syn).flags.is_empty());
            let synack = Seg {
                seq: s,
                ack: c.wrapping_add(1),
                ackf: true,
                ..syn
            };
            assert!(self.seg(S, synack).flags.is_empty());
            self.wait(rtt);
            let r = self.seg(C, data(c.wrapping_add(1), s.wrapping_add(1), 0));
            assert!(r.flags.is_empty(), "{:?}", r.flags);
        }
    }

    fn only(r: &SegmentAnalysis, flags: &[Flag]) {
        let want: Flags = flags.iter().copied().collect();
        assert_eq!(
            r.flags,
            want,
            "got {:?}, want {:?}",
            r.flags.iter().map(Flag::name).collect::<Vec<_>>(),
            flags.iter().map(|f| f.name()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn names_are_wiresharks_and_distinct() {
        let names: Vec<&str> = Flag::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names[0], "retransmission");
        assert_eq!(names[5], "ack_lost_segment");
        assert_eq!(names[13], "keep_alive_ack");
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 14);
        let all: Flags = Flag::ALL.into_iter().collect();
        assert_eq!(all.len(), 14);
        assert_eq!(all.iter().count(), 14);
    }

    #[test]
    fn clean_exchange_has_no_flags_and_an_initial_rtt() {
        let mut r = Run::new();
        assert_eq!(r.a.initial_rtt(), None);
        r.handshake(1000, 5000, 20_000);
        assert_eq!(r.a.initial_rtt(), Some(20_020));
        only(&r.seg(C, data(1001, 5001, 100)), &[]);
        only(&r.seg(S, data(5001, 1101, 0)), &[]);
        only(&r.seg(S, data(5001, 1101, 100)), &[]);
        only(&r.seg(C, data(1101, 5101, 0)), &[]);
    }

    #[test]
    fn retransmission_after_a_timeout_names_the_original() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        only(&r.seg(C, data(1001, 5001, 100)), &[]); // frame 4
        r.wait(200_000);
        let x = r.seg(C, data(1001, 5001, 100));
        only(&x, &[Flag::Retransmission]);
        assert_eq!(
            x.retransmitted,
            Some(Retrans {
                rto: 200_010,
                rto_frame: 4
            })
        );
    }

    #[test]
    fn fast_retransmission_after_duplicate_acks() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.seg(C, data(1001, 5001, 100)); // 4
        r.seg(C, data(1101, 5001, 100)); // 5: lost after the capture point
        r.seg(C, data(1201, 5001, 100)); // 6
        only(&r.seg(S, data(5001, 1101, 0)), &[]); // 7: the ACK number changes
        let d1 = r.seg(S, data(5001, 1101, 0));
        only(&d1, &[Flag::DuplicateAck]);
        assert_eq!(d1.duplicate_ack, Some(DupAck { num: 1, frame: 7 }));
        r.seg(C, data(1301, 5001, 100));
        let d2 = r.seg(S, data(5001, 1101, 0));
        assert_eq!(d2.duplicate_ack, Some(DupAck { num: 2, frame: 7 }));
        r.wait(5_000);
        let x = r.seg(C, data(1101, 5001, 100));
        only(&x, &[Flag::FastRetransmission, Flag::Retransmission]);
        assert_eq!(x.retransmitted, None);
    }

    #[test]
    fn one_duplicate_ack_is_not_enough_for_fast_retransmission() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.seg(C, data(1001, 5001, 100));
        r.seg(C, data(1101, 5001, 100));
        r.seg(S, data(5001, 1001, 0));
        only(&r.seg(S, data(5001, 1001, 0)), &[Flag::DuplicateAck]);
        r.wait(30_000);
        only(&r.seg(C, data(1001, 5001, 100)), &[Flag::Retransmission]);
    }

    #[test]
    fn fast_retransmission_needs_to_follow_the_dup_acks_within_20ms() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.seg(C, data(1001, 5001, 100));
        r.seg(C, data(1101, 5001, 100));
        r.seg(S, data(5001, 1001, 0));
        r.seg(S, data(5001, 1001, 0));
        r.seg(S, data(5001, 1001, 0));
        r.wait(25_000);
        only(&r.seg(C, data(1001, 5001, 100)), &[Flag::Retransmission]);
    }

    #[test]
    fn spurious_retransmission_of_acknowledged_data() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.seg(C, data(1001, 5001, 100));
        r.seg(S, data(5001, 1101, 0));
        r.wait(100_000);
        only(
            &r.seg(C, data(1001, 5001, 100)),
            &[Flag::SpuriousRetransmission, Flag::Retransmission],
        );
    }

    #[test]
    fn out_of_order_within_the_initial_rtt() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.seg(C, data(1101, 5001, 100)); // a gap: 1001..1101 not seen yet
        r.wait(1_000);
        only(&r.seg(C, data(1001, 5001, 100)), &[Flag::OutOfOrder]);
    }

    #[test]
    fn out_of_order_threshold_is_3ms_without_a_handshake() {
        let mut r = Run::new();
        only(&r.seg(C, data(1101, 5001, 100)), &[]);
        r.wait(2_000);
        only(&r.seg(C, data(1001, 5001, 50)), &[Flag::OutOfOrder]);
        let mut r = Run::new();
        r.seg(C, data(1101, 5001, 100));
        r.wait(4_000);
        only(&r.seg(C, data(1001, 5001, 50)), &[Flag::Retransmission]);
    }

    #[test]
    fn lost_segment_and_acked_unseen_segment() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.seg(C, data(1001, 5001, 100));
        only(&r.seg(C, data(1201, 5001, 100)), &[Flag::LostSegment]);
        // The server acknowledges bytes the capture never saw: 1101..1201 and beyond
        // the contiguous end at 1101.
        only(&r.seg(S, data(5001, 1301, 0)), &[Flag::AckLostSegment]);
        // Reported once.
        only(&r.seg(S, data(5001, 1301, 10)), &[]);
    }

    #[test]
    fn rst_is_never_a_lost_segment() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.seg(C, data(1001, 5001, 100));
        only(&r.seg(C, data(9999, 5001, 0).rst().win(0)), &[]);
    }

    #[test]
    fn zero_window_probe_and_its_ack() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.seg(C, data(1001, 5001, 100));
        only(&r.seg(S, data(5001, 1101, 0).win(0)), &[Flag::ZeroWindow]);
        r.wait(200_000);
        let p = r.seg(C, data(1101, 5001, 1));
        only(&p, &[Flag::ZeroWindowProbe]);
        only(
            &r.seg(S, data(5001, 1101, 0).win(0)),
            &[Flag::ZeroWindow, Flag::ZeroWindowProbeAck],
        );
        // The probe did not move nextseq: the same byte again is a probe again.
        r.wait(400_000);
        only(&r.seg(C, data(1101, 5001, 1)), &[Flag::ZeroWindowProbe]);
        // The window opens: a window update.
        only(
            &r.seg(S, data(5001, 1101, 0).win(512)),
            &[Flag::WindowUpdate],
        );
        // Data from the probe's byte on is new data.
        only(&r.seg(C, data(1101, 5001, 100)), &[]);
    }

    #[test]
    fn zero_window_is_not_flagged_on_syn_fin_rst() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        only(&r.seg(S, data(5001, 1001, 0).win(0).fin()), &[]);
    }

    #[test]
    fn window_full_uses_the_scaled_window() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        // Server: ACK 1001, window field 4 << 7 = 512 bytes.
        r.seg(S, data(5001, 1001, 0).win(4));
        only(&r.seg(C, data(1001, 5001, 500)), &[]);
        only(&r.seg(C, data(1501, 5001, 12)), &[Flag::WindowFull]);
    }

    #[test]
    fn window_full_after_the_syn_ack_uses_its_unscaled_window() {
        let mut r = Run::new();
        let syn = Seg {
            seq: 1000,
            ack: 0,
            len: 0,
            win: 1000,
            syn: true,
            ackf: false,
            fin: false,
            rst: false,
            wscale: Some(7),
        };
        r.seg(C, syn);
        r.seg(
            S,
            Seg {
                seq: 5000,
                ack: 1001,
                ackf: true,
                win: 100,
                ..syn
            },
        );
        r.seg(C, data(1001, 5001, 0));
        only(&r.seg(C, data(1001, 5001, 100)), &[Flag::WindowFull]);
    }

    #[test]
    fn window_full_needs_a_known_scale() {
        let mut r = Run::new();
        r.seg(S, data(5001, 1001, 0).win(4));
        only(&r.seg(C, data(1001, 5001, 4)), &[]);
    }

    #[test]
    fn window_update_and_duplicate_ack_count_reset() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.seg(C, data(1001, 5001, 100));
        r.seg(S, data(5001, 1101, 0)); // 5
        only(
            &r.seg(S, data(5001, 1101, 0).win(600)),
            &[Flag::WindowUpdate],
        );
        // Same ACK, same window: a duplicate of frame 5 (the window update kept the
        // ACK number, so it did not restart the count).
        let d = r.seg(S, data(5001, 1101, 0).win(600));
        assert_eq!(d.duplicate_ack, Some(DupAck { num: 1, frame: 5 }));
        // A new ACK number restarts.
        r.seg(C, data(1101, 5001, 100));
        r.seg(S, data(5001, 1201, 0).win(600)); // 9
        let d = r.seg(S, data(5001, 1201, 0).win(600));
        assert_eq!(d.duplicate_ack, Some(DupAck { num: 1, frame: 9 }));
    }

    #[test]
    fn keep_alive_and_its_ack() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.seg(C, data(1001, 5001, 100));
        r.seg(S, data(5001, 1101, 0));
        r.wait(7_200_000);
        only(&r.seg(C, data(1100, 5001, 0)), &[Flag::KeepAlive]);
        only(&r.seg(S, data(5001, 1101, 0)), &[Flag::KeepAliveAck]);
        // A keep-alive with one garbage byte is a keep-alive, not a retransmission.
        r.wait(75_000_000);
        only(&r.seg(C, data(1100, 5001, 1)), &[Flag::KeepAlive]);
        only(&r.seg(S, data(5001, 1101, 0)), &[Flag::KeepAliveAck]);
    }

    #[test]
    fn syn_retransmission_and_rtt_from_the_last_syn() {
        let mut r = Run::new();
        let syn = Seg {
            seq: 1000,
            ack: 0,
            len: 0,
            win: 65535,
            syn: true,
            ackf: false,
            fin: false,
            rst: false,
            wscale: Some(7),
        };
        only(&r.seg(C, syn), &[]);
        r.wait(1_000_000);
        only(&r.seg(C, syn), &[Flag::Retransmission]);
        r.seg(
            S,
            Seg {
                seq: 5000,
                ack: 1001,
                ackf: true,
                ..syn
            },
        );
        r.wait(20_000);
        r.seg(C, data(1001, 5001, 0));
        assert_eq!(r.a.initial_rtt(), Some(20_020));
    }

    #[test]
    fn syn_ack_sent_again_within_the_rtt_is_a_retransmission() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.wait(1_000);
        let synack = Seg {
            seq: 5000,
            ack: 1001,
            len: 0,
            win: 512,
            syn: true,
            ackf: true,
            fin: false,
            rst: false,
            wscale: Some(7),
        };
        only(&r.seg(S, synack), &[Flag::Retransmission]);
    }

    #[test]
    fn fin_retransmission() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        only(&r.seg(C, data(1001, 5001, 0).fin()), &[]);
        r.wait(300_000);
        only(
            &r.seg(C, data(1001, 5001, 0).fin()),
            &[Flag::Retransmission],
        );
    }

    #[test]
    fn sequence_numbers_wrap_around() {
        let mut r = Run::new();
        let c = 0xFFFF_FF00u32;
        r.handshake(c, 0xFFFF_FFF0, 20_000);
        let s1 = c.wrapping_add(1);
        only(&r.seg(C, data(s1, 0xFFFF_FFF1, 0x80)), &[]);
        // Crosses 2^32: seq 0xFFFF_FF81 + 0x100 ends at 0x81.
        only(
            &r.seg(C, data(s1.wrapping_add(0x80), 0xFFFF_FFF1, 0x100)),
            &[],
        );
        // Beyond the wrap, after a gap.
        only(
            &r.seg(C, data(0x181, 0xFFFF_FFF1, 0x10)),
            &[Flag::LostSegment],
        );
        // The hole's data, within the RTT: out of order, not "lost" or new.
        only(
            &r.seg(C, data(0x81, 0xFFFF_FFF1, 0x100)),
            &[Flag::OutOfOrder],
        );
        // Server data crossing the wrap, acknowledged across it.
        only(&r.seg(S, data(0xFFFF_FFF1, 0x191, 0x20)), &[]);
        only(&r.seg(C, data(0x191, 0x11, 0)), &[]);
        r.wait(100_000);
        only(
            &r.seg(S, data(0xFFFF_FFF1, 0x191, 0x20)),
            &[Flag::SpuriousRetransmission, Flag::Retransmission],
        );
    }

    #[test]
    fn acks_frame_names_the_eldest_segment_ending_at_the_ack() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        r.seg(C, data(1001, 5001, 100)); // 4
        r.seg(C, data(1101, 5001, 100)); // 5
        r.wait(20_000);
        // Half of frame 4: nothing is named.
        let a = r.seg(S, data(5001, 1051, 0));
        assert_eq!((a.acks_frame, a.ack_rtt), (None, None));
        // The end of frame 4.
        let a = r.seg(S, data(5001, 1101, 0));
        assert_eq!(a.acks_frame, Some(4));
        assert_eq!(a.ack_rtt, Some(20_030));
        // Frame 5 is acknowledged together with its retransmission: the eldest.
        r.wait(300_000);
        r.seg(C, data(1101, 5001, 100));
        let a = r.seg(S, data(5001, 1201, 0));
        assert_eq!(a.acks_frame, Some(5));
    }

    #[test]
    fn past_the_kept_segments_rto_is_unknown_until_all_are_acked() {
        let mut r = Run::new();
        r.handshake(1000, 5000, 20_000);
        let n = u32::try_from(UNACKED_KEPT).unwrap() + 5;
        for k in 0..n {
            r.seg(C, data(1001 + 10 * k, 5001, 10));
        }
        let kept_end = 1001 + 10 * (n - 3);
        r.seg(S, data(5001, kept_end, 0));
        r.wait(300_000);
        let x = r.seg(C, data(kept_end, 5001, 10));
        only(&x, &[Flag::Retransmission]);
        assert_eq!(x.retransmitted, None);
        // An ACK of everything empties the list: from the highest segment again.
        let all = 1001 + 10 * n;
        let a = r.seg(S, data(5001, all, 0));
        assert_eq!(a.acks_frame, None, "only a segment not kept ended there");
        // New data is kept again and names its own frame.
        r.seg(C, data(all, 5001, 10));
        let sent = r.frame;
        r.wait(300_000);
        let x = r.seg(C, data(all, 5001, 10));
        only(&x, &[Flag::Retransmission]);
        assert_eq!(x.retransmitted.map(|t| t.rto_frame), Some(sent));
    }

    #[test]
    fn arbitrary_input_never_panics() {
        // A fixed pseudo-random sequence (xorshift) of any values, both directions.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut a = TcpFlowAnalysis::new();
        let payload = [0u8; 4];
        for frame in 1..=20_000u64 {
            let v = next();
            let special = [0, 1, u32::MAX, u32::MAX - 1];
            let pick = |k: u64| -> u32 {
                if k % 4 == 0 {
                    special[((k >> 2) % 4) as usize]
                } else {
                    (k >> 8) as u32
                }
            };
            let seg = TcpSegment {
                seq: pick(v),
                ack: pick(v.rotate_left(17)),
                flags: TcpFlags {
                    syn: v & 1 != 0,
                    ack: v & 2 != 0,
                    fin: v & 4 != 0,
                    rst: v & 8 != 0,
                    psh: false,
                },
                window: (v >> 40) as u16 & 3,
                options: TcpOptions {
                    mss: None,
                    window_scale: Some((v >> 50) as u8),
                    sack_permitted: false,
                    timestamps: false,
                },
                payload: &payload,
                wire_len: match v >> 60 {
                    0 => usize::MAX,
                    1 => 1,
                    2 => 0,
                    _ => (v >> 30) as usize % 3000,
                },
            };
            let dir = if v & 16 != 0 { C } else { S };
            // Time sometimes goes backwards.
            let ts = if v & 32 != 0 { frame * 1000 } else { 0 };
            let _ = a.segment(dir, frame, ts, &seg);
        }
    }
}
