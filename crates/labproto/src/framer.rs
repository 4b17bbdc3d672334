//! The framing contract shared by the servers and the sniffer.
//!
//! A [`Decoder`] looks at the front of a byte buffer and answers:
//! - `Ok(None)`: not a whole frame yet; need more bytes (this is not an error);
//! - `Ok(Some(n))`: the first `n` bytes are one whole frame;
//! - `Err(e)`: the bytes can never become a valid frame (e.g. a v3 size over the limit).
//!
//! A [`Framer`] owns the bytes pushed so far and hands out whole frames only, in
//! order, as zero-copy [`Frame`] views. Bytes may arrive in any split: one at a time
//! or many messages at once give the same frames. The buffer keeps its capacity, so
//! steady-state framing allocates nothing.
//!
//! Memory: the framer holds at most the bytes of one unfinished frame plus the last
//! pushed chunk; a v3 size above the decoder's limit is refused before anything is
//! buffered for it.

use crate::{Error, Part, Proto};

/// A framing rule: how long is the frame at the front of `buf`?
pub trait Decoder {
    /// The protocol this rule frames.
    fn proto(&self) -> Proto;
    /// `offset` is the stream offset of `buf[0]`, for error messages.
    fn frame_len(&self, buf: &[u8], offset: u64) -> Result<Option<usize>, Error>;
    /// Bytes needed before `frame_len` can say anything.
    fn min_len(&self) -> usize;
}

impl<D: Decoder + ?Sized> Decoder for &D {
    fn proto(&self) -> Proto {
        (**self).proto()
    }
    fn frame_len(&self, buf: &[u8], offset: u64) -> Result<Option<usize>, Error> {
        (**self).frame_len(buf, offset)
    }
    fn min_len(&self) -> usize {
        (**self).min_len()
    }
}

impl<D: Decoder + ?Sized> Decoder for Box<D> {
    fn proto(&self) -> Proto {
        (**self).proto()
    }
    fn frame_len(&self, buf: &[u8], offset: u64) -> Result<Option<usize>, Error> {
        (**self).frame_len(buf, offset)
    }
    fn min_len(&self) -> usize {
        (**self).min_len()
    }
}

/// One whole frame: its bytes and the stream offset of its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub offset: u64,
    pub bytes: &'a [u8],
}

impl Frame<'_> {
    /// Stream offset one past the last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.bytes.len() as u64
    }
}

/// A streaming framer: push bytes in, take whole frames out.
#[derive(Debug, Clone)]
pub struct Framer<D> {
    decoder: D,
    buf: Vec<u8>,
    /// Index in `buf` of the first byte not yet handed out.
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    /// Set once the stream is known to be unframeable; cleared by `skip`/`reset`.
    error: Option<Error>,
}

impl<D: Decoder> Framer<D> {
    pub fn new(decoder: D) -> Framer<D> {
        Framer {
            decoder,
            buf: Vec::new(),
            start: 0,
            offset: 0,
            error: None,
        }
    }

    pub fn decoder(&self) -> &D {
        &self.decoder
    }

    pub fn proto(&self) -> Proto {
        self.decoder.proto()
    }

    /// Append bytes from the stream.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 {
            // Drop the frames already handed out; keeps the capacity.
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next whole frame, `Ok(None)` when more bytes are needed.
    ///
    /// After an error every call returns the same error until [`Framer::skip`] or
    /// [`Framer::reset`]: the framer never guesses where the next frame starts.
    #[inline]
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Error> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        let pending = &self.buf[self.start..];
        match self.decoder.frame_len(pending, self.offset) {
            Ok(Some(n)) => {
                let begin = self.start;
                let offset = self.offset;
                self.start += n;
                self.offset += n as u64;
                Ok(Some(Frame {
                    offset,
                    bytes: &self.buf[begin..begin + n],
                }))
            }
            Ok(None) => Ok(None),
            Err(error) => {
                self.error = Some(error.clone());
                Err(error)
            }
        }
    }

    /// Call at end of stream: an error when bytes of an unfinished frame remain.
    pub fn finish(&self) -> Result<(), Error> {
        let pending = self.pending();
        if pending.is_empty() {
            return Ok(());
        }
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        let (part, required_len) = needed(self.decoder.proto(), pending);
        Err(Error::IncompleteAtEnd {
            proto: self.decoder.proto(),
            part,
            offset: self.offset,
            required_len,
            len: pending.len(),
        })
    }

    /// Bytes received but not yet handed out as frames.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Stream offset of the next byte a frame would start at.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Discard `n` pending bytes (e.g. to resynchronise after an error) and clear the error.
    pub fn skip(&mut self, n: usize) {
        let n = n.min(self.buf.len() - self.start);
        self.start += n;
        self.offset += n as u64;
        self.error = None;
    }

    /// Forget everything buffered; the next pushed byte has stream offset `offset`.
    pub fn reset(&mut self, offset: u64) {
        self.buf.clear();
        self.start = 0;
        self.offset = offset;
        self.error = None;
    }

    /// The error the framer is stuck on, if any.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }
}

/// What an unfinished frame still needs: which part and how many bytes in all.
fn needed(proto: Proto, pending: &[u8]) -> (Part, usize) {
    match proto {
        Proto::Text => (Part::Message, pending.len()),
        Proto::V2 => (Part::Message, crate::v2::MESSAGE_LEN),
        Proto::V3 => match crate::v3::Packet::new_checked(pending) {
            Err(Error::Truncated {
                part, required_len, ..
            }) => (part, required_len),
            _ => (Part::Message, pending.len()),
        },
    }
}

