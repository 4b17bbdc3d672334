//! The engine: frames in, events out. Owns the conversation table; knows nothing about
//! where frames come from (see `source`) or how events are shown (see `output`).

use crate::conversation::{ConvConfig, Conversation};
use crate::defrag::{Assembled, Defragmenter, Limits};
use crate::event::{
    Diagnostic, DiagnosticKind, Dir, Event, Severity, Sink, Summary, TransportKind,
};
use crate::flow_hash::FlowHashBuilder;
use crate::link::{LinkError, LinkKind};
use crate::packet::{self, Decoded, Micros, Packet, Transport};
use crate::queue::{EventQueue, Out};
use labproto::Proto;
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;

/// What to analyse and how.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The lab port: only TCP/UDP to or from it is analysed.
    pub port: u16,
    /// Force the protocol instead of detecting it.
    pub proto: Option<Proto>,
    /// Cap on out-of-order bytes buffered per direction.
    pub max_ooo_bytes: usize,
    /// Largest v3 size field accepted.
    pub max_size: u32,
    /// How `port` was chosen (for the summary).
    pub port_choice: crate::port_choice::PortChoice,
    /// Emit an [`Event::Segment`] for every TCP segment of a lab conversation.
    pub segments: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            port: labproto::LAB_PORT,
            proto: None,
            max_ooo_bytes: 1 << 20,
            max_size: labproto::DEFAULT_MAX_SIZE,
            port_choice: crate::port_choice::PortChoice::plain(crate::port_choice::How::Default),
            segments: false,
        }
    }
}

/// A conversation's identity: transport and its two endpoints, lowest first.
/// A conversation's key, the same for both directions: the transport and the two
/// endpoints in a fixed order, packed into integers. Hashing and comparing it is a
/// few integer operations, where a `(TransportKind, SocketAddr, SocketAddr)` tuple
/// hashed each address field by field (perf: 6.6% of `labsniff -r --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FlowKey {
    /// The two addresses, lower endpoint first; IPv4 in the low 32 bits.
    ips: [u128; 2],
    /// The two ports in the same order (first << 16 | second), the transport (bit 32)
    /// and whether the addresses are IPv6 (bit 33): an IPv4 address and the IPv6
    /// address with the same 128-bit value are different endpoints.
    rest: u64,
}

impl std::hash::Hash for FlowKey {
    /// Three integer writes (the derived hash of `[u128; 2]` hashed it as a byte slice,
    /// through the hasher's slower path for byte strings).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u128(self.ips[0]);
        state.write_u128(self.ips[1]);
        state.write_u64(self.rest);
    }
}

/// An endpoint as one comparable integer pair.
fn endpoint(addr: SocketAddr) -> (u128, u16) {
    match addr {
        SocketAddr::V4(a) => (u128::from(u32::from(*a.ip())), a.port()),
        SocketAddr::V6(a) => (u128::from(*a.ip()), a.port()),
    }
}

fn flow_key(transport: TransportKind, a: SocketAddr, b: SocketAddr) -> FlowKey {
    let (ea, eb) = (endpoint(a), endpoint(b));
    let (lo, hi) = if ea <= eb { (ea, eb) } else { (eb, ea) };
    let tcp = u64::from(matches!(transport, TransportKind::Tcp));
    let v6 = u64::from(a.is_ipv6());
    FlowKey {
        ips: [lo.0, hi.0],
        rest: u64::from(lo.1) << 16 | u64::from(hi.1) | tcp << 32 | v6 << 33,
    }
}

/// Closed TCP 4-tuples remembered so that stray segments after a RST or the last ACK
/// do not open a bogus conversation. Bounded.
const TOMBSTONES_MAX: usize = 65_536;

