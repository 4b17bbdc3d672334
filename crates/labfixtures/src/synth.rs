//! Large synthetic lab sessions streamed straight to a pcap file in constant memory:
//! many interleaved v3 echo conversations with the lab server on 10.0.0.1:5005.
//!
//! Frames are built by the same [`crate::frame::FrameBuilder`] and scripted by the
//! same [`TcpFlow`] as in-memory captures; only the sink differs (records go to a
//! `BufWriter` as they are made, nothing is kept).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::Path;

use crate::capture::{DEFAULT_SNAPLEN, FIRST_TIMESTAMP_MICROS, FRAME_SPACING_MICROS};
use crate::frame::{FrameBuilder, TcpSegment};
use crate::savefile::{FileFormat, SavefileWriter};
use crate::tcp_flow::{Dir, FrameSink, TcpFlow};
use crate::{lab, LinkType};

/// The server every synthetic client talks to.
pub const SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), labproto::LAB_PORT);
/// How many connections are open at once; they take turns, one step each.
pub const OPEN_AT_ONCE: usize = 50;
/// The client sends a pure ACK after every this many request/echo pairs.
pub const ACK_EVERY: usize = 4;
/// Request payload sizes are drawn from this range (bytes, inclusive).
pub const PAYLOAD_MIN: usize = 10;
pub const PAYLOAD_MAX: usize = 60;
/// Client ports are drawn from Linux's default ephemeral range, 32768..=60999.
pub const EPHEMERAL_FIRST: u16 = 32768;
pub const EPHEMERAL_LAST: u16 = 60999;

/// What a synthetic session contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SynthStats {
    /// Frames written.
    pub packets: u64,
    /// Bytes of frame data (link header included; file headers not).
    pub bytes: u64,
    /// v3 messages on the wire: each request and each echo counts once.
    pub messages: u64,
}

/// Frames a session of `conns` connections with `pairs` pairs each contains:
/// handshake 3, per pair request + echo, a pure ACK every [`ACK_EVERY`] pairs, teardown 4.
pub fn expected_packets(conns: usize, pairs: usize) -> u64 {
    let per_conn = 3 + 2 * pairs + pairs / ACK_EVERY + 4;
    conns as u64 * per_conn as u64
}

/// Write a pcap (Ethernet, IPv4) of `conns` interleaved v3 echo connections with
/// `pairs` request/echo pairs each, deterministic in `seed`.
pub fn lab_session(path: &Path, conns: usize, pairs: usize, seed: u64) -> io::Result<SynthStats> {
    let file = File::create(path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display())))?;
    lab_session_to(BufWriter::with_capacity(1 << 20, file), conns, pairs, seed)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
}

/// [`lab_session`] into any writer (wrap files in a `BufWriter`).
pub fn lab_session_to<W: Write>(
    out: W,
    conns: usize,
    pairs: usize,
    seed: u64,
) -> io::Result<SynthStats> {
    let writer = SavefileWriter::new(
        out,
        FileFormat::Pcap,
        LinkType::Ethernet.linktype(),
        DEFAULT_SNAPLEN,
    )?;
    let mut sink = StreamSink {
        writer,
        builder: FrameBuilder::new(LinkType::Ethernet),
        buf: Vec::with_capacity(256),
        clock_micros: FIRST_TIMESTAMP_MICROS,
        stats: SynthStats::default(),
        error: None,
    };
    let mut rng = SplitMix64::new(seed);
    let mut payload = Vec::with_capacity(PAYLOAD_MAX);
    let mut started = 0usize;
    let mut active: Vec<Conn> = Vec::with_capacity(OPEN_AT_ONCE.min(conns));
    while started < conns && active.len() < OPEN_AT_ONCE {
        active.push(Conn::open(started, &mut rng));
        started += 1;
    }
    while !active.is_empty() {
        let mut i = 0;
        while i < active.len() {
            let done = active[i].step(&mut sink, &mut rng, &mut payload, pairs);
            if let Some(e) = sink.error.take() {
                return Err(e);
            }
            if !done {
                i += 1;
            } else if started < conns {
                active[i] = Conn::open(started, &mut rng);
                started += 1;
                i += 1;
            } else {
                active.swap_remove(i);
            }
        }
    }
    sink.writer.finish()?;
    Ok(sink.stats)
}

