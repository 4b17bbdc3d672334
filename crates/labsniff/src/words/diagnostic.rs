//! Each diagnostic's sentence, rendered once from its facts ([`DiagnosticKind`]): the
//! JSON lines' `text`, the report's and the plain stream's lines, pcapng comments and
//! grading all say [`text`] (pcapng comments [`text_without_frame`]).
//!
//! A sentence about one frame starts `frame N: `; problems of the file itself
//! `frame N at byte offset B: ` (SCHEMA.md).

use super::{dissect, fragments, link};

mod title;
pub use title::title;

use crate::event::{Diagnostic, DiagnosticKind, Dir, RstRefused};
use labfacts::reassembly::GapReason;
use std::fmt::Write as _;

/// How a sentence starts before its body.
enum Lead {
    /// `frame N: ` (N the diagnostic's frame).
    Frame,
    /// `frame N at byte offset B: `.
    FrameAtOffset(u64),
    /// The body is the whole sentence.
    None,
}

fn lead(kind: &DiagnosticKind) -> Lead {
    use DiagnosticKind as K;
    match kind {
        K::CaptureCut { offset, .. } | K::RecordSkipped { offset, .. } => {
            Lead::FrameAtOffset(*offset)
        }
        K::EmptyCapture
        | K::LinkUnsupported { .. }
        | K::EncapsulationUndecoded { .. }
        | K::CaptureDropped { .. }
        | K::Reassembled { .. } => Lead::None,
        _ => Lead::Frame,
    }
}

/// The diagnostic's sentence (the JSON line's `text`).
pub fn text(d: &Diagnostic) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    match (d.frame, lead(&d.kind)) {
        (Some(frame), Lead::Frame) => {
            let _ = write!(out, "frame {frame}: ");
        }
        (Some(frame), Lead::FrameAtOffset(offset)) => {
            let _ = write!(out, "frame {frame} at byte offset {offset}: ");
        }
        _ => {}
    }
    out.push_str(&body(&d.kind));
    out
}

/// [`text`] without its leading `frame N: ` (a pcapng comment is on frame N already);
/// other sentences whole.
pub fn text_without_frame(d: &Diagnostic) -> String {
    match lead(&d.kind) {
        Lead::Frame => body(&d.kind),
        _ => text(d),
    }
}

/// The sentence after its lead. Every kind is named here (the compiler checks that
/// none is left out); each subject's sentences are in their own function.
fn body(kind: &DiagnosticKind) -> String {
    use DiagnosticKind as K;
    match kind {
        K::EmptyCapture
        | K::LinkUnsupported { .. }
        | K::FrameUnreadable { .. }
        | K::EncapsulationUndecoded { .. }
        | K::CaptureCut { .. }
        | K::RecordSkipped { .. }
        | K::FramesNotCopied { .. }
        | K::CaptureError { .. }
        | K::CaptureDropped { .. } => input(kind),
        K::Repeated {
            kind,
            example,
            frames,
            last,
        } => repeated(kind, *example, *frames, *last),
        K::Reassembled { .. } | K::FragmentsOverlap { .. } | K::FragmentsDropped { .. } => {
            ip_fragments(kind)
        }
        K::UdpTruncated { .. } | K::RstIgnored { .. } | K::Gap { .. } => transport(kind),
        K::ProtoDetected { .. }
        | K::StructMistake { .. }
        | K::DatagramOverLimit { .. }
        | K::DatagramNotMessage { .. }
        | K::MessageInvalid { .. }
        | K::StreamUnframeable { .. }
        | K::StreamEnded { .. }
        | K::Unframed { .. }
        | K::Resync { .. } => dissection(kind),
    }
}

/// Frames counted instead of said: `frames` more, up to frame `last`, with the same
/// fault as frame `example`.
fn repeated(kind: &DiagnosticKind, example: u64, frames: u64, last: u64) -> String {
    let more = if frames == 1 {
        "1 more frame".to_string()
    } else {
        format!("{} more frames", super::thousands(frames))
    };
    format!(
        "{more}, up to frame {last}, had the same fault as frame {example} ({}); \
         said once here, not once each",
        body(kind)
    )
}

