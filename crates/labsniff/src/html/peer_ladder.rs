//! The ladder of both ends (`--peer-capture`): the same conversation captured on the
//! client's and on the server's side, each segment an arrow sloped from the time it
//! left its sender (at the sender's capture) to the time it was seen at the other
//! capture; a segment seen leaving and never arriving ends half-way with a cross and
//! carries `data-lost="between"`. Rows are the departures, in time order (y grows with
//! time); an arrival's y lies between the rows of its time. The matching is labfacts'
//! (`peer::match_segments`); bounded as the one-capture ladder ([`bound`]).

use super::bound;
use super::escape::{num, shorten, text};
use super::ladder::{flag_names, row_y, tcp_flags, CLIENT_X, ROW, SERVER_X, TOP, WIDTH};
use crate::event::{ConversationRecord, Dir, SegmentEvent};
use crate::peer::{PeerMatch, Side};
use std::fmt::Write as _;

/// A segment lost between the capture points: its direction, its frame in the -r
/// file (if that capture saw it leave), its frame in the other capture (if that one did).
pub type Lost = (Dir, Option<u64>, Option<u64>);

/// One arrow: where and when it left, when it arrived (if it did).
struct Arrow<'a> {
    /// The segment in the file given with -r, if that capture has it.
    here: Option<&'a SegmentEvent>,
    /// The segment in the other capture, if it has it.
    there: Option<&'a SegmentEvent>,
    sent: f64,
    arrived: Option<f64>,
    lost: bool,
}

impl Arrow<'_> {
    fn seg(&self) -> Option<&SegmentEvent> {
        self.here.or(self.there)
    }
}

/// The arrows of both captures, in departure order.
fn arrows<'a>(
    here: &[&'a SegmentEvent],
    there: &[&'a SegmentEvent],
    m: &PeerMatch,
) -> Vec<Arrow<'a>> {
    let mut out = Vec::with_capacity(here.len() + there.len());
    for (i, s) in here.iter().enumerate() {
        let other = m
            .here
            .get(i)
            .copied()
            .flatten()
            .and_then(|j| there.get(j).copied());
        let a = match m.sender(s.dir) {
            Side::Here => Arrow {
                here: Some(s),
                there: other,
                sent: s.ts,
                arrived: other.map(|o| o.ts),
                lost: other.is_none(),
            },
            // Seen arriving here; not seen leaving the other side when unmatched.
            Side::There => Arrow {
                here: Some(s),
                there: other,
                sent: other.map_or(s.ts, |o| o.ts),
                arrived: Some(s.ts),
                lost: false,
            },
        };
        out.push(a);
    }
    for j in m.lost_from_there(there) {
        out.push(Arrow {
            here: None,
            there: Some(there[j]),
            sent: there[j].ts,
            arrived: None,
            lost: true,
        });
    }
    out.sort_by(|a, b| a.sent.total_cmp(&b.sent));
    out
}

/// The ladder of both ends as an `<svg data-graph="ladder">`, and the lost arrows
/// (for the explanations): (direction, frame here, frame in the other capture).
pub fn render(
    c: &ConversationRecord,
    here: &[&SegmentEvent],
    there: &[&SegmentEvent],
    m: &PeerMatch,
    max: usize,
) -> (String, Vec<Lost>) {
    let all = arrows(here, there, m);
    let rows = bound::ladder_rows_max(all.len(), max, |i| {
        all[i].lost || all[i].seg().is_some_and(|s| !s.flags.is_empty())
    });
    let drawn: Vec<&Arrow<'_>> = rows.iter().map(|&i| &all[i]).collect();
    let times: Vec<f64> = drawn.iter().map(|a| a.sent).collect();
    let height = row_y(drawn.len()) + ROW;
    let mut out = String::with_capacity(drawn.len() * 450 + 1_000);
    let _ = write!(
        out,
        r#"<svg class="ladder peer" data-graph="ladder" data-conv="{}" width="{WIDTH}" height="{}" viewBox="0 0 {WIDTH} {}">"#,
        c.conv,
        num(height),
        num(height)
    );
    for (x, who) in [(CLIENT_X, "client"), (SERVER_X, "server")] {
        let _ = write!(
            out,
            r#"<text class="head" x="{x}" y="18" text-anchor="middle">{who}'s side</text><line class="life" x1="{x}" y1="42" x2="{x}" y2="{}"/>"#,
            num(height)
        );
    }
    let mut lost = Vec::new();
    for (k, a) in drawn.iter().enumerate() {
        let Some(s) = a.seg() else { continue };
        let y = row_y(k);
        let end = a.arrived.map(|t| y_at(&times, t) - y);
        arrow(&mut out, c, a, s, y, end);
        if a.lost {
            lost.push((s.dir, a.here.map(|h| h.frame), a.there.map(|t| t.frame)));
        }
    }
    if all.len() > drawn.len() {
        let _ = write!(
            out,
            r#"<g class="gap" data-left-out="{}" transform="translate(0,{})"><text x="{}" y="4" text-anchor="middle">{} frames left out (this ladder draws at most {max} frames)</text></g>"#,
            all.len() - drawn.len(),
            num(height - 4.0),
            num((CLIENT_X + SERVER_X) / 2.0),
            all.len() - drawn.len(),
        );
    }
    out.push_str("</svg>");
    (out, lost)
}

