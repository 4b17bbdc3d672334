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

struct Bins {
    labsniff: PathBuf,
    labnet: PathBuf,
    gen_capture: PathBuf,
    read_floor: PathBuf,
}

pub fn main(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let only: Option<&str> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    let base: Option<&str> = args
        .iter()
        .position(|a| a == "--base")
        .map(|i| args.get(i + 1).map(String::as_str))
        .map(|rev| rev.ok_or_else(|| anyhow::anyhow!("--base needs a revision")))
        .transpose()?;
    if only == Some("netlab") && !crate::util::is_root() {
        // Said before building anything: there is nothing to measure without root.
        println!("netlab bench skipped: it needs root (network namespaces): run `sudo -E cargo xtask bench --only netlab`");
        return Ok(());
    }
    crate::deps::ensure(false)?;
    // The netlab figures need only labnet: on a shared 2-core machine, build no more.
    let crates: &[&str] = if only == Some("netlab") {
        &["-p", "labnet"]
    } else if only == Some("dense") {
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
    let bins = Bins {
        labsniff: release.join("labsniff"),
        labnet: release.join("labnet"),
        gen_capture: release.join("gen-capture"),
        read_floor: release.join("examples/read_floor"),
    };
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let mut report = String::new();
    if only.is_none() || only == Some("sniff") {
        report.push_str(&sniff_bench(&bins, &dir, quick)?);
    }
    if only.is_none() || only == Some("servers") || only == Some("first-echo") {
        report.push_str(&crate::bench_servers::first_echo_bench(
            &bins.labnet,
            quick,
        )?);
    }
    if only.is_none() || only == Some("servers") {
        report.push_str(&crate::bench_servers::servers_bench(&bins.labnet, quick)?);
    }
    if only.is_none() || only == Some("live") {
        report.push_str(&crate::bench_live::live_bench(
            &bins.labnet,
            &bins.labsniff,
            quick,
        )?);
    }
    if only.is_none() || only == Some("scale") {
        report.push_str(&crate::bench_servers::scale_bench(&bins.labnet, quick)?);
    }
    if only.is_none() || only == Some("netlab") {
        // 10 s at 10,000 messages/s (--quick: 2 s).
        let per_conn = if quick { 2_000 } else { 10_000 };
        report.push_str(&crate::bench_netlab::netlab_bench(&bins.labnet, per_conn)?);
    }
    if only.is_none() || only == Some("dense") {
        report.push_str(&crate::bench_dense::dense_bench(
            &bins.labnet,
            &bins.labsniff,
            quick,
            base,
        )?);
    }
    let out = dir.join("results.md");
    std::fs::write(&out, &report)?;
    println!("\n(figures also written to {})", out.display());
    Ok(())
}

/// Generate (once) and measure reading the lab capture.
fn sniff_bench(bins: &Bins, dir: &Path, quick: bool) -> Result<String> {
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
    let timeout = Duration::from_secs(1200);
    // Each command RUNS times, alternating, so that a burst of load from other users
    // of the machine hits every command alike; medians and ranges are reported.
    let runs = runs_arg(args_runs());
    let mut rows: Vec<Row> = Vec::new();
    let lab = |extra: &[&str]| {
        let mut c = Command::new(&bins.labsniff);
        c.arg("-r").arg(&pcap).args(extra);
        c
    };
    let mut commands: Vec<(&str, Command, measure::Stdout)> = vec![
        (
            "libpcap read loop (floor)",
            {
                let mut c = Command::new(&bins.read_floor);
                c.arg(&pcap);
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
        c.arg("-r").arg(&pcap).args(["-w", "/dev/null"]);
        commands.push(("tcpdump -r FILE -w /dev/null", c, measure::Stdout::Null));
    }
    for (name, _, _) in &commands {
        rows.push(Row {
            name: name.to_string(),
            runs: Vec::new(),
        });
    }
    for run in 0..runs {
        for (i, (name, cmd, out)) in commands.iter_mut().enumerate() {
            eprintln!("xtask: measuring {name} ({}/{runs})", run + 1);
            rows[i]
                .runs
                .push(measure::run_with(name, cmd, timeout, *out)?);
        }
    }
    if have("tshark") && std::env::var_os("BENCH_NO_TSHARK").is_none() {
        // Once: 20 s and more than a GB of memory per run.
        eprintln!("xtask: measuring tshark");
        let m = measure::run(
            "tshark",
            Command::new("tshark")
                .arg("-r")
                .arg(&pcap)
                .args(["-q", "-z", "conv,tcp"]),
            timeout,
        )?;
        rows.push(Row {
            name: "tshark -q -z conv,tcp (1 run)".to_string(),
            runs: vec![m],
        });
    }
    let floor = rows[0].wall();
    let json = rows[2].wall();
    let data_segments = u64::from(conns) * u64::from(pairs) * 2;
    let mut out = format!(
        "## labsniff over a lab capture\n\ncapture: {} ({packets} packets, {size_mb:.0} MB, {conns} v3 connections × {pairs} request/echo pairs)\n\
         each pair is two data segments (request, echo): {data_segments} packets; the other {} are handshakes, ACKs and teardowns\n\
         {runs} runs of each command, interleaved; medians, CPU range in brackets; CPU = user + system of the command's own process\n\n",
        pcap.display(),
        packets.saturating_sub(data_segments)
    );
    let tcpdump_cpu = rows
        .iter()
        .find(|r| r.name.starts_with("tcpdump"))
        .map(Row::cpu);
    out.push_str("| command | wall s | CPU s [range] | packets/s | peak RSS MB | wall × floor | CPU × tcpdump |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for row in &rows {
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
                .filter(|t| *t > 0.0)
                .map(|t| format!("{:.2}", row.cpu() / t))
                .unwrap_or_else(|| "-".to_string()),
        ));
    }
    if let Some(t) = tcpdump_cpu.filter(|t| *t > 0.0) {
        let report = &rows[3];
        let pipe = &rows[1];
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
            tshark.wall() / json
        ));
    }
    out.push('\n');
    println!("{out}");
    Ok(out)
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
