//! Words for Wireshark's TCP analysis flags: the label Wireshark puts in its Info
//! column, and one plain explanation per flagged frame (the `text` of JSON `analysis`
//! lines and the lines of the report's loss section).

use super::words;
use crate::analysis::recovery::{ResendTiming, LINUX_RTO_MIN_MICROS};
use crate::analysis::{Flag, KeepAliveKind};
use crate::event::{AnalysisEvent, CapturePoint, Dir};

/// Linux's smallest retransmission timeout in seconds (labfacts' rule for telling the
/// timer from ACK-driven recovery, [`ResendTiming`]).
pub const LINUX_RTO_MIN: f64 = LINUX_RTO_MIN_MICROS as f64 / 1e6;

/// The flag a frame is named by, most specific first (as Wireshark's Info column).
pub fn primary(e: &AnalysisEvent) -> Option<Flag> {
    use Flag::*;
    [
        SpuriousRetransmission,
        FastRetransmission,
        Retransmission,
        OutOfOrder,
        LostSegment,
        ZeroWindowProbe,
        ZeroWindowProbeAck,
        KeepAlive,
        KeepAliveAck,
        DuplicateAck,
        ZeroWindow,
        WindowFull,
        WindowUpdate,
        AckLostSegment,
    ]
    .into_iter()
    .find(|f| e.flags.contains(*f))
}

/// Wireshark's Info-column text for one flag: `TCP Retransmission`, `TCP Dup ACK 7#2`.
pub fn label(flag: Flag, e: &AnalysisEvent) -> String {
    use Flag::*;
    match flag {
        Retransmission => "TCP Retransmission".into(),
        FastRetransmission => "TCP Fast Retransmission".into(),
        SpuriousRetransmission => "TCP Spurious Retransmission".into(),
        OutOfOrder => "TCP Out-Of-Order".into(),
        LostSegment => "TCP Previous segment not captured".into(),
        AckLostSegment => "TCP ACKed unseen segment".into(),
        DuplicateAck => match e.duplicate_ack {
            Some(d) => format!("TCP Dup ACK {}#{}", d.frame, d.num),
            None => "TCP Dup ACK".into(),
        },
        ZeroWindow => "TCP ZeroWindow".into(),
        ZeroWindowProbe => "TCP ZeroWindowProbe".into(),
        ZeroWindowProbeAck => "TCP ZeroWindowProbeAck".into(),
        WindowFull => "TCP Window Full".into(),
        WindowUpdate => "TCP Window Update".into(),
        KeepAlive => "TCP Keep-Alive".into(),
        KeepAliveAck => "TCP Keep-Alive ACK".into(),
    }
}

/// Every flag's label, most specific first, joined: `[TCP Fast Retransmission]`.
pub fn labels(e: &AnalysisEvent) -> String {
    let mut shown: Vec<String> = Vec::new();
    for flag in e.flags.iter() {
        // Wireshark names a fast or spurious retransmission by that name alone.
        let covered = flag == Flag::Retransmission
            && (e.flags.contains(Flag::FastRetransmission)
                || e.flags.contains(Flag::SpuriousRetransmission));
        if !covered {
            shown.push(format!("[{}]", label(flag, e)));
        }
    }
    shown.join(" ")
}

fn peer(dir: Dir) -> &'static str {
    match dir {
        Dir::ClientToServer => "server",
        Dir::ServerToClient => "client",
    }
}

/// The bytes a segment carried, relative as Wireshark numbers them when known.
fn bytes(e: &AnalysisEvent) -> String {
    if e.len == 0 && e.syn {
        return "its SYN".to_string();
    }
    if e.len == 0 && e.fin {
        return "its FIN".to_string();
    }
    match e.seq_rel {
        Some(rel) if e.len > 0 => format!(
            "{} (relative seq {rel}–{})",
            words::count(u64::from(e.len), "byte"),
            u64::from(rel) + u64::from(e.len) - 1
        ),
        _ => words::count(u64::from(e.len), "byte"),
    }
}

