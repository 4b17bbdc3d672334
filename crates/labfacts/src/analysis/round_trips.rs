//! Round trips per direction, the classic TCP-lab figures: RTT samples (Wireshark's
//! `tcp.analysis.ack_rtt`, Karn's rule leaving out samples of retransmitted data),
//! RFC 6298's smoothed RTT (EstimatedRTT, α = 1/8) and variation (DevRTT, β = 1/4)
//! and the retransmission timeout they imply, the receiver's smallest window and its
//! ACKs. Fed by the conversation (fixed state per direction); `finish` gives the
//! record's [`RoundTrips`].

use super::tcp_flags::{Flag, SegmentAnalysis};
use crate::event::{seconds, RoundTrips};
use crate::packet::{Micros, TcpSegment};

/// Linux's smallest retransmission timeout, seconds (TCP_RTO_MIN). Linux keeps at
/// least this in place of K·RTTVAR (`tcp_set_rto()`: srtt + max(mdev, rto_min)), so
/// its timeout is about SRTT + max(4·RTTVAR, 200 ms).
pub const LINUX_RTO_MIN: f64 = 0.2;

/// RFC 6298, section 2: the smoothed RTT and its variation, seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rfc6298 {
    pub srtt: f64,
    pub rttvar: f64,
    pub samples: u64,
}

impl Rfc6298 {
    /// α and β of RFC 6298.
    pub const ALPHA: f64 = 1.0 / 8.0;
    pub const BETA: f64 = 1.0 / 4.0;
    /// K of RFC 6298.
    pub const K: f64 = 4.0;

    /// One RTT measurement R: the first sets SRTT = R, RTTVAR = R/2 (2.2); later ones
    /// update RTTVAR with the old SRTT, then SRTT (2.3).
    pub fn sample(&mut self, r: f64) {
        if self.samples == 0 {
            self.srtt = r;
            self.rttvar = r / 2.0;
        } else {
            self.rttvar = (1.0 - Self::BETA) * self.rttvar + Self::BETA * (self.srtt - r).abs();
            self.srtt = (1.0 - Self::ALPHA) * self.srtt + Self::ALPHA * r;
        }
        self.samples += 1;
    }

    /// RTO = SRTT + K·RTTVAR (the clock granularity G taken as negligible).
    pub fn rto(&self) -> f64 {
        self.srtt + Self::K * self.rttvar
    }
}

/// One data direction's running figures.
#[derive(Debug, Clone, Default)]
pub struct DirectionTrips {
    est: Rfc6298,
    skipped: u64,
    min: Micros,
    max: Micros,
    /// The latest retransmission of this direction's data.
    last_retransmission: Option<Micros>,
    /// The receiver's smallest window field (not in a SYN or RST), with its frame.
    min_window: Option<(u16, u64)>,
    /// The receiver's highest ACK, its ACKs that moved it, and the bytes they moved.
    highest_ack: Option<u32>,
    acks: u64,
    bytes_acked: u64,
}

impl DirectionTrips {
    /// A segment of this direction's sender.
    #[inline]
    pub fn sent(&mut self, ts: Micros, analysis: &SegmentAnalysis) {
        if analysis.flags.contains(Flag::Retransmission) {
            self.last_retransmission = Some(ts);
        }
    }

    /// A segment of this direction's receiver at `ts`, from frame `frame`.
    #[inline]
    pub fn received(
        &mut self,
        frame: u64,
        ts: Micros,
        seg: &TcpSegment<'_>,
        analysis: &SegmentAnalysis,
    ) {
        let f = seg.flags;
        if !f.syn && !f.rst && self.min_window.is_none_or(|(w, _)| seg.window < w) {
            self.min_window = Some((seg.window, frame));
        }
        if f.ack && !f.rst {
            match self.highest_ack {
                Some(h) if (seg.ack.wrapping_sub(h) as i32) > 0 => {
                    self.bytes_acked += u64::from(seg.ack.wrapping_sub(h));
                    self.acks += 1;
                    self.highest_ack = Some(seg.ack);
                }
                Some(_) => {}
                None => self.highest_ack = Some(seg.ack),
            }
        }
        if let Some(rtt) = analysis.ack_rtt {
            self.sample(ts, rtt);
        }
    }

    /// An RTT sample: left out (Karn's rule) when this direction retransmitted at or
    /// after the time the acknowledged segment was sent.
    fn sample(&mut self, ts: Micros, rtt: Micros) {
        let sent = ts.saturating_sub(rtt);
        if self.last_retransmission.is_some_and(|r| r >= sent) {
            self.skipped += 1;
            return;
        }
        if self.est.samples == 0 {
            self.min = rtt;
        }
        self.min = self.min.min(rtt);
        self.max = self.max.max(rtt);
        self.est.sample(seconds(rtt));
    }

