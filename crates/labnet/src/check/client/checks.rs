//! The checks of `labnet check client`, judged from what the conversation showed:
//! connects, format, order, size, reads_echoes, closes (see `battery`), each with its
//! evidence and its one-line fix.

use super::session::Session;
use super::{ClientCheck, EXIT, HEX};
use crate::check::battery;
use crate::check::explain::lab_format;
use crate::check::probe::{hex, ms};
use crate::check::CheckResult;
use crate::server::counted;
use labproto::mistakes::stream::{Packing, Reading};
use labproto::{v2, Proto};
use std::net::SocketAddr;

/// One result per check of the client battery, from what the conversation showed.
pub(super) fn judge(
    c: &ClientCheck,
    s: &Session,
    exit: Option<(Option<i32>, String)>,
    addr: SocketAddr,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let Some(peer) = s.peer else {
        let fix = format!(
            "connect to port {} (the lab server's address and port)",
            addr.port()
        );
        let evidence = match &exit {
            Some((Some(code), err)) => {
                format!("the program exited with status {code} without connecting: {err}")
            }
            _ => format!("no client connected to {addr} within {}", ms(c.timeout)),
        };
        return battery::client(c.proto)
            .into_iter()
            .map(|check| CheckResult::fail(check.name, evidence.clone(), fix.clone()))
            .collect();
    };
    for check in battery::client(c.proto) {
        out.push(match check.name {
            "connects" => CheckResult::pass(
                check.name,
                format!(
                    "connected from {peer} {} after the start",
                    ms(s.accepted_after)
                ),
            ),
            "format" => format_check(c, s),
            "order" => order_check(s),
            "size" => size_check(c, s),
            "reads_echoes" => reads_check(c, s),
            "closes" => closes_check(c, s, &exit),
            _ => CheckResult::fail(check.name, "not implemented", ""),
        });
    }
    out
}

fn format_check(c: &ClientCheck, s: &Session) -> CheckResult {
    let name = battery::FORMAT.name;
    match &s.reading {
        Some(best) if best.explains_all() && !format_is_lab(best.packing) => {
            CheckResult::fail(name, not_lab_evidence(c, s, best), best.packing.fix())
        }
        _ if s.messages.is_empty() => CheckResult::fail(
            name,
            format!(
                "no whole {} message arrived ({} bytes: {})",
                c.proto,
                s.received.len(),
                hex(&s.received, HEX)
            ),
            format!(
                "pack each message with struct.pack({})",
                lab_format(c.proto)
            ),
        ),
        _ => CheckResult::pass(
            name,
            format!(
                "{}, each {} ({}), first {}",
                counted(s.messages.len() as u64, "message", "messages"),
                lab_format(c.proto),
                match c.proto {
                    Proto::V2 => "29 bytes".to_string(),
                    _ => "9-byte header + size bytes".to_string(),
                },
                hex(&s.messages[0].bytes, HEX)
            ),
        ),
    }
}

/// The packings whose headers are the lab's: a wrong size field is the size check's.
fn format_is_lab(p: Packing) -> bool {
    p.is_lab() || p == Packing::V3SizeField
}

/// Why the client's bytes are not the lab's format: the reading that explains all of
/// them, with its messages, and where the lab's own reading breaks.
fn not_lab_evidence(c: &ClientCheck, s: &Session, best: &Reading) -> String {
    let mut out = format!(
        "all {} bytes read as {} whole packed {}: {}",
        best.total,
        counted(best.messages.len() as u64, "message", "messages"),
        best.packing.format(),
        best.packing.layout(),
    );
    out.push_str(&format!("; {}", best.evidence(&s.received, 3)));
    if let Some(lab) = &s.lab {
        let first = if lab.messages.is_empty() {
            String::new()
        } else {
            format!("{}; then ", lab.evidence(&s.received, 1))
        };
        out.push_str(&format!(
            ". Read as the lab's {}: {first}{}",
            lab_format(c.proto),
            lab.ending()
        ));
    }
    out
}

fn order_check(s: &Session) -> CheckResult {
    let name = battery::ORDER.name;
    let orders: Vec<u64> = s.messages.iter().map(|m| m.order).collect();
    let shown = orders
        .iter()
        .take(12)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if orders.is_empty() {
        return CheckResult::fail(name, "no whole message arrived", "");
    }
    if orders.iter().zip(1..).all(|(&o, want)| o == want) {
        CheckResult::pass(name, format!("orders {shown}"))
    } else {
        CheckResult::fail(
            name,
            format!("orders {shown}"),
            "number the messages from 1, adding 1 for each message sent",
        )
    }
}

