//! Both ends in one picture: the same TCP conversation captured at two points (the
//! client's side and the server's side, e.g. netlab's two captures), its segments
//! matched between the captures. Facts, no words:
//!
//! - conversations are the same when their addresses and the client's ISN are equal;
//! - a segment is identified by its direction, raw seq and ack, payload length, header
//!   flags and window (a forwarder between the points rewrites none of them); several
//!   identical segments (a retransmission of the same bytes, duplicate ACKs) are told
//!   apart by time: each copy seen at the receiving side is matched to the copy whose
//!   departure plus the one-way delay (the median over unambiguous segments) is nearest
//!   its arrival, never to one sent after it arrived (within [`CLOCK_SLACK`]); a
//!   segment with no copy whose every byte arrived in other segments was cut or joined
//!   on the way (TSO at the sender's capture point, GRO at the receiver's) and is not
//!   lost. A copy that left the
//!   sending side and was never seen at the receiving side was lost between the two
//!   capture points;
//! - the clocks are taken as one (netlab's two captures share the machine's clock);
//!   aligning two machines' clocks from the handshake is not done yet.

use crate::event::{CapturePoint, ConversationRecord, Dir, SegmentEvent};
use std::collections::HashMap;

/// How much earlier than its departure a copy may be seen arriving (clock resolution).
pub const CLOCK_SLACK: f64 = 0.000_5;

/// Which capture saw a segment leave its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Here,
    There,
}

/// The matching of one conversation's segments between the two captures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerMatch {
    /// For each segment of `here` (by index): its copy in `there`, if seen there.
    pub here: Vec<Option<usize>>,
    /// For each segment of `there`: its copy in `here`, if seen here.
    pub there: Vec<Option<usize>>,
    /// Whether `here` is the capture on the client's side (so it saw the client's
    /// segments leave and the server's arrive).
    pub here_is_client_side: bool,
}

impl PeerMatch {
    /// The capture that saw segments of `dir` leave.
    pub fn sender(&self, dir: Dir) -> Side {
        match (dir, self.here_is_client_side) {
            (Dir::ClientToServer, true) | (Dir::ServerToClient, false) => Side::Here,
            _ => Side::There,
        }
    }

    /// Segments of `here` that left here and were never seen there (lost between).
    pub fn lost_from_here(&self, here: &[&SegmentEvent]) -> Vec<usize> {
        (0..here.len())
            .filter(|&i| self.here[i].is_none() && self.sender(here[i].dir) == Side::Here)
            .collect()
    }

    /// Segments of `there` that left there and were never seen here (lost between).
    pub fn lost_from_there(&self, there: &[&SegmentEvent]) -> Vec<usize> {
        (0..there.len())
            .filter(|&i| self.there[i].is_none() && self.sender(there[i].dir) == Side::There)
            .collect()
    }
}

/// Whether `a` and `b` are the same conversation seen at two points.
pub fn same_conversation(a: &ConversationRecord, b: &ConversationRecord) -> bool {
    let isn = |c: &ConversationRecord| c.tcp.as_ref().and_then(|t| t.client_isn);
    a.transport == b.transport
        && a.client == b.client
        && a.server == b.server
        && isn(a).is_some()
        && isn(a) == isn(b)
}

/// Whether `here` (with record `c`) was captured on the client's side: its capture
/// point, or else its first segment seen earlier than `there`'s (same clock).
fn client_side(c: &ConversationRecord, here: &[&SegmentEvent], there: &[&SegmentEvent]) -> bool {
    match c.tcp.as_ref().map(|t| t.capture_point) {
        Some(CapturePoint::Client) => true,
        Some(CapturePoint::Server) => false,
        _ => {
            let first = |s: &[&SegmentEvent]| s.first().map_or(f64::INFINITY, |s| s.ts);
            first(here) <= first(there)
        }
    }
}

type Key = (Dir, u32, u32, u32, u8, u16);

fn key(s: &SegmentEvent) -> Key {
    let flags =
        u8::from(s.syn) | u8::from(s.fin) << 1 | u8::from(s.rst) << 2 | u8::from(s.ack_flag) << 3;
    (s.dir, s.seq, s.ack, s.len, flags, s.window)
}

