//! The bounded queue between the capture thread and the analysis: batches of copied
//! frames (one arena of bytes, one list of items), reused. A fixed number of batches
//! exist, so the queue's memory is bounded and, once they have grown, allocates
//! nothing.

use crate::analyzer::CaptureDrop;
use crate::packet::Micros;
use std::ops::Range;
use std::sync::mpsc::{Receiver, Sender};

/// Frame bytes per batch: 1 MiB holds the largest loopback frame (64 KiB) many times
/// over and ~1,400 frames of the bench load (~720 bytes each).
pub const BATCH_BYTES: usize = 1 << 20;
/// Items per batch: bounds the list when frames are small (a 54-byte ACK-only frame
/// would otherwise let 19,000 items into 1 MiB). 8,192 × 32 bytes = 256 KiB.
pub const BATCH_ITEMS: usize = 8192;
/// Batches in existence: 64 × (1 MiB + 256 KiB) = 80 MiB at most, allocated only as
/// the analysis falls behind (measured peak at the issue-17 load: see the README's
/// live-capture section). Together with the 64 MiB ring they hold a whole bench burst.
/// `LABSNIFF_QUEUE_BATCHES` overrides it (tests that force queue drops use 1).
pub const QUEUE_BATCHES: usize = 64;

/// One thing the capture thread hands over, in capture order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Frame {
        bytes: Range<usize>,
        ts: Micros,
        orig_len: u32,
    },
    /// Frames were dropped before the next frame.
    Dropped(CaptureDrop),
    /// libpcap failed (its message); nothing follows.
    Problem(String),
}

/// Copied frames and what happened between them.
#[derive(Debug, Default)]
pub struct Batch {
    pub data: Vec<u8>,
    pub items: Vec<Item>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            data: Vec::with_capacity(BATCH_BYTES),
            items: Vec::with_capacity(BATCH_ITEMS),
        }
    }

    /// Room for a frame of `len` bytes and one drop note before it.
    pub fn has_room(&self, len: usize) -> bool {
        self.items.len() + 2 <= BATCH_ITEMS && self.data.len() + len <= BATCH_BYTES
    }

    pub fn push_frame(&mut self, data: &[u8], ts: Micros, orig_len: u32) {
        let start = self.data.len();
        // A frame over BATCH_BYTES (a snaplen above 1 MiB) is cut to what fits: the
        // analyzer then sees a truncated frame, as with a small snaplen.
        let take = data.len().min(BATCH_BYTES.saturating_sub(start));
        self.data.extend_from_slice(&data[..take]);
        self.items.push(Item::Frame {
            bytes: start..start + take,
            ts,
            orig_len,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The capture thread's supply of empty batches: returned ones first, new ones while
/// fewer than `max` exist.
#[derive(Debug)]
pub struct Pool {
    free: Receiver<Batch>,
    allocated: usize,
    max: usize,
}

impl Pool {
    /// The pool and the sender the analysis returns batches with.
    pub fn new(max: usize) -> (Pool, Sender<Batch>) {
        let (tx, free) = std::sync::mpsc::channel();
        let pool = Pool {
            free,
            allocated: 0,
            max: max.max(1),
        };
        (pool, tx)
    }

    pub fn take(&mut self) -> Option<Batch> {
        if let Ok(mut b) = self.free.try_recv() {
            b.data.clear();
            b.items.clear();
            return Some(b);
        }
        if self.allocated < self.max {
            self.allocated += 1;
            return Some(Batch::new());
        }
        None
    }

    /// [`Pool::take`], waiting up to `wait` for the analysis to return one.
    pub fn take_waiting(&mut self, wait: std::time::Duration) -> Option<Batch> {
        self.take().or_else(|| {
            let mut b = self.free.recv_timeout(wait).ok()?;
            b.data.clear();
            b.items.clear();
            Some(b)
        })
    }

    /// Batches allocated so far: the queue's peak, since one is only made when none
    /// is free.
    pub fn allocated(&self) -> usize {
        self.allocated
    }
}

/// `LABSNIFF_RING_BYTES` / `LABSNIFF_QUEUE_BATCHES`: sizes for tests that force drops.
pub fn env_size(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.trim().parse().ok()
}
