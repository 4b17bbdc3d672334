//! JSON lines rendered on a second thread, for reading capture files.
//!
//! Rendering the JSON text is about half of `labsniff -r FILE --json` (perf, 2.3 M
//! packets, 2 M message lines): done here on its own thread, it overlaps with
//! reading and analysing, so the run takes about as long as the slower of the two
//! halves instead of their sum. The analysing thread only copies each message's
//! fields into a batch; a writer thread renders batches with the same code as
//! [`JsonSink`](super::json::JsonSink), so the bytes are the same.
//!
//! Allocation: three batches circulate between the threads through bounded
//! channels and keep their capacity, so once they have grown to their working size
//! a message costs no allocation on either thread.
//!
//! Not for live captures, where each line must appear when its packet does: use
//! `JsonSink` with `flush_each` there.

use super::json::write_message;
use crate::event::{Dir, Event, MessageRef, Sink, TransportKind};
use std::io::Write;
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Events per batch: large enough that the channel hand-over is rare, small enough
/// that the batches stay in cache.
const BATCH_ITEMS: usize = 2048;
/// Arena bytes a batch starts with: endpoint names and a lab-sized payload per
/// message fit without growing.
const BATCH_BYTES: usize = BATCH_ITEMS * 160;
/// Batches in circulation: one being filled, one being written, one spare.
const BATCHES: usize = 3;
/// The writer hands text to the output in blocks of about this size.
const BLOCK: usize = 64 * 1024;

/// One message's fields; the variable parts are ranges into the batch's arenas.
#[derive(Debug, Clone)]
struct CopiedMessage {
    conv: u64,
    transport: TransportKind,
    proto: &'static str,
    dir: Dir,
    client: Range<usize>,
    server: Range<usize>,
    version: Option<u8>,
    order: Option<u32>,
    size: Option<u32>,
    payload: Range<usize>,
    truncated: bool,
    frames: Range<usize>,
    ts_micros: u64,
    offset: Option<u64>,
}

#[derive(Debug)]
enum Item {
    Message(CopiedMessage),
    Event(Event),
}

/// Events in order; message bytes and frame numbers in arenas.
#[derive(Debug, Default)]
struct Batch {
    items: Vec<Item>,
    /// Endpoint names (UTF-8) and payloads.
    bytes: Vec<u8>,
    frames: Vec<u64>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            items: Vec::with_capacity(BATCH_ITEMS),
            bytes: Vec::with_capacity(BATCH_BYTES),
            frames: Vec::with_capacity(2 * BATCH_ITEMS),
        }
    }

    fn clear(&mut self) {
        self.items.clear();
        self.bytes.clear();
        self.frames.clear();
    }

    fn copy(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        start..self.bytes.len()
    }

    fn add_message(&mut self, m: &MessageRef<'_>) {
        let client = self.copy(m.client.as_bytes());
        let server = self.copy(m.server.as_bytes());
        let payload = self.copy(m.payload);
        let start = self.frames.len();
        self.frames.extend_from_slice(m.frames);
        self.items.push(Item::Message(CopiedMessage {
            conv: m.conv,
            transport: m.transport,
            proto: m.proto,
            dir: m.dir,
            client,
            server,
            version: m.version,
            order: m.order,
            size: m.size,
            payload,
            truncated: m.truncated,
            frames: start..self.frames.len(),
            ts_micros: m.ts_micros,
            offset: m.offset,
        }));
    }

    /// Render every item as JSON lines into `out`, handing full blocks to `writer`.
    fn render<W: Write>(&self, out: &mut Vec<u8>, writer: &mut W) -> std::io::Result<()> {
        for item in &self.items {
            match item {
                Item::Message(m) => {
                    let text = |r: &Range<usize>| {
                        // Copied from `&str`s whole, so always UTF-8.
                        std::str::from_utf8(&self.bytes[r.clone()]).unwrap_or_default()
                    };
                    write_message(
                        out,
                        &MessageRef {
                            conv: m.conv,
                            transport: m.transport,
                            proto: m.proto,
                            dir: m.dir,
                            client: text(&m.client),
                            server: text(&m.server),
                            version: m.version,
                            order: m.order,
                            size: m.size,
                            payload: &self.bytes[m.payload.clone()],
                            truncated: m.truncated,
                            frames: &self.frames[m.frames.clone()],
                            ts_micros: m.ts_micros,
                            offset: m.offset,
                        },
                    )?;
                }
                Item::Event(event) => serde_json::to_writer(&mut *out, event)?,
            }
            out.push(b'\n');
            if out.len() >= BLOCK {
                writer.write_all(out)?;
                out.clear();
            }
        }
        Ok(())
    }
}

