//! The shared phrasing and the report's subjects, on fixed inputs.

use super::*;
use crate::event::{How, PortChoice, ZeekState};

#[test]
fn port_ranges_at_their_edges() {
    let port_range = |p| port_range(p, Some("ethernet"));
    assert!(port_range(1023).starts_with("1023 is a privileged port"));
    assert!(port_range(32767).starts_with("32767 lies below both Linux's"));
    assert!(port_range(32768).starts_with("32768 lies in Linux's ephemeral range (32768–60999"));
    assert!(port_range(49151).ends_with("the client most likely runs Linux"));
    assert!(port_range(49152).starts_with("49152 lies in both Linux's"));
    assert!(port_range(60999).starts_with("60999 lies in both"));
    assert!(port_range(61000).starts_with("61000 lies in the IANA ephemeral range"));
    assert!(port_range(65535)
        .ends_with("above Linux's ephemeral range (32768–60999, net.ipv4.ip_local_port_range)"));
}

#[test]
fn a_bsd_loopback_capture_never_suggests_linux() {
    for port in [1023, 32768, 40000, 49151, 49152, 60999, 65535] {
        let said = port_range(port, Some("null"));
        assert!(!said.contains("runs Linux"), "{said}");
        assert!(
            port < 1024 || said.contains("the port alone does not tell"),
            "{said}"
        );
    }
    assert!(port_range(40000, None).ends_with("the client most likely runs Linux"));
}

#[test]
fn every_zeek_state_has_its_own_words() {
    let states: Vec<ZeekState> = ZeekState::ALL
        .into_iter()
        .filter(|s| *s != ZeekState::Oth)
        .collect();
    let mut sentences: Vec<&str> = states
        .iter()
        .map(|s| state(TransportKind::Tcp, *s).1)
        .collect();
    assert!(sentences.iter().all(|s| !s.starts_with("no SYN was seen")));
    sentences.sort_unstable();
    sentences.dedup();
    assert_eq!(sentences.len(), states.len());
    assert_eq!(state(TransportKind::Tcp, ZeekState::Oth).0, "mid-stream");
    assert_eq!(state(TransportKind::Tcp, ZeekState::Rej).0, "refused");
    assert_eq!(state(TransportKind::Udp, ZeekState::S0).0, "no reply");
}

#[test]
fn durations_and_relative_times() {
    assert_eq!(duration(0.000_01), "10 µs");
    assert_eq!(duration(0.001_25), "1.250 ms");
    assert_eq!(duration(2.0), "2.000 s");
    assert_eq!(
        relative(1_700_000_000.0 + 270e-6, 1_700_000_000.0),
        "0.000270"
    );
    assert_eq!(frames(&[4, 5, 6]), "frames 4–6");
    assert_eq!(frames(&[4, 6]), "frames 4, 6");
    assert_eq!(frames(&[4, 5]), "frames 4, 5");
    assert_eq!(frames(&[7]), "frame 7");
    assert_eq!(frames(&[4, 5, 6, 9]), "frames 4–6, 9");
}

#[test]
fn long_frame_lists_become_ranges_with_a_count() {
    // 70 segments between frames 8 and 106, ACKs in between.
    let list: Vec<u64> = (0..70).map(|i| 8 + i * 99 / 70).chain([106]).collect();
    let mut list = list;
    list.dedup();
    let n = list.len();
    assert_eq!(frames(&list), format!("frames 8–106 ({n} segments)"));
    // A pause (a retransmission much later) makes a second range.
    let mut paused: Vec<u64> = (10..20).collect();
    paused.push(300);
    assert_eq!(frames(&paused), "frames 10–19, 300 (11 segments)");
    // Very many ranges: the first ones, an ellipsis, the last.
    let scattered: Vec<u64> = (0..20).map(|i| i * 100).collect();
    let said = frames(&scattered);
    assert!(
        said.starts_with("frames 0, 100, 200, 300, 400, …, 1900 (20 segments)"),
        "{said}"
    );
}

#[test]
fn long_payloads_are_cut() {
    assert_eq!(payload(b"hi\n"), "\"hi\\n\"");
    let long = payload(&[b'x'; 1000]);
    assert_eq!(long, format!("\"{}\"…", "x".repeat(PAYLOAD_SHOWN)));
}

#[test]
fn wrap_keeps_words_and_indents_continuations() {
    let text = "word ".repeat(40);
    let out = wrap("    - ", "      ", &text);
    assert!(out.lines().all(|l| l.chars().count() <= WRAP));
    assert!(out.lines().skip(1).all(|l| l.starts_with("      word")));
    assert_eq!(out.matches("word").count(), 40);
}

/// `wrap` and `payload` as they were before they wrote in place: the text they
/// must still give, byte for byte.
mod reference {
    pub fn wrap(first: &str, rest: &str, text: &str) -> String {
        let mut out = String::new();
        let mut line = first.to_string();
        let mut empty = true;
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let width = line.chars().count();
            if !empty && width + 1 + word.chars().count() > super::WRAP {
                out.push_str(line.trim_end());
                out.push('\n');
                line = rest.to_string();
                empty = true;
            }
            if !empty {
                line.push(' ');
            }
            line.push_str(word);
            empty = false;
        }
        out.push_str(line.trim_end());
        out.push('\n');
        out
    }

    pub fn payload(bytes: &[u8]) -> String {
        let escaped = labproto::text::escape(bytes);
        if escaped.chars().count() <= super::PAYLOAD_SHOWN {
            format!("\"{escaped}\"")
        } else {
            let cut: String = escaped.chars().take(super::PAYLOAD_SHOWN).collect();
            format!("\"{cut}\"…")
        }
    }
}

