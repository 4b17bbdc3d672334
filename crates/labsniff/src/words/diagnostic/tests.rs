//! Every kind of diagnostic in words, with the sentence the engine wrote before the
//! words moved here (byte for byte).

use super::*;
use crate::event::{Detection, DetectionBasis, Severity, TransportKind};
use labfacts::capfile::FileFault;
use labfacts::defrag::{Datagram, DropReason, Dropped, Key};
use labfacts::link::encap::Undecoded;
use labfacts::link::{Header, LinkError};
use labproto::detect::Plausibility;
use labproto::mistakes::Mistake;
use labproto::{Part, Proto};
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Kinds of diagnostic; [`index`] names each (a new kind fails to compile there).
const KINDS: usize = 25;

fn index(kind: &DiagnosticKind) -> usize {
    use DiagnosticKind as K;
    match kind {
        K::EmptyCapture => 0,
        K::LinkUnsupported { .. } => 1,
        K::FrameUnreadable { .. } => 2,
        K::EncapsulationUndecoded { .. } => 3,
        K::CaptureCut { .. } => 4,
        K::RecordSkipped { .. } => 5,
        K::FramesNotCopied { .. } => 6,
        K::CaptureError { .. } => 7,
        K::CaptureDropped { .. } => 8,
        K::Reassembled { .. } => 9,
        K::FragmentsOverlap { .. } => 10,
        K::FragmentsDropped { .. } => 11,
        K::UdpTruncated { .. } => 12,
        K::RstIgnored { .. } => 13,
        K::Gap { .. } => 14,
        K::ProtoDetected { .. } => 15,
        K::StructMistake { .. } => 16,
        K::DatagramOverLimit { .. } => 17,
        K::DatagramNotMessage { .. } => 18,
        K::MessageInvalid { .. } => 19,
        K::StreamUnframeable { .. } => 20,
        K::StreamEnded { .. } => 21,
        K::Unframed { .. } => 22,
        K::Resync { .. } => 23,
        K::Repeated { .. } => 24,
    }
}

/// The codes of SCHEMA.md's table.
const CODES: [&str; 25] = [
    "proto_detected",
    "gap",
    "ooo_overflow",
    "rst_ignored",
    "resync",
    "frame_truncated",
    "frame_malformed",
    "link_unsupported",
    "encapsulation_undecoded",
    "capture_cut",
    "record_skipped",
    "frames_not_copied",
    "capture_error",
    "capture_dropped",
    "empty_capture",
    "size_over_limit",
    "incomplete_at_end",
    "truncated",
    "unframed",
    "struct_native_alignment",
    "struct_little_endian",
    "size_mismatch",
    "reassembled",
    "fragments_dropped",
    "fragments_overlap",
];

fn at(frame: Option<u64>, kind: DiagnosticKind) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        frame,
        conv: Some(0),
        kind,
    }
}

fn datagram(fragments: usize, overlap: usize) -> Datagram {
    Datagram {
        key: Key::V4 {
            src: Ipv4Addr::new(10, 0, 0, 2),
            dst: Ipv4Addr::new(10, 0, 0, 1),
            protocol: 17,
            id: 0x1234,
        },
        payload_len: 4008,
        fragments,
        largest_fragment: 1500,
        overlap_bytes: overlap,
        differing_bytes: overlap,
        partial_overlaps: 0,
    }
}

const READS: &str = "labsniff reads Ethernet (1), Linux cooked SLL (113) and SLL2 (276), \
                     BSD NULL (0) and LOOP (108), raw IP (12, 14, 101, 228, 229), PPP (9), \
                     PPP in HDLC framing (50), PPPoE (51), Linux NFLOG (239), IEEE 802.11 (105) \
                     also with radiotap (127) or Prism (119) headers, FDDI (10), Linux ARCnet \
                     (129) and IP over InfiniBand (242)";

