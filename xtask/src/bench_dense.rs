//! `cargo xtask bench --only dense [--base REV] [--quick]`: labsniff over a
//! message-dense loopback capture (about one message per frame, see
//! [`crate::bench_dense_capture`]) against the floor `tcpdump -r FILE -w /dev/null`.
//!
//! Each command runs `BENCH_RUNS` times (default 3), interleaved, the order rotated each
//! round so that no command always follows the same one; medians. CPU = user + system
//! of the command's process and its peak RSS, from wait4 ([`crate::bench_rusage`]: to
//! the microsecond, where /proc's 10 ms ticks would be ~8% of tcpdump's time here).
//! Commands: the floor, `labsniff -r FILE` (the explain report, to /dev/null) and
//! `labsniff -r FILE --json > target/bench/dense.jsonl` (into a file). The issue's
//! targets are printed beside: report ≤ 2.5× tcpdump's CPU, `--json` into a file ≤ 4×,
//! RSS ≤ 64 MB.
//!
//! With `--base REV`, labsniff built at REV by outputs-diff's builder (cached as
//! `target/outputs-diff/labsniff-SHA`) runs in the same rounds, so before and after sit
//! in one table, and callgrind counts both binaries' instructions
//! ([`crate::bench_dense_callgrind`]).

use crate::bench_dense_capture::Dense;
use crate::bench_rusage::Job;
use crate::bench_stats::Row;
use crate::measure::Measured;
use crate::util::root;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// outputs-diff's builder: the base revision's labsniff, built once and cached.
use crate::outputs_diff::build as base_build;

/// The issue's targets for the dense capture.
const REPORT_MAX: f64 = 2.5;
const JSON_MAX: f64 = 4.0;
const RSS_MAX_MB: f64 = 64.0;

/// What a command measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Floor,
    Report,
    Json,
}

/// One command of the table, with its runs.
struct Entry {
    mode: Mode,
    /// "" for the floor, else "after" or "before REV".
    build: String,
    job: Job,
    row: Row,
    /// System CPU seconds of each run (`row` has user + system).
    sys: Vec<f64>,
}

/// The two labsniff binaries: the working tree's, and REV's when asked.
struct Binaries {
    after: PathBuf,
    before: Option<(String, PathBuf)>,
}

pub fn dense_bench(
    labnet: &Path,
    labsniff: &Path,
    quick: bool,
    base: Option<&str>,
) -> Result<String> {
    let dir = root().join("target/bench");
    if let Some(why) = crate::bench_dense_capture::unavailable(&dir, quick) {
        let out = format!("## labsniff over a message-dense loopback capture\n\nskipped: {why}\n");
        println!("{out}");
        return Ok(out);
    }
    let capture = crate::bench_dense_capture::ensure(labnet, labsniff, &dir, quick)?;
    let bins = binaries(labsniff, base)?;
    let runs = crate::bench_stats::runs_arg(std::env::var("BENCH_RUNS").ok());
    let mut entries = entries(&capture.path, &bins, &dir.join("dense.jsonl"));
    measure_rounds(&mut entries, runs)?;
    let mut out = header(&capture, &bins, runs);
    out.push_str(&table(&entries));
    out.push_str(&targets(&entries));
    if let Some((_, before)) = &bins.before {
        out.push_str(&crate::bench_dense_callgrind::section(
            before,
            &bins.after,
            &capture.path,
            quick,
        )?);
    }
    println!("{out}");
    Ok(out)
}

fn binaries(labsniff: &Path, base: Option<&str>) -> Result<Binaries> {
    let Some(rev) = base else {
        return Ok(Binaries {
            after: labsniff.to_path_buf(),
            before: None,
        });
    };
    let builds = base_build::both(rev, &root().join("target/outputs-diff"))?;
    Ok(Binaries {
        after: builds.work,
        before: Some((rev.to_string(), builds.base)),
    })
}

fn entries(capture: &Path, bins: &Binaries, jsonl: &Path) -> Vec<Entry> {
    let tcpdump = Job::new("tcpdump", &[&"-r", &capture, &"-w", &"/dev/null"]);
    let mut list = vec![entry(Mode::Floor, String::new(), tcpdump)];
    let mut builds = vec![("after".to_string(), bins.after.clone())];
    if let Some((rev, path)) = &bins.before {
        builds.push((format!("before {rev}"), path.clone()));
    }
    for mode in [Mode::Report, Mode::Json] {
        for (build, bin) in &builds {
            list.push(entry(
                mode,
                build.clone(),
                labsniff(bin, capture, mode, jsonl),
            ));
        }
    }
    list
}

fn entry(mode: Mode, build: String, job: Job) -> Entry {
    let row = Row {
        name: label(mode).to_string(),
        runs: Vec::new(),
    };
    Entry {
        mode,
        build,
        job,
        row,
        sys: Vec::new(),
    }
}

fn label(mode: Mode) -> &'static str {
    match mode {
        Mode::Floor => "`tcpdump -r FILE -w /dev/null` (the floor)",
        Mode::Report => "`labsniff -r FILE` (explain report) > /dev/null",
        Mode::Json => "`labsniff -r FILE --json > target/bench/dense.jsonl`",
    }
}

/// labsniff's command; `--json` writes into `jsonl`.
fn labsniff(bin: &Path, capture: &Path, mode: Mode, jsonl: &Path) -> Job {
    if mode == Mode::Json {
        let mut job = Job::new(bin, &[&"-r", &capture, &"--json"]);
        job.stdout = Some(jsonl.to_path_buf());
        return job;
    }
    Job::new(bin, &[&"-r", &capture])
}

