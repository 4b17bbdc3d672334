//! The flow graph (Wireshark's Flow Graph): per conversation a ladder of the packets
//! that matter — handshake, each message with its decoded fields, FIN, RST — with
//! times relative to the first packet shown and frame numbers.

use super::{tcp_analysis, words, Gathered, Style};
use crate::event::{AnalysisEvent, ConversationRecord, Dir, Event, MessageEvent, TcpDetails};
use std::fmt::Write as _;

/// What an arrow stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrowKind {
    Syn,
    SynAck,
    Ack,
    /// A decoded message (its frames may be several).
    Data,
    Fin,
    Rst,
    /// A frame Wireshark's TCP analysis flags (retransmission, loss, duplicate ACK, ...).
    Analysis,
}

impl ArrowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArrowKind::Syn => "SYN",
            ArrowKind::SynAck => "SYN-ACK",
            ArrowKind::Ack => "ACK",
            ArrowKind::Data => "data",
            ArrowKind::Fin => "FIN",
            ArrowKind::Rst => "RST",
            ArrowKind::Analysis => "analysis",
        }
    }
}

/// One arrow of a ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrow {
    pub kind: ArrowKind,
    pub dir: Dir,
    /// The frames shown: one, or all that carried a message.
    pub frames: Vec<u64>,
    /// When it was sent (a message: when its last frame arrived); `None` when the
    /// events do not say (a FIN that was not the conversation's last frame).
    pub ts: Option<f64>,
    /// Short text on the arrow: `SYN`, `v3`, `text`, ...
    pub tag: String,
    /// The words beside it: options, decoded fields and payload.
    pub detail: String,
}

impl Arrow {
    pub fn first_frame(&self) -> u64 {
        self.frames.first().copied().unwrap_or(0)
    }

    /// Tag and detail together: `v3 order=2 size=5 "hello"`.
    pub fn label(&self) -> String {
        if self.detail.is_empty() {
            self.tag.clone()
        } else {
            format!("{} {}", self.tag, self.detail)
        }
    }
}

/// One conversation's arrows, in frame order.
#[derive(Debug, Clone, PartialEq)]
pub struct Ladder {
    pub conv: u64,
    pub title: String,
    pub client: String,
    pub server: String,
    pub start_ts: f64,
    pub arrows: Vec<Arrow>,
}

/// The ladders of one conversation (`conv`) or of all.
pub fn ladders(events: &[Event], conv: Option<u64>) -> Vec<Ladder> {
    let g = Gathered::new(events);
    ladders_of(&g, conv)
}

pub(crate) fn ladders_of(g: &Gathered<'_>, conv: Option<u64>) -> Vec<Ladder> {
    g.convs
        .iter()
        .filter(|c| conv.is_none_or(|id| c.conv == id))
        .map(|c| Ladder {
            conv: c.conv,
            title: words::conv_title(c),
            client: c.client.to_string(),
            server: c.server.to_string(),
            start_ts: c.start_ts,
            arrows: arrows(c, g.messages_of(c.conv), g.analysis_of(c.conv)),
        })
        .collect()
}

fn syn_options(isn: Option<u32>, o: Option<crate::event::SynOptions>) -> String {
    let mut parts = Vec::new();
    // Relative, as Wireshark shows it (the ISN itself in brackets).
    if let Some(isn) = isn {
        parts.push(format!("seq=0 (ISN {isn})"));
    }
    if let Some(o) = o {
        if let Some(mss) = o.mss {
            parts.push(format!("MSS={mss}"));
        }
        if let Some(ws) = o.window_scale {
            parts.push(format!("WS={ws}"));
        }
        if o.sack_permitted {
            parts.push("SACK_PERM".to_string());
        }
    }
    parts.join(" ")
}

