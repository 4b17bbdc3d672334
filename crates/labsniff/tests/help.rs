//! `labsniff --help` lists every exit code that EXIT_CODES.md documents.
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn help_lists_every_documented_exit_code() {
    let out = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/EXIT_CODES.md")).unwrap();
    let codes: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(' ').next())
        .filter(|c| c.parse::<u8>().is_ok())
        .collect();
    assert!(codes.len() >= 10, "{codes:?}");
    let section = help
        .split("Exit codes")
        .nth(1)
        .expect("an exit code section in --help");
    for code in codes {
        assert!(
            section.split_whitespace().any(|w| w == code),
            "exit code {code} missing from --help:\n{section}"
        );
    }
}
