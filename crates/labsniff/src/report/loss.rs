//! Loss, retransmission and flow control of one TCP conversation, in plain words with
//! frame numbers: what went missing and where (before or after the capture point), how
//! the sender recovered (fast retransmission after duplicate ACKs, or its timer), lost
//! SYNs and how long connect() waited, reordering, zero windows, keep-alives. Built
//! from Wireshark's per-frame flags (the `analysis` events) and the conversation
//! record; nothing is re-derived here.

use super::tcp_analysis::{analysis_text, lost_where, LINUX_RTO_MIN};
use super::{words, Style};
use crate::analysis::handshake::{self, SynSchedule};
use crate::analysis::recovery::DirectionRecovery;
use crate::analysis::Flag;
use crate::causes::{Cause, CauseKind};
use crate::event::{AnalysisEvent, CapturePoint, ConversationRecord, Dir, TcpDetails};
use std::fmt::Write as _;

/// Flagged frames explained one by one per conversation; the rest are summed up.
const EXPLAINED_MAX: usize = 12;

/// Whether anything of this section applies.
fn relevant(t: &TcpDetails, events: &[&AnalysisEvent]) -> bool {
    t.syn_retransmissions > 0 || !events.is_empty()
}

/// The "Loss, retransmission and flow control" section (empty when nothing happened).
pub fn section(
    c: &ConversationRecord,
    events: &[&AnalysisEvent],
    causes: &[&Cause],
    style: &Style,
) -> String {
    let Some(t) = &c.tcp else {
        return String::new();
    };
    if !relevant(t, events) {
        return String::new();
    }
    let mut out = String::new();
    if let Some(note) = lost_syns(t, syns_arrived(causes)) {
        out.push_str(&words::bullet(&note));
    }
    for dir in Dir::BOTH {
        let server_port = c.server.port();
        for note in direction_notes(t, events, dir, c.tcp_stream, server_port) {
            out.push_str(&words::bullet(&note));
        }
    }
    // The frames that lost, resent or stalled data, one by one, as Wireshark names
    // them (duplicate ACKs and window updates are summed up above).
    let notable: Vec<&&AnalysisEvent> = events.iter().filter(|e| notable(e) && !e.syn).collect();
    for e in notable.iter().take(EXPLAINED_MAX) {
        out.push_str(&words::bullet(&analysis_text(e)));
    }
    if notable.len() > EXPLAINED_MAX {
        out.push_str(&words::bullet(&format!(
            "... and {} more such frames (JSON lines of type \"analysis\" list every flagged frame)",
            notable.len() - EXPLAINED_MAX
        )));
    }
    // A flag that says nothing here (a window full, a window update: the round trips
    // and causes say those) leaves no heading over nothing.
    if out.is_empty() {
        return out;
    }
    out.insert_str(
        0,
        &words::section_title("Loss, retransmission and flow control", style),
    );
    out
}

/// Frames explained one by one: losses, resends, stalls.
fn notable(e: &AnalysisEvent) -> bool {
    use Flag::*;
    [
        Retransmission,
        OutOfOrder,
        LostSegment,
        AckLostSegment,
        ZeroWindow,
        ZeroWindowProbe,
        KeepAlive,
    ]
    .iter()
    .any(|f| e.flags.contains(*f))
}

/// `frame 7`, `frames 7, 9`, or for many: `20 frames, 74 to 141` (so the lists given
/// to `words::frames` have at most 4 frames, never its counted-range form).
fn span(list: &[u64]) -> String {
    match list {
        [first, .., last] if list.len() > 4 => {
            format!("{} frames, {first} to {last}", list.len())
        }
        _ => words::frames(list),
    }
}

