//! The teardown's facts: each side's FIN (where it is in the sequence space, its frame
//! and time, who sent the first), the ACKs of the FINs that end the conversation, and
//! the RST that ends it at once.

use super::Conversation;
use crate::event::{seconds, Dir};
use crate::packet::{Packet, TcpSegment};

impl Conversation {
    /// A FIN from `dir` (its first data byte at `data_seq`): its sequence number, and
    /// the first FIN's frame and time.
    pub(super) fn fin(&mut self, dir: Dir, pkt: &Packet<'_>, seg: &TcpSegment<'_>, data_seq: u32) {
        let fin = data_seq.wrapping_add(seg.wire_len as u32);
        self.fin_seq[dir.index()].get_or_insert(fin);
        let details = &mut self.cold.details;
        let (frame, ts) = match dir {
            Dir::ClientToServer => (&mut details.fin_c2s_frame, &mut details.fin_c2s_ts),
            Dir::ServerToClient => (&mut details.fin_s2c_frame, &mut details.fin_s2c_ts),
        };
        if frame.is_none() {
            *frame = Some(pkt.frame);
            *ts = Some(seconds(pkt.ts));
        }
        details.first_fin_by.get_or_insert(dir.side());
    }

    /// An ACK (number `ack`, not a RST) from `dir`: when it acknowledges the peer's FIN,
    /// the peer's direction is done. Returns how far it acknowledges the peer's bytes
    /// (the FIN's own sequence number is no byte).
    pub(super) fn ack_of_fin(&mut self, dir: Dir, ack: u32) -> u32 {
        let peer = 1 - dir.index();
        if let Some(fin) = self.fin_seq[peer] {
            if ack == fin.wrapping_add(1) {
                self.fin_acked[peer] = true;
                return fin;
            }
        }
        ack
    }

    /// Both FINs were acknowledged: the conversation is over.
    pub(super) fn both_fins_acked(&self) -> bool {
        self.fin_acked[0] && self.fin_acked[1]
    }

    /// A RST from `dir` that the receiver accepts: the first one's frame, time and
    /// sender.
    pub(super) fn rst(&mut self, dir: Dir, pkt: &Packet<'_>) {
        let details = &mut self.cold.details;
        if details.rst_frame.is_none() {
            details.rst_frame = Some(pkt.frame);
            details.rst_ts = Some(seconds(pkt.ts));
            details.rst_by = Some(dir.side());
        }
    }
}
