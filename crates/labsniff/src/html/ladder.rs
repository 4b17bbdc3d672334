//! The ladder: one arrow per TCP segment, time flowing down (one row per frame, in
//! frame order, so y grows with time), the client's lifeline on the left and the
//! server's on the right; SYN, data, pure ACK, FIN and RST have their own class, an
//! analysis flag colours its frame (`k-<flag>`), and each message is a bracket on its
//! sender's side over the frames that carried it.
//!
//! Each drawn frame is `<g class="f …" data-frame="N" [data-flags="…"]>` with its
//! header fields in `data-*` attributes for the page's details panel. At most
//! [`bound::LADDER_FRAMES_MAX`] frames are drawn (see [`bound`]).

use super::bound;
use super::escape::{num, shorten, text};
use crate::event::{ConversationRecord, Dir, MessageEvent, SegmentEvent};
use std::collections::HashMap;
use std::fmt::Write as _;

pub const WIDTH: f64 = 960.0;
pub const CLIENT_X: f64 = 330.0;
pub const SERVER_X: f64 = 730.0;
/// Height of one frame's row.
pub const ROW: f64 = 20.0;
/// The first row's y (below the lifelines' heads).
pub const TOP: f64 = 58.0;
/// The right edge of the frame numbers (left of them: the time).
const FRAME_X: f64 = 100.0;
/// How far an arrow falls from its sender to its receiver.
const SLOPE: f64 = 8.0;
/// Characters of a message's label beside its bracket (the whole in its `<title>`).
const MESSAGE_LABEL: usize = 24;

/// A frame's y, by its row (rows are in frame order: y increases with time).
pub fn row_y(row: usize) -> f64 {
    TOP + row as f64 * ROW
}

/// The ladder of one conversation as an `<svg data-graph="ladder">` element (inline;
/// [`standalone`] makes a document of it).
pub fn render(
    c: &ConversationRecord,
    segments: &[&SegmentEvent],
    messages: &[&MessageEvent],
) -> String {
    render_max(c, segments, messages, bound::LADDER_FRAMES_MAX)
}

/// [`render`] with at most `max` frames (what is left of the page's budget).
pub fn render_max(
    c: &ConversationRecord,
    segments: &[&SegmentEvent],
    messages: &[&MessageEvent],
    max: usize,
) -> String {
    let rows = bound::ladder_rows_max(segments.len(), max, |i| !segments[i].flags.is_empty());
    let gaps = bound::left_out(segments.len(), &rows);
    let height = row_y(rows.len() + gaps.len()) + ROW;
    let mut out = String::with_capacity(rows.len() * 420 + 2_000);
    let _ = write!(
        out,
        r#"<svg class="ladder" data-graph="ladder" data-conv="{}" data-top="{TOP}" data-row="{ROW}" width="{WIDTH}" height="{}" viewBox="0 0 {WIDTH} {}">"#,
        c.conv,
        num(height),
        num(height)
    );
    heads(&mut out, c, height);
    let mut y_of: HashMap<u64, f64> = HashMap::with_capacity(rows.len());
    let mut gaps = gaps.into_iter().peekable();
    let mut line = 0usize;
    if let Some((None, n)) = gaps.next_if(|g| g.0.is_none()) {
        gap_row(&mut out, n, row_y(line), max);
        line += 1;
    }
    for (pos, &i) in rows.iter().enumerate() {
        let s = segments[i];
        let y = row_y(line);
        frame_row(&mut out, c, s, y);
        y_of.insert(s.frame, y);
        line += 1;
        if let Some((_, n)) = gaps.next_if(|g| g.0 == Some(pos)) {
            gap_row(&mut out, n, row_y(line), max);
            line += 1;
        }
    }
    for m in messages {
        bracket(&mut out, m, &y_of);
    }
    out.push_str("</svg>");
    out
}

