//! `cargo xtask bench --only live` (issue 17): live capture on `lo` under the lab
//! bench load, side by side — labsniff `-i lo` (the report, and `--json` into a pipe a
//! reader drains) and `tcpdump -i lo -w` — with frames captured, kernel drops,
//! labsniff's queue drops and messages found (tcpdump's: `labsniff -r` on its file).
//! Root only (live capture); skipped with the reason otherwise.

use crate::measure::proc_hwm_kib;
use crate::procs::{spawn, spawn_reading, Running};
use crate::util::{have, is_root};
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;
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
    let run = LiveRun::new(labnet, labsniff)?;
    let _server = run.start_server()?;
    let captures = run.start_captures()?;
    run.load(conns, messages)?;
    // A second for the last frames to reach the captures before they are stopped.
    std::thread::sleep(Duration::from_secs(1));
    let stopped = captures.stop()?;
    let file_messages = run.messages_in_file()?;
    Ok(stopped.rows(file_messages))
}

/// One run's setup: the binaries, the free port its server listens on, the capture
/// filter for that port and the file tcpdump writes.
struct LiveRun<'a> {
    labnet: &'a Path,
    labsniff: &'a Path,
    port: String,
    filter: String,
    pcap: PathBuf,
}

/// The three captures, running on one run's traffic, and the readers of labsniff's
/// output.
struct Captures {
    dump: Running,
    json: Running,
    json_out: JoinHandle<(u64, Option<serde_json::Value>)>,
    report: Running,
    report_out: JoinHandle<Option<String>>,
}

/// What the three captures said once stopped.
struct Stopped {
    /// tcpdump's closing lines ("N packets captured", ...).
    dump_said: Vec<String>,
    json_messages: u64,
    /// labsniff --json's summary record.
    summary: serde_json::Value,
    /// The report's summary line.
    line: String,
    json_rss: Option<f64>,
    report_rss: Option<f64>,
}

impl<'a> LiveRun<'a> {
    /// Pick a free port and name the filter and file after it.
    fn new(labnet: &'a Path, labsniff: &'a Path) -> Result<LiveRun<'a>> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port()
            .to_string();
        let filter = format!("tcp port {port}");
        let pcap = crate::util::root().join(format!("target/bench/live-{port}.pcap"));
        Ok(LiveRun {
            labnet,
            labsniff,
            port,
            filter,
            pcap,
        })
    }

    /// The v3 selector server on the port (stopped when dropped).
    fn start_server(&self) -> Result<Running> {
        spawn(
            "labnet tcp-server",
            Command::new(self.labnet)
                .args([
                    "tcp-server",
                    "--model",
                    "selector",
                    "--proto",
                    "v3",
                    "--quiet",
                ])
                .args(["--bind", "127.0.0.1", "--port", &self.port]),
        )
    }

    /// tcpdump, then labsniff --json and the report, each waited for until it listens.
    fn start_captures(&self) -> Result<Captures> {
        let mut dump = spawn(
            "tcpdump",
            Command::new("tcpdump")
                .args(["-i", "lo", "-Z", "root", "-w"])
                .arg(&self.pcap)
                .arg(&self.filter),
        )?;
        dump.wait_for_line("listening on", Duration::from_secs(10))?;
        let (mut json, json_out) =
            spawn_reading("labsniff --json", &mut self.sniff(true), read_json)?;
        let (mut report, report_out) =
            spawn_reading("labsniff", &mut self.sniff(false), read_report)?;
        json.wait_for_line("listening on", Duration::from_secs(10))?;
        report.wait_for_line("listening on", Duration::from_secs(10))?;
        Ok(Captures {
            dump,
            json,
            json_out,
            report,
            report_out,
        })
    }

    /// labsniff capturing the port live on `lo`: the report, or `--json`.
    fn sniff(&self, json: bool) -> Command {
        let mut cmd = Command::new(self.labsniff);
        cmd.args(["-i", "lo", "-f", &self.filter, "--port", &self.port])
            .env("NO_COLOR", "1");
        if json {
            cmd.arg("--json");
        }
        cmd
    }

    /// The load: `labnet bench` against the server, to its end.
    fn load(&self, conns: u32, messages: u32) -> Result<()> {
        let bench = spawn(
            "labnet bench",
            Command::new(self.labnet)
                .args(["bench", "--proto", "v3", "--port", &self.port])
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
        Ok(())
    }

    /// Messages labsniff finds in tcpdump's file; the file is removed after.
    fn messages_in_file(&self) -> Result<u64> {
        let file = Command::new(self.labsniff)
            .arg("-r")
            .arg(&self.pcap)
            .args(["--port", &self.port, "--json"])
            .output()
            .context("cannot run labsniff -r")?;
        let (file_messages, _) = read_json(file.stdout.as_slice());
        let _ = std::fs::remove_file(&self.pcap);
        Ok(file_messages)
    }
}

impl Captures {
    /// Read labsniff's peak memory, stop all three and collect what they printed.
    fn stop(self) -> Result<Stopped> {
        let rss = |pid| proc_hwm_kib(pid).map(|k| k as f64 / 1024.0);
        let (json_rss, report_rss) = (rss(self.json.pid()), rss(self.report.pid()));
        let dump_said = self.dump.stop(Duration::from_secs(20))?;
        self.json.stop(Duration::from_secs(60))?;
        self.report.stop(Duration::from_secs(60))?;
        let (json_messages, summary) = self
            .json_out
            .join()
            .map_err(|_| anyhow::anyhow!("the JSON reader panicked"))?;
        let summary = summary.context("labsniff --json printed no summary")?;
        let line = self
            .report_out
            .join()
            .map_err(|_| anyhow::anyhow!("the report reader panicked"))?
            .context("labsniff printed no summary line")?;
        Ok(Stopped {
            dump_said,
            json_messages,
            summary,
            line,
            json_rss,
            report_rss,
        })
    }
}

impl Stopped {
    /// The rows in table order: report, --json, tcpdump (with the messages
    /// `labsniff -r` found in its file).
    fn rows(&self, file_messages: u64) -> [Row; 3] {
        [
            self.report_row(),
            self.json_row(),
            self.tcpdump_row(file_messages),
        ]
    }

    /// Figures of the report's summary line.
    fn report_row(&self) -> Row {
        let line = &self.line;
        Row {
            frames: figure(line, "frame").unwrap_or(0),
            kernel: figure(line, "dropped by the kernel").unwrap_or(0),
            queue: figure(line, "dropped by labsniff"),
            messages: figure(line, "message").unwrap_or(0),
            rss_mb: self.report_rss,
        }
    }

    /// Figures of the --json summary record and the message records counted.
    fn json_row(&self) -> Row {
        let summary = &self.summary;
        Row {
            frames: u(summary, "frames"),
            kernel: u(summary, "dropped"),
            queue: summary["queue_dropped"].as_u64(),
            messages: self.json_messages,
            rss_mb: self.json_rss,
        }
    }

    /// Figures of tcpdump's closing lines.
    fn tcpdump_row(&self, file_messages: u64) -> Row {
        Row {
            frames: self.tcpdump_said("packets captured"),
            kernel: self.tcpdump_said("packets dropped by kernel"),
            queue: None,
            messages: file_messages,
            rss_mb: None,
        }
    }

    /// N of tcpdump's closing line "N `what`" (0 when it did not say).
    fn tcpdump_said(&self, what: &str) -> u64 {
        self.dump_said
            .iter()
            .find_map(|l| l.strip_suffix(what).and_then(|n| n.trim().parse().ok()))
            .unwrap_or(0)
    }
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
    for conns in [64u32, 32, 8] {
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
