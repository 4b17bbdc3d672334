//! A cause the packets prove, as a fact (found by [`crate::causes`]; said by the
//! `labsniff` crate's `words::causes`).

use super::{CapturePoint, Dir, TransportKind};
pub use crate::packet::icmp::IcmpKind;
use serde::Serialize;
use std::net::IpAddr;

/// How far the packets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    /// The frames show it directly.
    Proved,
    /// The frames fit it and nothing else seen here; the renderer says "probably" and
    /// why (the reason belongs to the kind).
    Probable,
}

/// One cause, in one conversation (or about the capture, `conv` = None).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    pub conv: Option<u64>,
    /// Wireshark's `tcp.stream` of the conversation.
    pub tcp_stream: Option<u64>,
    /// The direction of the segments it explains.
    pub dir: Option<Dir>,
    /// Frames that show it, in frame order (at most [`FRAMES_KEPT`]; the kind counts
    /// them all).
    pub frames: Vec<u64>,
    pub certainty: Certainty,
    #[serde(flatten)]
    pub kind: CauseKind,
}

/// Evidence frames kept per cause.
pub const FRAMES_KEPT: usize = 16;

/// What the packets show. JSON: `code` names the variant, its fields follow.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum CauseKind {
    /// Segments larger than the MSS the receiver announced: they cannot have crossed
    /// the network as captured. At the sender: segmentation offload (TSO/GSO) cut them
    /// after the capture point; at the receiver: receive offload (GRO/LRO) merged them
    /// before it.
    OverMss {
        /// The MSS the receiver announced in its SYN or SYN-ACK.
        mss: u16,
        /// Payload bytes per segment on the wire: the MSS less the timestamps option
        /// (12 bytes) when both sides use it.
        on_the_wire: u16,
        /// Segments over the MSS, and the largest.
        segments: u64,
        largest: u32,
        /// Where the capture was made, as the handshake showed.
        capture_point: CapturePoint,
    },
    /// The receiver advertised a zero window: the sender of `dir` had to stop (TCP
    /// flow control). Probable as to who was slow: a zero window says the receive
    /// buffer was full, the usual reason being the receiving program not calling
    /// recv() as fast as data came.
    ZeroWindow {
        /// Times the window went to 0 (stalls), and frames advertising 0.
        stalls: u32,
        zero_windows: u64,
        /// The zero window that began the first stall, and the frame that ended it
        /// (the first segment of the receiver with an open window: its window update).
        zero_frame: u64,
        update_frame: Option<u64>,
        /// Wireshark flags that frame `window_update` (a pure window update; else the
        /// window reopened with data or a new ACK).
        window_update: bool,
        /// The first stall's length, seconds (null when it never ended).
        stall: Option<f64>,
        /// Stalls that ended, and their total length in seconds.
        ended: u32,
        stalled: f64,
        /// The sender's persist probes during the stalls (Wireshark: `keep_alive`, or
        /// `zero_window_probe` for a probe carrying one new byte).
        probes: u64,
        /// The sender's segments that filled the window (Wireshark: `window_full`).
        window_full: u64,
    },
    /// A small segment held until the previous small segment was acknowledged (Nagle's
    /// algorithm), the ACK being a pure ACK: probable (the capture cannot see send()
    /// calls; the timing fits nothing else seen).
    NagleDelayedAck {
        /// Segments held so.
        holds: u64,
        /// The longest hold (the first of equals): the small segment, the pure ACK of
        /// it, the held segment.
        small_frame: u64,
        ack_frame: u64,
        held_frame: u64,
        /// Seconds from that small segment to the held one, and to the ACK, as captured.
        hold: f64,
        ack_wait: f64,
        /// The longest the receiver kept such an ACK back, seconds (its delayed-ACK
        /// timer): measured at the receiver, or at the sender as the wait less the
        /// initial RTT; null when neither is known.
        ack_delay: Option<f64>,
        capture_point: CapturePoint,
        /// Evidence frames in all (small segment, ACK, held segment of every hold;
        /// `frames` keeps the first).
        evidence_frames: u64,
    },
    /// ICMP (or ICMPv6) errors answering packets of this conversation (`frames`: the
    /// ICMP frames; `dir`: the direction of the packets they answer).
    IcmpError {
        /// What the errors say (JSON: `port_unreachable`, `host_unreachable`, ...).
        icmp: IcmpKind,
        icmp_type: u8,
        icmp_code: u8,
        /// Who sent them, and whether that is the answered packets' destination host
        /// (else a router on the way).
        reporter: IpAddr,
        from_destination: bool,
        /// Per error, the frame it answers: the last frame of the conversation, in
        /// `dir`, before it, with the quoted ports (and TCP sequence number); `None` when
        /// no such frame was captured.
        answered: Vec<Option<u64>>,
        /// Errors in all (`frames` keeps the first [`FRAMES_KEPT`]).
        errors: u64,
        /// Fragmentation needed / packet too big: the MTU it names.
        mtu: Option<u32>,
        transport: TransportKind,
        /// The port the answered packets were sent from (the quoted source port): a
        /// display filter finds this conversation's errors by it.
        sender_port: u16,
        /// TCP: the server answered nothing of the conversation (no SYN-ACK captured).
        server_silent: bool,
    },
    /// What drew the RST that ended the conversation (`dir`: the RST's sender's
    /// direction; `frames`: the trigger, if any, then the RST).
    RstCause {
        reason: RstReason,
        rst: u64,
        /// The other side's segment the RST answers (`None`: it answers none).
        trigger: Option<u64>,
        /// `data_after_close`: the RST sender's FIN, before the trigger.
        fin: Option<u64>,
        /// `unread_data`: the last frame of the other side's data the RST sender never
        /// answered (its own last data came before it).
        unread: Option<u64>,
    },
    /// The client's SYNs were sent more than once before one was answered (`frames`:
    /// the SYNs, then the SYN-ACK if any; `dir`: client to server).
    SynResent {
        syns: u64,
        syn_ack: Option<u64>,
        /// Seconds from the first SYN captured to the SYN-ACK.
        waited: Option<f64>,
        /// Where the capture was made: at the server, the SYNs were seen arriving and left
        /// unanswered; at the client, they may have been lost on the way.
        capture_point: CapturePoint,
    },
    /// The handshake completed on the client's side, but the client's first data was
    /// sent again and again with nothing from the server until it was acknowledged:
    /// the server's kernel dropped the handshake's ACK and the data (`frames`: the
    /// SYN-ACK, the handshake's ACK, each copy of the first data, the ACK that ends it).
    FirstDataUnacked {
        syn_ack: u64,
        handshake_ack: u64,
        copies: u64,
        acked_by: Option<u64>,
        /// Seconds from the first copy to the ACK (or to the last copy).
        waited: f64,
        capture_point: CapturePoint,
    },
}

/// Why an RST was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RstReason {
    /// It answers the SYN: no socket listened on the port (closed port).
    NoSocket,
    /// It answers data that arrived after its sender had closed its socket (its FIN
    /// came first): the process exited or called close() while the peer still sent.
    DataAfterClose,
    /// No segment drew it; its sender had received data it never answered: close()
    /// with unread data in the receive buffer (probable).
    UnreadData,
    /// No segment drew it and nothing was left unread: an abort (SO_LINGER with a zero
    /// timeout, then close(); probable).
    Abort,
}

impl CauseKind {
    /// The stable name of the kind (JSON `code`).
    pub fn code(&self) -> &'static str {
        match self {
            CauseKind::OverMss { .. } => "over_mss",
            CauseKind::IcmpError { .. } => "icmp_error",
            CauseKind::RstCause { .. } => "rst_cause",
            CauseKind::SynResent { .. } => "syn_resent",
            CauseKind::FirstDataUnacked { .. } => "first_data_unacked",
            CauseKind::ZeroWindow { .. } => "zero_window",
            CauseKind::NagleDelayedAck { .. } => "nagle_delayed_ack",
        }
    }
}
