//! The byte map of a v2 or v3 message: offsets, fields, big-endian values, and how
//! `struct.unpack` reads them (exercises 4.2 and 5.2).

use super::words;
use crate::event::{ConversationRecord, Dir, MessageEvent};
use std::fmt::Write as _;

/// Payload bytes shown in hex; the rest are counted.
const HEX_SHOWN: usize = 6;

fn hex(bytes: &[u8]) -> String {
    let mut s: Vec<String> = bytes
        .iter()
        .take(HEX_SHOWN)
        .map(|b| format!("{b:02x}"))
        .collect();
    if bytes.len() > HEX_SHOWN {
        s.push("…".to_string());
    }
    s.join(" ")
}

/// `b'hello'` as Python prints a bytes object (cut after 20 characters).
fn py_bytes(bytes: &[u8]) -> String {
    let mut s = String::from("b'");
    for &b in bytes.iter().take(20) {
        match b {
            b'\'' => s.push_str("\\'"),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('\'');
    if bytes.len() > 20 {
        s.push('…');
    }
    s
}

fn row(out: &mut String, offsets: &str, bytes: &str, field: &str, code: &str, value: &str) {
    let first = format!("      {offsets:<9} {bytes:<28} {field:<8} {code:<4} ");
    out.push_str(&words::wrap(
        &first,
        &" ".repeat(first.chars().count()),
        value,
    ));
}

/// `1–4`: the byte offsets of a field, as the map lists them (inclusive).
fn span(range: std::ops::Range<usize>) -> String {
    match range.len() {
        0 => "-".to_string(),
        1 => range.start.to_string(),
        _ => format!("{}–{}", range.start, range.end - 1),
    }
}

/// The byte map of `m` (a v2 or v3 message of conversation `c`); empty for text.
pub fn map(c: &ConversationRecord, m: &MessageEvent) -> String {
    let (Some(version), Some(order), Some(size)) = (m.version, m.order, m.size) else {
        return String::new();
    };
    let v2 = m.proto == labproto::Proto::V2;
    let (fmt, data) = if v2 {
        (labproto::v2::STRUCT_FORMAT, "data")
    } else {
        (labproto::v3::STRUCT_FORMAT, "data[:9]")
    };
    let arrow = match m.dir {
        Dir::ClientToServer => "c→s",
        Dir::ServerToClient => "s→c",
    };
    let mut out = words::wrap(
        "    ",
        "    ",
        &format!(
            "Byte map of the first {} message ({arrow}, {}), as struct.unpack('{fmt}', {data}) reads it:",
            m.proto,
            words::frames(&m.frames)
        ),
    );
    row(&mut out, "offset", "bytes (hex)", "field", "code", "value");
    header_rows(&mut out, version, order, size, v2);
    if v2 {
        v2_payload_row(&mut out, &m.payload_bytes);
    } else {
        v3_payload_row(&mut out, &m.payload_bytes, size);
    }
    for n in notes(c, m, fmt, data, (version, order, size)) {
        out.push_str(&words::wrap("      - ", "        ", &n));
    }
    out
}

/// The three header fields, at the offsets labproto's `field` modules give (v2 and
/// v3 share them).
fn header_rows(out: &mut String, version: u8, order: u32, size: u32, v2: bool) {
    use labproto::v3::field;
    let version_at = field::VERSION..field::VERSION + 1;
    row(
        out,
        &span(version_at),
        &hex(&[version]),
        "version",
        "B",
        &version.to_string(),
    );
    row(
        out,
        &span(field::ORDER),
        &hex(&order.to_be_bytes()),
        "order",
        "I",
        &order.to_string(),
    );
    let size_value = if v2 && size as usize > labproto::v2::PAYLOAD_LEN {
        format!("{size} (the original length; only 20 bytes travel)")
    } else {
        size.to_string()
    };
    row(
        out,
        &span(field::SIZE),
        &hex(&size.to_be_bytes()),
        "size",
        "I",
        &size_value,
    );
}

/// v2's `20s`: always 20 bytes, NUL-padded.
fn v2_payload_row(out: &mut String, payload: &[u8]) {
    let pad = labproto::v2::PAYLOAD_LEN.saturating_sub(payload.len());
    let value = if pad > 0 {
        format!(
            "{}, then {pad} more {} that unpack returns too, since 20s always reads 20 bytes \
             (struct.pack fills a short string up with NUL bytes; strip them with \
             .rstrip(b'\\0'))",
            py_bytes(payload),
            if pad == 1 { "byte" } else { "bytes" }
        )
    } else {
        py_bytes(payload)
    };
    let shown = if pad > 0 && payload.len() <= HEX_SHOWN {
        format!("{} … (20)", hex(payload))
    } else {
        format!("{} (20)", hex(payload))
    };
    let at = span(labproto::v2::field::PAYLOAD);
    row(out, &at, &shown, "payload", "20s", &value);
}

/// v3's payload: `size` bytes after the header, not part of the struct.
fn v3_payload_row(out: &mut String, payload: &[u8], size: u32) {
    let start = labproto::v3::HEADER_LEN;
    let value = format!(
        "{}: not part of the struct; the receiver reads exactly size = {size} more bytes after the \
         9-byte header",
        py_bytes(payload)
    );
    row(
        out,
        &span(start..start + payload.len()),
        &format!("{} ({})", hex(payload), payload.len()),
        "payload",
        "",
        &value,
    );
}

/// What `!` and the codes mean, and where the message sits in the stream.
fn notes(
    c: &ConversationRecord,
    m: &MessageEvent,
    fmt: &str,
    data: &str,
    (version, order, size): (u8, u32, u32),
) -> Vec<String> {
    let v2 = m.proto == labproto::Proto::V2;
    let mut notes = vec![format!(
        "'!' means network byte order (big-endian: the most significant byte first) and no padding \
         between fields; B is one unsigned byte, I an unsigned 4-byte integer{}, so \
         struct.unpack('{fmt}', {data}) gives ({version}, {order}, {size}{}){}",
        if v2 { ", 20s a 20-byte string" } else { "" },
        if v2 { ", b'...'" } else { "" },
        if v2 {
            "; data must be exactly 29 bytes"
        } else {
            "; then data[9:9 + size] is the payload"
        },
    )];
    let isn = c.tcp.as_ref().and_then(|t| match m.dir {
        Dir::ClientToServer => t.client_isn,
        Dir::ServerToClient => t.server_isn,
    });
    if let (Some(offset), Some(isn)) = (m.offset, isn) {
        let raw = isn.wrapping_add(1).wrapping_add(offset as u32);
        notes.push(format!(
            "its first byte is byte {offset} of the {}'s stream: Wireshark's relative seq {} (raw \
             seq {raw} = ISN {isn} + {})",
            m.dir.sender(),
            offset + 1,
            offset + 1
        ));
    }
    notes
}
