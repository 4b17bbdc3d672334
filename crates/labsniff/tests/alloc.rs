#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The hot path allocates nothing per packet in steady state.
//!
//! A counting global allocator (per thread, so tests running in parallel do not see
//! each other's allocations) wraps the system allocator. Lab conversations are
//! scripted with labfixtures and fed frame by frame to `Analyzer::frame`; after a
//! warm-up (conversations open, protocol detected, buffers at their working sizes)
//! every further frame is classified and its allocations counted:
//! - pure ACKs;
//! - data segments that do not complete a message (the first half of a split request);
//! - data segments that complete a message (and so produce a message event).

use labfixtures::{lab, Capture, Dir, LinkType, TcpFlow};
use labsniff::event::{Event, MessageRef, Sink};
use labsniff::output::json::JsonSink;
use labsniff::{Analyzer, Options};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;

/// Forwards every call to [`System`], counting allocations made by the current thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: the counter may already be gone while a thread exits.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the only addition is bumping a thread-local counter, which
// is const-initialised, has no destructor and never allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller's guarantees for `layout` are passed on as they are.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Discards every event; messages are taken borrowed, never built.
struct Discard {
    messages: u64,
}

impl Sink for Discard {
    fn emit(&mut self, _event: Event) -> std::io::Result<()> {
        Ok(())
    }
    fn message(&mut self, _message: &MessageRef<'_>) -> std::io::Result<()> {
        self.messages += 1;
        Ok(())
    }
}

/// Takes the owned events (the trait's default `message`), then drops them.
struct Owned {
    messages: u64,
}

impl Sink for Owned {
    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        if matches!(event, Event::Message(_)) {
            self.messages += 1;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PureAck,
    DataIncomplete,
    DataCompleting,
}

const CONVERSATIONS: usize = 8;
const WARMUP_ROUNDS: u32 = 40;
const MEASURED_ROUNDS: u32 = 200;

/// A v3 payload of `len` bytes (printable, one quote to exercise JSON escaping).
fn payload(round: u32, len: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..len)
        .map(|i| b'a' + ((i as u32 + round) % 26) as u8)
        .collect();
    p[len / 2] = b'"';
    p
}

/// `CONVERSATIONS` interleaved v3 conversations; each round every conversation sends a
/// request split in two segments, the echo in one, and both sides' ACKs. Returns the
/// capture, the frame number where measuring starts, and each later frame's kind.
fn script() -> (Capture, usize, Vec<(usize, Kind)>) {
    let mut cap = Capture::new(LinkType::Ethernet);
    let server: SocketAddr = "10.0.0.1:5005".parse().unwrap();
    let mut flows: Vec<TcpFlow> = (0..CONVERSATIONS)
        .map(|i| {
            let client: SocketAddr = format!("10.0.0.{}:{}", 2 + i, 40000 + i).parse().unwrap();
            cap.tcp(client, server)
        })
        .collect();
    for flow in &mut flows {
        flow.handshake(&mut cap);
    }
    let mut kinds = Vec::new();
    let mut measure_from = 0;
    for round in 0..WARMUP_ROUNDS + MEASURED_ROUNDS {
        if round == WARMUP_ROUNDS {
            measure_from = cap.frames() + 1;
        }
        // Warm-up uses the largest payloads first so buffers reach their working size.
        let len = if round < 2 {
            60
        } else {
            10 + (round as usize * 7) % 51
        };
        for (i, flow) in flows.iter_mut().enumerate() {
            let message = lab::v3(round + 1, &payload(round + i as u32, len));
            let cut = message.len() / 2;
            let first = flow.send(&mut cap, Dir::C2S, &message[..cut]);
            let second = flow.send(&mut cap, Dir::C2S, &message[cut..]);
            let server_ack = flow.ack(&mut cap, Dir::S2C);
            let echo = flow.send(&mut cap, Dir::S2C, &message);
            let client_ack = flow.ack(&mut cap, Dir::C2S);
            kinds.push((first, Kind::DataIncomplete));
            kinds.push((second, Kind::DataCompleting));
            kinds.push((server_ack, Kind::PureAck));
            kinds.push((echo, Kind::DataCompleting));
            kinds.push((client_ack, Kind::PureAck));
        }
    }
    kinds.retain(|&(frame, _)| frame >= measure_from);
    (cap, measure_from, kinds)
}

