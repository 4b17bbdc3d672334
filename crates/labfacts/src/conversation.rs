//! One conversation: TCP endpoint states (Zeek's model), handshake and teardown
//! details, per-direction reassembly feeding the dissector, and its final record.

use crate::analysis::conn_state::{ConnState, SegmentFlags};
use crate::analysis::TcpFlowAnalysis;
use crate::dissect::Dissector;
use crate::event::{
    seconds, AnalysisEvent, CapturePoint, ConversationRecord, Diagnostic, DiagnosticKind, Dir,
    Event, FrameAt, GapRecord, RstRefused, Severity, SynAttempt, SynOptions, TcpDetails,
    TransportKind, ZeekState,
};
use crate::packet::{Packet, TcpSegment};
use crate::queue::ConvInfo;
use crate::queue::Out;
use crate::reassembly::{GapReason, Piece, Reassembler, SegmentKind};
use labproto::Proto;
use std::net::SocketAddr;

/// Settings that shape every conversation.
#[derive(Debug, Clone, Copy)]
pub struct ConvConfig {
    pub forced: Option<Proto>,
    pub max_size: u32,
    pub max_ooo_bytes: usize,
}

/// (frame, timestamp) of the segment that carried some bytes.
type Tag = (u64, u64);

/// An ACK covered bytes of the other direction that the capture has not shown (yet).
/// The data is often captured just after its ACK (capture order across CPUs,
/// loopback), so the bytes are given up only after [`ACK_GAP_FRAMES`] more frames of
/// the conversation or [`ACK_GAP_MICROS`] of capture time without them.
#[derive(Debug, Clone, Copy)]
struct AckWait {
    /// The first ACK that covered the unseen bytes.
    frame: u64,
    ts: u64,
    /// Frames of this conversation after that ACK, this one included.
    frames_since: u32,
}

/// The client's SYNs kept per conversation (Linux sends at most 7: the first and 6
/// retries, net.ipv4.tcp_syn_retries).
const SYN_ATTEMPTS_KEPT: usize = 16;

/// Frames of a conversation after an ACK of unseen bytes before they are declared
/// missing. Swaps in capture order span a few frames; 64 leaves a wide margin while
/// holding back at most 64 segments' worth of later messages.
pub const ACK_GAP_FRAMES: u32 = 64;
/// Capture time after an ACK of unseen bytes before they are declared missing: the
/// swaps it covers take microseconds.
pub const ACK_GAP_MICROS: u64 = 1_000_000;

/// One TCP or UDP conversation between a client and the lab server.
#[derive(Debug)]
pub struct Conversation {
    pub id: u64,
    pub transport: TransportKind,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Zeek's endpoint states and history.
    state: ConnState,
    /// Wireshark's per-segment TCP analysis.
    flow: TcpFlowAnalysis,
    /// Per side: one past the highest sequence number it used (SYN and FIN count).
    snd_max: [Option<u32>; 2],
    /// Per side: the last window it advertised (unscaled field).
    window: [Option<u16>; 2],
    reassemblers: [Option<Reassembler<Tag>>; 2],
    fin_seq: [Option<u32>; 2],
    fin_acked: [bool; 2],
    ack_wait: [Option<AckWait>; 2],
    sent: [bool; 2],
    last_frame: u64,
    end_ts: u64,
    frames: [u64; 2],
    bytes: [u64; 2],
    dissector: Dissector,
    max_ooo_bytes: usize,
    /// Per direction: the first and the last frame that carried payload.
    payload_at: [Option<(PayloadAt, PayloadAt)>; 2],
    /// `details.irtt` in microseconds, as the flow analysis last gave it.
    irtt_micros: Option<u64>,
    /// Per direction: the largest segment (`details.largest_segment_*`, set when the
    /// record is built), here because every segment with payload updates it.
    largest_segment: [u64; 2],
    /// `details.ack_frame` is set: the handshake's ACK is no longer looked for (which
    /// would read the cold part on every segment of the client).
    handshake_acked: bool,
    /// What most segments do not touch.
    cold: Box<Cold>,
}

