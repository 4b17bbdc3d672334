//! What the student's bytes are, named with labproto's framers and `mistakes`
//! recognisers: a struct mistake, a header field that changed, or a cut echo.

use labproto::mistakes::{self, Mistake};
use labproto::{v2, v3, Message, Proto};

/// The v3 size field largest we accept when naming bytes.
const MAX_SIZE: u32 = labproto::DEFAULT_MAX_SIZE;

/// The lab's format string for `proto`, in the student's terms.
pub fn lab_format(proto: Proto) -> &'static str {
    match proto {
        Proto::Text => "text",
        Proto::V2 => "'!BII20s'",
        Proto::V3 => "'!BII' + payload",
    }
}

/// The fix for a recognised struct mistake.
pub fn mistake_fix(m: &Mistake) -> String {
    match m {
        Mistake::NativeAlignment { .. } | Mistake::LittleEndian { .. } => match m.proto() {
            Proto::V2 => "use '!BII20s' (network byte order)".to_string(),
            _ => "use '!BII' (network byte order) for the header".to_string(),
        },
        Mistake::SizeMismatch { .. } => {
            "put the payload's real length in the size field: len(payload)".to_string()
        }
    }
}

/// A struct mistake the bytes show, if any.
pub fn mistake(proto: Proto, bytes: &[u8], at_end: bool) -> Option<Mistake> {
    if proto == Proto::Text {
        return None;
    }
    mistakes::recognise(Some(proto), bytes, MAX_SIZE, at_end)
        .into_iter()
        .next()
}

/// Why `got` is not the echo of `sent` (both one or more whole lab messages), and
/// the fix; `None` when they are equal.
pub fn echo_difference(proto: Proto, sent: &[u8], got: &[u8]) -> Option<(String, String)> {
    if sent == got {
        return None;
    }
    let unchanged = match proto {
        Proto::Text => "echo the bytes you received unchanged with sendall(data)",
        _ => {
            "echo the bytes you received unchanged with sendall(data) instead of packing a \
             new header"
        }
    };
    if got.len() > sent.len() && got.starts_with(sent) {
        return Some((
            format!(
                "the message came back, then {} bytes more",
                got.len() - sent.len()
            ),
            "send exactly one echo per message: sendall(data) once".to_string(),
        ));
    }
    // A prefix of the message is a cut echo, whatever its header would say alone.
    if got.len() < sent.len() && sent.starts_with(got) {
        return Some((
            format!("only {} of {} bytes came back", got.len(), sent.len()),
            match proto {
                Proto::V3 => {
                    "loop on recv() until you have 9 header bytes, then size more, and \
                              echo with sendall()"
                }
                Proto::V2 => "loop on recv() until you have all 29 bytes, and echo with sendall()",
                Proto::Text => "use sendall() for the echo",
            }
            .to_string(),
        ));
    }
    if let Some(m) = mistake(proto, got, true) {
        return Some((
            format!("the echo is not {}: {m}", lab_format(proto)),
            mistake_fix(&m),
        ));
    }

    if let (Some(a), Some(b)) = (first_message(proto, sent), first_message(proto, got)) {
        let mut changed = Vec::new();
        if a.version != b.version {
            changed.push(format!("version {:?} → {:?}", a.version, b.version));
        }
        if a.order != b.order {
            changed.push(format!(
                "order {} → {}",
                a.order.unwrap_or(0),
                b.order.unwrap_or(0)
            ));
        }
        if a.size != b.size {
            changed.push(format!(
                "size {} → {}",
                a.size.unwrap_or(0),
                b.size.unwrap_or(0)
            ));
        }
        if a.payload != b.payload {
            changed.push("payload differs".to_string());
        }
        if !changed.is_empty() {
            return Some((
                format!(
                    "the echo changed the message: {} (sent {a})",
                    changed.join(", "),
                ),
                unchanged.to_string(),
            ));
        }
    }
    let at = sent
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(sent.len().min(got.len()));
    Some((
        format!(
            "the echo differs from byte {at} on ({} bytes sent, {} received)",
            sent.len(),
            got.len()
        ),
        unchanged.to_string(),
    ))
}

/// The first whole lab message in `bytes`, decoded.
fn first_message(proto: Proto, bytes: &[u8]) -> Option<Message> {
    let len = match proto {
        Proto::Text => return None,
        Proto::V2 => v2::MESSAGE_LEN,
        Proto::V3 => {
            let p = v3::Packet::new_checked(bytes).ok()?;
            usize::try_from(p.total_len()).ok()?
        }
    };
    Message::decode(proto, bytes.get(..len)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
            .collect()
    }

    #[test]
    fn a_native_struct_echo_is_named_with_its_fix() {
        let sent = Message::new(Proto::V2, 1, 1, b"hello")
            .map(|m| m.encode())
            .unwrap_or_default();
        // python3 -c "import struct; print(struct.pack('BII20s',1,1,5,b'hello').hex())"
        let got = hex("01000000010000000500000068656c6c6f000000000000000000000000000000");
        let (why, fix) = echo_difference(Proto::V2, &sent, &got).unwrap_or_default();
        assert!(
            why.contains("struct.pack('BII20s', ...) without '!'"),
            "{why}"
        );
        assert_eq!(fix, "use '!BII20s' (network byte order)");
    }

    #[test]
    fn a_rebuilt_header_names_the_field_that_changed() {
        let text = b"an original message of 37 bytes: ok!!";
        let sent = v2::Repr::new(1, 1, text).to_bytes();
        let got = v2::Repr::new(1, 1, &text[..20]).to_bytes();
        let (why, fix) = echo_difference(Proto::V2, &sent, &got).unwrap_or_default();
        assert!(
            why.starts_with("the echo changed the message: size 37 → 20"),
            "{why}"
        );
        assert!(
            fix.starts_with("echo the bytes you received unchanged"),
            "{fix}"
        );
        // Order too, for v3.
        let a = v3::Repr {
            version: 1,
            order: 1,
            payload: b"hi",
        }
        .to_vec()
        .unwrap_or_default();
        let b = v3::Repr {
            version: 1,
            order: 7,
            payload: b"hi",
        }
        .to_vec()
        .unwrap_or_default();
        let (why, _) = echo_difference(Proto::V3, &a, &b).unwrap_or_default();
        assert!(why.contains("order 1 → 7"), "{why}");
    }

    #[test]
    fn a_cut_echo_and_an_equal_one() {
        let sent = v3::Repr {
            version: 1,
            order: 1,
            payload: b"hello there",
        }
        .to_vec()
        .unwrap_or_default();
        let (why, fix) = echo_difference(Proto::V3, &sent, &sent[..9]).unwrap_or_default();
        assert_eq!(why, "only 9 of 20 bytes came back");
        assert!(fix.starts_with("loop on recv() until you have 9 header bytes"));
        assert_eq!(echo_difference(Proto::V3, &sent, &sent), None);
    }
}
