//! `cargo xtask bench`: the performance figures, each measured in one run side by side.
//!
//! 1. a lab capture (5,000 v3 connections × 200 request/echo pairs, payloads of
//!    10–60 bytes), synthesised once by labfixtures' `gen-capture` and cached under
//!    `target/bench/`;
//! 2. labsniff over it (`--json` to /dev/null, and the default report) next to the
//!    floor (a bare libpcap `next_packet()` loop) and, where installed, tshark and tcpdump;
//! 3. the v3 threads and selector servers under `labnet bench`, next to a Python
//!    `selectors` server (bench/selectors_v3_server.py) under the same load;
//! 4. scale: 10,000 concurrent connections on the selector server, 1,000 on threads;
//! 5. (root) the netlab forwarder at 100 Mbit/s of lab traffic: its own drops and
//!    added latency, against a direct veth pair (`bench_netlab`; skipped, saying why,
//!    without root).
//! 6. live capture (`--only live`, root only): labsniff `-i lo` (report and `--json`)
//!    beside `tcpdump -i lo -w` under the issue-17 bench load, at 32 and 8 connections.
//! 7. a message-dense loopback capture (`--only dense`, [`crate::bench_dense`]): the
//!    Python selectors server under `labnet bench`, about one message per frame, made
//!    once (root) and cached; labsniff's report and `--json` into a file against
//!    `tcpdump -r`, and with `--base REV` REV's labsniff in the same runs.
//!
//! `cargo xtask bench [--quick] [--only PART] [--base REV]`: --quick uses a 10× smaller
//! capture and fewer messages (a smoke run, not the figures to report); --base is read
//! by the dense part only.

use crate::bench_stats::{runs_arg, Row};
use crate::measure;
use crate::util::{cargo, have, root, run};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The release binaries the parts run.
struct Bins {
    labsniff: PathBuf,
    labnet: PathBuf,
    gen_capture: PathBuf,
    read_floor: PathBuf,
}

/// The command line of `cargo xtask bench`.
#[derive(Debug)]
struct BenchArgs {
    quick: bool,
    only: Option<String>,
    base: Option<String>,
}

impl BenchArgs {
    /// Read `--quick`, `--only PART` and `--base REV`.
    fn parse(args: &[String]) -> Result<BenchArgs> {
        let quick = args.iter().any(|a| a == "--quick");
        let only = args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1))
            .cloned();
        let base = args
            .iter()
            .position(|a| a == "--base")
            .map(|i| args.get(i + 1).cloned())
            .map(|rev| rev.ok_or_else(|| anyhow::anyhow!("--base needs a revision")))
            .transpose()?;
        Ok(BenchArgs { quick, only, base })
    }

    /// Whether `--only` asked for exactly `part`.
    fn only_is(&self, part: &str) -> bool {
        self.only.as_deref() == Some(part)
    }

    /// Whether one of `parts` runs: all do without `--only`.
    fn wants(&self, parts: &[&str]) -> bool {
        self.only.as_deref().is_none_or(|o| parts.contains(&o))
    }
}

pub fn main(args: &[String]) -> Result<()> {
    let args = BenchArgs::parse(args)?;
    if args.only_is("netlab") && !crate::util::is_root() {
        // Said before building anything: there is nothing to measure without root.
        println!("netlab bench skipped: it needs root (network namespaces): run `sudo -E cargo xtask bench --only netlab`");
        return Ok(());
    }
    crate::deps::ensure(false)?;
    let bins = build_bins(&args)?;
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let report = run_parts(&args, &bins, &dir)?;
    let out = dir.join("results.md");
    std::fs::write(&out, &report)?;
    println!("\n(figures also written to {})", out.display());
    Ok(())
}