/// The state of a conversation that most segments leave alone: handshake and teardown
/// facts, gaps, identifiers. Boxed, so that the state every segment reads and writes
/// spans fewer cache lines (the conversation went from 1,896 to 1,288 bytes): with
/// thousands of open conversations each segment finds its conversation out of the L1
/// cache, line by line (cachegrind, 5,000 conversations: 8% fewer D1 misses).
#[derive(Debug)]
struct Cold {
    details: TcpDetails,
    syn_ts: Option<u64>,
    /// The client's last SYN captured (the one a SYN-ACK answers).
    last_syn_ts: Option<u64>,
    syn_ack_ts: Option<u64>,
    /// The acknowledgement number of the SYN-ACK (the client's ISN + 1).
    syn_ack_acks: Option<u32>,
    first_frame: u64,
    start_ts: u64,
    gaps: Vec<GapRecord>,
    /// Wireshark's `tcp.stream` (set by the analyzer).
    tcp_stream: Option<u64>,
    /// A reassembled IP datagram of this conversation was explained already.
    reassembly_noted: bool,
}

impl Conversation {
    pub fn new(
        id: u64,
        transport: TransportKind,
        client: SocketAddr,
        server: SocketAddr,
        first: &Packet<'_>,
        config: &ConvConfig,
    ) -> Conversation {
        let info = ConvInfo {
            conv: id,
            transport,
            client: client.to_string().into(),
            server: server.to_string().into(),
        };
        let forced = match transport {
            TransportKind::Tcp => config.forced,
            TransportKind::Udp => Some(config.forced.unwrap_or(Proto::Text)),
        };
        Conversation {
            id,
            transport,
            client,
            server,
            state: ConnState::new(),
            flow: TcpFlowAnalysis::new(),
            snd_max: [None; 2],
            window: [None; 2],
            reassemblers: [None, None],
            fin_seq: [None; 2],
            fin_acked: [false; 2],
            ack_wait: [None; 2],
            sent: [false; 2],
            last_frame: first.frame,
            end_ts: first.ts,
            frames: [0; 2],
            bytes: [0; 2],
            dissector: Dissector::new(info, forced, config.max_size),
            max_ooo_bytes: config.max_ooo_bytes,
            payload_at: [None; 2],
            irtt_micros: None,
            largest_segment: [0; 2],
            handshake_acked: false,
            cold: Box::new(Cold {
                details: TcpDetails::default(),
                syn_ts: None,
                last_syn_ts: None,
                syn_ack_ts: None,
                syn_ack_acks: None,
                first_frame: first.frame,
                start_ts: first.ts,
                gaps: Vec::new(),
                tcp_stream: None,
                reassembly_noted: false,
            }),
        }
    }

    /// True the first time it is called: the first reassembled IP datagram of this
    /// conversation gets a note, later ones do not.
    pub fn first_reassembled(&mut self) -> bool {
        !std::mem::replace(&mut self.cold.reassembly_noted, true)
    }

    /// Wireshark's stream number of this TCP conversation.
    pub fn set_tcp_stream(&mut self, stream: u64) {
        self.cold.tcp_stream = Some(stream);
    }

    /// A frame of `dir` carried payload.
    fn payload_seen(&mut self, dir: Dir, pkt: &Packet<'_>) {
        let at = PayloadAt {
            frame: pkt.frame,
            ts: pkt.ts,
        };
        let slot = &mut self.payload_at[dir.index()];
        match slot {
            Some((_, last)) => *last = at,
            None => *slot = Some((at, at)),
        }
    }

    /// The direction of a packet from `src`.
    pub fn dir_of(&self, src: SocketAddr) -> Dir {
        if src == self.client {
            Dir::ClientToServer
        } else {
            Dir::ServerToClient
        }
    }

    /// Whether a client SYN with sequence number `seq` belongs to this conversation:
    /// its ISN is the one seen, or, when the SYN-ACK was captured before the SYN, the
    /// SYN-ACK acknowledged `seq + 1`. Otherwise it starts a new connection.
    pub fn is_same_syn(&self, seq: u32) -> bool {
        match self.cold.details.client_isn {
            Some(isn) => isn == seq,
            None => self.cold.syn_ack_acks == Some(seq.wrapping_add(1)),
        }
    }

