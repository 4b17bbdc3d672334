//! The events one frame produced, waiting to be handed to the sink in order.
//!
//! Messages are by far the most frequent event, so they are not built as owned
//! [`MessageEvent`](crate::event::MessageEvent)s: their payload bytes and frame
//! numbers go into two arenas that are cleared, not freed, after each frame.
//! Once the arenas have grown to the largest frame's needs, queueing and draining a
//! message allocates nothing. The endpoint names are shared with the conversation
//! (`Arc<str>`), not copied.
//!
//! Most messages do not wait at all: [`Out`] hands a message straight to the sink,
//! borrowed from the framer, when nothing is queued ahead of it (the order stays that
//! of the events), and queues it only behind an event that is waiting.

use crate::event::{Dir, Event, MessageRef, Sink, TransportKind};
use std::ops::Range;
use std::sync::Arc;

/// Who the conversation is, for the events the dissector makes and the queue holds.
#[derive(Debug, Clone)]
pub struct ConvInfo {
    pub conv: u64,
    pub transport: TransportKind,
    /// Shared with every queued message of the conversation (no copy per message).
    pub client: std::sync::Arc<str>,
    pub server: std::sync::Arc<str>,
}

/// A decoded message whose payload is still borrowed from the framer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageView<'a> {
    pub proto: labproto::Proto,
    pub version: Option<u8>,
    pub order: Option<u32>,
    pub size: Option<u32>,
    pub payload: &'a [u8],
    pub truncated: bool,
}

impl<'a> MessageView<'a> {
    /// Decode one whole frame of `proto`, as [`labproto::Message::decode`] does, but
    /// without copying the payload.
    pub fn decode(proto: labproto::Proto, frame: &'a [u8]) -> Result<Self, labproto::Error> {
        use labproto::{v2, v3, Proto};
        Ok(match proto {
            Proto::Text => MessageView {
                proto,
                version: None,
                order: None,
                size: None,
                payload: frame,
                truncated: false,
            },
            Proto::V2 => {
                let r = v2::Repr::parse(frame)?;
                MessageView {
                    proto,
                    version: Some(r.version),
                    order: Some(r.order),
                    size: Some(r.size),
                    payload: r.payload,
                    truncated: r.truncated(),
                }
            }
            Proto::V3 => {
                let r = v3::Repr::parse(frame)?;
                MessageView {
                    proto,
                    version: Some(r.version),
                    order: Some(r.order),
                    size: Some(r.size()),
                    payload: r.payload,
                    truncated: false,
                }
            }
        })
    }
}

/// A queued message: its variable parts are ranges into the queue's arenas.
#[derive(Debug, Clone)]
struct QueuedMessage {
    conv: u64,
    transport: TransportKind,
    proto: labproto::Proto,
    dir: Dir,
    client: Arc<str>,
    server: Arc<str>,
    version: Option<u8>,
    order: Option<u32>,
    size: Option<u32>,
    payload: Range<usize>,
    truncated: bool,
    frames: Range<usize>,
    ts_micros: u64,
    offset: Option<u64>,
}

#[derive(Debug, Clone)]
enum Queued {
    /// Boxed: an event is 216 bytes, a queued message 136, and every message is moved
    /// in and out of the queue (rare events pay the allocation instead).
    Event(Box<Event>),
    Message(QueuedMessage),
}

/// Counts of what [`EventQueue::drain`] handed out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    pub messages: u64,
    pub diagnostics: u64,
}

/// Events in the order they happened; messages stored in reusable arenas.
#[derive(Debug, Default)]
pub struct EventQueue {
    items: Vec<Queued>,
    bytes: Vec<u8>,
    frames: Vec<u64>,
    /// The frame being analysed follows a capture drop (see
    /// `Analyzer::capture_dropped`):
    /// gaps and analysis flags found now carry `capture_dropped_before`.
    capture_dropped: bool,
}

impl EventQueue {
    pub fn new() -> EventQueue {
        EventQueue::default()
    }

    pub fn push(&mut self, event: Event) {
        self.items.push(Queued::Event(Box::new(event)));
    }

    /// Set by the analyzer before each frame.
    pub fn set_capture_dropped(&mut self, yes: bool) {
        self.capture_dropped = yes;
    }

