//! Per-segment analyses that reproduce what Wireshark shows for the same frame, so
//! that a student who checks labsniff against Wireshark finds the same verdicts.
//!
//! - [`tcp_flags`]: Wireshark's `tcp.analysis.*` flags (retransmissions, losses,
//!   duplicate ACKs, window events, keep-alives) and its initial RTT, per TCP
//!   conversation, in fixed-size state.
pub mod tcp_flags;

pub use tcp_flags::{DupAck, Flag, Flags, Retrans, SegmentAnalysis, TcpFlowAnalysis};
