//! The capture's TCP conversations by address and time: where a traced socket's
//! calls belong.

use super::calls::{OpenSocket, Side};
use crate::event::{ConversationRecord, TransportKind};
use std::collections::HashMap;
use std::net::SocketAddr;

/// A socket's first call may come this long before its conversation's first frame
/// (a capture started late) or after its end, in microseconds.
const SLACK_US: u64 = 2_000_000;

/// The capture's TCP conversations by address.
pub(super) struct ConvIndex<'a> {
    by_pair: HashMap<(SocketAddr, SocketAddr), Vec<&'a ConversationRecord>>,
    by_server: HashMap<SocketAddr, Vec<&'a ConversationRecord>>,
}

impl<'a> ConvIndex<'a> {
    pub(super) fn new(convs: &[&'a ConversationRecord]) -> ConvIndex<'a> {
        let mut by_pair: HashMap<_, Vec<_>> = HashMap::new();
        let mut by_server: HashMap<_, Vec<_>> = HashMap::new();
        for c in convs {
            if c.transport != TransportKind::Tcp {
                continue;
            }
            by_pair.entry((c.client, c.server)).or_default().push(*c);
            by_server.entry(c.server).or_default().push(*c);
        }
        ConvIndex { by_pair, by_server }
    }

    /// The conversation of a socket with these addresses first used at `first` (µs);
    /// `Err(true)` when the addresses match one but the time does not.
    pub(super) fn find(&self, s: &OpenSocket) -> Result<(u64, Side), bool> {
        let remote = s.remote.ok_or(false)?;
        let near = |c: &ConversationRecord| {
            let start = (c.start_ts * 1e6) as u64;
            let end = (c.end_ts * 1e6) as u64;
            s.first + SLACK_US >= start && s.first <= end + SLACK_US
        };
        let mut wrong_time = false;
        // The server's socket: peer = client, local = server (or its wildcard bind).
        for ((client, server), list) in &self.by_pair {
            if *client != remote {
                continue;
            }
            let local_ok = s.local.is_none_or(|l| {
                l.port() == server.port() && (l.ip() == server.ip() || l.ip().is_unspecified())
            });
            if !local_ok {
                continue;
            }
            match list.iter().find(|c| near(c)) {
                Some(c) => return Ok((c.conv, Side::Server)),
                None => wrong_time = true,
            }
        }
        // The client's socket: peer = server, local = client when known, else the
        // conversation whose SYN came right after connect().
        if let Some(local) = s
            .local
            .filter(|l| !l.ip().is_unspecified() && l.port() != 0)
        {
            if let Some(list) = self.by_pair.get(&(local, remote)) {
                return match list.iter().find(|c| near(c)) {
                    Some(c) => Ok((c.conv, Side::Client)),
                    None => Err(true),
                };
            }
        } else if let (Some(list), Some(at)) = (self.by_server.get(&remote), s.connect_at) {
            let syn = |c: &ConversationRecord| c.tcp.as_ref().and_then(|t| t.syn_ts);
            let best = list
                .iter()
                .filter_map(|c| Some((c, (syn(c)? * 1e6) as u64)))
                .filter(|(_, syn)| *syn + 1_000 >= at && *syn <= at + SLACK_US)
                .min_by_key(|(_, syn)| syn.abs_diff(at));
            return match best {
                Some((c, _)) => Ok((c.conv, Side::Client)),
                None => Err(true),
            };
        }
        Err(wrong_time)
    }
}
