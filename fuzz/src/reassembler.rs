//! Target `reassembler`: labsniff's TCP reassembler fed arbitrary segment sequences
//! (in-order, out-of-order, overlapping with different content, cut by the snaplen,
//! acknowledged past holes, flushed), checked against a model.
//!
//! The model remembers, for every stream offset, the first byte that arrived for it
//! while it was still undelivered, and the tag of the segment that carried it. The
//! reassembler must then hand out pieces that tile the stream from offset 0 with no
//! hole and no overlap; every data byte must be that first copy; no gap may cover a
//! byte that arrived; a byte that arrived at the next offset must have been delivered;
//! bytes the capture is known to have cut off must be declared missing as soon as the
//! stream reaches them.
//!
//! Input layout:
//! ```text
//! [isn: u32 BE] [cap: u16 BE] then operations, op = u8:
//!   op % 4 = 0, 1: insert  [offset: u16 BE] [len: u8] ([extra: u8] if op & 0x80) [len bytes]
//!   op % 4 = 2:    ack     [offset: u16 BE]   (op & 0x80: only recorded, as labsniff
//!                  does when the ACK may have been captured before its data; the
//!                  bytes are declared missing at the next plain ack or flush)
//!   op % 4 = 3:    flush   ([end offset: u16 BE] if op & 0x80)
//! ```
//! Offsets are stream offsets + 64 (so a segment may start before the stream);
//! `extra` bytes were on the wire but not captured.

use crate::reader::Reader;
use labsniff::reassembly::{GapReason, Inserted, Piece, Reassembler, SegmentKind};
use std::collections::BTreeMap;

/// Offsets in the input are stream offsets plus this.
pub const OFFSET_BIAS: i64 = 64;
/// Operations per input (bounds the time one input takes).
const MAX_OPS: usize = 512;
/// The reassembler's limit on sequence jumps (`MAX_JUMP` in labsniff).
const MAX_JUMP: i64 = 1 << 30;

/// One operation, as decoded from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op<'a> {
    Insert {
        offset: i64,
        data: &'a [u8],
        extra: usize,
    },
    Ack {
        offset: i64,
        deferred: bool,
    },
    Flush {
        end: Option<i64>,
    },
}

/// Input bytes for one operation (what `bin/seeds.rs` writes).
pub fn encode_op(op: &Op<'_>, out: &mut Vec<u8>) {
    let biased = |o: i64| ((o + OFFSET_BIAS).clamp(0, i64::from(u16::MAX)) as u16).to_be_bytes();
    match op {
        Op::Insert {
            offset,
            data,
            extra,
        } => {
            let data = &data[..data.len().min(255)];
            out.push(if *extra > 0 { 0x80 } else { 0 });
            out.extend_from_slice(&biased(*offset));
            out.push(data.len() as u8);
            if *extra > 0 {
                out.push((*extra).min(255) as u8);
            }
            out.extend_from_slice(data);
        }
        Op::Ack { offset, deferred } => {
            out.push(if *deferred { 0x82 } else { 2 });
            out.extend_from_slice(&biased(*offset));
        }
        Op::Flush { end: None } => out.push(3),
        Op::Flush { end: Some(end) } => {
            out.push(0x83);
            out.extend_from_slice(&biased(*end));
        }
    }
}

/// Input bytes for a whole case.
pub fn encode(isn: u32, cap: u16, ops: &[Op<'_>]) -> Vec<u8> {
    let mut out = isn.to_be_bytes().to_vec();
    out.extend_from_slice(&cap.to_be_bytes());
    for op in ops {
        encode_op(op, &mut out);
    }
    out
}

fn decode_op<'a>(r: &mut Reader<'a>) -> Op<'a> {
    let op = r.u8();
    let offset = |r: &mut Reader<'a>| i64::from(r.u16()) - OFFSET_BIAS;
    match op % 4 {
        0 | 1 => {
            let offset = offset(r);
            let len = usize::from(r.u8());
            let extra = if op & 0x80 != 0 {
                usize::from(r.u8())
            } else {
                0
            };
            Op::Insert {
                offset,
                data: r.bytes(len),
                extra,
            }
        }
        2 => Op::Ack {
            offset: offset(r),
            deferred: op & 0x80 != 0,
        },
        _ => Op::Flush {
            end: (op & 0x80 != 0).then(|| offset(r)),
        },
    }
}

