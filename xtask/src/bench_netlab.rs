//! `cargo xtask bench --only netlab` (root): does the netlab forwarder lose frames of
//! its own or add latency, at 100 Mbit/s of lab traffic?
//!
//! Load: `labnet bench` on the client host against labnet's v3 selector server on the
//! server host, 10 connections each paced to one 1,250-byte message (9-byte header +
//! 1,241 bytes) per millisecond: 10,000 messages/s, 100 Mbit/s of lab bytes each way
//! (every message is echoed), one 1,316-byte frame per message.
//!
//! Method, the same load over two paths:
//! 1. through netlab with no impairment (`--delay 0`): veth-c → mid-c → forwarder →
//!    mid-s → veth-s;
//!    and again with `--delay 10`, to see what it adds beyond the delay asked for;
//! 2. over a direct veth pair between two namespaces set up the same way (MTU 1500,
//!    offloads off, same addresses): the floor, what the forwarder is compared with.
//!
//! On each path tcpdump records every frame at both hosts (veth-c and veth-s,
//! nanosecond kernel timestamps, one clock for all namespaces); a frame leaves one host
//! and arrives at the other byte for byte unchanged (the forwarder rewrites nothing), so
//! matching identical frames gives each frame's one-way time across the path. The
//! one-way times through netlab are the forwarder's time plus two veth hops: their p99
//! is an upper bound of the forwarder's added latency; netlab minus direct at the same
//! percentile estimates it. labnet bench's own round-trip percentiles (from queueing a
//! message to its last echo byte) are shown for both paths too. The forwarder's own
//! losses are its counters `send_errors`, `queue_full`, `kernel_drops`
//! (`labnet netlab status --json`); frames seen leaving one host and never arriving
//! are counted as well.

use crate::demo_net::{check_can_run, install_ctrlc, lab_name, set_extra_namespaces, Lab};
use crate::procs::{spawn, Running};
use crate::util::have;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub(crate) const CONNS: u32 = 10;
pub(crate) const INTERVAL_MS: u32 = 1;
/// Payload bytes of each message; with the 9-byte v3 header, 1,250 bytes.
pub(crate) const SIZE: u32 = 1241;
const SNAPLEN: &str = "128";

/// One path's figures.
#[derive(Debug, Default)]
struct PathFigures {
    msgs_per_s: f64,
    mbit_each_way: f64,
    echoed: u64,
    expected: u64,
    rtt_p50_us: f64,
    rtt_p99_us: f64,
    /// One-way times (µs) per direction: p50, p99, max, frames matched.
    c2s: OneWay,
    s2c: OneWay,
    /// Frames captured leaving one host and not arriving at the other.
    unmatched: u64,
    /// tcpdump's own "dropped by kernel" counts (they would make frames unmatched).
    capture_drops: u64,
    /// netlab only: send_errors + queue_full + kernel_drops, both directions.
    own_drops: Option<u64>,
}

#[derive(Debug, Default, Clone, Copy)]
struct OneWay {
    p50: f64,
    p99: f64,
    max: f64,
    frames: usize,
}

/// The three paths' figures.
#[derive(Debug)]
struct AllPaths {
    /// Through the forwarder with `--delay 0`.
    netlab: PathFigures,
    /// Through the forwarder with `--delay 10`.
    delayed: PathFigures,
    /// Over a direct veth pair: the floor.
    direct: PathFigures,
}

pub fn netlab_bench(labnet: &Path, messages_per_conn: u32) -> Result<String> {
    if let Some(skipped) = skipped() {
        println!("{skipped}");
        return Ok(skipped);
    }
    // Ctrl-C removes the lab and the direct pair, as in `demo --net`.
    install_ctrlc()?;
    let dir = crate::util::root().join("target/bench/netlab");
    std::fs::create_dir_all(&dir)?;
    let paths = measure_all_paths(labnet, &dir, messages_per_conn)?;
    let mut out = table(&paths, messages_per_conn);
    out.push_str(&summary(&paths));
    println!("{out}");
    let lost = [&paths.netlab, &paths.delayed]
        .iter()
        .any(|f| f.own_drops != Some(0) || f.echoed != f.expected);
    if lost {
        bail!("the forwarder lost frames of its own or messages went missing:\n{out}");
    }
    Ok(out)
}

/// The section saying why it is skipped, when it cannot run here (no root, no
/// network namespaces, no tcpdump).
fn skipped() -> Option<String> {
    if let Err(e) = check_can_run("bench --only netlab") {
        return Some(format!("## netlab forwarder\n\nskipped: {e:#}\n"));
    }
    if !have("tcpdump") {
        return Some("## netlab forwarder\n\nskipped: needs tcpdump (apt-get install -y tcpdump) to timestamp frames at both hosts\n".to_string());
    }
    None
}

