//! The RTT graph: each ACK's `ack_rtt` (Wireshark's `tcp.analysis.ack_rtt`: from the
//! segment it acknowledges to the ACK, as seen at the capture point), at the ACK's
//! time, one series per direction of the acknowledged data; and the handshake's
//! initial RTT (`tcp.analysis.initial_rtt`) as a dashed line.
//!
//! With them, per direction whose data the capture saw leave (the report's rule: at
//! the receiver an ack_rtt is its delay before acknowledging, not a round trip), the
//! RFC 6298 EstimatedRTT and the RTO it implies at the end of the conversation (the
//! `round_trips_*` facts) as horizontal lines.

use super::bound;
use super::escape::num;
use super::plot::{self, Area};
use crate::event::{ConversationRecord, Dir, SegmentEvent};
use std::fmt::Write as _;

/// The graph, or None when no ACK measured a round trip.
pub fn render(
    c: &ConversationRecord,
    segments: &[&SegmentEvent],
    per_series: usize,
) -> Option<String> {
    let samples: Vec<(&SegmentEvent, f64)> = segments
        .iter()
        .filter_map(|s| Some((*s, s.ack_rtt?)))
        .filter(|(_, r)| r.is_finite() && *r >= 0.0)
        .collect();
    if samples.is_empty() {
        return None;
    }
    let irtt = c.tcp.as_ref().and_then(|t| t.irtt);
    let estimates = estimates(c);
    let top = samples
        .iter()
        .map(|(_, r)| *r)
        .chain(irtt)
        .chain(estimates.iter().flat_map(|e| [Some(e.1), e.2]).flatten())
        .fold(0.0f64, f64::max);
    let x_max = segments.last().map_or(0.0, |s| s.ts - c.start_ts);
    let area = Area::new(x_max, top * 1000.0);
    let mut out = String::new();
    let id = format!("rtt-{}", c.conv);
    plot::open(
        &mut out,
        "rtt",
        &id,
        &area,
        "seconds since the first frame",
        "ack_rtt (ms)",
    );
    if let Some(i) = irtt {
        let y = num(area.y(i * 1000.0));
        let _ = write!(
            out,
            r#"<line class="irtt" x1="{}" y1="{y}" x2="{}" y2="{y}"/>"#,
            num(area.x(0.0)),
            num(area.x(area.x_max))
        );
    }
    for dir in [Dir::ClientToServer, Dir::ServerToClient] {
        // The ACK goes the other way than the data it acknowledges.
        let of_dir: Vec<&(&SegmentEvent, f64)> =
            samples.iter().filter(|(s, _)| s.dir != dir).collect();
        let _ = write!(out, r#"<g class="series {}">"#, dir.as_str());
        for k in bound::decimate_to(of_dir.len(), per_series, |_| false) {
            let (s, r) = of_dir[k];
            let _ = write!(
                out,
                r#"<circle data-f="{}" cx="{}" cy="{}" r="2.5"/>"#,
                s.frame,
                num(area.x(s.ts - c.start_ts)),
                num(area.y(r * 1000.0))
            );
        }
        out.push_str("</g>");
    }
    for (dir, srtt, rto) in &estimates {
        for (class, value) in [("srtt", Some(*srtt)), ("rto", *rto)] {
            let Some(v) = value else { continue };
            let y = num(area.y(v * 1000.0));
            let _ = write!(
                out,
                r#"<line class="{class} {}" x1="{}" y1="{y}" x2="{}" y2="{y}"><title>{} of the {}'s data at the end: {:.3} ms</title></line>"#,
                dir.as_str(),
                num(area.x(0.0)),
                num(area.x(area.x_max)),
                if class == "srtt" {
                    "EstimatedRTT (RFC 6298)"
                } else {
                    "RTO = EstimatedRTT + 4·DevRTT"
                },
                dir.sender(),
                v * 1000.0
            );
        }
    }
    plot::close(&mut out);
    Some(out)
}

/// Per direction whose data left at the capture point: (direction, EstimatedRTT, RTO)
/// at the end of the conversation, in seconds (the `round_trips_*` facts).
fn estimates(c: &ConversationRecord) -> Vec<(Dir, f64, Option<f64>)> {
    let Some(t) = &c.tcp else { return Vec::new() };
    [
        (Dir::ClientToServer, &t.round_trips_c2s),
        (Dir::ServerToClient, &t.round_trips_s2c),
    ]
    .into_iter()
    .filter(|(dir, _)| t.capture_point.at_sender_of(*dir))
    .filter_map(|(dir, rt)| {
        let rt = rt.as_ref()?;
        Some((dir, rt.estimated_rtt?, rt.rto))
    })
    .collect()
}