/// A piece as handed out, owned so it can be checked after the call.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    Data {
        offset: u64,
        bytes: Vec<u8>,
        tag: u32,
    },
    Gap {
        offset: u64,
        len: u64,
        reason: GapReason,
    },
}

fn collect(pieces: &mut Vec<Got>) -> impl FnMut(Piece<'_, u32>) + '_ {
    move |piece| {
        pieces.push(match piece {
            Piece::Data { offset, bytes, tag } => Got::Data {
                offset,
                bytes: bytes.to_vec(),
                tag,
            },
            Piece::Gap {
                offset,
                len,
                reason,
            } => Got::Gap {
                offset,
                len,
                reason,
            },
        })
    }
}

/// What the reassembler should have done so far.
#[derive(Debug, Default)]
struct Model {
    /// First byte (and carrying segment's tag) that arrived for each offset while
    /// that offset was undelivered.
    first: BTreeMap<u64, (u8, u32)>,
    /// Next offset to deliver: everything before it was handed out once.
    next: u64,
    /// Some segment was cut by the capture, so `Truncated` gaps may appear.
    any_truncated: bool,
    /// Ranges the capture cut off (since the last flush): once `next` reaches one, it
    /// must be declared a gap at once, not left waiting.
    lost: Vec<(u64, u64)>,
}

impl Model {
    /// Check pieces in order; returns the gap bytes per reason (Acked/Flush count).
    fn accept(&mut self, pieces: &[Got], allowed: &[GapReason], step: usize) -> u64 {
        let mut gap_bytes = 0;
        for piece in pieces {
            match piece {
                Got::Data { offset, bytes, tag } => {
                    assert_eq!(*offset, self.next, "op {step}: data piece out of place");
                    assert!(!bytes.is_empty(), "op {step}: empty data piece");
                    for (i, &b) in bytes.iter().enumerate() {
                        let at = offset + i as u64;
                        assert_eq!(
                            self.first.get(&at),
                            Some(&(b, *tag)),
                            "op {step}: byte at offset {at} is not the first copy that arrived"
                        );
                    }
                    self.next += bytes.len() as u64;
                }
                Got::Gap {
                    offset,
                    len,
                    reason,
                } => {
                    assert_eq!(*offset, self.next, "op {step}: gap out of place");
                    assert!(*len > 0, "op {step}: empty gap");
                    let end = offset + len;
                    if let Some((at, _)) = self.first.range(offset..&end).next() {
                        panic!("op {step}: gap {offset}..{end} ({reason:?}) covers byte {at}, which arrived");
                    }
                    let ok = allowed.contains(reason)
                        || (*reason == GapReason::Truncated && self.any_truncated);
                    assert!(ok, "op {step}: gap reason {reason:?} not expected here");
                    if *reason != GapReason::Truncated {
                        gap_bytes += len;
                    }
                    self.next = end;
                }
            }
        }
        gap_bytes
    }

    /// Record a segment's bytes; returns how many were new.
    fn insert(&mut self, start: i64, data: &[u8], tag: u32) -> usize {
        let mut new = 0;
        for (i, &b) in data.iter().enumerate() {
            let at = start + i as i64;
            if at >= self.next as i64 {
                if let std::collections::btree_map::Entry::Vacant(v) = self.first.entry(at as u64) {
                    v.insert((b, tag));
                    new += 1;
                }
            }
        }
        new
    }

    fn buffered(&self) -> usize {
        self.first.range(self.next..).count()
    }
}

pub fn check(input: &[u8]) {
    let mut r = Reader::new(input);
    let isn = r.u32();
    let cap = usize::from(r.u16());
    let seq = |offset: i64| isn.wrapping_add(offset as u32);
    let mut reassembler: Reassembler<u32> = Reassembler::new(isn, cap);
    let mut model = Model::default();
    let mut pieces = Vec::new();
    for step in 0..MAX_OPS {
        if r.is_empty() {
            break;
        }
        let op = decode_op(&mut r);
        pieces.clear();
        let before = model.next;
        match op {
            Op::Insert {
                offset,
                data,
                extra,
            } => {
                assert_eq!(
                    reassembler.offset_of(seq(offset)),
                    offset,
                    "op {step}: offset_of"
                );
                let tag = step as u32;
                let fresh =
                    (offset + data.len() as i64 - offset.max(before as i64)).max(0) as usize;
                let new = model.insert(offset, data, tag);
                model.any_truncated |= extra > 0;
                let (end, wire_end) = (
                    offset + data.len() as i64,
                    offset + (data.len() + extra) as i64,
                );
                if wire_end > end && wire_end > before as i64 {
                    model
                        .lost
                        .push((end.max(before as i64) as u64, wire_end as u64));
                }
                let got = reassembler.insert(
                    seq(offset),
                    data,
                    data.len() + extra,
                    tag,
                    &mut collect(&mut pieces),
                );
                let kind = if data.is_empty() {
                    SegmentKind::Empty
                } else if new == 0 || offset < before as i64 || new < fresh {
                    SegmentKind::Retransmission
                } else if offset > before as i64 {
                    SegmentKind::OutOfOrder
                } else {
                    SegmentKind::InOrder
                };
                assert_eq!(
                    got,
                    Inserted {
                        kind,
                        new_bytes: new
                    },
                    "op {step}: insert at {offset}"
                );
                model.accept(&pieces, &[GapReason::Overflow], step);
                assert!(
                    reassembler.buffered_bytes() <= cap,
                    "op {step}: buffer over its cap"
                );
            }
            Op::Ack {
                offset,
                deferred: true,
            } => {
                reassembler.acked(seq(offset));
                assert_eq!(
                    model.accept(&pieces, &[], step),
                    0,
                    "op {step}: deferred ack"
                );
            }
            Op::Ack {
                offset,
                deferred: false,
            } => {
                reassembler.acked(seq(offset));
                let gaps = reassembler.declare_acked(&mut collect(&mut pieces));
                assert_eq!(
                    model.accept(&pieces, &[GapReason::Acked], step),
                    gaps,
                    "op {step}: acked() total"
                );
                if offset > before as i64 && offset - (before as i64) <= MAX_JUMP {
                    assert!(
                        model.next >= offset as u64,
                        "op {step}: ack to {offset} left next at {}",
                        model.next
                    );
                }
            }
            Op::Flush { end } => {
                let gaps = reassembler.flush(end.map(seq), &mut collect(&mut pieces));
                assert_eq!(
                    model.accept(&pieces, &[GapReason::Flush, GapReason::Acked], step),
                    gaps,
                    "op {step}: flush() total"
                );
                assert_eq!(
                    reassembler.buffered_bytes(),
                    0,
                    "op {step}: bytes left after flush"
                );
                if let Some(end) = end.filter(|&e| e > 0 && e - before as i64 <= MAX_JUMP) {
                    assert!(
                        model.next >= end as u64,
                        "op {step}: flush to {end} left next at {}",
                        model.next
                    );
                }
                model.any_truncated = false;
                model.lost.clear();
            }
        }
        assert_eq!(
            reassembler.next_offset(),
            model.next,
            "op {step}: next offset"
        );
        assert!(
            !model.first.contains_key(&model.next),
            "op {step}: the byte at offset {} arrived but was not delivered",
            model.next
        );
        assert_eq!(
            reassembler.buffered_bytes(),
            model.buffered(),
            "op {step}: buffered bytes"
        );
        if let Some(&(s, e)) = model
            .lost
            .iter()
            .find(|&&(s, e)| s <= model.next && model.next < e)
        {
            panic!(
                "op {step}: offset {} is in the cut-off range {s}..{e} but no gap was declared",
                model.next
            );
        }
    }
}
