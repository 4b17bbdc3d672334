//! Facts computed from packets, with no words in them (the report, JSON lines and the
//! other renderers say them).
//!
//! - [`tcp_flags`]: Wireshark's `tcp.analysis.*` flags (retransmissions, losses,
//!   duplicate ACKs, window events, keep-alives) and its initial RTT, per TCP
//!   conversation, in fixed-size state; a student who checks labsniff against
//!   Wireshark finds the same verdicts.
//! - [`conn_state`]: Zeek's endpoint state machine and history (conn.log
//!   `conn_state`, `history`).
pub mod conn_state;
pub mod tcp_flags;

pub use tcp_flags::{DupAck, Flag, Flags, Retrans, SegmentAnalysis, TcpFlowAnalysis};