/// The input: the capture file or interface, link types, frames that cannot be read.
fn input(kind: &DiagnosticKind) -> String {
    use DiagnosticKind as K;
    match kind {
        K::EmptyCapture => "the capture holds no frames".to_string(),
        K::LinkUnsupported {
            dlt,
            name,
            at_frame,
        } => link_unsupported(*dlt, name.clone(), *at_frame),
        K::FrameUnreadable {
            error,
            captured,
            orig_len,
        } => frame_unreadable(error, *captured, *orig_len),
        K::EncapsulationUndecoded {
            what,
            frames,
            first,
        } => {
            let carry = if *frames == 1 {
                "frame carries"
            } else {
                "frames carry"
            };
            format!(
                "{frames} {carry} {}: not decoded, so any lab traffic inside is not analysed (the first is frame {first})",
                link::undecoded(*what)
            )
        }
        K::CaptureCut {
            compressed, fault, ..
        }
        | K::RecordSkipped {
            compressed, fault, ..
        } => {
            let mut s = link::file_fault(fault);
            if *compressed {
                s.push_str(" (offset in the decompressed data)");
            }
            s
        }
        K::FramesNotCopied {
            dlt,
            first_dlt,
            path,
        } => format!(
            "this frame's link type ({dlt}) differs from the first interface's ({first_dlt}): a pcap file holds one link type, so '{}' gets no frame of this link type",
            path.display()
        ),
        K::CaptureError { reason } => format!("capture stopped: {reason}"),
        K::CaptureDropped {
            from,
            to,
            kernel,
            queue,
        } => capture_dropped(*from, *to, *kernel, *queue),
        // Other subjects' kinds: `body` sends only this subject's here.
        _ => String::new(),
    }
}

/// IP reassembly.
fn ip_fragments(kind: &DiagnosticKind) -> String {
    use DiagnosticKind as K;
    match kind {
        K::Reassembled {
            transport,
            fragments: frames,
            ip_len,
            payload,
            datagram,
            completed_in,
        } => fragments::reassembled(
            *transport,
            frames,
            *ip_len,
            *payload,
            datagram,
            *completed_in,
        ),
        K::FragmentsOverlap {
            transport,
            fragments: frames,
            datagram,
        } => fragments::overlap(*transport, frames, datagram),
        K::FragmentsDropped { dropped, transport } => fragments::dropped(dropped, *transport),
        // Other subjects' kinds: `body` sends only this subject's here.
        _ => String::new(),
    }
}

/// TCP and UDP: cut datagrams, ignored RSTs, missing bytes.
fn transport(kind: &DiagnosticKind) -> String {
    use DiagnosticKind as K;
    match kind {
        K::UdpTruncated { captured, wire_len } => format!(
            "the capture kept {captured} of the {wire_len} bytes of this UDP datagram (snaplen); the message below is cut short"
        ),
        K::RstIgnored { dir, why } => format!(
            "a RST from the {} that its peer's TCP ignores: {}; the conversation goes on",
            dir.sender(),
            rst_refused(*dir, why)
        ),
        K::Gap {
            dir,
            offset,
            bytes,
            reason,
            capture_dropped,
            max_ooo_bytes,
            unfinished,
        } => gap(
            *dir,
            (*offset, *bytes),
            *reason,
            *capture_dropped,
            *max_ooo_bytes,
            *unfinished,
        ),
        // Other subjects' kinds: `body` sends only this subject's here.
        _ => String::new(),
    }
}

/// Dissection: the protocol, `struct` mistakes, framing.
fn dissection(kind: &DiagnosticKind) -> String {
    use DiagnosticKind as K;
    match kind {
        K::ProtoDetected {
            conv,
            proto,
            detection,
        } => dissect::detected(*conv, *proto, detection),
        K::StructMistake {
            dir,
            mistake,
            datagram,
        } => {
            let first = if *datagram { "datagram" } else { "message" };
            format!("the {}'s first {first}: {mistake}", dir.sender())
        }
        K::DatagramOverLimit { len, size, limit } => format!(
            "this {len}-byte datagram is not one v3 message: its size field says {size} bytes, more than the limit of {limit} bytes (--max-size)"
        ),
        K::DatagramNotMessage { len, proto, error } => {
            format!("this {len}-byte datagram is not one {proto} message: {error}")
        }
        K::MessageInvalid { error } => error.to_string(),
        K::StreamUnframeable { dir, error } => format!("the {}'s stream: {error}", dir.sender()),
        K::StreamEnded { dir, error } => format!("{} {error}", dir.sender()),
        K::Unframed { dir, bytes, proto } => dissect::unframed(*dir, *bytes, *proto),
        K::Resync {
            dir,
            offset,
            proto,
            skipped,
        } => dissect::resync(*dir, *offset, *proto, *skipped),
        // Other subjects' kinds: `body` sends only this subject's here.
        _ => String::new(),
    }
}