    fn count(&mut self, dir: Dir, pkt: &Packet<'_>) {
        self.frames[dir.index()] += 1;
        self.last_frame = pkt.frame;
        self.end_ts = pkt.ts;
        self.sent[dir.index()] = true;
    }

    /// A UDP datagram: one message. `fragments`: the frames of its IP fragments, in
    /// capture order, when it was reassembled (they all carried the message).
    pub fn udp(&mut self, dir: Dir, pkt: &Packet<'_>, fragments: &[u64], out: &mut Out<'_>) {
        self.count(dir, pkt);
        let (payload, wire_len) = pkt.payload();
        if payload.len() < wire_len {
            out.push(Event::Diagnostic(Diagnostic {
                severity: Severity::Warning,
                frame: Some(pkt.frame),
                conv: Some(self.id),
                kind: DiagnosticKind::UdpTruncated {
                    captured: payload.len(),
                    wire_len,
                },
            }));
        }
        self.payload_seen(dir, pkt);
        let offset = self.bytes[dir.index()];
        self.bytes[dir.index()] += payload.len() as u64;
        let one = [pkt.frame];
        let frames = if fragments.is_empty() {
            &one[..]
        } else {
            fragments
        };
        self.dissector
            .datagram(dir, offset, payload, frames, pkt.ts, out);
    }

