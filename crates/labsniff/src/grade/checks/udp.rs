//! The UDP checks: datagrams sent to the lab port, and from how many source ports.

use super::{first_frame, frames_text};
use crate::event::{Dir, TransportKind};
use crate::grade::{Facts, Verdict};

pub fn udp_datagrams(f: &Facts) -> Verdict {
    let frames: Vec<u64> = f
        .lab(TransportKind::Udp)
        .iter()
        .flat_map(|c| f.messages_of(c.conv, Dir::ClientToServer))
        .map(first_frame)
        .collect();
    if frames.is_empty() {
        return Verdict::fail(
            format!("no UDP datagram to port {} in the capture", f.port),
            Vec::new(),
        );
    }
    Verdict::pass(
        format!(
            "{} datagrams to port {} ({})",
            frames.len(),
            f.port,
            frames_text(&frames)
        ),
        frames,
    )
}

pub fn two_source_ports(f: &Facts) -> Verdict {
    let mut ports: Vec<(u16, u64)> = Vec::new();
    for c in f.lab(TransportKind::Udp) {
        let p = c.client.port();
        if c.frames_c2s > 0 && !ports.iter().any(|(q, _)| *q == p) {
            ports.push((p, c.first_frame));
        }
    }
    let text = ports
        .iter()
        .map(|(p, frame)| format!("{p} (frame {frame})"))
        .collect::<Vec<_>>()
        .join(", ");
    let frames = ports.iter().map(|(_, f)| *f).collect();
    match ports.len() {
        0 => Verdict::fail("no UDP client sent to the lab port", frames),
        1 => Verdict::fail(
            format!("one source port only: {text}; run a second client (or the client twice)"),
            frames,
        ),
        n => Verdict::pass(format!("{n} source ports: {text}"), frames),
    }
}
