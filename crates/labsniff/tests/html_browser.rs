//! The HTML page in a real browser: Debian's `/usr/bin/chromium`, headless, driven over
//! the DevTools protocol (test-support/devtools.rs), the page opened from file:// with
//! the network off. Checked: no script error or exception, no request to any other
//! address, the DOM holds the contract (counts equal labsniff's `--json` facts),
//! clicking a frame shows its fields and the explanations citing it, a frame link
//! selects its frame, the ACK toggle hides plain ACKs, a graph zooms; a screenshot of
//! each page is written under target/tmp/html_browser/. Skips, saying why, when
//! Chromium is not installed (`apt-get install -y chromium`; `cargo xtask test` installs
//! it as root). Every wait is bounded (20 s); the browser is killed on drop, also when
//! an assertion fails.
#![allow(clippy::unwrap_used)]

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

#[path = "../../../test-support/devtools.rs"]
mod devtools;

use devtools::{Browser, Unavailable};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netlab")
        .join(name)
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html_browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the page of `pcap`; its path.
fn page(pcap: &Path) -> PathBuf {
    let out = out_dir()
        .join(pcap.file_name().unwrap())
        .with_extension("html");
    let run = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .arg("-r")
        .arg(pcap)
        .arg("--html")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

/// (frames of TCP conversations, flagged frames, conversations) from `--json`.
fn counts(pcap: &Path) -> (u64, u64, u64) {
    let run = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .arg("-r")
        .arg(pcap)
        .arg("--json")
        .output()
        .unwrap();
    let (mut frames, mut flagged, mut convs) = (0, 0, 0);
    for line in String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .take(1_000_000)
    {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        match v["type"].as_str() {
            Some("analysis") => flagged += 1,
            Some("conversation") => {
                convs += 1;
                if v["transport"] == "tcp" {
                    frames += v["frames_c2s"].as_u64().unwrap() + v["frames_s2c"].as_u64().unwrap();
                }
            }
            _ => {}
        }
    }
    (frames, flagged, convs)
}

fn browser() -> Option<Browser> {
    match Browser::launch(WAIT) {
        Ok(b) => Some(b),
        Err(Unavailable::Missing(why)) => {
            skip_note!("skipped: {why}");
            None
        }
        Err(Unavailable::Failed(why)) => panic!("chromium: {why}"),
    }
}

fn count(b: &mut Browser, selector: &str) -> u64 {
    let js = format!(
        "document.querySelectorAll({}).length",
        serde_json::json!(selector)
    );
    b.eval(&js).unwrap().as_u64().unwrap()
}

/// The page loads offline with no error, and its DOM holds the contract.
fn check_page(b: &mut Browser, pcap: &Path) -> PathBuf {
    let html = page(pcap);
    b.open_offline(&html, 1200, 900).unwrap();
    let (frames, flagged, convs) = counts(pcap);
    assert_eq!(count(b, "section[data-conv]"), convs.min(100));
    assert_eq!(count(b, "svg[data-graph=ladder] [data-frame]"), frames);
    assert_eq!(count(b, "svg[data-graph=ladder] [data-flags]"), flagged);
    assert!(count(b, "svg[data-graph=time-sequence]") >= 1);
    assert!(count(b, "svg[data-graph=rtt]") >= 1);
    html
}

#[test]
fn pages_work_offline_in_chromium() {
    let Some(mut b) = browser() else { return };
    let lossy = fixture("loss_v3_100k.client.pcap");
    check_page(&mut b, &lossy);
    // Clicking a flagged frame shows its fields and the explanations citing it.
    let shown = b
        .eval(
            "(function () {
               var g = document.querySelector('svg[data-graph=ladder] g[data-flags]');
               g.querySelector('rect').dispatchEvent(new MouseEvent('click', {bubbles: true}));
               var p = document.getElementById('details');
               return [g.getAttribute('data-frame'), g.getAttribute('data-seq'), p.hidden, p.textContent,
                       g.classList.contains('sel')];
             }())",
        )
        .unwrap();
    let frame = shown[0].as_str().unwrap();
    let seq_rel = shown[1].as_str().unwrap().split(' ').next().unwrap();
    let text = shown[3].as_str().unwrap();
    assert_eq!(shown[2], false, "details panel hidden");
    assert!(text.contains(&format!("Frame {frame} ")), "{text}");
    assert!(text.contains(&format!("{seq_rel} relative")), "{text}");
    assert!(text.contains("Explanations citing this frame"), "{text}");
    assert_eq!(shown[4], true);
    // A frame link in the explanations selects its frame.
    let linked = b
        .eval(
            "(function () {
               var a = document.querySelector('ol.findings a.fr');
               a.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true}));
               var sel = document.querySelector('svg[data-graph=ladder] g.f.sel');
               return [a.getAttribute('data-goto'), sel && sel.getAttribute('data-frame')];
             }())",
        )
        .unwrap();
    assert_eq!(linked[0], linked[1]);
    // The ACK toggle hides the plain ACKs and packs the rows.
    let toggled = b
        .eval(
            "(function () {
               var sec = document.querySelector('section[data-conv]');
               var svg = sec.querySelector('svg.ladder');
               var before = svg.getAttribute('height');
               sec.querySelector('button.ack-toggle').click();
               var hidden = Array.prototype.filter.call(svg.querySelectorAll('g.pack'),
                 function (g) { return g.style.display === 'none'; }).length;
               return [hidden, svg.querySelectorAll('g.pack').length, parseFloat(before), parseFloat(svg.getAttribute('height'))];
             }())",
        )
        .unwrap();
    assert!(toggled[0].as_u64().unwrap() > 0);
    assert_eq!(toggled[0], toggled[1]);
    assert!(
        toggled[3].as_f64().unwrap() < toggled[2].as_f64().unwrap(),
        "{toggled}"
    );
    b.eval("document.querySelector('section[data-conv] button.ack-toggle').click()")
        .unwrap();
    // The wheel zooms a graph.
    let zoom = b
        .eval(
            "(function () {
               var svg = document.querySelector('svg[data-graph=time-sequence]');
               var r = svg.getBoundingClientRect();
               svg.dispatchEvent(new WheelEvent('wheel', {deltaY: -100, clientX: r.left + r.width / 2,
                 clientY: r.top + r.height / 2, bubbles: true, cancelable: true}));
               return svg.querySelector('g.plot').getAttribute('transform');
             }())",
        )
        .unwrap();
    assert!(
        zoom.as_str().unwrap_or_default().contains("scale(1.25)"),
        "{zoom}"
    );
    let shot = out_dir().join("loss_v3_100k.client.png");
    let size = b.screenshot(&shot).unwrap();
    assert!(size > 10_000, "{size} bytes");
    assert_eq!(&std::fs::read(&shot).unwrap()[..4], b"\x89PNG");
    // The second page: an iterative server with two clients.
    check_page(&mut b, &fixture("iterative_server.server.pcap"));
    b.screenshot(&out_dir().join("iterative_server.server.png"))
        .unwrap();
    // Both ends: the frames lost between the capture points, and their explanations.
    let both = out_dir().join("loss_v3_100k.both.html");
    let run = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .arg("-r")
        .arg(&lossy)
        .arg("--html")
        .arg(&both)
        .arg("--peer-capture")
        .arg(fixture("loss_v3_100k.server.pcap"))
        .output()
        .unwrap();
    assert!(run.status.success());
    b.open_offline(&both, 1200, 900).unwrap();
    // The forwarder dropped 9 frames (loss_v3_100k.forwarder.jsonl; tests/html_peer.rs
    // compares them one by one).
    assert_eq!(
        count(&mut b, "svg[data-graph=ladder] [data-lost=between]"),
        9
    );
    let lost = b
        .eval(
            "(function () {
               var g = document.querySelector('svg[data-graph=ladder] g[data-lost=between]:not([data-frame])');
               g.querySelector('rect').dispatchEvent(new MouseEvent('click', {bubbles: true}));
               return document.getElementById('details').textContent;
             }())",
        )
        .unwrap();
    let lost = lost.as_str().unwrap();
    assert!(lost.contains("of the other capture"), "{lost}");
    assert!(lost.contains("Explanations citing this frame"), "{lost}");
    assert!(
        lost.contains("lost between the two capture points"),
        "{lost}"
    );
    b.screenshot(&out_dir().join("loss_v3_100k.both.png"))
        .unwrap();
    assert_eq!(b.errors(), Vec::<String>::new());
    assert_eq!(b.remote_requests(), Vec::<String>::new());
    assert_eq!(b.events_dropped, 0);
}

#[test]
fn a_script_error_would_be_seen() {
    // The check above can fail: a page that throws is reported.
    let Some(mut b) = browser() else { return };
    let bad = out_dir().join("throws.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><script>console.error('boom'); null.x;</script>",
    )
    .unwrap();
    b.open_offline(&bad, 400, 300).unwrap();
    let errors = b.errors();
    assert!(errors.iter().any(|e| e.contains("boom")), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.starts_with("exception")),
        "{errors:?}"
    );
}

#[test]
fn base64_decodes_what_devtools_sends() {
    assert_eq!(devtools::base64_decode("aGVsbG8=").unwrap(), b"hello");
    assert_eq!(devtools::base64_decode("aGVsbG8h").unwrap(), b"hello!");
    assert_eq!(devtools::base64_decode("aGk=").unwrap(), b"hi");
    assert!(devtools::base64_decode("a$==").is_err());
}
