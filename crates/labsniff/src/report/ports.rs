//! Ports: which side's port the kernel picked (ephemeral) and which was the server's
//! fixed one, and what the ports of several clients say.

use super::causes::port_unreachable;
use super::share::{Share, Topic};
use super::{words, Style};
use crate::causes::Cause;
use crate::event::{ConversationRecord, TransportKind};
use std::collections::BTreeSet;

/// Whether a server program answered: any packet from the server side, except the
/// RST of a refused connection (that comes from the kernel, with nothing listening).
fn server_spoke(c: &ConversationRecord) -> bool {
    c.frames_s2c > 0 && c.state != crate::event::ZeekState::Rej
}

/// The "Ports" section of one conversation; `link` is the capture's link type. Its
/// sentences that hold for other conversations too are said once (`share`); empty
/// when nothing is left.
pub fn section(
    c: &ConversationRecord,
    link: Option<&str>,
    causes: &[&Cause],
    share: &mut Share,
    style: &Style,
) -> String {
    let title = words::section_title("Ports", style);
    let mut out = title.clone();
    client(&mut out, c, link, share);
    let server = server(c, causes);
    share.bullet(&mut out, c.conv, Topic::ServerPort, &server);
    share.bullet_or(
        &mut out,
        c.conv,
        Topic::SamePorts,
        "within each conversation, every packet carries the same two ports: a socket keeps its port for its \
         whole lifetime; a new socket (another client run) gets a new one",
        "every packet of this conversation carries the same two ports: a socket keeps its port for its \
         whole lifetime; a new socket (another client run) gets a new one",
    );
    if out == title {
        return String::new();
    }
    out
}

/// The client's port: ephemeral or chosen, and which system's range it lies in. Split
/// (`share`), the range sentence is worded for every client that says it.
fn client(out: &mut String, c: &ConversationRecord, link: Option<&str>, share: &mut Share) {
    let when = match c.transport {
        TransportKind::Tcp => "when the client called connect()",
        TransportKind::Udp => {
            "probably at the client's first sendto() (an unbound UDP socket gets its port then; a \
             client that calls bind() first, as labnet's client does, gets it at bind())"
        }
    };
    let port = c.client.port();
    let ephemeral = words::looks_ephemeral(port, link);
    let instance = c.client.to_string();
    // Said once when other clients' ports were picked the same way, or lie in the same
    // range; what is left is said here.
    let picked = format!(
        "ephemeral ports, each picked by its client's kernel from its ephemeral range {when}"
    );
    let picked_shared = ephemeral && share.note(c.conv, Topic::ClientPicked, &picked, &instance);
    let range = words::ports_range(port, link);
    let range_shared = share.note(c.conv, Topic::ClientPort, &range, &instance);
    let text = match (ephemeral && !picked_shared, range_shared) {
        (true, false) => format!(
            "ephemeral port, picked by the client's kernel from its ephemeral range {when}; {}",
            words::port_range(port, link)
        ),
        (true, true) => {
            format!("ephemeral port, picked by the client's kernel from its ephemeral range {when}")
        }
        (false, false) => words::port_range(port, link),
        (false, true) => return,
    };
    out.push_str(&words::bullet(&format!("client {instance}: {text}")));
}

/// What the server's port was for this client.
fn server(c: &ConversationRecord, causes: &[&Cause]) -> String {
    let refused = c.state == crate::event::ZeekState::Rej;
    if refused {
        format!(
            "server {}: the port the client asked for; the answer was a RST, so nothing listened on \
             it (or a firewall rejected the connection with a reset)",
            c.server
        )
    } else if let (false, Some((first, n))) = (server_spoke(c), port_unreachable(causes)) {
        format!(
            "server {}: the port the client sent to; its host answered with ICMP port unreachable \
             ({} from frame {first}), so nothing was bound to that port there at that time (see \
             the causes below)",
            c.server,
            words::count(n, "error"),
        )
    } else if !server_spoke(c) {
        match c.transport {
            TransportKind::Tcp => format!(
                "server {}: the port the client tried to reach; no answer came back in this capture",
                c.server
            ),
            TransportKind::Udp => format!(
                "server {}: the port the client sent to; nothing came back from it in this capture \
                 (the lab's UDP server only prints what it receives), so the capture cannot show \
                 whether a socket was bound there",
                c.server
            ),
        }
    } else {
        format!(
            "server {}: the server's fixed port, set by its bind() before it waited for clients, so \
             that every client knows where to send",
            c.server
        )
    }
}

