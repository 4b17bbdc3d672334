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
use crate::event::dir::Dir;
use crate::packet::{Micros, TcpSegment};

mod rules;
mod state;

use state::Side;
pub use state::UNACKED_KEPT;

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

/// What a segment Wireshark flags `keep_alive` (no data, or one byte, one before the
/// sender's next sequence number) is, from the state of the connection when it left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepAliveKind {
    /// The peer's last advertised window was 0: a persist (zero-window) probe, which
    /// Linux sends as a keep-alive-shaped segment (RFC 9293 3.8.6.1), not SO_KEEPALIVE.
    ZeroWindowProbe,
    /// The window was open and the peer had acknowledged everything the sender sent:
    /// the connection was idle, a keep-alive (SO_KEEPALIVE).
    Idle,
    /// The window was open but bytes were still unacknowledged: the connection was not
    /// idle, so not a keep-alive timer's probe (what it is the packets do not say).
    DataOutstanding,
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
    /// For a segment flagged [`Flag::KeepAlive`]: what it is.
    pub keep_alive: Option<KeepAliveKind>,
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
        let seen = rules::Seen::of(frame, ts, seg);
        let first_rtt = self.first_rtt;
        let [client, server] = &mut self.sides;
        let (fwd, rev) = match dir {
            Dir::ClientToServer => (client, server),
            Dir::ServerToClient => (server, client),
        };
        let mut out = SegmentAnalysis::default();
        rules::forward(&seen, fwd, rev, &mut out);
        rules::acks(&seen, fwd, rev, &mut out);
        rules::resend(&seen, fwd, rev, first_rtt, &mut out);
        rules::bookkeeping(&seen, fwd, rev, &mut out);
        rules::window_scaling(&seen, fwd, rev);
        self.initial_rtt_rule(&seen);
        out
    }

    /// Rule 14: a SYN without ACK records its time; the first segment with ACK and
    /// without SYN after it gives the initial RTT, once.
    fn initial_rtt_rule(&mut self, s: &rules::Seen) {
        if s.flags.ack && !s.flags.syn && self.first_rtt == 0 {
            if let Some(syn) = self.mru_syn {
                self.first_rtt = s.ts.saturating_sub(syn);
            }
        }
        if s.flags.syn && !s.flags.ack {
            self.mru_syn = Some(s.ts);
        }
    }
}

#[cfg(test)]
mod tests;
