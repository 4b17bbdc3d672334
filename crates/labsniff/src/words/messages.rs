//! A lab message as the report names it: `order=1 size=5 "hello"`, its payload cut and
//! escaped, and (here too) a conversation's title line.

use super::transport;
use crate::event::{ConversationRecord, MessageEvent};
use std::fmt::Write as _;

/// Payload characters shown; longer payloads are cut and end in `…`.
pub const PAYLOAD_SHOWN: usize = 48;

/// Bytes of a payload escaped to decide what is shown. Every UTF-8 sequence (valid or
/// not) is at most 4 bytes and escapes to at least one character, and only the last 3
/// bytes of a cut can decode differently from the whole payload, so the escape of this
/// many bytes begins with the same `PAYLOAD_SHOWN + 1` characters as the escape of
/// all of them: enough to cut a long payload without escaping all of it (a v3 message
/// can carry megabytes).
const PAYLOAD_ESCAPED: usize = 4 * (PAYLOAD_SHOWN + 1) + 3;

/// The payload, escaped for a terminal, quoted, at most [`PAYLOAD_SHOWN`] characters.
pub fn payload(bytes: &[u8]) -> String {
    let mut out = String::new();
    payload_into(&mut out, bytes);
    out
}

/// [`payload`], appended to `out`.
pub fn payload_into(out: &mut String, bytes: &[u8]) {
    let head = bytes.get(..PAYLOAD_ESCAPED).unwrap_or(bytes);
    // Printable ASCII other than `\` and `"` (most payloads) escapes to itself, one
    // character a byte: no escaping, no counting.
    let plain = |b: &u8| matches!(b, b' '..=b'~') && !matches!(b, b'\\' | b'"');
    if head.iter().all(plain) {
        if let Ok(text) = std::str::from_utf8(head) {
            out.push('"');
            match text
                .get(..PAYLOAD_SHOWN)
                .filter(|_| text.len() > PAYLOAD_SHOWN)
            {
                None => {
                    out.push_str(text);
                    out.push('"');
                }
                Some(cut) => {
                    out.push_str(cut);
                    out.push_str("\"…");
                }
            }
            return;
        }
    }
    let escaped = labproto::text::escape(head);
    out.push('"');
    // The byte index of the first character past PAYLOAD_SHOWN, if there is one (there
    // always is when `head` is a cut, see PAYLOAD_ESCAPED).
    match escaped.char_indices().nth(PAYLOAD_SHOWN) {
        None => {
            out.push_str(&escaped);
            out.push('"');
        }
        Some((cut, _)) => {
            out.push_str(escaped.get(..cut).unwrap_or_default());
            out.push_str("\"…");
        }
    }
}

/// `order=1 size=5 "hello"` (v2/v3) or `"hello"` (text); v2 truncation said.
pub fn message(m: &MessageEvent) -> String {
    let mut s = String::new();
    message_into(&mut s, m);
    s
}

/// [`message`], appended to `out`.
pub fn message_into(out: &mut String, m: &MessageEvent) {
    if let (Some(o), Some(z)) = (m.order, m.size) {
        out.push_str("order=");
        out.push_str(itoa::Buffer::new().format(o));
        out.push_str(" size=");
        out.push_str(itoa::Buffer::new().format(z));
        out.push(' ');
    }
    payload_into(out, &m.payload_bytes);
    if m.truncated {
        let _ = write!(
            out,
            " (truncated: {} of {} bytes)",
            m.payload_bytes.len(),
            m.size.unwrap_or(0)
        );
    }
}

/// `Conversation 1: TCP v3, client 10.0.0.2:40000 → server 10.0.0.1:5005`.
pub fn conv_title(c: &ConversationRecord) -> String {
    let proto = c.proto.map(|p| format!(" {p}")).unwrap_or_default();
    format!(
        "Conversation {}: {}{proto}, client {} → server {}",
        c.conv,
        transport(c.transport),
        c.client,
        c.server
    )
}
