//! Identical faults of many frames, said a few times and then counted: a capture of a
//! million empty records (or a gzip bomb of zeros behind a pcap header) gets a few
//! diagnostics and one that counts the rest, not a line per frame, so junk costs about
//! a bare read. "Identical" is the whole fact but the frame number: the same fault,
//! the same captured and original lengths.

use crate::event::{DiagnosticKind, Severity};

/// Faults of one kind said one by one before the rest are counted.
pub const SAID_EACH: u64 = 10;
/// Distinct faults followed; past this, each further distinct fault is said every time
/// (a bound on the memory, not on the lines: distinct faults are rare).
const KINDS_FOLLOWED: usize = 16;

/// One fault met more than [`SAID_EACH`] times.
#[derive(Debug)]
struct Run {
    severity: Severity,
    kind: DiagnosticKind,
    /// The first frame that had it (said).
    example: u64,
    said: u64,
    /// Frames counted, not said, and the first and last of them.
    more: u64,
    first_more: u64,
    last_more: u64,
}

#[derive(Debug, Default)]
pub(super) struct Repeats {
    runs: Vec<Run>,
}

impl Repeats {
    /// Whether frame `frame`'s fault is to be said (true), or was counted (false).
    pub fn admit(&mut self, severity: Severity, frame: u64, kind: &DiagnosticKind) -> bool {
        if let Some(run) = self
            .runs
            .iter_mut()
            .find(|r| r.severity == severity && r.kind == *kind)
        {
            if run.said < SAID_EACH {
                run.said += 1;
                return true;
            }
            if run.more == 0 {
                run.first_more = frame;
            }
            run.more += 1;
            run.last_more = frame;
            return false;
        }
        if self.runs.len() < KINDS_FOLLOWED {
            self.runs.push(Run {
                severity,
                kind: kind.clone(),
                example: frame,
                said: 1,
                more: 0,
                first_more: 0,
                last_more: 0,
            });
        }
        true
    }

    /// At the end: one diagnostic per fault that was counted, at its first counted
    /// frame.
    pub fn summaries(&mut self) -> Vec<(Severity, u64, DiagnosticKind)> {
        self.runs
            .drain(..)
            .filter(|r| r.more > 0)
            .map(|r| {
                let kind = DiagnosticKind::Repeated {
                    kind: Box::new(r.kind),
                    example: r.example,
                    frames: r.more,
                    last: r.last_more,
                };
                (r.severity, r.first_more, kind)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> DiagnosticKind {
        DiagnosticKind::EmptyCapture
    }

    #[test]
    fn said_then_counted_then_summed_up() {
        let mut r = Repeats::default();
        let said: Vec<u64> = (1..=1000)
            .filter(|&f| r.admit(Severity::Warning, f, &empty()))
            .collect();
        assert_eq!(said, (1..=SAID_EACH).collect::<Vec<_>>());
        let sums = r.summaries();
        assert_eq!(sums.len(), 1);
        let (severity, at, kind) = &sums[0];
        assert_eq!((*severity, *at), (Severity::Warning, SAID_EACH + 1));
        assert_eq!(
            *kind,
            DiagnosticKind::Repeated {
                kind: Box::new(empty()),
                example: 1,
                frames: 1000 - SAID_EACH,
                last: 1000
            }
        );
    }

    #[test]
    fn different_faults_are_followed_apart_and_memory_is_bounded() {
        let mut r = Repeats::default();
        let kind = |n: u32| DiagnosticKind::CaptureError {
            reason: format!("fault {n}"),
        };
        // 100 distinct faults: each is said; only KINDS_FOLLOWED are remembered.
        for n in 0..100 {
            assert!(r.admit(Severity::Error, u64::from(n) + 1, &kind(n)));
        }
        assert_eq!(r.runs.len(), KINDS_FOLLOWED);
        // A fault seen few times needs no summary.
        assert!(r.summaries().is_empty());
    }
}
