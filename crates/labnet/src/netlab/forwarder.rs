//! The frame pump of the middle namespace: one reader per side (libpcap, immediate
//! mode, incoming frames only, so what we inject is never read back), the seeded
//! model deciding each frame's fate, and per direction a release-time priority
//! queue drained by a sender thread that sleeps on a condition variable exactly
//! until the next release (no fixed sleeps, no polling of the queue).

use super::frame;
use super::impair::{Action, Model};
use super::log::{DirCounters, FrameLog};
use super::settings::{Dir, Settings};
use pcaprt::{Active, Capture, Direction};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// Frames held per direction before the forwarder starts dropping on its own
/// (counted as `queue_full`): at 10 ms delay and 1 Gbit/s that is ~800 frames,
/// so this bound is only hit by a runaway sender.
const MAX_QUEUED: usize = 50_000;
/// How often a reader wakes to look at the stop flag when no frame comes.
const READ_TIMEOUT_MS: i32 = 100;

/// The model, for the control socket.
pub fn lock_model(shared: &Shared) -> MutexGuard<'_, Model> {
    lock(&shared.model)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicked thread must not take the whole pump down with it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Held {
    release: Duration,
    /// Arrival order: frames with the same release time leave in arrival order.
    seq: u64,
    copies: u8,
    data: Vec<u8>,
}

#[derive(Debug, Default)]
struct Queue {
    heap: Mutex<BinaryHeap<Reverse<Held>>>,
    wake: Condvar,
}

/// Everything the pump threads and the control socket share.
#[derive(Debug)]
pub struct Shared {
    model: Mutex<Model>,
    log: Mutex<FrameLog>,
    counters: [DirCounters; 2],
    queues: [Queue; 2],
    pub stop: Arc<AtomicBool>,
    start: Instant,
    seq: AtomicU64,
}

impl Shared {
    pub fn new(settings: Settings, log: FrameLog, stop: Arc<AtomicBool>) -> Shared {
        Shared {
            model: Mutex::new(Model::new(settings)),
            log: Mutex::new(log),
            counters: [DirCounters::default(), DirCounters::default()],
            queues: [Queue::default(), Queue::default()],
            stop,
            start: Instant::now(),
            seq: AtomicU64::new(0),
        }
    }

    /// Ask every thread to finish (the senders are woken now).
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        for q in &self.queues {
            let _guard = lock(&q.heap);
            q.wake.notify_all();
        }
    }

    /// Both directions' counters, read under the log's lock: they then count exactly
    /// the lines written so far (`record` bumps them under the same lock).
    pub fn counters_json(&self) -> serde_json::Value {
        let _log = lock(&self.log);
        serde_json::json!({
            "c2s": self.counters[Dir::C2s.index()].to_json(),
            "s2c": self.counters[Dir::S2c.index()].to_json(),
        })
    }

    pub fn queued(&self, dir: Dir) -> usize {
        lock(&self.queues[dir.index()].heap).len()
    }

    pub fn uptime(&self) -> Duration {
        self.start.elapsed()
    }

    /// Decide, log and queue one frame that arrived in direction `dir`.
    fn take(&self, dir: Dir, data: &[u8]) {
        let now = self.start.elapsed();
        let summary = frame::parse(data);
        let decision = lock(&self.model).decide(dir, &summary, data.len(), now);
        let held_ms = decision.release.saturating_sub(now).as_secs_f64() * 1000.0;
        let counters = &self.counters[dir.index()];
        if let Err(e) =
            lock(&self.log).record(dir, &summary, data.len(), &decision, held_ms, counters)
        {
            eprintln!("labnet netlab forwarder: cannot write the frame log: {e}");
        }
        if decision.action == Action::Drop {
            return;
        }
        let q = &self.queues[dir.index()];
        let mut heap = lock(&q.heap);
        if heap.len() >= MAX_QUEUED {
            counters.queue_full.fetch_add(1, Ordering::Relaxed);
            drop(heap);
            let _ = lock(&self.log).record_own_drop(dir, decision.n, "queue full");
            return;
        }
        heap.push(Reverse(Held {
            release: decision.release,
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            copies: if decision.action == Action::Duplicate {
                2
            } else {
                1
            },
            data: data.to_vec(),
        }));
        q.wake.notify_one();
    }
}

fn inactive(dev: &str) -> Result<Capture<pcaprt::Inactive>, String> {
    Capture::from_device(dev)
        .map(|c| {
            c.promisc(true)
                .immediate_mode(true)
                .snaplen(65_535)
                .timeout(READ_TIMEOUT_MS)
                .buffer_size(8 << 20)
        })
        .map_err(|e| format!("cannot open {dev} for capture: {e}"))
}

