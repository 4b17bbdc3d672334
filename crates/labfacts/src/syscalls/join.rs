//! Follows each socket through a trace (fd → addresses, from socket/bind/connect/
//! accept4 returns, getsockname/getpeername, and `-yy` annotations when present), keeps
//! the calls made on it, and when it closes (or the trace ends) joins it to the
//! capture's conversation with the same addresses at the same time.
//!
//! Streaming: only open sockets and joined sockets' calls (capped) are held.

use super::calls::{SocketCalls, TraceSummary};
use super::conv_index::ConvIndex;
use super::follow::Follower;
use super::read;
use super::Clock;
use crate::event::ConversationRecord;
use std::collections::BTreeMap;
use std::io::BufRead;

pub use super::calls::{Op, Side, SockCall, CALLS_PER_SOCKET};

/// Every trace's summary, and the joined sockets per conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Joined {
    pub traces: Vec<TraceSummary>,
    pub sockets: BTreeMap<u64, Vec<SocketCalls>>,
}

/// One trace to read.
pub struct TraceInput<R> {
    pub name: String,
    pub input: R,
    pub clock: Clock,
}

impl<R> std::fmt::Debug for TraceInput<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceInput")
            .field("name", &self.name)
            .finish()
    }
}

/// Join every trace to `convs`.
pub fn join<R: BufRead>(convs: &[&ConversationRecord], traces: Vec<TraceInput<R>>) -> Joined {
    let index = ConvIndex::new(convs);
    let mut joined = Joined::default();
    for (n, trace) in traces.into_iter().enumerate() {
        let mut follow = Follower::new(n, &index);
        let mut input = trace.input;
        let result = if read::is_json(&mut input) {
            read::labnet_events(input, |e| follow.event(e))
        } else {
            read::calls(input, trace.clock, |call| follow.call(call))
        };
        let mut summary = follow.finish(&mut joined.sockets);
        summary.name = trace.name;
        match result {
            Ok(stats) => summary.read = stats,
            Err(e) => summary.error = Some(e.to_string()),
        }
        joined.traces.push(summary);
    }
    joined
}

#[cfg(test)]
mod tests;
