//! Wireshark's per-segment TCP analysis of the conversation: a segment with analysis
//! flags becomes an event and is counted in the record, and the initial RTT is kept
//! for the record as the analysis finds it.

use super::Conversation;
use crate::analysis::SegmentAnalysis;
use crate::event::{seconds, AnalysisEvent, Dir, Event, SegmentEvent};
use crate::packet::{Packet, TcpSegment};
use crate::queue::Out;

impl Conversation {
    /// Wireshark's analysis of this segment; a flagged frame becomes an event. Returns
    /// the analysis (for the cause trackers and the round-trip facts).
    pub(super) fn analyse_segment(
        &mut self,
        dir: Dir,
        pkt: &Packet<'_>,
        seg: &TcpSegment<'_>,
        out: &mut Out<'_>,
    ) -> SegmentAnalysis {
        let analysis = self.flow.segment(dir, pkt.frame, pkt.ts, seg);
        // Converted to seconds only when it changes (once, at the handshake's end):
        // an f64 division on every segment was a fifth of this function's time.
        let rtt = self.flow.initial_rtt();
        if rtt.is_some() && rtt != self.irtt_micros {
            self.irtt_micros = rtt;
            self.cold.details.irtt = rtt.map(seconds);
        }
        if self.segments {
            self.segment_event(dir, pkt, seg, &analysis, out);
        }
        if analysis.flags.is_empty() {
            return analysis;
        }
        self.cold.details.analysis.count(dir, analysis.flags);
        let (own_isn, peer_isn) = self.recorded_isns(dir);
        let (seq_rel, ack_rel) = relative(seg, own_isn, peer_isn);
        out.push(Event::Analysis(AnalysisEvent {
            frame: pkt.frame,
            conv: self.id,
            dir,
            flags: analysis.flags,
            ts: seconds(pkt.ts),
            seq: seg.seq,
            seq_rel,
            ack: seg.ack,
            ack_rel,
            len: seg.wire_len.min(u32::MAX as usize) as u32,
            syn: seg.flags.syn,
            fin: seg.flags.fin,
            window: seg.window,
            duplicate_ack: analysis.duplicate_ack,
            retransmitted: analysis.retransmitted,
            keep_alive: analysis.keep_alive,
            capture_point: self.cold.details.capture_point,
            capture_dropped_before: out.capture_dropped(),
        }));
        analysis
    }

    /// The ISNs the handshake recorded for the sender and for its peer.
    fn recorded_isns(&self, dir: Dir) -> (Option<u32>, Option<u32>) {
        let d = &self.cold.details;
        match dir {
            Dir::ClientToServer => (d.client_isn, d.server_isn),
            Dir::ServerToClient => (d.server_isn, d.client_isn),
        }
    }

    /// The ISNs of the sender and of its peer (a SYN's own sequence number is its
    /// sender's ISN before the handshake records it).
    fn isns(&self, dir: Dir, seg: &TcpSegment<'_>) -> (Option<u32>, Option<u32>) {
        let (own, peer) = self.recorded_isns(dir);
        let own = if seg.flags.syn { Some(seg.seq) } else { own };
        (own, peer)
    }

    fn segment_event(
        &self,
        dir: Dir,
        pkt: &Packet<'_>,
        seg: &TcpSegment<'_>,
        analysis: &SegmentAnalysis,
        out: &mut Out<'_>,
    ) {
        let (own_isn, peer_isn) = self.isns(dir, seg);
        let (seq_rel, ack_rel) = relative(seg, own_isn, peer_isn);
        out.push(Event::Segment(SegmentEvent {
            frame: pkt.frame,
            conv: self.id,
            dir,
            ts: seconds(pkt.ts),
            seq: seg.seq,
            seq_rel,
            ack: seg.ack,
            ack_rel,
            len: seg.wire_len.min(u32::MAX as usize) as u32,
            syn: seg.flags.syn,
            ack_flag: seg.flags.ack,
            fin: seg.flags.fin,
            rst: seg.flags.rst,
            psh: seg.flags.psh,
            window: seg.window,
            flags: analysis.flags,
            acks_frame: analysis.acks_frame,
            ack_rtt: analysis.ack_rtt.map(seconds),
        }));
    }
}

/// The segment's sequence and acknowledgement numbers relative to the ISNs given, as
/// Wireshark shows them (no relative ack on a segment without the ACK flag).
fn relative(
    seg: &TcpSegment<'_>,
    own_isn: Option<u32>,
    peer_isn: Option<u32>,
) -> (Option<u32>, Option<u32>) {
    let seq_rel = own_isn.map(|isn| seg.seq.wrapping_sub(isn));
    let ack_rel = peer_isn
        .filter(|_| seg.flags.ack)
        .map(|isn| seg.ack.wrapping_sub(isn));
    (seq_rel, ack_rel)
}
