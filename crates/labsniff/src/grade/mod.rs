//! `labsniff grade`: whether each submitted capture shows what an exercise requires.
//!
//! The requirements of every exercise live in one table, [`EXERCISES`]; each one is a
//! function of the facts the normal analysis already produced (conversation records,
//! messages, diagnostics, [`crate::analysis::capture`]'s concurrency proof): grading
//! never looks at packets itself. Every verdict carries its evidence and the frame
//! numbers a teacher can open in Wireshark.
//!
//! By job: `exercises` is the table, `facts` what the requirements read, `checks` the
//! requirements themselves (each writing its evidence in English), `run` grading one
//! file, [`output`] the class table, CSV, JSON and list; this module holds the types
//! they share and re-exports what the program uses.

mod checks;
pub mod copies;
mod exercises;
mod facts;
pub mod output;
mod run;
mod trace;

pub use exercises::{exercise, EXERCISES};
pub use facts::{Facts, Trace};
pub use run::{
    each_file, expand, grade_all, grade_file, grade_file_with, grade_file_within, Limits,
};

use serde::Serialize;

/// Frame numbers listed per requirement, at most.
const FRAMES_SHOWN: usize = 10;

/// One requirement of an exercise.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    /// Stable name (the `name` of `--json`, a column of the table and the CSV).
    pub name: &'static str,
    /// What it asks for, in one line (`--list`).
    pub what: &'static str,
    /// It reads the server's trace handed in beside the capture (`NAME.strace`).
    pub trace: bool,
    eval: fn(&Facts) -> Verdict,
}

/// One exercise of the lab guide and what its capture must show.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    pub id: &'static str,
    pub title: &'static str,
    pub requirements: &'static [Requirement],
}

/// A requirement's (or a file's) outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// What was handed in cannot tell (a server's threads are not in the packets and
    /// no trace came with the capture): neither shown nor refuted; the evidence says
    /// what to hand in.
    Undecided,
}

/// One requirement's outcome for one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub name: &'static str,
    /// Shown: `outcome` is `pass` (false when it failed or cannot be decided).
    pub pass: bool,
    pub evidence: String,
    /// Frames that show it (or the closest miss), ascending, at most ten.
    pub frames: Vec<u64>,
    pub outcome: Outcome,
}

impl Grade {
    /// The first requirement that failed, else the first that cannot be decided.
    pub fn first_open(&self) -> Option<&Verdict> {
        let failed = self
            .requirements
            .iter()
            .find(|v| v.outcome == Outcome::Fail);
        failed.or_else(|| {
            self.requirements
                .iter()
                .find(|v| v.outcome == Outcome::Undecided)
        })
    }
}

impl Verdict {
    fn pass(evidence: impl Into<String>, frames: Vec<u64>) -> Verdict {
        Verdict::new(Outcome::Pass, evidence, frames)
    }
    fn fail(evidence: impl Into<String>, frames: Vec<u64>) -> Verdict {
        Verdict::new(Outcome::Fail, evidence, frames)
    }
    fn undecided(evidence: impl Into<String>, frames: Vec<u64>) -> Verdict {
        Verdict::new(Outcome::Undecided, evidence, frames)
    }
    fn new(outcome: Outcome, evidence: impl Into<String>, mut frames: Vec<u64>) -> Verdict {
        frames.sort_unstable();
        frames.dedup();
        frames.truncate(FRAMES_SHOWN);
        Verdict {
            name: "",
            pass: outcome == Outcome::Pass,
            evidence: evidence.into(),
            frames,
            outcome,
        }
    }
}

/// One file's grade (one row; one object of `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grade {
    pub file: String,
    pub exercise: &'static str,
    /// Every requirement passed.
    pub pass: bool,
    pub requirements: Vec<Verdict>,
    /// `fail` when a requirement failed (or the file was not read), else `undecided`
    /// when one cannot be decided from what was handed in, else `pass`.
    pub outcome: Outcome,
    /// The file's content and TCP connections, to find captures handed in twice.
    #[serde(skip)]
    pub fingerprint: copies::Fingerprint,
}
