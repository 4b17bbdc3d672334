//! The message-dense capture of `cargo xtask bench --only dense`: what a lab capture on
//! loopback looks like, about one message per frame (the bench capture of `--only sniff`
//! has more bare ACKs than messages).
//!
//! Made for real, once, and cached under `target/bench/`: the Python `selectors` v3
//! server (`bench/selectors_v3_server.py`) on the lab port 5005 when it is free, else on
//! any free port, `tcpdump -i lo -s 262144 -B KiB -w FILE 'tcp port P'` (buffering
//! normally; stopped with SIGINT and waited for), and `labnet bench --proto v3 --size 32
//! --window 1` over 8 connections. Window 1 on purpose: against this server a window of
//! W sends W messages per segment (measured: window 2 gives 2 messages a frame, window 4
//! gives 4), while window 1 gives one request per segment, one echo per segment, the
//! ACKs riding on them. A sidecar file (`NAME.pcap.json` beside `NAME.pcap`) records how
//! it was made and what it holds. A capture whose tcpdump
//! reports kernel drops is not used: the next attempt has a larger `-B` buffer.
//! `labsniff -r FILE --json` must find every message sent and echoed, or it is not used.
//!
//! Why 5005 first: a lab capture is on it, and labsniff's `--port auto` (the default for
//! `-r`) stops looking for the lab port at the first packet on 5005; on any other port
//! it reads the whole file once before the analysis (30% of the report's instructions
//! on this capture), a cost that is not per message. The port is in the sidecar, and
//! the bench says so when it is not 5005.

use crate::procs::{spawn, spawn_reading, Running};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The lab's port, tried first.
pub const LAB_PORT: u16 = 5005;

/// tcpdump's kernel buffer (`-B`, KiB) at each attempt.
const BUFFERS_KIB: [u32; 3] = [8 << 10, 64 << 10, 256 << 10];

/// How the capture is made.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub conns: u32,
    pub per_conn: u32,
    pub window: u32,
    pub size: u32,
}

impl Plan {
    /// 8 × 62,500 requests and their echoes: 1 M messages (`--quick`: 100,000).
    pub fn new(quick: bool) -> Plan {
        Plan {
            conns: 8,
            per_conn: if quick { 6_250 } else { 62_500 },
            window: 1,
            size: 32,
        }
    }

    fn file_name(&self) -> String {
        format!(
            "dense-v3-{}x{}-w{}-s{}.pcap",
            self.conns, self.per_conn, self.window, self.size
        )
    }

    /// Requests and echoes: what labsniff must find.
    pub fn messages(&self) -> u64 {
        2 * u64::from(self.conns) * u64::from(self.per_conn)
    }
}

/// The capture and its sidecar's figures.
#[derive(Debug, Clone)]
pub struct Dense {
    pub path: PathBuf,
    pub plan: Plan,
    /// The server's port (0: not recorded).
    pub port: u16,
    pub frames: u64,
    pub messages: u64,
    pub made_at: String,
    pub seconds_to_make: f64,
    pub buffer_kib: u64,
}

impl Dense {
    /// One line saying what the capture is and how it was made.
    pub fn describe(&self) -> String {
        let p = &self.plan;
        let mb = std::fs::metadata(&self.path).map_or(0.0, |m| m.len() as f64 / 1e6);
        format!(
            "{} ({} frames, {} messages: {:.3} frames per message, {mb:.0} MB); made {} in {:.0} s: \
             `labnet bench --proto v3 --conns {} --messages {} --size {} --window {}` against \
             `python3 bench/selectors_v3_server.py {}`, captured by `tcpdump -i lo -s 262144 -B {}` \
             (0 kernel drops)",
            self.path.display(),
            self.frames,
            self.messages,
            self.frames as f64 / self.messages.max(1) as f64,
            self.made_at,
            self.seconds_to_make,
            p.conns,
            p.per_conn,
            p.size,
            p.window,
            self.port,
            self.buffer_kib,
        )
    }
}

fn sidecar(pcap: &Path) -> PathBuf {
    pcap.with_extension("pcap.json")
}

