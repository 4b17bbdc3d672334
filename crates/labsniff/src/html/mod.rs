//! The HTML page (`labsniff -r FILE --html OUT.html`): one self-contained file — inline
//! CSS, JavaScript and SVG, no request to any other address — with the capture's
//! summary and conversation table and, per conversation, the ladder, the
//! time-sequence and RTT graphs and the explanations. A renderer of the same facts as
//! the text report ([`labfacts::index::CaptureIndex`]); it needs the segment events
//! (`Options { segments: true, .. }`).
//!
//! The page's contract (`data-conv`, `data-graph`, `data-frame`, `data-flags`) is in
//! SCHEMA.md, "The HTML page"; its bounds in [`bound`].
//!
//! - [`page`]: the skeleton, summary and table; [`conversation`]: a section;
//! - [`ladder`], [`tsg`], [`rtt`] (over [`plot`]): the pictures;
//! - [`explain`]: the findings with their frames; [`escape`]; [`assets`]: CSS and JS.

mod assets;
pub mod bound;
pub mod class;
mod conversation;
pub mod escape;
mod explain;
pub mod ladder;
mod page;
mod peer_ladder;
mod plot;
mod rtt;
mod tsg;

use crate::event::Event;

/// The page for a capture's events; `title` names the input (a file name).
pub fn render(events: &[Event], title: &str) -> String {
    page::render(&crate::report::Gathered::new(events), title, None)
}

/// The same capture made at the other end (`--peer-capture OTHER`): its events and name.
#[derive(Debug)]
pub struct Peer<'a> {
    pub index: crate::report::Gathered<'a>,
    pub name: String,
}

/// [`render`] with both ends in one picture: each conversation also in `peer_events`
/// (same addresses and client ISN) is drawn with [`peer_ladder`], its segments lost
/// between the two capture points marked `data-lost="between"`.
pub fn render_with_peer(
    events: &[Event],
    title: &str,
    peer_events: &[Event],
    peer_name: &str,
) -> String {
    let peer = Peer {
        index: crate::report::Gathered::new(peer_events),
        name: peer_name.to_string(),
    };
    page::render(&crate::report::Gathered::new(events), title, Some(&peer))
}

/// `--svg FILE`: the ladders of conversation `conv` (or of every conversation, the
/// first [`crate::report::SECTIONS_MAX`]) as one standalone SVG document; None when
/// there is none, or one of them has no segment events (UDP: the flow graph of
/// [`crate::report::render_svg`] draws its datagrams).
pub fn ladder_svg(events: &[Event], conv: Option<u64>) -> Option<String> {
    let g = crate::report::Gathered::new(events);
    let convs: Vec<_> = g
        .convs
        .iter()
        .filter(|c| conv.is_none_or(|n| c.conv == n))
        .take(crate::report::SECTIONS_MAX)
        .collect();
    if convs.is_empty() || convs.iter().any(|c| g.segments_of(c.conv).is_empty()) {
        return None;
    }
    let ladders: Vec<(String, String)> = convs
        .iter()
        .map(|c| {
            let svg = ladder::render(c, g.segments_of(c.conv), g.messages_of(c.conv));
            (crate::words::conv_title(c), svg)
        })
        .collect();
    Some(ladder::standalone(&ladders))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;

    /// The events of a capture file, with or without the segment events.
    pub(crate) fn events_of(path: &Path, segments: bool) -> Vec<Event> {
        let source = crate::SourceOptions::file(path);
        let options = crate::Options {
            segments,
            ..crate::Options::default()
        };
        let mut events: Vec<Event> = Vec::new();
        crate::analyze(&source, options, &mut events).unwrap();
        events
    }

    fn netlab(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/netlab")
            .join(name)
    }

    #[test]
    fn ladder_rows_go_down_with_time() {
        let events = events_of(&netlab("loss_v3_100k.client.pcap"), true);
        let g = crate::report::Gathered::new(&events);
        let c = g.convs[0];
        let segs = g.segments_of(c.conv);
        assert!(segs.len() > 50, "{}", segs.len());
        let svg = ladder::render(c, segs, g.messages_of(c.conv));
        // Each drawn frame's y (its translate) and time, in document order.
        let mut last = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let mut drawn = 0;
        for part in svg.split("<g class=\"f ").skip(1).take(100_000) {
            let field = |name: &str| -> f64 {
                let at = part.find(name).unwrap() + name.len();
                let rest = &part[at..];
                rest[..rest.find(['"', ')']).unwrap()].parse().unwrap()
            };
            let (t, y) = (field("data-t=\""), field("translate(0,"));
            assert!(y > last.1, "y {y} after {}", last.1);
            assert!(t >= last.0, "t {t} after {}", last.0);
            last = (t, y);
            drawn += 1;
        }
        assert_eq!(drawn, segs.len());
    }

    #[test]
    fn a_big_ladder_is_bounded_and_says_what_it_left_out() {
        let events = events_of(&netlab("loss_v3_100k.client.pcap"), true);
        let g = crate::report::Gathered::new(&events);
        let c = g.convs[0];
        let one = g.segments_of(c.conv);
        // The conversation 13 times over, frames renumbered: more than the bound.
        let mut many: Vec<crate::event::SegmentEvent> = Vec::new();
        for round in 0..13u64 {
            for s in one {
                let mut s = (*s).clone();
                s.frame += round * 1_000;
                s.ts += round as f64;
                many.push(s);
            }
        }
        let refs: Vec<&crate::event::SegmentEvent> = many.iter().collect();
        let svg = ladder::render(c, &refs, &[]);
        assert_eq!(
            svg.matches("<g class=\"f ").count(),
            bound::LADDER_FRAMES_MAX
        );
        let left: usize = svg
            .split("data-left-out=\"")
            .skip(1)
            .map(|p| p[..p.find('"').unwrap()].parse::<usize>().unwrap())
            .sum();
        assert_eq!(left + bound::LADDER_FRAMES_MAX, many.len());
        // Every flagged frame is among those drawn.
        let flagged = many.iter().filter(|s| !s.flags.is_empty()).count();
        assert_eq!(svg.matches(" data-flags=").count(), flagged);
    }

    #[test]
    fn page_is_self_contained() {
        let events = events_of(&netlab("iterative_server.server.pcap"), true);
        let html = render(&events, "iterative_server.server.pcap");
        assert!(html.starts_with("<!DOCTYPE html>"));
        for bad in ["src=\"http", "href=\"http", "url(http", "@import", "<link "] {
            assert!(!html.contains(bad), "{bad}");
        }
        assert!(html.contains("data-graph=\"ladder\""));
        assert!(html.contains("data-graph=\"time-sequence\""));
    }
}
