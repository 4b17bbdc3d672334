//! Whether the server served several TCP clients at once, as far as the packets prove.
//!
//! Overlapping conversations prove nothing: a server that handles one client at a time
//! (accept(), serve until the client closes, accept() the next) still has its kernel
//! complete every handshake and acknowledge every client's bytes while the later
//! connections wait in the listen backlog. What proves concurrency is the server
//! *answering* (sending payload on) one connection while another connection, answered
//! before, had not ended yet: a server in one client's loop cannot do that. What marks
//! a one-at-a-time server is a later client that connected and sent its request while
//! an earlier connection was open, but got its first answer only after that earlier
//! connection ended.

use crate::event::{ConversationRecord, TransportKind};

/// How the server served its TCP clients, with the frames that show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    /// The server answered `earlier` at frame `earlier_answer`, then answered `later` at
    /// frame `later_answer` while `earlier` had not ended: its first FIN or RST came at
    /// `earlier_end` (after `later_answer`), or never in the capture.
    Proven {
        earlier: u64,
        earlier_answer: u64,
        later: u64,
        later_answer: u64,
        earlier_end: Option<u64>,
    },
    /// `later` completed its handshake at `later_ack` and sent its first bytes at
    /// `later_request`, both before `earlier` ended at `earlier_end` (its first FIN or
    /// RST), but the server's first payload on `later` came only at `later_answer`,
    /// after that end: probably a server that handles one client at a time.
    Iterative {
        earlier: u64,
        earlier_end: u64,
        later: u64,
        later_ack: u64,
        later_request: u64,
        later_answer: u64,
    },
    /// Neither: `connections` accepted connections to the server; `overlapped` says
    /// whether any two were open at the same time.
    Unknown {
        connections: usize,
        overlapped: bool,
    },
}

/// The frames of one accepted TCP connection that matter here.
#[derive(Debug, Clone, Copy)]
struct Conn {
    conv: u64,
    first_frame: u64,
    last_frame: u64,
    /// The handshake's last ACK (or, without a handshake, the first frame).
    accepted: u64,
    first_request: Option<u64>,
    first_answer: Option<u64>,
    last_answer: Option<u64>,
    /// The first FIN or RST, either way.
    end: Option<u64>,
}

impl Conn {
    fn of(c: &ConversationRecord) -> Option<Conn> {
        let t = c.tcp.as_ref()?;
        let accepted = match (t.syn_frame, t.ack_frame) {
            (_, Some(ack)) => ack,
            // Seen only mid-stream: the connection was established before the capture.
            (None, None) if t.syn_ack_frame.is_none() && c.bytes_c2s + c.bytes_s2c > 0 => {
                c.first_frame
            }
            _ => return None,
        };
        let end = [t.fin_c2s_frame, t.fin_s2c_frame, t.rst_frame]
            .into_iter()
            .flatten()
            .min();
        Some(Conn {
            conv: c.conv,
            first_frame: c.first_frame,
            last_frame: c.last_frame,
            accepted,
            first_request: c.first_payload_c2s.map(|p| p.frame),
            first_answer: c.first_payload_s2c.map(|p| p.frame),
            last_answer: c.last_payload_s2c.map(|p| p.frame),
            end,
        })
    }

    fn open_at(&self, frame: u64) -> bool {
        self.accepted < frame && self.end.is_none_or(|e| frame < e)
    }
}

/// How the server of these conversations served its TCP clients; `None` with fewer
/// than two accepted TCP connections to one server. Only conversations with the same
/// server address are compared.
pub fn concurrency(convs: &[&ConversationRecord]) -> Option<Concurrency> {
    let mut by_server: Vec<(std::net::SocketAddr, Vec<Conn>)> = Vec::new();
    for c in convs.iter().filter(|c| c.transport == TransportKind::Tcp) {
        let Some(conn) = Conn::of(c) else { continue };
        match by_server.iter_mut().find(|(s, _)| *s == c.server) {
            Some((_, list)) => list.push(conn),
            None => by_server.push((c.server, vec![conn])),
        }
    }
    let mut unknown = None;
    let mut iterative = None;
    for (_, conns) in by_server.iter().filter(|(_, l)| l.len() >= 2) {
        if let Some(p) = proven(conns) {
            return Some(p);
        }
        if iterative.is_none() {
            iterative = one_at_a_time(conns);
        }
        if unknown.is_none() {
            let overlapped = conns.iter().any(|a| {
                conns.iter().any(|b| {
                    a.conv != b.conv
                        && a.first_frame < b.first_frame
                        && b.first_frame < a.last_frame
                })
            });
            unknown = Some(Concurrency::Unknown {
                connections: conns.len(),
                overlapped,
            });
        }
    }
    iterative.or(unknown)
}

/// The first (earlier, later) pair where the server answered `later` while `earlier`,
/// already answered, was still open.
fn proven(conns: &[Conn]) -> Option<Concurrency> {
    for e in conns {
        let Some(earlier_answer) = e.first_answer else {
            continue;
        };
        for l in conns.iter().filter(|l| l.conv != e.conv) {
            let answers = [l.first_answer, l.last_answer];
            let Some(later_answer) = answers
                .into_iter()
                .flatten()
                .find(|&a| earlier_answer < a && e.open_at(a))
            else {
                continue;
            };
            return Some(Concurrency::Proven {
                earlier: e.conv,
                earlier_answer,
                later: l.conv,
                later_answer,
                earlier_end: e.end,
            });
        }
    }
    None
}

/// The first (earlier, later) pair where `later` connected and asked while `earlier`
/// was open, and was answered only after `earlier` ended.
fn one_at_a_time(conns: &[Conn]) -> Option<Concurrency> {
    for e in conns {
        let Some(earlier_end) = e.end else { continue };
        for l in conns.iter().filter(|l| l.conv != e.conv) {
            let (Some(later_request), Some(later_answer)) = (l.first_request, l.first_answer)
            else {
                continue;
            };
            if e.accepted < l.accepted
                && l.accepted < earlier_end
                && later_request < earlier_end
                && earlier_end < later_answer
            {
                return Some(Concurrency::Iterative {
                    earlier: e.conv,
                    earlier_end,
                    later: l.conv,
                    later_ack: l.accepted,
                    later_request,
                    later_answer,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
