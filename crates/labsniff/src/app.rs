//! The program: command line to source, options and sink.

use crate::cli::{Cli, Command};
use labsniff::output::json_pipe::PipedJsonSink;
use labsniff::output::{
    collect::CollectSink, follow::FollowSink, json::JsonSink, plain::PlainSink, use_colour,
};
use labsniff::port_choice::{How, PortChoice};
use labsniff::report::{self, Style, View};
use labsniff::{Input, Options, RunExtras, Sink, SourceError, SourceOptions};
use std::io::Write;
use std::io::{BufWriter, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How a run ended, when it did not fail.
#[derive(Debug)]
pub enum Done {
    Ok,
    /// `labsniff grade`: this many files of `total` miss a requirement.
    GradeFailed {
        failed: usize,
        total: usize,
    },
}

/// Run labsniff as the command line says.
pub fn run(cli: Cli) -> Result<Done, SourceError> {
    match cli.command {
        Some(Command::LuaDissector { port }) => {
            let lua = labproto::lua::dissector(&labproto::lua::LuaOptions { port });
            std::io::stdout().write_all(lua.as_bytes())?;
            return Ok(Done::Ok);
        }
        Some(Command::Grade(args)) => return grade(args),
        None => {}
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
    let (port, port_choice) = match (&source.input, cli.port) {
        (Input::File(path), request) => labsniff::port_choice::choose(
            path,
            request.unwrap_or(labsniff::port_choice::Request::AutoDefault),
            cli.max_size,
        ),
        (Input::Live { .. }, Some(labsniff::port_choice::Request::Port(p))) => {
            (p, PortChoice::plain(How::Given))
        }
        (Input::Live { .. }, _) => (labproto::LAB_PORT, PortChoice::plain(How::Default)),
    };
    let options = Options {
        port,
        port_choice,
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
    let result = if streaming && cli.svg.is_none() {
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
            live && !cli.json,
            &source,
            &extras,
            options,
        )
    };
    match result {
        // A closed pipe (`labsniff ... | head`) is the reader's choice, not a failure.
        Err(SourceError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Done::Ok),
        other => other.map(|()| Done::Ok),
    }
}

/// `labsniff grade`: every file through the normal analysis, one row each.
fn grade(args: crate::cli::GradeArgs) -> Result<Done, SourceError> {
    use labsniff::grade::{expand, grade_file, output};
    let style = Style::detect();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let Some(exercise) = args.exercise else {
        out.write_all(output::list(&style).as_bytes())?;
        out.flush()?;
        return Ok(Done::Ok);
    };
    let files = expand(&args.files);
    let mut grades = Vec::with_capacity(files.len());
    for file in &files {
        let g = grade_file(file, exercise, args.port);
        if args.json {
            // Streamed: a teacher piping 100 files sees each as it is graded.
            out.write_all(output::json(std::slice::from_ref(&g)).as_bytes())?;
        }
        grades.push(g);
    }
    if args.csv {
        out.write_all(output::csv(exercise, &grades).as_bytes())?;
    } else if !args.json {
        out.write_all(output::table(exercise, &grades, &style).as_bytes())?;
    }
    out.flush()?;
    let failed = grades.iter().filter(|g| !g.pass).count();
    Ok(if failed == 0 && !grades.is_empty() {
        Done::Ok
    } else {
        Done::GradeFailed {
            failed,
            total: grades.len(),
        }
    })
}

/// Collect the events (bounded), then render the view and/or the SVG.
#[allow(clippy::too_many_arguments)]
fn report_at_end(
    view: &View,
    svg: Option<&std::path::Path>,
    conv: Option<u64>,
    json: bool,
    follow: bool,
    source: &SourceOptions,
    extras: &RunExtras,
    options: Options,
) -> Result<(), SourceError> {
    let sink = if follow {
        // Live: each message and finding as it happens, the report at Ctrl-C.
        let stdout = std::io::stdout();
        let colour = use_colour(stdout.is_terminal());
        let mut follow = FollowSink::new(stdout.lock(), colour);
        labsniff::analyze_with(source, extras, options, &mut follow)?;
        let mut out = std::io::stdout().lock();
        writeln!(out)?;
        follow.collected
    } else {
        let mut sink = CollectSink::new();
        labsniff::analyze_with(source, extras, options, &mut sink)?;
        sink
    };
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
            serde_json::to_writer(&mut out, event).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
    } else {
        let style = Style::detect();
        let text = match (view, conv) {
            (View::Flow, Some(n)) => report::render_flow(&sink.events, Some(n), &style),
            (view, _) => report::render(&sink.events, *view, &style),
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
