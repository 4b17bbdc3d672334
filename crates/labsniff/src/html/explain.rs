//! The explanations beside the pictures: the explain report's findings for one
//! conversation, each in the words the text report uses (crate::words,
//! crate::report), with the frames it cites — taken from the facts, never from the
//! words — as links into the ladder, and a Wireshark display filter for them with a
//! copy button. Below them, the text report's sections for the conversation.

use super::escape::text;
use crate::event::{AnalysisEvent, ConversationRecord, Diagnostic, MessageEvent};
use std::fmt::Write as _;

/// Links written per finding (the filter names them all up to [`FILTER_FRAMES_MAX`]).
const LINKS_MAX: usize = 12;
/// Frames a finding's filter names; more and it filters the conversation.
const FILTER_FRAMES_MAX: usize = 100;
/// Flagged frames, diagnostics and messages listed per conversation, each; the rest
/// are counted in one line (`--json` lists them all).
pub const FINDINGS_PER_KIND: usize = 100;

/// One finding: its sentence and the frames it cites.
#[derive(Debug)]
pub struct Finding {
    pub what: &'static str,
    pub text: String,
    pub frames: Vec<u64>,
    /// Frames of the other capture it cites (`--peer-capture`: a segment only that
    /// capture has), as `data-peer-cites`.
    pub peer_frames: Vec<u64>,
}

/// What a conversation's findings are made of (labfacts' index of it).
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub analysis: &'a [&'a AnalysisEvent],
    pub causes: &'a [&'a crate::causes::Cause],
    pub diags: &'a [&'a Diagnostic],
    pub messages: &'a [&'a MessageEvent],
}

/// The findings of one conversation, in the text report's order: where it was
/// captured, the flagged frames, the causes, the diagnostics, then the messages.
pub fn findings(c: &ConversationRecord, facts: Facts<'_>) -> Vec<Finding> {
    let Facts {
        analysis,
        causes,
        diags,
        messages,
    } = facts;
    let mut out = Vec::new();
    if let Some(t) = &c.tcp {
        if let Some(note) = crate::report::capture_point_note(t) {
            let frames = [t.syn_frame, t.syn_ack_frame, t.ack_frame];
            out.push(Finding {
                what: "capture point",
                text: note,
                frames: frames.into_iter().flatten().collect(),
                peer_frames: Vec::new(),
            });
        }
    }
    for a in analysis.iter().take(FINDINGS_PER_KIND) {
        let mut frames = vec![a.frame];
        frames.extend(a.duplicate_ack.map(|d| d.frame));
        frames.extend(a.retransmitted.map(|r| r.rto_frame));
        out.push(Finding {
            what: "analysis",
            text: crate::report::analysis_text_without_frame(a),
            frames,
            peer_frames: Vec::new(),
        });
    }
    more(&mut out, analysis.len(), "flagged frames");
    for cause in causes {
        out.push(Finding {
            what: "cause",
            text: crate::words::causes::text_without_frames(cause),
            frames: cause.frames.clone(),
            peer_frames: Vec::new(),
        });
    }
    for d in diags.iter().take(FINDINGS_PER_KIND) {
        out.push(Finding {
            what: "diagnostic",
            text: crate::words::diagnostic::text_without_frame(d),
            frames: d.frame.into_iter().collect(),
            peer_frames: Vec::new(),
        });
    }
    more(&mut out, diags.len(), "diagnostics");
    for m in messages.iter().take(FINDINGS_PER_KIND) {
        out.push(Finding {
            what: "message",
            text: format!("{} {}", m.dir.as_str(), crate::words::message(m)),
            frames: m.frames.clone(),
            peer_frames: Vec::new(),
        });
    }
    more(&mut out, messages.len(), "messages");
    out
}

/// The line counting what a list left out.
fn more(out: &mut Vec<Finding>, n: usize, what: &str) {
    if n > FINDINGS_PER_KIND {
        out.push(Finding {
            what: "more",
            text: format!(
                "… and {} more {what} (labsniff --json lists every one)",
                n - FINDINGS_PER_KIND
            ),
            frames: Vec::new(),
            peer_frames: Vec::new(),
        });
    }
}

