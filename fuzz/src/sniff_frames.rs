//! Target `sniff_frames`: labsniff's whole frame path, from raw link-layer bytes of
//! every supported link type through IP/TCP/UDP decoding, conversation tracking,
//! reassembly and dissection to message events.
//!
//! Input layout:
//! ```text
//! [link: u8 % 19 -> DLTS] [forced proto: u8 % 4 -> none, text, v2, v3]
//! [max_size: u16 BE, 0xffff = DEFAULT_MAX_SIZE] [max_ooo_bytes: u16 BE]
//! ([frame length: u16 BE] [frame bytes])*
//! ```

use crate::reader::Reader;
use labproto::Proto;
use labsniff::event::{Event, Summary};
use labsniff::link::LinkKind;
use labsniff::{packet, Analyzer, Options};

/// DLT values labsniff reads (and one it does not: 147, a user DLT); the PPP, NFLOG,
/// 802.11 and FDDI ones after it, so that older inputs keep their first byte's meaning
/// for the first 11.
pub const DLTS: [i32; 19] = [
    1, 113, 276, 0, 108, 12, 14, 101, 228, 229, 147, 9, 50, 51, 239, 105, 127, 119, 10,
];
/// The one DLT in [`DLTS`] that labsniff does not read.
const UNSUPPORTED: usize = 10;
const FORCED: [Option<Proto>; 4] = [None, Some(Proto::Text), Some(Proto::V2), Some(Proto::V3)];

/// One decoded fuzz input.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    pub dlt: i32,
    pub options: Options,
    pub frames: Vec<&'a [u8]>,
}

