//! One direction's state for the analysis (see the module documentation of
//! `tcp_flags`), its unacknowledged segments, and sequence-space arithmetic.

use super::Flags;
use crate::packet::Micros;

/// What is known of a direction's window scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WinScale {
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
pub(super) struct Sent {
    pub(super) nextseq: u32,
    pub(super) frame: u64,
    pub(super) ts: Micros,
}

/// What is known of the eldest unacknowledged segment.
pub(super) enum Eldest {
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
pub(super) struct Unacked {
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

    pub(super) fn push(&mut self, sent: Sent) {
        if self.over == 0 && self.kept.len() < UNACKED_KEPT {
            self.kept.push(sent);
        } else {
            if self.over == 0 || gt(sent.nextseq, self.over_furthest) {
                self.over_furthest = sent.nextseq;
            }
            self.over = self.over.saturating_add(1);
        }
    }

    pub(super) fn eldest(&self) -> Eldest {
        match (self.kept.first(), self.over) {
            (Some(first), _) => Eldest::Known(*first),
            (None, 0) => Eldest::Empty,
            (None, _) => Eldest::Unknown,
        }
    }

    /// Drop every segment `ack` reaches the end of. Returns the eldest segment that
    /// ends exactly at `ack` (what Wireshark reports as acknowledged); `None` inside
    /// when none does, `Err` when only a counted-only segment could be it.
    pub(super) fn acknowledge(&mut self, ack: u32) -> Result<Option<Sent>, Unknown> {
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
pub(super) struct Unknown;

/// One direction's state (see the module documentation).
#[derive(Debug, Clone)]
pub(super) struct Side {
    pub(super) nextseq: u32,
    pub(super) nextseq_frame: u64,
    pub(super) nextseq_time: Micros,
    pub(super) maxseqtobeacked: u32,
    pub(super) lastack: u32,
    pub(super) lastack_time: Option<Micros>,
    pub(super) window: u32,
    /// The last window came with a SYN (SYN windows are never scaled).
    pub(super) window_from_syn: bool,
    pub(super) win_scale: WinScale,
    pub(super) dupacknum: u32,
    pub(super) lastnondupack: u64,
    pub(super) last_flags: Flags,
    pub(super) unacked: Unacked,
}

impl Side {
    pub(super) const fn new() -> Side {
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

/// `a` after `b` in sequence space.
pub(super) fn gt(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}

/// `a` before `b` in sequence space.
pub(super) fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a` not after `b` in sequence space.
pub(super) fn le(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) >= 0
}

/// Microseconds from `then` to `now`; `None` when time went backwards (Wireshark's
/// unsigned difference is then huge, so no "within" test passes).
pub(super) fn since(now: Micros, then: Micros) -> Option<Micros> {
    now.checked_sub(then)
}

/// Fast retransmissions come within this time of the last duplicate ACK.
pub(super) const FAST_RETRANS_WINDOW: Micros = 20_000;
/// Out-of-order threshold while the initial RTT is unknown.
pub(super) const DEFAULT_OOO_THRESHOLD: Micros = 3_000;
/// Largest window scale shift RFC 7323 allows (Wireshark clamps larger ones).
pub(super) const MAX_WINDOW_SHIFT: u8 = 14;
