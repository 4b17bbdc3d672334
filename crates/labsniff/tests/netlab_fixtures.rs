//! On the captures made with real kernel TCP stacks in network namespaces
//! (tests/fixtures/netlab, made by its regen.sh; captured at the client and at the
//! server across a forwarder adding 10 ms each way and seeded loss):
//! - `capture_point` is right for every conversation with a handshake (the file name
//!   says where tcpdump ran);
//! - `irtt` equals tshark's `tcp.analysis.initial_rtt` to the microsecond;
//! - lost SYNs are counted where they were captured.
#![allow(clippy::unwrap_used)]

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;

use common::{analyse_file, real_stack_fixtures};
use labsniff::{Event, Options};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

fn analyse(path: &Path) -> Vec<Event> {
    analyse_file(path, Options::default())
}

fn conversations(events: &[Event]) -> Vec<&labsniff::event::ConversationRecord> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Conversation(c) => Some(c.as_ref()),
            _ => None,
        })
        .collect()
}

#[test]
fn capture_point_is_right_on_every_handshake() {
    let mut checked = 0;
    for path in real_stack_fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let expected = if name.ends_with("client.pcap") {
            "client"
        } else {
            assert!(name.ends_with("server.pcap"), "{name}: which end?");
            "server"
        };
        for c in conversations(&analyse(&path)) {
            let Some(t) = &c.tcp else { continue };
            if t.ack_frame.is_none() {
                assert_eq!(
                    t.capture_point.as_str(),
                    "unknown",
                    "{name} conv {}",
                    c.conv
                );
                continue;
            }
            assert_eq!(t.capture_point.as_str(), expected, "{name} conv {}", c.conv);
            checked += 1;
        }
    }
    println!("capture_point right on {checked} handshakes");
    assert!(checked >= 60, "only {checked} handshakes checked");
}

/// tshark's initial RTT per client port (the first value it gives in each stream).
fn tshark_irtt(path: &Path) -> Option<HashMap<u16, f64>> {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(path)
        .args([
            "-Y",
            "tcp.analysis.initial_rtt",
            "-T",
            "fields",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "tcp.analysis.initial_rtt",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut irtt = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (Ok(src), Ok(dst), Ok(rtt)) = (
            f[0].parse::<u16>(),
            f[1].parse::<u16>(),
            f[2].parse::<f64>(),
        ) else {
            continue;
        };
        let client = if src == labproto::LAB_PORT { dst } else { src };
        irtt.entry(client).or_insert(rtt);
    }
    Some(irtt)
}

#[test]
fn irtt_equals_tshark_initial_rtt() {
    if Command::new("tshark").arg("--version").output().is_err() {
        skip_note!("skipped: tshark not installed");
        return;
    }
    let mut compared = 0;
    for path in real_stack_fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let theirs = tshark_irtt(&path).unwrap();
        for c in conversations(&analyse(&path)) {
            let Some(t) = &c.tcp else { continue };
            let port: u16 = c.client.port();
            let ours = t.irtt.map(|x| (x * 1e6).round() as i64);
            let want = theirs.get(&port).map(|x| (x * 1e6).round() as i64);
            assert_eq!(
                ours, want,
                "{name}: conversation {} (client port {port})",
                c.conv
            );
            compared += 1;
        }
    }
    println!("irtt equal to tshark's on {compared} conversations");
    assert!(compared >= 60, "only {compared} conversations compared");
}

#[test]
fn lost_syns_are_counted_where_they_were_seen() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/netlab");
    let at_client = analyse(&dir.join("lost_syns.client.pcap"));
    let c = conversations(&at_client)[0].tcp.clone().unwrap();
    // The forwarder dropped the first two SYNs after the client's capture point.
    assert_eq!(c.syn_retransmissions, 2);
    assert_eq!(c.syn_attempts.len(), 3);
    let waits: Vec<f64> = c
        .syn_attempts
        .windows(2)
        .map(|w| w[1].ts - w[0].ts)
        .collect();
    assert!((0.9..1.2).contains(&waits[0]), "{waits:?}");
    // Linux 6.5+ resends the first SYNs once a second (tcp_syn_linear_timeouts).
    assert!((0.9..1.2).contains(&waits[1]), "{waits:?}");
    // handshake_rtt measures from the SYN that was answered, not the first one.
    assert!(c.handshake_rtt.unwrap() < 0.05, "{:?}", c.handshake_rtt);
    let at_server = analyse(&dir.join("lost_syns.server.pcap"));
    let s = conversations(&at_server)[0].tcp.clone().unwrap();
    assert_eq!(s.syn_retransmissions, 0, "the server saw only the last SYN");
}

/// `--json` analysis lines: the documented fields in the documented order (SCHEMA.md),
/// and the fast retransmission of the fast_retransmit capture named as tshark names it.
#[test]
fn json_analysis_lines_follow_the_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netlab/fast_retransmit.server.pcap");
    let out = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .arg("-r")
        .arg(&path)
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"analysis\""))
        .collect();
    assert!(lines.len() >= 5, "{} analysis lines", lines.len());
    let keys = [
        "type",
        "frame",
        "conv",
        "dir",
        "flags",
        "text",
        "ts",
        "seq",
        "seq_rel",
        "ack",
        "ack_rel",
        "len",
        "syn",
        "fin",
        "window",
        "duplicate_ack_num",
        "duplicate_ack_frame",
        "rto",
        "rto_frame",
        "capture_point",
    ];
    for line in &lines {
        let mut at = 0;
        for key in keys {
            let needle = format!("\"{key}\":");
            let found = line[at..]
                .find(&needle)
                .unwrap_or_else(|| panic!("{key} missing or out of order in {line}"));
            at += found + needle.len();
        }
    }
    let fast: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| {
            v["flags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "fast_retransmission")
        })
        .collect();
    assert_eq!(fast.len(), 1, "{fast:?}");
    let f = &fast[0];
    assert_eq!(
        f["flags"],
        serde_json::json!(["retransmission", "fast_retransmission"])
    );
    assert_eq!(f["capture_point"], "server");
    assert!(
        f["text"]
            .as_str()
            .unwrap()
            .contains("[TCP Fast Retransmission]"),
        "{f}"
    );
    if let Ok(out) = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args([
            "-Y",
            "tcp.analysis.fast_retransmission",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ])
        .output()
    {
        let theirs = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(f["frame"].to_string(), theirs);
    }
}

/// A section heading always has something under it (issue 28: "Loss, retransmission and
/// flow control" was printed over nothing when its only flag was a window full).
#[test]
fn no_report_heading_stands_over_nothing() {
    for path in real_stack_fixtures() {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_labsniff"))
            .arg("-r")
            .arg(&path)
            .env("NO_COLOR", "1")
            .output()
            .expect("labsniff");
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if *l == "  Loss, retransmission and flow control" || *l == "  Causes the packets show"
            {
                let next = lines.get(i + 1).copied().unwrap_or("");
                assert!(
                    next.starts_with("    - "),
                    "{}: '{l}' over '{next}'",
                    path.display()
                );
            }
        }
    }
}
