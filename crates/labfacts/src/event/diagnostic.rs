//! Diagnostics as facts: what was found, where, and the numbers and typed values that
//! say it. No words: each [`DiagnosticKind`] is rendered into its sentence once, by
//! the `labsniff` crate (`labsniff::words::diagnostic`), for the report, the JSON
//! lines' `text`, the plain stream and pcapng comments alike. The only strings held
//! are data: a library's own message (libpcap, flate2, etherparse, pcap-parser), a
//! libpcap link-type name, a file path.

use super::{Dir, Severity, TransportKind};
use crate::capfile::FileFault;
use crate::defrag::{Datagram, Dropped};
use crate::link::encap::Undecoded;
use crate::link::LinkError;
use crate::reassembly::GapReason;
use labproto::detect::Plausibility;
use labproto::mistakes::Mistake;
use labproto::Proto;
use std::path::PathBuf;

/// Something worth telling about the capture or the traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The frame it is about (null when about the whole capture).
    pub frame: Option<u64>,
    pub conv: Option<u64>,
    pub kind: DiagnosticKind,
}

impl Diagnostic {
    /// The stable identifier (SCHEMA.md's table of codes).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

/// What a diagnostic is about, with what its sentence needs. Frame numbers other than
/// the diagnostic's own `frame` are carried here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiagnosticKind {
    // The input.
    /// The input held no frames.
    EmptyCapture,
    /// A link type labsniff does not read, first met at frame `at_frame`.
    LinkUnsupported {
        dlt: i32,
        /// libpcap's name of the type (data), when it knows one.
        name: Option<String>,
        at_frame: u64,
    },
    /// A frame whose headers cannot be decoded (`error`: a cut or a broken header);
    /// `captured` of its `orig_len` bytes were captured.
    FrameUnreadable {
        error: LinkError,
        captured: usize,
        orig_len: u32,
    },
    /// `frames` frames carry an encapsulation labsniff does not decode, the first
    /// being `first`.
    EncapsulationUndecoded {
        what: Undecoded,
        frames: u64,
        first: u64,
    },
    /// The file cannot be read past the record at byte `offset` (of the decompressed
    /// data when `compressed`).
    CaptureCut {
        offset: u64,
        compressed: bool,
        fault: FileFault,
    },
    /// `frames` more frames, from this diagnostic's frame to `last`, had the same fault
    /// `kind` as frame `example` (said then, with a few more; these were counted).
    Repeated {
        kind: Box<DiagnosticKind>,
        example: u64,
        frames: u64,
        last: u64,
    },
    /// A record at byte `offset` skipped; reading went on.
    RecordSkipped {
        offset: u64,
        compressed: bool,
        fault: FileFault,
    },
    /// `-w`: frames of link type `dlt` are not copied into `path`, a pcap file of
    /// the first interface's link type `first_dlt`.
    FramesNotCopied {
        dlt: i32,
        first_dlt: i32,
        /// The `-w` file (data).
        path: PathBuf,
    },
    /// A live capture stopped with an error.
    CaptureError {
        /// libpcap's message (data).
        reason: String,
    },
    /// A live capture dropped frames between frames `from` and `to` (`kernel` by the
    /// kernel, `queue` by labsniff's queue).
    CaptureDropped {
        from: u64,
        to: u64,
        kernel: u64,
        queue: u64,
    },

    // IP fragments.
    /// A conversation's first datagram that came in fragments: its fragments' frames,
    /// the IP packet's length, the transport and its payload, what the defragmenter
    /// saw, and the frame that completed it.
    Reassembled {
        transport: TransportKind,
        fragments: Vec<u64>,
        ip_len: usize,
        payload: usize,
        datagram: Datagram,
        completed_in: u64,
    },
    /// A reassembled datagram whose fragments overlapped or differed.
    FragmentsOverlap {
        transport: TransportKind,
        fragments: Vec<u64>,
        datagram: Datagram,
    },
    /// A datagram the defragmenter gave up; `transport` when its protocol is TCP or
    /// UDP.
    FragmentsDropped {
        dropped: Box<Dropped>,
        transport: Option<TransportKind>,
    },

    // TCP and UDP.
    /// The capture kept `captured` of a UDP datagram's `wire_len` payload bytes.
    UdpTruncated { captured: usize, wire_len: usize },
    /// A RST from `dir`'s sender that the receiving TCP ignores, and why.
    RstIgnored { dir: Dir, why: RstRefused },
    /// `bytes` bytes of `dir`'s stream from stream offset `offset` are missing
    /// (`gap`, or `ooo_overflow` when the out-of-order buffer of `max_ooo_bytes`
    /// overflowed); `capture_dropped`: the capture dropped frames just before;
    /// `unfinished`: the bytes of an unfinished message dropped with them.
    Gap {
        dir: Dir,
        offset: u64,
        bytes: u64,
        reason: GapReason,
        capture_dropped: bool,
        max_ooo_bytes: usize,
        unfinished: usize,
    },