/// Words, spaces (several, leading, trailing), wide and combining characters,
/// tabs and newlines (whitespace that trimming removes but splitting keeps).
fn report_text() -> impl proptest::strategy::Strategy<Value = String> {
    proptest::string::string_regex("[a-z →µé中\t\n\u{301}.,-]{0,260}").expect("a valid regex")
}

proptest::proptest! {
    #[test]
    fn wrap_gives_the_text_it_always_gave(
        first in "[ a-z→-]{0,60}",
        rest in "[ a-z]{0,12}",
        text in report_text(),
    ) {
        proptest::prop_assert_eq!(wrap(&first, &rest, &text), reference::wrap(&first, &rest, &text));
        let mut under = String::from("kept\n");
        wrap_under(&mut under, &first, &text);
        let indent = " ".repeat(first.chars().count());
        let expected = format!("kept\n{}", reference::wrap(&first, &indent, &text));
        proptest::prop_assert_eq!(under, expected);
    }

    #[test]
    fn payload_gives_the_text_it_always_gave(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
        ascii in "[ -~]{0,300}",
        text in report_text(),
    ) {
        for b in [&bytes[..], ascii.as_bytes(), text.as_bytes()] {
            proptest::prop_assert_eq!(payload(b), reference::payload(b));
        }
    }
}

#[test]
fn payload_cut_at_every_length_and_inside_characters() {
    // Multi-byte characters and escapes on both sides of PAYLOAD_ESCAPED.
    for unit in ["a", "é", "中", "\u{1F600}", "\n", "\"", "\u{7f}", "\u{0}"] {
        for n in 0..120 {
            let text = unit.repeat(n);
            for cut in [text.len(), text.len().saturating_sub(1), text.len() / 2] {
                let bytes = &text.as_bytes()[..cut];
                assert_eq!(
                    payload(bytes),
                    reference::payload(bytes),
                    "{unit:?} × {n}, {cut}"
                );
            }
        }
    }
    let mut invalid = vec![0xf0u8; 300];
    invalid.extend_from_slice(&[0x9f, 0x98, 0x80]);
    assert_eq!(payload(&invalid), reference::payload(&invalid));
}

#[test]
fn the_sentence_names_port_count_and_protocol() {
    let mut c = PortChoice::plain(How::Found);
    c.transport = Some(TransportKind::Tcp);
    c.conversations = 5000;
    c.proto = Some(labproto::Proto::V3);
    assert_eq!(
        port_choice(&c, 15099).as_deref(),
        Some("port 5005 unused; 5,000 TCP conversations on port 15099 carry v3")
    );
    assert_eq!(port_choice(&PortChoice::plain(How::Default), 5005), None);
    assert_eq!(thousands(1_234_567), "1,234,567");
    assert_eq!(thousands(999), "999");
}

#[test]
fn numbers_have_thousands_separators() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(4028), "4,028");
    assert_eq!(thousands(1234567), "1,234,567");
}

#[test]
fn trace_line_faults_in_words() {
    use crate::syscalls::parse::ParseError;
    use crate::syscalls::read::LineFault;
    let said = |f: LineFault| super::trace::line_fault(&f);
    assert_eq!(said(LineFault::TooLong), "longer than 65536 bytes");
    assert_eq!(
        said(LineFault::NotStrace(ParseError::NoTimestamp)),
        "no strace timestamp (-ttt or -tt) at the start"
    );
    assert_eq!(
        said(LineFault::ResumedWithoutUnfinished),
        "resumed without its unfinished line"
    );
    assert_eq!(
        said(LineFault::NotLabnetEvent("expected value".into())),
        "not a labnet trace event: expected value"
    );
}

#[test]
fn every_cause_names_its_frames_one_by_one() {
    use crate::causes::{Cause, CauseKind, Certainty};
    use crate::event::{CapturePoint, Dir};
    // Segments over the MSS in frames 6–8 and 18: frames 9–17 belong to other
    // conversations, so a range would take them in.
    let mut c = Cause {
        conv: Some(1),
        tcp_stream: Some(0),
        dir: Some(Dir::ClientToServer),
        frames: vec![6, 7, 8, 18],
        certainty: Certainty::Proved,
        kind: CauseKind::OverMss {
            mss: 1460,
            on_the_wire: 1448,
            segments: 4,
            largest: 5792,
            capture_point: CapturePoint::Client,
        },
    };
    assert_eq!(causes::evidence(&c), "frames 6, 7, 8, 18");
    assert!(causes::text(&c).starts_with("frames 6, 7, 8, 18: 4 segments of the client are larger"));
    // More segments than the cause keeps: the rest are counted.
    c.kind = CauseKind::OverMss {
        mss: 1460,
        on_the_wire: 1448,
        segments: 63,
        largest: 5792,
        capture_point: CapturePoint::Client,
    };
    assert_eq!(causes::evidence(&c), "frames 6, 7, 8, 18 and 59 more");
    assert_eq!(frames_by_number(&[4], 1), "frame 4");
    assert_eq!(frames_by_number(&[], 0), "no frame");
}
