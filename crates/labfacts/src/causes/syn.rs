//! The handshake at the server: SYNs sent again before one was answered, and a first
//! data segment resent with nothing from the server (the handshake's ACK dropped by a
//! full accept queue).

use super::{keep, Cause, CauseKind, Certainty, Conv, SegmentSeen};
use crate::event::Dir;

/// Copies of the first data segment before it counts as held by the server: the
/// original and two retransmissions, none acknowledged.
const COPIES_MIN: u64 = 3;

#[derive(Debug, Default)]
pub(super) struct Handshake {
    syns: u64,
    syn_frames: Vec<u64>,
    first_syn_ts: u64,
    /// The first SYN-ACK (frame, time).
    syn_ack: Option<(u64, u64)>,
    /// The client's first segment after the SYN-ACK.
    handshake_ack: Option<u64>,
    /// The client's first data: its sequence number, copies, frames, first/last time.
    data_seq: Option<u32>,
    copies: u64,
    data_frames: Vec<u64>,
    data_ts: (u64, u64),
    /// The server's first segment acknowledging the first data (frame, time).
    acked_by: Option<(u64, u64)>,
}

impl Handshake {
    pub fn segment(&mut self, s: &SegmentSeen<'_, '_>) {
        let seg = s.seg;
        match s.dir {
            Dir::ClientToServer if seg.flags.syn && !seg.flags.ack => {
                if self.syn_ack.is_none() {
                    if self.syns == 0 {
                        self.first_syn_ts = s.ts;
                    }
                    self.syns += 1;
                    keep(&mut self.syn_frames, s.frame);
                }
            }
            Dir::ClientToServer => self.client(s),
            Dir::ServerToClient if seg.flags.syn && seg.flags.ack => {
                if self.syn_ack.is_none() {
                    self.syn_ack = Some((s.frame, s.ts));
                }
            }
            Dir::ServerToClient => {
                if let (Some(seq), None) = (self.data_seq, self.acked_by) {
                    if seg.flags.ack && (seg.ack.wrapping_sub(seq) as i32) > 0 {
                        self.acked_by = Some((s.frame, s.ts));
                    }
                }
            }
        }
    }

    /// A client segment after its SYNs.
    fn client(&mut self, s: &SegmentSeen<'_, '_>) {
        if self.syn_ack.is_none() || self.acked_by.is_some() {
            return;
        }
        if self.handshake_ack.is_none() {
            self.handshake_ack = Some(s.frame);
        }
        if s.seg.wire_len == 0 {
            return;
        }
        match self.data_seq {
            None => {
                self.data_seq = Some(s.seg.seq);
                self.data_ts = (s.ts, s.ts);
            }
            Some(seq) if seq != s.seg.seq => return,
            Some(_) => self.data_ts.1 = s.ts,
        }
        self.copies += 1;
        keep(&mut self.data_frames, s.frame);
    }

    pub fn causes(&self, conv: Conv<'_>, out: &mut Vec<Cause>) {
        let point = conv.details.capture_point;
        if self.syns >= 2 {
            let mut frames = self.syn_frames.clone();
            if let Some((f, _)) = self.syn_ack {
                keep(&mut frames, f);
            }
            let kind = CauseKind::SynResent {
                syns: self.syns,
                syn_ack: self.syn_ack.map(|(f, _)| f),
                waited: self.syn_ack.map(|(_, t)| secs(t, self.first_syn_ts)),
                capture_point: point,
            };
            let c = super::cause(conv, Dir::ClientToServer, frames, Certainty::Probable, kind);
            out.push(c);
        }
        let (Some((syn_ack, _)), Some(handshake_ack)) = (self.syn_ack, self.handshake_ack) else {
            return;
        };
        if self.copies < COPIES_MIN {
            return;
        }
        let mut frames = vec![syn_ack, handshake_ack];
        for &f in &self.data_frames {
            if f != handshake_ack {
                keep(&mut frames, f);
            }
        }
        let end = self.acked_by.map_or(self.data_ts.1, |(_, t)| t);
        if let Some((f, _)) = self.acked_by {
            keep(&mut frames, f);
        }
        let kind = CauseKind::FirstDataUnacked {
            syn_ack,
            handshake_ack,
            copies: self.copies,
            acked_by: self.acked_by.map(|(f, _)| f),
            waited: secs(end, self.data_ts.0),
            capture_point: point,
        };
        let c = super::cause(conv, Dir::ClientToServer, frames, Certainty::Probable, kind);
        out.push(c);
    }
}

