//! Each side's sequence space and bytes: Zeek's endpoint state, one past the highest
//! sequence number each side used and the last window it advertised (what the RST
//! rule checks against), and a segment's payload into its direction's reassembler,
//! whose in-order pieces the router hands to the dissector.

use super::Conversation;
use crate::analysis::conn_state::SegmentFlags;
use crate::event::Dir;
use crate::packet::{Packet, TcpSegment};
use crate::queue::Out;
use crate::reassembly::{Reassembler, SegmentKind};

impl Conversation {
    /// Zeek's endpoint state, and unless the segment is a RST, how far its sender's
    /// sequence numbers went and the window it advertised.
    pub(super) fn endpoint_state(&mut self, dir: Dir, seg: &TcpSegment<'_>) {
        let i = dir.index();
        let flags = seg.flags;
        self.state.segment(
            i,
            SegmentFlags {
                syn: flags.syn,
                ack: flags.ack,
                fin: flags.fin,
                rst: flags.rst,
            },
            seg.wire_len,
        );
        if !flags.rst {
            let end = seg
                .seq
                .wrapping_add(seg.wire_len as u32)
                .wrapping_add(u32::from(flags.syn) + u32::from(flags.fin));
            let newer = self.snd_max[i].is_none_or(|m| (end.wrapping_sub(m) as i32) > 0);
            if newer {
                self.snd_max[i] = Some(end);
            }
            self.window[i] = Some(seg.window);
        }
    }

    /// The segment's payload into its direction's reassembler (made at the direction's
    /// first segment that is not a RST); what comes out in order goes to the dissector,
    /// and a retransmission or an out-of-order segment is counted. Returns the sequence
    /// number of the segment's first data byte (after its SYN).
    pub(super) fn stream_data(
        &mut self,
        dir: Dir,
        pkt: &Packet<'_>,
        seg: &TcpSegment<'_>,
        out: &mut Out<'_>,
    ) -> u32 {
        let i = dir.index();
        let data_seq = if seg.flags.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        if self.reassemblers[i].is_none() && !seg.flags.rst {
            self.reassemblers[i] = Some(Reassembler::new(data_seq, self.max_ooo_bytes));
        }
        let mut kind = SegmentKind::Empty;
        if !seg.payload.is_empty() || seg.wire_len > 0 {
            self.segment_payload_seen(dir, pkt, seg);
            let (reassemblers, mut router) = self.router(dir, pkt.frame, out);
            if let Some(r) = reassemblers[i].as_mut() {
                let inserted = r.insert(
                    data_seq,
                    seg.payload,
                    seg.wire_len,
                    (pkt.frame, pkt.ts),
                    &mut |p| router.take(p),
                );
                kind = inserted.kind;
            }
        }
        self.count_segment_kind(dir, kind);
        data_seq
    }
}
