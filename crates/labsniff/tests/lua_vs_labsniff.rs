//! The Wireshark Lua dissector (`labsniff lua-dissector`) and labsniff itself must
//! decode the same v2/v3 fields from the same capture. Runs when `tshark` is on PATH
//! (`cargo xtask test` installs it); otherwise prints why it skipped.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;

use common::{labsniff, temp_path};
use labfixtures::{lab, Capture, Dir, FileFormat, LinkType};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// (frame where the message completed, kind, version, order, size)
type Decoded = (u64, String, u64, u64, u64);

fn have_tshark() -> bool {
    Command::new("tshark")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A capture with a v3 conversation (a message split over three segments, two
/// messages coalesced in one segment, echoes) and a v2 conversation (two records in
/// one segment, one message longer than 20 bytes).
fn capture() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let server = "10.0.0.1:5005".parse().unwrap();
    let mut v3 = cap.tcp("10.0.0.2:40001".parse().unwrap(), server);
    v3.handshake(&mut cap);
    let big: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let first = lab::v3(1, &big);
    v3.send_split(&mut cap, Dir::C2S, &first, 1200);
    v3.send(&mut cap, Dir::S2C, &first);
    let coalesced = [lab::v3(2, b"hello"), lab::v3(3, b"world!")].concat();
    v3.send(&mut cap, Dir::C2S, &coalesced);
    v3.send(&mut cap, Dir::S2C, &coalesced);
    v3.close(&mut cap);

    let mut v2 = cap.tcp("10.0.0.3:40002".parse().unwrap(), server);
    v2.handshake(&mut cap);
    let two = [
        lab::v2(1, b"hi"),
        lab::v2(2, b"a v2 message longer than twenty bytes"),
    ]
    .concat();
    v2.send(&mut cap, Dir::C2S, &two);
    v2.send(&mut cap, Dir::S2C, &two);
    v2.close(&mut cap);
    cap
}

fn tshark_fields(lua: &std::path::Path, pcap: &std::path::Path) -> Vec<Decoded> {
    let mut child = Command::new("tshark")
        .arg("-X")
        .arg(format!("lua_script:{}", lua.display()))
        .arg("-r")
        .arg(pcap)
        // The two preferences the dissector's header asks for.
        .args(["-o", "tcp.desegment_tcp_streams:TRUE"])
        .args(["-o", "tcp.reassemble_out_of_order:TRUE", "-T", "fields"])
        .args([
            "-e",
            "frame.number",
            "-e",
            "labproto.kind",
            "-e",
            "labproto.version",
        ])
        .args(["-e", "labproto.order", "-e", "labproto.size"])
        .args([
            "-E",
            "occurrence=a",
            "-E",
            "separator=|",
            "-E",
            "aggregator=,",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tshark did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut decoded = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let cols: Vec<&str> = line.split('|').collect();
        if cols.len() < 5 || cols[1].is_empty() {
            continue;
        }
        let frame: u64 = cols[0].parse().unwrap();
        let split = |c: &str| c.split(',').map(str::to_string).collect::<Vec<_>>();
        let (kinds, versions, orders, sizes) = (
            split(cols[1]),
            split(cols[2]),
            split(cols[3]),
            split(cols[4]),
        );
        for (i, kind) in kinds.iter().enumerate() {
            if kind == "text" {
                continue;
            }
            let num = |v: &Vec<String>| v.get(i).and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
            decoded.push((
                frame,
                kind.clone(),
                num(&versions),
                num(&orders),
                num(&sizes),
            ));
        }
    }
    decoded.sort();
    decoded
}

#[test]
fn tshark_with_the_lua_dissector_decodes_what_labsniff_decodes() {
    if !have_tshark() {
        skip_note!("skipped: tshark not installed (cargo xtask test installs it)");
        return;
    }
    let pcap = temp_path("lua-cmp", "pcap");
    capture().write(&pcap, FileFormat::Pcap).unwrap();
    let lua = temp_path("labproto", "lua");
    let printed = labsniff(&["lua-dissector"]);
    assert_eq!(printed.status, 0);
    std::fs::write(&lua, &printed.stdout).unwrap();

    let run = labsniff(&["-r", pcap.to_str().unwrap(), "--json"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let mut ours: Vec<Decoded> = run
        .messages()
        .iter()
        .map(|m| {
            (
                m["frames"]
                    .as_array()
                    .unwrap()
                    .last()
                    .unwrap()
                    .as_u64()
                    .unwrap(),
                m["proto"].as_str().unwrap().to_string(),
                m["version"].as_u64().unwrap(),
                m["order"].as_u64().unwrap(),
                m["size"].as_u64().unwrap(),
            )
        })
        .collect();
    ours.sort();
    // 3 v3 messages and their echoes, 2 v2 messages and their echoes.
    assert_eq!(ours.len(), 10, "{ours:?}");
    assert!(ours.iter().any(|m| m.1 == "v2" && m.4 == 37), "{ours:?}");
    let theirs = tshark_fields(&lua, &pcap);
    assert_eq!(theirs, ours, "tshark (left) and labsniff (right) disagree");
    let _ = std::fs::remove_file(&pcap);
    let _ = std::fs::remove_file(&lua);
}

/// A v3 conversation whose segments arrive out of order (the second message after the
/// third), each segment holding two messages, one message split across the reordered
/// pair.
fn reordered() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let server = "10.0.0.1:5005".parse().unwrap();
    let mut flow = cap.tcp("10.0.0.2:40009".parse().unwrap(), server);
    flow.handshake(&mut cap);
    let stream: Vec<u8> = (1..=6u32)
        .flat_map(|i| lab::v3(i, format!("message number {i}").as_bytes()))
        .collect();
    let third = stream.len() / 3;
    let (a, rest) = stream.split_at(third);
    let (b, c) = rest.split_at(third);
    flow.send(&mut cap, Dir::C2S, a);
    flow.segment_at(&mut cap, Dir::C2S, (a.len() + b.len()) as u32, c);
    flow.segment_at(&mut cap, Dir::C2S, a.len() as u32, b);
    flow.advance_seq(Dir::C2S, (b.len() + c.len()) as u32);
    flow.ack(&mut cap, Dir::S2C);
    flow.close(&mut cap);
    cap
}

#[test]
fn with_the_header_s_preferences_reordered_segments_lose_no_message() {
    if !have_tshark() {
        skip_note!("skipped: tshark not installed (cargo xtask test installs it)");
        return;
    }
    let pcap = temp_path("lua-ooo", "pcap");
    reordered().write(&pcap, FileFormat::Pcap).unwrap();
    let lua = temp_path("labproto-ooo", "lua");
    let printed = labsniff(&["lua-dissector"]);
    assert!(printed.stdout.contains("tcp.desegment_tcp_streams"));
    assert!(printed.stdout.contains("tcp.reassemble_out_of_order"));
    std::fs::write(&lua, &printed.stdout).unwrap();
    let run = labsniff(&["-r", pcap.to_str().unwrap(), "--json"]);
    let ours: Vec<u64> = run
        .messages()
        .iter()
        .map(|m| m["order"].as_u64().unwrap())
        .collect();
    assert_eq!(ours, [1, 2, 3, 4, 5, 6]);
    let mut theirs: Vec<u64> = tshark_fields(&lua, &pcap).iter().map(|m| m.3).collect();
    theirs.sort_unstable();
    assert_eq!(theirs, ours, "tshark (left) and labsniff (right) disagree");
    let _ = std::fs::remove_file(&pcap);
    let _ = std::fs::remove_file(&lua);
}