/// Notes on the client ports of the whole capture, and on the addresses the servers
/// were reached at.
pub fn capture_notes(convs: &[&ConversationRecord]) -> Vec<String> {
    let transports = [TransportKind::Udp, TransportKind::Tcp];
    servers_note(convs)
        .into_iter()
        .chain(
            transports
                .into_iter()
                .filter_map(|t| clients_note(convs, t)),
        )
        .collect()
}

/// The addresses the servers that answered were reached at, against the 0.0.0.0 they
/// bind (none when no IPv4 server answered).
fn servers_note(convs: &[&ConversationRecord]) -> Option<String> {
    let mut servers: Vec<String> = Vec::new();
    for c in convs
        .iter()
        .filter(|c| server_spoke(c) && c.server.is_ipv4())
    {
        let server = c.server.to_string();
        if !servers.contains(&server) {
            servers.push(server);
        }
    }
    if servers.is_empty() {
        return None;
    }
    Some(format!(
        "the lab guide's servers bind 0.0.0.0 (exercise 1.1): 0.0.0.0 means every IPv4 address of the \
         server's host, so the server takes clients on any of them; packets never carry 0.0.0.0, \
         they carry the address the client used: here {}",
        servers.join(", ")
    ))
}

/// The source ports of the `transport` clients (at least two) and how the server
/// tells them apart.
fn clients_note(convs: &[&ConversationRecord], transport: TransportKind) -> Option<String> {
    let clients: Vec<&ConversationRecord> = convs
        .iter()
        .copied()
        .filter(|c| c.transport == transport)
        .collect();
    if clients.len() < 2 {
        return None;
    }
    let ports: BTreeSet<u16> = clients.iter().map(|c| c.client.port()).collect();
    let hosts: BTreeSet<std::net::IpAddr> = clients.iter().map(|c| c.client.ip()).collect();
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let (who, how) = match transport {
        TransportKind::Udp => ("UDP clients", udp_apart(&clients)),
        TransportKind::Tcp => ("TCP connections", tcp_apart(&clients)),
    };
    let hosts_said = if hosts.len() == 1 {
        "from the same host".to_string()
    } else {
        format!("from {}", words::count(hosts.len() as u64, "host"))
    };
    // "From its kernel" only when every port looks picked by one: a client on a
    // privileged or low port chose it with bind().
    let whence = if ports.iter().all(|&p| words::looks_ephemeral(p, None)) {
        "each client socket got its own port from its kernel"
    } else {
        "each client socket had its own port"
    };
    Some(format!(
        "{} {who} {hosts_said} used {} ({}): {whence}; {how}",
        clients.len(),
        if ports.len() == clients.len() {
            format!("{} different source ports", ports.len())
        } else {
            words::count(ports.len() as u64, "source port")
        },
        list.join(", ")
    ))
}

/// How a UDP server tells its clients apart, and whether it answered them.
fn udp_apart(clients: &[&ConversationRecord]) -> String {
    let answered = clients.iter().filter(|c| server_spoke(c)).count();
    let mut how = "the server can tell them apart only by the address and port recvfrom() \
                   returns"
        .to_string();
    match answered {
        0 => how.push_str("; it sent nothing back to any of them here"),
        n if n == clients.len() => {
            how.push_str(", and it answered each with sendto() to the address recvfrom() gave")
        }
        n => how.push_str(&format!(
            "; it answered {n} of them, each with sendto() to the address recvfrom() gave"
        )),
    }
    how
}

/// How TCP tells the connections apart, and what the completed handshakes became.
fn tcp_apart(clients: &[&ConversationRecord]) -> String {
    let accepted = clients
        .iter()
        .filter(|c| c.tcp.as_ref().is_some_and(|t| t.ack_frame.is_some()))
        .count();
    let mut how = "all to the same server port; a TCP connection is known by its four \
                   numbers (client address and port, server address and port), so the \
                   client ports tell the connections apart"
        .to_string();
    match accepted {
        0 => {}
        1 => how.push_str(
            "; the one that completed its handshake became a socket of its own, which \
             the server's accept() returns",
        ),
        n => how.push_str(&format!(
            "; each of the {n} that completed a handshake became a socket of its own, \
             which the server's accept() returns"
        )),
    }
    how
}
