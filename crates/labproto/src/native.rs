//! Where the fields sit when a lab message is packed without `!`: Python's `struct`
//! then uses the machine's native alignment and byte order (little-endian on the
//! x86-64 Linux of the lab), so padding bytes appear and the header grows.
//!
//! Declared once, as `v2::field` and `v3::field` are for the lab's own formats: the
//! `mistakes` recognisers read these ranges, and so does `labnet check client` when
//! it frames a student's messages the student's way.

/// `struct.pack('BLL20s', ...)` on x86-64 Linux: `B`, 7 padding bytes, `Q` order,
/// `Q` size, `20s`: 44 bytes.
pub mod bll20s {
    use core::ops::Range;
    /// The format string.
    pub const FORMAT: &str = "BLL20s";
    /// Padding after the version byte (zero).
    pub const PADDING: Range<usize> = 1..8;
    /// Packet order (8 bytes, little-endian).
    pub const ORDER: Range<usize> = 8..16;
    /// Original message size (8 bytes, little-endian).
    pub const SIZE: Range<usize> = 16..24;
    /// Payload (`20s`).
    pub const PAYLOAD: Range<usize> = 24..44;
    /// Bytes in a message.
    pub const MESSAGE_LEN: usize = PAYLOAD.end;
}

/// `struct.pack('BII20s', ...)`: `B`, 3 padding bytes, `I` order, `I` size, `20s`:
/// 32 bytes.
pub mod bii20s {
    use core::ops::Range;
    /// The format string.
    pub const FORMAT: &str = "BII20s";
    /// Padding after the version byte (zero).
    pub const PADDING: Range<usize> = 1..4;
    /// Packet order (4 bytes, little-endian).
    pub const ORDER: Range<usize> = 4..8;
    /// Original message size (4 bytes, little-endian).
    pub const SIZE: Range<usize> = 8..12;
    /// Payload (`20s`).
    pub const PAYLOAD: Range<usize> = 12..32;
    /// Bytes in a message.
    pub const MESSAGE_LEN: usize = PAYLOAD.end;
}

/// `struct.pack('BII', ...) + payload`: a 12-byte header (`B`, 3 padding bytes,
/// `I` order, `I` size), then `size` bytes.
pub mod bii {
    use core::ops::{Range, RangeFrom};
    /// The format string.
    pub const FORMAT: &str = "BII";
    /// Padding after the version byte (zero).
    pub const PADDING: Range<usize> = 1..4;
    /// Packet order (4 bytes, little-endian).
    pub const ORDER: Range<usize> = 4..8;
    /// Payload size (4 bytes, little-endian).
    pub const SIZE: Range<usize> = 8..12;
    /// Payload: `size` bytes.
    pub const PAYLOAD: RangeFrom<usize> = 12..;
    /// Bytes in the header.
    pub const HEADER_LEN: usize = PAYLOAD.start;
}