    /// A TCP segment. Returns true when the conversation has ended (RST, or both FINs
    /// acknowledged) and should be finished.
    pub fn tcp(
        &mut self,
        dir: Dir,
        pkt: &Packet<'_>,
        seg: &TcpSegment<'_>,
        out: &mut Out<'_>,
    ) -> bool {
        self.count(dir, pkt);
        // Before this frame's bytes: a window that has passed ends before them.
        self.expire_ack_waits(pkt, out);
        let i = dir.index();
        let peer = 1 - i;
        let flags = seg.flags;
        self.analyse_segment(dir, pkt, seg, out);
        if flags.rst {
            if let Some(why) = self.unacceptable_rst(dir, seg) {
                self.cold.details.rsts_ignored += 1;
                out.push(Event::Diagnostic(Diagnostic {
                    severity: Severity::Warning,
                    frame: Some(pkt.frame),
                    conv: Some(self.id),
                    kind: DiagnosticKind::RstIgnored { dir, why },
                }));
                return false;
            }
        }
        self.state.segment(
            i,
            SegmentFlags {
                syn: flags.syn,
                ack: flags.ack,
                fin: flags.fin,
                rst: flags.rst,
            },
            seg.wire_len,
        );
        if !flags.rst {
            let end = seg
                .seq
                .wrapping_add(seg.wire_len as u32)
                .wrapping_add(u32::from(flags.syn) + u32::from(flags.fin));
            let newer = self.snd_max[i].is_none_or(|m| (end.wrapping_sub(m) as i32) > 0);
            if newer {
                self.snd_max[i] = Some(end);
            }
            self.window[i] = Some(seg.window);
        }
        let options = SynOptions {
            mss: seg.options.mss,
            window_scale: seg.options.window_scale,
            sack_permitted: seg.options.sack_permitted,
            timestamps: seg.options.timestamps,
        };
        let mut retransmitted_syn = false;
        if flags.syn && !flags.ack && dir == Dir::ClientToServer {
            self.cold.last_syn_ts = Some(pkt.ts);
            if self.cold.details.syn_attempts.len() < SYN_ATTEMPTS_KEPT {
                self.cold.details.syn_attempts.push(SynAttempt {
                    frame: pkt.frame,
                    ts: seconds(pkt.ts),
                });
            }
            if self.cold.details.syn_frame.is_some() {
                self.cold.details.syn_retransmissions += 1;
            }
        }
        if flags.syn && !flags.ack {
            if self.cold.details.syn_frame.is_none() {
                self.cold.details.syn_frame = Some(pkt.frame);
                self.cold.details.syn_ts = Some(seconds(pkt.ts));
                self.cold.syn_ts = Some(pkt.ts);
                self.cold.details.client_isn = Some(seg.seq);
                self.cold.details.client_options = Some(options);
            } else {
                retransmitted_syn = true;
            }
        } else if flags.syn {
            if self.cold.details.syn_ack_frame.is_none() {
                self.cold.details.syn_ack_frame = Some(pkt.frame);
                self.cold.details.syn_ack_ts = Some(seconds(pkt.ts));
                self.cold.details.server_isn = Some(seg.seq);
                self.cold.syn_ack_acks = Some(seg.ack);
                self.cold.details.server_options = Some(options);
                // The SYN-ACK answers the last SYN that reached the server: measure
                // from the last one captured before it, not from the first attempt.
                if let Some(syn) = self.cold.last_syn_ts {
                    self.cold.details.handshake_rtt = Some(seconds(pkt.ts.saturating_sub(syn)));
                }
                self.cold.syn_ack_ts = Some(pkt.ts);
            } else {
                retransmitted_syn = true;
            }
        } else if !flags.rst && flags.ack && dir == Dir::ClientToServer && !self.handshake_acked {
            // The handshake's ACK: the client's first ACK of the SYN-ACK.
            let cold = &mut *self.cold;
            let details = &mut cold.details;
            let acks_syn_ack = details
                .server_isn
                .is_some_and(|isn| seg.ack == isn.wrapping_add(1));
            if acks_syn_ack && details.ack_frame.is_none() {
                details.ack_frame = Some(pkt.frame);
                self.handshake_acked = true;
                details.ack_ts = Some(seconds(pkt.ts));
                if let Some(syn_ack) = cold.syn_ack_ts {
                    details.syn_ack_to_ack = Some(seconds(pkt.ts.saturating_sub(syn_ack)));
                }
                details.capture_point =
                    CapturePoint::from_handshake(details.handshake_rtt, details.syn_ack_to_ack);
            }
        }
        if retransmitted_syn {
            self.retransmission(dir);
        }
        // Stream data.
        let data_seq = if flags.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        if self.reassemblers[i].is_none() && !flags.rst {
            self.reassemblers[i] = Some(Reassembler::new(data_seq, self.max_ooo_bytes));
        }
        let mut kind = SegmentKind::Empty;
        if !seg.payload.is_empty() || seg.wire_len > 0 {
            self.payload_seen(dir, pkt);
            let largest = &mut self.largest_segment[i];
            *largest = (*largest).max(seg.wire_len.max(seg.payload.len()) as u64);
            let (reassemblers, mut router) = self.router(dir, pkt.frame, out);
            if let Some(r) = reassemblers[i].as_mut() {
                let inserted = r.insert(
                    data_seq,
                    seg.payload,
                    seg.wire_len,
                    (pkt.frame, pkt.ts),
                    &mut |p| router.take(p),
                );
                kind = inserted.kind;
            }
        }
        match kind {
            SegmentKind::Retransmission => self.retransmission(dir),
            SegmentKind::OutOfOrder => match dir {
                Dir::ClientToServer => self.cold.details.out_of_order_c2s += 1,
                Dir::ServerToClient => self.cold.details.out_of_order_s2c += 1,
            },
            SegmentKind::InOrder | SegmentKind::Empty => {}
        }

        if flags.fin {
            let fin = data_seq.wrapping_add(seg.wire_len as u32);
            self.fin_seq[i].get_or_insert(fin);
            let (frame, ts) = match dir {
                Dir::ClientToServer => (
                    &mut self.cold.details.fin_c2s_frame,
                    &mut self.cold.details.fin_c2s_ts,
                ),
                Dir::ServerToClient => (
                    &mut self.cold.details.fin_s2c_frame,
                    &mut self.cold.details.fin_s2c_ts,
                ),
            };
            if frame.is_none() {
                *frame = Some(pkt.frame);
                *ts = Some(seconds(pkt.ts));
            }
            self.cold.details.first_fin_by.get_or_insert(dir.side());
        }

        // The ACK proves what the peer received.
        if flags.ack && !flags.rst {
            let mut target = seg.ack;
            if let Some(fin) = self.fin_seq[peer] {
                if seg.ack == fin.wrapping_add(1) {
                    self.fin_acked[peer] = true;
                    target = fin;
                }
            }
            let unseen = self.reassemblers[peer]
                .as_mut()
                .is_some_and(|r| r.acked(target));
            if unseen && self.ack_wait[peer].is_none() {
                self.ack_wait[peer] = Some(AckWait {
                    frame: pkt.frame,
                    ts: pkt.ts,
                    frames_since: 0,
                });
            }
        }

        if flags.rst {
            if self.cold.details.rst_frame.is_none() {
                self.cold.details.rst_frame = Some(pkt.frame);
                self.cold.details.rst_ts = Some(seconds(pkt.ts));
                self.cold.details.rst_by = Some(dir.side());
            }
            return true;
        }
        self.fin_acked[0] && self.fin_acked[1]
    }

