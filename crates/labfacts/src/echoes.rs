//! Echoes: each server message paired with the client message(s) it repeats — the one
//! rule the report, grading and every other view use.
//!
//! The rule (see [`pair`]): v2, v3 and UDP messages pair by their key — the order field
//! when the format has one, else the bytes — with the earliest client message of that
//! key that no earlier server message answered, if it began before the server message
//! began and was complete before the server message was; text over TCP is a stream, so
//! a server message pairs with the client bytes at the same stream offsets.

use crate::event::{Dir, MessageEvent, TransportKind};
use std::collections::hash_map::{Entry, HashMap};

/// What a server message shares with the client message(s) it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoMatch {
    /// v2/v3: the order field and the payload bytes.
    SameOrderSamePayload,
    /// v2/v3: the order field only; the payload was changed.
    SameOrderOtherPayload,
    /// A datagram (UDP text) with the same bytes.
    SameBytes,
    /// Text over TCP: the same bytes at the same stream offsets.
    SameStreamBytes,
    /// Text over TCP: the reply carries the client message(s) whole and in order,
    /// the first beginning `at` bytes into the reply, with `extra` bytes of the reply
    /// that are not the client's (a server that sends `b"ECHO: " + data`: at 6,
    /// extra 6). `extra` 0: the same bytes, at another stream position (after an
    /// earlier reply that added bytes).
    InReply { at: u32, extra: u32 },
}

/// How a server message answers a client message, if it does.
fn answers(client: &MessageEvent, server: &MessageEvent) -> Option<EchoMatch> {
    let same_bytes = client.payload_bytes == server.payload_bytes;
    match (client.order, server.order) {
        (Some(a), Some(b)) if a == b && same_bytes => Some(EchoMatch::SameOrderSamePayload),
        (Some(a), Some(b)) if a == b => Some(EchoMatch::SameOrderOtherPayload),
        (None, None) if same_bytes => Some(EchoMatch::SameBytes),
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    /// Indices of the client messages repeated, in stream order.
    pub clients: Clients,
    /// Index of the server message.
    pub server: usize,
    pub how: EchoMatch,
}

/// The client messages of an [`Echo`]: v2, v3 and UDP echoes repeat one, without a
/// `Vec` for it (a capture has thousands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clients {
    One([usize; 1]),
    Many(Vec<usize>),
}

impl Clients {
    pub fn as_slice(&self) -> &[usize] {
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
pub fn pair(messages: &[&MessageEvent]) -> Vec<Echo> {
    let mut pairing = Pairing::new(messages);
    for (i, &m) in messages.iter().enumerate() {
        // (UDP messages carry offsets too, but each datagram stands alone.)
        let text_stream = m.order.is_none() && m.transport == TransportKind::Tcp;
        if text_stream {
            pairing.follow_offsets(m);
        }
        match (m.dir, text_stream, m.offset) {
            (Dir::ClientToServer, true, Some(offset)) => pairing.stream.push((offset, i)),
            (Dir::ClientToServer, _, _) => pairing.wait(i, m),
            (Dir::ServerToClient, true, _) => pairing.text_reply(i, m),
            (Dir::ServerToClient, false, _) => pairing.keyed_reply(i, m),
        }
    }
    pairing.echoes
}

/// The state of [`pair`] as it walks the messages.
struct Pairing<'m, 'e> {
    messages: &'m [&'e MessageEvent],
    /// Per key, the (first, last) waiting client message; `first` NONE when all were answered.
    waiting: HashMap<Key<'e>, (usize, usize), crate::flow_hash::FlowHashBuilder>,
    /// The waiting lists' links: the next client message with the same key.
    next: Vec<usize>,
    /// Client text-over-TCP messages by stream offset (stream order is offset order).
    stream: Vec<(u64, usize)>,
    /// Client text-over-TCP messages some reply already carried.
    answered: Vec<bool>,
    /// Index into `stream` before which every client message was answered.
    unanswered: usize,
    /// Text over TCP: where each direction's next message should begin, and whether
    /// one began elsewhere (bytes missing from the capture).
    next_offset: [u64; 2],
    gapped: bool,
    echoes: Vec<Echo>,
}

impl<'m, 'e> Pairing<'m, 'e> {
    fn new(messages: &'m [&'e MessageEvent]) -> Self {
        Pairing {
            messages,
            waiting: HashMap::default(),
            next: vec![NONE; messages.len()],
            stream: Vec::new(),
            answered: vec![false; messages.len()],
            unanswered: 0,
            next_offset: [0; 2],
            gapped: false,
            echoes: Vec::new(),
        }
    }

