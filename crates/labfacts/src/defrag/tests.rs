use super::*;
use labfixtures::fragment::{fragment, with_extension_header};
use labfixtures::{Capture, LinkType};
use proptest::prelude::*;

const T0: Micros = 1_700_000_000_000_000;

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// A whole UDP datagram as an IP packet (v4 or v6 by the addresses).
fn udp_packet(v6: bool, n: usize) -> Vec<u8> {
    let mut cap = Capture::new(LinkType::RawIp);
    let (src, dst) = if v6 {
        ("[fd77::2]:40000", "[fd77::1]:5005")
    } else {
        ("10.77.0.2:40000", "10.77.0.1:5005")
    };
    cap.udp_ip_packet(src.parse().unwrap(), dst.parse().unwrap(), &payload(n))
}

/// `got` is `whole` reassembled. The fixture sets DF on whole IPv4 packets and clears
/// it on fragments, so IPv4 is compared from the addresses on, plus length and checksum.
fn same_datagram(got: &[u8], whole: &[u8]) {
    assert_eq!(got.len(), whole.len());
    if whole[0] >> 4 == 4 {
        assert_eq!(got[2..4], whole[2..4], "total length");
        assert_eq!(got[6] & 0x3f, 0, "offset cleared");
        assert_eq!(got[7], 0, "offset cleared");
        assert_eq!(got[12..], whole[12..]);
        assert_eq!(ipv4_checksum(&got[..20]), 0, "checksum");
    } else {
        assert_eq!(got, whole);
    }
}

struct Run {
    d: Defragmenter,
    out: Assembled,
    done: Vec<Datagram>,
    packets: Vec<Vec<u8>>,
    frame: u64,
}

impl Run {
    fn new(limits: Limits) -> Run {
        Run {
            d: Defragmenter::new(limits),
            out: Assembled::default(),
            done: Vec::new(),
            packets: Vec::new(),
            frame: 0,
        }
    }

    fn feed(&mut self, ip: &[u8], ts: Micros) {
        self.frame += 1;
        self.d.expire(ts);
        let frag = parse(ip).expect("a fragment");
        if let Some(dg) = self.d.fragment(&frag, self.frame, ts, &mut self.out) {
            self.done.push(dg);
            self.packets.push(self.out.packet.clone());
        }
    }
}

fn frags(v6: bool, n: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
    let whole = udp_packet(v6, n);
    let f = fragment(&whole, 1500, 0x1234_5678);
    assert!(f.len() >= 3);
    (whole, f)
}

#[test]
fn in_order_and_reversed_give_the_datagram_at_the_completing_frame() {
    for v6 in [false, true] {
        let (whole, f) = frags(v6, 4000);
        let mut run = Run::new(Limits::default());
        for (i, p) in f.iter().enumerate() {
            run.feed(p, T0 + i as u64);
        }
        assert_eq!(run.done.len(), 1);
        same_datagram(&run.packets[0], &whole);
        assert_eq!(run.out.frames, vec![1, 2, 3]);
        assert_eq!(run.done[0].fragments, 3);
        assert_eq!(run.done[0].payload_len, 4008);
        assert_eq!(run.d.in_progress(), 0);
        assert_eq!(run.d.held_bytes(), 0);

        let mut run = Run::new(Limits::default());
        for p in f.iter().rev() {
            run.feed(p, T0);
        }
        same_datagram(&run.packets[0], &whole);
        assert!(run.d.take_dropped().is_empty());
    }
}

#[test]
fn duplicates_are_ignored_and_counted() {
    for v6 in [false, true] {
        let (whole, f) = frags(v6, 4000);
        let mut run = Run::new(Limits::default());
        run.feed(&f[0], T0);
        run.feed(&f[1], T0);
        run.feed(&f[1], T0);
        run.feed(&f[2], T0);
        assert_eq!(run.done.len(), 1, "v6 {v6}");
        same_datagram(&run.packets[0], &whole);
        assert_eq!(
            run.done[0].overlap_bytes,
            f[1].len() - if v6 { 48 } else { 20 }
        );
        assert_eq!(run.done[0].differing_bytes, 0);
        assert_eq!(run.done[0].partial_overlaps, 0);
        assert_eq!(run.out.frames, vec![1, 2, 3, 4]);
    }
}

