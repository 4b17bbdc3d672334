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
pub mod explain;
pub mod output;
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
    /// The one-line fix in the student's terms; empty when the check passed.
    pub fix: String,
}

impl CheckResult {
    pub fn pass(check: &'static str, evidence: impl Into<String>) -> CheckResult {
        CheckResult {
            check,
            pass: true,
            evidence: evidence.into(),
            fix: String::new(),
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
        }
    }
}

/// How many of `results` failed.
pub fn failures(results: &[CheckResult]) -> usize {
    results.iter().filter(|r| !r.pass).count()
}
