//! `labsniff grade` on captures built with labfixtures (and on the demo's, when
//! `cargo xtask demo` has written them): complete captures pass each exercise; a capture
//! missing a requirement fails exactly that one, with evidence and frames; 50 files,
//! damaged, empty and foreign ones included, give one row each and no crash.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;

use common::{addr, temp_path};
use labfixtures::{lab, Capture, Dir, FileFormat, LinkType};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_labsniff");

fn write(cap: &Capture, name: &str, format: FileFormat) -> PathBuf {
    let path = temp_path(name, format.extension());
    cap.write(&path, format).expect("write capture");
    path
}

/// `labsniff grade --exercise EX --json FILES`: the objects, the exit code.
fn grade(exercise: &str, files: &[&Path]) -> (Vec<Value>, Option<i32>) {
    let (all, code) = grade_lines(exercise, files);
    // One object per file; the `copies` lines after them are about pairs.
    let files = all
        .into_iter()
        .filter(|v| v.get("type").is_none())
        .collect();
    (files, code)
}

/// Every JSON line of `labsniff grade --json`, and the exit code.
fn grade_lines(exercise: &str, files: &[&Path]) -> (Vec<Value>, Option<i32>) {
    let out = Command::new(BIN)
        .args(["grade", "--exercise", exercise, "--json"])
        .args(files)
        .output()
        .expect("run labsniff");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    (lines, out.status.code())
}

fn requirement<'a>(g: &'a Value, name: &str) -> &'a Value {
    g["requirements"]
        .as_array()
        .and_then(|r| r.iter().find(|v| v["name"] == name))
        .unwrap_or_else(|| panic!("no requirement {name} in {g}"))
}

