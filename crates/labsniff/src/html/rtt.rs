//! The RTT graph: each ACK's `ack_rtt` (Wireshark's `tcp.analysis.ack_rtt`: from the
//! segment it acknowledges to the ACK, as seen at the capture point), at the ACK's
//! time, one series per direction of the acknowledged data; and the handshake's
//! initial RTT (`tcp.analysis.initial_rtt`) as a dashed line.
//!
//! Hook: [`estimator_line`] is where the RFC 6298 EstimatedRTT and RTO lines go once
//! the RTT estimator is a fact of labfacts (the causes issue); until then it draws
//! nothing and the page says only what the samples are.

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
    let top = samples
        .iter()
        .map(|(_, r)| *r)
        .chain(irtt)
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
    if let Some(line) = estimator_line(c, segments) {
        out.push_str(&line);
    }
    plot::close(&mut out);
    Some(out)
}

/// The RFC 6298 EstimatedRTT (SRTT) and RTO lines: not drawn yet. They are facts the
/// engine will compute (labfacts, the causes issue: an RTT estimator per direction);
/// a renderer must not re-derive them from the samples here. When the fact lands, draw
/// its series as `<path class="srtt">` and `<path class="rto">` from it.
fn estimator_line(_c: &ConversationRecord, _segments: &[&SegmentEvent]) -> Option<String> {
    None
}
