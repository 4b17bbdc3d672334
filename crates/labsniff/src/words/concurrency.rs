//! What the capture shows about how the server served its TCP clients
//! (labfacts' `analysis::capture::Concurrency`), in words.

use super::filters::stream_filter;
use crate::event::ConversationRecord;

/// What the capture shows about how the server served its TCP clients.
pub fn concurrency_note(
    fact: crate::analysis::capture::Concurrency,
    convs: &[&ConversationRecord],
) -> Option<String> {
    use crate::analysis::capture::Concurrency;
    let filter = |list: &[u64]| {
        stream_filter(convs, list)
            .map(|f| format!(". Wireshark filter: {f}"))
            .unwrap_or_default()
    };
    Some(match fact {
        Concurrency::Proven {
            earlier,
            earlier_answer,
            later,
            later_answer,
            earlier_end,
        } => {
            let open = match earlier_end {
                Some(end) => format!("its first FIN or RST came only at frame {end}"),
                None => "it had not ended when the capture stopped".to_string(),
            };
            format!(
                "the server served several clients at once: it answered conversation {earlier} (frame \
                 {earlier_answer}) and then conversation {later} (frame {later_answer}) while conversation \
                 {earlier} was still open ({open}). A server that handles one client at a time cannot do \
                 that, since it stays in one client's loop until that client closes; this one uses \
                 threads (one per accepted socket), processes or a selector (one thread watching every \
                 socket) — the packets look the same for all three{}",
                filter(&[earlier, later])
            )
        }
        Concurrency::Iterative {
            earlier,
            earlier_end,
            later,
            later_ack,
            later_request,
            later_answer,
        } => format!(
            "the server probably serves one client at a time: conversation {later}'s handshake was \
             complete at frame {later_ack} and its client sent its first bytes at frame {later_request}, \
             while conversation {earlier} was still open, yet the server's first answer to it came only \
             at frame {later_answer}, after conversation {earlier} began to end (its first FIN or RST, \
             frame {earlier_end}). \
             The handshake needs no help from the program: the kernel completes it for a listening \
             socket and queues the connection in the listen backlog (the size given to listen()) until \
             accept() takes it, and keeps the client's bytes in the socket's receive buffer until recv() \
             reads them. So connect() and send() succeeded at once, but the answer waited until the \
             server had finished with the earlier client and called accept() again, as an iterative \
             server does; with threads or a selector it would not have waited for the earlier client{}",
            filter(&[earlier, later])
        ),
        Concurrency::Unknown {
            connections,
            overlapped: true,
        } => format!(
            "{connections} TCP connections to the server overlapped in time, but the server never answered \
             one while another one it had answered was still open, so this capture cannot tell a server \
             that serves clients at once (threads or a selector) from one that serves them one at a time: \
             overlap alone proves nothing, because the kernel completes handshakes and acknowledges \
             data for connections still waiting in the listen backlog"
        ),
        Concurrency::Unknown {
            connections,
            overlapped: false,
        } => format!(
            "the {connections} accepted TCP connections did not overlap in time, so this capture cannot \
             tell a threaded or selector server from one that serves clients one after another"
        ),
    })
}
