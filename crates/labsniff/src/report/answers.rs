//! "In short": the explain report's first block, the lab's questions answered for this
//! capture in a few aligned lines, each naming its conversations and frames: which
//! exercise it looks like, the clients and their ports, how the sessions were created,
//! how the server served its clients, the framing, and what went wrong. Every line
//! says facts the sections below explain; none is computed here.

use super::{words, Gathered, Style};
use crate::analysis::capture::Concurrency;
use crate::event::{ConversationRecord, Dir, Severity, TransportKind};
use labfacts::echoes::{echoed_clients, EchoMatch};
use labproto::Proto;
use std::fmt::Write as _;

/// Items named per line; the rest are counted (the table lists them all).
const NAMED_MAX: usize = 4;

/// The block; `served`: the concurrency fact the report says (none when it gives way
/// to a trace). Empty for a capture without conversations.
pub fn block(g: &Gathered<'_>, served: Option<Concurrency>, style: &Style) -> String {
    if g.convs.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "{}\n",
        style.heading("In short (each answer names its frames; the sections below explain)")
    );
    line(&mut out, "exercise", &exercise(g));
    line(&mut out, "clients", &clients(g));
    line(&mut out, "sessions", &sessions(g));
    if let Some(fact) = served {
        line(&mut out, "served", &words::answers::served(fact));
    }
    line(&mut out, "framing", &framing(g));
    line(&mut out, "problems", &problems(g));
    out.push('\n');
    out
}

fn line(out: &mut String, label: &str, text: &str) {
    words::wrap_under(out, &format!("    {label:<9} "), text);
}

/// `items`, the first [`NAMED_MAX`] of them, and how many more.
fn named(items: Vec<String>) -> String {
    named_by(items, ", ")
}

/// [`named`] with items parted by `between`.
fn named_by(items: Vec<String>, between: &str) -> String {
    let more = items.len().saturating_sub(NAMED_MAX);
    let mut text: Vec<String> = items.into_iter().take(NAMED_MAX).collect();
    if more > 0 {
        text.push(format!("and {more} more"));
    }
    text.join(between)
}

/// `conversations 1, 2` with the same cap as [`named`].
fn convs_named(list: &[u64]) -> String {
    let head = if list.len() == 1 {
        "conversation"
    } else {
        "conversations"
    };
    format!(
        "{head} {}",
        named(list.iter().map(u64::to_string).collect())
    )
}

/// The (transport, protocol) groups of the conversations that carry one, in order.
type Group<'a> = ((TransportKind, Proto), Vec<&'a ConversationRecord>);

fn by_proto<'a>(g: &Gathered<'a>) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for c in &g.convs {
        let Some(p) = c.proto else { continue };
        match groups.iter_mut().find(|(k, _)| *k == (c.transport, p)) {
            Some((_, list)) => list.push(c),
            None => groups.push(((c.transport, p), vec![c])),
        }
    }
    groups
}

fn exercise(g: &Gathered<'_>) -> String {
    let groups = by_proto(g);
    if groups.is_empty() {
        return "none recognised: no conversation carries text, v2 or v3".to_string();
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|((t, p), list)| {
            let echoed = list.iter().any(|c| !g.echoes_of(c.conv).is_empty());
            let convs: Vec<u64> = list.iter().map(|c| c.conv).collect();
            format!(
                "{}: {}",
                words::answers::exercise(*t, *p, echoed),
                convs_named(&convs)
            )
        })
        .collect();
    format!("probably {}", parts.join("; "))
}

/// Per server: its clients, each with its conversation and first frame.
fn clients(g: &Gathered<'_>) -> String {
    let mut servers: Vec<(
        std::net::SocketAddr,
        TransportKind,
        Vec<&ConversationRecord>,
    )> = Vec::new();
    for c in &g.convs {
        match servers
            .iter_mut()
            .find(|(s, t, _)| *s == c.server && *t == c.transport)
        {
            Some((_, _, list)) => list.push(c),
            None => servers.push((c.server, c.transport, vec![c])),
        }
    }
    let parts: Vec<String> = servers
        .iter()
        .map(|(server, t, list)| {
            let clients = named(
                list.iter()
                    .map(|c| {
                        format!(
                            "{} (conversation {}, from frame {})",
                            c.client, c.conv, c.first_frame
                        )
                    })
                    .collect(),
            );
            format!(
                "{} of {server}: {clients}",
                words::count(
                    list.len() as u64,
                    &format!("{} client", words::transport(*t))
                )
            )
        })
        .collect();
    parts.join("; ")
}

