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
    if let Some(m) = mistake(proto, got, true) {
        return Some((
            format!("the echo is not {}: {m}", lab_format(proto)),
            mistake_fix(&m),
        ));
    }
    let unchanged = "echo the bytes you received unchanged with sendall(data) instead of \
                     packing a new header";
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
