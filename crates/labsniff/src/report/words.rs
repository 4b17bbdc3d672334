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

/// Which ephemeral range a client port falls in, and what that suggests.
pub fn port_range(port: u16) -> String {
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
                "the client's SYN got no answer: the server is down or filtered, or the capture missed the reply",
            ),
            "S1" => (
                "open",
                "established and not closed: the capture ended while the connection was still open",
            ),
            "SF" => ("normal", "normal: established, then closed by both sides with FIN"),
            "REJ" => (
                "refused",
                "refused: the connection attempt was answered with RST, so the client's connect() raised \
                 ConnectionRefusedError",
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

/// `frame 4` / `frames 4, 5` / `frames 4-9` (a run of 3 or more).
pub fn frames(list: &[u64]) -> String {
    match list {
        [] => "no frame".to_string(),
        [one] => format!("frame {one}"),
        _ => {
            let contiguous = list.windows(2).all(|w| w[1] == w[0] + 1);
            match (list.first(), list.last()) {
                (Some(a), Some(b)) if contiguous && list.len() > 2 => format!("frames {a}-{b}"),
                _ => {
                    let parts: Vec<String> = list.iter().map(u64::to_string).collect();
                    format!("frames {}", parts.join(", "))
                }
            }
        }
    }
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

/// Whether TCP conversations overlapped in time, and what that says about the server.
pub fn concurrency_note(convs: &[&ConversationRecord]) -> Option<String> {
    let tcp: Vec<&&ConversationRecord> = convs
        .iter()
        .filter(|c| {
            c.transport == TransportKind::Tcp
                && c.tcp.as_ref().is_some_and(|t| t.syn_ack_frame.is_some())
        })
        .collect();
    if tcp.len() < 2 {
        return None;
    }
    // The largest set of conversations open at one instant (sweep over start/end).
    let mut points: Vec<(f64, i32)> = Vec::new();
    for c in &tcp {
        points.push((c.start_ts, 1));
        points.push((c.end_ts, -1));
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let (mut open, mut most) = (0i32, 0i32);
    for (_, step) in points {
        open += step;
        most = most.max(open);
    }
    let servers: std::collections::BTreeSet<&str> = tcp.iter().map(|c| c.server.as_str()).collect();
    let server = if servers.len() == 1 {
        format!(
            "the server {}",
            servers.iter().next().copied().unwrap_or_default()
        )
    } else {
        "the servers".to_string()
    };
    Some(if most >= 2 {
        format!(
            "{most} TCP clients were served at the same time — their conversations overlap — which {server} \
             can only do with threads (one per accepted socket) or a selector (one thread watching every \
             socket); a server that handles one client at a time would have made the later client wait"
        )
    } else {
        format!(
            "the {} accepted TCP connections did not overlap in time, so this capture cannot tell a threaded \
             or selector server from one that serves clients one after another",
            tcp.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_at_their_edges() {
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
        assert_eq!(frames(&[4, 5, 6]), "frames 4-6");
        assert_eq!(frames(&[4, 6]), "frames 4, 6");
        assert_eq!(frames(&[7]), "frame 7");
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
