//! Nagle's algorithm against a delayed ACK: a small segment held by the sender's
//! kernel until the previous small segment was acknowledged. The capture cannot see
//! the program's send() calls; the timing shows the hold: the next small segment
//! leaves right after a pure ACK (no data that a program could have answered) that
//! acknowledged everything sent.

use super::{keep, Cause, CauseKind, Certainty, Conv, SegmentSeen};
use crate::analysis::Flag;
use crate::event::{seconds, Dir, TcpDetails};
use crate::packet::Micros;

/// At the sender: the held segment leaves at most this long after the ACK.
const RELEASE_AT_SENDER: Micros = 2_000;
/// At the receiver: the held segment arrives one round trip after the ACK left,
/// within a quarter of the round trip or this, whichever is more.
const RELEASE_AT_RECEIVER_SLACK: Micros = 2_000;
/// Bytes of the timestamps option with its two NOPs.
const TIMESTAMPS_BYTES: u16 = 12;

/// A data segment of this direction: frame, time, where it ends, its length, and
/// whether everything before it had been acknowledged when it left.
#[derive(Debug, Clone, Copy)]
struct Sent {
    frame: u64,
    ts: Micros,
    end: u32,
    len: u32,
    alone: bool,
}

/// The longest hold seen (the first of equals): the small segment, the ACK, the held segment, and the times.
#[derive(Debug, Clone, Copy)]
struct Hold {
    small: u64,
    ack: u64,
    held: u64,
    hold: Micros,
    ack_wait: Micros,
}

/// One direction's small segments held for an ACK.
#[derive(Debug, Default)]
pub(super) struct Nagle {
    /// The last data segment sent (none after a retransmission).
    last: Option<Sent>,
    /// A pure ACK of the other side that acknowledged all of `last`: frame, time.
    acked: Option<(u64, Micros)>,
    /// The other side's last acknowledgement number.
    peer_ack: Option<u32>,
    /// One past the highest sequence number this direction sent.
    next: Option<u32>,
    /// The holds found (boxed: most conversations have none).
    found: Option<Box<Holds>>,
}

/// The holds of one direction.
#[derive(Debug, Default)]
struct Holds {
    holds: u64,
    /// The longest hold, the example the cause gives.
    first: Option<Hold>,
    longest: Micros,
    /// The longest the receiver took to send such an ACK, where measurable.
    ack_delay: Option<Micros>,
    frames: Vec<u64>,
    /// Distinct evidence frames, and the last one counted.
    evidence: u64,
    last_evidence: u64,
}

/// The payload bytes per full segment the receiver of `dir` takes.
fn full_segment(dir: Dir, d: &TcpDetails) -> Option<u32> {
    let receiver = match dir {
        Dir::ClientToServer => d.server_options,
        Dir::ServerToClient => d.client_options,
    };
    let mss = receiver.and_then(|o| o.mss)?;
    let timestamps = d.client_options.is_some_and(|o| o.timestamps)
        && d.server_options.is_some_and(|o| o.timestamps);
    let on_the_wire = if timestamps {
        mss.saturating_sub(TIMESTAMPS_BYTES)
    } else {
        mss
    };
    Some(u32::from(on_the_wire))
}

impl Nagle {
    /// A segment of the other side: a pure ACK of everything sent may release a held
    /// segment; data from it (which a program could answer) may not.
    #[inline]
    pub fn peer(&mut self, s: &SegmentSeen<'_, '_>) {
        let f = s.seg.flags;
        if f.ack {
            self.peer_ack = Some(s.seg.ack);
        }
        let Some(last) = self.last else {
            return;
        };
        if s.seg.wire_len != 0 || f.syn || f.fin || f.rst {
            self.acked = None;
        } else if f.ack && s.seg.ack == last.end && s.ts >= last.ts {
            self.acked = Some((s.frame, s.ts));
        }
    }

    /// A segment of this direction: data released right after such an ACK is a hold.
    #[inline]
    pub fn sent(&mut self, s: &SegmentSeen<'_, '_>, details: &TcpDetails) {
        let len = u32::try_from(s.seg.wire_len).unwrap_or(u32::MAX);
        if len == 0 {
            return;
        }
        if let (Some(last), Some(ack)) = (self.last, self.acked) {
            if s.seg.seq == last.end {
                self.check(s, len, last, ack, details);
            }
        }
        self.acked = None;
        let end = s.seg.seq.wrapping_add(len);
        // New data only: a segment sent again (flagged or not: out of order at the
        // sender is a resend too) says nothing about Nagle.
        let fresh = self.next.is_none_or(|n| n == s.seg.seq)
            && !s.analysis.flags.contains(Flag::Retransmission);
        if self.next.is_none_or(|n| (end.wrapping_sub(n) as i32) > 0) {
            self.next = Some(end);
        }
        self.last = fresh.then(|| Sent {
            frame: s.frame,
            ts: s.ts,
            end,
            len,
            alone: self.peer_ack == Some(s.seg.seq),
        });
    }

