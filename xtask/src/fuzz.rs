//! `cargo xtask fuzz [SECONDS] [--runs N] [--asan] [TARGET...]`: run every fuzz target
//! of `fuzz/` (or the ones named) for SECONDS each (default 60), one after the other,
//! and print each target's executions in a table. With `--runs N` each target runs
//! until N executions, SECONDS (default then 3600) being only a cap; a target the cap
//! stopped short is marked so. Fails when a target crashes, naming the input that
//! crashed it.
//!
//! Inputs that once crashed a target are kept in `fuzz/regressions/<target>/` and
//! replayed at the start of every run of it.
//!
//! Sanitizer: none by default, with debug assertions (integer overflow checks) on. The
//! code under test is safe Rust (the only `unsafe` blocks are libc calls in labnet's
//! rlimit and labsniff's privilege drop, neither reached by a target), so AddressSanitizer
//! can find nothing that bounds checks do not already turn into a panic, and it made the
//! targets about ten times slower here (framer: 2,500 vs 28,900 executions/s). `--asan`
//! brings it back.
//!
//! The fuzz crate lives outside the workspace (libFuzzer needs nightly flags, which
//! `RUSTC_BOOTSTRAP=1` unlocks on the stable toolchain). Seeds are written fresh into
//! `fuzz/corpus/<target>/` before each run by the crate's `seeds` program; the corpus
//! libFuzzer grows there is kept between runs (it is git-ignored).

use crate::util::{cargo, have, root, run};
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The fuzz targets, in the order they run (see `fuzz/Cargo.toml`).
const TARGETS: [&str; 5] = ["framer", "sniff_frames", "reassembler", "capfile", "report"];
const DEFAULT_SECONDS: u64 = 60;
/// The time cap per target when `--runs` sets the goal.
const DEFAULT_CAP_SECONDS: u64 = 3600;

/// How one target's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    target: String,
    seconds: u64,
    /// The executions asked for with `--runs`, if any.
    runs: Option<u64>,
    /// Inputs executed, from libFuzzer's "Done N runs" (or its final stats).
    execs: Option<u64>,
    /// `None`: no crash; `Some(path)`: the input libFuzzer saved.
    crash: Option<String>,
    log: PathBuf,
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Args {
    seconds: u64,
    runs: Option<u64>,
    asan: bool,
    targets: Vec<String>,
}

pub fn main(args: &[String]) -> Result<()> {
    let args = parse_args(args)?;
    crate::deps::ensure(false)?;
    if !have("cargo-fuzz") {
        run(
            "install cargo-fuzz",
            cargo().args(["install", "cargo-fuzz"]),
        )?;
    }
    let dir = root().join("fuzz");
    run(
        "write seed corpora",
        cargo()
            .current_dir(&dir)
            .args(["run", "--quiet", "--bin", "seeds", "--", "corpus"]),
    )?;
    let mut outcomes = Vec::new();
    for target in &args.targets {
        outcomes.push(run_target(&dir, target, &args)?);
    }
    print!("{}", table(&outcomes));
    let crashes: Vec<String> = outcomes
        .iter()
        .filter_map(|o| {
            let log = o.log.display();
            o.crash
                .as_ref()
                .map(|c| format!("{}: {c} (log: {log})", o.target))
        })
        .collect();
    if !crashes.is_empty() {
        bail!(
            "{} fuzz target(s) crashed; reproduce with `RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET INPUT` in fuzz/:\n  {}",
            crashes.len(),
            crashes.join("\n  ")
        );
    }
    Ok(())
}