    /// The record's figures. `shift`: the receiver's window scale (when both SYNs
    /// had the option); `window_full`: the sender's segments Wireshark flagged so;
    /// `payload`: bytes and (first, last) payload times of the direction.
    pub fn finish(
        &self,
        shift: Option<u8>,
        window_full: u32,
        payload: (u64, Option<(Micros, Micros)>),
    ) -> RoundTrips {
        let measured = self.est.samples > 0;
        let (bytes, span) = payload;
        let throughput = span
            .map(|(first, last)| last.saturating_sub(first))
            .filter(|t| *t > 0)
            .map(|t| bytes as f64 / seconds(t));
        RoundTrips {
            rtt_samples: self.est.samples,
            rtt_skipped: self.skipped,
            rtt_min: measured.then(|| seconds(self.min)),
            rtt_max: measured.then(|| seconds(self.max)),
            estimated_rtt: measured.then_some(self.est.srtt),
            dev_rtt: measured.then_some(self.est.rttvar),
            rto: measured.then(|| self.est.rto()),
            rto_linux: measured
                .then(|| self.est.srtt + (Rfc6298::K * self.est.rttvar).max(LINUX_RTO_MIN)),
            throughput,
            min_window: self
                .min_window
                .map(|(w, _)| u32::from(w) << shift.unwrap_or(0).min(14)),
            min_window_frame: self.min_window.map(|(_, f)| f),
            window_full,
            acks: self.acks,
            bytes_acked: self.bytes_acked,
            full_segment: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6298_by_hand() {
        // 100, 120, 80 ms:
        // R1: SRTT 0.1, RTTVAR 0.05;
        // R2: RTTVAR 0.75·0.05 + 0.25·|0.1 − 0.12| = 0.0425, SRTT 0.875·0.1 + 0.125·0.12 = 0.1025;
        // R3: RTTVAR 0.75·0.0425 + 0.25·|0.1025 − 0.08| = 0.0375,
        //     SRTT 0.875·0.1025 + 0.125·0.08 = 0.0996875; RTO 0.0996875 + 4·0.0375 = 0.2496875.
        let mut e = Rfc6298::default();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        e.sample(0.100);
        assert!(close(e.srtt, 0.1) && close(e.rttvar, 0.05));
        assert!(close(e.rto(), 0.3));
        e.sample(0.120);
        assert!(close(e.srtt, 0.1025) && close(e.rttvar, 0.0425));
        e.sample(0.080);
        assert!(close(e.srtt, 0.0996875), "{}", e.srtt);
        assert!(close(e.rttvar, 0.0375), "{}", e.rttvar);
        assert!(close(e.rto(), 0.2496875));
        assert_eq!(e.samples, 3);
    }

    fn analysis(rtt: Option<Micros>, retransmission: bool) -> SegmentAnalysis {
        let mut a = SegmentAnalysis {
            ack_rtt: rtt,
            ..SegmentAnalysis::default()
        };
        if retransmission {
            a.flags.insert(Flag::Retransmission);
        }
        a
    }

    fn ack(ack: u32, window: u16) -> TcpSegment<'static> {
        TcpSegment {
            seq: 1,
            ack,
            flags: crate::packet::TcpFlags {
                ack: true,
                ..Default::default()
            },
            window,
            options: Default::default(),
            payload: &[],
            wire_len: 0,
        }
    }

    #[test]
    fn karn_skips_samples_of_data_sent_before_a_retransmission() {
        let mut d = DirectionTrips::default();
        d.received(2, 1_000, &ack(1, 500), &analysis(None, false));
        // Data sent at 10 ms, acked at 30 ms: a sample of 20 ms.
        d.received(4, 30_000, &ack(1449, 400), &analysis(Some(20_000), false));
        // A retransmission at 300 ms; the ACK at 320 ms of a segment sent at 100 ms
        // (or of its copy) is ambiguous: left out.
        d.sent(300_000, &analysis(None, true));
        d.received(6, 320_000, &ack(2897, 450), &analysis(Some(220_000), false));
        // Data sent after the retransmission: measured again.
        d.received(8, 400_000, &ack(5793, 450), &analysis(Some(30_000), false));
        let r = d.finish(Some(7), 3, (5792, Some((10_000, 380_000))));
        assert_eq!(r.rtt_samples, 2);
        assert_eq!(r.rtt_skipped, 1);
        assert_eq!(r.rtt_min, Some(0.02));
        assert_eq!(r.rtt_max, Some(0.03));
        assert_eq!(r.min_window, Some(400 << 7));
        assert_eq!(r.min_window_frame, Some(4));
        assert_eq!(r.acks, 3);
        assert_eq!(r.bytes_acked, 5792);
        assert_eq!(r.window_full, 3);
        // SRTT 21.25 ms (20, then 30 ms), 4·RTTVAR under 200 ms: 221.25 ms.
        assert!(r.rto_linux.is_some_and(|t| (t - 0.22125).abs() < 1e-9));
        assert!(r
            .throughput
            .is_some_and(|t| (t - 5792.0 / 0.37).abs() < 1e-6));
    }
}