/// The reading handle of a side: frames that come in from its host only.
pub fn open_reader(dev: &str) -> Result<Capture<Active>, String> {
    let cap = inactive(dev)?
        .open()
        .map_err(|e| format!("cannot start capturing on {dev}: {e}"))?;
    cap.direction(Direction::In)
        .map_err(|e| format!("cannot restrict {dev} to incoming frames: {e}"))?;
    Ok(cap)
}

/// The injecting handle of a side; it captures nothing ("less 1" matches no frame),
/// so its kernel buffer never fills.
pub fn open_sender(dev: &str) -> Result<Capture<Active>, String> {
    let mut cap = inactive(dev)?
        .open()
        .map_err(|e| format!("cannot open {dev} for sending: {e}"))?;
    cap.filter("less 1", true)
        .map_err(|e| format!("cannot set the empty filter on {dev}: {e}"))?;
    Ok(cap)
}

/// Read frames coming from one host until stopped.
pub fn reader(shared: Arc<Shared>, dir: Dir, mut cap: Capture<Active>, dev: String) {
    let mut since_stats = 0u32;
    while !shared.stop.load(Ordering::SeqCst) {
        // The kernel's own count of frames it could not hand us (ring full): the
        // forwarder's losses that no log line shows. Read now and then, and when idle.
        since_stats += 1;
        if since_stats >= 1000 {
            since_stats = 0;
            record_kernel_drops(&shared, dir, &mut cap);
        }
        match cap.next_packet() {
            Ok(packet) => shared.take(dir, packet.data),
            Err(pcaprt::Error::TimeoutExpired) => record_kernel_drops(&shared, dir, &mut cap),
            Err(e) => {
                eprintln!("labnet netlab forwarder: reading {dev} failed: {e}; stopping");
                shared.request_stop();
            }
        }
    }
    // Ctrl-C only sets the flag: the senders, asleep on their condvar, need a wake-up.
    shared.request_stop();
}

fn record_kernel_drops(shared: &Shared, dir: Dir, cap: &mut Capture<Active>) {
    if let Ok(stats) = cap.stats() {
        shared.counters[dir.index()].kernel_drops.store(
            u64::from(stats.dropped) + u64::from(stats.if_dropped),
            Ordering::Relaxed,
        );
    }
}

/// Release the frames of one direction at their time, onto the far side.
pub fn sender(shared: Arc<Shared>, dir: Dir, mut cap: Capture<Active>, dev: String) {
    let q = &shared.queues[dir.index()];
    let counters = &shared.counters[dir.index()];
    let mut heap = lock(&q.heap);
    let mut reported = false;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let now = shared.start.elapsed();
        let wait = match heap.peek() {
            // Nothing queued: sleep until a reader queues a frame (or stop).
            None => Duration::from_secs(3600),
            Some(Reverse(top)) if top.release <= now => Duration::ZERO,
            Some(Reverse(top)) => top.release - now,
        };
        if !wait.is_zero() {
            heap = q
                .wake
                .wait_timeout(heap, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        }
        let Some(Reverse(held)) = heap.pop() else {
            continue;
        };
        drop(heap);
        for _ in 0..held.copies {
            match cap.sendpacket(held.data.as_slice()) {
                Ok(()) => {
                    counters.sent.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    counters.send_errors.fetch_add(1, Ordering::Relaxed);
                    if !reported {
                        eprintln!("labnet netlab forwarder: injecting on {dev} failed: {e}");
                        reported = true;
                    }
                }
            }
        }
        heap = lock(&q.heap);
    }
}

/// Start the four pump threads; returns their handles.
pub fn start(
    shared: &Arc<Shared>,
    server_dev: &str,
    client_dev: &str,
) -> Result<Vec<thread::JoinHandle<()>>, String> {
    // Open everything first: a failure leaves no thread behind.
    let from_client = open_reader(client_dev)?;
    let from_server = open_reader(server_dev)?;
    let to_server = open_sender(server_dev)?;
    let to_client = open_sender(client_dev)?;
    let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
        thread::Builder::new()
            .name(name.to_string())
            .spawn(f)
            .map_err(|e| format!("cannot start the {name} thread: {e}"))
    };
    let mut threads = Vec::new();
    let (s, c) = (server_dev.to_string(), client_dev.to_string());
    let sh = Arc::clone(shared);
    let dev = c.clone();
    threads.push(spawn(
        "read-c2s",
        Box::new(move || reader(sh, Dir::C2s, from_client, dev)),
    )?);
    let sh = Arc::clone(shared);
    let dev = s.clone();
    threads.push(spawn(
        "read-s2c",
        Box::new(move || reader(sh, Dir::S2c, from_server, dev)),
    )?);
    let sh = Arc::clone(shared);
    threads.push(spawn(
        "send-c2s",
        Box::new(move || sender(sh, Dir::C2s, to_server, s)),
    )?);
    let sh = Arc::clone(shared);
    threads.push(spawn(
        "send-s2c",
        Box::new(move || sender(sh, Dir::S2c, to_client, c)),
    )?);
    Ok(threads)
}
