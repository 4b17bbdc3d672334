//! The explain report, its views, the flow graph and its SVG, on captures built by
//! labfixtures. Snapshots live in tests/snapshots; `UPDATE_SNAPSHOTS=1` rewrites them.
#![allow(clippy::unwrap_used)]

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

use labfixtures::lab::{v2, v3};
use labfixtures::{Capture, Dir, FileFormat, LinkType};
use labsniff::report::{render, render_svg, Style, View};
use labsniff::{Event, Options, SourceOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PLAIN: Style = Style { color: false };

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh path in a directory unique to this test process.
fn temp_path(name: &str, ext: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labsniff-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    dir.join(format!("{name}-{n}.{ext}"))
}

/// Write `cap` as a pcap file and analyse it the way the CLI does.
fn analyse(cap: &Capture, name: &str) -> Vec<Event> {
    let path = temp_path(name, "pcap");
    cap.write(&path, FileFormat::Pcap).unwrap();
    let source = SourceOptions::file(&path);
    let mut events: Vec<Event> = Vec::new();
    labsniff::analyze(&source, Options::default(), &mut events).unwrap();
    let _ = std::fs::remove_file(&path);
    events
}

/// Compare with tests/snapshots/NAME.txt, or write it when UPDATE_SNAPSHOTS=1.
fn snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read snapshot {}: {e} (run with UPDATE_SNAPSHOTS=1)",
            path.display()
        )
    });
    if expected != actual {
        let new = path.with_extension("new.txt");
        std::fs::write(&new, actual).unwrap();
        panic!(
            "report differs from snapshot {}; the new text is in {}",
            path.display(),
            new.display()
        );
    }
}

const SERVER: &str = "10.0.0.1:5005";

/// One v3 message of 17 bytes split over segments of 6 bytes; the echo in one piece.
fn v3_split() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40000"), addr(SERVER));
    flow.handshake(&mut cap);
    let msg = v3(1, b"hello, v3");
    flow.send_split(&mut cap, Dir::C2S, &msg, 6);
    flow.ack(&mut cap, Dir::S2C);
    cap.advance(200);
    flow.send(&mut cap, Dir::S2C, &msg);
    flow.ack(&mut cap, Dir::C2S);
    flow.close(&mut cap);
    cap
}

/// Two v3 messages in one segment each way.
fn v3_coalesced() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:50123"), addr(SERVER));
    flow.handshake(&mut cap);
    let mut both = v3(1, b"hi");
    both.extend_from_slice(&v3(2, b"there"));
    flow.send(&mut cap, Dir::C2S, &both);
    cap.advance(90);
    flow.send(&mut cap, Dir::S2C, &both);
    flow.ack(&mut cap, Dir::C2S);
    flow.close(&mut cap);
    cap
}

fn refused() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40500"), addr(SERVER));
    flow.refused(&mut cap);
    cap
}

/// Text, echoed, then the server aborts with RST.
fn reset() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40600"), addr(SERVER));
    flow.handshake(&mut cap);
    flow.send(&mut cap, Dir::C2S, b"hello");
    flow.send(&mut cap, Dir::S2C, b"hello");
    flow.rst(&mut cap, Dir::S2C);
    cap
}

/// Three UDP clients, ports in three different ranges, each echoed.
fn udp_three_clients() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let server = addr(SERVER);
    for (client, text) in [
        ("10.0.0.2:40001", &b"hello from linux"[..]),
        ("10.0.0.3:55000", b"hi"),
        ("10.0.0.4:62000", b"bye"),
    ] {
        let client = addr(client);
        cap.udp(client, server, text);
        cap.advance(50);
        cap.udp(server, client, text);
    }
    cap
}

/// struct.pack('BLL20s', 1, order, size, msg) on x86-64 Linux: 44 bytes.
fn native_bll20s(order: u64, msg: &[u8]) -> Vec<u8> {
    let mut out = vec![1u8, 0, 0, 0, 0, 0, 0, 0];
    out.extend_from_slice(&order.to_le_bytes());
    out.extend_from_slice(&(msg.len() as u64).to_le_bytes());
    let mut field = [0u8; 20];
    let n = msg.len().min(20);
    field[..n].copy_from_slice(&msg[..n]);
    out.extend_from_slice(&field);
    out
}

/// struct.pack('<BII', 1, order, size) + msg.
fn little_endian_v3(order: u32, msg: &[u8]) -> Vec<u8> {
    let mut out = vec![1u8];
    out.extend_from_slice(&order.to_le_bytes());
    out.extend_from_slice(&(msg.len() as u32).to_le_bytes());
    out.extend_from_slice(msg);
    out
}

