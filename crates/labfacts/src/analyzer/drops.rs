//! Frames the capture dropped, as facts in frame order: the live source tells the
//! analyzer "frames were dropped before frame N" (in order, before frame N), and the
//! frames that follow within [`DROP_WINDOW_FRAMES`] are marked, so that gaps and TCP
//! analysis flags found there are put down to the capture, not the network.

use super::Analyzer;
use crate::event::{DiagnosticKind, Severity};

/// A drop the capture noticed: `kernel` frames dropped by the kernel (libpcap's
/// statistics went up) and `queue` frames labsniff's own queue had no room for, all
/// of them after frame `after_frame` (the last frame known to precede them; 0 for the
/// start) and before the next frame handed to the analyzer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaptureDrop {
    pub kernel: u64,
    pub queue: u64,
    pub after_frame: u64,
}

/// Frames after a drop that stay marked. A drop is only found when a gap's bytes are
/// declared missing: after up to 64 frames of that conversation or 1 s (the ACK wait
/// in `conversation`); at 32 busy connections 64 frames of one are ~2,000 frames of
/// the capture. The kernel's count is read every `STATS_EVERY` frames, so the drop
/// itself lies up to that much (plus the ring's backlog) before the note. 65,536
/// frames covers both with a wide margin.
pub const DROP_WINDOW_FRAMES: u64 = 65_536;

/// Drops said one by one as diagnostics; later ones only count (the summary and the
/// warning at the top of the report give the totals).
const DROPS_SAID: u32 = 100;

/// The analyzer's record of capture drops.
#[derive(Debug, Default)]
pub(super) struct Drops {
    /// Frames `from..=until` follow a drop.
    marked: Option<(u64, u64)>,
    kernel: u64,
    queue: u64,
    said: u32,
}

impl Drops {
    /// Whether frame `n` follows a drop closely enough to be marked.
    pub fn marks(&self, n: u64) -> bool {
        self.marked
            .is_some_and(|(from, until)| n >= from && n <= until)
    }

    pub fn queue_total(&self) -> u64 {
        self.queue
    }
}

impl Analyzer {
    /// The capture dropped frames before the next frame: recorded as a fact (the
    /// frames after it are marked), said as a `capture_dropped` diagnostic.
    pub fn capture_dropped(&mut self, drop: CaptureDrop) {
        if drop.kernel == 0 && drop.queue == 0 {
            return;
        }
        let next = self.frames + 1;
        let from = drop.after_frame.saturating_add(1).min(next);
        let until = next.saturating_add(DROP_WINDOW_FRAMES);
        let d = &mut self.drops;
        d.marked = Some(match d.marked {
            Some((f, u)) if from <= u.saturating_add(1) => (f.min(from), until.max(u)),
            _ => (from, until),
        });
        d.kernel += drop.kernel;
        d.queue += drop.queue;
        if d.said >= DROPS_SAID {
            return;
        }
        d.said += 1;
        let kind = DiagnosticKind::CaptureDropped {
            from,
            to: next,
            kernel: drop.kernel,
            queue: drop.queue,
        };
        self.push_diag(Severity::Warning, Some(next), kind);
    }
}
