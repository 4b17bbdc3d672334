//! The framing rule of a conversation's protocol, held in the framer itself.

use labproto::text::TextDecoder;
use labproto::v2::V2Decoder;
use labproto::v3::V3Decoder;
use labproto::{Decoder, Error, Proto};

/// One of labproto's three framing rules, chosen at run time like
/// [`labproto::framer::decoder_for`] but stored inline instead of boxed: every
/// segment's bytes are framed by it, and with thousands of open conversations the
/// boxed rule (its own heap block, holding just `max_size`) was one more cache miss
/// per segment (cachegrind: 1.6 M of 37 M D1 misses on a 5,000-conversation capture).
#[derive(Debug, Clone, Copy)]
pub enum InlineDecoder {
    Text(TextDecoder),
    V2(V2Decoder),
    V3(V3Decoder),
}

impl InlineDecoder {
    pub fn new(proto: Proto, max_size: u32) -> InlineDecoder {
        match proto {
            Proto::Text => InlineDecoder::Text(TextDecoder),
            Proto::V2 => InlineDecoder::V2(V2Decoder),
            Proto::V3 => InlineDecoder::V3(V3Decoder::new(max_size)),
        }
    }
}

impl Decoder for InlineDecoder {
    fn proto(&self) -> Proto {
        match self {
            InlineDecoder::Text(d) => d.proto(),
            InlineDecoder::V2(d) => d.proto(),
            InlineDecoder::V3(d) => d.proto(),
        }
    }

    fn frame_len(&self, buf: &[u8], offset: u64) -> Result<Option<usize>, Error> {
        match self {
            InlineDecoder::Text(d) => d.frame_len(buf, offset),
            InlineDecoder::V2(d) => d.frame_len(buf, offset),
            InlineDecoder::V3(d) => d.frame_len(buf, offset),
        }
    }

    fn min_len(&self) -> usize {
        match self {
            InlineDecoder::Text(d) => d.min_len(),
            InlineDecoder::V2(d) => d.min_len(),
            InlineDecoder::V3(d) => d.min_len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inline rule is the boxed one: same protocol, same answers.
    #[test]
    fn same_rule_as_decoder_for() {
        let v3 = labproto::v3::Repr {
            version: 3,
            order: 7,
            payload: b"hello",
        };
        let mut bytes = Vec::new();
        v3.emit_to_vec(&mut bytes).unwrap();
        let inputs: [&[u8]; 5] = [b"", b"abc", &[0u8; 29], &bytes, &bytes[..4]];
        for proto in [Proto::Text, Proto::V2, Proto::V3] {
            for max_size in [0, 4, 1 << 20] {
                let boxed = labproto::framer::decoder_for(proto, max_size);
                let inline = InlineDecoder::new(proto, max_size);
                assert_eq!(inline.proto(), boxed.proto());
                assert_eq!(inline.min_len(), boxed.min_len());
                for input in inputs {
                    assert_eq!(inline.frame_len(input, 3), boxed.frame_len(input, 3));
                }
            }
        }
    }
}
