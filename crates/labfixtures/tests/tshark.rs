//! A third opinion: Wireshark's dissectors (tshark) read the fixtures and must find
//! no malformed frame, no bad checksum and no warning-level expert note.
//! Skipped with a note when tshark is not installed.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;

use std::process::Command;

use common::{tshark_available, TempPath};
use labfixtures::{lab, synth, Capture, Dir, FileFormat, LinkType};

/// Wireshark's expert severity "warning" (PI_WARN); "chat" and "note" are fine.
const PI_WARN: u64 = 0x0060_0000;

/// A clean capture: an IPv4 echo, an IPv6 loopback echo with timestamps crossing the
/// sequence wrap, and a UDP exchange. Returns (capture, per frame: seq, TCP length).
fn clean(link: LinkType) -> (Capture, Vec<Option<(u32, usize)>>) {
    let mut cap = Capture::new(link);
    let mut expect = Vec::new();
    let mut f4 = cap.tcp(
        "192.168.7.2:40000".parse().unwrap(),
        "192.168.7.1:5005".parse().unwrap(),
    );
    f4.handshake(&mut cap);
    expect.extend([Some((1000, 0)), Some((5000, 0)), Some((1001, 0))]);
    let m = lab::v3(1, b"hello");
    f4.send(&mut cap, Dir::C2S, &m);
    f4.send(&mut cap, Dir::S2C, &m);
    expect.extend([Some((1001, 14)), Some((5001, 14))]);
    f4.close(&mut cap);
    expect.extend([
        Some((1015, 0)),
        Some((5015, 0)),
        Some((5015, 0)),
        Some((1016, 0)),
    ]);

    let mut f6 = cap
        .tcp(
            "[::1]:40001".parse().unwrap(),
            "[::1]:5005".parse().unwrap(),
        )
        .with_isns(0xFFFF_FFF8, 7)
        .with_timestamps();
    f6.handshake(&mut cap);
    expect.extend([Some((0xFFFF_FFF8, 0)), Some((7, 0)), Some((0xFFFF_FFF9, 0))]);
    let m = lab::v2(1, b"wrap around");
    f6.send_split(&mut cap, Dir::C2S, &m, 10);
    expect.extend([Some((0xFFFF_FFF9, 10)), Some((3, 10)), Some((13, 9))]);
    f6.send(&mut cap, Dir::S2C, &m);
    expect.push(Some((8, 29)));
    f6.close(&mut cap);
    expect.extend([Some((22, 0)), Some((37, 0)), Some((37, 0)), Some((23, 0))]);

    cap.udp(
        "192.168.7.2:40002".parse().unwrap(),
        "192.168.7.1:5005".parse().unwrap(),
        b"ping",
    );
    expect.push(None);
    (cap, expect)
}

/// Run tshark on `path`; one row of fields per frame.
fn tshark_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(["-o", "tcp.check_checksum:TRUE"])
        .args(["-o", "ip.check_checksum:TRUE"])
        .args(["-o", "udp.check_checksum:TRUE"])
        .args(["-o", "tcp.relative_sequence_numbers:FALSE"])
        .args(["-T", "fields", "-E", "separator=|", "-E", "occurrence=a"])
        .args(["-e", "frame.number", "-e", "tcp.seq_raw", "-e", "tcp.len"])
        .args(["-e", "tcp.checksum.status", "-e", "ip.checksum.status"])
        .args(["-e", "udp.checksum.status", "-e", "_ws.malformed"])
        .args(["-e", "_ws.expert.severity", "-e", "_ws.expert.message"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

fn max_severity(field: &str) -> u64 {
    field
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u64>().unwrap())
        .max()
        .unwrap_or(0)
}

#[test]
fn tshark_finds_nothing_wrong_on_any_link_or_format() {
    if !tshark_available() {
        skip_note!("skipped: tshark is not installed");
        return;
    }
    for link in LinkType::all() {
        for format in [FileFormat::Pcap, FileFormat::PcapNg] {
            let (cap, expect) = clean(link);
            let path = TempPath::new(&format!("tshark-{link:?}.{}", format.extension()));
            cap.write(&path.0, format).unwrap();
            let rows = tshark_rows(&path.0);
            assert_eq!(rows.len(), cap.frames(), "{link:?} {format:?}: frame count");
            assert_eq!(rows.len(), expect.len());
            for (row, want) in rows.iter().zip(&expect) {
                let what = format!("{link:?} {format:?} frame {}: {row:?}", row[0]);
                match want {
                    Some((seq, len)) => {
                        assert_eq!(row[1], seq.to_string(), "{what}: seq");
                        assert_eq!(row[2], len.to_string(), "{what}: len");
                        // 1 = "Good" (0 would be "Bad", 2 "Unverified").
                        assert_eq!(row[3], "1", "{what}: TCP checksum");
                    }
                    None => assert_eq!(row[5], "1", "{what}: UDP checksum"),
                }
                // IPv4 frames say 1; IPv6 has no header checksum (empty).
                assert!(row[4] == "1" || row[4].is_empty(), "{what}: IP checksum");
                assert!(row[6].is_empty(), "{what}: malformed");
                assert!(max_severity(&row[7]) < PI_WARN, "{what}: expert warning");
            }
        }
    }
}

#[test]
fn tshark_accepts_a_synthetic_session() {
    if !tshark_available() {
        skip_note!("skipped: tshark is not installed");
        return;
    }
    let path = TempPath::new("tshark-synth.pcap");
    let stats = synth::lab_session(&path.0, 60, 5, 9).unwrap();
    let rows = tshark_rows(&path.0);
    assert_eq!(rows.len() as u64, stats.packets);
    for row in &rows {
        assert_eq!(row[3], "1", "TCP checksum: {row:?}");
        assert_eq!(row[4], "1", "IP checksum: {row:?}");
        assert!(row[6].is_empty(), "malformed: {row:?}");
        assert!(max_severity(&row[7]) < PI_WARN, "expert warning: {row:?}");
    }
}
