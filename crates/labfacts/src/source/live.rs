//! Live capture on two threads: a capture thread that only moves frames (libpcap's
//! block ring → batches of copied frames, plus the `-w` copy), and the caller's
//! thread, which analyses them. Drops are counted where they happen — the kernel's
//! from libpcap's statistics, polled here; the queue's when no batch has room — and
//! handed to the analyzer in order, before the first frame that follows them.
//!
//! Why (issue 17): in immediate mode each ring slot holds a whole snapshot length
//! (256 KiB), so a 64 MiB ring held ~256 frames, and a burst of the lab bench
//! (80,000 packets in half a second) overflowed it while the single thread analysed.
//! Without immediate mode libpcap uses TPACKET_V3 blocks that hold frames at their
//! real size, and the analysis no longer holds up the reads.

use super::batch::{Batch, Item, Pool};
use super::save;
use crate::analyzer::CaptureDrop;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// The kernel ring. The issue-17 burst is ~80,000 frames of ~720 bytes (57 MB) in
/// 0.5 s; the ring plus the queue (64 + 80 MiB) hold all of it even if the analysis
/// did not run meanwhile. `LABSNIFF_RING_BYTES` overrides it (tests forcing drops).
pub const RING_BYTES: i32 = 64 << 20;
/// libpcap's read timeout, which is also the TPACKET_V3 block retire timeout: a block
/// holding a single frame is handed over after at most this long, and its batch at
/// once when the analysis is idle, so a message line appears within about 50 ms (live
/// follow's target is 200 ms; `live_follow_prints_each_message_as_it_happens`
/// measured 40–50 ms on a debug build). libpcap then waits in poll() with no timeout (the
/// kernel retires blocks), so a quiet interface blocks the read: Ctrl-C wakes it with
/// pcap_breakloop() from a watcher thread.
pub const READ_TIMEOUT_MS: i32 = 50;
/// libpcap's statistics are read every this many frames (and at each timeout): one
/// getsockopt() per 1,024 frames is noise, and it bounds how far before the note a
/// kernel drop can lie.
const STATS_EVERY: u64 = 1024;
/// With every batch in use, the capture thread waits this long for one before it
/// drops frames (counted as the queue's): meanwhile the kernel ring (64 MiB: ~0.5 s of
/// the bench burst) absorbs the traffic, so a stall of the analysis (a busy machine,
/// a slow reader of stdout) loses nothing, while a reader stalled for longer does not
/// stop `-w`. 250 ms lost 18,000–27,000 frames of the report at the issue-17 load on
/// the shared 2-core machine; 1 s lost none in the runs of tests/live_load.rs.
/// `LABSNIFF_QUEUE_WAIT_MS` overrides it (tests that force queue drops).
const QUEUE_WAIT: Duration = Duration::from_secs(1);

/// What the capture thread hands back when it ends.
#[derive(Debug, Default)]
pub(super) struct Ended {
    /// libpcap's kernel drop count at the end.
    pub kernel_dropped: Option<u32>,
    /// `-w` could not be flushed.
    pub save_error: Option<super::SourceError>,
    /// Batches allocated: the queue's peak (`LABSNIFF_CAPTURE_STATS`).
    pub peak_batches: usize,
    /// Frames read from libpcap, and those the queue had no room for.
    pub read: u64,
    pub queue_dropped: u64,
}

/// The capture side of the queue, and what it counted.
struct Queue {
    tx: SyncSender<Batch>,
    pool: Pool,
    current: Option<Batch>,
    /// Frames read from libpcap (queued or dropped by the queue).
    read: u64,
    /// Frames put into batches: the analyzer numbers them 1, 2, ...
    queued: u64,
    queue_dropped: u64,
    /// No drop had been seen up to this frame at the last statistics poll.
    clean_until: u64,
    kernel_seen: u32,
    /// A drop not yet put into a batch (no batch had room).
    pending: Option<CaptureDrop>,
    /// The analysis is gone: stop.
    gone: bool,
    /// The analysis waits for a batch: hand over at once (live follow's latency).
    idle: Arc<AtomicBool>,
    /// A non-empty batch is held here (the watcher wakes the read to hand it over).
    holding: Arc<AtomicBool>,
    /// The last wait for a batch timed out: drop without waiting until one is back.
    starved: bool,
    /// [`QUEUE_WAIT`], or the environment's.
    wait: Duration,
}

impl Queue {
    fn note(&mut self, kernel: u64, queue: u64) {
        let after = self.clean_until;
        let p = self.pending.get_or_insert(CaptureDrop {
            kernel: 0,
            queue: 0,
            after_frame: after,
        });
        p.kernel += kernel;
        p.queue += queue;
        p.after_frame = p.after_frame.min(after);
    }

    /// libpcap's kernel drop count went up since the last poll: note it.
    fn poll(&mut self, cap: &mut pcaprt::Capture<pcaprt::Active>) {
        let Ok(stats) = cap.stats() else { return };
        if stats.dropped > self.kernel_seen {
            let n = stats.dropped - self.kernel_seen;
            self.kernel_seen = stats.dropped;
            self.note(u64::from(n), 0);
        } else if self.pending.is_none() {
            self.clean_until = self.queued;
        }
    }

    /// A batch with room for `len` bytes, handing over a full one first.
    fn room(&mut self, len: usize) -> Option<&mut Batch> {
        if self.current.as_ref().is_some_and(|b| !b.has_room(len)) {
            self.hand_over();
        }
        if self.current.is_none() {
            self.current = if self.starved {
                self.pool.take()
            } else {
                self.pool.take_waiting(self.wait)
            };
            self.starved = self.current.is_none();
        }
        self.current.as_mut().filter(|b| b.has_room(len))
    }

