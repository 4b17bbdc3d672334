//! Handshake and teardown: the SYN / SYN-ACK / ACK that create a TCP session, the
//! FINs or RST that end it, and the state in words.

use super::share::{Share, Topic};
use super::{words, Style};
use crate::analysis::teardown::{teardown as teardown_facts, Failure, ResetKind, Teardown};
use crate::event::{ConversationRecord, Dir, SynOptions, TcpDetails};
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
    if o.timestamps {
        parts.push("timestamps".to_string());
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
    words::wrap_under(out, &first, text);
}

/// The "Handshake and teardown" section of a TCP conversation; its sentences that
/// hold for other conversations too are said once (`share`).
pub fn section(c: &ConversationRecord, share: &mut Share, style: &Style) -> String {
    let mut out = words::section_title("Handshake and teardown", style);
    let Some(t) = &c.tcp else { return out };
    let facts = teardown_facts(c);
    handshake(&mut out, t);
    teardown(&mut out, c.conv, t, &facts, share);
    let complete = t.syn_frame.is_some() && t.syn_ack_frame.is_some() && t.ack_frame.is_some();
    // Split only where the session's explanation is said once for several
    // conversations; a conversation alone says it in one paragraph, as before.
    // (The first rendering notes the timing sentences too, whatever it writes.)
    let session_shared = share.splits() && share.note(c.conv, Topic::Session, SESSION, "");
    if complete && (session_shared || share.collects()) {
        split_timing(&mut out, c, t, share);
    } else if let Some(note) = handshake_note(t, c.one_host()) {
        out.push_str(&words::bullet(&note));
    }
    let port = Some(c.client.port());
    let alone = teardown_notes(&facts, port, "this connection");
    let shared = teardown_notes(&facts, port, "each connection");
    for (alone, shared) in alone.iter().zip(&shared) {
        share.bullet_or(&mut out, c.conv, Topic::TimeWait, shared, alone);
    }
    let (_, sentence) = words::state(c.transport, c.state);
    let state = format!("state {}: {sentence}", c.state.code());
    share.bullet(&mut out, c.conv, Topic::State, &state);
    if let Some(f) = facts.failure {
        out.push_str(&words::bullet(&failure(f)));
    }
    out
}

fn handshake(out: &mut String, t: &TcpDetails) {
    let c2s = "client → server";
    let s2c = "server → client";
    if t.syn_frame.is_some() {
        let isn = t
            .client_isn
            .map(|i| format!("ISN {i} (relative seq 0); "))
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
            .map(|i| format!("ISN {i} (relative seq 0); "))
            .unwrap_or_default();
        let mut text = format!("{isn}{}", options(t.server_options));
        if let Some(rtt) = t.handshake_rtt {
            let _ = write!(text, "; {} after the SYN", words::duration(rtt));
        }
        row(out, t.syn_ack_frame, "SYN-ACK", s2c, &text);
    }
    if t.ack_frame.is_some() {
        let mut text = "handshake complete".to_string();
        if let Some(d) = t.syn_ack_to_ack {
            let _ = write!(text, "; {} after the SYN-ACK", words::duration(d));
        }
        row(out, t.ack_frame, "ACK", c2s, &text);
    }
}

/// How a three-way handshake creates a session, for every conversation that has one.
const SESSION: &str = "how the session was created: the client's connect() sent the SYN; the kernel of \
    the listening server answered with SYN-ACK; the client's ACK completed the three-way handshake and \
    connect() returned. The server's kernel then holds the connection in the listen backlog until the \
    server's accept() returns a new socket for it. Each side chose an initial sequence number (ISN); \
    its data is numbered from ISN+1. Wireshark shows relative sequence numbers by default (the ISN \
    counts as 0, the first data byte as 1): raw = ISN + relative";

/// What the handshake rows mean, or why there are none.
fn handshake_note(t: &TcpDetails, one_host: bool) -> Option<String> {
    match (t.syn_frame, t.syn_ack_frame, t.ack_frame) {
        (None, None, _) => Some(
            "no handshake was captured: the connection was opened before the capture started"
                .to_string(),
        ),
        (Some(_), None, _) if t.rst_frame.is_none() => {
            Some("the server never answered the SYN in this capture".to_string())
        }
        (Some(_), Some(_), Some(_)) => {
            let mut text = SESSION.to_string();
            let (note, irtt) = timing(t, one_host);
            if let Some(note) = note {
                let _ = write!(text, ". Timing: {note}");
            }
            if let Some(irtt) = irtt {
                let _ = write!(text, "; {irtt}");
            }
            Some(text)
        }
        _ => None,
    }
}

