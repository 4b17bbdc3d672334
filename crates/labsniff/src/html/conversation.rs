//! One conversation's section: `<section data-conv="N">` with its title and filter,
//! the ladder (with the ACK toggle and a legend), the time-sequence graph of each
//! direction, the RTT graph, the explanations, and the text report's sections.

use super::bound::{self, Budget};
use super::escape::text;
use super::{explain, ladder, peer_ladder, rtt, tsg};
use crate::event::{ConversationRecord, Dir};
use crate::report::Gathered;
use labproto::Proto;
use std::fmt::Write as _;

/// Appends the section of `c` to `out`; `mapped` as the text report's byte maps.
pub fn render(
    out: &mut String,
    g: &Gathered<'_>,
    c: &ConversationRecord,
    mapped: &mut Vec<Proto>,
    peer: Option<&super::Peer<'_>>,
    budget: &mut Budget,
) {
    let filter = crate::words::conv_filter(c);
    let _ = write!(
        out,
        "<section class=\"conv\" id=\"conv-{0}\" data-conv=\"{0}\"><h2>{1}</h2><p>Wireshark filter: <code class=\"filter\">{2}</code><button type=\"button\" class=\"copy\">copy</button></p>",
        c.conv,
        text(&crate::words::conv_title(c)),
        text(&filter)
    );
    let lost = pictures(out, g, c, peer, budget);
    // Segments lost between the two capture points first: the picture's news.
    let mut findings: Vec<explain::Finding> = lost
        .iter()
        .map(|&(dir, here, there)| explain::Finding {
            what: "lost",
            text: crate::words::peer::lost_between(dir, if here.is_none() { there } else { None }),
            frames: here.into_iter().collect(),
            peer_frames: if here.is_none() {
                there.into_iter().collect()
            } else {
                Vec::new()
            },
        })
        .collect();
    findings.extend(explain::findings(
        c,
        explain::Facts {
            analysis: g.analysis_of(c.conv),
            causes: g.causes_of(c.conv),
            diags: g.diags_of(c.conv),
            messages: g.messages_of(c.conv),
        },
    ));
    if !findings.is_empty() {
        out.push_str("<h3>Explanations</h3>");
        out.push_str(&explain::render(c, &findings));
    }
    let report = crate::report::conversation_text(g, c, mapped);
    let _ = write!(
        out,
        "<details><summary>The text report for this conversation</summary><pre class=\"report\">{}</pre></details></section>",
        text(&report)
    );
}

/// The ladder (of both ends when `peer` has the conversation) and the graphs, within
/// what is left of the page's `budget`; the segments lost between the capture points.
fn pictures(
    out: &mut String,
    g: &Gathered<'_>,
    c: &ConversationRecord,
    peer: Option<&super::Peer<'_>>,
    budget: &mut Budget,
) -> Vec<peer_ladder::Lost> {
    let segments = g.segments_of(c.conv);
    if segments.is_empty() {
        out.push_str("<p>No TCP segment to draw (a UDP conversation, or the segments were not kept): the explanations below list its frames.</p>");
        return Vec::new();
    }
    if budget.frames == 0 {
        let _ = write!(
            out,
            "<p>No ladder or graphs here: the page draws at most {} frames in all, and the conversations above used them (labsniff -r FILE --conv {} --svg OUT.svg draws this one).</p>",
            bound::PAGE_FRAMES_MAX,
            c.conv
        );
        return Vec::new();
    }
    let max = budget.frames.min(bound::LADDER_FRAMES_MAX);
    let both = peer.and_then(|p| {
        let there = p
            .index
            .convs
            .iter()
            .find(|o| crate::peer::same_conversation(c, o))?;
        Some((p, p.index.segments_of(there.conv)))
    });
    let mut lost = Vec::new();
    if let Some((p, there)) = both {
        let m = crate::peer::match_segments(c, segments, there);
        let side = if m.here_is_client_side {
            "client"
        } else {
            "server"
        };
        let _ = write!(
            out,
            "<h3>Ladder of both ends</h3><p class=\"peer\">{}</p>",
            text(&crate::words::peer::both_ends(side, &p.name))
        );
        let (svg, l) = peer_ladder::render(c, segments, there, &m, max);
        lost = l;
        budget.frames -= (segments.len() + there.len()).min(max);
        let _ = write!(out, "<div class=\"ladder-wrap\">{svg}</div>");
    } else {
        out.push_str("<h3>Ladder</h3><p><button type=\"button\" class=\"ack-toggle\">hide plain ACKs</button> (ACKs with an analysis flag stay)</p>");
        out.push_str(LEGEND);
        out.push_str("<div class=\"ladder-wrap\">");
        out.push_str(&ladder::render_max(c, segments, g.messages_of(c.conv), max));
        out.push_str("</div>");
        budget.frames -= segments.len().min(max);
    }
    match budget.take_series() {
        Some(per) => graphs(out, c, segments, per),
        None => {
            let _ = write!(
                out,
                "<p>No graphs here: the page draws at most {} graph points in all.</p>",
                bound::PAGE_POINTS_MAX
            );
        }
    }
    lost
}

/// The time-sequence graphs (one per direction that sent data) and the RTT graph.
fn graphs(
    out: &mut String,
    c: &ConversationRecord,
    segments: &[&crate::event::SegmentEvent],
    per_series: usize,
) {
    for dir in [Dir::ClientToServer, Dir::ServerToClient] {
        if let Some(svg) = tsg::render(c, segments, dir, per_series) {
            let who = match dir {
                Dir::ClientToServer => "client → server",
                Dir::ServerToClient => "server → client",
            };
            let _ = write!(
                out,
                "<h3>Time-sequence graph, {who}</h3><p class=\"legend\"><span><i style=\"background:#222\"></i>segment (sequence range)</span><span><i style=\"background:#d62728\"></i>retransmission</span><span><i style=\"background:#1f77b4\"></i>out of order</span><span><i style=\"background:#2ca02c\"></i>ACK from the other side</span><span><i style=\"background:#e6b800\"></i>receive window (ACK + window; above the plot when over 4× the data)</span> — wheel: zoom, drag: pan, double-click: reset</p>{svg}"
            );
        }
    }
    if let Some(svg) = rtt::render(c, segments, per_series) {
        let _ = write!(
            out,
            "<h3>Round-trip times</h3><p class=\"legend\"><span><i style=\"background:#1f77b4\"></i>ack_rtt of client data</span><span><i style=\"background:#ff7f0e\"></i>ack_rtt of server data</span><span><i style=\"background:#777\"></i>initial RTT (dashed)</span><span><i style=\"background:#2a7\"></i>EstimatedRTT at the end (RFC 6298; data that left here)</span><span><i style=\"background:#c62\"></i>RTO = EstimatedRTT + 4·DevRTT (dotted)</span></p>{svg}"
        );
    }
}

/// The ladder's colours.
const LEGEND: &str = "<p class=\"legend\"><span><i style=\"background:#2a7a2a\"></i>SYN</span><span><i style=\"background:#333\"></i>data</span><span><i style=\"background:#999\"></i>pure ACK</span><span><i style=\"background:#6a3d9a\"></i>FIN</span><span><i style=\"background:#b00\"></i>RST</span><span><i style=\"background:#d62728\"></i>retransmission</span><span><i style=\"background:#1f77b4\"></i>out of order</span><span><i style=\"background:#ff7f0e\"></i>previous segment lost / ACKed unseen</span><span><i style=\"background:#bcbd22\"></i>duplicate ACK</span><span><i style=\"background:#9467bd\"></i>zero window</span><span><i style=\"background:#0a6\"></i>message</span></p>";
