//! Echoes: each server message paired with the client message it answers, with the
//! time the server took (as seen where the capture ran).

use super::{words, Style};
use crate::event::{ConversationRecord, Dir, MessageEvent, TransportKind};
use std::collections::hash_map::{Entry, HashMap};
use std::fmt::Write as _;

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

/// One echo: the client messages it repeats (several when a text stream was cut
/// differently on the way back), the server message, and how they match.
#[derive(Debug)]
struct Echo {
    clients: Clients,
    server: usize,
    how: &'static str,
}

/// The client messages of an [`Echo`]: v2, v3 and UDP echoes repeat one, without a
/// `Vec` for it (a capture has thousands).
#[derive(Debug)]
enum Clients {
    One([usize; 1]),
    Many(Vec<usize>),
}

impl Clients {
    fn as_slice(&self) -> &[usize] {
        match self {
            Clients::One(one) => one,
            Clients::Many(many) => many,
        }
    }
}

/// Every echo, in server order.
///
/// v2/v3 and UDP text: a server message answers the earliest client message with its
/// key that no earlier server message answered, if that one began before the server
/// message began and was complete before the server message was (a server that
/// echoes what each recv() returns starts a large echo before the request is whole). Text over TCP is a stream, so the server's bytes are
/// compared with the client's bytes at the same stream offsets instead.
/// Linear in the number of messages: client messages wait in one queue per key, a
/// list linked through `next` (no allocation per key).
fn pair(messages: &[&MessageEvent]) -> Vec<Echo> {
    // Per key, the (first, last) waiting client message; `first` NONE when all were answered.
    let mut waiting: HashMap<Key<'_>, (usize, usize), crate::flow_hash::FlowHashBuilder> =
        HashMap::default();
    let mut next = vec![NONE; messages.len()];
    // Client text-over-TCP messages by stream offset (stream order is offset order).
    let mut stream: Vec<(u64, usize)> = Vec::new();
    let mut echoes = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        // (UDP messages carry offsets too, but each datagram stands alone.)
        let text_stream = m.order.is_none() && m.transport == TransportKind::Tcp;
        if m.dir == Dir::ClientToServer {
            match (text_stream, m.offset) {
                (true, Some(offset)) => stream.push((offset, i)),
                _ => match waiting.entry(key(m)) {
                    Entry::Occupied(mut queue) => {
                        let (first, last) = queue.get_mut();
                        if *first == NONE {
                            *first = i;
                        } else if let Some(link) = next.get_mut(*last) {
                            *link = i;
                        }
                        *last = i;
                    }
                    Entry::Vacant(slot) => {
                        slot.insert((i, i));
                    }
                },
            }
            continue;
        }
        if text_stream {
            if let Some(clients) = same_stream_bytes(messages, &stream, m) {
                echoes.push(Echo {
                    clients: Clients::Many(clients),
                    server: i,
                    how: "same bytes, same stream position",
                });
            }
            continue;
        }
        let starts = m.frames.first().copied().unwrap_or(0);
        let Some((first, _)) = waiting.get_mut(&key(m)) else {
            continue;
        };
        let ci = *first;
        let Some(c) = messages.get(ci) else { continue };
        let c_first = c.frames.first().copied().unwrap_or(0);
        let (c_last, m_last) = (
            c.frames.last().copied().unwrap_or(0),
            m.frames.last().copied().unwrap_or(0),
        );
        if c_first >= starts || c_last > m_last {
            continue;
        }
        if let Some(how) = answers(c, m) {
            *first = next.get(ci).copied().unwrap_or(NONE);
            echoes.push(Echo {
                clients: Clients::One([ci]),
                server: i,
                how,
            });
        }
    }
    echoes
}

/// No message: the end of a waiting list.
const NONE: usize = usize::MAX;

/// The client messages whose bytes, at the server message's stream offsets, equal the
/// server message's bytes, each begun before it began and complete before it was;
/// `None` if any byte differs or is missing.
fn same_stream_bytes(
    messages: &[&MessageEvent],
    stream: &[(u64, usize)],
    server: &MessageEvent,
) -> Option<Vec<usize>> {
    let start = server.offset?;
    let bytes = &server.payload_bytes;
    let end = start + bytes.len() as u64;
    let starts = server.frames.first().copied().unwrap_or(0);
    // First client message that ends after `start`.
    let first = stream.partition_point(|&(offset, i)| {
        offset + messages.get(i).map_or(0, |m| m.payload_bytes.len() as u64) <= start
    });
    let mut covered = start;
    let mut clients = Vec::new();
    for &(offset, i) in stream.get(first..)? {
        if covered >= end {
            break;
        }
        let c = messages.get(i)?;
        let c_end = offset + c.payload_bytes.len() as u64;
        let c_first = c.frames.first().copied().unwrap_or(0);
        let c_last = c.frames.last().copied().unwrap_or(0);
        let server_last = server.frames.last().copied().unwrap_or(0);
        if offset > covered || c_first >= starts || c_last > server_last {
            return None;
        }
        let upto = c_end.min(end);
        let mine = bytes
            .get(usize::try_from(covered - start).ok()?..usize::try_from(upto - start).ok()?)?;
        let theirs = c
            .payload_bytes
            .get(usize::try_from(covered - offset).ok()?..usize::try_from(upto - offset).ok()?)?;
        if mine != theirs {
            return None;
        }
        clients.push(i);
        covered = upto;
    }
    (covered == end && !clients.is_empty()).then_some(clients)
}

