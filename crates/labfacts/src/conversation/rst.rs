//! Whether the receiving TCP accepts a RST (RFC 9293 3.10.7.3, RFC 5961 3.2): in
//! SYN-SENT a RST counts only if it acknowledges the SYN; afterwards its sequence
//! number must fall in the receiver's window, from the next byte expected of the RST's
//! sender. [`refusal`] is the rule, a pure function of what the capture showed
//! ([`RstView`]); [`Conversation::rst_refused`] is the step of the segment path that
//! leaves a refused RST out of the conversation (counted, and a diagnostic).

use super::Conversation;
use crate::event::{Diagnostic, DiagnosticKind, Dir, Event, RstRefused, Severity};
use crate::packet::{Packet, TcpSegment};
use crate::queue::Out;

/// What a RST is checked against: the conversation as the capture showed it so far.
/// Per side arrays are indexed by [`Dir::index`] of the side's sending direction (0:
/// the client, 1: the server).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RstView {
    /// The client's ISN, when its SYN was captured.
    pub client_isn: Option<u32>,
    /// The server's SYN-ACK was captured: the client is past SYN-SENT.
    pub syn_ack_seen: bool,
    /// Per side: one past the highest sequence number it used (SYN and FIN count).
    pub snd_max: [Option<u32>; 2],
    /// Per side: the last window it advertised (the header field, unscaled).
    pub window: [Option<u16>; 2],
    /// Per side: the window scale its SYN offered (`None`: no SYN captured, or no
    /// option). Windows are scaled only when both sides offered one.
    pub window_scale: [Option<u8>; 2],
}

/// Why a RST sent by `dir` with sequence number `seq` and, when it carries ACK,
/// acknowledgement number `ack` would not be accepted by the receiving TCP, or `None`
/// when it would be (or when the capture did not show enough to tell).
pub(super) fn refusal(view: &RstView, dir: Dir, seq: u32, ack: Option<u32>) -> Option<RstRefused> {
    let (i, peer) = (dir.index(), 1 - dir.index());
    if dir == Dir::ServerToClient && !view.syn_ack_seen {
        let isn = view.client_isn?;
        let wanted = isn.wrapping_add(1);
        return match ack {
            None => Some(RstRefused::SynSentNoAck { wanted }),
            Some(ack) if ack != wanted => Some(RstRefused::SynSentWrongAck { ack, isn, wanted }),
            Some(_) => None,
        };
    }
    let expected = view.snd_max[i]?;
    let scaled = match view.window_scale {
        [Some(client), Some(server)] => {
            let shift = if peer == 0 { client } else { server };
            u32::from(shift.min(14))
        }
        _ => 0,
    };
    let window = view.window[peer].map_or(u32::from(u16::MAX), |w| u32::from(w) << scaled);
    let offset = seq.wrapping_sub(expected) as i32;
    // One below is accepted too: a RST after a FIN may reuse the FIN's number.
    if offset >= -1 && i64::from(offset) <= i64::from(window.max(1)) {
        None
    } else {
        Some(RstRefused::OutsideWindow {
            seq,
            expected,
            window,
        })
    }
}

impl Conversation {
    /// A RST from `dir` that the receiving TCP would refuse is left out of the
    /// conversation: counted and reported (true); false when it is accepted.
    pub(super) fn rst_refused(
        &mut self,
        dir: Dir,
        pkt: &Packet<'_>,
        seg: &TcpSegment<'_>,
        out: &mut Out<'_>,
    ) -> bool {
        let ack = seg.flags.ack.then_some(seg.ack);
        let Some(why) = refusal(&self.rst_view(), dir, seg.seq, ack) else {
            return false;
        };
        self.cold.details.rsts_ignored += 1;
        out.push(Event::Diagnostic(Diagnostic {
            severity: Severity::Warning,
            frame: Some(pkt.frame),
            conv: Some(self.id),
            kind: DiagnosticKind::RstIgnored { dir, why },
        }));
        true
    }

