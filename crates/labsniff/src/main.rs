//! labsniff: capture or read the lab's traffic and decode it. Exit codes: 0 ok,
//! 2 usage, others by kind of failure (EXIT_CODES.md, `labsniff::exit_code`).
mod app;
mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Usage errors exit with 2 (clap).
    let cli = cli::Cli::parse();
    if cli.interface.is_some() && cli.port == Some(labsniff::port_choice::Request::Auto) {
        use clap::CommandFactory;
        cli::Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--port auto reads a capture file twice; a live capture needs a port (default 5005)",
            )
            .exit();
    }
    match app::run(cli) {
        Ok(app::Done::Ok) => ExitCode::SUCCESS,
        Ok(app::Done::GradeFailed { failed, total }) => {
            eprintln!("labsniff: {failed} of {total} captures miss a requirement");
            ExitCode::from(labsniff::exit_code::GRADE_FAILED)
        }
        Err(e) => {
            eprintln!("labsniff: {e}");
            ExitCode::from(labsniff::exit_code::of(&e))
        }
    }
}
