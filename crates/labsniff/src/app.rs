//! The program: command line to source, options and sink.

use crate::cli::{Cli, Command};
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
        /// Captures with no failure whose requirements include one that what was handed
        /// in cannot decide (a thread requirement without the server's trace).
        undecided: usize,
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
    sniff(cli)
}

/// Read or capture, then print what the command line asked for.
fn sniff(cli: Cli) -> Result<Done, SourceError> {
    let live = cli.interface.is_some();
    // A pipe or standard input is read as it comes, like a live capture: lines as they
    // are decoded, the report at the end of the input.
    let stream = cli.read.as_deref().is_some_and(labsniff::source::is_stream);
    let pcapng = pcapng_request(&cli, live, stream)?;
    let source = source_options(&cli, pcapng.is_some());
    let options = analysis_options(&cli, &source);
    let extras = run_extras(&cli, live);
    let live = live || stream;
    let stdout = std::io::stdout();
    let colour = use_colour(stdout.is_terminal());
    let streaming = cli.json || cli.view == View::Messages;
    let traces = Traces {
        paths: cli.syscalls.clone(),
        clock: match cli.trace_date {
            Some(midnight) => labsniff::syscalls::Clock::Day(midnight),
            None => labsniff::syscalls::Clock::Epoch,
        },
    };
    let collect_all = !traces.paths.is_empty() || pcapng.is_some();
    let result = if streaming && cli.svg.is_none() && cli.html.is_none() && !collect_all {
        let mut sink: Box<dyn Sink> = if cli.json {
            // One thread: lines are rendered into 1 MiB blocks and written as they
            // fill. A second thread only for writing (until 2026-12-01) overlapped the
            // write calls but cost 10% more CPU: it waited for blocks by spinning in
            // the channel, and the pipe's reader is often the slower side.
            Box::new(JsonSink::new(BufWriter::new(stdout.lock()), live))
        } else {
            let out = BufWriter::new(stdout.lock());
            Box::new(PlainSink::new(out, colour, live))
        };
        labsniff::analyze_with(&source, &extras, options, sink.as_mut()).map(|_| ())
    } else {
        let at_end = AtEnd {
            view: cli.view,
            svg: cli.svg.as_deref(),
            html: cli.html.as_deref(),
            peer: cli.peer_capture.as_deref(),
            title: page_title(&cli),
            conv: cli.conv,
            json: cli.json,
            json_segments: cli.segments,
            follow: live && !cli.json,
            traces: &traces,
            pcapng: pcapng.as_ref(),
        };
        let run = Run {
            source: &source,
            extras: &extras,
            options,
        };
        report_at_end(&at_end, &run)
    };
    match result {
        // A closed pipe (`labsniff ... | head`) is the reader's choice, not a failure.
        Err(SourceError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Done::Ok),
        other => other.map(|()| Done::Ok),
    }
}

/// -w NAME.pcapng (or --pcapng, --annotate) on a file: written by labsniff in a second
/// pass, not by libpcap during the run (libpcap writes plain pcap only).
fn pcapng_request(cli: &Cli, live: bool, stream: bool) -> Result<Option<Pcapng>, SourceError> {
    match &cli.write {
        Some(path) if cli.annotate || labsniff::annotate::wants_pcapng(path, cli.pcapng) => {
            let reading = if live {
                Some("while capturing live")
            } else if stream {
                Some("from a pipe or standard input (it is written in a second pass)")
            } else {
                None
            };
            if let Some(reading) = reading {
                return Err(SourceError::Output(std::io::Error::other(format!(
                    "cannot write pcapng '{}' {reading}: write a .pcap, then \
                     labsniff -r FILE.pcap -w OUT.pcapng --annotate",
                    path.display()
                ))));
            }
            Ok(Some(Pcapng {
                path: path.clone(),
                annotate: cli.annotate,
            }))
        }
        _ => Ok(None),
    }
}

/// Where frames come from, and the Ctrl-C flag that stops them.
fn source_options(cli: &Cli, pcapng: bool) -> SourceOptions {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // Without a handler Ctrl-C would kill us before the summary; failing to install one
    // (e.g. already installed) only loses that nicety.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let input = match (&cli.interface, &cli.read) {
        (Some(interface), _) => Input::Live {
            interface: interface.clone(),
            snaplen: cli.snaplen,
        },
        (None, Some(path)) => Input::File(path.clone()),
        // clap requires one of them.
        (None, None) => Input::File("-".into()),
    };
    SourceOptions {
        input,
        filter: cli.filter.clone(),
        write: if pcapng { None } else { cli.write.clone() },
        count: cli.count,
        stop,
        ready: Some(|line| eprintln!("labsniff: {line} (Ctrl-C stops and prints the report)")),
    }
}

