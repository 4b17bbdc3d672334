//! The events labsniff produces, one per JSON line. The field order of every struct is
//! the JSON field order (see SCHEMA.md); change both together.

use labproto::Proto;
use serde::Serialize;

pub mod cause;
mod diagnostic;
pub mod dir;
pub mod round_trips;
pub use diagnostic::{Detection, DetectionBasis, Diagnostic, DiagnosticKind, RstRefused};
pub use dir::{Dir, Side};
pub use round_trips::RoundTrips;

/// One output event. Not `Serialize` itself: its JSON line carries words (an analysis
/// or diagnostic line's `text`), which the renderer adds (`labsniff::output::json`).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Message(MessageEvent),
    /// Wireshark's TCP analysis flags for one frame (only frames with a flag).
    Analysis(AnalysisEvent),
    /// Every TCP segment of a lab conversation, only when asked for
    /// (`analyzer::Options::segments`): what the ladder and the graphs draw.
    Segment(SegmentEvent),
    /// A cause the packets prove (or make probable), with its evidence frames.
    Cause(cause::Cause),
    Conversation(Box<ConversationRecord>),
    Diagnostic(Diagnostic),
    Summary(Summary),
}

/// Transport protocol of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    Tcp,
    Udp,
}

impl TransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Tcp => "tcp",
            TransportKind::Udp => "udp",
        }
    }
}

/// A protocol as JSON writes it: `text`, `v2`, `v3`.
fn proto_name<S: serde::Serializer>(proto: &Proto, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(proto.as_str())
}

/// [`proto_name`], or null.
fn optional_proto_name<S: serde::Serializer>(
    proto: &Option<Proto>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match proto {
        Some(p) => s.serialize_str(p.as_str()),
        None => s.serialize_none(),
    }
}

/// Seconds since the epoch as a float with microsecond resolution.
pub fn seconds(micros: u64) -> f64 {
    (micros / 1_000_000) as f64 + (micros % 1_000_000) as f64 / 1e6
}

/// Lower-case hex, two digits per byte.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// One decoded lab message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageEvent {
    pub conv: u64,
    pub transport: TransportKind,
    /// The lab protocol (JSON: "text", "v2" or "v3").
    #[serde(serialize_with = "proto_name")]
    pub proto: Proto,
    pub dir: Dir,
    pub client: String,
    pub server: String,
    /// Header fields; null for text.
    pub version: Option<u8>,
    pub order: Option<u32>,
    pub size: Option<u32>,
    /// The payload as UTF-8 (invalid bytes replaced).
    pub payload: String,
    pub payload_hex: String,
    /// v2: the original message was longer than the 20 bytes carried.
    pub truncated: bool,
    /// Frames that carried the message's bytes, ascending.
    pub frames: Vec<u64>,
    /// Time the message was complete (its last frame), seconds since the epoch.
    pub ts: f64,
    /// Stream offset of the message's first byte in its direction (null for UDP).
    pub offset: Option<u64>,
    /// The payload bytes (not serialised; `payload_hex` carries them).
    #[serde(skip)]
    pub payload_bytes: Vec<u8>,
}

/// One frame that Wireshark's TCP analysis flags (`tcp.analysis.*`): the facts; the
/// words (`text` in JSON) are rendered by the `labsniff` crate.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisEvent {
    pub frame: u64,
    pub conv: u64,
    pub dir: Dir,
    pub flags: crate::analysis::Flags,
    pub ts: f64,
    /// The segment's sequence number, raw and relative to the sender's ISN (as
    /// Wireshark shows it; null when the SYN was not captured).
    pub seq: u32,
    pub seq_rel: Option<u32>,
    /// The acknowledgement number, raw and relative to the peer's ISN.
    pub ack: u32,
    pub ack_rel: Option<u32>,
    /// Payload bytes on the wire.
    pub len: u32,
    /// The segment's SYN and FIN flags (a SYN or FIN takes one sequence number).
    pub syn: bool,
    pub fin: bool,
    /// The window field as sent, and scaled when the scale is known.
    pub window: u16,
    pub duplicate_ack: Option<crate::analysis::DupAck>,
    pub retransmitted: Option<crate::analysis::Retrans>,
    /// For a frame flagged `keep_alive`: a persist probe, a keep-alive of an idle
    /// connection, or neither (bytes outstanding).
    pub keep_alive: Option<crate::analysis::KeepAliveKind>,
    /// Where the capture was made, as known when this frame was analysed.
    pub capture_point: CapturePoint,
    /// The capture (kernel or labsniff's queue) dropped frames shortly before this
    /// one: the flag may come from frames the capture missed, not from the network.
    pub capture_dropped_before: bool,
}

