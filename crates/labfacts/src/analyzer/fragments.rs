//! The analyzer's side of IP reassembly: fragments to the defragmenter, reassembled
//! datagrams on as packets, and the words for what happened (`fragments_dropped`,
//! `fragments_overlap`, `reassembled`). The defragmenter states facts; this phrases them.

use super::{flow_key, Analyzer};
use crate::defrag::{Datagram, DropReason, Dropped, Fragment};
use crate::event::{Diagnostic, Event, Severity, TransportKind};
use crate::packet::{self, Micros, Packet, Transport};
use crate::phrasing as words;
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
            let conv = gone.ports.and_then(|(sport, dport)| {
                let transport = transport_of(gone.protocol?)?;
                let key = flow_key(
                    transport,
                    SocketAddr::new(gone.key.src(), sport),
                    SocketAddr::new(gone.key.dst(), dport),
                );
                self.open.get(&key).map(|c| c.id)
            });
            self.events.push(Event::Diagnostic(Diagnostic {
                severity: Severity::Warning,
                code: "fragments_dropped",
                frame: Some(frame),
                conv,
                text: dropped_text(&gone, frame),
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
        let (transport, name, payload) = match &pkt.transport {
            Transport::Tcp(seg) => (TransportKind::Tcp, "TCP", seg.wire_len),
            Transport::Udp { wire_len, .. } => (TransportKind::Udp, "UDP", *wire_len),
        };
        let key = flow_key(transport, pkt.src, pkt.dst);
        let Some(conv) = self.open.get_mut(&key) else {
            return;
        };
        let id = conv.id;
        let overlapped = dg.partial_overlaps > 0 || dg.differing_bytes > 0;
        if conv.first_reassembled() {
            let family = if dg.key.is_v6() { "IPv6" } else { "IPv4" };
            let text = format!(
                "{} carried one {}-byte {family} datagram ({name}, {} of payload) in {} ({}); \
                 Wireshark shows it reassembled in frame {}: only the first fragment carries the \
                 {name} header and its ports",
                words::frames_span(fragments),
                grouped(ip_len),
                bytes(payload),
                words::count(dg.fragments as u64, "fragment"),
                mtu(dg.largest_fragment),
                pkt.frame
            );
            self.events.push(Event::Diagnostic(Diagnostic {
                severity: Severity::Note,
                code: "reassembled",
                frame: Some(pkt.frame),
                conv: Some(id),
                text,
            }));
        }
        if overlapped {
            let text = format!(
                "frame {}: the fragments of this {name} datagram ({}) overlapped: {} arrived more \
                 than once, {} of them with other contents; labsniff kept the first copy of each \
                 byte, but Linux (4.19 and later) discards a datagram whose fragments overlap, so \
                 the receiver may never have had this one",
                pkt.frame,
                words::frames_span(fragments),
                bytes(dg.overlap_bytes),
                grouped(dg.differing_bytes),
            );
            self.events.push(Event::Diagnostic(Diagnostic {
                severity: Severity::Warning,
                code: "fragments_overlap",
                frame: Some(pkt.frame),
                conv: Some(id),
                text,
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

/// `1,234,567`.
pub(crate) fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{} bytes", grouped(n))
    }
}

/// The MTU a fragment size shows: fragment data is a multiple of 8, so a sender with
/// MTU m sends fragments of m − 7 to m bytes (IPv6 over Ethernet: 1,496 of 1,500).
fn mtu(largest: usize) -> String {
    if (largest..=largest + 7).contains(&1500) {
        "MTU 1500".to_string()
    } else {
        format!(
            "fragments of up to {} bytes: MTU {largest} to {}",
            grouped(largest),
            largest + 7
        )
    }
}

fn dropped_text(gone: &Dropped, frame: u64) -> String {
    let key = gone.key;
    let family = if key.is_v6() { "IPv6" } else { "IPv4" };
    let what = match (gone.ports, gone.protocol.and_then(transport_of)) {
        (Some((s, d)), Some(t)) => format!(", {} {s} → {d}", t.as_str().to_uppercase()),
        _ => String::new(),
    };
    let arrived = match gone.end {
        Some(end) => format!("{} of its {} data bytes", grouped(gone.bytes), grouped(end)),
        None => format!(
            "{} data bytes (its size is unknown: the last fragment never came)",
            grouped(gone.bytes)
        ),
    };
    format!(
        "frame {frame}: an {family} datagram {} → {}{what} (IP id 0x{:x}) was given up: {}; \
         {arrived} had arrived in {} ({}), none of it decoded",
        key.src(),
        key.dst(),
        key.id(),
        reason_text(gone.reason, key.is_v6()),
        words::frames_span(&gone.frames),
        words::count(gone.frames.len() as u64, "fragment"),
    )
}

fn reason_text(reason: DropReason, v6: bool) -> String {
    match reason {
        DropReason::Timeout { waited, timeout } => format!(
            "its other fragments did not arrive within {} s of the first ({} s later; {})",
            timeout / 1_000_000,
            words::duration(waited as f64 / 1e6),
            if v6 {
                "RFC 8200's reassembly timeout is 60 s"
            } else {
                "Linux gives up after 30 s, net.ipv4.ipfrag_time"
            }
        ),
        DropReason::Overlap => {
            "a fragment overlapped bytes already received, and an IPv6 receiver discards such \
             a datagram (RFC 5722)"
                .to_string()
        }
        DropReason::TooBig { end, max } => format!(
            "a fragment reaches byte {}, past the {} an IP datagram can hold",
            grouped(end),
            bytes(max)
        ),
        DropReason::PastEnd { end, known_end } => format!(
            "a fragment reaches byte {}, past the end its last fragment set ({})",
            grouped(end),
            grouped(known_end)
        ),
        DropReason::Inconsistent { end, known_end } => format!(
            "a last fragment puts its end at byte {}, where {} was known",
            grouped(end),
            grouped(known_end)
        ),
        DropReason::NotMultipleOf8 { len } => format!(
            "a fragment with more after it carries {}, not a multiple of 8",
            bytes(len)
        ),
        DropReason::Truncated { captured, wire } => format!(
            "the capture kept {} of a fragment's {} (snaplen), so it cannot be rebuilt",
            grouped(captured),
            bytes(wire)
        ),
        DropReason::TooManyFragments { max } => {
            format!("it came in more than {} fragments", grouped(max))
        }
        DropReason::TooManyDatagrams { max } => format!(
            "labsniff reassembles at most {} datagrams at once and this was the oldest",
            grouped(max)
        ),
        DropReason::TooManyBytes { max } => format!(
            "labsniff holds at most {} MiB of fragments and this was the oldest datagram",
            max >> 20
        ),
        DropReason::CaptureEnded => "the capture ended before all its fragments".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_mtus_named() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(4028), "4,028");
        assert_eq!(grouped(1234567), "1,234,567");
        assert_eq!(mtu(1500), "MTU 1500");
        assert_eq!(mtu(1496), "MTU 1500");
        assert_eq!(mtu(580), "fragments of up to 580 bytes: MTU 580 to 587");
    }
}
