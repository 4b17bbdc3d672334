//! Zeek's TCP endpoint state machine and connection history, so that a conversation's
//! `state` is the `conn_state` Zeek's conn.log gives for the same packets.
//!
//! Follows Zeek's TCP session adapter (`UpdateInactiveState`, `UpdateSYN_SentState`,
//! `UpdateEstablishedState`, `UpdateClosedState`) and `conn_state()` in
//! `base/protocols/conn/main.zeek`; the originator is the client. Notable rules:
//! - a SYN-ACK answering a SYN establishes both ends (no need to see the ACK);
//! - SYN missed, then SYN-ACK and a pure ACK: established (S1), not partial;
//! - a RST from an endpoint that sent a FIN after its peer's FIN changes nothing (a
//!   FIN exchange already ended the connection), and a FIN after the peer's
//!   FIN-then-RST turns the peer back to closed: both give SF;
//! - RSTOS0 only when the originator's history is a SYN followed by its RST with no
//!   SYN-ACK, pure ACK or FIN of its own in between (Zeek's `^?S[^HAFGIQ]*R`).
//!
//! Pure: no I/O, no words. Fixed size (the history is at most 16 letters).

use crate::event::ZeekState;

/// An endpoint's state, Zeek's `TCP_ENDPOINT_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointState {
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

/// The TCP flags the state machine looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegmentFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

#[derive(Debug, Clone, Copy)]
struct Endpoint {
    state: EndpointState,
    prev: EndpointState,
}

impl Endpoint {
    fn set(&mut self, state: EndpointState) {
        self.prev = self.state;
        self.state = state;
    }
}

/// Zeek's history letters kept (each letter once per direction, as Zeek records them).
const HISTORY_MAX: usize = 16;

/// Both endpoints of one TCP connection, and its history.
#[derive(Debug, Clone)]
pub struct ConnState {
    ends: [Endpoint; 2],
    history: [u8; HISTORY_MAX],
    history_len: usize,
    /// Which letters each side already recorded (bit = letter - 'A').
    seen: [u32; 2],
}

impl Default for ConnState {
    fn default() -> Self {
        let inactive = Endpoint {
            state: EndpointState::Inactive,
            prev: EndpointState::Inactive,
        };
        ConnState {
            ends: [inactive; 2],
            history: [0; HISTORY_MAX],
            history_len: 0,
            seen: [0; 2],
        }
    }
}

impl ConnState {
    pub fn new() -> ConnState {
        ConnState::default()
    }

    /// The state of the client (0) or the server (1).
    pub fn state(&self, side: usize) -> EndpointState {
        self.ends[side & 1].state
    }

