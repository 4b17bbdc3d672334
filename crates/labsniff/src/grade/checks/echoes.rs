//! The echo checks: every TCP client's text, and every v2 or v3 message, echoed back
//! unchanged (labfacts' echo pairs say which server message answers which).

use super::{binary_convs, first_frame, frames_text};
use crate::event::{Dir, MessageEvent, TransportKind};
use crate::grade::{Facts, Verdict};
use labfacts::echoes::{Echo, EchoMatch};
use labproto::Proto;

pub fn text_echoed(f: &Facts) -> Verdict {
    let convs: Vec<_> = f
        .lab(TransportKind::Tcp)
        .into_iter()
        .filter(|c| c.bytes_c2s > 0)
        .collect();
    if convs.is_empty() {
        return Verdict::fail("no TCP client sent anything to the lab port", Vec::new());
    }
    let mut frames = Vec::new();
    for c in &convs {
        if c.proto != Some(Proto::Text) {
            return Verdict::fail(
                format!(
                    "conversation {} ({}) carries {}, not text",
                    c.conv,
                    c.client,
                    c.proto.map_or("nothing", Proto::as_str)
                ),
                vec![c.first_frame],
            );
        }
        let bytes = |dir| -> usize {
            f.index
                .messages_in(c.conv, dir)
                .map(|m| m.payload_bytes.len())
                .sum()
        };
        let (sent, back) = (bytes(Dir::ClientToServer), bytes(Dir::ServerToClient));
        // Every server message an echo, at the client's stream offsets, and as many
        // bytes back as sent: every byte echoed.
        let (messages, echoes) = (f.index.messages_of(c.conv), f.index.echoes_of(c.conv));
        if let Some(v) = added_to_replies(c.conv, &c.client.to_string(), messages, echoes) {
            return v;
        }
        if sent != back || !all_answer(messages, echoes) {
            let at = c.first_payload_s2c.map_or(c.first_frame, |p| p.frame);
            return Verdict::fail(
                format!(
                    "conversation {} ({}): {sent} bytes sent, {back} echoed{}",
                    c.conv,
                    c.client,
                    if back == 0 { "" } else { " and they differ" }
                ),
                vec![at],
            );
        }
        if let Some(p) = c.first_payload_s2c {
            frames.push(p.frame);
        }
    }
    Verdict::pass(
        format!(
            "{}, every byte echoed (first echoes: {})",
            crate::words::count(convs.len() as u64, "client"),
            frames_text(&frames)
        ),
        frames,
    )
}

/// A server that answered with the client's text inside a longer reply (`b"ECHO: " +
/// data`): not an echo byte for byte, said with the bytes it added and the frame.
fn added_to_replies(
    conv: u64,
    client: &str,
    messages: &[&MessageEvent],
    echoes: &[Echo],
) -> Option<Verdict> {
    let (reply, at, extra) = echoes.iter().find_map(|e| match e.how {
        EchoMatch::InReply { at, extra } if extra > 0 => {
            Some((messages.get(e.server)?, at as usize, extra as usize))
        }
        _ => None,
    })?;
    let before = reply.payload_bytes.get(..at).unwrap_or_default();
    let added = crate::words::answers::added_to_reply(before, extra as u32);
    Some(Verdict::fail(
        format!(
            "conversation {conv} ({client}): the server's replies carry the client's text but \
             add bytes ({added}, first at frame {}): an echo sends back exactly the bytes received",
            first_frame(reply)
        ),
        vec![first_frame(reply)],
    ))
}

/// Every server message is an echo (labfacts' pairs: for text over TCP, the same
/// bytes at the same stream offsets as the client's).
fn all_answer(messages: &[&MessageEvent], echoes: &[Echo]) -> bool {
    let servers = messages
        .iter()
        .filter(|m| m.dir == Dir::ServerToClient)
        .count();
    servers == echoes.len()
}