    /// Whether the frame being analysed follows a capture drop.
    pub fn capture_dropped(&self) -> bool {
        self.capture_dropped
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Queue one message of conversation `info`; `frames` need not be sorted.
    pub fn message(
        &mut self,
        info: &ConvInfo,
        dir: Dir,
        view: &MessageView<'_>,
        frames: impl IntoIterator<Item = u64>,
        ts_micros: u64,
        offset: Option<u64>,
    ) {
        let payload = self.copy(view.payload);
        let start = self.frames.len();
        let kept = push_sorted_unique(&mut self.frames, frames);
        self.items.push(Queued::Message(QueuedMessage {
            conv: info.conv,
            transport: info.transport,
            proto: view.proto,
            dir,
            client: Arc::clone(&info.client),
            server: Arc::clone(&info.server),
            version: view.version,
            order: view.order,
            size: view.size,
            payload,
            truncated: view.truncated,
            frames: start..start + kept,
            ts_micros,
            offset,
        }));
    }

    fn copy(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        start..self.bytes.len()
    }

    /// Hand every queued event to `sink`, in order, and empty the queue (keeping its
    /// capacity). Stops at the first error from the sink.
    pub fn drain<S: Sink + ?Sized>(&mut self, sink: &mut S) -> std::io::Result<Drained> {
        let mut counts = Drained::default();
        let result = self.drain_inner(sink, &mut counts);
        self.items.clear();
        self.bytes.clear();
        self.frames.clear();
        result.map(|()| counts)
    }

    fn drain_inner<S: Sink + ?Sized>(
        &mut self,
        sink: &mut S,
        counts: &mut Drained,
    ) -> std::io::Result<()> {
        for item in self.items.drain(..) {
            match item {
                Queued::Event(event) => {
                    match &*event {
                        Event::Message(_) => counts.messages += 1,
                        Event::Diagnostic(_) => counts.diagnostics += 1,
                        _ => {}
                    }
                    sink.emit(*event)?;
                }
                Queued::Message(m) => {
                    counts.messages += 1;
                    sink.message(&MessageRef {
                        conv: m.conv,
                        transport: m.transport,
                        proto: m.proto,
                        dir: m.dir,
                        client: &m.client,
                        server: &m.server,
                        version: m.version,
                        order: m.order,
                        size: m.size,
                        payload: &self.bytes[m.payload],
                        truncated: m.truncated,
                        frames: &self.frames[m.frames],
                        ts_micros: m.ts_micros,
                        offset: m.offset,
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// Append `frames` to `arena`, sorted and without repeats among themselves (the
/// arena's earlier numbers are left alone); returns how many were kept.
fn push_sorted_unique(arena: &mut Vec<u64>, frames: impl IntoIterator<Item = u64>) -> usize {
    let start = arena.len();
    arena.extend(frames);
    let mine = &mut arena[start..];
    mine.sort_unstable();
    let mut kept = 0;
    for i in 0..mine.len() {
        if kept == 0 || mine[i] != mine[kept - 1] {
            mine[kept] = mine[i];
            kept += 1;
        }
    }
    arena.truncate(start + kept);
    kept
}

/// Where the analysis puts the events of one frame: straight into the sink while
/// nothing waits in the queue, else behind what waits.
///
/// A message is the only event delivered directly (the others are rare): it is
/// handed to the sink borrowed, with no copy of its payload, its frame numbers or its
/// endpoint names. The first error from the sink is kept, later messages are queued
/// (the run stops at that error anyway), and [`Out::done`] returns it.
pub struct Out<'a> {
    queue: &'a mut EventQueue,
    sink: Option<&'a mut dyn Sink>,
    error: Option<std::io::Error>,
    /// Messages handed to the sink directly.
    direct: u64,
}

impl std::fmt::Debug for Out<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Out")
            .field("queue", &self.queue)
            .field("sink", &self.sink.is_some())
            .field("error", &self.error)
            .field("direct", &self.direct)
            .finish()
    }
}

impl<'a> Out<'a> {
    /// Events for `queue`, messages straight to `sink` while `queue` is empty.
    pub fn new(queue: &'a mut EventQueue, sink: &'a mut dyn Sink) -> Out<'a> {
        Out {
            queue,
            sink: Some(sink),
            error: None,
            direct: 0,
        }
    }

    /// Everything into `queue` (no sink at hand).
    pub fn queued(queue: &'a mut EventQueue) -> Out<'a> {
        Out {
            queue,
            sink: None,
            error: None,
            direct: 0,
        }
    }

    pub fn push(&mut self, event: Event) {
        self.queue.push(event);
    }

    /// Whether the frame being analysed follows a capture drop.
    pub fn capture_dropped(&self) -> bool {
        self.queue.capture_dropped()
    }

    /// One message of conversation `info`; `frames` need not be sorted.
    pub fn message(
        &mut self,
        info: &ConvInfo,
        dir: Dir,
        view: &MessageView<'_>,
        frames: impl IntoIterator<Item = u64>,
        ts_micros: u64,
        offset: Option<u64>,
    ) {
        match self.sink.as_mut() {
            Some(sink) if self.queue.is_empty() && self.error.is_none() => {
                // Most messages came in one frame: that one needs no sorting. Others
                // are sorted in the queue's frame arena, empty with the queue, which
                // keeps its capacity: that allocates nothing.
                let mut frames = frames.into_iter();
                let one;
                let numbers: &[u64] = match (frames.next(), frames.next()) {
                    (Some(f), None) => {
                        one = [f];
                        &one
                    }
                    (first, second) => {
                        let all = first.into_iter().chain(second).chain(frames);
                        push_sorted_unique(&mut self.queue.frames, all);
                        &self.queue.frames
                    }
                };
                let message = MessageRef {
                    conv: info.conv,
                    transport: info.transport,
                    proto: view.proto,
                    dir,
                    client: &info.client,
                    server: &info.server,
                    version: view.version,
                    order: view.order,
                    size: view.size,
                    payload: view.payload,
                    truncated: view.truncated,
                    frames: numbers,
                    ts_micros,
                    offset,
                };
                self.direct += 1;
                if let Err(e) = sink.message(&message) {
                    self.error = Some(e);
                }
                self.queue.frames.clear();
            }
            _ => self
                .queue
                .message(info, dir, view, frames, ts_micros, offset),
        }
    }

    /// Messages handed to the sink directly, or the sink's first error.
    pub fn done(self) -> std::io::Result<u64> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.direct),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Diagnostic, DiagnosticKind, Severity};

    fn info() -> ConvInfo {
        ConvInfo {
            conv: 7,
            transport: TransportKind::Tcp,
            client: Arc::from("10.0.0.2:40000"),
            server: Arc::from("10.0.0.1:5005"),
        }
    }

    fn view(payload: &[u8]) -> MessageView<'_> {
        MessageView {
            proto: labproto::Proto::Text,
            version: None,
            order: None,
            size: None,
            payload,
            truncated: false,
        }
    }

    fn note(frame: u64) -> Event {
        Event::Diagnostic(Diagnostic {
            severity: Severity::Note,
            frame: Some(frame),
            conv: None,
            kind: DiagnosticKind::EmptyCapture,
        })
    }

    /// What the sink saw, in order: "m:PAYLOAD:FRAMES" or "d:FRAME".
    fn seen(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                Event::Message(m) => format!("m:{}:{:?}", m.payload, m.frames),
                Event::Diagnostic(d) => format!("d:{}", d.frame.unwrap_or(0)),
                _ => "other".to_string(),
            })
            .collect()
    }