    fn frame(&mut self, data: &[u8], ts: u64, orig_len: u32) {
        self.read += 1;
        let pending = self.pending;
        let Some(batch) = self.room(data.len()) else {
            self.queue_dropped += 1;
            self.note(0, 1);
            return;
        };
        if let Some(p) = pending {
            batch.items.push(Item::Dropped(p));
        }
        batch.push_frame(data, ts, orig_len);
        self.holding.store(true, Ordering::Relaxed);
        self.pending = None;
        self.queued += 1;
        // A busy analysis gets full batches (every batch slot holds 1 MiB of frames);
        // an idle one each frame at once (live follow's latency).
        if self.idle.load(Ordering::Relaxed) {
            self.hand_over();
        }
    }

    /// The current batch to the analysis, if the queue has room (else it is kept and
    /// filled further).
    fn hand_over(&mut self) {
        let Some(batch) = self.current.take() else {
            return;
        };
        if batch.is_empty() {
            self.current = Some(batch);
            return;
        }
        match self.tx.try_send(batch) {
            Ok(()) => {
                self.holding.store(false, Ordering::Relaxed);
            }
            Err(TrySendError::Full(b)) => self.current = Some(b),
            Err(TrySendError::Disconnected(_)) => self.gone = true,
        }
    }

    /// The end: the last items go over, waiting (bounded by the analysis) if need be.
    fn finish(&mut self, last: Option<Item>) {
        if self.pending.is_some() || last.is_some() {
            if self.current.is_none() {
                self.current = self.pool.take_waiting(Duration::from_secs(2));
            }
            if let Some(b) = self.current.as_mut() {
                if let Some(p) = self.pending.take() {
                    b.items.push(Item::Dropped(p));
                }
                if let Some(item) = last {
                    b.items.push(item);
                }
            }
        }
        if let Some(b) = self.current.take() {
            if !b.is_empty() {
                // Blocks until the analysis takes it, or fails if it is gone.
                let _ = self.tx.send(b);
            }
        }
    }
}

fn micros(ts: &libc::timeval) -> u64 {
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let usecs = u64::try_from(ts.tv_usec).unwrap_or(0);
    secs * 1_000_000 + usecs
}

/// The capture thread's inputs.
pub(super) struct Capturer {
    pub cap: pcaprt::Capture<pcaprt::Active>,
    pub save: Option<save::Copy>,
    pub dlt: i32,
    pub tx: SyncSender<Batch>,
    pub pool: Pool,
    /// Stop after this many frames (`-c`; counted here so that `-w` gets exactly them).
    pub count: Option<u64>,
    /// Ctrl-C.
    pub stop: Arc<AtomicBool>,
    /// The analysis stopped (an output error).
    pub done: Arc<AtomicBool>,
    /// Set by the analysis while it waits for a batch.
    pub idle: Arc<AtomicBool>,
    /// Set here while a non-empty batch waits to be handed over.
    pub holding: Arc<AtomicBool>,
}

impl Capturer {
    /// Read until Ctrl-C, `-c`, the analysis going away, or a capture error.
    pub fn run(self) -> Ended {
        let Capturer {
            mut cap,
            mut save,
            dlt,
            tx,
            pool,
            count,
            stop,
            done,
            idle,
            holding,
        } = self;
        let mut q = Queue {
            tx,
            pool,
            current: None,
            read: 0,
            queued: 0,
            queue_dropped: 0,
            clean_until: 0,
            kernel_seen: 0,
            pending: None,
            gone: false,
            idle,
            holding,
            starved: false,
            wait: super::batch::env_size("LABSNIFF_QUEUE_WAIT_MS")
                .map_or(QUEUE_WAIT, |ms| Duration::from_millis(ms as u64)),
        };
        let mut last = None;
        while !q.gone && !stop.load(Ordering::SeqCst) && !done.load(Ordering::SeqCst) {
            if count.is_some_and(|c| q.read >= c) {
                break;
            }
            match cap.next_packet() {
                Ok(packet) => {
                    let ts = micros(&packet.header.ts);
                    if let Some(save) = save.as_mut() {
                        // One link type live: nothing is ever refused.
                        let _ = save.write(&super::frames::RawFrame {
                            data: packet.data,
                            ts,
                            orig_len: packet.header.len,
                            dlt,
                            offset: 0,
                        });
                    }
                    let orig_len = packet.header.len;
                    q.frame(packet.data, ts, orig_len);
                    if q.read % STATS_EVERY == 0 {
                        q.poll(&mut cap);
                    }
                }
                Err(pcaprt::Error::TimeoutExpired) => {
                    q.poll(&mut cap);
                    q.hand_over();
                }
                // pcap_breakloop(): Ctrl-C or the analysis ending (the loop's test
                // stops), or the watcher's nudge to hand over a held batch.
                Err(pcaprt::Error::NoMorePackets) => q.hand_over(),
                Err(e) => {
                    last = Some(Item::Problem(super::reason(&e)));
                    break;
                }
            }
        }
        q.poll(&mut cap);
        q.finish(last);
        Ended {
            kernel_dropped: cap.stats().ok().map(|s| s.dropped),
            save_error: save.as_mut().and_then(|s| s.flush().err()),
            peak_batches: q.pool.allocated(),
            read: q.read,
            queue_dropped: q.queue_dropped,
        }
    }
}
