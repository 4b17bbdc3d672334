//! JSON lines written by a second thread, for reading capture files.
//!
//! The lines are rendered on the analysing thread, straight from the borrowed
//! message into a block of text (with [`write_message_with`], the code
//! [`JsonSink`](super::json::JsonSink) uses, so the bytes are the same); a writer
//! thread only hands full blocks to the output. Writing 2 M lines into a pipe is
//! about a fifth of the run's CPU, in the kernel's copy: on its own thread it
//! overlaps with reading and analysing.
//!
//! Until 2026-12-01 the writer thread rendered too, from a copy of each message's
//! fields: that copy (and moving it between cores) cost more CPU than the overlap
//! saved wall time (perf on the 2.3 M-packet bench capture: the copy, the batch
//! hand-over and re-validating the copied names were 12% of the run).
//!
//! Allocation: a few blocks circulate between the threads through bounded channels
//! and keep their capacity, so a line costs no allocation on either thread.
//!
//! Not for live captures, where each line must appear when its packet does: use
//! `JsonSink` with `flush_each` there.

use super::json::{write_message_with, Prefixes};
use crate::event::{Event, MessageRef, Sink};
use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// A block goes to the writer once it holds this much text: large enough that the
/// hand-over is rare (once per ~700 lines), small enough to stay in cache.
const BLOCK: usize = 256 * 1024;
/// Blocks in circulation: one being filled, one being written, one spare.
const BLOCKS: usize = 3;

/// A [`Sink`] that writes JSON lines to `W` from a writer thread.
#[derive(Debug)]
pub struct PipedJsonSink {
    block: Vec<u8>,
    prefixes: Prefixes,
    full: Option<SyncSender<Vec<u8>>>,
    empty: Receiver<Vec<u8>>,
    writer: Option<JoinHandle<std::io::Result<()>>>,
}

impl PipedJsonSink {
    /// Start the writer thread; it owns `out` and flushes it at the end.
    pub fn new<W: Write + Send + 'static>(out: W) -> std::io::Result<PipedJsonSink> {
        let (full_tx, full_rx) = sync_channel::<Vec<u8>>(BLOCKS);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(BLOCKS);
        for _ in 1..BLOCKS {
            // Cannot fail: the receiver is alive and the channel has room.
            let _ = empty_tx.send(new_block());
        }
        let writer = std::thread::Builder::new()
            .name("json-writer".into())
            .spawn(move || write_blocks(out, &full_rx, &empty_tx))?;
        Ok(PipedJsonSink {
            block: new_block(),
            prefixes: Prefixes::default(),
            full: Some(full_tx),
            empty: empty_rx,
            writer: Some(writer),
        })
    }

    /// One line has been rendered into the block: ship the block when it is full.
    fn line_done(&mut self) -> std::io::Result<()> {
        self.block.push(b'\n');
        if self.block.len() >= BLOCK {
            self.ship()?;
        }
        Ok(())
    }

    /// Hand the block to the writer and take an empty one back.
    fn ship(&mut self) -> std::io::Result<()> {
        let Some(full) = self.full.as_ref() else {
            return Ok(());
        };
        let next = match self.empty.recv() {
            Ok(block) => block,
            // The writer stopped (a write failed): its result says why.
            Err(_) => return self.finish(),
        };
        let block = std::mem::replace(&mut self.block, next);
        if full.send(block).is_err() {
            return self.finish();
        }
        Ok(())
    }

    /// Send what is left, stop the writer and return how the writing went.
    fn finish(&mut self) -> std::io::Result<()> {
        if let Some(full) = self.full.take() {
            let last = std::mem::take(&mut self.block);
            if !last.is_empty() {
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

fn new_block() -> Vec<u8> {
    // Room for the longest line past the limit: a line is written whole, then shipped.
    Vec::with_capacity(BLOCK + 64 * 1024)
}

/// The writer thread: write each block, return it empty, flush at the end.
fn write_blocks<W: Write>(
    mut out: W,
    full: &Receiver<Vec<u8>>,
    empty: &SyncSender<Vec<u8>>,
) -> std::io::Result<()> {
    while let Ok(mut block) = full.recv() {
        out.write_all(&block)?;
        block.clear();
        // The sink may already be gone (finishing): then the block is just dropped.
        let _ = empty.send(block);
    }
    out.flush()
}

impl Sink for PipedJsonSink {
    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        let last = matches!(event, Event::Summary(_));
        if self.full.is_none() {
            // Finished (the summary went out, or the writer failed): nothing more.
            return Ok(());
        }
        serde_json::to_writer(&mut self.block, &event)?;
        if last {
            self.block.push(b'\n');
            // The summary is the last event: everything must be out when it returns.
            return self.finish();
        }
        self.line_done()
    }

    fn message(&mut self, message: &MessageRef<'_>) -> std::io::Result<()> {
        if self.full.is_none() {
            return Ok(());
        }
        write_message_with(&mut self.block, message, &mut self.prefixes)?;
        self.line_done()
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
    use crate::event::{Diagnostic, Dir, Severity, Summary, TransportKind};
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
            for (i, (event, payload)) in events(3 * 2048 + 5).iter().enumerate() {
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
            3 * 2048 + 6
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
        for i in 0..10 * 2048 {
            result = piped.message(&message(i, &payload));
            if result.is_err() {
                break;
            }
        }
        let result = result.and_then(|()| piped.emit(summary()));
        assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
    }
}
