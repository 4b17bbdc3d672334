//! `cargo xtask outputs-diff [--base REV] [--keep] [--only MODE,...] [--timeout SECS]
//! [EXTRA_CAPTURE_FILES_OR_DIRS...]`: is labsniff's output byte-identical to what it
//! was at REV (default `HEAD`)?
//!
//! Why: labsniff is refactored often (an engine crate and a renderer crate are next),
//! and the rule is that its output stays the same except for defects mended on purpose.
//! This command proves it, or shows each difference, so that every change in output is
//! seen and explained in review rather than found later by a student.
//!
//! How: labsniff is built in release at REV (exported with `git archive` into
//! `target/outputs-diff/src-SHA`, built with its own target dir
//! `target/outputs-diff/target-base`, the binary cached as
//! `target/outputs-diff/labsniff-SHA`) and in the working tree (`target/release`).
//! Both are run on every capture the repository keeps (labsniff's test fixtures, the
//! fuzz regressions that are captures, the demos' captures when present), a synthetic
//! capture from labfixtures' `gen-capture`, and any files given, in every mode:
//! the explain report, `--json`, the flow, conversations and messages views, `--svg`,
//! `grade --json` for every exercise, and `-w --annotate` (pcapng bytes, and when they
//! differ, tshark's `frame.number`/`frame.comment` of both). Stdout, stderr, the exit
//! code and the files written must all be equal; a run over its timeout is a difference.
//! Each difference is printed with its first differing lines; the exit status is
//! non-zero when anything differs, so the command can gate a merge.

mod build;
mod compare;
mod inputs;
mod linediff;
mod modes;
mod run;

use crate::util::root;
use anyhow::{bail, Context, Result};
use modes::Mode;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: cargo xtask outputs-diff [--base REV] [--keep] [--only MODE,...] \
[--timeout SECS] [CAPTURE_FILE_OR_DIR...]
  modes: report, json, flow, conversations, messages, svg, grade, annotate";

/// The command line.
#[derive(Debug)]
struct Options {
    base: String,
    keep: bool,
    modes: Vec<Mode>,
    timeout: Duration,
    extra: Vec<PathBuf>,
}

fn parse(args: &[String]) -> Result<Option<Options>> {
    let mut opts = Options {
        base: "HEAD".into(),
        keep: false,
        modes: Mode::ALL.to_vec(),
        timeout: Duration::from_secs(60),
        extra: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--base" => opts.base = it.next().context(USAGE)?.clone(),
            "--keep" => opts.keep = true,
            "--only" => opts.modes = Mode::parse_list(it.next().context(USAGE)?)?,
            "--timeout" => {
                let s = it.next().context(USAGE)?;
                let secs: u64 = s
                    .parse()
                    .with_context(|| format!("--timeout {s}: not a whole number of seconds"))?;
                opts.timeout = Duration::from_secs(secs.max(1));
            }
            "-h" | "--help" => return Ok(None),
            flag if flag.starts_with('-') => bail!("unknown option '{flag}'\n{USAGE}"),
            path => opts.extra.push(PathBuf::from(path)),
        }
    }
    Ok(Some(opts))
}

/// `target/outputs-diff`, where the base builds, the synthetic capture and the runs live.
fn work_dir() -> PathBuf {
    root().join("target/outputs-diff")
}

pub fn main(args: &[String]) -> Result<()> {
    let Some(opts) = parse(args)? else {
        println!("{USAGE}");
        return Ok(());
    };
    let started = Instant::now();
    let dir = work_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let builds = build::both(&opts.base, &dir)?;
    let files = inputs::collect(&dir, &opts.extra)?;
    let runs_dir = dir.join("runs");
    if runs_dir.exists() {
        std::fs::remove_dir_all(&runs_dir)
            .with_context(|| format!("cannot clear {}", runs_dir.display()))?;
    }
    let ctx = compare::Context {
        before: builds.base,
        after: builds.work,
        timeout: opts.timeout,
        keep: opts.keep,
        tshark: crate::util::have("tshark"),
    };
    if opts.modes.contains(&Mode::Annotate) && !ctx.tshark {
        eprintln!("outputs-diff: note: tshark is missing: annotate compares the pcapng bytes only");
    }
    let tally = run_all(&ctx, &files, &opts.modes, &runs_dir)?;
    summary(&tally, files.len(), &opts, &runs_dir, started.elapsed())
}

/// What the runs found, in order.
#[derive(Debug, Default)]
struct Tally {
    runs: usize,
    differ: Vec<(String, String)>,
}

fn run_all(
    ctx: &compare::Context,
    files: &[PathBuf],
    modes: &[Mode],
    runs: &Path,
) -> Result<Tally> {
    let mut tally = Tally::default();
    for (i, file) in files.iter().enumerate() {
        let t0 = Instant::now();
        let shown = inputs::display(file);
        let case_dir = runs.join(format!("{:03}-{}", i + 1, inputs::slug(file)));
        let mut differ_here = 0;
        let jobs = modes::jobs(modes, file);
        for job in &jobs {
            tally.runs += 1;
            if let Some(found) = compare::case(ctx, job, &case_dir.join(&job.dir))? {
                let what = if found.bytes_only {
                    format!("{} (pcapng bytes only)", job.label)
                } else {
                    job.label.clone()
                };
                println!("DIFF {what} {shown}\n{}", found.body);
                tally.differ.push((what, shown.clone()));
                differ_here += 1;
            }
        }
        if !ctx.keep && differ_here == 0 && case_dir.exists() {
            std::fs::remove_dir_all(&case_dir)
                .with_context(|| format!("cannot remove {}", case_dir.display()))?;
        }
        eprintln!(
            "[{}/{}] {shown}: {} runs, {differ_here} differ ({:.1} s)",
            i + 1,
            files.len(),
            jobs.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(tally)
}

fn summary(
    tally: &Tally,
    files: usize,
    opts: &Options,
    runs_dir: &Path,
    took: Duration,
) -> Result<()> {
    let names: Vec<&str> = opts.modes.iter().map(|m| m.name()).collect();
    println!(
        "\n{} runs over {files} files x {} modes ({}; each run: both binaries): {} differ ({:.0} s)",
        tally.runs,
        opts.modes.len(),
        names.join(", "),
        tally.differ.len(),
        took.as_secs_f64()
    );
    for (mode, file) in &tally.differ {
        println!("  {mode}  {file}");
    }
    if opts.keep {
        println!("every run's outputs are kept in {}", runs_dir.display());
    } else if !tally.differ.is_empty() {
        println!(
            "the differing files' outputs are kept in {}",
            runs_dir.display()
        );
    } else if runs_dir.exists() {
        std::fs::remove_dir_all(runs_dir)
            .with_context(|| format!("cannot remove {}", runs_dir.display()))?;
    }
    if !tally.differ.is_empty() {
        bail!("{} of {} runs differ", tally.differ.len(), tally.runs);
    }
    Ok(())
}
