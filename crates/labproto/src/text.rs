//! Text messages (exercises 1–3): no framing at all, the bytes as sent.
//!
//! Over UDP one datagram is one message. Over TCP there are no message boundaries:
//! the receiver gets the bytes in whatever chunks the network delivered, so the text
//! "framer" hands out every chunk pushed as one frame.

use crate::{Error, Proto};

/// The "framing" of text: whatever bytes are there form one frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextDecoder;

impl crate::Decoder for TextDecoder {
    fn proto(&self) -> Proto {
        Proto::Text
    }
    fn frame_len(&self, buf: &[u8], _offset: u64) -> Result<Option<usize>, Error> {
        Ok((!buf.is_empty()).then_some(buf.len()))
    }
    fn min_len(&self) -> usize {
        1
    }
}

/// Render bytes for a terminal: valid UTF-8 shown as is with control characters
/// escaped, anything else as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    // The usual line: printable ASCII with nothing to escape, copied as it is (a server
    // logs one per message: the char loop below was its largest cost).
    if bytes
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) && b != b'\\' && b != b'"')
    {
        // Only ASCII bytes: valid UTF-8.
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Framer;

    #[test]
    fn every_chunk_is_a_frame() {
        let mut f = Framer::new(TextDecoder);
        assert_eq!(f.next_frame(), Ok(None));
        f.push(b"hello ");
        assert_eq!(f.next_frame().unwrap().unwrap().bytes, b"hello ");
        f.push(b"world");
        let frame = f.next_frame().unwrap().unwrap();
        assert_eq!((frame.offset, frame.bytes), (6, &b"world"[..]));
    }

    #[test]
    fn escape_shows_control_and_invalid_bytes() {
        assert_eq!(escape(b"hi\n\x00\xff\"ok\""), "hi\\n\\x00\\xff\\\"ok\\\"");
        assert_eq!(escape("olá".as_bytes()), "olá");
    }
}
