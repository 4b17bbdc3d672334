use super::*;
use proptest::prelude::*;

/// What came out, flattened: `Some(byte)` delivered, `None` declared missing.
fn collect(pieces: &[(u64, Option<Vec<u8>>, u64)]) -> Vec<Option<u8>> {
    let mut out = Vec::new();
    for (offset, bytes, len) in pieces {
        assert_eq!(
            *offset,
            out.len() as u64,
            "pieces must be contiguous and in order"
        );
        match bytes {
            Some(b) => out.extend(b.iter().map(|&x| Some(x))),
            None => out.extend(std::iter::repeat_n(None, *len as usize)),
        }
    }
    out
}

#[derive(Default)]
struct Sink {
    pieces: Vec<(u64, Option<Vec<u8>>, u64)>,
    reasons: Vec<GapReason>,
}

impl Sink {
    fn take(&mut self) -> impl FnMut(Piece<'_, u32>) + '_ {
        |p| match p {
            Piece::Data { offset, bytes, .. } => {
                self.pieces
                    .push((offset, Some(bytes.to_vec()), bytes.len() as u64))
            }
            Piece::Gap {
                offset,
                len,
                reason,
            } => {
                self.pieces.push((offset, None, len));
                self.reasons.push(reason);
            }
        }
    }
}

#[test]
fn in_order_and_out_of_order_and_wrap() {
    let isn: u32 = 0xFFFF_FFF0;
    let mut r = Reassembler::new(isn.wrapping_add(1), 1 << 20);
    let mut sink = Sink::default();
    let data = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let seq = |off: u32| isn.wrapping_add(1).wrapping_add(off);
    // Second half first (crosses the 2^32 wrap), then first half.
    let i = r.insert(seq(20), &data[20..], data.len() - 20, 2, &mut sink.take());
    assert_eq!((i.kind, i.new_bytes), (SegmentKind::OutOfOrder, 16));
    assert!(sink.pieces.is_empty());
    let i = r.insert(seq(0), &data[..20], 20, 1, &mut sink.take());
    assert_eq!((i.kind, i.new_bytes), (SegmentKind::InOrder, 20));
    assert_eq!(
        collect(&sink.pieces),
        data.iter().map(|&b| Some(b)).collect::<Vec<_>>()
    );
    // A duplicate changes nothing.
    let i = r.insert(seq(5), &data[5..10], 5, 3, &mut sink.take());
    assert_eq!((i.kind, i.new_bytes), (SegmentKind::Retransmission, 0));
    assert_eq!(r.next_offset(), 36);
}

#[test]
fn overlapping_retransmission_first_copy_wins() {
    let mut r = Reassembler::new(100, 1 << 20);
    let mut sink = Sink::default();
    r.insert(100, b"hello", 5, 1, &mut sink.take());
    // Overlaps "lo" and adds " world"; the overlapping bytes differ and are ignored.
    let i = r.insert(103, b"XX world", 8, 2, &mut sink.take());
    assert_eq!((i.kind, i.new_bytes), (SegmentKind::Retransmission, 6));
    let got: Vec<u8> = collect(&sink.pieces).into_iter().flatten().collect();
    assert_eq!(got, b"hello world");
}

#[test]
fn ack_past_a_hole_declares_the_gap() {
    let mut r = Reassembler::new(0, 1 << 20);
    let mut sink = Sink::default();
    r.insert(0, b"aaaa", 4, 1, &mut sink.take());
    r.insert(10, b"cccc", 4, 3, &mut sink.take());
    assert!(r.acked(12));
    assert!(sink.reasons.is_empty(), "an ACK alone declares nothing");
    assert_eq!(r.acked_unseen(), 8);
    assert_eq!(r.declare_acked(&mut sink.take()), 6);
    assert_eq!(
        sink.pieces,
        vec![
            (0, Some(b"aaaa".to_vec()), 4),
            (4, None, 6),
            (10, Some(b"cccc".to_vec()), 4)
        ]
    );
    assert_eq!(sink.reasons, vec![GapReason::Acked]);
    // An old ack does nothing.
    assert!(!r.acked(3));
    assert_eq!(r.declare_acked(&mut sink.take()), 0);
}

#[test]
fn ack_captured_before_its_data_loses_nothing() {
    let mut r = Reassembler::new(0, 1 << 20);
    let mut sink = Sink::default();
    r.insert(0, b"aaaa", 4, 1, &mut sink.take());
    // The ACK of bytes 4..14 is captured before the two segments that carry them.
    assert!(r.acked(14));
    r.insert(4, b"bbbbb", 5, 2, &mut sink.take());
    assert_eq!(r.acked_unseen(), 5);
    r.insert(9, b"ccccc", 5, 3, &mut sink.take());
    assert_eq!(r.acked_unseen(), 0);
    assert_eq!(r.declare_acked(&mut sink.take()), 0);
    assert!(sink.reasons.is_empty());
    let got: Vec<u8> = collect(&sink.pieces).into_iter().flatten().collect();
    assert_eq!(got, b"aaaabbbbbccccc");
}

#[test]
fn flush_names_acked_bytes_as_acked() {
    let mut r = Reassembler::new(0, 1 << 20);
    let mut sink = Sink::default();
    r.insert(0, b"ab", 2, 1, &mut sink.take());
    assert!(r.acked(5));
    assert_eq!(r.flush(Some(9), &mut sink.take()), 7);
    assert_eq!(
        sink.pieces,
        vec![(0, Some(b"ab".to_vec()), 2), (2, None, 3), (5, None, 4)]
    );
    assert_eq!(sink.reasons, vec![GapReason::Acked, GapReason::Flush]);
}

#[test]
fn truncated_segment_is_a_gap_at_once() {
    let mut r = Reassembler::new(0, 1 << 20);
    let mut sink = Sink::default();
    // 10 bytes on the wire, 4 captured.
    r.insert(0, b"abcd", 10, 1, &mut sink.take());
    r.insert(10, b"next", 4, 2, &mut sink.take());
    assert_eq!(
        sink.pieces,
        vec![
            (0, Some(b"abcd".to_vec()), 4),
            (4, None, 6),
            (10, Some(b"next".to_vec()), 4)
        ]
    );
    assert_eq!(sink.reasons, vec![GapReason::Truncated]);
}

#[test]
fn overflow_gives_up_the_hole() {
    let mut r = Reassembler::new(0, 8);
    let mut sink = Sink::default();
    r.insert(0, b"ab", 2, 1, &mut sink.take());
    r.insert(5, b"fghij", 5, 2, &mut sink.take());
    assert!(sink.reasons.is_empty());
    r.insert(10, b"klmn", 4, 3, &mut sink.take());
    assert_eq!(sink.reasons, vec![GapReason::Overflow]);
    assert_eq!(collect(&sink.pieces).len(), 14);
    assert_eq!(r.buffered_bytes(), 0);
}

#[test]
fn flush_reports_hole_up_to_the_fin() {
    let mut r = Reassembler::new(0, 1 << 20);
    let mut sink = Sink::default();
    r.insert(0, b"ab", 2, 1, &mut sink.take());
    assert_eq!(r.flush(Some(7), &mut sink.take()), 5);
    assert_eq!(
        sink.pieces,
        vec![(0, Some(b"ab".to_vec()), 2), (2, None, 5)]
    );
}

/// A test scenario: the stream, the segments (start, len, use_alternative_bytes) in
/// arrival order.
/// (first sequence number, stream, alternative bytes, segments in arrival order)
type Scenario = (u32, Vec<u8>, Vec<u8>, Vec<(usize, usize, bool)>);

fn scenario() -> impl Strategy<Value = Scenario> {
    (1usize..300).prop_flat_map(|total| {
        (
            any::<u32>(),
            prop::collection::vec(any::<u8>(), total),
            prop::collection::vec(any::<u8>(), total),
            // cut points of a partition, segments to drop, extra overlapping copies
            prop::collection::vec(1..total.max(2), 0..12),
            prop::collection::vec(any::<bool>(), 13),
            prop::collection::vec((0..total, 1usize..60, any::<bool>()), 0..6),
            prop::collection::vec(any::<u16>(), 20),
        )
            .prop_map(move |(isn, stream, alt, mut cuts, keep, extra, order)| {
                cuts.push(0);
                cuts.push(total);
                cuts.sort_unstable();
                cuts.dedup();
                let mut segs: Vec<(usize, usize, bool)> = cuts
                    .windows(2)
                    .enumerate()
                    .filter(|(i, _)| keep[*i % keep.len()] || *i % 3 == 0)
                    .map(|(_, w)| (w[0], w[1] - w[0], false))
                    .collect();
                for (s, l, a) in extra {
                    segs.push((s, l.min(total - s), a));
                }
                // Shuffle deterministically by the generated keys.
                let mut keyed: Vec<(u16, usize, (usize, usize, bool))> = segs
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| (order[i % order.len()], i, s))
                    .collect();
                keyed.sort_unstable();
                (isn, stream, alt, keyed.into_iter().map(|k| k.2).collect())
            })
    })
}

