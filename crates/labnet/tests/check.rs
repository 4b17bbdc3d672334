//! `labnet check` against the student programs of `tests/programs/` (buggy and
//! correct) and against labnet's own servers and client: each bug fails exactly the
//! checks it should, with the expected explanation; correct programs pass them all.
//! Every process is killed on every path (guards) and every wait is bounded.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;

use common::{Server, BIN};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn program(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(name)
}

/// A student's Python server on a free port; killed when dropped.
struct PyServer {
    child: Child,
    port: u16,
}

impl PyServer {
    fn start(name: &str) -> PyServer {
        let mut child = Command::new("python3")
            .arg(program(name))
            .arg("0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is installed");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        // Reads the `port N` line, then drains the rest so the server never blocks.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {}
        });
        let mut server = PyServer { child, port: 0 };
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("{name} printed no port line"));
        server.port = line
            .strip_prefix("port ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name}: not a port line: {line}"));
        server
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One check's JSON object.
#[derive(Debug, Clone)]
struct Result {
    pass: bool,
    evidence: String,
    fix: String,
    consequence_of: Option<String>,
}

/// Run `labnet check ...`; the results by check name, the exit code and the wall time.
/// labnet bounds every check itself; the test only waits for it.
fn check(args: &[&str]) -> (BTreeMap<String, Result>, Option<i32>, Duration) {
    let started = Instant::now();
    // --json right after the subcommand: after `--` it would belong to CMD.
    let out: Output = Command::new(BIN)
        .arg("check")
        .args(&args[..1])
        .arg("--json")
        .args(&args[1..])
        .output()
        .expect("run labnet check");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut results = BTreeMap::new();
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {line}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let mut keys = vec![
            "check".to_string(),
            "evidence".into(),
            "fix".into(),
            "pass".into(),
        ];
        if v.get("consequence_of").is_some() {
            keys.insert(1, "consequence_of".into());
        }
        assert_eq!(
            v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
            Some(keys),
            "{line}"
        );
        results.insert(
            v["check"].as_str().unwrap_or_default().to_string(),
            Result {
                pass: v["pass"].as_bool().unwrap_or(false),
                evidence: v["evidence"].as_str().unwrap_or_default().to_string(),
                fix: v["fix"].as_str().unwrap_or_default().to_string(),
                consequence_of: v["consequence_of"].as_str().map(str::to_string),
            },
        );
    }
    assert!(
        !results.is_empty(),
        "no results; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (results, out.status.code(), elapsed)
}

fn failed(results: &BTreeMap<String, Result>) -> Vec<&str> {
    results
        .iter()
        .filter(|(_, r)| !r.pass)
        .map(|(k, _)| k.as_str())
        .collect()
}

/// Every check passes and labnet exits 0.
fn assert_all_pass(
    what: &str,
    (results, code, _): &(BTreeMap<String, Result>, Option<i32>, Duration),
) {
    assert!(
        failed(results).is_empty(),
        "{what} failed {:?}: {results:#?}",
        failed(results)
    );
    assert_eq!(*code, Some(0), "{what}");
}

/// Exactly `expected` fail, each with evidence and fix containing the given words;
/// labnet exits 11.
fn assert_fails(
    what: &str,
    (results, code, _): &(BTreeMap<String, Result>, Option<i32>, Duration),
    expected: &[(&str, &str, &str)],
) {
    let names: Vec<&str> = expected.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(failed(results), names, "{what}: {results:#?}");
    for (name, evidence, fix) in expected {
        let r = &results[*name];
        assert!(
            r.evidence.contains(evidence),
            "{what} {name} evidence: {}",
            r.evidence
        );
        assert!(r.fix.contains(fix), "{what} {name} fix: {}", r.fix);
    }
    assert_eq!(*code, Some(11), "{what}");
}

fn server_check(port: u16, proto: &str) -> (BTreeMap<String, Result>, Option<i32>, Duration) {
    check(&["server", "--proto", proto, "--port", &port.to_string()])
}

#[test]
fn correct_python_servers_pass_every_check() {
    for (name, proto) in [
        ("server_threads_v3.py", "v3"),
        ("server_threads_v2.py", "v2"),
        ("server_selector_text.py", "text"),
    ] {
        let server = PyServer::start(name);
        assert_all_pass(name, &server_check(server.port, proto));
    }
}