/// The analysis engine.
#[derive(Debug)]
pub struct Analyzer {
    options: Options,
    config: ConvConfig,
    link: Result<LinkKind, LinkError>,
    open: HashMap<FlowKey, Conversation, FlowHashBuilder>,
    closed: HashSet<FlowKey, FlowHashBuilder>,
    closed_order: VecDeque<FlowKey>,
    next_id: u64,
    events: EventQueue,
    frames: u64,
    lab_packets: u64,
    messages: u64,
    diagnostics: u64,
    conversations: u64,
    streams: TcpStreams,
    /// IP fragments of every port (their ports are only in the first fragment): the
    /// lab port is checked on the reassembled datagram.
    defrag: Defragmenter,
    /// Where the defragmenter writes a datagram (its buffers are reused).
    assembled: Assembled,
    /// Unsupported link types already reported (few: one per distinct type).
    unsupported_said: Vec<LinkError>,
    /// Frames of encapsulations not decoded, said once each at the end.
    undecoded: crate::link::encap::Tally,
    /// Other ports' conversations, for the summary.
    census: crate::port_census::PortCensus,
    /// Frames the live capture dropped, and which frames follow them.
    drops: drops::Drops,
    /// Live capture: the queue's peak in batches, told by the source before `finish`.
    queue_peak_batches: Option<u64>,
    /// Identical frame faults: said a few times, then counted.
    repeats: repeats::Repeats,
    /// Reset conversations, in the order of their RSTs, each finished [`AFTER_RESET`]
    /// (capture time) after it.
    resets: VecDeque<(FlowKey, Micros)>,
}

/// How long a reset conversation stays open: segments the other side sent before the
/// RST reached it arrive up to a round trip later (and the resetting side answers each
/// with another RST). Three seconds covers round trips of up to a second with room;
/// until then its segments are kept, counted and decoded, not dropped.
pub const AFTER_RESET: Micros = 3_000_000;

mod drops;
mod fragments;
mod repeats;
pub use drops::{CaptureDrop, DROP_WINDOW_FRAMES};

/// Wireshark's `tcp.stream` numbering: every TCP conversation in the capture, on any
/// port, numbered from 0 in order of its first packet. Lab conversations take their
/// number when the analyzer opens them; other TCP traffic is tracked here, lightly:
/// per 4-tuple its number and the first sequence number seen each way, so that a SYN
/// with another sequence number on a known 4-tuple starts a new stream, as in Wireshark.
#[derive(Debug, Default)]
struct TcpStreams {
    next: u64,
    other: HashMap<FlowKey, OtherStream, FlowHashBuilder>,
}

#[derive(Debug, Clone, Copy)]
struct OtherStream {
    /// Base sequence number per direction (index 0: sent by the lower endpoint).
    base: [Option<u32>; 2],
}

/// Other-port TCP 4-tuples remembered for stream numbering; past this the table is
/// cleared (a capture with more than this many non-lab TCP connections may then number
/// a stray segment of an old one as a new stream).
const OTHER_STREAMS_MAX: usize = 1 << 18;

impl TcpStreams {
    fn take(&mut self) -> u64 {
        let n = self.next;
        self.next += 1;
        n
    }

    /// A TCP packet not to or from the lab port.
    fn other(&mut self, pkt: &Packet<'_>, seg: &packet::TcpSegment<'_>) {
        let key = flow_key(TransportKind::Tcp, pkt.src, pkt.dst);
        // 0 for the endpoint the key puts first.
        let d = usize::from(endpoint(pkt.src) > endpoint(pkt.dst));
        let syn_only = seg.flags.syn && !seg.flags.ack;
        let base = if seg.flags.syn {
            seg.seq
        } else {
            seg.seq.wrapping_sub(1)
        };
        if let Some(known) = self.other.get_mut(&key) {
            match known.base[d] {
                Some(b) if syn_only && b != seg.seq => {}
                Some(_) => return,
                None => {
                    known.base[d] = Some(base);
                    return;
                }
            }
        }
        if self.other.len() >= OTHER_STREAMS_MAX {
            self.other.clear();
        }
        self.take();
        let mut fresh = OtherStream { base: [None; 2] };
        fresh.base[d] = Some(base);
        self.other.insert(key, fresh);
    }
}

