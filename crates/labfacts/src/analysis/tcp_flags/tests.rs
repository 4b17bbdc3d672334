//! Each rule of the module documentation on hand-built segments, and arbitrary input.

use super::*;
use crate::packet::{TcpFlags, TcpOptions};

const C: Dir = Dir::ClientToServer;
const S: Dir = Dir::ServerToClient;

/// A hand-built conversation: each call analyses one segment.
struct Run {
    a: TcpFlowAnalysis,
    frame: u64,
    ts: Micros,
}

#[derive(Clone, Copy)]
struct Seg {
    seq: u32,
    ack: u32,
    len: usize,
    win: u16,
    syn: bool,
    ackf: bool,
    fin: bool,
    rst: bool,
    wscale: Option<u8>,
}

fn data(seq: u32, ack: u32, len: usize) -> Seg {
    Seg {
        seq,
        ack,
        len,
        win: 512,
        syn: false,
        ackf: true,
        fin: false,
        rst: false,
        wscale: None,
    }
}

impl Seg {
    fn win(mut self, w: u16) -> Seg {
        self.win = w;
        self
    }
    fn fin(mut self) -> Seg {
        self.fin = true;
        self
    }
    fn rst(mut self) -> Seg {
        self.rst = true;
        self
    }
}

impl Run {
    fn new() -> Run {
        Run {
            a: TcpFlowAnalysis::new(),
            frame: 0,
            ts: 1_000_000,
        }
    }

    /// Advance the clock by `us` before the next segment.
    fn wait(&mut self, us: u64) {
        self.ts += us;
    }

    fn seg(&mut self, dir: Dir, s: Seg) -> SegmentAnalysis {
        self.frame += 1;
        self.ts += 10;
        let payload = vec![0u8; s.len];
        let seg = TcpSegment {
            seq: s.seq,
            ack: s.ack,
            flags: TcpFlags {
                syn: s.syn,
                ack: s.ackf,
                fin: s.fin,
                rst: s.rst,
                psh: s.len > 0,
            },
            window: s.win,
            options: TcpOptions {
                mss: None,
                window_scale: s.wscale,
                sack_permitted: false,
                timestamps: false,
            },
            payload: &payload,
            wire_len: s.len,
        };
        self.a.segment(dir, self.frame, self.ts, &seg)
    }

    /// SYN (ISN `c`), SYN-ACK (ISN `s`), ACK, with window scale 7 both ways and
    /// `rtt` µs between SYN-ACK and ACK. The SYNs' window field is the data
    /// segments' (512), so that the first ACK is not a window update.
    fn handshake(&mut self, c: u32, s: u32, rtt: u64) {
        let syn = Seg {
            seq: c,
            ack: 0,
            len: 0,
            win: 512,
            syn: true,
            ackf: false,
            fin: false,
            rst: false,
            wscale: Some(7),
        };
        assert!(self.seg(C, syn).flags.is_empty());
        let synack = Seg {
            seq: s,
            ack: c.wrapping_add(1),
            ackf: true,
            ..syn
        };
        assert!(self.seg(S, synack).flags.is_empty());
        self.wait(rtt);
        let r = self.seg(C, data(c.wrapping_add(1), s.wrapping_add(1), 0));
        assert!(r.flags.is_empty(), "{:?}", r.flags);
    }
}

fn only(r: &SegmentAnalysis, flags: &[Flag]) {
    let want: Flags = flags.iter().copied().collect();
    assert_eq!(
        r.flags,
        want,
        "got {:?}, want {:?}",
        r.flags.iter().map(Flag::name).collect::<Vec<_>>(),
        flags.iter().map(|f| f.name()).collect::<Vec<_>>()
    );
}

#[test]
fn names_are_wiresharks_and_distinct() {
    let names: Vec<&str> = Flag::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(names[0], "retransmission");
    assert_eq!(names[5], "ack_lost_segment");
    assert_eq!(names[13], "keep_alive_ack");
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 14);
    let all: Flags = Flag::ALL.into_iter().collect();
    assert_eq!(all.len(), 14);
    assert_eq!(all.iter().count(), 14);
}

