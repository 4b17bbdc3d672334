//! Diagnostics in words: what the analyzer reported (struct mistakes, gaps, framing
//! errors, protocol detection), each on a line with its severity, so that the lines
//! with a severity are exactly the summary's diagnostics; then, as bullets, advice and
//! what the messages and counters show (v2 truncation, retransmissions, out-of-order
//! segments).

use super::share::{Share, Topic};
use super::{words, Style};
use crate::event::{ConversationRecord, Diagnostic, DiagnosticKind, MessageEvent, Severity};
use crate::words::diagnostic::text;
use labfacts::reassembly::GapReason;
use labproto::mistakes::Mistake;

/// Diagnostics (and truncated messages) listed per conversation; the rest are counted.
pub(crate) const LIST_MAX: usize = 50;

fn line(severity: Severity, text: &str, style: &Style) -> String {
    let word = format!("{:<7}", severity.as_str());
    let painted = match severity {
        Severity::Error => style.error(&word),
        Severity::Warning => style.warning(&word),
        Severity::Note => style.note(&word),
    };
    // Wrap on the plain text, then put the painted word in its place.
    let wrapped = words::wrap(&format!("    {word} "), "            ", text);
    wrapped.replacen(&word, &painted, 1)
}

/// Extra words for the diagnostics a learner meets most (`size_mismatch`, `gap`).
fn advice(kind: &DiagnosticKind) -> Option<&'static str> {
    match kind {
        DiagnosticKind::StructMistake { mistake: Mistake::SizeMismatch { .. }, .. } => Some("the receiver trusts the size field, so it reads too much or too little"),
        DiagnosticKind::Gap { reason, .. } if *reason != GapReason::Overflow => Some("bytes missing from a capture were sent but not recorded (snaplen, drops, or the capture started late)"),
        _ => None,
    }
}

/// The "Diagnostics" section of one conversation.
pub fn section(
    c: &ConversationRecord,
    messages: &[&MessageEvent],
    diags: &[&Diagnostic],
    share: &mut Share,
    style: &Style,
) -> String {
    let mut out = words::section_title("Diagnostics", style);
    let mut any = false;
    let mut advised: Vec<&str> = Vec::new();
    for d in diags.iter().take(LIST_MAX) {
        let mut text = shared_detection(d, share).unwrap_or_else(|| text(d));
        if let Some(filter) = finding_filter(c, d) {
            text.push_str(&format!(" (Wireshark: {filter})"));
        }
        out.push_str(&line(d.severity, &text, style));
        any = true;
    }
    for d in diags.iter().take(LIST_MAX) {
        if let Some(a) = advice(&d.kind).filter(|a| !advised.contains(a)) {
            advised.push(a);
            share.bullet(&mut out, c.conv, Topic::Advice, a);
        }
    }
    if diags.iter().any(|d| d.kind.is_struct_mistake()) {
        let text = format!(
            "the messages above were decoded as {} by the lab's rules, which this sender did not follow: \
             their fields are not what the sender meant",
            c.proto.unwrap_or(labproto::Proto::Text)
        );
        out.push_str(&words::bullet(&text));
    }
    if diags.len() > LIST_MAX {
        out.push_str(&words::bullet(&format!(
            "... and {} more diagnostics",
            diags.len() - LIST_MAX
        )));
    }
    let truncated: Vec<&&MessageEvent> = messages.iter().filter(|m| m.truncated).collect();
    if truncated.len() > LIST_MAX {
        out.push_str(&words::bullet(&format!(
            "{} more v2 messages were truncated like the ones below",
            truncated.len() - LIST_MAX
        )));
    }
    for m in truncated.into_iter().take(LIST_MAX) {
        let size = m.size.unwrap_or(0);
        let lost = u64::from(size).saturating_sub(m.payload_bytes.len() as u64);
        let text = format!(
            "{}: the {}'s v2 message order={} says size={size}, but v2's '20s' field carries only 20 bytes: \
             the last {} were cut off by struct.pack; v3 sends the whole message",
            words::frames(&m.frames),
            m.dir.sender(),
            m.order.unwrap_or(0),
            words::count(lost, "byte")
        );
        out.push_str(&words::bullet(&text));
        any = true;
    }
    // Retransmissions, losses and reordering are the loss section's (Wireshark's rules).
    if !any {
        out.push_str(&words::bullet("nothing to report"));
    }
    out
}

/// A protocol detection whose reason other conversations share, which the block
/// "Said once" gives: the line names the frame, the conversation and the protocol.
fn shared_detection(d: &Diagnostic, share: &mut Share) -> Option<String> {
    let DiagnosticKind::ProtoDetected {
        conv,
        proto,
        detection,
    } = &d.kind
    else {
        return None;
    };
    let frame = d.frame?;
    let reason = format!("carry {proto}: {}", words::detection_reason(detection));
    let instance = format!("{conv} (frame {frame})");
    share
        .note(*conv, Topic::Detection, &reason, &instance)
        .then(|| {
            format!(
                "frame {frame}: conversation {conv} carries {proto} (why, with the detection \
                 scores: under \"Said once\" above)"
            )
        })
}

/// A display filter that shows what diagnostic `d` is about in Wireshark.
fn finding_filter(c: &ConversationRecord, d: &Diagnostic) -> Option<String> {
    let stream = c.tcp_stream;
    match (&d.kind, stream, d.frame) {
        (DiagnosticKind::Gap { .. }, Some(s), _) => Some(format!(
            "tcp.stream eq {s} && (tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment)"
        )),
        (_, _, Some(f)) => Some(format!("frame.number == {f}")),
        _ => None,
    }
}

/// Diagnostics about the capture as a whole.
pub fn capture(diags: &[&Diagnostic], style: &Style) -> String {
    diags
        .iter()
        .map(|d| line(d.severity, &text(d), style))
        .collect()
}