impl Analyzer {
    /// `dlt`: the capture's link type as libpcap reports it.
    pub fn new(options: Options, dlt: i32) -> Analyzer {
        Analyzer {
            options,
            config: ConvConfig {
                forced: options.proto,
                max_size: options.max_size,
                max_ooo_bytes: options.max_ooo_bytes,
                segments: options.segments,
            },
            link: LinkKind::from_dlt(dlt),
            open: HashMap::default(),
            closed: HashSet::default(),
            closed_order: VecDeque::new(),
            next_id: 1,
            events: EventQueue::new(),
            frames: 0,
            lab_packets: 0,
            messages: 0,
            diagnostics: 0,
            conversations: 0,
            streams: TcpStreams::default(),
            defrag: Defragmenter::new(Limits::default()),
            assembled: Assembled::default(),
            unsupported_said: Vec::new(),
            undecoded: Default::default(),
            census: Default::default(),
            drops: Default::default(),
            queue_peak_batches: None,
            repeats: Default::default(),
            resets: VecDeque::new(),
        }
    }

    /// Frames seen so far (the next frame gets number `frames() + 1`).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// One captured frame: `data` as captured, `orig_len` its length on the wire.
    pub fn frame(
        &mut self,
        data: &[u8],
        ts: Micros,
        orig_len: u32,
        sink: &mut dyn Sink,
    ) -> std::io::Result<()> {
        // The link kind is copied out; only an unsupported one is cloned.
        let link = match &self.link {
            Ok(kind) => Ok(*kind),
            Err(e) => Err(e.clone()),
        };
        self.frame_with_link(link, data, ts, orig_len, sink)
    }

    /// [`Analyzer::frame`] for a frame whose link type is its own (a pcapng's
    /// interfaces may differ), not the one given at construction. An unsupported link
    /// type is said once per type.
    pub fn frame_with_link(
        &mut self,
        link: Result<LinkKind, LinkError>,
        data: &[u8],
        ts: Micros,
        orig_len: u32,
        sink: &mut dyn Sink,
    ) -> std::io::Result<()> {
        self.frames += 1;
        let number = self.frames;
        self.events.set_capture_dropped(self.drops.marks(number));
        // The one branch unfragmented traffic pays: no datagram waits, nothing expires.
        if self.defrag.in_progress() != 0 {
            self.defrag.expire(ts);
            self.report_dropped(number);
        }
        match link {
            Ok(kind) => match packet::decode_fast(kind, number, ts, data) {
                Some(pkt) => self.packet(&pkt, &[], Some(sink))?,
                None => match packet::decode_frame_general(kind, number, ts, data) {
                    Ok(Decoded::Packet(pkt)) => self.packet(&pkt, &[], Some(sink))?,
                    Ok(Decoded::Fragment(frag)) => self.fragment(&frag, number, ts)?,
                    Ok(Decoded::IcmpError(e)) => self.icmp_error(&e),
                    Ok(Decoded::Other) => {}
                    Err(LinkError::Undecoded(what)) => self.undecoded.add(what, number),
                    Err(e) => self.frame_error(number, &e, data.len(), orig_len),
                },
            },
            Err(e) => {
                if !self.unsupported_said.contains(&e) && self.unsupported_said.len() < 64 {
                    if let LinkError::UnsupportedLinkType { dlt, name } = &e {
                        let kind = DiagnosticKind::LinkUnsupported {
                            dlt: *dlt,
                            name: name.clone(),
                            at_frame: number,
                        };
                        self.push_diag(Severity::Error, None, kind);
                    }
                    self.unsupported_said.push(e);
                }
            }
        }
        self.drain(sink)
    }

