//! Round trips of one direction of a TCP conversation (computed by
//! [`crate::analysis::round_trips`]): the facts of the classic TCP-lab questions.

use serde::Serialize;

/// One data direction: RTT samples of its data (the ACKs come the other way), RFC
/// 6298's estimate, the receiver's window and ACKs. Times in seconds.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RoundTrips {
    /// Wireshark's `tcp.analysis.ack_rtt` values used (ACKs of this direction's data),
    /// and those left out by Karn's rule (the data was retransmitted, or sent before
    /// a retransmission the ACK may answer).
    pub rtt_samples: u64,
    pub rtt_skipped: u64,
    pub rtt_min: Option<f64>,
    pub rtt_max: Option<f64>,
    /// RFC 6298 over the samples in order: SRTT ("EstimatedRTT", α = 1/8) and RTTVAR
    /// ("DevRTT", β = 1/4), first sample R giving SRTT = R, RTTVAR = R/2.
    pub estimated_rtt: Option<f64>,
    pub dev_rtt: Option<f64>,
    /// EstimatedRTT + 4·DevRTT; and Linux's, about EstimatedRTT + max(4·DevRTT,
    /// 200 ms) (it keeps at least TCP_RTO_MIN in place of the variation term).
    pub rto: Option<f64>,
    pub rto_linux: Option<f64>,
    /// Payload bytes of this direction over the time from its first to its last
    /// payload segment, bytes per second (null with less than two distinct times).
    pub throughput: Option<f64>,
    /// The receiver's smallest advertised window, bytes (scaled when both SYNs had the
    /// window scale option; SYNs and RSTs left out), and the frame advertising it.
    pub min_window: Option<u32>,
    pub min_window_frame: Option<u64>,
    /// The sender's segments that filled the receiver's window (Wireshark's
    /// `window_full`): the window limited the sender there.
    pub window_full: u32,
    /// The receiver's ACKs that moved its acknowledgement number forward, and the
    /// sequence space they acknowledged in all (data bytes, and one for a FIN).
    pub acks: u64,
    pub bytes_acked: u64,
    /// Payload bytes of a full segment: the receiver's MSS, less the timestamps
    /// option's 12 bytes when both SYNs carried it (null without the MSS).
    pub full_segment: Option<u32>,
}