fn failed(g: &Value) -> Vec<String> {
    g["requirements"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|v| v["outcome"] == "fail")
                .filter_map(|v| v["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn frames(v: &Value) -> Vec<u64> {
    v["frames"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// Exactly `name` fails; its evidence has `words`; its frames are `expected_frames`.
fn assert_only_fails(g: &Value, name: &str, words: &str, expected_frames: &[u64]) {
    assert_eq!(failed(g), vec![name.to_string()], "{g:#}");
    let r = requirement(g, name);
    let evidence = r["evidence"].as_str().unwrap_or_default();
    assert!(evidence.contains(words), "{name}: {evidence}");
    assert_eq!(frames(r), expected_frames, "{name}: {evidence}");
    assert_eq!(g["pass"], false);
}

fn udp(ports: &[u16]) -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    for p in ports {
        cap.udp(
            addr(&format!("10.0.0.2:{p}")),
            addr("10.0.0.1:5005"),
            b"hello",
        );
    }
    cap
}

#[test]
fn exercise_1_2_needs_two_source_ports() {
    let good = write(&udp(&[40000, 40001, 40000]), "udp-two", FileFormat::Pcap);
    let one = write(&udp(&[40000, 40000]), "udp-one", FileFormat::PcapNg);
    let (g, code) = grade("1.2", &[&good]);
    assert_eq!(g[0]["pass"], true, "{:#}", g[0]);
    assert_eq!(frames(requirement(&g[0], "udp_datagrams")), [1, 2, 3]);
    assert_eq!(code, Some(0));
    let (g, code) = grade("1.2", &[&one]);
    assert_only_fails(
        &g[0],
        "two_source_ports",
        "one source port only: 40000",
        &[1],
    );
    assert_eq!(code, Some(11));
}

/// Two text clients; `concurrent`: B is answered while A is still connected;
/// otherwise B's answer comes only after A closed (an iterative server).
fn text_clients(concurrent: bool) -> Capture {
    let mut cap = Capture::new(LinkType::LinuxSll2);
    let mut a = cap.tcp(addr("127.0.0.1:40100"), addr("127.0.0.1:5005"));
    let mut b = cap.tcp(addr("127.0.0.1:40200"), addr("127.0.0.1:5005"));
    a.handshake(&mut cap); // frames 1-3
    a.send(&mut cap, Dir::C2S, b"from A"); // 4
    a.send(&mut cap, Dir::S2C, b"from A"); // 5
    b.handshake(&mut cap); // 6-8
    b.send(&mut cap, Dir::C2S, b"from B"); // 9
    if concurrent {
        b.send(&mut cap, Dir::S2C, b"from B"); // 10
        a.close(&mut cap);
    } else {
        a.close(&mut cap); // 10-13
        b.send(&mut cap, Dir::S2C, b"from B"); // 14
    }
    b.close(&mut cap);
    cap
}

#[test]
fn exercises_2_2_and_3_2_need_a_proven_concurrent_server() {
    let good = write(&text_clients(true), "text-concurrent", FileFormat::Pcap);
    let iterative = write(&text_clients(false), "text-iterative", FileFormat::Pcap);
    for (ex, threads) in [("2.2", "thread_per_client"), ("3.2", "one_thread_selects")] {
        let (g, code) = grade(ex, &[&good]);
        // Every requirement the packets can decide passes; the server's threads cannot
        // show in packets: undecided, saying what to hand in.
        assert_eq!(failed(&g[0]), Vec::<String>::new(), "{:#}", g[0]);
        assert_eq!(
            (g[0]["pass"].clone(), g[0]["outcome"].clone()),
            (false.into(), "undecided".into())
        );
        let t = requirement(&g[0], threads);
        assert_eq!(
            (t["pass"].clone(), t["outcome"].clone()),
            (false.into(), "undecided".into())
        );
        let name = good.file_stem().unwrap().to_string_lossy().into_owned();
        let evidence = t["evidence"].as_str().unwrap();
        assert!(
            evidence.starts_with("cannot tell from packets")
                && evidence.contains(&format!(
                    "strace -f -ttt -T -yy -o {name}.strace python3 server.py"
                )),
            "{evidence}"
        );
        assert_eq!(
            frames(requirement(&g[0], "served_concurrently")),
            [5, 10, 11]
        );
        assert_eq!(code, Some(11));
        let (g, _) = grade(ex, &[&iterative]);
        assert_only_fails(
            &g[0],
            "served_concurrently",
            "one client at a time: conversation 2 asked at frame 9 but was answered only at \
             frame 14, after conversation 1 ended at frame 10",
            &[9, 10, 14],
        );
    }
}

#[test]
fn exercise_2_2_needs_every_byte_echoed() {
    let mut cap = text_clients(true);
    let mut c = cap.tcp(addr("127.0.0.1:40300"), addr("127.0.0.1:5005"));
    c.handshake(&mut cap); // 19-21
    c.send(&mut cap, Dir::C2S, b"no echo for me"); // 22
    c.close(&mut cap);
    let path = write(&cap, "text-unechoed", FileFormat::Pcap);
    let (g, _) = grade("2.2", &[&path]);
    assert_only_fails(
        &g[0],
        "text_echoed",
        "conversation 3 (127.0.0.1:40300): 14 bytes sent, 0 echoed",
        &[19],
    );
}

#[test]
fn exercise_2_2_says_what_a_prefixed_reply_added() {
    // serverTCP.py answering conn.send(b"ECHO: " + data): every message answered, none
    // echoed byte for byte; the evidence names the added bytes and the reply's frame.
    let mut cap = text_clients(true);
    let mut c = cap.tcp(addr("127.0.0.1:40300"), addr("127.0.0.1:5005"));
    c.handshake(&mut cap); // 19-21
    c.send(&mut cap, Dir::C2S, b"hello"); // 22
    c.send(&mut cap, Dir::S2C, b"ECHO: hello"); // 23
    c.close(&mut cap);
    let path = write(&cap, "text-prefixed", FileFormat::Pcap);
    let (g, _) = grade("2.2", &[&path]);
    assert_only_fails(
        &g[0],
        "text_echoed",
        "conversation 3 (127.0.0.1:40300): the server's replies carry the client's text but add \
         bytes (\"ECHO: \" before it, first at frame 23): an echo sends back exactly the bytes \
         received",
        &[23],
    );
}

/// One v2 client: `messages` sent, each echoed with `echo(order, text)`.
fn v2_capture(messages: &[&[u8]], echo: impl Fn(u32, &[u8]) -> Vec<u8>) -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut f = cap.tcp(addr("10.0.0.2:41000"), addr("10.0.0.1:5005"));
    f.handshake(&mut cap);
    for (i, m) in messages.iter().enumerate() {
        let order = i as u32 + 1;
        f.send(&mut cap, Dir::C2S, &lab::v2(order, m));
        f.send(&mut cap, Dir::S2C, &echo(order, m));
    }
    f.close(&mut cap);
    cap
}

#[test]
fn exercise_4_3_needs_byte_exact_v2_echoes() {
    let msgs: [&[u8]; 2] = [b"hello", b"a message of thirty-seven bytes here!"];
    let good = write(&v2_capture(&msgs, lab::v2), "v2-good", FileFormat::Pcap);
    let (g, code) = grade("4.3", &[&good]);
    assert_eq!(g[0]["pass"], true, "{:#}", g[0]);
    assert_eq!(frames(requirement(&g[0], "v2_messages")), [4, 6]);
    assert_eq!(code, Some(0));
    // The echo packs a new header: its size is the 20 bytes carried, not 37.
    let rebuilt = v2_capture(&msgs, |order, m| lab::v2(order, &m[..m.len().min(20)]));
    let bad = write(&rebuilt, "v2-rebuilt", FileFormat::Pcap);
    let (g, _) = grade("4.3", &[&bad]);
    assert_only_fails(
        &g[0],
        "v2_echoed",
        "the echo (frame 7) of message order=2 (frame 6) changed it: size 37 → 20",
        &[6, 7],
    );
    // 4.2 asks for no echo: the same capture passes it.
    let (g, _) = grade("4.2", &[&bad]);
    assert_eq!(g[0]["pass"], true, "{:#}", g[0]);
}

#[test]
fn native_struct_v2_fails_v2_messages_naming_the_mistake() {
    // python3 -c "import struct; print(struct.pack('BII20s',1,1,5,b'hello').hex())"
    let native: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(
                &"01000000010000000500000068656c6c6f000000000000000000000000000000"[i..i + 2],
                16,
            )
            .unwrap_or(0)
        })
        .collect();
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut f = cap.tcp(addr("10.0.0.2:41001"), addr("10.0.0.1:5005"));
    f.handshake(&mut cap);
    f.send(&mut cap, Dir::C2S, &native);
    f.send(&mut cap, Dir::S2C, &native);
    f.close(&mut cap);
    let path = write(&cap, "v2-native", FileFormat::Pcap);
    let (g, _) = grade("4.2", &[&path]);
    assert_only_fails(
        &g[0],
        "v2_messages",
        "struct.pack('BII20s', ...) without '!'",
        &[4],
    );
}

