#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Each Ethernet encapsulation around the same lab session gives the same messages as
//! plain Ethernet (and, where tshark is installed, the bytes tshark finds in the same
//! frames); what labsniff does not decode is one diagnostic with the frame count.

mod common;

use common::*;
use labfixtures::savefile::SavefileWriter;
use labfixtures::{lab, Capture, Dir, FileFormat, LinkType};
use std::path::{Path, PathBuf};
use std::process::Command;

fn session(client: &str, server: &str) -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr(client), addr(server));
    flow.handshake(&mut cap);
    for i in 1..=2u32 {
        let m = lab::v3(i, format!("encapsulated {i}").as_bytes());
        flow.send(&mut cap, Dir::C2S, &m);
        flow.send(&mut cap, Dir::S2C, &m);
    }
    flow.close(&mut cap);
    cap
}

/// Rewrites a plain Ethernet frame: MAC addresses, then `wrap(ethertype, rest)`.
fn rewrite(cap: &Capture, name: &str, wrap: &dyn Fn(u16, &[u8]) -> Vec<u8>) -> PathBuf {
    let path = temp_path(name, "pcap");
    let file = std::fs::File::create(&path).unwrap();
    let mut w = SavefileWriter::new(file, FileFormat::Pcap, 1, 262_144).unwrap();
    for f in cap.frame_list() {
        let ether_type = u16::from_be_bytes([f.data[12], f.data[13]]);
        let frame = [&f.data[..12], &wrap(ether_type, &f.data[14..])[..]].concat();
        let orig = u32::try_from(frame.len()).unwrap();
        w.write_frame(f.ts_micros, &frame, orig).unwrap();
    }
    w.finish().unwrap();
    path
}

fn vlan(tpid: u16, vid: u16) -> Vec<u8> {
    [tpid.to_be_bytes(), vid.to_be_bytes()].concat()
}

fn mpls(ether_type: u16, ip: &[u8]) -> Vec<u8> {
    assert!(ether_type == 0x0800 || ether_type == 0x86dd);
    // Two labels: 16 (not bottom), 17 (bottom of stack), TTL 64.
    [
        &[0x88, 0x47, 0x00, 0x01, 0x00, 64, 0x00, 0x01, 0x11, 64][..],
        ip,
    ]
    .concat()
}

fn pppoe(ether_type: u16, ip: &[u8]) -> Vec<u8> {
    let ppp = if ether_type == 0x86dd {
        0x0057u16
    } else {
        0x0021
    };
    let len = u16::try_from(ip.len() + 2).unwrap();
    [
        &[0x88, 0x64, 0x11, 0x00, 0x12, 0x34][..],
        &len.to_be_bytes(),
        &ppp.to_be_bytes(),
        ip,
    ]
    .concat()
}

/// Builds the bytes after the MAC addresses from the EtherType and the IP packet.
type Wrap = Box<dyn Fn(u16, &[u8]) -> Vec<u8>>;

fn encapsulations() -> Vec<(&'static str, Wrap)> {
    vec![
        ("mpls", Box::new(mpls)),
        ("pppoe", Box::new(pppoe)),
        (
            "pppoe-qinq",
            Box::new(|t, ip| [vlan(0x88a8, 100), vlan(0x8100, 42), pppoe(t, ip)].concat()),
        ),
        (
            "vlan-mpls",
            Box::new(|t, ip| [vlan(0x8100, 7), mpls(t, ip)].concat()),
        ),
        (
            "pbb",
            Box::new(|t, ip| {
                [
                    vlan(0x88a8, 5),
                    vec![0x88, 0xe7, 0x00, 0x01, 0x00, 0x02],
                    vec![2, 0, 0, 0, 0, 0x11, 2, 0, 0, 0, 0, 0x22],
                    t.to_be_bytes().to_vec(),
                    ip.to_vec(),
                ]
                .concat()
            }),
        ),
        (
            "llc-snap",
            Box::new(|t, ip| {
                let len = u16::try_from(ip.len() + 8).unwrap();
                [
                    &len.to_be_bytes()[..],
                    &[0xaa, 0xaa, 0x03, 0, 0, 0],
                    &t.to_be_bytes(),
                    ip,
                ]
                .concat()
            }),
        ),
        (
            "vn-tag",
            Box::new(|t, ip| {
                [
                    &[0x89, 0x26, 0x80, 0x01, 0x00, 0x02][..],
                    &t.to_be_bytes(),
                    ip,
                ]
                .concat()
            }),
        ),
    ]
}