    /// Give up acknowledged bytes that did not show up within the window, and forget
    /// waits whose bytes arrived.
    fn expire_ack_waits(&mut self, pkt: &Packet<'_>, out: &mut Out<'_>) {
        for i in 0..2 {
            let Some(mut wait) = self.ack_wait[i] else {
                continue;
            };
            let unseen = self.reassemblers[i]
                .as_ref()
                .map_or(0, Reassembler::acked_unseen);
            if unseen == 0 {
                self.ack_wait[i] = None;
                continue;
            }
            wait.frames_since += 1;
            if wait.frames_since > ACK_GAP_FRAMES
                || pkt.ts.saturating_sub(wait.ts) >= ACK_GAP_MICROS
            {
                self.ack_wait[i] = None;
                let (reassemblers, mut router) = self.router(dir_from(i), wait.frame, out);
                if let Some(r) = reassemblers[i].as_mut() {
                    r.declare_acked(&mut |p| router.take(p));
                }
            } else {
                self.ack_wait[i] = Some(wait);
            }
        }
    }

    /// Wireshark's analysis of this segment; a flagged frame becomes an event.
    fn analyse_segment(
        &mut self,
        dir: Dir,
        pkt: &Packet<'_>,
        seg: &TcpSegment<'_>,
        out: &mut Out<'_>,
    ) {
        let analysis = self.flow.segment(dir, pkt.frame, pkt.ts, seg);
        // Converted to seconds only when it changes (once, at the handshake's end):
        // an f64 division on every segment was a fifth of this function's time.
        let rtt = self.flow.initial_rtt();
        if rtt.is_some() && rtt != self.irtt_micros {
            self.irtt_micros = rtt;
            self.cold.details.irtt = rtt.map(seconds);
        }
        if analysis.flags.is_empty() {
            return;
        }
        self.cold.details.analysis.count(dir, analysis.flags);
        let (own_isn, peer_isn) = match dir {
            Dir::ClientToServer => (self.cold.details.client_isn, self.cold.details.server_isn),
            Dir::ServerToClient => (self.cold.details.server_isn, self.cold.details.client_isn),
        };
        out.push(Event::Analysis(AnalysisEvent {
            frame: pkt.frame,
            conv: self.id,
            dir,
            flags: analysis.flags,
            ts: seconds(pkt.ts),
            seq: seg.seq,
            seq_rel: own_isn.map(|isn| seg.seq.wrapping_sub(isn)),
            ack: seg.ack,
            ack_rel: peer_isn
                .filter(|_| seg.flags.ack)
                .map(|isn| seg.ack.wrapping_sub(isn)),
            len: seg.wire_len.min(u32::MAX as usize) as u32,
            syn: seg.flags.syn,
            fin: seg.flags.fin,
            window: seg.window,
            duplicate_ack: analysis.duplicate_ack,
            retransmitted: analysis.retransmitted,
            capture_point: self.cold.details.capture_point,
            capture_dropped_before: out.capture_dropped(),
        }));
    }