fn link_unsupported(dlt: i32, name: Option<String>, at_frame: u64) -> String {
    let e = link::link_error(&labfacts::link::LinkError::UnsupportedLinkType { dlt, name });
    if at_frame == 1 {
        format!("{e}; no frame can be decoded")
    } else {
        format!("frame {at_frame}: {e}; no frame of this link type can be decoded")
    }
}

fn frame_unreadable(error: &labfacts::link::LinkError, captured: usize, orig_len: u32) -> String {
    let mut s = link::link_error(error);
    if (captured as u64) < u64::from(orig_len) {
        let _ = write!(
            s,
            " (the capture kept {captured} of the frame's {orig_len} bytes: snaplen)"
        );
    }
    s
}

fn capture_dropped(from: u64, to: u64, kernel: u64, queue: u64) -> String {
    let mut parts = Vec::new();
    if kernel > 0 {
        parts.push(format!("{kernel} by the kernel"));
    }
    if queue > 0 {
        parts.push(format!("{queue} by labsniff's queue"));
    }
    format!(
        "frames {from} to {to}: the capture dropped frames here ({}): it fell behind the \
         traffic, so gaps and TCP analysis flags near here come from the capture, not the network",
        parts.join(", ")
    )
}

/// Why the receiving TCP drops a RST from `dir`'s sender.
fn rst_refused(dir: Dir, why: &RstRefused) -> String {
    match why {
        RstRefused::SynSentNoAck { wanted } => format!(
            "it answers the client's SYN without acknowledging it (a RST in SYN-SENT must carry ACK {wanted}, RFC 9293 3.10.7.3)"
        ),
        RstRefused::SynSentWrongAck { ack, isn, wanted } => format!(
            "its ACK {ack} does not acknowledge the client's SYN (ISN {isn}, so ACK {wanted} was needed, RFC 9293 3.10.7.3)"
        ),
        RstRefused::OutsideWindow {
            seq,
            expected,
            window,
        } => {
            // The receiver is the RST sender's peer.
            let receiver = match dir {
                Dir::ClientToServer => "server",
                Dir::ServerToClient => "client",
            };
            format!(
                "its sequence number {seq} lies outside the {receiver}'s receive window (next expected {expected}, window {window} bytes, RFC 5961 3.2)"
            )
        }
    }
}

/// Why bytes went missing from a stream.
fn gap_reason(reason: GapReason) -> &'static str {
    match reason {
        GapReason::Acked => {
            "the peer acknowledged them in this frame, so they were sent and received, but the \
             capture did not show them (within 64 frames or 1 s of the ACK)"
        }
        GapReason::Overflow => "the out-of-order buffer overflowed while waiting for them",
        GapReason::Truncated => "the capture cut the frame that carried them (snaplen)",
        GapReason::Flush => "the conversation or the capture ended without them",
    }
}

const CAPTURE_DROPPED_GAP: &str =
    "the capture dropped frames here (labsniff or the kernel fell behind), \
     so these bytes were most likely sent and received but not captured: not a loss on the network";

/// `gap` / `ooo_overflow`, after "frame N: ": `bytes` missing at stream offset `at`.
fn gap(
    dir: Dir,
    (at, bytes): (u64, u64),
    reason: GapReason,
    capture_dropped: bool,
    max_ooo_bytes: usize,
    unfinished: usize,
) -> String {
    let why = if capture_dropped {
        CAPTURE_DROPPED_GAP
    } else {
        gap_reason(reason)
    };
    let mut text = format!(
        "{bytes} bytes of the {}'s stream (stream offsets {at} to {}) are missing from the capture: {why}",
        dir.sender(),
        (at + bytes).saturating_sub(1),
    );
    if reason == GapReason::Overflow {
        let _ = write!(text, " (cap {max_ooo_bytes} bytes, --max-ooo-bytes)");
    }
    if unfinished > 0 {
        let _ = write!(
            text,
            "; the unfinished message before the gap ({unfinished} bytes) is dropped"
        );
    }
    text
}

#[cfg(test)]
mod tests;
