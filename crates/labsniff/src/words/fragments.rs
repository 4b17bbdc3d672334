//! The words for IP reassembly: a conversation's first reassembled datagram
//! (`reassembled`), fragments that overlapped (`fragments_overlap`) and datagrams given
//! up (`fragments_dropped`), from the defragmenter's facts.

use super::{count, duration, frames_span, thousands, transport};
use crate::event::TransportKind;
use labfacts::defrag::{Datagram, DropReason, Dropped};

fn family(v6: bool) -> &'static str {
    if v6 {
        "IPv6"
    } else {
        "IPv4"
    }
}

fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{} bytes", thousands(n as u64))
    }
}

fn grouped_usize(n: usize) -> String {
    thousands(n as u64)
}

/// The MTU a fragment size shows: fragment data is a multiple of 8, so a sender with
/// MTU m sends fragments of m − 7 to m bytes (IPv6 over Ethernet: 1,496 of 1,500).
fn mtu(largest: usize) -> String {
    if (largest..=largest + 7).contains(&1500) {
        "MTU 1500".to_string()
    } else {
        format!(
            "fragments of up to {} bytes: MTU {largest} to {}",
            grouped_usize(largest),
            largest + 7
        )
    }
}

/// `reassembled` (no frame prefix: it starts with the fragments' frames).
pub fn reassembled(
    t: TransportKind,
    fragments: &[u64],
    ip_len: usize,
    payload: usize,
    dg: &Datagram,
    completed_in: u64,
) -> String {
    let name = transport(t);
    format!(
        "{} carried one {}-byte {} datagram ({name}, {} of payload) in {} ({}); \
         Wireshark shows it reassembled in frame {completed_in}: only the first fragment carries the \
         {name} header and its ports",
        frames_span(fragments),
        grouped_usize(ip_len),
        family(dg.key.is_v6()),
        bytes(payload),
        count(dg.fragments as u64, "fragment"),
        mtu(dg.largest_fragment),
    )
}

/// `fragments_overlap`, after "frame N: ".
pub fn overlap(t: TransportKind, fragments: &[u64], dg: &Datagram) -> String {
    format!(
        "the fragments of this {} datagram ({}) overlapped: {} arrived more \
         than once, {} of them with other contents; labsniff kept the first copy of each \
         byte, but Linux (4.19 and later) discards a datagram whose fragments overlap, so \
         the receiver may never have had this one",
        transport(t),
        frames_span(fragments),
        bytes(dg.overlap_bytes),
        grouped_usize(dg.differing_bytes),
    )
}

/// `fragments_dropped`, after "frame N: ".
pub fn dropped(gone: &Dropped, carried: Option<TransportKind>) -> String {
    let key = gone.key;
    let what = match (gone.ports, carried) {
        (Some((s, d)), Some(t)) => format!(", {} {s} → {d}", transport(t)),
        _ => String::new(),
    };
    let arrived = match gone.end {
        Some(end) => format!(
            "{} of its {} data bytes",
            grouped_usize(gone.bytes),
            grouped_usize(end)
        ),
        None => format!(
            "{} data bytes (its size is unknown: the last fragment never came)",
            grouped_usize(gone.bytes)
        ),
    };
    format!(
        "an {} datagram {} → {}{what} (IP id 0x{:x}) was given up: {}; \
         {arrived} had arrived in {} ({}), none of it decoded",
        family(key.is_v6()),
        key.src(),
        key.dst(),
        key.id(),
        reason(gone.reason, key.is_v6()),
        frames_span(&gone.frames),
        count(gone.frames.len() as u64, "fragment"),
    )
}

/// Why the defragmenter gave a datagram up.
fn reason(reason: DropReason, v6: bool) -> String {
    match reason {
        DropReason::Timeout { waited, timeout } => format!(
            "its other fragments did not arrive within {} s of the first ({} later; {})",
            timeout / 1_000_000,
            duration(waited as f64 / 1e6),
            if v6 {
                "RFC 8200's reassembly timeout is 60 s"
            } else {
                "Linux gives up after 30 s, net.ipv4.ipfrag_time"
            }
        ),
        DropReason::Overlap => {
            "a fragment overlapped bytes already received, and an IPv6 receiver discards such \
             a datagram (RFC 5722)"
                .to_string()
        }
        DropReason::TooBig { end, max } => format!(
            "a fragment reaches byte {}, past the {} an IP datagram can hold",
            grouped_usize(end),
            bytes(max)
        ),
        DropReason::PastEnd { end, known_end } => format!(
            "a fragment reaches byte {}, past the end its last fragment set ({})",
            grouped_usize(end),
            grouped_usize(known_end)
        ),
        DropReason::Inconsistent { end, known_end } => format!(
            "a last fragment puts its end at byte {}, where {} was known",
            grouped_usize(end),
            grouped_usize(known_end)
        ),
        DropReason::NotMultipleOf8 { len } => format!(
            "a fragment with more after it carries {}, not a multiple of 8",
            bytes(len)
        ),
        DropReason::Truncated { captured, wire } => format!(
            "the capture kept {} of a fragment's {} (snaplen), so it cannot be rebuilt",
            grouped_usize(captured),
            bytes(wire)
        ),
        DropReason::TooManyFragments { max } => {
            format!("it came in more than {} fragments", grouped_usize(max))
        }
        DropReason::TooManyDatagrams { max } => format!(
            "labsniff reassembles at most {} datagrams at once and this was the oldest",
            grouped_usize(max)
        ),
        DropReason::TooManyBytes { max } => format!(
            "labsniff holds at most {} MiB of fragments and this was the oldest datagram",
            max >> 20
        ),
        DropReason::CaptureEnded => "the capture ended before all its fragments".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtus_are_named() {
        assert_eq!(mtu(1500), "MTU 1500");
        assert_eq!(mtu(1496), "MTU 1500");
        assert_eq!(mtu(580), "fragments of up to 580 bytes: MTU 580 to 587");
    }
}