/// Each TCP conversation's handshake frames; none without TCP (UDP has no session
/// to create).
fn sessions(g: &Gathered<'_>) -> String {
    let tcp: Vec<&ConversationRecord> = g
        .convs
        .iter()
        .copied()
        .filter(|c| c.tcp.is_some())
        .collect();
    if tcp.is_empty() {
        return "none: UDP has no handshake; each datagram stands alone".to_string();
    }
    let mut complete = true;
    let items: Vec<String> = tcp
        .iter()
        .filter_map(|c| {
            let t = c.tcp.as_ref()?;
            let conv = c.conv;
            let (syn, syn_ack, ack) = (t.syn_frame, t.syn_ack_frame, t.ack_frame);
            complete &= syn.is_some() && syn_ack.is_some() && ack.is_some();
            let refused = c.state == crate::event::ZeekState::Rej;
            Some(match (syn, syn_ack, ack, t.rst_frame.filter(|_| refused)) {
                (Some(a), Some(b), Some(ack), _) => {
                    format!("conversation {conv} {}", words::frames(&[a, b, ack]))
                }
                (Some(a), None, _, Some(rst)) => {
                    format!("conversation {conv} refused (SYN frame {a}, RST frame {rst})")
                }
                (Some(a), None, _, None) => {
                    format!("conversation {conv} SYN frame {a}, no SYN-ACK")
                }
                (None, None, _, _) => format!("conversation {conv} opened before the capture"),
                _ => format!("conversation {conv} incomplete (see its section)"),
            })
        })
        .collect();
    let head = if complete {
        "three-way handshakes (SYN, SYN-ACK, ACK)"
    } else {
        "handshakes"
    };
    format!("{head}: {}", named(items))
}

/// The message format of each conversation, with the frame of its first message.
fn framing(g: &Gathered<'_>) -> String {
    let mut parts: Vec<String> = by_proto(g)
        .iter()
        .map(|((t, p), list)| {
            let items: Vec<String> = list
                .iter()
                .map(|c| {
                    let first = g.messages_of(c.conv).first().and_then(|m| m.frames.first());
                    match first {
                        Some(f) => format!("{} (first message frame {f})", c.conv),
                        None => c.conv.to_string(),
                    }
                })
                .collect();
            let head = if list.len() == 1 {
                "conversation"
            } else {
                "conversations"
            };
            format!("{p} over {}: {head} {}", words::transport(*t), named(items))
        })
        .collect();
    let none: Vec<u64> = g
        .convs
        .iter()
        .filter(|c| c.proto.is_none())
        .map(|c| c.conv)
        .collect();
    if !none.is_empty() {
        parts.push(format!("no lab format: {}", convs_named(&none)));
    }
    parts.join("; ")
}

/// Causes, warnings and errors, Wireshark's loss and retransmission flags, and
/// client messages without their echo.
fn problems(g: &Gathered<'_>) -> String {
    let mut items: Vec<String> = Vec::new();
    for c in &g.convs {
        for cause in g.causes_of(c.conv) {
            items.push(format!(
                "conversation {}: {}",
                c.conv,
                words::answers::cause(cause)
            ));
        }
        items.extend(diagnostics(g.diags_of(c.conv), Some(c.conv)));
        if let Some(cut) = truncated(g, c.conv) {
            items.push(cut);
        }
        if let Some(flags) = flagged(g, c.conv) {
            items.push(format!("conversation {}: {flags}", c.conv));
        }
        items.extend(unechoed(g, c));
        items.extend(added(g, c.conv));
    }
    for cause in &g.capture_causes {
        items.push(words::answers::cause(cause));
    }
    items.extend(diagnostics(&g.capture_diags, None));
    if items.is_empty() {
        let all_echoed = g.convs.iter().all(|c| {
            let messages = g.messages_of(c.conv);
            let echoed = echoed_clients(g.echoes_of(c.conv), messages.len());
            messages
                .iter()
                .zip(&echoed)
                .all(|(m, e)| m.dir == Dir::ServerToClient || *e)
        });
        let echoes = if all_echoed {
            "every client message echoed"
        } else {
            "the server sent nothing back, as the lab's servers that only print do (1.1, 4.1, 5.1)"
        };
        return format!(
            "none found: no cause, no warning or error, no retransmission or loss flagged; {echoes}"
        );
    }
    let mut text = named_by(items, "; ");
    let _ = write!(text, " (the sections below explain each)");
    text
}

/// The v2 messages of conversation `conv` whose text struct.pack cut to 20 bytes.
fn truncated(g: &Gathered<'_>, conv: u64) -> Option<String> {
    let cut: Vec<u64> = g
        .messages_of(conv)
        .iter()
        .filter(|m| m.truncated)
        .filter_map(|m| m.frames.first().copied())
        .collect();
    let shown = cut.get(..cut.len().min(3))?;
    if shown.is_empty() {
        return None;
    }
    Some(format!(
        "conversation {conv}: {} cut to 20 bytes by v2's '20s' ({})",
        words::count(cut.len() as u64, "v2 message"),
        words::frames_by_number(shown, cut.len() as u64)
    ))
}