#[test]
fn iterative_server_fails_only_concurrent() {
    let server = PyServer::start("server_iterative_v3.py");
    let run = server_check(server.port, "v3");
    assert_fails(
        "iterative server",
        &run,
        &[(
            "concurrent",
            "client 2 got no answer in 1000 ms while client 1 stayed connected; its echo came",
            "your server serves one client at a time: handle each client in its own thread or \
             register it with a selector",
        )],
    );
    // The failing battery, waits included, stays well under the 30 s budget.
    assert!(run.2 < Duration::from_secs(30), "battery took {:?}", run.2);
}

#[test]
fn recv_once_server_fails_split_and_coalesced() {
    let server = PyServer::start("server_recv_once_v3.py");
    let run = server_check(server.port, "v3");
    assert_fails(
        "recv-once server",
        &run,
        &[
            (
                "coalesced",
                "failed: consequence of split; 2 messages in one segment: 43 bytes sent",
                "",
            ),
            (
                "split",
                "4 bytes, 100 ms later the other 17",
                "read one message at a time: loop on recv() until you have 9 header bytes, then \
                 until you have size more",
            ),
        ],
    );
    assert!(run.2 < Duration::from_secs(30), "battery took {:?}", run.2);
}

#[test]
fn server_rebuilding_the_header_fails_v2_long() {
    let server = PyServer::start("server_rebuild_v2.py");
    assert_fails(
        "rebuild server",
        &server_check(server.port, "v2"),
        &[(
            "v2_long",
            "the echo changed the message: size 37 → 20",
            "echo the bytes you received unchanged with sendall(data)",
        )],
    );
}

#[test]
fn a_server_that_never_answers_fails_everything_within_30_s() {
    let server = PyServer::start("server_never_answers.py");
    let (results, code, elapsed) = server_check(server.port, "v3");
    assert_eq!(results.len(), 8);
    assert!(results.values().all(|r| !r.pass), "{results:#?}");
    assert!(results["echo"].evidence.contains("0 came back (nothing)"));
    assert_eq!(code, Some(11));
    assert!(
        elapsed < Duration::from_secs(30),
        "battery took {elapsed:?}"
    );
}

#[test]
fn labnet_servers_pass_every_check() {
    for model in ["threads", "selector"] {
        for proto in ["text", "v2", "v3"] {
            let server = Server::start(&["tcp-server", "--model", model, "--proto", proto]);
            let run = server_check(server.addr.port(), proto);
            assert_all_pass(&format!("labnet {model} {proto}"), &run);
            assert!(run.2 < Duration::from_secs(30));
        }
        // The print-only servers of 4.1 and 5.1.
        let server = Server::start(&["tcp-server", "--model", model, "--proto", "v3", "--no-echo"]);
        let run = check(&[
            "server",
            "--proto",
            "v3",
            "--no-echo",
            "--port",
            &server.port(),
        ]);
        assert_all_pass(&format!("labnet {model} v3 --no-echo"), &run);
    }
}

#[test]
fn echoing_server_checked_with_no_echo_fails_silent() {
    let server = PyServer::start("server_threads_v3.py");
    let run = check(&[
        "server",
        "--proto",
        "v3",
        "--no-echo",
        "--port",
        &server.port.to_string(),
    ]);
    let (results, _, _) = &run;
    assert!(!results["silent"].pass, "{results:#?}");
    assert!(results["silent"]
        .evidence
        .contains("came back (01 00 00 00 01"));
}

#[test]
fn nothing_listening_is_exit_6_not_a_table() {
    // A port just freed: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let out = Command::new(BIN)
        .args([
            "check",
            "server",
            "--proto",
            "v3",
            "--port",
            &port.to_string(),
        ])
        .output()
        .expect("run labnet");
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("connection refused"));
}

fn client_check(
    proto: &str,
    command: &[&str],
) -> (BTreeMap<String, Result>, Option<i32>, Duration) {
    let mut args = vec![
        "client",
        "--proto",
        proto,
        "--port",
        "0",
        "--timeout",
        "10",
        "--",
    ];
    args.extend_from_slice(command);
    check(&args)
}

