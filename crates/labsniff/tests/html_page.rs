//! `labsniff -r FILE --html OUT.html` on the netlab captures (real kernel stacks, seeded
//! loss), checked from the page's text against the page contract (SCHEMA.md, "The HTML
//! page") and against labsniff's own `--json` lines:
//! - one `data-conv` section per conversation, TCP ones with a `data-graph="ladder"`;
//! - every frame that the `analysis` lines flag is drawn with `data-flags` holding the
//!   same names, and no other frame has `data-flags`;
//! - each TCP ladder draws as many frames as the conversation has;
//! - nothing is loaded from another address: no `http://`/`https://` inside a tag, no
//!   `src=`, `<link>` or `url(` other than `url(#…)`;
//! - the default outputs stay as they were (the text report with --html is the text
//!   report without it).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn netlab() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/netlab");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{} netlab captures", files.len());
    files
}

fn labsniff(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The page of `pcap`, and the text report printed with it.
fn page(pcap: &Path) -> (String, Vec<u8>) {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("html_page")
        .join(pcap.file_name().unwrap())
        .with_extension("html");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let run = labsniff(&[
        "-r".as_ref(),
        pcap.as_os_str(),
        "--html".as_ref(),
        out.as_os_str(),
    ]);
    (std::fs::read_to_string(&out).unwrap(), run.stdout)
}

/// What the JSON lines say: flagged frames per conversation, and TCP conversations
/// with their frame counts.
struct Facts {
    flagged: BTreeMap<u64, Vec<String>>,
    tcp_frames: BTreeMap<u64, u64>,
    convs: usize,
}

fn facts(pcap: &Path) -> Facts {
    let out = labsniff(&["-r".as_ref(), pcap.as_os_str(), "--json".as_ref()]);
    let mut f = Facts {
        flagged: BTreeMap::new(),
        tcp_frames: BTreeMap::new(),
        convs: 0,
    };
    for line in String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .take(1_000_000)
    {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        match v["type"].as_str() {
            Some("analysis") => {
                let names = v["flags"].as_array().unwrap().iter();
                let names = names.map(|n| n.as_str().unwrap().to_string()).collect();
                f.flagged.insert(v["frame"].as_u64().unwrap(), names);
            }
            Some("conversation") => {
                f.convs += 1;
                if v["transport"] == "tcp" {
                    let frames =
                        v["frames_c2s"].as_u64().unwrap() + v["frames_s2c"].as_u64().unwrap();
                    f.tcp_frames.insert(v["conv"].as_u64().unwrap(), frames);
                }
            }
            _ => {}
        }
    }
    f
}

/// The value of attribute `name` in the tag that starts at `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let end = tag.find('>')?;
    let tag = &tag[..end];
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let rest = &tag[at..];
    Some(&rest[..rest.find('"')?])
}

/// Every drawn frame of the ladders: (conv, frame) → its data-flags.
fn drawn(html: &str) -> BTreeMap<(u64, u64), Option<String>> {
    let mut out = BTreeMap::new();
    for section in html.split("<section ").skip(1).take(1_000) {
        let conv: u64 = attr(section, "data-conv").unwrap().parse().unwrap();
        let Some(at) = section.find("data-graph=\"ladder\"") else {
            continue;
        };
        let ladder = &section[at..section.find("</svg>").unwrap()];
        for g in ladder.split("<g class=\"f ").skip(1).take(100_000) {
            let tag = format!(" class=\"f {g}");
            let frame: u64 = attr(&tag, "data-frame").unwrap().parse().unwrap();
            let flags = attr(&tag, "data-flags").map(str::to_string);
            assert!(
                out.insert((conv, frame), flags).is_none(),
                "frame {frame} twice"
            );
        }
    }
    out
}