    // Dissection.
    /// Conversation `conv` carries `proto`, decided as `detection` says.
    ProtoDetected {
        conv: u64,
        proto: Proto,
        detection: Detection,
    },
    /// A `struct` mistake labproto recognised in `dir`'s first message or datagram.
    StructMistake {
        dir: Dir,
        mistake: Mistake,
        datagram: bool,
    },
    /// A UDP v3 datagram of `len` bytes whose size field says `size`, over `limit`.
    DatagramOverLimit { len: usize, size: u32, limit: u32 },
    /// A UDP datagram of `len` bytes that is not one `proto` message.
    DatagramNotMessage {
        len: usize,
        proto: Proto,
        error: labproto::Error,
    },
    /// A framed message that does not decode.
    MessageInvalid { error: labproto::Error },
    /// `dir`'s stream cannot be framed here (a byte is skipped, resync follows).
    StreamUnframeable { dir: Dir, error: labproto::Error },
    /// `dir`'s stream ended inside a message.
    StreamEnded { dir: Dir, error: labproto::Error },
    /// `bytes` bytes of `dir`'s stream could not be framed as `proto` and were skipped.
    Unframed { dir: Dir, bytes: u64, proto: Proto },
    /// `dir`'s stream resumed at stream offset `offset`, a provable `proto` message
    /// boundary, `skipped` bytes later.
    Resync {
        dir: Dir,
        offset: u64,
        proto: Proto,
        skipped: usize,
    },
}

/// Why the receiving TCP drops a RST (RFC 9293 3.10.7, RFC 5961 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RstRefused {
    /// In SYN-SENT, a RST without ACK; it must carry ACK `wanted`.
    SynSentNoAck { wanted: u32 },
    /// In SYN-SENT, a RST whose ACK is not `wanted` (the client's ISN `isn` + 1).
    SynSentWrongAck { ack: u32, isn: u32, wanted: u32 },
    /// Sequence number `seq` outside the receiver's window (`window` bytes from
    /// `expected`).
    OutsideWindow {
        seq: u32,
        expected: u32,
        window: u32,
    },
}

/// How the protocol of a conversation was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    /// `dir`'s first bytes decided, on `basis`.
    FirstBytes { dir: Dir, basis: DetectionBasis },
    /// The conversation ended and no binary lab format fits its first bytes: text.
    NoBinaryFormat,
}

/// Which of `labproto::detect::guess`'s rules decided, with its numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetectionBasis {
    /// The bytes are the mistake's protocol packed with a wrong `struct` format.
    WrongStruct(Mistake),
    /// `percent` of the first `bytes` bytes are printable text.
    Text { percent: u8, bytes: usize },
    /// v2 scored highest (scores 0–100).
    V2(Plausibility),
    /// v3 scored highest.
    V3(Plausibility),
}

impl DiagnosticKind {
    /// The stable identifier (SCHEMA.md's table of codes).
    pub fn code(&self) -> &'static str {
        use DiagnosticKind as K;
        match self {
            K::EmptyCapture => "empty_capture",
            K::LinkUnsupported { .. } => "link_unsupported",
            K::FrameUnreadable { error, .. } => error.code(),
            K::EncapsulationUndecoded { .. } => "encapsulation_undecoded",
            K::CaptureCut { .. } => "capture_cut",
            K::RecordSkipped { .. } => "record_skipped",
            K::Repeated { kind, .. } => kind.code(),
            K::FramesNotCopied { .. } => "frames_not_copied",
            K::CaptureError { .. } => "capture_error",
            K::CaptureDropped { .. } => "capture_dropped",
            K::Reassembled { .. } => "reassembled",
            K::FragmentsOverlap { .. } => "fragments_overlap",
            K::FragmentsDropped { .. } => "fragments_dropped",
            K::UdpTruncated { .. } => "frame_truncated",
            K::RstIgnored { .. } => "rst_ignored",
            K::Gap {
                reason: GapReason::Overflow,
                ..
            } => "ooo_overflow",
            K::Gap { .. } => "gap",
            K::ProtoDetected { .. } => "proto_detected",
            K::StructMistake { mistake, .. } => mistake.code(),
            K::DatagramOverLimit { .. } => "size_over_limit",
            K::DatagramNotMessage { error, .. }
            | K::MessageInvalid { error }
            | K::StreamUnframeable { error, .. }
            | K::StreamEnded { error, .. } => error.code(),
            K::Unframed { .. } => "unframed",
            K::Resync { .. } => "resync",
        }
    }

    /// The sender packed with a wrong `struct` format (native alignment or a
    /// little-endian header: the `struct_*` codes), so the lab's reading of its bytes
    /// is not what it meant. A size field that disagrees with the data is not one.
    pub fn is_struct_mistake(&self) -> bool {
        matches!(
            self,
            DiagnosticKind::StructMistake {
                mistake: Mistake::NativeAlignment { .. } | Mistake::LittleEndian { .. },
                ..
            }
        )
    }

    /// A mistake labproto recognised in the first bytes of a direction (the
    /// `struct_*` codes and `size_mismatch`).
    pub fn mistake(&self) -> Option<&Mistake> {
        match self {
            DiagnosticKind::StructMistake { mistake, .. } => Some(mistake),
            _ => None,
        }
    }

    /// The protocol was decided by comparing the formats' scores (v2 or v3 highest).
    pub fn has_detection_scores(&self) -> bool {
        matches!(
            self,
            DiagnosticKind::ProtoDetected {
                detection: Detection::FirstBytes {
                    basis: DetectionBasis::V2(_) | DetectionBasis::V3(_),
                    ..
                },
                ..
            }
        )
    }
}