    /// What the capture showed of this conversation, as the RST rule reads it.
    fn rst_view(&self) -> RstView {
        let details = &self.cold.details;
        RstView {
            client_isn: details.client_isn,
            syn_ack_seen: details.syn_ack_frame.is_some(),
            snd_max: self.snd_max,
            window: self.window,
            window_scale: [
                details.client_options.and_then(|o| o.window_scale),
                details.server_options.and_then(|o| o.window_scale),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C2S: Dir = Dir::ClientToServer;
    const S2C: Dir = Dir::ServerToClient;

    /// The client's SYN (ISN 1000) captured, no SYN-ACK yet: the client is in SYN-SENT.
    fn syn_sent() -> RstView {
        RstView {
            client_isn: Some(1000),
            snd_max: [Some(1001), None],
            window: [Some(64240), None],
            window_scale: [Some(7), None],
            ..RstView::default()
        }
    }

    /// A synchronized conversation: the client's next byte is 5000, the server's 9000;
    /// windows 1000 (client) and 2000 (server), unscaled.
    fn established() -> RstView {
        RstView {
            client_isn: Some(1000),
            syn_ack_seen: true,
            snd_max: [Some(5000), Some(9000)],
            window: [Some(1000), Some(2000)],
            window_scale: [None, None],
        }
    }

    fn outside(seq: u32, expected: u32, window: u32) -> Option<RstRefused> {
        Some(RstRefused::OutsideWindow {
            seq,
            expected,
            window,
        })
    }

    #[test]
    fn in_syn_sent_a_rst_must_acknowledge_the_syn() {
        let view = syn_sent();
        assert_eq!(refusal(&view, S2C, 0, Some(1001)), None);
        assert_eq!(
            refusal(&view, S2C, 0, None),
            Some(RstRefused::SynSentNoAck { wanted: 1001 })
        );
        assert_eq!(
            refusal(&view, S2C, 0, Some(1078)),
            Some(RstRefused::SynSentWrongAck {
                ack: 1078,
                isn: 1000,
                wanted: 1001
            })
        );
        // The sequence number does not matter there.
        assert_eq!(refusal(&view, S2C, 123_456_789, Some(1001)), None);
    }

    #[test]
    fn in_syn_sent_the_ack_wraps_around() {
        let view = RstView {
            client_isn: Some(u32::MAX),
            ..syn_sent()
        };
        assert_eq!(refusal(&view, S2C, 7, Some(0)), None);
        assert_eq!(
            refusal(&view, S2C, 7, Some(u32::MAX)),
            Some(RstRefused::SynSentWrongAck {
                ack: u32::MAX,
                isn: u32::MAX,
                wanted: 0
            })
        );
    }

    #[test]
    fn without_the_clients_syn_nothing_is_refused_in_syn_sent() {
        let view = RstView {
            client_isn: None,
            ..syn_sent()
        };
        assert_eq!(refusal(&view, S2C, 0, None), None);
        assert_eq!(refusal(&view, S2C, 0, Some(42)), None);
    }

    #[test]
    fn the_clients_rst_in_syn_sent_is_checked_against_the_window() {
        // The client's RST is no answer to a SYN: the window rule applies, from the
        // client's next sequence number; the server advertised no window yet.
        let view = syn_sent();
        assert_eq!(refusal(&view, C2S, 1001, None), None);
        assert_eq!(
            refusal(&view, C2S, 1001 + 65_536, None),
            outside(1001 + 65_536, 1001, 65_535)
        );
    }

    #[test]
    fn a_rst_in_the_receivers_window_is_accepted() {
        let view = established();
        // From the client: the server's window (2000) counts.
        assert_eq!(refusal(&view, C2S, 5000, Some(9000)), None);
        assert_eq!(refusal(&view, C2S, 7000, Some(9000)), None);
        assert_eq!(refusal(&view, C2S, 7001, None), outside(7001, 5000, 2000));
        // From the server: the client's window (1000) counts.
        assert_eq!(refusal(&view, S2C, 10_000, None), None);
        assert_eq!(
            refusal(&view, S2C, 10_001, None),
            outside(10_001, 9000, 1000)
        );
    }

    #[test]
    fn one_below_the_next_sequence_number_is_accepted() {
        // A RST after a FIN may reuse the FIN's sequence number.
        let view = established();
        assert_eq!(refusal(&view, C2S, 4999, None), None);
        assert_eq!(refusal(&view, C2S, 4998, None), outside(4998, 5000, 2000));
        let far_below = 9000u32.wrapping_sub(10_000_000);
        assert_eq!(
            refusal(&view, S2C, far_below, None),
            outside(far_below, 9000, 1000)
        );
    }

    #[test]
    fn the_window_wraps_around_the_sequence_space() {
        let view = RstView {
            snd_max: [Some(u32::MAX - 10), Some(9000)],
            ..established()
        };
        assert_eq!(refusal(&view, C2S, 100, None), None);
        assert_eq!(
            refusal(&view, C2S, 1990, None),
            outside(1990, u32::MAX - 10, 2000)
        );
    }

    #[test]
    fn a_zero_window_still_accepts_the_next_sequence_number_and_one_more() {
        let view = RstView {
            window: [Some(1000), Some(0)],
            ..established()
        };
        assert_eq!(refusal(&view, C2S, 5000, None), None);
        assert_eq!(refusal(&view, C2S, 5001, None), None);
        assert_eq!(refusal(&view, C2S, 5002, None), outside(5002, 5000, 0));
    }

    #[test]
    fn without_a_window_seen_the_largest_unscaled_one_counts() {
        let view = RstView {
            window: [None, None],
            ..established()
        };
        assert_eq!(refusal(&view, S2C, 9000 + 65_535, None), None);
        assert_eq!(
            refusal(&view, S2C, 9000 + 65_536, None),
            outside(9000 + 65_536, 9000, 65_535)
        );
    }

    #[test]
    fn windows_are_scaled_by_the_receivers_shift_when_both_sides_offered_one() {
        let view = RstView {
            window_scale: [Some(2), Some(3)],
            ..established()
        };
        // The server receives: its window 2000 << 3.
        assert_eq!(refusal(&view, C2S, 5000 + 16_000, None), None);
        assert_eq!(
            refusal(&view, C2S, 5000 + 16_001, None),
            outside(5000 + 16_001, 5000, 16_000)
        );
        // The client receives: its window 1000 << 2.
        assert_eq!(refusal(&view, S2C, 9000 + 4000, None), None);
        assert_eq!(
            refusal(&view, S2C, 9000 + 4001, None),
            outside(9000 + 4001, 9000, 4000)
        );
    }

    #[test]
    fn a_scale_offered_by_one_side_only_is_not_used() {
        for window_scale in [[Some(5), None], [None, Some(5)]] {
            let view = RstView {
                window_scale,
                ..established()
            };
            assert_eq!(refusal(&view, C2S, 7001, None), outside(7001, 5000, 2000));
        }
    }

    #[test]
    fn a_shift_above_14_counts_as_14() {
        let view = RstView {
            window: [Some(1), Some(1)],
            window_scale: [Some(14), Some(15)],
            ..established()
        };
        assert_eq!(refusal(&view, C2S, 5000 + 16_384, None), None);
        assert_eq!(
            refusal(&view, C2S, 5000 + 16_385, None),
            outside(5000 + 16_385, 5000, 16_384)
        );
    }

    #[test]
    fn a_sender_never_seen_sending_is_not_checked() {
        let view = RstView {
            snd_max: [Some(5000), None],
            ..established()
        };
        assert_eq!(refusal(&view, S2C, 0, None), None);
    }
}