/// One or more diagnostics of each kind, with their sentences.
fn input_samples() -> Vec<(Diagnostic, String)> {
    use DiagnosticKind as K;
    vec![
        (at(None, K::EmptyCapture), "the capture holds no frames".into()),
        (
            at(Some(11), K::Repeated {
                kind: Box::new(K::FrameUnreadable {
                    error: LinkError::Truncated { layer: Header::Ethernet, required_len: 14, len: 0 },
                    captured: 0,
                    orig_len: 0,
                }),
                example: 1,
                frames: 99_990,
                last: 100_000,
            }),
            "frame 11: 99,990 more frames, up to frame 100000, had the same fault as frame 1 \
             (the Ethernet header needs 14 bytes, only 0 were captured); said once here, not once each"
                .into(),
        ),
        (
            at(None, K::LinkUnsupported { dlt: 7, name: Some("ARCNET".into()), at_frame: 1 }),
            format!("link type 7 (ARCNET) is not supported: {READS}; no frame can be decoded"),
        ),
        (
            at(None, K::LinkUnsupported { dlt: 147, name: None, at_frame: 7 }),
            format!("frame 7: link type 147 is not supported: {READS}; no frame of this link type can be decoded"),
        ),
        (
            at(Some(3), K::FrameUnreadable {
                error: LinkError::Truncated { layer: Header::Tcp, required_len: 20, len: 10 },
                captured: 44,
                orig_len: 60,
            }),
            "frame 3: the TCP header needs 20 bytes, only 10 were captured (the capture kept 44 of the frame's 60 bytes: snaplen)".into(),
        ),
        (
            at(Some(3), K::FrameUnreadable {
                error: LinkError::Malformed { layer: Header::Ipv6Extension, reason: "bad".into() },
                captured: 60,
                orig_len: 60,
            }),
            "frame 3: the IPv6 extension header could not be parsed: bad".into(),
        ),
        (
            at(Some(3), K::EncapsulationUndecoded { what: Undecoded::MplsControlWord, frames: 142, first: 3 }),
            "142 frames carry MPLS with a pseudowire control word: not decoded, so any lab traffic inside is not analysed (the first is frame 3)".into(),
        ),
        (
            at(Some(7), K::CaptureCut { offset: 1234, compressed: true, fault: FileFault::EndsInsideRecord }),
            "frame 7 at byte offset 1234: the file ends inside this record (offset in the decompressed data)".into(),
        ),
        (
            at(Some(2), K::CaptureCut {
                offset: 24,
                compressed: false,
                fault: FileFault::TooLong { pcapng: false, claimed: 1 << 30, max: 16 << 20 },
            }),
            "frame 2 at byte offset 24: the record says its frame has 1073741824 bytes, more than any capture holds (16 MiB at most): the file is damaged here".into(),
        ),
        (
            at(Some(4), K::RecordSkipped {
                offset: 96,
                compressed: false,
                fault: FileFault::UnknownInterface { id: 2, described: 1 },
            }),
            "frame 4 at byte offset 96: this packet block names interface 2, but its section describes 1 interface: the frame is skipped".into(),
        ),
        (
            at(Some(5), K::FramesNotCopied { dlt: 113, first_dlt: 1, path: PathBuf::from("/tmp/x.pcap") }),
            "frame 5: this frame's link type (113) differs from the first interface's (1): a pcap file holds one link type, so '/tmp/x.pcap' gets no frame of this link type".into(),
        ),
        (
            at(Some(9), K::CaptureError { reason: "The interface went down".into() }),
            "frame 9: capture stopped: The interface went down".into(),
        ),
        (
            at(Some(20), K::CaptureDropped { from: 10, to: 20, kernel: 3, queue: 2 }),
            "frames 10 to 20: the capture dropped frames here (3 by the kernel, 2 by labsniff's queue): it fell behind the traffic, so gaps and TCP analysis flags near here come from the capture, not the network".into(),
        ),
    ]
}

