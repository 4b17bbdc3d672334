#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Link types beyond Ethernet and IP tunnels (issue 26): the same lab session (text
//! messages echoed, then closed), built by labfixtures as raw IP and then wrapped in
//! each new link type (PPP, Cisco HDLC, PPPoE, NFLOG, 802.11 with and without radiotap
//! or Prism, FDDI, Linux ARCnet, IP over InfiniBand) and each tunnel (IP-in-IP, 6in4, IPv6-in-IPv6, Teredo), gives the
//! raw-IP capture's messages, bytes and conversation state; where tshark is installed,
//! tshark finds the same TCP payload in every frame.

mod common;

use common::*;
use labfixtures::wrap::{rewrap, write_pcap, Tunnel, Wrap};
use labfixtures::{Capture, Dir, LinkType};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const V4: (&str, &str) = ("10.0.0.2:40000", "10.0.0.1:5005");
const V6: (&str, &str) = ("[2001:db8::2]:40000", "[2001:db8::1]:5005");

/// Two text lines, each echoed, then FIN both ways.
fn session((client, server): (&str, &str)) -> Capture {
    let mut cap = Capture::new(LinkType::RawIp);
    let mut flow = cap.tcp(addr(client), addr(server));
    flow.handshake(&mut cap);
    for line in ["hello over a new link\n", "second line, echoed too\n"] {
        flow.send(&mut cap, Dir::C2S, line.as_bytes());
        flow.send(&mut cap, Dir::S2C, line.as_bytes());
    }
    flow.close(&mut cap);
    cap
}

fn write(name: &str, cap: &Capture, tunnel: Option<Tunnel>, wrap: Option<Wrap>) -> PathBuf {
    let path = temp_path(name, "pcap");
    let linktype = wrap.map_or(101, Wrap::linktype);
    write_pcap(&path, linktype, &rewrap(cap, 5005, tunnel, wrap)).unwrap();
    path
}

/// What the tests compare: messages (client, dir, payload, frames) and conversations
/// (client, state, bytes each way, frames each way).
fn facts(path: &Path) -> (Vec<String>, Vec<String>, Value) {
    let r = labsniff(&["-r", path.to_str().unwrap(), "--json", "--proto", "text"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.problems(), Vec::<&Value>::new(), "{}", path.display());
    let messages = r
        .messages()
        .iter()
        .map(|m| {
            format!(
                "{} {} {} {}",
                m["client"], m["dir"], m["payload"], m["frames"]
            )
        })
        .collect();
    let conversations = r
        .conversations()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}+{} bytes {}+{} frames",
                c["client"],
                c["state"],
                c["bytes_c2s"],
                c["bytes_s2c"],
                c["frames_c2s"],
                c["frames_s2c"]
            )
        })
        .collect();
    (messages, conversations, r.summary().clone())
}

/// tshark's TCP payload per frame, hex (None without tshark, said on stderr).
fn tshark_payloads(path: &Path) -> Option<Vec<String>> {
    let Ok(out) = Command::new("tshark")
        .args([
            "-r",
            path.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "tcp.payload",
        ])
        .output()
    else {
        eprintln!("tshark not found: the comparison with tshark's decode is skipped");
        return None;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.replace(':', ""))
            .collect(),
    )
}

/// The wrapped capture says what the raw one says, and tshark agrees frame by frame.
fn same_as_raw(name: &str, ends: (&str, &str), tunnel: Option<Tunnel>, wrap: Option<Wrap>) {
    let cap = session(ends);
    let raw = write(&format!("{name}-raw"), &cap, None, None);
    let (messages, conversations, raw_summary) = facts(&raw);
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert_eq!(
        conversations,
        [format!("\"{}\" \"SF\" 46+46 bytes 6+5 frames", ends.0)]
    );
    let path = write(name, &cap, tunnel, wrap);
    let (m, c, summary) = facts(&path);
    assert_eq!(m, messages, "{name}");
    assert_eq!(c, conversations, "{name}");
    assert_eq!(summary["lab_packets"], raw_summary["lab_packets"], "{name}");
    assert_eq!(summary["frames"], 11, "{name}");
    if let (Some(plain), Some(got)) = (tshark_payloads(&raw), tshark_payloads(&path)) {
        assert_eq!(got, plain, "tshark on {name}");
    }
    // `LINKS_KEEP_DIR=DIR` keeps the files, for `cargo xtask compare-tshark DIR/*`.
    if let Ok(dir) = std::env::var("LINKS_KEEP_DIR") {
        std::fs::copy(&path, Path::new(&dir).join(format!("{name}.pcap"))).unwrap();
    }
    let _ = std::fs::remove_file(raw);
    let _ = std::fs::remove_file(path);
}

