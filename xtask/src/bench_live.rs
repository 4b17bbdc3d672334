//! `cargo xtask bench --only live` (issue 17): live capture on `lo` under the lab
//! bench load, side by side — labsniff `-i lo` (the report, and `--json` into a pipe a
//! reader drains) and `tcpdump -i lo -w` — with frames captured, kernel drops,
//! labsniff's queue drops and messages found (tcpdump's: `labsniff -r` on its file).
//! Root only (live capture); skipped with the reason otherwise.

use crate::measure::proc_hwm_kib;
use crate::procs::{spawn, spawn_reading};
use crate::util::{have, is_root};
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// One capture's figures.
#[derive(Debug, Default, Clone)]
struct Row {
    frames: u64,
    kernel: u64,
    queue: Option<u64>,
    messages: u64,
    rss_mb: Option<f64>,
}

/// What a JSON reader keeps: message lines counted, the summary line.
pub(crate) fn read_json(out: impl Read) -> (u64, Option<serde_json::Value>) {
    let mut messages = 0;
    let mut summary = None;
    for line in BufReader::new(out).lines().map_while(Result::ok) {
        if line.starts_with("{\"type\":\"message\"") {
            messages += 1;
        } else if line.starts_with("{\"type\":\"summary\"") {
            summary = serde_json::from_str(&line).ok();
        }
    }
    (messages, summary)
}

/// The report's summary line ("N frames, ..., K dropped by the kernel, ...").
fn read_report(out: impl Read) -> Option<String> {
    let mut last = None;
    for line in BufReader::new(out).lines().map_while(Result::ok) {
        if line.contains(" dropped by the kernel") {
            last = Some(line);
        }
    }
    last
}

/// "80256 frames, ..., 12 messages, ..., 3 dropped by the kernel, 4 dropped by ..."
fn figure(line: &str, after: &str) -> Option<u64> {
    line.split(", ").find_map(|part| {
        let (n, rest) = part.split_once(' ')?;
        rest.starts_with(after).then(|| n.parse().ok())?
    })
}

