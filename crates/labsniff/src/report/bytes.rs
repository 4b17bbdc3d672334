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

/// The byte map of `m` (a v2 or v3 message of conversation `c`); empty for text.
pub fn map(c: &ConversationRecord, m: &MessageEvent) -> String {
    let (Some(version), Some(order), Some(size)) = (m.version, m.order, m.size) else {
        return String::new();
    };
    let v2 = m.proto == "v2";
    let (fmt, data) = if v2 {
        ("!BII20s", "data")
    } else {
        ("!BII", "data[:9]")
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
    row(
        &mut out,
        "0",
        &hex(&[version]),
        "version",
        "B",
        &version.to_string(),
    );
    row(
        &mut out,
        "1–4",
        &hex(&order.to_be_bytes()),
        "order",
        "I",
        &order.to_string(),
    );
    let size_value = if v2 && size > 20 {
        format!("{size} (the original length; only 20 bytes travel)")
    } else {
        size.to_string()
    };
    row(
        &mut out,
        "5–8",
        &hex(&size.to_be_bytes()),
        "size",
        "I",
        &size_value,
    );
    let payload = &m.payload_bytes;
    if v2 {
        let pad = 20usize.saturating_sub(payload.len());
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
        row(&mut out, "9–28", &shown, "payload", "20s", &value);
    } else {
        let end = 9 + payload.len();
        let offsets = match payload.len() {
            0 => "-".to_string(),
            1 => "9".to_string(),
            _ => format!("9–{}", end - 1),
        };
        let value = format!(
            "{}: not part of the struct; the receiver reads exactly size = {size} more bytes after the \
             9-byte header",
            py_bytes(payload)
        );
        row(
            &mut out,
            &offsets,
            &format!("{} ({})", hex(payload), payload.len()),
            "payload",
            "",
            &value,
        );
    }
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
    for n in notes {
        out.push_str(&words::wrap("      - ", "        ", &n));
    }
    out
}
