//! The handshake's resent SYNs, as far as the packets show: which retry schedule the
//! client's kernel followed, and whether a SYN-ACK was lost on its way to the client.
//! Plain facts; `labsniff` words them.

use crate::event::{CapturePoint, TcpDetails};

/// The schedule of the waits between a client's SYNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynSchedule {
    /// About 1 s each for the first 4 retries: Linux 6.5 and later
    /// (net.ipv4.tcp_syn_linear_timeouts = 4), then doubling.
    LinearStart,
    /// Each wait twice the one before, from 1 s: kernels before Linux 6.5 and many
    /// other systems.
    Doubling,
    /// Neither.
    Other,
}

/// The waits between the SYNs of `t` (seconds), in order.
pub fn syn_waits(t: &TcpDetails) -> Vec<f64> {
    t.syn_attempts
        .windows(2)
        .map(|w| w[1].ts - w[0].ts)
        .collect()
}

/// Which [`SynSchedule`] the `waits` follow (each within a quarter of its expected
/// length).
pub fn syn_schedule(waits: &[f64]) -> SynSchedule {
    let about = |x: f64, want: f64| (x - want).abs() < 0.25 * want;
    if waits.iter().take(4).all(|&w| about(w, 1.0)) {
        SynSchedule::LinearStart
    } else if waits
        .iter()
        .enumerate()
        .all(|(i, &w)| about(w, f64::from(1u32 << i.min(20))))
    {
        SynSchedule::Doubling
    } else {
        SynSchedule::Other
    }
}

/// The SYN-ACK frame the capture shows before a later SYN, away from the client: the
/// server answered and that answer did not reach the client (at the client such a
/// SYN-ACK would have arrived, so the rule does not apply there).
pub fn syn_ack_lost(t: &TcpDetails) -> Option<u64> {
    t.syn_ack_frame.filter(|&f| {
        t.capture_point != CapturePoint::Client
            && t.syn_attempts.last().is_some_and(|s| s.frame > f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_of_linux_and_of_older_kernels() {
        assert_eq!(
            syn_schedule(&[1.0, 1.02, 0.98, 1.0, 2.0]),
            SynSchedule::LinearStart
        );
        assert_eq!(syn_schedule(&[1.0, 2.1, 3.9, 8.0]), SynSchedule::Doubling);
        assert_eq!(syn_schedule(&[3.0, 6.0]), SynSchedule::Other);
        // One wait of 1 s fits both: Linux's linear start is said.
        assert_eq!(syn_schedule(&[1.0]), SynSchedule::LinearStart);
    }
}
