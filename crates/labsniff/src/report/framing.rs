//! Framing: which frames carried each message, and where TCP's byte stream did not
//! keep the sender's message boundaries (one message over several segments, several
//! messages in one segment).

use super::{words, Style};
use crate::event::{ConversationRecord, Dir, MessageEvent, TransportKind};
use std::collections::BTreeMap;

/// Messages listed per conversation; the rest are counted.
const LIST_MAX: usize = 50;
/// Split/coalesce notes per conversation; the rest are counted.
const NOTES_MAX: usize = 20;

fn rule(c: &ConversationRecord) -> Option<&'static str> {
    Some(match (c.transport, c.proto?) {
        (TransportKind::Udp, _) => {
            "UDP keeps message boundaries: each datagram is one message, and one recvfrom() returns exactly one datagram"
        }
        (TransportKind::Tcp, "v3") => {
            "v3 over TCP: each message is a 9-byte header (struct '!BII': version, order, size) followed by \
             size payload bytes; the receiver reads the 9 header bytes, then exactly size more"
        }
        (TransportKind::Tcp, "v2") => {
            "v2 over TCP: every message is exactly 29 bytes (struct '!BII20s'); the receiver keeps reading \
             until it has 29 bytes, whatever the segments were"
        }
        (TransportKind::Tcp, _) => {
            "text over TCP has no message boundaries: TCP delivers a byte stream, so the receiver's recv() \
             returns whatever bytes have arrived — part of one send(), or several send()s joined — and its \
             reads need not match the sender's writes; each \"message\" below is what one segment carried"
        }
    })
}

/// The "Framing" section of one conversation.
pub fn section(c: &ConversationRecord, messages: &[&MessageEvent], style: &Style) -> String {
    let mut out = words::section_title("Framing", style);
    if messages.is_empty() {
        let text = if c.bytes_c2s + c.bytes_s2c == 0 {
            "no payload was sent"
        } else {
            "no message could be decoded from the payload"
        };
        out.push_str(&words::bullet(text));
        return out;
    }
    if let Some(rule) = rule(c) {
        out.push_str(&words::bullet(rule));
    }
    for m in messages.iter().take(LIST_MAX) {
        let arrow = match m.dir {
            Dir::ClientToServer => "c→s",
            Dir::ServerToClient => "s→c",
        };
        let first = format!("    {arrow} {:<12} ", words::frames(&m.frames));
        out.push_str(&words::wrap(
            &first,
            &" ".repeat(first.chars().count()),
            &words::message(m),
        ));
    }
    if messages.len() > LIST_MAX {
        out.push_str(&format!("    ... and {} more\n", messages.len() - LIST_MAX));
    }
    if c.transport == TransportKind::Tcp {
        let notes = notes(c, messages);
        for note in notes.iter().take(NOTES_MAX) {
            out.push_str(&words::bullet(note));
        }
        if notes.len() > NOTES_MAX {
            out.push_str(&words::bullet(&format!(
                "... and {} more like these",
                notes.len() - NOTES_MAX
            )));
        }
    }
    out
}

/// Split and coalesced messages of a TCP conversation, in frame order.
fn notes(c: &ConversationRecord, messages: &[&MessageEvent]) -> Vec<String> {
    let mut notes = Vec::new();
    let text = c.proto == Some("text");
    for m in messages.iter().filter(|m| m.frames.len() > 1) {
        let mut note = format!(
            "the {}'s message {} was split over {} segments ({}): ",
            m.dir.sender(),
            words::message(m),
            m.frames.len(),
            words::frames(&m.frames)
        );
        note.push_str(if text {
            "the receiver gets it in pieces"
        } else {
            "one send() became several segments; the receiver must keep reading until the whole message has arrived"
        });
        notes.push(note);
    }
    // (direction, frame) → the messages that frame carried.
    let mut shared: BTreeMap<(u64, usize), Vec<&MessageEvent>> = BTreeMap::new();
    for m in messages {
        for &f in &m.frames {
            shared.entry((f, m.dir.index())).or_default().push(m);
        }
    }
    for ((frame, _), list) in shared.into_iter().filter(|(_, l)| l.len() > 1) {
        let sender = list.first().map_or("sender", |m| m.dir.sender());
        // A segment can hold hundreds of small messages: name the first few.
        let mut labels: Vec<String> = list.iter().take(3).map(|m| words::message(m)).collect();
        if list.len() > 3 {
            labels.push(format!("{} more", list.len() - 3));
        }
        let whole = list.iter().all(|m| m.frames.len() == 1);
        notes.push(format!(
            "frame {frame} carried {}{} messages of the {sender} ({}): TCP joined several send() calls \
             into one segment; one recv() can return them together, and the receiver separates them by the \
             format's lengths",
            if whole { "" } else { "parts of " },
            list.len(),
            labels.join(", ")
        ));
    }
    if notes.is_empty() && !text {
        notes.push(
            "every message travelled in a segment of its own here; TCP does not promise that"
                .to_string(),
        );
    }
    notes
}