/// The load over the three paths, one after the other.
fn measure_all_paths(labnet: &Path, dir: &Path, messages_per_conn: u32) -> Result<AllPaths> {
    let netlab = through_forwarder(labnet, dir, "0", messages_per_conn)?;
    // With a delay, frames wait in the release queue and leave on a timed wake-up:
    // what this adds beyond the 10 ms asked for is measured too.
    let delayed = through_forwarder(labnet, dir, "10", messages_per_conn)?;
    eprintln!("xtask: netlab bench: over a direct veth pair (the floor)");
    let direct = {
        let pair = DirectPair::create(&lab_name("bd"))?;
        let exec = |host: &str, program: &Path| pair.exec(host, program);
        measure_path(labnet, &exec, dir, "direct", messages_per_conn, 8)?
    };
    Ok(AllPaths {
        netlab,
        delayed,
        direct,
    })
}

/// The load through a netlab lab with `--delay delay`, and the forwarder's own drops.
fn through_forwarder(
    labnet: &Path,
    dir: &Path,
    delay: &str,
    messages_per_conn: u32,
) -> Result<PathFigures> {
    eprintln!("xtask: netlab bench: through the forwarder (--delay {delay})");
    let lab = Lab::up(labnet, &lab_name("bn"), &["--delay", delay])?;
    let exec = |host: &str, program: &Path| lab.exec(host, program);
    let tag = format!("netlab-delay{delay}");
    // In flight per connection: 8, or at 20 ms RTT the 20 messages sent per round
    // trip at one per ms (32). No larger: when the load generator is late (it
    // shares 2 cores), a window lets its catch-up burst out at once.
    let window = if delay == "0" { 8 } else { 32 };
    let mut f = measure_path(labnet, &exec, dir, &tag, messages_per_conn, window)?;
    let status = lab.status()?;
    f.own_drops = Some(own_drops(&status));
    Ok(f)
}

/// The section title, the load, and one table line per path.
fn table(paths: &AllPaths, messages_per_conn: u32) -> String {
    let mut out = format!(
        "## netlab forwarder at 100 Mbit/s of lab traffic\n\n\
         load: labnet bench, {CONNS} v3 connections × {messages_per_conn} messages of {} bytes, one per {INTERVAL_MS} ms each \
         (echoed: the same rate back), window 8 (32 with --delay 10); one-way times from tcpdump at both hosts, identical frames matched\n\n\
         | path | messages/s | Mbit/s each way | echoed | bench RTT p50 / p99 µs | one-way c2s p50 / p99 / max µs | one-way s2c p50 / p99 / max µs | frames lost on the way | capture drops | forwarder's own drops |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        SIZE + 9
    );
    for (name, f) in [
        ("netlab (--delay 0)", &paths.netlab),
        ("netlab (--delay 10)", &paths.delayed),
        ("direct veth pair", &paths.direct),
    ] {
        out.push_str(&table_line(name, f));
    }
    out
}

/// One path's line of the table.
fn table_line(name: &str, f: &PathFigures) -> String {
    let ow = |o: &OneWay| format!("{:.0} / {:.0} / {:.0}", o.p50, o.p99, o.max);
    format!(
        "| {name} | {:.0} | {:.1} | {} / {} | {:.0} / {:.0} | {} | {} | {} | {} | {} |\n",
        f.msgs_per_s,
        f.mbit_each_way,
        f.echoed,
        f.expected,
        f.rtt_p50_us,
        f.rtt_p99_us,
        ow(&f.c2s),
        ow(&f.s2c),
        f.unmatched,
        f.capture_drops,
        f.own_drops
            .map_or_else(|| "n/a".to_string(), |d| d.to_string()),
    )
}

/// The figures against the targets: the forwarder's added latency (netlab − direct),
/// netlab's whole one-way p99, what `--delay 10` adds beyond 10 ms, its own drops.
fn summary(paths: &AllPaths) -> String {
    let AllPaths {
        netlab,
        delayed,
        direct,
    } = paths;
    let added = |p: fn(&OneWay) -> f64| {
        (p(&netlab.c2s) - p(&direct.c2s)).max(p(&netlab.s2c) - p(&direct.s2c))
    };
    let worst_p99 = netlab.c2s.p99.max(netlab.s2c.p99);
    let beyond = |p: fn(&OneWay) -> f64| p(&delayed.c2s).max(p(&delayed.s2c)) - 10_000.0;
    format!(
        "\nforwarder's added one-way latency (netlab − direct, worse direction): p50 {:.0} µs, p99 {:.0} µs; \
         netlab's whole one-way p99 (forwarder + two veth hops, an upper bound): {worst_p99:.0} µs (target < 1000 µs); \
         with --delay 10, beyond the 10 ms: p50 {:.0} µs, p99 {:.0} µs; \
         forwarder's own drops: {} and {} (target 0)\n",
        added(|o| o.p50),
        added(|o| o.p99),
        beyond(|o| o.p50),
        beyond(|o| o.p99),
        netlab.own_drops.unwrap_or(0),
        delayed.own_drops.unwrap_or(0)
    )
}