#[test]
fn correct_python_clients_pass_every_check() {
    for (name, proto) in [
        ("client_v3.py", "v3"),
        ("client_v2.py", "v2"),
        ("client_text.py", "text"),
    ] {
        let path = program(name);
        let path = path.to_string_lossy();
        assert_all_pass(name, &client_check(proto, &["python3", &path, "{port}"]));
    }
}

#[test]
fn labnet_client_passes_every_check() {
    for proto in ["text", "v2", "v3"] {
        let run = client_check(
            proto,
            &[
                BIN,
                "tcp-client",
                "--proto",
                proto,
                "--port",
                "{port}",
                "-m",
                "hello",
                "-m",
                "a message longer than twenty bytes",
                "-m",
                "bye",
            ],
        );
        assert_all_pass(&format!("labnet tcp-client {proto}"), &run);
    }
}

#[test]
fn native_struct_client_fails_format() {
    let path = program("client_native_v2.py");
    assert_fails(
        "native client",
        &client_check("v2", &["python3", &path.to_string_lossy(), "{port}"]),
        &[(
            "format",
            "all 96 bytes read as 3 messages whole packed 'BII20s': a 12-byte little-endian \
             header",
            "write the format as '!BII20s' (add '!')",
        )],
    );
}

#[test]
fn little_endian_client_fails_format() {
    let path = program("client_little_v3.py");
    assert_fails(
        "little-endian client",
        &client_check("v3", &["python3", &path.to_string_lossy(), "{port}"]),
        &[(
            "format",
            "all 55 bytes read as 3 messages whole packed '<BII' + payload (or '=BII': the same \
             bytes)",
            "write the format as '!BII' (add '!')",
        )],
    );
}

/// A student client whose FIRST message reads as a valid lab message: the whole
/// stream decides, the check fails `format` alone, with the one fix, well before the
/// timeout (nothing waits for an echo that never comes).
fn ambiguous_client(name: &str, proto: &str, evidence: &[&str], fix: &str) {
    let path = program(name);
    let run = client_check(proto, &["python3", &path.to_string_lossy(), "{port}"]);
    assert_fails(name, &run, &[("format", evidence[0], fix)]);
    for e in evidence {
        assert!(
            run.0["format"].evidence.contains(e),
            "{name}: {}",
            run.0["format"].evidence
        );
    }
    assert!(run.2 < Duration::from_secs(5), "{name} took {:?}", run.2);
}

#[test]
fn native_bii_client_whose_first_message_reads_as_lab_fails_format_at_once() {
    ambiguous_client(
        "client_native_bii_v3.py",
        "v3",
        &[
            "all 60 bytes read as 3 messages whole packed 'BII' + payload: a 12-byte \
             little-endian header (version at byte 0, padding 1..4 zero, order 4..8, size 8..12)",
            "message 2 at byte 17: version 1, order 2, size 16, payload \"native alignment\"",
            "Read as the lab's '!BII' + payload: message 1 at byte 0: version 1, order 1, size 5, \
             payload \"\\x00\\x00\\x00he\"; then byte 14 holds 0x6c where message 2's version \
             byte (0x01) should be",
        ],
        "write the format as '!BII' (add '!'): use struct.pack('!BII', version, order, size) \
         + payload",
    );
}

#[test]
fn equals_bii_client_with_an_empty_first_message_fails_format() {
    ambiguous_client(
        "client_equals_v3.py",
        "v3",
        &[
            "all 35 bytes read as 3 messages whole packed '<BII' + payload (or '=BII'",
            "message 1 at byte 0: version 1, order 16777216, size 0, payload \"\"; then message 2 \
             at byte 9: bytes 14..18 read as the size field give 83886080",
        ],
        "write the format as '!BII' (add '!')",
    );
}

#[test]
fn v2_client_without_padding_fails_format_once_a_message_is_not_20_bytes() {
    ambiguous_client(
        "client_unpadded_v2.py",
        "v2",
        &[
            "all 56 bytes read as 3 messages whole packed '!BII' + payload, not padded to 20 bytes",
            "message 2 at byte 29: version 1, order 2, size 2, payload \"hi\"",
            "Read as the lab's '!BII20s': message 1 at byte 0: version 1, order 1, size 20",
        ],
        "pack with the fixed format '!BII20s'",
    );
}