/// Build the release binaries the chosen parts need, and say where they are.
fn build_bins(args: &BenchArgs) -> Result<Bins> {
    // The netlab figures need only labnet: on a shared 2-core machine, build no more.
    let crates: &[&str] = if args.only_is("netlab") {
        &["-p", "labnet"]
    } else if args.only_is("dense") {
        &["-p", "labsniff", "-p", "labnet"]
    } else {
        &[
            "-p",
            "labsniff",
            "-p",
            "labnet",
            "-p",
            "labfixtures",
            "--examples",
        ]
    };
    run(
        "build release binaries",
        cargo()
            .args(["build", "--release", "--quiet", "--bins"])
            .args(crates),
    )?;
    let release = root().join("target/release");
    Ok(Bins {
        labsniff: release.join("labsniff"),
        labnet: release.join("labnet"),
        gen_capture: release.join("gen-capture"),
        read_floor: release.join("examples/read_floor"),
    })
}

/// Run the chosen parts in their order; their tables, one after the other.
fn run_parts(args: &BenchArgs, bins: &Bins, dir: &Path) -> Result<String> {
    let quick = args.quick;
    let mut report = String::new();
    if args.wants(&["sniff"]) {
        report.push_str(&sniff_bench(bins, dir, quick)?);
    }
    if args.wants(&["servers", "first-echo"]) {
        report.push_str(&crate::bench_servers::first_echo_bench(
            &bins.labnet,
            quick,
        )?);
    }
    if args.wants(&["servers"]) {
        report.push_str(&crate::bench_servers::servers_bench(&bins.labnet, quick)?);
    }
    if args.wants(&["live"]) {
        report.push_str(&crate::bench_live::live_bench(
            &bins.labnet,
            &bins.labsniff,
            quick,
        )?);
    }
    if args.wants(&["scale"]) {
        report.push_str(&crate::bench_servers::scale_bench(&bins.labnet, quick)?);
    }
    if args.wants(&["netlab"]) {
        // 10 s at 10,000 messages/s (--quick: 2 s).
        let per_conn = if quick { 2_000 } else { 10_000 };
        report.push_str(&crate::bench_netlab::netlab_bench(&bins.labnet, per_conn)?);
    }
    if args.wants(&["dense"]) {
        report.push_str(&crate::bench_dense::dense_bench(
            &bins.labnet,
            &bins.labsniff,
            quick,
            args.base.as_deref(),
        )?);
    }
    Ok(report)
}

/// The lab capture the sniff part reads, and what it holds.
#[derive(Debug)]
struct LabCapture {
    pcap: PathBuf,
    conns: u32,
    pairs: u32,
    packets: u64,
    size_mb: f64,
}

