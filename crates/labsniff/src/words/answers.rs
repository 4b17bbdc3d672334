//! The short words of the explain report's first block ("In short"): which exercise a
//! capture looks like, what each cause is in a few words, how the server served its
//! clients in one line. Each names its frames; the sections below say why.

use crate::causes::{Cause, CauseKind, Certainty};
use crate::event::cause::{IcmpKind, RstReason};
use crate::event::TransportKind;
use labproto::Proto;

/// Which exercise of the lab guide conversations of `transport` carrying `proto` look
/// like; `echoed`: the server echoed some of their messages. The guide's exercises
/// differ by transport and message format (and whether the server echoes), which is
/// all this says.
pub fn exercise(transport: TransportKind, proto: Proto, echoed: bool) -> String {
    match (transport, proto, echoed) {
        (TransportKind::Udp, _, _) => "1.2 (UDP datagrams to the server)".to_string(),
        (TransportKind::Tcp, Proto::Text, _) => "2.2 or 3.2 (TCP text; the packets look the same \
             for the thread-per-client and the selector server)"
            .to_string(),
        (TransportKind::Tcp, Proto::V2, true) => {
            "4.3 (TCP v2 messages, '!BII20s', 29 bytes each, echoed by the server)".to_string()
        }
        (TransportKind::Tcp, Proto::V2, false) => {
            "4.2 (TCP v2 messages, '!BII20s', 29 bytes each; no echo)".to_string()
        }
        (TransportKind::Tcp, Proto::V3, true) => {
            "5.3 (TCP v3 messages, '!BII' and payload, echoed by the server)".to_string()
        }
        (TransportKind::Tcp, Proto::V3, false) => {
            "5.2 (TCP v3 messages, '!BII' and payload; no echo)".to_string()
        }
    }
}

/// A cause in a few words, with its frames ("probably" when the packets only make it
/// likely).
pub fn cause(c: &Cause) -> String {
    let what = match &c.kind {
        CauseKind::OverMss { .. } => {
            "segments larger than the MSS (probably segmentation offload)".into()
        }
        CauseKind::IcmpError {
            icmp: IcmpKind::PortUnreachable,
            from_destination: true,
            ..
        } => "ICMP port unreachable: nothing was bound to the server's port".into(),
        CauseKind::IcmpError { .. } => "ICMP errors answered the packets".into(),
        CauseKind::RstCause { reason, .. } => match reason {
            RstReason::NoSocket => "RST: nothing listened on the port",
            RstReason::DataAfterClose => {
                "RST: data arrived after the RST's sender had closed its socket"
            }
            RstReason::UnreadData => "RST: close() with unread data",
            RstReason::Abort => "RST: an abort (SO_LINGER with a zero timeout)",
        }
        .into(),
        CauseKind::SynResent {
            syns,
            syn_ack: Some(_),
            ..
        } => format!("the SYN was sent {syns} times before it was answered"),
        CauseKind::SynResent { syns, .. } => format!("the SYN was sent {syns} times, unanswered"),
        CauseKind::FirstDataUnacked {
            copies,
            acked_by: Some(_),
            ..
        } => format!(
            "the client's first data was sent {copies} times before the server acknowledged it"
        ),
        CauseKind::FirstDataUnacked { copies, .. } => {
            format!("the client's first data was sent {copies} times, never acknowledged")
        }
        CauseKind::ZeroWindow { .. } => "a receive window was full (zero window)".into(),
        CauseKind::NagleDelayedAck { .. } => {
            "Nagle's algorithm held data back until a delayed ACK".into()
        }
        CauseKind::AfterReset { .. } => "segments captured after the RST".into(),
    };
    let what: String = what;
    // The short words above state what the packets show, except for these, whose
    // reason is inferred.
    let inferred = matches!(
        c.kind,
        CauseKind::RstCause { .. } | CauseKind::NagleDelayedAck { .. }
    );
    let probably = if inferred && c.certainty == Certainty::Probable {
        "probably "
    } else {
        ""
    };
    format!("{probably}{what} ({})", super::causes::evidence(c))
}

/// Wireshark's name of a flag of trouble, as its Info column starts.
pub fn flag(flag: crate::analysis::Flag) -> &'static str {
    use crate::analysis::Flag::*;
    match flag {
        Retransmission => "TCP Retransmission",
        FastRetransmission => "TCP Fast Retransmission",
        SpuriousRetransmission => "TCP Spurious Retransmission",
        OutOfOrder => "TCP Out-Of-Order",
        LostSegment => "TCP Previous segment not captured",
        AckLostSegment => "TCP ACKed unseen segment",
        DuplicateAck => "TCP Dup ACK",
        ZeroWindow => "TCP ZeroWindow",
        ZeroWindowProbe => "TCP ZeroWindowProbe",
        ZeroWindowProbeAck => "TCP ZeroWindowProbeAck",
        WindowFull => "TCP Window Full",
        WindowUpdate => "TCP Window Update",
        KeepAlive => "TCP Keep-Alive",
        KeepAliveAck => "TCP Keep-Alive ACK",
    }
}

/// How the server served its TCP clients, in one line with the frames that show it
/// (the whole sentence is [`super::concurrency_note`]).
pub fn served(fact: crate::analysis::capture::Concurrency) -> String {
    use crate::analysis::capture::Concurrency;
    match fact {
        Concurrency::Proven {
            earlier,
            earlier_answer,
            later,
            later_answer,
            earlier_end,
        } => {
            let open = match earlier_end {
                Some(end) => format!("until frame {end}"),
                None => "to the end of the capture".to_string(),
            };
            format!(
                "several clients at once (threads, processes or a selector): conversation {later} \
                 was answered at frame {later_answer} while conversation {earlier}, answered at frame \
                 {earlier_answer}, was still open ({open})"
            )
        }
        Concurrency::Iterative {
            earlier,
            earlier_end,
            later,
            later_request,
            later_answer,
            ..
        } => format!(
            "probably one client at a time: conversation {later} sent its first bytes at frame \
             {later_request} but was answered only at frame {later_answer}, after conversation \
             {earlier} began to end at frame {earlier_end}"
        ),
        Concurrency::Unknown {
            connections,
            overlapped: true,
        } => format!(
            "cannot tell: {connections} connections overlapped, but the server never answered one \
             while another it had answered was open"
        ),
        Concurrency::Unknown {
            connections,
            overlapped: false,
        } => format!("cannot tell: the {connections} connections did not overlap in time"),
    }
}

/// What a reply added to the client's text it carries ([`labfacts::echoes::EchoMatch::InReply`]):
/// `"ECHO: " before it` (the reply's bytes before the message), or `6 bytes of its own`.
pub fn added_to_reply(before: &[u8], extra: u32) -> String {
    if before.is_empty() {
        format!("{} of its own", super::count(u64::from(extra), "byte"))
    } else {
        format!("\"{}\" before it", labproto::text::escape(before))
    }
}