    /// A problem reading the input at the next frame (e.g. the file ends inside it).
    pub fn input_problem<S: Sink + ?Sized>(
        &mut self,
        kind: DiagnosticKind,
        sink: &mut S,
    ) -> std::io::Result<()> {
        let frame = self.frames + 1;
        if self.repeats.admit(Severity::Error, frame, &kind) {
            self.push_diag(Severity::Error, Some(frame), kind);
        }
        self.drain(sink)
    }

    /// End of input: close every open conversation and emit the summary.
    /// Live capture: the most batches the queue between capture and analysis held,
    /// for the summary.
    pub fn set_queue_peak(&mut self, batches: usize) {
        self.queue_peak_batches = Some(batches as u64);
    }

    pub fn finish<S: Sink + ?Sized>(
        mut self,
        interrupted: bool,
        dropped: Option<u32>,
        sink: &mut S,
    ) -> std::io::Result<Summary> {
        self.defrag.finish();
        self.events
            .set_capture_dropped(self.drops.marks(self.frames));
        self.report_dropped(self.frames);
        if self.frames == 0 {
            self.push_diag(Severity::Note, None, DiagnosticKind::EmptyCapture);
        }
        for (severity, frame, kind) in self.repeats.summaries() {
            self.push_diag(severity, Some(frame), kind);
        }
        let undecoded: Vec<_> = self.undecoded.met().collect();
        for (what, frames, first) in undecoded {
            let kind = DiagnosticKind::EncapsulationUndecoded {
                what,
                frames,
                first,
            };
            self.push_diag(Severity::Warning, Some(first), kind);
        }
        let mut open: Vec<Conversation> = self.open.drain().map(|(_, c)| c).collect();
        open.sort_by_key(|c| c.id);
        for conv in open {
            let record = conv.finish(self.frames, &mut Out::queued(&mut self.events));
            self.events.push(Event::Conversation(Box::new(record)));
        }
        let summary = Summary {
            frames: self.frames,
            lab_packets: self.lab_packets,
            conversations: self.conversations,
            messages: 0,
            diagnostics: 0,
            interrupted,
            dropped,
            queue_dropped: dropped.map(|_| self.drops.queue_total()),
            queue_peak_batches: self.queue_peak_batches,
            link_type: self.link.as_ref().ok().map(|k| k.name()),
            lab_port: self.options.port,
            other_ports: self.census.top(),
            port_choice: self.options.port_choice,
        };
        self.drain(sink)?;
        let summary = Summary {
            messages: self.messages,
            diagnostics: self.diagnostics,
            ..summary
        };
        sink.emit(Event::Summary(summary.clone()))?;
        Ok(summary)
    }

    fn push_diag(&mut self, severity: Severity, frame: Option<u64>, kind: DiagnosticKind) {
        self.events.push(Event::Diagnostic(Diagnostic {
            severity,
            frame,
            conv: None,
            kind,
        }));
    }

    fn frame_error(&mut self, frame: u64, e: &LinkError, captured: usize, orig_len: u32) {
        let kind = DiagnosticKind::FrameUnreadable {
            error: e.clone(),
            captured,
            orig_len,
        };
        if self.repeats.admit(Severity::Warning, frame, &kind) {
            self.push_diag(Severity::Warning, Some(frame), kind);
        }
    }

    /// Inlined: almost every frame leaves nothing queued, and then this is one test,
    /// not a call (as a call it cost 22 instructions a frame).
    #[inline]
    fn drain<S: Sink + ?Sized>(&mut self, sink: &mut S) -> std::io::Result<()> {
        if self.events.is_empty() {
            return Ok(());
        }
        self.drain_queued(sink)
    }

    fn drain_queued<S: Sink + ?Sized>(&mut self, sink: &mut S) -> std::io::Result<()> {
        let drained = self.events.drain(sink)?;
        self.messages += drained.messages;
        self.diagnostics += drained.diagnostics;
        Ok(())
    }

