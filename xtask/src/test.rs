//! `cargo xtask test`: the one test command, the same locally and in CI.
//!
//! 1. system dependencies (libpcap; tshark, tcpdump, Chromium for comparison tests),
//! 2. `cargo fmt --check`,
//! 3. `cargo clippy --workspace --all-targets -- -D warnings`,
//! 4. every test of the workspace.

use crate::deps;
use crate::util::{cargo, run as step};
use anyhow::Result;

pub fn run_all(skip_tools: bool) -> Result<()> {
    deps::ensure(!skip_tools)?;
    step(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--check"]),
    )?;
    step(
        "cargo clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    step("cargo test", cargo().args(["test", "--workspace"]))?;
    eprintln!("xtask: all checks passed");
    Ok(())
}

pub fn main(args: &[String]) -> Result<()> {
    let skip_tools = args.iter().any(|a| a == "--no-tools");
    run_all(skip_tools)
}
