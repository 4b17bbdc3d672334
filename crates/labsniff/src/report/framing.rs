//! Framing: which frames carried each message, and where TCP's byte stream did not
//! keep the sender's message boundaries (one message over several segments, several
//! messages in one segment).

use super::share::{Share, Topic};
use super::{bytes, words, FrameLists, Style};
use crate::event::{ConversationRecord, Dir, MessageEvent, TransportKind};
use labproto::Proto;
use std::fmt::Write as _;

/// Messages listed per conversation; the rest are counted.
const LIST_MAX: usize = 50;
/// Frame lists wider than this get the message on the next line.
const FRAMES_WIDTH_MAX: usize = 32;
/// Split/coalesce notes per conversation; the rest are counted.
const NOTES_MAX: usize = 20;

fn rule(c: &ConversationRecord) -> Option<&'static str> {
    Some(match (c.transport, c.proto?) {
        (TransportKind::Udp, _) => {
            "UDP keeps message boundaries: each datagram is one message, and one recvfrom() returns exactly \
             one datagram. UDP does not retransmit: a datagram lost on the way is gone unless the program \
             sends it again"
        }
        (TransportKind::Tcp, Proto::V3) => {
            "v3 over TCP: each message is a 9-byte header (struct '!BII': version, order, size) followed by \
             size payload bytes; the receiver reads the 9 header bytes, then exactly size more"
        }
        (TransportKind::Tcp, Proto::V2) => {
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

/// The "Framing" section of one conversation; `byte_map` adds the byte map of its
/// first v2 or v3 message. The frame lists it writes are noted in `lists` (for the
/// report's legend).
pub fn section(
    c: &ConversationRecord,
    messages: &[&MessageEvent],
    byte_map: bool,
    writes_known: bool,
    lists: &mut FrameLists,
    share: &mut Share,
    style: &Style,
) -> String {
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
        share.bullet(&mut out, c.conv, Topic::FramingRule, rule);
    }
    let column = FrameColumn::of(messages, lists);
    rows(&mut out, c, messages, &column);
    if messages.len() > LIST_MAX {
        let _ = writeln!(out, "    ... and {} more", messages.len() - LIST_MAX);
    }
    if c.transport == TransportKind::Tcp {
        tcp_notes(&mut out, c, messages, writes_known, share);
    }
    if byte_map {
        if let Some(m) = messages.iter().find(|m| m.order.is_some()) {
            let map = bytes::map(c, m);
            // The map names the message's frames (words::frames) whenever it is drawn.
            if !map.is_empty() {
                lists.note(&m.frames);
            }
            out.push_str(&map);
        }
    }
    out
}

/// The frames of every listed message (the first [`LIST_MAX`]), written once into
/// one buffer (ends kept), to take the column's width and then to print them.
struct FrameColumn {
    text: String,
    ends: Vec<usize>,
    /// The widest list of at most [`FRAMES_WIDTH_MAX`] characters (at least 12).
    width: usize,
}

impl FrameColumn {
    fn of(messages: &[&MessageEvent], lists: &mut FrameLists) -> FrameColumn {
        let mut text = String::new();
        let mut ends: Vec<usize> = Vec::with_capacity(messages.len().min(LIST_MAX));
        let mut width = 12;
        for m in messages.iter().take(LIST_MAX) {
            let at = text.len();
            lists.frames_into(&mut text, &m.frames);
            let w = text.get(at..).map_or(0, |f| f.chars().count());
            if w <= FRAMES_WIDTH_MAX {
                width = width.max(w);
            }
            ends.push(text.len());
        }
        FrameColumn { text, ends, width }
    }
}

/// A row per listed message: direction, frames, TCP sequence number, the message.
fn rows(
    out: &mut String,
    c: &ConversationRecord,
    messages: &[&MessageEvent],
    column: &FrameColumn,
) {
    let tcp = c.transport == TransportKind::Tcp;
    let (mut lead, mut text) = (String::new(), String::new());
    let mut at = 0;
    for (m, &end) in messages.iter().zip(&column.ends) {
        let frames = column.text.get(at..end).unwrap_or_default();
        at = end;
        let arrow = match m.dir {
            Dir::ClientToServer => "c→s",
            Dir::ServerToClient => "s→c",
        };
        // "    {arrow} {frames:<width$} {seq}", seq being "seq {:<7} " or nothing.
        lead.clear();
        lead.push_str("    ");
        lead.push_str(arrow);
        lead.push(' ');
        let start = lead.len();
        lead.push_str(frames);
        words::pad_from(&mut lead, start, column.width);
        lead.push(' ');
        // Wireshark's relative sequence number of the message's first byte.
        if let Some(offset) = m.offset.filter(|_| tcp) {
            lead.push_str("seq ");
            let start = lead.len();
            lead.push_str(itoa::Buffer::new().format(offset + 1));
            words::pad_from(&mut lead, start, 7);
            lead.push(' ');
        }
        text.clear();
        words::message_into(&mut text, m);
        words::columns_into(out, &lead, &text);
    }
}

/// A TCP conversation's bullets under the rows: what seq means, the split and
/// coalesced messages (the first [`NOTES_MAX`], the rest counted), segment sizes.
fn tcp_notes(
    out: &mut String,
    c: &ConversationRecord,
    messages: &[&MessageEvent],
    writes_known: bool,
    share: &mut Share,
) {
    share.bullet(
        out,
        c.conv,
        Topic::Seq,
        "seq: Wireshark's relative sequence number of the message's first byte (1 is the first \
         byte of the sender's stream, counted from its ISN when the SYN was captured; the raw \
         number in the TCP header is the ISN plus it)",
    );
    let notes = notes(c, messages, writes_known);
    for (at, note) in notes.shown.iter().enumerate() {
        if notes.general == Some(at) {
            share.bullet(out, c.conv, Topic::Segments, note);
        } else {
            words::bullet_into(out, note);
        }
    }
    if notes.count > NOTES_MAX {
        words::bullet_into(
            out,
            &format!("... and {} more like these", notes.count - NOTES_MAX),
        );
    }
    for note in segment_size_notes(c) {
        share.bullet(out, c.conv, Topic::Segments, &note);
    }
}

/// Why the largest segments carry MSS − 12 bytes, when the timestamps option says so.
fn segment_size_notes(c: &ConversationRecord) -> Vec<String> {
    let Some(t) = &c.tcp else { return Vec::new() };
    let (Some(client), Some(server)) = (t.client_options, t.server_options) else {
        return Vec::new();
    };
    if !(client.timestamps && server.timestamps) {
        return Vec::new();
    }
    // The client's segments are limited by the MSS the server announced, and back.
    let mut fits: Vec<(&str, u64, &str, u16)> = Vec::new();
    for (who, largest, peer, mss) in [
        ("client", t.largest_segment_c2s, "server", server.mss),
        ("server", t.largest_segment_s2c, "client", client.mss),
    ] {
        if let Some(mss) = mss.filter(|&m| m > 12 && largest == u64::from(m) - 12) {
            fits.push((who, largest, peer, mss));
        }
    }
    let who = match fits.as_slice() {
        [] => return Vec::new(),
        [(_, a, _, m), (_, b, _, n)] if a == b && m == n => {
            format!("the client's and the server's largest segments carry {a} bytes, not the {m} of the MSS both announced")
        }
        [(who, largest, peer, mss), ..] => {
            format!("the {who}'s largest segments carry {largest} bytes, not the {mss} of the MSS the {peer} announced")
        }
    };
    let (largest, mss) = fits.first().map_or((0, 0), |f| (f.1, f.3));
    vec![format!(
        "{who}: both SYNs carried the timestamps option, which then takes 12 bytes (10, plus 2 NOPs \
         for alignment) of every segment's TCP header, and the sender subtracts them from the MSS, \
         leaving {largest} bytes ({mss} minus 12) of payload"
    )]
}

/// The notes of [`notes`]: the first [`NOTES_MAX`] written out, all of them counted
/// (a conversation can have thousands, and only the count of the others is printed).
#[derive(Debug, Default)]
struct Notes {
    shown: Vec<String>,
    count: usize,
    /// Where in `shown` the closing note about segments and writes is, which does not
    /// name this conversation's messages (other conversations may say it too).
    general: Option<usize>,
}

impl Notes {
    fn push(&mut self, note: impl FnOnce() -> String) {
        if self.shown.len() < NOTES_MAX {
            self.shown.push(note());
        }
        self.count += 1;
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Split and coalesced messages of a TCP conversation, in frame order, then what can
/// make segments differ from the sender's writes.
fn notes(c: &ConversationRecord, messages: &[&MessageEvent], writes_known: bool) -> Notes {
    let mut notes = Notes::default();
    let text = c.proto == Some(Proto::Text);
    for m in messages.iter().filter(|m| m.frames.len() > 1) {
        notes.push(|| {
            let mut note = format!(
                "the {}'s message {} was carried by {} segments ({}): ",
                m.dir.sender(),
                words::message(m),
                m.frames.len(),
                words::frames_span(&m.frames)
            );
            note.push_str(if text {
                "the receiver gets it in pieces"
            } else {
                "the receiver must keep reading until the whole message has arrived"
            });
            note
        });
    }
    // (frame, direction, message) of every frame of every message, sorted: the
    // messages each frame carried, by frame then direction, each frame's in message
    // order (a sorted list, not a map of lists: one allocation).
    let mut carried: Vec<(u64, usize, usize)> = messages
        .iter()
        .enumerate()
        .flat_map(|(i, m)| m.frames.iter().map(move |&f| (f, m.dir.index(), i)))
        .collect();
    carried.sort_unstable();
    for group in carried.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        if group.len() < 2 {
            continue;
        }
        let frame = group.first().map_or(0, |g| g.0);
        let list = || group.iter().filter_map(|&(_, _, i)| messages.get(i));
        notes.push(|| {
            let sender = list().next().map_or("sender", |m| m.dir.sender());
            // A segment can hold hundreds of small messages: name the first few.
            let mut labels: Vec<String> = list().take(3).map(|m| words::message(m)).collect();
            if group.len() > 3 {
                labels.push(format!("{} more", group.len() - 3));
            }
            let whole = list().all(|m| m.frames.len() == 1);
            format!(
                "frame {frame} carried {}{} messages of the {sender} ({}) in one segment; one recv() can \
                 return them together, and the receiver separates them by the format's lengths",
                if whole { "" } else { "parts of " },
                group.len(),
                labels.join(", ")
            )
        });
    }
    notes.general = Some(notes.shown.len()).filter(|&at| at < NOTES_MAX);
    if !notes.is_empty() && writes_known {
        notes.push(|| {
            "how many send() calls wrote these bytes and how many recv() calls read them is no guess \
             here: the System calls section below lists them, from both programs' traces"
                .to_string()
        });
    } else if !notes.is_empty() {
        let announced = |o: Option<crate::event::SynOptions>| o.and_then(|o| o.mss);
        let (by_client, by_server) = c.tcp.as_ref().map_or((None, None), |t| {
            (announced(t.client_options), announced(t.server_options))
        });
        let mss = match (by_client, by_server) {
            (Some(a), Some(b)) if a == b => format!(" ({a} bytes here)"),
            (Some(a), Some(b)) => {
                format!(" (here {b} for the client's segments, {a} for the server's)")
            }
            (Some(m), None) | (None, Some(m)) => format!(" ({m} bytes announced here)"),
            (None, None) => String::new(),
        };
        notes.push(|| format!(
            "a capture shows how the bytes were cut into segments, not how many send() calls wrote \
             them: TCP cuts a large write into segments of at most the MSS the peer announced{mss}, \
             and may put several small writes into one segment (Nagle's algorithm holds back small \
             writes while earlier data is unacknowledged, unless the socket set TCP_NODELAY); with \
             segmentation offload (TSO/GSO) a capture on the sending host can even show one segment \
             larger than the MSS, which the network card cuts later"
        ));
    } else if !text {
        notes.push(|| {
            "every message travelled in a segment of its own here; TCP does not promise that"
                .to_string()
        });
    } else {
        notes.general = None;
    }
    notes
}
