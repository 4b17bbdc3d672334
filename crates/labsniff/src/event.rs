//! The events labsniff produces, one per JSON line. The field order of every struct is
//! the JSON field order (see SCHEMA.md); change both together.

use serde::Serialize;

/// One output event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    Message(MessageEvent),
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

/// Direction of a message, relative to the client (the side that sent the SYN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Dir {
    #[serde(rename = "c2s")]
    ClientToServer,
    #[serde(rename = "s2c")]
    ServerToClient,
}

impl Dir {
    /// 0 for client-to-server, 1 for server-to-client (index into per-direction arrays).
    pub fn index(self) -> usize {
        match self {
            Dir::ClientToServer => 0,
            Dir::ServerToClient => 1,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::ClientToServer => "c2s",
            Dir::ServerToClient => "s2c",
        }
    }
    /// Who sends in this direction.
    pub fn sender(self) -> &'static str {
        match self {
            Dir::ClientToServer => "client",
            Dir::ServerToClient => "server",
        }
    }
    pub const BOTH: [Dir; 2] = [Dir::ClientToServer, Dir::ServerToClient];
}

/// Seconds since the epoch as a float with microsecond resolution.
pub fn seconds(micros: u64) -> f64 {
    (micros / 1_000_000) as f64 + (micros % 1_000_000) as f64 / 1e6
}

/// One decoded lab message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageEvent {
    pub conv: u64,
    pub transport: TransportKind,
    /// "text", "v2" or "v3".
    pub proto: &'static str,
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

/// A capture gap in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GapRecord {
    pub dir: Dir,
    pub bytes: u64,
    /// Stream offset where the missing bytes start.
    pub offset: u64,
    /// "acked", "overflow", "truncated" or "flush" (see SCHEMA.md).
    pub reason: &'static str,
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
    /// SYN to SYN-ACK, seconds.
    pub handshake_rtt: Option<f64>,
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    pub client_options: Option<SynOptions>,
    pub server_options: Option<SynOptions>,
    pub fin_c2s_frame: Option<u64>,
    pub fin_c2s_ts: Option<f64>,
    pub fin_s2c_frame: Option<u64>,
    pub fin_s2c_ts: Option<f64>,
    /// "client" or "server": who sent the first FIN.
    pub first_fin_by: Option<&'static str>,
    pub rst_frame: Option<u64>,
    pub rst_ts: Option<f64>,
    /// "client" or "server".
    pub rst_by: Option<&'static str>,
    pub retransmissions_c2s: u64,
    pub retransmissions_s2c: u64,
    pub out_of_order_c2s: u64,
    pub out_of_order_s2c: u64,
    /// Payload bytes (on the wire) of the largest segment the client sent.
    pub largest_segment_c2s: u64,
    /// Payload bytes (on the wire) of the largest segment the server sent.
    pub largest_segment_s2c: u64,
}

/// A frame and its time: where something was first or last seen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrameAt {
    pub frame: u64,
    /// Seconds since the epoch.
    pub ts: f64,
}

/// The record of one conversation, emitted when it ends or at the end of input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationRecord {
    pub conv: u64,
    pub transport: TransportKind,
    pub client: String,
    pub server: String,
    /// Null when no payload was seen.
    pub proto: Option<&'static str>,
    /// Zeek conn.log state: S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH.
    pub state: &'static str,
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

/// Something worth telling about the capture or the traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    /// The frame it is about (null when about the whole capture).
    pub frame: Option<u64>,
    pub conv: Option<u64>,
    pub text: String,
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
    /// The capture's link type (`LinkKind::name`), null when libpcap's type is not one
    /// labsniff reads.
    pub link_type: Option<&'static str>,
}

/// One decoded lab message, borrowed from the analyzer's reusable buffers: the hot path
/// hands these out so that a sink that only writes or counts allocates nothing per
/// message. Valid for the duration of one [`Sink::message`] call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageRef<'a> {
    pub conv: u64,
    pub transport: TransportKind,
    /// "text", "v2" or "v3".
    pub proto: &'static str,
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
            payload_hex: crate::dissect::hex(self.payload),
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
}

impl Sink for Vec<Event> {
    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        self.push(event);
        Ok(())
    }
}