/// Where bytes missing before a segment of `dir` were lost, as far as the capture
/// point tells.
pub fn lost_where(dir: Dir, point: CapturePoint) -> String {
    let sender = dir.sender();
    match point {
        _ if point.at_sender_of(dir) => {
            format!(
                "the capture was made at the {sender}, which sent them, so the capture itself probably \
                 dropped them (a network loss would have happened after the capture point)"
            )
        }
        CapturePoint::Unknown => format!(
            "they were lost between the {sender} and the capture point, or the capture dropped them"
        ),
        _ => format!(
            "they were lost on the way from the {sender} before reaching the capture point (or the \
             capture dropped them)"
        ),
    }
}

/// One plain sentence for a flagged frame: what Wireshark's flag means here, after
/// `frame N: ` (empty for a frame with no flag).
pub fn analysis_text(e: &AnalysisEvent) -> String {
    let text = analysis_text_without_frame(e);
    if text.is_empty() {
        return text;
    }
    format!("frame {}: {text}", e.frame)
}

/// [`analysis_text`] without the leading `frame N: `, for a comment already attached
/// to that frame (the annotated capture's).
pub fn analysis_text_without_frame(e: &AnalysisEvent) -> String {
    let Some(flag) = primary(e) else {
        return String::new();
    };
    let name = labels(e);
    let body = meaning(flag, e);
    if e.capture_dropped_before && flag != Flag::LostSegment {
        return format!(
            "{name}: {body} (but the capture dropped frames here, so this flag may come from \
             frames the capture missed, not from the network)"
        );
    }
    format!("{name}: {body}")
}

/// What the frame's primary flag means, one group of flags per function.
fn meaning(flag: Flag, e: &AnalysisEvent) -> String {
    use Flag::*;
    match flag {
        SpuriousRetransmission | FastRetransmission | Retransmission => resend(flag, e),
        OutOfOrder | LostSegment | AckLostSegment | DuplicateAck => out_of_sequence(flag, e),
        ZeroWindow | ZeroWindowProbe | ZeroWindowProbeAck | WindowFull | WindowUpdate => {
            window(flag, e)
        }
        KeepAlive | KeepAliveAck => keep_alive(flag, e),
    }
}

/// Bytes sent again: spurious, fast, or a plain retransmission (any other flag reads
/// as the plain one).
fn resend(flag: Flag, e: &AnalysisEvent) -> String {
    let sender = e.dir.sender();
    let receiver = peer(e.dir);
    match flag {
        Flag::SpuriousRetransmission => format!(
            "the {sender} sent {} again although the {receiver} had already acknowledged all of them: \
             the first copy had arrived, so this retransmission was not needed (its ACK was probably \
             late or lost)",
            bytes(e)
        ),
        Flag::FastRetransmission => format!(
            "the {sender} resent {} at once after the {receiver}'s duplicate ACKs asked for them: fast \
             retransmission, without waiting for the retransmission timer",
            bytes(e)
        ),
        _ => retransmission(e),
    }
}

/// A plain retransmission, with how long after the original it came (Wireshark's RTO
/// field) and what that wait says about the timer.
fn retransmission(e: &AnalysisEvent) -> String {
    let sender = e.dir.sender();
    let receiver = peer(e.dir);
    let mut text = format!("the {sender} sent {} again", bytes(e));
    if let Some(r) = e.retransmitted {
        let rto = r.rto as f64 / 1e6;
        text.push_str(&format!(
            ", {} after frame {} (Wireshark's RTO field)",
            words::duration(rto),
            r.rto_frame
        ));
        if r.timing() == ResendTiming::Timer {
            text.push_str(
                ": no acknowledgement came in time, so the retransmission timer probably ran out",
            );
        } else {
            text.push_str(&format!(
                ": sooner than Linux's minimum retransmission timeout ({}), so probably not the \
                 timer but loss recovery driven by the {receiver}'s ACKs or SACKs",
                words::duration(LINUX_RTO_MIN)
            ));
        }
    }
    text
}

