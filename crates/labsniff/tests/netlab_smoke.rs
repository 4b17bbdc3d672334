#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Smoke test over the netlab fixtures (real kernel TCP across a delayed, lossy
//! link, captured at both ends; see tests/fixtures/netlab/README.md): labsniff reads
//! every capture, and the messages the scenario sent are all found, once, in order,
//! whatever was lost and retransmitted. The analysis itself (retransmissions, dup
//! ACKs...) is checked elsewhere against tshark.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/netlab/{name}.pcap"))
}

/// (dir, proto, size or payload length) of every message line.
fn messages(name: &str) -> Vec<(String, String, u64)> {
    let out = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .arg("-r")
        .arg(fixture(name))
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "message")
        .map(|v| {
            let size = v["size"]
                .as_u64()
                .unwrap_or_else(|| v["payload"].as_str().map_or(0, |p| p.len() as u64));
            (
                v["dir"].as_str().unwrap().to_string(),
                v["proto"].as_str().unwrap().to_string(),
                size,
            )
        })
        .collect()
}

#[test]
fn the_100k_v3_message_and_its_echo_survive_3_percent_loss_at_both_ends() {
    for side in ["server", "client"] {
        let got = messages(&format!("loss_v3_100k.{side}"));
        let want: Vec<(String, String, u64)> =
            [("c2s", 100_000), ("s2c", 100_000), ("c2s", 20), ("s2c", 20)]
                .iter()
                .map(|(d, n)| (d.to_string(), "v3".to_string(), *n))
                .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want_sorted = want;
        want_sorted.sort();
        assert_eq!(got_sorted, want_sorted, "{side} capture: {got:?}");
    }
}

#[test]
fn udp_datagrams_without_replies_and_a_refused_connection() {
    for side in ["server", "client"] {
        let udp = messages(&format!("udp_no_reply.{side}"));
        assert_eq!(
            udp.iter().filter(|m| m.0 == "c2s").count(),
            3,
            "{side}: {udp:?}"
        );
        assert_eq!(
            udp.iter().filter(|m| m.0 == "s2c").count(),
            0,
            "{side}: {udp:?}"
        );
        assert!(messages(&format!("refused.{side}")).is_empty());
    }
}

#[test]
fn every_fixture_is_read_and_every_text_line_of_the_lossy_exchange_is_found() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/netlab");
    let mut pcaps = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name.strip_suffix(".pcap") {
            let _ = messages(stem);
            pcaps += 1;
        }
    }
    // Every scenario (one forwarder log each) was captured at both ends.
    let scenarios = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref().is_ok_and(|e| {
                e.file_name()
                    .to_string_lossy()
                    .ends_with(".forwarder.jsonl")
            })
        })
        .count();
    assert!(scenarios >= 15, "{scenarios} scenarios");
    assert_eq!(
        pcaps,
        2 * scenarios,
        "{scenarios} scenarios x 2 capture points"
    );
    for side in ["server", "client"] {
        let lines = messages(&format!("loss_text.{side}"));
        for dir in ["c2s", "s2c"] {
            let n = lines.iter().filter(|m| m.0 == dir).count();
            assert_eq!(n, 30, "{side} capture, {dir}: {lines:?}");
        }
    }
}