/// The handshake's times, split: what they mean at this capture point and what
/// Wireshark's initial RTT measures (other conversations may say the same), and this
/// conversation's initial RTT (the rows give the other two).
fn split_timing(out: &mut String, c: &ConversationRecord, t: &TcpDetails, share: &mut Share) {
    if let Some(meaning) = super::loss::capture_point_meaning(t) {
        share.bullet(out, c.conv, Topic::Timing, &format!("timing: {meaning}"));
    }
    if let Some(irtt) = t.irtt {
        share.bullet(out, c.conv, Topic::Timing, &irtt_meaning(c.one_host()));
        out.push_str(&words::bullet(&format!(
            "initial RTT here: {}",
            words::duration(irtt)
        )));
    }
}

/// What Wireshark's initial RTT measures.
fn irtt_meaning(one_host: bool) -> String {
    let between = irtt_between(one_host);
    format!(
        "Wireshark's initial RTT (tcp.analysis.initial_rtt) runs from the SYN to the handshake's \
         ACK: {between}"
    )
}

/// What the initial RTT spans: inside one machine when the addresses say so; else
/// between the client's host and the server's, which may still be one machine (the
/// timing note may say "probably").
fn irtt_between(one_host: bool) -> &'static str {
    if one_host {
        "the round trip inside this one machine (client and server on the same host: \
         no network between them, only its kernel)"
    } else {
        "the round trip between the client's host and the server's (inside one machine if \
         both programs run there), wherever the capture was made"
    }
}

/// This handshake's times: what the capture point note says of them, and Wireshark's
/// initial RTT.
fn timing(t: &TcpDetails, one_host: bool) -> (Option<String>, Option<String>) {
    let irtt = t.irtt.map(|irtt| {
        let between = irtt_between(one_host);
        format!(
            "Wireshark's initial RTT (tcp.analysis.initial_rtt, SYN to the handshake's ACK) \
             is {}: {between}",
            words::duration(irtt)
        )
    });
    (super::loss::capture_point_note(t), irtt)
}

fn dir_words(d: Dir) -> (&'static str, &'static str) {
    match d {
        Dir::ClientToServer => ("client", "client → server"),
        Dir::ServerToClient => ("server", "server → client"),
    }
}

/// What a first FIN means, where several conversations' rows share it.
const FIRST_FIN: &str =
    "the first FIN of a connection says \"I will send no more\": it is sent by \
    close() or shutdown(), or by the kernel when it closes the sockets of a process that exited";
/// What the other side's FIN means, where several conversations' rows share it.
const SECOND_FIN: &str = "the other side's FIN (\"closed its side too\") typically follows once \
    its recv() returned b'': end of stream";