fn u(v: &serde_json::Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

/// One run of the load with the three captures; rows: report, --json, tcpdump.
fn one_run(labnet: &Path, labsniff: &Path, conns: u32, messages: u32) -> Result<[Row; 3]> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port()
        .to_string();
    let filter = format!("tcp port {port}");
    let pcap = crate::util::root().join(format!("target/bench/live-{port}.pcap"));
    let _server = spawn(
        "labnet tcp-server",
        Command::new(labnet)
            .args([
                "tcp-server",
                "--model",
                "selector",
                "--proto",
                "v3",
                "--quiet",
            ])
            .args(["--bind", "127.0.0.1", "--port", &port]),
    )?;
    let mut dump = spawn(
        "tcpdump",
        Command::new("tcpdump")
            .args(["-i", "lo", "-Z", "root", "-w"])
            .arg(&pcap)
            .arg(&filter),
    )?;
    dump.wait_for_line("listening on", Duration::from_secs(10))?;
    let sniff = |json: bool| {
        let mut cmd = Command::new(labsniff);
        cmd.args(["-i", "lo", "-f", &filter, "--port", &port])
            .env("NO_COLOR", "1");
        if json {
            cmd.arg("--json");
        }
        cmd
    };
    let (mut json, json_out) = spawn_reading("labsniff --json", &mut sniff(true), read_json)?;
    let (mut report, report_out) = spawn_reading("labsniff", &mut sniff(false), read_report)?;
    json.wait_for_line("listening on", Duration::from_secs(10))?;
    report.wait_for_line("listening on", Duration::from_secs(10))?;
    let bench = spawn(
        "labnet bench",
        Command::new(labnet)
            .args(["bench", "--proto", "v3", "--port", &port])
            .args([
                "--conns",
                &conns.to_string(),
                "--messages",
                &messages.to_string(),
            ])
            .args(["--size", "32", "--window", "16"]),
    )?;
    let (status, _) = bench.finish(Duration::from_secs(120))?;
    if !status.success() {
        bail!("labnet bench failed ({status})");
    }
    std::thread::sleep(Duration::from_secs(1));
    let rss = |pid| proc_hwm_kib(pid).map(|k| k as f64 / 1024.0);
    let (json_rss, report_rss) = (rss(json.pid()), rss(report.pid()));
    let dump_said = dump.stop(Duration::from_secs(20))?;
    json.stop(Duration::from_secs(60))?;
    report.stop(Duration::from_secs(60))?;
    let (json_messages, summary) = json_out
        .join()
        .map_err(|_| anyhow::anyhow!("the JSON reader panicked"))?;
    let summary = summary.context("labsniff --json printed no summary")?;
    let line = report_out
        .join()
        .map_err(|_| anyhow::anyhow!("the report reader panicked"))?
        .context("labsniff printed no summary line")?;
    let said = |what: &str| {
        dump_said
            .iter()
            .find_map(|l| l.strip_suffix(what).and_then(|n| n.trim().parse().ok()))
            .unwrap_or(0)
    };
    let file = Command::new(labsniff)
        .arg("-r")
        .arg(&pcap)
        .args(["--port", &port, "--json"])
        .output()
        .context("cannot run labsniff -r")?;
    let (file_messages, _) = read_json(file.stdout.as_slice());
    let _ = std::fs::remove_file(&pcap);
    Ok([
        Row {
            frames: figure(&line, "frame").unwrap_or(0),
            kernel: figure(&line, "dropped by the kernel").unwrap_or(0),
            queue: figure(&line, "dropped by labsniff"),
            messages: figure(&line, "message").unwrap_or(0),
            rss_mb: report_rss,
        },
        Row {
            frames: u(&summary, "frames"),
            kernel: u(&summary, "dropped"),
            queue: summary["queue_dropped"].as_u64(),
            messages: json_messages,
            rss_mb: json_rss,
        },
        Row {
            frames: said("packets captured"),
            kernel: said("packets dropped by kernel"),
            queue: None,
            messages: file_messages,
            rss_mb: None,
        },
    ])
}

pub fn live_bench(labnet: &Path, labsniff: &Path, quick: bool) -> Result<String> {
    let mut out = String::from("## live capture on lo (issue 17)\n\n");
    if !is_root() {
        out.push_str("skipped: needs root (live capture)\n");
        println!("{out}");
        return Ok(out);
    }
    if !have("tcpdump") {
        out.push_str("skipped: tcpdump is not installed\n");
        println!("{out}");
        return Ok(out);
    }
    let messages = if quick { 2_000 } else { 20_000 };
    let runs = if quick { 1 } else { 3 };
    out.push_str(&format!(
        "load: `labnet bench --proto v3 --conns C --messages {messages} --size 32 --window 16` against \
         `labnet tcp-server --model selector --proto v3 --quiet`; the three captures run side by side \
         on the same traffic, {runs} runs each (the machine is shared: figures vary between runs)\n\n\
         | conns | run | capture | frames | kernel drops | queue drops | messages found | of | peak RSS MB |\n\
         |---:|---:|---|---:|---:|---:|---:|---:|---:|\n"
    ));
    for conns in [32u32, 8] {
        let expected = u64::from(conns) * u64::from(messages) * 2;
        for run in 1..=runs {
            eprintln!("xtask: live capture, {conns} connections, run {run}");
            let rows = one_run(labnet, labsniff, conns, messages)?;
            let names = [
                "labsniff -i lo (report)",
                "labsniff -i lo --json (piped to a reader)",
                "tcpdump -i lo -w (then labsniff -r)",
            ];
            for (name, r) in names.iter().zip(rows.iter()) {
                out.push_str(&format!(
                    "| {conns} | {run} | {name} | {} | {} | {} | {} | {expected} | {} |\n",
                    r.frames,
                    r.kernel,
                    r.queue.map_or("–".to_string(), |q| q.to_string()),
                    r.messages,
                    r.rss_mb.map_or("–".to_string(), |m| format!("{m:.0}")),
                ));
            }
        }
    }
    println!("{out}");
    Ok(out)
}
