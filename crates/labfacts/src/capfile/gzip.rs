//! gzip input: read errors kept as words, so that a cut file still yields the frames
//! before the cut.

use std::io::Read;
use std::sync::{Arc, Mutex};

/// Turns a read error into the end of the stream, keeping its words: pcap-parser maps
/// every read error to one opaque `ReadError` and drops what it had buffered, while a
/// cut gzip file still holds frames before the cut.
pub(super) struct Latch<R> {
    inner: R,
    pub failed: Arc<Mutex<Option<String>>>,
}

impl<R> Latch<R> {
    pub fn new(inner: R) -> Latch<R> {
        Latch {
            inner,
            failed: Arc::default(),
        }
    }
}

impl<R: Read> Read for Latch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.failed.lock().map(|f| f.is_some()).unwrap_or(true) {
            return Ok(0);
        }
        // Interrupted reads are retried by the decoder's callers; a bounded retry here.
        for _ in 0..16 {
            match self.inner.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if let Ok(mut f) = self.failed.lock() {
                        *f = Some(e.to_string());
                    }
                    return Ok(0);
                }
                ok => return ok,
            }
        }
        Ok(0)
    }
}