fn run(path: &Path) -> Run {
    labsniff(&["-r", path.to_str().unwrap(), "--json"])
}

fn payloads(run: &Run) -> Vec<(String, String, String, String)> {
    run.messages()
        .iter()
        .map(|m| {
            (
                m["client"].as_str().unwrap().to_string(),
                m["dir"].as_str().unwrap().to_string(),
                m["payload"].as_str().unwrap().to_string(),
                m["frames"].to_string(),
            )
        })
        .collect()
}

/// tshark's TCP payload per frame, hex.
fn tshark_payloads(path: &Path) -> Option<Vec<String>> {
    let out = Command::new("tshark")
        .args([
            "-r",
            path.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "tcp.payload",
        ])
        .output()
        .ok()?;
    assert!(out.status.success());
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.replace(':', ""))
            .collect(),
    )
}

#[test]
fn every_encapsulation_decodes_to_the_plain_ethernet_messages() {
    for (client, server) in [
        ("10.0.0.2:40000", "10.0.0.1:5005"),
        ("[fe80::2]:40000", "[fe80::1]:5005"),
    ] {
        let cap = session(client, server);
        let plain = rewrite(&cap, "plain", &|t, ip| [&t.to_be_bytes()[..], ip].concat());
        let expect = payloads(&run(&plain));
        assert_eq!(expect.len(), 4);
        let tshark_plain = tshark_payloads(&plain);
        for (name, wrap) in encapsulations() {
            let path = rewrite(&cap, name, wrap.as_ref());
            let r = run(&path);
            assert_eq!(r.status, 0, "{name}: {}", r.stderr);
            assert_eq!(payloads(&r), expect, "{name} {client}");
            assert_eq!(r.problems(), Vec::<&serde_json::Value>::new(), "{name}");
            assert_eq!(r.summary()["lab_packets"], 11, "{name}");
            // tshark decodes every one of these to the same TCP payloads.
            if let (Some(plain), Some(got)) = (&tshark_plain, tshark_payloads(&path)) {
                assert_eq!(&got, plain, "tshark on {name}");
            }
        }
    }
}

#[test]
fn undecodable_encapsulation_is_one_diagnostic_with_the_frame_count() {
    let cap = session("10.0.0.2:40000", "10.0.0.1:5005");
    // Ethernet over MPLS with a pseudowire control word (RFC 4448): label, CW, then
    // the customer's whole Ethernet frame.
    let path = rewrite(&cap, "pw-cw", &|t, ip| {
        [
            &[0x88, 0x47, 0x00, 0x01, 0x01, 64, 0, 0, 0, 0][..],
            &[2, 0, 0, 0, 0, 0x11, 2, 0, 0, 0, 0, 0x22],
            &t.to_be_bytes(),
            ip,
        ]
        .concat()
    });
    let r = run(&path);
    assert_eq!(r.status, 0);
    assert_eq!(r.summary()["lab_packets"], 0);
    let d = r.problems();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["code"], "encapsulation_undecoded");
    assert_eq!(d[0]["frame"], 1);
    assert_eq!(
        d[0]["text"],
        "11 frames carry MPLS with a pseudowire control word: not decoded, so any lab traffic inside is not analysed (the first is frame 1)"
    );
    // The plain report says it too.
    let text = labsniff(&["-r", path.to_str().unwrap()]).stdout;
    assert!(
        text.contains("11 frames carry MPLS with a pseudowire control word"),
        "{text}"
    );
}