fn own_drops(status: &Value) -> u64 {
    let c = &status["forwarder"]["counters"];
    ["c2s", "s2c"]
        .iter()
        .flat_map(|d| ["send_errors", "queue_full", "kernel_drops"].map(|k| (d, k)))
        .map(|(d, k)| c[*d][k].as_u64().unwrap_or(u64::MAX))
        .fold(0u64, u64::saturating_add)
}

/// Run the load over one path with tcpdump at both hosts.
fn measure_path(
    labnet: &Path,
    exec: &dyn Fn(&str, &Path) -> Command,
    dir: &Path,
    tag: &str,
    messages_per_conn: u32,
    window: u32,
) -> Result<PathFigures> {
    let mut server = exec("server", labnet);
    server.args([
        "tcp-server",
        "--model",
        "selector",
        "--proto",
        "v3",
        "--bind",
        "0.0.0.0",
        "--quiet",
    ]);
    let mut server = spawn("v3 server", &mut server)?;
    server.wait_for_line("listening", Duration::from_secs(10))?;
    let mut captures: Vec<(Running, PathBuf)> = Vec::new();
    for (host, dev) in [("client", "veth-c"), ("server", "veth-s")] {
        let pcap = dir.join(format!("{tag}.{host}.pcap"));
        let _ = std::fs::remove_file(&pcap);
        let mut cmd = exec(host, Path::new("tcpdump"));
        // -Z root: keep writing into target/ (tcpdump would otherwise switch user);
        // -B 64 MiB: its own buffer must not be what drops frames.
        cmd.args(["-i", dev, "-n", "-s", SNAPLEN, "-B", "65536", "-Z", "root"])
            .args(["--time-stamp-precision", "nano", "-w"])
            .arg(&pcap)
            .args(["tcp", "port", "5005"]);
        let mut c = spawn(&format!("tcpdump on the {host} host"), &mut cmd)?;
        c.wait_for_line("listening", Duration::from_secs(10))?;
        captures.push((c, pcap));
    }
    let mut bench = exec("client", labnet);
    bench
        .args(["bench", "--proto", "v3", "--ip", "10.55.0.1"])
        .args(["--conns", &CONNS.to_string()])
        .args(["--messages", &messages_per_conn.to_string()])
        .args(["--size", &SIZE.to_string(), "--window", &window.to_string()])
        .args(["--interval-ms", &INTERVAL_MS.to_string(), "--json"])
        .args(["--timeout", "60"]);
    let (status, lines) = spawn("labnet bench", &mut bench)?.finish(Duration::from_secs(90))?;
    let line = lines
        .iter()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| {
            format!(
                "labnet bench printed no JSON ({status}): {}",
                lines.join("\n")
            )
        })?;
    let v: Value = serde_json::from_str(line).context("labnet bench's JSON")?;
    // tcpdump reads the kernel's ring a block at a time, and a block that is not full
    // is handed over after its timeout (1 s): stopping sooner loses the last frames.
    std::thread::sleep(Duration::from_millis(1500));
    let mut capture_drops = 0;
    let mut pcaps = Vec::new();
    for (c, pcap) in captures {
        let said = c.stop(Duration::from_secs(5))?;
        // tcpdump's closing lines: "N packets dropped by kernel".
        capture_drops += said
            .iter()
            .filter(|l| l.contains("dropped by kernel"))
            .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
            .sum::<u64>();
        pcaps.push(pcap);
    }
    drop(server);
    let num = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let (c2s, s2c, unmatched) = one_way_times(&pcaps[0], &pcaps[1])?;
    let echoed = v["echoed"].as_u64().unwrap_or(0);
    let elapsed = num("elapsed_s");
    Ok(PathFigures {
        msgs_per_s: num("msgs_per_s"),
        mbit_each_way: echoed as f64 * f64::from(SIZE + 9) * 8.0 / elapsed / 1e6,
        echoed,
        expected: u64::from(CONNS) * u64::from(messages_per_conn),
        rtt_p50_us: num("p50_us"),
        rtt_p99_us: num("p99_us"),
        c2s,
        s2c,
        unmatched,
        capture_drops,
        own_drops: None,
    })
}

