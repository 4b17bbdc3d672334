//! labsniff: capture or read the lab's traffic and decode it. Exit codes: 0 ok,
//! 2 usage, others by kind of failure (EXIT_CODES.md, `labsniff::exit_code`).
mod app;
mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Usage errors exit with 2 (clap).
    let cli = cli::Cli::parse();
    if cli.command.is_none() && cli.interface.is_none() && cli.read.is_none() {
        use clap::CommandFactory;
        cli::Cli::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "labsniff needs something to read: -r FILE (a pcap or pcapng capture, gzip or \
                 not; - for standard input), or -i INTERFACE to capture live (as root; lo is \
                 loopback). E.g. labsniff -r ex5.pcap, or sudo labsniff -i lo",
            )
            .exit();
    }
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
        Ok(app::Done::GradeFailed {
            failed,
            undecided,
            total,
        }) => {
            let undecided = match undecided {
                0 => String::new(),
                n => format!(", {n} cannot be decided from what was handed in (see the notes)"),
            };
            let (captures, miss) = match total {
                1 => ("capture", "misses"),
                _ => ("captures", "miss"),
            };
            eprintln!("labsniff: {failed} of {total} {captures} {miss} a requirement{undecided}");
            ExitCode::from(labsniff::exit_code::GRADE_FAILED)
        }
        Err(e) => {
            let hint = labsniff::words::errors::hint(&e, &error_context());
            eprintln!("labsniff: {e}{hint}");
            ExitCode::from(labsniff::exit_code::of(&e))
        }
    }
}

/// What an error's hint may name: this machine's interfaces, this program's path.
fn error_context() -> labsniff::words::errors::Context {
    let mut interfaces: Vec<String> = std::fs::read_dir("/sys/class/net")
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    interfaces.sort();
    labsniff::words::errors::Context {
        interfaces,
        program: std::env::current_exe()
            .ok()
            .map(|p| p.display().to_string()),
    }
}
