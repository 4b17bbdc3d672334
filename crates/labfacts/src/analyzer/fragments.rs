//! The analyzer's side of IP reassembly: fragments to the defragmenter, reassembled
//! datagrams on as packets, and the diagnostics for what happened (`fragments_dropped`,
//! `fragments_overlap`, `reassembled`), as facts: labsniff says them.

use super::{flow_key, Analyzer};
use crate::defrag::{Datagram, Fragment};
use crate::event::{Diagnostic, DiagnosticKind, Event, Severity, TransportKind};
use crate::packet::{self, Micros, Packet, Transport};
use std::net::SocketAddr;

const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

impl Analyzer {
    /// One IP fragment, in frame `frame`.
    pub(super) fn fragment(
        &mut self,
        frag: &Fragment<'_>,
        frame: u64,
        ts: Micros,
    ) -> std::io::Result<()> {
        // Taken out so that the packet borrowing it can be analysed with `&mut self`;
        // put back after, keeping its buffers' capacity.
        let mut out = std::mem::take(&mut self.assembled);
        let done = self.defrag.fragment(frag, frame, ts, &mut out);
        let mut result = Ok(());
        self.report_dropped(frame);
        if let Some(dg) = done {
            match packet::decode_reassembled(frame, ts, &out.packet) {
                Ok(Some(pkt)) => {
                    // No sink: its messages are queued (fragments are rare).
                    result = self.packet(&pkt, &out.frames, None);
                    self.explain_reassembled(&pkt, &out.frames, &dg, out.packet.len());
                }
                Ok(None) => {}
                Err(e) => {
                    let len = out.packet.len();
                    self.frame_error(frame, &e, len, u32::try_from(len).unwrap_or(u32::MAX));
                }
            }
        }
        self.assembled = out;
        result
    }

    /// One `fragments_dropped` warning per datagram the defragmenter gave up, at `frame`.
    pub(super) fn report_dropped(&mut self, frame: u64) {
        if !self.defrag.has_dropped() {
            return;
        }
        for gone in self.defrag.take_dropped() {
            let transport = gone.protocol.and_then(transport_of);
            let conv = gone.ports.and_then(|(sport, dport)| {
                let transport = transport?;
                let key = flow_key(
                    transport,
                    SocketAddr::new(gone.key.src(), sport),
                    SocketAddr::new(gone.key.dst(), dport),
                );
                self.open.get(&key).map(|c| c.id)
            });
            self.events.push(Event::Diagnostic(Diagnostic {
                severity: Severity::Warning,
                frame: Some(frame),
                conv,
                kind: DiagnosticKind::FragmentsDropped {
                    dropped: Box::new(gone),
                    transport,
                },
            }));
        }
    }

    /// The note for a conversation's first reassembled datagram, and a warning when its
    /// fragments overlapped.
    fn explain_reassembled(
        &mut self,
        pkt: &Packet<'_>,
        fragments: &[u64],
        dg: &Datagram,
        ip_len: usize,
    ) {
        let port = self.options.port;
        if pkt.src.port() != port && pkt.dst.port() != port {
            return;
        }
        let (transport, payload) = match &pkt.transport {
            Transport::Tcp(seg) => (TransportKind::Tcp, seg.wire_len),
            Transport::Udp { wire_len, .. } => (TransportKind::Udp, *wire_len),
        };
        let key = flow_key(transport, pkt.src, pkt.dst);
        let Some(conv) = self.open.get_mut(&key) else {
            return;
        };
        let id = conv.id;
        let overlapped = dg.partial_overlaps > 0 || dg.differing_bytes > 0;
        if conv.first_reassembled() {
            self.events.push(Event::Diagnostic(Diagnostic {
                severity: Severity::Note,
                frame: Some(pkt.frame),
                conv: Some(id),
                kind: DiagnosticKind::Reassembled {
                    transport,
                    fragments: fragments.to_vec(),
                    ip_len,
                    payload,
                    datagram: *dg,
                    completed_in: pkt.frame,
                },
            }));
        }
        if overlapped {
            self.events.push(Event::Diagnostic(Diagnostic {
                severity: Severity::Warning,
                frame: Some(pkt.frame),
                conv: Some(id),
                kind: DiagnosticKind::FragmentsOverlap {
                    transport,
                    fragments: fragments.to_vec(),
                    datagram: *dg,
                },
            }));
        }
    }
}

fn transport_of(protocol: u8) -> Option<TransportKind> {
    match protocol {
        PROTO_TCP => Some(TransportKind::Tcp),
        PROTO_UDP => Some(TransportKind::Udp),
        _ => None,
    }
}