/// The "Echoes" section of one conversation.
pub fn section(c: &ConversationRecord, messages: &[&MessageEvent], style: &Style) -> String {
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
    let echoes = pair(messages);
    // One line buffer for the frame columns and one for the text, reused row after row.
    let (mut lead, mut text) = (String::new(), String::new());
    let mut frames_buf: Vec<u64> = Vec::new();
    for e in echoes.iter().take(LIST_MAX) {
        let Some(s) = messages.get(e.server) else {
            continue;
        };
        let clients = || e.clients.as_slice().iter().filter_map(|&i| messages.get(i));
        // The frames of the messages echoed, in order, each once: a message's own list
        // when it is the only one and already so (the usual case), else sorted.
        let single = match e.clients.as_slice() {
            [one] => messages
                .get(*one)
                .map(|m| m.frames.as_slice())
                .filter(|f| f.is_sorted_by(|a, b| a < b)),
            _ => None,
        };
        let client_frames: &[u64] = match single {
            Some(frames) => frames,
            None => {
                frames_buf.clear();
                frames_buf.extend(clients().flat_map(|m| m.frames.iter().copied()));
                frames_buf.sort_unstable();
                frames_buf.dedup();
                &frames_buf
            }
        };
        let answered = e
            .clients
            .as_slice()
            .last()
            .and_then(|&i| messages.get(i))
            .map_or(s.ts, |c| c.ts);
        // "    {:<12} → {:<12} after {:<10} "
        lead.clear();
        lead.push_str("    ");
        words::frames_into(&mut lead, client_frames);
        words::pad_from(&mut lead, 4, 12);
        lead.push_str(" → ");
        let at = lead.len();
        words::frames_into(&mut lead, &s.frames);
        words::pad_from(&mut lead, at, 12);
        lead.push_str(" after ");
        let at = lead.len();
        words::duration_into(&mut lead, s.ts - answered);
        words::pad_from(&mut lead, at, 10);
        lead.push(' ');
        text.clear();
        words::message_into(&mut text, s);
        text.push_str(" — ");
        text.push_str(e.how);
        words::columns_into(&mut out, &lead, &text);
    }
    if echoes.len() > LIST_MAX {
        let _ = writeln!(out, "    ... and {} more", echoes.len() - LIST_MAX);
    }
    // Client messages echoed at least once.
    let mut seen = vec![false; messages.len()];
    let mut echoed = 0usize;
    for &i in echoes.iter().flat_map(|e| e.clients.as_slice()) {
        if let Some(flag) = seen.get_mut(i) {
            echoed += usize::from(!*flag);
            *flag = true;
        }
    }
    let mut summary = format!(
        "{} of {} echoed by the server",
        echoed,
        words::count(from_client as u64, "client message")
    );
    if from_server > echoes.len() {
        summary.push_str(&format!(
            "; {} no earlier client message",
            match from_server - echoes.len() {
                1 => "1 server message answers".to_string(),
                n => format!("{n} server messages answer"),
            }
        ));
    }
    if !echoes.is_empty() {
        summary.push_str(
            "; the times run from the client message's last frame to the echo's last frame",
        );
        summary.push_str(&timing_label(c));
    }
    out.push_str(&words::bullet(&summary));
    out
}

/// What an echo time measures at this capture point.
fn timing_label(c: &ConversationRecord) -> String {
    use crate::event::CapturePoint;
    let Some(t) = &c.tcp else {
        return ", as seen at the capture point (UDP: where that was cannot be told from the packets)"
            .to_string();
    };
    let rtt = t
        .irtt
        .map(|r| format!(" (initial RTT here: {})", words::duration(r)))
        .unwrap_or_default();
    match t.capture_point {
        CapturePoint::Server => ". Captured at the server, so no network round trip is in them: each \
            is the server's own time (reading the request, handling it, writing the echo), plus any \
            time its TCP held the request's bytes back while an earlier segment was missing \
            (recv() gets bytes only in order) and any wait for the client's receive window"
            .to_string(),
        CapturePoint::Client => format!(
            ". Captured at the client, so each includes a network round trip{rtt} on top of the \
             server's own time, plus any time lost segments took to be resent"
        ),
        CapturePoint::Between => format!(
            ". Captured between the hosts, so each includes part of the round trip{rtt} and the \
             server's own time"
        ),
        CapturePoint::Unknown => ". Where the capture was made cannot be told from the handshake, so \
            these times mix the network and the server's own time in unknown shares"
            .to_string(),
    }
}
