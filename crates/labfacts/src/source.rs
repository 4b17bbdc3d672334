//! Where frames come from: a capture file (pcap, pcapng, gzip-compressed or not,
//! through [`crate::capfile`]) or a live interface (libpcap); optionally copied to a
//! savefile (`-w`); stopped by `-c` or Ctrl-C. A file is read and analysed on one
//! thread (`pump`, over [`frames::Frames`]); a live capture on two (`live`: a capture
//! thread that only moves frames; `pump_live`: the analysis of what it hands over).

use crate::analyzer::Options;
use crate::event::{Sink, Summary};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The input.
#[derive(Debug, Clone)]
pub enum Input {
    /// Read a pcap or pcapng file.
    File(PathBuf),
    /// Capture live on an interface.
    Live { interface: String, snaplen: i32 },
}

/// Everything about reading frames.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    pub input: Input,
    /// BPF filter; live captures default to `port <lab port>`.
    pub filter: Option<String>,
    /// Copy every frame read to this capture file.
    pub write: Option<PathBuf>,
    /// Stop after this many frames.
    pub count: Option<u64>,
    /// Set (by a Ctrl-C handler) to stop cleanly.
    pub stop: Arc<AtomicBool>,
    /// Told once a live capture is running (tcpdump's "listening on ..." line).
    pub ready: Option<fn(&str)>,
}

impl SourceOptions {
    /// The capture file at `path`, read whole: no filter, no copy, no frame limit, and a
    /// stop flag nobody has set.
    pub fn file(path: impl Into<PathBuf>) -> SourceOptions {
        SourceOptions {
            input: Input::File(path.into()),
            filter: None,
            write: None,
            count: None,
            stop: Arc::new(AtomicBool::new(false)),
            ready: None,
        }
    }
}

/// Told how far the reading of a large capture file has got (the program draws a bar).
pub trait Progress {
    /// Reading starts; the file holds `total_bytes`.
    fn start(&self, total_bytes: u64);
    /// `bytes` of the file have been read.
    fn at(&self, bytes: u64);
    /// Reading ended (at the end, on an error or on Ctrl-C).
    fn finish(&self);
}

/// Extras of the command-line program that a library caller rarely wants.
#[derive(Clone, Default)]
pub struct RunExtras {
    /// Told the progress of reading a file (not of a gzip file, whose offsets are of the
    /// decompressed data, nor of files under 16 MiB, which take well under a second).
    pub progress: Option<Arc<dyn Progress + Send + Sync>>,
    /// Live capture: switch to this user once the capture (and `-w` file) is open.
    pub drop_to: Option<String>,
}

impl std::fmt::Debug for RunExtras {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunExtras")
            .field("progress", &self.progress.is_some())
            .field("drop_to", &self.drop_to)
            .finish()
    }
}