/// A native-alignment v2 sender and a little-endian v3 sender.
fn struct_mistakes() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut a = cap.tcp(addr("10.0.0.2:41000"), addr(SERVER));
    a.handshake(&mut cap);
    let mut records = native_bll20s(1, b"hello");
    records.extend_from_slice(&native_bll20s(2, b"world"));
    a.send(&mut cap, Dir::C2S, &records);
    a.ack(&mut cap, Dir::S2C);
    a.close(&mut cap);
    let mut b = cap.tcp(addr("10.0.0.2:41001"), addr(SERVER));
    b.handshake(&mut cap);
    b.send(&mut cap, Dir::C2S, &little_endian_v3(1, b"hello"));
    b.ack(&mut cap, Dir::S2C);
    b.close(&mut cap);
    cap
}

/// Two text clients served at the same time; the server closes the second first.
fn text_echo() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut a = cap.tcp(addr("10.0.0.2:40100"), addr(SERVER));
    let mut b = cap.tcp(addr("10.0.0.3:40200"), addr(SERVER));
    a.handshake(&mut cap);
    b.handshake(&mut cap);
    a.send(&mut cap, Dir::C2S, b"hello");
    cap.advance(120);
    a.send(&mut cap, Dir::S2C, b"hello");
    b.send(&mut cap, Dir::C2S, b"hi there");
    cap.advance(80);
    b.send(&mut cap, Dir::S2C, b"hi there");
    a.ack(&mut cap, Dir::C2S);
    b.ack(&mut cap, Dir::C2S);
    a.close(&mut cap);
    b.fin(&mut cap, Dir::S2C);
    b.ack(&mut cap, Dir::C2S);
    b.fin(&mut cap, Dir::C2S);
    b.ack(&mut cap, Dir::S2C);
    cap
}

/// Two text clients of a server that answers `b"ECHO: " + data` (a student's
/// serverTCP.py): every message answered, none echoed byte for byte.
fn text_prefixed_echo() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut a = cap.tcp(addr("10.0.0.2:40100"), addr(SERVER));
    let mut b = cap.tcp(addr("10.0.0.3:40200"), addr(SERVER));
    a.handshake(&mut cap);
    b.handshake(&mut cap);
    a.send(&mut cap, Dir::C2S, b"hello");
    cap.advance(120);
    a.send(&mut cap, Dir::S2C, b"ECHO: hello");
    b.send(&mut cap, Dir::C2S, b"hi there");
    cap.advance(80);
    b.send(&mut cap, Dir::S2C, b"ECHO: hi there");
    a.send(&mut cap, Dir::C2S, b"again");
    cap.advance(90);
    a.send(&mut cap, Dir::S2C, b"ECHO: again");
    a.close(&mut cap);
    b.close(&mut cap);
    cap
}

/// v2: a short message and one over 20 bytes, both echoed.
fn v2_truncated() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:45000"), addr(SERVER));
    flow.handshake(&mut cap);
    let short = v2(1, b"short");
    let long = v2(2, b"this message is longer than twenty bytes");
    flow.send(&mut cap, Dir::C2S, &short);
    flow.send(&mut cap, Dir::S2C, &short);
    flow.send(&mut cap, Dir::C2S, &long);
    flow.send(&mut cap, Dir::S2C, &long);
    flow.ack(&mut cap, Dir::C2S);
    flow.close(&mut cap);
    cap
}

/// Out of order, a retransmission, and a message the capture missed.
fn lossy() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:47000"), addr(SERVER));
    flow.handshake(&mut cap);
    let (m1, m2, m3) = (v3(1, b"one"), v3(2, b"two"), v3(3, b"three"));
    flow.send(&mut cap, Dir::C2S, &m1);
    flow.segment_at(&mut cap, Dir::C2S, 24, &m3);
    flow.segment_at(&mut cap, Dir::C2S, 12, &m2);
    flow.segment_at(&mut cap, Dir::C2S, 12, &m2);
    flow.advance_seq(Dir::C2S, 26);
    flow.ack(&mut cap, Dir::S2C);
    // Message 4 (14 bytes) was sent but not captured.
    flow.advance_seq(Dir::C2S, 14);
    flow.send(&mut cap, Dir::C2S, &v3(5, b"five!"));
    flow.send(&mut cap, Dir::C2S, &v3(6, b"six"));
    flow.ack(&mut cap, Dir::S2C);
    flow.close(&mut cap);
    cap
}