/// One TCP segment of a lab conversation, as Wireshark dissects it: the header's
/// fields, its analysis flags, and the RTT its ACK number measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentEvent {
    pub frame: u64,
    pub conv: u64,
    pub dir: Dir,
    pub ts: f64,
    /// Raw, and relative to the sender's ISN (null when the SYN was not captured).
    pub seq: u32,
    pub seq_rel: Option<u32>,
    /// Raw, and relative to the peer's ISN (null without ACK or the peer's SYN).
    pub ack: u32,
    pub ack_rel: Option<u32>,
    /// Payload bytes on the wire.
    pub len: u32,
    pub syn: bool,
    pub ack_flag: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
    /// The window field as sent.
    pub window: u16,
    /// Wireshark's analysis flags of this frame.
    #[serde(serialize_with = "flag_names")]
    pub flags: crate::analysis::Flags,
    /// Wireshark's `tcp.analysis.acks_frame` and `tcp.analysis.ack_rtt` (seconds).
    pub acks_frame: Option<u64>,
    pub ack_rtt: Option<f64>,
}

fn flag_names<S: serde::Serializer>(
    flags: &crate::analysis::Flags,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(flags.iter().map(|f| f.name()))
}

/// A capture gap in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GapRecord {
    pub dir: Dir,
    pub bytes: u64,
    /// Stream offset where the missing bytes start.
    pub offset: u64,
    /// Why the bytes were declared missing (see SCHEMA.md).
    pub reason: crate::reassembly::GapReason,
    /// The capture dropped frames shortly before the gap was found: the bytes were
    /// most likely missed by the capture, not lost on the network.
    pub capture_dropped_before: bool,
}

/// TCP options one side announced in its SYN or SYN-ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SynOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// The SYN carried the timestamps option (12 bytes of every later TCP header when both
    /// SYNs carried it).
    pub timestamps: bool,
}

/// Where the capture was made, as the handshake's timings show: the host that answers
/// a segment at once sees almost no time between it and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CapturePoint {
    /// SYN-ACK→ACK near zero, SYN→SYN-ACK a round trip.
    Client,
    /// SYN→SYN-ACK near zero, SYN-ACK→ACK a round trip.
    Server,
    /// Both a measurable part of the round trip.
    Between,
    /// No complete handshake, or no measurable network time (both under 1 ms, e.g.
    /// loopback: client and server on one host).
    #[default]
    Unknown,
}

impl CapturePoint {
    /// Under this, a handshake leg is no measurable network time.
    pub const NETWORK_MIN: f64 = 0.001;

    /// From SYN→SYN-ACK and SYN-ACK→ACK in seconds: one leg is "near zero" when it is
    /// under a tenth of the other and the other is at least [`Self::NETWORK_MIN`].
    pub fn from_handshake(syn_to_syn_ack: Option<f64>, syn_ack_to_ack: Option<f64>) -> Self {
        let (Some(a), Some(b)) = (syn_to_syn_ack, syn_ack_to_ack) else {
            return CapturePoint::Unknown;
        };
        if a.max(b) < Self::NETWORK_MIN {
            CapturePoint::Unknown
        } else if a <= b / 10.0 {
            CapturePoint::Server
        } else if b <= a / 10.0 {
            CapturePoint::Client
        } else {
            CapturePoint::Between
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CapturePoint::Client => "client",
            CapturePoint::Server => "server",
            CapturePoint::Between => "between",
            CapturePoint::Unknown => "unknown",
        }
    }
}

/// One SYN the client sent (the first, then retransmissions).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SynAttempt {
    pub frame: u64,
    pub ts: f64,
}

