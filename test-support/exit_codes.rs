//! Shared by labnet's and labsniff's `tests/help.rs` (included with `#[path]`): a
//! tool's `--help` lists every exit code its EXIT_CODES.md documents.

use std::process::Command;

/// Panics (the test fails) unless `bin --help` has an "Exit codes" section naming
/// every code in the table of `exit_codes_md` (rows `| CODE ...`; at least 10).
pub fn help_lists_every_documented_exit_code(bin: &str, exit_codes_md: &str) {
    let out = Command::new(bin)
        .arg("--help")
        .output()
        .expect("run --help");
    let help = String::from_utf8(out.stdout).expect("--help is UTF-8");
    let doc = std::fs::read_to_string(exit_codes_md).expect("EXIT_CODES.md");
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
