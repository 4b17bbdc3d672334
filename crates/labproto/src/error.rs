//! Every way lab bytes can be wrong, with the numbers a learner needs to find the fault.

use crate::Proto;

/// Which part of a message a length error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The fixed header (`!BII`, 9 bytes) of a v3 message.
    Header,
    /// A whole message (all 29 bytes of v2; header plus payload of v3).
    Message,
}

impl Part {
    fn as_str(self) -> &'static str {
        match self {
            Part::Header => "header",
            Part::Message => "message",
        }
    }
}

/// An error from parsing, emitting or framing lab messages.
///
/// Variants carry the numbers; `Display` explains them in plain words, once
/// (no variant wraps another error, so nothing is printed twice).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A buffer handed to a parser is shorter than the part it must hold.
    #[error("{proto} {} needs {required_len} bytes, only {len} arrived", part.as_str())]
    Truncated {
        proto: Proto,
        part: Part,
        required_len: usize,
        len: usize,
    },
    /// A buffer handed to an emitter is too small for the message.
    #[error(
        "{proto} message needs a {required_len}-byte buffer to be written, the buffer has {len}"
    )]
    BufferTooSmall {
        proto: Proto,
        required_len: usize,
        len: usize,
    },
    /// A v3 size field announces more than the configured limit. Framing stops here:
    /// nothing is allocated for the announced size.
    #[error(
        "v3 size field at stream offset {offset} says {size} bytes, more than the limit of {limit} bytes; \
         the stream cannot be framed past this point"
    )]
    SizeOverLimit { offset: u64, size: u32, limit: u32 },
    /// A v3 payload is too long for the 32-bit size field.
    #[error("v3 payload of {len} bytes does not fit the 32-bit size field")]
    PayloadTooLong { len: usize },
    /// The stream ended in the middle of a message.
    #[error(
        "stream ended inside a {proto} message that starts at stream offset {offset}: \
         the {} needs {required_len} bytes, only {len} arrived",
        part.as_str()
    )]
    IncompleteAtEnd {
        proto: Proto,
        part: Part,
        offset: u64,
        required_len: usize,
        len: usize,
    },
}

impl Error {
    /// A short stable identifier for programs (JSON output, log filters).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Truncated { .. } => "truncated",
            Error::BufferTooSmall { .. } => "buffer_too_small",
            Error::SizeOverLimit { .. } => "size_over_limit",
            Error::PayloadTooLong { .. } => "payload_too_long",
            Error::IncompleteAtEnd { .. } => "incomplete_at_end",
        }
    }

    /// The stream offset the error is about, when it has one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::SizeOverLimit { offset, .. } | Error::IncompleteAtEnd { offset, .. } => {
                Some(*offset)
            }
            _ => None,
        }
    }
}