/// The analysis settings, with the lab port chosen as `--port` asks.
fn analysis_options(cli: &Cli, source: &SourceOptions) -> Options {
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
    Options {
        port,
        port_choice,
        proto: cli.proto,
        max_ooo_bytes: cli.max_ooo_bytes,
        max_size: cli.max_size,
        // The HTML page and the SVG ladder draw every segment (the SVG with --syscalls
        // is the flow graph with the calls' lanes, which needs none).
        segments: cli.segments
            || cli.html.is_some()
            || (cli.svg.is_some() && cli.syscalls.is_empty()),
    }
}

/// What the HTML page's title names: the file read, or the interface.
fn page_title(cli: &Cli) -> String {
    match (&cli.interface, &cli.read) {
        (Some(interface), _) => format!("live capture on {interface}"),
        (None, Some(path)) => path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        (None, None) => "standard input".to_string(),
    }
}

/// The progress bar on a terminal, and the privilege drop of a live capture as root.
fn run_extras(cli: &Cli, live: bool) -> RunExtras {
    RunExtras {
        progress: std::io::stderr().is_terminal().then(|| {
            Arc::new(labsniff::progress::Bar::default())
                as Arc<dyn labsniff::Progress + Send + Sync>
        }),
        // As tcpdump: root gives up its privileges once the capture is open.
        drop_to: match &cli.drop_to {
            Some(user) => Some(user.clone()),
            None if live && labsniff::privileges::is_root() => Some("nobody".to_string()),
            None => None,
        },
    }
}

/// `labsniff grade`: every file through the normal analysis, one row each.
fn grade(args: crate::cli::GradeArgs) -> Result<Done, SourceError> {
    use labsniff::grade::{expand, grade_all, output, Limits};
    let style = Style::detect();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let Some(exercise) = args.exercise else {
        out.write_all(output::list(&style).as_bytes())?;
        out.flush()?;
        return Ok(Done::Ok);
    };
    let files = expand(&args.files);
    let mut grades = Vec::with_capacity(files.len());
    let limits = Limits {
        max_frames: args.max_frames,
        max_seconds: args.max_seconds,
    };
    let mut pages = Vec::new();
    {
        let mut done = |g: labsniff::grade::Grade| -> std::io::Result<()> {
            if args.json {
                // Streamed, in the files' order: a teacher piping 100 files sees each as
                // soon as it and those before it are graded.
                out.write_all(output::json(std::slice::from_ref(&g)).as_bytes())?;
            }
            grades.push(g);
            Ok(())
        };
        match &args.html {
            // With the pages: each written by the worker that graded its file, which
            // then drops the file's events.
            Some(class) => labsniff::grade::each_file(
                &files,
                |i, file| {
                    let (g, events) =
                        labsniff::grade::grade_file_with(file, exercise, args.port, limits, true);
                    (g, capture_page(class, i, file, &events))
                },
                |(g, page)| {
                    pages.push(page);
                    done(g)
                },
            )?,
            None => grade_all(&files, exercise, args.port, limits, &mut done)?,
        }
    }
    // Captures handed in twice: told after every file (JSON: one `copies` line each).
    let copies = labsniff::grade::copies::find(&grades);
    if args.csv {
        out.write_all(output::csv(exercise, &grades).as_bytes())?;
    } else if args.json {
        for c in &copies {
            if let Ok(line) = serde_json::to_string(c) {
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
            }
        }
    } else {
        out.write_all(output::table(exercise, &grades, &style).as_bytes())?;
        if !copies.is_empty() {
            out.write_all(b"\nHanded in twice:\n")?;
            out.write_all(labsniff::grade::copies::lines(&copies).as_bytes())?;
        }
    }
    out.flush()?;
    if let Some(class) = &args.html {
        let page = labsniff::html::class::render(exercise, &grades, &pages);
        std::fs::write(class, page).map_err(|e| {
            SourceError::Output(std::io::Error::new(
                e.kind(),
                format!("cannot write HTML '{}': {e}", class.display()),
            ))
        })?;
        eprintln!("labsniff: class page written to {}", class.display());
    }
    let outcome = |o| grades.iter().filter(|g| g.outcome == o).count();
    let failed = outcome(labsniff::grade::Outcome::Fail);
    let undecided = outcome(labsniff::grade::Outcome::Undecided);
    Ok(if failed == 0 && undecided == 0 && !grades.is_empty() {
        Done::Ok
    } else {
        Done::GradeFailed {
            failed,
            undecided,
            total: grades.len(),
        }
    })
}

