//! The words about a whole run: the last line of every human output (frames, packets,
//! conversations, messages, diagnostics, drops), and the line for a capture with no lab
//! traffic (which port was looked for, which ports were there instead, the `--port` to
//! try).

use super::count;
use crate::event::Summary;
use std::fmt::Write as _;

/// The last line of every human output: "9 frames, 9 lab packets, 1 conversation, ...".
pub fn line(s: &Summary) -> String {
    let mut line = format!(
        "{}, {}, {}, {}, {}",
        count(s.frames, "frame"),
        count(s.lab_packets, "lab packet"),
        count(s.conversations, "conversation"),
        count(s.messages, "message"),
        count(s.diagnostics, "diagnostic")
    );
    if let Some(d) = s.dropped {
        let _ = write!(line, ", {d} dropped by the kernel");
    }
    if let Some(q) = s.queue_dropped {
        let _ = write!(line, ", {q} dropped by labsniff's queue");
    }
    if s.interrupted {
        line.push_str(" (interrupted)");
    }
    line
}

/// "no TCP or UDP traffic to or from port 5005; the capture has TCP port 80 (12
/// conversations), UDP port 53 (3); try --port 80".
pub fn no_lab_traffic(s: &Summary) -> String {
    let mut line = format!("no TCP or UDP traffic to or from port {}", s.lab_port);
    if s.frames == 0 {
        line.push_str(": the capture holds no frames");
        return line;
    }
    let Some(first) = s.other_ports.first() else {
        line.push_str(", nor on any other port: the capture holds no TCP or UDP packet that labsniff could decode");
        return line;
    };
    line.push_str("; the capture has ");
    for (i, p) in s.other_ports.iter().enumerate() {
        if i > 0 {
            line.push_str(", ");
        }
        let unit = match (i, p.conversations) {
            (0, 1) => " conversation",
            (0, _) => " conversations",
            _ => "",
        };
        line.push_str(&format!(
            "{} port {} ({}{unit})",
            p.transport.as_str().to_uppercase(),
            p.port,
            p.conversations
        ));
    }
    if s.other_ports.len() == crate::port_census::TOP {
        line.push_str(" and maybe more");
    }
    line.push_str(&format!("; try --port {}", first.port));
    if s.port_choice.how == crate::port_choice::How::NoneFound {
        line.push_str(" (--port auto: none of them carries text, v2 or v3)");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{PortCount, TransportKind};

    fn summary(frames: u64, ports: &[(TransportKind, u16, u64)]) -> Summary {
        Summary {
            frames,
            lab_packets: 0,
            conversations: 0,
            messages: 0,
            diagnostics: 0,
            interrupted: false,
            dropped: None,
            queue_dropped: None,
            queue_peak_batches: None,
            link_type: Some("ethernet"),
            lab_port: 5005,
            other_ports: ports
                .iter()
                .map(|&(transport, port, conversations)| PortCount {
                    transport,
                    port,
                    conversations,
                })
                .collect(),
            port_choice: crate::port_choice::PortChoice::plain(crate::port_choice::How::Default),
        }
    }

    #[test]
    fn names_the_lab_port_the_ports_present_and_what_to_try() {
        assert_eq!(
            no_lab_traffic(&summary(
                40,
                &[(TransportKind::Tcp, 80, 12), (TransportKind::Udp, 53, 3)]
            )),
            "no TCP or UDP traffic to or from port 5005; the capture has TCP port 80 (12 conversations), UDP port 53 (3); try --port 80"
        );
        assert_eq!(
            no_lab_traffic(&summary(4, &[(TransportKind::Udp, 6000, 1)])),
            "no TCP or UDP traffic to or from port 5005; the capture has UDP port 6000 (1 conversation); try --port 6000"
        );
        assert_eq!(
            no_lab_traffic(&summary(0, &[])),
            "no TCP or UDP traffic to or from port 5005: the capture holds no frames"
        );
        assert!(no_lab_traffic(&summary(3, &[])).contains("nor on any other port"));
    }
}