/// Text over TCP echoed in other pieces than it was sent in.
fn text_resegmented() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40700"), addr(SERVER));
    flow.handshake(&mut cap);
    flow.send(&mut cap, Dir::C2S, b"hello world");
    cap.advance(40);
    flow.send_split(&mut cap, Dir::S2C, b"hello world", 6);
    flow.send(&mut cap, Dir::C2S, b"ab");
    flow.send(&mut cap, Dir::C2S, b"cd");
    cap.advance(40);
    flow.send(&mut cap, Dir::S2C, b"abcd");
    flow.send(&mut cap, Dir::S2C, b"ECHO");
    flow.ack(&mut cap, Dir::C2S);
    flow.close(&mut cap);
    cap
}

fn explain_snapshot(name: &str, cap: Capture) {
    let events = analyse(&cap, name);
    snapshot(name, &render(&events, View::Explain, &PLAIN));
}

#[test]
fn explain_v3_split() {
    explain_snapshot("explain_v3_split", v3_split());
}

#[test]
fn explain_v3_coalesced() {
    explain_snapshot("explain_v3_coalesced", v3_coalesced());
}

#[test]
fn explain_refused() {
    explain_snapshot("explain_refused", refused());
}

#[test]
fn explain_reset() {
    explain_snapshot("explain_reset", reset());
}

#[test]
fn explain_udp_three_clients() {
    explain_snapshot("explain_udp_three_clients", udp_three_clients());
}

#[test]
fn explain_struct_mistakes() {
    explain_snapshot("explain_struct_mistakes", struct_mistakes());
}

#[test]
fn explain_text_echo() {
    explain_snapshot("explain_text_echo", text_echo());
}

#[test]
fn explain_text_prefixed_echo() {
    explain_snapshot("explain_text_prefixed_echo", text_prefixed_echo());
}

#[test]
fn explain_v2_truncated() {
    explain_snapshot("explain_v2_truncated", v2_truncated());
}

#[test]
fn flow_view_of_split_message() {
    let events = analyse(&v3_split(), "flow");
    snapshot("flow_v3_split", &render(&events, View::Flow, &PLAIN));
}

#[test]
fn conversations_view_of_text_echo() {
    let events = analyse(&text_echo(), "conversations");
    snapshot(
        "conversations_text_echo",
        &render(&events, View::Conversations, &PLAIN),
    );
}

#[test]
fn messages_view_is_the_plain_listing() {
    let events = analyse(&v3_coalesced(), "messages");
    let text = render(&events, View::Messages, &PLAIN);
    assert_eq!(
        text.lines().filter(|l| l.contains("order=")).count(),
        4,
        "{text}"
    );
    assert!(
        text.contains("version=1 order=2 size=5 \"there\""),
        "{text}"
    );
}

#[test]
fn view_names_parse() {
    assert_eq!("explain".parse::<View>(), Ok(View::Explain));
    assert_eq!("FLOW".parse::<View>(), Ok(View::Flow));
    assert_eq!("messages".parse::<View>(), Ok(View::Messages));
    assert_eq!("conversations".parse::<View>(), Ok(View::Conversations));
    assert_eq!(
        "tree".parse::<View>(),
        Err(
            "unknown view 'tree': expected one of conversations, messages, flow, explain"
                .to_string()
        )
    );
    assert_eq!(View::default(), View::Explain);
}

#[test]
fn colour_only_when_asked() {
    let events = analyse(&struct_mistakes(), "colour");
    for view in [
        View::Explain,
        View::Flow,
        View::Conversations,
        View::Messages,
    ] {
        let plain = render(&events, view, &Style { color: false });
        assert!(
            !plain.contains('\x1b'),
            "{view:?} without colour has an escape:\n{plain}"
        );
        let painted = render(&events, view, &Style { color: true });
        assert!(
            painted.contains("\x1b["),
            "{view:?} with colour has no escape"
        );
        // Same words once the escapes are taken out.
        assert_eq!(strip_ansi(&painted), plain, "{view:?}");
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Every opened element closed, in order (a tiny XML well-formedness check).
fn check_well_formed(svg: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').unwrap() + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name),
                "closing </{name}> does not match"
            );
        } else {
            let name = tag.split_whitespace().next().unwrap().to_string();
            stack.push(name);
        }
        // Text between tags must not hold raw '<' or '&' that is not an entity.
        let text = &rest[..rest.find('<').unwrap_or(rest.len())];
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "raw '&' in text: {text}"
            );
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
}