/// Records of a classic pcap file with nanosecond timestamps: (ns, bytes).
fn read_pcap(path: &Path) -> Result<Vec<(u64, Vec<u8>)>> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let u32_at = |i: usize| -> Option<u32> {
        data.get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    // tcpdump writes the host's byte order; this machine's (little-endian) nanosecond magic.
    if u32_at(0) != Some(0xa1b2_3c4d) {
        bail!("{} is not a little-endian nanosecond pcap", path.display());
    }
    let mut records = Vec::new();
    let mut at = 24;
    while let (Some(sec), Some(nsec), Some(len)) = (u32_at(at), u32_at(at + 4), u32_at(at + 8)) {
        let start = at + 16;
        let Some(bytes) = data.get(start..start + len as usize) else {
            break; // a record cut off by the stop: ignored
        };
        records.push((
            u64::from(sec) * 1_000_000_000 + u64::from(nsec),
            bytes.to_vec(),
        ));
        at = start + len as usize;
    }
    Ok(records)
}

/// Match identical frames between the two hosts' captures: one-way times per
/// direction (µs) and how many frames left one host but never reached the other.
fn one_way_times(client: &Path, server: &Path) -> Result<(OneWay, OneWay, u64)> {
    let client = read_pcap(client)?;
    let server = read_pcap(server)?;
    // IPv4 source address at bytes 26..30 of an Ethernet frame: 10.55.0.2 is the client.
    let from_client = |f: &[u8]| f.get(26..30) == Some(&[10, 55, 0, 2][..]);
    let mut unmatched = 0u64;
    let mut one_way = |sent: &[(u64, Vec<u8>)], received: &[(u64, Vec<u8>)], c2s: bool| {
        let mut waiting: HashMap<&[u8], VecDeque<u64>> = HashMap::new();
        for (ts, f) in sent.iter().filter(|(_, f)| from_client(f) == c2s) {
            waiting.entry(f.as_slice()).or_default().push_back(*ts);
        }
        let mut times: Vec<f64> = Vec::new();
        for (ts, f) in received.iter().filter(|(_, f)| from_client(f) == c2s) {
            if let Some(t0) = waiting.get_mut(f.as_slice()).and_then(VecDeque::pop_front) {
                times.push(ts.saturating_sub(t0) as f64 / 1000.0);
            }
        }
        unmatched += waiting.values().map(|q| q.len() as u64).sum::<u64>();
        times.sort_by(f64::total_cmp);
        let pct = |p: f64| {
            times
                .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
                .copied()
                .unwrap_or(f64::NAN)
        };
        OneWay {
            p50: pct(0.50),
            p99: pct(0.99),
            max: times.last().copied().unwrap_or(f64::NAN),
            frames: times.len(),
        }
    };
    let c2s = one_way(&client, &server, true);
    let s2c = one_way(&server, &client, false);
    if c2s.frames == 0 || s2c.frames == 0 {
        bail!("no frame matched between the two captures");
    }
    Ok((c2s, s2c, unmatched))
}

/// Two namespaces joined by one veth pair, made like netlab's hosts (MTU 1500,
/// offloads off, the same addresses): the path without a forwarder. Removed on drop.
struct DirectPair {
    server: String,
    client: String,
}

fn ip(args: &[&str]) -> Result<()> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("cannot run ip")?;
    if !out.status.success() {
        bail!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

impl DirectPair {
    fn create(name: &str) -> Result<DirectPair> {
        let pair = DirectPair {
            server: format!("{name}-s"),
            client: format!("{name}-c"),
        };
        set_extra_namespaces(&[pair.server.clone(), pair.client.clone()]);
        for ns in [&pair.server, &pair.client] {
            ip(&["netns", "add", ns])?;
        }
        ip(&[
            "link",
            "add",
            "veth-s",
            "netns",
            &pair.server,
            "type",
            "veth",
            "peer",
            "name",
            "veth-c",
            "netns",
            &pair.client,
        ])?;
        for (ns, dev, addr) in [
            (&pair.server, "veth-s", "10.55.0.1/24"),
            (&pair.client, "veth-c", "10.55.0.2/24"),
        ] {
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "link", "set", dev, "mtu", "1500"])?;
            ip(&[
                "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro",
                "off", "tx", "off", "rx", "off",
            ])?;
            ip(&["-n", ns, "addr", "add", addr, "dev", dev])?;
            ip(&["-n", ns, "link", "set", dev, "up"])?;
        }
        Ok(pair)
    }

    fn exec(&self, host: &str, program: &Path) -> Command {
        let ns = if host == "server" {
            &self.server
        } else {
            &self.client
        };
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns]).arg(program);
        cmd
    }
}

impl Drop for DirectPair {
    fn drop(&mut self) {
        for ns in [&self.server, &self.client] {
            // Whatever still runs there first, so the namespace really goes.
            if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                }
            }
            let _ = ip(&["netns", "delete", ns]);
        }
        set_extra_namespaces(&[]);
    }
}
