//! `labnet check`: run a fixed battery against a student's own server or client and say,
//! per check, pass or fail, the evidence (bytes sent and received, timings) and the
//! one-line fix in the student's terms.
//!
//! - [`battery`]: which checks run for which protocol, and what each one proves.
//! - [`probe`]: bounded socket helpers (every read has a deadline; no polling loops).
//! - [`explain`]: names what the student's bytes are (labproto's framers and `mistakes`).
//! - [`server`]: the checks of `labnet check server`.
//! - [`client`]: `labnet check client`, acting as the lab server.
//! - [`output`]: the table for people and the JSON for programs.

pub mod battery;
pub mod client;
pub mod compare;
pub mod explain;
mod impairment;
pub mod launch;
pub mod net;
pub mod output;
pub mod prints;
pub mod probe;
pub mod server;

use serde::Serialize;

/// The outcome of one check (one JSON object of `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// The check's stable name (see [`battery`]).
    pub check: &'static str,
    pub pass: bool,
    /// What was sent and received, and when.
    pub evidence: String,
    /// The one-line fix in the student's terms; empty when the check passed, and when
    /// the failure is a consequence of an earlier check's (that one's fix applies).
    pub fix: String,
    /// The earlier failed check whose cause (the same fix) explains this failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consequence_of: Option<&'static str>,
}

impl CheckResult {
    pub fn pass(check: &'static str, evidence: impl Into<String>) -> CheckResult {
        CheckResult {
            check,
            pass: true,
            evidence: evidence.into(),
            fix: String::new(),
            consequence_of: None,
        }
    }

    pub fn fail(
        check: &'static str,
        evidence: impl Into<String>,
        fix: impl Into<String>,
    ) -> CheckResult {
        CheckResult {
            check,
            pass: false,
            evidence: evidence.into(),
            fix: fix.into(),
            consequence_of: None,
        }
    }
}

/// How many of `results` failed.
pub fn failures(results: &[CheckResult]) -> usize {
    results.iter().filter(|r| !r.pass).count()
}

/// One root cause said once: a failed check whose fix an earlier failed check already
/// gave is marked as that one's consequence; its fix is dropped, and the explanation
/// it shares with the root (the longest common ending of the two evidences, when
/// long) is replaced by a pointer to the root.
pub fn mark_consequences(results: &mut [CheckResult]) {
    /// Shorter shared endings are ordinary words, not a repeated explanation.
    const SHARED: usize = 40;
    for i in 0..results.len() {
        if results[i].pass || results[i].fix.is_empty() {
            continue;
        }
        let Some(root) = results[..i]
            .iter()
            .find(|r| !r.pass && r.consequence_of.is_none() && r.fix == results[i].fix)
            .map(|r| (r.check, r.evidence.clone()))
        else {
            continue;
        };
        let r = &mut results[i];
        let own = shared_ending_removed(&r.evidence, &root.1, SHARED);
        r.evidence = format!("failed: consequence of {}; {own}", root.0);
        r.fix.clear();
        r.consequence_of = Some(root.0);
    }
}

/// `evidence` cut where it starts repeating `root`'s explanation: at the first clause
/// (after ": ") whose next `min` bytes appear in `root`.
fn shared_ending_removed(evidence: &str, root: &str, min: usize) -> String {
    let repeats = |at: usize| {
        evidence
            .get(at..at + min)
            .is_some_and(|clause| root.contains(clause))
    };
    let cut = evidence
        .match_indices(": ")
        .map(|(i, _)| i)
        .find(|&i| repeats(i + 2));
    match cut {
        Some(i) => format!("{}: the same cause", &evidence[..i]),
        None => evidence.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_root_cause_said_once() {
        let why = ": the echo is not '!BII20s': these bytes match struct.pack('BII20s', ...)";
        let mut r = vec![
            CheckResult::fail(
                "echo",
                format!("one message: 26 bytes sent{why} 17"),
                "use '!'",
            ),
            CheckResult::pass("split", "fine"),
            CheckResult::fail(
                "v2_long",
                format!("a long one: 29 bytes sent{why} 37"),
                "use '!'",
            ),
            CheckResult::fail("concurrent", "client 2 got no answer", "threads"),
        ];
        mark_consequences(&mut r);
        assert_eq!(r[0].consequence_of, None);
        assert_eq!(r[0].fix, "use '!'");
        assert_eq!(r[2].consequence_of, Some("echo"));
        assert_eq!(r[2].fix, "");
        assert_eq!(
            r[2].evidence,
            "failed: consequence of echo; a long one: 29 bytes sent: the same cause"
        );
        assert_eq!(r[3].consequence_of, None);
        assert_eq!(r[3].fix, "threads");
    }
}
