//! How one TCP conversation ended, as far as its packets show, and what a Python
//! program on each side saw of it.

use crate::event::{ConversationRecord, Dir};

/// The client sent FIN, and the server's payload still came after it: the client shut
/// down only its sending side (a capture cannot see the call, so it is an inference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HalfClose {
    /// The client's FIN.
    pub fin: u64,
    /// The last server frame with payload, after the FIN.
    pub payload_after: u64,
}

/// What a RST did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetKind {
    /// The server's RST answered the SYN: nothing listened on the port.
    Refused,
    /// A RST on an established (or half-seen) connection: an abort.
    Abort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reset {
    /// Direction of the RST (its sender).
    pub by: Dir,
    pub frame: u64,
    pub kind: ResetKind,
}

/// The failure a Python program met on this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The client's connect() raised ConnectionRefusedError.
    Refused,
    /// The side that received the RST (the other one than `by`) raised
    /// ConnectionResetError on recv(), or ConnectionResetError / BrokenPipeError on send().
    Reset { by: Dir },
    /// No answer to the SYN: connect() blocks, and raises TimeoutError once the
    /// kernel's SYN retries run out.
    Unanswered,
}

/// How a TCP conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Teardown {
    /// The side that sent the first FIN (its direction) and the frame.
    pub first_fin: Option<(Dir, u64)>,
    pub half_close: Option<HalfClose>,
    /// Both FINs were seen: the side that closed first holds its end of the 4-tuple in
    /// TIME_WAIT afterwards.
    pub time_wait: Option<Dir>,
    pub reset: Option<Reset>,
    pub failure: Option<Failure>,
}

/// The teardown facts of `c` (all `None` for UDP).
pub fn teardown(c: &ConversationRecord) -> Teardown {
    let Some(t) = &c.tcp else {
        return Teardown::default();
    };
    let fins = [
        (Dir::ClientToServer, t.fin_c2s_frame),
        (Dir::ServerToClient, t.fin_s2c_frame),
    ];
    let first_fin = fins
        .iter()
        .filter_map(|&(d, f)| f.map(|f| (d, f)))
        .min_by_key(|&(_, f)| f);
    let half_close = match (first_fin, c.last_payload_s2c) {
        (Some((Dir::ClientToServer, fin)), Some(last)) if last.frame > fin => Some(HalfClose {
            fin,
            payload_after: last.frame,
        }),
        _ => None,
    };
    let both = t.fin_c2s_frame.is_some() && t.fin_s2c_frame.is_some();
    let time_wait = first_fin
        .filter(|_| both && t.rst_frame.is_none())
        .map(|(d, _)| d);
    let reset = match (t.rst_frame, t.rst_by) {
        (Some(frame), Some(by)) => {
            let by = if by == "client" {
                Dir::ClientToServer
            } else {
                Dir::ServerToClient
            };
            let kind = if by == Dir::ServerToClient && t.syn_ack_frame.is_none() {
                ResetKind::Refused
            } else {
                ResetKind::Abort
            };
            Some(Reset { by, frame, kind })
        }
        _ => None,
    };
    let failure = match reset {
        Some(Reset {
            kind: ResetKind::Refused,
            ..
        }) => Some(Failure::Refused),
        Some(Reset { by, .. }) if t.syn_ack_frame.is_some() || t.syn_frame.is_none() => {
            Some(Failure::Reset { by })
        }
        Some(_) => None,
        None if c.state == "S0" => Some(Failure::Unanswered),
        None => None,
    };
    Teardown {
        first_fin,
        half_close,
        time_wait,
        reset,
        failure,
    }
}