/// The display filter that shows `frames` of `c`: `frame.number == 7`, or the
/// conversation's filter with `frame.number in {…}`.
pub fn filter(c: &ConversationRecord, frames: &[u64]) -> String {
    match frames {
        [] => crate::words::conv_filter(c),
        [one] => format!("frame.number == {one}"),
        many if many.len() > FILTER_FRAMES_MAX => crate::words::conv_filter(c),
        many => {
            let list: Vec<String> = many.iter().map(u64::to_string).collect();
            format!(
                "{} && frame.number in {{{}}}",
                crate::words::conv_filter(c),
                list.join(" ")
            )
        }
    }
}

/// The findings as a list (`<li data-cites="…">`).
pub fn render(c: &ConversationRecord, findings: &[Finding]) -> String {
    let mut out = String::from(r#"<ol class="findings">"#);
    for f in findings {
        let cites: Vec<String> = f.frames.iter().map(u64::to_string).collect();
        let _ = write!(
            out,
            r#"<li class="finding {}" data-cites="{}"{}><span class="what">{}</span> {} "#,
            f.what,
            cites.join(" "),
            peer_cites(&f.peer_frames),
            f.what,
            text(&f.text)
        );
        links(&mut out, c.conv, &f.frames);
        let _ = write!(
            out,
            r#" <code class="filter">{}</code><button type="button" class="copy">copy</button></li>"#,
            text(&filter(c, &f.frames))
        );
    }
    out.push_str("</ol>");
    out
}

/// ` data-peer-cites="…"` when there are any.
fn peer_cites(frames: &[u64]) -> String {
    if frames.is_empty() {
        return String::new();
    }
    let list: Vec<String> = frames.iter().map(u64::to_string).collect();
    format!(r#" data-peer-cites="{}""#, list.join(" "))
}

/// `frames <a>7</a> <a>9</a>` (the first [`LINKS_MAX`], then how many more).
fn links(out: &mut String, conv: u64, frames: &[u64]) {
    if frames.is_empty() {
        return;
    }
    out.push_str(r#"<span class="frames">"#);
    out.push_str(if frames.len() == 1 { "frame" } else { "frames" });
    for f in frames.iter().take(LINKS_MAX) {
        let _ = write!(
            out,
            r##" <a class="fr" href="#c{conv}-f{f}" data-goto="{f}">{f}</a>"##
        );
    }
    if frames.len() > LINKS_MAX {
        let _ = write!(out, " (+{})", frames.len() - LINKS_MAX);
    }
    out.push_str("</span>");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A conversation record from a tiny capture.
    fn conv() -> ConversationRecord {
        use labfixtures::{Capture, FileFormat, LinkType};
        let mut cap = Capture::new(LinkType::Ethernet);
        let a = "10.0.0.2:40000".parse().unwrap();
        let b = "10.0.0.1:5005".parse().unwrap();
        let mut flow = cap.tcp(a, b);
        flow.handshake(&mut cap);
        flow.close(&mut cap);
        let path = std::env::temp_dir().join(format!("labsniff-html-{}.pcap", std::process::id()));
        cap.write(&path, FileFormat::Pcap).unwrap();
        let events = super::super::tests::events_of(&path, false);
        let _ = std::fs::remove_file(&path);
        events
            .into_iter()
            .find_map(|e| match e {
                crate::Event::Conversation(c) => Some(*c),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn filters_name_the_frames() {
        let c = conv();
        assert_eq!(filter(&c, &[7]), "frame.number == 7");
        assert_eq!(
            filter(&c, &[7, 9]),
            "tcp.stream eq 0 && frame.number in {7 9}"
        );
        let many: Vec<u64> = (1..=200).collect();
        assert_eq!(filter(&c, &many), "tcp.stream eq 0");
    }

    #[test]
    fn findings_link_their_frames_and_escape_their_words() {
        let c = conv();
        let f = Finding {
            what: "diagnostic",
            text: "a <b> & c".to_string(),
            frames: (1..=14).collect(),
            peer_frames: Vec::new(),
        };
        let html = render(&c, &[f]);
        assert!(html.contains("a &lt;b&gt; &amp; c"), "{html}");
        assert!(html.contains(r##"href="#c1-f3""##), "{html}");
        assert!(html.contains("(+2)"), "{html}");
        assert!(html.contains(r#"data-cites="1 2 3 4 5 6 7 8 9 10 11 12 13 14""#));
    }
}
