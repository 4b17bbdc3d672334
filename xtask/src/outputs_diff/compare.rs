//! One case: the same job run by both binaries side by side (two threads), and what
//! differs between them: exit status, stdout, stderr, the file written.

use super::linediff;
use super::modes::{Artifact, Job};
use super::run::{self, Output};
use anyhow::{anyhow, Context as _, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Lines of diff shown per difference (over all its parts).
const BUDGET: usize = 20;

/// The two binaries and how to run them.
#[derive(Debug)]
pub struct Context {
    pub before: PathBuf,
    pub after: PathBuf,
    pub timeout: Duration,
    pub keep: bool,
    pub tshark: bool,
}

/// A difference found: the text to print under its `DIFF` line, and whether it is
/// only in the bytes of the pcapng (tshark shows both files' comments the same).
#[derive(Debug)]
pub struct Found {
    pub body: String,
    pub bytes_only: bool,
}

/// Run `job` with both binaries under `dir` (`before/`, `after/`) and compare.
pub fn case(ctx: &Context, job: &Job, dir: &Path) -> Result<Option<Found>> {
    let (dir_b, dir_a) = (dir.join("before"), dir.join("after"));
    let (b, a) = std::thread::scope(|s| {
        let before = s.spawn(|| run::run(&ctx.before, &job.args, &dir_b, "labsniff", ctx.timeout));
        let after = run::run(&ctx.after, &job.args, &dir_a, "labsniff", ctx.timeout);
        let before = before
            .join()
            .map_err(|_| anyhow!("the thread running the base binary panicked"))?;
        Ok::<_, anyhow::Error>((before?, after?))
    })?;
    let mut report = Report::default();
    outputs(&mut report, &b, &a);
    if let Some(name) = job.artifact.file_name() {
        let (fb, fa) = (read_opt(&dir_b.join(name))?, read_opt(&dir_a.join(name))?);
        match job.artifact {
            Artifact::Pcapng => pcapng(ctx, &mut report, (&dir_b, fb), (&dir_a, fa))?,
            _ => report.text(name, fb.as_deref(), fa.as_deref()),
        }
    }
    if report.lines.is_empty() {
        return Ok(None);
    }
    Ok(Some(Found {
        body: report.lines.join("\n"),
        bytes_only: report.bytes_only,
    }))
}

/// Exit status (a timeout is always a difference), stdout, stderr.
fn outputs(report: &mut Report, b: &Output, a: &Output) {
    if b.end.timed_out() || a.end.timed_out() || b.end != a.end {
        let mark = if b.end.timed_out() || a.end.timed_out() {
            " (timed out)"
        } else {
            ""
        };
        report.push(format!("--- exit status{mark}"));
        report.push(format!("- {}", b.end.describe()));
        report.push(format!("+ {}", a.end.describe()));
    }
    report.text("stdout", Some(&b.stdout), Some(&a.stdout));
    report.text("stderr", Some(&b.stderr), Some(&a.stderr));
}

/// The annotated pcapng: equal bytes, or else what tshark shows of each
/// (`frame.number`, `frame.comment`); equal there too is a bytes-only difference.
fn pcapng(
    ctx: &Context,
    report: &mut Report,
    (dir_b, fb): (&Path, Option<Vec<u8>>),
    (dir_a, fa): (&Path, Option<Vec<u8>>),
) -> Result<()> {
    let (Some(fb), Some(fa)) = (&fb, &fa) else {
        report.text("out.pcapng", fb.as_deref(), fa.as_deref());
        return Ok(());
    };
    if fb == fa {
        return Ok(());
    }
    let note = if ctx.tshark {
        let tb = tshark_fields(ctx, dir_b)?;
        let ta = tshark_fields(ctx, dir_a)?;
        if tb.stdout != ta.stdout || tb.end != ta.end {
            report.text(
                "tshark -T fields -e frame.number -e frame.comment",
                Some(&tb.stdout),
                Some(&ta.stdout),
            );
            "tshark's frame.number/frame.comment differ too"
        } else {
            report.bytes_only = report.lines.is_empty();
            "bytes only: tshark's frame.number/frame.comment are equal"
        }
    } else {
        "tshark is missing: the comments are not compared"
    };
    report.push(format!(
        "--- out.pcapng: {}; {note}",
        bytes_difference(fb, fa)
    ));
    Ok(())
}

fn tshark_fields(ctx: &Context, dir: &Path) -> Result<Output> {
    let args: Vec<OsString> = [
        "-r",
        "out.pcapng",
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "frame.comment",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    // Run where the file is, so that its name is the same for both.
    run::run(Path::new("tshark"), &args, dir, "tshark", ctx.timeout)
}

/// `1,234 bytes before, 1,240 after, first different at byte 416 (0x1a0)`.
fn bytes_difference(b: &[u8], a: &[u8]) -> String {
    let at = b.iter().zip(a).take_while(|(x, y)| x == y).count();
    format!(
        "{} bytes before, {} after, first different at byte {at} ({at:#x})",
        b.len(),
        a.len()
    )
}

/// The file's bytes, or `None` when it was not written.
fn read_opt(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The lines printed under a `DIFF` line, at most [`BUDGET`] of diff (each part
/// gets a few at least, so that every differing part is named).
#[derive(Debug, Default)]
struct Report {
    lines: Vec<String>,
    bytes_only: bool,
}

impl Report {
    fn push(&mut self, line: String) {
        self.lines.push(format!("  {line}"));
    }

    /// Text that should be equal; `None`: the file was not written.
    fn text(&mut self, name: &str, b: Option<&[u8]>, a: Option<&[u8]>) {
        match (b, a) {
            (Some(b), Some(a)) if b != a => {
                let left = BUDGET.saturating_sub(self.lines.len()).max(4);
                for line in linediff::render(name, b, a, left) {
                    self.push(line);
                }
            }
            (Some(_), None) => self.push(format!("--- {name}: written before, not after")),
            (None, Some(_)) => self.push(format!("--- {name}: written after, not before")),
            _ => {}
        }
    }
}
