//! Bytes acknowledged but not captured (yet). An ACK often reaches the capture just
//! before the data it acknowledges (capture order across CPUs, loopback), so the bytes
//! are given up (a gap) only after [`ACK_GAP_FRAMES`] more frames of the conversation or
//! [`ACK_GAP_MICROS`] of capture time without them, or when the conversation ends.

use super::{dir_from, Conversation};
use crate::event::Dir;
use crate::packet::Packet;
use crate::queue::Out;
use crate::reassembly::Reassembler;

/// Frames of a conversation after an ACK of unseen bytes before they are declared
/// missing. Swaps in capture order span a few frames; 64 leaves a wide margin while
/// holding back at most 64 segments' worth of later messages.
pub const ACK_GAP_FRAMES: u32 = 64;
/// Capture time after an ACK of unseen bytes before they are declared missing: the
/// swaps it covers take microseconds.
pub const ACK_GAP_MICROS: u64 = 1_000_000;

/// An ACK covered bytes of the other direction that the capture has not shown (yet).
#[derive(Debug, Clone, Copy)]
pub(super) struct AckWait {
    /// The first ACK that covered the unseen bytes.
    frame: u64,
    ts: u64,
    /// Frames of this conversation after that ACK, this one included.
    frames_since: u32,
}

impl Conversation {
    /// Give up acknowledged bytes that did not show up within the window, and forget
    /// waits whose bytes arrived.
    pub(super) fn expire_ack_waits(&mut self, pkt: &Packet<'_>, out: &mut Out<'_>) {
        for i in 0..2 {
            let Some(mut wait) = self.ack_wait[i] else {
                continue;
            };
            let unseen = self.reassemblers[i]
                .as_ref()
                .map_or(0, Reassembler::acked_unseen);
            if unseen == 0 {
                self.ack_wait[i] = None;
                continue;
            }
            wait.frames_since += 1;
            if wait.frames_since > ACK_GAP_FRAMES
                || pkt.ts.saturating_sub(wait.ts) >= ACK_GAP_MICROS
            {
                self.ack_wait[i] = None;
                self.declare_acked(i, wait.frame, out);
            } else {
                self.ack_wait[i] = Some(wait);
            }
        }
    }

    /// An ACK from `dir` acknowledged the peer's bytes up to `acked`: if the capture
    /// has not shown them all, the wait for them starts (unless it runs already).
    pub(super) fn await_acked(&mut self, dir: Dir, pkt: &Packet<'_>, acked: u32) {
        let peer = 1 - dir.index();
        let unseen = self.reassemblers[peer]
            .as_mut()
            .is_some_and(|r| r.acked(acked));
        if unseen && self.ack_wait[peer].is_none() {
            self.ack_wait[peer] = Some(AckWait {
                frame: pkt.frame,
                ts: pkt.ts,
                frames_since: 0,
            });
        }
    }

    /// The conversation ends: bytes of side `i` still awaited are given up.
    pub(super) fn end_ack_wait(&mut self, i: usize, out: &mut Out<'_>) {
        if let Some(wait) = self.ack_wait[i].take() {
            self.declare_acked(i, wait.frame, out);
        }
    }

    /// The bytes of side `i` acknowledged and not captured are a gap, reported at
    /// `frame` (the ACK's).
    fn declare_acked(&mut self, i: usize, frame: u64, out: &mut Out<'_>) {
        let (reassemblers, mut router) = self.router(dir_from(i), frame, out);
        if let Some(r) = reassemblers[i].as_mut() {
            r.declare_acked(&mut |p| router.take(p));
        }
    }
}
