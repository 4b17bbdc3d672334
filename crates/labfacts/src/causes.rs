//! Causes the packets prove, beyond Wireshark's flags: why a segment is larger than
//! the MSS, why a window stalled, what drew an RST, what an ICMP error answers. Each
//! cause is a fact with its evidence frames and how sure the packets make it; the
//! words are the `labsniff` crate's (`words::causes`).
//!
//! A conversation holds one [`Trackers`], fed every TCP segment (cheap checks, fixed
//! state), and says its causes when it finishes.

use crate::analysis::SegmentAnalysis;
use crate::event::{Dir, TcpDetails};
use crate::packet::TcpSegment;

pub use crate::event::cause::{Cause, CauseKind, Certainty, FRAMES_KEPT};

mod after_reset;
mod icmp;
mod nagle;
mod offload;
mod rst;
mod syn;
#[cfg(test)]
mod testing;
mod window;

/// A cause of conversation `conv`, in direction `dir`.
fn cause(
    conv: Conv<'_>,
    dir: Dir,
    frames: Vec<u64>,
    certainty: Certainty,
    kind: CauseKind,
) -> Cause {
    Cause {
        conv: Some(conv.id),
        tcp_stream: conv.tcp_stream,
        dir: Some(dir),
        frames,
        certainty,
        kind,
    }
}

/// A segment as the trackers see it.
#[derive(Debug, Clone, Copy)]
pub struct SegmentSeen<'s, 'a> {
    pub frame: u64,
    pub ts: crate::packet::Micros,
    pub dir: Dir,
    pub seg: &'s TcpSegment<'a>,
    /// Wireshark's analysis of the segment (flags, `acks_frame`, `ack_rtt`).
    pub analysis: &'s SegmentAnalysis,
}

/// The conversation a cause is about, as the trackers' `finish` sees it.
#[derive(Debug, Clone, Copy)]
pub struct Conv<'a> {
    pub id: u64,
    pub tcp_stream: Option<u64>,
    pub details: &'a TcpDetails,
}

/// What the network-side causes (ICMP errors) need of their conversation beyond
/// [`Conv`].
#[derive(Debug, Clone, Copy)]
pub struct Endpoints {
    pub transport: crate::event::TransportKind,
    pub client: std::net::SocketAddr,
    pub server: std::net::SocketAddr,
    /// The server sent at least one frame captured.
    pub server_answered: bool,
}

/// One conversation's cause trackers.
#[derive(Debug, Default)]
pub struct Trackers {
    over_mss: [offload::OverMss; 2],
    /// The last frames of each direction (an ICMP error names the one it answers).
    recent: [icmp::Recent; 2],
    /// ICMP errors answering this conversation (rare: boxed).
    icmp: Option<Box<icmp::IcmpErrors>>,
    rst: rst::RstTrigger,
    handshake: Box<syn::Handshake>,
    /// Per data direction: the receiver's zero windows.
    zero_window: [window::ZeroWindow; 2],
    /// Per data direction: small segments held for an ACK.
    nagle: [nagle::Nagle; 2],
    /// Segments captured after the conversation's reset.
    after_reset: after_reset::AfterReset,
}

impl Trackers {
    /// Every TCP segment of the conversation, after its handshake facts are recorded.
    pub fn segment(&mut self, s: &SegmentSeen<'_, '_>, details: &TcpDetails) {
        let (own, other) = (s.dir.index(), s.dir.reverse().index());
        self.over_mss[own].segment(s, details);
        self.zero_window[own].sent(s);
        self.zero_window[other].advertised(s);
        self.nagle[own].sent(s, details);
        self.nagle[other].peer(s);
        self.recent[own].push(s.frame, s.seg.seq);
        self.rst.segment(s);
        self.handshake.segment(s);
        self.after_reset.segment(s);
    }

    /// A UDP datagram of the conversation.
    pub fn datagram(&mut self, dir: Dir, frame: u64) {
        self.recent[dir.index()].push(frame, 0);
    }

    /// An ICMP error quoting a packet of the conversation sent in `dir`.
    pub fn icmp_error(&mut self, e: &crate::packet::icmp::IcmpError, dir: Dir) {
        let recent = self.recent[dir.index()];
        self.icmp
            .get_or_insert_with(Box::default)
            .error(e, dir, &recent);
    }

    /// The network-side causes (ICMP errors, the RST's trigger, the handshake at the
    /// server), when the conversation finishes.
    pub fn finish_net(&self, conv: Conv<'_>, ends: &Endpoints, out: &mut Vec<Cause>) {
        if let Some(icmp) = &self.icmp {
            icmp.causes(conv, ends, out);
        }
        if ends.transport == crate::event::TransportKind::Tcp {
            self.handshake.causes(conv, out);
            out.extend(self.rst.cause(conv));
            self.after_reset.causes(conv, out);
        }
    }

    /// The causes found, when the conversation finishes.
    pub fn finish(&self, conv: Conv<'_>, out: &mut Vec<Cause>) {
        for dir in Dir::BOTH {
            out.extend(self.over_mss[dir.index()].cause(conv, dir));
        }
        for dir in Dir::BOTH {
            out.extend(self.zero_window[dir.index()].cause(conv, dir));
        }
        for dir in Dir::BOTH {
            out.extend(self.nagle[dir.index()].cause(conv, dir));
        }
    }
}

/// Keep `frame` as evidence if there is room.
fn keep(frames: &mut Vec<u64>, frame: u64) {
    if frames.len() < FRAMES_KEPT {
        frames.push(frame);
    }
}
