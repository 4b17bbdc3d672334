//! The program: command line to source, options and sink.

use crate::cli::{Cli, Command};
use labsniff::output::json_pipe::PipedJsonSink;
use labsniff::output::{collect::CollectSink, json::JsonSink, plain::PlainSink, use_colour};
use labsniff::report::{self, Style, View};
use labsniff::{Input, Options, RunExtras, Sink, SourceError, SourceOptions};
use std::io::Write;
use std::io::{BufWriter, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Run labsniff as the command line says.
pub fn run(cli: Cli) -> Result<(), SourceError> {
    if let Some(Command::LuaDissector { port }) = cli.command {
        let lua = labproto::lua::dissector(&labproto::lua::LuaOptions { port });
        std::io::stdout().write_all(lua.as_bytes())?;
        return Ok(());
    }
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
        ready: Some(|line| eprintln!("labsniff: {line} (Ctrl-C stops and prints the report)")),
    };
    let options = Options {
        port: cli.port,
        proto: cli.proto,
        max_ooo_bytes: cli.max_ooo_bytes,
        max_size: cli.max_size,
    };
    let extras = RunExtras {
        progress: std::io::stderr().is_terminal(),
        // As tcpdump: root gives up its privileges once the capture is open.
        drop_to: match cli.drop_to {
            Some(user) => Some(user),
            None if live && labsniff::privileges::is_root() => Some("nobody".to_string()),
            None => None,
        },
    };
    let stdout = std::io::stdout();
    let colour = use_colour(stdout.is_terminal());
    let streaming = cli.json || cli.view == View::Messages;
    let traces = Traces {
        paths: cli.syscalls,
        clock: match cli.trace_date {
            Some(midnight) => labsniff::syscalls::Clock::Day(midnight),
            None => labsniff::syscalls::Clock::Epoch,
        },
    };
    let result = if streaming && cli.svg.is_none() && traces.paths.is_empty() {
        let mut sink: Box<dyn Sink> = if cli.json && !live {
            // Reading a file: JSON text is rendered on a second thread.
            Box::new(PipedJsonSink::new(std::io::stdout())?)
        } else if cli.json {
            Box::new(JsonSink::new(BufWriter::new(stdout.lock()), live))
        } else {
            let out = BufWriter::new(stdout.lock());
            Box::new(PlainSink::new(out, colour, live))
        };
        labsniff::analyze_with(&source, &extras, options, sink.as_mut()).map(|_| ())
    } else {
        report_at_end(
            &cli.view,
            cli.svg.as_deref(),
            cli.conv,
            cli.json,
            &traces,
            &source,
            &extras,
            options,
        )
    };
    match result {
        // A closed pipe (`labsniff ... | head`) is the reader's choice, not a failure.
        Err(SourceError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The traces of --syscalls.
struct Traces {
    paths: Vec<std::path::PathBuf>,
    clock: labsniff::syscalls::Clock,
}

impl Traces {
    /// Read and join every trace to the collected conversations; a trace that cannot
    /// be opened is reported in the notes, as one that holds nothing useful.
    fn join(&self, events: &[labsniff::Event]) -> Option<labsniff::syscalls::Joined> {
        use labsniff::syscalls::{join, TraceInput};
        if self.paths.is_empty() {
            return None;
        }
        let convs: Vec<&labsniff::event::ConversationRecord> = events
            .iter()
            .filter_map(|e| match e {
                labsniff::Event::Conversation(c) => Some(&**c),
                _ => None,
            })
            .collect();
        let mut inputs = Vec::new();
        let mut failed = Vec::new();
        for path in &self.paths {
            let name = path.display().to_string();
            match std::fs::File::open(path) {
                Ok(f) => inputs.push(TraceInput {
                    name,
                    input: std::io::BufReader::new(f),
                    clock: self.clock,
                }),
                Err(e) => failed.push(labsniff::syscalls::TraceSummary {
                    name,
                    error: Some(format!("cannot open: {e}")),
                    ..Default::default()
                }),
            }
        }
        let mut joined = join(&convs, inputs);
        joined.traces.extend(failed);
        Some(joined)
    }
}

/// Collect the events (bounded), then render the view and/or the SVG.
#[allow(clippy::too_many_arguments)]
fn report_at_end(
    view: &View,
    svg: Option<&std::path::Path>,
    conv: Option<u64>,
    json: bool,
    traces: &Traces,
    source: &SourceOptions,
    extras: &RunExtras,
    options: Options,
) -> Result<(), SourceError> {
    let mut sink = CollectSink::new();
    labsniff::analyze_with(source, extras, options, &mut sink)?;
    let joined = traces.join(&sink.events);
    if let Some(path) = svg {
        std::fs::write(path, report::render_svg(&sink.events, conv)).map_err(|e| {
            SourceError::Output(std::io::Error::new(
                e.kind(),
                format!("cannot write SVG '{}': {e}", path.display()),
            ))
        })?;
        eprintln!("labsniff: flow graph written to {}", path.display());
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    if json {
        // --json with --svg: the JSON lines of what was kept.
        for event in &sink.events {
            // The summary stays the last line: the trace lines go before it.
            if let (labsniff::Event::Summary(_), Some(j)) = (event, &joined) {
                labsniff::output::syscalls::write(&mut out, j)?;
            }
            serde_json::to_writer(&mut out, event).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
    } else {
        let style = Style::detect();
        let text = match (view, conv) {
            (View::Flow, Some(n)) => report::render_flow(&sink.events, Some(n), &style),
            (view, _) => match &joined {
                Some(j) => report::render_with_syscalls(&sink.events, *view, &style, j),
                None => report::render(&sink.events, *view, &style),
            },
        };
        out.write_all(text.as_bytes())?;
        if sink.messages_dropped > 0 || sink.diagnostics_dropped > 0 {
            writeln!(
                out,
                "\n(report detail limited: {} messages and {} diagnostics beyond the first {} conversations / {} messages each are counted in the table but not listed; use --json for all)",
                sink.messages_dropped,
                sink.diagnostics_dropped,
                labsniff::output::collect::CONVERSATIONS_DETAILED,
                labsniff::output::collect::MESSAGES_PER_CONVERSATION
            )?;
        }
    }
    out.flush()?;
    Ok(())
}
