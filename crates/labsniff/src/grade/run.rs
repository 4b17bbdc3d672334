//! Grading files: each one read with the normal analysis (whether it reads cleanly is
//! the `readable` requirement), then every requirement of the exercise evaluated on
//! its [`Facts`]; and the files a command line names (folders expanded).

use super::exercises::READABLE;
use super::{Exercise, Facts, Grade, Verdict};
use crate::event::{Event, Summary};
use crate::output::collect::CollectSink;
use crate::{Input, Options, SourceOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Grade one file: read it with the normal analysis, then evaluate the requirements.
/// Never fails: a file that cannot be read is a row whose `readable` says why.
pub fn grade_file(path: &Path, exercise: &'static Exercise, port: u16) -> Grade {
    grade_file_with(path, exercise, port, false).0
}

/// [`grade_file`], also returning the collected events (with the segment events when
/// `segments`, for the capture's HTML page of `grade --html`).
pub fn grade_file_with(
    path: &Path,
    exercise: &'static Exercise,
    port: u16,
    segments: bool,
) -> (Grade, Vec<Event>) {
    let mut sink = CollectSink::new();
    let file = path.display().to_string();
    let readable = read(path, port, segments, &mut sink);
    let mut requirements = Vec::with_capacity(exercise.requirements.len());
    match readable {
        Err(reason) => {
            requirements.push(Verdict {
                name: READABLE.name,
                ..Verdict::fail(reason, Vec::new())
            });
        }
        Ok(evidence) => {
            let facts = Facts::of(&sink.events, port);
            for r in exercise.requirements {
                let verdict = if r.name == READABLE.name {
                    Verdict::pass(evidence.clone(), Vec::new())
                } else {
                    (r.eval)(&facts)
                };
                requirements.push(Verdict {
                    name: r.name,
                    ..verdict
                });
            }
        }
    }
    let grade = Grade {
        file,
        exercise: exercise.id,
        // Unreadable files have only the `readable` verdict: they fail.
        pass: requirements.len() == exercise.requirements.len()
            && requirements.iter().all(|v| v.pass),
        requirements,
    };
    (grade, sink.events)
}

/// Run the normal analysis of the file at `path` into `sink`: the `readable` evidence,
/// or the reason the file could not be read.
fn read(path: &Path, port: u16, segments: bool, sink: &mut CollectSink) -> Result<String, String> {
    let source = SourceOptions {
        input: Input::File(path.to_path_buf()),
        filter: None,
        write: None,
        count: None,
        stop: Arc::new(AtomicBool::new(false)),
        ready: None,
    };
    let options = Options {
        port,
        proto: None,
        max_ooo_bytes: 1 << 20,
        max_size: labproto::DEFAULT_MAX_SIZE,
        port_choice: crate::port_choice::PortChoice::plain(crate::port_choice::How::Given),
        segments,
    };
    match crate::analyze(&source, options, sink) {
        // The row names the file already: only libpcap's (or our) reason.
        Err(crate::SourceError::OpenFile { reason, .. }) if reason == "unknown file format" => {
            Err("not a pcap or pcapng file (unknown file format)".to_string())
        }
        Err(crate::SourceError::OpenFile { reason, .. }) => Err(reason),
        Err(e) => Err(e.to_string()),
        Ok(summary) => readable(&sink.events, &summary),
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

/// The files to grade: each FILE, and the files (not subfolders) of each folder, sorted.
pub fn expand(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        match std::fs::read_dir(p) {
            Ok(dir) => {
                let mut files: Vec<PathBuf> = dir
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| !p.is_dir())
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