/// A fragment with its data changed and its offset moved by `shift` bytes (8-byte
/// units), so that it overlaps its neighbours.
fn shifted(p: &[u8], shift: i32, fill: u8) -> Vec<u8> {
    let mut p = p.to_vec();
    if p[0] >> 4 == 4 {
        let field = u16::from_be_bytes([p[6], p[7]]);
        let off = (i32::from(field & 0x1fff) + shift / 8) as u16;
        p[6..8].copy_from_slice(&((field & 0xe000) | off).to_be_bytes());
        for b in &mut p[20..] {
            *b = fill;
        }
    } else {
        let field = u16::from_be_bytes([p[42], p[43]]);
        let off = (i32::from(field >> 3) + shift / 8) as u16;
        p[42..44].copy_from_slice(&((off << 3) | (field & 7)).to_be_bytes());
        for b in &mut p[48..] {
            *b = fill;
        }
    }
    p
}

#[test]
fn ipv4_overlap_keeps_the_first_copy_and_says_so() {
    let (whole, f) = frags(false, 4000);
    let mut run = Run::new(Limits::default());
    run.feed(&f[0], T0);
    run.feed(&f[1], T0);
    // Starts 16 bytes into fragment 2 and runs 16 bytes into fragment 3: its first
    // 1,464 bytes are old (kept as first sent), 16 are new.
    run.feed(&shifted(&f[1], 16, 0xee), T0);
    // The last fragment's first 16 bytes come second: the 0xee copy stays.
    run.feed(&f[2], T0);
    assert_eq!(run.done.len(), 1);
    let got = &run.packets[0];
    let new_bytes = 20 + 2960..20 + 2976;
    assert!(got[new_bytes.clone()].iter().all(|&b| b == 0xee));
    let mut expected = whole.clone();
    expected[new_bytes].fill(0xee);
    same_datagram(got, &expected);
    let dg = run.done[0];
    assert_eq!(dg.overlap_bytes, 1464 + 16);
    assert_eq!(dg.partial_overlaps, 2);
    assert!(dg.differing_bytes > 1000);
}

#[test]
fn ipv6_overlap_discards_the_datagram() {
    let (_, f) = frags(true, 4000);
    let mut run = Run::new(Limits::default());
    run.feed(&f[0], T0);
    run.feed(&shifted(&f[1], -8, 0xee), T0);
    assert!(run.done.is_empty());
    let dropped = run.d.take_dropped();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].reason, DropReason::Overlap);
    assert_eq!(dropped[0].frames, vec![1, 2]);
    assert_eq!(dropped[0].ports, Some((40000, 5005)));
    // The rest then starts a new datagram that never completes.
    run.feed(&f[1], T0);
    run.feed(&f[2], T0);
    assert!(run.done.is_empty());
    assert_eq!(run.d.in_progress(), 1);
}

#[test]
fn a_missing_fragment_times_out_with_what_had_arrived() {
    for v6 in [false, true] {
        let (_, f) = frags(v6, 4000);
        let mut run = Run::new(Limits::default());
        run.feed(&f[0], T0);
        run.feed(&f[2], T0 + 1);
        let timeout = if v6 { TIMEOUT_V6 } else { TIMEOUT_V4 };
        run.d.expire(T0 + timeout - 1);
        assert!(!run.d.has_dropped());
        run.d.expire(T0 + timeout);
        let dropped = run.d.take_dropped();
        assert_eq!(dropped.len(), 1);
        let gone = &dropped[0];
        assert_eq!(gone.frames, vec![1, 2]);
        assert_eq!(gone.end, Some(4008));
        let header = if v6 { 48 } else { 20 };
        assert_eq!(gone.bytes, f[0].len() + f[2].len() - 2 * header);
        assert_eq!(
            gone.reason,
            DropReason::Timeout {
                waited: timeout,
                timeout
            }
        );
        assert_eq!(run.d.held_bytes(), 0);
    }
}

#[test]
fn the_end_of_the_capture_gives_up_what_is_pending() {
    let (_, f) = frags(false, 4000);
    let mut run = Run::new(Limits::default());
    run.feed(&f[1], T0);
    run.d.finish();
    let dropped = run.d.take_dropped();
    assert_eq!(dropped[0].reason, DropReason::CaptureEnded);
    assert_eq!(dropped[0].ports, None, "the first fragment never came");
    assert_eq!(run.d.in_progress(), 0);
}

