//! The words of the flow-control and Nagle causes ([`CauseKind::ZeroWindow`],
//! [`CauseKind::NagleDelayedAck`]).

use crate::causes::CauseKind;
use crate::event::Dir;
use crate::words;

/// A receiver's zero window: who stopped whom, from which frame to which, how long,
/// the persist probes, and who was probably slow.
pub fn zero_window(dir: Dir, k: &CauseKind) -> String {
    let CauseKind::ZeroWindow {
        stalls,
        zero_windows,
        zero_frame,
        update_frame,
        window_update,
        stall,
        ended,
        stalled,
        probes,
        window_full,
    } = k
    else {
        return String::new();
    };
    let (sender, receiver) = (dir.sender(), dir.reverse().sender());
    let mut out = format!(
        "the {receiver} advertised a zero window (frame {zero_frame}; {} in all): its receive buffer \
         was full, so TCP flow control stopped the {sender}",
        words::count(*zero_windows, "frame"),
    );
    match (update_frame, stall) {
        (Some(update), Some(length)) => out.push_str(&format!(
            " until the {receiver}'s {} in frame {update}, {} later",
            if *window_update {
                "window update (Wireshark: TCP Window Update)"
            } else {
                "segment reopening the window"
            },
            words::duration(*length)
        )),
        _ => out.push_str(", and the window had not reopened when the capture ended"),
    }
    if *stalls > 1 {
        out.push_str(&format!(
            "; the window closed {stalls} times, {} in all for the {ended} that reopened",
            words::duration(*stalled)
        ));
    }
    if *probes > 0 {
        out.push_str(&format!(
            ". Meanwhile the {sender} sent {} (no new data, one byte before its next sequence \
             number; Wireshark labels them \"TCP Keep-Alive\"): its persist timer asking whether \
             the window had opened, not SO_KEEPALIVE",
            words::count(*probes, "persist probe")
        ));
    }
    if *window_full > 0 {
        out.push_str(&format!(
            ". The {sender}'s data filled the {receiver}'s window in {} (Wireshark: TCP Window Full)",
            words::count(*window_full, "segment")
        ));
    }
    out.push_str(&format!(
        ". Probably the {receiver}'s program was not calling recv() as fast as the data came \
         (the packets show only that its buffer was full, not why; a program busy elsewhere or \
         sleeping leaves the data in the buffer): the {receiver}, not the network, held the \
         {sender} back"
    ));
    out
}

/// Small segments held for the ACK of the one before: Nagle's algorithm against the
/// receiver's delayed ACK, and the cures.
pub fn nagle(dir: Dir, k: &CauseKind) -> String {
    let CauseKind::NagleDelayedAck {
        holds,
        small_frame,
        ack_frame,
        held_frame,
        hold,
        ack_wait,
        ack_delay,
        capture_point,
        ..
    } = k
    else {
        return String::new();
    };
    let (sender, receiver) = (dir.sender(), dir.reverse().sender());
    let at_sender = capture_point.at_sender_of(dir);
    let timing = if at_sender {
        format!(
            "the {receiver}'s pure ACK of small segment {small_frame} came {} after it (frame \
             {ack_frame}), and the next small segment (frame {held_frame}) left {} after that ACK",
            words::duration(*ack_wait),
            words::duration(hold - ack_wait)
        )
    } else {
        format!(
            "the {receiver} sent its pure ACK of small segment {small_frame} {} after it arrived \
             (frame {ack_frame}), and the next small segment (frame {held_frame}) arrived {} after \
             that ACK left, one round trip",
            words::duration(*ack_wait),
            words::duration(hold - ack_wait)
        )
    };
    let mut out = format!(
        "{} of the {sender} waited for the ACK of the small segment before it; the longest wait: \
         {timing} ({} from one small segment to the next). This is probably Nagle's \
         algorithm: while a small segment is unacknowledged, the {sender}'s kernel holds back the \
         next small one (the capture cannot see the program's send() calls, but nothing the \
         program could have answered arrived in between)",
        words::count(*holds, "small segment"),
        words::duration(*hold),
    );
    if let Some(delay) = ack_delay.filter(|d| *d >= 0.010) {
        let measured = if at_sender {
            " (the ACK's wait less the initial round trip)"
        } else {
            ""
        };
        out.push_str(&format!(
            ". The {receiver} held its ACK back up to {}{measured}: its delayed-ACK timer (Linux: \
             about 40 ms; a receiver with nothing to send back yet waits in case a reply can carry \
             the ACK), so a hold can last a round trip plus that delay",
            words::duration(delay)
        ));
    }
    out.push_str(&format!(
        ". Cures: set TCP_NODELAY on the {sender}'s socket (sock.setsockopt(socket.IPPROTO_TCP, \
         socket.TCP_NODELAY, 1)), or build the whole request first and send it with one sendall()"
    ));
    out
}
