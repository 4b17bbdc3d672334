//! `labsniff --help` lists every exit code that EXIT_CODES.md documents.

#[path = "../../../test-support/exit_codes.rs"]
mod exit_codes;

#[test]
fn help_lists_every_documented_exit_code() {
    exit_codes::help_lists_every_documented_exit_code(
        env!("CARGO_BIN_EXE_labsniff"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/EXIT_CODES.md"),
    );
}
