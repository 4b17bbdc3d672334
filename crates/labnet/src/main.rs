//! `labnet`: parse the command line, run it, map the outcome to an exit code
//! (0 ok, 1 runtime error, 2 usage error — clap exits with 2 itself).

use clap::Parser;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn main() -> ExitCode {
    let cli = labnet::cli::Cli::parse();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("labnet: cannot install the Ctrl-C handler: {e}");
        return ExitCode::from(1);
    }
    match labnet::app::run(cli.command, stop) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("labnet: {e}");
            ExitCode::from(1)
        }
    }
}