#[test]
fn svg_has_one_arrow_per_packet_shown() {
    let events = analyse(&v3_coalesced(), "svg");
    let svg = render_svg(&events, Some(1));
    check_well_formed(&svg);
    // SYN, SYN-ACK, ACK, 2 client messages, 2 echoes, FIN, FIN.
    assert_eq!(svg.matches("<g class=\"arrow").count(), 9, "{svg}");
    for (frame, label) in [
        (1, "SYN seq=0 (ISN 1000) MSS=65495 WS=7 SACK_PERM"),
        (2, "SYN-ACK seq=0 (ISN 5000) MSS=65495 WS=7 SACK_PERM"),
        (3, "ACK"),
        (4, "v3 order=1 size=2 &quot;hi&quot;"),
        (4, "v3 order=2 size=5 &quot;there&quot;"),
        (5, "v3 order=1 size=2 &quot;hi&quot;"),
        (7, "FIN"),
        (9, "FIN"),
    ] {
        let arrow = format!("data-frame=\"{frame}\"");
        let found = svg
            .lines()
            .any(|l| l.contains(&arrow) && l.contains(&format!(">{label}</text>")));
        assert!(found, "no arrow at frame {frame} labelled {label}:\n{svg}");
    }
    assert!(svg.contains("client 10.0.0.2:50123"), "{svg}");
    assert!(svg.contains("server 10.0.0.1:5005"), "{svg}");
    // All conversations: both of struct_mistakes' ladders.
    let events = analyse(&struct_mistakes(), "svg-all");
    let svg = render_svg(&events, None);
    check_well_formed(&svg);
    assert_eq!(svg.matches("<g class=\"conversation\"").count(), 2);
}

#[test]
fn svg_escapes_payload_text() {
    let mut cap = Capture::new(LinkType::Ethernet);
    let client = addr("10.0.0.2:40009");
    cap.udp(client, addr(SERVER), b"<b>&\"'</b>");
    let events = analyse(&cap, "svg-escape");
    let svg = render_svg(&events, None);
    check_well_formed(&svg);
    assert!(
        svg.contains("text &quot;&lt;b&gt;&amp;\\&quot;&apos;&lt;/b&gt;&quot;"),
        "{svg}"
    );
}

/// Render the SVG in headless Chromium and check the screenshot is not blank.
#[test]
fn svg_renders_in_chromium() {
    let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .or_else(|| which("chromium"))
    else {
        skip_note!("skipped: chromium is not installed");
        return;
    };
    let events = analyse(&v3_split(), "chromium");
    let svg_path = temp_path("flow", "svg");
    std::fs::write(&svg_path, render_svg(&events, None)).unwrap();
    let png = temp_path("flow", "png");
    let profile = temp_path("chromium-profile", "d");
    std::fs::create_dir_all(&profile).unwrap();
    let mut child = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1000,800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", svg_path.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let status = status.expect("chromium did not finish within 60 s");
    assert!(status.success(), "chromium failed: {status}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    // A blank 1000x800 white PNG compresses to a few hundred bytes; text and lines
    // make it several kilobytes.
    assert!(
        bytes.len() > 5_000,
        "screenshot is only {} bytes",
        bytes.len()
    );
    // To look at the picture: REPORT_KEEP_DIR=/some/dir cargo test -p labsniff --test report
    if let Some(dir) = std::env::var_os("REPORT_KEEP_DIR") {
        let dir = PathBuf::from(dir);
        std::fs::copy(&svg_path, dir.join("flow.svg")).unwrap();
        std::fs::copy(&png, dir.join("flow.png")).unwrap();
    }
    let _ = std::fs::remove_dir_all(&profile);
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.exists())
    })
}

#[test]
fn explain_lossy() {
    explain_snapshot("explain_lossy", lossy());
}

#[test]
fn explain_text_resegmented() {
    explain_snapshot("explain_text_resegmented", text_resegmented());
}

#[test]
fn explain_empty_capture() {
    explain_snapshot("explain_empty", Capture::new(LinkType::Ethernet));
}

/// A long conversation: the report stays short and is made in linear time.
#[test]
fn explain_of_a_long_conversation_is_bounded() {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:48000"), addr(SERVER));
    flow.handshake(&mut cap);
    for order in 0..3000u32 {
        let msg = v3(order, b"ping");
        flow.send(&mut cap, Dir::C2S, &msg);
        flow.send(&mut cap, Dir::S2C, &msg);
    }
    flow.close(&mut cap);
    let events = analyse(&cap, "long");
    let started = Instant::now();
    let text = render(&events, View::Explain, &PLAIN);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "explain took {took:?}");
    assert!(text.contains("    ... and 5950 more\n"), "{text}");
    assert!(text.contains("    ... and 2950 more\n"), "{text}");
    assert!(
        text.contains("3000 of 3000 client messages echoed by the server"),
        "{text}"
    );
    // The first block ("In short") and the table come on top of the sections.
    assert!(text.lines().count() < 220, "{} lines", text.lines().count());
    let svg = render_svg(&events, None);
    assert_eq!(svg.matches("<g class=\"arrow").count(), 3 + 6000 + 2);
}

