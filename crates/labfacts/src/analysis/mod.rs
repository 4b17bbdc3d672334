//! Facts computed from packets and conversation records, in plain types with no words
//! in them: the report, JSON lines and the other renderers say them, and never derive
//! them again.
//!
//! - [`tcp_flags`]: Wireshark's `tcp.analysis.*` flags (retransmissions, losses,
//!   duplicate ACKs, window events, keep-alives) and its initial RTT, per TCP
//!   conversation, in fixed-size state; a student who checks labsniff against
//!   Wireshark finds the same verdicts.
//! - [`conn_state`]: Zeek's endpoint state machine and history (conn.log
//!   `conn_state`, `history`).
//! - [`handshake`]: the client's resent SYNs (which retry schedule, a SYN-ACK lost on
//!   its way to the client).
//! - [`capture`]: facts that need several conversations (how the server served its
//!   clients: concurrently, one at a time, or cannot tell).
//! - [`recovery`]: one direction's loss and recovery (losses after capture drops,
//!   retransmissions by timer or by ACKs, the capture point's side).
//! - [`teardown`]: how one TCP conversation ended (half-close, who closed first and so
//!   holds TIME_WAIT, resets and refusals) and the Python exception each failure raised.
pub mod capture;
pub mod conn_state;
pub mod handshake;
pub mod recovery;
pub mod round_trips;
pub mod tcp_flags;
pub mod teardown;

pub use tcp_flags::{
    DupAck, Flag, Flags, KeepAliveKind, Retrans, SegmentAnalysis, TcpFlowAnalysis,
};
