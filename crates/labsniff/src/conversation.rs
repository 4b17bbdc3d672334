//! One conversation: TCP endpoint states (Zeek's model), handshake and teardown
//! details, per-direction reassembly feeding the dissector, and its final record.

use crate::dissect::{ConvInfo, Dissector};
use crate::event::{
    seconds, ConversationRecord, Diagnostic, Dir, Event, FrameAt, GapRecord, Severity, SynOptions,
    TcpDetails, TransportKind,
};
use crate::packet::{Packet, TcpSegment};
use crate::queue::EventQueue;
use crate::reassembly::{GapReason, Piece, Reassembler, SegmentKind};
use labproto::Proto;
use std::net::SocketAddr;

/// An endpoint's TCP state, as Zeek tracks it for conn_state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Nothing seen from it.
    Inactive,
    /// Sent a SYN.
    SynSent,
    /// Sent a SYN-ACK.
    SynAckSent,
    /// Seen only mid-stream (no SYN).
    Partial,
    Established,
    /// Sent a FIN.
    Closed,
    /// Sent a RST.
    Reset,
}

/// Settings that shape every conversation.
#[derive(Debug, Clone, Copy)]
pub struct ConvConfig {
    pub forced: Option<Proto>,
    pub max_size: u32,
    pub max_ooo_bytes: usize,
}

/// (frame, timestamp) of the segment that carried some bytes.
type Tag = (u64, u64);

