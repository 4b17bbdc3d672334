//! Segments over the MSS: segmentation offload at the sender's capture, receive
//! offload at the receiver's.

use super::{keep, Cause, CauseKind, Certainty, Conv, SegmentSeen};
use crate::event::{Dir, TcpDetails};

/// Bytes of the timestamps option (10) and the two NOPs that align it.
const TIMESTAMPS_BYTES: u16 = 12;

/// One direction's segments over the receiver's MSS.
#[derive(Debug, Default)]
pub(super) struct OverMss {
    segments: u64,
    largest: u32,
    frames: Vec<u64>,
}

/// The MSS the receiver of `dir` announced.
fn receiver_mss(dir: Dir, d: &TcpDetails) -> Option<u16> {
    let options = match dir {
        Dir::ClientToServer => d.server_options,
        Dir::ServerToClient => d.client_options,
    };
    options.and_then(|o| o.mss)
}

impl OverMss {
    pub fn segment(&mut self, s: &SegmentSeen<'_, '_>, details: &TcpDetails) {
        let len = s.seg.wire_len;
        // Most segments stop here, before the handshake's facts (a cache line most
        // segments never read) are looked at. The cost: a receiver that announced an
        // MSS under 536 bytes (RFC 9293's default; Linux refuses less than 88) gets
        // no finding for segments of 536 bytes or less — a finding missed, never a
        // false one.
        if len <= 536 {
            return;
        }
        let Some(mss) = receiver_mss(s.dir, details) else {
            return;
        };
        if len <= usize::from(mss) {
            return;
        }
        self.segments += 1;
        self.largest = self.largest.max(len.min(u32::MAX as usize) as u32);
        keep(&mut self.frames, s.frame);
    }

    pub fn cause(&self, conv: Conv<'_>, dir: Dir) -> Option<Cause> {
        let details = conv.details;
        if self.segments == 0 {
            return None;
        }
        let mss = receiver_mss(dir, details)?;
        let timestamps = details.client_options.is_some_and(|o| o.timestamps)
            && details.server_options.is_some_and(|o| o.timestamps);
        let on_the_wire = if timestamps {
            mss.saturating_sub(TIMESTAMPS_BYTES)
        } else {
            mss
        };
        let kind = CauseKind::OverMss {
            mss,
            on_the_wire,
            segments: self.segments,
            largest: self.largest,
            capture_point: details.capture_point,
        };
        Some(super::cause(
            conv,
            dir,
            self.frames.clone(),
            Certainty::Proved,
            kind,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{CapturePoint, SynOptions};

    fn details(timestamps: bool) -> TcpDetails {
        let syn = |mss| SynOptions {
            mss: Some(mss),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps,
        };
        TcpDetails {
            client_options: Some(syn(1460)),
            server_options: Some(syn(1400)),
            capture_point: CapturePoint::Client,
            ..TcpDetails::default()
        }
    }

    fn feed(t: &mut OverMss, d: &TcpDetails, frame: u64, len: usize) {
        let c2s = Dir::ClientToServer;
        crate::causes::testing::with_segment(frame, 0, c2s, 1, 1, len, "", |s| t.segment(s, d));
    }

    #[test]
    fn only_segments_over_the_receivers_mss_count() {
        let d = details(true);
        let mut t = OverMss::default();
        // The server announced 1400: 1400 is not over it, 1401 and 5600 are.
        for (frame, len) in [(1, 100), (2, 1400), (3, 1401), (4, 5600), (5, 0)] {
            feed(&mut t, &d, frame, len);
        }
        let conv = Conv {
            id: 7,
            tcp_stream: Some(3),
            details: &d,
        };
        let c = t.cause(conv, Dir::ClientToServer).expect("a cause");
        assert_eq!(c.frames, vec![3, 4]);
        assert_eq!(c.tcp_stream, Some(3));
        assert_eq!(
            c.kind,
            CauseKind::OverMss {
                mss: 1400,
                on_the_wire: 1388,
                segments: 2,
                largest: 5600,
                capture_point: CapturePoint::Client
            }
        );
    }

    #[test]
    fn no_cause_without_a_segment_over_the_mss_or_without_the_mss() {
        let d = details(false);
        let mut t = OverMss::default();
        feed(&mut t, &d, 1, 1400);
        let conv = Conv {
            id: 0,
            tcp_stream: None,
            details: &d,
        };
        assert!(t.cause(conv, Dir::ClientToServer).is_none());
        let unknown = TcpDetails::default();
        let mut t = OverMss::default();
        feed(&mut t, &unknown, 1, 60_000);
        assert!(t.segments == 0);
    }

    #[test]
    fn evidence_frames_are_bounded() {
        let d = details(false);
        let mut t = OverMss::default();
        for frame in 1..=1000 {
            feed(&mut t, &d, frame, 2800);
        }
        assert_eq!(t.frames.len(), crate::causes::FRAMES_KEPT);
        assert_eq!(t.segments, 1000);
    }
}