#[test]
fn a_fragment_past_65535_bytes_is_refused_without_allocating_for_it() {
    for v6 in [false, true] {
        let (_, f) = frags(v6, 4000);
        let mut p = f[1][..if v6 { 48 } else { 20 } + 96].to_vec();
        p.resize(p.len() + 4, 0xaa); // 100 bytes of data
        if v6 {
            p[4..6].copy_from_slice(&(8u16 + 100).to_be_bytes());
            p[42..44].copy_from_slice(&(65528u16 | 1).to_be_bytes());
        } else {
            p[2..4].copy_from_slice(&120u16.to_be_bytes());
            p[6..8].copy_from_slice(&(0x2000u16 | (65528 / 8)).to_be_bytes());
        }
        // 100 bytes are not a multiple of 8 either; the size is checked first.
        let mut run = Run::new(Limits::default());
        run.feed(&p, T0);
        let dropped = run.d.take_dropped();
        assert_eq!(dropped.len(), 1);
        assert!(
            matches!(dropped[0].reason, DropReason::TooBig { end: 65628, .. }),
            "{:?}",
            dropped[0].reason
        );
        assert_eq!(run.d.in_progress(), 0);
        assert_eq!(run.d.held_bytes(), 0);
    }
}

#[test]
fn inconsistent_ends_give_the_datagram_up() {
    let (_, f) = frags(false, 4000);
    // A second "last" fragment that puts the end 8 bytes earlier.
    let mut early = f[2].clone();
    early.truncate(early.len() - 8);
    let total = (early.len() as u16).to_be_bytes();
    early[2..4].copy_from_slice(&total);
    let mut run = Run::new(Limits::default());
    run.feed(&f[2], T0);
    run.feed(&early, T0);
    let dropped = run.d.take_dropped();
    assert!(matches!(
        dropped[0].reason,
        DropReason::Inconsistent {
            end: 4000,
            known_end: 4008
        }
    ));
    // A non-last fragment past a known end.
    let mut run = Run::new(Limits::default());
    run.feed(&f[2], T0);
    run.feed(&shifted(&f[1], 1480, 0), T0);
    let dropped = run.d.take_dropped();
    assert!(matches!(dropped[0].reason, DropReason::PastEnd { .. }));
    // Fragment data that is not a multiple of 8 before the end.
    let mut odd = f[0].clone();
    odd.truncate(odd.len() - 3);
    let total = (odd.len() as u16).to_be_bytes();
    odd[2..4].copy_from_slice(&total);
    let mut run = Run::new(Limits::default());
    run.feed(&odd, T0);
    let dropped = run.d.take_dropped();
    assert!(matches!(
        dropped[0].reason,
        DropReason::NotMultipleOf8 { len: 1477 }
    ));
}

#[test]
fn a_fragment_cut_by_the_snaplen_gives_its_datagram_up() {
    let (_, f) = frags(false, 4000);
    let mut run = Run::new(Limits::default());
    run.feed(&f[0], T0);
    run.feed(&f[1][..96], T0);
    let dropped = run.d.take_dropped();
    assert_eq!(dropped.len(), 1);
    assert_eq!(
        dropped[0].reason,
        DropReason::Truncated {
            captured: 76,
            wire: 1480
        }
    );
    assert_eq!(dropped[0].frames, vec![1, 2]);
}

#[test]
fn a_flood_of_distinct_ids_stays_within_the_caps() {
    let limits = Limits {
        max_datagrams: 100,
        max_bytes: 64 * 1024,
        ..Limits::default()
    };
    let (_, f) = frags(false, 4000);
    let mut run = Run::new(limits);
    let mut evicted = [0usize; 2];
    for id in 0..2_000u16 {
        let mut p = f[0].clone();
        p[4..6].copy_from_slice(&id.to_be_bytes());
        run.feed(&p, T0);
        assert!(run.d.in_progress() <= 100);
        assert!(run.d.held_bytes() <= 64 * 1024, "{}", run.d.held_bytes());
        for gone in run.d.take_dropped() {
            match gone.reason {
                DropReason::TooManyDatagrams { max: 100 } => evicted[0] += 1,
                DropReason::TooManyBytes { max } => {
                    assert_eq!(max, 64 * 1024);
                    evicted[1] += 1
                }
                other => panic!("{other:?}"),
            }
        }
    }
    // 64 KiB hold 42 first fragments of 1,480 bytes (+ overhead): the byte cap bites
    // before the datagram cap.
    assert!(evicted[1] > 1900, "{evicted:?}");
    // With small fragments the datagram cap bites.
    let mut run = Run::new(limits);
    let mut tiny = f[0][..28].to_vec();
    tiny[2..4].copy_from_slice(&28u16.to_be_bytes());
    for id in 0..2_000u16 {
        tiny[4..6].copy_from_slice(&id.to_be_bytes());
        run.feed(&tiny, T0);
        assert!(run.d.in_progress() <= 100);
    }
    let dropped = run.d.take_dropped();
    assert_eq!(dropped.len(), 1_900);
    assert!(dropped
        .iter()
        .all(|d| d.reason == DropReason::TooManyDatagrams { max: 100 }));
    // Oldest first.
    assert_eq!(dropped[0].frames, vec![1]);
}

