//! An owned, protocol-independent message: what servers log and the sniffer reports.

use crate::{text, v2, v3, Error, Proto};
use std::fmt;

/// Payload bytes shown by `Display`; the rest is summarised by its length.
pub const PREVIEW_BYTES: usize = 80;

/// One decoded lab message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub proto: Proto,
    /// Header fields; `None` for text.
    pub version: Option<u8>,
    pub order: Option<u32>,
    /// The size field: for v2 the original message length, for v3 the payload length.
    pub size: Option<u32>,
    /// The payload bytes carried (v2: at most 20).
    pub payload: Vec<u8>,
    /// v2 only: the original message was longer than the 20 bytes carried.
    pub truncated: bool,
}

impl Message {
    /// Decode one whole frame (as a [`crate::Framer`] hands it out) of `proto`.
    pub fn decode(proto: Proto, frame: &[u8]) -> Result<Message, Error> {
        Ok(match proto {
            Proto::Text => Message::text(frame),
            Proto::V2 => {
                let r = v2::Repr::parse(frame)?;
                Message {
                    proto,
                    version: Some(r.version),
                    order: Some(r.order),
                    size: Some(r.size),
                    payload: r.payload.to_vec(),
                    truncated: r.truncated(),
                }
            }
            Proto::V3 => {
                let r = v3::Repr::parse(frame)?;
                Message {
                    proto,
                    version: Some(r.version),
                    order: Some(r.order),
                    size: Some(r.size()),
                    payload: r.payload.to_vec(),
                    truncated: false,
                }
            }
        })
    }

    pub fn text(bytes: &[u8]) -> Message {
        Message {
            proto: Proto::Text,
            version: None,
            order: None,
            size: None,
            payload: bytes.to_vec(),
            truncated: false,
        }
    }

    /// The message a client sends: v2 cuts the payload to 20 bytes and keeps the size.
    pub fn new(proto: Proto, version: u8, order: u32, message: &[u8]) -> Result<Message, Error> {
        match proto {
            Proto::Text => Ok(Message::text(message)),
            Proto::V2 => {
                let r = v2::Repr::new(version, order, message);
                Ok(Message {
                    proto,
                    version: Some(version),
                    order: Some(order),
                    size: Some(r.size),
                    payload: r.payload.to_vec(),
                    truncated: r.truncated(),
                })
            }
            Proto::V3 => {
                let size = u32::try_from(message.len())
                    .map_err(|_| Error::PayloadTooLong { len: message.len() })?;
                Ok(Message {
                    proto,
                    version: Some(version),
                    order: Some(order),
                    size: Some(size),
                    payload: message.to_vec(),
                    truncated: false,
                })
            }
        }
    }

    /// The bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let version = self.version.unwrap_or(1);
        let order = self.order.unwrap_or(0);
        match self.proto {
            Proto::Text => self.payload.clone(),
            Proto::V2 => v2::Repr {
                version,
                order,
                size: self.size.unwrap_or(self.payload.len() as u32),
                payload: &self.payload,
            }
            .to_bytes()
            .to_vec(),
            Proto::V3 => {
                let mut out = Vec::with_capacity(v3::HEADER_LEN + self.payload.len());
                let repr = v3::Repr {
                    version,
                    order,
                    payload: &self.payload,
                };
                // Payloads longer than u32::MAX cannot be built by `new`; `decode` cannot
                // produce them either, so this only fails on hand-made values.
                if repr.emit_to_vec(&mut out).is_err() {
                    out.clear();
                }
                out
            }
        }
    }

    /// The payload as text (invalid UTF-8 replaced).
    pub fn payload_lossy(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

impl fmt::Display for Message {
    /// `v3 version=1 order=2 size=5 payload="hello"`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.proto)?;
        if let (Some(v), Some(o), Some(s)) = (self.version, self.order, self.size) {
            write!(f, " version={v} order={o} size={s}")?;
        }
        // Logs are for people: a 100 kB payload is shown by its start and its length.
        let shown = &self.payload[..self.payload.len().min(PREVIEW_BYTES)];
        write!(f, " payload=\"{}\"", text::escape(shown))?;
        if self.payload.len() > PREVIEW_BYTES {
            write!(f, "… (+{} more bytes)", self.payload.len() - PREVIEW_BYTES)?;
        }
        if self.truncated {
            write!(
                f,
                " (truncated: {} of {} bytes carried)",
                self.payload.len(),
                self.size.unwrap_or(0)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_round_trip() {
        let m = Message::new(Proto::V2, 1, 3, b"abcdefghijklmnopqrstuvwxyz").unwrap();
        assert_eq!(
            m.to_string(),
            "v2 version=1 order=3 size=26 payload=\"abcdefghijklmnopqrst\" (truncated: 20 of 26 bytes carried)"
        );
        assert_eq!(Message::decode(Proto::V2, &m.encode()).unwrap(), m);
        let m = Message::new(Proto::V3, 1, 4, b"hi\n").unwrap();
        assert_eq!(
            m.to_string(),
            "v3 version=1 order=4 size=3 payload=\"hi\\n\""
        );
        assert_eq!(Message::decode(Proto::V3, &m.encode()).unwrap(), m);
        assert_eq!(Message::text(b"yo").to_string(), "text payload=\"yo\"");
        let long = Message::new(Proto::V3, 1, 5, &[b'x'; 100]).unwrap();
        assert_eq!(
            long.to_string(),
            format!(
                "v3 version=1 order=5 size=100 payload=\"{}\"… (+20 more bytes)",
                "x".repeat(80)
            )
        );
    }
}
