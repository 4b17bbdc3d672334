//! `tcp_stream` in the conversation records is Wireshark's `tcp.stream`: checked against
//! tshark on captures where TCP traffic on other ports is interleaved with the lab's.
#![allow(clippy::unwrap_used)]

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;

use common::{addr, run_capture};
use labfixtures::lab::v3;
use labfixtures::{Capture, Dir, FileFormat, LinkType};
use std::collections::HashMap;
use std::process::Command;

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// frame number → tcp.stream, as tshark numbers them.
fn tshark_streams(path: &std::path::Path) -> HashMap<u64, u64> {
    let out = Command::new("tshark")
        .args([
            "-r",
            path.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.stream",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (frame, stream) = l.split_once('\t')?;
            Some((frame.parse().ok()?, stream.trim().parse().ok()?))
        })
        .collect()
}

/// SSH and HTTP connections before, between and after lab connections; a lab 4-tuple
/// used again with a new ISN; UDP that must not count.
fn interleaved() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let server = addr("10.0.0.1:5005");
    let mut ssh = cap.tcp(addr("10.0.0.9:50022"), addr("10.0.0.1:22"));
    ssh.handshake(&mut cap);
    let mut a = cap.tcp(addr("10.0.0.2:40000"), server);
    a.handshake(&mut cap);
    ssh.send(&mut cap, Dir::S2C, b"SSH-2.0-OpenSSH_9.2\r\n");
    let mut http = cap.tcp(addr("10.0.0.9:50080"), addr("93.184.216.34:80"));
    http.handshake(&mut cap);
    cap.udp(addr("10.0.0.9:5353"), addr("224.0.0.251:5353"), b"mdns");
    a.send(&mut cap, Dir::C2S, &v3(1, b"first"));
    a.send(&mut cap, Dir::S2C, &v3(1, b"first"));
    http.send(&mut cap, Dir::C2S, b"GET / HTTP/1.1\r\n\r\n");
    a.close(&mut cap);
    http.close(&mut cap);
    // The same client port again, a new connection (new ISN).
    let mut again = cap
        .tcp(addr("10.0.0.2:40000"), server)
        .with_isns(777_000, 888_000);
    again.handshake(&mut cap);
    let mut b = cap.tcp(addr("10.0.0.3:41000"), server);
    b.handshake(&mut cap);
    again.send(&mut cap, Dir::C2S, &v3(2, b"second"));
    b.send(&mut cap, Dir::C2S, &v3(1, b"third"));
    ssh.send(&mut cap, Dir::C2S, b"more ssh");
    again.close(&mut cap);
    b.close(&mut cap);
    // A mid-stream connection on another port (no SYN seen).
    let mut mid = cap.tcp(addr("10.0.0.9:50443"), addr("10.0.0.1:443"));
    mid.send(&mut cap, Dir::C2S, b"tls?");
    let mut c = cap.tcp(addr("10.0.0.4:42000"), server);
    c.handshake(&mut cap);
    c.send(&mut cap, Dir::C2S, &v3(1, b"last"));
    c.close(&mut cap);
    cap
}

#[test]
fn tcp_stream_is_wiresharks_numbering() {
    if !tshark_available() {
        skip_note!("skipped: tshark is not installed (cargo xtask test installs it as root)");
        return;
    }
    let cap = interleaved();
    let path = common::temp_path("streams", "pcap");
    cap.write(&path, FileFormat::Pcap).unwrap();
    let wireshark = tshark_streams(&path);
    let run = run_capture("streams", &cap, FileFormat::Pcap, &[]);
    let convs = run.conversations();
    assert_eq!(convs.len(), 4, "{}", run.stdout);
    let mut seen = Vec::new();
    for c in convs {
        let first = c["first_frame"].as_u64().unwrap();
        let stream = c["tcp_stream"].as_u64().unwrap();
        assert_eq!(Some(&stream), wireshark.get(&first), "conversation {c}");
        seen.push(stream);
    }
    // Lab streams 1, 4, 5 and 7: the others are SSH, HTTP and the mid-stream one.
    seen.sort_unstable();
    assert_eq!(seen, [1, 3, 4, 6]);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn the_stream_filter_parses_in_tshark() {
    if !tshark_available() {
        skip_note!("skipped: tshark is not installed");
        return;
    }
    let cap = interleaved();
    let path = common::temp_path("filter", "pcap");
    cap.write(&path, FileFormat::Pcap).unwrap();
    for filter in ["tcp.stream eq 1", "tcp.stream eq 1 || tcp.stream eq 3"] {
        let out = Command::new("tshark")
            .args(["-r", path.to_str().unwrap(), "-Y", filter])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{filter}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{filter} shows nothing");
    }
    let _ = std::fs::remove_file(&path);
}
