//! The ways labsniff is run on each capture, and the command line of each.

use anyhow::{bail, Result};
use std::ffi::OsString;
use std::path::Path;

/// The exercises `labsniff grade` knows (`labsniff grade --list`).
pub const EXERCISES: [&str; 7] = ["1.2", "2.2", "3.2", "4.2", "4.3", "5.2", "5.3"];

/// A mode of labsniff whose output must not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Report,
    Json,
    Flow,
    Conversations,
    Messages,
    Svg,
    Grade,
    Annotate,
}

impl Mode {
    pub const ALL: [Mode; 8] = [
        Mode::Report,
        Mode::Json,
        Mode::Flow,
        Mode::Conversations,
        Mode::Messages,
        Mode::Svg,
        Mode::Grade,
        Mode::Annotate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Report => "report",
            Mode::Json => "json",
            Mode::Flow => "flow",
            Mode::Conversations => "conversations",
            Mode::Messages => "messages",
            Mode::Svg => "svg",
            Mode::Grade => "grade",
            Mode::Annotate => "annotate",
        }
    }

    /// `report,json`: the modes named, in the order of [`Mode::ALL`], each once.
    pub fn parse_list(list: &str) -> Result<Vec<Mode>> {
        let mut wanted = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match Mode::ALL.iter().find(|m| m.name() == name) {
                Some(m) => wanted.push(*m),
                None => {
                    let all: Vec<&str> = Mode::ALL.iter().map(|m| m.name()).collect();
                    bail!("--only: no mode '{name}': one of {}", all.join(", "));
                }
            }
        }
        if wanted.is_empty() {
            bail!("--only: no mode given");
        }
        Ok(Mode::ALL
            .into_iter()
            .filter(|m| wanted.contains(m))
            .collect())
    }
}

/// A file labsniff writes besides its stdout, compared too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artifact {
    None,
    /// `--svg out.svg`: text.
    Svg,
    /// `-w out.pcapng --annotate`: bytes, and tshark's view of its comments.
    Pcapng,
}

impl Artifact {
    /// The file's name in the run's folder (the run's working directory, so that the
    /// name labsniff prints is the same for both binaries).
    pub fn file_name(self) -> Option<&'static str> {
        match self {
            Artifact::None => None,
            Artifact::Svg => Some("out.svg"),
            Artifact::Pcapng => Some("out.pcapng"),
        }
    }
}

/// One run to make with both binaries.
#[derive(Debug, Clone)]
pub struct Job {
    /// `report`, or `grade 2.2`: what the difference lines call it.
    pub label: String,
    /// The run's folder under the file's folder.
    pub dir: String,
    pub args: Vec<OsString>,
    pub artifact: Artifact,
}

/// Every run of `modes` on `file` (an absolute path).
pub fn jobs(modes: &[Mode], file: &Path) -> Vec<Job> {
    let mut out = Vec::new();
    for &mode in modes {
        if mode == Mode::Grade {
            for ex in EXERCISES {
                let mut args = os(&["grade", "--exercise", ex, "--json"]);
                args.push(file.into());
                out.push(job(format!("grade {ex}"), args, Artifact::None));
            }
            continue;
        }
        let (extra, artifact): (&[&str], Artifact) = match mode {
            Mode::Json => (&["--json"], Artifact::None),
            Mode::Flow => (&["--view", "flow"], Artifact::None),
            Mode::Conversations => (&["--view", "conversations"], Artifact::None),
            Mode::Messages => (&["--view", "messages"], Artifact::None),
            Mode::Svg => (&["--svg", "out.svg"], Artifact::Svg),
            Mode::Annotate => (&["-w", "out.pcapng", "--annotate"], Artifact::Pcapng),
            Mode::Report | Mode::Grade => (&[], Artifact::None),
        };
        let mut args = vec![OsString::from("-r"), file.into()];
        args.extend(os(extra));
        out.push(job(mode.name().to_string(), args, artifact));
    }
    out
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn job(label: String, args: Vec<OsString>, artifact: Artifact) -> Job {
    Job {
        dir: label.replace(' ', "-"),
        label,
        args,
        artifact,
    }
}