    /// A TCP or UDP packet; `fragments`: the frames of the IP fragments it was
    /// reassembled from (empty when it was not fragmented).
    ///
    /// Messages go straight to `sink` when one is given and nothing waits in the
    /// queue (see [`Out`]); its first error is returned.
    fn packet(
        &mut self,
        pkt: &Packet<'_>,
        fragments: &[u64],
        mut sink: Option<&mut dyn Sink>,
    ) -> std::io::Result<()> {
        let port = self.options.port;
        if pkt.src.port() != port && pkt.dst.port() != port {
            if let Transport::Tcp(seg) = &pkt.transport {
                self.streams.other(pkt, seg);
            }
            self.census.packet(pkt);
            return Ok(());
        }
        self.lab_packets += 1;
        if !self.resets.is_empty() {
            self.expire_resets(pkt.ts, pkt.frame);
        }
        match &pkt.transport {
            Transport::Tcp(seg) => {
                let key = flow_key(TransportKind::Tcp, pkt.src, pkt.dst);
                let new_syn = seg.flags.syn && !seg.flags.ack;
                // The usual case first, with one lookup: a segment of an open
                // conversation that cannot start a new one.
                if !new_syn {
                    if let Some(conv) = self.open.get_mut(&key) {
                        let dir = conv.dir_of(pkt.src);
                        let mut out = out(&mut self.events, &mut sink);
                        let ended = conv.tcp(dir, pkt, seg, &mut out);
                        let reset = seg.flags.rst.then(|| conv.reset_at()).flatten();
                        self.messages += out.done()?;
                        self.after_segment(key, pkt, ended, reset);
                        return Ok(());
                    }
                }
                if let Some(conv) = self.open.get(&key) {
                    // A SYN-ACK captured before its SYN opened this conversation: the
                    // SYN it acknowledges is the same connection, not a new one.
                    let reused = new_syn
                        && conv.dir_of(pkt.src) == Dir::ClientToServer
                        && !conv.is_same_syn(seg.seq);
                    let reversed = new_syn && conv.dir_of(pkt.src) == Dir::ServerToClient;
                    if reused || reversed {
                        self.close(&key);
                    }
                } else if self.closed.contains(&key) {
                    if !seg.flags.syn {
                        return Ok(());
                    }
                    self.closed.remove(&key);
                }
                if !self.open.contains_key(&key) {
                    let client = client_of_tcp(pkt, seg, port);
                    let mut conv = self.open_conversation(TransportKind::Tcp, pkt, client);
                    conv.set_tcp_stream(self.streams.take());
                    self.open.insert(key, conv);
                }
                let (ended, reset) = match self.open.get_mut(&key) {
                    Some(conv) => {
                        let dir = conv.dir_of(pkt.src);
                        let mut out = out(&mut self.events, &mut sink);
                        let ended = conv.tcp(dir, pkt, seg, &mut out);
                        let reset = seg.flags.rst.then(|| conv.reset_at()).flatten();
                        self.messages += out.done()?;
                        (ended, reset)
                    }
                    None => (false, None),
                };
                self.after_segment(key, pkt, ended, reset);
            }
            Transport::Udp { .. } => {
                let key = flow_key(TransportKind::Udp, pkt.src, pkt.dst);
                if !self.open.contains_key(&key) {
                    let client = if pkt.dst.port() == port {
                        pkt.src
                    } else {
                        pkt.dst
                    };
                    let conv = self.open_conversation(TransportKind::Udp, pkt, client);
                    self.open.insert(key, conv);
                }
                if let Some(conv) = self.open.get_mut(&key) {
                    let dir = conv.dir_of(pkt.src);
                    let mut out = out(&mut self.events, &mut sink);
                    conv.udp(dir, pkt, fragments, &mut out);
                    self.messages += out.done()?;
                }
            }
        }
        Ok(())
    }