impl<'a> Case<'a> {
    pub fn decode(input: &'a [u8]) -> Case<'a> {
        let mut r = Reader::new(input);
        let dlt = DLTS[usize::from(r.u8()) % DLTS.len()];
        let proto = FORCED[usize::from(r.u8() % 4)];
        let max_size = match r.u16() {
            u16::MAX => labproto::DEFAULT_MAX_SIZE,
            small => u32::from(small),
        };
        let max_ooo_bytes = usize::from(r.u16());
        let mut frames = Vec::new();
        while !r.is_empty() {
            let len = usize::from(r.u16());
            frames.push(r.bytes(len));
        }
        Case {
            dlt,
            options: Options {
                port: labproto::LAB_PORT,
                proto,
                max_ooo_bytes,
                max_size,
                ..Options::default()
            },
            frames,
        }
    }
}

/// The input bytes for a capture's frames (what `bin/seeds.rs` writes). `dlt` must be
/// one of [`DLTS`]; frames longer than 65535 bytes are cut.
pub fn encode(dlt: i32, proto: Option<Proto>, frames: &[&[u8]]) -> Vec<u8> {
    let link = DLTS
        .iter()
        .position(|&d| d == dlt)
        .unwrap_or(UNSUPPORTED);
    let forced = FORCED.iter().position(|&p| p == proto).unwrap_or(0);
    let mut out = vec![link as u8, forced as u8];
    out.extend_from_slice(&u16::MAX.to_be_bytes());
    out.extend_from_slice(&u16::MAX.to_be_bytes());
    for frame in frames {
        let frame = &frame[..frame.len().min(usize::from(u16::MAX))];
        out.extend_from_slice(&(frame.len() as u16).to_be_bytes());
        out.extend_from_slice(frame);
    }
    out
}

pub fn check(input: &[u8]) {
    let case = Case::decode(input);
    if let Ok(kind) = LinkKind::from_dlt(case.dlt) {
        for (i, frame) in case.frames.iter().enumerate() {
            check_decode(kind, i as u64 + 1, frame);
        }
    }
    let mut analyzer = Analyzer::new(case.options, case.dlt);
    let mut events: Vec<Event> = Vec::new();
    let mut ts = labfixtures::FIRST_TIMESTAMP_MICROS;
    for frame in &case.frames {
        if let Err(e) = analyzer.frame(frame, ts, frame.len() as u32, &mut events) {
            panic!("a Vec sink cannot fail, yet: {e}");
        }
        ts += 10;
    }
    let summary = match analyzer.finish(false, None, &mut events) {
        Ok(s) => s,
        Err(e) => panic!("a Vec sink cannot fail, yet: {e}"),
    };
    check_events(&case, &events, &summary);
}

/// Decoding one frame: the payload is a slice of the frame, never more than the wire had.
fn check_decode(kind: LinkKind, number: u64, frame: &[u8]) {
    match packet::decode(kind, number, 0, frame) {
        Ok(Some(pkt)) => {
            let (payload, wire_len) = pkt.payload();
            assert!(
                payload.len() <= wire_len,
                "captured payload longer than the wire's"
            );
            let frame_start = frame.as_ptr() as usize;
            let start = payload.as_ptr() as usize;
            assert!(
                payload.is_empty()
                    || (start >= frame_start && start + payload.len() <= frame_start + frame.len()),
                "payload is not inside the frame"
            );
            assert_eq!(pkt.truncated(), payload.len() < wire_len);
        }
        Ok(None) => {}
        Err(e) => {
            assert!(!labsniff::words::link::link_error(&e).is_empty() && !e.code().is_empty())
        }
    }
}

fn check_events(case: &Case<'_>, events: &[Event], summary: &Summary) {
    let frames = case.frames.len() as u64;
    assert_eq!(summary.frames, frames, "summary frame count");
    let (mut messages, mut diagnostics, mut conversations, mut summaries) =
        (0u64, 0u64, 0u64, 0u64);
    for event in events {
        match event {
            Event::Message(m) => {
                messages += 1;
                let bytes = &m.payload_bytes;
                match (m.proto, m.size) {
                    (labproto::Proto::V3, Some(size)) => {
                        assert_eq!(bytes.len(), size as usize, "v3 payload length");
                        assert!(size <= case.options.max_size, "v3 size over the limit");
                    }
                    (labproto::Proto::V2, Some(size)) => {
                        assert_eq!(bytes.len(), (size as usize).min(20), "v2 payload length")
                    }
                    (labproto::Proto::Text, None) => {}
                    (proto, size) => panic!("message with proto {proto} and size {size:?}"),
                }
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(m.payload_hex, hex, "payload_hex");
                assert!(!m.frames.is_empty(), "message without frames");
                assert!(
                    m.frames.windows(2).all(|w| w[0] < w[1]),
                    "frames not ascending"
                );
                assert!(
                    m.frames.iter().all(|&f| f >= 1 && f <= frames),
                    "frame out of range"
                );
            }
            Event::Diagnostic(d) => {
                diagnostics += 1;
                assert!(!labsniff::words::diagnostic::text(d).is_empty() && !d.code().is_empty());
                assert!(
                    d.frame.is_none_or(|f| f >= 1 && f <= frames + 1),
                    "diagnostic frame {:?}",
                    d.frame
                );
            }
            Event::Conversation(c) => {
                conversations += 1;
                assert!(c.first_frame <= c.last_frame && c.last_frame <= frames);
                assert!(c.gaps.iter().all(|g| g.bytes > 0), "empty gap in {c:?}");
            }
            Event::Summary(s) => {
                summaries += 1;
                assert_eq!(s, summary);
            }
            // Per-segment and cause events: their own fuzzing is the analyzer's tests'.
            Event::Segment(_) | Event::Cause(_) => {}
            Event::Analysis(a) => {
                assert!(!a.flags.is_empty(), "analysis event without a flag");
                assert!(
                    a.frame >= 1 && a.frame <= frames,
                    "analysis frame {}",
                    a.frame
                );
                // Rendering the words of any flagged frame must not panic.
                assert!(!labsniff::report::analysis_text(a).is_empty());
            }
        }
    }
    assert_eq!(summaries, 1, "one summary");
    assert!(
        matches!(events.last(), Some(Event::Summary(_))),
        "summary is not last"
    );
    assert_eq!(summary.messages, messages, "summary message count");
    assert_eq!(summary.diagnostics, diagnostics, "summary diagnostic count");
    assert_eq!(
        summary.conversations, conversations,
        "a conversation was never reported"
    );
    assert!(summary.lab_packets <= frames);
}