    /// The segment after `last`, sent after `ack`: a hold when both are small, `last`
    /// was alone in flight (with more outstanding, a congestion window can hold data
    /// back too) and the timing fits the capture point.
    #[inline(never)]
    fn check(
        &mut self,
        s: &SegmentSeen<'_, '_>,
        len: u32,
        last: Sent,
        ack: (u64, Micros),
        details: &TcpDetails,
    ) {
        let Some(full) = full_segment(s.dir, details) else {
            return;
        };
        if !last.alone || last.len >= full || len >= full {
            return;
        }
        let released = s.ts.saturating_sub(ack.1);
        let ack_wait = ack.1.saturating_sub(last.ts);
        let irtt = details.irtt.map(|r| (r * 1e6) as Micros);
        let point = details.capture_point;
        let ack_delay = if point.at_sender_of(s.dir) {
            if released > RELEASE_AT_SENDER {
                return;
            }
            irtt.map(|r| ack_wait.saturating_sub(r))
        } else if point.at_sender_of(s.dir.reverse()) {
            let Some(rtt) = irtt else { return };
            let slack = (rtt / 4).max(RELEASE_AT_RECEIVER_SLACK);
            if released.abs_diff(rtt) > slack {
                return;
            }
            Some(ack_wait)
        } else {
            return;
        };
        let hold = s.ts.saturating_sub(last.ts);
        let f = self.found.get_or_insert_with(Box::default);
        f.holds += 1;
        if let Some(delay) = ack_delay {
            f.ack_delay = Some(f.ack_delay.map_or(delay, |d| d.max(delay)));
        }
        if f.first.is_none() || hold > f.longest {
            f.longest = hold;
            f.first = Some(Hold {
                small: last.frame,
                ack: ack.0,
                held: s.frame,
                hold,
                ack_wait,
            });
        }
        for frame in [last.frame, ack.0, s.frame] {
            if frame != f.last_evidence {
                f.last_evidence = frame;
                f.evidence += 1;
                keep(&mut f.frames, frame);
            }
        }
    }