/// The height of a ladder [`render`] drew (its `height` attribute).
pub fn height_of(svg: &str) -> f64 {
    svg.split(" height=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .and_then(|h| h.parse().ok())
        .unwrap_or(0.0)
}

/// Ladders (each with its conversation's title) as one standalone SVG document
/// (`--svg`), one under the other, with the page's ladder style inside it.
pub fn standalone(ladders: &[(String, String)]) -> String {
    const TITLE: f64 = 28.0;
    const GAP: f64 = 24.0;
    let mut body = String::new();
    let mut y = 0.0;
    for (title, svg) in ladders {
        let _ = write!(
            body,
            r#"<text class="title" x="8" y="{}">{}</text>"#,
            num(y + 20.0),
            text(title)
        );
        y += TITLE;
        body.push_str(&svg.replacen("<svg ", &format!("<svg x=\"0\" y=\"{}\" ", num(y)), 1));
        y += height_of(svg) + GAP;
    }
    let style: String = super::assets::CSS
        .lines()
        .filter(|l| l.starts_with("svg.ladder") || l.starts_with("svg{"))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{h}\" viewBox=\"0 0 {WIDTH} {h}\" style=\"{}\"><style>{}\ntext.title{{font-weight:600;font-size:13px}}</style>{body}</svg>\n",
        super::assets::LADDER_INLINE_STYLE,
        style.replace("svg.ladder g[class*=\" k-\"]", "svg.ladder g[class*=' k-']"),
        h = num(y)
    )
}

/// The two hosts over their lifelines.
fn heads(out: &mut String, c: &ConversationRecord, height: f64) {
    for (x, who, addr) in [
        (CLIENT_X, "client", c.client),
        (SERVER_X, "server", c.server),
    ] {
        let _ = write!(
            out,
            r#"<text class="head" x="{x}" y="18" text-anchor="middle">{who}</text><text class="head addr" x="{x}" y="34" text-anchor="middle">{}</text><line class="life" x1="{x}" y1="42" x2="{x}" y2="{}"/>"#,
            text(&addr.to_string()),
            num(height)
        );
    }
}

/// The row of a run of frames the ladder leaves out.
fn gap_row(out: &mut String, n: usize, y: f64, max: usize) {
    let _ = write!(
        out,
        r#"<g class="gap" data-left-out="{n}" transform="translate(0,{})"><text x="{}" y="4" text-anchor="middle">… {n} frames left out here (this ladder draws at most {max} frames) …</text></g>"#,
        num(y),
        num((CLIENT_X + SERVER_X) / 2.0),
    );
}

/// The kind of a segment, as its class: `syn`, `rst`, `fin`, `data` or `ack` (a pure
/// ACK: no payload, no SYN/FIN/RST), and `pack` for a pure ACK with no analysis flag
/// (what the "hide ACKs" toggle hides).
fn kind(s: &SegmentEvent) -> &'static str {
    if s.syn {
        "syn"
    } else if s.rst {
        "rst"
    } else if s.fin {
        "fin"
    } else if s.len > 0 {
        "data"
    } else if s.flags.is_empty() {
        "ack pack"
    } else {
        "ack"
    }
}

/// The header's flags as Wireshark lists them: `SYN, ACK`, `PSH, ACK`.
pub fn tcp_flags(s: &SegmentEvent) -> String {
    let all = [
        (s.fin, "FIN"),
        (s.syn, "SYN"),
        (s.rst, "RST"),
        (s.psh, "PSH"),
        (s.ack_flag, "ACK"),
    ];
    let set: Vec<&str> = all.iter().filter(|f| f.0).map(|f| f.1).collect();
    set.join(", ")
}

/// The analysis flags' names, space-separated (`data-flags`).
pub fn flag_names(s: &SegmentEvent) -> String {
    let names: Vec<&str> = s.flags.iter().map(|f| f.name()).collect();
    names.join(" ")
}

/// `rel raw` or `- raw` when there is no relative number.
fn rel_raw(rel: Option<u32>, raw: u32) -> String {
    match rel {
        Some(r) => format!("{r} {raw}"),
        None => format!("- {raw}"),
    }
}

