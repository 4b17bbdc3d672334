//! The events one frame produced, waiting to be handed to the sink in order.
//!
//! Messages are by far the most frequent event, so they are not built as owned
//! [`MessageEvent`](crate::event::MessageEvent)s: their payload bytes and frame
//! numbers go into two arenas that are cleared, not freed, after each frame.
//! Once the arenas have grown to the largest frame's needs, queueing and draining a
//! message allocates nothing. The endpoint names are shared with the conversation
//! (`Arc<str>`), not copied.

use crate::dissect::ConvInfo;
use crate::event::{Dir, Event, MessageRef, Sink, TransportKind};
use std::ops::Range;
use std::sync::Arc;

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
    proto: &'static str,
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
    /// [`Analyzer::capture_dropped`](crate::analyzer::Analyzer::capture_dropped)):
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
        self.frames.extend(frames);
        let mine = &mut self.frames[start..];
        mine.sort_unstable();
        let mut kept = 0;
        for i in 0..mine.len() {
            if kept == 0 || mine[i] != mine[kept - 1] {
                mine[kept] = mine[i];
                kept += 1;
            }
        }
        self.frames.truncate(start + kept);
        self.items.push(Queued::Message(QueuedMessage {
            conv: info.conv,
            transport: info.transport,
            proto: view.proto.as_str(),
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