#[test]
fn the_page_holds_the_contract_on_every_netlab_capture() {
    let mut flagged_seen = 0;
    for pcap in netlab() {
        let name = pcap.display().to_string();
        let (html, _) = page(&pcap);
        let facts = facts(&pcap);
        assert!(
            html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"),
            "{name}"
        );
        assert_eq!(
            html.matches("<section class=\"conv\"").count(),
            facts.convs.min(100),
            "{name}"
        );
        let drawn = drawn(&html);
        for (conv, frames) in &facts.tcp_frames {
            let n = drawn.keys().filter(|(c, _)| c == conv).count() as u64;
            assert_eq!(n, *frames, "{name}: conversation {conv}'s ladder");
        }
        for (frame, names) in &facts.flagged {
            let found = drawn.iter().find(|((_, f), _)| f == frame);
            let Some((_, flags)) = found else {
                panic!("{name}: flagged frame {frame} not drawn")
            };
            assert_eq!(
                flags.as_deref(),
                Some(names.join(" ").as_str()),
                "{name}: frame {frame}"
            );
            flagged_seen += 1;
        }
        let with_flags = drawn.values().filter(|f| f.is_some()).count();
        assert_eq!(
            with_flags,
            facts.flagged.len(),
            "{name}: frames with data-flags"
        );
        if !facts.tcp_frames.is_empty() {
            assert!(html.contains("data-graph=\"rtt\""), "{name}");
        }
    }
    // The captures do have losses: the flags were checked, not only absent.
    assert!(flagged_seen > 50, "{flagged_seen} flagged frames");
}

/// Whether byte `at` of `html` lies inside a tag (between `<` and `>`).
fn in_tag(html: &str, at: usize) -> bool {
    let before = &html[..at];
    before.rfind('<') > before.rfind('>')
}

#[test]
fn the_page_loads_nothing_from_elsewhere() {
    for pcap in netlab() {
        let name = pcap.display().to_string();
        let (html, _) = page(&pcap);
        for scheme in ["http://", "https://", "//"] {
            for (at, _) in html.match_indices(scheme).take(10_000) {
                // `//` inside the script (comments, regular expressions) is no address.
                let script = html[..at].rfind("<script>") > html[..at].rfind("</script>");
                if scheme == "//" && script {
                    continue;
                }
                assert!(!in_tag(&html, at), "{name}: {scheme} in a tag at byte {at}");
            }
        }
        for bad in [" src=", "<link", "@import", "<iframe", "<img"] {
            assert!(!html.contains(bad), "{name}: {bad}");
        }
        for (at, _) in html.match_indices("url(").take(10_000) {
            assert!(html[at..].starts_with("url(#"), "{name}: url( at byte {at}");
        }
    }
}

#[test]
fn the_text_report_is_unchanged_by_html() {
    for pcap in netlab().iter().step_by(4) {
        let (_, with) = page(pcap);
        let without = labsniff(&["-r".as_ref(), pcap.as_os_str()]).stdout;
        assert_eq!(with, without, "{}", pcap.display());
    }
}

#[test]
fn json_with_html_prints_no_segment_lines_unless_asked() {
    let pcap = netlab()
        .into_iter()
        .find(|p| p.ends_with("loss_v3_100k.client.pcap"))
        .unwrap();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html_page/json.html");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let plain = labsniff(&["-r".as_ref(), pcap.as_os_str(), "--json".as_ref()]).stdout;
    let with = labsniff(&[
        "-r".as_ref(),
        pcap.as_os_str(),
        "--json".as_ref(),
        "--html".as_ref(),
        out.as_os_str(),
    ])
    .stdout;
    assert_eq!(plain, with);
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("data-frame="));
}