#[test]
fn ipv6_endpoints_are_explained() {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("[2001:db8::2]:61000"), addr("[2001:db8::1]:5005"));
    flow.handshake(&mut cap);
    flow.send(&mut cap, Dir::C2S, &v3(1, b"six"));
    flow.close(&mut cap);
    let events = analyse(&cap, "ipv6");
    let text = render(&events, View::Explain, &PLAIN);
    assert!(
        text.contains("client [2001:db8::2]:61000: ephemeral port"),
        "{text}"
    );
    assert!(
        text.contains("61000 lies in the IANA ephemeral range"),
        "{text}"
    );
    assert!(
        text.contains("server [2001:db8::1]:5005: the server's fixed port"),
        "{text}"
    );
    let flow_text = render(&events, View::Flow, &PLAIN);
    assert!(
        flow_text.contains("client [2001:db8::2]:61000"),
        "{flow_text}"
    );
    check_well_formed(&render_svg(&events, None));
}

/// The flow graph and its SVG show what Wireshark's analysis flagged: the segment
/// after the hole, the retransmission, the ACK of unseen bytes.
#[test]
fn flow_graph_shows_losses_and_retransmissions() {
    let events = analyse(&lossy(), "lossy-flow");
    let flow = labsniff::report::render_flow(&events, Some(1), &PLAIN);
    let line = |frame: u64, tag: &str| {
        flow.lines().any(|l| {
            l.split_whitespace().nth(1) == Some(frame.to_string().as_str()) && l.contains(tag)
        })
    };
    assert!(line(5, "after a lost segment"), "{flow}");
    assert!(line(7, "Retransmission"), "{flow}");
    assert!(line(11, "ACKed unseen"), "{flow}");
    assert!(
        flow.contains("[TCP Previous segment not captured]"),
        "{flow}"
    );
    let svg = render_svg(&events, Some(1));
    assert_eq!(
        svg.matches("<g class=\"arrow analysis\"").count(),
        5,
        "{svg}"
    );
}

/// A server that serves one client at a time: the second client connects and sends
/// while the first is being served (its kernel completes the handshake and ACKs the
/// bytes), but its echo comes only after the first client's FIN.
fn iterative_server() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut a = cap.tcp(addr("10.0.0.2:40100"), addr(SERVER));
    let mut b = cap.tcp(addr("10.0.0.3:40200"), addr(SERVER));
    a.handshake(&mut cap);
    a.send(&mut cap, Dir::C2S, b"hello");
    cap.advance(100);
    a.send(&mut cap, Dir::S2C, b"hello");
    a.ack(&mut cap, Dir::C2S);
    b.handshake(&mut cap);
    b.send(&mut cap, Dir::C2S, b"hi there");
    b.ack(&mut cap, Dir::S2C);
    cap.advance(5000);
    a.close(&mut cap);
    cap.advance(100);
    b.send(&mut cap, Dir::S2C, b"hi there");
    b.ack(&mut cap, Dir::C2S);
    b.close(&mut cap);
    cap
}

/// A threaded server: both clients are answered in turn while both are open.
fn threaded_server() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut a = cap.tcp(addr("10.0.0.2:40300"), addr(SERVER));
    let mut b = cap.tcp(addr("10.0.0.2:40301"), addr(SERVER));
    a.handshake(&mut cap);
    b.handshake(&mut cap);
    a.send(&mut cap, Dir::C2S, &v2(1, b"from a"));
    a.send(&mut cap, Dir::S2C, &v2(1, b"from a"));
    b.send(&mut cap, Dir::C2S, &v2(1, b"from b"));
    b.send(&mut cap, Dir::S2C, &v2(1, b"from b"));
    a.send(&mut cap, Dir::C2S, &v2(2, b"again a"));
    a.send(&mut cap, Dir::S2C, &v2(2, b"again a"));
    a.ack(&mut cap, Dir::C2S);
    b.ack(&mut cap, Dir::C2S);
    a.close(&mut cap);
    b.close(&mut cap);
    cap
}

