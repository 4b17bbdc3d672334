//! `labnet`: parse the command line, run it, map the outcome to an exit code
//! (0 ok, 2 usage error, 1 and 3–8 runtime errors by kind; see EXIT_CODES.md).

use clap::Parser;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use labnet::error::exit::{RUNTIME as EXIT_RUNTIME, USAGE as EXIT_USAGE};

fn main() -> ExitCode {
    // args_os: a non-UTF-8 argument is a usage error from clap, not a panic here.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match labnet::cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: clap prints them, exit 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Bare `labnet`: the help itself is the most useful answer.
            let _ = e.print();
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => {
            eprintln!(
                "labnet: {}",
                labnet::cli::one_line_usage_error(
                    &e,
                    &args
                        .iter()
                        .map(|a| a.to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                )
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("labnet: cannot install the Ctrl-C handler: {e}");
        return ExitCode::from(EXIT_RUNTIME);
    }
    // SIGTERM stops as Ctrl-C does, so buffered log lines are written before exit; a
    // second SIGTERM (the stop flag already set) ends the process at once, as the
    // default action would have.
    let term = signal_hook::consts::SIGTERM;
    let installed = signal_hook::flag::register_conditional_shutdown(term, 1, Arc::clone(&stop))
        .and_then(|_| signal_hook::flag::register(term, Arc::clone(&stop)));
    if let Err(e) = installed {
        eprintln!("labnet: cannot install the SIGTERM handler: {e}");
        return ExitCode::from(EXIT_RUNTIME);
    }
    let result = labnet::app::run(cli.command, stop);
    labnet::log::flush_stdout();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("labnet: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
