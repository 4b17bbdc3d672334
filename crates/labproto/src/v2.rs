//! v2: fixed-size binary messages, exactly `struct.pack('!BII20s', version, order, size, payload)`.
//!
//! ```text
//!  0        1                 5                 9                                29
//! +--------+-----------------+-----------------+--------------------------------+
//! |version |  order (u32 BE) |  size (u32 BE)  | payload, 20 bytes, NUL-padded  |
//! +--------+-----------------+-----------------+--------------------------------+
//! ```
//! `size` is the length of the *original* message; when it is over 20 the payload was
//! truncated by `20s` and only the first 20 bytes travelled. When it is under 20,
//! `20s` padded the rest with NUL bytes.
//!
//! Panics: [`Packet::new_unchecked`] accessors panic on a buffer shorter than
//! [`MESSAGE_LEN`]; [`Packet::new_checked`] rules that out, and nothing else panics.

use crate::{Error, Part, Proto};

/// Field byte ranges, declared once; every accessor and the Lua dissector use these.
pub mod field {
    use core::ops::Range;
    /// Protocol version (`B`).
    pub const VERSION: usize = 0;
    /// Packet order (`I`, big-endian).
    pub const ORDER: Range<usize> = 1..5;
    /// Original message size (`I`, big-endian).
    pub const SIZE: Range<usize> = 5..9;
    /// Payload (`20s`).
    pub const PAYLOAD: Range<usize> = 9..29;
}

/// Bytes in a v2 message.
pub const MESSAGE_LEN: usize = field::PAYLOAD.end;
/// Payload bytes carried by a v2 message.
pub const PAYLOAD_LEN: usize = field::PAYLOAD.end - field::PAYLOAD.start;
/// The Python `struct` format string of v2.
pub const STRUCT_FORMAT: &str = "!BII20s";

/// A zero-copy view of a v2 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wrap a buffer, checking that it holds a whole message (extra bytes are ignored).
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let len = buffer.as_ref().len();
        if len < MESSAGE_LEN {
            return Err(Error::Truncated {
                proto: Proto::V2,
                part: Part::Message,
                required_len: MESSAGE_LEN,
                len,
            });
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION]
    }

    pub fn order(&self) -> u32 {
        be_u32(&self.buffer.as_ref()[field::ORDER])
    }

    /// The original message size as the sender declared it.
    pub fn size(&self) -> u32 {
        be_u32(&self.buffer.as_ref()[field::SIZE])
    }

    /// All 20 payload bytes, padding included.
    pub fn payload_field(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }

    /// The payload bytes that carry the message: `min(size, 20)` of them.
    pub fn payload(&self) -> &[u8] {
        let carried = (self.size() as usize).min(PAYLOAD_LEN);
        &self.payload_field()[..carried]
    }

    /// True when the original message was longer than 20 bytes and was cut.
    pub fn truncated(&self) -> bool {
        self.size() as usize > PAYLOAD_LEN
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_version(&mut self, value: u8) {
        self.buffer.as_mut()[field::VERSION] = value;
    }
    pub fn set_order(&mut self, value: u32) {
        self.buffer.as_mut()[field::ORDER].copy_from_slice(&value.to_be_bytes());
    }
    pub fn set_size(&mut self, value: u32) {
        self.buffer.as_mut()[field::SIZE].copy_from_slice(&value.to_be_bytes());
    }
    /// Write up to 20 bytes of payload and NUL-pad the rest, as `20s` does.
    pub fn set_payload(&mut self, payload: &[u8]) {
        let dst = &mut self.buffer.as_mut()[field::PAYLOAD];
        let n = payload.len().min(PAYLOAD_LEN);
        dst[..n].copy_from_slice(&payload[..n]);
        dst[n..].fill(0);
    }
}