/// Segments out of the stream's order, bytes the capture never showed, and duplicate
/// ACKs (any other flag reads as a duplicate ACK).
fn out_of_sequence(flag: Flag, e: &AnalysisEvent) -> String {
    let sender = e.dir.sender();
    let receiver = peer(e.dir);
    match flag {
        Flag::OutOfOrder if e.captured_at_sender() => format!(
            "this segment of the {sender} ({}) went out after later bytes of the same stream; captured \
             at the {sender} itself, that is not reordering on the network but a resend of bytes that \
             went missing (Wireshark's out-of-order rule only looks at timing: within one round trip \
             of the later data)",
            bytes(e)
        ),
        Flag::OutOfOrder => format!(
            "this segment of the {sender} ({}) came after segments that follow it in the stream: \
             probably reordered on the way, or resent soon after a loss (Wireshark's rule only looks \
             at timing: within one round trip of the later data)",
            bytes(e)
        ),
        Flag::LostSegment if e.capture_dropped_before => format!(
            "bytes of the {sender} before this segment were never captured: the capture dropped \
             frames here, so the capture missed them, not the network"
        ),
        Flag::LostSegment => format!(
            "bytes of the {sender} before this segment were never captured: {}",
            lost_where(e.dir, e.capture_point)
        ),
        Flag::AckLostSegment => format!(
            "the {sender} acknowledged bytes of the {receiver} that the capture never showed: they \
             reached the {sender}, so only the capture missed them"
        ),
        _ => match e.duplicate_ack {
            Some(d) => format!(
                "the {sender} acknowledged the same byte as in frame {} again (duplicate #{}): it is \
                 still waiting for that byte, as a receiver does when later segments arrive before a \
                 missing one",
                d.frame, d.num
            ),
            None => format!("the {sender} acknowledged the same byte again (duplicate ACK)"),
        },
    }
}

/// The receive window: zero, probed, full or updated (any other flag reads as a window
/// update).
fn window(flag: Flag, e: &AnalysisEvent) -> String {
    let sender = e.dir.sender();
    let receiver = peer(e.dir);
    match flag {
        Flag::ZeroWindow => format!(
            "the {sender} advertised a receive window of 0: its receive buffer is full, probably \
             because its program is not reading (recv()) as fast as data arrives; the {receiver} must \
             stop sending"
        ),
        Flag::ZeroWindowProbe => format!(
            "the {sender} sent one byte into the {receiver}'s zero window to ask whether it has opened \
             (zero-window probe)"
        ),
        Flag::ZeroWindowProbeAck => format!(
            "the {sender}'s answer to a zero-window probe: its window is still 0"
        ),
        Flag::WindowFull => format!(
            "this segment filled the {receiver}'s advertised receive window: the {sender} must wait for \
             an ACK that opens the window before sending more"
        ),
        _ => format!(
            "the {sender} only changed its advertised window (window update): its program read data, \
             or its kernel enlarged the receive buffer"
        ),
    }
}

/// A keep-alive, or the answer to one (any other flag reads as the answer), as what
/// the segment was ([`KeepAliveKind`]).
fn keep_alive(flag: Flag, e: &AnalysisEvent) -> String {
    let sender = e.dir.sender();
    let receiver = peer(e.dir);
    match (flag, e.keep_alive) {
        (Flag::KeepAlive, Some(KeepAliveKind::ZeroWindowProbe)) => format!(
            "the {sender} sent a persist (zero-window) probe: the {receiver}'s window was 0, and \
             Linux probes it with a segment of no new data one byte before its next sequence number, \
             which Wireshark labels Keep-Alive; it is not SO_KEEPALIVE"
        ),
        (Flag::KeepAlive, Some(KeepAliveKind::DataOutstanding)) => format!(
            "the {sender} sent a segment one byte before its next sequence number (Wireshark: \
             Keep-Alive) while bytes were still unacknowledged: the connection was not idle, so \
             it is not an SO_KEEPALIVE probe"
        ),
        (Flag::KeepAlive, _) => format!(
            "the {sender} sent a keep-alive (a segment one byte before its next sequence number) on an \
             idle connection to check that the {receiver} is still there (SO_KEEPALIVE)"
        ),
        _ => format!("the {sender} answered a keep-alive: it is still there"),
    }
}