fn name(w: Wrap) -> String {
    format!("{w:?}").to_lowercase()
}

#[test]
fn every_new_link_type_gives_the_raw_ip_session() {
    for w in Wrap::ALL {
        for (family, ends) in [("v4", V4), ("v6", V6)] {
            same_as_raw(&format!("{}-{family}", name(w)), ends, None, Some(w));
        }
    }
}

#[test]
fn every_tunnel_is_followed_to_the_session_inside() {
    for t in Tunnel::ALL {
        let ends = if t == Tunnel::Ipip { V4 } else { V6 };
        let n = format!("{t:?}").to_lowercase();
        same_as_raw(&n, ends, Some(t), None);
    }
    // Inside a link type too: 6in4 over PPP, Teredo over Wi-Fi.
    same_as_raw("6in4-ppp", V6, Some(Tunnel::SixInFour), Some(Wrap::PppHdlc));
    same_as_raw(
        "teredo-radiotap",
        V6,
        Some(Tunnel::Teredo),
        Some(Wrap::Radiotap),
    );
}

#[test]
fn the_summary_names_each_link_type() {
    let cap = session(V4);
    for (w, link_type) in [
        (Wrap::PppBare, "ppp"),
        (Wrap::CiscoHdlc, "ppp_serial"),
        (Wrap::PppEther, "ppp_ether"),
        (Wrap::Nflog, "nflog"),
        (Wrap::Ieee80211, "ieee802_11"),
        (Wrap::Radiotap, "ieee802_11_radiotap"),
        (Wrap::Prism, "ieee802_11_prism"),
        (Wrap::Fddi, "fddi"),
        (Wrap::ArcnetLinux, "arcnet_linux"),
        (Wrap::Ipoib, "ipoib"),
    ] {
        let path = write(&format!("summary-{}", name(w)), &cap, None, Some(w));
        let (_, _, summary) = facts(&path);
        assert_eq!(summary["link_type"], link_type);
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn protected_wifi_frames_are_one_diagnostic_saying_they_are_encrypted() {
    let cap = session(V4);
    let mut frames = rewrap(&cap, 5005, None, Some(Wrap::Ieee80211));
    for (_, f) in &mut frames {
        f[1] |= 0x40; // Protected Frame
    }
    let path = temp_path("wifi-protected", "pcap");
    write_pcap(&path, 105, &frames).unwrap();
    let r = run_file(&path, &[]);
    assert_eq!(r.status, 0);
    assert_eq!(r.summary()["lab_packets"], 0);
    let d = r.problems();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["code"], "encapsulation_undecoded");
    assert_eq!(
        d[0]["text"],
        "11 frames carry 802.11 data encrypted with WEP or WPA (unreadable without the keys): \
         not decoded, so any lab traffic inside is not analysed (the first is frame 1)"
    );
}

#[test]
fn a_cut_nflog_attribute_is_a_truncated_frame_naming_it() {
    let cap = session(V4);
    let frames: Vec<(u64, Vec<u8>)> = rewrap(&cap, 5005, None, Some(Wrap::Nflog))
        .into_iter()
        .map(|(ts, f)| (ts, f[..10].to_vec()))
        .collect();
    let path = temp_path("nflog-cut", "pcap");
    write_pcap(&path, 239, &frames).unwrap();
    let r = run_file(&path, &[]);
    let d = r.problems();
    assert!(!d.is_empty());
    assert_eq!(d[0]["code"], "frame_truncated");
    assert!(
        d[0]["text"]
            .as_str()
            .unwrap()
            .contains("the NFLOG attribute (TLV) needs 12 bytes, only 10 were captured"),
        "{}",
        d[0]["text"]
    );
}

#[test]
fn a_fragmented_tunnel_packet_is_reassembled_then_followed() {
    let (client, server) = V4;
    let mut cap = Capture::new(LinkType::RawIp);
    let mut flow = cap.tcp(addr(client), addr(server));
    flow.handshake(&mut cap);
    let long = "a line long enough to be cut into several fragments of the outer packet\n";
    flow.send(&mut cap, Dir::C2S, long.as_bytes());
    flow.send(&mut cap, Dir::S2C, long.as_bytes());
    flow.close(&mut cap);
    let mut frames = Vec::new();
    for (i, (ts, packet)) in rewrap(&cap, 5005, Some(Tunnel::Ipip), None)
        .into_iter()
        .enumerate()
    {
        let id = u32::try_from(i).unwrap() + 100;
        for f in labfixtures::fragment::fragment(&packet, 64, id) {
            frames.push((ts, f));
        }
    }
    // ACKs and FINs (60 bytes) whole; SYN and SYN-ACK (72) in 2 fragments, the two
    // 132-byte data packets in 3 fragments each.
    assert_eq!(frames.len(), 15);
    let path = temp_path("ipip-fragmented", "pcap");
    write_pcap(&path, 101, &frames).unwrap();
    if let Ok(dir) = std::env::var("LINKS_KEEP_DIR") {
        std::fs::copy(&path, Path::new(&dir).join("ipip-fragmented.pcap")).unwrap();
    }
    let r = run_file(&path, &["--proto", "text"]);
    let notes: Vec<_> = r.problems().iter().map(|d| d["code"].clone()).collect();
    // The reassembly note, said once for the conversation.
    assert_eq!(notes, ["reassembled"]);
    let payloads: Vec<_> = r.messages().iter().map(|m| m["payload"].clone()).collect();
    assert_eq!(payloads, [long, long]);
    let c = r.conversations();
    assert_eq!(c.len(), 1);
    assert_eq!(
        (
            c[0]["state"].as_str(),
            c[0]["bytes_c2s"].as_u64(),
            c[0]["bytes_s2c"].as_u64()
        ),
        (Some("SF"), Some(72), Some(72))
    );
}

/// ARCnet and IPoIB, the two link types of the second round: tshark decodes every frame
/// of both sessions to the same TCP payloads as the raw capture, and the protocols
/// tshark names show it read them as ARCnet and IPoIB (not as undecoded data).
#[test]
fn arcnet_and_ipoib_agree_with_tshark_frame_by_frame() {
    for (w, proto) in [(Wrap::ArcnetLinux, "arcnet"), (Wrap::Ipoib, "ipoib")] {
        for (family, ends) in [("ip", V4), ("ipv6", V6)] {
            let cap = session(ends);
            let path = write(&format!("tshark-{proto}-{family}"), &cap, None, Some(w));
            let Ok(out) = Command::new("tshark")
                .args(["-r", path.to_str().unwrap(), "-T", "fields"])
                .args(["-e", "frame.protocols", "-e", "tcp.payload"])
                .output()
            else {
                eprintln!("tshark not found: the comparison with tshark's decode is skipped");
                return;
            };
            let text = String::from_utf8(out.stdout).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 11, "{text}");
            for l in &lines {
                assert!(
                    l.starts_with(&format!("{proto}:{family}:tcp")),
                    "{proto} {family}: {l}"
                );
            }
            let data = lines.iter().filter(|l| l.ends_with("0a")).count();
            assert_eq!(data, 4, "{text}");
            let _ = std::fs::remove_file(path);
        }
    }
}

