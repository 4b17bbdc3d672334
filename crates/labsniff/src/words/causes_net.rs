//! The words of the network-side causes: ICMP errors, the RST's trigger, SYNs and
//! first data the server left unanswered ([`labfacts::causes`]).

use crate::causes::{Cause, CauseKind};
use crate::event::cause::{IcmpKind, RstReason};
use crate::event::{CapturePoint, Dir, TransportKind};

fn frame(f: u64) -> String {
    format!("frame {f}")
}

/// The sentence of a network-side cause (`None` for any other kind).
pub fn text(c: &Cause) -> Option<String> {
    let dir = c.dir.unwrap_or(Dir::ClientToServer);
    Some(match &c.kind {
        CauseKind::IcmpError { .. } => icmp(c, dir),
        CauseKind::RstCause {
            reason,
            rst,
            trigger,
            fin,
            unread,
        } => rst_cause(dir, *reason, *rst, *trigger, *fin, *unread),
        CauseKind::SynResent {
            syns,
            syn_ack,
            waited,
            capture_point,
        } => syn_resent(*syns, *syn_ack, *waited, *capture_point),
        CauseKind::FirstDataUnacked {
            syn_ack,
            handshake_ack,
            copies,
            acked_by,
            waited,
            capture_point,
        } => first_data(
            *syn_ack,
            *handshake_ack,
            *copies,
            *acked_by,
            *waited,
            *capture_point,
        ),
        _ => return None,
    })
}

/// The frames that show it in all (more than `frames` keeps when cut).
pub fn total(c: &Cause) -> Option<u64> {
    Some(match &c.kind {
        CauseKind::IcmpError { errors, .. } => *errors,
        CauseKind::SynResent { syns, syn_ack, .. } => syns + u64::from(syn_ack.is_some()),
        CauseKind::FirstDataUnacked {
            copies, acked_by, ..
        } => 2 + copies + u64::from(acked_by.is_some()),
        CauseKind::RstCause { .. } => c.frames.len() as u64,
        _ => return None,
    })
}

/// A Wireshark display filter for its frames (`None` for any other kind).
pub fn filter(c: &Cause) -> Option<String> {
    let stream = c.tcp_stream.map(|n| format!("tcp.stream eq {n} && "));
    let in_frames = || {
        let list: Vec<String> = c.frames.iter().map(u64::to_string).collect();
        format!("frame.number in {{{}}}", list.join(", "))
    };
    Some(match &c.kind {
        CauseKind::IcmpError {
            icmp_type,
            icmp_code,
            reporter,
            transport,
            sender_port,
            ..
        } => {
            let proto = if reporter.is_ipv6() { "icmpv6" } else { "icmp" };
            // Wireshark dissects the quoted header: its port picks this conversation's.
            let quoted = match transport {
                TransportKind::Udp => "udp",
                TransportKind::Tcp => "tcp",
            };
            format!(
                "{proto}.type == {icmp_type} && {proto}.code == {icmp_code} && \
                 {quoted}.port == {sender_port}"
            )
        }
        CauseKind::SynResent { .. } => format!("{}tcp.flags.syn == 1", stream.unwrap_or_default()),
        CauseKind::RstCause { .. } | CauseKind::FirstDataUnacked { .. } => in_frames(),
        _ => return None,
    })
}