fn fragment_samples() -> Vec<(Diagnostic, String)> {
    use DiagnosticKind as K;
    let gone = Dropped {
        key: datagram(1, 0).key,
        frames: vec![3],
        bytes: 1480,
        end: None,
        protocol: Some(17),
        ports: Some((40000, 5005)),
        reason: DropReason::Timeout {
            waited: 31_000_000,
            timeout: 30_000_000,
        },
    };
    vec![
        (
            at(Some(5), K::Reassembled {
                transport: TransportKind::Udp,
                fragments: vec![3, 4, 5],
                ip_len: 4028,
                payload: 4000,
                datagram: datagram(3, 0),
                completed_in: 5,
            }),
            "frames 3–5 carried one 4,028-byte IPv4 datagram (UDP, 4,000 bytes of payload) in 3 fragments (MTU 1500); Wireshark shows it reassembled in frame 5: only the first fragment carries the UDP header and its ports".into(),
        ),
        (
            at(Some(5), K::FragmentsOverlap {
                transport: TransportKind::Tcp,
                fragments: vec![3, 4, 5],
                datagram: datagram(3, 8),
            }),
            "frame 5: the fragments of this TCP datagram (frames 3–5) overlapped: 8 bytes arrived more than once, 8 of them with other contents; labsniff kept the first copy of each byte, but Linux (4.19 and later) discards a datagram whose fragments overlap, so the receiver may never have had this one".into(),
        ),
        (
            // Mended 2026-12-07: it said "31.000 s s later", the unit twice.
            at(Some(9), K::FragmentsDropped { dropped: Box::new(gone), transport: Some(TransportKind::Udp) }),
            "frame 9: an IPv4 datagram 10.0.0.2 → 10.0.0.1, UDP 40000 → 5005 (IP id 0x1234) was given up: its other fragments did not arrive within 30 s of the first (31.000 s later; Linux gives up after 30 s, net.ipv4.ipfrag_time); 1,480 data bytes (its size is unknown: the last fragment never came) had arrived in frame 3 (1 fragment), none of it decoded".into(),
        ),
    ]
}

fn transport_samples() -> Vec<(Diagnostic, String)> {
    use DiagnosticKind as K;
    let gap = |dir, reason, capture_dropped, unfinished| K::Gap {
        dir,
        offset: 100,
        bytes: 50,
        reason,
        capture_dropped,
        max_ooo_bytes: 1 << 20,
        unfinished,
    };
    let rst = |dir, why| K::RstIgnored { dir, why };
    vec![
        (
            at(Some(4), K::UdpTruncated { captured: 100, wire_len: 1000 }),
            "frame 4: the capture kept 100 of the 1000 bytes of this UDP datagram (snaplen); the message below is cut short".into(),
        ),
        (
            at(Some(2), rst(Dir::ServerToClient, RstRefused::SynSentNoAck { wanted: 1001 })),
            "frame 2: a RST from the server that its peer's TCP ignores: it answers the client's SYN without acknowledging it (a RST in SYN-SENT must carry ACK 1001, RFC 9293 3.10.7.3); the conversation goes on".into(),
        ),
        (
            at(Some(2), rst(Dir::ServerToClient, RstRefused::SynSentWrongAck { ack: 7, isn: 1000, wanted: 1001 })),
            "frame 2: a RST from the server that its peer's TCP ignores: its ACK 7 does not acknowledge the client's SYN (ISN 1000, so ACK 1001 was needed, RFC 9293 3.10.7.3); the conversation goes on".into(),
        ),
        (
            at(Some(8), rst(Dir::ClientToServer, RstRefused::OutsideWindow { seq: 5, expected: 100, window: 65535 })),
            "frame 8: a RST from the client that its peer's TCP ignores: its sequence number 5 lies outside the server's receive window (next expected 100, window 65535 bytes, RFC 5961 3.2); the conversation goes on".into(),
        ),
        (
            at(Some(12), gap(Dir::ClientToServer, GapReason::Acked, false, 5)),
            "frame 12: 50 bytes of the client's stream (stream offsets 100 to 149) are missing from the capture: the peer acknowledged them in this frame, so they were sent and received, but the capture did not show them (within 64 frames or 1 s of the ACK); the unfinished message before the gap (5 bytes) is dropped".into(),
        ),
        (
            at(Some(12), gap(Dir::ServerToClient, GapReason::Overflow, true, 0)),
            "frame 12: 50 bytes of the server's stream (stream offsets 100 to 149) are missing from the capture: the capture dropped frames here (labsniff or the kernel fell behind), so these bytes were most likely sent and received but not captured: not a loss on the network (cap 1048576 bytes, --max-ooo-bytes)".into(),
        ),
    ]
}