#[test]
fn the_class_page_has_every_verdict_and_links_each_capture_page() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html_class");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let class = dir.join("class.html");
    let files: Vec<PathBuf> = netlab().into_iter().step_by(3).collect();
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "grade".as_ref(),
        "--exercise".as_ref(),
        "3.2".as_ref(),
        "--json".as_ref(),
    ];
    args.extend(files.iter().map(|f| f.as_os_str()));
    let json = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .args(&args)
        .output()
        .unwrap();
    args.push("--html".as_ref());
    args.push(class.as_os_str());
    let with = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .args(&args)
        .output()
        .unwrap();
    // The grading's own output is the same with the page.
    assert_eq!(json.stdout, with.stdout);
    let html = std::fs::read_to_string(&class).unwrap();
    // One frame is "frame N", never "frames N".
    let single = html.split("(frames ").skip(1).find(|rest| {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        n > 0 && rest.as_bytes().get(n) == Some(&b')')
    });
    assert!(single.is_none(), "(frames {}", single.unwrap_or_default());
    assert!(
        html.contains("(frame 1)"),
        "no single-frame evidence to check"
    );
    let rows: Vec<&str> = html.split("<tr data-file=").skip(1).collect();
    assert_eq!(rows.len(), files.len());
    for (line, row) in String::from_utf8(json.stdout).unwrap().lines().zip(&rows) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for r in v["requirements"].as_array().unwrap() {
            let cell = format!(
                "<td class=\"{}\" data-req=\"{}\"",
                // pass, fail or undecided (3.2's thread requirement without a trace)
                r["outcome"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            );
            assert!(row.contains(&cell), "{}: {cell}", v["file"]);
        }
        // The capture's page is written beside the class page.
        let href = row.split("<a href=\"").nth(1).unwrap();
        let page = dir.join(&href[..href.find('"').unwrap()]);
        let text = std::fs::read_to_string(&page).unwrap();
        assert!(
            text.contains("<section class=\"conv\" id=\"conv-1\" data-conv=\"1\""),
            "{}",
            page.display()
        );
    }
}

#[test]
fn svg_is_the_ladder_and_udp_keeps_the_flow_graph() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html_svg");
    std::fs::create_dir_all(&dir).unwrap();
    for pcap in netlab() {
        let out = dir.join(pcap.file_name().unwrap()).with_extension("svg");
        labsniff(&[
            "-r".as_ref(),
            pcap.as_os_str(),
            "--svg".as_ref(),
            out.as_os_str(),
        ]);
        let svg = std::fs::read_to_string(&out).unwrap();
        let facts = facts(&pcap);
        assert!(svg.starts_with("<?xml"), "{}", pcap.display());
        if facts.tcp_frames.is_empty() {
            // No TCP segment to draw: the flow graph's arrows (UDP datagrams).
            assert!(svg.contains("<g class=\"arrow"), "{}", pcap.display());
            continue;
        }
        let frames: u64 = facts.tcp_frames.values().sum();
        assert_eq!(
            svg.matches(" data-frame=").count() as u64,
            frames,
            "{}",
            pcap.display()
        );
        assert_eq!(svg.matches(" data-flags=").count(), facts.flagged.len());
        // One document: the namespace once, no other address.
        assert_eq!(svg.matches("http://").count(), 1);
        assert_eq!(svg.matches("<svg ").count(), 1 + facts.tcp_frames.len());
    }
}

#[test]
fn the_rtt_graph_draws_the_estimator_facts_where_the_data_left() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/netlab");
    for (name, drawn) in [
        ("loss_v3_100k.client.pcap", "c2s"),
        ("loss_v3_100k.server.pcap", "s2c"),
    ] {
        let pcap = dir.join(name);
        let (html, _) = page(&pcap);
        let out = labsniff(&["-r".as_ref(), pcap.as_os_str(), "--json".as_ref()]);
        let conv: serde_json::Value = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["type"] == "conversation")
            .expect("a conversation");
        let srtt = conv["tcp"][format!("round_trips_{drawn}")]["estimated_rtt"]
            .as_f64()
            .expect("an EstimatedRTT");
        let title = format!(
            "EstimatedRTT (RFC 6298) of the {}'s data at the end: {:.3} ms",
            if drawn == "c2s" { "client" } else { "server" },
            srtt * 1000.0
        );
        assert!(
            html.contains(&format!("<line class=\"srtt {drawn}\"")),
            "{name}"
        );
        assert!(html.contains(&title), "{name}: {title}");
        // Only where the capture saw that data leave.
        let other = if drawn == "c2s" { "s2c" } else { "c2s" };
        assert!(
            !html.contains(&format!("<line class=\"srtt {other}\"")),
            "{name}"
        );
    }
}
