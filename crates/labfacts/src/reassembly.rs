//! Per-direction TCP reassembly: turns segments in capture order into the in-order byte
//! stream, each byte exactly once. Pure: no I/O, no knowledge of flags or ports.
//!
//! - Stream offsets are u64 counted from the first data byte (ISN + 1); sequence numbers
//!   are unwrapped relative to the next expected byte, so ISN wrap is invisible.
//! - Overlaps: the first copy of a byte that arrives wins (later retransmissions with
//!   different content are ignored), as in the model the tests compare against.
//! - Out-of-order bytes wait in a buffer capped at `cap` bytes.
//!
//! ## When bytes are declared missing (a capture gap)
//! The reassembler never guesses: a hole is given up only when something proves the
//! bytes will not show up in the capture any more:
//! - [`GapReason::Acked`]: the peer acknowledged bytes the capture never showed (the
//!   receiver got them, so the sender will not retransmit them). An ACK is often
//!   captured a moment *before* the data it acknowledges (capture order across CPUs,
//!   loopback, a capture point between the hosts), so [`Reassembler::acked`] only
//!   records how far the peer acknowledged; the bytes still missing below that point
//!   are declared a gap by [`Reassembler::declare_acked`], which the caller invokes
//!   once the data can no longer arrive (the caller's window: see
//!   `conversation::ACK_GAP_FRAMES`). Bytes that arrive before then are delivered.
//! - [`GapReason::Overflow`]: the out-of-order buffer went over its cap;
//! - [`GapReason::Truncated`]: the capture cut the segment that carried them (snaplen);
//! - [`GapReason::Flush`]: the conversation ended (both FINs acknowledged, a RST) or the
//!   input ended. A FIN alone does not declare a gap, since a retransmission of the
//!   missing segment may still follow it.

use std::collections::BTreeMap;

/// Why bytes were declared missing (JSON: `acked`, `overflow`, `truncated`, `flush`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GapReason {
    Acked,
    Overflow,
    Truncated,
    Flush,
}

/// What the reassembler hands out, strictly in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a, T> {
    /// In-order bytes starting at stream offset `offset`, carried by the segment `tag`.
    Data {
        offset: u64,
        bytes: &'a [u8],
        tag: T,
    },
    /// `len` bytes at `offset` that will never be delivered.
    Gap {
        offset: u64,
        len: u64,
        reason: GapReason,
    },
}

/// How a segment related to the stream so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    /// No payload.
    Empty,
    /// Starts at the next expected byte (or overlaps it) and brings new bytes only.
    InOrder,
    /// Starts beyond the next expected byte: buffered.
    OutOfOrder,
    /// Carries bytes seen before (all or some of them).
    Retransmission,
}

/// The result of [`Reassembler::insert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inserted {
    pub kind: SegmentKind,
    /// Bytes never seen before.
    pub new_bytes: usize,
}

/// A reassembler for one direction of one TCP conversation.
#[derive(Debug, Clone)]
pub struct Reassembler<T> {
    /// Sequence number of stream offset 0.
    seq0: u32,
    /// Stream offset of the next byte to deliver.
    next: u64,
    /// Out-of-order bytes and cut ranges, once the stream has had any.
    held: Option<Box<Held<T>>>,
    /// The highest stream offset the peer acknowledged, while it is beyond `next`:
    /// bytes below it that the capture has not shown yet (maybe still to come).
    acked_to: Option<u64>,
    cap: usize,
}

/// What a stream seldom has: out-of-order bytes, and ranges the capture cut. Boxed and
/// made only when first needed, so that a reassembler is 48 bytes, not 96: the two of
/// every open conversation are read for each of its segments (in order, and these
/// empty, in all but a few), and with thousands of conversations each read misses
/// the cache.
#[derive(Debug, Clone)]
struct Held<T> {
    /// Out-of-order bytes by stream offset; entries never overlap and all start past `next`.
    buffered: BTreeMap<u64, (Vec<u8>, T)>,
    buffered_bytes: usize,
    /// Ranges (start -> end) the capture is known to have cut off.
    lost: BTreeMap<u64, u64>,
}

impl<T> Default for Held<T> {
    fn default() -> Self {
        Held {
            buffered: BTreeMap::new(),
            buffered_bytes: 0,
            lost: BTreeMap::new(),
        }
    }
}

/// Sequence distances beyond this are treated as nonsense rather than as data.
const MAX_JUMP: u64 = 1 << 30;

impl<T: Copy> Reassembler<T> {
    /// `first_seq`: the sequence number of the first data byte (ISN + 1 after a SYN).
    /// `cap`: the most out-of-order bytes to hold.
    pub fn new(first_seq: u32, cap: usize) -> Reassembler<T> {
        Reassembler {
            seq0: first_seq,
            next: 0,
            held: None,
            acked_to: None,
            cap,
        }
    }