/// `runs` rounds; round r starts at command r (mod the count).
fn measure_rounds(entries: &mut [Entry], runs: usize) -> Result<()> {
    let timeout = Duration::from_secs(600);
    let scratch = root().join("target/bench/dense.rusage");
    let n = entries.len();
    for round in 0..runs {
        for k in 0..n {
            let e = &mut entries[(round + k) % n];
            eprintln!(
                "xtask: dense: {} {} ({}/{runs})",
                e.row.name,
                e.build,
                round + 1
            );
            let u = crate::bench_rusage::run(&e.row.name, &e.job, &scratch, timeout)?;
            e.row.runs.push(u.measured);
            e.sys.push(u.sys_secs);
        }
    }
    Ok(())
}

fn header(capture: &Dense, bins: &Binaries, runs: usize) -> String {
    let mut out = format!(
        "## labsniff over a message-dense loopback capture\n\ncapture: {}\n\
         {runs} runs of each command, interleaved (order rotated each round); medians, CPU \
         range in brackets; CPU = user + system of the command's own process; × tcpdump = \
         ratio of the medians [range of the same-round ratios]\n",
        capture.describe()
    );
    if capture.port != crate::bench_dense_capture::LAB_PORT {
        out.push_str(&format!(
            "note: the capture is on port {}, not the lab port {}: labsniff's `--port auto` \
             (the default for -r) reads the whole file once more before the analysis\n",
            capture.port,
            crate::bench_dense_capture::LAB_PORT
        ));
    }
    if let Some((rev, path)) = &bins.before {
        out.push_str(&format!(
            "before = labsniff at {rev} ({}), after = the working tree ({})\n",
            path.display(),
            bins.after.display()
        ));
    }
    out.push('\n');
    out
}

fn floor(entries: &[Entry]) -> &Entry {
    &entries[0]
}

fn table(entries: &[Entry]) -> String {
    let mut out = String::from(
        "| command | build | CPU s [range] | of it system s | × tcpdump [rounds] | peak RSS MB | wall s |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
    );
    let floor = floor(entries);
    for e in entries {
        let (lo, hi) = e.row.cpu_range();
        let (rlo, rhi) = round_ratios(&e.row.runs, &floor.row.runs);
        out.push_str(&format!(
            "| {} | {} | {:.3} [{lo:.3}–{hi:.3}] | {:.3} | {:.2} [{rlo:.2}–{rhi:.2}] | {:.1} | {:.2} |\n",
            e.row.name,
            e.build,
            e.row.cpu(),
            crate::bench_stats::median(e.sys.clone()),
            ratio(&e.row, &floor.row),
            e.row.rss_mb(),
            e.row.wall(),
        ));
    }
    out
}

/// Median CPU over the floor's median CPU.
fn ratio(row: &Row, floor: &Row) -> f64 {
    let f = floor.cpu();
    if f > 0.0 {
        row.cpu() / f
    } else {
        f64::NAN
    }
}

/// The lowest and highest of the per-round CPU ratios (same round: same machine load).
fn round_ratios(runs: &[Measured], floor: &[Measured]) -> (f64, f64) {
    let ratios: Vec<f64> = runs
        .iter()
        .zip(floor)
        .filter(|(_, f)| f.cpu_secs > 0.0)
        .map(|(r, f)| r.cpu_secs / f.cpu_secs)
        .collect();
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// The targets, for each build, met or not; and after ÷ before CPU.
fn targets(entries: &[Entry]) -> String {
    let floor = &floor(entries).row;
    let mut out = String::from("\ntargets (issue: message-dense capture):\n\n");
    let builds: Vec<&str> = entries
        .iter()
        .filter(|e| e.mode == Mode::Report)
        .map(|e| e.build.as_str())
        .collect();
    for build in &builds {
        let row = |mode| find(entries, mode, build);
        let (report, json) = (row(Mode::Report), row(Mode::Json));
        let rss = report.rss_mb().max(json.rss_mb());
        out.push_str(&format!(
            "- {build}: explain report {:.2}× tcpdump (≤ {REPORT_MAX}×: {}); --json into a file \
             {:.2}× (≤ {JSON_MAX}×: {}); peak RSS {rss:.1} MB (≤ {RSS_MAX_MB} MB: {})\n",
            ratio(report, floor),
            verdict(ratio(report, floor) <= REPORT_MAX),
            ratio(json, floor),
            verdict(ratio(json, floor) <= JSON_MAX),
            verdict(rss <= RSS_MAX_MB),
        ));
    }
    if let [after, before] = builds[..] {
        out.push_str(&change(entries, after, before));
    }
    out
}

fn find<'a>(entries: &'a [Entry], mode: Mode, build: &str) -> &'a Row {
    &entries
        .iter()
        .find(|e| e.mode == mode && e.build == build)
        .expect("every build has every mode")
        .row
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "not met"
    }
}

/// "after ÷ before CPU: report 0.97, --json 1.01" (medians of the same rounds).
fn change(entries: &[Entry], after: &str, before: &str) -> String {
    let q = |mode| {
        let (a, b) = (find(entries, mode, after), find(entries, mode, before));
        if b.cpu() > 0.0 {
            a.cpu() / b.cpu()
        } else {
            f64::NAN
        }
    };
    format!(
        "- after ÷ before, CPU medians: explain report {:.2}, --json into a file {:.2} (on a \
         shared machine these move by tens of percent between runs; the instruction counts \
         below are the measure of a change)\n",
        q(Mode::Report),
        q(Mode::Json)
    )
}
