//! Flow control: a receiver's zero window stalling the sender, the sender's persist
//! probes while it lasts, and the window update that ends it.

use super::{keep, Cause, CauseKind, Certainty, Conv, SegmentSeen};
use crate::analysis::Flag;
use crate::event::{seconds, Dir};
use crate::packet::Micros;

/// One direction's data against the other side's window: the stalls of the data
/// sender (this direction) on the receiver's zero window. What every segment reads is
/// here; what only a zero window needs is boxed, made at the first one.
#[derive(Debug, Default)]
pub(super) struct ZeroWindow {
    /// The stall under way: the frame and time of the zero window that began it.
    stall: Option<(u64, Micros)>,
    window_full: u64,
    found: Option<Box<Stalls>>,
}

/// The stalls seen, once the window was 0.
#[derive(Debug, Default)]
struct Stalls {
    stalls: u32,
    zero_windows: u64,
    probes: u64,
    /// The first stall's zero window, and the frame and length once it ended.
    zero_frame: u64,
    first_end: Option<(u64, Micros)>,
    /// The frame that ended the first stall is Wireshark's `window_update`.
    update_flagged: bool,
    ended: u32,
    stalled: Micros,
    frames: Vec<u64>,
}

impl ZeroWindow {
    /// A segment of the receiver (the other direction): a zero window begins or
    /// continues a stall; an open window (not a RST) ends it.
    #[inline]
    pub fn advertised(&mut self, s: &SegmentSeen<'_, '_>) {
        if s.analysis.flags.contains(Flag::ZeroWindow) {
            self.zero_window(s);
            return;
        }
        let Some((_, since)) = self.stall else {
            return;
        };
        if s.seg.window != 0 && !s.seg.flags.rst {
            self.stall = None;
            let Some(f) = self.found.as_deref_mut() else {
                return;
            };
            let length = s.ts.saturating_sub(since);
            f.ended = f.ended.saturating_add(1);
            f.stalled = f.stalled.saturating_add(length);
            if f.first_end.is_none() {
                f.first_end = Some((s.frame, length));
                f.update_flagged = s.analysis.flags.contains(Flag::WindowUpdate);
            }
            keep(&mut f.frames, s.frame);
        }
    }

    #[inline(never)]
    fn zero_window(&mut self, s: &SegmentSeen<'_, '_>) {
        let f = self.found.get_or_insert_with(|| {
            Box::new(Stalls {
                zero_frame: s.frame,
                ..Stalls::default()
            })
        });
        f.zero_windows += 1;
        if self.stall.is_none() {
            self.stall = Some((s.frame, s.ts));
            f.stalls = f.stalls.saturating_add(1);
            keep(&mut f.frames, s.frame);
        }
    }

    /// A segment of the data sender: window full, and persist probes during a stall.
    #[inline]
    pub fn sent(&mut self, s: &SegmentSeen<'_, '_>) {
        let flags = s.analysis.flags;
        if flags.is_empty() {
            return;
        }
        if flags.contains(Flag::WindowFull) {
            self.window_full += 1;
        }
        let probe = flags.contains(Flag::KeepAlive) || flags.contains(Flag::ZeroWindowProbe);
        if let (true, Some(_), Some(f)) = (probe, self.stall, self.found.as_deref_mut()) {
            f.probes += 1;
            keep(&mut f.frames, s.frame);
        }
    }

    /// The cause, when the receiver's window was ever 0.
    pub fn cause(&self, conv: Conv<'_>, dir: Dir) -> Option<Cause> {
        let f = self.found.as_deref()?;
        let kind = CauseKind::ZeroWindow {
            stalls: f.stalls,
            zero_windows: f.zero_windows,
            zero_frame: f.zero_frame,
            update_frame: f.first_end.map(|(frame, _)| frame),
            window_update: f.update_flagged,
            stall: f.first_end.map(|(_, length)| seconds(length)),
            ended: f.ended,
            stalled: seconds(f.stalled),
            probes: f.probes,
            window_full: self.window_full,
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
    use crate::analysis::{Flags, SegmentAnalysis};
    use crate::event::TcpDetails;
    use crate::packet::{TcpFlags, TcpOptions, TcpSegment};

    /// Feed one segment: `from_receiver` (window `window`) or the data sender.
    fn feed(
        t: &mut ZeroWindow,
        frame: u64,
        ms: u64,
        from_receiver: bool,
        window: u16,
        flags: &[Flag],
    ) {
        let seg = TcpSegment {
            seq: 1,
            ack: 1,
            flags: TcpFlags::default(),
            window,
            options: TcpOptions::default(),
            payload: &[],
            wire_len: 0,
        };
        let analysis = SegmentAnalysis {
            flags: flags.iter().copied().collect::<Flags>(),
            ..SegmentAnalysis::default()
        };
        let seen = SegmentSeen {
            frame,
            ts: ms * 1000,
            dir: if from_receiver {
                Dir::ServerToClient
            } else {
                Dir::ClientToServer
            },
            seg: &seg,
            analysis: &analysis,
        };
        if from_receiver {
            t.advertised(&seen);
        } else {
            t.sent(&seen);
        }
    }

    #[test]
    fn a_stall_from_the_zero_window_to_the_update_with_its_probes() {
        let mut t = ZeroWindow::default();
        feed(&mut t, 1, 0, false, 500, &[Flag::WindowFull]);
        feed(&mut t, 2, 10, true, 0, &[Flag::ZeroWindow]);
        feed(&mut t, 3, 300, false, 500, &[Flag::KeepAlive]);
        feed(&mut t, 4, 310, true, 0, &[Flag::ZeroWindow]);
        feed(&mut t, 5, 800, false, 500, &[Flag::KeepAlive]);
        feed(&mut t, 6, 810, true, 0, &[Flag::ZeroWindow]);
        feed(&mut t, 7, 3010, true, 200, &[Flag::WindowUpdate]);
        // A keep-alive after the stall is not a persist probe.
        feed(&mut t, 8, 9000, false, 500, &[Flag::KeepAlive]);
        let d = TcpDetails::default();
        let conv = Conv {
            id: 1,
            tcp_stream: Some(0),
            details: &d,
        };
        let c = t.cause(conv, Dir::ClientToServer).expect("a cause");
        assert_eq!(c.frames, vec![2, 3, 5, 7]);
        assert_eq!(c.certainty, Certainty::Probable);
        assert_eq!(
            c.kind,
            CauseKind::ZeroWindow {
                stalls: 1,
                zero_windows: 3,
                zero_frame: 2,
                update_frame: Some(7),
                window_update: true,
                stall: Some(3.0),
                ended: 1,
                stalled: 3.0,
                probes: 2,
                window_full: 1,
            }
        );
    }

    #[test]
    fn no_zero_window_no_cause_and_an_unended_stall_has_no_update() {
        let mut t = ZeroWindow::default();
        feed(&mut t, 1, 0, false, 500, &[Flag::WindowFull]);
        let d = TcpDetails::default();
        let conv = Conv {
            id: 1,
            tcp_stream: None,
            details: &d,
        };
        assert!(t.cause(conv, Dir::ClientToServer).is_none());
        feed(&mut t, 2, 5, true, 0, &[Flag::ZeroWindow]);
        let c = t.cause(conv, Dir::ClientToServer).expect("a cause");
        assert!(matches!(
            c.kind,
            CauseKind::ZeroWindow {
                update_frame: None,
                stall: None,
                ended: 0,
                ..
            }
        ));
    }
}
