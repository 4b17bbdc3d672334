//! labsniff's words for people, by subject; the renderers arrange them.
//!
//! - [`summary`]: the run as a whole (the last line, no lab traffic);
//! - [`diagnostic`]: each diagnostic's sentence, once for the report, the JSON lines'
//!   `text`, the plain stream, pcapng comments and grading (its subjects: [`link`],
//!   `fragments`, `dissect`);
//! - the report's subjects: [`ports`] (ephemeral ranges, the lab port's choice),
//!   [`states`] (Zeek's connection states), [`messages`] (a message's label, payloads,
//!   a conversation's title), [`filters`] (Wireshark display filters),
//!   [`concurrency`] (how the server served its clients), [`layout`] (bullets,
//!   wrapping, columns) and [`numbers`] (relative times);
//! - here: the phrasing rules every view shares (counts, durations, frame lists,
//!   thousands, transport names).
//!
//! `report::words` is this module plus the report's section titles (which need the
//! report's `Style`).

pub mod answers;
pub mod causes;
mod causes_net;
mod concurrency;
pub mod diagnostic;
mod dissect;
pub mod errors;
mod filters;
mod fragments;
mod layout;
pub mod link;
mod messages;
mod numbers;
pub mod peer;
mod ports;
mod states;
pub mod summary;
#[cfg(test)]
mod tests;
pub mod trace;

pub use concurrency::concurrency_note;
pub use dissect::detection_reason;
pub use filters::{conv_filter, stream_filter};
pub use layout::{bullet, bullet_into, columns_into, pad_from, wrap, wrap_into, wrap_under, WRAP};
pub use messages::{conv_title, message, message_into, payload, payload_into, PAYLOAD_SHOWN};
pub use numbers::relative;
pub use ports::{looks_ephemeral, port_choice, port_range, ports_range};
pub use states::state;

use crate::event::TransportKind;

use std::fmt::Write as _;

/// `n thing` / `n things`.
pub fn count(n: u64, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// A duration in seconds, rounded to the microsecond: `30 µs`, `1.250 ms`, `2.000 s`.
pub fn duration(seconds: f64) -> String {
    let mut out = String::new();
    duration_into(&mut out, seconds);
    out
}

/// [`duration`], appended to `out` (tables and listings write thousands of them).
pub fn duration_into(out: &mut String, seconds: f64) {
    let micros = (seconds * 1e6).round();
    // Writing into a String cannot fail.
    let _ = if micros < 1000.0 {
        write!(out, "{} µs", micros.max(0.0) as u64)
    } else if micros < 1e6 {
        write!(out, "{:.3} ms", micros / 1e3)
    } else {
        write!(out, "{:.3} s", micros / 1e6)
    };
}

/// `5000` as `5,000` (the one thousands separator of labsniff's words).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `TCP` / `UDP`.
pub fn transport(t: TransportKind) -> &'static str {
    match t {
        TransportKind::Tcp => "TCP",
        TransportKind::Udp => "UDP",
    }
}

/// Lists longer than this are written as ranges with a segment count.
const FRAMES_LISTED: usize = 6;
/// In a long list, frames at most this far apart share a range (the frames in between
/// carried the other direction's ACKs or other conversations' packets).
const RANGE_STEP: u64 = 10;
/// Ranges shown of a long list: the first few and the last.
const RANGES_SHOWN: usize = 6;

/// `frame 4` / `frames 4, 6` / `frames 4–6` (consecutive) / for long lists
/// `frames 8–106 (70 segments)`, with `, ` between ranges where the frames pause.
pub fn frames(list: &[u64]) -> String {
    frames_said(list, true)
}

/// [`frames`], appended to `out`; a single frame (most messages) without allocating.
pub fn frames_into(out: &mut String, list: &[u64]) {
    match list {
        [one] => {
            out.push_str("frame ");
            out.push_str(itoa::Buffer::new().format(*one));
        }
        _ => out.push_str(&frames_said(list, true)),
    }
}

/// [`frames`] without the segment count (for sentences that give it
/// already).
pub fn frames_span(list: &[u64]) -> String {
    frames_said(list, false)
}

/// `frame 6`, `frames 6, 9, 14`, `frames 6, 9, 14 and 3 more` (`total` frames in all,
/// `list` the first of them): every frame of a cause's sentence is written this way.
pub fn frames_by_number(list: &[u64], total: u64) -> String {
    let more = total.saturating_sub(list.len() as u64);
    let mut out = match list {
        [] => "no frame".to_string(),
        [one] => format!("frame {one}"),
        _ => {
            let names: Vec<String> = list.iter().map(u64::to_string).collect();
            format!("frames {}", names.join(", "))
        }
    };
    if more > 0 {
        out.push_str(&format!(" and {more} more"));
    }
    out
}

/// Whether [`frames`] writes `list` in the counted-range form, `frames 8–106 (70
/// segments)` (the form the report's legend explains). [`frames_said`] counts when the
/// list is long or its ranges are not exact; a list of at most `FRAMES_LISTED` frames
/// is cut into runs of consecutive frames only, whose ranges are always exact, so the
/// form comes down to the list's length.
pub fn frames_counted(list: &[u64]) -> bool {
    list.len() > FRAMES_LISTED
}

/// A list of frames: `frame 3`, `frames 3–5`, `frames 3, 7, 9`, long lists as ranges
/// (`counted`: with the segment count when the ranges are not exact).
pub fn frames_said(list: &[u64], counted: bool) -> String {
    let Some(&first) = list.first() else {
        return "no frame".to_string();
    };
    if list.len() == 1 {
        return format!("frame {first}");
    }
    let long = list.len() > FRAMES_LISTED;
    let step = if long { RANGE_STEP } else { 1 };
    let mut runs: Vec<(u64, u64, usize)> = Vec::new();
    for &f in list {
        match runs.last_mut() {
            Some((_, end, n)) if f > *end && f - *end <= step => {
                *end = f;
                *n += 1;
            }
            _ => runs.push((f, f, 1)),
        }
    }
    let exact = runs.iter().all(|&(a, b, n)| b - a + 1 == n as u64);
    let run = |&(a, b, n): &(u64, u64, usize)| match n {
        1 => a.to_string(),
        2 if b == a + 1 => format!("{a}, {b}"),
        _ => format!("{a}–{b}"),
    };
    let mut parts: Vec<String> = if runs.len() > RANGES_SHOWN {
        let mut p: Vec<String> = runs.iter().take(RANGES_SHOWN - 1).map(run).collect();
        p.push("…".to_string());
        p.extend(runs.last().map(run));
        p
    } else {
        runs.iter().map(run).collect()
    };
    if runs.len() == 1 && exact && !long {
        return format!("frames {}", parts.remove(0));
    }
    let listed = parts.join(", ");
    if counted && (long || !exact) {
        format!("frames {listed} ({} segments)", list.len())
    } else {
        format!("frames {listed}")
    }
}