    /// Messages go straight to the sink until an event waits; after it they queue,
    /// and draining keeps the order in which they were produced. Frames come sorted
    /// and without repeats either way.
    #[test]
    fn direct_until_an_event_waits_then_in_order() {
        let mut queue = EventQueue::new();
        let mut sink: Vec<Event> = Vec::new();
        let info = info();
        let mut out = Out::new(&mut queue, &mut sink);
        out.message(&info, Dir::ClientToServer, &view(b"a"), [3, 1, 3], 1, None);
        out.push(note(4));
        out.message(&info, Dir::ServerToClient, &view(b"b"), [5, 4], 2, None);
        assert_eq!(out.done().unwrap(), 1);
        assert_eq!(seen(&sink), ["m:a:[1, 3]"]);
        let drained = queue.drain(&mut sink).unwrap();
        assert_eq!(
            drained,
            Drained {
                messages: 1,
                diagnostics: 1
            }
        );
        assert_eq!(seen(&sink), ["m:a:[1, 3]", "d:4", "m:b:[4, 5]"]);
        // Empty again: the next frame's message is direct.
        let mut out = Out::new(&mut queue, &mut sink);
        out.message(&info, Dir::ClientToServer, &view(b"c"), [6], 3, None);
        assert_eq!(out.done().unwrap(), 1);
        assert!(queue.is_empty());
        assert_eq!(seen(&sink).last().map(String::as_str), Some("m:c:[6]"));
    }

    /// A failing sink: its error comes back from `done`, later messages are queued.
    #[test]
    fn the_sinks_first_error_is_kept() {
        struct Failing;
        impl Sink for Failing {
            fn emit(&mut self, _: Event) -> std::io::Result<()> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
        }
        let mut queue = EventQueue::new();
        let mut sink = Failing;
        let info = info();
        let mut out = Out::new(&mut queue, &mut sink);
        out.message(&info, Dir::ClientToServer, &view(b"a"), [1], 1, None);
        out.message(&info, Dir::ClientToServer, &view(b"b"), [2], 2, None);
        let err = out.done().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
        assert_eq!(queue.len(), 1);
    }

    /// Without a sink everything waits in the queue.
    #[test]
    fn queued_out_queues_everything() {
        let mut queue = EventQueue::new();
        let info = info();
        let mut out = Out::queued(&mut queue);
        out.message(&info, Dir::ClientToServer, &view(b"a"), [2, 1], 1, None);
        assert_eq!(out.done().unwrap(), 0);
        let mut sink: Vec<Event> = Vec::new();
        queue.drain(&mut sink).unwrap();
        assert_eq!(seen(&sink), ["m:a:[1, 2]"]);
    }
}