/// Wireshark's flags of trouble on conversation `conv`'s frames: `TCP Retransmission
/// at frames 20, 25`, each flag with its first frames.
fn flagged(g: &Gathered<'_>, conv: u64) -> Option<String> {
    use crate::analysis::Flag::*;
    const TROUBLE: [crate::analysis::Flag; 8] = [
        Retransmission,
        FastRetransmission,
        SpuriousRetransmission,
        OutOfOrder,
        LostSegment,
        AckLostSegment,
        DuplicateAck,
        ZeroWindow,
    ];
    let mut by_flag: Vec<(crate::analysis::Flag, Vec<u64>)> = Vec::new();
    for e in g.analysis_of(conv) {
        let Some(flag) = super::tcp_analysis::primary(e).filter(|f| TROUBLE.contains(f)) else {
            continue;
        };
        match by_flag.iter_mut().find(|(f, _)| *f == flag) {
            Some((_, frames)) => frames.push(e.frame),
            None => by_flag.push((flag, vec![e.frame])),
        }
    }
    if by_flag.is_empty() {
        return None;
    }
    let parts: Vec<String> = by_flag
        .iter()
        .map(|(flag, frames)| {
            let shown = frames.get(..frames.len().min(3)).unwrap_or_default();
            format!(
                "{} at {}",
                words::answers::flag(*flag),
                words::frames_by_number(shown, frames.len() as u64)
            )
        })
        .collect();
    Some(parts.join(", "))
}

/// The warnings and errors of a conversation (`conv`) or of the capture, one item per
/// kind in the order they first came: `warning: bytes missing from the capture (587
/// times), frames 4–590 (conversation 1)`.
fn diagnostics(diags: &[&crate::event::Diagnostic], conv: Option<u64>) -> Vec<String> {
    // (severity, title) → (how many, their frames), in first-seen order; few kinds.
    let mut kinds: Vec<((Severity, &str), usize, Vec<u64>)> = Vec::new();
    for d in diags.iter().filter(|d| d.severity != Severity::Note) {
        let key = (d.severity, words::diagnostic::title(&d.kind));
        let at = match kinds.iter().position(|(k, _, _)| *k == key) {
            Some(at) => at,
            None => {
                kinds.push((key, 0, Vec::new()));
                kinds.len() - 1
            }
        };
        let (_, count, frames) = &mut kinds[at];
        *count += 1;
        frames.extend(d.frame);
    }
    kinds
        .into_iter()
        .map(|((severity, title), count, mut frames)| {
            let mut text = format!("{}: {title}", severity.as_str());
            if count > 1 {
                let _ = write!(text, " ({count} times)");
            }
            frames.sort_unstable();
            frames.dedup();
            if !frames.is_empty() {
                let _ = write!(text, ", {}", words::frames_said(&frames, false));
            }
            if let Some(c) = conv {
                let _ = write!(text, " (conversation {c})");
            }
            text
        })
        .collect()
}

/// Replies that carry the client's text but add bytes to it (not echoes byte for
/// byte): what the first added, and its frame.
fn added(g: &Gathered<'_>, conv: u64) -> Option<String> {
    let messages = g.messages_of(conv);
    let mut replies = g.echoes_of(conv).iter().filter_map(|e| match e.how {
        EchoMatch::InReply { at, extra } if extra > 0 => Some((e.server, at, extra)),
        _ => None,
    });
    let (server, at, extra) = replies.next()?;
    let reply = messages.get(server)?;
    let before = reply.payload_bytes.get(..at as usize).unwrap_or_default();
    let (replies, add) = match 1 + replies.count() {
        1 => ("1 reply carries".to_string(), "adds"),
        n => (format!("{n} replies carry"), "add"),
    };
    Some(format!(
        "conversation {conv}: {replies} the client's text but {add} bytes ({}, first at frame {}): \
         not an echo byte for byte",
        words::answers::added_to_reply(before, extra),
        reply.frames.first().copied().unwrap_or(0)
    ))
}

/// The client messages of `c` no echo repeats: the frames of the first, how many.
/// When the server sent nothing back at all, only over TCP text: the lab's UDP, v2 and
/// v3 servers only print until their echo exercise (which "exercise" tells).
fn unechoed(g: &Gathered<'_>, c: &ConversationRecord) -> Option<String> {
    let messages = g.messages_of(c.conv);
    let echoed = echoed_clients(g.echoes_of(c.conv), messages.len());
    let missing: Vec<&&crate::event::MessageEvent> = messages
        .iter()
        .zip(&echoed)
        .filter(|(m, e)| m.dir == Dir::ClientToServer && !**e)
        .map(|(m, _)| m)
        .collect();
    let first = missing.first()?;
    let clients = messages
        .iter()
        .filter(|m| m.dir == Dir::ClientToServer)
        .count();
    let first = words::frames(&first.frames);
    let conv = c.conv;
    let text_tcp = c.transport == TransportKind::Tcp && c.proto == Some(Proto::Text);
    if clients == messages.len() && !text_tcp {
        return None;
    }
    Some(if clients == messages.len() {
        format!(
            "conversation {conv}: the server sent no message back ({}, the first at {first})",
            words::count(clients as u64, "client message")
        )
    } else {
        format!(
            "conversation {conv}: {} of {} without an echo (the first: {first})",
            missing.len(),
            words::count(clients as u64, "client message"),
        )
    })
}