#[test]
fn v2_client_with_21s_fails_format() {
    ambiguous_client(
        "client_21s_v2.py",
        "v2",
        &[
            "all 90 bytes read as 3 messages whole packed '!BII21s'",
            "then byte 29 holds 0x00 where message 2's version byte (0x01) should be",
        ],
        "write the format as '!BII20s' (20s, not 21s)",
    );
}

#[test]
fn client_whose_size_field_counts_characters_fails_size() {
    let path = program("client_size_chars_v3.py");
    let (results, code, elapsed) =
        client_check("v3", &["python3", &path.to_string_lossy(), "{port}"]);
    assert!(results["format"].pass, "{results:#?}");
    let size = &results["size"];
    assert!(!size.pass);
    assert!(
        size.evidence.starts_with(
            "message 2 at byte 14: size field 9, but 10 payload bytes follow up to message 3's \
             header at byte 33"
        ),
        "{}",
        size.evidence
    );
    assert!(size.fix.contains("len(payload)"), "{}", size.fix);
    assert_eq!(code, Some(11));
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
}

#[test]
fn client_that_never_reads_fails_reads_echoes() {
    let path = program("client_no_read_v3.py");
    assert_fails(
        "never-reading client",
        &client_check("v3", &["python3", &path.to_string_lossy(), "{port}"]),
        &[(
            "reads_echoes",
            "RST",
            "read every echo whole: loop on recv() until you have 9 header bytes, then size more",
        )],
    );
}

