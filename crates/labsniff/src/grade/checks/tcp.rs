//! The TCP checks: clients with their three-way handshake on the lab port, and the
//! proof (or the lack of one) that the server served them concurrently.

use crate::analysis::capture::Concurrency;
use crate::event::{ConversationRecord, TransportKind};
use crate::grade::{Facts, Verdict};

/// TCP conversations to the lab port with a whole handshake captured.
fn handshaken<'a>(f: &Facts<'a>) -> Vec<&'a ConversationRecord> {
    f.lab(TransportKind::Tcp)
        .into_iter()
        .filter(|c| {
            c.tcp
                .as_ref()
                .is_some_and(|t| t.syn_frame.is_some() && t.ack_frame.is_some())
        })
        .collect()
}

pub fn two_tcp_clients(f: &Facts) -> Verdict {
    let convs = handshaken(f);
    let frames: Vec<u64> = convs
        .iter()
        .filter_map(|c| c.tcp.as_ref().and_then(|t| t.syn_frame))
        .collect();
    let text = convs
        .iter()
        .map(|c| {
            format!(
                "{} (SYN frame {})",
                c.client,
                c.tcp.as_ref().and_then(|t| t.syn_frame).unwrap_or(0)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    match convs.len() {
        0 => Verdict::fail(
            format!(
                "no TCP connection to port {} with its handshake (SYN, SYN-ACK, ACK)",
                f.port
            ),
            frames,
        ),
        1 => Verdict::fail(
            format!("one TCP client only: {text}; connect a second client"),
            frames,
        ),
        n => Verdict::pass(format!("{n} clients: {text}"), frames),
    }
}

pub fn served_concurrently(f: &Facts) -> Verdict {
    match f.index.concurrency() {
        Some(Concurrency::Proven {
            earlier,
            earlier_answer,
            later,
            later_answer,
            earlier_end,
        }) => proven(earlier, earlier_answer, later, later_answer, earlier_end),
        Some(Concurrency::Iterative {
            earlier,
            earlier_end,
            later,
            later_request,
            later_answer,
            ..
        }) => Verdict::fail(
            format!(
                "one client at a time: conversation {later} asked at frame {later_request} but \
                 was answered only at frame {later_answer}, after conversation {earlier} ended \
                 at frame {earlier_end}"
            ),
            vec![earlier_end, later_request, later_answer],
        ),
        Some(Concurrency::Unknown {
            connections,
            overlapped,
        }) => Verdict::fail(
            format!(
                "not shown: {connections} connections{}, but no answer to one client while \
                 another, answered before, was connected; keep client 1 open while client 2 \
                 sends",
                if overlapped {
                    " overlapped"
                } else {
                    " one after the other"
                }
            ),
            Vec::new(),
        ),
        None => Verdict::fail(
            "fewer than two TCP connections to the server: concurrency cannot show",
            Vec::new(),
        ),
    }
}

/// The pass: `later` answered while `earlier`, answered before, was still connected.
fn proven(
    earlier: u64,
    earlier_answer: u64,
    later: u64,
    later_answer: u64,
    earlier_end: Option<u64>,
) -> Verdict {
    let end = match earlier_end {
        Some(e) => format!("it ended only at frame {e}"),
        None => "it had not ended when the capture stopped".to_string(),
    };
    Verdict::pass(
        format!(
            "the server answered conversation {earlier} (frame {earlier_answer}), then \
             conversation {later} (frame {later_answer}) while {earlier} was still \
             connected: {end}"
        ),
        [Some(earlier_answer), Some(later_answer), earlier_end]
            .into_iter()
            .flatten()
            .collect(),
    )
}