/// The y of time `t`: between the rows of the departures around it.
fn y_at(times: &[f64], t: f64) -> f64 {
    let after = times.partition_point(|&s| s <= t);
    match (after.checked_sub(1), times.get(after)) {
        (Some(i), Some(&next)) if next > times[i] => {
            row_y(i) + (t - times[i]) / (next - times[i]) * ROW
        }
        (Some(i), _) => row_y(i) + ROW / 2.0,
        (None, _) => TOP,
    }
}

/// One arrow, its label and its fields (`data-frame` only when the -r file has it).
fn arrow(
    out: &mut String,
    c: &ConversationRecord,
    a: &Arrow<'_>,
    s: &SegmentEvent,
    y: f64,
    end: Option<f64>,
) {
    let (x1, x2) = match s.dir {
        Dir::ClientToServer => (CLIENT_X, SERVER_X),
        Dir::ServerToClient => (SERVER_X, CLIENT_X),
    };
    arrow_group(out, c, a, s, y);
    let mid = (x1 + x2) / 2.0;
    let (xe, ye) = match end {
        Some(dy) => (x2, dy),
        None => (mid, ROW / 2.0),
    };
    let _ = write!(
        out,
        r#"<rect class="hit" x="0" y="-12" width="{WIDTH}" height="{ROW}"/><text class="t" x="8" y="4">{:.6}</text><text class="n" x="100" y="4" text-anchor="end">{}</text><line x1="{x1}" y1="0" x2="{}" y2="{}"/>"#,
        a.sent - c.start_ts,
        a.here.map_or_else(
            || format!("({})", a.there.map_or(0, |t| t.frame)),
            |h| h.frame.to_string()
        ),
        num(xe),
        num(ye)
    );
    arrow_end(out, end.is_some(), xe, ye);
    let label = format!(
        "[{}] Seq={} Len={}{}",
        tcp_flags(s),
        s.seq_rel.unwrap_or(0),
        s.len,
        if a.lost { " LOST" } else { "" }
    );
    let _ = write!(
        out,
        r#"<text class="l" x="{}" y="-4" text-anchor="middle">{}</text></g>"#,
        num(mid),
        text(&shorten(&label, 60))
    );
}

/// The arrow's opening `<g>` with its frame numbers, flags and header fields.
fn arrow_group(out: &mut String, c: &ConversationRecord, a: &Arrow<'_>, s: &SegmentEvent, y: f64) {
    let flags = a.here.map(flag_names).unwrap_or_default();
    let _ = write!(
        out,
        r#"<g class="f {} {}""#,
        s.dir.as_str(),
        if a.lost { "lost" } else { "data" }
    );
    if let Some(h) = a.here {
        let _ = write!(
            out,
            r#" id="c{}-f{}" data-frame="{}""#,
            c.conv, h.frame, h.frame
        );
    }
    if let Some(t) = a.there {
        let _ = write!(out, r#" data-peer-frame="{}""#, t.frame);
    }
    if !flags.is_empty() {
        let _ = write!(out, r#" data-flags="{flags}""#);
    }
    if a.lost {
        out.push_str(r#" data-lost="between""#);
    }
    let rel = |r: Option<u32>, raw: u32| r.map_or(format!("- {raw}"), |r| format!("{r} {raw}"));
    let _ = write!(
        out,
        r#" data-t="{:.6}" data-seq="{}" data-ack="{}" data-len="{}" data-win="{}" data-tcp="{}" data-rtt="" data-acks="" transform="translate(0,{})">"#,
        a.sent - c.start_ts,
        rel(s.seq_rel, s.seq),
        if s.ack_flag {
            rel(s.ack_rel, s.ack)
        } else {
            String::new()
        },
        s.len,
        s.window,
        tcp_flags(s),
        num(y)
    );
}

/// Where the arrow ends: a dot where the other capture point saw it arrive, or a
/// cross halfway for a segment that never arrived.
fn arrow_end(out: &mut String, arrived: bool, x: f64, y: f64) {
    if arrived {
        let _ = write!(
            out,
            r#"<circle class="arr" cx="{}" cy="{}" r="3"/>"#,
            num(x),
            num(y)
        );
    } else {
        let _ = write!(
            out,
            r#"<path class="cross" d="M{} {} L{} {} M{} {} L{} {}"/>"#,
            num(x - 6.0),
            num(y - 6.0),
            num(x + 6.0),
            num(y + 6.0),
            num(x - 6.0),
            num(y + 6.0),
            num(x + 6.0),
            num(y - 6.0)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrival_y_lies_between_the_rows_of_its_time() {
        let times = [0.0, 1.0, 2.0];
        assert_eq!(y_at(&times, 0.5), row_y(0) + ROW / 2.0);
        assert!(y_at(&times, 1.9) > row_y(1) && y_at(&times, 1.9) < row_y(2));
        assert_eq!(y_at(&times, 5.0), row_y(2) + ROW / 2.0);
        assert_eq!(y_at(&times, -1.0), TOP);
    }
}
