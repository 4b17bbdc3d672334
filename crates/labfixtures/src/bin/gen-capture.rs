//! gen-capture: write a large synthetic lab capture (v3 echo sessions) for load tests.
//!
//! Usage: gen-capture OUT.pcap [--conns N] [--pairs M] [--seed S]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use labfixtures::synth;

const USAGE: &str = "usage: gen-capture OUT.pcap [--conns N] [--pairs M] [--seed S]\n\
    writes N interleaved v3 echo connections to 10.0.0.1:5005 with M request/echo pairs each\n\
    (defaults: --conns 100 --pairs 20 --seed 1)";

/// A bad command line (exit 2), as opposed to a failure while writing (exit 1).
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n{USAGE}", self.0)
    }
}

impl std::error::Error for UsageError {}

#[derive(Debug)]
struct Args {
    out: PathBuf,
    conns: usize,
    pairs: usize,
    seed: u64,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, UsageError> {
    let mut out = None;
    let mut conns = 100usize;
    let mut pairs = 20usize;
    let mut seed = 1u64;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--conns" => conns = number(&arg, args.next())?,
            "--pairs" => pairs = number(&arg, args.next())?,
            "--seed" => seed = number(&arg, args.next())?,
            flag if flag.starts_with('-') => {
                return Err(UsageError(format!("unknown option '{flag}'")))
            }
            path => {
                if out.is_some() {
                    return Err(UsageError(format!(
                        "more than one output file given ('{path}' is the second)"
                    )));
                }
                out = Some(PathBuf::from(path));
            }
        }
    }
    let Some(out) = out else {
        return Err(UsageError("no output file given".to_owned()));
    };
    Ok(Some(Args {
        out,
        conns,
        pairs,
        seed,
    }))
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, UsageError> {
    let value = value.ok_or_else(|| UsageError(format!("{flag} needs a number after it")))?;
    value
        .parse()
        .map_err(|_| UsageError(format!("{flag} needs a whole number, got '{value}'")))
}

fn run() -> Result<()> {
    let Some(args) = parse_args(std::env::args().skip(1))? else {
        println!("{USAGE}");
        return Ok(());
    };
    let started = Instant::now();
    let stats = synth::lab_session(&args.out, args.conns, args.pairs, args.seed)?;
    let secs = started.elapsed().as_secs_f64();
    let file_bytes = std::fs::metadata(&args.out)
        .with_context(|| format!("cannot read the size of {}", args.out.display()))?
        .len();
    println!("file      {}", args.out.display());
    println!("conns     {:>12}", args.conns);
    println!("packets   {:>12}", stats.packets);
    println!("messages  {:>12}", stats.messages);
    println!(
        "bytes     {:>12}  (frame data; file {file_bytes})",
        stats.bytes
    );
    println!(
        "time      {secs:>12.2} s  ({:.0} packets/s)",
        stats.packets as f64 / secs.max(1e-9)
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-capture: {e:#}");
            if e.is::<UsageError>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