/// A [`Sink`] that writes JSON lines to `W` from a writer thread.
#[derive(Debug)]
pub struct PipedJsonSink {
    batch: Batch,
    full: Option<SyncSender<Batch>>,
    empty: Receiver<Batch>,
    writer: Option<JoinHandle<std::io::Result<()>>>,
}

impl PipedJsonSink {
    /// Start the writer thread; it owns `out` and flushes it at the end.
    pub fn new<W: Write + Send + 'static>(out: W) -> std::io::Result<PipedJsonSink> {
        let (full_tx, full_rx) = sync_channel::<Batch>(BATCHES);
        let (empty_tx, empty_rx) = sync_channel::<Batch>(BATCHES);
        for _ in 1..BATCHES {
            // Cannot fail: the receiver is alive and the channel has room.
            let _ = empty_tx.send(Batch::new());
        }
        let writer = std::thread::Builder::new()
            .name("json-writer".into())
            .spawn(move || write_batches(out, &full_rx, &empty_tx))?;
        Ok(PipedJsonSink {
            batch: Batch::new(),
            full: Some(full_tx),
            empty: empty_rx,
            writer: Some(writer),
        })
    }

    /// Hand the batch to the writer and take an empty one back.
    fn ship(&mut self) -> std::io::Result<()> {
        let Some(full) = self.full.as_ref() else {
            return Ok(());
        };
        let next = match self.empty.recv() {
            Ok(batch) => batch,
            // The writer stopped (a write failed): its result says why.
            Err(_) => return self.finish(),
        };
        let batch = std::mem::replace(&mut self.batch, next);
        if full.send(batch).is_err() {
            return self.finish();
        }
        Ok(())
    }

    /// Send what is left, stop the writer and return how the writing went.
    fn finish(&mut self) -> std::io::Result<()> {
        if let Some(full) = self.full.take() {
            let last = std::mem::take(&mut self.batch);
            if !last.items.is_empty() {
                let _ = full.send(last);
            }
        }
        match self.writer.take() {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the JSON writer thread panicked"))),
            None => Ok(()),
        }
    }
}

/// The writer thread: render each batch, return it empty, flush at the end.
fn write_batches<W: Write>(
    mut out: W,
    full: &Receiver<Batch>,
    empty: &SyncSender<Batch>,
) -> std::io::Result<()> {
    let mut text = Vec::with_capacity(BLOCK + 4096);
    while let Ok(mut batch) = full.recv() {
        batch.render(&mut text, &mut out)?;
        batch.clear();
        // The sink may already be gone (finishing): then the batch is just dropped.
        let _ = empty.send(batch);
    }
    out.write_all(&text)?;
    out.flush()
}

impl Sink for PipedJsonSink {
    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        let last = matches!(event, Event::Summary(_));
        self.batch.items.push(Item::Event(event));
        if last {
            // The summary is the last event: everything must be out when it returns.
            return self.finish();
        }
        if self.batch.items.len() >= BATCH_ITEMS {
            self.ship()?;
        }
        Ok(())
    }

    fn message(&mut self, message: &MessageRef<'_>) -> std::io::Result<()> {
        self.batch.add_message(message);
        if self.batch.items.len() >= BATCH_ITEMS {
            self.ship()?;
        }
        Ok(())
    }
}