#[test]
fn the_byte_cap_counts_overhead_per_tiny_fragment() {
    let limits = Limits {
        max_bytes: 10_000,
        ..Limits::default()
    };
    let (_, f) = frags(false, 4000);
    let mut run = Run::new(limits);
    let mut tiny = f[0][..28].to_vec();
    tiny[2..4].copy_from_slice(&28u16.to_be_bytes());
    // One datagram, 8-byte fragments at rising offsets: 8 data bytes and two
    // overheads each; never complete (no last fragment).
    for i in 0..1_000u16 {
        tiny[6..8].copy_from_slice(&(0x2000 | i).to_be_bytes());
        run.feed(&tiny, T0);
        assert!(run.d.held_bytes() <= 10_000);
    }
    assert!(run.d.has_dropped());
}

#[test]
fn ipv6_fragment_header_after_extension_headers() {
    for kinds in [&[0u8][..], &[60], &[0, 60]] {
        let mut whole = udp_packet(true, 4000);
        for &k in kinds.iter().rev() {
            whole = with_extension_header(&whole, k);
        }
        let f = fragment(&whole, 1500, 99);
        let mut run = Run::new(Limits::default());
        for p in f.iter().rev() {
            let frag = parse(p).unwrap();
            assert_eq!(frag.header.len(), 40 + 8 * kinds.len());
            assert_eq!(frag.next_header, 17);
            run.feed(p, T0);
        }
        assert_eq!(run.done.len(), 1, "{kinds:?}");
        same_datagram(&run.packets[0], &whole);
    }
}

#[test]
fn not_fragments_are_not_parsed_as_fragments() {
    assert!(parse(&udp_packet(false, 100)).is_none());
    assert!(parse(&udp_packet(true, 100)).is_none());
    // An IPv6 atomic fragment (offset 0, no more fragments): a whole packet.
    let whole = udp_packet(true, 100);
    let f = fragment(&whole, 120, 5);
    let mut atomic = f[0].clone();
    atomic[43] &= !1;
    let len = (atomic.len() - 40) as u16;
    atomic[4..6].copy_from_slice(&len.to_be_bytes());
    assert!(parse(&atomic).is_none());
    assert!(parse(&[]).is_none());
    assert!(parse(&[0x45; 10]).is_none());
}

proptest! {
    #[test]
    fn any_order_and_duplication_gives_the_same_datagram(
        v6 in any::<bool>(),
        len in 1usize..6000,
        mtu in 200usize..1500,
        order in proptest::collection::vec(any::<u16>(), 0..24),
        repeats in proptest::collection::vec(0usize..3, 0..24),
    ) {
        let whole = udp_packet(v6, len);
        let f = fragment(&whole, mtu, 7);
        prop_assume!(f.len() > 1);
        // A permutation of the fragments (sorting by random keys), each sent 1 to 3
        // times in a row.
        let mut idx: Vec<usize> = (0..f.len()).collect();
        idx.sort_by_key(|&i| order.get(i).copied().unwrap_or(i as u16));
        let mut run = Run::new(Limits::default());
        let mut sent = 0;
        for (n, &i) in idx.iter().enumerate() {
            for _ in 0..1 + repeats.get(n).copied().unwrap_or(0) {
                run.feed(&f[i], T0);
                sent += 1;
            }
        }
        // Duplicates after completion start a new datagram; only one completes.
        prop_assert_eq!(run.done.len(), 1);
        same_datagram(&run.packets[0], &whole);
        prop_assert!(run.done[0].fragments <= sent);
        prop_assert_eq!(run.done[0].differing_bytes, 0);
        prop_assert!(run.d.take_dropped().is_empty());
    }
}
