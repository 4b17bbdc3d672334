//! `labsniff -r NAME.client.pcap --html OUT --peer-capture NAME.server.pcap` (and the
//! reverse) on every netlab scenario: the frames the page draws `data-lost="between"`
//! are exactly the TCP frames the forwarder between the two captures dropped
//! (NAME.forwarder.jsonl, decision "drop"), compared by direction, raw seq, raw ack and
//! payload length; and without `--peer-capture` nothing is marked lost between.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn netlab() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/netlab")
}

/// Every scenario with both captures and a forwarder log.
fn scenarios() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(netlab())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".forwarder.jsonl").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    names
}

/// (dir, seq, ack, len) of each TCP frame the forwarder dropped, sorted.
fn drops(name: &str) -> Vec<(String, u64, u64, u64)> {
    let log = std::fs::read_to_string(netlab().join(format!("{name}.forwarder.jsonl"))).unwrap();
    let mut out: Vec<(String, u64, u64, u64)> = log
        .lines()
        .take(1_000_000)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["decision"] == "drop" && v["proto"] == "tcp")
        .map(|v| {
            let n = |k: &str| v[k].as_u64().unwrap();
            (
                v["dir"].as_str().unwrap().to_string(),
                n("seq"),
                n("ack"),
                n("len"),
            )
        })
        .collect();
    out.sort();
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let rest = &tag[at..];
    Some(&rest[..rest.find('"')?])
}

/// (dir, seq, ack, len) of each frame the page draws lost between, sorted.
fn lost_on_page(html: &str) -> Vec<(String, u64, u64, u64)> {
    let mut out = Vec::new();
    for tag in html.split("<g class=\"f ").skip(1).take(100_000) {
        let tag = &tag[..tag.find('>').unwrap()];
        if attr(tag, "data-lost").is_none() {
            continue;
        }
        assert_eq!(attr(tag, "data-lost"), Some("between"));
        let raw = |k: &str| -> u64 {
            let v = attr(tag, k).unwrap();
            v.split(' ').nth(1).map_or(0, |r| r.parse().unwrap())
        };
        let dir = tag.split(' ').next().unwrap().to_string();
        let len = attr(tag, "data-len").unwrap().parse().unwrap();
        out.push((dir, raw("data-seq"), raw("data-ack"), len));
    }
    out.sort();
    out
}

fn page(here: &Path, peer: Option<&Path>, out: &Path) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labsniff"));
    cmd.arg("-r").arg(here).arg("--html").arg(out);
    if let Some(p) = peer {
        cmd.arg("--peer-capture").arg(p);
    }
    let run = cmd.output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn lost_between_is_exactly_the_forwarders_drops() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html_peer");
    std::fs::create_dir_all(&dir).unwrap();
    let mut total = 0;
    for name in scenarios() {
        let client = netlab().join(format!("{name}.client.pcap"));
        let server = netlab().join(format!("{name}.server.pcap"));
        let want = drops(&name);
        for (here, there) in [(&client, &server), (&server, &client)] {
            let out = dir.join(format!(
                "{}.html",
                here.file_name().unwrap().to_string_lossy()
            ));
            let html = page(here, Some(there), &out);
            assert_eq!(lost_on_page(&html), want, "{name}: -r {}", here.display());
            // Each lost frame has its explanation.
            assert_eq!(
                html.matches("<li class=\"finding lost\"").count(),
                want.len(),
                "{name}"
            );
            let alone = page(here, None, &out);
            assert!(lost_on_page(&alone).is_empty(), "{name}");
        }
        total += want.len();
    }
    // The scenarios do drop frames (loss_v3_100k: 9, loss_text: 8, ...).
    assert!(total >= 15, "{total} drops");
}
