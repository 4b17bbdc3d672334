//! The inputs behind one interface: a capture file ([`FileFrames`]: pcap or pcapng,
//! gzip or not, with a BPF filter applied here) or a live interface ([`LiveFrames`]:
//! libpcap, which filters itself). Each frame carries its own link type.

use super::{reason, SourceError};
use crate::capfile::{CaptureFile, Next};
use crate::event::DiagnosticKind;
use crate::link::{LinkError, LinkKind};
use crate::packet::Micros;
use std::path::Path;

/// One frame from any input.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawFrame<'a> {
    pub data: &'a [u8],
    pub ts: Micros,
    pub orig_len: u32,
    pub dlt: i32,
    /// Bytes of the input read so far (for the progress bar).
    pub offset: u64,
}

/// What the input had next.
#[derive(Debug)]
pub(super) enum Got<'a> {
    Frame(RawFrame<'a>),
    /// The live read timed out: look at the stop flag and read again.
    Timeout,
    /// A stream's frames read so far are all handed out; the next read may wait.
    Idle,
    End,
    /// A damaged or unreadable record, or a failed capture; `fatal`: nothing after it
    /// can be read.
    Problem {
        kind: DiagnosticKind,
        fatal: bool,
    },
}

pub(super) trait Frames {
    fn next_frame(&mut self) -> Result<Got<'_>, SourceError>;
    /// The link type of the first frames (the summary's `link_type`).
    fn first_dlt(&mut self) -> i32;
    fn live(&self) -> bool;
    /// A `-w` savefile for frames of [`Frames::first_dlt`].
    fn savefile(&mut self, path: &Path) -> Result<pcaprt::Savefile, pcaprt::Error>;
    /// How to wake a blocked read (live only).
    fn breaker(&mut self) -> Option<pcaprt::BreakLoop>;
    /// Frames the kernel dropped (live only).
    fn dropped(&mut self) -> Option<u32>;
}

/// A capture file, filtered by BPF programs compiled by libpcap per link type.
#[derive(Debug)]
pub(super) struct FileFrames {
    file: CaptureFile,
    filter: Option<Filter>,
}

/// `-f` on a file: libpcap compiles the expression for each link type met (the code
/// differs per link type), and its matcher runs the program on each frame.
struct Filter {
    text: String,
    programs: Vec<(i32, pcaprt::BpfProgram)>,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter").field("text", &self.text).finish()
    }
}

impl Filter {
    fn program(&mut self, dlt: i32) -> Result<&pcaprt::BpfProgram, SourceError> {
        if let Some(i) = self.programs.iter().position(|(d, _)| *d == dlt) {
            return Ok(&self.programs[i].1);
        }
        let compiled =
            pcaprt::Capture::dead(pcaprt::Linktype(crate::capfile::dlt_of_linktype(dlt)))
                .and_then(|dead| dead.compile(&self.text, true))
                .map_err(|e| {
                    super::or_no_libpcap(
                        e,
                        || format!("the filter '{}'", self.text),
                        |e| SourceError::Filter {
                            filter: self.text.clone(),
                            reason: format!("{} (for link type {dlt})", reason(&e)),
                        },
                    )
                })?;
        self.programs.push((dlt, compiled));
        let last = self.programs.len() - 1;
        Ok(&self.programs[last].1)
    }
}

impl FileFrames {
    /// A bad filter fails here, before any frame is read (the first link type's).
    pub fn new(mut file: CaptureFile, filter: Option<&str>) -> Result<FileFrames, SourceError> {
        let mut filter = filter.map(|text| Filter {
            text: text.to_string(),
            programs: Vec::new(),
        });
        if let (Some(f), Some(dlt)) = (filter.as_mut(), file.first_dlt()) {
            f.program(dlt)?;
        }
        Ok(FileFrames { file, filter })
    }
}

