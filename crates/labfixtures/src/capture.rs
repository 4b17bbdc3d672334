//! An in-memory capture: frames with timestamps, written as pcap or pcapng on demand.

use std::fs::File;
use std::io::{self, BufWriter};
use std::net::SocketAddr;
use std::path::Path;

use crate::frame::{FrameBuilder, TcpSegment};
use crate::savefile::{FileFormat, SavefileWriter};
use crate::tcp_flow::{FrameSink, TcpFlow};
use crate::LinkType;

/// Timestamp of the first frame: 1_700_000_000.000000 s (2023-11-14 22:13:20 UTC).
pub const FIRST_TIMESTAMP_MICROS: u64 = 1_700_000_000_000_000;
/// Every frame moves the clock on by this much, so no two frames share a timestamp.
pub const FRAME_SPACING_MICROS: u64 = 10;
/// Default snaplen, as tcpdump's.
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// One captured frame, whole: cutting to the snaplen happens when the file is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Microseconds since the Unix epoch.
    pub ts_micros: u64,
    pub data: Vec<u8>,
    /// Length on the wire.
    pub orig_len: u32,
}

/// A capture being scripted: frames in order, a link type, a snaplen and a clock.
#[derive(Debug, Clone)]
pub struct Capture {
    frames: Vec<Frame>,
    builder: FrameBuilder,
    snaplen: u32,
    clock_micros: u64,
    /// LINKTYPE written in the file header instead of the link type's own.
    file_linktype: Option<u32>,
    next_fragment_id: u32,
}

impl Capture {
    /// An empty capture: snaplen 262144, first frame at 1_700_000_000.000000 s.
    pub fn new(link: LinkType) -> Capture {
        Capture {
            frames: Vec::new(),
            builder: FrameBuilder::new(link),
            snaplen: DEFAULT_SNAPLEN,
            clock_micros: FIRST_TIMESTAMP_MICROS,
            file_linktype: None,
            next_fragment_id: 0,
        }
    }

    pub fn link(&self) -> LinkType {
        self.builder.link()
    }

    /// Frames longer than `snaplen` are cut when written (incl_len < orig_len).
    pub fn set_snaplen(&mut self, snaplen: u32) {
        self.snaplen = snaplen;
    }

    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// Write `linktype` in the file header while building frames for the capture's
    /// link type: LINKTYPE_IPV4 (228) / LINKTYPE_IPV6 (229) over [`LinkType::RawIp`]
    /// frames, LINKTYPE_LOOP (108) over [`LinkType::NullBe`] frames, or an unknown
    /// number to test how a reader copes.
    pub fn set_file_linktype(&mut self, linktype: u32) {
        self.file_linktype = Some(linktype);
    }

    /// The LINKTYPE the file header will carry.
    pub fn file_linktype(&self) -> u32 {
        self.file_linktype.unwrap_or_else(|| self.link().linktype())
    }

    /// The AF_INET6 value of LINKTYPE_NULL headers: 24 (BSD, the default) or 30 (macOS).
    pub fn set_null_af_inet6(&mut self, family: u32) {
        self.builder.set_null_af_inet6(family);
    }

    /// Move the clock on by `micros` (on top of the 10 µs every frame adds).
    pub fn advance(&mut self, micros: u64) {
        self.clock_micros = self.clock_micros.saturating_add(micros);
    }

    /// The timestamp the next frame will get, in microseconds since the epoch.
    pub fn now_micros(&self) -> u64 {
        self.clock_micros
    }

    /// Any bytes as one frame (garbage, unknown link payloads, truncated headers).
    pub fn push_raw_frame(&mut self, data: Vec<u8>) {
        self.push(data);
    }

