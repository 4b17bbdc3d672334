//! The one-thread pump: frames from an input ([`Frames`]; a capture file in practice)
//! into the analyzer, and into the `-w` copy, until the end, `-c`, Ctrl-C or a fatal
//! problem; then the summary.

use super::frames::{Frames, Got, LinkCache, RawFrame};
use super::{drop_privileges, open_copy, save, Progress, RunExtras, SourceError, SourceOptions};
use crate::analyzer::{Analyzer, Options};
use crate::event::{Sink, Summary};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Open `-w`, give up root (live), read every frame ([`Pump::read_all`]), then the
/// summary.
pub(super) fn pump<F: Frames>(
    frames: &mut F,
    source: &SourceOptions,
    extras: &RunExtras,
    progress: Option<&(dyn Progress + Send + Sync)>,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<Summary, SourceError> {
    let live = frames.live();
    let savefile = open_copy(source, frames)?;
    // Everything privileged (the capture, the -w file) is open now.
    if live {
        drop_privileges(extras)?;
    }
    let mut pump = Pump {
        source,
        progress,
        savefile,
        analyzer: Analyzer::new(options, frames.first_dlt()),
        links: LinkCache::default(),
    };
    let watcher = Watcher::start(frames.breaker(), &source.stop);
    let interrupted = pump.read_all(frames, sink)?;
    watcher.end();
    if let Some(save) = pump.savefile.as_mut() {
        save.flush()?;
    }
    let dropped = frames.dropped();
    Ok(pump.analyzer.finish(interrupted, dropped, sink)?)
}

/// The reading loop's state: the analysis, and where each frame goes besides it.
struct Pump<'s> {
    source: &'s SourceOptions,
    progress: Option<&'s (dyn Progress + Send + Sync)>,
    savefile: Option<save::Copy>,
    analyzer: Analyzer,
    links: LinkCache,
}

impl Pump<'_> {
    /// Read until the end, `-c`, Ctrl-C or a fatal problem (each frame or problem read
    /// goes to the analyzer); whether Ctrl-C stopped it. Bounded by the input: each
    /// pass reads from it, or ends.
    fn read_all<F: Frames>(
        &mut self,
        frames: &mut F,
        sink: &mut dyn Sink,
    ) -> Result<bool, SourceError> {
        loop {
            if self.source.stop.load(Ordering::SeqCst) {
                return Ok(true);
            }
            if self
                .source
                .count
                .is_some_and(|c| self.analyzer.frames() >= c)
            {
                return Ok(false);
            }
            match frames.next_frame()? {
                Got::Frame(frame) => self.frame(&frame, sink)?,
                Got::Timeout => continue,
                // A pipe may now wait for more: what the sink holds goes out first.
                Got::Idle => sink.flush()?,
                Got::End => {
                    // End of file, or pcap_breakloop() after Ctrl-C.
                    return Ok(self.source.stop.load(Ordering::SeqCst));
                }
                Got::Problem { kind, fatal } => {
                    self.analyzer.input_problem(kind, sink)?;
                    if fatal {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// One frame: the progress bar (every 4,096 frames), the `-w` copy, the analysis.
    fn frame(&mut self, frame: &RawFrame<'_>, sink: &mut dyn Sink) -> Result<(), SourceError> {
        if let Some(progress) = self.progress {
            if self.analyzer.frames() % 4096 == 0 {
                progress.at(frame.offset);
            }
        }
        if let Some(save) = self.savefile.as_mut() {
            if let Some(kind) = save.write(frame) {
                self.analyzer.input_problem(kind, sink)?;
            }
        }
        self.analyzer.frame_with_link(
            self.links.kind(frame.dlt),
            frame.data,
            frame.ts,
            frame.orig_len,
            sink,
        )?;
        Ok(())
    }
}

/// A thread that turns the stop flag into pcap_breakloop() for an input that has a
/// blocking read (live; a file has none, and then there is no thread).
struct Watcher {
    finished: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    /// Start watching `stop` (only when there is a read to wake).
    fn start(breaker: Option<pcaprt::BreakLoop>, stop: &Arc<AtomicBool>) -> Watcher {
        // libpcap 1.10 on Linux ignores the read timeout in immediate mode, so a quiet
        // interface would block next_packet() forever after Ctrl-C: a watcher thread
        // turns the stop flag into pcap_breakloop(), which wakes the blocked read.
        let finished = Arc::new(AtomicBool::new(false));
        let thread = breaker.map(|breaker| {
            let stop = Arc::clone(stop);
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
        Watcher { finished, thread }
    }

    /// Reading is over: the thread returns, and is waited for.
    fn end(self) {
        self.finished.store(true, Ordering::SeqCst);
        if let Some(w) = self.thread {
            // The watcher only sleeps and reads flags; a panic there cannot have left
            // anything half-done, so its result does not matter.
            let _ = w.join();
        }
    }
}