/// Handshake and teardown details of a TCP conversation (for the explain report).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TcpDetails {
    pub syn_frame: Option<u64>,
    pub syn_ts: Option<f64>,
    pub syn_ack_frame: Option<u64>,
    pub syn_ack_ts: Option<f64>,
    /// The client's ACK that completed the handshake.
    pub ack_frame: Option<u64>,
    pub ack_ts: Option<f64>,
    /// From the client's last SYN before the SYN-ACK (the one it answers) to the
    /// SYN-ACK, seconds: a round trip when captured at the client, the server's reply
    /// time when captured at the server.
    pub handshake_rtt: Option<f64>,
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    pub client_options: Option<SynOptions>,
    pub server_options: Option<SynOptions>,
    pub fin_c2s_frame: Option<u64>,
    pub fin_c2s_ts: Option<f64>,
    pub fin_s2c_frame: Option<u64>,
    pub fin_s2c_ts: Option<f64>,
    /// Who sent the first FIN.
    pub first_fin_by: Option<Side>,
    pub rst_frame: Option<u64>,
    pub rst_ts: Option<f64>,
    /// Who sent the RST.
    pub rst_by: Option<Side>,
    pub retransmissions_c2s: u64,
    pub retransmissions_s2c: u64,
    pub out_of_order_c2s: u64,
    pub out_of_order_s2c: u64,
    /// Inferred from the handshake timings (see [`CapturePoint`]).
    pub capture_point: CapturePoint,
    /// Wireshark's `tcp.analysis.initial_rtt`: from the most recent SYN to the first
    /// segment with ACK and without SYN, seconds.
    pub irtt: Option<f64>,
    /// SYN-ACK to the client's ACK completing the handshake, seconds.
    pub syn_ack_to_ack: Option<f64>,
    /// The client's SYNs after the first.
    pub syn_retransmissions: u64,
    /// Every SYN the client sent (at most 16 kept).
    pub syn_attempts: Vec<SynAttempt>,
    /// RSTs the receiving TCP would not accept (out of window, or not acknowledging
    /// the SYN), left out of the state.
    pub rsts_ignored: u64,
    /// Zeek's conn.log `history` (uppercase: the client; each letter once per side).
    pub history: String,
    /// How many frames carried each Wireshark analysis flag, per direction.
    pub analysis: AnalysisCounts,
    /// Payload bytes (on the wire) of the largest segment the client sent.
    pub largest_segment_c2s: u64,
    /// Payload bytes (on the wire) of the largest segment the server sent.
    pub largest_segment_s2c: u64,
    /// Round trips of the client's data (null when it sent none).
    pub round_trips_c2s: Option<RoundTrips>,
    /// Round trips of the server's data (null when it sent none).
    pub round_trips_s2c: Option<RoundTrips>,
}

/// Frames per Wireshark analysis flag, per direction (`c2s`, `s2c`: objects mapping
/// flag names to counts, only flags that occurred).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnalysisCounts {
    pub c2s: [u32; 14],
    pub s2c: [u32; 14],
}

impl AnalysisCounts {
    pub fn count(&mut self, dir: Dir, flags: crate::analysis::Flags) {
        let side = match dir {
            Dir::ClientToServer => &mut self.c2s,
            Dir::ServerToClient => &mut self.s2c,
        };
        for (i, flag) in crate::analysis::Flag::ALL.iter().enumerate() {
            if flags.contains(*flag) {
                side[i] = side[i].saturating_add(1);
            }
        }
    }

    /// Frames of `dir` that carried `flag`.
    pub fn get(&self, dir: Dir, flag: crate::analysis::Flag) -> u32 {
        let side = match dir {
            Dir::ClientToServer => &self.c2s,
            Dir::ServerToClient => &self.s2c,
        };
        crate::analysis::Flag::ALL
            .iter()
            .position(|f| *f == flag)
            .map_or(0, |i| side[i])
    }
}

impl Serialize for AnalysisCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Side<'a>(&'a [u32; 14]);
        impl Serialize for Side<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(None)?;
                for (flag, n) in crate::analysis::Flag::ALL.iter().zip(self.0) {
                    if *n > 0 {
                        m.serialize_entry(flag.name(), n)?;
                    }
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("c2s", &Side(&self.c2s))?;
        m.serialize_entry("s2c", &Side(&self.s2c))?;
        m.end()
    }
}

/// A frame and its time: where something was first or last seen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrameAt {
    pub frame: u64,
    /// Seconds since the epoch.
    pub ts: f64,
}

