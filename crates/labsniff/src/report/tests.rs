use super::*;
use std::path::{Path, PathBuf};

const PLAIN: Style = Style { color: false };
/// The legend's bullet for the counted-range form.
const SEGMENT_LEGEND: &str = "frames A–B (N segments)";

/// The events of a capture file, as the CLI reads it.
pub(super) fn events_of(path: &Path) -> Vec<Event> {
    crate::html::tests::events_of(path, false)
}

/// Every capture among labsniff's test fixtures.
pub(super) fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "pcap") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn counted_form_is_what_words_writes() {
    // The counted form is `words::frames` with a segment count that
    // `words::frames_span` (the same list without it) does not have.
    let mut lists: Vec<Vec<u64>> = Vec::new();
    for len in 0..=40u64 {
        for step in [1, 2, 3, 9, 10, 11, 25] {
            lists.push((0..len).map(|i| 5 + i * step).collect());
        }
        // A pause in the middle, duplicates, and frames out of order.
        lists.push(
            (0..len)
                .map(|i| if i < len / 2 { i } else { i + 300 })
                .collect(),
        );
        lists.push((0..len).map(|i| i / 2).collect());
        lists.push((0..len).rev().collect());
    }
    for list in &lists {
        let counted = words::frames(list) != words::frames_span(list);
        assert_eq!(
            words::frames_counted(list),
            counted,
            "{list:?}: {}",
            words::frames(list)
        );
    }
}

#[test]
fn segment_legend_iff_a_printed_list_is_counted_on_every_fixture() {
    let fixtures = fixtures();
    assert!(fixtures.len() > 40, "{} fixtures", fixtures.len());
    let mut with = 0;
    for path in &fixtures {
        let report = render(&events_of(path), View::Explain, &PLAIN);
        // The text above the legend's bullet (the whole report without it).
        let above = report.split(SEGMENT_LEGEND).next().unwrap_or_default();
        let legend = report.contains(SEGMENT_LEGEND);
        assert_eq!(
            legend,
            above.contains(" segments)"),
            "{}: legend {legend}",
            path.display()
        );
        with += usize::from(legend);
    }
    // Both answers are exercised.
    assert!(with > 0 && with < fixtures.len(), "{with} with the legend");
}

/// The explain report of one v3 message sent in segments of `chunk` bytes.
fn split_message_report(name: &str, chunk: usize) -> String {
    use labfixtures::{lab::v3, Capture, Dir, FileFormat, LinkType};
    let mut cap = Capture::new(LinkType::Ethernet);
    let addr = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
    let mut flow = cap.tcp(addr("10.0.0.2:40000"), addr("10.0.0.1:5005"));
    flow.handshake(&mut cap);
    flow.send_split(&mut cap, Dir::C2S, &v3(1, &[b'x'; 51]), chunk);
    flow.ack(&mut cap, Dir::S2C);
    flow.close(&mut cap);
    let path = std::env::temp_dir().join(format!(
        "labsniff-legend-{}-{name}.pcap",
        std::process::id()
    ));
    cap.write(&path, FileFormat::Pcap).unwrap();
    let events = events_of(&path);
    let _ = std::fs::remove_file(&path);
    render(&events, View::Explain, &PLAIN)
}

#[test]
fn segment_legend_follows_the_frame_lists_not_the_text() {
    // 60 bytes: 6 segments of 10 are listed one by one, 7 of 9 (the last 6) are counted.
    let six = split_message_report("six", 10);
    assert!(six.contains("frames 4–9 "), "{six}");
    assert!(!six.contains(SEGMENT_LEGEND), "{six}");
    let seven = split_message_report("seven", 9);
    assert!(seven.contains("frames 4–10 (7 segments)"), "{seven}");
    assert!(seven.contains(SEGMENT_LEGEND), "{seven}");
}

#[test]
fn frame_lists_note_the_counted_form() {
    let mut lists = FrameLists::default();
    let mut out = String::new();
    lists.frames_into(&mut out, &[1, 2, 3, 4, 5, 6]);
    assert_eq!(lists.frames(&[7]), "frame 7");
    assert!(!lists.counted(), "{out}");
    lists.note(&[1, 3, 5, 7, 9, 11, 13]);
    assert!(lists.counted());
}

#[test]
fn analysis_text_is_the_frame_then_the_comment() {
    let mut seen = 0;
    for path in fixtures() {
        for event in events_of(&path) {
            let Event::Analysis(a) = event else { continue };
            let comment = analysis_text_without_frame(&a);
            assert!(
                !comment.is_empty() && !comment.starts_with("frame "),
                "{comment}"
            );
            assert_eq!(analysis_text(&a), format!("frame {}: {comment}", a.frame));
            seen += 1;
        }
    }
    assert!(seen > 100, "{seen} flagged frames");
}
