//! The rules of the module documentation of `tcp_flags`, one group per function, in
//! Wireshark's order: each reads the segment at hand ([`Seen`]) and the two
//! directions' state, adds flags to the segment's analysis, and (rules 10 on) updates
//! the state.

use super::state::{
    gt, le, lt, since, Eldest, Sent, Side, WinScale, DEFAULT_OOO_THRESHOLD, FAST_RETRANS_WINDOW,
    MAX_WINDOW_SHIFT,
};
use super::{DupAck, Flag, KeepAliveKind, Retrans, SegmentAnalysis};
use crate::packet::{Micros, TcpFlags, TcpSegment};

/// The segment at hand, as the rules read it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seen {
    pub frame: u64,
    pub ts: Micros,
    pub seq: u32,
    pub ack: u32,
    /// Payload bytes on the wire (longer than 4 GiB cannot be one segment: saturated).
    pub len: u32,
    pub flags: TcpFlags,
    /// SYN, FIN or RST set.
    pub sfr: bool,
    pub window: u32,
    pub window_scale: Option<u8>,
}

impl Seen {
    #[inline]
    pub fn of(frame: u64, ts: Micros, seg: &TcpSegment<'_>) -> Seen {
        let f = seg.flags;
        Seen {
            frame,
            ts,
            seq: seg.seq,
            ack: seg.ack,
            len: u32::try_from(seg.wire_len).unwrap_or(u32::MAX),
            flags: f,
            sfr: f.syn || f.fin || f.rst,
            window: u32::from(seg.window),
            window_scale: seg.options.window_scale,
        }
    }

    /// Takes sequence space: data, SYN or FIN.
    #[inline]
    fn occupies(&self) -> bool {
        self.len > 0 || self.flags.syn || self.flags.fin
    }

    /// Length 0 at fwd's next sequence number, repeating fwd's last ACK, no SFR.
    #[inline]
    fn same_point(&self, fwd: &Side) -> bool {
        self.len == 0 && self.seq == fwd.nextseq && self.ack == fwd.lastack && !self.sfr
    }
}

/// Rules 1–9; returning early is Wireshark's *stop* (jump to rule 10).
#[inline]
pub(super) fn forward(s: &Seen, fwd: &mut Side, rev: &Side, out: &mut SegmentAnalysis) {
    let fl = &mut out.flags;
    if s.len == 1 && s.seq == fwd.nextseq && rev.window == 0 {
        fl.insert(Flag::ZeroWindowProbe);
        return;
    }
    if s.window == 0 && !s.sfr {
        fl.insert(Flag::ZeroWindow);
    }
    if fwd.nextseq != 0 && gt(s.seq, fwd.nextseq) && !s.flags.rst {
        fl.insert(Flag::LostSegment);
    }
    if s.len <= 1 && s.seq == fwd.nextseq.wrapping_sub(1) && !s.sfr {
        fl.insert(Flag::KeepAlive);
        out.keep_alive = Some(keep_alive_kind(fwd, rev));
    }
    let same_point = s.same_point(fwd);
    if same_point && s.window != 0 && s.window != fwd.window {
        fl.insert(Flag::WindowUpdate);
    }
    if fills_window(s, rev) {
        fl.insert(Flag::WindowFull);
    }
    let unchanged = same_point && s.window != 0 && s.window == fwd.window;
    if unchanged && rev.last_flags.contains(Flag::KeepAlive) {
        fl.insert(Flag::KeepAliveAck);
        return;
    }
    if same_point
        && s.window == 0
        && fwd.window == 0
        && rev.last_flags.contains(Flag::ZeroWindowProbe)
    {
        fl.insert(Flag::ZeroWindowProbeAck);
        return;
    }
    if unchanged {
        fwd.dupacknum = fwd.dupacknum.saturating_add(1);
        fl.insert(Flag::DuplicateAck);
        out.duplicate_ack = Some(DupAck {
            num: fwd.dupacknum,
            frame: fwd.lastnondupack,
        });
    }
}

/// What a keep-alive-shaped segment is: a persist probe when the peer's last window
/// was 0, a keep-alive when the peer had acknowledged all of fwd's sequence space.
#[inline(never)]
fn keep_alive_kind(fwd: &Side, rev: &Side) -> KeepAliveKind {
    if rev.window == 0 {
        KeepAliveKind::ZeroWindowProbe
    } else if rev.lastack == fwd.nextseq {
        KeepAliveKind::Idle
    } else {
        KeepAliveKind::DataOutstanding
    }
}

/// Rule 6: data reaching exactly the right edge of rev's window (scaled by rev's
/// shift unless that window came with rev's SYN), when rev's scale is known.
#[inline]
fn fills_window(s: &Seen, rev: &Side) -> bool {
    if s.len == 0 || s.sfr {
        return false;
    }
    let shift = match rev.win_scale {
        WinScale::Unknown => return false,
        WinScale::NoScaling => 0,
        WinScale::Shift(_) if rev.window_from_syn => 0,
        WinScale::Shift(shift) => u32::from(shift),
    };
    let edge = rev.lastack.wrapping_add(rev.window.wrapping_shl(shift));
    s.seq.wrapping_add(s.len) == edge
}