fn icmp(c: &Cause, dir: Dir) -> String {
    let CauseKind::IcmpError {
        icmp,
        icmp_type,
        icmp_code,
        reporter,
        from_destination,
        answered,
        errors,
        mtu,
        transport,
        server_silent,
        ..
    } = &c.kind
    else {
        return String::new();
    };
    let what = match transport {
        TransportKind::Udp => "datagram",
        TransportKind::Tcp => "segment",
    };
    let frames: Vec<u64> = answered.iter().flatten().copied().collect();
    let answers = if frames.is_empty() {
        format!("the {}'s {what}s (not captured here)", dir.sender())
    } else {
        let cut = if *errors > answered.len() as u64 {
            format!(" (those of the first {} errors)", answered.len())
        } else {
            String::new()
        };
        format!(
            "the {}'s {what}s in {}{cut}",
            dir.sender(),
            super::frames_by_number(&frames, frames.len() as u64)
        )
    };
    let by = if *from_destination {
        format!("{reporter} (the destination host itself)")
    } else {
        format!("{reporter} (a router on the way)")
    };
    let head = format!(
        "{} ICMP \"{}\" (type {icmp_type}, code {icmp_code}) from {by} answer{} {answers}",
        errors,
        name(*icmp),
        if *errors == 1 { "s" } else { "" },
    );
    let meaning = meaning(*icmp, *transport, *mtu);
    let silent = if *server_silent && *transport == TransportKind::Tcp {
        "; no TCP segment came back from the server: the port was filtered (a closed port \
         answers the SYN with RST,ACK, a filter drops it or rejects it with ICMP)"
    } else {
        ""
    };
    format!("{head}: {meaning}{silent}")
}

fn name(k: IcmpKind) -> &'static str {
    match k {
        IcmpKind::NetUnreachable => "network unreachable",
        IcmpKind::HostUnreachable => "host unreachable",
        IcmpKind::ProtocolUnreachable => "protocol unreachable",
        IcmpKind::PortUnreachable => "port unreachable",
        IcmpKind::FragmentationNeeded => "fragmentation needed / packet too big",
        IcmpKind::AdministrativelyProhibited => "administratively prohibited",
        IcmpKind::OtherUnreachable => "destination unreachable",
        IcmpKind::TtlExceeded => "time exceeded (TTL)",
        IcmpKind::ReassemblyTimeExceeded => "time exceeded (fragment reassembly)",
    }
}

fn meaning(k: IcmpKind, transport: TransportKind, mtu: Option<u32>) -> String {
    match (k, transport) {
        (IcmpKind::PortUnreachable, TransportKind::Udp) => {
            "nothing was bound to that UDP port on that host when they arrived (the server was \
             not running yet, had stopped, or bound another port). A connected UDP socket (Python \
             connect(), then send() and recv()) is told: its next call raises \
             ConnectionRefusedError; an unconnected one (sendto() and recvfrom()) is not, and \
             recvfrom() just waits. The capture cannot tell which the client used"
                .to_string()
        }
        (IcmpKind::PortUnreachable, TransportKind::Tcp) => {
            "the host refused the connection with ICMP instead of TCP's RST,ACK (Linux answers a \
             closed TCP port with RST, so a firewall rule rejected it); connect() raises \
             ConnectionRefusedError"
                .to_string()
        }
        (IcmpKind::HostUnreachable, _) => {
            "the destination host could not be reached (it did not answer ARP or neighbour \
             discovery: down, or a wrong address); Python raises OSError \"No route to host\" \
             (connect(), or the next call of a connected UDP socket)"
                .to_string()
        }
        (IcmpKind::NetUnreachable, _) => {
            "there was no route to the destination's network".to_string()
        }
        (IcmpKind::AdministrativelyProhibited, _) => {
            "a firewall rejected them (a filtered port, not a closed one)".to_string()
        }
        (IcmpKind::FragmentationNeeded, _) => format!(
            "they were larger than the path's MTU{} and could not be fragmented (don't fragment \
             set); the sender's kernel lowers its packet size for that destination (path MTU \
             discovery) and sends again",
            mtu.filter(|&m| m > 0)
                .map_or(String::new(), |m| format!(" of {m} bytes"))
        ),
        (IcmpKind::TtlExceeded, _) => {
            "their TTL (hop limit) ran out on the way: a routing loop, or a TTL set too low"
                .to_string()
        }
        (IcmpKind::ReassemblyTimeExceeded, _) => {
            "the destination did not receive every fragment in time".to_string()
        }
        (IcmpKind::ProtocolUnreachable, _) | (IcmpKind::OtherUnreachable, _) => {
            "the destination could not be reached".to_string()
        }
    }
}