/// Where the capture was made, and what the handshake times then measure.
pub(crate) fn capture_point_note(t: &TcpDetails) -> Option<String> {
    let (a, b) = (t.handshake_rtt?, t.syn_ack_to_ack?);
    let (a, b) = (words::duration(a), words::duration(b));
    Some(match t.capture_point {
        CapturePoint::Server => format!(
            "captured at the server: it answered the SYN after {a} (its own reply time), while the \
             client's ACK came {b} after the SYN-ACK (a full round trip seen from the server)"
        ),
        CapturePoint::Client => format!(
            "captured at the client: the SYN-ACK came {a} after the SYN (a full round trip), and the \
             client answered it after {b} (its own reply time)"
        ),
        CapturePoint::Between => format!(
            "captured between the hosts: SYN→SYN-ACK took {a} and SYN-ACK→ACK {b}, each a part of the \
             round trip"
        ),
        CapturePoint::Unknown => format!(
            "the handshake took {a} (SYN→SYN-ACK) and {b} (SYN-ACK→ACK): both too short to tell where \
             the capture was made (probably both programs on one host)"
        ),
    })
}

/// What [`capture_point_note`] says of a handshake's two times, without the times
/// (the rows give them): the same for every conversation captured at the same point.
pub(crate) fn capture_point_meaning(t: &TcpDetails) -> Option<&'static str> {
    t.handshake_rtt?;
    t.syn_ack_to_ack?;
    Some(match t.capture_point {
        CapturePoint::Server => {
            "captured at the server: the time from the SYN to the SYN-ACK is the server's own \
             reply time, while the client's ACK came a full round trip after the SYN-ACK"
        }
        CapturePoint::Client => {
            "captured at the client: the SYN-ACK came a full round trip after the SYN, and the \
             time from the SYN-ACK to the ACK is the client's own reply time"
        }
        CapturePoint::Between => {
            "captured between the hosts: SYN→SYN-ACK and SYN-ACK→ACK are each a part of the \
             round trip"
        }
        CapturePoint::Unknown => {
            "the two handshake times (SYN→SYN-ACK, SYN-ACK→ACK) are both too short to tell where \
             the capture was made (probably both programs on one host)"
        }
    })
}

/// Whether the `syn_resent` fact says the resent SYNs were captured arriving at the
/// server (`Some(true)`: the server's host dropped them, none was lost), or were seen
/// where the capture cannot tell (`Some(false)`); `None` without the fact.
fn syns_arrived(causes: &[&Cause]) -> Option<bool> {
    causes.iter().find_map(|c| match &c.kind {
        CauseKind::SynResent { capture_point, .. } => Some(*capture_point == CapturePoint::Server),
        _ => None,
    })
}

/// SYNs the client had to send again, and how long connect() waited; `arrived`: what
/// the `syn_resent` fact says of where they went ([`syns_arrived`]).
fn lost_syns(t: &TcpDetails, arrived: Option<bool>) -> Option<String> {
    if t.syn_retransmissions == 0 {
        return None;
    }
    let first = t.syn_attempts.first()?;
    let waits = handshake::syn_waits(t);
    let gaps: Vec<String> = waits.iter().map(|&w| words::duration(w)).collect();
    let frames: Vec<String> = t.syn_attempts.iter().map(|s| s.frame.to_string()).collect();
    let answer_lost = handshake::syn_ack_lost(t);
    // At the server, only the SYNs that reached it: the client may have sent more.
    let sent = if t.capture_point == CapturePoint::Server {
        "the client's SYN arrived"
    } else {
        "the client sent its SYN"
    };
    let mut text = format!(
        "{sent} {} times (frames {}), {} apart: {}. Its kernel resent it because {}; \
         after net.ipv4.tcp_syn_retries (6) retries connect() gives up with TimeoutError",
        t.syn_attempts.len(),
        frames.join(", "),
        gaps.join(", then "),
        syn_schedule(handshake::syn_schedule(&waits)),
        why_syns_resent(arrived, answer_lost)
    );
    syn_ack_timing(&mut text, t, first.ts, answer_lost.is_some());
    Some(text)
}

