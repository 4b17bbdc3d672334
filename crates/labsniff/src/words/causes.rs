//! The words of each cause ([`labfacts::causes`]): one sentence (or a few) that
//! states what the packets prove, names the frames, and says "probably" and why for
//! what they only make likely. The report, JSON lines' `text`, pcapng comments and
//! the HTML page all say a cause with these functions.

mod flow;

use crate::causes::{Cause, CauseKind, Certainty};
use crate::event::{CapturePoint, Dir};

/// The cause's sentence, starting with its frames.
pub fn text(c: &Cause) -> String {
    let mut out = evidence(c);
    out.push_str(": ");
    out.push_str(&text_without_frames(c));
    out
}

/// The sentence without the leading frame list (a pcapng comment is on the frame).
pub fn text_without_frames(c: &Cause) -> String {
    if let Some(text) = super::causes_net::text(c) {
        return text;
    }
    match &c.kind {
        CauseKind::OverMss {
            mss,
            on_the_wire,
            segments,
            largest,
            capture_point,
        } => over_mss(
            c.dir,
            *mss,
            *on_the_wire,
            *segments,
            *largest,
            *capture_point,
        ),
        CauseKind::ZeroWindow { .. } => flow::zero_window(dir_of(c), &c.kind),
        CauseKind::NagleDelayedAck { .. } => flow::nagle(dir_of(c), &c.kind),
        _ => String::new(),
    }
}

/// The direction a cause is about (a TCP cause always has one).
fn dir_of(c: &Cause) -> Dir {
    c.dir.unwrap_or(Dir::ClientToServer)
}

/// A cause's evidence frames, each named by number (`frames 6, 9, 14`, or `frames 4, 9,
/// 12 and 60 more` when the cause kept only the first): a cause's frames are seldom
/// consecutive, and a range (`frames 6–18`) would take in other conversations' frames.
pub fn evidence(c: &Cause) -> String {
    super::frames_by_number(&c.frames, total(c))
}

/// How many frames show the cause (more than `frames` holds when it was cut).
fn total(c: &Cause) -> u64 {
    if let Some(n) = super::causes_net::total(c) {
        return n;
    }
    match &c.kind {
        CauseKind::OverMss { segments, .. } => *segments,
        CauseKind::ZeroWindow {
            stalls,
            ended,
            probes,
            ..
        } => u64::from(*stalls) + u64::from(*ended) + probes,
        CauseKind::NagleDelayedAck {
            evidence_frames, ..
        } => *evidence_frames,
        _ => c.frames.len() as u64,
    }
}

/// A display filter that shows the cause's frames in Wireshark.
pub fn filter(c: &Cause) -> String {
    if let Some(f) = super::causes_net::filter(c) {
        return f;
    }
    let shown = match &c.kind {
        CauseKind::OverMss { mss, .. } => format!("tcp.len > {mss}"),
        CauseKind::ZeroWindow { .. } => "(tcp.analysis.zero_window || tcp.analysis.window_update \
                                         || tcp.analysis.keep_alive || tcp.analysis.zero_window_probe)"
            .to_string(),
        CauseKind::NagleDelayedAck { .. } => frame_set(&c.frames),
        _ => String::new(),
    };
    match c.tcp_stream {
        Some(n) => format!("tcp.stream eq {n} && {shown}"),
        None => shown,
    }
}

/// `frame.number in {10, 11, 12}` (tshark 4.0 refuses the set without commas).
fn frame_set(frames: &[u64]) -> String {
    let list: Vec<String> = frames.iter().map(u64::to_string).collect();
    format!("frame.number in {{{}}}", list.join(", "))
}

/// Whether the packets prove it (`proved`) or make it probable.
pub fn certainty(c: &Cause) -> &'static str {
    match c.certainty {
        Certainty::Proved => "proved",
        Certainty::Probable => "probable",
    }
}

fn over_mss(
    dir: Option<Dir>,
    mss: u16,
    on_the_wire: u16,
    segments: u64,
    largest: u32,
    point: CapturePoint,
) -> String {
    let dir = dir.unwrap_or(Dir::ClientToServer);
    let (sender, receiver) = (dir.sender(), dir.reverse().sender());
    let head = format!(
        "{} of the {sender} {} larger than the MSS of {mss} bytes the {receiver} announced \
         (the largest: {largest} bytes), so they did not cross the network as captured",
        super::count(segments, "segment"),
        if segments == 1 { "is" } else { "are" },
    );
    let why = if point.at_sender_of(dir) {
        format!(
            "the capture was made on the sending host, before segmentation offload \
             (TSO/GSO) cut them into segments of at most {on_the_wire} bytes; a capture \
             at the {receiver} shows those instead (`ethtool -K IFACE tso off gso off` on \
             the {sender} makes the capture show what was sent)"
        )
    } else if point.at_sender_of(dir.reverse()) {
        format!(
            "the capture was made on the receiving host, after receive offload \
             (GRO/LRO) merged segments of at most {on_the_wire} bytes that arrived one by \
             one; a capture at the {sender} shows them as sent (`ethtool -K IFACE gro \
             off lro off` on the {receiver} makes the capture show what arrived)"
        )
    } else {
        format!(
            "offload did this: segmentation offload (TSO/GSO) on the sending host cuts \
             such segments into segments of at most {on_the_wire} bytes after a capture \
             there, or receive offload (GRO/LRO) on the receiving host merges them \
             before a capture there (the handshake's timings do not show which host \
             this capture was made on)"
        )
    };
    format!("{head}: {why}")
}