    /// An ICMP error: to the open lab conversation of the packet it quotes (an error
    /// about any other packet is left alone).
    fn icmp_error(&mut self, e: &packet::icmp::IcmpError) {
        let q = &e.quoted;
        let port = self.options.port;
        if q.src.port() != port && q.dst.port() != port {
            return;
        }
        let transport = if q.tcp {
            TransportKind::Tcp
        } else {
            TransportKind::Udp
        };
        if let Some(conv) = self.open.get_mut(&flow_key(transport, q.src, q.dst)) {
            conv.icmp_error(e);
        }
    }

    fn open_conversation(
        &mut self,
        transport: TransportKind,
        pkt: &Packet<'_>,
        client: SocketAddr,
    ) -> Conversation {
        let server = if client == pkt.src { pkt.dst } else { pkt.src };
        let id = self.next_id;
        self.next_id += 1;
        self.conversations += 1;
        Conversation::new(id, transport, client, server, pkt, &self.config)
    }

    /// The TCP conversation `key` ended at `frame`: record it, remember its 4-tuple.
    /// After a segment of conversation `key`: finish it when it ended; a first RST
    /// (`reset`: when it came) schedules its end [`AFTER_RESET`] later.
    fn after_segment(
        &mut self,
        key: FlowKey,
        pkt: &Packet<'_>,
        ended: bool,
        reset: Option<Micros>,
    ) {
        if ended {
            self.end(key, pkt.frame);
        } else if reset == Some(pkt.ts) {
            self.resets.push_back((key, pkt.ts));
        }
    }

    /// Finish the reset conversations whose time after the reset has passed by `now`.
    fn expire_resets(&mut self, now: Micros, frame: u64) {
        while let Some(&(key, at)) = self.resets.front() {
            if now < at.saturating_add(AFTER_RESET) {
                return;
            }
            self.resets.pop_front();
            // Still the same reset conversation (not closed since, nor a new one).
            if self.open.get(&key).and_then(Conversation::reset_at) == Some(at) {
                self.end(key, frame.saturating_sub(1));
            }
        }
    }

    fn end(&mut self, key: FlowKey, frame: u64) {
        if let Some(conv) = self.open.remove(&key) {
            let record = conv.finish(frame, &mut Out::queued(&mut self.events));
            self.events.push(Event::Conversation(Box::new(record)));
            self.remember_closed(key);
        }
    }

    fn close(&mut self, key: &FlowKey) {
        if let Some(conv) = self.open.remove(key) {
            let record = conv.finish(self.frames, &mut Out::queued(&mut self.events));
            self.events.push(Event::Conversation(Box::new(record)));
        }
    }

    fn remember_closed(&mut self, key: FlowKey) {
        if self.closed.insert(key) {
            self.closed_order.push_back(key);
        }
        while self.closed_order.len() > TOMBSTONES_MAX {
            if let Some(old) = self.closed_order.pop_front() {
                self.closed.remove(&old);
            }
        }
    }
}

/// Where a packet's events go: see [`Out`].
fn out<'a>(queue: &'a mut EventQueue, sink: &'a mut Option<&mut dyn Sink>) -> Out<'a> {
    match sink {
        Some(sink) => Out::new(queue, &mut **sink),
        None => Out::queued(queue),
    }
}

/// The client of a new TCP conversation: the SYN's sender; without a handshake, the
/// side not on the lab port.
fn client_of_tcp(pkt: &Packet<'_>, seg: &packet::TcpSegment<'_>, port: u16) -> SocketAddr {
    if seg.flags.syn && !seg.flags.ack {
        pkt.src
    } else if seg.flags.syn {
        pkt.dst
    } else if pkt.dst.port() == port && pkt.src.port() != port {
        pkt.src
    } else if pkt.src.port() == port && pkt.dst.port() != port {
        pkt.dst
    } else {
        pkt.src
    }
}
