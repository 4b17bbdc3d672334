//! The flow graph as a standalone SVG a browser shows: per conversation two columns
//! headed by host:port, one `<g class="arrow" data-frame="N">` per packet shown.

use super::flow::{Arrow, ArrowKind, Ladder, LaneCall};
use super::words;
use crate::event::{Dir, Event};
use std::collections::BTreeMap;
use std::fmt::Write as _;

const WIDTH: u32 = 1000;
const CLIENT_X: u32 = 300;
const SERVER_X: u32 = 850;
const ROW: u32 = 36;
const HEADER: u32 = 70;
const GAP: u32 = 40;

/// Text for XML: `&`, `<`, `>`, quotes escaped; control characters dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One row of a ladder: a packet, or a system call in a side's lane.
enum Row<'a> {
    Arrow(&'a Arrow),
    Call(&'a LaneCall),
}

/// Arrows in their order, each side's calls placed before the first arrow sent after
/// them (as the terminal ladder does).
fn rows<'a>(arrows: &'a [Arrow], calls: &'a [LaneCall]) -> Vec<Row<'a>> {
    let mut out = Vec::with_capacity(arrows.len() + calls.len());
    let mut pending = calls.iter().take(LANE_CALLS_MAX).peekable();
    for a in arrows {
        if let Some(t) = a.ts {
            while let Some(c) = pending.next_if(|c| c.ts <= t) {
                out.push(Row::Call(c));
            }
        }
        out.push(Row::Arrow(a));
    }
    out.extend(pending.map(Row::Call));
    out
}

/// Calls drawn per conversation (as in the terminal ladder).
const LANE_CALLS_MAX: usize = 200;

/// The flow graph of conversation `conv` (or of all) as an SVG document.
pub fn render_svg(events: &[Event], conv: Option<u64>) -> String {
    render_svg_lanes(events, conv, None)
}

/// [`render_svg`] with each side's system calls in its lane (`<g class="call client">`
/// beside the client's column, `<g class="call server">` beside the server's).
pub fn render_svg_lanes(
    events: &[Event],
    conv: Option<u64>,
    lanes: Option<&BTreeMap<u64, Vec<LaneCall>>>,
) -> String {
    let g = super::Gathered::new(events);
    let ladders = super::flow::ladders_of(&g, conv);
    let no_calls: Vec<LaneCall> = Vec::new();
    let calls_of = |c: u64| lanes.and_then(|m| m.get(&c)).unwrap_or(&no_calls);
    // From the first lab conversation's first frame, as the text flow view: the same
    // frame has the same time with or without --conv.
    let origin = g.lab_start().unwrap_or_default();
    let rows_of: Vec<Vec<Row<'_>>> = ladders
        .iter()
        .map(|l| rows(&l.arrows, calls_of(l.conv)))
        .collect();
    let rows: u32 = rows_of.iter().map(|r| r.len() as u32).sum();
    let height = 20 + ladders.len() as u32 * (HEADER + GAP) + rows * ROW + 20;
    let mut body = String::new();
    let mut y = 20;
    if ladders.is_empty() {
        let _ = writeln!(
            body,
            r#"<text x="20" y="40">no conversation to draw</text>"#
        );
    }
    for (l, list) in ladders.iter().zip(&rows_of) {
        let bottom = ladder(&mut body, l, list, y, origin);
        y = bottom + GAP;
    }
    document(height, &body)
}

/// One conversation's `<g class="conversation">` from `top` down: title, column
/// heads, a row per packet or call. Returns its bottom.
fn ladder(body: &mut String, l: &Ladder, list: &[Row<'_>], top: u32, origin: f64) -> u32 {
    let bottom = top + HEADER + list.len() as u32 * ROW + 10;
    let _ = writeln!(body, r#"<g class="conversation" data-conv="{}">"#, l.conv);
    let _ = writeln!(
        body,
        r#"<text class="title" x="20" y="{}">{}</text>"#,
        top + 16,
        escape(&l.title)
    );
    let _ = writeln!(
        body,
        r#"<text class="head" x="20" y="{}">time (s) / frame</text>"#,
        top + 48
    );
    for (x, who, addr) in [
        (CLIENT_X, "client", &l.client),
        (SERVER_X, "server", &l.server),
    ] {
        let _ = writeln!(
            body,
            r#"<text class="head" x="{x}" y="{}" text-anchor="middle">{who} {}</text>"#,
            top + 48,
            escape(addr)
        );
        let _ = writeln!(
            body,
            r#"<line class="column" x1="{x}" y1="{}" x2="{x}" y2="{bottom}"/>"#,
            top + 56
        );
    }
    for (i, row) in list.iter().enumerate() {
        let row_y = top + HEADER + i as u32 * ROW + ROW / 2;
        match row {
            Row::Arrow(a) => arrow(body, a, row_y, origin),
            Row::Call(c) => call(body, c, row_y, origin),
        }
    }
    let _ = writeln!(body, "</g>");
    bottom
}

/// A system call in its side's lane, at `row_y`.
fn call(body: &mut String, c: &LaneCall, row_y: u32, origin: f64) {
    let (side, x, anchor) = match c.dir_of_side {
        Dir::ClientToServer => ("client", CLIENT_X + 8, "start"),
        Dir::ServerToClient => ("server", SERVER_X - 8, "end"),
    };
    let _ = writeln!(
        body,
        r#"<g class="call {side}"><text class="time" x="20" y="{}">{}</text><text class="lane" x="{x}" y="{}" text-anchor="{anchor}">{}</text></g>"#,
        row_y + 4,
        words::relative(c.ts, origin),
        row_y + 4,
        escape(&c.text)
    );
}

/// A packet's arrow between the columns at `row_y`, with its time, frames and label.
fn arrow(body: &mut String, a: &Arrow, row_y: u32, origin: f64) {
    let (x1, x2) = match a.dir {
        Dir::ClientToServer => (CLIENT_X, SERVER_X - 4),
        Dir::ServerToClient => (SERVER_X, CLIENT_X + 4),
    };
    let time = a.ts.map_or("-".to_string(), |t| words::relative(t, origin));
    let frames = match (a.frames.first(), a.frames.last()) {
        (Some(f), Some(t)) if f != t => format!("{f}-{t}"),
        (Some(f), _) => f.to_string(),
        _ => "-".to_string(),
    };
    let class = match a.kind {
        ArrowKind::Data => "data",
        ArrowKind::Analysis => "analysis",
        _ => "control",
    };
    let _ = writeln!(
        body,
        r#"<g class="arrow {class}" data-frame="{}"><text class="time" x="20" y="{}">{time}  #{frames}</text><line x1="{x1}" y1="{row_y}" x2="{x2}" y2="{row_y}" marker-end="url(#head)"/><text class="label" x="{}" y="{}" text-anchor="middle">{}</text></g>"#,
        a.first_frame(),
        row_y + 4,
        (CLIENT_X + SERVER_X) / 2,
        row_y - 5,
        escape(&a.label())
    );
}

/// The SVG document around the ladders' `body`: size, arrow head, style sheet.
fn document(height: u32, body: &str) -> String {
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="monospace" font-size="13">
<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>
<style>.title{{font-weight:bold;font-size:15px}} .head{{font-weight:bold}} .column{{stroke:#999;stroke-width:2}} .arrow line{{stroke:#333;stroke-width:1.5}} .control line{{stroke:#777;stroke-dasharray:4 3}} .data .label{{fill:#0a4d8c}} .analysis line{{stroke:#b00020}} .analysis .label{{fill:#b00020}} .time{{fill:#555}} .lane{{fill:#2e7d32;font-style:italic}}</style>
<rect width="100%" height="100%" fill="white"/>
{body}</svg>
"##
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_makes_text_safe_for_xml() {
        assert_eq!(super::escape("a<b & \"c\"\n"), "a&lt;b &amp; &quot;c&quot;");
    }
}
