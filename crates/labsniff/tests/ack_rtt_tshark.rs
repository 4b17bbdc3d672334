//! `acks_frame` and `ack_rtt` of every segment (labsniff --json --segments) against
//! tshark's `tcp.analysis.acks_frame` and `tcp.analysis.ack_rtt`, frame by frame, over
//! every real-stack capture (tests/fixtures/netlab and tests/fixtures/tcpflags): equal
//! wherever tshark sets them, and set nowhere else. Skipped, with a line saying so,
//! when tshark is not installed.
#![allow(clippy::unwrap_used)]

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;

use common::{analyse_file, real_stack_fixtures};
use labsniff::{Event, Options};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Frame → (acks_frame, ack_rtt in µs), where either is set.
type PerFrame = BTreeMap<u64, (Option<u64>, Option<i64>)>;

fn ours(path: &Path) -> PerFrame {
    let options = Options {
        segments: true,
        ..Options::default()
    };
    analyse_file(path, options)
        .iter()
        .filter_map(|e| match e {
            Event::Segment(s) if s.acks_frame.is_some() || s.ack_rtt.is_some() => Some((
                s.frame,
                (s.acks_frame, s.ack_rtt.map(|r| (r * 1e6).round() as i64)),
            )),
            _ => None,
        })
        .collect()
}

fn theirs(path: &Path) -> PerFrame {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args([
            "-Y",
            "tcp.analysis.acks_frame || tcp.analysis.ack_rtt",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.analysis.acks_frame",
            "-e",
            "tcp.analysis.ack_rtt",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "tshark failed on {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let frame = f.first()?.parse().ok()?;
            let acks = f.get(1).and_then(|s| s.parse().ok());
            let rtt = f
                .get(2)
                .and_then(|s| s.parse::<f64>().ok())
                .map(|r| (r * 1e6).round() as i64);
            Some((frame, (acks, rtt)))
        })
        .collect()
}

#[test]
fn ack_rtt_and_acks_frame_equal_tsharks_on_every_frame() {
    if Command::new("tshark").arg("--version").output().is_err() {
        skip_note!("skipped: tshark not installed");
        return;
    }
    let (mut rtts, mut acks, mut files) = (0, 0, 0);
    let mut wrong = Vec::new();
    for path in real_stack_fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (ours, theirs) = (ours(&path), theirs(&path));
        let frames: std::collections::BTreeSet<u64> =
            ours.keys().chain(theirs.keys()).copied().collect();
        for frame in frames {
            let (o, t) = (ours.get(&frame), theirs.get(&frame));
            let (o, t) = (
                o.copied().unwrap_or((None, None)),
                t.copied().unwrap_or((None, None)),
            );
            if o != t {
                wrong.push(format!("{name} frame {frame}: ours {o:?}, tshark {t:?}"));
            }
            rtts += usize::from(t.1.is_some());
            acks += usize::from(t.0.is_some());
        }
        files += 1;
    }
    println!(
        "ack_rtt compared on {rtts} frames, acks_frame on {acks} frames, over {files} captures; \
         {} differ",
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(rtts > 1000, "only {rtts} ack_rtt frames compared");
}
