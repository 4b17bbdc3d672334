//! The RST that ended a conversation, tied to the segment that drew it.

use super::{Cause, CauseKind, Certainty, Conv, SegmentSeen};
use crate::event::cause::RstReason;
use crate::event::Dir;

/// The last segment of one side, as the RST classification reads it.
#[derive(Debug, Default, Clone, Copy)]
struct Last {
    frame: u64,
    seq: u32,
    syn_only: bool,
}

/// What the RST tracker keeps per side, and what it found.
#[derive(Debug, Default)]
pub(super) struct RstTrigger {
    last: [Option<Last>; 2],
    /// Per side: its FIN's frame, its last segment with payload (frame, ack number).
    fin: [Option<u64>; 2],
    last_payload: [Option<(u64, u32)>; 2],
    found: Option<(Dir, CauseKind)>,
}

impl RstTrigger {
    pub fn segment(&mut self, s: &SegmentSeen<'_, '_>) {
        let (i, seg) = (s.dir.index(), s.seg);
        if seg.flags.rst && self.found.is_none() {
            self.found = self.classify(s).map(|k| (s.dir, k));
            return;
        }
        self.last[i] = Some(Last {
            frame: s.frame,
            seq: seg.seq,
            syn_only: seg.flags.syn && !seg.flags.ack,
        });
        if seg.wire_len > 0 {
            self.last_payload[i] = Some((s.frame, seg.ack));
        }
        if seg.flags.fin && self.fin[i].is_none() {
            self.fin[i] = Some(s.frame);
        }
    }

    /// The RST `s`, from what came before it.
    fn classify(&self, s: &SegmentSeen<'_, '_>) -> Option<CauseKind> {
        let (me, other) = (s.dir.index(), s.dir.reverse().index());
        let rst = s.seg;
        let kind = |reason, trigger, fin, unread| CauseKind::RstCause {
            reason,
            rst: s.frame,
            trigger,
            fin,
            unread,
        };
        if let Some(o) = self.last[other] {
            if o.syn_only && rst.flags.ack && rst.ack == o.seq.wrapping_add(1) {
                return Some(kind(RstReason::NoSocket, Some(o.frame), None, None));
            }
        }
        let theirs = self.last_payload[other];
        if let (Some(fin), Some((data, ack))) = (self.fin[me], theirs) {
            if data > fin && rst.seq == ack {
                return Some(kind(RstReason::DataAfterClose, Some(data), Some(fin), None));
            }
        }
        if self.fin[me].is_some() {
            return None;
        }
        let mine = self.last_payload[me].map(|(f, _)| f);
        match theirs {
            Some((data, _)) if mine.is_none_or(|m| data > m) => {
                Some(kind(RstReason::UnreadData, None, None, Some(data)))
            }
            _ if self.last[me].is_some() => Some(kind(RstReason::Abort, None, None, None)),
            _ => None,
        }
    }

    pub fn cause(&self, conv: Conv<'_>) -> Option<Cause> {
        let (dir, kind) = self.found.clone()?;
        let CauseKind::RstCause {
            reason,
            rst,
            trigger,
            unread,
            ..
        } = &kind
        else {
            return None;
        };
        let mut frames: Vec<u64> = trigger.iter().chain(unread.iter()).copied().collect();
        frames.push(*rst);
        let certainty = match reason {
            RstReason::NoSocket | RstReason::DataAfterClose => Certainty::Proved,
            RstReason::UnreadData | RstReason::Abort => Certainty::Probable,
        };
        Some(super::cause(conv, dir, frames, certainty, kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::TcpDetails;

    fn feed(t: &mut RstTrigger, frame: u64, dir: Dir, seq: u32, ack: u32, len: usize, f: &str) {
        crate::causes::testing::with_segment(frame, 0, dir, seq, ack, len, f, |s| t.segment(s));
    }

    fn reason(t: &RstTrigger) -> (RstReason, Vec<u64>, Certainty) {
        let d = TcpDetails::default();
        let conv = Conv {
            id: 0,
            tcp_stream: Some(0),
            details: &d,
        };
        let c = t.cause(conv).expect("a cause");
        match c.kind {
            CauseKind::RstCause { reason, .. } => (reason, c.frames, c.certainty),
            _ => unreachable!(),
        }
    }

    use Dir::{ClientToServer as C2S, ServerToClient as S2C};

    #[test]
    fn rst_ack_to_a_syn_is_no_socket() {
        let mut t = RstTrigger::default();
        feed(&mut t, 1, C2S, 1000, 0, 0, "S");
        feed(&mut t, 2, S2C, 0, 1001, 0, "RA");
        assert_eq!(
            reason(&t),
            (RstReason::NoSocket, vec![1, 2], Certainty::Proved)
        );
    }

    #[test]
    fn data_after_the_senders_fin_draws_it() {
        // The server_killed_mid_send fixture: FIN (10), the client's data (12), RST (13).
        let mut t = RstTrigger::default();
        feed(&mut t, 4, C2S, 1, 1, 7, "A");
        feed(&mut t, 10, S2C, 1, 22, 0, "FA");
        feed(&mut t, 11, C2S, 22, 2, 0, "A");
        feed(&mut t, 12, C2S, 22, 2, 7, "A");
        feed(&mut t, 13, S2C, 2, 0, 0, "R");
        assert_eq!(
            reason(&t),
            (RstReason::DataAfterClose, vec![12, 13], Certainty::Proved)
        );
    }

    #[test]
    fn without_a_trigger_unread_data_or_an_abort() {
        let mut t = RstTrigger::default();
        feed(&mut t, 4, C2S, 1, 1, 100, "A");
        feed(&mut t, 5, S2C, 1, 101, 0, "A");
        feed(&mut t, 6, S2C, 1, 101, 0, "RA");
        assert_eq!(
            reason(&t),
            (RstReason::UnreadData, vec![4, 6], Certainty::Probable)
        );
        let mut t = RstTrigger::default();
        feed(&mut t, 4, C2S, 1, 1, 100, "A");
        feed(&mut t, 5, S2C, 1, 101, 100, "A");
        feed(&mut t, 6, S2C, 101, 101, 0, "RA");
        assert_eq!(reason(&t), (RstReason::Abort, vec![6], Certainty::Probable));
    }

    #[test]
    fn a_lone_rst_says_nothing() {
        let mut t = RstTrigger::default();
        feed(&mut t, 1, S2C, 1, 1, 0, "R");
        let d = TcpDetails::default();
        let conv = Conv {
            id: 0,
            tcp_stream: None,
            details: &d,
        };
        assert!(t.cause(conv).is_none());
    }
}
