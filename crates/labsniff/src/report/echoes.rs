//! The "Echoes" section: each server message paired with the client message it answers
//! (the pairs are labfacts' [`labfacts::echoes`], one rule for every view), with the
//! time the server took (as seen where the capture ran).

use super::share::{Share, Topic};
use super::{words, FrameLists, Style};
use crate::causes::Cause;
use crate::event::{ConversationRecord, Dir, MessageEvent};
use labfacts::echoes::{echoed_clients, Echo, EchoMatch};
use std::fmt::Write as _;

/// Pairs listed per conversation; the rest are counted.
const LIST_MAX: usize = 50;

/// The "Echoes" section of one conversation: a row per echo (the first
/// [`LIST_MAX`]), then what they add up to. The frame lists it writes are noted in
/// `lists` (for the report's legend).
pub fn section(
    c: &ConversationRecord,
    messages: &[&MessageEvent],
    echoes: &[Echo],
    causes: &[&Cause],
    lists: &mut FrameLists,
    share: &mut Share,
    style: &Style,
) -> String {
    let mut out = words::section_title("Echoes", style);
    let from_client = messages
        .iter()
        .filter(|m| m.dir == Dir::ClientToServer)
        .count();
    let from_server = messages.len() - from_client;
    if from_server == 0 {
        let text = if from_client == 0 {
            "no message in either direction".to_string()
        } else if let Some((first, n)) = super::causes::port_unreachable(causes) {
            format!(
                "the server sent nothing back: no echo. What came back was {} (from frame \
                 {first}) from the server's host: nothing was bound to the port there when \
                 those datagrams arrived, so no program received them (see the causes above)",
                words::count(n, "ICMP port unreachable error")
            )
        } else {
            "the server sent nothing back: no echo".to_string()
        };
        out.push_str(&words::bullet(&text));
        return out;
    }
    rows(&mut out, messages, echoes, lists);
    if echoes.len() > LIST_MAX {
        let _ = writeln!(out, "    ... and {} more", echoes.len() - LIST_MAX);
    }
    let mut summary = summary(messages.len(), echoes, from_client, from_server);
    if !echoes.is_empty() {
        let times = format!("{TIMES}{}", timing_label(c));
        let shared = format!("echo {times}");
        if !share.note(c.conv, Topic::EchoTimes, &shared, "") {
            summary.push_str("; the ");
            summary.push_str(&times);
        }
    }
    out.push_str(&words::bullet(&summary));
    out
}

/// What an echo's time is measured between.
const TIMES: &str = "times run from the client message's last frame to the echo's last frame";

/// One row per echo (the first [`LIST_MAX`]): the client frames echoed, the echo's
/// frames, the time between, the echo and how it matches.
fn rows(out: &mut String, messages: &[&MessageEvent], echoes: &[Echo], lists: &mut FrameLists) {
    // One line buffer for the frame columns and one for the text, reused row after row.
    let (mut lead, mut text) = (String::new(), String::new());
    let mut frames_buf: Vec<u64> = Vec::new();
    for e in echoes.iter().take(LIST_MAX) {
        let Some(s) = messages.get(e.server) else {
            continue;
        };
        let client_frames = echoed_frames(e, messages, &mut frames_buf);
        let answered = e
            .clients
            .as_slice()
            .last()
            .and_then(|&i| messages.get(i))
            .map_or(s.ts, |c| c.ts);
        // "    {:<12} → {:<12} after {:<10} "
        lead.clear();
        lead.push_str("    ");
        lists.frames_into(&mut lead, client_frames);
        words::pad_from(&mut lead, 4, 12);
        lead.push_str(" → ");
        let at = lead.len();
        lists.frames_into(&mut lead, &s.frames);
        words::pad_from(&mut lead, at, 12);
        lead.push_str(" after ");
        let at = lead.len();
        words::duration_into(&mut lead, s.ts - answered);
        words::pad_from(&mut lead, at, 10);
        lead.push(' ');
        text.clear();
        words::message_into(&mut text, s);
        text.push_str(" — ");
        text.push_str(how(e.how));
        words::columns_into(out, &lead, &text);
    }
}

/// The frames of the messages echo `e` answers, in order, each once: a message's own
/// list when it is the only one and already so (the usual case), else sorted into
/// `buf`.
fn echoed_frames<'a>(e: &Echo, messages: &[&'a MessageEvent], buf: &'a mut Vec<u64>) -> &'a [u64] {
    let single = match e.clients.as_slice() {
        [one] => messages
            .get(*one)
            .map(|&m| m.frames.as_slice())
            .filter(|f| f.is_sorted_by(|a, b| a < b)),
        _ => None,
    };
    if let Some(frames) = single {
        return frames;
    }
    let clients = e.clients.as_slice().iter().filter_map(|&i| messages.get(i));
    buf.clear();
    buf.extend(clients.flat_map(|m| m.frames.iter().copied()));
    buf.sort_unstable();
    buf.dedup();
    buf
}

/// How many client messages were echoed, and server messages that answer none.
fn summary(messages: usize, echoes: &[Echo], from_client: usize, from_server: usize) -> String {
    // Client messages echoed at least once.
    let echoed = echoed_clients(echoes, messages)
        .into_iter()
        .filter(|&e| e)
        .count();
    let added = echoes
        .iter()
        .filter(|e| matches!(e.how, EchoMatch::InReply { extra, .. } if extra > 0))
        .count();
    let mut summary = format!(
        "{} of {} {} by the server",
        echoed,
        words::count(from_client as u64, "client message"),
        if added > 0 { "answered" } else { "echoed" }
    );
    if added > 0 {
        summary.push_str(&match added {
            1 => "; 1 reply adds bytes to the client's text: not an echo byte for byte".to_string(),
            n => format!(
                "; {n} of the replies add bytes to the client's text: not echoes byte for byte"
            ),
        });
    }
    if from_server > echoes.len() {
        summary.push_str(&format!(
            "; {} no earlier client message",
            match from_server - echoes.len() {
                1 => "1 server message answers".to_string(),
                n => format!("{n} server messages answer"),
            }
        ));
    }
    summary
}

/// How an echo matches, in the report's words.
fn how(how: EchoMatch) -> &'static str {
    match how {
        EchoMatch::SameOrderSamePayload => "same order, same payload",
        EchoMatch::SameOrderOtherPayload => "same order, other payload",
        EchoMatch::SameBytes => "same bytes",
        EchoMatch::SameStreamBytes => "same bytes, same stream position",
        EchoMatch::InReply { extra: 0, .. } => "same bytes, at another stream position",
        EchoMatch::InReply { .. } => {
            "the client's text inside a longer reply (not an echo byte for byte)"
        }
    }
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
