//! The network-side causes (issue 23) on the netlab captures made for them, at both
//! capture points: `udp_port_unreachable`, `server_killed_mid_send`, `full_backlog`,
//! and the older `refused` and `lost_syns`.
//! - each `cause` JSON line: its code, evidence frames, certainty and the kind's fields;
//! - the frames against tshark where tshark can say them (`icmp_error`'s frames are
//!   `tshark -Y icmp`; the RST, the FIN and the SYNs by their flags), skipped with a
//!   printed reason when tshark is missing;
//! - the report: each "Causes the packets show" bullet is the JSON line's `text` and
//!   `filter`, its frames named one by one; the sentences these causes mended (the UDP
//!   port, "no echo", the table's state word; the lost-SYN sentence at each capture
//!   point) say what the facts say.
#![allow(clippy::unwrap_used)]

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;

use common::labsniff;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netlab")
        .join(name)
}

/// The fixtures checked: each scenario at both capture points.
const SCENARIOS: [&str; 5] = [
    "udp_port_unreachable",
    "server_killed_mid_send",
    "full_backlog",
    "refused",
    "lost_syns",
];

fn files() -> Vec<String> {
    SCENARIOS
        .iter()
        .flat_map(|s| [format!("{s}.client.pcap"), format!("{s}.server.pcap")])
        .collect()
}

/// The `cause` lines of `labsniff -r FILE --json`.
fn causes(name: &str) -> Vec<Value> {
    let path = fixture(name);
    let run = labsniff(&["-r", path.to_str().unwrap(), "--json"]);
    assert_eq!(run.status, 0, "{name}: {}", run.stderr);
    run.of_type("cause").into_iter().cloned().collect()
}

/// A cause line without its words (`text`, `filter`), to compare as facts.
fn facts(c: &Value) -> Value {
    let mut c = c.clone();
    let m = c.as_object_mut().unwrap();
    m.remove("text");
    m.remove("filter");
    c
}

fn frames(c: &Value) -> Vec<u64> {
    c["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_u64().unwrap())
        .collect()
}

/// The report of `labsniff -r FILE`, as (section heading, bullet) pairs, each
/// bullet's wrapped lines joined with one space; and the report's lines.
fn report(name: &str) -> (Vec<(String, String)>, String) {
    report_at(fixture(name))
}

fn report_at(path: PathBuf) -> (Vec<(String, String)>, String) {
    let name = path.display().to_string();
    let run = labsniff(&["-r", path.to_str().unwrap()]);
    assert_eq!(run.status, 0, "{name}: {}", run.stderr);
    let mut bullets: Vec<(String, String)> = Vec::new();
    let mut section = String::new();
    let mut open = false;
    for line in run.stdout.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if let Some(b) = text.strip_prefix("- ") {
            bullets.push((section.clone(), b.to_string()));
            open = true;
        } else if open && indent >= 6 && !text.is_empty() {
            let last = &mut bullets.last_mut().unwrap().1;
            last.push(' ');
            last.push_str(text);
        } else {
            open = false;
            if !text.is_empty() && indent <= 2 {
                section = text.to_string();
            }
        }
    }
    (bullets, run.stdout)
}

fn bullets_in<'a>(bullets: &'a [(String, String)], section: &str) -> Vec<&'a str> {
    bullets
        .iter()
        .filter(|(s, _)| s == section)
        .map(|(_, b)| b.as_str())
        .collect()
}