/// Where one connection is in its script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Handshake,
    /// The next pair to send (1-based; also the v3 order field).
    Pair(u32),
    Close,
}

#[derive(Debug)]
struct Conn {
    flow: TcpFlow,
    stage: Stage,
}

impl Conn {
    /// Connection number `index`: client 10.x.y.z (index + 2, so never 10.0.0.1) on
    /// a random ephemeral port, random ISNs both ways.
    fn open(index: usize, rng: &mut SplitMix64) -> Conn {
        let host = (index as u32).wrapping_add(2) & 0x00ff_ffff;
        let [_, b, c, d] = host.to_be_bytes();
        let span = u64::from(EPHEMERAL_LAST - EPHEMERAL_FIRST) + 1;
        // below(span) < 28232, so the sum stays within u16.
        let port = EPHEMERAL_FIRST + rng.below(span) as u16;
        let client = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, b, c, d), port));
        let flow = TcpFlow::new(client, SocketAddr::V4(SERVER))
            .with_isns(rng.next_u64() as u32, rng.next_u64() as u32);
        Conn {
            flow,
            stage: Stage::Handshake,
        }
    }

    /// Take one step (handshake, one pair, or teardown); true when the connection is over.
    fn step<W: Write>(
        &mut self,
        sink: &mut StreamSink<W>,
        rng: &mut SplitMix64,
        payload: &mut Vec<u8>,
        pairs: usize,
    ) -> bool {
        match self.stage {
            Stage::Handshake => {
                self.flow.handshake(sink);
                self.stage = if pairs == 0 {
                    Stage::Close
                } else {
                    Stage::Pair(1)
                };
                false
            }
            Stage::Pair(order) => {
                let span = (PAYLOAD_MAX - PAYLOAD_MIN + 1) as u64;
                let len = PAYLOAD_MIN + rng.below(span) as usize;
                payload.clear();
                payload.extend((0..len).map(|_| printable(rng.next_u64())));
                let message = lab::v3(order, payload);
                self.flow.send(sink, Dir::C2S, &message);
                self.flow.send(sink, Dir::S2C, &message);
                sink.stats.messages += 2;
                if order as usize % ACK_EVERY == 0 {
                    self.flow.ack(sink, Dir::C2S);
                }
                self.stage = if order as usize >= pairs {
                    Stage::Close
                } else {
                    Stage::Pair(order + 1)
                };
                false
            }
            Stage::Close => {
                self.flow.close(sink);
                true
            }
        }
    }
}

/// Lower-case letters and spaces: payloads a learner can read in a hex dump.
fn printable(r: u64) -> u8 {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz  .,!?";
    ALPHABET[(r % 32) as usize]
}

/// Records go straight to the savefile; the first write error is kept and reported
/// after the step (a flow's sink cannot return errors).
#[derive(Debug)]
struct StreamSink<W: Write> {
    writer: SavefileWriter<W>,
    builder: FrameBuilder,
    buf: Vec<u8>,
    clock_micros: u64,
    stats: SynthStats,
    error: Option<io::Error>,
}

impl<W: Write> FrameSink for StreamSink<W> {
    fn push_tcp(&mut self, seg: &TcpSegment<'_>) -> usize {
        if self.error.is_none() {
            self.builder.tcp(&mut self.buf, seg);
            let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
            match self.writer.write_frame(self.clock_micros, &self.buf, len) {
                Ok(_) => {
                    self.stats.packets += 1;
                    self.stats.bytes += self.buf.len() as u64;
                }
                Err(e) => self.error = Some(e),
            }
            self.clock_micros += FRAME_SPACING_MICROS;
        }
        usize::try_from(self.stats.packets).unwrap_or(usize::MAX)
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to pick sizes.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n` > 0; the slight modulo bias does not matter here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // Reference output of SplitMix64 seeded with 1234567 (from the public-domain C code).
        let mut r = SplitMix64::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
    }

    #[test]
    fn counts_follow_formula() {
        let mut out = Vec::new();
        let stats = lab_session_to(&mut out, 7, 5, 42).unwrap();
        assert_eq!(stats.packets, expected_packets(7, 5));
        assert_eq!(stats.packets, 7 * (3 + 10 + 1 + 4));
        assert_eq!(stats.messages, 70);
        // File = global header + one record header per frame + frame bytes.
        assert_eq!(out.len() as u64, 24 + 16 * stats.packets + stats.bytes);
    }
}
