//! Echoes: each server message paired with the client message it answers, with the
//! time the server took (as seen where the capture ran).

use super::{words, Style};
use crate::event::{ConversationRecord, Dir, MessageEvent};
use std::collections::{HashMap, VecDeque};

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

/// What a client message and its echo share: the order field (v2, v3) or the bytes (text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key<'a> {
    Order(u32),
    Bytes(&'a [u8]),
}

fn key<'a>(m: &'a MessageEvent) -> Key<'a> {
    match m.order {
        Some(o) => Key::Order(o),
        None => Key::Bytes(&m.payload_bytes),
    }
}

/// (client index, server index, how) for every echo, in server order. A server
/// message answers the earliest client message with its key that no earlier server
/// message answered, if that one was complete before the server message began.
/// Linear in the number of messages: client messages wait in one queue per key.
fn pair(messages: &[&MessageEvent]) -> Vec<(usize, usize, &'static str)> {
    let mut waiting: HashMap<Key<'_>, VecDeque<usize>> = HashMap::new();
    let mut pairs = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        if m.dir == Dir::ClientToServer {
            waiting.entry(key(m)).or_default().push_back(i);
            continue;
        }
        let starts = m.frames.first().copied().unwrap_or(0);
        let Some(queue) = waiting.get_mut(&key(m)) else {
            continue;
        };
        let Some(&ci) = queue.front() else { continue };
        let Some(c) = messages.get(ci) else { continue };
        if c.frames.last().copied().unwrap_or(0) >= starts {
            continue;
        }
        if let Some(how) = answers(c, m) {
            queue.pop_front();
            pairs.push((ci, i, how));
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