    /// Why a RST from `dir` would not be accepted by the receiving TCP (RFC 9293
    /// 3.10.7.3 and RFC 5961 3.2), or `None` when it would be. In SYN-SENT a RST counts
    /// only if it acknowledges the SYN; afterwards its sequence number must fall in the
    /// receiver's window, starting at the next byte expected from the RST's sender.
    fn unacceptable_rst(&self, dir: Dir, seg: &TcpSegment<'_>) -> Option<RstRefused> {
        let (i, peer) = (dir.index(), 1 - dir.index());
        if dir == Dir::ServerToClient && self.cold.details.syn_ack_frame.is_none() {
            let isn = self.cold.details.client_isn?;
            let wanted = isn.wrapping_add(1);
            return if !seg.flags.ack {
                Some(RstRefused::SynSentNoAck { wanted })
            } else if seg.ack != wanted {
                Some(RstRefused::SynSentWrongAck {
                    ack: seg.ack,
                    isn,
                    wanted,
                })
            } else {
                None
            };
        }
        let expected = self.snd_max[i]?;
        let scaled = match (
            self.cold.details.client_options,
            self.cold.details.server_options,
        ) {
            (Some(c), Some(s)) if c.window_scale.is_some() && s.window_scale.is_some() => {
                let shift = if peer == 0 {
                    c.window_scale
                } else {
                    s.window_scale
                };
                u32::from(shift.unwrap_or(0).min(14))
            }
            _ => 0,
        };
        let window = self.window[peer].map_or(u32::from(u16::MAX), |w| u32::from(w) << scaled);
        let offset = seg.seq.wrapping_sub(expected) as i32;
        // One below is accepted too: a RST after a FIN may reuse the FIN's number.
        if offset >= -1 && i64::from(offset) <= i64::from(window.max(1)) {
            None
        } else {
            Some(RstRefused::OutsideWindow {
                seq: seg.seq,
                expected,
                window,
            })
        }
    }

    fn retransmission(&mut self, dir: Dir) {
        match dir {
            Dir::ClientToServer => self.cold.details.retransmissions_c2s += 1,
            Dir::ServerToClient => self.cold.details.retransmissions_s2c += 1,
        }
    }

    /// Split borrows: the reassemblers, and a router that hands their pieces to the
    /// dissector (no copy of the bytes).
    fn router<'s, 'o>(
        &'s mut self,
        dir: Dir,
        frame: u64,
        out: &'s mut Out<'o>,
    ) -> (&'s mut [Option<Reassembler<Tag>>; 2], Router<'s, 'o>) {
        (
            &mut self.reassemblers,
            Router {
                id: self.id,
                max_ooo_bytes: self.max_ooo_bytes,
                dir,
                frame,
                dissector: &mut self.dissector,
                bytes: &mut self.bytes,
                gaps: &mut self.cold.gaps,
                out,
            },
        )
    }

    /// Close the conversation: flush reassembly, finish dissection, build the record.
    pub fn finish(mut self, frame: u64, out: &mut Out<'_>) -> ConversationRecord {
        for i in 0..2 {
            if let Some(wait) = self.ack_wait[i].take() {
                let (reassemblers, mut router) = self.router(dir_from(i), wait.frame, out);
                if let Some(r) = reassemblers[i].as_mut() {
                    r.declare_acked(&mut |p| router.take(p));
                }
            }
            let fin = self.fin_seq[i];
            let (reassemblers, mut router) = self.router(dir_from(i), frame, out);
            if let Some(r) = reassemblers[i].as_mut() {
                r.flush(fin, &mut |p| router.take(p));
            }
        }
        self.dissector.finish(frame, out);
        let tcp = self.transport == TransportKind::Tcp;
        if tcp {
            self.cold.details.history = self.state.history().to_string();
        }
        self.cold.details.largest_segment_c2s = self.largest_segment[0];
        self.cold.details.largest_segment_s2c = self.largest_segment[1];
        let details = &self.cold.details;
        ConversationRecord {
            conv: self.id,
            transport: self.transport,
            client: self.client,
            server: self.server,
            proto: self.dissector.proto().filter(|_| self.bytes != [0, 0]),
            state: if tcp {
                self.tcp_state()
            } else {
                self.udp_state()
            },
            bytes_c2s: self.bytes[0],
            bytes_s2c: self.bytes[1],
            messages_c2s: self.dissector.messages(Dir::ClientToServer),
            messages_s2c: self.dissector.messages(Dir::ServerToClient),
            gaps: self.cold.gaps.clone(),
            first_frame: self.cold.first_frame,
            last_frame: self.last_frame,
            start_ts: seconds(self.cold.start_ts),
            end_ts: seconds(self.end_ts),
            frames_c2s: self.frames[0],
            frames_s2c: self.frames[1],
            retransmissions: details.retransmissions_c2s + details.retransmissions_s2c,
            out_of_order: details.out_of_order_c2s + details.out_of_order_s2c,
            tcp: tcp.then(|| details.clone()),
            tcp_stream: self.cold.tcp_stream,
            first_payload_c2s: self.payload_at[0].map(|(first, _)| first.said()),
            last_payload_c2s: self.payload_at[0].map(|(_, last)| last.said()),
            first_payload_s2c: self.payload_at[1].map(|(first, _)| first.said()),
            last_payload_s2c: self.payload_at[1].map(|(_, last)| last.said()),
        }
    }

