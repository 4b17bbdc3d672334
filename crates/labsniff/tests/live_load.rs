#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Issue 17: live capture under the lab bench load (root only: live capture on lo).
//!
//! 1. At `labnet bench --proto v3 --conns 32 --messages 20000 --size 32 --window 16`
//!    against the v3 selector server, labsniff `--json` and the report each capture
//!    with nothing dropped, find all 1,280,000 messages, and the live messages equal
//!    those of `labsniff -r` on tcpdump's capture of the same run. A debug build of
//!    labsniff cannot keep up with that (its analysis is ~10× slower), so there the
//!    load is 8 connections × 2,000 messages (32,000 messages); run with `--release`
//!    for the issue's load (~15 s on 2 loaded cores).
//! 2. With drops forced (a 1 MiB kernel ring, one queue batch, a reader that does
//!    not read for 2 s) the drop warning is shown and no gap is explained as a loss on
//!    the network.
//!
//! Needs the `labnet` binary next to labsniff's (`cargo build -p labnet`, as
//! `cargo xtask test` does); every child is killed when a test ends, on any path.

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The two tests load the machine: one at a time (in parallel, each one's analysis
/// would compete with the other's load for the two cores).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
                .unwrap_or(false)
        })
        .unwrap_or(false)
}

fn labnet() -> Option<PathBuf> {
    let sniff = PathBuf::from(env!("CARGO_BIN_EXE_labsniff"));
    let net = sniff.parent()?.join("labnet");
    net.exists().then_some(net)
}

fn release_build() -> bool {
    env!("CARGO_BIN_EXE_labsniff").contains("/release/")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labsniff-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Children killed when the test ends, passed or not.
#[derive(Default)]
struct Children(Vec<Child>);

impl Children {
    fn spawn(&mut self, cmd: &mut Command) -> usize {
        self.0.push(cmd.spawn().unwrap());
        self.0.len() - 1
    }
    fn get(&mut self, i: usize) -> &mut Child {
        &mut self.0[i]
    }
    fn interrupt(&mut self, i: usize) {
        let pid = self.0[i].id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
    }
    /// Exit code, or None on timeout (or death by signal).
    fn wait(&mut self, i: usize, limit: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.0[i].try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            if child.try_wait().ok().flatten().is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// stderr lines of a child, as they come.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

fn wait_for(rx: &Receiver<String>, prefix: &str, what: &str) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("{what} did not say '{prefix}'"));
        if line.contains(prefix) {
            return;
        }
    }
}

/// What a JSON reader kept: the message lines' digest (without `frames` and `ts`,
/// which differ between a live run and a file), the count, and the other lines.
#[derive(Debug, Default)]
struct JsonSeen {
    messages: u64,
    /// Sum of the messages' hashes (see `message_key`).
    digest: u64,
    others: Vec<String>,
}

/// Everything before `"frames":` names the message (client, dir, order, payload),
/// except `conv`: two captures may see the SYNs of different connections in another
/// order (packets reach each capture socket from both cores), so conversations may be
/// numbered differently, and lines of different connections may interleave
/// differently; the digest is therefore of the set of messages.
fn message_key(line: &str) -> String {
    let named = line.find("\"frames\":").map_or(line, |i| &line[..i]);
    match (named.find("\"conv\":"), named.find(",\"transport\"")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &named[..a], &named[b + 1..]),
        _ => named.to_string(),
    }
}

/// `stall`: after the first 1,000 messages, stop reading for this long (a stalled
/// reader: labsniff's stdout pipe fills and its analysis blocks).
fn read_json<R: Read + Send + 'static>(out: R, stall: Duration) -> JoinHandle<JsonSeen> {
    std::thread::spawn(move || {
        let mut seen = JsonSeen::default();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.starts_with("{\"type\":\"message\"") {
                seen.messages += 1;
                if seen.messages == 1000 {
                    std::thread::sleep(stall);
                }
                let mut h = std::collections::hash_map::DefaultHasher::new();
                message_key(&line).hash(&mut h);
                // Order-free: a sum of the messages' hashes.
                seen.digest = seen.digest.wrapping_add(h.finish());
            } else {
                seen.others.push(line);
            }
        }
        seen
    })
}

/// The report's last lines (the follow view prints every message first).
fn read_tail<R: Read + Send + 'static>(out: R) -> JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut tail = VecDeque::new();
        let mut kept = Vec::new();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.starts_with("WARNING") || line.contains("the capture dropped") {
                kept.push(line.clone());
            }
            tail.push_back(line);
            if tail.len() > 4000 {
                tail.pop_front();
            }
        }
        kept.extend(tail);
        kept
    })
}

fn summary(seen: &JsonSeen) -> serde_json::Value {
    let line = seen
        .others
        .iter()
        .rev()
        .find(|l| l.starts_with("{\"type\":\"summary\""))
        .expect("no summary line");
    serde_json::from_str(line).unwrap()
}

