//! A live capture's analysis side: open `-w`, give up root, start the capture thread
//! (`live`) and the watcher that wakes its reads, analyse the batches it hands over
//! (flushing the sink whenever the queue is empty), stop both threads, then the
//! summary.

use super::batch::{self, Batch, Item};
use super::frames::{Frames, LinkCache, LiveFrames};
use super::live::{Capturer, Ended};
use super::{drop_privileges, open_copy, save, RunExtras, SourceError, SourceOptions};
use crate::analyzer::{Analyzer, Options};
use crate::event::{DiagnosticKind, Sink, Summary};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Live: open `-w`, give up root, start the capture thread, analyse what it hands
/// over (flushing the sink whenever the queue is empty), then the summary.
pub(super) fn pump_live(
    cap: pcaprt::Capture<pcaprt::Active>,
    source: &SourceOptions,
    extras: &RunExtras,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<Summary, SourceError> {
    let mut frames = LiveFrames::new(cap);
    let dlt = frames.first_dlt();
    let savefile = open_copy(source, &mut frames)?;
    // Everything privileged (the capture, the -w file) is open now; dropped before
    // the capture thread exists, so no thread keeps root.
    drop_privileges(extras)?;
    let running = Running::start(frames, savefile, dlt, source)?;
    let mut analysis = Analysis {
        analyzer: Analyzer::new(options, dlt),
        links: LinkCache::default(),
        dlt,
    };
    let analysed = analysis.run(&running, sink);
    let ended = running.end();
    analysed?;
    if let Some(e) = ended.save_error {
        return Err(e);
    }
    print_stats(&ended);
    let interrupted = source.stop.load(Ordering::SeqCst);
    analysis.analyzer.set_queue_peak(ended.peak_batches);
    Ok(analysis
        .analyzer
        .finish(interrupted, ended.kernel_dropped, sink)?)
}

/// The flags the analysis, the capture thread and the watcher share.
#[derive(Clone)]
struct Flags {
    /// Ctrl-C (the caller's flag).
    stop: Arc<AtomicBool>,
    /// The analysis stopped (at the end, or on an output error).
    done: Arc<AtomicBool>,
    /// The analysis waits for a batch.
    idle: Arc<AtomicBool>,
    /// The capture thread holds a non-empty batch.
    holding: Arc<AtomicBool>,
    /// The capture thread has ended: the watcher returns.
    finished: Arc<AtomicBool>,
}

/// The capture thread and the watcher, running, and the analysis's ends of the queue.
struct Running {
    /// Full batches from the capture thread.
    batches: Receiver<Batch>,
    /// Where analysed batches go back to the capture thread's pool.
    free: Sender<Batch>,
    flags: Flags,
    capture: JoinHandle<Ended>,
    watcher: JoinHandle<()>,
}

impl Running {
    /// Make the queue, then start the watcher and the capture thread (which takes the
    /// capture and the `-w` copy).
    fn start(
        frames: LiveFrames,
        save: Option<save::Copy>,
        dlt: i32,
        source: &SourceOptions,
    ) -> Result<Running, SourceError> {
        let batches = batch::env_size("LABSNIFF_QUEUE_BATCHES").unwrap_or(batch::QUEUE_BATCHES);
        let (pool, free) = batch::Pool::new(batches);
        let (tx, rx) = std::sync::mpsc::sync_channel(batches);
        let flags = Flags {
            stop: Arc::clone(&source.stop),
            done: Arc::new(AtomicBool::new(false)),
            idle: Arc::new(AtomicBool::new(false)),
            holding: Arc::new(AtomicBool::new(false)),
            finished: Arc::new(AtomicBool::new(false)),
        };
        let cap = frames.into_capture();
        let breaker = cap.breakloop_handle();
        let capturer = Capturer {
            cap,
            save,
            dlt,
            tx,
            pool,
            count: source.count,
            stop: Arc::clone(&flags.stop),
            done: Arc::clone(&flags.done),
            idle: Arc::clone(&flags.idle),
            holding: Arc::clone(&flags.holding),
        };
        let watcher = watch(breaker, flags.clone());
        let capture = std::thread::Builder::new()
            .name("labsniff-capture".to_string())
            .spawn(move || capturer.run())?;
        Ok(Running {
            batches: rx,
            free,
            flags,
            capture,
            watcher,
        })
    }

    /// Stop the capture thread, then the watcher; what the capture thread counted.
    fn end(self) -> Ended {
        // An output error stops the capture too; its thread ends within a read timeout.
        self.flags.done.store(true, Ordering::SeqCst);
        drop(self.batches);
        let ended = self.capture.join().unwrap_or_default();
        self.flags.finished.store(true, Ordering::SeqCst);
        // The watcher only sleeps and reads flags: its result does not matter.
        let _ = self.watcher.join();
        ended
    }
}

/// Start the watcher thread, which wakes the capture thread's read.
fn watch(breaker: pcaprt::BreakLoop, flags: Flags) -> JoinHandle<()> {
    // libpcap's TPACKET_V3 read waits in poll() without a timeout, so a read on a
    // quiet interface only wakes for pcap_breakloop(): the watcher calls it for
    // Ctrl-C, for the analysis stopping, and when the analysis is idle while the
    // capture thread holds frames (the last frames of a burst), every 20 ms at most.
    std::thread::spawn(move || {
        while !flags.finished.load(Ordering::SeqCst) {
            if flags.stop.load(Ordering::SeqCst) || flags.done.load(Ordering::SeqCst) {
                breaker.breakloop();
                return;
            }
            if flags.idle.load(Ordering::Relaxed) && flags.holding.load(Ordering::Relaxed) {
                breaker.breakloop();
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    })
}

/// The analysis of what the capture thread hands over.
struct Analysis {
    analyzer: Analyzer,
    links: LinkCache,
    /// The capture's link type (one for a live capture).
    dlt: i32,
}

impl Analysis {
    /// Analyse every batch until the capture thread has ended, or the sink fails.
    /// Bounded by the capture thread, which ends (and drops its sender) when told.
    fn run(&mut self, running: &Running, sink: &mut dyn Sink) -> std::io::Result<()> {
        while let Some(batch) = next_batch(running, sink)? {
            self.batch(&batch, sink)?;
            // The capture thread may have ended: then the batch is simply freed.
            let _ = running.free.send(batch);
        }
        Ok(())
    }

    /// Each item of one batch, in capture order.
    fn batch(&mut self, batch: &Batch, sink: &mut dyn Sink) -> std::io::Result<()> {
        for item in &batch.items {
            match item {
                Item::Frame {
                    bytes,
                    ts,
                    orig_len,
                } => {
                    let data = batch.data.get(bytes.clone()).unwrap_or_default();
                    let link = self.links.kind(self.dlt);
                    self.analyzer
                        .frame_with_link(link, data, *ts, *orig_len, sink)?;
                }
                Item::Dropped(d) => self.analyzer.capture_dropped(*d),
                Item::Problem(reason) => {
                    let kind = DiagnosticKind::CaptureError {
                        reason: reason.clone(),
                    };
                    self.analyzer.input_problem(kind, sink)?;
                }
            }
        }
        Ok(())
    }
}

/// The next batch, or `None` once the capture thread has ended. When none is waiting,
/// the sink is flushed and the analysis marked idle while it waits.
fn next_batch(running: &Running, sink: &mut dyn Sink) -> std::io::Result<Option<Batch>> {
    let rx = &running.batches;
    match rx.try_recv() {
        Ok(b) => Ok(Some(b)),
        Err(TryRecvError::Empty) => {
            // Caught up: what the sink holds goes out now (live follow).
            sink.flush()?;
            running.flags.idle.store(true, Ordering::Relaxed);
            let got = rx.recv();
            running.flags.idle.store(false, Ordering::Relaxed);
            Ok(got.ok())
        }
        Err(TryRecvError::Disconnected) => Ok(None),
    }
}

/// `LABSNIFF_CAPTURE_STATS`: the capture thread's counts, on stderr.
fn print_stats(ended: &Ended) {
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
}