/// `grade --html CLASS.html`: the page of capture number `i` (from 0), written beside
/// the class page as `CLASS-NNN-NAME.html`; its file name, or None when it could not be
/// written (the class page then names the capture without a link).
fn capture_page(
    class: &std::path::Path,
    i: usize,
    file: &std::path::Path,
    events: &[labsniff::Event],
) -> Option<String> {
    let stem = class.file_stem()?.to_string_lossy().into_owned();
    let name = file.file_name()?.to_string_lossy().into_owned();
    let page_name = format!("{stem}-{:03}-{name}.html", i + 1);
    let path = class.with_file_name(&page_name);
    match std::fs::write(&path, labsniff::html::render(events, &name)) {
        Ok(()) => Some(page_name),
        Err(e) => {
            eprintln!("labsniff: cannot write '{}': {e}", path.display());
            None
        }
    }
}

/// `-w OUT.pcapng` on a file, with or without --annotate.
struct Pcapng {
    path: std::path::PathBuf,
    annotate: bool,
}

impl Pcapng {
    /// The second pass: the input's frames into pcapng, with the verdicts.
    fn write(
        &self,
        source: &SourceOptions,
        events: &[labsniff::Event],
        verdicts: &labsniff::annotate::Verdicts,
    ) -> Result<(), SourceError> {
        let Input::File(input) = &source.input else {
            return Ok(());
        };
        let fail = |e: std::io::Error| {
            SourceError::Output(std::io::Error::new(
                e.kind(),
                format!("cannot write pcapng '{}': {e}", self.path.display()),
            ))
        };
        let mut summary = events
            .iter()
            .find_map(|e| match e {
                labsniff::Event::Summary(s) => Some(labsniff::words::summary::line(s)),
                _ => None,
            })
            .unwrap_or_default();
        summary.insert_str(0, "labsniff: ");
        for line in report::conversation_lines(events) {
            summary.push('\n');
            summary.push_str(&line);
        }
        if verdicts.dropped > 0 {
            summary.push_str(&format!(
                "\n({} frames beyond the first {} commented frames have no comment)",
                verdicts.dropped,
                labsniff::annotate::verdicts::FRAMES_MAX
            ));
        }
        let file = std::fs::File::create(&self.path).map_err(fail)?;
        let written = labsniff::annotate::pcapng::write(
            input,
            source.filter.as_deref(),
            source.count,
            BufWriter::new(file),
            verdicts,
            &summary,
        )
        .map_err(fail)?;
        eprintln!(
            "labsniff: {} frames written to {} ({} with labsniff's comment)",
            written.frames,
            self.path.display(),
            written.commented
        );
        Ok(())
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

/// What to print at the end of a run that collects the events first.
struct AtEnd<'a> {
    view: View,
    svg: Option<&'a std::path::Path>,
    /// `--html FILE`: the page, written at the end.
    html: Option<&'a std::path::Path>,
    /// `--peer-capture OTHER`: the same traffic captured at the other end.
    peer: Option<&'a std::path::Path>,
    /// The page's title (the input's name).
    title: String,
    conv: Option<u64>,
    json: bool,
    /// `--json --segments`: the segment lines were asked for (with --html alone they
    /// are collected for the page, not printed).
    json_segments: bool,
    /// Live, not --json: each message and finding as it happens, the report at Ctrl-C.
    follow: bool,
    traces: &'a Traces,
    pcapng: Option<&'a Pcapng>,
}

/// The input and how to analyse it.
struct Run<'a> {
    source: &'a SourceOptions,
    extras: &'a RunExtras,
    options: Options,
}

