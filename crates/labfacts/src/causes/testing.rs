//! Test segments for the trackers: one helper instead of a `TcpSegment` literal in
//! every tracker's tests.

use super::SegmentSeen;
use crate::event::Dir;
use crate::packet::{TcpFlags, TcpOptions, TcpSegment};

/// A segment seen at `frame`, `ts` µs, going `dir`: `seq`, `ack`, `len` bytes on the
/// wire (no payload kept), window 100, flags by letter (`S`yn, `A`ck, `F`in, `R`st,
/// `P`sh); `with` receives it (the analysis is Wireshark's nothing-flagged).
#[allow(clippy::too_many_arguments)]
pub(crate) fn with_segment(
    frame: u64,
    ts: u64,
    dir: Dir,
    seq: u32,
    ack: u32,
    len: usize,
    flags: &str,
    with: impl FnOnce(&SegmentSeen<'_, '_>),
) {
    let seg = TcpSegment {
        seq,
        ack,
        flags: TcpFlags {
            syn: flags.contains('S'),
            ack: flags.contains('A'),
            fin: flags.contains('F'),
            rst: flags.contains('R'),
            psh: flags.contains('P'),
        },
        window: 100,
        options: TcpOptions::default(),
        payload: &[],
        wire_len: len,
    };
    with(&SegmentSeen {
        frame,
        ts,
        dir,
        seg: &seg,
        analysis: &crate::analysis::SegmentAnalysis::default(),
    });
}