/// One measured command of the sniff table: its name, the command, where its
/// standard output goes.
type SniffCommand = (&'static str, Command, measure::Stdout);

/// The rows of the sniff table, by position in [`sniff_commands`].
const FLOOR_ROW: usize = 0;
const PIPE_ROW: usize = 1;
const JSON_ROW: usize = 2;
const REPORT_ROW: usize = 3;

/// Generate (once) and measure reading the lab capture.
fn sniff_bench(bins: &Bins, dir: &Path, quick: bool) -> Result<String> {
    let capture = lab_capture(bins, dir, quick)?;
    let timeout = Duration::from_secs(1200);
    // Each command RUNS times, alternating, so that a burst of load from other users
    // of the machine hits every command alike; medians and ranges are reported.
    let runs = runs_arg(args_runs());
    let mut commands = sniff_commands(bins, &capture.pcap);
    let mut rows = measure_interleaved(&mut commands, runs, timeout)?;
    rows.extend(tshark_row(&capture.pcap, timeout)?);
    let mut out = sniff_header(&capture, runs);
    out.push_str(&sniff_table(&rows, capture.packets));
    out.push_str(&sniff_targets(&rows));
    out.push('\n');
    println!("{out}");
    Ok(out)
}

/// The cached lab capture (synthesised by gen-capture when missing) and its size.
fn lab_capture(bins: &Bins, dir: &Path, quick: bool) -> Result<LabCapture> {
    let (conns, pairs): (u32, u32) = if quick { (500, 200) } else { (5000, 200) };
    let pcap = dir.join(format!("lab-{conns}x{pairs}.pcap"));
    if !pcap.exists() {
        let tmp = pcap.with_extension("pcap.tmp");
        run(
            &format!("synthesise {conns} connections × {pairs} pairs"),
            Command::new(&bins.gen_capture).arg(&tmp).args([
                "--conns",
                &conns.to_string(),
                "--pairs",
                &pairs.to_string(),
                "--seed",
                "1",
            ]),
        )?;
        std::fs::rename(&tmp, &pcap)?;
    }
    let packets = count_packets(&bins.read_floor, &pcap)?;
    let size_mb = std::fs::metadata(&pcap)?.len() as f64 / 1e6;
    Ok(LabCapture {
        pcap,
        conns,
        pairs,
        packets,
        size_mb,
    })
}

/// The commands measured RUNS times: the floor, labsniff three ways, and tcpdump
/// where installed (in the order of the `*_ROW` constants).
fn sniff_commands(bins: &Bins, pcap: &Path) -> Vec<SniffCommand> {
    let lab = |extra: &[&str]| {
        let mut c = Command::new(&bins.labsniff);
        c.arg("-r").arg(pcap).args(extra);
        c
    };
    let mut commands: Vec<SniffCommand> = vec![
        (
            "libpcap read loop (floor)",
            {
                let mut c = Command::new(&bins.read_floor);
                c.arg(pcap);
                c
            },
            measure::Stdout::Null,
        ),
        (
            "labsniff -r --json into a drained pipe",
            lab(&["--json"]),
            measure::Stdout::Drained,
        ),
        (
            "labsniff -r --json > /dev/null",
            lab(&["--json"]),
            measure::Stdout::Null,
        ),
        (
            "labsniff -r (explain report)",
            lab(&[]),
            measure::Stdout::Null,
        ),
    ];
    if have("tcpdump") {
        let mut c = Command::new("tcpdump");
        c.arg("-r").arg(pcap).args(["-w", "/dev/null"]);
        commands.push(("tcpdump -r FILE -w /dev/null", c, measure::Stdout::Null));
    }
    commands
}

/// Run every command `runs` times, one after the other in turn; one row each.
fn measure_interleaved(
    commands: &mut [SniffCommand],
    runs: usize,
    timeout: Duration,
) -> Result<Vec<Row>> {
    let mut rows: Vec<Row> = commands
        .iter()
        .map(|(name, _, _)| Row {
            name: name.to_string(),
            runs: Vec::new(),
        })
        .collect();
    for run in 0..runs {
        for (row, (name, cmd, out)) in rows.iter_mut().zip(commands.iter_mut()) {
            eprintln!("xtask: measuring {name} ({}/{runs})", run + 1);
            row.runs.push(measure::run_with(name, cmd, timeout, *out)?);
        }
    }
    Ok(rows)
}

/// tshark's conversation table, measured once where tshark is installed and
/// `BENCH_NO_TSHARK` is not set.
fn tshark_row(pcap: &Path, timeout: Duration) -> Result<Option<Row>> {
    if !have("tshark") || std::env::var_os("BENCH_NO_TSHARK").is_some() {
        return Ok(None);
    }
    // Once: 20 s and more than a GB of memory per run.
    eprintln!("xtask: measuring tshark");
    let m = measure::run(
        "tshark",
        Command::new("tshark")
            .arg("-r")
            .arg(pcap)
            .args(["-q", "-z", "conv,tcp"]),
        timeout,
    )?;
    Ok(Some(Row {
        name: "tshark -q -z conv,tcp (1 run)".to_string(),
        runs: vec![m],
    }))
}

/// The section title and what the capture holds and how it was measured.
fn sniff_header(capture: &LabCapture, runs: usize) -> String {
    let LabCapture {
        pcap,
        conns,
        pairs,
        packets,
        size_mb,
    } = capture;
    let data_segments = u64::from(*conns) * u64::from(*pairs) * 2;
    format!(
        "## labsniff over a lab capture\n\ncapture: {} ({packets} packets, {size_mb:.0} MB, {conns} v3 connections × {pairs} request/echo pairs)\n\
         each pair is two data segments (request, echo): {data_segments} packets; the other {} are handshakes, ACKs and teardowns\n\
         {runs} runs of each command, interleaved; medians, CPU range in brackets; CPU = user + system of the command's own process\n\n",
        pcap.display(),
        packets.saturating_sub(data_segments)
    )
}

/// tcpdump's median CPU seconds, where it was measured and used any.
fn tcpdump_cpu(rows: &[Row]) -> Option<f64> {
    rows.iter()
        .find(|r| r.name.starts_with("tcpdump"))
        .map(Row::cpu)
        .filter(|t| *t > 0.0)
}

/// The table: one line per command, against the floor and tcpdump.
fn sniff_table(rows: &[Row], packets: u64) -> String {
    let floor = rows[FLOOR_ROW].wall();
    let tcpdump_cpu = tcpdump_cpu(rows);
    let mut out = String::from("| command | wall s | CPU s [range] | packets/s | peak RSS MB | wall × floor | CPU × tcpdump |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for row in rows {
        let wall = row.wall();
        let (lo, hi) = row.cpu_range();
        out.push_str(&format!(
            "| {} | {wall:.2} | {:.2} [{lo:.2}–{hi:.2}] | {:.0} | {:.1} | {:.2} | {} |\n",
            row.name,
            row.cpu(),
            packets as f64 / wall,
            row.rss_mb(),
            wall / floor,
            tcpdump_cpu
                .map(|t| format!("{:.2}", row.cpu() / t))
                .unwrap_or_else(|| "-".to_string()),
        ));
    }
    out
}

/// The targets line (without its closing newline): report and pipe against
/// tcpdump, `--json` against tshark.
fn sniff_targets(rows: &[Row]) -> String {
    let mut out = String::new();
    if let Some(t) = tcpdump_cpu(rows) {
        let report = &rows[REPORT_ROW];
        let pipe = &rows[PIPE_ROW];
        out.push_str(&format!(
            "\ntargets: explain report CPU {:.2}× tcpdump's (target ≤ 2.5×), peak RSS {:.1} MB (target ≤ 64 MB); \
             --json into a drained pipe CPU {:.2}× tcpdump's (target ≤ 4×)",
            report.cpu() / t,
            report.rss_mb(),
            pipe.cpu() / t,
        ));
    }
    if let Some(tshark) = rows.iter().find(|r| r.name.starts_with("tshark")) {
        out.push_str(&format!(
            "; {:.1}× faster than tshark's conversation table (target ≥ 25×)",
            tshark.wall() / rows[JSON_ROW].wall()
        ));
    }
    out
}

/// `BENCH_RUNS` (default 3).
fn args_runs() -> Option<String> {
    std::env::var("BENCH_RUNS").ok()
}

/// The floor program prints the packet count it read.
fn count_packets(read_floor: &Path, pcap: &Path) -> Result<u64> {
    let out = Command::new(read_floor)
        .arg(pcap)
        .output()
        .context("cannot run read_floor")?;
    if !out.status.success() {
        bail!(
            "read_floor failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .with_context(|| {
            format!(
                "read_floor printed '{}', expected a packet count",
                text.trim()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::BenchArgs;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn only_picks_its_parts_and_first_echo_is_part_of_servers() {
        let all = BenchArgs::parse(&args("--quick")).unwrap();
        assert!(all.quick && all.wants(&["sniff"]) && all.wants(&["netlab"]));
        let echo = BenchArgs::parse(&args("--only first-echo")).unwrap();
        assert!(echo.wants(&["servers", "first-echo"]));
        assert!(!echo.wants(&["servers"]) && !echo.wants(&["sniff"]));
        let servers = BenchArgs::parse(&args("--only servers")).unwrap();
        assert!(servers.wants(&["servers", "first-echo"]) && servers.wants(&["servers"]));
        assert!(BenchArgs::parse(&args("--only netlab"))
            .unwrap()
            .only_is("netlab"));
    }

    #[test]
    fn base_needs_a_revision() {
        let dense = BenchArgs::parse(&args("--only dense --base HEAD~1")).unwrap();
        assert_eq!(dense.base.as_deref(), Some("HEAD~1"));
        assert!(BenchArgs::parse(&args("--only dense --base")).is_err());
    }
}