#[test]
fn client_that_never_connects_fails_every_check_in_bounded_time() {
    let started = Instant::now();
    let (results, code, _) = check(&[
        "client",
        "--proto",
        "v3",
        "--port",
        "0",
        "--timeout",
        "2",
        "--",
        "python3",
        "-c",
        "import sys; sys.exit('no server for me')",
    ]);
    assert!(results.values().all(|r| !r.pass), "{results:#?}");
    assert!(results["connects"]
        .evidence
        .contains("exited with status 1 without connecting"));
    assert_eq!(code, Some(11));
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[test]
fn the_table_is_aligned_uncoloured_with_no_color_and_lists_fixes() {
    let server = PyServer::start("server_rebuild_v2.py");
    let out = Command::new(BIN)
        .args([
            "check",
            "server",
            "--proto",
            "v2",
            "--port",
            &server.port.to_string(),
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("run labnet check");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("labnet check: v2 server at 127.0.0.1:"),
        "{text}"
    );
    assert!(lines[1].starts_with(" check "), "{text}");
    // Every row's result starts in the header's "result" column.
    let col = lines[1].find("result").unwrap();
    let rows: Vec<&str> = lines[2..9].to_vec();
    for row in &rows {
        assert!(
            row[col..].starts_with("pass") || row[col..].starts_with("FAIL"),
            "{row}\n{text}"
        );
    }
    assert!(
        text.contains("How to fix\n  v2_long  echo the bytes you received unchanged"),
        "{text}"
    );
    assert!(text.contains("6 of 7 checks passed"), "{text}");
    assert!(!text.contains('\x1b'), "{text}");
    assert_eq!(out.status.code(), Some(11));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "labnet: 1 of 7 checks failed"
    );
}

/// `check server -- CMD`: the check starts the student's server itself.
fn server_cmd_check(proto: &str, name: &str) -> (BTreeMap<String, Result>, Option<i32>, Duration) {
    let path = program(name);
    check(&[
        "server",
        "--proto",
        proto,
        "--port",
        "0",
        "--",
        "python3",
        &path.to_string_lossy(),
        "{port}",
    ])
}

#[test]
fn recv_once_server_started_by_the_check_printed_garbage_during_large() {
    let run = server_cmd_check("v3", "server_recv_once_v3.py");
    let (results, code, elapsed) = &run;
    // The echo of the 100 kB message is byte-exact: only its prints show the bug.
    assert!(results["large"].pass, "{results:#?}");
    // The split header killed the serving thread: its traceback is in split's evidence.
    assert!(
        results["split"]
            .evidence
            .contains("meanwhile your server wrote on stderr: struct.error"),
        "{}",
        results["split"].evidence
    );
    let prints = &results["prints"];
    assert!(!prints.pass, "{results:#?}");
    // The garbage comes from large's bytes; under load the server may still be
    // printing it while the next check runs ("during large, v3_empty").
    assert!(
        prints.evidence.contains("are not (during large")
            && prints
                .evidence
                .contains("; the first wrong one, version 32"),
        "{}",
        prints.evidence
    );
    // Its stderr during split is split's own evidence now (above): said once, here
    // "the same cause".
    assert!(
        prints
            .evidence
            .contains("during or right after split it wrote on stderr: the same cause"),
        "{}",
        prints.evidence
    );
    // One root cause (split), said once with one fix; the rest are its consequences.
    let roots: Vec<&String> = results
        .iter()
        .filter(|(_, r)| !r.pass && r.consequence_of.is_none())
        .map(|(k, _)| k)
        .collect();
    assert_eq!(roots, ["split"], "{results:#?}");
    for name in ["coalesced", "prints"] {
        assert_eq!(results[name].consequence_of.as_deref(), Some("split"));
        assert_eq!(results[name].fix, "");
    }
    assert_eq!(*code, Some(11));
    assert!(*elapsed < Duration::from_secs(30), "took {elapsed:?}");
}

#[test]
fn server_echoing_without_bang_has_one_root_cause_and_one_fix() {
    let (results, code, _) = server_cmd_check("v2", "server_native_echo_v2.py");
    let echo = &results["echo"];
    assert!(!echo.pass);
    assert!(echo
        .evidence
        .contains("these bytes match struct.pack('BII20s', ...) without '!'"));
    assert_eq!(echo.fix, "use '!BII20s' (network byte order)");
    let consequences: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.consequence_of.as_deref() == Some("echo"))
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        consequences,
        [
            "coalesced",
            "concurrent",
            "half_close",
            "reset",
            "split",
            "v2_long"
        ],
        "{results:#?}"
    );
    for name in &consequences {
        let r = &results[*name];
        assert!(r.fix.is_empty(), "{name}: {}", r.fix);
        assert!(
            !r.evidence.contains("native alignment"),
            "{name}: {}",
            r.evidence
        );
        assert!(!r.evidence.contains("ConnectionResetError"));
    }
    // Client 1 got bytes back: it was served, wrongly, not "not served".
    assert!(!results["concurrent"].evidence.contains("not served"));
    // What it printed is right: only the echo's packing is wrong.
    assert!(results["prints"].pass, "{:?}", results["prints"]);
    assert!(results["prints"].evidence.starts_with("8 messages printed"));
    assert_eq!(code, Some(11));
}

#[test]
fn correct_server_started_by_the_check_passes_prints() {
    let run = server_cmd_check("v3", "server_threads_v3.py");
    assert_all_pass("threads v3 with CMD", &run);
    assert!(run.0["prints"]
        .evidence
        .contains("each one the checks sent"));
}

/// `--port 0` with a command: the title names the port the server was started on.
#[test]
fn the_title_names_the_port_the_started_server_used() {
    let path = program("server_threads_v3.py");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_labnet"))
        .args([
            "check", "server", "--proto", "v3", "--port", "0", "--", "python3",
        ])
        .arg(&path)
        .arg("{port}")
        .output()
        .expect("labnet runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let title = stdout.lines().next().unwrap_or_default();
    let port: u16 = title
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in the title: {title}"));
    assert_ne!(port, 0, "{title}");
}

/// A client that reads its messages from the keyboard, given no input, connects and
/// closes without a byte: that is no pass for reading echoes, and the fix says how
/// to give it messages.
#[test]
fn a_client_that_sent_nothing_does_not_pass_reads_echoes() {
    let path = program("client_reads_keyboard.py");
    let (results, code, _) = client_check("text", &["python3", &path.to_string_lossy(), "{port}"]);
    let reads = &results["reads_echoes"];
    assert!(!reads.pass, "{results:#?}");
    assert!(
        reads.evidence.contains("without sending a byte"),
        "{}",
        reads.evidence
    );
    assert!(reads.fix.contains("command line"), "{}", reads.fix);
    assert_eq!(code, Some(11));
}
