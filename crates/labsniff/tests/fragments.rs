#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! IP fragments end to end: captures built with labfixtures (pnet_packet headers,
//! fragmented by `labfixtures::fragment`), read by the labsniff binary.

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;

use common::*;
use labfixtures::fragment::fragment;
use labfixtures::{lab, Capture, Dir, FileFormat, LinkType};
use serde_json::{json, Value};

const V4: (&str, &str) = ("10.77.0.2:40000", "10.77.0.1:5005");
const V6: (&str, &str) = ("[fd77::2]:40000", "[fd77::1]:5005");

fn text(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn codes(run: &Run, code: &str) -> Vec<Value> {
    run.diagnostics()
        .into_iter()
        .filter(|d| d["code"] == code)
        .cloned()
        .collect()
}

#[test]
fn a_4000_byte_udp_text_message_over_mtu_1500_is_one_message() {
    for link in [LinkType::Ethernet, LinkType::LinuxSll, LinkType::RawIp] {
        for (client, server) in [V4, V6] {
            let v6 = client.starts_with('[');
            let mut cap = Capture::new(link);
            let request = text(4000);
            let sent = cap.udp_fragmented(addr(client), addr(server), &request, 1500);
            let echoed = cap.udp_fragmented(addr(server), addr(client), &request, 1500);
            assert_eq!(sent, vec![1, 2, 3]);
            let run = run_capture("frag-udp", &cap, FileFormat::Pcap, &[]);
            assert_eq!(run.status, 0, "{}", run.stderr);
            let m = run.messages();
            assert_eq!(m.len(), 2, "{link:?} v6 {v6}: {:?}", run.lines);
            assert_eq!(m[0]["dir"], "c2s");
            assert_eq!(m[0]["payload_hex"], hex(&request));
            assert_eq!(m[0]["frames"], json!(sent));
            assert_eq!(m[1]["dir"], "s2c");
            assert_eq!(m[1]["frames"], json!(echoed));
            let c = run.conversations();
            assert_eq!(c.len(), 1);
            assert_eq!(c[0]["state"], "SF");
            assert_eq!(
                (c[0]["bytes_c2s"].as_u64(), c[0]["bytes_s2c"].as_u64()),
                (Some(4000), Some(4000))
            );
            let notes = codes(&run, "reassembled");
            assert_eq!(notes.len(), 1, "one note per conversation");
            assert_eq!(notes[0]["frame"], 3);
            assert_eq!(notes[0]["severity"], "note");
            let (family, len) = if v6 {
                ("IPv6", "4,048")
            } else {
                ("IPv4", "4,028")
            };
            let said = notes[0]["text"].as_str().unwrap();
            assert!(
                said.starts_with(&format!(
                    "frames 1–3 carried one {len}-byte {family} datagram (UDP, 4,000 bytes of payload) in 3 fragments (MTU 1500); Wireshark shows it reassembled in frame 3"
                )),
                "{said}"
            );
            assert!(codes(&run, "fragments_dropped").is_empty());
            assert_eq!(run.summary()["frames"], 6);
            assert_eq!(run.summary()["lab_packets"], 2);
        }
    }
}

#[test]
fn a_4000_byte_v3_datagram_over_mtu_1500_is_one_v3_message() {
    for (client, server) in [V4, V6] {
        let mut cap = Capture::new(LinkType::Ethernet);
        let payload = text(3991);
        let datagram = lab::v3(7, &payload);
        assert_eq!(datagram.len(), 4000);
        let frames = cap.udp_fragmented(addr(client), addr(server), &datagram, 1500);
        let run = run_capture("frag-v3", &cap, FileFormat::PcapNg, &["--proto", "v3"]);
        let m = run.messages();
        assert_eq!(m.len(), 1, "{:?}", run.lines);
        assert_eq!(m[0]["proto"], "v3");
        assert_eq!(m[0]["order"], 7);
        assert_eq!(m[0]["size"], 3991);
        assert_eq!(m[0]["payload_hex"], hex(&payload));
        assert_eq!(m[0]["frames"], json!(frames));
        assert_eq!(
            run.problems()
                .iter()
                .filter(|d| d["code"] != "reassembled")
                .count(),
            0,
            "{:?}",
            run.problems()
        );
    }
}

#[test]
fn fragments_in_reverse_order_are_reassembled_at_the_frame_that_completes_them() {
    let mut cap = Capture::new(LinkType::Ethernet);
    let request = text(4000);
    let packet = cap.udp_ip_packet(addr(V4.0), addr(V4.1), &request);
    for f in fragment(&packet, 1500, 0).iter().rev() {
        cap.push_ip(f, false);
    }
    let run = run_capture("frag-rev", &cap, FileFormat::Pcap, &[]);
    let m = run.messages();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["payload_hex"], hex(&request));
    assert_eq!(m[0]["frames"], json!([1, 2, 3]));
    assert_eq!(codes(&run, "reassembled")[0]["frame"], 3);
}