    /// Bytes acknowledged by the peer but not yet seen in the capture (they may still
    /// arrive: see [`Reassembler::declare_acked`]).
    pub fn acked_unseen(&self) -> u64 {
        self.acked_to.map_or(0, |to| to.saturating_sub(self.next))
    }

    /// Stream offset of the next byte to deliver.
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// Sequence number of stream offset 0.
    pub fn first_seq(&self) -> u32 {
        self.seq0
    }

    /// Out-of-order bytes waiting.
    pub fn buffered_bytes(&self) -> usize {
        self.held.as_ref().map_or(0, |h| h.buffered_bytes)
    }

    fn held_mut(&mut self) -> &mut Held<T> {
        self.held.get_or_insert_with(Box::default)
    }

    /// Stream offset of the first out-of-order segment waiting.
    fn first_buffered(&self) -> Option<u64> {
        self.held
            .as_ref()
            .and_then(|h| h.buffered.keys().next().copied())
    }

    /// The stream offset of `seq`, unwrapped around the next expected byte (may be negative).
    pub fn offset_of(&self, seq: u32) -> i64 {
        let rel = seq.wrapping_sub(self.seq0);
        let delta = rel.wrapping_sub(self.next as u32) as i32;
        self.next as i64 + i64::from(delta)
    }

    /// Add a segment: `data` captured at `seq`, of which the wire carried `wire_len`
    /// bytes (more than `data.len()` when the capture cut it). Delivers in-order bytes
    /// and gaps to `out`.
    pub fn insert<F: FnMut(Piece<'_, T>)>(
        &mut self,
        seq: u32,
        data: &[u8],
        wire_len: usize,
        tag: T,
        out: &mut F,
    ) -> Inserted {
        let start = self.offset_of(seq);
        let end = start + data.len() as i64;
        let wire_end = start + wire_len.max(data.len()) as i64;
        if wire_end > end
            && wire_end > self.next as i64
            && start - (self.next as i64) <= MAX_JUMP as i64
        {
            let lost_start = end.max(self.next as i64) as u64;
            let lost_end = wire_end as u64;
            let entry = self.held_mut().lost.entry(lost_start).or_insert(lost_end);
            *entry = (*entry).max(lost_end);
        }
        if data.is_empty() {
            self.drain(out);
            return Inserted {
                kind: SegmentKind::Empty,
                new_bytes: 0,
            };
        }
        if end <= self.next as i64 || start - self.next as i64 > MAX_JUMP as i64 {
            self.drain(out);
            return Inserted {
                kind: SegmentKind::Retransmission,
                new_bytes: 0,
            };
        }
        let next = self.next;
        let skip = (next as i64 - start).max(0) as usize;
        let new_start = start.max(next as i64) as u64;
        let fresh = &data[skip..];
        let nothing_held = self
            .held
            .as_ref()
            .is_none_or(|h| h.buffered.is_empty() && h.lost.is_empty());
        let new_bytes = if new_start == next && nothing_held {
            // Fast path: the usual in-order segment, delivered straight from the frame.
            self.next += fresh.len() as u64;
            self.forget_reached_ack();
            out(Piece::Data {
                offset: new_start,
                bytes: fresh,
                tag,
            });
            fresh.len()
        } else {
            let n = self.store(new_start, fresh, tag);
            self.drain(out);
            n
        };
        let kind = if skip > 0 || new_bytes < fresh.len() {
            SegmentKind::Retransmission
        } else if new_start > next {
            SegmentKind::OutOfOrder
        } else {
            SegmentKind::InOrder
        };
        while self.buffered_bytes() > self.cap {
            self.give_up_first_hole(GapReason::Overflow, out);
        }
        Inserted { kind, new_bytes }
    }

    /// The peer acknowledged everything before `ack_seq`. Nothing is declared missing
    /// yet (the data may have been captured after its ACK); returns true when bytes
    /// below `ack_seq` are still unseen, so that the caller starts its window.
    pub fn acked(&mut self, ack_seq: u32) -> bool {
        let target = self.offset_of(ack_seq);
        if target <= self.next as i64 || (target - self.next as i64) as u64 > MAX_JUMP {
            return false;
        }
        let target = target as u64;
        self.acked_to = Some(self.acked_to.map_or(target, |t| t.max(target)));
        true
    }

    /// Give up the bytes the peer acknowledged that the capture still has not shown:
    /// declare them a gap ([`GapReason::Acked`]) and deliver what was buffered behind
    /// them. Returns the gap bytes declared.
    pub fn declare_acked<F: FnMut(Piece<'_, T>)>(&mut self, out: &mut F) -> u64 {
        match self.acked_to.take() {
            Some(target) if target > self.next => self.skip_to(target, GapReason::Acked, out),
            _ => 0,
        }
    }

