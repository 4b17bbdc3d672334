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
//!
//! `cargo xtask bench [--quick]`: --quick uses a 10× smaller capture and fewer messages
//! (a smoke run, not the figures to report).

use crate::measure::{self, Measured};
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
    if only == Some("netlab") && !crate::util::is_root() {
        // Said before building anything: there is nothing to measure without root.
        println!("netlab bench skipped: it needs root (network namespaces): run `sudo -E cargo xtask bench --only netlab`");
        return Ok(());
    }
    crate::deps::ensure(false)?;
    // The netlab figures need only labnet: on a shared 2-core machine, build no more.
    let crates: &[&str] = if only == Some("netlab") {
        &["-p", "labnet"]
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
    if only.is_none() || only == Some("servers") {
        report.push_str(&crate::bench_servers::first_echo_bench(
            &bins.labnet,
            quick,
        )?);
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
    let mut rows: Vec<(String, Measured)> = Vec::new();
    let mut measure = |name: &str, cmd: &mut Command| -> Result<()> {
        eprintln!("xtask: measuring {name}");
        let m = measure::run(name, cmd, timeout)?;
        rows.push((name.to_string(), m));
        Ok(())
    };
    measure(
        "libpcap read loop (floor)",
        Command::new(&bins.read_floor).arg(&pcap),
    )?;
    measure(
        "labsniff -r --json > /dev/null",
        Command::new(&bins.labsniff)
            .arg("-r")
            .arg(&pcap)
            .arg("--json"),
    )?;
    measure(
        "labsniff -r (default report)",
        Command::new(&bins.labsniff).arg("-r").arg(&pcap),
    )?;
    if have("tshark") {
        measure(
            "tshark -q -z conv,tcp",
            Command::new("tshark")
                .arg("-r")
                .arg(&pcap)
                .args(["-q", "-z", "conv,tcp"]),
        )?;
    }
    if have("tcpdump") {
        measure(
            "tcpdump -w /dev/null",
            Command::new("tcpdump")
                .arg("-r")
                .arg(&pcap)
                .args(["-w", "/dev/null"]),
        )?;
    }
    let floor = rows[0].1.wall.as_secs_f64();
    let json = rows[1].1.wall.as_secs_f64();
    let data_segments = u64::from(conns) * u64::from(pairs) * 2;
    let mut out = format!(
        "## labsniff over a lab capture\n\ncapture: {} ({packets} packets, {size_mb:.0} MB, {conns} v3 connections × {pairs} request/echo pairs)\n\
         each pair is two data segments (request, echo): {data_segments} packets; the other {} are handshakes, ACKs and teardowns\n\n",
        pcap.display(),
        packets.saturating_sub(data_segments)
    );
    out.push_str("| command | wall s | CPU s | packets/s | peak RSS MB | × floor | labsniff --json faster by |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for (name, m) in &rows {
        let wall = m.wall.as_secs_f64();
        out.push_str(&format!(
            "| {name} | {wall:.2} | {:.2} | {:.0} | {:.1} | {:.2} | {:.1}× |\n",
            m.cpu_secs,
            packets as f64 / wall,
            m.peak_rss_kib as f64 / 1024.0,
            wall / floor,
            wall / json,
        ));
    }
    let json_rss_mb = rows[1].1.peak_rss_kib as f64 / 1024.0;
    out.push_str(&format!(
        "\ntargets: labsniff --json {:.1}× the floor (target ≤ 4×); peak RSS {json_rss_mb:.1} MB (target ≤ 64 MB)",
        json / floor
    ));
    if let Some((_, tshark)) = rows.iter().find(|(name, _)| name.starts_with("tshark")) {
        out.push_str(&format!(
            "; {:.1}× faster than tshark's conversation table (target ≥ 25×)",
            tshark.wall.as_secs_f64() / json
        ));
    }
    out.push('\n');
    println!("{out}");
    Ok(out)
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