/// `[SECONDS] [--runs N] [--asan] [TARGET...]`, in any order.
fn parse_args(args: &[String]) -> Result<Args> {
    let mut seconds = None;
    let mut runs = None;
    let mut asan = false;
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--asan" {
            asan = true;
        } else if arg == "--runs" {
            let n = args
                .next()
                .context("--runs needs a number of executions, e.g. --runs 10000000")?;
            let n: u64 = n
                .parse()
                .with_context(|| format!("--runs '{n}' is not a number of executions"))?;
            if n == 0 {
                bail!("--runs 0 would run nothing: give 1 or more executions");
            }
            runs = Some(n);
        } else if arg.bytes().all(|b| b.is_ascii_digit()) {
            let s: u64 = arg
                .parse()
                .with_context(|| format!("'{arg}' is too large a number of seconds"))?;
            if s == 0 {
                bail!("fuzzing for 0 seconds would run nothing: give SECONDS of 1 or more");
            }
            seconds = Some(s);
        } else if TARGETS.contains(&arg.as_str()) {
            targets.push(arg.clone());
        } else {
            bail!(
                "'{arg}' is neither a number of seconds, --runs N, --asan nor a fuzz target ({})",
                TARGETS.join(", ")
            );
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    let default = if runs.is_some() {
        DEFAULT_CAP_SECONDS
    } else {
        DEFAULT_SECONDS
    };
    Ok(Args {
        seconds: seconds.unwrap_or(default),
        runs,
        asan,
        targets,
    })
}

fn run_target(dir: &Path, target: &str, args: &Args) -> Result<Outcome> {
    let seconds = args.seconds;
    let logs = dir.join("target").join("fuzz-logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let log = logs.join(format!("{target}.log"));
    let out = File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let err = out
        .try_clone()
        .with_context(|| format!("cannot reopen {}", log.display()))?;
    match args.runs {
        Some(n) => eprintln!(
            "xtask: fuzzing {target} for {n} executions, at most {seconds} s (output in {})",
            log.display()
        ),
        None => eprintln!(
            "xtask: fuzzing {target} for {seconds} s (output in {})",
            log.display()
        ),
    }
    let mut fuzz = cargo();
    fuzz.current_dir(dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run"]);
    if !args.asan {
        fuzz.args(["--sanitizer", "none", "--debug-assertions"]);
    }
    fuzz.arg(target);
    // The inputs of crashes found before (fuzz/regressions/TARGET, committed) run first,
    // as a second corpus: a regression fails at once. New inputs go to the first.
    let regressions = dir.join("regressions").join(target);
    if regressions.is_dir() {
        fuzz.arg(Path::new("corpus").join(target)).arg(&regressions);
    }
    fuzz.arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1");
    if let Some(n) = args.runs {
        fuzz.arg(format!("-runs={n}"));
    }
    // One process, no -jobs/-workers: the machine's cores are shared. libFuzzer's
    // -jobs=1 would only move the output into fuzz-0.log, so it is left out.
    let status = fuzz
        .stdout(out)
        .stderr(err)
        .status()
        .with_context(|| format!("cannot start `cargo fuzz run {target}`"))?;
    let text =
        std::fs::read_to_string(&log).with_context(|| format!("cannot read {}", log.display()))?;
    let crash = if status.success() {
        None
    } else {
        Some(crash_artifact(&text).unwrap_or_else(|| {
            format!("`cargo fuzz run {target}` failed ({status}) without saving an input")
        }))
    };
    Ok(Outcome {
        target: target.to_string(),
        runs: args.runs,
        execs: exec_count(&text),
        // With --runs the run usually ends before the cap: the seconds it really took.
        seconds: run_seconds(&text).unwrap_or(seconds).max(1),
        crash,
        log,
    })
}

/// Executions from libFuzzer's output: "Done 123 runs in 60 second(s)", or when the
/// run ended in a crash, the final stat "stat::number_of_executed_units: 123".
fn exec_count(output: &str) -> Option<u64> {
    let done = output.lines().rev().find_map(|line| {
        line.strip_prefix("Done ")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    });
    done.or_else(|| {
        output.lines().rev().find_map(|line| {
            line.strip_prefix("stat::number_of_executed_units:")?
                .trim()
                .parse()
                .ok()
        })
    })
}

/// The seconds the run took, from libFuzzer's "Done 123 runs in 60 second(s)".
fn run_seconds(output: &str) -> Option<u64> {
    output.lines().rev().find_map(|line| {
        let rest = line.strip_prefix("Done ")?;
        let (_, after) = rest.split_once(" runs in ")?;
        after.split_whitespace().next()?.parse().ok()
    })
}

/// The input libFuzzer saved for a crash, leak, timeout or out-of-memory.
fn crash_artifact(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let (_, path) = line.split_once("Test unit written to ")?;
        Some(path.trim().to_string())
    })
}