impl Drop for PipedJsonSink {
    /// As `BufWriter`: what was emitted goes out even when the run stopped early (an
    /// error here has nowhere to go).
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Diagnostic, Severity, Summary};
    use std::sync::{Arc, Mutex};

    /// A writer the test can read after the sink is done with it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn events(n: u64) -> Vec<(Option<Event>, Vec<u8>)> {
        (0..n)
            .map(|i| {
                if i % 1000 == 999 {
                    let d = Event::Diagnostic(Diagnostic {
                        severity: Severity::Note,
                        code: "test",
                        frame: Some(i),
                        conv: None,
                        text: format!("note {i}"),
                    });
                    (Some(d), Vec::new())
                } else {
                    (None, format!("payload {i} \"quoted\"\n").into_bytes())
                }
            })
            .collect()
    }

    fn message(i: u64, payload: &[u8]) -> MessageRef<'_> {
        MessageRef {
            conv: i % 7,
            transport: TransportKind::Tcp,
            proto: "v3",
            dir: Dir::ClientToServer,
            client: "10.0.0.2:40000",
            server: "10.0.0.1:5005",
            version: Some(1),
            order: Some(i as u32),
            size: Some(payload.len() as u32),
            payload,
            truncated: false,
            frames: &[3, 4],
            ts_micros: 1_700_000_000_000_000 + i,
            offset: Some(i * 10),
        }
    }

    fn summary() -> Event {
        Event::Summary(Summary {
            frames: 1,
            lab_packets: 1,
            conversations: 1,
            messages: 1,
            diagnostics: 1,
            interrupted: false,
            dropped: None,
            queue_dropped: None,
            link_type: Some("ethernet"),
            lab_port: 5005,
            other_ports: Vec::new(),
            port_choice: crate::port_choice::PortChoice::plain(crate::port_choice::How::Default),
        })
    }

    /// Same lines, in the same order, as the single-threaded sink, across batches.
    #[test]
    fn same_output_as_the_single_threaded_sink() {
        let shared = Shared::default();
        let mut piped = PipedJsonSink::new(shared.clone()).unwrap();
        let mut direct = Vec::new();
        {
            let mut plain = crate::output::json::JsonSink::new(&mut direct, false);
            for (i, (event, payload)) in events(3 * BATCH_ITEMS as u64 + 5).iter().enumerate() {
                match event {
                    Some(e) => {
                        piped.emit(e.clone()).unwrap();
                        plain.emit(e.clone()).unwrap();
                    }
                    None => {
                        let m = message(i as u64, payload);
                        piped.message(&m).unwrap();
                        plain.message(&m).unwrap();
                    }
                }
            }
            piped.emit(summary()).unwrap();
            plain.emit(summary()).unwrap();
        }
        let written = shared.0.lock().unwrap().clone();
        assert_eq!(
            written.iter().filter(|&&b| b == b'\n').count(),
            3 * BATCH_ITEMS + 6
        );
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(direct).unwrap()
        );
    }

    /// Lines emitted before the run stopped without a summary still go out.
    #[test]
    fn dropping_the_sink_writes_what_was_emitted() {
        let shared = Shared::default();
        {
            let mut piped = PipedJsonSink::new(shared.clone()).unwrap();
            piped.message(&message(1, b"x")).unwrap();
        }
        let written = String::from_utf8(shared.0.lock().unwrap().clone()).unwrap();
        assert!(
            written.starts_with("{\"type\":\"message\",\"conv\":1,"),
            "{written}"
        );
        assert_eq!(written.lines().count(), 1);
    }

    /// A failing output (a closed pipe) comes back as the error of a later call.
    #[test]
    fn write_errors_come_back() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut piped = PipedJsonSink::new(Closed).unwrap();
        let payload = vec![b'a'; 100];
        let mut result = Ok(());
        for i in 0..10 * BATCH_ITEMS as u64 {
            result = piped.message(&message(i, &payload));
            if result.is_err() {
                break;
            }
        }
        let result = result.and_then(|()| piped.emit(summary()));
        assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
    }
}