fn size_check(c: &ClientCheck, s: &Session) -> CheckResult {
    let name = battery::SIZE.name;
    let fix = "put the original message's length in the size field: len(message) before packing";
    if let Some(best) = s
        .reading
        .as_ref()
        .filter(|r| r.packing == Packing::V3SizeField)
    {
        return size_field_check(s, best);
    }
    for (i, m) in s.messages.iter().enumerate() {
        let carried = (m.size as usize).min(v2::PAYLOAD_LEN);
        let bad = match c.proto {
            // The 20s field holds the message cut to 20 bytes, NUL-padded.
            Proto::V2 => m.payload > m.size as usize || (m.payload > 0 && m.payload < carried),
            _ => false,
        };
        if bad {
            return CheckResult::fail(
                name,
                format!(
                    "message {}: the size field says {} but {} payload bytes travelled ({})",
                    i + 1,
                    m.size,
                    m.payload,
                    hex(&m.bytes, HEX)
                ),
                fix,
            );
        }
    }
    if let Some(why) = &s.unframed {
        return CheckResult::fail(
            name,
            format!("after {} whole messages: {why}", s.messages.len()),
            fix,
        );
    }
    if s.messages.is_empty() {
        return CheckResult::fail(name, "no whole message arrived", "");
    }
    let sizes = s
        .messages
        .iter()
        .take(12)
        .map(|m| m.size.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    CheckResult::pass(name, format!("sizes {sizes}, each matching its payload"))
}

/// The v3 headers are the lab's but size fields disagree with the bytes up to the
/// next header: each such message, with its offsets.
fn size_field_check(s: &Session, best: &Reading) -> CheckResult {
    let wrong: Vec<String> = best
        .messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.size != m.used as u64)
        .take(3)
        .map(|(i, m)| {
            format!(
                "message {} at byte {}: size field {}, but {} payload bytes follow up to {}",
                i + 1,
                m.offset,
                m.size,
                m.used,
                if m.offset + m.len == best.total {
                    "the end".to_string()
                } else {
                    format!("message {}'s header at byte {}", i + 2, m.offset + m.len)
                }
            )
        })
        .collect();
    CheckResult::fail(
        battery::SIZE.name,
        format!(
            "{}; read with its size fields, the stream breaks: {}",
            wrong.join("; "),
            s.lab.as_ref().map(|l| l.ending()).unwrap_or_default()
        ),
        best.packing.fix(),
    )
}

fn reads_check(c: &ClientCheck, s: &Session) -> CheckResult {
    let name = battery::READS_ECHOES.name;
    let how = match s.echoes {
        _ if c.proto == Proto::Text => String::new(),
        0 => String::new(),
        1 => " (split after 4 bytes, 100 ms between the halves)".to_string(),
        _ => " (the 1st split after 4 bytes, the 2nd in the middle, 100 ms between halves)"
            .to_string(),
    };
    if let Some(reset) = &s.reset {
        return CheckResult::fail(
            name,
            format!(
                "{} ({} bytes) sent{how}; {reset}: the client closed with echo bytes unread",
                counted(s.echoes as u64, "echo", "echoes"),
                s.echo_bytes
            ),
            match c.proto {
                Proto::V3 => {
                    "read every echo whole: loop on recv() until you have 9 header \
                              bytes, then size more"
                }
                Proto::V2 => "read every echo whole: loop on recv() until you have all 29 bytes",
                Proto::Text => "read the echo before closing: loop on recv() until it is all there",
            },
        );
    }
    if s.received.is_empty() && s.fin_after.is_some() {
        // Nothing to echo is not "read every echo": a client that reads its messages
        // from the keyboard and got none closes at once.
        return CheckResult::fail(
            name,
            "the client connected and closed without sending a byte: there was nothing to echo"
                .to_string(),
            "give the client something to send: messages on its command line (after the \
             program's name), or type them (the check passes your terminal to it)",
        );
    }
    if s.fin_after.is_none() {
        return CheckResult::fail(
            name,
            format!(
                "{} ({} bytes) sent{how}; the client was still connected after {}",
                counted(s.echoes as u64, "echo", "echoes"),
                s.echo_bytes,
                ms(c.timeout)
            ),
            "after each message read exactly one echo (header, then size bytes), then go on",
        );
    }
    CheckResult::pass(
        name,
        format!(
            "{} ({} bytes) sent{how}; the client closed with FIN, nothing left unread",
            counted(s.echoes as u64, "echo", "echoes"),
            s.echo_bytes
        ),
    )
}

fn closes_check(c: &ClientCheck, s: &Session, exit: &Option<(Option<i32>, String)>) -> CheckResult {
    let name = battery::CLOSES.name;
    let ended = match (&s.fin_after, &s.reset) {
        (Some(after), _) => format!("the client closed (FIN) {} after connecting", ms(*after)),
        (None, Some(_)) => "the client ended the connection (RST)".to_string(),
        (None, None) => {
            return CheckResult::fail(
                name,
                format!("the connection was still open after {}", ms(c.timeout)),
                "close() the socket after the last echo",
            )
        }
    };
    match exit {
        Some((Some(0), _)) | None => CheckResult::pass(
            name,
            if exit.is_some() {
                format!("{ended}; the program exited 0")
            } else {
                ended
            },
        ),
        Some((Some(code), err)) => CheckResult::fail(
            name,
            format!("{ended}; the program exited with status {code}: {err}"),
            "run it by hand and read the traceback: it often comes from an echo read in part",
        ),
        Some((None, _)) => CheckResult::fail(
            name,
            format!("{ended}; the program was still running {} later", ms(EXIT)),
            "end the program after closing the socket",
        ),
    }
}