/// The retry schedule the waits between SYNs follow, in words.
fn syn_schedule(schedule: SynSchedule) -> &'static str {
    match schedule {
        SynSchedule::LinearStart => {
            "about 1 s each, as Linux 6.5 and later resend an unanswered SYN (every second for \
             the first 4 retries, net.ipv4.tcp_syn_linear_timeouts, then doubling)"
        }
        SynSchedule::Doubling => {
            "each wait twice the one before, as kernels before Linux 6.5 (and many other \
             systems) resend an unanswered SYN"
        }
        SynSchedule::Other => "a schedule that is neither Linux's linear start nor plain doubling",
    }
}

/// Why the client's kernel resent its SYN: from where the SYNs went (`arrived`) and a
/// SYN-ACK captured before a later SYN (`answer_lost`, its frame).
fn why_syns_resent(arrived: Option<bool>, answer_lost: Option<u64>) -> String {
    let lost_answer = |f: u64| {
        format!(
            "this capture shows the server's SYN-ACK (frame {f}) and then the SYN again, so that \
             SYN-ACK was lost on the way to the client"
        )
    };
    match (arrived, answer_lost) {
        (Some(true), Some(f)) => format!(
            "no SYN-ACK came back: this capture at the server shows the SYNs arriving, so they \
             were not lost on the network; the server's host dropped those it did not answer (see \
             the causes below); then {}",
            lost_answer(f)
        ),
        (_, Some(f)) => format!("no SYN-ACK reached it: {}", lost_answer(f)),
        (Some(true), None) => "no SYN-ACK came back: this capture at the server shows the SYNs \
                               arriving, so they were not lost on the network; the server's host \
                               dropped those it did not answer (see the causes below)"
            .to_string(),
        (Some(false), None) => "no SYN-ACK came back: the SYN or the SYN-ACK was lost, or the \
                                server's host dropped the SYN (see the causes below)"
            .to_string(),
        (None, None) => "no SYN-ACK came back (the SYN or the SYN-ACK was lost)".to_string(),
    }
}

/// When the SYN-ACK came (after the first SYN at `first_ts`) and what that says of how
/// long connect() blocked, appended to `text`.
fn syn_ack_timing(text: &mut String, t: &TcpDetails, first_ts: f64, answer_lost: bool) {
    let (Some(frame), Some(ts)) = (t.syn_ack_frame, t.syn_ack_ts) else {
        text.push_str("; no SYN-ACK was captured");
        return;
    };
    let _ = write!(
        text,
        "; the SYN-ACK (frame {frame}) came {} after the first SYN",
        words::duration(ts - first_ts)
    );
    if answer_lost {
        text.push_str(
            " captured here; it did not reach the client, whose connect() blocked until \
             a later SYN-ACK did",
        );
    } else if t.capture_point == CapturePoint::Client {
        text.push_str(", about how long the client's connect() blocked");
    } else {
        text.push_str(
            " (seen from this capture point; the client's connect() blocked about that long)",
        );
    }
    text.push_str(". The waits for unanswered SYNs say nothing about the round trip");
    if let Some(irtt) = t.irtt {
        let _ = write!(
            text,
            ": that is the initial RTT, {} (from the last SYN to the handshake's ACK)",
            words::duration(irtt)
        );
    }
}

