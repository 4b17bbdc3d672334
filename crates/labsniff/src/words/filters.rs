//! Wireshark display filters that show a conversation or a set of them.

use crate::event::{ConversationRecord, TransportKind};

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