/// The client sends, shuts down its sending side (FIN), and still reads the echo.
fn half_close() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40700"), addr(SERVER));
    flow.handshake(&mut cap);
    flow.send(&mut cap, Dir::C2S, &v3(1, b"half"));
    flow.fin(&mut cap, Dir::C2S);
    flow.ack(&mut cap, Dir::S2C);
    cap.advance(100);
    flow.send(&mut cap, Dir::S2C, &v3(1, b"half"));
    flow.ack(&mut cap, Dir::C2S);
    flow.fin(&mut cap, Dir::S2C);
    flow.ack(&mut cap, Dir::C2S);
    cap
}

/// The server answers and closes first: its side keeps TIME_WAIT.
fn server_closes_first() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40800"), addr(SERVER));
    flow.handshake(&mut cap);
    flow.send(&mut cap, Dir::C2S, &v2(1, b"bye"));
    flow.send(&mut cap, Dir::S2C, &v2(1, b"bye"));
    flow.fin(&mut cap, Dir::S2C);
    flow.ack(&mut cap, Dir::C2S);
    flow.fin(&mut cap, Dir::C2S);
    flow.ack(&mut cap, Dir::S2C);
    cap
}

/// Two UDP clients whose datagrams get no reply (the lab's UDP server only prints).
fn udp_no_reply() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let server = addr(SERVER);
    cap.udp(addr("10.0.0.2:45974"), server, b"hello");
    cap.advance(100);
    cap.udp(addr("10.0.0.2:35552"), server, b"anyone there?");
    cap
}

/// A 100 kB v3 message over 1448-byte segments (MSS 1460, timestamps on), ACK every
/// second segment, echoed the same way.
fn v3_100k() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap
        .tcp(addr("10.0.0.2:41000"), addr(SERVER))
        .with_mss(1460)
        .with_timestamps();
    flow.handshake(&mut cap);
    let body: Vec<u8> = b"The quick brown fox jumps over the lazy dog. "
        .iter()
        .copied()
        .cycle()
        .take(100_000)
        .collect();
    let msg = v3(1, &body);
    for dir in [Dir::C2S, Dir::S2C] {
        for (i, part) in msg.chunks(1448).enumerate() {
            flow.send(&mut cap, dir, part);
            if i % 2 == 1 {
                flow.ack(&mut cap, dir.reverse());
            }
        }
        flow.ack(&mut cap, dir.reverse());
        cap.advance(300);
    }
    flow.close(&mut cap);
    cap
}

/// A v3 exchange captured on macOS's loopback (DLT_NULL), client port in Linux's range.
fn null_loopback() -> Capture {
    let mut cap = Capture::new(LinkType::NullLe);
    let mut flow = cap.tcp(addr("127.0.0.1:40000"), addr("127.0.0.1:5005"));
    flow.handshake(&mut cap);
    flow.send(&mut cap, Dir::C2S, &v3(1, b"mac"));
    flow.send(&mut cap, Dir::S2C, &v3(1, b"mac"));
    flow.close(&mut cap);
    cap
}

#[test]
fn explain_iterative_server() {
    explain_snapshot("explain_iterative_server", iterative_server());
}

#[test]
fn explain_threaded_server() {
    explain_snapshot("explain_threaded_server", threaded_server());
}

#[test]
fn explain_half_close() {
    explain_snapshot("explain_half_close", half_close());
}

#[test]
fn explain_server_closes_first() {
    explain_snapshot("explain_server_closes_first", server_closes_first());
}

#[test]
fn explain_udp_no_reply() {
    explain_snapshot("explain_udp_no_reply", udp_no_reply());
}

#[test]
fn explain_v3_100k() {
    explain_snapshot("explain_v3_100k", v3_100k());
}

#[test]
fn explain_null_loopback() {
    explain_snapshot("explain_null_loopback", null_loopback());
}