struct Load {
    conns: u32,
    messages: u32,
}

/// A server, tcpdump, labsniff --json, labsniff (report), the bench; then Ctrl-C.
struct LiveRun {
    json: JsonSeen,
    report: Vec<String>,
    pcap: PathBuf,
}

fn live_run(port: u16, load: &Load, env: &[(&str, &str)], stall: Duration) -> LiveRun {
    let labnet = labnet().unwrap();
    let port_s = port.to_string();
    let filter = format!("tcp port {port}");
    let pcap = temp(&format!("tcpdump-{port}.pcap"));
    let mut c = Children::default();
    let server = c.spawn(
        Command::new(&labnet)
            .args([
                "tcp-server",
                "--model",
                "selector",
                "--proto",
                "v3",
                "--quiet",
            ])
            .args(["--bind", "127.0.0.1", "--port", &port_s])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let dump = c.spawn(
        Command::new("tcpdump")
            // The same 64 MiB ring as labsniff's (tcpdump's default of 2 MiB drops
            // at this load when three captures share two cores): the reference run.
            .args(["-i", "lo", "-B", "65536", "-Z", "root", "-w"])
            .arg(&pcap)
            .arg(&filter)
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let dump_err = lines_of(c.get(dump));
    wait_for(&dump_err, "listening on", "tcpdump");
    let sniff = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_labsniff"));
        cmd.args(["-i", "lo", "-f", &filter, "--port", &port_s])
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    };
    let json = c.spawn(&mut sniff(&["--json"]));
    let json_err = lines_of(c.get(json));
    let json_out = read_json(c.get(json).stdout.take().unwrap(), stall);
    let report = c.spawn(&mut sniff(&[]));
    let report_err = lines_of(c.get(report));
    let report_out = read_tail(c.get(report).stdout.take().unwrap());
    wait_for(&json_err, "listening on", "labsniff --json");
    wait_for(&report_err, "listening on", "labsniff");
    let bench = c.spawn(
        Command::new(&labnet)
            .args(["bench", "--proto", "v3", "--port", &port_s])
            .args(["--conns", &load.conns.to_string()])
            .args(["--messages", &load.messages.to_string()])
            .args(["--size", "32", "--window", "16"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    assert_eq!(
        c.wait(bench, Duration::from_secs(60)),
        Some(0),
        "labnet bench failed or took over 60 s"
    );
    // The last frames (FINs) reach every capture; the stall must be over too.
    std::thread::sleep(Duration::from_secs(1).max(stall));
    for i in [dump, json, report] {
        c.interrupt(i);
    }
    assert_eq!(c.wait(dump, Duration::from_secs(20)), Some(0), "tcpdump");
    assert_eq!(
        c.wait(json, Duration::from_secs(60)),
        Some(0),
        "labsniff --json"
    );
    assert_eq!(c.wait(report, Duration::from_secs(60)), Some(0), "labsniff");
    c.get(server).kill().ok();
    LiveRun {
        json: json_out.join().unwrap(),
        report: report_out.join().unwrap(),
        pcap,
    }
}

#[test]
fn live_capture_keeps_up_with_the_bench_load() {
    if !is_root() {
        skip_note!("skipped: needs root (live capture)");
        return;
    }
    if labnet().is_none() {
        skip_note!("skipped: needs the labnet binary (cargo build -p labnet)");
        return;
    }
    let load = if release_build() {
        Load {
            conns: 32,
            messages: 20_000,
        }
    } else {
        // A debug labsniff analyses ~10× slower: a load it can finish (see above).
        Load {
            conns: 8,
            messages: 2_000,
        }
    };
    let expected = u64::from(load.conns) * u64::from(load.messages) * 2;
    let _one = one_at_a_time();
    let port = free_port();
    let run = live_run(port, &load, &[], Duration::ZERO);
    let s = summary(&run.json);
    println!("live --json summary: {s}");
    assert_eq!(s["dropped"], 0, "{s}");
    assert_eq!(s["queue_dropped"], 0, "{s}");
    let peak = s["queue_peak_batches"]
        .as_u64()
        .expect("a live summary gives the queue's peak");
    assert!((1..=64).contains(&peak), "{s}");
    assert_eq!(s["messages"], expected, "{s}");
    assert_eq!(run.json.messages, expected);
    let line = run
        .report
        .iter()
        .rev()
        .find(|l| l.contains(" dropped by the kernel"))
        .expect("no summary line in the report");
    println!("live report summary: {line}");
    assert!(
        line.contains("0 dropped by the kernel, 0 dropped by labsniff's queue"),
        "{line}"
    );
    let count = expected.to_string();
    let grouped = words_count(expected);
    assert!(
        line.contains(&format!("{count} messages"))
            || line.contains(&format!("{grouped} messages")),
        "{line}"
    );
    assert!(!run.report.iter().any(|l| l.starts_with("WARNING")));
    // The same messages as labsniff -r on tcpdump's capture of the run.
    let file = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .arg("-r")
        .arg(&run.pcap)
        .args(["--port", &port.to_string(), "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut file = Children(vec![file]);
    let seen = read_json(file.get(0).stdout.take().unwrap(), Duration::ZERO);
    assert_eq!(file.wait(0, Duration::from_secs(120)), Some(0));
    let seen = seen.join().unwrap();
    assert_eq!(seen.messages, expected, "tcpdump's capture");
    assert_eq!(
        seen.digest, run.json.digest,
        "live messages differ from -r's"
    );
    let _ = std::fs::remove_file(&run.pcap);
}

/// 1280000 as the report writes counts ("1,280,000" or plain).
fn words_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[test]
fn forced_drops_are_said_and_never_blamed_on_the_network() {
    if !is_root() {
        skip_note!("skipped: needs root (live capture)");
        return;
    }
    if labnet().is_none() {
        skip_note!("skipped: needs the labnet binary (cargo build -p labnet)");
        return;
    }
    let load = Load {
        conns: 8,
        messages: 100_000,
    };
    let _one = one_at_a_time();
    let port = free_port();
    // A 1 MiB ring, one queue batch that the capture thread waits 100 ms for, and the
    // JSON reader stalls for 400 ms after 1,000 messages: drops in the middle of a
    // ~1.5 s run, with frames after them, so gaps are found.
    let env = [
        ("LABSNIFF_RING_BYTES", "1048576"),
        ("LABSNIFF_QUEUE_BATCHES", "1"),
        ("LABSNIFF_QUEUE_WAIT_MS", "100"),
    ];
    let run = live_run(port, &load, &env, Duration::from_millis(400));
    let s = summary(&run.json);
    println!("forced --json summary: {s}");
    let kernel = s["dropped"].as_u64().unwrap();
    let queue = s["queue_dropped"].as_u64().unwrap();
    assert!(kernel + queue > 0, "no drop forced: {s}");
    // One batch allowed (LABSNIFF_QUEUE_BATCHES): the peak says the queue was full.
    assert_eq!(s["queue_peak_batches"], 1, "{s}");
    let events: Vec<serde_json::Value> = run
        .json
        .others
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events.iter().any(|e| e["code"] == "capture_dropped"),
        "no capture_dropped diagnostic"
    );
    // The analyzer learns of a kernel drop at the next statistics poll (every 1,024
    // frames read): a flag raised on a frame before the first drop note cannot be
    // marked yet, so it must name the capture as a possible cause in its own words.
    let first_note = events
        .iter()
        .filter(|e| e["code"] == "capture_dropped")
        .filter_map(|e| e["frame"].as_u64())
        .min()
        .unwrap_or(u64::MAX);
    let mut unmarked_before_note = 0;
    let mut gaps = 0;
    for e in &events {
        if e["code"] == "gap" || e["code"] == "ooo_overflow" {
            gaps += 1;
            let text = e["text"].as_str().unwrap();
            assert!(text.contains("the capture dropped frames here"), "{text}");
        }
        if e["type"] == "analysis" && e["capture_dropped_before"] != true {
            let frame = e["frame"].as_u64().unwrap_or(u64::MAX);
            assert!(frame < first_note, "unmarked after the drop note: {e}");
            let text = e["text"].as_str().unwrap_or("");
            assert!(
                !text.contains("lost between the") || text.contains("or the capture dropped them"),
                "blamed on the network before the drop note: {e}"
            );
            unmarked_before_note += 1;
        }
        if e["type"] == "conversation" {
            for g in e["gaps"].as_array().unwrap() {
                assert_eq!(g["capture_dropped_before"], true, "{g}");
            }
        }
    }
    println!(
        "{gaps} gap diagnostics, all put down to the capture; \
         {unmarked_before_note} flags before the first drop note"
    );
    assert!(gaps > 0, "no gap found: the test shows nothing");
    let warning = run
        .report
        .iter()
        .find(|l| l.starts_with("WARNING: the capture dropped"));
    assert!(warning.is_some(), "no drop warning in the report");
    // A kernel drop is known only to within a statistics poll, so a loss a few frames
    // before the noted drop can stay unmarked; its words must then still name the
    // capture as a cause ("..., or the capture dropped them"), never the network alone.
    // Report lines are wrapped: read it as one text.
    let text = run.report.join(" ");
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for (at, _) in text.match_indices("lost between the") {
        let sentence: String = text[at..].chars().take(160).collect();
        assert!(
            sentence.contains("or the capture dropped them"),
            "blamed on the network: {sentence}"
        );
    }
    for network in ["lost on the way", "lost on the network"] {
        assert!(!text.contains(network), "blamed on the network: {network}");
    }
    let _ = std::fs::remove_file(&run.pcap);
}