#[test]
fn clean_exchange_has_no_flags_and_an_initial_rtt() {
    let mut r = Run::new();
    assert_eq!(r.a.initial_rtt(), None);
    r.handshake(1000, 5000, 20_000);
    assert_eq!(r.a.initial_rtt(), Some(20_020));
    only(&r.seg(C, data(1001, 5001, 100)), &[]);
    only(&r.seg(S, data(5001, 1101, 0)), &[]);
    only(&r.seg(S, data(5001, 1101, 100)), &[]);
    only(&r.seg(C, data(1101, 5101, 0)), &[]);
}

#[test]
fn retransmission_after_a_timeout_names_the_original() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    only(&r.seg(C, data(1001, 5001, 100)), &[]); // frame 4
    r.wait(200_000);
    let x = r.seg(C, data(1001, 5001, 100));
    only(&x, &[Flag::Retransmission]);
    assert_eq!(
        x.retransmitted,
        Some(Retrans {
            rto: 200_010,
            rto_frame: 4
        })
    );
}

#[test]
fn fast_retransmission_after_duplicate_acks() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.seg(C, data(1001, 5001, 100)); // 4
    r.seg(C, data(1101, 5001, 100)); // 5: lost after the capture point
    r.seg(C, data(1201, 5001, 100)); // 6
    only(&r.seg(S, data(5001, 1101, 0)), &[]); // 7: the ACK number changes
    let d1 = r.seg(S, data(5001, 1101, 0));
    only(&d1, &[Flag::DuplicateAck]);
    assert_eq!(d1.duplicate_ack, Some(DupAck { num: 1, frame: 7 }));
    r.seg(C, data(1301, 5001, 100));
    let d2 = r.seg(S, data(5001, 1101, 0));
    assert_eq!(d2.duplicate_ack, Some(DupAck { num: 2, frame: 7 }));
    r.wait(5_000);
    let x = r.seg(C, data(1101, 5001, 100));
    only(&x, &[Flag::FastRetransmission, Flag::Retransmission]);
    assert_eq!(x.retransmitted, None);
}

#[test]
fn one_duplicate_ack_is_not_enough_for_fast_retransmission() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.seg(C, data(1001, 5001, 100));
    r.seg(C, data(1101, 5001, 100));
    r.seg(S, data(5001, 1001, 0));
    only(&r.seg(S, data(5001, 1001, 0)), &[Flag::DuplicateAck]);
    r.wait(30_000);
    only(&r.seg(C, data(1001, 5001, 100)), &[Flag::Retransmission]);
}

#[test]
fn fast_retransmission_needs_to_follow_the_dup_acks_within_20ms() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.seg(C, data(1001, 5001, 100));
    r.seg(C, data(1101, 5001, 100));
    r.seg(S, data(5001, 1001, 0));
    r.seg(S, data(5001, 1001, 0));
    r.seg(S, data(5001, 1001, 0));
    r.wait(25_000);
    only(&r.seg(C, data(1001, 5001, 100)), &[Flag::Retransmission]);
}

#[test]
fn spurious_retransmission_of_acknowledged_data() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.seg(C, data(1001, 5001, 100));
    r.seg(S, data(5001, 1101, 0));
    r.wait(100_000);
    only(
        &r.seg(C, data(1001, 5001, 100)),
        &[Flag::SpuriousRetransmission, Flag::Retransmission],
    );
}

#[test]
fn out_of_order_within_the_initial_rtt() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.seg(C, data(1101, 5001, 100)); // a gap: 1001..1101 not seen yet
    r.wait(1_000);
    only(&r.seg(C, data(1001, 5001, 100)), &[Flag::OutOfOrder]);
}