/// One v3 client: a short message and a 5000-byte one, the long one in segments of
/// `chunk` bytes both ways.
fn v3_capture(chunk: usize) -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut f = cap.tcp(addr("10.0.0.2:42000"), addr("10.0.0.1:5005"));
    f.handshake(&mut cap); // 1-3
    let short = lab::v3(1, b"hello v3");
    f.send(&mut cap, Dir::C2S, &short); // 4
    f.send(&mut cap, Dir::S2C, &short); // 5
    let long = lab::v3(2, &vec![b'x'; 5000]);
    f.send_split(&mut cap, Dir::C2S, &long, chunk);
    f.send_split(&mut cap, Dir::S2C, &long, chunk);
    f.close(&mut cap);
    cap
}

#[test]
fn exercise_5_3_needs_a_message_over_several_segments() {
    let good = write(&v3_capture(1448), "v3-segments", FileFormat::PcapNg);
    let (g, code) = grade("5.3", &[&good]);
    assert_eq!(g[0]["pass"], true, "{:#}", g[0]);
    let r = requirement(&g[0], "v3_several_segments");
    assert_eq!(frames(r), [6, 7, 8, 9]);
    assert!(r["evidence"]
        .as_str()
        .unwrap_or_default()
        .contains("the client message order=2 size=5000 was carried by 4 segments"));
    assert_eq!(code, Some(0));
    let one = write(&v3_capture(100_000), "v3-one-segment", FileFormat::Pcap);
    let (g, _) = grade("5.3", &[&one]);
    assert_only_fails(
        &g[0],
        "v3_several_segments",
        "every v3 message fit in one segment",
        &[],
    );
    // 5.2 does not ask for it.
    let (g, _) = grade("5.2", &[&one]);
    assert_eq!(g[0]["pass"], true, "{:#}", g[0]);
}

