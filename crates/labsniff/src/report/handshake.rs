//! Handshake and teardown: the SYN / SYN-ACK / ACK that create a TCP session, the
//! FINs or RST that end it, and the state in words.

use super::{words, Style};
use crate::event::{ConversationRecord, SynOptions, TcpDetails};
use std::fmt::Write as _;

/// `MSS 65495, window scale 7, SACK permitted`.
fn options(o: Option<SynOptions>) -> String {
    let Some(o) = o else { return String::new() };
    let mut parts = Vec::new();
    if let Some(mss) = o.mss {
        parts.push(format!("MSS {mss}"));
    }
    if let Some(ws) = o.window_scale {
        parts.push(format!("window scale {ws} (×{})", 1u64 << ws.min(14)));
    }
    if o.sack_permitted {
        parts.push("SACK permitted".to_string());
    }
    if parts.is_empty() {
        "no options".to_string()
    } else {
        parts.join(", ")
    }
}

fn row(out: &mut String, frame: Option<u64>, packet: &str, dir: &str, text: &str) {
    let frame = frame.map_or("-".to_string(), |f| f.to_string());
    let first = format!("    frame {frame:<4} {packet:<7} {dir:<15}  ");
    out.push_str(&words::wrap(
        &first,
        &" ".repeat(first.chars().count()),
        text,
    ));
}

/// The "Handshake and teardown" section of a TCP conversation.
pub fn section(c: &ConversationRecord, style: &Style) -> String {
    let mut out = words::section_title("Handshake and teardown", style);
    let Some(t) = &c.tcp else { return out };
    handshake(&mut out, t);
    teardown(&mut out, t);
    if let Some(note) = handshake_note(t) {
        out.push_str(&words::bullet(&note));
    }
    let (_, sentence) = words::state(c.transport, c.state);
    out.push_str(&words::bullet(&format!("state {}: {sentence}", c.state)));
    out
}

fn handshake(out: &mut String, t: &TcpDetails) {
    let c2s = "client → server";
    let s2c = "server → client";
    if t.syn_frame.is_some() {
        let isn = t
            .client_isn
            .map(|i| format!("ISN {i}; "))
            .unwrap_or_default();
        row(
            out,
            t.syn_frame,
            "SYN",
            c2s,
            &format!("{isn}{}", options(t.client_options)),
        );
    }
    if t.syn_ack_frame.is_some() {
        let isn = t
            .server_isn
            .map(|i| format!("ISN {i}; "))
            .unwrap_or_default();
        let mut text = format!("{isn}{}", options(t.server_options));
        if let Some(rtt) = t.handshake_rtt {
            let _ = write!(text, "; {} after the SYN", words::duration(rtt));
        }
        row(out, t.syn_ack_frame, "SYN-ACK", s2c, &text);
    }
    if t.ack_frame.is_some() {
        row(out, t.ack_frame, "ACK", c2s, "handshake complete");
    }
}

/// What the handshake rows mean, or why there are none.
fn handshake_note(t: &TcpDetails) -> Option<String> {
    match (t.syn_frame, t.syn_ack_frame, t.ack_frame) {
        (None, None, _) => Some(
            "no handshake was captured: the connection was opened before the capture started"
                .to_string(),
        ),
        (Some(_), None, _) if t.rst_frame.is_none() => {
            Some("the server never answered the SYN in this capture".to_string())
        }
        (Some(_), Some(_), Some(_)) => {
            let mut text = "how the session was created: the client's connect() sent the SYN; the kernel of \
                            the listening server answered with SYN-ACK; the client's ACK completed the \
                            three-way handshake, connect() returned, and the server's accept() got a new \
                            socket for this client. Each side chose an initial sequence number (ISN); its \
                            data is numbered from ISN+1"
                .to_string();
            if let Some(rtt) = t.handshake_rtt {
                let _ = write!(
                    text,
                    ". SYN to SYN-ACK took {}: the full round trip if captured at the client, only the \
                     server's reply time if captured at the server",
                    words::duration(rtt)
                );
            }
            Some(text)
        }
        _ => None,
    }
}

fn teardown(out: &mut String, t: &TcpDetails) {
    let first = t.first_fin_by;
    let mut fins = [
        (t.fin_c2s_frame, "client → server", "client"),
        (t.fin_s2c_frame, "server → client", "server"),
    ];
    fins.sort_by_key(|(f, _, _)| f.unwrap_or(u64::MAX));
    for (frame, dir, who) in fins {
        if frame.is_none() {
            continue;
        }
        let text = if Some(who) == first {
            format!(
                "the {who} closed first (close() or shutdown() sends FIN: \"I will send no more\")"
            )
        } else {
            format!("the {who} closed its side too, after its recv() returned b'' (end of stream)")
        };
        row(out, frame, "FIN", dir, &text);
    }
    if let (Some(frame), Some(by)) = (t.rst_frame, t.rst_by) {
        let dir = if by == "client" {
            "client → server"
        } else {
            "server → client"
        };
        let text = if t.syn_ack_frame.is_none() && by == "server" {
            "connection refused: no socket listened on the port, so the server's kernel answered the SYN with RST".to_string()
        } else {
            let other = if by == "client" { "server" } else { "client" };
            format!(
                "the {by} aborted the connection with RST (a socket closed with unread data, SO_LINGER 0, \
                 or a process that died); the {other}'s next recv() or send() raises ConnectionResetError"
            )
        };
        row(out, Some(frame), "RST", dir, &text);
    }
    if t.fin_c2s_frame.is_none() && t.fin_s2c_frame.is_none() && t.rst_frame.is_none() {
        out.push_str(&words::bullet(
            "no FIN or RST was captured: the connection had not ended when the capture stopped",
        ));
    }
}
