//! The message checks: the client's v2 or v3 messages well framed (each byte it sent
//! part of a whole message), and a v3 message carried by several TCP segments.

use super::{binary_convs, first_frame, frames_text};
use crate::event::Dir;
use crate::grade::{Facts, Verdict};
use labproto::Proto;

pub fn v2_messages(f: &Facts) -> Verdict {
    binary_messages(f, Proto::V2)
}

pub fn v3_messages(f: &Facts) -> Verdict {
    binary_messages(f, Proto::V3)
}

fn binary_messages(f: &Facts, proto: Proto) -> Verdict {
    let convs = match binary_convs(f, proto) {
        Ok(c) => c,
        Err(v) => return v,
    };
    let mut frames = Vec::new();
    let mut count = 0;
    for c in &convs {
        let sent = f.messages_of(c.conv, Dir::ClientToServer);
        let framed: u64 = sent
            .iter()
            .map(|m| {
                if proto == Proto::V2 {
                    labproto::v2::MESSAGE_LEN as u64
                } else {
                    labproto::v3::HEADER_LEN as u64 + m.payload_bytes.len() as u64
                }
            })
            .sum();
        // The collector keeps the first messages of each conversation only: the byte
        // count can be compared when every message was kept.
        let all_kept = sent.len() as u64 == c.messages_c2s;
        if sent.is_empty() || (all_kept && framed != c.bytes_c2s) {
            return Verdict::fail(
                format!(
                    "conversation {} ({}): the client sent {} bytes, of which {} make whole \
                     {proto} messages",
                    c.conv, c.client, c.bytes_c2s, framed
                ),
                sent.iter().map(|m| first_frame(m)).collect(),
            );
        }
        count += c.messages_c2s;
        frames.extend(sent.iter().map(|m| first_frame(m)));
    }
    let each = if proto == Proto::V2 {
        "29 bytes each"
    } else {
        "each size field matching its payload"
    };
    Verdict::pass(
        format!(
            "{count} {proto} messages in {} conversations, {each} ({})",
            convs.len(),
            frames_text(&frames)
        ),
        frames,
    )
}

pub fn v3_several_segments(f: &Facts) -> Verdict {
    let convs = match binary_convs(f, Proto::V3) {
        Ok(c) => c,
        Err(v) => return v,
    };
    let multi = convs
        .iter()
        .flat_map(|c| {
            f.index
                .messages_of(c.conv)
                .iter()
                .filter(|m| m.frames.len() > 1)
        })
        .next();
    match multi {
        Some(m) => Verdict::pass(
            format!(
                "the {} message order={} size={} was carried by {} segments ({})",
                m.dir.sender(),
                m.order.unwrap_or(0),
                m.size.unwrap_or(0),
                m.frames.len(),
                frames_text(&m.frames)
            ),
            m.frames.clone(),
        ),
        None => Verdict::fail(
            "every v3 message fit in one segment: send a long one (e.g. 100 kB) so TCP splits it",
            Vec::new(),
        ),
    }
}
