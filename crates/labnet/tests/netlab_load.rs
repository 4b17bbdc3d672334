//! A bounded load test of the netlab forwarder (root): 100 Mbit/s of lab traffic each
//! way for 3 s, the rate `cargo xtask bench --only netlab` measures (README), and the
//! forwarder must lose nothing of its own (`send_errors`, `queue_full`, `kernel_drops`
//! all 0) while every message is echoed byte for byte.
//!
//! Its own test binary, so it does not share the CPUs with the other netlab tests
//! (cargo runs test binaries one after another). Not root: prints why and passes.

use serde_json::Value;

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

#[path = "common/netlab.rs"]
mod netlab;

use netlab::{Lab, BIN};
/// The bench's load (xtask/src/bench_netlab.rs): 10 connections, one 1,250-byte v3
/// message (9-byte header + 1,241) per millisecond each: 100 Mbit/s each way.
const CONNS: u64 = 10;
const MESSAGES: u64 = 3_000;
const SIZE: u64 = 1241;

#[test]
fn the_forwarder_carries_100_mbit_per_second_with_no_drops_of_its_own() {
    if !netlab::ready() {
        return;
    }
    let lab = Lab::new("l");
    let up = lab.ok(&["up", "--delay", "0"]);
    let server = lab.spawn_server(&[
        "tcp-server",
        "--model",
        "selector",
        "--proto",
        "v3",
        "--quiet",
    ]);
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
