//! The program: command line to source, options and sink.

use crate::cli::Cli;
use labsniff::output::{json::JsonSink, plain::PlainSink, use_colour};
use labsniff::{Input, Options, Sink, SourceError, SourceOptions};
use std::io::{BufWriter, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Run labsniff as the command line says.
pub fn run(cli: Cli) -> Result<(), SourceError> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // Without a handler Ctrl-C would kill us before the summary; failing to install one
    // (e.g. already installed) only loses that nicety.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let live = cli.interface.is_some();
    let input = match (cli.interface, cli.read) {
        (Some(interface), _) => Input::Live {
            interface,
            snaplen: cli.snaplen,
        },
        (None, Some(path)) => Input::File(path),
        // clap requires one of them.
        (None, None) => Input::File("-".into()),
    };
    let source = SourceOptions {
        input,
        filter: cli.filter,
        write: cli.write,
        count: cli.count,
        stop,
        ready: Some(|line| eprintln!("labsniff: {line}")),
    };
    let options = Options {
        port: cli.port,
        proto: cli.proto,
        max_ooo_bytes: cli.max_ooo_bytes,
        max_size: cli.max_size,
    };
    let stdout = std::io::stdout();
    let colour = use_colour(stdout.is_terminal());
    let out = BufWriter::new(stdout.lock());
    let mut sink: Box<dyn Sink> = if cli.json {
        Box::new(JsonSink::new(out, live))
    } else {
        Box::new(PlainSink::new(out, colour, live))
    };
    match labsniff::analyze(&source, options, sink.as_mut()) {
        // A closed pipe (`labsniff ... | head`) is the reader's choice, not a failure.
        Err(SourceError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map(|_| ()),
    }
}