/// Match the segments of one conversation captured `here` (record `c`) and `there`.
pub fn match_segments(
    c: &ConversationRecord,
    here: &[&SegmentEvent],
    there: &[&SegmentEvent],
) -> PeerMatch {
    let mut m = PeerMatch {
        here: vec![None; here.len()],
        there: vec![None; there.len()],
        here_is_client_side: client_side(c, here, there),
    };
    for dir in Dir::BOTH {
        let (sent, got) = match m.sender(dir) {
            Side::Here => (here, there),
            Side::There => (there, here),
        };
        let mut pairs = match_direction(dir, sent, got);
        pairs.extend(split_or_merged(dir, sent, got, &pairs));
        for (s, g) in pairs {
            match m.sender(dir) {
                Side::Here => {
                    m.here[s] = Some(g);
                    m.there[g] = Some(s);
                }
                Side::There => {
                    m.there[s] = Some(g);
                    m.here[g] = Some(s);
                }
            }
        }
    }
    m
}

/// (sent index, received index) for the segments of `dir`: each received copy to the
/// unmatched sent copy with its key, sent no later than it was received, whose
/// departure plus the one-way delay is nearest to its arrival. The delay is the median
/// over keys sent and received exactly once (0 without any): so a burst of identical
/// duplicate ACKs pairs in order, and a resent segment pairs with the resend, not with
/// the lost original.
fn match_direction(dir: Dir, sent: &[&SegmentEvent], got: &[&SegmentEvent]) -> Vec<(usize, usize)> {
    let mut by_key: HashMap<Key, Vec<usize>> = HashMap::new();
    for (i, s) in sent.iter().enumerate().filter(|(_, s)| s.dir == dir) {
        by_key.entry(key(s)).or_default().push(i);
    }
    let delay = one_way_delay(dir, sent, got, &by_key);
    let mut used = vec![false; sent.len()];
    let mut pairs = Vec::new();
    for (j, g) in got.iter().enumerate().filter(|(_, g)| g.dir == dir) {
        let Some(candidates) = by_key.get(&key(g)) else {
            continue;
        };
        let best = candidates
            .iter()
            .copied()
            .filter(|&i| !used[i] && sent[i].ts <= g.ts + CLOCK_SLACK)
            .min_by(|&a, &b| {
                let off = |i: usize| (g.ts - sent[i].ts - delay).abs();
                off(a).total_cmp(&off(b))
            });
        if let Some(i) = best {
            used[i] = true;
            pairs.push((i, j));
        }
    }
    pairs
}

/// Sent segments of `dir` with payload that no copy matched but whose every byte the
/// receiving side saw in segments that match no sent copy either: cut or joined on the way (TSO/GSO at the
/// sender's capture point, GRO at the receiver's), not lost. Each is paired with the
/// received segment holding its first byte.
fn split_or_merged(
    dir: Dir,
    sent: &[&SegmentEvent],
    got: &[&SegmentEvent],
    pairs: &[(usize, usize)],
) -> Vec<(usize, usize)> {
    let Some(base) = sent.iter().find(|s| s.dir == dir).map(|s| s.seq) else {
        return Vec::new();
    };
    let off = |seq: u32| u64::from(seq.wrapping_sub(base));
    // The bytes received, as disjoint ranges [start, end) with the segment of each start.
    // Only received segments no sent copy matched: a resend's bytes arrived with the
    // resend (matched), so they do not cover the lost original.
    let got_matched: std::collections::HashSet<usize> = pairs.iter().map(|p| p.1).collect();
    let mut ranges: Vec<(u64, u64, usize)> = got
        .iter()
        .enumerate()
        .filter(|(j, g)| g.dir == dir && g.len > 0 && !got_matched.contains(j))
        .map(|(j, g)| (off(g.seq), off(g.seq) + u64::from(g.len), j))
        .collect();
    ranges.sort_unstable();
    let mut union: Vec<(u64, u64, usize)> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match union.last_mut() {
            Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
            _ => union.push(r),
        }
    }
    let matched: std::collections::HashSet<usize> = pairs.iter().map(|p| p.0).collect();
    let mut out = Vec::new();
    for (i, s) in sent.iter().enumerate() {
        if s.dir != dir || s.len == 0 || matched.contains(&i) {
            continue;
        }
        let (start, end) = (off(s.seq), off(s.seq) + u64::from(s.len));
        let at = union.partition_point(|r| r.0 <= start);
        if let Some(&(_, covered_to, j)) = at.checked_sub(1).and_then(|k| union.get(k)) {
            if covered_to >= end {
                out.push((i, j));
            }
        }
    }
    out
}

