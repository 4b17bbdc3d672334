//! Which other ports the capture's TCP and UDP traffic used, so that "no lab traffic"
//! can say what there was instead ("TCP port 80 (12 conversations) ... try --port 80").
//!
//! A conversation is a distinct transport and address/port pair; it is counted under
//! its service port: a TCP SYN's destination, otherwise the lower of the two ports
//! (services sit on low ports, clients on ephemeral ones). Bounded: past
//! [`FLOWS_MAX`] distinct conversations new ones are not counted, and the summary
//! keeps the [`TOP`] busiest ports.

use crate::event::{PortCount, TransportKind};
use crate::flow_hash::FlowHashBuilder;
use crate::packet::{Packet, Transport};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

/// Distinct non-lab conversations remembered.
pub const FLOWS_MAX: usize = 1 << 16;
/// Ports in the summary.
pub const TOP: usize = 10;

type Key = (TransportKind, SocketAddr, SocketAddr);

#[derive(Debug, Default)]
pub struct PortCensus {
    flows: HashSet<Key, FlowHashBuilder>,
    ports: HashMap<(TransportKind, u16), u64, FlowHashBuilder>,
    /// Some conversations were not counted (more than FLOWS_MAX).
    pub overflowed: bool,
}

impl PortCensus {
    /// A TCP or UDP packet not to or from the lab port.
    pub fn packet(&mut self, pkt: &Packet<'_>) {
        let (transport, service) = match &pkt.transport {
            Transport::Tcp(seg) if seg.flags.syn && !seg.flags.ack => {
                (TransportKind::Tcp, pkt.dst.port())
            }
            Transport::Tcp(seg) if seg.flags.syn => (TransportKind::Tcp, pkt.src.port()),
            Transport::Tcp(_) => (TransportKind::Tcp, pkt.src.port().min(pkt.dst.port())),
            Transport::Udp { .. } => (TransportKind::Udp, pkt.src.port().min(pkt.dst.port())),
        };
        let key = if pkt.src <= pkt.dst {
            (transport, pkt.src, pkt.dst)
        } else {
            (transport, pkt.dst, pkt.src)
        };
        if self.flows.contains(&key) {
            return;
        }
        if self.flows.len() >= FLOWS_MAX {
            self.overflowed = true;
            return;
        }
        self.flows.insert(key);
        *self.ports.entry((transport, service)).or_insert(0) += 1;
    }

    /// The [`TOP`] ports by conversations (then TCP before UDP, then lower port first).
    pub fn top(&self) -> Vec<PortCount> {
        let mut all: Vec<PortCount> = self
            .ports
            .iter()
            .map(|(&(transport, port), &conversations)| PortCount {
                transport,
                port,
                conversations,
            })
            .collect();
        all.sort_by(|a, b| {
            b.conversations
                .cmp(&a.conversations)
                .then((a.transport as u8).cmp(&(b.transport as u8)))
                .then(a.port.cmp(&b.port))
        });
        all.truncate(TOP);
        all
    }
}