    /// Deliver everything buffered, declaring every hole a gap. `end_seq`: where the
    /// stream is known to end (the FIN's sequence number), if known. Returns gap bytes.
    pub fn flush<F: FnMut(Piece<'_, T>)>(&mut self, end_seq: Option<u32>, out: &mut F) -> u64 {
        // Bytes the peer acknowledged are missing for that reason, not for the end.
        let mut gaps = self.declare_acked(out);
        while self.buffered_bytes() > 0 {
            gaps += self.give_up_first_hole(GapReason::Flush, out);
        }
        let mut end = self
            .held
            .as_ref()
            .and_then(|h| h.lost.values().copied().max())
            .unwrap_or(0);
        if let Some(seq) = end_seq {
            let fin = self.offset_of(seq);
            if fin > 0 && (fin as u64).saturating_sub(self.next) <= MAX_JUMP {
                end = end.max(fin as u64);
            }
        }
        if end > self.next {
            gaps += self.skip_to(end, GapReason::Flush, out);
        }
        if let Some(held) = self.held.as_mut() {
            held.lost.clear();
        }
        gaps
    }

    /// Move `next` to `target`, delivering buffered bytes on the way and declaring the
    /// rest missing.
    fn skip_to<F: FnMut(Piece<'_, T>)>(
        &mut self,
        target: u64,
        reason: GapReason,
        out: &mut F,
    ) -> u64 {
        let mut gaps = 0;
        while self.next < target {
            let first = self.first_buffered();
            match first {
                Some(s) if s == self.next => self.deliver_first(out),
                _ => {
                    let stop = first.map_or(target, |s| s.min(target));
                    gaps += stop - self.next;
                    out(Piece::Gap {
                        offset: self.next,
                        len: stop - self.next,
                        reason,
                    });
                    self.next = stop;
                }
            }
        }
        self.drain(out);
        gaps
    }

    /// Declare the hole before the first buffered segment missing, then deliver.
    fn give_up_first_hole<F: FnMut(Piece<'_, T>)>(
        &mut self,
        reason: GapReason,
        out: &mut F,
    ) -> u64 {
        match self.first_buffered() {
            Some(s) if s > self.next => self.skip_to(s, reason, out),
            Some(_) => {
                self.drain(out);
                0
            }
            None => 0,
        }
    }

    /// Store the bytes of `[start, start + data.len())` not already buffered.
    fn store(&mut self, start: u64, data: &[u8], tag: T) -> usize {
        let end = start + data.len() as u64;
        let held = self.held_mut();
        let mut cursor = start;
        if let Some((&s, (bytes, _))) = held.buffered.range(..start).next_back() {
            cursor = cursor.max(s + bytes.len() as u64);
        }
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        for (&s, (bytes, _)) in held.buffered.range(start..end) {
            if s > cursor {
                pieces.push((cursor, s));
            }
            cursor = cursor.max(s + bytes.len() as u64);
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        let mut added = 0;
        for (s, e) in pieces {
            let bytes = data[(s - start) as usize..(e - start) as usize].to_vec();
            added += bytes.len();
            held.buffered.insert(s, (bytes, tag));
        }
        held.buffered_bytes += added;
        added
    }

    fn deliver_first<F: FnMut(Piece<'_, T>)>(&mut self, out: &mut F) {
        let Some(held) = self.held.as_mut() else {
            return;
        };
        if let Some((offset, (bytes, tag))) = held.buffered.pop_first() {
            held.buffered_bytes -= bytes.len();
            self.next = offset + bytes.len() as u64;
            out(Piece::Data {
                offset,
                bytes: &bytes,
                tag,
            });
        }
    }

    /// Deliver whatever is contiguous with `next`, and known-lost ranges reached.
    fn drain<F: FnMut(Piece<'_, T>)>(&mut self, out: &mut F) {
        while let Some(held) = self.held.as_mut() {
            let next = self.next;
            while held.lost.first_key_value().is_some_and(|(_, &e)| e <= next) {
                held.lost.pop_first();
            }
            let first = held.buffered.keys().next().copied();
            if first == Some(next) {
                self.deliver_first(out);
                continue;
            }
            let lost_here = held
                .lost
                .iter()
                .find(|(&s, &e)| s <= next && e > next)
                .map(|(_, &e)| e);
            match lost_here {
                Some(lost_end) => {
                    let stop = first.map_or(lost_end, |s| s.min(lost_end));
                    out(Piece::Gap {
                        offset: self.next,
                        len: stop - self.next,
                        reason: GapReason::Truncated,
                    });
                    self.next = stop;
                }
                None => break,
            }
        }
        self.forget_reached_ack();
    }

    /// The stream caught up with the acknowledged point: nothing is pending any more.
    fn forget_reached_ack(&mut self) {
        if self.acked_to.is_some_and(|to| to <= self.next) {
            self.acked_to = None;
        }
    }
}

#[cfg(test)]
mod tests;