    /// A text-over-TCP message: notes whether it began where its direction's last one ended.
    fn follow_offsets(&mut self, m: &MessageEvent) {
        let next = &mut self.next_offset[usize::from(m.dir == Dir::ServerToClient)];
        self.gapped |= m.offset != Some(*next);
        *next = m.offset.unwrap_or(0) + m.payload_bytes.len() as u64;
    }

    /// A client message (v2, v3 or UDP) joins the end of its key's waiting list.
    fn wait(&mut self, i: usize, m: &'e MessageEvent) {
        match self.waiting.entry(key(m)) {
            Entry::Occupied(mut queue) => {
                let (first, last) = queue.get_mut();
                if *first == NONE {
                    *first = i;
                } else if let Some(link) = self.next.get_mut(*last) {
                    *link = i;
                }
                *last = i;
            }
            Entry::Vacant(slot) => {
                slot.insert((i, i));
            }
        }
    }

    /// A server text-over-TCP message: the client messages at its stream offsets, or
    /// (before any gap) the earliest waiting ones its text carries.
    fn text_reply(&mut self, i: usize, m: &MessageEvent) {
        let messages = self.messages;
        // Past the answered prefix: each reply looks from the earliest waiting one.
        while self
            .stream
            .get(self.unanswered)
            .is_some_and(|&(_, c)| self.answered.get(c).copied().unwrap_or(true))
        {
            self.unanswered += 1;
        }
        let waiting = self.stream.get(self.unanswered..).unwrap_or_default();
        let found = same_stream_bytes(messages, &self.stream, m)
            .map(|clients| (clients, EchoMatch::SameStreamBytes))
            .or_else(|| {
                // A reply whose bytes are the client's at the same stream offsets
                // is an echo cut or timed otherwise (a coalesced segment), not a
                // reply that adds bytes; after missing bytes either way the
                // offsets prove nothing (and repeating test data is found
                // anywhere), so no reply is said to carry a message.
                (!self.gapped && !stream_agrees(messages, &self.stream, m))
                    .then(|| in_reply(messages, waiting, &self.answered, m))
                    .flatten()
            });
        let Some((clients, how)) = found else { return };
        for &c in &clients {
            if let Some(flag) = self.answered.get_mut(c) {
                *flag = true;
            }
        }
        self.echoes.push(Echo {
            clients: Clients::Many(clients),
            server: i,
            how,
        });
    }