fn tshark_ok() -> bool {
    Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `tshark -r FILE -Y FILTER -T fields -e frame.number`.
fn tshark_frames(name: &str, filter: &str) -> Vec<u64> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(fixture(name))
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .unwrap();
    assert!(out.status.success(), "tshark -Y {filter} on {name}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

#[test]
fn cause_lines_have_the_facts_the_packets_show() {
    for point in ["client", "server"] {
        // ICMP port unreachable from the server's host for each of the three datagrams.
        let name = format!("udp_port_unreachable.{point}.pcap");
        let got: Vec<Value> = causes(&name).iter().map(facts).collect();
        assert_eq!(
            got,
            vec![json!({
                "type": "cause", "conv": 1, "tcp_stream": null, "dir": "c2s",
                "frames": [2, 4, 6], "certainty": "proved", "code": "icmp_error",
                "icmp": "port_unreachable", "icmp_type": 3, "icmp_code": 3,
                "reporter": "10.55.0.1", "from_destination": true, "answered": [1, 3, 5],
                "errors": 3, "mtu": null, "transport": "udp", "sender_port": 48313,
                "server_silent": false
            })],
            "{name}"
        );
        // The server's FIN (10), the client's data after it (12), the RST (13).
        let name = format!("server_killed_mid_send.{point}.pcap");
        let got: Vec<Value> = causes(&name).iter().map(facts).collect();
        assert_eq!(
            got,
            vec![json!({
                "type": "cause", "conv": 1, "tcp_stream": 0, "dir": "s2c",
                "frames": [12, 13], "certainty": "proved", "code": "rst_cause",
                "reason": "data_after_close", "rst": 13, "trigger": 12, "fin": 10,
                "unread": null
            })],
            "{name}"
        );
        // Nothing listening: RST,ACK (2) answers the SYN (1).
        let name = format!("refused.{point}.pcap");
        let got: Vec<Value> = causes(&name).iter().map(facts).collect();
        assert_eq!(
            got,
            vec![json!({
                "type": "cause", "conv": 1, "tcp_stream": 0, "dir": "s2c",
                "frames": [1, 2], "certainty": "proved", "code": "rst_cause",
                "reason": "no_socket", "rst": 2, "trigger": 1, "fin": null, "unread": null
            })],
            "{name}"
        );
    }

    // full_backlog: the third client's first data held until accept(), the fourth
    // client's SYNs left unanswered; the frame numbers differ only in the SYN-ACK and
    // the first copy of the data (the server's capture orders them otherwise).
    for (point, syn_ack, first_copy, held, waited_syn) in [
        ("client", 8, 12, 1.890043, 2.061082),
        ("server", 6, 14, 1.869724, 2.040744),
    ] {
        let name = format!("full_backlog.{point}.pcap");
        let got = causes(&name);
        assert_eq!(got.len(), 2, "{name}: {got:?}");
        let (data, syns) = (&got[0], &got[1]);
        assert_eq!(data["code"], "first_data_unacked", "{name}");
        assert_eq!(
            (data["conv"].as_u64(), data["tcp_stream"].as_u64()),
            (Some(3), Some(2))
        );
        assert_eq!(data["certainty"], "probable");
        assert_eq!(data["dir"], "c2s");
        assert_eq!(
            frames(data),
            vec![syn_ack, 9, first_copy, 16, 17, 18, 30, 31],
            "{name}"
        );
        assert_eq!(
            (
                data["syn_ack"].as_u64(),
                data["handshake_ack"].as_u64(),
                data["copies"].as_u64(),
                data["acked_by"].as_u64(),
            ),
            (Some(syn_ack), Some(9), Some(5), Some(31)),
            "{name}"
        );
        assert!((data["waited"].as_f64().unwrap() - held).abs() < 1e-6);
        assert_eq!(data["capture_point"], point);

        assert_eq!(syns["code"], "syn_resent", "{name}");
        assert_eq!(
            (syns["conv"].as_u64(), syns["tcp_stream"].as_u64()),
            (Some(4), Some(3))
        );
        assert_eq!(syns["certainty"], "probable");
        assert_eq!(frames(syns), vec![15, 19, 37, 38], "{name}");
        assert_eq!(
            (syns["syns"].as_u64(), syns["syn_ack"].as_u64()),
            (Some(3), Some(38))
        );
        assert!((syns["waited"].as_f64().unwrap() - waited_syn).abs() < 1e-6);
        assert_eq!(syns["capture_point"], point);
    }

    // lost_syns: the forwarder dropped the first two SYNs, so only the client's capture
    // shows them; the server saw one SYN and answered it (no cause there).
    let got: Vec<Value> = causes("lost_syns.client.pcap").iter().map(facts).collect();
    assert_eq!(
        got,
        vec![json!({
            "type": "cause", "conv": 1, "tcp_stream": 0, "dir": "c2s",
            "frames": [1, 2, 3, 4], "certainty": "probable", "code": "syn_resent",
            "syns": 3, "syn_ack": 4, "waited": 2.050749, "capture_point": "client"
        })]
    );
    assert!(causes("lost_syns.server.pcap").is_empty());
}

#[test]
fn cause_frames_agree_with_tshark() {
    if !tshark_ok() {
        skip_note!("skipped: tshark is not installed (the cause lines are checked without it)");
        return;
    }
    for name in files() {
        let got = causes(&name);
        // Every ICMP frame of the capture is an icmp_error's evidence, and no other.
        let mut icmp: Vec<u64> = got
            .iter()
            .filter(|c| c["code"] == "icmp_error")
            .flat_map(frames)
            .collect();
        icmp.sort_unstable();
        assert_eq!(
            icmp,
            tshark_frames(&name, "icmp"),
            "{name}: icmp_error frames"
        );
        for c in &got {
            match c["code"].as_str().unwrap() {
                "rst_cause" => {
                    let rst = c["rst"].as_u64().unwrap();
                    let s = c["tcp_stream"].as_u64().unwrap();
                    let resets =
                        tshark_frames(&name, &format!("tcp.stream eq {s} && tcp.flags.reset == 1"));
                    assert_eq!(resets, vec![rst], "{name}: the RST");
                    if let Some(fin) = c["fin"].as_u64() {
                        let fins = tshark_frames(
                            &name,
                            &format!(
                                "tcp.stream eq {s} && tcp.flags.fin == 1 && tcp.srcport == 5005"
                            ),
                        );
                        assert_eq!(fins, vec![fin], "{name}: the server's FIN");
                        let trigger = c["trigger"].as_u64().unwrap();
                        let data = tshark_frames(
                            &name,
                            &format!("tcp.stream eq {s} && tcp.len > 0 && frame.number > {fin}"),
                        );
                        assert_eq!(data, vec![trigger], "{name}: data after the FIN");
                    }
                }
                "syn_resent" => {
                    let s = c["tcp_stream"].as_u64().unwrap();
                    let syns = tshark_frames(
                        &name,
                        &format!("tcp.stream eq {s} && tcp.flags.syn == 1 && tcp.flags.ack == 0"),
                    );
                    let syn_ack = tshark_frames(
                        &name,
                        &format!("tcp.stream eq {s} && tcp.flags.syn == 1 && tcp.flags.ack == 1"),
                    );
                    let mut want = syns.clone();
                    want.push(syn_ack[0]);
                    assert_eq!(frames(c), want, "{name}: the SYNs, then the SYN-ACK");
                    assert_eq!(c["syns"].as_u64(), Some(syns.len() as u64));
                    // The cause's own filter shows those frames (and any later SYN-ACK).
                    let shown = tshark_frames(&name, c["filter"].as_str().unwrap());
                    assert!(want.iter().all(|f| shown.contains(f)), "{name}: filter");
                }
                // icmp_error, rst_cause, first_data_unacked: the filter shows just them.
                _ => {
                    let shown = tshark_frames(&name, c["filter"].as_str().unwrap());
                    assert_eq!(shown, frames(c), "{name}: the cause's filter");
                }
            }
        }
    }
}

#[test]
fn report_says_each_cause_with_its_frames_and_filter() {
    for name in files() {
        let (bullets, _) = report(&name);
        let said = bullets_in(&bullets, "Causes the packets show");
        let want: Vec<String> = causes(&name)
            .iter()
            .map(|c| {
                format!(
                    "{} (Wireshark filter: {})",
                    c["text"].as_str().unwrap(),
                    c["filter"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(said, want, "{name}");
        // Each names its frames one by one, never as a range.
        for c in causes(&name) {
            let list: Vec<String> = frames(&c).iter().map(u64::to_string).collect();
            let head = if list.len() == 1 {
                format!("frame {}: ", list[0])
            } else {
                format!("frames {}: ", list.join(", "))
            };
            assert!(
                c["text"].as_str().unwrap().starts_with(&head),
                "{name}: {head}"
            );
        }
    }
}

#[test]
fn udp_sentences_name_the_icmp_port_unreachable() {
    for point in ["client", "server"] {
        let name = format!("udp_port_unreachable.{point}.pcap");
        let (bullets, text) = report(&name);
        // The table's first row: two lines under its title (the report opens with "In short").
        let table = text
            .lines()
            .skip_while(|l| *l != "Conversations")
            .nth(2)
            .unwrap();
        assert!(
            table.contains("S0 (no reply, ICMP port unreachable)"),
            "{name}: {table}"
        );
        assert_eq!(
            bullets_in(&bullets, "Ports")[1],
            "server 10.55.0.1:5005: the port the client sent to; its host answered with ICMP port \
             unreachable (3 errors from frame 2), so nothing was bound to that port there at that \
             time (see the causes below)"
        );
        assert_eq!(
            bullets_in(&bullets, "Echoes"),
            vec![
                "the server sent nothing back: no echo. What came back was 3 ICMP port unreachable \
                 errors (from frame 2) from the server's host: nothing was bound to the port there \
                 when those datagrams arrived, so no program received them (see the causes above)"
            ]
        );
        assert_eq!(
            bullets_in(&bullets, "Causes the packets show"),
            vec![
                "frames 2, 4, 6: 3 ICMP \"port unreachable\" (type 3, code 3) from 10.55.0.1 (the \
                 destination host itself) answer the client's datagrams in frames 1, 3, 5: nothing \
                 was bound to that UDP port on that host when they arrived (the server was not \
                 running yet, had stopped, or bound another port). A connected UDP socket (Python \
                 connect(), then send() and recv()) is told: its next call raises \
                 ConnectionRefusedError; an unconnected one (sendto() and recvfrom()) is not, and \
                 recvfrom() just waits. The capture cannot tell which the client used (Wireshark \
                 filter: icmp.type == 3 && icmp.code == 3 && udp.port == 48313)"
            ]
        );
        let legend = bullets_in(&bullets, "Legend");
        assert!(
            legend[0].ends_with(
                "\"ICMP port unreachable\" in the table: the server's host answered the datagrams \
                 with ICMP port unreachable errors (not a reply from a program): nothing was bound \
                 to the port there"
            ),
            "{name}: {legend:?}"
        );
        assert!(!text.contains("nothing came back"), "{name}");
    }
    // Without ICMP the old words stay: udp_no_reply's server printed, answered nothing.
    let (bullets, text) = report("udp_no_reply.client.pcap");
    assert!(text.contains("S0 (no reply)"));
    assert!(!text.contains("ICMP"));
    assert_eq!(
        bullets_in(&bullets, "Echoes"),
        vec!["the server sent nothing back: no echo"]
    );
}

#[test]
fn lost_syn_sentence_follows_the_syn_resent_fact() {
    let syn_bullet = |name: &str| -> String {
        let (bullets, _) = report(name);
        bullets_in(&bullets, "Loss, retransmission and flow control")
            .into_iter()
            .find(|b| {
                b.starts_with("the client sent its SYN 3 times (frames")
                    || b.starts_with("the client's SYN arrived 3 times (frames")
            })
            .unwrap_or_else(|| panic!("{name}: no SYN sentence"))
            .to_string()
    };
    // At the server the SYNs were captured arriving: not lost, dropped there.
    let at_server = syn_bullet("full_backlog.server.pcap");
    assert!(
        at_server.contains(
            "Its kernel resent it because no SYN-ACK came back: this capture at the server shows \
             the SYNs arriving, so they were not lost on the network; the server's host dropped \
             those it did not answer (see the causes below)"
        ),
        "{at_server}"
    );
    assert!(!at_server.contains("was lost"), "{at_server}");
    // At the server only the SYNs that arrived are counted.
    assert!(
        at_server.starts_with("the client's SYN arrived 3 times (frames 15, 19, 37)"),
        "{at_server}"
    );
    // At the client the capture cannot tell: both, in the same words, at both fixtures.
    for name in ["full_backlog.client.pcap", "lost_syns.client.pcap"] {
        let at_client = syn_bullet(name);
        assert!(
            at_client.contains(
                "because no SYN-ACK came back: the SYN or the SYN-ACK was lost, or the server's \
                 host dropped the SYN (see the causes below)"
            ),
            "{name}: {at_client}"
        );
        assert!(
            at_client.contains("The waits for unanswered SYNs say nothing about the round trip"),
            "{name}"
        );
    }
    // keepalive-s9 at the server: the server's SYN-ACK (26), then the SYN again (28):
    // that SYN-ACK was lost on the way back; the client waited longer than 37 µs.
    let (bullets, _) = report_at(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tcpflags/keepalive-s9-server.pcap"),
    );
    let lost_answer = bullets_in(&bullets, "Loss, retransmission and flow control")
        .into_iter()
        .find(|b| b.starts_with("the client's SYN arrived 2 times (frames 25, 28)"))
        .unwrap()
        .to_string();
    assert!(
        lost_answer.contains(
            "Its kernel resent it because no SYN-ACK reached it: this capture shows the server's \
             SYN-ACK (frame 26) and then the SYN again, so that SYN-ACK was lost on the way to the \
             client"
        ),
        "{lost_answer}"
    );
    assert!(
        lost_answer.contains(
            "the SYN-ACK (frame 26) came 37 µs after the first SYN captured here; it did not reach \
             the client, whose connect() blocked until a later SYN-ACK did"
        ),
        "{lost_answer}"
    );
    // The server's capture of lost_syns shows one SYN, answered: nothing to say.
    let (bullets, _) = report("lost_syns.server.pcap");
    assert!(bullets_in(&bullets, "Loss, retransmission and flow control").is_empty());
}

#[test]
fn rst_and_backlog_bullets_read_true() {
    for point in ["client", "server"] {
        let (bullets, _) = report(&format!("server_killed_mid_send.{point}.pcap"));
        assert_eq!(
            bullets_in(&bullets, "Causes the packets show"),
            vec![
                "frames 12, 13: the server's RST (frame 13) answers the client's data in frame 12, \
                 which arrived after the server had closed its socket (its FIN, frame 10): the \
                 server's program exited or called close() while the client was still sending, so \
                 its kernel refused the data; from the FIN on, the client's recv() returns b'', and \
                 on Linux its next send() raises BrokenPipeError (the RST came while its socket was \
                 half-closed) (Wireshark filter: frame.number in {12, 13})"
            ]
        );
        let (bullets, _) = report(&format!("refused.{point}.pcap"));
        assert_eq!(
            bullets_in(&bullets, "Causes the packets show"),
            vec![
                "frames 1, 2: the server's RST,ACK (frame 2) answers the client's SYN (frame 1): no \
                 socket listened on that port (a closed port; a filtered one answers with ICMP or \
                 not at all), unless a firewall rejected the SYN with a reset (iptables REJECT \
                 --reject-with tcp-reset), which looks the same; the client's connect() raised \
                 ConnectionRefusedError (Wireshark filter: frame.number in {1, 2})"
            ]
        );
    }
    let (bullets, _) = report("full_backlog.server.pcap");
    let said = bullets_in(&bullets, "Causes the packets show");
    assert_eq!(said.len(), 2);
    assert!(said[0].starts_with(
        "frames 6, 9, 14, 16, 17, 18, 30, 31: the server answered the SYN (frame 6) and the client \
         completed the handshake (frame 9), but the client's first data was sent 5 times with no \
         acknowledgement for 1.870 s until frame 31: probably the server's accept queue was full."
    ));
    assert!(said[0].contains(
        "this capture at the server shows every copy arriving, so the network did not lose them"
    ));
    assert!(said[1].starts_with(
        "frames 15, 19, 37, 38: 3 SYNs of the client were captured arriving at the server, before \
         the SYN-ACK in frame 38, 2.041 s after the first: the server's host dropped the earlier \
         ones after the capture point, so they were not lost on the network."
    ));
    let (bullets, _) = report("full_backlog.client.pcap");
    let said = bullets_in(&bullets, "Causes the packets show");
    assert!(said[0].contains(
        "a capture here cannot rule out that every copy was lost on the way; one at the server \
         shows whether they arrived"
    ));
    assert!(said[1].contains("a capture at the client cannot tell which"));
}
