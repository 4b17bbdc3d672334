//! Segments captured after a conversation's reset: data (or a FIN) either side sent
//! after the first accepted RST. The conversation keeps them (they are reassembled and
//! decoded); this says they came after the reset.

use super::{keep, Cause, CauseKind, Certainty, Conv, SegmentSeen};
use crate::event::Dir;

/// The first RST, and per direction the segments with data or a FIN after it.
#[derive(Debug, Default)]
pub(super) struct AfterReset {
    rst: Option<(u64, Dir)>,
    segments: [u64; 2],
    bytes: [u64; 2],
    frames: [Vec<u64>; 2],
}

impl AfterReset {
    pub fn segment(&mut self, s: &SegmentSeen<'_, '_>) {
        let seg = s.seg;
        let Some(_) = self.rst else {
            if seg.flags.rst {
                self.rst = Some((s.frame, s.dir));
            }
            return;
        };
        if seg.flags.rst || (seg.wire_len == 0 && !seg.flags.fin) {
            return;
        }
        let i = s.dir.index();
        self.segments[i] += 1;
        self.bytes[i] += seg.wire_len as u64;
        keep(&mut self.frames[i], s.frame);
    }

    pub fn causes(&self, conv: Conv<'_>, out: &mut Vec<Cause>) {
        let Some((rst_frame, reset_by)) = self.rst else {
            return;
        };
        for dir in Dir::BOTH {
            let i = dir.index();
            if self.segments[i] == 0 {
                continue;
            }
            let kind = CauseKind::AfterReset {
                rst_frame,
                reset_by: reset_by.side(),
                segments: self.segments[i],
                bytes: self.bytes[i],
            };
            out.push(super::cause(
                conv,
                dir,
                self.frames[i].clone(),
                Certainty::Proved,
                kind,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Side, TcpDetails};

    fn feed(t: &mut AfterReset, frame: u64, dir: Dir, len: usize, rst: bool) {
        let flags = if rst { "RA" } else { "A" };
        crate::causes::testing::with_segment(frame, 0, dir, 1, 1, len, flags, |s| t.segment(s));
    }

    #[test]
    fn data_after_the_first_reset_is_counted_per_direction() {
        let mut t = AfterReset::default();
        let (c2s, s2c) = (Dir::ClientToServer, Dir::ServerToClient);
        feed(&mut t, 1, s2c, 1448, false); // before the reset: not counted
        feed(&mut t, 2, c2s, 0, true); // the client's reset
        feed(&mut t, 3, s2c, 1448, false);
        feed(&mut t, 4, c2s, 0, true); // the client answers with another reset
        feed(&mut t, 5, s2c, 1000, false);
        feed(&mut t, 6, s2c, 0, false); // a pure ACK: not counted
        let d = TcpDetails::default();
        let conv = Conv {
            id: 3,
            tcp_stream: Some(3),
            details: &d,
        };
        let mut out = Vec::new();
        t.causes(conv, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].dir, Some(s2c));
        assert_eq!(out[0].frames, vec![3, 5]);
        assert_eq!(
            out[0].kind,
            CauseKind::AfterReset {
                rst_frame: 2,
                reset_by: Side::Client,
                segments: 2,
                bytes: 2448
            }
        );
    }

    #[test]
    fn nothing_after_the_reset_is_no_cause() {
        let mut t = AfterReset::default();
        feed(&mut t, 1, Dir::ClientToServer, 10, false);
        feed(&mut t, 2, Dir::ServerToClient, 0, true);
        let d = TcpDetails::default();
        let conv = Conv {
            id: 0,
            tcp_stream: None,
            details: &d,
        };
        let mut out = Vec::new();
        t.causes(conv, &mut out);
        assert!(out.is_empty());
    }
}