fn dissection_samples() -> Vec<(Diagnostic, String)> {
    use DiagnosticKind as K;
    let scores = Plausibility {
        text: 10,
        v2: 0,
        v3: 100,
    };
    let first = |dir, basis| Detection::FirstBytes { dir, basis };
    let little = Mistake::LittleEndian {
        proto: Proto::V3,
        size_big_endian: 83886080,
        size_little_endian: 5,
    };
    let short = labproto::Error::Truncated {
        proto: Proto::V2,
        part: Part::Message,
        required_len: 29,
        len: 5,
    };
    let over = labproto::Error::SizeOverLimit {
        offset: 0,
        size: 2_000_000,
        limit: 1 << 20,
    };
    let ended = labproto::Error::IncompleteAtEnd {
        proto: Proto::V3,
        part: Part::Message,
        offset: 18,
        required_len: 14,
        len: 9,
    };
    vec![
        (
            at(Some(4), K::ProtoDetected { conv: 0, proto: Proto::V3, detection: first(Dir::ClientToServer, DetectionBasis::V3(scores)) }),
            "frame 4: conversation 0 carries v3: the client's first bytes: the bytes chain as `!BII` headers whose size fields land exactly on the next header (v3 score 100, v2 0, text 10)".into(),
        ),
        (
            at(Some(4), K::ProtoDetected { conv: 2, proto: Proto::Text, detection: first(Dir::ServerToClient, DetectionBasis::Text { percent: 100, bytes: 10 }) }),
            "frame 4: conversation 2 carries text: the server's first bytes: 100% of the first 10 bytes are printable text".into(),
        ),
        (
            at(Some(4), K::ProtoDetected { conv: 1, proto: Proto::Text, detection: Detection::NoBinaryFormat }),
            "frame 4: conversation 1 carries text: no binary lab format fits the first bytes".into(),
        ),
        (
            at(Some(4), K::StructMistake { dir: Dir::ServerToClient, mistake: little.clone(), datagram: false }),
            format!("frame 4: the server's first message: {little}"),
        ),
        (
            at(Some(4), K::StructMistake { dir: Dir::ClientToServer, mistake: little.clone(), datagram: true }),
            format!("frame 4: the client's first datagram: {little}"),
        ),
        (
            at(Some(6), K::DatagramOverLimit { len: 30, size: 2_000_000, limit: 1 << 20 }),
            "frame 6: this 30-byte datagram is not one v3 message: its size field says 2000000 bytes, more than the limit of 1048576 bytes (--max-size)".into(),
        ),
        (
            at(Some(6), K::DatagramNotMessage { len: 5, proto: Proto::V2, error: short.clone() }),
            "frame 6: this 5-byte datagram is not one v2 message: v2 message needs 29 bytes, only 5 arrived".into(),
        ),
        (at(Some(6), K::MessageInvalid { error: short }), "frame 6: v2 message needs 29 bytes, only 5 arrived".into()),
        (
            at(Some(6), K::StreamUnframeable { dir: Dir::ClientToServer, error: over }),
            "frame 6: the client's stream: v3 size field at stream offset 0 says 2000000 bytes, more than the limit of 1048576 bytes; the stream cannot be framed past this point".into(),
        ),
        (
            at(Some(6), K::StreamEnded { dir: Dir::ClientToServer, error: ended }),
            "frame 6: client stream ended inside a v3 message that starts at stream offset 18: the message needs 14 bytes, only 9 arrived".into(),
        ),
        (
            at(Some(6), K::Unframed { dir: Dir::ServerToClient, bytes: 1, proto: Proto::V3 }),
            "frame 6: 1 byte of the server's stream could not be framed as v3 and was skipped".into(),
        ),
        (
            at(Some(6), K::Unframed { dir: Dir::ClientToServer, bytes: 12, proto: Proto::V2 }),
            "frame 6: 12 bytes of the client's stream could not be framed as v2 and were skipped".into(),
        ),
        (
            at(Some(6), K::Resync { dir: Dir::ClientToServer, offset: 100, proto: Proto::V3, skipped: 7 }),
            "frame 6: the client's stream resynchronised at stream offset 100, the next provable v3 message boundary (7 bytes skipped)".into(),
        ),
        (
            at(Some(6), K::Resync { dir: Dir::ServerToClient, offset: 0, proto: Proto::V2, skipped: 0 }),
            "frame 6: the server's stream resynchronised at stream offset 0, the next provable v2 message boundary".into(),
        ),
    ]
}

