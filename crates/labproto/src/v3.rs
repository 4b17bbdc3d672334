//! v3: variable-size binary messages, `struct.pack('!BII', version, order, size) + payload`.
//!
//! ```text
//!  0        1                 5                 9
//! +--------+-----------------+-----------------+---------------------------+
//! |version |  order (u32 BE) |  size (u32 BE)  | payload: `size` bytes ... |
//! +--------+-----------------+-----------------+---------------------------+
//! ```
//! The size field is untrusted: framers refuse sizes above a limit
//! ([`crate::DEFAULT_MAX_SIZE`] unless configured) instead of allocating for them.
//!
//! Panics: [`Packet::new_unchecked`] accessors panic on a buffer shorter than the
//! header (or, for [`Packet::payload`], than header + size); [`Packet::new_checked`]
//! rules that out, and nothing else panics.

use crate::v2::be_u32;
use crate::{Error, Part, Proto};

/// Field byte ranges, declared once; every accessor and the Lua dissector use these.
pub mod field {
    use core::ops::{Range, RangeFrom};
    /// Protocol version (`B`).
    pub const VERSION: usize = 0;
    /// Packet order (`I`, big-endian).
    pub const ORDER: Range<usize> = 1..5;
    /// Payload size in bytes (`I`, big-endian).
    pub const SIZE: Range<usize> = 5..9;
    /// Payload: `size` bytes.
    pub const PAYLOAD: RangeFrom<usize> = 9..;
}

/// Bytes in a v3 header.
pub const HEADER_LEN: usize = field::PAYLOAD.start;
/// The Python `struct` format string of the v3 header.
pub const STRUCT_FORMAT: &str = "!BII";

