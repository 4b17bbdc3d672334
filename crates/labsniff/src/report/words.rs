//! Phrasing shared by the sections: numbers, durations, port ranges, connection
//! states, message labels and the wrapped bullet lines of the report.

use crate::event::{ConversationRecord, MessageEvent, TransportKind};
use std::fmt::Write as _;

/// Report lines are wrapped to this many columns (a bullet's words, not tables).
const WRAP: usize = 100;

/// `n thing` / `n things`.
pub fn count(n: u64, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// A duration in seconds, rounded to the microsecond: `30 µs`, `1.250 ms`, `2.000 s`.
pub fn duration(seconds: f64) -> String {
    let micros = (seconds * 1e6).round();
    if micros < 1000.0 {
        format!("{} µs", micros.max(0.0) as u64)
    } else if micros < 1e6 {
        format!("{:.3} ms", micros / 1e3)
    } else {
        format!("{:.3} s", micros / 1e6)
    }
}

/// Seconds since `origin`, microsecond resolution: `0.000040`.
pub fn relative(ts: f64, origin: f64) -> String {
    let micros = ((ts - origin) * 1e6).round().max(0.0) as u64;
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// `TCP` / `UDP`.
pub fn transport(t: TransportKind) -> &'static str {
    match t {
        TransportKind::Tcp => "TCP",
        TransportKind::Udp => "UDP",
    }
}

/// The port part of `host:port` (IPv6 hosts are bracketed, so the last colon splits).
pub fn port_of(endpoint: &str) -> Option<u16> {
    endpoint.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

/// Which ephemeral range a client port falls in, and what that suggests; `link` is the
/// capture's link type (a BSD/macOS loopback capture says the capturing host is no
/// Linux, so a port in Linux's range does not suggest Linux there).
pub fn port_range(port: u16, link: Option<&str>) -> String {
    if matches!(link, Some("null" | "loop")) {
        return bsd_port_range(port);
    }
    const LINUX: &str = "Linux's ephemeral range (32768–60999, net.ipv4.ip_local_port_range)";
    const IANA: &str = "the IANA ephemeral range (49152–65535) that macOS and Windows use";
    match port {
        0..=1023 => format!(
            "{port} is a privileged port, in no ephemeral range: the client must have called bind() \
             on it (as root) before connecting"
        ),
        1024..=32767 => format!(
            "{port} lies below both {LINUX} and {IANA}: the client probably chose it with bind() \
             (or its system uses another range)"
        ),
        32768..=49151 => format!("{port} lies in {LINUX}, below {IANA}: the client most likely runs Linux"),
        49152..=60999 => format!("{port} lies in both {LINUX} and {IANA}"),
        61000..=65535 => format!("{port} lies in {IANA}, above {LINUX}"),
    }
}

/// [`port_range`] for a capture with the BSD loopback link type (DLT_NULL / DLT_LOOP).
fn bsd_port_range(port: u16) -> String {
    if port < 1024 {
        return format!(
            "{port} is a privileged port, in no ephemeral range: the client must have called bind() \
             on it (as root) before connecting"
        );
    }
    "this capture has the BSD loopback link type (DLT_NULL or DLT_LOOP), which macOS and the BSDs \
     write on their loopback interface, so it was probably made on one of them, not on Linux; their \
     default ephemeral ranges differ (macOS: 49152–65535, net.inet.ip.portrange.first/last), so the \
     port alone does not tell the client's system"
        .to_string()
}

/// Whether the report may call `port` an ephemeral port the kernel picked: it lies in
/// some system's default ephemeral range (ports below 32768 on a non-BSD capture, and
/// privileged ports, were more likely chosen with bind()).
pub fn looks_ephemeral(port: u16, link: Option<&str>) -> bool {
    match link {
        Some("null" | "loop") => port >= 1024,
        _ => port >= 32768,
    }
}

/// A connection state in words: (short word, sentence).
pub fn state(transport: TransportKind, state: &str) -> (&'static str, &'static str) {
    match transport {
        TransportKind::Udp => match state {
            "SF" => (
                "both spoke",
                "UDP has no connection: the client and the server both sent datagrams, and nothing opens or closes",
            ),
            "S0" => (
                "no reply",
                "UDP has no connection: only the client sent datagrams; no reply was seen",
            ),
            "SHR" => (
                "server only",
                "UDP has no connection: only the server sent datagrams; the client's were not seen",
            ),
            _ => ("unknown", "UDP has no connection; nothing can be said about this one"),
        },
        TransportKind::Tcp => match state {
            "S0" => (
                "unanswered",
                "the client's SYN got no answer: the server's host is down or unreachable, a firewall dropped \
                 the SYN or its answer, or the capture missed the reply (a host that is up with nothing \
                 listening answers with RST instead)",
            ),
            "S1" => (
                "open",
                "established and not closed: the capture ended while the connection was still open",
            ),
            "SF" => ("normal", "normal: established, then closed by both sides with FIN"),
            "REJ" => (
                "refused",
                "refused: the connection attempt was answered with RST",
            ),
            "S2" => (
                "half-closed",
                "established, then the client closed (FIN) but no FIN from the server was seen",
            ),
            "S3" => (
                "half-closed",
                "established, then the server closed (FIN) but no FIN from the client was seen",
            ),
            "RSTO" => (
                "reset",
                "reset by the client: the client aborted the connection with RST",
            ),
            "RSTR" => (
                "reset",
                "reset by the server: the server aborted the connection with RST",
            ),
            "RSTOS0" => (
                "half-open, reset",
                "the client sent a SYN, then a RST; no SYN-ACK from the server was seen",
            ),
            "RSTRH" => (
                "half-open, reset",
                "the server sent a SYN-ACK, then a RST; the client's SYN was not seen",
            ),
            "SH" => (
                "half-open",
                "the client sent a SYN, then a FIN; no SYN-ACK from the server was seen",
            ),
            "SHR" => (
                "half-open",
                "the server sent a SYN-ACK, then a FIN; the client's SYN was not seen",
            ),
            _ => (
                "mid-stream",
                "no SYN was seen: the capture started after the connection was opened, so how it began is unknown",
            ),
        },
    }
}

/// `Conversation 1: TCP v3, client 10.0.0.2:40000 → server 10.0.0.1:5005`.
pub fn conv_title(c: &ConversationRecord) -> String {
    let proto = c.proto.map(|p| format!(" {p}")).unwrap_or_default();
    format!(
        "Conversation {}: {}{proto}, client {} → server {}",
        c.conv,
        transport(c.transport),
        c.client,
        c.server
    )
}

/// Payload characters shown; longer payloads are cut and end in `…`.
pub const PAYLOAD_SHOWN: usize = 48;

/// The payload, escaped for a terminal, quoted, at most [`PAYLOAD_SHOWN`] characters.
pub fn payload(bytes: &[u8]) -> String {
    let escaped = labproto::text::escape(bytes);
    if escaped.chars().count() <= PAYLOAD_SHOWN {
        format!("\"{escaped}\"")
    } else {
        let cut: String = escaped.chars().take(PAYLOAD_SHOWN).collect();
        format!("\"{cut}\"…")
    }
}

/// `order=1 size=5 "hello"` (v2/v3) or `"hello"` (text); v2 truncation said.
pub fn message(m: &MessageEvent) -> String {
    let mut s = String::new();
    if let (Some(o), Some(z)) = (m.order, m.size) {
        let _ = write!(s, "order={o} size={z} ");
    }
    s.push_str(&payload(&m.payload_bytes));
    if m.truncated {
        let _ = write!(
            s,
            " (truncated: {} of {} bytes)",
            m.payload_bytes.len(),
            m.size.unwrap_or(0)
        );
    }
    s
}

/// Lists longer than this are written as ranges with a segment count.
const FRAMES_LISTED: usize = 6;
/// In a long list, frames at most this far apart share a range (the frames in between
/// carried the other direction's ACKs or other conversations' packets).
const RANGE_STEP: u64 = 10;
/// Ranges shown of a long list: the first few and the last.
const RANGES_SHOWN: usize = 6;

/// `frame 4` / `frames 4, 6` / `frames 4–6` (consecutive) / for long lists
/// `frames 8–106 (70 segments)`, with `, ` between ranges where the frames pause.
pub fn frames(list: &[u64]) -> String {
    frames_said(list, true)
}

/// [`frames`] without the segment count (for sentences that give it already).
pub fn frames_span(list: &[u64]) -> String {
    frames_said(list, false)
}

fn frames_said(list: &[u64], counted: bool) -> String {
    let Some(&first) = list.first() else {
        return "no frame".to_string();
    };
    if list.len() == 1 {
        return format!("frame {first}");
    }
    let long = list.len() > FRAMES_LISTED;
    let step = if long { RANGE_STEP } else { 1 };
    let mut runs: Vec<(u64, u64, usize)> = Vec::new();
    for &f in list {
        match runs.last_mut() {
            Some((_, end, n)) if f > *end && f - *end <= step => {
                *end = f;
                *n += 1;
            }
            _ => runs.push((f, f, 1)),
        }
    }
    let exact = runs.iter().all(|&(a, b, n)| b - a + 1 == n as u64);
    let run = |&(a, b, n): &(u64, u64, usize)| match n {
        1 => a.to_string(),
        2 if b == a + 1 => format!("{a}, {b}"),
        _ => format!("{a}–{b}"),
    };
    let mut parts: Vec<String> = if runs.len() > RANGES_SHOWN {
        let mut p: Vec<String> = runs.iter().take(RANGES_SHOWN - 1).map(run).collect();
        p.push("…".to_string());
        p.extend(runs.last().map(run));
        p
    } else {
        runs.iter().map(run).collect()
    };
    if runs.len() == 1 && exact && !long {
        return format!("frames {}", parts.remove(0));
    }
    let listed = parts.join(", ");
    if counted && (long || !exact) {
        format!("frames {listed} ({} segments)", list.len())
    } else {
        format!("frames {listed}")
    }
}

/// A row that starts with `lead` (frame columns) and goes on with `text` wrapped under
/// its own column; when `lead` is too wide, `text` starts on the next line instead.
pub fn columns(lead: &str, text: &str) -> String {
    const LEAD_MAX: usize = 54;
    if lead.chars().count() <= LEAD_MAX {
        return wrap(lead, &" ".repeat(lead.chars().count()), text);
    }
    let mut out = lead.trim_end().to_string();
    out.push('\n');
    out.push_str(&wrap("          ", "          ", text));
    out
}

/// A section title line.
pub fn section_title(title: &str, style: &super::Style) -> String {
    format!("  {}\n", style.subheading(title))
}

/// `    - text`, wrapped at [`WRAP`] columns with continuation lines under the text.
pub fn bullet(text: &str) -> String {
    wrap("    - ", "      ", text)
}

/// `text` wrapped after `first` (first line) and `rest` (continuations), newline-ended.
pub fn wrap(first: &str, rest: &str, text: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let width = line.chars().count();
        if !empty && width + 1 + word.chars().count() > WRAP {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// `tcp.stream eq 3` / `tcp.stream eq 0 || tcp.stream eq 1` for conversations `convs`
/// (by number); `||` rather than a set, which older Wireshark versions do not parse.
pub fn stream_filter(all: &[&ConversationRecord], convs: &[u64]) -> Option<String> {
    let streams: Vec<String> = convs
        .iter()
        .filter_map(|n| all.iter().find(|c| c.conv == *n)?.tcp_stream)
        .map(|s| s.to_string())
        .collect();
    if streams.is_empty() {
        return None;
    }
    let each: Vec<String> = streams
        .iter()
        .map(|s| format!("tcp.stream eq {s}"))
        .collect();
    Some(each.join(" || "))
}

/// The Wireshark display filter that shows one conversation.
pub fn conv_filter(c: &ConversationRecord) -> String {
    if let Some(stream) = c.tcp_stream {
        return format!("tcp.stream eq {stream}");
    }
    let proto = match c.transport {
        TransportKind::Tcp => "tcp",
        TransportKind::Udp => "udp",
    };
    let host = c
        .client
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or_default();
    let (ip, host) = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => ("ipv6", v6),
        None => ("ip", host),
    };
    let ports: Vec<String> = [&c.client, &c.server]
        .iter()
        .filter_map(|e| port_of(e))
        .map(|p| format!("{proto}.port == {p}"))
        .collect();
    format!("{ip}.addr == {host} && {}", ports.join(" && "))
}

/// What the capture shows about how the server served its TCP clients.
pub fn concurrency_note(convs: &[&ConversationRecord]) -> Option<String> {
    use crate::analysis::capture::{concurrency, Concurrency};
    let fact = concurrency(convs)?;
    let filter = |list: &[u64]| {
        stream_filter(convs, list)
            .map(|f| format!(". Wireshark filter: {f}"))
            .unwrap_or_default()
    };
    Some(match fact {
        Concurrency::Proven {
            earlier,
            earlier_answer,
            later,
            later_answer,
            earlier_end,
        } => {
            let open = match earlier_end {
                Some(end) => format!("its first FIN or RST came only at frame {end}"),
                None => "it had not ended when the capture stopped".to_string(),
            };
            format!(
                "the server served several clients at once: it answered conversation {earlier} (frame \
                 {earlier_answer}) and then conversation {later} (frame {later_answer}) while conversation \
                 {earlier} was still open ({open}). A server that handles one client at a time cannot do \
                 that, since it stays in one client's loop until that client closes; this one uses \
                 threads (one per accepted socket), processes or a selector (one thread watching every \
                 socket) — the packets look the same for all three{}",
                filter(&[earlier, later])
            )
        }
        Concurrency::Iterative {
            earlier,
            earlier_end,
            later,
            later_ack,
            later_request,
            later_answer,
        } => format!(
            "the server probably serves one client at a time: conversation {later}'s handshake was \
             complete at frame {later_ack} and its client sent its first bytes at frame {later_request}, \
             while conversation {earlier} was still open, yet the server's first answer to it came only \
             at frame {later_answer}, after conversation {earlier} began to end (its first FIN or RST, \
             frame {earlier_end}). \
             The handshake needs no help from the program: the kernel completes it for a listening \
             socket and queues the connection in the listen backlog (the size given to listen()) until \
             accept() takes it, and keeps the client's bytes in the socket's receive buffer until recv() \
             reads them. So connect() and send() succeeded at once, but the answer waited until the \
             server had finished with the earlier client and called accept() again, as an iterative \
             server does; with threads or a selector it would not have waited for the earlier client{}",
            filter(&[earlier, later])
        ),
        Concurrency::Unknown {
            connections,
            overlapped: true,
        } => format!(
            "{connections} TCP connections to the server overlapped in time, but the server never answered \
             one while another one it had answered was still open, so this capture cannot tell a server \
             that serves clients at once (threads or a selector) from one that serves them one at a time: \
             overlap alone proves nothing, because the kernel completes handshakes and acknowledges \
             data for connections still waiting in the listen backlog"
        ),
        Concurrency::Unknown {
            connections,
            overlapped: false,
        } => format!(
            "the {connections} accepted TCP connections did not overlap in time, so this capture cannot \
             tell a threaded or selector server from one that serves clients one after another"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_at_their_edges() {
        let port_range = |p| port_range(p, Some("ethernet"));
        assert!(port_range(1023).starts_with("1023 is a privileged port"));
        assert!(port_range(32767).starts_with("32767 lies below both Linux's"));
        assert!(port_range(32768).starts_with("32768 lies in Linux's ephemeral range (32768–60999"));
        assert!(port_range(49151).ends_with("the client most likely runs Linux"));
        assert!(port_range(49152).starts_with("49152 lies in both Linux's"));
        assert!(port_range(60999).starts_with("60999 lies in both"));
        assert!(port_range(61000).starts_with("61000 lies in the IANA ephemeral range"));
        assert!(port_range(65535).ends_with(
            "above Linux's ephemeral range (32768–60999, net.ipv4.ip_local_port_range)"
        ));
    }

    #[test]
    fn a_bsd_loopback_capture_never_suggests_linux() {
        for port in [1023, 32768, 40000, 49151, 49152, 60999, 65535] {
            let said = port_range(port, Some("null"));
            assert!(!said.contains("runs Linux"), "{said}");
            assert!(
                port < 1024 || said.contains("the port alone does not tell"),
                "{said}"
            );
        }
        assert!(port_range(40000, None).ends_with("the client most likely runs Linux"));
    }

    #[test]
    fn every_zeek_state_has_its_own_words() {
        let states = [
            "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR",
        ];
        let mut sentences: Vec<&str> = states
            .iter()
            .map(|s| state(TransportKind::Tcp, s).1)
            .collect();
        assert!(sentences.iter().all(|s| !s.starts_with("no SYN was seen")));
        sentences.sort_unstable();
        sentences.dedup();
        assert_eq!(sentences.len(), states.len());
        assert_eq!(state(TransportKind::Tcp, "OTH").0, "mid-stream");
        assert_eq!(state(TransportKind::Tcp, "REJ").0, "refused");
        assert_eq!(state(TransportKind::Udp, "S0").0, "no reply");
    }

    #[test]
    fn durations_and_relative_times() {
        assert_eq!(duration(0.000_01), "10 µs");
        assert_eq!(duration(0.001_25), "1.250 ms");
        assert_eq!(duration(2.0), "2.000 s");
        assert_eq!(
            relative(1_700_000_000.0 + 270e-6, 1_700_000_000.0),
            "0.000270"
        );
        assert_eq!(frames(&[4, 5, 6]), "frames 4–6");
        assert_eq!(frames(&[4, 6]), "frames 4, 6");
        assert_eq!(frames(&[4, 5]), "frames 4, 5");
        assert_eq!(frames(&[7]), "frame 7");
        assert_eq!(frames(&[4, 5, 6, 9]), "frames 4–6, 9");
    }

    #[test]
    fn long_frame_lists_become_ranges_with_a_count() {
        // 70 segments between frames 8 and 106, ACKs in between.
        let list: Vec<u64> = (0..70).map(|i| 8 + i * 99 / 70).chain([106]).collect();
        let mut list = list;
        list.dedup();
        let n = list.len();
        assert_eq!(frames(&list), format!("frames 8–106 ({n} segments)"));
        // A pause (a retransmission much later) makes a second range.
        let mut paused: Vec<u64> = (10..20).collect();
        paused.push(300);
        assert_eq!(frames(&paused), "frames 10–19, 300 (11 segments)");
        // Very many ranges: the first ones, an ellipsis, the last.
        let scattered: Vec<u64> = (0..20).map(|i| i * 100).collect();
        let said = frames(&scattered);
        assert!(
            said.starts_with("frames 0, 100, 200, 300, 400, …, 1900 (20 segments)"),
            "{said}"
        );
    }

    #[test]
    fn long_payloads_are_cut() {
        assert_eq!(payload(b"hi\n"), "\"hi\\n\"");
        let long = payload(&[b'x'; 1000]);
        assert_eq!(long, format!("\"{}\"…", "x".repeat(PAYLOAD_SHOWN)));
    }

    #[test]
    fn wrap_keeps_words_and_indents_continuations() {
        let text = "word ".repeat(40);
        let out = wrap("    - ", "      ", &text);
        assert!(out.lines().all(|l| l.chars().count() <= WRAP));
        assert!(out.lines().skip(1).all(|l| l.starts_with("      word")));
        assert_eq!(out.matches("word").count(), 40);
    }
}