fn secs(to: u64, from: u64) -> f64 {
    to.saturating_sub(from) as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{CapturePoint, TcpDetails};

    #[allow(clippy::too_many_arguments)]
    fn feed(
        t: &mut Handshake,
        frame: u64,
        ms: u64,
        dir: Dir,
        seq: u32,
        ack: u32,
        len: usize,
        f: &str,
    ) {
        crate::causes::testing::with_segment(frame, ms * 1000, dir, seq, ack, len, f, |s| {
            t.segment(s)
        });
    }

    fn causes(t: &Handshake) -> Vec<Cause> {
        let d = TcpDetails {
            capture_point: CapturePoint::Server,
            ..TcpDetails::default()
        };
        let conv = Conv {
            id: 0,
            tcp_stream: Some(3),
            details: &d,
        };
        let mut out = Vec::new();
        t.causes(conv, &mut out);
        out
    }

    use Dir::{ClientToServer as C2S, ServerToClient as S2C};

    #[test]
    fn syns_resent_then_answered() {
        let mut t = Handshake::default();
        feed(&mut t, 11, 0, C2S, 7, 0, 0, "S");
        feed(&mut t, 12, 1000, C2S, 7, 0, 0, "S");
        feed(&mut t, 24, 2040, S2C, 0, 8, 0, "SA");
        let c = causes(&t);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].frames, vec![11, 12, 24]);
        assert_eq!(
            c[0].kind,
            CauseKind::SynResent {
                syns: 2,
                syn_ack: Some(24),
                waited: Some(2.04),
                capture_point: CapturePoint::Server
            }
        );
    }

    #[test]
    fn first_data_resent_until_the_server_acks_it() {
        // The full_backlog fixture's third client, at the server.
        let mut t = Handshake::default();
        feed(&mut t, 5, 0, C2S, 0, 0, 0, "S");
        feed(&mut t, 6, 0, S2C, 0, 1, 0, "SA");
        feed(&mut t, 11, 20, C2S, 1, 1, 0, "A");
        for (frame, ms) in [(14, 20), (15, 250), (16, 480), (17, 960), (28, 1890)] {
            feed(&mut t, frame, ms, C2S, 1, 1, 19, "A");
        }
        feed(&mut t, 29, 1890, S2C, 1, 20, 0, "A");
        let c = causes(&t);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].frames, vec![6, 11, 14, 15, 16, 17, 28, 29]);
        match &c[0].kind {
            CauseKind::FirstDataUnacked {
                copies,
                acked_by,
                waited,
                ..
            } => {
                assert_eq!((*copies, *acked_by), (5, Some(29)));
                assert!((waited - 1.87).abs() < 1e-9);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_retransmission_or_one_syn_is_no_cause() {
        let mut t = Handshake::default();
        feed(&mut t, 1, 0, C2S, 0, 0, 0, "S");
        feed(&mut t, 2, 20, S2C, 0, 1, 0, "SA");
        feed(&mut t, 3, 40, C2S, 1, 1, 0, "A");
        feed(&mut t, 4, 40, C2S, 1, 1, 10, "A");
        feed(&mut t, 5, 250, C2S, 1, 1, 10, "A");
        feed(&mut t, 6, 270, S2C, 1, 11, 0, "A");
        assert!(causes(&t).is_empty());
    }
}