#[test]
fn arcnet_arp_is_skipped_and_a_cut_ipoib_frame_is_truncated_with_its_frame_number() {
    let cap = session(V4);
    let mut frames = rewrap(&cap, 5005, None, Some(Wrap::ArcnetLinux));
    // Frame 1 becomes ARP over ARCnet (RFC 1201 protocol id 0xd5): not IP, not a problem.
    frames[0].1[4] = 0xd5;
    let path = temp_path("arcnet-arp", "pcap");
    write_pcap(&path, 129, &frames).unwrap();
    let r = run_file(&path, &[]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.problems(), Vec::<&Value>::new());
    assert_eq!(r.summary()["lab_packets"], 10);
    let _ = std::fs::remove_file(path);

    let mut frames = rewrap(&cap, 5005, None, Some(Wrap::Ipoib));
    frames[2].1.truncate(30);
    let path = temp_path("ipoib-cut", "pcap");
    write_pcap(&path, 242, &frames).unwrap();
    let r = run_file(&path, &[]);
    let d = r.problems();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["code"], "frame_truncated");
    assert_eq!(d[0]["frame"], 3, "{}", d[0]);
    assert!(
        d[0]["text"]
            .as_str()
            .unwrap()
            .contains("needs 44 bytes, only 30 were captured"),
        "{}",
        d[0]["text"]
    );
    let _ = std::fs::remove_file(path);
}
