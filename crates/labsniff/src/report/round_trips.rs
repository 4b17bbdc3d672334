//! "Round trips": the classic TCP-lab figures of each direction that carried data
//! ([`crate::event::RoundTrips`]): RTT samples and RFC 6298's estimate where the
//! capture was made at the data's sender (elsewhere an `ack_rtt` is the receiver's
//! time to acknowledge, not a round trip), throughput, the receiver's smallest window
//! and its ACKs.

use super::{words, Style};
use crate::event::{CapturePoint, ConversationRecord, Dir, RoundTrips};

/// Data under this many bytes says little about throughput or ACKs per segment.
const BULK_BYTES: u64 = 10_000;

/// The section (empty when no direction has anything meaningful to say).
pub fn section(c: &ConversationRecord, style: &Style) -> String {
    let Some(t) = &c.tcp else {
        return String::new();
    };
    let mut lines = Vec::new();
    for (dir, trips) in [
        (Dir::ClientToServer, &t.round_trips_c2s),
        (Dir::ServerToClient, &t.round_trips_s2c),
    ] {
        let Some(r) = trips else { continue };
        let bytes = match dir {
            Dir::ClientToServer => c.bytes_c2s,
            Dir::ServerToClient => c.bytes_s2c,
        };
        lines.extend(rtt(dir, r, t.capture_point));
        if bytes >= BULK_BYTES {
            lines.extend(throughput(dir, r, bytes));
            lines.extend(window(dir, r));
            lines.extend(acks(dir, r));
        }
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut out = words::section_title("Round trips", style);
    for line in lines {
        out.push_str(&words::bullet(&line));
    }
    out
}

/// The RTT samples and RFC 6298's estimate, where they are round trips.
fn rtt(dir: Dir, r: &RoundTrips, point: CapturePoint) -> Option<String> {
    let (sender, receiver) = (dir.sender(), dir.reverse().sender());
    if r.rtt_samples == 0 {
        return None;
    }
    if point.at_sender_of(dir.reverse()) {
        return Some(format!(
            "the {sender}'s data: this capture was made at the {receiver}, so Wireshark's \
             tcp.analysis.ack_rtt of it ({} up to {}) is how long the {receiver} took to \
             acknowledge it, not a round trip; a capture at the {sender} measures round trips",
            words::count(r.rtt_samples, "sample"),
            words::duration(r.rtt_max?)
        ));
    }
    if !point.at_sender_of(dir) {
        // Unknown or between the hosts: the samples are neither clearly.
        return None;
    }
    let (srtt, dev, rto, linux) = (r.estimated_rtt?, r.dev_rtt?, r.rto?, r.rto_linux?);
    let karn = if r.rtt_skipped > 0 {
        format!(
            " ({} more left out by Karn's rule: an ACK of data that was retransmitted, or sent \
             before a retransmission, does not say which copy it answers)",
            r.rtt_skipped
        )
    } else {
        String::new()
    };
    let floor = if linux > rto {
        format!(
            "; Linux keeps at least 200 ms (TCP_RTO_MIN) in place of 4·DevRTT, so its own \
             timeout here is about {}",
            words::duration(linux)
        )
    } else {
        String::new()
    };
    Some(format!(
        "the {sender}'s data: {} from Wireshark's tcp.analysis.ack_rtt{karn}, from {} to {}; \
         RFC 6298 over them (α = 1/8, β = 1/4): EstimatedRTT {}, DevRTT {}, so the \
         retransmission timeout EstimatedRTT + 4·DevRTT = {}{floor}",
        words::count(r.rtt_samples, "RTT sample"),
        words::duration(r.rtt_min?),
        words::duration(r.rtt_max?),
        words::duration(srtt),
        words::duration(dev),
        words::duration(rto),
    ))
}

fn throughput(dir: Dir, r: &RoundTrips, bytes: u64) -> Option<String> {
    let rate = r.throughput?;
    Some(format!(
        "the {}'s throughput: {} bytes in {} (from its first to its last data segment), {} \
         bytes/s ({:.2} Mbit/s)",
        dir.sender(),
        words::thousands(bytes),
        words::duration(bytes as f64 / rate),
        words::thousands(rate.round() as u64),
        rate * 8.0 / 1e6
    ))
}

fn window(dir: Dir, r: &RoundTrips) -> Option<String> {
    let (sender, receiver) = (dir.sender(), dir.reverse().sender());
    let (min, frame) = (r.min_window?, r.min_window_frame?);
    let limited = if r.window_full > 0 {
        format!(
            "it limited the {sender}: {} filled the window (Wireshark: TCP Window Full)",
            words::count(u64::from(r.window_full), "segment")
        )
    } else {
        format!("no segment of the {sender} filled the window (no TCP Window Full)")
    };
    Some(format!(
        "the {receiver}'s smallest advertised window: {} bytes (frame {frame}); {limited}",
        words::thousands(u64::from(min))
    ))
}

fn acks(dir: Dir, r: &RoundTrips) -> Option<String> {
    if r.acks == 0 {
        return None;
    }
    let receiver = dir.reverse().sender();
    let per_ack = r.bytes_acked as f64 / r.acks as f64;
    let mut text = format!(
        "the {receiver}'s {} moved its acknowledgement number {} bytes forward (a FIN counts \
         one): {} bytes per ACK on average",
        words::count(r.acks, "ACK"),
        words::thousands(r.bytes_acked),
        words::thousands(per_ack.round() as u64)
    );
    if let Some(full) = r.full_segment.filter(|f| *f > 0) {
        let segments = per_ack / f64::from(full);
        text.push_str(&format!(
            ", {segments:.1} full segments of {} bytes",
            words::thousands(u64::from(full))
        ));
        if (1.6..=2.4).contains(&segments) {
            text.push_str(
                ": about one ACK per two full segments, as delayed ACK does (RFC 9293: an ACK \
                 for at least every second full-sized segment)",
            );
        }
    }
    Some(text)
}
