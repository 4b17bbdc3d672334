//! Scripting one TCP conversation: the flow remembers addresses, sequence numbers
//! and acknowledgements each way, and turns each call into correctly numbered segments.

use std::net::SocketAddr;

use crate::frame::{flags, TcpOptions, TcpSegment, DATA_WINDOW, SYN_WINDOW};

/// Client initial sequence number unless [`TcpFlow::with_isns`] says otherwise.
pub const CLIENT_ISN: u32 = 1000;
/// Server initial sequence number unless [`TcpFlow::with_isns`] says otherwise.
pub const SERVER_ISN: u32 = 5000;

/// Which way a segment travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Client to server.
    C2S,
    /// Server to client.
    S2C,
}

impl Dir {
    /// The other way.
    pub fn reverse(self) -> Dir {
        match self {
            Dir::C2S => Dir::S2C,
            Dir::S2C => Dir::C2S,
        }
    }

    fn idx(self) -> usize {
        match self {
            Dir::C2S => 0,
            Dir::S2C => 1,
        }
    }
}

/// Where a flow's segments go: a [`crate::Capture`] in memory, or a streamed file.
pub trait FrameSink {
    /// Build and keep the frame carrying `seg`; return its 1-based frame number.
    fn push_tcp(&mut self, seg: &TcpSegment<'_>) -> usize;
}

impl<S: FrameSink + ?Sized> FrameSink for &mut S {
    fn push_tcp(&mut self, seg: &TcpSegment<'_>) -> usize {
        (**self).push_tcp(seg)
    }
}

/// One TCP conversation. Every segment after the SYN carries ACK with the peer's
/// next sequence number (everything sent so far counts as received: segments missing
/// from the capture were lost by the capture, not by the network).
#[derive(Debug, Clone)]
pub struct TcpFlow {
    addrs: [SocketAddr; 2],
    isn: [u32; 2],
    next: [u32; 2],
    /// TSval each side sends next, when the timestamps option is on.
    tsval: Option<[u32; 2]>,
    /// MSS both SYNs announce, when not [`crate::frame::SYN_MSS`].
    mss: Option<u16>,
}

impl TcpFlow {
    pub(crate) fn new(client: SocketAddr, server: SocketAddr) -> TcpFlow {
        TcpFlow {
            addrs: [client, server],
            isn: [CLIENT_ISN, SERVER_ISN],
            next: [CLIENT_ISN.wrapping_add(1), SERVER_ISN.wrapping_add(1)],
            tsval: None,
            mss: None,
        }
    }

    /// Both SYNs announce `mss` (1460 for an Ethernet MTU of 1500) instead of 65495.
    pub fn with_mss(mut self, mss: u16) -> TcpFlow {
        self.mss = Some(mss);
        self
    }

    fn syn_options(&self, timestamp: Option<(u32, u32)>) -> TcpOptions {
        match self.mss {
            Some(mss) => TcpOptions::SynMss { mss, timestamp },
            None => TcpOptions::Syn { timestamp },
        }
    }

    /// Other ISNs (e.g. 0xFFFF_FFF0 to cross the 2^32 wrap). Call before any segment.
    pub fn with_isns(mut self, client_isn: u32, server_isn: u32) -> TcpFlow {
        self.isn = [client_isn, server_isn];
        self.next = [client_isn.wrapping_add(1), server_isn.wrapping_add(1)];
        self
    }

    /// Negotiate the timestamps option in the handshake and carry it on every later
    /// segment (TCP header 32 bytes instead of 20), as Linux does by default.
    pub fn with_timestamps(mut self) -> TcpFlow {
        self.tsval = Some([100_000, 200_000]);
        self
    }

    pub fn client(&self) -> SocketAddr {
        self.addrs[0]
    }

    pub fn server(&self) -> SocketAddr {
        self.addrs[1]
    }

    /// The initial sequence number of the side sending in `dir`.
    pub fn isn(&self, dir: Dir) -> u32 {
        self.isn[dir.idx()]
    }