#[test]
fn a_fragmented_tcp_segment_is_one_segment() {
    for (client, server) in [V4, V6] {
        let mut cap = Capture::new(LinkType::Ethernet);
        let mut flow = cap.tcp(addr(client), addr(server));
        flow.handshake(&mut cap);
        let payload = text(3991);
        let last = flow.send(&mut cap.fragmenting(1500), Dir::C2S, &lab::v3(1, &payload));
        assert_eq!(last, 6, "3 fragments after the handshake");
        flow.send(&mut cap, Dir::S2C, &lab::v3(1, b"ok"));
        flow.close(&mut cap);
        let run = run_capture("frag-tcp", &cap, FileFormat::Pcap, &[]);
        let m = run.messages();
        assert_eq!(m.len(), 2, "{:?}", run.lines);
        assert_eq!(m[0]["proto"], "v3");
        assert_eq!(m[0]["size"], 3991);
        assert_eq!(m[0]["payload_hex"], hex(&payload));
        // A TCP segment's bytes are tagged with the frame that completed it.
        assert_eq!(m[0]["frames"], json!([6]));
        let c = run.conversations();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0]["state"], "SF");
        assert_eq!(c[0]["bytes_c2s"], 4000);
        assert_eq!(c[0]["retransmissions"], 0);
        let notes = codes(&run, "reassembled");
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0]["text"]
                .as_str()
                .unwrap()
                .contains("(TCP, 4,000 bytes of payload) in 3 fragments"),
            "{}",
            notes[0]["text"]
        );
    }
}

#[test]
fn a_missing_middle_fragment_gives_a_diagnostic_and_no_message() {
    for (client, server) in [V4, V6] {
        let v6 = client.starts_with('[');
        let mut cap = Capture::new(LinkType::Ethernet);
        let packet = cap.udp_ip_packet(addr(client), addr(server), &text(4000));
        let f = fragment(&packet, 1500, 0x77);
        cap.push_ip(&f[0], false);
        cap.push_ip(&f[2], false);
        let run = run_capture("frag-missing", &cap, FileFormat::Pcap, &[]);
        assert!(run.messages().is_empty(), "{:?}", run.messages());
        let dropped = codes(&run, "fragments_dropped");
        assert_eq!(dropped.len(), 1, "{:?}", run.lines);
        let d = &dropped[0];
        assert_eq!(d["severity"], "warning");
        assert_eq!(d["frame"], 2);
        let said = d["text"].as_str().unwrap();
        let (addrs, arrived) = if v6 {
            (
                "fd77::2 → fd77::1, UDP 40000 → 5005 (IP id 0x77)",
                "2,560 of its 4,008 data bytes",
            )
        } else {
            (
                "10.77.0.2 → 10.77.0.1, UDP 40000 → 5005 (IP id 0x1)",
                "2,528 of its 4,008 data bytes",
            )
        };
        assert!(said.contains(addrs), "{said}");
        assert!(said.contains(arrived), "{said}");
        assert!(
            said.contains("the capture ended before all its fragments"),
            "{said}"
        );
        assert!(said.contains("frames 1, 2 (2 fragments)"), "{said}");
        assert_eq!(run.summary()["lab_packets"], 0);
    }
}

#[test]
fn a_missing_fragment_times_out_at_the_first_frame_after_30_s() {
    let mut cap = Capture::new(LinkType::Ethernet);
    let packet = cap.udp_ip_packet(addr(V4.0), addr(V4.1), &text(4000));
    let f = fragment(&packet, 1500, 0);
    cap.push_ip(&f[0], false);
    cap.push_ip(&f[1], false);
    cap.advance(30_000_000);
    cap.udp(addr(V4.0), addr(V4.1), b"after\n");
    let run = run_capture("frag-timeout", &cap, FileFormat::Pcap, &[]);
    assert_eq!(
        run.payloads(),
        vec![("c2s".to_string(), None, "after\n".to_string())]
    );
    let dropped = codes(&run, "fragments_dropped");
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0]["frame"], 3);
    let said = dropped[0]["text"].as_str().unwrap();
    assert!(
        said.contains("did not arrive within 30 s of the first"),
        "{said}"
    );
    assert!(
        said.contains("2,960 data bytes (its size is unknown: the last fragment never came)"),
        "{said}"
    );
}

#[test]
fn fragments_of_other_ports_are_reassembled_then_left_out() {
    let mut cap = Capture::new(LinkType::Ethernet);
    cap.udp_fragmented(
        addr("10.77.0.2:40000"),
        addr("10.77.0.1:2049"),
        &text(4000),
        1500,
    );
    let run = run_capture("frag-other", &cap, FileFormat::Pcap, &[]);
    assert!(run.messages().is_empty());
    assert!(run.problems().is_empty(), "{:?}", run.problems());
    assert_eq!(run.summary()["lab_packets"], 0);
    let run = run_capture("frag-other", &cap, FileFormat::Pcap, &["--port", "2049"]);
    assert_eq!(run.messages().len(), 1);
}