/// A plain v2 message. `payload` holds the bytes carried (at most 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    pub version: u8,
    pub order: u32,
    /// The original message size (may exceed 20: then the payload was truncated).
    pub size: u32,
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// The message a client sends for `message`: `size` is its full length, the payload
    /// is cut to 20 bytes (Python's `20s` does the same). Sizes over `u32::MAX`
    /// saturate (they cannot be written by `!I` either).
    pub fn new(version: u8, order: u32, message: &'a [u8]) -> Repr<'a> {
        Repr {
            version,
            order,
            size: u32::try_from(message.len()).unwrap_or(u32::MAX),
            payload: &message[..message.len().min(PAYLOAD_LEN)],
        }
    }

    /// Parse a whole v2 message from the front of `buffer`.
    pub fn parse(buffer: &'a [u8]) -> Result<Repr<'a>, Error> {
        let packet = Packet::new_checked(buffer)?;
        let carried = (packet.size() as usize).min(PAYLOAD_LEN);
        Ok(Repr {
            version: packet.version(),
            order: packet.order(),
            size: packet.size(),
            payload: &buffer[field::PAYLOAD][..carried],
        })
    }

    /// True when the original message was longer than the 20 bytes carried.
    pub fn truncated(&self) -> bool {
        self.size as usize > PAYLOAD_LEN
    }

    /// Always [`MESSAGE_LEN`].
    pub fn buffer_len(&self) -> usize {
        MESSAGE_LEN
    }

    /// Write the 29 bytes into the front of `buffer`.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<(), Error> {
        if buffer.len() < MESSAGE_LEN {
            return Err(Error::BufferTooSmall {
                proto: Proto::V2,
                required_len: MESSAGE_LEN,
                len: buffer.len(),
            });
        }
        let mut packet = Packet::new_unchecked(&mut buffer[..MESSAGE_LEN]);
        packet.set_version(self.version);
        packet.set_order(self.order);
        packet.set_size(self.size);
        packet.set_payload(self.payload);
        Ok(())
    }

    /// The 29 bytes as an array.
    pub fn to_bytes(&self) -> [u8; MESSAGE_LEN] {
        let mut out = [0u8; MESSAGE_LEN];
        // Cannot fail: the array is exactly MESSAGE_LEN long.
        let _ = self.emit(&mut out);
        out
    }
}

/// The framing rule of v2: every 29 bytes are one message.
#[derive(Debug, Clone, Copy, Default)]
pub struct V2Decoder;

impl crate::Decoder for V2Decoder {
    fn proto(&self) -> Proto {
        Proto::V2
    }
    fn frame_len(&self, buf: &[u8], _offset: u64) -> Result<Option<usize>, Error> {
        Ok((buf.len() >= MESSAGE_LEN).then_some(MESSAGE_LEN))
    }
    fn min_len(&self) -> usize {
        MESSAGE_LEN
    }
}

pub(crate) fn be_u32(bytes: &[u8]) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&bytes[..4]);
    u32::from_be_bytes(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// python3 -c "import struct; print(struct.pack('!BII20s',1,7,5,b'hello').hex())"
    const HELLO: &str = "01000000070000000568656c6c6f000000000000000000000000000000";
    /// python3 -c "import struct; print(struct.pack('!BII20s',1,2,26,b'abcdefghijklmnopqrstuvwxyz').hex())"
    const ALPHABET: &str = "01000000020000001a6162636465666768696a6b6c6d6e6f7071727374";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn parses_python_vector() {
        let bytes = hex(HELLO);
        assert_eq!(bytes.len(), 29);
        let repr = Repr::parse(&bytes).unwrap();
        assert_eq!(
            repr,
            Repr {
                version: 1,
                order: 7,
                size: 5,
                payload: b"hello"
            }
        );
        assert!(!repr.truncated());
        assert_eq!(repr.to_bytes().to_vec(), bytes);
    }

    #[test]
    fn long_message_is_truncated_with_size_kept() {
        let bytes = hex(ALPHABET);
        let repr = Repr::parse(&bytes).unwrap();
        assert_eq!(repr.size, 26);
        assert_eq!(repr.payload, b"abcdefghijklmnopqrst");
        assert!(repr.truncated());
        let built = Repr::new(1, 2, b"abcdefghijklmnopqrstuvwxyz");
        assert_eq!(built.to_bytes().to_vec(), bytes);
    }

    #[test]
    fn view_reads_fields() {
        let bytes = hex(HELLO);
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!((p.version(), p.order(), p.size()), (1, 7, 5));
        assert_eq!(p.payload(), b"hello");
        assert_eq!(p.payload_field().len(), 20);
    }

    #[test]
    fn short_buffer_error_text() {
        let err = Repr::parse(&[1, 0, 0]).unwrap_err();
        assert_eq!(err.to_string(), "v2 message needs 29 bytes, only 3 arrived");
        let err = Repr::new(1, 1, b"x").emit(&mut [0u8; 10]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "v2 message needs a 29-byte buffer to be written, the buffer has 10"
        );
    }
}
