//! Nothing a capture holds goes missing after an RST (issue 26): segments the other
//! side had in flight when one side reset are kept in the conversation (bytes,
//! messages), and said as coming after the reset; an RST's own payload is kept as
//! tshark's follow,tcp keeps it.

use labfixtures::lab::v3;
use labfixtures::{frame::flags, Capture, Dir, FileFormat, LinkType};
use std::path::PathBuf;
use std::process::Command;

fn addr(s: &str) -> std::net::SocketAddr {
    s.parse().expect("address")
}

fn write(cap: &Capture, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labsniff-after-reset-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.pcap"));
    cap.write(&path, FileFormat::Pcap).expect("write");
    path
}

fn json(path: &PathBuf) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .arg("-r")
        .arg(path)
        .arg("--json")
        .output()
        .expect("labsniff");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

/// A client sends a 3,000-byte v3 message; the server echoes it in three segments; the
/// client resets after the first, and the other two arrive after the reset.
fn reset_mid_echo() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40000"), addr("10.0.0.1:5005"));
    flow.handshake(&mut cap);
    let msg = v3(1, &[b'x'; 2991]);
    flow.send(&mut cap, Dir::C2S, &msg);
    flow.ack(&mut cap, Dir::S2C);
    cap.advance(100);
    flow.send(&mut cap, Dir::S2C, &msg[..1000]);
    cap.advance(10);
    flow.rst(&mut cap, Dir::C2S); // frame 7
    cap.advance(10);
    flow.send(&mut cap, Dir::S2C, &msg[1000..2000]);
    flow.send(&mut cap, Dir::S2C, &msg[2000..]);
    cap
}

#[test]
fn data_in_flight_after_a_reset_is_kept_and_said() {
    let path = write(&reset_mid_echo(), "mid-echo");
    let events = json(&path);
    let conv = events
        .iter()
        .find(|e| e["type"] == "conversation")
        .expect("a conversation");
    assert_eq!(conv["bytes_s2c"], 3000, "{conv}");
    let echoes: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "message" && e["dir"] == "s2c")
        .collect();
    assert_eq!(echoes.len(), 1, "the echo after the reset is decoded");
    let cause = events
        .iter()
        .find(|e| e["type"] == "cause" && e["code"] == "after_reset")
        .expect("an after_reset cause");
    assert_eq!(cause["dir"], "s2c");
    assert_eq!(cause["rst_frame"], 7);
    assert_eq!(cause["reset_by"], "client");
    assert_eq!(cause["segments"], 2);
    assert_eq!(cause["bytes"], 2000);
    assert_eq!(cause["frames"], serde_json::json!([8, 9]));
    let text = cause["text"].as_str().unwrap_or("");
    assert!(
        text.starts_with("frames 8, 9: after the client's reset (frame 7) the capture still holds 2 segments of the server carrying 2,000 bytes"),
        "{text}"
    );
    // tshark's follow keeps the same bytes (where tshark is installed).
    if let Some(bytes) = tshark_server_bytes(&path) {
        assert_eq!(bytes, 3000);
    }
}

#[test]
fn an_rst_with_data_keeps_its_bytes() {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40001"), addr("10.0.0.1:5005"));
    flow.handshake(&mut cap);
    flow.send(&mut cap, Dir::C2S, b"hello\n");
    flow.ack(&mut cap, Dir::S2C);
    // The server resets with a diagnostic payload (RFC 9293 3.5.3 allows it).
    let (seq, ack) = (flow.next_seq(Dir::S2C), flow.next_seq(Dir::C2S));
    flow.raw_segment(
        &mut cap,
        Dir::S2C,
        seq,
        ack,
        flags::RST | flags::ACK,
        b"server going away",
    );
    let path = write(&cap, "rst-data");
    let events = json(&path);
    let conv = events
        .iter()
        .find(|e| e["type"] == "conversation")
        .expect("a conversation");
    assert_eq!(conv["bytes_s2c"], 17, "{conv}");
    if let Some(bytes) = tshark_server_bytes(&path) {
        assert_eq!(bytes, 17);
    }
}

/// Bytes tshark's follow,tcp shows the server sending in stream 0.
fn tshark_server_bytes(path: &PathBuf) -> Option<u64> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(["-q", "-z", "follow,tcp,raw,0"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Lines of the second node (the server) are indented with a tab.
    let hex: usize = text
        .lines()
        .filter(|l| l.starts_with('\t'))
        .map(|l| l.trim().len())
        .sum();
    Some((hex / 2) as u64)
}
