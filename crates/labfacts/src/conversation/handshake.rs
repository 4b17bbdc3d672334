//! The handshake's facts: the client's SYNs (each attempt, retransmissions, the ISN and
//! options of the first), the server's SYN-ACK (its ISN and options, the handshake's
//! round trip), and the client's ACK completing it (its timing, and where the capture
//! was made as the timings show).

use super::Conversation;
use crate::event::{seconds, CapturePoint, Dir, SynAttempt, SynOptions};
use crate::packet::{Packet, TcpSegment};

/// The client's SYNs kept per conversation (Linux sends at most 7: the first and 6
/// retries, net.ipv4.tcp_syn_retries).
const SYN_ATTEMPTS_KEPT: usize = 16;

/// The options a SYN or SYN-ACK offered.
fn syn_options(seg: &TcpSegment<'_>) -> SynOptions {
    SynOptions {
        mss: seg.options.mss,
        window_scale: seg.options.window_scale,
        sack_permitted: seg.options.sack_permitted,
        timestamps: seg.options.timestamps,
    }
}

impl Conversation {
    /// Whether a client SYN with sequence number `seq` belongs to this conversation:
    /// its ISN is the one seen, or, when the SYN-ACK was captured before the SYN, the
    /// SYN-ACK acknowledged `seq + 1`. Otherwise it starts a new connection.
    pub fn is_same_syn(&self, seq: u32) -> bool {
        match self.cold.details.client_isn {
            Some(isn) => isn == seq,
            None => self.cold.syn_ack_acks == Some(seq.wrapping_add(1)),
        }
    }

    /// The segment's part in the handshake, if any: a SYN, a SYN-ACK (a second one of
    /// either is a retransmission), or the client's ACK of the SYN-ACK.
    pub(super) fn handshake(&mut self, dir: Dir, pkt: &Packet<'_>, seg: &TcpSegment<'_>) {
        let flags = seg.flags;
        let retransmitted_syn = if flags.syn && !flags.ack {
            self.syn(dir, pkt, seg)
        } else if flags.syn {
            self.syn_ack(pkt, seg)
        } else {
            if !flags.rst && flags.ack && dir == Dir::ClientToServer && !self.handshake_acked {
                self.handshake_ack(pkt, seg);
            }
            false
        };
        if retransmitted_syn {
            self.retransmission(dir);
        }
    }

    /// A SYN without ACK: the client's are each an attempt. Returns true when a SYN was
    /// seen before (a retransmission).
    fn syn(&mut self, dir: Dir, pkt: &Packet<'_>, seg: &TcpSegment<'_>) -> bool {
        let cold = &mut *self.cold;
        if dir == Dir::ClientToServer {
            cold.last_syn_ts = Some(pkt.ts);
            if cold.details.syn_attempts.len() < SYN_ATTEMPTS_KEPT {
                cold.details.syn_attempts.push(SynAttempt {
                    frame: pkt.frame,
                    ts: seconds(pkt.ts),
                });
            }
            if cold.details.syn_frame.is_some() {
                cold.details.syn_retransmissions += 1;
            }
        }
        if cold.details.syn_frame.is_some() {
            return true;
        }
        cold.details.syn_frame = Some(pkt.frame);
        cold.details.syn_ts = Some(seconds(pkt.ts));
        cold.syn_ts = Some(pkt.ts);
        cold.details.client_isn = Some(seg.seq);
        cold.details.client_options = Some(syn_options(seg));
        false
    }

    /// A SYN-ACK. Returns true when one was seen before (a retransmission).
    fn syn_ack(&mut self, pkt: &Packet<'_>, seg: &TcpSegment<'_>) -> bool {
        let cold = &mut *self.cold;
        if cold.details.syn_ack_frame.is_some() {
            return true;
        }
        cold.details.syn_ack_frame = Some(pkt.frame);
        cold.details.syn_ack_ts = Some(seconds(pkt.ts));
        cold.details.server_isn = Some(seg.seq);
        cold.syn_ack_acks = Some(seg.ack);
        cold.details.server_options = Some(syn_options(seg));
        // The SYN-ACK answers the last SYN that reached the server: measure from the
        // last one captured before it, not from the first attempt.
        if let Some(syn) = cold.last_syn_ts {
            cold.details.handshake_rtt = Some(seconds(pkt.ts.saturating_sub(syn)));
        }
        cold.syn_ack_ts = Some(pkt.ts);
        false
    }

    /// A client segment with ACK (not RST) while the handshake's ACK is still looked
    /// for: it is that ACK when it acknowledges the SYN-ACK.
    fn handshake_ack(&mut self, pkt: &Packet<'_>, seg: &TcpSegment<'_>) {
        let cold = &mut *self.cold;
        let details = &mut cold.details;
        let acks_syn_ack = details
            .server_isn
            .is_some_and(|isn| seg.ack == isn.wrapping_add(1));
        if acks_syn_ack && details.ack_frame.is_none() {
            details.ack_frame = Some(pkt.frame);
            self.handshake_acked = true;
            details.ack_ts = Some(seconds(pkt.ts));
            if let Some(syn_ack) = cold.syn_ack_ts {
                details.syn_ack_to_ack = Some(seconds(pkt.ts.saturating_sub(syn_ack)));
            }
            details.capture_point =
                CapturePoint::from_handshake(details.handshake_rtt, details.syn_ack_to_ack);
        }
    }
}
