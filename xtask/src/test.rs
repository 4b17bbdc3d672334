//! `cargo xtask test`: the one test command, the same locally and in CI.
//!
//! 1. system dependencies (libpcap; tshark, tcpdump, Chromium for comparison tests),
//! 2. `cargo fmt --check`,
//! 3. `cargo clippy --workspace --all-targets -- -D warnings`,
//! 4. `cargo xtask layers`: no new import circle between a crate's modules, labfacts
//!    depending on no renderer or program crate (fast: it reads sources, builds nothing),
//! 5. every test of the workspace, and a build check of the fuzz targets (`fuzz/`),
//! 6. the demo end to end (`cargo xtask demo`), which checks that every exercise's
//!    capture holds all its messages (skip with `--no-demo`), then, as root, the same
//!    across two hosts (`cargo xtask demo --net`),
//! 7. the Python wheel (`cargo xtask wheel --check`): built, installed with pip into a
//!    fresh venv, run — as root also with libpcap hidden.

use crate::deps;
use crate::util::{cargo, run as step};
use anyhow::Result;

pub fn run_all(skip_tools: bool, demo: bool) -> Result<()> {
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
    eprintln!("xtask: layers (module circles, labfacts' dependencies)");
    crate::layers::main(&[])?;
    step("cargo test", cargo().args(["test", "--workspace"]))?;
    // The fuzz targets live outside the workspace: check that they still build
    // against the crates' current APIs (they are run by `cargo xtask fuzz`).
    step(
        "cargo check (fuzz targets)",
        cargo().args(["check", "--bins", "--manifest-path", "fuzz/Cargo.toml"]),
    )?;
    if demo {
        eprintln!("xtask: the demo, end to end");
        crate::demo::main(&[])?;
        if crate::util::is_root() {
            eprintln!("xtask: the demo across two hosts (netlab)");
            crate::demo::main(&["--net".to_string()])?;
        } else {
            eprintln!("xtask: skipped the demo across two hosts (demo --net): it needs root (network namespaces)");
        }
    }
    // The Python package: built by maturin, installed with pip into a fresh venv, run
    // (as root also without libpcap).
    crate::wheel::main(&["--check".to_string()])?;
    eprintln!("xtask: all checks passed");
    Ok(())
}

pub fn main(args: &[String]) -> Result<()> {
    let skip_tools = args.iter().any(|a| a == "--no-tools");
    let demo = !args.iter().any(|a| a == "--no-demo");
    run_all(skip_tools, demo)
}
