//! Echoes: each server message paired with the client message it answers, with the
//! time the server took (as seen where the capture ran).

use super::{words, Style};
use crate::event::{ConversationRecord, Dir, MessageEvent};

/// Pairs listed per conversation; the rest are counted.
const LIST_MAX: usize = 50;

/// How a server message answers a client message, if it does.
fn answers(client: &MessageEvent, server: &MessageEvent) -> Option<&'static str> {
    let same_bytes = client.payload_bytes == server.payload_bytes;
    match (client.order, server.order) {
        (Some(a), Some(b)) if a == b && same_bytes => Some("same order, same payload"),
        (Some(a), Some(b)) if a == b => Some("same order, other payload"),
        (None, None) if same_bytes => Some("same bytes"),
        _ => None,
    }
}

/// (client index, server index, how) for every echo, in server order. A server
/// message answers the earliest client message that completed before it and
/// matches it, and that no earlier server message answered.
fn pair(messages: &[&MessageEvent]) -> Vec<(usize, usize, &'static str)> {
    let mut used = vec![false; messages.len()];
    let mut pairs = Vec::new();
    for (si, s) in messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.dir == Dir::ServerToClient)
    {
        let starts = s.frames.first().copied().unwrap_or(0);
        let found = messages.iter().enumerate().find_map(|(ci, c)| {
            let before = c.frames.last().copied().unwrap_or(0) < starts;
            if c.dir != Dir::ClientToServer || used[ci] || !before {
                return None;
            }
            answers(c, s).map(|how| (ci, how))
        });
        if let Some((ci, how)) = found {
            used[ci] = true;
            pairs.push((ci, si, how));
        }
    }
    pairs
}

/// The "Echoes" section of one conversation.
pub fn section(_c: &ConversationRecord, messages: &[&MessageEvent], style: &Style) -> String {
    let mut out = words::section_title("Echoes", style);
    let from_client = messages
        .iter()
        .filter(|m| m.dir == Dir::ClientToServer)
        .count();
    let from_server = messages.len() - from_client;
    if from_server == 0 {
        let text = if from_client == 0 {
            "no message in either direction".to_string()
        } else {
            "the server sent nothing back: no echo".to_string()
        };
        out.push_str(&words::bullet(&text));
        return out;
    }
    let pairs = pair(messages);
    for &(ci, si, how) in pairs.iter().take(LIST_MAX) {
        let (Some(c), Some(s)) = (messages.get(ci), messages.get(si)) else {
            continue;
        };
        let first = format!(
            "    {:<12} → {:<12} after {:<10} ",
            words::frames(&c.frames),
            words::frames(&s.frames),
            words::duration(s.ts - c.ts)
        );
        let text = format!("{} — {how}", words::message(s));
        out.push_str(&words::wrap(
            &first,
            &" ".repeat(first.chars().count()),
            &text,
        ));
    }
    if pairs.len() > LIST_MAX {
        out.push_str(&format!("    ... and {} more\n", pairs.len() - LIST_MAX));
    }
    let mut summary = format!(
        "{} of {} echoed by the server",
        pairs.len(),
        words::count(from_client as u64, "client message")
    );
    if from_server > pairs.len() {
        summary.push_str(&format!(
            "; {} answer no earlier client message",
            words::count((from_server - pairs.len()) as u64, "server message")
        ));
    }
    if !pairs.is_empty() {
        summary.push_str(
            "; the times run from the client message's last frame to the echo's last frame",
        );
    }
    out.push_str(&words::bullet(&summary));
    out
}