fn control(
    kind: ArrowKind,
    dir: Dir,
    frame: Option<u64>,
    ts: Option<f64>,
    detail: String,
) -> Option<Arrow> {
    Some(Arrow {
        kind,
        dir,
        frames: vec![frame?],
        ts,
        tag: kind.as_str().to_string(),
        detail,
    })
}

fn tcp_arrows(c: &ConversationRecord, t: &TcpDetails) -> Vec<Arrow> {
    // The events time only the handshake; a FIN or RST that ended the
    // conversation is its last frame, whose time is known.
    let at_end = |f: Option<u64>| f.filter(|&f| f == c.last_frame).map(|_| c.end_ts);
    let (c2s, s2c) = (Dir::ClientToServer, Dir::ServerToClient);
    let rst_dir = if t.rst_by == Some(crate::event::Side::Client) {
        c2s
    } else {
        s2c
    };
    [
        control(
            ArrowKind::Syn,
            c2s,
            t.syn_frame,
            t.syn_ts,
            syn_options(t.client_isn, t.client_options),
        ),
        control(
            ArrowKind::SynAck,
            s2c,
            t.syn_ack_frame,
            t.syn_ack_ts,
            syn_options(t.server_isn, t.server_options),
        ),
        control(ArrowKind::Ack, c2s, t.ack_frame, t.ack_ts, String::new()),
        control(
            ArrowKind::Fin,
            c2s,
            t.fin_c2s_frame,
            t.fin_c2s_ts.or(at_end(t.fin_c2s_frame)),
            String::new(),
        ),
        control(
            ArrowKind::Fin,
            s2c,
            t.fin_s2c_frame,
            t.fin_s2c_ts.or(at_end(t.fin_s2c_frame)),
            String::new(),
        ),
        control(
            ArrowKind::Rst,
            rst_dir,
            t.rst_frame,
            t.rst_ts.or(at_end(t.rst_frame)),
            String::new(),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn data_arrow(m: &MessageEvent) -> Arrow {
    let mut detail = String::new();
    if let (Some(o), Some(s)) = (m.order, m.size) {
        let _ = write!(detail, "order={o} size={s} ");
    }
    detail.push_str(&words::payload(&m.payload_bytes));
    if m.truncated {
        detail.push_str(" (truncated)");
    }
    Arrow {
        kind: ArrowKind::Data,
        dir: m.dir,
        frames: m.frames.clone(),
        ts: Some(m.ts),
        tag: m.proto.to_string(),
        detail,
    }
}

/// Flagged frames drawn per ladder (window updates are left out: they are many and
/// change nothing a student follows here).
const ANALYSIS_ARROWS_MAX: usize = 300;

/// The short tag on an analysis arrow.
fn analysis_tag(e: &AnalysisEvent) -> String {
    use crate::analysis::Flag::*;
    let Some(flag) = tcp_analysis::primary(e) else {
        return "?".to_string();
    };
    match flag {
        Retransmission => "Retransmission".into(),
        FastRetransmission => "Fast Retransmission".into(),
        SpuriousRetransmission => "Spurious Retrans.".into(),
        OutOfOrder => "Out-Of-Order".into(),
        LostSegment => "after a lost segment".into(),
        AckLostSegment => "ACKed unseen".into(),
        DuplicateAck => match e.duplicate_ack {
            Some(d) => format!("Dup ACK #{}", d.num),
            None => "Dup ACK".into(),
        },
        ZeroWindow => "ZeroWindow".into(),
        ZeroWindowProbe => "ZeroWindowProbe".into(),
        ZeroWindowProbeAck => "ZeroWindowProbeAck".into(),
        WindowFull => "Window Full".into(),
        WindowUpdate => "Window Update".into(),
        KeepAlive => "Keep-Alive".into(),
        KeepAliveAck => "Keep-Alive ACK".into(),
    }
}

fn analysis_arrow(e: &AnalysisEvent) -> Arrow {
    let mut detail = tcp_analysis::labels(e);
    match e.seq_rel {
        Some(rel) => {
            let _ = write!(detail, " seq={rel} len={}", e.len);
        }
        None => {
            let _ = write!(detail, " len={}", e.len);
        }
    }
    if let Some(ack) = e.ack_rel {
        let _ = write!(detail, " ack={ack}");
    }
    Arrow {
        kind: ArrowKind::Analysis,
        dir: e.dir,
        frames: vec![e.frame],
        ts: Some(e.ts),
        tag: analysis_tag(e),
        detail,
    }
}

/// The arrows of one conversation, in order of their last frame: a message over many
/// segments is drawn where it completes, at that frame's time, so time only grows
/// down the graph (a flagged frame inside the message comes above it).
pub fn arrows(
    c: &ConversationRecord,
    messages: &[&MessageEvent],
    analysis: &[&AnalysisEvent],
) -> Vec<Arrow> {
    let mut list = c.tcp.as_ref().map(|t| tcp_arrows(c, t)).unwrap_or_default();
    list.extend(messages.iter().map(|m| data_arrow(m)));
    list.extend(
        analysis
            .iter()
            .filter(|e| tcp_analysis::primary(e) != Some(crate::analysis::Flag::WindowUpdate))
            .take(ANALYSIS_ARROWS_MAX)
            .map(|e| analysis_arrow(e)),
    );
    list.sort_by_key(|a| {
        (
            a.frames.last().copied().unwrap_or(0),
            a.kind != ArrowKind::Data,
        )
    });
    list
}

/// Width of the arrow between the two columns.
const SPAN: usize = 30;

/// One system call drawn in a side's application lane: when, which side, what.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneCall {
    pub ts: f64,
    pub dir_of_side: Dir,
    pub text: String,
}

/// Calls drawn per conversation; the rest are counted.
const LANE_CALLS_MAX: usize = 200;

/// The lane rows of one conversation from its joined calls.
pub fn lane_calls(sockets: &[crate::syscalls::SocketCalls]) -> Vec<LaneCall> {
    use crate::syscalls::join::Op;
    let mut out = Vec::new();
    for s in sockets {
        // The client's lane is the left bar (arrows leave it c→s).
        let side = match s.side {
            crate::syscalls::Side::Client => Dir::ClientToServer,
            crate::syscalls::Side::Server => Dir::ServerToClient,
        };
        for c in &s.calls {
            let tid = c.tid.map_or(String::new(), |t| format!(" t{t}"));
            let text = match c.op {
                Op::Send | Op::Recv => match (c.ret, &c.errno) {
                    (Some(r), _) if r >= 0 => format!("{}() {r} B{tid}", c.call),
                    (_, Some(e)) => format!("{}() {e}{tid}", c.call),
                    _ => format!("{}() failed{tid}", c.call),
                },
                Op::Accept { .. } => format!("{}() → fd {}{tid}", c.call, s.fd),
                Op::Ready { .. } => format!("{}: fd {} ready{tid}", c.call, s.fd),
                Op::Connect => format!("connect(){tid}"),
                Op::Shutdown { how } => format!("shutdown({how}){tid}"),
                Op::Close => format!("close(){tid}"),
            };
            // Returned bytes and new sockets matter when the call returns.
            let at = match c.op {
                Op::Recv | Op::Accept { .. } | Op::Ready { .. } => c.end(),
                _ => c.ts,
            };
            out.push(LaneCall {
                ts: crate::event::seconds(at),
                dir_of_side: side,
                text,
            });
        }
    }
    out.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    out
}

/// The flow graph as terminal text.
pub fn render(g: &Gathered<'_>, conv: Option<u64>, style: &Style) -> String {
    render_lanes(g, conv, style, None)
}

/// The flow graph with each side's system calls in its application lane, at their
/// time among the packets.
pub fn render_lanes(
    g: &Gathered<'_>,
    conv: Option<u64>,
    style: &Style,
    lanes: Option<&std::collections::BTreeMap<u64, Vec<LaneCall>>>,
) -> String {
    let ladders = ladders_of(g, conv);
    let mut out = String::new();
    if ladders.is_empty() {
        out.push_str("no conversation to draw\n");
        return out;
    }
    // From the first lab conversation's first frame, whichever are drawn: the same
    // frame has the same time with or without --conv.
    let origin = g.lab_start().unwrap_or_default();
    for (i, l) in ladders.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{}",
            style.heading(&format!("Flow graph: {}", l.title))
        );
        let client = format!("client {}", l.client);
        // The arrow is at least as wide as the client's header, so the server's
        // header starts above the server's bar.
        let span = SPAN.max(client.chars().count());
        let _ = writeln!(
            out,
            "{:>10} {:>7}  {client:<w$}server {}",
            "time (s)",
            "frame",
            l.server,
            w = span + 2
        );
        let calls = lanes
            .and_then(|m| m.get(&l.conv))
            .map_or(&[][..], Vec::as_slice);
        let mut pending = calls.iter().take(LANE_CALLS_MAX).peekable();
        let lane_row = |out: &mut String, c: &LaneCall| {
            let time = words::relative(c.ts, origin);
            let text: String = c.text.chars().take(span.saturating_sub(2)).collect();
            let row = match c.dir_of_side {
                Dir::ClientToServer => format!("|· {text:<w$}|", w = span.saturating_sub(2)),
                Dir::ServerToClient => format!("|{text:>w$} ·|", w = span.saturating_sub(2)),
            };
            let _ = writeln!(out, "{time:>10} {:>7}  {}", "", style.dim(&row));
        };
        for a in &l.arrows {
            if let Some(t) = a.ts {
                while let Some(c) = pending.next_if(|c| c.ts <= t) {
                    lane_row(&mut out, c);
                }
            }
            let time = a.ts.map_or("-".to_string(), |t| words::relative(t, origin));
            let frames = match (a.frames.first(), a.frames.last()) {
                (Some(x), Some(y)) if x != y => format!("{x}-{y}"),
                (Some(x), _) => x.to_string(),
                _ => "-".to_string(),
            };
            let line = ladder_arrow(&a.tag, a.dir, span);
            let line = match a.kind {
                ArrowKind::Data => line,
                ArrowKind::Analysis => style.warning(&line),
                _ => style.dim(&line),
            };
            let _ = writeln!(out, "{time:>10} {frames:>7}  {line}  {}", a.detail);
        }
        for c in pending {
            lane_row(&mut out, c);
        }
        let _ = writeln!(
            out,
            "  (one arrow per message, at its last frame; flagged frames and the handshake and \
             teardown one each; pure ACKs are not drawn: --html or --svg draws every frame)"
        );
        if calls.len() > LANE_CALLS_MAX {
            let _ = writeln!(
                out,
                "  ... and {} more system calls (the explain report and --json have them)",
                calls.len() - LANE_CALLS_MAX
            );
        }
        if !calls.is_empty() {
            let _ = writeln!(
                out,
                "  |· call: the client program's system call (left lane); call ·|: the server's \
                 (right lane); tN: thread id; bytes sent, or returned by a recv"
            );
        }
    }
    out.lines().map(|l| format!("{}\n", l.trim_end())).collect()
}

/// `|------ tag ----->|` or `|<----- tag ------|`, `span` dashes wide inside the bars.
fn ladder_arrow(tag: &str, dir: Dir, span: usize) -> String {
    let inner = format!(" {tag} ");
    let len = inner.chars().count();
    let dashes = span.saturating_sub(len + 1).max(2);
    let left = dashes / 2;
    let right = dashes - left;
    match dir {
        Dir::ClientToServer => format!("|{}{inner}{}>|", "-".repeat(left), "-".repeat(right)),
        Dir::ServerToClient => format!("|<{}{inner}{}|", "-".repeat(left), "-".repeat(right)),
    }
}
