#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! `-r CAP -w OUT.pcapng --annotate`: tshark shows labsniff's comment on every message
//! frame and on the handshake frames (`frame.comment`), and every packet is the input's,
//! byte for byte, with the same timestamp. Skips, saying so, without tshark.

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netlab")
        .join(name)
}

fn tshark() -> bool {
    Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn out_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labsniff-annotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn labsniff(args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run labsniff");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every packet: (seconds, nanoseconds, original length, bytes), as libpcap reads it.
fn packets(path: &Path) -> Vec<(i64, i64, u32, Vec<u8>)> {
    let mut cap = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano).unwrap();
    let mut out = Vec::new();
    while let Ok(p) = cap.next_packet() {
        out.push((
            p.header.ts.tv_sec,
            p.header.ts.tv_usec,
            p.header.len,
            p.data.to_vec(),
        ));
    }
    out
}

/// `tshark -T fields` of a file.
fn fields(path: &Path, fields: &[&str]) -> String {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(path).args(["-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn check(name: &str) {
    let input = fixture(name);
    let out = out_path(&format!("{name}.pcapng"));
    let (ok, _, stderr) = labsniff(&[
        "-r".as_ref(),
        input.as_os_str(),
        "-w".as_ref(),
        out.as_os_str(),
        "--annotate".as_ref(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("with labsniff's comment"), "{stderr}");

    // Byte-identical packets, same timestamps and lengths.
    let (a, b) = (packets(&input), packets(&out));
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "frame {} differs", i + 1);
    }
    // And as tshark sees them: the same hex dump of every packet, the same times.
    let dump = |p: &Path| {
        let o = Command::new("tshark")
            .arg("-r")
            .arg(p)
            .arg("-x")
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert_eq!(dump(&input), dump(&out));
    let times = [
        "frame.number",
        "frame.time_epoch",
        "frame.len",
        "frame.cap_len",
    ];
    assert_eq!(fields(&input, &times), fields(&out, &times));

    // The comments.
    let comments: BTreeMap<u64, String> = fields(&out, &["frame.number", "frame.comment"])
        .lines()
        .filter_map(|l| {
            let (n, c) = l.split_once('\t')?;
            Some((n.parse().ok()?, c.to_string()))
        })
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let (_, json, _) = labsniff(&["-r".as_ref(), input.as_os_str(), "--json".as_ref()]);
    let lines: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut checked = 0;
    for m in lines.iter().filter(|v| v["type"] == "message") {
        let payload: String = m["payload"].as_str().unwrap().chars().take(10).collect();
        for f in m["frames"].as_array().unwrap() {
            let f = f.as_u64().unwrap();
            let c = comments
                .get(&f)
                .unwrap_or_else(|| panic!("frame {f} has no comment"));
            assert!(c.starts_with("labsniff: "), "{c}");
            assert!(c.contains(&payload), "frame {f}: {c:?} lacks {payload:?}");
            checked += 1;
        }
    }
    for c in lines.iter().filter(|v| v["type"] == "conversation") {
        let t = &c["tcp"];
        for (key, step) in [
            ("syn_frame", "handshake 1/3"),
            ("syn_ack_frame", "handshake 2/3"),
            ("ack_frame", "handshake 3/3"),
        ] {
            if let Some(f) = t[key].as_u64() {
                assert!(comments[&f].contains(step), "frame {f}: {}", comments[&f]);
                checked += 1;
            }
        }
    }
    for a in lines.iter().filter(|v| v["type"] == "analysis") {
        let f = a["frame"].as_u64().unwrap();
        let text = a["text"].as_str().unwrap();
        let text = text.strip_prefix(&format!("frame {f}: ")).unwrap_or(text);
        let start: String = text.chars().take(30).collect();
        assert!(comments[&f].contains(&start), "frame {f}: {}", comments[&f]);
    }
    assert!(checked > 6, "{name}: only {checked} frames checked");
    // The capture's summary is the file's comment.
    let info = Command::new("capinfos").arg(&out).output();
    if let Ok(info) = info {
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains("labsniff: "), "{info}");
    }
}

#[test]
fn annotated_pcapng_carries_the_verdicts_and_the_same_packets() {
    if !tshark() {
        skip_note!("skipped: tshark is not installed (cargo xtask test installs it as root)");
        return;
    }
    check("loss_v3_100k.server.pcap");
    check("threaded_server.server.pcap");
}

#[test]
fn w_keeps_plain_pcap_unless_pcapng_is_asked_for() {
    let input = fixture("threaded_server.server.pcap");
    let plain = out_path("plain.pcap");
    let (ok, _, err) = labsniff(&[
        "-r".as_ref(),
        input.as_os_str(),
        "-w".as_ref(),
        plain.as_os_str(),
    ]);
    assert!(ok, "{err}");
    let magic = |p: &Path| std::fs::read(p).unwrap()[..4].to_vec();
    assert_eq!(magic(&plain), [0xd4, 0xc3, 0xb2, 0xa1]);
    let forced = out_path("forced.cap");
    let (ok, _, err) = labsniff(&[
        "-r".as_ref(),
        input.as_os_str(),
        "-w".as_ref(),
        forced.as_os_str(),
        "--pcapng".as_ref(),
    ]);
    assert!(ok, "{err}");
    // A pcapng section header block.
    assert_eq!(magic(&forced), [0x0a, 0x0d, 0x0d, 0x0a]);
    assert_eq!(packets(&input), packets(&forced));
    // --annotate needs -w and -r.
    let (ok, _, _) = labsniff(&["-r".as_ref(), input.as_os_str(), "--annotate".as_ref()]);
    assert!(!ok);
}
