//! labsniff: capture or read the lab's traffic and decode it.
mod app;
mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Usage errors exit with 2 (clap).
    let cli = cli::Cli::parse();
    match app::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("labsniff: {e}");
            ExitCode::from(1)
        }
    }
}