/// The framing rule of one of the three protocols, chosen at run time and held
/// inline (no box: a framer reads its rule for every chunk it frames, and with
/// thousands of open conversations a separate heap block per rule was one more cache
/// miss per segment in labsniff).
#[derive(Debug, Clone, Copy)]
pub enum LabDecoder {
    Text(crate::text::TextDecoder),
    V2(crate::v2::V2Decoder),
    V3(crate::v3::V3Decoder),
}

impl Decoder for LabDecoder {
    fn proto(&self) -> Proto {
        match self {
            LabDecoder::Text(d) => d.proto(),
            LabDecoder::V2(d) => d.proto(),
            LabDecoder::V3(d) => d.proto(),
        }
    }

    fn frame_len(&self, buf: &[u8], offset: u64) -> Result<Option<usize>, Error> {
        match self {
            LabDecoder::Text(d) => d.frame_len(buf, offset),
            LabDecoder::V2(d) => d.frame_len(buf, offset),
            LabDecoder::V3(d) => d.frame_len(buf, offset),
        }
    }

    fn min_len(&self) -> usize {
        match self {
            LabDecoder::Text(d) => d.min_len(),
            LabDecoder::V2(d) => d.min_len(),
            LabDecoder::V3(d) => d.min_len(),
        }
    }
}

/// The framing rule of `proto`; `max_size` bounds a v3 size field.
pub fn decoder_for(proto: Proto, max_size: u32) -> LabDecoder {
    match proto {
        Proto::Text => LabDecoder::Text(crate::text::TextDecoder),
        Proto::V2 => LabDecoder::V2(crate::v2::V2Decoder),
        Proto::V3 => LabDecoder::V3(crate::v3::V3Decoder::new(max_size)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v3::{Repr, V3Decoder};

    /// `decoder_for` picks each protocol's own rule, with the v3 size limit given.
    #[test]
    fn decoder_for_answers_as_each_protocols_rule() {
        let mut v3 = Vec::new();
        Repr {
            version: 1,
            order: 7,
            payload: b"hello",
        }
        .emit_to_vec(&mut v3)
        .unwrap();
        let inputs: [&[u8]; 5] = [b"", b"abc", &[0u8; 29], &v3, &v3[..4]];
        for max_size in [0, 4, 1 << 20] {
            let rules: [(Proto, &dyn Decoder); 3] = [
                (Proto::Text, &crate::text::TextDecoder),
                (Proto::V2, &crate::v2::V2Decoder),
                (Proto::V3, &V3Decoder::new(max_size)),
            ];
            for (proto, own) in rules {
                let chosen = decoder_for(proto, max_size);
                assert_eq!(chosen.proto(), proto);
                assert_eq!(chosen.min_len(), own.min_len());
                for input in inputs {
                    assert_eq!(chosen.frame_len(input, 3), own.frame_len(input, 3));
                }
            }
        }
        // The limit is the one given: 5 bytes of payload are over 4, not over 2^20.
        assert!(decoder_for(Proto::V3, 4).frame_len(&v3, 0).is_err());
        assert_eq!(
            decoder_for(Proto::V3, 1 << 20).frame_len(&v3, 0),
            Ok(Some(14))
        );
    }

    #[test]
    fn need_more_is_not_an_error() {
        let mut f = Framer::new(V3Decoder::default());
        f.push(&[1, 0, 0]);
        assert_eq!(f.next_frame(), Ok(None));
        f.push(&[0, 1, 0, 0, 0, 2, b'h']);
        assert_eq!(f.next_frame(), Ok(None));
        f.push(b"i");
        let frame = f.next_frame().unwrap().unwrap();
        assert_eq!(frame.offset, 0);
        assert_eq!(Repr::parse(frame.bytes).unwrap().payload, b"hi");
        assert_eq!(f.next_frame(), Ok(None));
        assert_eq!(f.finish(), Ok(()));
    }

    #[test]
    fn size_over_limit_error_carries_offset_and_number() {
        let mut f = Framer::new(V3Decoder::default());
        let ok = Repr {
            version: 1,
            order: 1,
            payload: b"abc",
        }
        .to_vec()
        .unwrap();
        f.push(&ok);
        f.push(&[1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff]);
        assert!(f.next_frame().unwrap().is_some());
        let err = f.next_frame().unwrap_err();
        assert_eq!(
            err,
            Error::SizeOverLimit {
                offset: 12,
                size: u32::MAX,
                limit: 1024 * 1024
            }
        );
        assert_eq!(
            err.to_string(),
            "v3 size field at stream offset 12 says 4294967295 bytes, more than the limit of \
             1048576 bytes; the stream cannot be framed past this point"
        );
        // Nothing was allocated for the announced size.
        assert!(f.buf.capacity() < 1024);
        // The framer stays stuck on the error until told to skip.
        assert_eq!(f.next_frame().unwrap_err(), err);
        f.skip(9);
        assert_eq!(f.next_frame(), Ok(None));
    }

    #[test]
    fn incomplete_at_end_texts() {
        let mut f = Framer::new(V3Decoder::default());
        f.push(&[1, 0, 0, 0]);
        assert_eq!(
            f.finish().unwrap_err().to_string(),
            "stream ended inside a v3 message that starts at stream offset 0: \
             the header needs 9 bytes, only 4 arrived"
        );
        f.push(&[1, 0, 0, 0, 10, b'a']);
        assert_eq!(
            f.finish().unwrap_err().to_string(),
            "stream ended inside a v3 message that starts at stream offset 0: \
             the message needs 19 bytes, only 10 arrived"
        );
        let mut f = Framer::new(crate::v2::V2Decoder);
        f.push(&[0u8; 40]);
        assert!(f.next_frame().unwrap().is_some());
        assert_eq!(
            f.finish().unwrap_err().to_string(),
            "stream ended inside a v2 message that starts at stream offset 29: \
             the message needs 29 bytes, only 11 arrived"
        );
    }
}
