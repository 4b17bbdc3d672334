//! Where frames come from: a capture file (pcap, pcapng, gzip-compressed or not,
//! through [`crate::capfile`]) or a live interface (libpcap); optionally copied to a
//! savefile (`-w`); stopped by `-c` or Ctrl-C. A file is read and analysed on one
//! thread ([`pump`], over [`frames::Frames`]); a live capture on two ([`pump_live`]: a
//! capture thread that only moves frames, see `live`, and the analysis here).

use crate::analyzer::{Analyzer, Options};
use crate::event::{DiagnosticKind, Sink, Summary};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
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
    #[error("{0}")]
    Privileges(#[from] crate::privileges::PrivilegeError),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

/// libpcap's words without the crate's "libpcap error: " prefix.
fn reason(e: &pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(s) => s.clone(),
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
        Input::File(path) => {
            let shown = path.display().to_string();
            let open_error = |reason: String| SourceError::OpenFile {
                path: shown.clone(),
                reason,
            };
            let meta = std::fs::metadata(path).map_err(|e| open_error(e.to_string()))?;
            if meta.is_dir() {
                return Err(open_error("it is a directory".to_string()));
            }
            if meta.len() == 0 {
                return Err(open_error(
                    "the file is empty (0 bytes), so it holds no capture header".to_string(),
                ));
            }
            let file = crate::capfile::CaptureFile::open(path).map_err(open_error)?;
            let compressed = file.compressed();
            let mut frames = frames::FileFrames::new(file, source.filter.as_deref())?;
            // A gzip file's offsets are of the decompressed data: no bar against its size.
            let progress = extras
                .progress
                .as_deref()
                .filter(|_| !compressed && meta.len() >= PROGRESS_MIN_BYTES);
            if let Some(progress) = progress {
                progress.start(meta.len());
            }
            let result = pump(&mut frames, source, extras, progress, options, sink);
            if let Some(progress) = progress {
                progress.finish();
            }
            result
        }
        Input::Live { interface, snaplen } => {
            let open_error = |e: pcap::Error| SourceError::OpenInterface {
                interface: interface.clone(),
                reason: reason(&e),
            };
            let ring = batch::env_size("LABSNIFF_RING_BYTES")
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or(live::RING_BYTES);
            // No immediate mode: libpcap's TPACKET_V3 block ring holds frames at their
            // real size (see `live`), handed over per block or per read timeout.
            let mut cap = pcap::Capture::from_device(interface.as_str())
                .map_err(open_error)?
                .snaplen(*snaplen)
                .buffer_size(ring)
                .timeout(live::READ_TIMEOUT_MS)
                .immediate_mode(false)
                .open()
                .map_err(open_error)?;
            let filter = source
                .filter
                .clone()
                .unwrap_or_else(|| format!("port {}", options.port));
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
            pump_live(cap, source, extras, options, sink)
        }
    }
}

/// Files smaller than this read in well under a second: no progress bar.
const PROGRESS_MIN_BYTES: u64 = 16 << 20;