    /// Zeek's `history`: uppercase for the client, lowercase for the server.
    pub fn history(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.history[..self.history_len]).unwrap_or("")
    }

    /// One segment from `side` (0 client, 1 server) with `len` payload bytes.
    pub fn segment(&mut self, side: usize, flags: SegmentFlags, len: usize) {
        let side = side & 1;
        self.record_history(side, flags, len);
        let (me, peer) = (side, 1 - side);
        let is_orig = side == 0;
        use EndpointState::*;
        match self.ends[me].state {
            Inactive => self.inactive(me, peer, is_orig, flags, len),
            SynSent | SynAckSent => {
                if flags.fin {
                    self.ends[me].set(Closed);
                }
                if flags.rst {
                    self.ends[me].set(Reset);
                }
            }
            Established | Partial => {
                if flags.syn
                    && self.ends[me].state == Partial
                    && self.ends[peer].state == Inactive
                    && !flags.ack
                {
                    self.ends[me].set(SynSent);
                }
                if flags.fin && !flags.rst {
                    self.ends[me].set(Closed);
                    // The peer sent a FIN and then a RST: that was a normal end.
                    if self.ends[peer].state == Reset && self.ends[peer].prev == Closed {
                        self.ends[peer].set(Closed);
                    }
                }
                if flags.rst {
                    self.ends[me].set(Reset);
                }
            }
            Closed => {
                // After a FIN exchange a RST changes nothing.
                if flags.rst && self.ends[peer].state != Closed {
                    self.ends[me].set(Reset);
                }
            }
            Reset => {}
        }
    }

    fn inactive(&mut self, me: usize, peer: usize, is_orig: bool, flags: SegmentFlags, len: usize) {
        use EndpointState::*;
        if flags.syn {
            if is_orig {
                self.ends[me].set(if flags.ack { SynAckSent } else { SynSent });
            } else {
                if self.ends[peer].state == SynSent {
                    self.ends[peer].set(Established);
                }
                self.ends[me].set(Established);
            }
        }
        if flags.fin {
            self.ends[me].set(Closed);
        }
        if flags.rst {
            self.ends[me].set(Reset);
        }
        if self.ends[me].state == Inactive {
            if !is_orig && len == 0 && self.ends[0].state == SynSent {
                // Some stacks ACK a SYN before answering it: not a partial connection.
            } else if flags.ack && self.ends[peer].state == Established {
                // SYN missed, SYN-ACK seen, now a pure ACK: established.
                self.ends[me].set(Established);
            } else {
                self.ends[me].set(Partial);
            }
        }
    }

    fn record_history(&mut self, side: usize, flags: SegmentFlags, len: usize) {
        let bits = u8::from(flags.syn) + u8::from(flags.fin) + u8::from(flags.rst);
        let letter = if bits > 1 {
            if flags.fin && flags.rst {
                b'I'
            } else {
                b'Q'
            }
        } else if flags.syn {
            if flags.ack {
                b'H'
            } else {
                b'S'
            }
        } else if flags.fin {
            b'F'
        } else if flags.rst {
            b'R'
        } else if len > 0 {
            b'D'
        } else if flags.ack {
            b'A'
        } else {
            return;
        };
        self.add_letter(side, letter);
        // A FIN or RST that carries data records the data too, as Zeek does.
        if len > 0 && letter != b'D' && !flags.syn {
            self.add_letter(side, b'D');
        }
    }

    fn add_letter(&mut self, side: usize, letter: u8) {
        let bit = 1u32 << (letter - b'A');
        if self.seen[side] & bit != 0 || self.history_len == HISTORY_MAX {
            return;
        }
        self.seen[side] |= bit;
        self.history[self.history_len] = if side == 0 {
            letter
        } else {
            letter.to_ascii_lowercase()
        };
        self.history_len += 1;
    }

    /// Zeek's `conn_state`. `no_payload`: neither side sent payload bytes (REJ when
    /// both ends reset).
    pub fn conn_state(&self, no_payload: bool) -> ZeekState {
        use EndpointState::*;
        let (os, rs) = (self.ends[0].state, self.ends[1].state);
        let o_inactive = matches!(os, Inactive | Partial);
        let r_inactive = matches!(rs, Inactive | Partial);
        if rs == Reset {
            if matches!(os, SynSent | SynAckSent) || (os == Reset && no_payload) {
                ZeekState::Rej
            } else if o_inactive {
                ZeekState::Rstrh
            } else {
                ZeekState::Rstr
            }
        } else if os == Reset {
            if r_inactive {
                if self.syn_then_reset() {
                    ZeekState::Rstos0
                } else {
                    ZeekState::Oth
                }
            } else {
                ZeekState::Rsto
            }
        } else if rs == Closed && os == Closed {
            ZeekState::Sf
        } else if os == Closed {
            if r_inactive {
                ZeekState::Sh
            } else {
                ZeekState::S2
            }
        } else if rs == Closed {
            if o_inactive {
                ZeekState::Shr
            } else {
                ZeekState::S3
            }
        } else if os == SynSent && rs == Inactive {
            ZeekState::S0
        } else if os == Established && rs == Established {
            ZeekState::S1
        } else {
            ZeekState::Oth
        }
    }

    /// The history matches `^?S[^HAFGIQ]*R`: the client's SYN first, then its RST, with
    /// none of H, A, F, G, I, Q from the client in between.
    fn syn_then_reset(&self) -> bool {
        let h = self.history().as_bytes();
        let h = h.strip_prefix(b"^").unwrap_or(h);
        let Some(rest) = h.strip_prefix(b"S") else {
            return false;
        };
        for &c in rest {
            match c {
                b'R' => return true,
                b'H' | b'A' | b'F' | b'G' | b'I' | b'Q' => return false,
                _ => {}
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYN: SegmentFlags = SegmentFlags {
        syn: true,
        ack: false,
        fin: false,
        rst: false,
    };
    const SYN_ACK: SegmentFlags = SegmentFlags {
        syn: true,
        ack: true,
        fin: false,
        rst: false,
    };
    const ACK: SegmentFlags = SegmentFlags {
        syn: false,
        ack: true,
        fin: false,
        rst: false,
    };
    const FIN: SegmentFlags = SegmentFlags {
        syn: false,
        ack: true,
        fin: true,
        rst: false,
    };
    const RST: SegmentFlags = SegmentFlags {
        syn: false,
        ack: false,
        fin: false,
        rst: true,
    };
    const RST_ACK: SegmentFlags = SegmentFlags {
        syn: false,
        ack: true,
        fin: false,
        rst: true,
    };

    /// (side, flags, len) in capture order → (conn_state, history).
    fn run(segments: &[(usize, SegmentFlags, usize)]) -> (&'static str, String) {
        let mut c = ConnState::new();
        let mut payload = false;
        for &(side, flags, len) in segments {
            payload |= len > 0;
            c.segment(side, flags, len);
        }
        (c.conn_state(!payload).code(), c.history().to_string())
    }

    #[test]
    fn normal_connection_is_sf() {
        let got = run(&[
            (0, SYN, 0),
            (1, SYN_ACK, 0),
            (0, ACK, 0),
            (0, ACK, 5),
            (1, ACK, 5),
            (0, FIN, 0),
            (1, FIN, 0),
            (0, ACK, 0),
        ]);
        assert_eq!(got, ("SF", "ShADdFf".to_string()));
    }

    #[test]
    fn fin_then_rst_is_still_sf() {
        // Both FINs, then a RST from the client (e.g. close() with unread data).
        let got = run(&[
            (0, SYN, 0),
            (1, SYN_ACK, 0),
            (0, ACK, 0),
            (0, FIN, 0),
            (1, FIN, 0),
            (0, RST, 0),
        ]);
        assert_eq!(got.0, "SF");
        // The client's FIN, then its RST, then the server's FIN: also normal.
        let got = run(&[
            (0, SYN, 0),
            (1, SYN_ACK, 0),
            (0, ACK, 0),
            (0, ACK, 3),
            (0, FIN, 0),
            (0, RST, 0),
            (1, FIN, 0),
        ]);
        assert_eq!(got.0, "SF");
    }

    #[test]
    fn syn_missed_then_syn_ack_and_ack_is_established() {
        let got = run(&[(1, SYN_ACK, 0), (0, ACK, 0), (0, ACK, 4), (1, ACK, 4)]);
        assert_eq!(got, ("S1", "hADd".to_string()));
    }

    #[test]
    fn rstos0_only_without_ack_or_fin_between() {
        assert_eq!(run(&[(0, SYN, 0), (0, RST, 0)]).0, "RSTOS0");
        assert_eq!(
            run(&[(0, SYN, 0), (0, ACK, 0), (0, FIN, 0), (0, RST, 0)]).0,
            "OTH"
        );
    }

    #[test]
    fn refused_unanswered_and_half_open() {
        assert_eq!(run(&[(0, SYN, 0), (1, RST_ACK, 0)]).0, "REJ");
        assert_eq!(run(&[(0, SYN, 0), (0, SYN, 0)]).0, "S0");
        assert_eq!(run(&[(0, SYN, 0), (1, SYN_ACK, 0)]).0, "S1");
        assert_eq!(run(&[(0, SYN, 0), (0, FIN, 0)]).0, "SH");
        assert_eq!(run(&[(1, SYN_ACK, 0), (1, FIN, 0)]).0, "SHR");
        assert_eq!(run(&[(1, SYN_ACK, 0), (1, RST, 0)]).0, "RSTRH");
    }

    #[test]
    fn resets_and_half_closes_after_establishment() {
        let open = [(0, SYN, 0), (1, SYN_ACK, 0), (0, ACK, 0)];
        let with = |more: &[(usize, SegmentFlags, usize)]| {
            let mut all = open.to_vec();
            all.extend_from_slice(more);
            run(&all).0
        };
        assert_eq!(with(&[(0, RST, 0)]), "RSTO");
        assert_eq!(with(&[(1, RST, 0)]), "RSTR");
        assert_eq!(with(&[(0, FIN, 0)]), "S2");
        assert_eq!(with(&[(1, FIN, 0)]), "S3");
        // A RST after only the peer's FIN still counts.
        assert_eq!(with(&[(1, FIN, 0), (0, RST, 0)]), "RSTO");
    }

    #[test]
    fn midstream_is_oth_and_history_is_bounded() {
        assert_eq!(run(&[(0, ACK, 10), (1, ACK, 0)]).0, "OTH");
        let mut c = ConnState::new();
        for i in 0..1000 {
            c.segment(i % 2, ACK, i % 3);
        }
        assert!(c.history().len() <= HISTORY_MAX);
    }
}
