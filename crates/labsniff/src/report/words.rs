//! Phrasing shared by the sections: numbers, durations, port ranges, connection
//! states, message labels and the wrapped bullet lines of the report.

use crate::event::{ConversationRecord, MessageEvent, TransportKind, ZeekState};
use std::fmt::Write as _;

/// Report lines are wrapped to this many columns (a bullet's words, not tables).
const WRAP: usize = 100;

use crate::words::frames_said;
pub use crate::words::{count, duration, duration_into, frames_span, thousands, transport};

/// Seconds since `origin`, microsecond resolution: `0.000040`.
pub fn relative(ts: f64, origin: f64) -> String {
    let micros = ((ts - origin) * 1e6).round().max(0.0) as u64;
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
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
pub fn state(transport: TransportKind, state: ZeekState) -> (&'static str, &'static str) {
    match transport {
        TransportKind::Udp => match state {
            ZeekState::Sf => (
                "both spoke",
                "UDP has no connection: the client and the server both sent datagrams, and nothing opens or closes",
            ),
            ZeekState::S0 => (
                "no reply",
                "UDP has no connection: only the client sent datagrams; no reply was seen",
            ),
            ZeekState::Shr => (
                "server only",
                "UDP has no connection: only the server sent datagrams; the client's were not seen",
            ),
            _ => ("unknown", "UDP has no connection; nothing can be said about this one"),
        },
        TransportKind::Tcp => match state {
            ZeekState::S0 => (
                "unanswered",
                "the client's SYN got no answer: the server's host is down or unreachable, a firewall dropped \
                 the SYN or its answer, or the capture missed the reply (a host that is up with nothing \
                 listening answers with RST instead)",
            ),
            ZeekState::S1 => (
                "open",
                "established and not closed: the capture ended while the connection was still open",
            ),
            ZeekState::Sf => ("normal", "normal: established, then closed by both sides with FIN"),
            ZeekState::Rej => (
                "refused",
                "refused: the connection attempt was answered with RST",
            ),
            ZeekState::S2 => (
                "half-closed",
                "established, then the client closed (FIN) but no FIN from the server was seen",
            ),
            ZeekState::S3 => (
                "half-closed",
                "established, then the server closed (FIN) but no FIN from the client was seen",
            ),
            ZeekState::Rsto => (
                "reset",
                "reset by the client: the client aborted the connection with RST",
            ),
            ZeekState::Rstr => (
                "reset",
                "reset by the server: the server aborted the connection with RST",
            ),
            ZeekState::Rstos0 => (
                "half-open, reset",
                "the client sent a SYN, then a RST; no SYN-ACK from the server was seen",
            ),
            ZeekState::Rstrh => (
                "half-open, reset",
                "the server sent a SYN-ACK, then a RST; the client's SYN was not seen",
            ),
            ZeekState::Sh => (
                "half-open",
                "the client sent a SYN, then a FIN; no SYN-ACK from the server was seen",
            ),
            ZeekState::Shr => (
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

/// Bytes of a payload escaped to decide what is shown. Every UTF-8 sequence (valid or
/// not) is at most 4 bytes and escapes to at least one character, and only the last 3
/// bytes of a cut can decode differently from the whole payload, so the escape of this
/// many bytes begins with the same `PAYLOAD_SHOWN + 1` characters as the escape of
/// all of them: enough to cut a long payload without escaping all of it (a v3 message
/// can carry megabytes).
const PAYLOAD_ESCAPED: usize = 4 * (PAYLOAD_SHOWN + 1) + 3;

/// The payload, escaped for a terminal, quoted, at most [`PAYLOAD_SHOWN`] characters.
pub fn payload(bytes: &[u8]) -> String {
    let mut out = String::new();
    payload_into(&mut out, bytes);
    out
}

/// [`payload`], appended to `out`.
pub fn payload_into(out: &mut String, bytes: &[u8]) {
    let head = bytes.get(..PAYLOAD_ESCAPED).unwrap_or(bytes);
    // Printable ASCII other than `\` and `"` (most payloads) escapes to itself, one
    // character a byte: no escaping, no counting.
    let plain = |b: &u8| matches!(b, b' '..=b'~') && !matches!(b, b'\\' | b'"');
    if head.iter().all(plain) {
        if let Ok(text) = std::str::from_utf8(head) {
            out.push('"');
            match text
                .get(..PAYLOAD_SHOWN)
                .filter(|_| text.len() > PAYLOAD_SHOWN)
            {
                None => {
                    out.push_str(text);
                    out.push('"');
                }
                Some(cut) => {
                    out.push_str(cut);
                    out.push_str("\"…");
                }
            }
            return;
        }
    }
    let escaped = labproto::text::escape(head);
    out.push('"');
    // The byte index of the first character past PAYLOAD_SHOWN, if there is one (there
    // always is when `head` is a cut, see PAYLOAD_ESCAPED).
    match escaped.char_indices().nth(PAYLOAD_SHOWN) {
        None => {
            out.push_str(&escaped);
            out.push('"');
        }
        Some((cut, _)) => {
            out.push_str(escaped.get(..cut).unwrap_or_default());
            out.push_str("\"…");
        }
    }
}

/// `order=1 size=5 "hello"` (v2/v3) or `"hello"` (text); v2 truncation said.
pub fn message(m: &MessageEvent) -> String {
    let mut s = String::new();
    message_into(&mut s, m);
    s
}

/// [`message`], appended to `out`.
pub fn message_into(out: &mut String, m: &MessageEvent) {
    if let (Some(o), Some(z)) = (m.order, m.size) {
        out.push_str("order=");
        out.push_str(itoa::Buffer::new().format(o));
        out.push_str(" size=");
        out.push_str(itoa::Buffer::new().format(z));
        out.push(' ');
    }
    payload_into(out, &m.payload_bytes);
    if m.truncated {
        let _ = write!(
            out,
            " (truncated: {} of {} bytes)",
            m.payload_bytes.len(),
            m.size.unwrap_or(0)
        );
    }
}

/// `frame 4` / `frames 4, 6` / `frames 4–6` (consecutive) / for long lists
/// `frames 8–106 (70 segments)`, with `, ` between ranges where the frames pause.
pub fn frames(list: &[u64]) -> String {
    frames_said(list, true)
}

/// [`frames`], appended to `out`; a single frame (most messages) without allocating.
pub fn frames_into(out: &mut String, list: &[u64]) {
    match list {
        [one] => {
            out.push_str("frame ");
            out.push_str(itoa::Buffer::new().format(*one));
        }
        _ => out.push_str(&frames_said(list, true)),
    }
}

/// Leads of [`columns_into`] at most this many characters wide keep the text beside them.
const LEAD_MAX: usize = 54;
/// Indents of continuation lines are cut from here (no allocation per row).
const SPACES: &str = "                                                                ";
/// Where [`columns_into`] continues a text that starts on the line after a wide lead.
const COLUMNS_INDENT: &str = "          ";

/// A row that starts with `lead` (frame columns) and goes on with `text` wrapped under
/// its own column, appended to `out`; when `lead` is too wide, `text` starts on the
/// next line instead.
pub fn columns_into(out: &mut String, lead: &str, text: &str) {
    let width = chars(lead);
    if width <= LEAD_MAX {
        // SPACES is ASCII and longer than LEAD_MAX, so this slice is `width` characters.
        let indent = SPACES.get(..width).unwrap_or(SPACES);
        return wrap_after(out, lead, width, indent, text);
    }
    out.push_str(lead.trim_end());
    out.push('\n');
    wrap_into(out, COLUMNS_INDENT, COLUMNS_INDENT, text);
}

/// [`wrap_into`] with continuation lines indented as wide as `first`.
pub fn wrap_under(out: &mut String, first: &str, text: &str) {
    let width = chars(first);
    match SPACES.get(..width) {
        Some(indent) => wrap_after(out, first, width, indent, text),
        None => wrap_after(out, first, width, &" ".repeat(width), text),
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

/// [`bullet`], appended to `out`.
pub fn bullet_into(out: &mut String, text: &str) {
    wrap_into(out, "    - ", "      ", text);
}

/// `text` wrapped after `first` (first line) and `rest` (continuations), newline-ended.
pub fn wrap(first: &str, rest: &str, text: &str) -> String {
    let mut out = String::new();
    wrap_into(&mut out, first, rest, text);
    out
}

/// [`wrap`], appended to `out`: the words (split at spaces, empty ones dropped) joined
/// by one space, a new line started with `rest` when the next word would pass [`WRAP`]
/// characters, every line's end trimmed. The line is written in place and its width
/// kept as it grows, rather than counted again for every word.
pub fn wrap_into(out: &mut String, first: &str, rest: &str, text: &str) {
    wrap_after(out, first, chars(first), rest, text);
}

/// [`wrap_into`] for a `first` known to be `width` characters wide.
fn wrap_after(out: &mut String, first: &str, width: usize, rest: &str, text: &str) {
    let mut start = out.len();
    out.push_str(first);
    let mut width = width;
    let mut empty = true;
    for (word, w) in Words(text) {
        if !empty && width + 1 + w > WRAP {
            end_line(out, start);
            start = out.len();
            out.push_str(rest);
            width = chars(rest);
            empty = true;
        }
        if !empty {
            out.push(' ');
            width += 1;
        }
        out.push_str(word);
        width += w;
        empty = false;
    }
    end_line(out, start);
}

/// The words of a text split at spaces, empty ones dropped, each with its width in
/// characters: one pass over the bytes (report words are short, and a search per
/// word costs more than the word).
struct Words<'a>(&'a str);

impl<'a> Iterator for Words<'a> {
    type Item = (&'a str, usize);

    fn next(&mut self) -> Option<(&'a str, usize)> {
        let bytes = self.0.as_bytes();
        let start = bytes.iter().position(|&b| b != b' ')?;
        let mut end = start;
        let mut width = 0;
        for &b in bytes.get(start..).unwrap_or_default() {
            if b == b' ' {
                break;
            }
            // A character per byte that does not continue a UTF-8 sequence.
            width += usize::from(b & 0xC0 != 0x80);
            end += 1;
        }
        // Spaces are ASCII, so `start` and `end` are character boundaries.
        let word = self.0.get(start..end)?;
        self.0 = self.0.get(end..).unwrap_or_default();
        Some((word, width))
    }
}

/// Pads what was written to `out` since byte `start` with spaces to `width`
/// characters, as `{:<width$}` does.
pub fn pad_from(out: &mut String, start: usize, width: usize) {
    let have = out.get(start..).map_or(0, chars);
    for _ in have..width {
        out.push(' ');
    }
}

/// Trims the end of the line that starts at byte `start` of `out`, and ends it.
fn end_line(out: &mut String, start: usize) {
    let kept = out.get(start..).map_or(0, |line| line.trim_end().len());
    out.truncate(start + kept);
    out.push('\n');
}

/// The characters of `s` (its bytes when it is ASCII, as most words are).
fn chars(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
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
    let host = c.client.ip();
    let ip = if host.is_ipv6() { "ipv6" } else { "ip" };
    let ports: Vec<String> = [c.client.port(), c.server.port()]
        .iter()
        .map(|p| format!("{proto}.port == {p}"))
        .collect();
    format!("{ip}.addr == {host} && {}", ports.join(" && "))
}

/// What the capture shows about how the server served its TCP clients.
pub fn concurrency_note(
    fact: crate::analysis::capture::Concurrency,
    convs: &[&ConversationRecord],
) -> Option<String> {
    use crate::analysis::capture::Concurrency;
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
        let states: Vec<ZeekState> = ZeekState::ALL
            .into_iter()
            .filter(|s| *s != ZeekState::Oth)
            .collect();
        let mut sentences: Vec<&str> = states
            .iter()
            .map(|s| state(TransportKind::Tcp, *s).1)
            .collect();
        assert!(sentences.iter().all(|s| !s.starts_with("no SYN was seen")));
        sentences.sort_unstable();
        sentences.dedup();
        assert_eq!(sentences.len(), states.len());
        assert_eq!(state(TransportKind::Tcp, ZeekState::Oth).0, "mid-stream");
        assert_eq!(state(TransportKind::Tcp, ZeekState::Rej).0, "refused");
        assert_eq!(state(TransportKind::Udp, ZeekState::S0).0, "no reply");
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

    /// `wrap` and `payload` as they were before they wrote in place: the text they
    /// must still give, byte for byte.
    mod reference {
        pub fn wrap(first: &str, rest: &str, text: &str) -> String {
            let mut out = String::new();
            let mut line = first.to_string();
            let mut empty = true;
            for word in text.split(' ').filter(|w| !w.is_empty()) {
                let width = line.chars().count();
                if !empty && width + 1 + word.chars().count() > super::WRAP {
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

        pub fn payload(bytes: &[u8]) -> String {
            let escaped = labproto::text::escape(bytes);
            if escaped.chars().count() <= super::PAYLOAD_SHOWN {
                format!("\"{escaped}\"")
            } else {
                let cut: String = escaped.chars().take(super::PAYLOAD_SHOWN).collect();
                format!("\"{cut}\"…")
            }
        }
    }

    /// Words, spaces (several, leading, trailing), wide and combining characters,
    /// tabs and newlines (whitespace that trimming removes but splitting keeps).
    fn report_text() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::string::string_regex("[a-z →µé中\t\n\u{301}.,-]{0,260}").expect("a valid regex")
    }

    proptest::proptest! {
        #[test]
        fn wrap_gives_the_text_it_always_gave(
            first in "[ a-z→-]{0,60}",
            rest in "[ a-z]{0,12}",
            text in report_text(),
        ) {
            proptest::prop_assert_eq!(wrap(&first, &rest, &text), reference::wrap(&first, &rest, &text));
            let mut under = String::from("kept\n");
            wrap_under(&mut under, &first, &text);
            let indent = " ".repeat(first.chars().count());
            let expected = format!("kept\n{}", reference::wrap(&first, &indent, &text));
            proptest::prop_assert_eq!(under, expected);
        }

        #[test]
        fn payload_gives_the_text_it_always_gave(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            ascii in "[ -~]{0,300}",
            text in report_text(),
        ) {
            for b in [&bytes[..], ascii.as_bytes(), text.as_bytes()] {
                proptest::prop_assert_eq!(payload(b), reference::payload(b));
            }
        }
    }

    #[test]
    fn payload_cut_at_every_length_and_inside_characters() {
        // Multi-byte characters and escapes on both sides of PAYLOAD_ESCAPED.
        for unit in ["a", "é", "中", "\u{1F600}", "\n", "\"", "\u{7f}", "\u{0}"] {
            for n in 0..120 {
                let text = unit.repeat(n);
                for cut in [text.len(), text.len().saturating_sub(1), text.len() / 2] {
                    let bytes = &text.as_bytes()[..cut];
                    assert_eq!(
                        payload(bytes),
                        reference::payload(bytes),
                        "{unit:?} × {n}, {cut}"
                    );
                }
            }
        }
        let mut invalid = vec![0xf0u8; 300];
        invalid.extend_from_slice(&[0x9f, 0x98, 0x80]);
        assert_eq!(payload(&invalid), reference::payload(&invalid));
    }
}

/// Why `port` was analysed, when it was not simply given or the default in use:
/// "port 5005 unused; 5,000 TCP conversations on port 15099 carry v3".
pub fn port_choice(choice: &crate::event::PortChoice, port: u16) -> Option<String> {
    use crate::event::How;
    let found = || {
        let transport = choice.transport.map(|t| t.as_str().to_uppercase());
        let (noun, verb) = if choice.conversations == 1 {
            ("conversation", "carries")
        } else {
            ("conversations", "carry")
        };
        format!(
            "{} {} {noun} on port {port} {verb} {}",
            thousands(choice.conversations),
            transport.unwrap_or_default(),
            choice.proto.map_or("lab messages", labproto::Proto::as_str)
        )
    };
    match choice.how {
        How::Given => None,
        How::Default if choice.conversations == 0 => None,
        How::Default => Some(found()),
        How::Found => {
            let default = if choice.default_port_used {
                format!("port {} has fewer lab-like conversations", choice.default_port)
            } else {
                format!("port {} unused", choice.default_port)
            };
            Some(format!("{default}; {}", found()))
        }
        How::NoneFound => Some(format!(
            "no conversation on any port carries text, v2 or v3 (port {port}, the default, analysed)"
        )),
        How::NotSearched => Some(format!(
            "port {port}: the input cannot be read twice, so no other port was searched"
        )),
    }
}

#[cfg(test)]
mod port_choice_tests {
    use crate::event::{How, PortChoice, TransportKind};

    #[test]
    fn the_sentence_names_port_count_and_protocol() {
        let mut c = PortChoice::plain(How::Found);
        c.transport = Some(TransportKind::Tcp);
        c.conversations = 5000;
        c.proto = Some(labproto::Proto::V3);
        assert_eq!(
            super::port_choice(&c, 15099).as_deref(),
            Some("port 5005 unused; 5,000 TCP conversations on port 15099 carry v3")
        );
        assert_eq!(
            super::port_choice(&PortChoice::plain(How::Default), 5005),
            None
        );
        assert_eq!(super::thousands(1_234_567), "1,234,567");
        assert_eq!(super::thousands(999), "999");
    }
}