/// One frame's row: the arrow, its label, its time, its fields.
fn frame_row(out: &mut String, c: &ConversationRecord, s: &SegmentEvent, y: f64) {
    let (x1, x2) = match s.dir {
        Dir::ClientToServer => (CLIENT_X, SERVER_X),
        Dir::ServerToClient => (SERVER_X, CLIENT_X),
    };
    let flags = flag_names(s);
    let first_flag = s.flags.iter().next().map(|f| f.name());
    let _ = write!(
        out,
        r#"<g class="f {} {}{}" id="c{}-f{}" data-frame="{}""#,
        s.dir.as_str(),
        kind(s),
        first_flag.map(|f| format!(" k-{f}")).unwrap_or_default(),
        c.conv,
        s.frame,
        s.frame
    );
    if !flags.is_empty() {
        let _ = write!(out, r#" data-flags="{flags}""#);
    }
    let ack = if s.ack_flag {
        rel_raw(s.ack_rel, s.ack)
    } else {
        String::new()
    };
    let _ = write!(
        out,
        r#" data-t="{:.6}" data-seq="{}" data-ack="{ack}" data-len="{}" data-win="{}" data-tcp="{}" data-rtt="{}" data-acks="{}" transform="translate(0,{})">"#,
        s.ts - c.start_ts,
        rel_raw(s.seq_rel, s.seq),
        s.len,
        s.window,
        tcp_flags(s),
        s.ack_rtt.map(|r| format!("{r:.6}")).unwrap_or_default(),
        s.acks_frame.map(|f| f.to_string()).unwrap_or_default(),
        num(y)
    );
    let head = if x2 > x1 { x2 - 7.0 } else { x2 + 7.0 };
    let _ = write!(
        out,
        r#"<rect class="hit" x="0" y="-12" width="{WIDTH}" height="{ROW}"/><text class="t" x="8" y="4">{:.6}</text><text class="n" x="{}" y="4" text-anchor="end">{}</text><line x1="{x1}" y1="-{h}" x2="{}" y2="{h2}"/><polygon points="{x2},{h2} {},{} {},{}"/><text class="l" x="{}" y="-6" text-anchor="middle">{}</text></g>"#,
        s.ts - c.start_ts,
        num(FRAME_X),
        s.frame,
        num(head),
        num(head),
        num(SLOPE / 2.0 - 4.0),
        num(head),
        num(SLOPE / 2.0 + 4.0),
        num((CLIENT_X + SERVER_X) / 2.0),
        text(&shorten(&label(s, &flags), 64)),
        h = num(SLOPE / 2.0),
        h2 = num(SLOPE / 2.0),
    );
}

/// The arrow's label, as Wireshark's Info column shows a segment (without ports).
fn label(s: &SegmentEvent, flags: &str) -> String {
    let mut l = format!("[{}]", tcp_flags(s));
    if let Some(seq) = s.seq_rel {
        let _ = write!(l, " Seq={seq}");
    }
    if let (true, Some(ack)) = (s.ack_flag, s.ack_rel) {
        let _ = write!(l, " Ack={ack}");
    }
    let _ = write!(l, " Len={}", s.len);
    if !flags.is_empty() {
        let _ = write!(l, " {flags}");
    }
    l
}

/// A message's bracket on its sender's side, over its first to its last drawn frame.
fn bracket(out: &mut String, m: &MessageEvent, y_of: &HashMap<u64, f64>) {
    let ys: Vec<f64> = m
        .frames
        .iter()
        .filter_map(|f| y_of.get(f).copied())
        .collect();
    let (Some(top), Some(bottom)) = (
        ys.iter().copied().reduce(f64::min),
        ys.iter().copied().reduce(f64::max),
    ) else {
        return;
    };
    let (x, tip, anchor, tx) = match m.dir {
        Dir::ClientToServer => (CLIENT_X - 14.0, CLIENT_X - 8.0, "end", CLIENT_X - 20.0),
        Dir::ServerToClient => (SERVER_X + 14.0, SERVER_X + 8.0, "start", SERVER_X + 18.0),
    };
    let whole = crate::words::message(m);
    let first = m.frames.iter().find(|f| y_of.contains_key(f)).copied();
    let last = m
        .frames
        .iter()
        .rev()
        .find(|f| y_of.contains_key(f))
        .copied();
    let _ = write!(
        out,
        r#"<g class="msg {}" data-first="{}" data-last="{}" data-x="{x}" data-tip="{tip}"><title>{}</title><path d="M{tip} {} H{x} V{} H{tip}"/><text x="{tx}" y="{}" text-anchor="{anchor}">{}</text></g>"#,
        m.dir.as_str(),
        first.unwrap_or_default(),
        last.unwrap_or_default(),
        text(&whole),
        num(top - 6.0),
        num(bottom + 6.0),
        num((top + bottom) / 2.0 + 4.0),
        text(&shorten(&whole, MESSAGE_LABEL)),
    );
}