/// Zeek conn.log's `conn_state` of a conversation (originator = client); written as
/// Zeek's code in JSON and by [`ZeekState::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ZeekState {
    /// Connection attempt seen, no reply.
    #[serde(rename = "S0")]
    S0,
    /// Established, not terminated.
    #[serde(rename = "S1")]
    S1,
    /// Normal establishment and termination.
    #[serde(rename = "SF")]
    Sf,
    /// Connection attempt rejected.
    #[serde(rename = "REJ")]
    Rej,
    /// Established; close attempt by the originator, no reply from the responder.
    #[serde(rename = "S2")]
    S2,
    /// Established; close attempt by the responder, no reply from the originator.
    #[serde(rename = "S3")]
    S3,
    /// Established; the originator aborted (RST).
    #[serde(rename = "RSTO")]
    Rsto,
    /// Responder sent a RST.
    #[serde(rename = "RSTR")]
    Rstr,
    /// Originator sent a SYN followed by a RST; no SYN-ACK from the responder.
    #[serde(rename = "RSTOS0")]
    Rstos0,
    /// Responder sent a SYN-ACK followed by a RST; no SYN from the originator.
    #[serde(rename = "RSTRH")]
    Rstrh,
    /// Originator sent a SYN followed by a FIN; no SYN-ACK from the responder.
    #[serde(rename = "SH")]
    Sh,
    /// Responder sent a SYN-ACK followed by a FIN; no SYN from the originator.
    #[serde(rename = "SHR")]
    Shr,
    /// No SYN seen, just midstream traffic.
    #[serde(rename = "OTH")]
    Oth,
}

impl ZeekState {
    pub const ALL: [ZeekState; 13] = [
        ZeekState::S0,
        ZeekState::S1,
        ZeekState::Sf,
        ZeekState::Rej,
        ZeekState::S2,
        ZeekState::S3,
        ZeekState::Rsto,
        ZeekState::Rstr,
        ZeekState::Rstos0,
        ZeekState::Rstrh,
        ZeekState::Sh,
        ZeekState::Shr,
        ZeekState::Oth,
    ];

    /// Zeek's code: `S0`, `SF`, `REJ`, ...
    pub fn code(self) -> &'static str {
        match self {
            ZeekState::S0 => "S0",
            ZeekState::S1 => "S1",
            ZeekState::Sf => "SF",
            ZeekState::Rej => "REJ",
            ZeekState::S2 => "S2",
            ZeekState::S3 => "S3",
            ZeekState::Rsto => "RSTO",
            ZeekState::Rstr => "RSTR",
            ZeekState::Rstos0 => "RSTOS0",
            ZeekState::Rstrh => "RSTRH",
            ZeekState::Sh => "SH",
            ZeekState::Shr => "SHR",
            ZeekState::Oth => "OTH",
        }
    }
}

/// The record of one conversation, emitted when it ends or at the end of input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationRecord {
    pub conv: u64,
    pub transport: TransportKind,
    pub client: std::net::SocketAddr,
    pub server: std::net::SocketAddr,
    /// Null when no payload was seen.
    #[serde(serialize_with = "optional_proto_name")]
    pub proto: Option<Proto>,
    pub state: ZeekState,
    pub bytes_c2s: u64,
    pub bytes_s2c: u64,
    pub messages_c2s: u64,
    pub messages_s2c: u64,
    pub gaps: Vec<GapRecord>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub start_ts: f64,
    pub end_ts: f64,
    pub frames_c2s: u64,
    pub frames_s2c: u64,
    pub retransmissions: u64,
    pub out_of_order: u64,
    /// Null for UDP.
    pub tcp: Option<TcpDetails>,
    /// Wireshark's `tcp.stream` of this conversation: every TCP conversation in the
    /// capture, on any port, numbered from 0 in order of first packet. Null for UDP.
    pub tcp_stream: Option<u64>,
    /// The first and last frames that carried payload, per direction (null if none).
    pub first_payload_c2s: Option<FrameAt>,
    pub last_payload_c2s: Option<FrameAt>,
    pub first_payload_s2c: Option<FrameAt>,
    pub last_payload_s2c: Option<FrameAt>,
}