fn cached(dir: &Path, plan: Plan) -> Option<PathBuf> {
    let path = dir.join(plan.file_name());
    (path.is_file() && sidecar(&path).is_file()).then_some(path)
}

/// Why the capture can be neither read from the cache nor made here, if so.
pub fn unavailable(dir: &Path, quick: bool) -> Option<String> {
    let plan = Plan::new(quick);
    if cached(dir, plan).is_some() || (crate::util::is_root() && crate::util::have("tcpdump")) {
        return None;
    }
    Some(format!(
        "{} is missing and making it needs root and tcpdump (a capture on lo): run \
         `sudo -E cargo xtask bench --only dense` once",
        dir.join(plan.file_name()).display()
    ))
}

/// The cached capture, made first when it (or its sidecar) is missing.
pub fn ensure(labnet: &Path, labsniff: &Path, dir: &Path, quick: bool) -> Result<Dense> {
    let plan = Plan::new(quick);
    if let Some(path) = cached(dir, plan) {
        return load(&path, plan);
    }
    if let Some(why) = unavailable(dir, quick) {
        bail!("{why}");
    }
    make(labnet, labsniff, &dir.join(plan.file_name()), plan)
}

fn load(path: &Path, plan: Plan) -> Result<Dense> {
    let side = sidecar(path);
    let text = std::fs::read_to_string(&side)
        .with_context(|| format!("cannot read {}", side.display()))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", side.display()))?;
    let num = |k: &str| v[k].as_u64().unwrap_or(0);
    Ok(Dense {
        path: path.to_path_buf(),
        plan,
        port: u16::try_from(num("port")).unwrap_or(0),
        frames: num("frames"),
        messages: num("messages"),
        made_at: v["made_at"].as_str().unwrap_or("?").to_string(),
        seconds_to_make: v["seconds_to_make"].as_f64().unwrap_or(0.0),
        buffer_kib: num("tcpdump_buffer_kib"),
    })
}

fn make(labnet: &Path, labsniff: &Path, path: &Path, plan: Plan) -> Result<Dense> {
    let started = Instant::now();
    let tmp = path.with_extension("pcap.partial");
    let mut captured = None;
    for buffer in BUFFERS_KIB {
        let port = pick_port()?;
        eprintln!(
            "xtask: capturing {} messages on lo, port {port} (tcpdump -B {buffer})",
            plan.messages()
        );
        let drops = attempt(labnet, &tmp, plan, port, buffer)?;
        if drops == 0 {
            captured = Some((port, buffer));
            break;
        }
        eprintln!("xtask: tcpdump dropped {drops} packets: not used, again with a larger buffer");
    }
    let Some((port, buffer)) = captured else {
        let _ = std::fs::remove_file(&tmp);
        bail!(
            "tcpdump dropped packets even with -B {} KiB: try when the machine is quieter, or --quick",
            BUFFERS_KIB[BUFFERS_KIB.len() - 1]
        );
    };
    let (frames, messages) = check(labsniff, &tmp, plan)?;
    let dense = Dense {
        path: path.to_path_buf(),
        plan,
        port,
        frames,
        messages,
        made_at: now_utc(),
        seconds_to_make: started.elapsed().as_secs_f64(),
        buffer_kib: u64::from(buffer),
    };
    write_sidecar(&dense)?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot rename {}", tmp.display()))?;
    Ok(dense)
}