/// The median delay of the segments of `dir` whose key occurs once on each side.
fn one_way_delay(
    dir: Dir,
    sent: &[&SegmentEvent],
    got: &[&SegmentEvent],
    by_key: &HashMap<Key, Vec<usize>>,
) -> f64 {
    let mut got_count: HashMap<Key, (usize, usize)> = HashMap::new();
    for (j, g) in got.iter().enumerate().filter(|(_, g)| g.dir == dir) {
        let e = got_count.entry(key(g)).or_insert((0, j));
        e.0 += 1;
    }
    let mut delays: Vec<f64> = got_count
        .iter()
        .filter(|(_, (n, _))| *n == 1)
        .filter_map(|(k, (_, j))| match by_key.get(k).map(Vec::as_slice) {
            Some([i]) => Some(got[*j].ts - sent[*i].ts),
            _ => None,
        })
        .filter(|d| d.is_finite() && *d >= -CLOCK_SLACK)
        .collect();
    if delays.is_empty() {
        return 0.0;
    }
    delays.sort_by(f64::total_cmp);
    delays[delays.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Flags;

    fn seg(frame: u64, dir: Dir, ts: f64, seq: u32) -> SegmentEvent {
        SegmentEvent {
            frame,
            conv: 1,
            dir,
            ts,
            seq,
            seq_rel: Some(seq),
            ack: 1,
            ack_rel: Some(1),
            len: 100,
            syn: false,
            ack_flag: true,
            fin: false,
            rst: false,
            psh: false,
            window: 10,
            flags: Flags::EMPTY,
            acks_frame: None,
            ack_rtt: None,
        }
    }

    #[test]
    fn a_resent_segment_matches_its_last_copy_and_the_first_is_lost() {
        let c2s = Dir::ClientToServer;
        // At the client: 1 at 0.0 (lost), 101 at 0.001, 1 again at 0.3.
        let here = [
            seg(1, c2s, 0.0, 1),
            seg(2, c2s, 0.001, 101),
            seg(3, c2s, 0.3, 1),
        ];
        // At the server, 10 ms later: 101, then the resent 1.
        let there = [seg(1, c2s, 0.011, 101), seg(2, c2s, 0.31, 1)];
        let h: Vec<&SegmentEvent> = here.iter().collect();
        let t: Vec<&SegmentEvent> = there.iter().collect();
        let pairs = match_direction(c2s, &h, &t);
        assert_eq!(pairs, vec![(1, 0), (2, 1)]);
    }

    #[test]
    fn a_burst_of_identical_acks_pairs_in_order() {
        let s2c = Dir::ServerToClient;
        // Unique segments give the delay (10 ms); then three identical ACKs 1 ms apart.
        let mut here = vec![seg(1, s2c, 0.0, 1), seg(2, s2c, 0.1, 2)];
        let mut there = vec![seg(1, s2c, 0.010, 1), seg(2, s2c, 0.110, 2)];
        for k in 0..3 {
            here.push(seg(3 + k, s2c, 0.2 + k as f64 * 0.001, 3));
            there.push(seg(3 + k, s2c, 0.21 + k as f64 * 0.001, 3));
        }
        let h: Vec<&SegmentEvent> = here.iter().collect();
        let t: Vec<&SegmentEvent> = there.iter().collect();
        let pairs = match_direction(s2c, &h, &t);
        assert_eq!(pairs, vec![(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]);
    }

    #[test]
    fn a_segment_cut_on_the_way_is_not_lost() {
        let c2s = Dir::ClientToServer;
        let mut big = seg(1, c2s, 0.0, 1);
        big.len = 200;
        let here = [big];
        let there = [seg(1, c2s, 0.01, 1), seg(2, c2s, 0.01, 101)];
        let h: Vec<&SegmentEvent> = here.iter().collect();
        let t: Vec<&SegmentEvent> = there.iter().collect();
        assert!(match_direction(c2s, &h, &t).is_empty());
        assert_eq!(split_or_merged(c2s, &h, &t, &[]), vec![(0, 0)]);
        // Half of it missing: lost.
        let t1: Vec<&SegmentEvent> = there[..1].iter().collect();
        assert!(split_or_merged(c2s, &h, &t1, &[]).is_empty());
    }

    #[test]
    fn a_copy_is_never_matched_to_one_sent_after_it_arrived() {
        let c2s = Dir::ClientToServer;
        let here = [seg(1, c2s, 1.0, 1)];
        let there = [seg(1, c2s, 0.5, 1)];
        let h: Vec<&SegmentEvent> = here.iter().collect();
        let t: Vec<&SegmentEvent> = there.iter().collect();
        assert!(match_direction(c2s, &h, &t).is_empty());
    }
}