/// Feed every frame; return (kind, allocations) for each measured frame.
fn run<S: Sink>(sink: &mut S) -> Vec<(Kind, u64)> {
    let (cap, measure_from, kinds) = script();
    let mut analyzer = Analyzer::new(Options::default(), 1);
    let frames = cap.frame_list();
    for frame in &frames[..measure_from - 1] {
        analyzer
            .frame(&frame.data, frame.ts_micros, frame.orig_len, sink)
            .unwrap();
    }
    let mut counted = Vec::with_capacity(kinds.len());
    for &(number, kind) in &kinds {
        let frame = &frames[number - 1];
        let before = allocations();
        analyzer
            .frame(&frame.data, frame.ts_micros, frame.orig_len, sink)
            .unwrap();
        counted.push((kind, allocations() - before));
    }
    let summary = analyzer.finish(false, None, sink).unwrap();
    assert_eq!(
        summary.diagnostics, CONVERSATIONS as u64,
        "only proto_detected notes"
    );
    counted
}

fn per_kind(counted: &[(Kind, u64)], kind: Kind) -> (usize, u64, u64) {
    let of_kind: Vec<u64> = counted
        .iter()
        .filter(|(k, _)| *k == kind)
        .map(|&(_, n)| n)
        .collect();
    let total = of_kind.iter().sum();
    let max = of_kind.iter().copied().max().unwrap_or(0);
    (of_kind.len(), total, max)
}

const MEASURED_MESSAGES: u64 = 2 * CONVERSATIONS as u64 * MEASURED_ROUNDS as u64;
const ALL_MESSAGES: u64 =
    2 * CONVERSATIONS as u64 * (WARMUP_ROUNDS as u64 + MEASURED_ROUNDS as u64);

#[test]
fn steady_state_packets_allocate_nothing_with_a_borrowing_sink() {
    let mut sink = Discard { messages: 0 };
    let counted = run(&mut sink);
    assert_eq!(sink.messages, ALL_MESSAGES);
    let frames_per_kind = CONVERSATIONS * MEASURED_ROUNDS as usize;
    assert_eq!(
        per_kind(&counted, Kind::PureAck),
        (2 * frames_per_kind, 0, 0)
    );
    assert_eq!(
        per_kind(&counted, Kind::DataIncomplete),
        (frames_per_kind, 0, 0)
    );
    assert_eq!(
        per_kind(&counted, Kind::DataCompleting),
        (2 * frames_per_kind, 0, 0)
    );
}

#[test]
fn json_lines_sink_allocates_nothing_per_packet() {
    let mut sink = JsonSink::new(std::io::sink(), false);
    let counted = run(&mut sink);
    for kind in [Kind::PureAck, Kind::DataIncomplete, Kind::DataCompleting] {
        let (frames, total, _) = per_kind(&counted, kind);
        assert!(frames > 0);
        assert_eq!(
            total, 0,
            "{kind:?}: {total} allocations over {frames} frames"
        );
    }
}

/// The sink `labsniff -r FILE --json` uses: the analysing thread copies messages
/// into recycled batches, a writer thread renders them (its allocations are not
/// counted here: the counter is per thread; it renders into buffers it keeps).
#[test]
fn owned_message_events_cost_six_allocations_each() {
    let mut sink = Owned { messages: 0 };
    let counted = run(&mut sink);
    assert_eq!(sink.messages, ALL_MESSAGES);
    assert_eq!(per_kind(&counted, Kind::PureAck).1, 0);
    assert_eq!(per_kind(&counted, Kind::DataIncomplete).1, 0);
    let (frames, total, max) = per_kind(&counted, Kind::DataCompleting);
    assert_eq!(frames as u64, MEASURED_MESSAGES);
    assert_eq!((total, max), (6 * MEASURED_MESSAGES, 6));
}