fn pump<F: frames::Frames>(
    frames: &mut F,
    source: &SourceOptions,
    extras: &RunExtras,
    progress: Option<&(dyn Progress + Send + Sync)>,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<Summary, SourceError> {
    let live = frames.live();
    let mut savefile = match &source.write {
        Some(path) => Some(save::Copy::open(path, frames)?),
        None => None,
    };
    // Everything privileged (the capture, the -w file) is open now.
    if live {
        if let Some(user) = &extras.drop_to {
            if let Some(account) = crate::privileges::drop_to(user)? {
                eprintln!(
                    "labsniff: dropped root privileges: now running as user '{}' (uid {}); use -Z root to keep them",
                    account.name, account.uid
                );
            }
        }
    }
    let mut analyzer = Analyzer::new(options, frames.first_dlt());
    let mut links = frames::LinkCache::default();
    let mut interrupted = false;
    // libpcap 1.10 on Linux ignores the read timeout in immediate mode, so a quiet
    // interface would block next_packet() forever after Ctrl-C: a watcher thread
    // turns the stop flag into pcap_breakloop(), which wakes the blocked read.
    let finished = Arc::new(AtomicBool::new(false));
    let watcher = frames.breaker().map(|breaker| {
        let stop = Arc::clone(&source.stop);
        let finished = Arc::clone(&finished);
        std::thread::spawn(move || {
            while !finished.load(Ordering::SeqCst) {
                if stop.load(Ordering::SeqCst) {
                    breaker.breakloop();
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        })
    });
    loop {
        if source.stop.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        if source.count.is_some_and(|c| analyzer.frames() >= c) {
            break;
        }
        match frames.next_frame()? {
            frames::Got::Frame(frame) => {
                if let Some(progress) = progress {
                    if analyzer.frames() % 4096 == 0 {
                        progress.at(frame.offset);
                    }
                }
                if let Some(save) = savefile.as_mut() {
                    if let Some(kind) = save.write(&frame) {
                        analyzer.input_problem(kind, sink)?;
                    }
                }
                analyzer.frame_with_link(
                    links.kind(frame.dlt),
                    frame.data,
                    frame.ts,
                    frame.orig_len,
                    sink,
                )?;
            }
            frames::Got::Timeout => continue,
            frames::Got::End => {
                // End of file, or pcap_breakloop() after Ctrl-C.
                interrupted = source.stop.load(Ordering::SeqCst);
                break;
            }
            frames::Got::Problem { kind, fatal } => {
                analyzer.input_problem(kind, sink)?;
                if fatal {
                    break;
                }
            }
        }
    }
    finished.store(true, Ordering::SeqCst);
    if let Some(w) = watcher {
        // The watcher only sleeps and reads flags; a panic there cannot have left
        // anything half-done, so its result does not matter.
        let _ = w.join();
    }
    if let Some(save) = savefile.as_mut() {
        save.flush()?;
    }
    let dropped = frames.dropped();
    Ok(analyzer.finish(interrupted, dropped, sink)?)
}

/// Live: open `-w`, give up root, start the capture thread, analyse what it hands
/// over (flushing the sink whenever the queue is empty), then the summary.
fn pump_live(
    cap: pcap::Capture<pcap::Active>,
    source: &SourceOptions,
    extras: &RunExtras,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<Summary, SourceError> {
    use frames::Frames;
    use std::sync::mpsc::TryRecvError;
    let mut frames = frames::LiveFrames::new(cap);
    let dlt = frames.first_dlt();
    let savefile = match &source.write {
        Some(path) => Some(save::Copy::open(path, &mut frames)?),
        None => None,
    };
    // Everything privileged (the capture, the -w file) is open now; dropped before
    // the capture thread exists, so no thread keeps root.
    if let Some(user) = &extras.drop_to {
        if let Some(account) = crate::privileges::drop_to(user)? {
            eprintln!(
                "labsniff: dropped root privileges: now running as user '{}' (uid {}); use -Z root to keep them",
                account.name, account.uid
            );
        }
    }
    let batches = batch::env_size("LABSNIFF_QUEUE_BATCHES").unwrap_or(batch::QUEUE_BATCHES);
    let (pool, free) = batch::Pool::new(batches);
    let (tx, rx) = std::sync::mpsc::sync_channel(batches);
    let done = Arc::new(AtomicBool::new(false));
    let idle = Arc::new(AtomicBool::new(false));
    let holding = Arc::new(AtomicBool::new(false));
    let mut cap = frames.into_capture();
    let breaker = cap.breakloop_handle();
    let capturer = live::Capturer {
        cap,
        save: savefile,
        dlt,
        tx,
        pool,
        count: source.count,
        stop: Arc::clone(&source.stop),
        done: Arc::clone(&done),
        idle: Arc::clone(&idle),
        holding: Arc::clone(&holding),
    };
    // libpcap's TPACKET_V3 read waits in poll() without a timeout, so a read on a
    // quiet interface only wakes for pcap_breakloop(): the watcher calls it for
    // Ctrl-C, for the analysis stopping, and when the analysis is idle while the
    // capture thread holds frames (the last frames of a burst), every 20 ms at most.
    let finished = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (stop, done, finished, idle, holding) = (
            Arc::clone(&source.stop),
            Arc::clone(&done),
            Arc::clone(&finished),
            Arc::clone(&idle),
            Arc::clone(&holding),
        );
        std::thread::spawn(move || {
            while !finished.load(Ordering::SeqCst) {
                if stop.load(Ordering::SeqCst) || done.load(Ordering::SeqCst) {
                    breaker.breakloop();
                    return;
                }
                if idle.load(Ordering::Relaxed) && holding.load(Ordering::Relaxed) {
                    breaker.breakloop();
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    let thread = std::thread::Builder::new()
        .name("labsniff-capture".to_string())
        .spawn(move || capturer.run())?;
    let mut analyzer = Analyzer::new(options, dlt);
    let mut links = frames::LinkCache::default();
    let analysed = (|| -> std::io::Result<()> {
        loop {
            let batch = match rx.try_recv() {
                Ok(b) => b,
                Err(TryRecvError::Empty) => {
                    // Caught up: what the sink holds goes out now (live follow).
                    sink.flush()?;
                    idle.store(true, Ordering::Relaxed);
                    let got = rx.recv();
                    idle.store(false, Ordering::Relaxed);
                    match got {
                        Ok(b) => b,
                        Err(_) => return Ok(()),
                    }
                }
                Err(TryRecvError::Disconnected) => return Ok(()),
            };
            for item in &batch.items {
                match item {
                    batch::Item::Frame {
                        bytes,
                        ts,
                        orig_len,
                    } => {
                        let data = batch.data.get(bytes.clone()).unwrap_or_default();
                        analyzer.frame_with_link(links.kind(dlt), data, *ts, *orig_len, sink)?;
                    }
                    batch::Item::Dropped(d) => analyzer.capture_dropped(*d),
                    batch::Item::Problem(reason) => {
                        let kind = DiagnosticKind::CaptureError {
                            reason: reason.clone(),
                        };
                        analyzer.input_problem(kind, sink)?;
                    }
                }
            }
            // The capture thread may have ended: then the batch is simply freed.
            let _ = free.send(batch);
        }
    })();
    // An output error stops the capture too; its thread ends within a read timeout.
    done.store(true, Ordering::SeqCst);
    drop(rx);
    let ended = thread.join().unwrap_or_default();
    finished.store(true, Ordering::SeqCst);
    // The watcher only sleeps and reads flags: its result does not matter.
    let _ = watcher.join();
    analysed?;
    if let Some(e) = ended.save_error {
        return Err(e);
    }
    if std::env::var_os("LABSNIFF_CAPTURE_STATS").is_some() {
        eprintln!(
            "labsniff: capture: {} frames read, {} dropped by the kernel, {} by the queue; queue peak {} batches of {} MiB",
            ended.read,
            ended.kernel_dropped.unwrap_or(0),
            ended.queue_dropped,
            ended.peak_batches,
            batch::BATCH_BYTES >> 20
        );
    }
    let interrupted = source.stop.load(Ordering::SeqCst);
    Ok(analyzer.finish(interrupted, ended.kernel_dropped, sink)?)
}

mod batch;
mod frames;
mod live;
mod save;
