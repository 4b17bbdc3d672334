//! How one TCP conversation ended, as far as its packets show, and what a Python
//! program on each side saw of it.

use crate::event::{ConversationRecord, Dir, Side, ZeekState};

/// The client sent FIN, the server's payload still came after it, and the client did not
/// reset: the client shut down only its sending side (a capture cannot see the call, so
/// it is an inference).
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
    // After close() (not shutdown()), data arriving for the socket draws a RST from the
    // client's kernel: no half-close then.
    let client_reset = t.rst_by == Some(Side::Client);
    let half_close = match (first_fin, c.last_payload_s2c) {
        (Some((Dir::ClientToServer, fin)), Some(last)) if last.frame > fin && !client_reset => {
            Some(HalfClose {
                fin,
                payload_after: last.frame,
            })
        }
        _ => None,
    };
    let both = t.fin_c2s_frame.is_some() && t.fin_s2c_frame.is_some();
    let time_wait = first_fin
        .filter(|_| both && t.rst_frame.is_none())
        .map(|(d, _)| d);
    let reset = match (t.rst_frame, t.rst_by) {
        (Some(frame), Some(by)) => {
            let by = by.sends();
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
        None if c.state == ZeekState::S0 => Some(Failure::Unanswered),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FrameAt, TcpDetails, TransportKind};

    fn record(
        t: TcpDetails,
        last_server_payload: Option<u64>,
        state: ZeekState,
    ) -> ConversationRecord {
        ConversationRecord {
            conv: 1,
            transport: TransportKind::Tcp,
            client: std::net::SocketAddr::from(([10, 0, 0, 2], 40000)),
            server: std::net::SocketAddr::from(([10, 0, 0, 1], 5005)),
            proto: None,
            state,
            bytes_c2s: 0,
            bytes_s2c: 0,
            messages_c2s: 0,
            messages_s2c: 0,
            gaps: Vec::new(),
            first_frame: 1,
            last_frame: 10,
            start_ts: 0.0,
            end_ts: 0.0,
            frames_c2s: 0,
            frames_s2c: 0,
            retransmissions: 0,
            out_of_order: 0,
            tcp: Some(t),
            tcp_stream: Some(0),
            first_payload_c2s: None,
            last_payload_c2s: None,
            first_payload_s2c: None,
            last_payload_s2c: last_server_payload.map(|frame| FrameAt { frame, ts: 0.0 }),
        }
    }

    fn established() -> TcpDetails {
        TcpDetails {
            syn_frame: Some(1),
            syn_ack_frame: Some(2),
            ack_frame: Some(3),
            ..TcpDetails::default()
        }
    }

    #[test]
    fn server_payload_after_the_client_fin_is_a_half_close() {
        let t = TcpDetails {
            fin_c2s_frame: Some(5),
            fin_s2c_frame: Some(8),
            ..established()
        };
        let f = teardown(&record(t.clone(), Some(7), ZeekState::Sf));
        assert_eq!(
            f.half_close,
            Some(HalfClose {
                fin: 5,
                payload_after: 7
            })
        );
        assert_eq!(f.time_wait, Some(Dir::ClientToServer));
        // Payload before the FIN only: an ordinary close.
        assert_eq!(
            teardown(&record(t, Some(4), ZeekState::Sf)).half_close,
            None
        );
    }

    #[test]
    fn a_client_reset_after_its_fin_is_no_half_close() {
        let t = TcpDetails {
            fin_c2s_frame: Some(5),
            rst_frame: Some(8),
            rst_by: Some(Side::Client),
            ..established()
        };
        let f = teardown(&record(t, Some(7), ZeekState::Rsto));
        assert_eq!(f.half_close, None);
        assert_eq!(f.time_wait, None);
        assert_eq!(
            f.failure,
            Some(Failure::Reset {
                by: Dir::ClientToServer
            })
        );
    }

    #[test]
    fn the_server_closing_first_holds_time_wait() {
        let t = TcpDetails {
            fin_s2c_frame: Some(5),
            fin_c2s_frame: Some(7),
            ..established()
        };
        assert_eq!(
            teardown(&record(t, Some(4), ZeekState::Sf)).time_wait,
            Some(Dir::ServerToClient)
        );
    }

    #[test]
    fn refusals_and_silence() {
        let refused = TcpDetails {
            syn_frame: Some(1),
            rst_frame: Some(2),
            rst_by: Some(Side::Server),
            ..TcpDetails::default()
        };
        let f = teardown(&record(refused, None, ZeekState::Rej));
        assert_eq!(f.reset.map(|r| r.kind), Some(ResetKind::Refused));
        assert_eq!(f.failure, Some(Failure::Refused));
        let silent = TcpDetails {
            syn_frame: Some(1),
            ..TcpDetails::default()
        };
        assert_eq!(
            teardown(&record(silent, None, ZeekState::S0)).failure,
            Some(Failure::Unanswered)
        );
    }
}
