//! The time-sequence graph of one direction (tcptrace's, Stevens'): each segment a
//! vertical bar from its relative sequence number to the end of its payload, at its
//! time; the other side's ACK number as a step line, and the receive window it
//! announced (ACK + window, scaled when both SYNs carried the window-scale option) as
//! another. Retransmissions and out-of-order segments are marked (`rx`, `ooo`).
//! Series are decimated to the points the page's budget gives them (at most
//! [`bound::GRAPH_POINTS_MAX`]).

use super::bound;
use super::escape::num;
use super::plot::{self, Area};
use crate::analysis::Flag;
use crate::event::{ConversationRecord, Dir, SegmentEvent};
use std::fmt::Write as _;

/// The graph of `dir`'s data, or None when that side sent no data with a relative
/// sequence number (no payload, or its SYN was not captured).
pub fn render(
    c: &ConversationRecord,
    segments: &[&SegmentEvent],
    dir: Dir,
    per_series: usize,
) -> Option<String> {
    let data: Vec<&SegmentEvent> = segments
        .iter()
        .copied()
        .filter(|s| s.dir == dir && s.seq_rel.is_some() && (s.len > 0 || s.syn || s.fin))
        .collect();
    if !data.iter().any(|s| s.len > 0) {
        return None;
    }
    let acks: Vec<&SegmentEvent> = segments
        .iter()
        .copied()
        .filter(|s| s.dir != dir && s.ack_flag && s.ack_rel.is_some())
        .collect();
    let shift = window_shift(c, dir);
    let window_end = |s: &SegmentEvent| {
        let win = if s.syn {
            u64::from(s.window)
        } else {
            u64::from(s.window) << shift
        };
        u64::from(s.ack_rel.unwrap_or(0)) + win
    };
    let top_seq = data
        .iter()
        .map(|s| u64::from(s.seq_rel.unwrap_or(0)) + u64::from(s.len))
        .max()
        .unwrap_or(0);
    let top_win = acks.iter().map(|s| window_end(s)).max().unwrap_or(0);
    let x_max = segments.last().map_or(0.0, |s| s.ts - c.start_ts);
    // The window line is drawn when it is within 4× the data's height; higher (a
    // few bytes under a 64 kB window) it would flatten the data, so it runs above the
    // plot (clipped) and the data fills it.
    let top = if top_win <= top_seq.saturating_mul(4) {
        top_seq.max(top_win)
    } else {
        top_seq + top_seq / 4
    };
    let area = Area::new(x_max, top as f64);
    let mut out = String::new();
    let id = format!("tsg-{}-{}", c.conv, dir.as_str());
    plot::open(
        &mut out,
        "time-sequence",
        &id,
        &area,
        "seconds since the first frame",
        "relative sequence number",
    );
    let _ = write!(out, r#"<g class="series" data-dir="{}">"#, dir.as_str());
    let t = |s: &SegmentEvent| area.x(s.ts - c.start_ts);
    step(&mut out, "ackline", &acks, per_series, &t, |s| {
        area.y(f64::from(s.ack_rel.unwrap_or(0)))
    });
    step(&mut out, "winline", &acks, per_series, &t, |s| {
        area.y(window_end(s) as f64)
    });
    bars(&mut out, &data, &area, c.start_ts, per_series);
    out.push_str("</g>");
    plot::close(&mut out);
    Some(out)
}

/// The left shift of the window field the receiver of `dir`'s data announces: its own
/// window-scale option, used only when both SYNs carried one (RFC 7323).
fn window_shift(c: &ConversationRecord, dir: Dir) -> u32 {
    let Some(t) = &c.tcp else { return 0 };
    let (Some(client), Some(server)) = (t.client_options, t.server_options) else {
        return 0;
    };
    let (Some(cs), Some(ss)) = (client.window_scale, server.window_scale) else {
        return 0;
    };
    // The receiver of the client's data is the server, and the reverse.
    u32::from(match dir {
        Dir::ClientToServer => ss,
        Dir::ServerToClient => cs,
    })
    .min(14)
}

/// A step line through the decimated points (`y` holds until the next point).
fn step(
    out: &mut String,
    class: &str,
    points: &[&SegmentEvent],
    max: usize,
    x: &impl Fn(&SegmentEvent) -> f64,
    y: impl Fn(&SegmentEvent) -> f64,
) {
    let kept = bound::decimate_to(points.len(), max, |_| false);
    let mut d = String::with_capacity(kept.len() * 16);
    for (k, &i) in kept.iter().enumerate() {
        let s = points[i];
        if k == 0 {
            let _ = write!(d, "M{} {}", num(x(s)), num(y(s)));
        } else {
            let _ = write!(d, "H{}V{}", num(x(s)), num(y(s)));
        }
    }
    if !d.is_empty() {
        let _ = write!(out, r#"<path class="{class}" d="{d}"/>"#);
    }
}

/// The segments' bars, and a mark on each retransmission and out-of-order segment.
fn bars(out: &mut String, data: &[&SegmentEvent], area: &Area, t0: f64, max: usize) {
    let marked = |s: &SegmentEvent| {
        s.flags.contains(Flag::Retransmission) || s.flags.contains(Flag::OutOfOrder)
    };
    // Marked segments draw a circle too: half the points each at most.
    for i in bound::decimate_to(data.len(), max / 2, |i| marked(data[i])) {
        let s = data[i];
        let x = num(area.x(s.ts - t0));
        let seq = f64::from(s.seq_rel.unwrap_or(0));
        // A SYN or FIN without payload counts one sequence number.
        let len = f64::from(s.len.max(1));
        let class = if s.flags.contains(Flag::Retransmission) {
            "seg rx"
        } else if s.flags.contains(Flag::OutOfOrder) {
            "seg ooo"
        } else {
            "seg"
        };
        let (y1, y2) = (area.y(seq), area.y(seq + len));
        let _ = write!(
            out,
            r#"<line class="{class}" data-f="{}" x1="{x}" y1="{}" x2="{x}" y2="{}"/>"#,
            s.frame,
            num(y1),
            num(y2)
        );
        if class != "seg" {
            let _ = write!(
                out,
                r#"<circle class="mark {}" data-f="{}" cx="{x}" cy="{}" r="3"/>"#,
                &class[4..],
                s.frame,
                num(y2)
            );
        }
    }
}