    /// A server v2, v3 or UDP message: the earliest waiting client message with its
    /// key, if that one began before it and was complete before it was.
    fn keyed_reply(&mut self, i: usize, m: &'e MessageEvent) {
        let starts = m.frames.first().copied().unwrap_or(0);
        let Some((first, _)) = self.waiting.get_mut(&key(m)) else {
            return;
        };
        let ci = *first;
        let Some(c) = self.messages.get(ci) else {
            return;
        };
        let c_first = c.frames.first().copied().unwrap_or(0);
        let (c_last, m_last) = (
            c.frames.last().copied().unwrap_or(0),
            m.frames.last().copied().unwrap_or(0),
        );
        if c_first >= starts || c_last > m_last {
            return;
        }
        if let Some(how) = answers(c, m) {
            *first = self.next.get(ci).copied().unwrap_or(NONE);
            self.echoes.push(Echo {
                clients: Clients::One([ci]),
                server: i,
                how,
            });
        }
    }
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

/// Whether some client bytes lie at `server`'s stream offsets and every one of them
/// equals the server's byte there.
fn stream_agrees(
    messages: &[&MessageEvent],
    stream: &[(u64, usize)],
    server: &MessageEvent,
) -> bool {
    let Some(start) = server.offset else {
        return false;
    };
    let end = start + server.payload_bytes.len() as u64;
    let first = stream.partition_point(|&(offset, i)| {
        offset + messages.get(i).map_or(0, |m| m.payload_bytes.len() as u64) <= start
    });
    let mut overlapped = false;
    for &(offset, i) in stream.get(first..).unwrap_or_default() {
        if offset >= end {
            break;
        }
        let Some(c) = messages.get(i) else { break };
        let (lo, hi) = (
            offset.max(start),
            (offset + c.payload_bytes.len() as u64).min(end),
        );
        if hi > lo {
            if overlap(&c.payload_bytes, offset, lo, hi)
                != overlap(&server.payload_bytes, start, lo, hi)
            {
                return false;
            }
            overlapped = true;
        }
    }
    overlapped
}

/// The bytes of a message beginning at stream offset `base` that lie at `lo..hi`.
fn overlap(bytes: &[u8], base: u64, lo: u64, hi: u64) -> Option<&[u8]> {
    let (a, b) = (
        usize::try_from(lo - base).ok()?,
        usize::try_from(hi - base).ok()?,
    );
    bytes.get(a..b)
}

/// Shortest client message looked for inside a reply: one byte is found almost
/// anywhere, which would prove nothing.
const IN_REPLY_MIN: usize = 2;

/// The earliest unanswered client messages of `stream` that `server` carries whole and
/// in order, each begun before it began and complete before it was: the clients and
/// [`EchoMatch::InReply`]; `None` when the first of them is not inside the reply.
fn in_reply(
    messages: &[&MessageEvent],
    stream: &[(u64, usize)],
    answered: &[bool],
    server: &MessageEvent,
) -> Option<(Vec<usize>, EchoMatch)> {
    let reply = server.payload_bytes.as_slice();
    let starts = server.frames.first().copied().unwrap_or(0);
    let server_last = server.frames.last().copied().unwrap_or(0);
    let (mut from, mut at, mut carried) = (0usize, None, 0usize);
    let mut clients = Vec::new();
    for &(_, i) in stream {
        if answered.get(i).copied().unwrap_or(true) {
            continue;
        }
        let c = messages.get(i)?;
        let bytes = c.payload_bytes.as_slice();
        let c_first = c.frames.first().copied().unwrap_or(0);
        let c_last = c.frames.last().copied().unwrap_or(0);
        if bytes.len() < IN_REPLY_MIN || c_first >= starts || c_last > server_last {
            break;
        }
        let Some(pos) = reply
            .get(from..)
            .and_then(|rest| memchr::memmem::find(rest, bytes))
        else {
            break;
        };
        at.get_or_insert(from + pos);
        from += pos + bytes.len();
        carried += bytes.len();
        clients.push(i);
    }
    let at = u32::try_from(at?).ok()?;
    let extra = u32::try_from(reply.len() - carried).ok()?;
    Some((clients, EchoMatch::InReply { at, extra }))
}

/// Client messages (indices into the messages paired) that at least one echo repeats.
pub fn echoed_clients(echoes: &[Echo], messages: usize) -> Vec<bool> {
    let mut seen = vec![false; messages];
    for &i in echoes.iter().flat_map(|e| e.clients.as_slice()) {
        if let Some(flag) = seen.get_mut(i) {
            *flag = true;
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message of `dir` carried by `frames`, at stream `offset`.
    fn msg(
        dir: Dir,
        order: Option<u32>,
        bytes: &[u8],
        frames: &[u64],
        offset: u64,
    ) -> MessageEvent {
        MessageEvent {
            conv: 1,
            transport: TransportKind::Tcp,
            proto: if order.is_some() {
                labproto::Proto::V3
            } else {
                labproto::Proto::Text
            },
            dir,
            client: "10.0.0.2:40000".into(),
            server: "10.0.0.1:5005".into(),
            version: order.map(|_| 1),
            order,
            size: order.map(|_| bytes.len() as u32),
            payload: String::from_utf8_lossy(bytes).into_owned(),
            payload_hex: String::new(),
            truncated: false,
            frames: frames.to_vec(),
            ts: frames.last().copied().unwrap_or(0) as f64,
            offset: Some(offset),
            payload_bytes: bytes.to_vec(),
        }
    }

    const C: Dir = Dir::ClientToServer;
    const S: Dir = Dir::ServerToClient;

    fn pairs(list: &[MessageEvent]) -> Vec<(Vec<usize>, usize, EchoMatch)> {
        let refs: Vec<&MessageEvent> = list.iter().collect();
        pair(&refs)
            .into_iter()
            .map(|e| (e.clients.as_slice().to_vec(), e.server, e.how))
            .collect()
    }

    #[test]
    fn binary_echoes_pair_by_order_not_by_position() {
        let list = [
            msg(C, Some(1), b"one", &[4], 0),
            msg(C, Some(2), b"two", &[5], 12),
            // The server answers 2 before 1, and changes 1's payload.
            msg(S, Some(2), b"two", &[6], 0),
            msg(S, Some(1), b"ONE", &[7], 12),
        ];
        assert_eq!(
            pairs(&list),
            vec![
                (vec![1], 2, EchoMatch::SameOrderSamePayload),
                (vec![0], 3, EchoMatch::SameOrderOtherPayload),
            ]
        );
    }

    #[test]
    fn an_answer_that_began_before_its_request_is_no_echo() {
        // The server's message starts at frame 3, before the client's began (frame 4).
        let list = [
            msg(C, Some(1), b"x", &[4], 0),
            msg(S, Some(1), b"x", &[3, 5], 0),
        ];
        assert!(pairs(&list).is_empty());
        // A second answer to an order already answered pairs with nothing.
        let list = [
            msg(C, Some(1), b"x", &[4], 0),
            msg(S, Some(1), b"x", &[5], 0),
            msg(S, Some(1), b"x", &[6], 10),
        ];
        assert_eq!(pairs(&list).len(), 1);
    }

    #[test]
    fn text_echoes_pair_by_stream_position_across_message_boundaries() {
        let list = [
            msg(C, None, b"hello ", &[4], 0),
            msg(C, None, b"world", &[5], 6),
            // The echo came back cut differently: one message for both.
            msg(S, None, b"hello world", &[6], 0),
        ];
        assert_eq!(
            pairs(&list),
            vec![(vec![0, 1], 2, EchoMatch::SameStreamBytes)]
        );
        // A byte that differs: no echo.
        let list = [
            msg(C, None, b"hello", &[4], 0),
            msg(S, None, b"hellO", &[6], 0),
        ];
        assert!(pairs(&list).is_empty());
        let echoed = echoed_clients(&[], 2);
        assert_eq!(echoed, vec![false, false]);
    }

    #[test]
    fn a_reply_that_carries_the_message_pairs_with_it() {
        // serverTCP.py sending b"ECHO: " + data: the stream offsets drift by 6 a reply.
        let list = [
            msg(C, None, b"one", &[4], 0),
            msg(S, None, b"ECHO: one", &[6], 0),
            msg(C, None, b"two", &[8], 3),
            msg(S, None, b"ECHO: two", &[10], 9),
        ];
        assert_eq!(
            pairs(&list),
            vec![
                (vec![0], 1, EchoMatch::InReply { at: 6, extra: 6 }),
                (vec![2], 3, EchoMatch::InReply { at: 6, extra: 6 }),
            ]
        );
        // An exact echo whose segment also carries the next message's echo (the
        // next request not yet complete when it left) agrees with the client's
        // stream: no reply that adds bytes.
        let list = [
            msg(C, None, b"one", &[4], 0),
            msg(C, None, b"tw", &[5], 3),
            msg(S, None, b"onetwo", &[6], 0),
            msg(C, None, b"o", &[7], 5),
        ];
        assert!(pairs(&list).is_empty(), "{:?}", pairs(&list));
        // After bytes missing from the capture (the client's stream skips 10 bytes),
        // no reply is said to carry a message.
        let list = [
            msg(C, None, b"one", &[4], 0),
            msg(S, None, b"one", &[5], 0),
            msg(C, None, b"two", &[6], 13),
            msg(S, None, b"ECHO: two", &[7], 3),
        ];
        assert_eq!(pairs(&list).len(), 1, "{:?}", pairs(&list));
        // Two requests answered in one segment, in order.
        let list = [
            msg(C, None, b"one", &[4], 0),
            msg(C, None, b"two", &[5], 3),
            msg(S, None, b"ECHO: oneECHO: two", &[6], 0),
        ];
        assert_eq!(
            pairs(&list),
            vec![(vec![0, 1], 2, EchoMatch::InReply { at: 6, extra: 12 })]
        );
    }

    #[test]
    fn a_reply_without_the_earliest_unanswered_message_is_no_echo() {
        let list = [
            msg(C, None, b"one", &[4], 0),
            // Not the earliest waiting message, and not before the reply began.
            msg(S, None, b"ECHO: two", &[6], 0),
            msg(C, None, b"two", &[7], 3),
            // A one-byte message proves nothing.
            msg(C, None, b"x", &[8], 6),
            msg(S, None, b"x marks", &[9], 9),
        ];
        assert!(pairs(&list).is_empty(), "{:?}", pairs(&list));
        // A message answered once is not answered again.
        let list = [
            msg(C, None, b"hi", &[4], 0),
            msg(S, None, b"ECHO: hi", &[5], 0),
            msg(S, None, b"ECHO: hi", &[6], 8),
        ];
        assert_eq!(pairs(&list).len(), 1);
    }
}