    /// One UDP datagram; returns its 1-based frame number. The endpoint on port 5005
    /// (or else the lower port) is taken to be the server, where the capture runs.
    pub fn udp(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> usize {
        let mut data = Vec::new();
        self.builder
            .udp(&mut data, src, dst, from_server(src, dst), payload);
        self.push(data)
    }

    /// The IP packet (from its IP header, no link header) that [`Capture::udp`] would
    /// capture; it uses up an IPv4 identification. Fragment it with
    /// [`crate::fragment::fragment`], capture the pieces with [`Capture::push_ip`].
    pub fn udp_ip_packet(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
        let mut data = Vec::new();
        self.builder
            .udp(&mut data, src, dst, from_server(src, dst), payload);
        data.split_off(self.link().header_len())
    }

    /// Capture one IP packet as it is, in the capture's link header.
    pub fn push_ip(&mut self, packet: &[u8], from_server: bool) -> usize {
        let mut data = Vec::new();
        self.builder.ip(&mut data, packet, from_server);
        self.push(data)
    }

    /// A fresh IPv6 fragment identification (IPv4 fragments keep their packet's).
    pub fn next_fragment_id(&mut self) -> u32 {
        self.next_fragment_id = self.next_fragment_id.wrapping_add(1);
        self.next_fragment_id
    }

    /// One UDP datagram sent as IP fragments of at most `mtu` bytes, captured in order;
    /// returns their frame numbers.
    pub fn udp_fragmented(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        mtu: usize,
    ) -> Vec<usize> {
        let packet = self.udp_ip_packet(src, dst, payload);
        let id = self.next_fragment_id();
        crate::fragment::fragment(&packet, mtu, id)
            .iter()
            .map(|f| self.push_ip(f, from_server(src, dst)))
            .collect()
    }

    /// A [`FrameSink`] for [`TcpFlow`]s whose segments go out as IP fragments of at most
    /// `mtu` bytes (segments that fit go out whole).
    pub fn fragmenting(&mut self, mtu: usize) -> Fragmenting<'_> {
        Fragmenting { cap: self, mtu }
    }

    /// A TCP conversation between `client` and `server` (IPv4 or IPv6 from the
    /// addresses; mixed families become v4-mapped IPv6). ISNs: client 1000, server 5000.
    /// Nothing is captured until a method of the flow is called.
    pub fn tcp(&mut self, client: SocketAddr, server: SocketAddr) -> TcpFlow {
        TcpFlow::new(client, server)
    }

    /// Number of frames so far.
    pub fn frames(&self) -> usize {
        self.frames.len()
    }

    /// Frame `number` (1-based, as Wireshark counts).
    pub fn frame(&self, number: usize) -> Option<&Frame> {
        number.checked_sub(1).and_then(|i| self.frames.get(i))
    }

    /// All frames in order.
    pub fn frame_list(&self) -> &[Frame] {
        &self.frames
    }

    /// The whole savefile.
    pub fn to_bytes(&self, format: FileFormat) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing into a Vec cannot fail: the only error source would be a frame over
        // 4 GiB, which a Vec of frames built here never holds.
        let _ = self.write_to(&mut out, format);
        out
    }

    /// Write the savefile to `path`.
    pub fn write(&self, path: &Path, format: FileFormat) -> io::Result<()> {
        let file = File::create(path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display()))
        })?;
        self.write_to(BufWriter::new(file), format)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
    }

    fn write_to<W: io::Write>(&self, out: W, format: FileFormat) -> io::Result<()> {
        let mut w = SavefileWriter::new(out, format, self.file_linktype(), self.snaplen)?;
        for f in &self.frames {
            w.write_frame(f.ts_micros, &f.data, f.orig_len)?;
        }
        w.finish()?;
        Ok(())
    }

    fn push(&mut self, data: Vec<u8>) -> usize {
        let orig_len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.frames.push(Frame {
            ts_micros: self.clock_micros,
            data,
            orig_len,
        });
        self.clock_micros = self.clock_micros.saturating_add(FRAME_SPACING_MICROS);
        self.frames.len()
    }
}

impl FrameSink for Capture {
    fn push_tcp(&mut self, seg: &TcpSegment<'_>) -> usize {
        let mut data = Vec::new();
        self.builder.tcp(&mut data, seg);
        self.push(data)
    }
}

/// The endpoint on port 5005 (or else the lower port) is the server.
fn from_server(src: SocketAddr, dst: SocketAddr) -> bool {
    src.port() == labproto::LAB_PORT
        || (dst.port() != labproto::LAB_PORT && src.port() < dst.port())
}

/// See [`Capture::fragmenting`].
#[derive(Debug)]
pub struct Fragmenting<'c> {
    cap: &'c mut Capture,
    mtu: usize,
}

impl FrameSink for Fragmenting<'_> {
    /// Returns the frame of the last fragment.
    fn push_tcp(&mut self, seg: &TcpSegment<'_>) -> usize {
        let mut data = Vec::new();
        self.cap.builder.tcp(&mut data, seg);
        let packet = data.split_off(self.cap.link().header_len());
        let id = self.cap.next_fragment_id();
        let mut last = 0;
        for f in crate::fragment::fragment(&packet, self.mtu, id) {
            last = self.cap.push_ip(&f, seg.from_server);
        }
        last
    }
}
