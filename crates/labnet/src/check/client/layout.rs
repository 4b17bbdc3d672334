//! Where the fields of a message sit, as the student's client packed them: the lab's
//! layout, or the one a recognised `struct` mistake implies, so the messages can still
//! be framed, echoed and checked. Every offset comes from labproto (`v2::field`,
//! `v3::field`, `native`).

use labproto::mistakes::Mistake;
use labproto::native::{bii, bii20s, bll20s};
use labproto::{v2, v3, Proto};
use std::ops::Range;

/// Largest message accepted from the client (as labnet's servers).
pub(super) const MAX_SIZE: u64 = labproto::DEFAULT_MAX_SIZE as u64;

/// Where the fields of a message sit, as the student's client packed them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    pub(super) header: usize,
    pub(super) order: (usize, usize),
    pub(super) size: (usize, usize),
    little: bool,
    /// v2-like: every message has this many bytes; v3-like: header + size.
    pub(super) fixed: Option<usize>,
}

impl Layout {
    /// The lab's own layout, from labproto's `v2::field` and `v3::field` (text is
    /// never framed; it is given v3's).
    pub(super) fn lab(proto: Proto) -> Layout {
        match proto {
            Proto::V2 => Layout {
                header: v2::field::PAYLOAD.start,
                order: span(v2::field::ORDER),
                size: span(v2::field::SIZE),
                little: false,
                fixed: Some(v2::MESSAGE_LEN),
            },
            Proto::V3 | Proto::Text => Layout {
                header: v3::HEADER_LEN,
                order: span(v3::field::ORDER),
                size: span(v3::field::SIZE),
                little: false,
                fixed: None,
            },
        }
    }

    /// The layout a recognised struct mistake implies, so the messages can still be
    /// framed, echoed and checked the student's way (labproto's `native` offsets).
    pub(super) fn of_mistake(proto: Proto, m: &Mistake) -> Layout {
        match m {
            Mistake::NativeAlignment {
                format: bll20s::FORMAT,
                ..
            } => Layout {
                header: bll20s::PAYLOAD.start,
                order: span(bll20s::ORDER),
                size: span(bll20s::SIZE),
                little: true,
                fixed: Some(bll20s::MESSAGE_LEN),
            },
            Mistake::NativeAlignment {
                format: bii20s::FORMAT,
                ..
            } => Layout {
                header: bii20s::PAYLOAD.start,
                order: span(bii20s::ORDER),
                size: span(bii20s::SIZE),
                little: true,
                fixed: Some(bii20s::MESSAGE_LEN),
            },
            Mistake::NativeAlignment { .. } => Layout {
                header: bii::HEADER_LEN,
                order: span(bii::ORDER),
                size: span(bii::SIZE),
                little: true,
                fixed: None,
            },
            Mistake::LittleEndian { .. } => Layout {
                little: true,
                ..Layout::lab(proto)
            },
            Mistake::SizeMismatch { .. } => Layout::lab(proto),
        }
    }

    pub(super) fn field(&self, b: &[u8], (at, width): (usize, usize)) -> u64 {
        let bytes = &b[at..at + width];
        let fold = |acc: u64, &x: &u8| (acc << 8) | u64::from(x);
        if self.little {
            bytes.iter().rev().fold(0, fold)
        } else {
            bytes.iter().fold(0, fold)
        }
    }

    /// Length of the whole message at the front of `b`; None: need more; Err: its
    /// size field is over the limit.
    pub(super) fn frame_len(&self, b: &[u8]) -> Result<Option<usize>, u64> {
        if b.len() < self.header {
            return Ok(None);
        }
        let len = match self.fixed {
            Some(n) => n,
            None => {
                let size = self.field(b, self.size);
                if size > MAX_SIZE {
                    return Err(size);
                }
                self.header + size as usize
            }
        };
        Ok((b.len() >= len).then_some(len))
    }
}

/// A field's byte range as (offset, width).
fn span(range: Range<usize>) -> (usize, usize) {
    (range.start, range.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::explain::mistake;

    #[test]
    fn student_layouts_frame_and_read_their_fields() {
        // struct.pack('BII20s', 1, 7, 5, b'hello'): 32 bytes, little-endian.
        let mut native = vec![1, 0, 0, 0, 7, 0, 0, 0, 5, 0, 0, 0];
        native.extend_from_slice(b"hello");
        native.resize(32, 0);
        let m = mistake(Proto::V2, &native, false);
        let l = m
            .as_ref()
            .map(|m| Layout::of_mistake(Proto::V2, m))
            .unwrap_or(Layout::lab(Proto::V2));
        assert_eq!(l.frame_len(&native), Ok(Some(32)));
        assert_eq!(
            (l.field(&native, l.order), l.field(&native, l.size)),
            (7, 5)
        );
        // struct.pack('<BII', 1, 2, 5) + b'hello': 9 + 5 bytes.
        let mut little = vec![1, 2, 0, 0, 0, 5, 0, 0, 0];
        little.extend_from_slice(b"hello");
        let m = mistake(Proto::V3, &little, false);
        assert!(matches!(m, Some(Mistake::LittleEndian { .. })), "{m:?}");
        let l = m
            .as_ref()
            .map(|m| Layout::of_mistake(Proto::V3, m))
            .unwrap_or(Layout::lab(Proto::V3));
        assert_eq!(l.frame_len(&little), Ok(Some(14)));
        assert_eq!(l.field(&little, l.order), 2);
        // The lab's own layout: a v3 header announcing more than the limit is refused.
        let lab = Layout::lab(Proto::V3);
        assert_eq!(
            lab.frame_len(&[1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]),
            Err(0xffff_ffff)
        );
        assert_eq!(lab.frame_len(&[1, 0, 0, 0, 1, 0, 0, 0, 3, b'a']), Ok(None));
    }
}