fn model(stream: &[u8], alt: &[u8], segs: &[(usize, usize, bool)]) -> Vec<Option<u8>> {
    let end = segs.iter().map(|s| s.0 + s.1).max().unwrap_or(0);
    let mut m = vec![None; end];
    for &(s, l, a) in segs {
        for o in s..s + l {
            if m[o].is_none() {
                m[o] = Some(if a { alt[o] } else { stream[o] });
            }
        }
    }
    m
}

fn feed(
    r: &mut Reassembler<u32>,
    sink: &mut Sink,
    isn: u32,
    stream: &[u8],
    alt: &[u8],
    segs: &[(usize, usize, bool)],
) {
    for (i, &(s, l, a)) in segs.iter().enumerate() {
        let src = if a { alt } else { stream };
        r.insert(
            isn.wrapping_add(s as u32),
            &src[s..s + l],
            l,
            i as u32,
            &mut sink.take(),
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn matches_model_after_flush((isn, stream, alt, segs) in scenario()) {
        let m = model(&stream, &alt, &segs);
        let mut r = Reassembler::new(isn, 1 << 20);
        let mut sink = Sink::default();
        feed(&mut r, &mut sink, isn, &stream, &alt, &segs);
        // Before the flush: exactly the model's contiguous prefix.
        let prefix = m.iter().take_while(|b| b.is_some()).count();
        prop_assert_eq!(&collect(&sink.pieces)[..], &m[..prefix]);
        r.flush(None, &mut sink.take());
        prop_assert_eq!(collect(&sink.pieces), m);
    }

    #[test]
    fn ack_of_everything_equals_flush((isn, stream, alt, segs) in scenario()) {
        let m = model(&stream, &alt, &segs);
        let mut r = Reassembler::new(isn, 1 << 20);
        let mut sink = Sink::default();
        feed(&mut r, &mut sink, isn, &stream, &alt, &segs);
        r.acked(isn.wrapping_add(m.len() as u32));
        r.declare_acked(&mut sink.take());
        prop_assert_eq!(collect(&sink.pieces), m);
        prop_assert!(sink.reasons.iter().all(|&x| x == GapReason::Acked));
    }

    /// Every segment may be preceded by an ACK of everything up to its end (the ACK
    /// captured before the data it acknowledges): as long as the caller does not give
    /// the acknowledged bytes up, nothing is lost and the flush equals the model.
    #[test]
    fn acks_before_their_data_lose_nothing(
        (isn, stream, alt, segs) in scenario(),
        early in prop::collection::vec(any::<bool>(), 20),
    ) {
        let m = model(&stream, &alt, &segs);
        let mut r = Reassembler::new(isn, 1 << 20);
        let mut sink = Sink::default();
        for (i, &(s, l, a)) in segs.iter().enumerate() {
            if early[i % early.len()] {
                r.acked(isn.wrapping_add((s + l) as u32));
            }
            let src = if a { &alt } else { &stream };
            r.insert(isn.wrapping_add(s as u32), &src[s..s + l], l, i as u32, &mut sink.take());
            // Delivered bytes are always the model's, never a declared gap.
            let prefix = m.iter().take_while(|b| b.is_some()).count();
            let got = collect(&sink.pieces);
            prop_assert!(got.len() <= prefix);
            prop_assert!(got.iter().all(Option::is_some));
        }
        r.flush(None, &mut sink.take());
        let got = collect(&sink.pieces);
        prop_assert_eq!(got, m);
    }

    #[test]
    fn small_cap_stays_consistent((isn, stream, alt, segs) in scenario(), cap in 0usize..40) {
        let m = model(&stream, &alt, &segs);
        let mut r = Reassembler::new(isn, cap);
        let mut sink = Sink::default();
        for (i, &(s, l, a)) in segs.iter().enumerate() {
            let src = if a { &alt } else { &stream };
            r.insert(isn.wrapping_add(s as u32), &src[s..s + l], l, i as u32, &mut sink.take());
            prop_assert!(r.buffered_bytes() <= cap);
        }
        r.flush(None, &mut sink.take());
        let got = collect(&sink.pieces);
        prop_assert_eq!(got.len(), m.len());
        for (o, b) in got.iter().enumerate() {
            if b.is_some() {
                prop_assert_eq!(*b, m[o], "byte at offset {}", o);
            }
        }
    }
}
