//! Zeek's connection states (`conn_state`) in words: a short word for the table and a
//! sentence for the legend, per transport.

use crate::event::{TransportKind, ZeekState};

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
