//! Ports: which side's port the kernel picked (ephemeral) and which was fixed by
//! bind(), and what the ports of several clients say.

use super::{words, Style};
use crate::event::{ConversationRecord, TransportKind};
use std::collections::BTreeSet;

/// The "Ports" section of one conversation.
pub fn section(c: &ConversationRecord, style: &Style) -> String {
    let mut out = words::section_title("Ports", style);
    let when = match c.transport {
        TransportKind::Tcp => "when the client called connect()",
        TransportKind::Udp => {
            "at the client's first sendto() (an unbound UDP socket gets its port then)"
        }
    };
    match words::port_of(&c.client) {
        Some(port) => out.push_str(&words::bullet(&format!(
            "client {}: ephemeral port, picked by the client's kernel from its ephemeral range {when}; {}",
            c.client,
            words::port_range(port)
        ))),
        None => out.push_str(&words::bullet(&format!("client {}: the port cannot be read", c.client))),
    }
    out.push_str(&words::bullet(&format!(
        "server {}: fixed port, chosen by the server's bind() before it waited for clients, so that every \
         client knows where to send",
        c.server
    )));
    out.push_str(&words::bullet(
        "every packet of this conversation carries the same two ports: a socket keeps its port for its \
         whole lifetime; a new socket (another client run) gets a new one",
    ));
    out
}

/// Notes on the client ports of the whole capture.
pub fn capture_notes(convs: &[&ConversationRecord]) -> Vec<String> {
    let mut notes = Vec::new();
    for transport in [TransportKind::Udp, TransportKind::Tcp] {
        let clients: Vec<&&ConversationRecord> =
            convs.iter().filter(|c| c.transport == transport).collect();
        if clients.len() < 2 {
            continue;
        }
        let ports: BTreeSet<u16> = clients
            .iter()
            .filter_map(|c| words::port_of(&c.client))
            .collect();
        let hosts: BTreeSet<&str> = clients
            .iter()
            .filter_map(|c| c.client.rsplit_once(':').map(|(h, _)| h))
            .collect();
        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
        let (who, how) = match transport {
            TransportKind::Udp => (
                "UDP clients",
                "the server tells them apart only by the address and port recvfrom() returns, and answers \
                 each with sendto() to that address",
            ),
            TransportKind::Tcp => (
                "TCP connections",
                "the server's accept() returned a new socket for each, all on the same server port; the \
                 client ports tell the connections apart",
            ),
        };
        let hosts_said = if hosts.len() == 1 {
            "from the same host".to_string()
        } else {
            format!("from {}", words::count(hosts.len() as u64, "host"))
        };
        notes.push(format!(
            "{} {who} {hosts_said} used {} ({}): each client socket got its own port from its kernel; {how}",
            clients.len(),
            if ports.len() == clients.len() {
                format!("{} different source ports", ports.len())
            } else {
                words::count(ports.len() as u64, "source port")
            },
            list.join(", ")
        ));
    }
    notes
}
