//! Grading files: each one read with the normal analysis (whether it reads cleanly is
//! the `readable` requirement), then every requirement of the exercise evaluated on
//! its [`Facts`]; and the files a command line names (folders expanded).

use super::exercises::READABLE;
use super::{Exercise, Facts, Grade, Outcome, Verdict};
use crate::event::{Event, Summary};
use crate::output::collect::CollectSink;
use crate::{Options, SourceOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// What one file may cost: a student's upload is untrusted, and one huge or hostile file
/// (a gzip bomb of empty records) must not hold up the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Frames read at most (no lab capture comes near the default).
    pub max_frames: u64,
    /// Seconds of reading at most.
    pub max_seconds: u64,
}

impl Default for Limits {
    /// 10,000,000 frames and 120 s: a lab exercise's capture has hundreds to a few
    /// hundred thousand frames and reads in under a second.
    fn default() -> Limits {
        Limits {
            max_frames: 10_000_000,
            max_seconds: 120,
        }
    }
}

/// Grade one file with the default [`Limits`].
pub fn grade_file(path: &Path, exercise: &'static Exercise, port: u16) -> Grade {
    grade_file_within(path, exercise, port, Limits::default())
}

/// Grade one file: read it with the normal analysis (at most `limits`), then evaluate
/// the requirements. Never fails: a file that cannot be read is a row whose `readable`
/// says why; a file cut short by `limits` fails `readable`, saying so, and its other
/// requirements are judged on what was read.
pub fn grade_file_within(
    path: &Path,
    exercise: &'static Exercise,
    port: u16,
    limits: Limits,
) -> Grade {
    grade_file_with(path, exercise, port, limits, false).0
}

/// [`grade_file_within`], also returning the collected events (with the segment events
/// when `segments`, for the capture's HTML page of `grade --html`).
pub fn grade_file_with(
    path: &Path,
    exercise: &'static Exercise,
    port: u16,
    limits: Limits,
    segments: bool,
) -> (Grade, Vec<Event>) {
    let mut sink = CollectSink::new();
    let file = path.display().to_string();
    let read = read(path, port, limits, segments, &mut sink);
    let mut requirements = Vec::with_capacity(exercise.requirements.len());
    if read.analysed {
        let mut facts = Facts::of(&sink.events, port);
        if exercise.requirements.iter().any(|r| r.trace) {
            facts.trace = super::trace::read(path, &facts.index);
        }
        for r in exercise.requirements {
            let verdict = if r.name == READABLE.name {
                match &read.readable {
                    Ok(evidence) => Verdict::pass(evidence.clone(), Vec::new()),
                    Err(reason) => Verdict::fail(reason.clone(), Vec::new()),
                }
            } else {
                (r.eval)(&facts)
            };
            requirements.push(Verdict {
                name: r.name,
                ..verdict
            });
        }
    } else if let Err(reason) = read.readable {
        requirements.push(Verdict {
            name: READABLE.name,
            ..Verdict::fail(reason, Vec::new())
        });
    }
    // Unreadable files have only the `readable` verdict: they fail.
    let complete = requirements.len() == exercise.requirements.len();
    let outcome = if !complete || requirements.iter().any(|v| v.outcome == Outcome::Fail) {
        Outcome::Fail
    } else if requirements.iter().any(|v| v.outcome == Outcome::Undecided) {
        Outcome::Undecided
    } else {
        Outcome::Pass
    };
    let grade = Grade {
        file,
        exercise: exercise.id,
        pass: outcome == Outcome::Pass,
        requirements,
        outcome,
        fingerprint: super::copies::fingerprint(path, &sink.events),
    };
    (grade, sink.events)
}

/// Grade `files` on every core, handing each grade to `done` in the files' order as
/// soon as it and those before it are ready.
pub fn grade_all(
    files: &[PathBuf],
    exercise: &'static Exercise,
    port: u16,
    limits: Limits,
    done: impl FnMut(Grade) -> std::io::Result<()>,
) -> std::io::Result<()> {
    each_file(
        files,
        |_, path| grade_file_within(path, exercise, port, limits),
        done,
    )
}

/// `work` on each of `files` (with its index) on every core, handing each result to
/// `done` in the files' order as soon as it and those before it are ready. At most one
/// result per core waits beyond the ones `done` has taken, plus those finished out of
/// order.
pub fn each_file<T: Send>(
    files: &[PathBuf],
    work: impl Fn(usize, &Path) -> T + Sync,
    mut done: impl FnMut(T) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, T)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { return };
                if tx.send((i, work(i, path))).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        // Results arrive in any order; they are handed on in the files' order.
        let mut waiting = std::collections::BTreeMap::new();
        let mut due = 0;
        for (i, result) in rx {
            waiting.insert(i, result);
            while let Some(r) = waiting.remove(&due) {
                done(r)?;
                due += 1;
            }
        }
        Ok(())
    })
}

