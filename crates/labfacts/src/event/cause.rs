//! A cause the packets prove, as a fact (found by [`crate::causes`]; said by the
//! `labsniff` crate's `words::causes`).

use super::{CapturePoint, Dir};
use serde::Serialize;

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
}

impl CauseKind {
    /// The stable name of the kind (JSON `code`).
    pub fn code(&self) -> &'static str {
        match self {
            CauseKind::OverMss { .. } => "over_mss",
        }
    }
}