/// `tests/fixtures/fragments/udp_4000.pcap`, made by `regen.sh` there: Linux sending
/// 4,000-byte UDP datagrams across a veth pair of MTU 1500, IPv4 then IPv6, and the
/// echo server's replies.
#[test]
fn a_real_kernel_capture_decodes_and_agrees_with_tshark() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fragments/udp_4000.pcap");
    let file = path.to_str().unwrap();
    let run = labsniff(&["-r", file, "--json"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let m = run.messages();
    assert_eq!(m.len(), 4, "{:?}", run.lines);
    let mut carried: Vec<(u64, usize)> = Vec::new();
    for (i, msg) in m.iter().enumerate() {
        assert_eq!(msg["transport"], "udp");
        assert_eq!(msg["dir"], if i % 2 == 0 { "c2s" } else { "s2c" });
        assert_eq!(msg["payload_hex"], hex(&text(4000)));
        let first = 1 + 3 * i as u64;
        assert_eq!(msg["frames"], json!([first, first + 1, first + 2]));
        carried.push((first + 2, 4000));
    }
    assert_eq!(codes(&run, "reassembled").len(), 2);
    assert!(codes(&run, "fragments_dropped").is_empty());

    let tshark = std::process::Command::new("tshark")
        .args([
            "-r",
            file,
            "-Y",
            "udp",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "udp.length",
        ])
        .output();
    let Ok(out) = tshark else {
        skip_note!("skipped the tshark comparison: tshark is not installed");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said: Vec<(u64, usize)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (frame, len) = l.split_once('\t').unwrap();
            // udp.length counts the 8-byte UDP header.
            (frame.parse().unwrap(), len.parse::<usize>().unwrap() - 8)
        })
        .collect();
    assert_eq!(said, carried, "tshark's reassembled frames vs labsniff's");
}

/// `fragment` (IPv4) moved `by` bytes (a multiple of 8) further and filled with `fill`.
fn moved_v4(fragment: &[u8], by: u16, fill: u8) -> Vec<u8> {
    let mut f = fragment.to_vec();
    let field = u16::from_be_bytes([f[6], f[7]]);
    f[6..8].copy_from_slice(&((field & 0xe000) | ((field & 0x1fff) + by / 8)).to_be_bytes());
    f[10..12].copy_from_slice(&[0, 0]); // labsniff does not check the IPv4 checksum
    for b in &mut f[20..] {
        *b = fill;
    }
    f
}

#[test]
fn overlapping_ipv4_fragments_keep_the_first_copy_with_a_warning() {
    let mut cap = Capture::new(LinkType::Ethernet);
    let request = text(4000);
    let packet = cap.udp_ip_packet(addr(V4.0), addr(V4.1), &request);
    let f = fragment(&packet, 1500, 0);
    cap.push_ip(&f[0], false);
    cap.push_ip(&f[1], false);
    // 16 bytes into the second fragment, over its end: 1,464 old bytes, 16 new ones.
    cap.push_ip(&moved_v4(&f[1], 16, b'#'), false);
    cap.push_ip(&f[2], false);
    let run = run_capture("frag-overlap4", &cap, FileFormat::Pcap, &[]);
    let m = run.messages();
    assert_eq!(m.len(), 1, "{:?}", run.lines);
    let mut expected = request.clone();
    // UDP payload offset = IP payload offset − 8: bytes 2,952..2,968 came first as '#'.
    expected[2952..2968].fill(b'#');
    assert_eq!(m[0]["payload_hex"], hex(&expected));
    assert_eq!(m[0]["frames"], json!([1, 2, 3, 4]));
    let warned = codes(&run, "fragments_overlap");
    assert_eq!(warned.len(), 1);
    let said = warned[0]["text"].as_str().unwrap();
    assert!(said.starts_with("frame 4: the fragments of this UDP datagram (frames 1–4) overlapped: 1,480 bytes arrived more than once"), "{said}");
    assert!(said.contains("labsniff kept the first copy"), "{said}");
    assert_eq!(warned[0]["conv"], 1);
}

#[test]
fn overlapping_ipv6_fragments_discard_the_datagram() {
    let mut cap = Capture::new(LinkType::Ethernet);
    let packet = cap.udp_ip_packet(addr(V6.0), addr(V6.1), &text(4000));
    let f = fragment(&packet, 1500, 0x42);
    cap.push_ip(&f[0], false);
    let mut second = f[1].clone();
    // Offset 1,448 → 1,440: 8 bytes over the first fragment.
    second[42..44].copy_from_slice(&((1440u16) | 1).to_be_bytes());
    cap.push_ip(&second, false);
    cap.push_ip(&f[2], false);
    let run = run_capture("frag-overlap6", &cap, FileFormat::Pcap, &[]);
    assert!(run.messages().is_empty());
    let dropped = codes(&run, "fragments_dropped");
    assert_eq!(
        dropped.len(),
        2,
        "the overlap, then the rest at the end: {dropped:?}"
    );
    assert_eq!(dropped[0]["frame"], 2);
    let said = dropped[0]["text"].as_str().unwrap();
    assert!(
        said.contains("an IPv6 receiver discards such a datagram (RFC 5722)"),
        "{said}"
    );
    assert!(said.contains("(IP id 0x42)"), "{said}");
    assert!(said.contains("frames 1, 2 (2 fragments)"), "{said}");
}
