//! The conversation's counters: frames per direction, the first and last frame that
//! carried payload, the largest segment, retransmissions and out-of-order segments.
//! Plain increments and comparisons: every segment goes through some of them.

use super::Conversation;
use crate::event::{seconds, Dir, FrameAt};
use crate::packet::{Packet, TcpSegment};
use crate::reassembly::SegmentKind;

/// A frame that carried payload, with its capture time in microseconds: seconds
/// (an f64 division) only when the record is built, not for every segment.
#[derive(Debug, Clone, Copy)]
pub(super) struct PayloadAt {
    frame: u64,
    ts: u64,
}

impl PayloadAt {
    /// Its capture time, microseconds.
    pub(super) fn micros(self) -> u64 {
        self.ts
    }

    pub(super) fn said(self) -> FrameAt {
        FrameAt {
            frame: self.frame,
            ts: seconds(self.ts),
        }
    }
}

impl Conversation {
    /// A frame of `dir`: counted, and the conversation's last so far.
    pub(super) fn count(&mut self, dir: Dir, pkt: &Packet<'_>) {
        self.frames[dir.index()] += 1;
        self.last_frame = pkt.frame;
        self.end_ts = pkt.ts;
        self.sent[dir.index()] = true;
    }

    /// A frame of `dir` carried payload.
    pub(super) fn payload_seen(&mut self, dir: Dir, pkt: &Packet<'_>) {
        let at = PayloadAt {
            frame: pkt.frame,
            ts: pkt.ts,
        };
        let slot = &mut self.payload_at[dir.index()];
        match slot {
            Some((_, last)) => *last = at,
            None => *slot = Some((at, at)),
        }
    }

    /// A segment of `dir` carried payload (on the wire, or captured): its frame, and its
    /// size against the largest so far.
    pub(super) fn segment_payload_seen(
        &mut self,
        dir: Dir,
        pkt: &Packet<'_>,
        seg: &TcpSegment<'_>,
    ) {
        self.payload_seen(dir, pkt);
        let largest = &mut self.largest_segment[dir.index()];
        *largest = (*largest).max(seg.wire_len.max(seg.payload.len()) as u64);
    }

    /// What the reassembler found the segment to be: a retransmission or an out-of-order
    /// segment is counted.
    pub(super) fn count_segment_kind(&mut self, dir: Dir, kind: SegmentKind) {
        match kind {
            SegmentKind::Retransmission => self.retransmission(dir),
            SegmentKind::OutOfOrder => match dir {
                Dir::ClientToServer => self.cold.details.out_of_order_c2s += 1,
                Dir::ServerToClient => self.cold.details.out_of_order_s2c += 1,
            },
            SegmentKind::InOrder | SegmentKind::Empty => {}
        }
    }

    /// A retransmission from `dir` (of data, or of a SYN or SYN-ACK).
    pub(super) fn retransmission(&mut self, dir: Dir) {
        match dir {
            Dir::ClientToServer => self.cold.details.retransmissions_c2s += 1,
            Dir::ServerToClient => self.cold.details.retransmissions_s2c += 1,
        }
    }
}