/// Why the input could not be used at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read capture '{path}': {reason}")]
    OpenFile { path: String, reason: String },
    #[error("cannot capture on interface '{interface}': {reason}")]
    OpenInterface { interface: String, reason: String },
    #[error("cannot use filter '{filter}': {reason}")]
    Filter { filter: String, reason: String },
    #[error("cannot write capture '{path}': {reason}")]
    WriteFile { path: String, reason: String },
    #[error(
        "{wanted} needs libpcap, which is not installed here ({reason}): install it \
         (Debian, Ubuntu: sudo apt install libpcap0.8; Fedora: sudo dnf install libpcap; \
         Alpine: sudo apk add libpcap), then run the command again"
    )]
    NoLibpcap { wanted: String, reason: String },
    #[error("{0}")]
    Privileges(#[from] crate::privileges::PrivilegeError),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

/// `e`, or [`SourceError::NoLibpcap`] for `wanted` when libpcap could not be loaded.
fn or_no_libpcap(
    e: pcaprt::Error,
    wanted: impl FnOnce() -> String,
    other: impl FnOnce(pcaprt::Error) -> SourceError,
) -> SourceError {
    match e {
        pcaprt::Error::Unavailable(reason) => SourceError::NoLibpcap {
            wanted: wanted(),
            reason,
        },
        e => other(e),
    }
}

/// libpcap's words without the crate's "libpcap error: " prefix.
fn reason(e: &pcaprt::Error) -> String {
    match e {
        pcaprt::Error::PcapError(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Read or capture until the end, `count`, or `stop`; events go to `sink`.
pub fn run(
    source: &SourceOptions,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<Summary, SourceError> {
    run_with(source, &RunExtras::default(), options, sink)
}

/// [`run`] with the program's extras (progress bar, privilege drop).
pub fn run_with(
    source: &SourceOptions,
    extras: &RunExtras,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<Summary, SourceError> {
    match &source.input {
        Input::File(path) => run_file(path, source, extras, options, sink),
        Input::Live { interface, snaplen } => {
            let cap = open_live(interface, *snaplen, source, &options)?;
            pump_live::pump_live(cap, source, extras, options, sink)
        }
    }
}

/// `-r -`: standard input.
pub const STDIN: &str = "-";

/// What a `-r` path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// A regular file of this many bytes: it can be read twice (`--port auto`, pcapng).
    File(u64),
    /// Standard input, a FIFO, a character or block device, a socket: read once, as
    /// it comes, like a live capture.
    Stream(StreamKind),
    Directory,
}

/// Which kind of stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Stdin,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
}

/// What `path` is (`-`: standard input); the error is the reason in words.
pub fn path_kind(path: &Path) -> Result<PathKind, String> {
    use std::os::unix::fs::FileTypeExt;
    if path.as_os_str() == STDIN {
        return Ok(PathKind::Stream(StreamKind::Stdin));
    }
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let t = meta.file_type();
    Ok(if t.is_dir() {
        PathKind::Directory
    } else if t.is_fifo() {
        PathKind::Stream(StreamKind::Fifo)
    } else if t.is_char_device() {
        PathKind::Stream(StreamKind::CharDevice)
    } else if t.is_block_device() {
        PathKind::Stream(StreamKind::BlockDevice)
    } else if t.is_socket() {
        PathKind::Stream(StreamKind::Socket)
    } else {
        PathKind::File(meta.len())
    })
}

/// Whether `-r path` is read as a stream (standard input, a pipe, a device).
pub fn is_stream(path: &Path) -> bool {
    matches!(path_kind(path), Ok(PathKind::Stream(_)))
}

/// Open `path` as a capture: the file and its size (None for a stream).
fn open_capture(path: &Path) -> Result<(crate::capfile::CaptureFile, Option<u64>), String> {
    use crate::capfile::{CaptureFile, OpenError};
    match path_kind(path)? {
        PathKind::Directory => Err("it is a directory".to_string()),
        PathKind::File(0) => {
            Err("the file is empty (0 bytes), so it holds no capture header".to_string())
        }
        PathKind::File(size) => Ok((
            CaptureFile::open(path).map_err(|e| e.to_string())?,
            Some(size),
        )),
        PathKind::Stream(kind) => {
            let opened = match kind {
                StreamKind::Stdin => CaptureFile::open_stream(Box::new(std::io::stdin())),
                _ => std::fs::File::open(path)
                    .map_err(|e| OpenError::Io(e.to_string()))
                    .and_then(|f| CaptureFile::open_stream(Box::new(f))),
            };
            let what = match kind {
                StreamKind::Stdin => "standard input",
                StreamKind::Fifo => "a named pipe (FIFO)",
                StreamKind::CharDevice => "a character device",
                StreamKind::BlockDevice => "a block device",
                StreamKind::Socket => "a socket",
            };
            opened.map(|f| (f, None)).map_err(|e| {
                if e == OpenError::NothingRead {
                    format!(
                        "it is {what}, and it ended before its first byte: no capture header came"
                    )
                } else {
                    format!("it is {what}, and what came is no capture: {e}")
                }
            })
        }
    }
}

/// Files smaller than this read in well under a second: no progress bar.
const PROGRESS_MIN_BYTES: u64 = 16 << 20;

/// A capture file: open it (the errors name it), then read it through [`pump::pump`]
/// with the progress bar, if it gets one.
fn run_file(
    path: &Path,
    source: &SourceOptions,
    extras: &RunExtras,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<Summary, SourceError> {
    let shown = path.display().to_string();
    let open_error = |reason: String| SourceError::OpenFile {
        path: shown.clone(),
        reason,
    };
    let (file, size) = open_capture(path).map_err(open_error)?;
    let compressed = file.compressed();
    let mut frames = frames::FileFrames::new(file, source.filter.as_deref())?;
    // A gzip file's offsets are of the decompressed data, and a stream has no size:
    // no bar then.
    let progress = extras
        .progress
        .as_deref()
        .filter(|_| !compressed && size.is_some_and(|n| n >= PROGRESS_MIN_BYTES));
    if let (Some(progress), Some(size)) = (progress, size) {
        progress.start(size);
    }
    let result = pump::pump(&mut frames, source, extras, progress, options, sink);
    if let Some(progress) = progress {
        progress.finish();
    }
    result
}

/// Open the live capture on `interface` with its filter (`port <lab port>` unless
/// given), and say so through [`SourceOptions::ready`].
fn open_live(
    interface: &str,
    snaplen: i32,
    source: &SourceOptions,
    options: &Options,
) -> Result<pcaprt::Capture<pcaprt::Active>, SourceError> {
    let open_error = |e: pcaprt::Error| {
        or_no_libpcap(
            e,
            || format!("capturing on '{interface}'"),
            |e| SourceError::OpenInterface {
                interface: interface.to_string(),
                reason: reason(&e),
            },
        )
    };
    let ring = batch::env_size("LABSNIFF_RING_BYTES")
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(live::RING_BYTES);
    // No immediate mode: libpcap's TPACKET_V3 block ring holds frames at their
    // real size (see `live`), handed over per block or per read timeout.
    let mut cap = pcaprt::Capture::from_device(interface)
        .map_err(open_error)?
        .snaplen(snaplen)
        .buffer_size(ring)
        .timeout(live::READ_TIMEOUT_MS)
        .immediate_mode(false)
        .open()
        .map_err(open_error)?;
    let filter = source
        .filter
        .clone()
        .unwrap_or_else(|| default_filter(options.port));
    cap.filter(&filter, true).map_err(|e| SourceError::Filter {
        filter: filter.clone(),
        reason: reason(&e),
    })?;
    if let Some(ready) = source.ready {
        let link = cap.get_datalink();
        let name = link.get_name().unwrap_or_else(|_| link.0.to_string());
        ready(&format!(
            "listening on {interface}, link type {name}, snapshot length {snaplen} bytes, filter '{filter}'"
        ));
    }
    Ok(cap)
}

/// The `-w` copy, if asked for, of frames of the input's first link type.
fn open_copy<F: frames::Frames>(
    source: &SourceOptions,
    frames: &mut F,
) -> Result<Option<save::Copy>, SourceError> {
    match &source.write {
        Some(path) => Ok(Some(save::Copy::open(path, frames)?)),
        None => Ok(None),
    }
}

/// `-Z`: switch to the user asked for, once everything privileged is open; says so
/// on stderr when root privileges were given up.
fn drop_privileges(extras: &RunExtras) -> Result<(), SourceError> {
    if let Some(user) = &extras.drop_to {
        if let Some(account) = crate::privileges::drop_to(user)? {
            eprintln!(
                "labsniff: dropped root privileges: now running as user '{}' (uid {}); use -Z root to keep them",
                account.name, account.uid
            );
        }
    }
    Ok(())
}

mod batch;
mod frames;
mod live;
mod pump;
mod pump_live;
mod save;

/// The live capture's default filter: the lab port, and the ICMP errors (destination
/// unreachable, time exceeded; ICMPv6 unreachable, packet too big, time exceeded)
/// whose quoted header has the lab port as its source or destination port (an ICMP
/// error's own header has no port, so `port N` alone drops them). ICMPv6 is read
/// without extension headers (the quote's ports at fixed offsets).
pub fn default_filter(port: u16) -> String {
    let v4 = format!(
        "(icmp and (icmp[0] = 3 or icmp[0] = 11) and (icmp[(icmp[8] & 15) * 4 + 8 : 2] = {port} \
         or icmp[(icmp[8] & 15) * 4 + 10 : 2] = {port}))"
    );
    let v6 = format!(
        "(icmp6 and ip6[6] = 58 and ip6[40] >= 1 and ip6[40] <= 3 and (ip6[88:2] = {port} or \
         ip6[90:2] = {port}))"
    );
    format!("port {port} or {v4} or {v6}")
}