/// The claims, each checked on the capture it is about (the snapshots hold the words).
#[test]
fn claims_follow_the_packets() {
    let text = |cap: Capture, name: &str| render(&analyse(&cap, name), View::Explain, &PLAIN);
    let iterative = text(iterative_server(), "iterative");
    assert!(iterative.contains("the server probably serves one client at a time"));
    assert!(!iterative.contains("served several clients at once"));
    assert!(iterative.contains("listen backlog"));
    let threaded = text(threaded_server(), "threaded");
    assert!(threaded.contains("the server served several clients at once"));
    let half = text(half_close(), "half");
    assert!(half.contains("shutdown(SHUT_WR)"), "{half}");
    let server_first = text(server_closes_first(), "server_first");
    assert!(server_first.contains("TIME_WAIT"));
    assert!(server_first.contains("Address already in use"));
    assert!(server_first.contains("SO_REUSEADDR"));
    let refused = text(refused(), "refused");
    assert!(refused.contains("ConnectionRefusedError"));
    assert!(
        !refused.contains("bind()") && !refused.contains("accept()"),
        "{refused}"
    );
    let reset = text(reset(), "reset");
    assert!(reset.contains("ConnectionResetError"));
    assert!(!reset.contains("a process that died"));
    let udp = text(udp_no_reply(), "udp");
    assert!(!udp.contains("answers each with sendto()") && !udp.contains("answered each"));
    assert!(udp.contains("UDP does not retransmit"));
    assert!(udp.contains("probably at the client's first sendto()"));
    let big = text(v3_100k(), "big");
    assert!(big.contains("leaving 1448 bytes (1460 minus 12)"), "{big}");
    assert!(!big.contains("one send() became several segments"));
    assert!(!big.contains("TCP joined several send() calls"));
    let mac = text(null_loopback(), "mac");
    assert!(!mac.contains("most likely runs Linux"), "{mac}");
    // Every line but the conversation table's fits in 100 columns.
    for report in [&iterative, &threaded, &half, &big, &mac] {
        let table = report.find("Conversations\n").unwrap();
        let table_end = table + report[table..].find("\n\n").unwrap();
        let outside = report[..table].lines().chain(report[table_end..].lines());
        for line in outside {
            assert!(line.chars().count() <= 100, "{line}");
        }
    }
}

/// The summary's diagnostic count equals the lines printed with a severity word.
#[test]
fn printed_diagnostics_match_the_summary() {
    for (name, cap) in [
        ("lossy", lossy()),
        ("v2_truncated", v2_truncated()),
        ("struct", struct_mistakes()),
        ("big", v3_100k()),
    ] {
        let events = analyse(&cap, name);
        let text = render(&events, View::Explain, &PLAIN);
        let printed = text
            .lines()
            .filter(|l| {
                ["    error   ", "    warning ", "    note    "]
                    .iter()
                    .any(|w| l.starts_with(w))
            })
            .count() as u64;
        let summary = events
            .iter()
            .find_map(|e| match e {
                Event::Summary(s) => Some(s.diagnostics),
                _ => None,
            })
            .unwrap();
        assert_eq!(printed, summary, "{name}:\n{text}");
    }
}

/// `--view messages` cuts long payloads too.
#[test]
fn messages_view_cuts_long_payloads() {
    let events = analyse(&v3_100k(), "big_messages");
    let text = render(&events, View::Messages, &PLAIN);
    assert!(text.lines().all(|l| l.chars().count() < 400), "{text}");
    assert!(text.contains("(100000 bytes; --json shows them all)"));
}

/// The realistic captures (real kernels, two namespaces, a lossy forwarder) that the
/// network-lab work commits under tests/fixtures/netlab; a test skips, saying so, when
/// they are not there.
fn netlab(name: &str) -> Option<Vec<Event>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netlab")
        .join(format!("{name}.pcap"));
    if !path.exists() {
        skip_note!("skipped {name}: {} is absent", path.display());
        return None;
    }
    let source = SourceOptions::file(path);
    let mut events: Vec<Event> = Vec::new();
    labsniff::analyze(&source, Options::default(), &mut events).unwrap();
    Some(events)
}

/// What each realistic capture must (and must not) make the report say, at both
/// capture points.
#[test]
fn realistic_captures_get_true_words() {
    let cases: [(&str, &[&str], &[&str]); 7] = [
        (
            "iterative_server",
            &[
                "the server probably serves one client at a time",
                "listen backlog",
            ],
            &["served several clients at once"],
        ),
        (
            "threaded_server",
            &["the server served several clients at once"],
            &["probably serves one client at a time"],
        ),
        (
            "half_close",
            &["shutdown(SHUT_WR)"],
            &["the client closed first (FIN"],
        ),
        (
            "server_closes_first",
            &["TIME_WAIT", "Address already in use", "SO_REUSEADDR"],
            &[],
        ),
        (
            "refused",
            &["ConnectionRefusedError"],
            &["bind()", "accept()"],
        ),
        (
            "udp_no_reply",
            &[
                "UDP does not retransmit",
                "probably at the client's first sendto()",
            ],
            &["answered each", "the server's fixed port"],
        ),
        (
            "loss_v3_100k",
            &["leaving 1448 bytes (1460 minus 12)"],
            &["one send() became", "TCP joined several send()"],
        ),
    ];
    for (name, must, must_not) in cases {
        for point in ["client", "server"] {
            let file = format!("{name}.{point}");
            let Some(events) = netlab(&file) else {
                continue;
            };
            let text = render(&events, View::Explain, &PLAIN);
            for said in must {
                assert!(text.contains(said), "{file}: missing {said:?}\n{text}");
            }
            for unsaid in must_not {
                assert!(!text.contains(unsaid), "{file}: says {unsaid:?}\n{text}");
            }
            assert!(!text.contains("a process that died"), "{file}");
        }
    }
}