#[test]
fn out_of_order_threshold_is_3ms_without_a_handshake() {
    let mut r = Run::new();
    only(&r.seg(C, data(1101, 5001, 100)), &[]);
    r.wait(2_000);
    only(&r.seg(C, data(1001, 5001, 50)), &[Flag::OutOfOrder]);
    let mut r = Run::new();
    r.seg(C, data(1101, 5001, 100));
    r.wait(4_000);
    only(&r.seg(C, data(1001, 5001, 50)), &[Flag::Retransmission]);
}

#[test]
fn lost_segment_and_acked_unseen_segment() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.seg(C, data(1001, 5001, 100));
    only(&r.seg(C, data(1201, 5001, 100)), &[Flag::LostSegment]);
    // The server acknowledges bytes the capture never saw: 1101..1201 and beyond
    // the contiguous end at 1101.
    only(&r.seg(S, data(5001, 1301, 0)), &[Flag::AckLostSegment]);
    // Reported once.
    only(&r.seg(S, data(5001, 1301, 10)), &[]);
}

#[test]
fn rst_is_never_a_lost_segment() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.seg(C, data(1001, 5001, 100));
    only(&r.seg(C, data(9999, 5001, 0).rst().win(0)), &[]);
}

#[test]
fn zero_window_probe_and_its_ack() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.seg(C, data(1001, 5001, 100));
    only(&r.seg(S, data(5001, 1101, 0).win(0)), &[Flag::ZeroWindow]);
    r.wait(200_000);
    let p = r.seg(C, data(1101, 5001, 1));
    only(&p, &[Flag::ZeroWindowProbe]);
    only(
        &r.seg(S, data(5001, 1101, 0).win(0)),
        &[Flag::ZeroWindow, Flag::ZeroWindowProbeAck],
    );
    // The probe did not move nextseq: the same byte again is a probe again.
    r.wait(400_000);
    only(&r.seg(C, data(1101, 5001, 1)), &[Flag::ZeroWindowProbe]);
    // The window opens: a window update.
    only(
        &r.seg(S, data(5001, 1101, 0).win(512)),
        &[Flag::WindowUpdate],
    );
    // Data from the probe's byte on is new data.
    only(&r.seg(C, data(1101, 5001, 100)), &[]);
}

#[test]
fn zero_window_is_not_flagged_on_syn_fin_rst() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    only(&r.seg(S, data(5001, 1001, 0).win(0).fin()), &[]);
}

#[test]
fn window_full_uses_the_scaled_window() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    // Server: ACK 1001, window field 4 << 7 = 512 bytes.
    r.seg(S, data(5001, 1001, 0).win(4));
    only(&r.seg(C, data(1001, 5001, 500)), &[]);
    only(&r.seg(C, data(1501, 5001, 12)), &[Flag::WindowFull]);
}

#[test]
fn window_full_after_the_syn_ack_uses_its_unscaled_window() {
    let mut r = Run::new();
    let syn = Seg {
        seq: 1000,
        ack: 0,
        len: 0,
        win: 1000,
        syn: true,
        ackf: false,
        fin: false,
        rst: false,
        wscale: Some(7),
    };
    r.seg(C, syn);
    r.seg(
        S,
        Seg {
            seq: 5000,
            ack: 1001,
            ackf: true,
            win: 100,
            ..syn
        },
    );
    r.seg(C, data(1001, 5001, 0));
    only(&r.seg(C, data(1001, 5001, 100)), &[Flag::WindowFull]);
}

#[test]
fn window_full_needs_a_known_scale() {
    let mut r = Run::new();
    r.seg(S, data(5001, 1001, 0).win(4));
    only(&r.seg(C, data(1001, 5001, 4)), &[]);
}

