//! The checks: one function per requirement, from the [`Facts`] of a capture to a
//! [`Verdict`] whose evidence, in English, names the frames to open. Grouped by
//! subject: `udp` (datagrams, source ports), `tcp` (clients, handshakes,
//! concurrency), `echoes` (text, v2 and v3 echoed), `messages` (v2 and v3 messages,
//! one over several segments), `threads` (from the server's trace: one thread selecting,
//! or a thread per client). The small helpers they share live here.

mod echoes;
mod messages;
mod tcp;
mod threads;
mod udp;

pub use echoes::{text_echoed, v2_echoed, v3_echoed};
pub use messages::{v2_messages, v3_messages, v3_several_segments};
pub use tcp::{served_concurrently, two_tcp_clients};
pub use threads::{one_thread_selects, thread_per_client};
pub use udp::{two_source_ports, udp_datagrams};

use super::{Facts, Verdict, FRAMES_SHOWN};
use crate::event::{ConversationRecord, MessageEvent, TransportKind};
use labproto::Proto;

fn first_frame(m: &MessageEvent) -> u64 {
    m.frames.first().copied().unwrap_or(0)
}

/// "frames 3, 5, 9" (or "frame 3").
fn frames_text(frames: &[u64]) -> String {
    let mut frames = frames.to_vec();
    frames.sort_unstable();
    frames.dedup();
    let shown: Vec<String> = frames
        .iter()
        .take(FRAMES_SHOWN)
        .map(u64::to_string)
        .collect();
    let more = if frames.len() > FRAMES_SHOWN {
        ", …"
    } else {
        ""
    };
    match frames.len() {
        0 => "no frame".to_string(),
        1 => format!("frame {}", shown.join(", ")),
        _ => format!("frames {}{more}", shown.join(", ")),
    }
}

/// The lab-port TCP conversations carrying `proto`, or the verdict why there are none.
fn binary_convs<'a>(f: &Facts<'a>, proto: Proto) -> Result<Vec<&'a ConversationRecord>, Verdict> {
    let tcp = f.lab(TransportKind::Tcp);
    // A format problem labproto named is the best evidence of all.
    for c in &tcp {
        if let Some(d) = f.format_problems(c.conv).first() {
            return Err(Verdict::fail(
                format!(
                    "conversation {} ({}): {}",
                    c.conv,
                    c.client,
                    crate::words::diagnostic::text(d)
                ),
                d.frame.into_iter().collect(),
            ));
        }
    }
    let convs: Vec<_> = tcp
        .iter()
        .copied()
        .filter(|c| c.proto == Some(proto))
        .collect();
    if convs.is_empty() {
        let seen: Vec<String> = tcp
            .iter()
            .filter_map(|c| c.proto.map(|p| format!("{} ({p})", c.conv)))
            .collect();
        return Err(Verdict::fail(
            if seen.is_empty() {
                format!("no TCP conversation to port {} carried data", f.port)
            } else {
                format!(
                    "no {proto} conversation; conversations seen: {}",
                    seen.join(", ")
                )
            },
            tcp.iter().map(|c| c.first_frame).collect(),
        ));
    }
    Ok(convs)
}
