#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Capture files libpcap cannot read (a pcapng whose interfaces differ, gzip) and the
//! ones it reads with care (nanosecond, big-endian pcap), built byte by byte with
//! labfixtures::blocks; damaged files name frame and byte offset and keep what came
//! before. Where tshark is installed, its reading of the same file is the reference.

mod common;

use common::*;
use labfixtures::blocks::{self, PcapNg};
use labfixtures::{lab, Capture, Dir, LinkType};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A v3 echo of `text` between `client` and port 5005, on `link`.
fn session(link: LinkType, client: &str, server: &str, text: &[u8]) -> Capture {
    let mut cap = Capture::new(link);
    let mut flow = cap.tcp(addr(client), addr(server));
    flow.handshake(&mut cap);
    let m = lab::v3(1, text);
    flow.send(&mut cap, Dir::C2S, &m);
    flow.send(&mut cap, Dir::S2C, &m);
    flow.close(&mut cap);
    cap
}

fn write(name: &str, ext: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = temp_path(name, ext);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run(path: &Path, extra: &[&str]) -> Run {
    let p = path.to_str().unwrap();
    let mut args = vec!["-r", p, "--json"];
    args.extend_from_slice(extra);
    labsniff(&args)
}

/// (conv client, payload) of every message, in order.
fn messages(run: &Run) -> Vec<(String, String, String)> {
    run.messages()
        .iter()
        .map(|m| {
            (
                m["client"].as_str().unwrap().to_string(),
                m["dir"].as_str().unwrap().to_string(),
                m["payload"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn tshark() -> bool {
    Command::new("tshark").arg("--version").output().is_ok()
}

/// tshark's reading: per frame, the TCP or UDP payload in hex (empty when none).
fn tshark_payloads(path: &Path) -> Vec<String> {
    let out = Command::new("tshark")
        .args([
            "-r",
            path.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "tcp.payload",
            "-e",
            "udp.payload",
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
        .map(|l| l.replace([':', '\t'], ""))
        .collect()
}

/// Every labsniff message's bytes are what tshark shows in its frames, and both read
/// the same number of frames.
fn assert_same_as_tshark(path: &Path, run: &Run) {
    if !tshark() {
        eprintln!("tshark not installed: comparison skipped");
        return;
    }
    let per_frame = tshark_payloads(path);
    assert_eq!(
        per_frame.len() as u64,
        run.summary()["frames"].as_u64().unwrap()
    );
    for m in run.messages() {
        let frames: Vec<usize> = m["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_u64().unwrap() as usize)
            .collect();
        let joined: String = frames.iter().map(|f| per_frame[f - 1].as_str()).collect();
        // A v3 message is header + payload; the payload is at its end.
        assert!(
            joined.ends_with(m["payload_hex"].as_str().unwrap()),
            "frames {frames:?}: tshark {joined}, labsniff {}",
            m["payload_hex"]
        );
    }
}

/// Section 1: Ethernet (snaplen 1500, µs) and Linux SLL (snaplen 262144, ns) interleaved;
/// section 2, big-endian: raw IP in an EPB and the obsolete PB, and an SPB.
fn two_link_types() -> Vec<u8> {
    let eth = session(
        LinkType::Ethernet,
        "10.0.0.2:40000",
        "10.0.0.1:5005",
        b"over ethernet",
    );
    let sll = session(
        LinkType::LinuxSll,
        "10.0.0.3:40001",
        "10.0.0.1:5005",
        b"over cooked",
    );
    let raw = session(
        LinkType::RawIp,
        "10.0.0.4:40002",
        "10.0.0.1:5005",
        b"over raw ip",
    );
    let mut ng = PcapNg::new();
    ng.section(false)
        .interface(1, 1500, None)
        .interface(113, 262_144, Some(9));
    for (a, b) in eth.frame_list().iter().zip(sll.frame_list()) {
        ng.enhanced(0, a.ts_micros, &a.data, a.orig_len);
        ng.enhanced(1, b.ts_micros * 1000 + 999, &b.data, b.orig_len);
    }
    ng.section(true).interface(101, 65_535, None);
    for (i, f) in raw.frame_list().iter().enumerate() {
        if i % 2 == 0 {
            ng.enhanced(0, f.ts_micros + 10_000_000, &f.data, f.orig_len);
        } else {
            ng.obsolete(0, f.ts_micros + 10_000_000, &f.data, f.orig_len);
        }
    }
    // One SPB: no timestamp, interface 0 (raw IP), a UDP datagram to the lab port.
    let mut udp = Capture::new(LinkType::RawIp);
    udp.udp(
        addr("10.0.0.5:40003"),
        addr("10.0.0.1:5005"),
        b"simple block",
    );
    let f = &udp.frame_list()[0];
    ng.simple(&f.data, f.orig_len);
    ng.bytes()
}

#[test]
fn pcapng_with_two_link_types_and_snaplens_reads_every_frame() {
    let path = write("two-links", "pcapng", &two_link_types());
    let run = run(&path, &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.summary()["frames"], 9 + 9 + 9 + 1);
    assert_eq!(run.problems(), Vec::<&serde_json::Value>::new());
    let got = messages(&run);
    for (client, text) in [
        ("10.0.0.2:40000", "over ethernet"),
        ("10.0.0.3:40001", "over cooked"),
        ("10.0.0.4:40002", "over raw ip"),
    ] {
        for dir in ["c2s", "s2c"] {
            assert!(
                got.contains(&(client.to_string(), dir.to_string(), text.to_string())),
                "{client} {dir} {text}: {got:?}"
            );
        }
    }
    assert!(got
        .iter()
        .any(|(c, _, p)| c == "10.0.0.5:40003" && p == "simple block"));
    // Nanosecond timestamps of interface 1 become microseconds (999 ns dropped).
    let sll_first = run
        .messages()
        .into_iter()
        .find(|m| m["client"] == "10.0.0.3:40001")
        .unwrap()["ts"]
        .as_f64()
        .unwrap();
    let eth_first = run
        .messages()
        .into_iter()
        .find(|m| m["client"] == "10.0.0.2:40000")
        .unwrap()["ts"]
        .as_f64()
        .unwrap();
    assert!(
        (sll_first - eth_first).abs() < 1e-3,
        "{sll_first} {eth_first}"
    );
    assert_same_as_tshark(&path, &run);
}

#[test]
fn filter_on_a_pcapng_with_two_link_types_is_compiled_per_link_type() {
    let path = write("two-links-filter", "pcapng", &two_link_types());
    let run = run(&path, &["-f", "host 10.0.0.3 or host 10.0.0.4"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.summary()["frames"], 18);
    let clients: std::collections::BTreeSet<String> =
        messages(&run).into_iter().map(|m| m.0).collect();
    assert_eq!(
        clients.into_iter().collect::<Vec<_>>(),
        vec!["10.0.0.3:40001".to_string(), "10.0.0.4:40002".to_string()]
    );
    let bad = run_bad_filter(&path);
    assert_eq!(bad.status, 8, "{}", bad.stderr);
}

fn run_bad_filter(path: &Path) -> Run {
    run(path, &["-f", "port nonsense"])
}

#[test]
fn nanosecond_and_big_endian_pcap() {
    let cap = session(
        LinkType::Ethernet,
        "10.0.0.2:40000",
        "10.0.0.1:5005",
        b"hello",
    );
    let frames: Vec<(u64, &[u8], u32)> = cap
        .frame_list()
        .iter()
        .map(|f| (f.ts_micros, f.data.as_slice(), f.orig_len))
        .collect();
    let reference = messages(&run(
        &write(
            "plain",
            "pcap",
            &blocks::pcap(1, 65535, false, false, &frames),
        ),
        &[],
    ));
    assert_eq!(reference.len(), 2);
    for (name, nanos, be) in [
        ("nano", true, false),
        ("be", false, true),
        ("nano-be", true, true),
    ] {
        let path = write(name, "pcap", &blocks::pcap(1, 65535, nanos, be, &frames));
        let r = run(&path, &[]);
        assert_eq!(r.status, 0, "{name}: {}", r.stderr);
        assert_eq!(messages(&r), reference, "{name}");
        assert_eq!(r.problems(), Vec::<&serde_json::Value>::new(), "{name}");
        assert_eq!(
            r.messages()[0]["ts"],
            serde_json::json!(frames[3].0 as f64 / 1e6),
            "{name}"
        );
        assert_same_as_tshark(&path, &r);
    }
}

#[test]
fn gzip_compressed_pcap_and_pcapng_whatever_their_names() {
    let cap = session(
        LinkType::Ethernet,
        "10.0.0.2:40000",
        "10.0.0.1:5005",
        b"zipped",
    );
    let pcap = cap.to_bytes(labfixtures::FileFormat::Pcap);
    let expect = messages(&run(&write("plain", "pcap", &pcap), &[]));
    assert_eq!(expect.len(), 2);
    for (name, bytes) in [
        ("a.pcap.gz", gzip(&pcap)),
        (
            "b.pcapng.gz",
            gzip(&cap.to_bytes(labfixtures::FileFormat::PcapNg)),
        ),
        ("c.pcapng.gz", gzip(&two_link_types())),
        // Named like a plain capture: the magic decides.
        ("d.pcap", gzip(&pcap)),
    ] {
        let path = write(name, "gz", &bytes);
        let r = run(&path, &[]);
        assert_eq!(r.status, 0, "{name}: {}", r.stderr);
        assert_eq!(r.problems(), Vec::<&serde_json::Value>::new(), "{name}");
        if name.starts_with('c') {
            assert_eq!(r.messages().len(), 7, "{name}");
        } else {
            assert_eq!(messages(&r), expect, "{name}");
        }
    }
    // gzip of something that is no capture: exit 6, saying it was gzip.
    let path = write(
        "text",
        "gz",
        &gzip(b"just some words, not a capture at all"),
    );
    let r = run(&path, &[]);
    assert_eq!(r.status, 6, "{}", r.stderr);
    assert!(r.stderr.contains("gzip-compressed"), "{}", r.stderr);
}

#[test]
fn cut_gzip_keeps_the_frames_before_the_cut() {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40000"), addr("10.0.0.1:5005"));
    flow.handshake(&mut cap);
    for i in 1..=200u32 {
        let m = lab::v3(i, format!("message number {i} with some text").as_bytes());
        flow.send(&mut cap, Dir::C2S, &m);
        flow.send(&mut cap, Dir::S2C, &m);
    }
    let gz = gzip(&cap.to_bytes(labfixtures::FileFormat::Pcap));
    let path = write("cut", "pcap.gz", &gz[..gz.len() / 2]);
    let r = run(&path, &[]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let cut: Vec<_> = r
        .problems()
        .into_iter()
        .filter(|d| d["code"] == "capture_cut")
        .collect();
    assert_eq!(cut.len(), 1, "{:?}", r.problems());
    let text = cut[0]["text"].as_str().unwrap();
    assert!(text.contains(" at byte offset "), "{text}");
    assert!(text.contains("gzip data is damaged or cut"), "{text}");
    assert!(
        text.ends_with("(offset in the decompressed data)"),
        "{text}"
    );
    // Most of what was before the cut is there.
    assert!(r.messages().len() > 100, "{}", r.messages().len());
}

#[test]
fn damaged_pcapng_names_frame_and_offset_and_keeps_earlier_frames() {
    let cap = session(
        LinkType::Ethernet,
        "10.0.0.2:40000",
        "10.0.0.1:5005",
        b"damaged",
    );
    // (block type, length, what is said): an EPB whose length is not a multiple of 4;
    // an EPB and a Process Information Block (whose own header is 4 bytes: pcap-parser
    // 0.17 overflowed computing `length - 12`, found by the capfile fuzz target)
    // shorter than any block.
    let cases: [(u32, u32, &str); 3] = [
        (6, 20, "this block is damaged"),
        (
            6,
            7,
            "the block says it is 7 bytes long, less than the 12 bytes of any pcapng block",
        ),
        (
            0x8000_0001,
            5,
            "the block says it is 5 bytes long, less than the 12 bytes of any pcapng block",
        ),
    ];
    for (block_type, len, said) in cases {
        let mut ng = PcapNg::new();
        ng.section(false).interface(1, 65535, None);
        for f in &cap.frame_list()[..6] {
            ng.enhanced(0, f.ts_micros, &f.data, f.orig_len);
        }
        let at = ng.len();
        ng.raw_u32(block_type).raw_u32(len).raw(&[0; 40]);
        let run = run(&write("damaged", "pcapng", &ng.bytes()), &[]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert_eq!(run.summary()["frames"], 6);
        assert_eq!(
            messages(&run).len(),
            2,
            "both messages are in frames 4 and 5"
        );
        let cut: Vec<_> = run
            .problems()
            .into_iter()
            .filter(|d| d["code"] == "capture_cut")
            .collect();
        assert_eq!(cut.len(), 1, "{:?}", run.problems());
        let text = cut[0]["text"].as_str().unwrap();
        assert!(
            text.starts_with(&format!("frame 7 at byte offset {at}: {said}")),
            "{text}"
        );
    }
}

#[test]
fn a_block_length_of_4_gib_errors_at_once_without_allocating_it() {
    let cap = session(
        LinkType::Ethernet,
        "10.0.0.2:40000",
        "10.0.0.1:5005",
        b"huge",
    );
    for big_endian in [false, true] {
        let mut ng = PcapNg::new();
        ng.section(big_endian).interface(1, 65535, None);
        for f in &cap.frame_list()[..3] {
            ng.enhanced(0, f.ts_micros, &f.data, f.orig_len);
        }
        let at = ng.len();
        ng.raw_u32(6).raw_u32(0xFFFF_FFF0).raw(&[0; 64]);
        let path = write("huge", "pcapng", &ng.bytes());
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_labsniff"))
            .args(["-r", path.to_str().unwrap(), "--json"])
            .output()
            .unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            stdout.contains(&format!(
                "frame 4 at byte offset {at}: the block says it is 4294967280 bytes long"
            )),
            "{stdout}"
        );
        assert!(stdout.contains("\"frames\":3"), "{stdout}");
    }
    // A pcap record claiming 4 GiB of data, likewise.
    let frames: Vec<(u64, &[u8], u32)> = cap.frame_list()[..2]
        .iter()
        .map(|f| (f.ts_micros, f.data.as_slice(), f.orig_len))
        .collect();
    let mut bytes = blocks::pcap(1, 65535, false, false, &frames);
    let at = bytes.len();
    for v in [1u32, 0, 0xFFFF_FFF0, 60] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes.extend_from_slice(&[0; 60]);
    let r = run(&write("huge", "pcap", &bytes), &[]);
    let cut: Vec<_> = r
        .problems()
        .into_iter()
        .filter(|d| d["code"] == "capture_cut")
        .collect();
    assert_eq!(cut.len(), 1);
    assert!(
        cut[0]["text"].as_str().unwrap().starts_with(&format!(
            "frame 3 at byte offset {at}: the record says its frame has 4294967280 bytes"
        )),
        "{}",
        cut[0]["text"]
    );
}

#[test]
fn packet_block_naming_an_unknown_interface_is_skipped_and_reading_goes_on() {
    let cap = session(
        LinkType::Ethernet,
        "10.0.0.2:40000",
        "10.0.0.1:5005",
        b"skip",
    );
    let mut ng = PcapNg::new();
    ng.section(false).interface(1, 65535, None);
    let mut skipped_at = 0;
    for (i, f) in cap.frame_list().iter().enumerate() {
        if i == 1 {
            skipped_at = ng.len();
            ng.enhanced(5, f.ts_micros, &f.data, f.orig_len);
        }
        ng.enhanced(0, f.ts_micros, &f.data, f.orig_len);
    }
    let run = run(&write("skip", "pcapng", &ng.bytes()), &[]);
    assert_eq!(run.summary()["frames"], 9);
    assert_eq!(messages(&run).len(), 2);
    let d: Vec<_> = run
        .problems()
        .into_iter()
        .filter(|d| d["code"] == "record_skipped")
        .collect();
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0]["text"],
        format!("frame 2 at byte offset {skipped_at}: this packet block names interface 5, but its section describes 1 interface: the frame is skipped")
    );
}

#[test]
fn write_copies_the_first_link_type_and_says_what_it_left_out() {
    let path = write("two-links-w", "pcapng", &two_link_types());
    let out = temp_path("copy", "pcap");
    let r = run(&path, &["-w", out.to_str().unwrap()]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let d: Vec<_> = r
        .problems()
        .into_iter()
        .filter(|d| d["code"] == "frames_not_copied")
        .collect();
    // Linux SLL (113) in section 1, raw IP (101) in section 2.
    assert_eq!(d.len(), 2, "{:?}", r.problems());
    let copy = run(&out, &[]);
    assert_eq!(copy.summary()["frames"], 9);
    assert_eq!(copy.summary()["link_type"], "ethernet");
    assert_eq!(messages(&copy).len(), 2);
}