#[test]
fn window_update_and_duplicate_ack_count_reset() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.seg(C, data(1001, 5001, 100));
    r.seg(S, data(5001, 1101, 0)); // 5
    only(
        &r.seg(S, data(5001, 1101, 0).win(600)),
        &[Flag::WindowUpdate],
    );
    // Same ACK, same window: a duplicate of frame 5 (the window update kept the
    // ACK number, so it did not restart the count).
    let d = r.seg(S, data(5001, 1101, 0).win(600));
    assert_eq!(d.duplicate_ack, Some(DupAck { num: 1, frame: 5 }));
    // A new ACK number restarts.
    r.seg(C, data(1101, 5001, 100));
    r.seg(S, data(5001, 1201, 0).win(600)); // 9
    let d = r.seg(S, data(5001, 1201, 0).win(600));
    assert_eq!(d.duplicate_ack, Some(DupAck { num: 1, frame: 9 }));
}

#[test]
fn keep_alive_and_its_ack() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.seg(C, data(1001, 5001, 100));
    r.seg(S, data(5001, 1101, 0));
    r.wait(7_200_000);
    only(&r.seg(C, data(1100, 5001, 0)), &[Flag::KeepAlive]);
    only(&r.seg(S, data(5001, 1101, 0)), &[Flag::KeepAliveAck]);
    // A keep-alive with one garbage byte is a keep-alive, not a retransmission.
    r.wait(75_000_000);
    only(&r.seg(C, data(1100, 5001, 1)), &[Flag::KeepAlive]);
    only(&r.seg(S, data(5001, 1101, 0)), &[Flag::KeepAliveAck]);
}

#[test]
fn syn_retransmission_and_rtt_from_the_last_syn() {
    let mut r = Run::new();
    let syn = Seg {
        seq: 1000,
        ack: 0,
        len: 0,
        win: 65535,
        syn: true,
        ackf: false,
        fin: false,
        rst: false,
        wscale: Some(7),
    };
    only(&r.seg(C, syn), &[]);
    r.wait(1_000_000);
    only(&r.seg(C, syn), &[Flag::Retransmission]);
    r.seg(
        S,
        Seg {
            seq: 5000,
            ack: 1001,
            ackf: true,
            ..syn
        },
    );
    r.wait(20_000);
    r.seg(C, data(1001, 5001, 0));
    assert_eq!(r.a.initial_rtt(), Some(20_020));
}

#[test]
fn syn_ack_sent_again_within_the_rtt_is_a_retransmission() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.wait(1_000);
    let synack = Seg {
        seq: 5000,
        ack: 1001,
        len: 0,
        win: 512,
        syn: true,
        ackf: true,
        fin: false,
        rst: false,
        wscale: Some(7),
    };
    only(&r.seg(S, synack), &[Flag::Retransmission]);
}

#[test]
fn fin_retransmission() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    only(&r.seg(C, data(1001, 5001, 0).fin()), &[]);
    r.wait(300_000);
    only(
        &r.seg(C, data(1001, 5001, 0).fin()),
        &[Flag::Retransmission],
    );
}

#[test]
fn sequence_numbers_wrap_around() {
    let mut r = Run::new();
    let c = 0xFFFF_FF00u32;
    r.handshake(c, 0xFFFF_FFF0, 20_000);
    let s1 = c.wrapping_add(1);
    only(&r.seg(C, data(s1, 0xFFFF_FFF1, 0x80)), &[]);
    // Crosses 2^32: seq 0xFFFF_FF81 + 0x100 ends at 0x81.
    only(
        &r.seg(C, data(s1.wrapping_add(0x80), 0xFFFF_FFF1, 0x100)),
        &[],
    );
    // Beyond the wrap, after a gap.
    only(
        &r.seg(C, data(0x181, 0xFFFF_FFF1, 0x10)),
        &[Flag::LostSegment],
    );
    // The hole's data, within the RTT: out of order, not "lost" or new.
    only(
        &r.seg(C, data(0x81, 0xFFFF_FFF1, 0x100)),
        &[Flag::OutOfOrder],
    );
    // Server data crossing the wrap, acknowledged across it.
    only(&r.seg(S, data(0xFFFF_FFF1, 0x191, 0x20)), &[]);
    only(&r.seg(C, data(0x191, 0x11, 0)), &[]);
    r.wait(100_000);
    only(
        &r.seg(S, data(0xFFFF_FFF1, 0x191, 0x20)),
        &[Flag::SpuriousRetransmission, Flag::Retransmission],
    );
}

