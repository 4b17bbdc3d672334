//! Loss and recovery of one direction of a TCP conversation, from Wireshark's per-frame
//! flags: which frames lost, resent, repeated an ACK or stalled, and what the packets
//! tell about each — whether a loss followed frames the capture itself dropped, whether
//! a retransmission came late enough to be the sender's timer, whether the capture was
//! made at the sender. Plain facts; `labsniff` words them.

use super::tcp_flags::{Flag, KeepAliveKind, Retrans};
use crate::event::{AnalysisEvent, CapturePoint, Dir, TcpDetails};

/// Linux's smallest retransmission timeout (TCP_RTO_MIN), microseconds: a
/// retransmission sooner than this after the last new data was not triggered by the
/// timer.
pub const LINUX_RTO_MIN_MICROS: u64 = 200_000;

/// What probably made a sender retransmit, as far as its timing tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendTiming {
    /// At least [`LINUX_RTO_MIN_MICROS`] after the last new data: probably the
    /// retransmission timer.
    Timer,
    /// Sooner: not the timer, probably recovery driven by the receiver's ACKs or SACKs.
    AckDriven,
}

impl Retrans {
    /// Which of [`ResendTiming`] this retransmission's delay fits.
    pub fn timing(&self) -> ResendTiming {
        if self.rto >= LINUX_RTO_MIN_MICROS {
            ResendTiming::Timer
        } else {
            ResendTiming::AckDriven
        }
    }
}

impl CapturePoint {
    /// The capture was made at the host that sends in `dir`.
    pub fn at_sender_of(self, dir: Dir) -> bool {
        matches!(
            (self, dir),
            (CapturePoint::Client, Dir::ClientToServer)
                | (CapturePoint::Server, Dir::ServerToClient)
        )
    }
}

impl AnalysisEvent {
    /// The capture was made at the host that sent this frame.
    pub fn captured_at_sender(&self) -> bool {
        self.capture_point.at_sender_of(self.dir)
    }
}

/// One direction's loss and recovery. Counts are the conversation record's (every
/// flagged frame); frame lists are of the flagged frames kept (a report keeps the first
/// few thousand per conversation), ascending, SYNs left out (the lost-SYN facts are the
/// handshake's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectionRecovery {
    /// Segments after bytes the capture never showed (`lost_segment`).
    pub lost: u32,
    pub lost_frames: Vec<u64>,
    /// Of the lost segments kept, those right after frames a live capture dropped.
    pub lost_after_capture_drop: u32,
    /// Retransmitted segments, not counting SYNs sent again.
    pub retransmitted: u32,
    pub retransmitted_frames: Vec<u64>,
    pub fast: u32,
    pub spurious: u32,
    /// Plain retransmissions (neither fast nor spurious) that came late enough to be
    /// the timer ([`ResendTiming::Timer`]).
    pub timer: u32,
    pub duplicate_acks: u32,
    pub duplicate_ack_frames: Vec<u64>,
    pub out_of_order: u32,
    pub out_of_order_frames: Vec<u64>,
    pub zero_windows: u32,
    pub zero_window_frames: Vec<u64>,
    /// Keep-alives of an idle connection (Wireshark's `keep_alive` frames that are
    /// neither of the two kinds below; frames kept: those of [`KeepAliveKind::Idle`]).
    pub keep_alives: u32,
    pub keep_alive_frames: Vec<u64>,
    /// `keep_alive` frames sent while the peer's window was 0: persist probes.
    pub persist_probes: u32,
    pub persist_probe_frames: Vec<u64>,
    /// `keep_alive` frames sent with bytes unacknowledged and the window open.
    pub probes_not_idle: u32,
    pub probe_not_idle_frames: Vec<u64>,
    /// The capture was made at this direction's sender.
    pub captured_at_sender: bool,
}

impl DirectionRecovery {
    /// The facts of `dir` from a conversation's TCP details and its flagged frames
    /// (`events`, frame order).
    pub fn of(t: &TcpDetails, events: &[&AnalysisEvent], dir: Dir) -> DirectionRecovery {
        let count = |flag| t.analysis.get(dir, flag);
        let mut r = DirectionRecovery {
            lost: count(Flag::LostSegment),
            retransmitted: count(Flag::Retransmission),
            fast: count(Flag::FastRetransmission),
            spurious: count(Flag::SpuriousRetransmission),
            duplicate_acks: count(Flag::DuplicateAck),
            out_of_order: count(Flag::OutOfOrder),
            zero_windows: count(Flag::ZeroWindow),
            keep_alives: count(Flag::KeepAlive),
            captured_at_sender: t.capture_point.at_sender_of(dir),
            ..DirectionRecovery::default()
        };
        for e in events.iter().filter(|e| e.dir == dir) {
            r.see(e);
        }
        r.persist_probes = r.persist_probe_frames.len() as u32;
        r.probes_not_idle = r.probe_not_idle_frames.len() as u32;
        r.keep_alives = r
            .keep_alives
            .saturating_sub(r.persist_probes + r.probes_not_idle);
        r
    }

    fn see(&mut self, e: &AnalysisEvent) {
        let has = |flag| e.flags.contains(flag);
        if e.syn {
            // A SYN sent again is counted among the retransmissions: not this one's.
            if has(Flag::Retransmission) {
                self.retransmitted = self.retransmitted.saturating_sub(1);
            }
            return;
        }
        if has(Flag::LostSegment) {
            self.lost_frames.push(e.frame);
            self.lost_after_capture_drop += u32::from(e.capture_dropped_before);
        }
        if has(Flag::Retransmission) {
            self.retransmitted_frames.push(e.frame);
            let fast = has(Flag::FastRetransmission);
            let spurious = has(Flag::SpuriousRetransmission);
            let late = e
                .retransmitted
                .is_some_and(|r| r.timing() == ResendTiming::Timer);
            self.timer += u32::from(!fast && !spurious && late);
        }
        let lists = [
            (Flag::DuplicateAck, &mut self.duplicate_ack_frames),
            (Flag::OutOfOrder, &mut self.out_of_order_frames),
            (Flag::ZeroWindow, &mut self.zero_window_frames),
        ];
        for (flag, list) in lists {
            if has(flag) {
                list.push(e.frame);
            }
        }
        if has(Flag::KeepAlive) {
            let list = match e.keep_alive {
                Some(KeepAliveKind::ZeroWindowProbe) => &mut self.persist_probe_frames,
                Some(KeepAliveKind::DataOutstanding) => &mut self.probe_not_idle_frames,
                Some(KeepAliveKind::Idle) | None => &mut self.keep_alive_frames,
            };
            list.push(e.frame);
        }
    }
}