/// What the flags of one direction add up to, in words: one note per kind of flag
/// that occurred, in a fixed order (lost, retransmitted, duplicate ACKs, out of order,
/// zero window, keep-alive).
fn direction_notes(
    t: &TcpDetails,
    events: &[&AnalysisEvent],
    dir: Dir,
    stream: Option<u64>,
    server_port: u16,
) -> Vec<String> {
    let of = Direction {
        dir,
        stream,
        server_port,
    };
    let r = DirectionRecovery::of(t, events, dir);
    [
        lost_note(&of, &r, t.capture_point),
        retransmitted_note(&of, &r),
        duplicate_ack_note(&of, &r),
        out_of_order_note(&of, &r),
        zero_window_note(&of, &r),
        keep_alive_note(&of, &r),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The direction a note is about, and what its Wireshark filter needs.
struct Direction {
    dir: Dir,
    stream: Option<u64>,
    server_port: u16,
}

impl Direction {
    fn sender(&self) -> &'static str {
        self.dir.sender()
    }

    fn receiver(&self) -> &'static str {
        match self.dir {
            Dir::ClientToServer => "server",
            Dir::ServerToClient => "client",
        }
    }

    /// The display filter that shows a note's frames in Wireshark.
    fn filter(&self, field: &str) -> String {
        let port = match self.dir {
            Dir::ClientToServer => "tcp.dstport",
            Dir::ServerToClient => "tcp.srcport",
        };
        let server_port = self.server_port;
        match self.stream {
            Some(n) => format!(
                " (Wireshark: tcp.stream eq {n} && tcp.analysis.{field} && {port} == {server_port})"
            ),
            None => format!(" (Wireshark: tcp.analysis.{field})"),
        }
    }
}

/// Segments after bytes the capture never showed, and where those bytes went missing.
fn lost_note(of: &Direction, r: &DirectionRecovery, point: CapturePoint) -> Option<String> {
    if r.lost == 0 {
        return None;
    }
    let marked = r.lost_after_capture_drop;
    let place = if marked >= r.lost {
        "the capture dropped frames here, so the capture missed those bytes, not the network"
            .to_string()
    } else if marked > 0 {
        format!(
            "{marked} of them follow frames the capture dropped (the capture dropped frames here, \
             not the network); for the others, {}",
            lost_where(of.dir, point)
        )
    } else {
        lost_where(of.dir, point)
    };
    Some(
        format!(
            "{} of the {} came after bytes the capture never showed (Wireshark: \"Previous segment \
             not captured\", {}): {place}",
            words::count(u64::from(r.lost), "segment"),
            of.sender(),
            span(&r.lost_frames)
        ) + &of.filter("lost_segment"),
    )
}

/// Retransmitted segments, and how the sender came to resend them (fast, timer,
/// spurious).
fn retransmitted_note(of: &Direction, r: &DirectionRecovery) -> Option<String> {
    if r.retransmitted == 0 {
        return None;
    }
    let (sender, receiver) = (of.sender(), of.receiver());
    let (fast, spurious, timer) = (r.fast, r.spurious, r.timer);
    let mut text = format!(
        "the {sender} retransmitted {} ({})",
        words::count(u64::from(r.retransmitted), "segment"),
        span(&r.retransmitted_frames)
    );
    let mut how = Vec::new();
    if fast > 0 {
        how.push(format!(
            "{fast} fast, right after the {receiver}'s duplicate ACKs asked again for the missing \
             bytes",
        ));
    }
    if timer > 0 {
        how.push(format!(
            "{timer} {} at least {} after the last new data, probably when its retransmission \
             timer ran out",
            if timer == 1 { "was" } else { "were" },
            words::duration(LINUX_RTO_MIN)
        ));
    }
    if spurious > 0 {
        how.push(format!(
            "{spurious} spurious: the {receiver} had already acknowledged those bytes"
        ));
    }
    if !how.is_empty() {
        let _ = write!(text, ": {}", how.join("; "));
    }
    if r.captured_at_sender {
        let _ = write!(
            text,
            ". Captured at the {sender}, the first copies were seen leaving: they (or their ACKs) \
             were lost after the capture point"
        );
    }
    text.push_str(&of.filter("retransmission"));
    Some(text)
}