/// A SYN and its two retransmissions (after 1 s and 3 s), never answered.
fn unanswered() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40900"), addr(SERVER));
    flow.syn_only(&mut cap);
    cap.advance(1_000_000);
    flow.syn_only(&mut cap);
    cap.advance(2_000_000);
    flow.syn_only(&mut cap);
    cap
}

#[test]
fn explain_unanswered() {
    explain_snapshot("explain_unanswered", unanswered());
    let text = render(&analyse(&unanswered(), "s0"), View::Explain, &PLAIN);
    assert!(text.contains("TimeoutError"), "{text}");
    assert!(text.contains("net.ipv4.tcp_syn_retries = 6"), "{text}");
}

/// The explain report of a capture made with real kernel TCP stacks in network
/// namespaces (tests/fixtures/netlab, 10 ms each way; see its README and regen.sh),
/// compared with tests/snapshots/netlab_NAME.txt. Each snapshot was read line by line
/// against the capture in tshark.
fn netlab_snapshot(name: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netlab")
        .join(format!("{name}.pcap"));
    let source = SourceOptions::file(path);
    let mut events: Vec<Event> = Vec::new();
    labsniff::analyze(&source, Options::default(), &mut events).unwrap();
    snapshot(
        &format!("netlab_{}", name.replace('.', "_")),
        &render(&events, View::Explain, &PLAIN),
    );
}

#[test]
fn netlab_iterative_server_two_clients() {
    netlab_snapshot("iterative_server.server");
}

#[test]
fn netlab_refused_connection() {
    netlab_snapshot("refused.client");
}

#[test]
fn netlab_loss_with_fast_retransmission() {
    netlab_snapshot("fast_retransmit.server");
}

#[test]
fn netlab_lost_syns() {
    netlab_snapshot("lost_syns.client");
}

#[test]
fn netlab_half_close() {
    netlab_snapshot("half_close.client");
}

#[test]
fn netlab_server_closes_first() {
    netlab_snapshot("server_closes_first.server");
}

#[test]
fn netlab_udp_without_replies() {
    netlab_snapshot("udp_no_reply.server");
}

#[test]
fn netlab_100k_message_over_mss_segments() {
    netlab_snapshot("loss_v3_100k.client");
}

/// A server that echoes what each recv() returns starts a large echo before the
/// request is whole: it is still that request's echo.
#[test]
fn a_streamed_echo_of_a_large_message_is_paired() {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:41500"), addr(SERVER));
    flow.handshake(&mut cap);
    let msg = v3(1, &[b'x'; 3000]);
    let (a, rest) = msg.split_at(1000);
    let (b, c) = rest.split_at(1000);
    flow.send(&mut cap, Dir::C2S, a);
    flow.send(&mut cap, Dir::S2C, a);
    flow.send(&mut cap, Dir::C2S, b);
    flow.send(&mut cap, Dir::C2S, c);
    flow.send(&mut cap, Dir::S2C, b);
    flow.send(&mut cap, Dir::S2C, c);
    flow.close(&mut cap);
    let text = render(&analyse(&cap, "streamed-echo"), View::Explain, &PLAIN);
    assert!(
        text.contains("1 of 1 client message echoed by the server"),
        "{text}"
    );
    assert!(
        !text.contains("answers no earlier client message"),
        "{text}"
    );
}

/// A frame has one time in the SVG flow graph, whichever conversations are drawn: the
/// origin is the first lab conversation's first frame (as in the text flow view).
#[test]
fn svg_times_do_not_depend_on_the_conversations_drawn() {
    let events = analyse(&struct_mistakes(), "svg-origin");
    let times = |svg: &str| -> Vec<(String, String)> {
        svg.lines()
            .filter_map(|l| {
                let frame = l.split("data-frame=\"").nth(1)?.split('"').next()?;
                let time = l.split("<text class=\"time\"").nth(1)?.split('>').nth(1)?;
                Some((frame.to_string(), time.split("  #").next()?.to_string()))
            })
            .collect()
    };
    let all = times(&render_svg(&events, None));
    let second = times(&render_svg(&events, Some(2)));
    assert!(!second.is_empty());
    for t in &second {
        assert!(all.contains(t), "{t:?} not in {all:?}");
    }
    // The second conversation starts later than the first: its times are not all 0.
    assert!(second.iter().any(|(_, t)| t != "0.000000"), "{second:?}");
}