impl Frames for FileFrames {
    fn next_frame(&mut self) -> Result<Got<'_>, SourceError> {
        let compressed = self.file.compressed();
        let offset = self.file.offset();
        let mut failed = None;
        let filter = &mut self.filter;
        // Frames the filter rejects are read past inside the reader. Once a filter
        // cannot be compiled (for a new link type), the frame is let through and the
        // error returned below.
        let mut keep = |dlt: i32, data: &[u8]| match filter.as_mut() {
            None => true,
            Some(_) if failed.is_some() => true,
            Some(f) => match f.program(dlt) {
                Ok(program) => program.filter(data),
                Err(e) => {
                    failed = Some(e);
                    true
                }
            },
        };
        let next = self.file.next_kept(&mut keep);
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(match next {
            Next::Frame(frame) => Got::Frame(RawFrame {
                data: frame.data,
                ts: frame.ts,
                orig_len: frame.orig_len,
                dlt: frame.dlt,
                offset,
            }),
            Next::End => Got::End,
            Next::Pause => Got::Idle,
            Next::Skipped(fault) | Next::Fatal(fault) => Got::Problem {
                fatal: fault.fatal,
                kind: if fault.fatal {
                    DiagnosticKind::CaptureCut {
                        offset: fault.offset,
                        compressed,
                        fault: fault.kind,
                    }
                } else {
                    DiagnosticKind::RecordSkipped {
                        offset: fault.offset,
                        compressed,
                        fault: fault.kind,
                    }
                },
            },
        })
    }

    fn first_dlt(&mut self) -> i32 {
        // No interface at all (an empty pcapng): no link type to name.
        self.file.first_dlt().unwrap_or(-1)
    }

    fn live(&self) -> bool {
        false
    }

    fn savefile(&mut self, path: &Path) -> Result<pcaprt::Savefile, pcaprt::Error> {
        let dlt = crate::capfile::dlt_of_linktype(self.first_dlt());
        pcaprt::Capture::dead(pcaprt::Linktype(dlt))?.savefile(path)
    }

    fn breaker(&mut self) -> Option<pcaprt::BreakLoop> {
        None
    }

    fn dropped(&mut self) -> Option<u32> {
        None
    }
}

/// A live capture through libpcap.
pub(super) struct LiveFrames {
    cap: pcaprt::Capture<pcaprt::Active>,
    dlt: i32,
}

impl std::fmt::Debug for LiveFrames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFrames")
            .field("dlt", &self.dlt)
            .finish()
    }
}

impl LiveFrames {
    pub fn new(cap: pcaprt::Capture<pcaprt::Active>) -> LiveFrames {
        let dlt = cap.get_datalink().0;
        LiveFrames { cap, dlt }
    }

    /// The capture, for the capture thread (once `-w` is open).
    pub fn into_capture(self) -> pcaprt::Capture<pcaprt::Active> {
        self.cap
    }
}

fn micros(ts: &libc::timeval) -> u64 {
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let usecs = u64::try_from(ts.tv_usec).unwrap_or(0);
    secs * 1_000_000 + usecs
}

impl Frames for LiveFrames {
    fn next_frame(&mut self) -> Result<Got<'_>, SourceError> {
        Ok(match self.cap.next_packet() {
            Ok(packet) => Got::Frame(RawFrame {
                data: packet.data,
                ts: micros(&packet.header.ts),
                orig_len: packet.header.len,
                dlt: self.dlt,
                offset: 0,
            }),
            Err(pcaprt::Error::NoMorePackets) => Got::End,
            Err(pcaprt::Error::TimeoutExpired) => Got::Timeout,
            Err(e) => Got::Problem {
                kind: DiagnosticKind::CaptureError { reason: reason(&e) },
                fatal: true,
            },
        })
    }

    fn first_dlt(&mut self) -> i32 {
        self.dlt
    }

    fn live(&self) -> bool {
        true
    }

    fn savefile(&mut self, path: &Path) -> Result<pcaprt::Savefile, pcaprt::Error> {
        self.cap.savefile(path)
    }

    fn breaker(&mut self) -> Option<pcaprt::BreakLoop> {
        Some(self.cap.breakloop_handle())
    }

    fn dropped(&mut self) -> Option<u32> {
        self.cap.stats().ok().map(|s| s.dropped)
    }
}

/// Link kinds per DLT, looked up once each (an unsupported type's error names it,
/// which allocates). Few entries: one per link type in the capture.
#[derive(Debug, Default)]
pub(super) struct LinkCache {
    last: Option<(i32, Result<LinkKind, LinkError>)>,
    others: Vec<(i32, Result<LinkKind, LinkError>)>,
}

/// Distinct link types remembered; past this, lookups are simply not cached.
const LINK_CACHE_MAX: usize = 64;

impl LinkCache {
    pub fn kind(&mut self, dlt: i32) -> Result<LinkKind, LinkError> {
        if let Some((d, kind)) = &self.last {
            if *d == dlt {
                return kind.clone();
            }
        }
        let kind = match self.others.iter().find(|(d, _)| *d == dlt) {
            Some((_, k)) => k.clone(),
            None => {
                let k = LinkKind::from_dlt(dlt);
                if self.others.len() < LINK_CACHE_MAX {
                    self.others.push((dlt, k.clone()));
                }
                k
            }
        };
        self.last = Some((dlt, kind.clone()));
        kind
    }
}