fn samples() -> Vec<(Diagnostic, String)> {
    [
        input_samples(),
        fragment_samples(),
        transport_samples(),
        dissection_samples(),
    ]
    .concat()
}

#[test]
fn every_kind_has_its_sentence_and_a_schema_code() {
    let mut seen = [false; KINDS];
    for (d, want) in samples() {
        assert_eq!(text(&d), want, "{:?}", d.kind);
        assert!(
            CODES.contains(&d.code()),
            "{} is not in SCHEMA.md",
            d.code()
        );
        seen[index(&d.kind)] = true;
    }
    let missing: Vec<usize> = (0..KINDS).filter(|&i| !seen[i]).collect();
    assert!(missing.is_empty(), "kinds without a sample: {missing:?}");
}

#[test]
fn codes_follow_the_kind() {
    let codes: Vec<&str> = samples().iter().map(|(d, _)| d.code()).collect();
    for code in [
        "ooo_overflow",
        "gap",
        "frame_truncated",
        "frame_malformed",
        "struct_little_endian",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
    let gap = samples()
        .into_iter()
        .find(|(d, _)| d.code() == "ooo_overflow");
    assert!(gap.is_some_and(|(d, _)| matches!(
        d.kind,
        DiagnosticKind::Gap {
            reason: GapReason::Overflow,
            ..
        }
    )));
}

#[test]
fn comments_leave_out_only_the_frame_lead() {
    for (d, whole) in samples() {
        let comment = text_without_frame(&d);
        match d.frame {
            Some(f) if whole.starts_with(&format!("frame {f}: ")) => {
                assert_eq!(format!("frame {f}: {comment}"), whole)
            }
            _ => assert_eq!(comment, whole),
        }
    }
}

#[test]
fn titles_are_words_and_each_names_one_code() {
    use std::collections::{BTreeSet, HashMap};
    // A title never stands for two codes (one code may have two titles: a frame
    // and a datagram are both `frame_truncated`).
    let mut codes_of: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for (d, _) in samples() {
        let t = title(&d.kind);
        assert!(!t.is_empty() && t.len() <= 48, "{:?}: {t:?}", d.kind);
        assert!(!t.contains('_'), "a code, not words: {t}");
        codes_of.entry(t).or_default().insert(d.code());
    }
    for (t, codes) in codes_of {
        assert!(codes.len() == 1, "{t:?} names {codes:?}");
    }
}