impl ConversationRecord {
    /// Client and server are one machine: the same address, or both loopback (a
    /// capture on `lo`): no network lies between them.
    pub fn one_host(&self) -> bool {
        let (c, s) = (self.client.ip(), self.server.ip());
        c == s || (c.is_loopback() && s.is_loopback())
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// The last event: totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Frames read.
    pub frames: u64,
    /// TCP/UDP packets to or from the lab port.
    pub lab_packets: u64,
    pub conversations: u64,
    pub messages: u64,
    pub diagnostics: u64,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    /// Live capture: packets the kernel dropped (libpcap statistics).
    pub dropped: Option<u32>,
    /// Live capture: frames the kernel handed over but labsniff's own queue between
    /// the capture and the analysis had no room for (never analysed; still in `-w`).
    pub queue_dropped: Option<u64>,
    /// Live capture: the most batches of frames labsniff's queue held at once (each
    /// 1 MiB, at most 64): how close the analysis came to dropping. Absent for files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_peak_batches: Option<u64>,
    /// The capture's link type (`LinkKind::name`), null when libpcap's type is not one
    /// labsniff reads.
    pub link_type: Option<&'static str>,
    /// The lab port analysed (`--port`).
    pub lab_port: u16,
    /// The busiest other TCP/UDP ports, by conversations (at most 10).
    pub other_ports: Vec<PortCount>,
    /// How `lab_port` was chosen (`--port auto`: found by its traffic) and why.
    pub port_choice: PortChoice,
}

/// How the port was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// `--port N`.
    Given,
    /// The default port: live capture, or a file with traffic on it.
    Default,
    /// Found: the port with the most lab-like conversations.
    Found,
    /// Nothing lab-like on any port: the default port, unused.
    NoneFound,
    /// The input cannot be read twice (standard input, a pipe): the default port.
    NotSearched,
}

/// The summary's `port_choice`: which port was analysed and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PortChoice {
    pub how: How,
    /// The port searched first (5005); whether any TCP/UDP packet used it.
    pub default_port: u16,
    pub default_port_used: bool,
    /// `found`: the transport, number and most common protocol of the lab-like
    /// conversations on the chosen port.
    pub transport: Option<TransportKind>,
    pub conversations: u64,
    #[serde(serialize_with = "optional_proto_name")]
    pub proto: Option<Proto>,
}

impl PortChoice {
    pub fn plain(how: How) -> PortChoice {
        PortChoice {
            how,
            default_port: labproto::LAB_PORT,
            default_port_used: false,
            transport: None,
            conversations: 0,
            proto: None,
        }
    }
}

/// Conversations on one port that is not the lab port (see `port_census`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PortCount {
    pub transport: TransportKind,
    pub port: u16,
    pub conversations: u64,
}

/// One decoded lab message, borrowed from the analyzer's reusable buffers: the hot path
/// hands these out so that a sink that only writes or counts allocates nothing per
/// message. Valid for the duration of one [`Sink::message`] call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageRef<'a> {
    pub conv: u64,
    pub transport: TransportKind,
    /// The lab protocol.
    pub proto: Proto,
    pub dir: Dir,
    pub client: &'a str,
    pub server: &'a str,
    pub version: Option<u8>,
    pub order: Option<u32>,
    pub size: Option<u32>,
    pub payload: &'a [u8],
    pub truncated: bool,
    /// Frames that carried the message's bytes, ascending, no repeats.
    pub frames: &'a [u64],
    /// Time the message was complete, microseconds since the epoch.
    pub ts_micros: u64,
    pub offset: Option<u64>,
}

impl MessageRef<'_> {
    /// The owned event (what [`Sink::emit`] receives).
    pub fn to_event(&self) -> MessageEvent {
        MessageEvent {
            conv: self.conv,
            transport: self.transport,
            proto: self.proto,
            dir: self.dir,
            client: self.client.to_string(),
            server: self.server.to_string(),
            version: self.version,
            order: self.order,
            size: self.size,
            payload: String::from_utf8_lossy(self.payload).into_owned(),
            payload_hex: hex(self.payload),
            truncated: self.truncated,
            frames: self.frames.to_vec(),
            ts: seconds(self.ts_micros),
            offset: self.offset,
            payload_bytes: self.payload.to_vec(),
        }
    }
}

/// Where events go.
pub trait Sink {
    fn emit(&mut self, event: Event) -> std::io::Result<()>;

    /// One message. The default makes the owned [`Event::Message`] and emits it; sinks
    /// on the hot path (JSON lines, the bounded report collector) override this to
    /// write or skip the message without building it.
    fn message(&mut self, message: &MessageRef<'_>) -> std::io::Result<()> {
        self.emit(Event::Message(message.to_event()))
    }

    /// A live capture handed over everything it had so far (a batch of frames, at
    /// least every read timeout): a live sink writes out what it holds. Flushing here
    /// rather than after each line costs one write per batch instead of one per
    /// message (1.28 M writes at the issue-17 load kept the analysis too slow).
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink for Vec<Event> {
    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        self.push(event);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
