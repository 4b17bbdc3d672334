//! The gen-capture binary: stats printed, exit codes, error texts.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::process::Command;

use common::{read_with_libpcap, TempPath};

fn gen_capture(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gen-capture"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn writes_and_reports() {
    let path = TempPath::new("gen.pcap");
    let out = gen_capture(&[
        path.0.to_str().unwrap(),
        "--conns",
        "4",
        "--pairs",
        "8",
        "--seed",
        "3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    // 4 × (3 + 16 + 2 + 4) = 100 packets, 64 messages.
    assert!(stdout.contains("packets            100\n"), "{stdout}");
    assert!(stdout.contains("messages            64\n"), "{stdout}");
    let (_, records) = read_with_libpcap(&path.0);
    assert_eq!(records.len(), 100);
}

#[test]
fn usage_errors_exit_2_with_a_reason() {
    for (args, reason) in [
        (&["--conns", "3"][..], "gen-capture: no output file given"),
        (
            &["x.pcap", "--pairs", "many"],
            "gen-capture: --pairs needs a whole number, got 'many'",
        ),
        (
            &["x.pcap", "--seed"],
            "gen-capture: --seed needs a number after it",
        ),
        (
            &["x.pcap", "--fast"],
            "gen-capture: unknown option '--fast'",
        ),
        (
            &["a.pcap", "b.pcap"],
            "gen-capture: more than one output file given ('b.pcap' is the second)",
        ),
    ] {
        let out = gen_capture(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().next(), Some(reason), "{args:?}");
    }
}

#[test]
fn unwritable_output_exits_1() {
    let out = gen_capture(&["/nonexistent-dir/out.pcap", "--conns", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("gen-capture: cannot create /nonexistent-dir/out.pcap: "),
        "{stderr}"
    );
}