/// How reading a file went.
struct Read {
    /// The `readable` evidence, or why the file is not (cleanly) readable.
    readable: Result<String, String>,
    /// The analysis ran (its events are in the sink), even if cut short.
    analysed: bool,
}

/// Run the normal analysis of the file at `path` into `sink`, within `limits`.
fn read(path: &Path, port: u16, limits: Limits, segments: bool, sink: &mut CollectSink) -> Read {
    // A pipe or device in the class's folder could block a read forever, which no
    // time limit interrupts: only regular files are graded.
    if let Ok(crate::source::PathKind::Stream(_)) = crate::source::path_kind(path) {
        return Read {
            readable: Err("not a regular file (a pipe, socket or device): not read".to_string()),
            analysed: false,
        };
    }
    let stop = Arc::new(AtomicBool::new(false));
    let source = SourceOptions {
        count: Some(limits.max_frames),
        stop: Arc::clone(&stop),
        ..SourceOptions::file(path)
    };
    let options = Options {
        port,
        proto: None,
        max_ooo_bytes: 1 << 20,
        max_size: labproto::DEFAULT_MAX_SIZE,
        port_choice: crate::port_choice::PortChoice::plain(crate::port_choice::How::Given),
        segments,
    };
    let timer = Timer::start(limits.max_seconds, stop);
    let result = crate::analyze(&source, options, sink);
    timer.cancel();
    let failed = |reason: String| Read {
        readable: Err(reason),
        analysed: false,
    };
    match result {
        // The row names the file already: only libpcap's (or our) reason.
        Err(crate::SourceError::OpenFile { reason, .. }) if reason == "unknown file format" => {
            failed("not a pcap or pcapng file (unknown file format)".to_string())
        }
        Err(crate::SourceError::OpenFile { reason, .. }) => failed(reason),
        Err(e) => failed(e.to_string()),
        Ok(summary) => Read {
            readable: cut_short(&summary, limits)
                .map_or_else(|| readable(&sink.events, &summary), Err),
            analysed: true,
        },
    }
}

/// Why the file was not read to its end, if it was not.
fn cut_short(summary: &Summary, limits: Limits) -> Option<String> {
    if summary.interrupted {
        Some(format!(
            "cut short: reading took longer than {} s (--max-seconds), so only its first {} frames were graded",
            limits.max_seconds,
            crate::words::thousands(summary.frames)
        ))
    } else if summary.frames >= limits.max_frames {
        Some(format!(
            "cut short: only its first {} frames were read (--max-frames)",
            crate::words::thousands(limits.max_frames)
        ))
    } else {
        None
    }
}

/// Sets the stop flag after `seconds`, unless cancelled first (a thread waiting on a
/// channel: cancelling wakes it at once, nothing polls).
struct Timer {
    cancel: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Timer {
    fn start(seconds: u64, stop: Arc<AtomicBool>) -> Timer {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                rx.recv_timeout(std::time::Duration::from_secs(seconds))
            {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        });
        Timer {
            cancel: Some(tx),
            thread: Some(thread),
        }
    }

    fn cancel(mut self) {
        drop(self.cancel.take());
        if let Some(t) = self.thread.take() {
            // The thread only waits and stores a flag: its end cannot matter.
            let _ = t.join();
        }
    }
}

/// Whether the capture read cleanly: evidence, or the reason it is damaged or foreign.
fn readable(events: &[Event], summary: &Summary) -> Result<String, String> {
    if let Some(d) = events.iter().find_map(|e| match e {
        Event::Diagnostic(d)
            if matches!(d.kind, crate::event::DiagnosticKind::CaptureCut { .. }) =>
        {
            Some(d)
        }
        _ => None,
    }) {
        return Err(format!("damaged: {}", crate::words::diagnostic::text(d)));
    }
    if summary.link_type.is_none() {
        return Err(format!(
            "foreign link type: labsniff cannot decode its {} frames",
            summary.frames
        ));
    }
    Ok(format!(
        "{} frames, link type {}",
        summary.frames,
        summary.link_type.unwrap_or("unknown")
    ))
}

/// The files to grade: each FILE, and the files (not subfolders) of each folder, sorted;
/// a folder's strace traces (`NAME.strace`) are read beside their captures, not graded.
pub fn expand(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        match std::fs::read_dir(p) {
            Ok(dir) => {
                let mut files: Vec<PathBuf> = dir
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| !p.is_dir() && !super::trace::is_trace(p))
                    .collect();
                files.sort();
                out.extend(files);
            }
            // Not a folder (or unreadable): graded as a file, which says why.
            Err(_) => out.push(p.clone()),
        }
    }
    out
}