fn rst_cause(
    dir: Dir,
    reason: RstReason,
    rst: u64,
    trigger: Option<u64>,
    fin: Option<u64>,
    unread: Option<u64>,
) -> String {
    let (me, other) = (dir.sender(), dir.reverse().sender());
    let at = |f: Option<u64>| f.map_or_else(|| "an earlier frame".to_string(), frame);
    match reason {
        RstReason::NoSocket => format!(
            "the {me}'s RST,ACK ({}) answers the {other}'s SYN ({}): no socket listened on that \
             port (a closed port; a filtered one answers with ICMP or not at all), unless a \
             firewall rejected the SYN with a reset (iptables REJECT --reject-with tcp-reset), \
             which looks the same; the {other}'s connect() raised ConnectionRefusedError",
            frame(rst),
            at(trigger)
        ),
        RstReason::DataAfterClose => format!(
            "the {me}'s RST ({}) answers the {other}'s data in {}, which arrived after the {me} \
             had closed its socket (its FIN, {}): the {me}'s program exited or called close() \
             while the {other} was still sending, so its kernel refused the data; from the FIN on, \
             the {other}'s recv() returns b'', and on Linux its next send() raises BrokenPipeError \
             (the RST came while its socket was half-closed)",
            frame(rst),
            at(trigger),
            at(fin)
        ),
        RstReason::UnreadData => format!(
            "the {me}'s RST ({}) answers no segment and came instead of a FIN; the {other}'s data \
             in {} came after the {me}'s own last data: probably the {me}'s program called \
             close() with that data still unread in its receive buffer (Linux then sends RST, \
             not FIN); the {other}'s next recv() or send() raises ConnectionResetError",
            frame(rst),
            at(unread)
        ),
        RstReason::Abort => format!(
            "the {me}'s RST ({}) answers no segment, came instead of a FIN, and nothing sent to \
             the {me} was left unanswered: probably an abort, close() after \
             setsockopt(SO_LINGER) with a zero timeout; the {other}'s next recv() or send() \
             raises ConnectionResetError",
            frame(rst)
        ),
    }
}

fn syn_resent(syns: u64, syn_ack: Option<u64>, waited: Option<f64>, point: CapturePoint) -> String {
    let answer = match (syn_ack, waited) {
        (Some(f), Some(w)) => format!(
            "before the SYN-ACK in frame {f}, {} after the first",
            super::duration(w)
        ),
        _ => "and none was answered in this capture".to_string(),
    };
    match point {
        CapturePoint::Server => format!(
            "{syns} SYNs of the client were captured arriving at the server, {answer}: the \
             server's host dropped the earlier ones after the capture point, so they were not \
             lost on the network. Probably the listening socket's queue was full (Linux drops a \
             SYN while the accept queue — the listen() backlog, at most net.core.somaxconn \
             connections the program has not accept()ed — is full), or a firewall on the server \
             dropped them"
        ),
        _ => format!(
            "the client sent its SYN {syns} times {answer}: probably the SYNs or their SYN-ACKs \
             were lost on the way, or the server's host dropped them (a full listen queue, a \
             firewall); a capture {} cannot tell which, one at the server shows the SYNs that \
             reached it",
            if point == CapturePoint::Client {
                "at the client"
            } else {
                "made here"
            }
        ),
    }
}

fn first_data(
    syn_ack: u64,
    handshake_ack: u64,
    copies: u64,
    acked_by: Option<u64>,
    waited: f64,
    point: CapturePoint,
) -> String {
    let until = match acked_by {
        Some(f) => format!("until frame {f}"),
        None => "in this capture".to_string(),
    };
    let seen = if point == CapturePoint::Server {
        "this capture at the server shows every copy arriving, so the network did not lose them"
    } else {
        "a capture here cannot rule out that every copy was lost on the way; one at the server \
         shows whether they arrived"
    };
    format!(
        "the server answered the SYN ({}) and the client completed the handshake ({}), but the \
         client's first data was sent {copies} times with no acknowledgement for {} {until}: \
         probably the server's accept queue was full. Linux drops the handshake's last ACK, and \
         the data after it, while the listen() backlog (at most net.core.somaxconn) is full of \
         connections the program has not accept()ed; the client's connect() and send() had \
         returned, and its kernel resent the data until accept() made room; {seen}",
        frame(syn_ack),
        frame(handshake_ack),
        super::duration(waited)
    )
}