/// One TCP or UDP conversation between a client and the lab server.
#[derive(Debug)]
pub struct Conversation {
    pub id: u64,
    pub transport: TransportKind,
    pub client: SocketAddr,
    pub server: SocketAddr,
    endpoints: [Endpoint; 2],
    reassemblers: [Option<Reassembler<Tag>>; 2],
    fin_seq: [Option<u32>; 2],
    fin_acked: [bool; 2],
    sent: [bool; 2],
    details: TcpDetails,
    syn_ts: Option<u64>,
    first_frame: u64,
    last_frame: u64,
    start_ts: u64,
    end_ts: u64,
    frames: [u64; 2],
    bytes: [u64; 2],
    gaps: Vec<GapRecord>,
    dissector: Dissector,
    max_ooo_bytes: usize,
    /// Wireshark's `tcp.stream` (set by the analyzer).
    tcp_stream: Option<u64>,
    /// Per direction: the first and the last frame that carried payload.
    payload_at: [Option<(FrameAt, FrameAt)>; 2],
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
            endpoints: [Endpoint::Inactive; 2],
            reassemblers: [None, None],
            fin_seq: [None; 2],
            fin_acked: [false; 2],
            sent: [false; 2],
            details: TcpDetails::default(),
            syn_ts: None,
            first_frame: first.frame,
            last_frame: first.frame,
            start_ts: first.ts,
            end_ts: first.ts,
            frames: [0; 2],
            bytes: [0; 2],
            gaps: Vec::new(),
            dissector: Dissector::new(info, forced, config.max_size),
            max_ooo_bytes: config.max_ooo_bytes,
            tcp_stream: None,
            payload_at: [None; 2],
        }
    }

    /// Wireshark's stream number of this TCP conversation.
    pub fn set_tcp_stream(&mut self, stream: u64) {
        self.tcp_stream = Some(stream);
    }

    /// A frame of `dir` carried payload.
    fn payload_seen(&mut self, dir: Dir, pkt: &Packet<'_>) {
        let at = FrameAt {
            frame: pkt.frame,
            ts: seconds(pkt.ts),
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

    /// The client's ISN, once its SYN was seen.
    pub fn client_isn(&self) -> Option<u32> {
        self.details.client_isn
    }

    fn count(&mut self, dir: Dir, pkt: &Packet<'_>) {
        self.frames[dir.index()] += 1;
        self.last_frame = pkt.frame;
        self.end_ts = pkt.ts;
        self.sent[dir.index()] = true;
    }

    /// A UDP datagram: one message.
    pub fn udp(&mut self, dir: Dir, pkt: &Packet<'_>, out: &mut EventQueue) {
        self.count(dir, pkt);
        let (payload, wire_len) = pkt.payload();
        if payload.len() < wire_len {
            out.push(Event::Diagnostic(Diagnostic {
                severity: Severity::Warning,
                code: "frame_truncated",
                frame: Some(pkt.frame),
                conv: Some(self.id),
                text: format!(
                    "frame {}: the capture kept {} of the {} bytes of this UDP datagram (snaplen); the message below is cut short",
                    pkt.frame,
                    payload.len(),
                    wire_len
                ),
            }));
        }
        self.payload_seen(dir, pkt);
        let offset = self.bytes[dir.index()];
        self.bytes[dir.index()] += payload.len() as u64;
        self.dissector
            .datagram(dir, offset, payload, pkt.frame, pkt.ts, out);
    }

    /// A TCP segment. Returns true when the conversation has ended (RST, or both FINs
    /// acknowledged) and should be finished.
    pub fn tcp(
        &mut self,
        dir: Dir,
        pkt: &Packet<'_>,
        seg: &TcpSegment<'_>,
        out: &mut EventQueue,
    ) -> bool {
        self.count(dir, pkt);
        let i = dir.index();
        let peer = 1 - i;
        let flags = seg.flags;
        let options = SynOptions {
            mss: seg.options.mss,
            window_scale: seg.options.window_scale,
            sack_permitted: seg.options.sack_permitted,
            timestamps: seg.options.timestamps,
        };
        let mut retransmitted_syn = false;
        if flags.syn && !flags.ack {
            if self.details.syn_frame.is_none() {
                self.details.syn_frame = Some(pkt.frame);
                self.details.syn_ts = Some(seconds(pkt.ts));
                self.syn_ts = Some(pkt.ts);
                self.details.client_isn = Some(seg.seq);
                self.details.client_options = Some(options);
            } else {
                retransmitted_syn = true;
            }
            if self.endpoints[i] == Endpoint::Inactive {
                self.endpoints[i] = Endpoint::SynSent;
            }
        } else if flags.syn {
            if self.details.syn_ack_frame.is_none() {
                self.details.syn_ack_frame = Some(pkt.frame);
                self.details.syn_ack_ts = Some(seconds(pkt.ts));
                self.details.server_isn = Some(seg.seq);
                self.details.server_options = Some(options);
                if let Some(syn) = self.syn_ts {
                    self.details.handshake_rtt = Some(seconds(pkt.ts.saturating_sub(syn)));
                }
            } else {
                retransmitted_syn = true;
            }
            if self.endpoints[i] == Endpoint::Inactive {
                self.endpoints[i] = Endpoint::SynAckSent;
            }
        } else if !flags.rst {
            let handshaking = |e: Endpoint| matches!(e, Endpoint::SynSent | Endpoint::SynAckSent);
            if self.endpoints[i] == Endpoint::Inactive {
                self.endpoints[i] = Endpoint::Partial;
            } else if flags.ack
                && handshaking(self.endpoints[i])
                && (handshaking(self.endpoints[peer])
                    || self.endpoints[peer] == Endpoint::Established)
            {
                if self.details.ack_frame.is_none() && dir == Dir::ClientToServer {
                    self.details.ack_frame = Some(pkt.frame);
                    self.details.ack_ts = Some(seconds(pkt.ts));
                }
                self.endpoints[i] = Endpoint::Established;
                if handshaking(self.endpoints[peer]) {
                    self.endpoints[peer] = Endpoint::Established;
                }
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
            let largest = match dir {
                Dir::ClientToServer => &mut self.details.largest_segment_c2s,
                Dir::ServerToClient => &mut self.details.largest_segment_s2c,
            };
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
                Dir::ClientToServer => self.details.out_of_order_c2s += 1,
                Dir::ServerToClient => self.details.out_of_order_s2c += 1,
            },
            SegmentKind::InOrder | SegmentKind::Empty => {}
        }

        if flags.fin {
            let fin = data_seq.wrapping_add(seg.wire_len as u32);
            self.fin_seq[i].get_or_insert(fin);
            let (frame, ts) = match dir {
                Dir::ClientToServer => (
                    &mut self.details.fin_c2s_frame,
                    &mut self.details.fin_c2s_ts,
                ),
                Dir::ServerToClient => (
                    &mut self.details.fin_s2c_frame,
                    &mut self.details.fin_s2c_ts,
                ),
            };
            if frame.is_none() {
                *frame = Some(pkt.frame);
                *ts = Some(seconds(pkt.ts));
            }
            self.details.first_fin_by.get_or_insert(dir.sender());
            if self.endpoints[i] != Endpoint::Reset {
                self.endpoints[i] = Endpoint::Closed;
            }
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
            let (reassemblers, mut router) = self.router(dir_from(peer), pkt.frame, out);
            if let Some(r) = reassemblers[peer].as_mut() {
                r.acked(target, &mut |p| router.take(p));
            }
        }

        if flags.rst {
            self.endpoints[i] = Endpoint::Reset;
            if self.details.rst_frame.is_none() {
                self.details.rst_frame = Some(pkt.frame);
                self.details.rst_ts = Some(seconds(pkt.ts));
                self.details.rst_by = Some(dir.sender());
            }
            return true;
        }
        self.fin_acked[0] && self.fin_acked[1]
    }

    fn retransmission(&mut self, dir: Dir) {
        match dir {
            Dir::ClientToServer => self.details.retransmissions_c2s += 1,
            Dir::ServerToClient => self.details.retransmissions_s2c += 1,
        }
    }

    /// Split borrows: the reassemblers, and a router that hands their pieces to the
    /// dissector (no copy of the bytes).
    fn router<'s>(
        &'s mut self,
        dir: Dir,
        frame: u64,
        out: &'s mut EventQueue,
    ) -> (&'s mut [Option<Reassembler<Tag>>; 2], Router<'s>) {
        (
            &mut self.reassemblers,
            Router {
                id: self.id,
                max_ooo_bytes: self.max_ooo_bytes,
                dir,
                frame,
                dissector: &mut self.dissector,
                bytes: &mut self.bytes,
                gaps: &mut self.gaps,
                out,
            },
        )
    }

    /// Close the conversation: flush reassembly, finish dissection, build the record.
    pub fn finish(mut self, frame: u64, out: &mut EventQueue) -> ConversationRecord {
        for i in 0..2 {
            let fin = self.fin_seq[i];
            let (reassemblers, mut router) = self.router(dir_from(i), frame, out);
            if let Some(r) = reassemblers[i].as_mut() {
                r.flush(fin, &mut |p| router.take(p));
            }
        }
        self.dissector.finish(frame, out);
        let tcp = self.transport == TransportKind::Tcp;
        let details = &self.details;
        ConversationRecord {
            conv: self.id,
            transport: self.transport,
            client: self.client.to_string(),
            server: self.server.to_string(),
            proto: self
                .dissector
                .proto()
                .filter(|_| self.bytes != [0, 0])
                .map(Proto::as_str),
            state: if tcp {
                self.tcp_state()
            } else {
                self.udp_state()
            },
            bytes_c2s: self.bytes[0],
            bytes_s2c: self.bytes[1],
            messages_c2s: self.dissector.messages(Dir::ClientToServer),
            messages_s2c: self.dissector.messages(Dir::ServerToClient),
            gaps: self.gaps.clone(),
            first_frame: self.first_frame,
            last_frame: self.last_frame,
            start_ts: seconds(self.start_ts),
            end_ts: seconds(self.end_ts),
            frames_c2s: self.frames[0],
            frames_s2c: self.frames[1],
            retransmissions: details.retransmissions_c2s + details.retransmissions_s2c,
            out_of_order: details.out_of_order_c2s + details.out_of_order_s2c,
            tcp: tcp.then(|| details.clone()),
            tcp_stream: self.tcp_stream,
            first_payload_c2s: self.payload_at[0].map(|(first, _)| first),
            last_payload_c2s: self.payload_at[0].map(|(_, last)| last),
            first_payload_s2c: self.payload_at[1].map(|(first, _)| first),
            last_payload_s2c: self.payload_at[1].map(|(_, last)| last),
        }
    }

    /// Zeek's conn_state for TCP (base/protocols/conn/main.zeek), originator = client.
    fn tcp_state(&self) -> &'static str {
        use Endpoint::*;
        let (os, rs) = (self.endpoints[0], self.endpoints[1]);
        let o_inactive = matches!(os, Inactive | Partial);
        let r_inactive = matches!(rs, Inactive | Partial);
        if rs == Reset {
            if matches!(os, SynSent | SynAckSent) || (os == Reset && self.bytes == [0, 0]) {
                "REJ"
            } else if o_inactive {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == Reset {
            if !r_inactive {
                "RSTO"
            } else if self.details.syn_frame.is_some() {
                "RSTOS0"
            } else {
                "OTH"
            }
        } else if rs == Closed && os == Closed {
            "SF"
        } else if os == Closed {
            if r_inactive {
                "SH"
            } else {
                "S2"
            }
        } else if rs == Closed {
            if o_inactive {
                "SHR"
            } else {
                "S3"
            }
        } else if os == SynSent && rs == Inactive {
            "S0"
        } else if os == Established && rs == Established {
            "S1"
        } else {
            "OTH"
        }
    }

    /// Zeek's conn_state for UDP.
    fn udp_state(&self) -> &'static str {
        match (self.sent[0], self.sent[1]) {
            (true, true) => "SF",
            (true, false) => "S0",
            (false, true) => "SHR",
            (false, false) => "OTH",
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

/// Routes reassembled pieces of one direction to the dissector and reports gaps.
struct Router<'s> {
    id: u64,
    max_ooo_bytes: usize,
    dir: Dir,
    /// The frame being processed (gaps are reported at it).
    frame: u64,
    dissector: &'s mut Dissector,
    bytes: &'s mut [u64; 2],
    gaps: &'s mut Vec<GapRecord>,
    out: &'s mut EventQueue,
}

impl Router<'_> {
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
        let reason_name = match reason {
            GapReason::Acked => "acked",
            GapReason::Overflow => "overflow",
            GapReason::Truncated => "truncated",
            GapReason::Flush => "flush",
        };
        self.gaps.push(GapRecord {
            dir,
            bytes: len,
            offset,
            reason: reason_name,
        });
        let mut text = format!(
            "frame {frame}: {len} bytes of the {}'s stream (stream offsets {offset} to {}) are missing from the capture: {}",
            dir.sender(),
            offset + len - 1,
            reason.explain()
        );
        if reason == GapReason::Overflow {
            text.push_str(&format!(
                " (cap {} bytes, --max-ooo-bytes)",
                self.max_ooo_bytes
            ));
        }
        if dropped > 0 {
            text.push_str(&format!(
                "; the unfinished message before the gap ({dropped} bytes) is dropped"
            ));
        }
        self.out.push(Event::Diagnostic(Diagnostic {
            severity: Severity::Warning,
            code: if reason == GapReason::Overflow {
                "ooo_overflow"
            } else {
                "gap"
            },
            frame: Some(frame),
            conv: Some(self.id),
            text,
        }));
    }
}