/// Collect the events (bounded), then render the view and/or the SVG.
fn report_at_end(at_end: &AtEnd<'_>, run: &Run<'_>) -> Result<(), SourceError> {
    let (sink, verdicts) = collect(at_end, run)?;
    if let Some(p) = at_end.pcapng {
        p.write(run.source, &sink.events, &verdicts)?;
    }
    let joined = at_end.traces.join(&sink.events);
    if let Some(path) = at_end.svg {
        write_svg(path, &sink.events, at_end.conv, joined.as_ref())?;
    }
    if let Some(path) = at_end.html {
        let peer = match at_end.peer {
            Some(other) => Some((other, peer_events(other, run)?)),
            None => None,
        };
        write_html(path, &sink.events, &at_end.title, peer)?;
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    if at_end.json {
        // --json with --svg: the JSON lines of what was kept.
        for event in &sink.events {
            if matches!(event, labsniff::Event::Segment(_)) && !at_end.json_segments {
                continue;
            }
            // The summary stays the last line: the trace lines go before it.
            if let (labsniff::Event::Summary(_), Some(j)) = (event, &joined) {
                labsniff::output::syscalls::write(&mut out, j)?;
            }
            labsniff::output::json_event::to_writer(&mut out, event)
                .map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
    } else {
        write_view(&mut out, at_end, &sink, joined.as_ref())?;
    }
    out.flush()?;
    Ok(())
}

/// Analyse into the bounded collector (live: through the follow sink, which prints as it
/// goes), with the verdicts for pcapng comments when --annotate asks for them.
fn collect(
    at_end: &AtEnd<'_>,
    run: &Run<'_>,
) -> Result<(CollectSink, labsniff::annotate::Verdicts), SourceError> {
    let analyze =
        |sink: &mut dyn Sink| labsniff::analyze_with(run.source, run.extras, run.options, sink);
    let mut verdicts = labsniff::annotate::Verdicts::new();
    if at_end.follow {
        let stdout = std::io::stdout();
        let colour = use_colour(stdout.is_terminal());
        // Buffered: stdout alone is line-buffered, one write() per message line, which
        // at 64 connections of the bench load (2.5 M lines) made the capture fall behind.
        // The follow sink flushes at each batch of frames, so lines still come at once.
        let mut follow = FollowSink::new(BufWriter::new(stdout.lock()), colour);
        analyze(&mut follow)?;
        Sink::flush(&mut follow)?;
        let mut out = std::io::stdout().lock();
        writeln!(out)?;
        return Ok((follow.collected, verdicts));
    }
    let mut sink = CollectSink::new();
    if at_end.pcapng.is_some_and(|p| p.annotate) {
        let mut tee = labsniff::annotate::Tee {
            sink: &mut sink,
            verdicts: &mut verdicts,
        };
        analyze(&mut tee)?;
    } else {
        analyze(&mut sink)?;
    }
    Ok((sink, verdicts))
}

/// `--svg FILE`: the ladder (as on the HTML page), or with traces joined the flow graph
/// with the traced calls in their lanes.
fn write_svg(
    path: &std::path::Path,
    events: &[labsniff::Event],
    conv: Option<u64>,
    joined: Option<&labsniff::syscalls::Joined>,
) -> Result<(), SourceError> {
    let svg = match joined {
        Some(j) => report::render_svg_with_syscalls(events, conv, j),
        // The ladder of the HTML page; UDP conversations (no segments) keep the flow
        // graph that draws their datagrams.
        None => labsniff::html::ladder_svg(events, conv)
            .unwrap_or_else(|| report::render_svg(events, conv)),
    };
    std::fs::write(path, svg).map_err(|e| {
        SourceError::Output(std::io::Error::new(
            e.kind(),
            format!("cannot write SVG '{}': {e}", path.display()),
        ))
    })?;
    eprintln!("labsniff: flow graph written to {}", path.display());
    Ok(())
}

/// `--peer-capture OTHER`: the other capture's events, analysed as the first (same
/// port, filter and options), collected within the same bounds.
fn peer_events(
    other: &std::path::Path,
    run: &Run<'_>,
) -> Result<Vec<labsniff::Event>, SourceError> {
    let source = SourceOptions {
        filter: run.source.filter.clone(),
        stop: Arc::clone(&run.source.stop),
        ..SourceOptions::file(other)
    };
    let mut sink = CollectSink::new();
    let extras = RunExtras {
        progress: None,
        drop_to: None,
    };
    labsniff::analyze_with(&source, &extras, run.options, &mut sink)?;
    Ok(sink.events)
}

/// `--html FILE`: the page.
fn write_html(
    path: &std::path::Path,
    events: &[labsniff::Event],
    title: &str,
    peer: Option<(&std::path::Path, Vec<labsniff::Event>)>,
) -> Result<(), SourceError> {
    let page = match &peer {
        Some((other, peer_events)) => {
            let name = other.file_name().map_or_else(
                || other.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            labsniff::html::render_with_peer(events, title, peer_events, &name)
        }
        None => labsniff::html::render(events, title),
    };
    std::fs::write(path, &page).map_err(|e| {
        SourceError::Output(std::io::Error::new(
            e.kind(),
            format!("cannot write HTML '{}': {e}", path.display()),
        ))
    })?;
    eprintln!(
        "labsniff: page written to {} ({} bytes)",
        path.display(),
        page.len()
    );
    Ok(())
}

/// The text view, and what the collector's bounds left out.
fn write_view(
    out: &mut impl Write,
    at_end: &AtEnd<'_>,
    sink: &CollectSink,
    joined: Option<&labsniff::syscalls::Joined>,
) -> Result<(), SourceError> {
    let style = Style::detect();
    let text = match (at_end.view, at_end.conv) {
        (View::Flow, Some(n)) => match joined {
            Some(j) => report::render_flow_with_syscalls(&sink.events, Some(n), &style, j),
            None => report::render_flow(&sink.events, Some(n), &style),
        },
        (view, _) => match joined {
            Some(j) => report::render_with_syscalls(&sink.events, view, &style, j),
            None => report::render(&sink.events, view, &style),
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
    Ok(())
}
