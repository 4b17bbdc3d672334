//! labsniff: capture or read the lab's traffic and decode it. Exit codes: 0 ok,
//! 2 usage, others by kind of failure (EXIT_CODES.md, `labsniff::exit_code`).
mod app;
mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Usage errors exit with 2 (clap).
    let cli = cli::Cli::parse();
    match app::run(cli) {
        Ok(app::Done::Ok) => ExitCode::SUCCESS,
        Ok(app::Done::GradeFailed { failed, total }) => {
            eprintln!("labsniff: {failed} of {total} captures miss a requirement");
            ExitCode::from(labsniff::exit_code::GRADE_FAILED)
        }
        Err(e) => {
            eprintln!("labsniff: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
