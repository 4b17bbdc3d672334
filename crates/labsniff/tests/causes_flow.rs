//! Flow control, Nagle and offload causes on the netlab fixtures made for them, at both
//! capture points: the JSON `cause` lines (code, frames, certainty, the kind's facts),
//! the keep-alive kind of the probes, the round-trip facts, and the report's words
//! (the key lines, read against tshark's view of the same frames).
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netlab")
        .join(name)
}

fn run(name: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .arg("-r")
        .arg(fixture(name))
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn json(name: &str) -> Vec<Value> {
    run(name, &["--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["type"] == t).collect()
}

/// The report with its lines joined (words wrap at different places).
fn report(name: &str) -> String {
    run(name, &[])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn frames(v: &Value) -> Vec<u64> {
    v["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_u64().unwrap())
        .collect()
}

#[test]
fn zero_window_at_both_ends() {
    for (point, window_full) in [("client", 36), ("server", 1)] {
        let name = format!("zero_window.{point}.pcap");
        let lines = json(&name);
        let causes = of_type(&lines, "cause");
        assert_eq!(causes.len(), 1, "{name}");
        let c = causes[0];
        assert_eq!(c["code"], "zero_window");
        assert_eq!(c["certainty"], "probable");
        assert_eq!(c["dir"], "c2s");
        assert_eq!(frames(c), vec![23, 24, 26, 28, 30], "{name}");
        assert_eq!(c["zero_frame"], 23);
        assert_eq!(c["update_frame"], 30);
        assert_eq!(c["window_update"], true);
        assert_eq!(c["probes"], 3);
        assert_eq!(c["zero_windows"], 4);
        assert_eq!(c["window_full"], window_full, "{name}");
        assert!((c["stall"].as_f64().unwrap() - 2.959).abs() < 0.001);
        // The probes (tshark: keep_alive) are persist probes, said so.
        let probes: Vec<&Value> = of_type(&lines, "analysis")
            .into_iter()
            .filter(|a| {
                a["flags"]
                    .as_array()
                    .unwrap()
                    .contains(&"keep_alive".into())
            })
            .collect();
        assert_eq!(probes.len(), 3);
        assert!(probes
            .iter()
            .all(|a| a["keep_alive_kind"] == "zero_window_probe"));
        let r = report(&name);
        assert!(
            r.contains("the client sent 3 persist (zero-window) probes while the server's window was 0 (frames 24, 26, 28)"),
            "{r}"
        );
        assert!(!r.contains("on the idle connection"), "{name}");
        assert!(r.contains(
            "frames 23, 24, 26, 28, 30: the server advertised a zero window (frame 23; 4 frames in \
             all): its receive buffer was full, so TCP flow control stopped the client until the \
             server's window update (Wireshark: TCP Window Update) in frame 30, 2.959 s later"
        ));
        assert!(r.contains("Probably the server's program was not calling recv()"));
    }
}

#[test]
fn nagle_at_both_ends() {
    for (point, ack_wait) in [("client", 0.063468), ("server", 0.043113)] {
        let name = format!("nagle_two_sends.{point}.pcap");
        let lines = json(&name);
        let causes = of_type(&lines, "cause");
        assert_eq!(causes.len(), 1, "{name}");
        let c = causes[0];
        assert_eq!(c["code"], "nagle_delayed_ack");
        assert_eq!(c["certainty"], "probable");
        assert_eq!(c["holds"], 6);
        assert_eq!(c["evidence_frames"], 18);
        assert_eq!(
            (&c["small_frame"], &c["ack_frame"], &c["held_frame"]),
            (&15.into(), &16.into(), &17.into())
        );
        assert_eq!(c["ack_wait"], ack_wait, "{name}");
        assert_eq!(c["capture_point"], point);
        assert_eq!(
            frames(c),
            vec![4, 5, 6, 10, 11, 12, 15, 16, 17, 20, 21, 22, 25, 26, 27, 30]
        );
        let r = report(&name);
        assert!(r.contains(
            "6 small segments of the client waited for the ACK of the small segment before it"
        ));
        assert!(r.contains("This is probably Nagle's algorithm"));
        assert!(r.contains("its delayed-ACK timer (Linux: about 40 ms"));
        assert!(r.contains("set TCP_NODELAY on the client's socket"));
        assert!(r.contains("send it with one sendall()"));
    }
    let r = report("nagle_two_sends.client.pcap");
    assert!(r.contains(
        "the server's pure ACK of small segment 15 came 63.468 ms after it (frame 16), and the \
         next small segment (frame 17) left 30 µs after that ACK"
    ));
    let r = report("nagle_two_sends.server.pcap");
    assert!(r.contains(
        "the server sent its pure ACK of small segment 15 43.113 ms after it arrived (frame 16), \
         and the next small segment (frame 17) arrived 20.456 ms after that ACK left, one round trip"
    ));
}

#[test]
fn offload_at_the_sender_only() {
    let lines = json("offload_tso.client.pcap");
    let causes = of_type(&lines, "cause");
    assert_eq!(causes.len(), 1);
    let c = causes[0];
    assert_eq!(c["code"], "over_mss");
    assert_eq!(c["certainty"], "proved");
    assert_eq!(c["segments"], 21);
    assert_eq!(c["largest"], 2896);
    assert_eq!(c["on_the_wire"], 1448);
    assert_eq!(c["capture_point"], "client");
    assert_eq!(
        frames(c),
        vec![4, 5, 6, 7, 8, 10, 32, 38, 39, 40, 41, 42, 43, 44, 45, 47]
    );
    let r = report("offload_tso.client.pcap");
    assert!(r.contains(
        "frames 4, 5, 6, 7, 8, 10, 32, 38, 39, 40, 41, 42, 43, 44, 45, 47 and 5 more: 21 segments \
         of the client are larger than the MSS of 1460 bytes the server announced (the largest: \
         2896 bytes)"
    ));
    assert!(r.contains(
        "the capture was made on the sending host, before segmentation offload (TSO/GSO) cut them \
         into segments of at most 1448 bytes; a capture at the server shows those instead"
    ));
    // The server's capture: the same bytes in segments of at most 1,448 bytes, no cause.
    let lines = json("offload_tso.server.pcap");
    assert!(of_type(&lines, "cause").is_empty());
    let conv = of_type(&lines, "conversation")[0];
    assert_eq!(conv["tcp"]["largest_segment_c2s"], 1448);
}

#[test]
fn round_trips_where_they_are_round_trips() {
    let lines = json("zero_window.client.pcap");
    let t = &of_type(&lines, "conversation")[0]["tcp"];
    let r = &t["round_trips_c2s"];
    assert_eq!(r["rtt_samples"], 56);
    assert_eq!(r["rtt_skipped"], 0);
    assert_eq!(r["min_window"], 0);
    assert_eq!(r["min_window_frame"], 23);
    assert_eq!(r["window_full"], 36);
    assert_eq!(r["full_segment"], 1448);
    assert!(t["round_trips_s2c"].is_null(), "the server sent no data");
    let text = report("zero_window.client.pcap");
    assert!(text
        .contains("the client's data: 56 RTT samples from Wireshark's tcp.analysis.ack_rtt, from"));
    assert!(text.contains("RFC 6298 over them (α = 1/8, β = 1/4): EstimatedRTT"));
    assert!(text.contains(
        "the server's smallest advertised window: 0 bytes (frame 23); it limited the client: 36 \
         segments filled the window (Wireshark: TCP Window Full)"
    ));
    // At the receiver an ack_rtt is its time to acknowledge, and the report says so.
    let text = report("zero_window.server.pcap");
    assert!(text.contains(
        "the client's data: this capture was made at the server, so Wireshark's \
         tcp.analysis.ack_rtt of it"
    ));
    assert!(!text.contains("EstimatedRTT"));
}