/// [`LAB_PORT`] when it is free, else a free port.
fn pick_port() -> Result<u16> {
    if std::net::TcpListener::bind(("127.0.0.1", LAB_PORT)).is_ok() {
        return Ok(LAB_PORT);
    }
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// One capture under the load; returns tcpdump's "packets dropped by kernel".
fn attempt(labnet: &Path, pcap: &Path, plan: Plan, port: u16, buffer_kib: u32) -> Result<u64> {
    let _server = crate::bench_servers::start_server(labnet, "python", port)?;
    let mut dump = spawn(
        "tcpdump",
        Command::new("tcpdump")
            .args(["-i", "lo", "-Z", "root", "-s", "262144"])
            .args(["-B", &buffer_kib.to_string(), "-w"])
            .arg(pcap)
            .arg(format!("tcp port {port}")),
    )?;
    dump.wait_for_line("listening on", Duration::from_secs(10))?;
    load_generator(labnet, port, plan)?;
    // tcpdump reads the kernel's ring a block at a time, a block being handed over when
    // full or after tcpdump's 1 s timeout: stopping sooner would lose the last frames.
    std::thread::sleep(Duration::from_secs(2));
    tcpdump_drops(dump)
}

/// `labnet bench` to completion; every message echoed, byte for byte.
fn load_generator(labnet: &Path, port: u16, plan: Plan) -> Result<()> {
    let bench = spawn(
        "labnet bench",
        Command::new(labnet)
            .args(["bench", "--proto", "v3", "--ip", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .args(["--conns", &plan.conns.to_string()])
            .args(["--messages", &plan.per_conn.to_string()])
            .args(["--size", &plan.size.to_string()])
            .args(["--window", &plan.window.to_string()])
            .args(["--timeout", "240", "--json"]),
    )?;
    let (status, lines) = bench.finish(Duration::from_secs(300))?;
    if !status.success() {
        bail!("labnet bench failed ({status}): {}", lines.join("\n"));
    }
    eprintln!("xtask: {}", lines.last().map_or("", String::as_str));
    Ok(())
}

/// Stop tcpdump with SIGINT; its "N packets dropped by kernel" (it prints its counts
/// only when it exits cleanly, so their absence is an error).
fn tcpdump_drops(dump: Running) -> Result<u64> {
    let said = dump.stop(Duration::from_secs(30))?;
    let count = |what: &str| {
        said.iter()
            .find_map(|l| l.strip_suffix(what).and_then(|n| n.trim().parse().ok()))
    };
    if count("packets captured").is_none() {
        bail!(
            "tcpdump did not say how many packets it captured:\n{}",
            said.join("\n")
        );
    }
    count("packets dropped by kernel").context("tcpdump did not report its kernel drops")
}

/// labsniff over the capture: (frames, messages); every message sent and echoed there.
fn check(labsniff: &Path, pcap: &Path, plan: Plan) -> Result<(u64, u64)> {
    let (run, reader) = spawn_reading(
        "labsniff -r --json",
        Command::new(labsniff).arg("-r").arg(pcap).arg("--json"),
        crate::bench_live::read_json,
    )?;
    let (status, said) = run.finish(Duration::from_secs(600))?;
    let (messages, summary) = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the JSON reader panicked"))?;
    if !status.success() {
        bail!(
            "labsniff -r {} failed ({status}): {}",
            pcap.display(),
            said.join("\n")
        );
    }
    let frames = summary
        .as_ref()
        .and_then(|s| s["frames"].as_u64())
        .context("labsniff --json printed no summary")?;
    if messages != plan.messages() {
        bail!(
            "{}: labsniff finds {messages} messages, {} were sent and echoed: not used",
            pcap.display(),
            plan.messages()
        );
    }
    Ok((frames, messages))
}

fn write_sidecar(d: &Dense) -> Result<()> {
    let p = &d.plan;
    let v = json!({
        "made_at": d.made_at,
        "seconds_to_make": (d.seconds_to_make * 10.0).round() / 10.0,
        "server": "python3 bench/selectors_v3_server.py PORT",
        "port": d.port,
        "load": format!(
            "labnet bench --proto v3 --ip 127.0.0.1 --port PORT --conns {} --messages {} --size {} --window {}",
            p.conns, p.per_conn, p.size, p.window
        ),
        "capture": format!(
            "tcpdump -i lo -Z root -s 262144 -B {} -w FILE 'tcp port PORT', stopped with SIGINT",
            d.buffer_kib
        ),
        "conns": p.conns,
        "messages_per_conn": p.per_conn,
        "window": p.window,
        "size": p.size,
        "tcpdump_buffer_kib": d.buffer_kib,
        "kernel_drops": 0,
        "frames": d.frames,
        "messages": d.messages,
    });
    let side = sidecar(&d.path);
    std::fs::write(&side, serde_json::to_string_pretty(&v)? + "\n")
        .with_context(|| format!("cannot write {}", side.display()))
}

/// "2026-12-07 14:05 UTC" (from date(1): no date arithmetic here).
fn now_utc() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "?".to_string())
}
