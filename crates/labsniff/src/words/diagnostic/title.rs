//! Each diagnostic's name in a few words, for lists that name many at once (the
//! report's "In short"); the sections below them say the whole sentence ([`super::text`]).

use crate::event::DiagnosticKind;
use labfacts::link::LinkError;
use labfacts::reassembly::GapReason;
use labproto::mistakes::Mistake;

/// A few words naming what the diagnostic is about (no frame, no numbers).
pub fn title(kind: &DiagnosticKind) -> &'static str {
    use DiagnosticKind as K;
    match kind {
        K::EmptyCapture => "no frame in the capture",
        K::LinkUnsupported { .. } => "link type not supported",
        K::FrameUnreadable { error, .. } => link_error(error),
        K::EncapsulationUndecoded { .. } => "encapsulation not decoded",
        K::CaptureCut { .. } => "capture file cut short",
        K::RecordSkipped { .. } => "damaged record skipped",
        K::Repeated { kind, .. } => title(kind),
        K::FramesNotCopied { .. } => "frames not copied to the file written",
        K::CaptureError { .. } => "capture failed",
        K::CaptureDropped { .. } => "frames dropped by the capture",
        K::Reassembled { .. } => "IP fragments reassembled",
        K::FragmentsOverlap { .. } => "overlapping IP fragments",
        K::FragmentsDropped { .. } => "IP fragments given up",
        K::UdpTruncated { .. } => "datagram cut short by the capture",
        K::RstIgnored { .. } => "RST the receiver's TCP would ignore",
        K::Gap {
            reason: GapReason::Overflow,
            ..
        } => "too many bytes out of order to hold",
        K::Gap { .. } => "bytes missing from the capture",
        K::ProtoDetected { .. } => "message format detected",
        K::StructMistake { mistake, .. } => match mistake {
            Mistake::NativeAlignment { .. } => {
                "bytes that look packed without '!' (native alignment)"
            }
            Mistake::LittleEndian { .. } => "header that looks little-endian ('<')",
            Mistake::SizeMismatch { .. } => "size field does not match the payload",
        },
        K::DatagramOverLimit { .. } => "size field over the limit",
        K::DatagramNotMessage { error, .. }
        | K::MessageInvalid { error }
        | K::StreamUnframeable { error, .. }
        | K::StreamEnded { error, .. } => message_error(error),
        K::Unframed { .. } => "bytes that frame no message",
        K::Resync { .. } => "bytes skipped to the next message",
    }
}

fn link_error(error: &LinkError) -> &'static str {
    match error {
        LinkError::UnsupportedLinkType { .. } => "link type not supported",
        LinkError::Truncated { .. } => "frame cut short by the capture",
        LinkError::NotIp { .. } => "frame carries no IP",
        LinkError::Malformed { .. } | LinkError::LengthTooShort { .. } => "malformed frame",
        LinkError::Undecoded(_) => "encapsulation not decoded",
    }
}

fn message_error(error: &labproto::Error) -> &'static str {
    use labproto::Error as E;
    match error {
        E::Truncated { .. } => "message cut short",
        E::BufferTooSmall { .. } => "buffer too small for the message",
        E::SizeOverLimit { .. } => "size field over the limit",
        E::PayloadTooLong { .. } => "payload too long for its format",
        E::IncompleteAtEnd { .. } => "message incomplete at the end",
    }
}
