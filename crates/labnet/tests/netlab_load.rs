//! A bounded load test of the netlab forwarder (root): 100 Mbit/s of lab traffic each
//! way for 3 s, the rate `cargo xtask bench --only netlab` measures (README), and the
//! forwarder must lose nothing of its own (`send_errors`, `queue_full`, `kernel_drops`
//! all 0) while every message is echoed byte for byte.
//!
//! Its own test binary, so it does not share the CPUs with the other netlab tests
//! (cargo runs test binaries one after another). Not root: prints why and passes.

use serde_json::Value;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_labnet");
/// The bench's load (xtask/src/bench_netlab.rs): 10 connections, one 1,250-byte v3
/// message (9-byte header + 1,241) per millisecond each: 100 Mbit/s each way.
const CONNS: u64 = 10;
const MESSAGES: u64 = 3_000;
const SIZE: u64 = 1241;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Run a command, killing it if it outlives `limit`.
fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{command:?} did not finish within {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The lab, removed on drop (also when an assertion fails).
struct Lab(String);

impl Lab {
    fn netlab(&self, args: &[&str]) -> Output {
        run_bounded(
            Command::new(BIN)
                .args(["netlab", "--lab", &self.0])
                .args(args),
            Duration::from_secs(60),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.netlab(args);
        assert!(
            out.status.success(),
            "labnet netlab {args:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.netlab(&["down"]);
    }
}

/// The server on the server host, killed and reaped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_forwarder_carries_100_mbit_per_second_with_no_drops_of_its_own() {
    if !is_root() {
        println!("skipped: needs root (network namespaces)");
        return;
    }
    for (tool, arg) in [("ip", "-V"), ("ethtool", "--version")] {
        if !have(tool, arg) {
            println!("skipped: needs {tool} (apt-get install -y iproute2 ethtool)");
            return;
        }
    }
    let lab = Lab(format!("tl{}", std::process::id() % 100_000));
    let up = lab.ok(&["up", "--delay", "0"]);
    let server = Server(
        Command::new(BIN)
            .args(["netlab", "--lab", &lab.0, "exec", "server", "--", BIN])
            .args([
                "tcp-server",
                "--model",
                "selector",
                "--proto",
                "v3",
                "--quiet",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server in the lab"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while lab
        .netlab(&["exec", "server", "--", "ss", "-Hltn", "sport = :5005"])
        .stdout
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = lab.netlab(&[
        "exec",
        "client",
        "--",
        BIN,
        "bench",
        "--proto",
        "v3",
        "--ip",
        "10.55.0.1",
        "--conns",
        &CONNS.to_string(),
        "--messages",
        &MESSAGES.to_string(),
        "--size",
        &SIZE.to_string(),
        "--window",
        "8",
        "--interval-ms",
        "1",
        "--timeout",
        "30",
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "bench printed no JSON: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let bench: Value = serde_json::from_str(line).expect("bench JSON");
    drop(server);
    let status: Value =
        serde_json::from_str(&lab.ok(&["status", "--json"])).expect("status --json is JSON");
    let echoed = bench["echoed"].as_u64().unwrap_or(0);
    let elapsed = bench["elapsed_s"].as_f64().unwrap_or(f64::INFINITY);
    let mbit = echoed as f64 * (SIZE + 9) as f64 * 8.0 / elapsed / 1e6;
    println!("{up}\nbench: {line}\n{mbit:.1} Mbit/s each way; forwarder: {status}");
    assert_eq!(
        echoed,
        CONNS * MESSAGES,
        "messages went missing or were not echoed: {line}"
    );
    assert_eq!(bench["mismatches"], 0, "{line}");
    for dir in ["c2s", "s2c"] {
        for own in ["send_errors", "queue_full", "kernel_drops"] {
            assert_eq!(
                status["forwarder"]["counters"][dir][own].as_u64(),
                Some(0),
                "the forwarder lost frames itself ({dir} {own}): {status}"
            );
        }
        assert_eq!(
            status["forwarder"]["counters"][dir]["dropped"].as_u64(),
            Some(0),
            "no impairment was asked for: {status}"
        );
    }
    // The pacing asks for 100 Mbit/s; the run must really have carried close to that
    // (a load generator starved of CPU would otherwise pass without testing anything).
    assert!(
        mbit > 80.0,
        "only {mbit:.1} Mbit/s each way crossed the lab: {line}"
    );
}