    /// The cause, when a hold was seen.
    pub fn cause(&self, conv: Conv<'_>, dir: Dir) -> Option<Cause> {
        let f = self.found.as_deref()?;
        let first = f.first?;
        let kind = CauseKind::NagleDelayedAck {
            holds: f.holds,
            small_frame: first.small,
            ack_frame: first.ack,
            held_frame: first.held,
            hold: seconds(first.hold),
            ack_wait: seconds(first.ack_wait),
            ack_delay: f.ack_delay.map(seconds),
            capture_point: conv.details.capture_point,
            evidence_frames: f.evidence,
        };
        Some(super::cause(
            conv,
            dir,
            f.frames.clone(),
            Certainty::Probable,
            kind,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::SegmentAnalysis;
    use crate::event::{CapturePoint, SynOptions};
    use crate::packet::{TcpFlags, TcpOptions, TcpSegment};

    fn details(point: CapturePoint) -> TcpDetails {
        let syn = SynOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: true,
        };
        TcpDetails {
            client_options: Some(syn),
            server_options: Some(syn),
            capture_point: point,
            irtt: Some(0.020),
            ..TcpDetails::default()
        }
    }

    /// Feed one segment at `us` microseconds: from the client (data `len` at `seq`)
    /// or from the server (`len` bytes, acknowledging `ack`).
    fn feed(
        t: &mut Nagle,
        d: &TcpDetails,
        frame: u64,
        us: u64,
        client: bool,
        header: (u32, u32, usize),
    ) {
        let (seq, ack, len) = header;
        let payload = vec![b'x'; len];
        let seg = TcpSegment {
            seq,
            ack,
            flags: TcpFlags {
                ack: true,
                ..TcpFlags::default()
            },
            window: 500,
            options: TcpOptions::default(),
            payload: &payload,
            wire_len: len,
        };
        let analysis = SegmentAnalysis::default();
        let seen = SegmentSeen {
            frame,
            ts: 1_000_000 + us,
            dir: if client {
                Dir::ClientToServer
            } else {
                Dir::ServerToClient
            },
            seg: &seg,
            analysis: &analysis,
        };
        if client {
            t.sent(&seen, d);
        } else {
            t.peer(&seen);
        }
    }

    fn conv(d: &TcpDetails) -> Conv<'_> {
        Conv {
            id: 1,
            tcp_stream: Some(0),
            details: d,
        }
    }

    #[test]
    fn at_the_sender_the_held_piece_leaves_right_after_the_pure_ack() {
        let d = details(CapturePoint::Client);
        let mut t = Nagle::default();
        feed(&mut t, &d, 9, 0, false, (1, 1, 0));
        feed(&mut t, &d, 10, 0, true, (1, 1, 10));
        feed(&mut t, &d, 11, 63_000, false, (1, 11, 0));
        feed(&mut t, &d, 12, 63_030, true, (11, 1, 20));
        // The echo (data) comes before the next request: no hold there.
        feed(&mut t, &d, 13, 84_000, false, (1, 31, 30));
        feed(&mut t, &d, 14, 84_100, true, (31, 31, 10));
        let c = t.cause(conv(&d), Dir::ClientToServer).expect("a cause");
        assert_eq!(c.frames, vec![10, 11, 12]);
        assert_eq!(c.certainty, Certainty::Probable);
        assert_eq!(
            c.kind,
            CauseKind::NagleDelayedAck {
                holds: 1,
                small_frame: 10,
                ack_frame: 11,
                held_frame: 12,
                hold: 0.06303,
                ack_wait: 0.063,
                ack_delay: Some(0.043),
                capture_point: CapturePoint::Client,
                evidence_frames: 3,
            }
        );
    }

    #[test]
    fn at_the_receiver_the_held_piece_arrives_a_round_trip_after_the_ack() {
        let d = details(CapturePoint::Server);
        let mut t = Nagle::default();
        feed(&mut t, &d, 9, 0, false, (1, 1, 0));
        feed(&mut t, &d, 10, 0, true, (1, 1, 10));
        feed(&mut t, &d, 11, 43_000, false, (1, 11, 0));
        feed(&mut t, &d, 12, 63_500, true, (11, 1, 20));
        let c = t.cause(conv(&d), Dir::ClientToServer).expect("a cause");
        assert!(matches!(
            c.kind,
            CauseKind::NagleDelayedAck {
                holds: 1,
                ack_delay: Some(d),
                ..
            } if (d - 0.043).abs() < 1e-9
        ));
    }

    #[test]
    fn no_hold_when_late_or_full_sized_or_after_data_or_without_a_capture_point() {
        // Sent 5 ms after the ACK: the program, not the kernel, chose the time.
        let d = details(CapturePoint::Client);
        let mut t = Nagle::default();
        feed(&mut t, &d, 0, 0, false, (1, 1, 0));
        feed(&mut t, &d, 1, 0, true, (1, 1, 10));
        feed(&mut t, &d, 2, 40_000, false, (1, 11, 0));
        feed(&mut t, &d, 3, 45_000, true, (11, 1, 10));
        // A full segment (alone in flight) before the ACK: Nagle does not hold after it.
        feed(&mut t, &d, 30, 46_000, false, (1, 21, 0));
        feed(&mut t, &d, 4, 50_000, true, (21, 1, 1448));
        feed(&mut t, &d, 5, 90_000, false, (1, 1469, 0));
        feed(&mut t, &d, 6, 90_010, true, (1469, 1, 10));
        // Data from the server after its ACK: the program may have answered it.
        feed(&mut t, &d, 7, 130_000, false, (1, 1479, 0));
        feed(&mut t, &d, 8, 130_005, false, (1, 1479, 5));
        feed(&mut t, &d, 9, 130_010, true, (1479, 6, 10));
        assert!(t.cause(conv(&d), Dir::ClientToServer).is_none());
        // With bytes still unacknowledged before the small segment: not Nagle's alone.
        let mut t = Nagle::default();
        feed(&mut t, &d, 1, 0, false, (1, 1, 0));
        feed(&mut t, &d, 2, 10, true, (1, 1, 1448));
        feed(&mut t, &d, 3, 20, true, (1449, 1, 10));
        feed(&mut t, &d, 4, 40_000, false, (1, 1459, 0));
        feed(&mut t, &d, 5, 40_010, true, (1459, 1, 10));
        assert!(t.cause(conv(&d), Dir::ClientToServer).is_none());
        let unknown = details(CapturePoint::Unknown);
        let mut t = Nagle::default();
        feed(&mut t, &unknown, 0, 0, false, (1, 1, 0));
        feed(&mut t, &unknown, 1, 0, true, (1, 1, 10));
        feed(&mut t, &unknown, 2, 40_000, false, (1, 11, 0));
        feed(&mut t, &unknown, 3, 40_010, true, (11, 1, 10));
        assert!(t.cause(conv(&unknown), Dir::ClientToServer).is_none());
    }

    #[test]
    fn no_hold_for_data_sent_again() {
        // The client had sent up to 3000; a resend of 1436 bytes at 1001 (alone in
        // flight after the ACK of 1001), its ACK, and a resend of 12 bytes right after:
        // recovery, not Nagle.
        let d = details(CapturePoint::Client);
        let mut t = Nagle::default();
        feed(&mut t, &d, 1, 0, true, (1, 1, 1000));
        feed(&mut t, &d, 2, 10, true, (1001, 1, 1999));
        feed(&mut t, &d, 3, 20_000, false, (1, 1001, 0));
        feed(&mut t, &d, 4, 20_010, true, (1001, 1, 1436));
        feed(&mut t, &d, 5, 40_000, false, (1, 2437, 0));
        feed(&mut t, &d, 6, 40_010, true, (2437, 1, 12));
        assert!(t.cause(conv(&d), Dir::ClientToServer).is_none());
    }
}