pub fn v2_echoed(f: &Facts) -> Verdict {
    binary_echoed(f, Proto::V2)
}

pub fn v3_echoed(f: &Facts) -> Verdict {
    binary_echoed(f, Proto::V3)
}

fn binary_echoed(f: &Facts, proto: Proto) -> Verdict {
    let convs = match binary_convs(f, proto) {
        Ok(c) => c,
        Err(v) => return v,
    };
    let mut frames = Vec::new();
    let mut count = 0;
    for c in &convs {
        let messages = f.index.messages_of(c.conv);
        let echoes = f.index.echoes_of(c.conv);
        if let Err(v) = each_echoed(c.conv, messages, echoes, &mut frames) {
            return v;
        }
        count += echoes.len();
        let sent = messages
            .iter()
            .filter(|m| m.dir == Dir::ClientToServer)
            .count();
        let back = messages.len() - sent;
        if back > echoes.len() {
            return Verdict::fail(
                format!(
                    "conversation {}: {sent} messages sent but {back} came back",
                    c.conv
                ),
                messages
                    .iter()
                    .filter(|m| m.dir == Dir::ServerToClient)
                    .map(|m| first_frame(m))
                    .collect(),
            );
        }
    }
    if count == 0 {
        return Verdict::fail(format!("no {proto} message from a client"), Vec::new());
    }
    Verdict::pass(
        format!(
            "{count} messages echoed byte for byte ({})",
            frames_text(&frames)
        ),
        frames,
    )
}

/// Every client message of one conversation has an echo that repeats it unchanged
/// (labfacts' echo pairs); the first that has none, or a changed one, is the verdict.
fn each_echoed(
    conv: u64,
    messages: &[&MessageEvent],
    echoes: &[Echo],
    frames: &mut Vec<u64>,
) -> Result<(), Verdict> {
    let echo_of = first_echoes(messages.len(), echoes);
    for (i, m) in messages.iter().enumerate() {
        if m.dir != Dir::ClientToServer {
            continue;
        }
        let Some((e, back)) = echo_of
            .get(i)
            .copied()
            .flatten()
            .and_then(|e| Some((e, messages.get(e.server)?)))
        else {
            return Err(Verdict::fail(
                format!(
                    "conversation {conv}: message order={} (frame {}) was never echoed",
                    m.order.unwrap_or(0),
                    first_frame(m)
                ),
                vec![first_frame(m)],
            ));
        };
        let changed = changes(m, back, e.how);
        if !changed.is_empty() {
            return Err(Verdict::fail(
                format!(
                    "conversation {conv}: the echo (frame {}) of message order={} (frame {}) \
                     changed it: {}",
                    first_frame(back),
                    m.order.unwrap_or(0),
                    first_frame(m),
                    changed.join(", ")
                ),
                vec![first_frame(m), first_frame(back)],
            ));
        }
        frames.push(first_frame(back));
    }
    Ok(())
}

/// Each client message's first echo, by message index (of `len` messages).
fn first_echoes(len: usize, echoes: &[Echo]) -> Vec<Option<&Echo>> {
    let mut echo_of: Vec<Option<&Echo>> = vec![None; len];
    for e in echoes {
        for &i in e.clients.as_slice() {
            if let Some(slot @ None) = echo_of.get_mut(i) {
                *slot = Some(e);
            }
        }
    }
    echo_of
}

/// What an echo changed of the message it answers (the pairing keeps the order field).
fn changes(m: &MessageEvent, back: &MessageEvent, how: EchoMatch) -> Vec<String> {
    let mut changed = Vec::new();
    if m.version != back.version {
        changed.push(format!("version {:?} → {:?}", m.version, back.version));
    }
    if m.size != back.size {
        changed.push(format!(
            "size {} → {}",
            m.size.unwrap_or(0),
            back.size.unwrap_or(0)
        ));
    }
    if how == EchoMatch::SameOrderOtherPayload {
        changed.push("payload differs".to_string());
    }
    changed
}