#[test]
fn acks_frame_names_the_eldest_segment_ending_at_the_ack() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    r.seg(C, data(1001, 5001, 100)); // 4
    r.seg(C, data(1101, 5001, 100)); // 5
    r.wait(20_000);
    // Half of frame 4: nothing is named.
    let a = r.seg(S, data(5001, 1051, 0));
    assert_eq!((a.acks_frame, a.ack_rtt), (None, None));
    // The end of frame 4.
    let a = r.seg(S, data(5001, 1101, 0));
    assert_eq!(a.acks_frame, Some(4));
    assert_eq!(a.ack_rtt, Some(20_030));
    // Frame 5 is acknowledged together with its retransmission: the eldest.
    r.wait(300_000);
    r.seg(C, data(1101, 5001, 100));
    let a = r.seg(S, data(5001, 1201, 0));
    assert_eq!(a.acks_frame, Some(5));
}

#[test]
fn past_the_kept_segments_rto_is_unknown_until_all_are_acked() {
    let mut r = Run::new();
    r.handshake(1000, 5000, 20_000);
    let n = u32::try_from(UNACKED_KEPT).unwrap() + 5;
    for k in 0..n {
        r.seg(C, data(1001 + 10 * k, 5001, 10));
    }
    let kept_end = 1001 + 10 * (n - 3);
    r.seg(S, data(5001, kept_end, 0));
    r.wait(300_000);
    let x = r.seg(C, data(kept_end, 5001, 10));
    only(&x, &[Flag::Retransmission]);
    assert_eq!(x.retransmitted, None);
    // An ACK of everything empties the list: from the highest segment again.
    let all = 1001 + 10 * n;
    let a = r.seg(S, data(5001, all, 0));
    assert_eq!(a.acks_frame, None, "only a segment not kept ended there");
    // New data is kept again and names its own frame.
    r.seg(C, data(all, 5001, 10));
    let sent = r.frame;
    r.wait(300_000);
    let x = r.seg(C, data(all, 5001, 10));
    only(&x, &[Flag::Retransmission]);
    assert_eq!(x.retransmitted.map(|t| t.rto_frame), Some(sent));
}

#[test]
fn arbitrary_input_never_panics() {
    // A fixed pseudo-random sequence (xorshift) of any values, both directions.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut a = TcpFlowAnalysis::new();
    let payload = [0u8; 4];
    for frame in 1..=20_000u64 {
        let v = next();
        let special = [0, 1, u32::MAX, u32::MAX - 1];
        let pick = |k: u64| -> u32 {
            if k % 4 == 0 {
                special[((k >> 2) % 4) as usize]
            } else {
                (k >> 8) as u32
            }
        };
        let seg = TcpSegment {
            seq: pick(v),
            ack: pick(v.rotate_left(17)),
            flags: TcpFlags {
                syn: v & 1 != 0,
                ack: v & 2 != 0,
                fin: v & 4 != 0,
                rst: v & 8 != 0,
                psh: false,
            },
            window: (v >> 40) as u16 & 3,
            options: TcpOptions {
                mss: None,
                window_scale: Some((v >> 50) as u8),
                sack_permitted: false,
                timestamps: false,
            },
            payload: &payload,
            wire_len: match v >> 60 {
                0 => usize::MAX,
                1 => 1,
                2 => 0,
                _ => (v >> 30) as usize % 3000,
            },
        };
        let dir = if v & 16 != 0 { C } else { S };
        // Time sometimes goes backwards.
        let ts = if v & 32 != 0 { frame * 1000 } else { 0 };
        let _ = a.segment(dir, frame, ts, &seg);
    }
}
