//! Reassembled pieces to the dissector: a direction's in-order bytes are counted and
//! handed on (no copy), and a gap is told to the dissector, recorded for the
//! conversation's record and reported as a diagnostic.

use super::{Conversation, Tag};
use crate::dissect::Dissector;
use crate::event::{Diagnostic, DiagnosticKind, Dir, Event, GapRecord, Severity};
use crate::queue::Out;
use crate::reassembly::{GapReason, Piece, Reassembler};

impl Conversation {
    /// Split borrows: the reassemblers, and a router that hands their pieces to the
    /// dissector (no copy of the bytes).
    pub(super) fn router<'s, 'o>(
        &'s mut self,
        dir: Dir,
        frame: u64,
        out: &'s mut Out<'o>,
    ) -> (&'s mut [Option<Reassembler<Tag>>; 2], Router<'s, 'o>) {
        (
            &mut self.reassemblers,
            Router {
                id: self.id,
                max_ooo_bytes: self.max_ooo_bytes,
                dir,
                frame,
                dissector: &mut self.dissector,
                bytes: &mut self.bytes,
                gaps: &mut self.cold.gaps,
                out,
            },
        )
    }
}

/// Routes reassembled pieces of one direction to the dissector and reports gaps.
pub(super) struct Router<'s, 'o> {
    id: u64,
    max_ooo_bytes: usize,
    dir: Dir,
    /// The frame being processed (gaps are reported at it).
    frame: u64,
    dissector: &'s mut Dissector,
    bytes: &'s mut [u64; 2],
    gaps: &'s mut Vec<GapRecord>,
    out: &'s mut Out<'o>,
}

impl Router<'_, '_> {
    pub(super) fn take(&mut self, piece: Piece<'_, Tag>) {
        match piece {
            Piece::Data { offset, bytes, tag } => {
                self.bytes[self.dir.index()] += bytes.len() as u64;
                self.dissector
                    .data(self.dir, offset, bytes, tag.0, tag.1, self.out);
            }
            Piece::Gap {
                offset,
                len,
                reason,
            } => self.gap(offset, len, reason),
        }
    }

    fn gap(&mut self, offset: u64, len: u64, reason: GapReason) {
        let (dir, frame) = (self.dir, self.frame);
        let dropped = self.dissector.gap(dir, offset, len, frame, self.out);
        let capture_dropped = self.out.capture_dropped();
        self.gaps.push(GapRecord {
            dir,
            bytes: len,
            offset,
            reason,
            capture_dropped_before: capture_dropped,
        });
        self.out.push(Event::Diagnostic(Diagnostic {
            severity: Severity::Warning,
            frame: Some(frame),
            conv: Some(self.id),
            kind: DiagnosticKind::Gap {
                dir,
                offset,
                bytes: len,
                reason,
                capture_dropped,
                max_ooo_bytes: self.max_ooo_bytes,
                unfinished: dropped,
            },
        }));
    }
}