/// The FIN and RST rows; a FIN's meaning shared with other conversations is said once
/// (`share`), and the row says only who closed.
fn teardown(out: &mut String, conv: u64, t: &TcpDetails, facts: &Teardown, share: &mut Share) {
    let mut fins = [
        (t.fin_c2s_frame, Dir::ClientToServer),
        (t.fin_s2c_frame, Dir::ServerToClient),
    ];
    fins.sort_by_key(|(f, _)| f.unwrap_or(u64::MAX));
    for (frame, d) in fins {
        if frame.is_none() {
            continue;
        }
        let (who, dir) = dir_words(d);
        let first = facts.first_fin.map(|(d, _)| d) == Some(d);
        let text = match (first, facts.half_close) {
            (true, Some(h)) if d == Dir::ClientToServer => format!(
                "the client sent its FIN first (\"I will send no more\"), yet the server's payload \
                 still came after it (up to frame {}) and the client did not reset: the client \
                 probably called shutdown(SHUT_WR), which sends FIN but keeps the socket open for \
                 reading (a capture cannot see the call; after close() the server's data would have \
                 drawn a RST)",
                h.payload_after
            ),
            (true, _) if share.note(conv, Topic::Fin, FIRST_FIN, "") => {
                format!("the {who} closed first")
            }
            (true, _) => format!(
                "the {who} closed first (FIN: \"I will send no more\"; sent by close() or shutdown(), or by \
                 the kernel when it closes the sockets of a process that exited)"
            ),
            (false, _) if share.note(conv, Topic::Fin, SECOND_FIN, "") => {
                format!("the {who} closed its side too")
            }
            (false, _) => format!(
                "the {who} closed its side too (typically once its recv() returned b'': end of stream)"
            ),
        };
        row(out, frame, "FIN", dir, &text);
    }
    if let Some(r) = facts.reset {
        let (who, dir) = dir_words(r.by);
        let text = match r.kind {
            ResetKind::Refused => "connection refused: the SYN was answered with RST, which the server \
                                   host's kernel sends when nothing listens on the port (a firewall \
                                   can send one too)"
                .to_string(),
            ResetKind::Abort => format!(
                "the {who} aborted the connection with RST. A kernel sends RST when a socket is closed \
                 with unread data in its receive buffer, when SO_LINGER is set with a timeout of 0, or \
                 when a segment arrives for which no socket exists (a process that is killed has its \
                 sockets closed with FIN, not RST, unless unread data was waiting)"
            ),
        };
        row(out, Some(r.frame), "RST", dir, &text);
    }
    let opened = t.syn_ack_frame.is_some() || t.syn_frame.is_none();
    if opened && t.fin_c2s_frame.is_none() && t.fin_s2c_frame.is_none() && t.rst_frame.is_none() {
        out.push_str(&words::bullet(
            "no FIN or RST was captured: the connection had not ended when the capture stopped",
        ));
    }
}

/// TIME_WAIT: which side holds it, and what it means for a restarted server.
/// `client_port`: called ephemeral only where it looks so (a port the client chose
/// with bind(), such as 80, is not one its kernel picked); `conn`: "this connection",
/// or "each connection" where it is said for several.
fn teardown_notes(facts: &Teardown, client_port: Option<u16>, conn: &str) -> Vec<String> {
    match facts.time_wait {
        Some(Dir::ServerToClient) => vec![format!(
            "the server sent the first FIN (it closed first), so on the server's host {conn} \
             stays in TIME_WAIT for \
             60 s (Linux) after the last ACK. A server program restarted within that time gets \
             \"OSError: [Errno 98] Address already in use\" from bind() on its port, unless it set \
             SO_REUSEADDR (sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)) before bind()"
        )],
        Some(Dir::ClientToServer) => {
            let end = match client_port {
                Some(p) if words::looks_ephemeral(p, None) => "its ephemeral port".to_string(),
                Some(p) => format!("its port {p}"),
                None => "its port".to_string(),
            };
            vec![format!(
                "the client sent the first FIN, so the client's end of {conn} ({end}) stays \
                 in TIME_WAIT for 60 s (Linux); that does not stop the server from restarting"
            )]
        }
        None => Vec::new(),
    }
}

/// The Python exception the failure raised.
fn failure(f: Failure) -> String {
    match f {
        Failure::Refused => "in Python, the client's connect() raised ConnectionRefusedError: [Errno 111] \
                             Connection refused"
            .to_string(),
        Failure::Reset { by } => {
            let (_, other) = match by {
                Dir::ClientToServer => ("client", "server"),
                Dir::ServerToClient => ("server", "client"),
            };
            format!(
                "in Python, the {other}'s socket is now dead: its next recv() raises ConnectionResetError: \
                 [Errno 104] Connection reset by peer, and a send() raises ConnectionResetError or \
                 BrokenPipeError: [Errno 32] Broken pipe"
            )
        }
        Failure::Unanswered => "in Python, the client's connect() blocks while its kernel resends the \
                                SYN; with no answer at all it raises TimeoutError: [Errno 110] Connection \
                                timed out once Linux's SYN retries run out (net.ipv4.tcp_syn_retries = 6: \
                                about 11 s on Linux 6.5 and later, which resend the first SYNs every \
                                second, about 127 s on older kernels, which double every wait), or \
                                sooner if the program called settimeout()"
            .to_string(),
    }
}