#[test]
fn fifty_files_damaged_empty_and_foreign_give_one_row_each() {
    let dir = temp_path("class", "d");
    std::fs::create_dir_all(&dir).expect("class folder");
    let good = v3_capture(1448).to_bytes(FileFormat::Pcap);
    let mut expected = Vec::new();
    for i in 0..50 {
        let path = dir.join(format!("student{i:02}.pcap"));
        let (bytes, why): (Vec<u8>, &str) = match i % 5 {
            0 => (good.clone(), ""),
            1 => (Vec::new(), "the file is empty"),
            2 => (good[..good.len() - 100].to_vec(), "damaged: frame"),
            3 => (
                b"this is my lab report, not a capture\n".to_vec(),
                "not a pcap or pcapng file",
            ),
            // A capture with nothing on the lab port.
            _ => (
                udp(&[]).to_bytes(FileFormat::Pcap),
                "no TCP conversation to port 5005",
            ),
        };
        std::fs::write(&path, bytes).expect("write file");
        expected.push((path, why));
    }
    let (all, _) = grade_lines("5.3", &[dir.as_path()]);
    // The 10 good files are one capture: 45 identical pairs; empty files are never
    // called copies of each other.
    let good = |v: &Value, i: usize| {
        v["files"][i]
            .as_str()
            .and_then(|f| f.rsplit("student").next())
            .and_then(|n| n.trim_end_matches(".pcap").parse::<usize>().ok())
    };
    let copies: Vec<&Value> = all.iter().filter(|v| v["type"] == "copies").collect();
    let good_pairs = copies
        .iter()
        .filter(|v| v["how"] == "identical")
        .filter(|v| {
            good(v, 0).is_some_and(|n| n % 5 == 0) && good(v, 1).is_some_and(|n| n % 5 == 0)
        })
        .count();
    assert_eq!(good_pairs, 45);
    assert!(!copies
        .iter()
        .any(|v| good(v, 0).is_some_and(|n| n % 5 == 1) || good(v, 1).is_some_and(|n| n % 5 == 1)));
    let (g, code) = grade("5.3", &[dir.as_path()]);
    assert_eq!(g.len(), 50);
    for (row, (path, why)) in g.iter().zip(&expected) {
        assert_eq!(row["file"], path.display().to_string());
        assert_eq!(row["exercise"], "5.3");
        if why.is_empty() {
            assert_eq!(row["pass"], true, "{row:#}");
        } else {
            assert_eq!(row["pass"], false, "{row:#}");
            let text = row.to_string();
            assert!(text.contains(why), "{why}: {row:#}");
        }
    }
    assert_eq!(code, Some(11));
    // The table: a title, a header, 50 rows, a blank line and the total.
    let out = Command::new(BIN)
        .args(["grade", "--exercise", "5.3"])
        .arg(&dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run labsniff");
    let text = String::from_utf8_lossy(&out.stdout);
    // The table's rows, before the pairs "Handed in twice" that follow it.
    let table = text.split("Handed in twice:").next().unwrap_or("");
    let rows: Vec<&str> = table.lines().filter(|l| l.contains("student")).collect();
    assert_eq!(rows.len(), 50, "{text}");
    assert!(text.contains("student00.pcap and "), "{text}");
    assert!(
        text.contains("10 of 50 captures pass exercise 5.3"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour when NO_COLOR is set");
    // CSV: a header and one record per file.
    let out = Command::new(BIN)
        .args(["grade", "--exercise", "5.3", "--csv"])
        .arg(&dir)
        .output()
        .expect("run labsniff");
    let csv = String::from_utf8_lossy(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("file,exercise,pass,readable,v3_messages,v3_echoed,v3_several_segments,first_failure,outcome,first_undecided")
    );
    assert_eq!(lines.count(), 50);
}

#[test]
fn list_prints_every_exercise() {
    let out = Command::new(BIN)
        .args(["grade", "--list"])
        .output()
        .expect("run labsniff");
    let text = String::from_utf8_lossy(&out.stdout);
    for id in ["1.2", "2.2", "3.2", "4.2", "4.3", "5.2", "5.3"] {
        assert!(text.contains(&format!(" {id} ")), "{id}: {text}");
    }
    assert!(text.contains("served_concurrently"));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn demo_captures_pass_their_exercises() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/demo");
    let pairs = [
        ("1.2", "ex1"),
        ("2.2", "ex2"),
        ("3.2", "ex3"),
        ("4.2", "ex4"),
        ("4.3", "ex4"),
        ("5.2", "ex5"),
        ("5.3", "ex5"),
    ];
    if !pairs
        .iter()
        .all(|(_, f)| demo.join(format!("{f}.pcap")).exists())
    {
        skip_note!("skipped: no target/demo/*.pcap (run `cargo xtask demo` first)");
        return;
    }
    for (ex, file) in pairs {
        let path = demo.join(format!("{file}.pcap"));
        let (g, code) = grade(ex, &[&path]);
        // 2.2 and 3.2 have no trace beside them: their thread requirement is undecided.
        let want = if ex == "2.2" || ex == "3.2" {
            "undecided"
        } else {
            "pass"
        };
        assert_eq!(g[0]["outcome"], want, "exercise {ex}: {:#}", g[0]);
        assert_eq!(
            failed(&g[0]),
            Vec::<String>::new(),
            "exercise {ex}: {:#}",
            g[0]
        );
        assert_eq!(code, Some(if want == "pass" { 0 } else { 11 }));
    }
}

#[test]
fn captures_handed_in_twice_are_named() {
    let dir = std::env::temp_dir().join(format!("labsniff-copies-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/netlab");
    let original = fixtures.join("threaded_server.server.pcap");
    let (alice, bob) = (dir.join("alice.pcap"), dir.join("bob.pcap"));
    std::fs::copy(&original, &alice).expect("copy");
    std::fs::copy(&original, &bob).expect("copy");
    // The same traffic captured at the other end: other bytes, the same connections.
    let carol = dir.join("carol.pcap");
    std::fs::copy(fixtures.join("threaded_server.client.pcap"), &carol).expect("copy");
    // Another exchange altogether.
    let dave = dir.join("dave.pcap");
    std::fs::copy(fixtures.join("iterative_server.server.pcap"), &dave).expect("copy");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .args(["grade", "--exercise", "2.2", "--json"])
        .args([&alice, &bob, &carol, &dave])
        .output()
        .expect("labsniff");
    let copies: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "copies")
        .collect();
    let pairs: Vec<(String, String, String)> = copies
        .iter()
        .map(|c| {
            let name = |i: usize| {
                Path::new(c["files"][i].as_str().unwrap_or(""))
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            };
            (
                name(0),
                name(1),
                c["how"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        pairs,
        vec![
            ("alice.pcap".into(), "bob.pcap".into(), "identical".into()),
            (
                "alice.pcap".into(),
                "carol.pcap".into(),
                "same_connections".into()
            ),
            (
                "bob.pcap".into(),
                "carol.pcap".into(),
                "same_connections".into()
            ),
        ]
    );
}

// ---- 2.2 and 3.2 from the server's trace (tests/fixtures/grade_traces, regen.sh) ----

const TRACE_PORT: &str = "15005";

fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grade_traces")
}

/// `labsniff grade --exercise EX --port P --json FILES`: the file objects, exit code.
fn grade_on(exercise: &str, port: &str, files: &[&Path]) -> (Vec<Value>, Option<i32>) {
    let out = Command::new(BIN)
        .args(["grade", "--exercise", exercise, "--port", port, "--json"])
        .args(files)
        .output()
        .expect("run labsniff");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("type").is_none())
        .collect();
    (lines, out.status.code())
}

/// Thread ids named in `evidence` ("thread 123"), each checked to start a line of
/// `trace` (strace -f prefixes every line with its thread id): nothing is made up.
fn tids_in(evidence: &str, trace: &Path) -> Vec<u32> {
    let text = std::fs::read_to_string(trace).unwrap();
    let mut tids: Vec<u32> = evidence
        .split("thread ")
        .skip(1)
        .filter_map(|w| w.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .collect();
    tids.sort_unstable();
    tids.dedup();
    for t in &tids {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{t} "))),
            "thread {t} is not in {}",
            trace.display()
        );
    }
    tids
}

/// Decide `kind` ("threads" or "selector") servers' captures both ways, with the
/// trace beside each: the right exercise passes its thread requirement, the other
/// fails it with evidence; every other requirement passes.
fn decide(files: &[(PathBuf, &str)], port: &str) {
    for (pcap, kind) in files {
        let trace = pcap.with_extension("strace");
        let (threads_ok, selector_ok) = (*kind == "threads", *kind == "selector");
        for (ex, req, should_pass) in [
            ("2.2", "thread_per_client", threads_ok),
            ("3.2", "one_thread_selects", selector_ok),
        ] {
            let (g, code) = grade_on(ex, port, &[pcap]);
            let r = requirement(&g[0], req);
            let evidence = r["evidence"].as_str().unwrap();
            let what = format!("{} as {ex}: {evidence}", pcap.display());
            assert_eq!(
                r["outcome"],
                if should_pass { "pass" } else { "fail" },
                "{what}"
            );
            let others: Vec<String> = failed(&g[0]).into_iter().filter(|n| n != req).collect();
            assert!(others.is_empty(), "{what}: {others:?}");
            assert_eq!(code, Some(if should_pass { 0 } else { 11 }), "{what}");
            // A readiness call's return is known only with -T (durations); a -tt trace
            // gives its start, before the data that woke it, so a frame may be unnamed.
            let durations = std::fs::read_to_string(&trace).is_ok_and(|t| t.contains(" <0."));
            if durations {
                assert_eq!(frames(r).len(), 2, "the two requests' frames: {what}");
            } else {
                assert!(!frames(r).is_empty(), "a request's frame: {what}");
            }
            let tids = tids_in(evidence, &trace);
            match (ex, should_pass) {
                ("2.2", true) => {
                    assert!(evidence.starts_with("each client's socket had a thread of its own"));
                    assert!(evidence.contains("accept"), "{what}");
                    assert!(tids.len() >= 2, "{what}");
                }
                ("2.2", false) => {
                    assert!(
                        evidence.starts_with("one thread for several clients"),
                        "{what}"
                    );
                    assert!(evidence.contains("epoll_wait"), "{what}");
                    assert_eq!(tids.len(), 1, "{what}");
                }
                ("3.2", true) => {
                    assert!(evidence.contains("readiness calls returned conversation 1"));
                    assert!(evidence.contains("epoll_wait") && evidence.contains("fd "));
                    assert!(
                        evidence.contains("no other thread sent or received"),
                        "{what}"
                    );
                    assert_eq!(tids.len(), 1, "{what}");
                }
                _ => {
                    assert!(evidence.starts_with("the clients were served by different threads"));
                    assert!(evidence.contains("no select/poll/epoll call"), "{what}");
                    assert_eq!(tids.len(), 2, "{what}");
                }
            }
        }
    }
}

#[test]
fn traces_tell_a_selector_from_a_thread_per_client() {
    let dir = traces_dir();
    let files: Vec<(PathBuf, &str)> = [
        ("py_threads", "threads"),
        ("py_select", "selector"),
        ("labnet_threads", "threads"),
        ("labnet_selector", "selector"),
    ]
    .into_iter()
    .map(|(n, k)| (dir.join(format!("{n}.pcap")), k))
    .collect();
    decide(&files, TRACE_PORT);
    // The Python threads server: the clone3 calls that started the serving threads.
    let (g, _) = grade_on("2.2", TRACE_PORT, &[&dir.join("py_threads.pcap")]);
    let e = requirement(&g[0], "thread_per_client")["evidence"].to_string();
    assert!(e.contains("serving threads started by: clone3 → "), "{e}");
    // py_select's trace was made with -tt: its times are times of day, as in its lines.
    let (g, _) = grade_on("3.2", TRACE_PORT, &[&dir.join("py_select.pcap")]);
    let e = requirement(&g[0], "one_thread_selects")["evidence"].to_string();
    let text = std::fs::read_to_string(dir.join("py_select.strace")).unwrap();
    let time = e.split(" at ").nth(1).unwrap().split(',').next().unwrap();
    assert!(
        time.contains(':') && text.contains(time),
        "{time} not in the trace: {e}"
    );
}

#[test]
fn a_class_folder_reads_traces_beside_captures_and_says_what_is_missing() {
    let dir = temp_path("class-traces", "d");
    std::fs::create_dir_all(&dir).unwrap();
    let src = traces_dir();
    let copy = |from: &str, to: &str| std::fs::copy(src.join(from), dir.join(to)).unwrap();
    copy("py_select.pcap", "alice.pcap");
    copy("py_select.strace", "alice.strace");
    copy("py_select.pcap", "bob.pcap");
    copy("labnet_selector.pcap", "carol.pcap");
    std::fs::write(
        dir.join("carol.strace"),
        "my server printed this\nand this\n",
    )
    .unwrap();
    // A trace with a damaged line among good ones: decided on what reads, said.
    copy("labnet_selector.pcap", "dave.pcap");
    let mut text = std::fs::read_to_string(src.join("labnet_selector.strace")).unwrap();
    text.insert_str(0, "garbage line\n");
    std::fs::write(dir.join("dave.strace"), text).unwrap();
    let (g, code) = grade_on("3.2", TRACE_PORT, &[&dir]);
    let names: Vec<&str> = g.iter().map(|g| g["file"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 4, "no .strace graded as a capture: {names:?}");
    assert_eq!(code, Some(11));
    let by = |name: &str| {
        g.iter()
            .find(|g| g["file"].as_str().unwrap().ends_with(name))
            .unwrap()
    };
    assert_eq!(by("alice.pcap")["outcome"], "pass");
    let bob = requirement(by("bob.pcap"), "one_thread_selects");
    assert_eq!(by("bob.pcap")["outcome"], "undecided");
    assert!(
        bob["evidence"]
            .as_str()
            .unwrap()
            .contains("hand in bob.strace beside bob.pcap"),
        "{bob}"
    );
    // A broken trace: undecided, naming the file and its first line; the capture graded.
    let carol = by("carol.pcap");
    assert_eq!(carol["outcome"], "undecided", "{carol:#}");
    assert_eq!(failed(carol), Vec::<String>::new());
    assert_eq!(requirement(carol, "two_tcp_clients")["outcome"], "pass");
    let e = requirement(carol, "one_thread_selects")["evidence"]
        .as_str()
        .unwrap();
    assert!(e.contains("carol.strace") && e.contains("line 1"), "{e}");
    let dave = requirement(by("dave.pcap"), "one_thread_selects");
    let e = dave["evidence"].as_str().unwrap();
    assert_eq!(dave["outcome"], "pass", "{e}");
    assert!(
        e.contains("1 line of") && e.contains("(first: line 1"),
        "{e}"
    );
    // The table and the CSV say undecided, not FAIL.
    let out = Command::new(BIN)
        .args(["grade", "--exercise", "3.2", "--port", TRACE_PORT])
        .arg(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    let bob_row = table.lines().find(|l| l.contains("bob.pcap")).unwrap();
    assert!(
        bob_row.contains(" undecided ") && !bob_row.contains("FAIL"),
        "{table}"
    );
    assert!(
        table.contains("2 of 4 captures pass exercise 3.2; 2 undecided"),
        "{table}"
    );
    let out = Command::new(BIN)
        .args(["grade", "--exercise", "3.2", "--port", TRACE_PORT, "--csv"])
        .arg(&dir)
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout);
    let bob_line = csv.lines().find(|l| l.contains("bob.pcap")).unwrap();
    assert!(
        bob_line.contains(",undecided,,undecided,\"one_thread_selects: cannot tell"),
        "{csv}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// As root with strace and tcpdump: fresh traces of all four servers (every call
/// traced, as a student's plain `strace -f -ttt -T -yy -o NAME.strace` does), decided
/// the same way. Skipped, saying why, otherwise.
#[test]
fn fresh_traces_of_running_servers_decide_the_same() {
    let missing: Vec<&str> = ["strace", "tcpdump", "python3", "ss"]
        .into_iter()
        .filter(|t| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    // SAFETY-free check: `id -u` says whether we are root (ptrace and tcpdump need it).
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root || !missing.is_empty() {
        skip_note!("skipped: needs root and strace, tcpdump, python3, ss (root: {root}, missing: {missing:?})");
        return;
    }
    let out_dir = temp_path("fresh-traces", "d");
    let labnet = Path::new(BIN).with_file_name("labnet");
    let mut cmd = Command::new("timeout");
    cmd.args(["300", "bash"]).arg(traces_dir().join("regen.sh"));
    cmd.env("OUT", &out_dir)
        .env("PORT", "15105")
        .env("FULL", "1");
    if labnet.exists() {
        cmd.env("LABNET", &labnet);
    }
    let run = cmd.output().expect("run regen.sh");
    assert!(
        run.status.success(),
        "regen.sh: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let files: Vec<(PathBuf, &str)> = [
        ("py_threads", "threads"),
        ("py_select", "selector"),
        ("labnet_threads", "threads"),
        ("labnet_selector", "selector"),
    ]
    .into_iter()
    .map(|(n, k)| (out_dir.join(format!("{n}.pcap")), k))
    .collect();
    decide(&files, "15105");
    let _ = std::fs::remove_dir_all(&out_dir);
}