/// Duplicate ACKs: the receiver asking again for the byte it waits for.
fn duplicate_ack_note(of: &Direction, r: &DirectionRecovery) -> Option<String> {
    let dups = r.duplicate_acks;
    if dups == 0 {
        return None;
    }
    let (sender, receiver) = (of.sender(), of.receiver());
    Some(
        format!(
            "the {sender} sent {} ({}): each repeats the last byte it is waiting for, which a receiver \
             does for every segment that arrives beyond a hole; with SACK it also says which later \
             bytes it has. Three of them (or SACK blocks showing a hole) make the {receiver} resend at once (fast retransmission)",
            words::count(u64::from(dups), "duplicate ACK"),
            span(&r.duplicate_ack_frames)
        ) + &of.filter("duplicate_ack"),
    )
}

/// Segments Wireshark marks out of order: resends when captured at their sender,
/// else probably reordering on the network.
fn out_of_order_note(of: &Direction, r: &DirectionRecovery) -> Option<String> {
    let ooo = r.out_of_order;
    if ooo == 0 {
        return None;
    }
    let sender = of.sender();
    let text =
        if r.captured_at_sender {
            format!(
            "Wireshark marks {} of the {sender} \"Out-Of-Order\" ({}): captured at the {sender} \
             itself, {} of missing bytes soon after later data, not reordering on the network (a \
             sender does not send out of order)",
            words::count(u64::from(ooo), "segment"),
            span(&r.out_of_order_frames),
            if ooo == 1 { "it is a resend" } else { "they are resends" }
        )
        } else {
            format!(
                "{} of the {sender} arrived after later ones (Wireshark: \"Out-Of-Order\", {}): \
             probably reordered by the network, or resent soon after a loss",
                words::count(u64::from(ooo), "segment"),
                span(&r.out_of_order_frames)
            )
        };
    Some(text + &of.filter("out_of_order"))
}

/// Zero windows the sender announced: its program was not reading.
fn zero_window_note(of: &Direction, r: &DirectionRecovery) -> Option<String> {
    let zero = r.zero_windows;
    if zero == 0 {
        return None;
    }
    let (sender, receiver) = (of.sender(), of.receiver());
    Some(
        format!(
            "the {sender} announced a zero window {} ({}): its receive buffer was full, probably \
             because its program was not reading; the {receiver} had to stop and probe",
            words::count(u64::from(zero), "time"),
            span(&r.zero_window_frames)
        ) + &of.filter("zero_window"),
    )
}

/// Keep-alive-shaped segments (Wireshark's `keep_alive`), as what they were: persist
/// probes into a zero window, keep-alives of an idle connection, or neither.
fn keep_alive_note(of: &Direction, r: &DirectionRecovery) -> Option<String> {
    let (sender, receiver) = (of.sender(), of.receiver());
    let mut parts = Vec::new();
    if r.persist_probes > 0 {
        parts.push(format!(
            "the {sender} sent {} while the {receiver}'s window was 0 ({}): segments with no new data, \
             one byte before its next sequence number, which Wireshark labels \"TCP Keep-Alive\"; \
             they are the persist timer asking whether the window has opened, not SO_KEEPALIVE",
            words::count(u64::from(r.persist_probes), "persist (zero-window) probe"),
            span(&r.persist_probe_frames)
        ));
    }
    if r.probes_not_idle > 0 {
        parts.push(format!(
            "the {sender} sent {} one byte before its next sequence number while bytes were still \
             unacknowledged and the window open ({}): Wireshark labels them \"TCP Keep-Alive\", \
             but the connection was not idle, so they are not SO_KEEPALIVE's",
            words::count(u64::from(r.probes_not_idle), "segment"),
            span(&r.probe_not_idle_frames)
        ));
    }
    if r.keep_alives > 0 {
        parts.push(format!(
            "the {sender} sent {} on the idle connection ({}): with everything acknowledged and \
             the window open, SO_KEEPALIVE checks that the peer is still there",
            words::count(u64::from(r.keep_alives), "keep-alive"),
            span(&r.keep_alive_frames)
        ));
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("; ") + &of.filter("keep_alive"))
}