/// Rules 10 and 11: a new ACK number resets the duplicate count; an ACK beyond the
/// bytes seen is an acked unseen segment (said once).
#[inline]
pub(super) fn acks(s: &Seen, fwd: &mut Side, rev: &mut Side, out: &mut SegmentAnalysis) {
    if s.ack != fwd.lastack {
        fwd.lastnondupack = s.frame;
        fwd.dupacknum = 0;
    }
    if s.flags.ack && rev.maxseqtobeacked != 0 && gt(s.ack, rev.maxseqtobeacked) {
        out.flags.insert(Flag::AckLostSegment);
        rev.maxseqtobeacked = rev.nextseq;
    }
}

/// Rule 12: a segment with data, SYN or FIN that does not advance (not a keep-alive):
/// spurious, fast, out of order, or a plain retransmission with its `rto`.
#[inline]
pub(super) fn resend(
    s: &Seen,
    fwd: &Side,
    rev: &Side,
    first_rtt: Micros,
    out: &mut SegmentAnalysis,
) {
    if !s.occupies() || out.flags.contains(Flag::KeepAlive) {
        return;
    }
    let fl = &mut out.flags;
    let mut not_advanced = fwd.nextseq != 0 && lt(s.seq, fwd.nextseq);
    if s.len > 1 && fwd.nextseq.wrapping_sub(1) == s.seq {
        not_advanced = false;
    }
    let ooo_threshold = if first_rtt == 0 {
        DEFAULT_OOO_THRESHOLD
    } else {
        first_rtt
    };
    let after_dup_acks = rev
        .lastack_time
        .and_then(|t| since(s.ts, t))
        .is_some_and(|t| t < FAST_RETRANS_WINDOW);
    // Where this segment ends in sequence space (a SYN or FIN counts one): a segment
    // ending where the highest did is a copy of it, not out of order.
    let end = s
        .seq
        .wrapping_add(s.len)
        .wrapping_add(u32::from(s.flags.syn || s.flags.fin));
    let soon_after_highest = since(s.ts, fwd.nextseq_time).is_some_and(|t| t < ooo_threshold);
    if s.len > 0 && rev.lastack != 0 && le(s.seq.wrapping_add(s.len), rev.lastack) {
        fl.insert(Flag::SpuriousRetransmission);
        fl.insert(Flag::Retransmission);
    } else if not_advanced && rev.dupacknum >= 2 && rev.lastack == s.seq && after_dup_acks {
        fl.insert(Flag::FastRetransmission);
        fl.insert(Flag::Retransmission);
    } else if not_advanced && soon_after_highest && fwd.nextseq != end {
        fl.insert(Flag::OutOfOrder);
    } else if not_advanced {
        fl.insert(Flag::Retransmission);
        out.retransmitted = rto(s, fwd);
    }
}

/// Wireshark's `rto`: from the eldest unacknowledged segment (likely the one sent
/// again), or from the highest one when none is outstanding.
#[inline]
fn rto(s: &Seen, fwd: &Side) -> Option<Retrans> {
    let original = match fwd.unacked.eldest() {
        Eldest::Known(sent) => Some((sent.frame, sent.ts)),
        Eldest::Empty => Some((fwd.nextseq_frame, fwd.nextseq_time)),
        Eldest::Unknown => None,
    };
    original.and_then(|(rto_frame, t)| {
        since(s.ts, t)
            .filter(|rto| *rto != 0)
            .map(|rto| Retrans { rto, rto_frame })
    })
}

/// Rule 13: fwd's next sequence number, contiguous end, window, ACK and flags move
/// on; the segment joins fwd's unacknowledged ones, and its ACK number drops rev's
/// that it reaches.
#[inline]
pub(super) fn bookkeeping(s: &Seen, fwd: &mut Side, rev: &mut Side, out: &mut SegmentAnalysis) {
    let mut nextseq = s.seq.wrapping_add(s.len);
    if s.flags.syn || s.flags.fin {
        nextseq = nextseq.wrapping_add(1);
    }
    if s.occupies() {
        fwd.unacked.push(Sent {
            nextseq,
            frame: s.frame,
            ts: s.ts,
        });
    }
    let probe = out.flags.contains(Flag::ZeroWindowProbe);
    if (gt(nextseq, fwd.nextseq) || fwd.nextseq == 0) && !probe {
        fwd.nextseq = nextseq;
        fwd.nextseq_frame = s.frame;
        fwd.nextseq_time = s.ts;
    }
    if (s.seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !probe {
        fwd.maxseqtobeacked = fwd.nextseq;
    }
    fwd.window = s.window;
    fwd.window_from_syn = s.flags.syn;
    fwd.lastack = s.ack;
    fwd.lastack_time = Some(s.ts);
    fwd.last_flags = out.flags;
    if let Ok(Some(sent)) = rev.unacked.acknowledge(s.ack) {
        out.acks_frame = Some(sent.frame);
        out.ack_rtt = since(s.ts, sent.ts).filter(|rtt| *rtt != 0);
    }
}

/// Rule 14: window scaling from the handshake's SYNs.
#[inline]
pub(super) fn window_scaling(s: &Seen, fwd: &mut Side, rev: &mut Side) {
    if !s.flags.syn {
        return;
    }
    if let Some(shift) = s.window_scale {
        fwd.win_scale = WinScale::Shift(shift.min(MAX_WINDOW_SHIFT));
    }
    if fwd.win_scale == WinScale::Unknown {
        fwd.win_scale = WinScale::NoScaling;
        rev.win_scale = WinScale::NoScaling;
    } else if s.flags.ack && rev.win_scale == WinScale::NoScaling {
        fwd.win_scale = WinScale::NoScaling;
    }
}