fn table(outcomes: &[Outcome]) -> String {
    let rows: Vec<[String; 5]> = outcomes
        .iter()
        .map(|o| {
            let execs = o.execs.map_or("?".to_string(), |n| n.to_string());
            // A crash ends the run early, so executions over SECONDS would understate it.
            let rate = match (o.execs, &o.crash) {
                (Some(n), None) => (n / o.seconds.max(1)).to_string(),
                _ => "?".to_string(),
            };
            let short = matches!((o.runs, o.execs), (Some(want), Some(n)) if n < want);
            let result = if o.crash.is_some() {
                "CRASH"
            } else if short {
                "ok, stopped by the time cap"
            } else {
                "ok"
            };
            [
                o.target.clone(),
                o.seconds.to_string(),
                execs,
                rate,
                result.to_string(),
            ]
        })
        .collect();
    let header = ["target", "seconds", "execs", "execs/s", "result"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn exec_count_from_done_line_or_stats() {
        let done = "#2\tINITED cov: 1\nDone 2619101 runs in 61 second(s)\nstat::number_of_executed_units: 2619101\n";
        assert_eq!(exec_count(done), Some(2_619_101));
        assert_eq!(run_seconds(done), Some(61));
        assert_eq!(run_seconds("Done 7 runs"), None);
        let crashed = "==1== ERROR: libFuzzer: deadly signal\nstat::number_of_executed_units: 43\n";
        assert_eq!(exec_count(crashed), Some(43));
        assert_eq!(exec_count("error: could not compile"), None);
    }

    #[test]
    fn crash_artifact_path() {
        let out = "artifact_prefix='/x/artifacts/framer/'; Test unit written to /x/artifacts/framer/crash-9f3b\nBase64: AQ==\n";
        assert_eq!(
            crash_artifact(out).as_deref(),
            Some("/x/artifacts/framer/crash-9f3b")
        );
        assert_eq!(crash_artifact("Done 5 runs in 1 second(s)"), None);
    }

    #[test]
    fn args_in_any_order() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all = TARGETS.map(String::from).to_vec();
        assert_eq!(
            parse_args(&args(&[])).unwrap(),
            Args {
                seconds: 60,
                runs: None,
                asan: false,
                targets: all.clone()
            }
        );
        assert_eq!(
            parse_args(&args(&["reassembler", "600"])).unwrap(),
            Args {
                seconds: 600,
                runs: None,
                asan: false,
                targets: vec!["reassembler".to_string()]
            }
        );
        assert_eq!(
            parse_args(&args(&["--runs", "10000000", "--asan"])).unwrap(),
            Args {
                seconds: DEFAULT_CAP_SECONDS,
                runs: Some(10_000_000),
                asan: true,
                targets: all
            }
        );
        assert!(parse_args(&args(&["0"])).is_err());
        assert!(parse_args(&args(&["--runs"])).is_err());
        assert!(parse_args(&args(&["--runs", "0"])).is_err());
        let err = parse_args(&args(&["fast"])).unwrap_err().to_string();
        assert_eq!(
            err,
            "'fast' is neither a number of seconds, --runs N, --asan nor a fuzz target (framer, sniff_frames, reassembler, capfile, report)"
        );
    }

    #[test]
    fn table_is_aligned() {
        let outcome = |target: &str, execs, crash: Option<&str>| Outcome {
            target: target.to_string(),
            seconds: 10,
            runs: Some(100),
            execs,
            crash: crash.map(String::from),
            log: PathBuf::from("x.log"),
        };
        let t = table(&[
            outcome("framer", Some(12345), None),
            outcome("reassembler", Some(75), Some("crash-1")),
            outcome("capfile", Some(99), None),
        ]);
        assert_eq!(
            t,
            "target       seconds  execs  execs/s  result\n\
             framer            10  12345     1234  ok\n\
             reassembler       10     75        ?  CRASH\n\
             capfile           10     99        9  ok, stopped by the time cap\n"
        );
    }
}
