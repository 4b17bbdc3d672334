//! # labproto: the sockets lab's wire formats, defined once
//!
//! The lab (exercises 1–5) sends three kinds of application data to port 5005:
//!
//! | kind | Python that writes it | framing |
//! |------|-----------------------|---------|
//! | text | `sock.send(msg.encode())` | none: bytes as sent (UDP: one datagram = one message) |
//! | v2   | `struct.pack('!BII20s', version, order, size, payload)` | fixed 29 bytes |
//! | v3   | `struct.pack('!BII', version, order, size) + payload` | 9-byte header + `size` bytes |
//!
//! Every program of the workspace (servers, clients, the sniffer) uses this crate, so
//! the bytes they read and write cannot drift apart.
//!
//! ## Layout of the crate
//! - [`v2`] and [`v3`]: per format a zero-copy [`v2::Packet`] view over a byte slice
//!   (field offsets declared once, in a private `field` module) and a plain
//!   [`v2::Repr`] with `parse` and `emit`, in the style of smoltcp's `wire` module.
//! - [`framer`]: the streaming framing contract shared by servers and the sniffer:
//!   push bytes in any split, take whole frames out; `Ok(None)` means "need more".
//! - [`detect`]: how plausible text, v2 or v3 is for the first bytes of a stream, and
//!   how to find a provable message boundary again after a capture gap.
//! - [`mistakes`]: recognisers for the classic `struct` mistakes (native alignment,
//!   little-endian headers, a size field that disagrees with the data).
//! - [`native`]: the field offsets of the lab's messages packed with native alignment
//!   (the formats without `!`), declared once as the `field` modules are.
//! - [`Error`]: every failure, carrying its numbers, printing a plain explanation.
//!
//! ## Panics
//! Nothing in this crate panics on any input bytes. `Packet::new_unchecked` views may
//! panic on field access when the buffer is too short, exactly as smoltcp's do; use
//! `Packet::new_checked` (or the framers, which only hand out whole frames) for
//! untrusted input.

mod chain;
pub mod detect;
mod error;
pub mod framer;
pub mod lua;
mod message;
pub mod mistakes;
pub mod native;
pub mod text;
pub mod v2;
pub mod v3;

pub use error::{Error, Part};
pub use framer::{Decoder, Frame, Framer};
pub use message::Message;

/// The port every exercise of the lab uses.
pub const LAB_PORT: u16 = 5005;

/// Default cap on a v3 size field: a larger announced size is an error, never an allocation.
pub const DEFAULT_MAX_SIZE: u32 = 1024 * 1024;

/// Which of the lab's application protocols a stream or datagram carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    /// Text, no framing (exercises 1–3).
    Text,
    /// Fixed 29-byte binary messages, `!BII20s` (exercise 4).
    V2,
    /// Variable-size binary messages, `!BII` + payload (exercise 5).
    V3,
}

impl Proto {
    /// The name used on the command line and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Text => "text",
            Proto::V2 => "v2",
            Proto::V3 => "v3",
        }
    }
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // pad, not write_str: a width in the format string ({:<5}) applies.
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for Proto {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Proto::Text),
            "v2" => Ok(Proto::V2),
            "v3" => Ok(Proto::V3),
            other => Err(format!(
                "unknown protocol '{other}': expected text, v2 or v3"
            )),
        }
    }
}