    /// Zeek's conn_state for TCP (base/protocols/conn/main.zeek), originator = client.
    fn tcp_state(&self) -> ZeekState {
        self.state.conn_state(self.bytes == [0, 0])
    }

    /// Zeek's conn_state for UDP.
    fn udp_state(&self) -> ZeekState {
        match (self.sent[0], self.sent[1]) {
            (true, true) => ZeekState::Sf,
            (true, false) => ZeekState::S0,
            (false, true) => ZeekState::Shr,
            (false, false) => ZeekState::Oth,
        }
    }
}

fn dir_from(index: usize) -> Dir {
    if index == 0 {
        Dir::ClientToServer
    } else {
        Dir::ServerToClient
    }
}

/// A gap found just after the capture dropped frames: its cause, not the network's.
/// A frame that carried payload, with its capture time in microseconds: seconds
/// (an f64 division) only when the record is built, not for every segment.
#[derive(Debug, Clone, Copy)]
struct PayloadAt {
    frame: u64,
    ts: u64,
}

impl PayloadAt {
    fn said(self) -> FrameAt {
        FrameAt {
            frame: self.frame,
            ts: seconds(self.ts),
        }
    }
}

/// Routes reassembled pieces of one direction to the dissector and reports gaps.
struct Router<'s, 'o> {
    id: u64,
    max_ooo_bytes: usize,
    dir: Dir,
    /// The frame being processed (gaps are reported at it).
    frame: u64,
    dissector: &'s mut Dissector,
    bytes: &'s mut [u64; 2],
    gaps: &'s mut Vec<GapRecord>,
    out: &'s mut Out<'o>,
}

impl Router<'_, '_> {
    fn take(&mut self, piece: Piece<'_, Tag>) {
        match piece {
            Piece::Data { offset, bytes, tag } => {
                self.bytes[self.dir.index()] += bytes.len() as u64;
                self.dissector
                    .data(self.dir, offset, bytes, tag.0, tag.1, self.out);
            }
            Piece::Gap {
                offset,
                len,
                reason,
            } => self.gap(offset, len, reason),
        }
    }

    fn gap(&mut self, offset: u64, len: u64, reason: GapReason) {
        let (dir, frame) = (self.dir, self.frame);
        let dropped = self.dissector.gap(dir, offset, len, frame, self.out);
        let capture_dropped = self.out.capture_dropped();
        self.gaps.push(GapRecord {
            dir,
            bytes: len,
            offset,
            reason,
            capture_dropped_before: capture_dropped,
        });
        self.out.push(Event::Diagnostic(Diagnostic {
            severity: Severity::Warning,
            frame: Some(frame),
            conv: Some(self.id),
            kind: DiagnosticKind::Gap {
                dir,
                offset,
                bytes: len,
                reason,
                capture_dropped,
                max_ooo_bytes: self.max_ooo_bytes,
                unfinished: dropped,
            },
        }));
    }
}