    /// The sequence number the next segment in `dir` will carry.
    pub fn next_seq(&self, dir: Dir) -> u32 {
        self.next[dir.idx()]
    }

    /// SYN, SYN-ACK, ACK. Both SYNs carry MSS 65495, SACK permitted, window scale 7
    /// (and timestamps if [`TcpFlow::with_timestamps`]).
    pub fn handshake<S: FrameSink>(&mut self, cap: &mut S) {
        self.syn_only(cap);
        self.syn_ack(cap);
        let [c, s] = self.isn;
        self.next = [c.wrapping_add(1), s.wrapping_add(1)];
        self.ack(cap, Dir::C2S);
    }

    /// The server's SYN-ACK alone (for half-seen handshakes: the capture missed the SYN,
    /// or the client never completes). Returns its frame number.
    pub fn syn_ack<S: FrameSink>(&mut self, cap: &mut S) -> usize {
        let [c, s] = self.isn;
        let timestamp = self.syn_timestamp(Dir::S2C);
        self.emit(
            cap,
            Dir::S2C,
            s,
            c.wrapping_add(1),
            flags::SYN | flags::ACK,
            SYN_WINDOW,
            self.syn_options(timestamp),
            &[],
        )
    }

    /// Any segment: absolute `seq` and `ack`, any [`crate::frame::flags`] bits (no
    /// options beyond timestamps when on). The flow's state does not move. For odd
    /// cases: data with FIN, a SYN retransmission, a lone FIN without ACK.
    pub fn raw_segment<S: FrameSink>(
        &mut self,
        cap: &mut S,
        dir: Dir,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> usize {
        let options = self.data_options(dir);
        self.emit(cap, dir, seq, ack, flags, DATA_WINDOW, options, payload)
    }

    /// The client's SYN alone (nobody answers: a filtered port, or a capture cut short).
    pub fn syn_only<S: FrameSink>(&mut self, cap: &mut S) {
        let timestamp = self.syn_timestamp(Dir::C2S);
        self.emit(
            cap,
            Dir::C2S,
            self.isn[0],
            0,
            flags::SYN,
            SYN_WINDOW,
            self.syn_options(timestamp),
            &[],
        );
    }

    /// A refused connection: the client's SYN, then the server's RST/ACK
    /// (sequence 0, acknowledging the SYN, window 0, as Linux answers a closed port).
    pub fn refused<S: FrameSink>(&mut self, cap: &mut S) {
        self.syn_only(cap);
        let ack = self.isn[0].wrapping_add(1);
        self.emit(
            cap,
            Dir::S2C,
            0,
            ack,
            flags::RST | flags::ACK,
            0,
            TcpOptions::None,
            &[],
        );
    }

    /// One PSH/ACK segment at the current sequence number; returns its frame number.
    pub fn send<S: FrameSink>(&mut self, cap: &mut S, dir: Dir, payload: &[u8]) -> usize {
        let seq = self.next[dir.idx()];
        let n = self.data(cap, dir, seq, payload);
        self.advance_seq(dir, payload_len(payload));
        n
    }

    /// `payload` in segments of at most `chunk` bytes (a `chunk` of 0 counts as 1).
    pub fn send_split<S: FrameSink>(
        &mut self,
        cap: &mut S,
        dir: Dir,
        payload: &[u8],
        chunk: usize,
    ) -> Vec<usize> {
        payload
            .chunks(chunk.max(1))
            .map(|part| self.send(cap, dir, part))
            .collect()
    }

    /// A PSH/ACK segment at `rel_seq` bytes past ISN+1 (out of order, duplicate,
    /// overlapping, or beyond a gap). The flow's next sequence number does not move.
    pub fn segment_at<S: FrameSink>(
        &mut self,
        cap: &mut S,
        dir: Dir,
        rel_seq: u32,
        payload: &[u8],
    ) -> usize {
        let seq = self.isn[dir.idx()].wrapping_add(1).wrapping_add(rel_seq);
        self.data(cap, dir, seq, payload)
    }

    /// Pretend `n` bytes were sent in `dir` whose segments the capture missed.
    pub fn advance_seq(&mut self, dir: Dir, n: u32) {
        let next = &mut self.next[dir.idx()];
        *next = next.wrapping_add(n);
    }

    /// A pure ACK from the side sending in `dir`.
    pub fn ack<S: FrameSink>(&mut self, cap: &mut S, dir: Dir) -> usize {
        let seq = self.next[dir.idx()];
        let ack = self.next[dir.reverse().idx()];
        let options = self.data_options(dir);
        self.emit(cap, dir, seq, ack, flags::ACK, DATA_WINDOW, options, &[])
    }

    /// FIN/ACK from the side sending in `dir` (the FIN uses one sequence number).
    pub fn fin<S: FrameSink>(&mut self, cap: &mut S, dir: Dir) -> usize {
        let seq = self.next[dir.idx()];
        let ack = self.next[dir.reverse().idx()];
        let options = self.data_options(dir);
        let n = self.emit(
            cap,
            dir,
            seq,
            ack,
            flags::FIN | flags::ACK,
            DATA_WINDOW,
            options,
            &[],
        );
        self.advance_seq(dir, 1);
        n
    }

    /// Normal teardown, client first: FIN c→s, ACK s→c, FIN s→c, ACK c→s.
    pub fn close<S: FrameSink>(&mut self, cap: &mut S) {
        self.fin(cap, Dir::C2S);
        self.ack(cap, Dir::S2C);
        self.fin(cap, Dir::S2C);
        self.ack(cap, Dir::C2S);
    }

    /// RST/ACK from the side sending in `dir` (an abort), window 0.
    pub fn rst<S: FrameSink>(&mut self, cap: &mut S, dir: Dir) -> usize {
        let seq = self.next[dir.idx()];
        let ack = self.next[dir.reverse().idx()];
        self.emit(
            cap,
            dir,
            seq,
            ack,
            flags::RST | flags::ACK,
            0,
            TcpOptions::None,
            &[],
        )
    }

    fn data<S: FrameSink>(&mut self, cap: &mut S, dir: Dir, seq: u32, payload: &[u8]) -> usize {
        let ack = self.next[dir.reverse().idx()];
        let options = self.data_options(dir);
        self.emit(
            cap,
            dir,
            seq,
            ack,
            flags::PSH | flags::ACK,
            DATA_WINDOW,
            options,
            payload,
        )
    }

    fn syn_timestamp(&self, dir: Dir) -> Option<(u32, u32)> {
        let ts = self.tsval?;
        // The SYN echoes nothing; the SYN-ACK echoes the SYN's TSval.
        let ecr = match dir {
            Dir::C2S => 0,
            Dir::S2C => ts[0].wrapping_sub(1),
        };
        Some((ts[dir.idx()], ecr))
    }

    fn data_options(&self, dir: Dir) -> TcpOptions {
        match self.tsval {
            // Echo the last TSval the peer sent (one below its next).
            Some(ts) => {
                TcpOptions::Timestamp(ts[dir.idx()], ts[dir.reverse().idx()].wrapping_sub(1))
            }
            None => TcpOptions::None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit<S: FrameSink>(
        &mut self,
        cap: &mut S,
        dir: Dir,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
        options: TcpOptions,
        payload: &[u8],
    ) -> usize {
        let (src, dst) = match dir {
            Dir::C2S => (self.addrs[0], self.addrs[1]),
            Dir::S2C => (self.addrs[1], self.addrs[0]),
        };
        let n = cap.push_tcp(&TcpSegment {
            src,
            dst,
            from_server: dir == Dir::S2C,
            seq,
            ack,
            flags,
            window,
            options,
            payload,
        });
        if let Some(ts) = self.tsval.as_mut() {
            ts[dir.idx()] = ts[dir.idx()].wrapping_add(1);
        }
        n
    }
}

/// Payload length as a sequence-space distance (segments are far below 4 GiB).
fn payload_len(payload: &[u8]) -> u32 {
    u32::try_from(payload.len()).unwrap_or(u32::MAX)
}