/// A zero-copy view of a v3 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wrap a buffer, checking it holds the header and the `size` payload bytes it announces.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let len = buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated {
                proto: Proto::V3,
                part: Part::Header,
                required_len: HEADER_LEN,
                len,
            });
        }
        let packet = Packet { buffer };
        let required_len = packet.total_len();
        if (len as u64) < required_len {
            return Err(Error::Truncated {
                proto: Proto::V3,
                part: Part::Message,
                required_len: usize::try_from(required_len).unwrap_or(usize::MAX),
                len,
            });
        }
        Ok(packet)
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
    pub fn size(&self) -> u32 {
        be_u32(&self.buffer.as_ref()[field::SIZE])
    }
    /// Header plus announced payload, in bytes (u64: a u32 size plus 9 cannot overflow).
    pub fn total_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.size())
    }
    /// The `size` payload bytes.
    pub fn payload(&self) -> &[u8] {
        let end = HEADER_LEN + self.size() as usize;
        &self.buffer.as_ref()[HEADER_LEN..end]
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
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + self.size() as usize;
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// A plain v3 message; the size field is `payload.len()` by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    pub version: u8,
    pub order: u32,
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Parse one whole v3 message from the front of `buffer` (extra bytes are ignored).
    pub fn parse(buffer: &'a [u8]) -> Result<Repr<'a>, Error> {
        let packet = Packet::new_checked(buffer)?;
        let end = HEADER_LEN + packet.size() as usize;
        Ok(Repr {
            version: packet.version(),
            order: packet.order(),
            payload: &buffer[HEADER_LEN..end],
        })
    }

    /// The value of the size field.
    pub fn size(&self) -> u32 {
        u32::try_from(self.payload.len()).unwrap_or(u32::MAX)
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Write header and payload into the front of `buffer`.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<(), Error> {
        let size = u32::try_from(self.payload.len()).map_err(|_| Error::PayloadTooLong {
            len: self.payload.len(),
        })?;
        let required_len = self.buffer_len();
        if buffer.len() < required_len {
            return Err(Error::BufferTooSmall {
                proto: Proto::V3,
                required_len,
                len: buffer.len(),
            });
        }
        let mut packet = Packet::new_unchecked(&mut buffer[..required_len]);
        packet.set_version(self.version);
        packet.set_order(self.order);
        packet.set_size(size);
        packet.payload_mut().copy_from_slice(self.payload);
        Ok(())
    }

    /// Append the encoded message to `out`.
    pub fn emit_to_vec(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        out.resize(start + self.buffer_len(), 0);
        let result = self.emit(&mut out[start..]);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    pub fn to_vec(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(self.buffer_len());
        self.emit_to_vec(&mut out)?;
        Ok(out)
    }
}

/// The framing rule of v3: a 9-byte header, then `size` bytes; sizes over `max_size`
/// are refused.
#[derive(Debug, Clone, Copy)]
pub struct V3Decoder {
    pub max_size: u32,
}

impl Default for V3Decoder {
    fn default() -> Self {
        V3Decoder {
            max_size: crate::DEFAULT_MAX_SIZE,
        }
    }
}

impl V3Decoder {
    pub fn new(max_size: u32) -> V3Decoder {
        V3Decoder { max_size }
    }
}

impl crate::Decoder for V3Decoder {
    fn proto(&self) -> Proto {
        Proto::V3
    }
    fn frame_len(&self, buf: &[u8], offset: u64) -> Result<Option<usize>, Error> {
        if buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let size = be_u32(&buf[field::SIZE]);
        if size > self.max_size {
            return Err(Error::SizeOverLimit {
                offset,
                size,
                limit: self.max_size,
            });
        }
        let total = HEADER_LEN + size as usize;
        Ok((buf.len() >= total).then_some(total))
    }
    fn min_len(&self) -> usize {
        HEADER_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python_payload() -> Vec<u8> {
        // python3: bytes((i*7+3)%256 for i in range(300))
        (0..300u32).map(|i| ((i * 7 + 3) % 256) as u8).collect()
    }

    #[test]
    fn python_vector_300_bytes() {
        // python3 -c "import struct; p=bytes((i*7+3)%256 for i in range(300));
        //   print((struct.pack('!BII',1,9,300)+p)[:20].hex())"
        let header_and_start = "01000000090000012c030a11181f262d343b4249";
        let payload = python_payload();
        let mut expected = Vec::new();
        for i in (0..header_and_start.len()).step_by(2) {
            expected.push(u8::from_str_radix(&header_and_start[i..i + 2], 16).unwrap());
        }
        expected.extend_from_slice(&payload[11..]);
        assert_eq!(expected.len(), 309);

        let repr = Repr::parse(&expected).unwrap();
        assert_eq!(repr.version, 1);
        assert_eq!(repr.order, 9);
        assert_eq!(repr.size(), 300);
        assert_eq!(repr.payload, &payload[..]);
        assert_eq!(repr.to_vec().unwrap(), expected);
    }

    #[test]
    fn hello_vector() {
        // python3 -c "import struct; print((struct.pack('!BII',1,3,5)+b'hello').hex())"
        let bytes = [1, 0, 0, 0, 3, 0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o'];
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!((p.version(), p.order(), p.size()), (1, 3, 5));
        assert_eq!(p.payload(), b"hello");
        assert_eq!(
            Repr {
                version: 1,
                order: 3,
                payload: b"hello"
            }
            .to_vec()
            .unwrap(),
            bytes
        );
    }

    #[test]
    fn error_texts() {
        assert_eq!(
            Repr::parse(&[1, 0, 0, 0]).unwrap_err().to_string(),
            "v3 header needs 9 bytes, only 4 arrived"
        );
        assert_eq!(
            Repr::parse(&[1, 0, 0, 0, 1, 0, 0, 0, 5, b'h'])
                .unwrap_err()
                .to_string(),
            "v3 message needs 14 bytes, only 10 arrived"
        );
        let err = Repr {
            version: 1,
            order: 1,
            payload: b"abc",
        }
        .emit(&mut [0u8; 5])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "v3 message needs a 12-byte buffer to be written, the buffer has 5"
        );
    }

    #[test]
    fn huge_size_field_is_checked_not_allocated() {
        let bytes = [1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
        let err = Repr::parse(&bytes).unwrap_err();
        assert_eq!(
            err.to_string(),
            "v3 message needs 4294967304 bytes, only 9 arrived"
        );
    }
}
