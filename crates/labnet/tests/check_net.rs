//! `labnet check ... --net` (root): the battery on loopback and across a private
//! netlab. A v3 server that reads the payload with one recv(size) passes every check on
//! loopback and fails `prints` across the network, with the explanation naming the
//! 1,448-byte segments; a correct server passes both; a server bound to 127.0.0.1 is
//! named as unreachable; Ctrl-C and every other path leave no namespace behind.
//! Not root: the root tests print "skipped: ..." and pass; the usage errors and the
//! "needs sudo" error (run as nobody with setpriv) are checked either way.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

#[path = "common/netlab.rs"]
mod netlab;

use netlab::{have, is_root, run_bounded, BIN};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Each whole run (two batteries and the lab) must end well within this.
const LIMIT: Duration = Duration::from_secs(60);

fn program(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Run labnet (bounded by [`LIMIT`]): its output, how long it took, and the lab
/// namespaces of its pid left afterwards (none, or the test fails).
fn labnet(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let Ok(out) = rx.recv_timeout(LIMIT) else {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        panic!("labnet {args:?} did not finish within {LIMIT:?}");
    };
    let out = out.unwrap();
    if is_root() {
        let left = labs_of(pid);
        assert!(left.is_empty(), "labnet {args:?} left behind {left:?}");
    }
    (out, started.elapsed())
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The lab namespaces of `labnet check --net` run by `pid` (chkPID-...) that exist now.
fn labs_of(pid: u32) -> Vec<String> {
    let prefix = format!("chk{pid}-");
    let out = run_bounded(
        Command::new("ip").args(["netns", "list"]),
        Duration::from_secs(10),
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(&prefix))
        .map(str::to_string)
        .collect()
}

/// One `--json` result line of a `--net` run: run, check, pass, evidence.
type Row = (String, String, bool, String);

/// `--json` lines of a `--net` run: the results, and the notes as (check, note).
fn parse(out: &Output) -> (Vec<Row>, Vec<(String, String)>) {
    let mut results = Vec::new();
    let mut notes = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let check = v["check"].as_str().unwrap().to_string();
        if let Some(note) = v["note"].as_str() {
            notes.push((check, note.to_string()));
        } else {
            results.push((
                v["run"].as_str().unwrap().to_string(),
                check,
                v["pass"].as_bool().unwrap(),
                v["evidence"].as_str().unwrap().to_string(),
            ));
        }
    }
    (results, notes)
}

#[test]
fn usage_errors_come_before_anything_is_built() {
    let (out, _) = labnet(&["check", "server", "--proto", "v3", "--delay", "5"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--net"), "{}", text(&out));
    // --net starts the server itself: without a command it cannot.
    let (out, _) = labnet(&["check", "server", "--proto", "v3", "--net"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("give its command after --"));
}

#[test]
fn without_root_it_names_sudo_and_exits_9() {
    if !is_root() || !have("setpriv", "--version") {
        // As a normal user the run below is the plain command.
        let (out, _) = labnet(&["check", "server", "--proto", "v3", "--net", "--", "true"]);
        if !is_root() {
            assert_eq!(out.status.code(), Some(9), "{}", text(&out));
            assert!(text(&out).contains("sudo"), "{}", text(&out));
        } else {
            skip_note!("skipped: needs setpriv to drop root");
        }
        return;
    }
    let out = run_bounded(
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN])
            .args(["check", "server", "--proto", "v3", "--net", "--", "true"]),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--net builds a netlab") && err.contains("sudo"),
        "{err}"
    );
}

/// A server that loops for the header but reads the payload with one recv(size): it
/// passed every loopback check until `split` also cut a message inside its payload;
/// now both runs fail `split` there, with one fix.
#[test]
fn recv_payload_once_fails_split_on_loopback_and_across_the_network() {
    if !netlab::ready() || !have("python3", "--version") {
        return;
    }
    let path = program("server_recv_payload_once_v3.py");
    let (out, elapsed) = labnet(&[
        "check", "server", "--proto", "v3", "--net", "--json", "--", "python3", &path, "{port}",
    ]);
    println!("{}\nwhole run: {elapsed:?}", text(&out));
    assert_eq!(out.status.code(), Some(11), "{}", text(&out));
    let (results, _notes) = parse(&out);
    for run in ["loopback", "network"] {
        let (_, _, pass, evidence) = results
            .iter()
            .find(|(r, c, _, _)| r == run && c == "split")
            .unwrap_or_else(|| panic!("no {run} split in {results:?}"));
        assert!(!pass, "{run} split passed: {evidence}");
        assert!(evidence.contains("cut in its payload"), "{run}: {evidence}");
    }
    assert!(elapsed < LIMIT);
}

#[test]
fn a_correct_server_passes_both_and_one_on_127_0_0_1_is_named_unreachable() {
    if !netlab::ready() || !have("python3", "--version") {
        return;
    }
    let (out, elapsed) = labnet(&[
        "check",
        "server",
        "--proto",
        "v3",
        "--net",
        "--",
        BIN,
        "tcp-server",
        "--model",
        "threads",
        "--proto",
        "v3",
        "--port",
        "{port}",
    ]);
    let table = text(&out);
    println!("{table}\nwhole run: {elapsed:?}");
    assert_eq!(out.status.code(), Some(0), "{table}");
    assert!(table.contains("9 of 9 checks passed on loopback, 9 of 9 across the network"));
    assert!(!table.contains("Only on one side"), "{table}");
    // The lab's Python programs bind 127.0.0.1: nothing else can reach them.
    let path = program("server_threads_v3.py");
    let (out, _) = labnet(&[
        "check", "server", "--proto", "v3", "--net", "--", "python3", &path, "{port}",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        err.contains("it listens on 127.0.0.1:5005 only") && err.contains("bind to ''"),
        "{}",
        text(&out)
    );
}

#[test]
fn ctrl_c_stops_between_checks_and_removes_the_lab() {
    if !netlab::ready() || !have("python3", "--version") {
        return;
    }
    let path = program("server_recv_payload_once_v3.py");
    let mut child = netlab::ChildGuard(
        Command::new(BIN)
            .args(["check", "server", "--proto", "v3", "--net", "--"])
            .args(["python3", &path, "{port}"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lab = format!("chk{}-server", child.0.id());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !labs_of(child.0.id()).contains(&lab) {
        assert!(Instant::now() < deadline, "the lab {lab} never came up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.0.id().to_string();
    run_bounded(
        Command::new("kill").args(["-INT", &pid]),
        Duration::from_secs(5),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit within 20 s of Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted (Ctrl-C)"), "{err}");
    let left = labs_of(child.0.id());
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_client_that_connects_to_127_0_0_1_never_reaches_the_remote_server() {
    if !netlab::ready() || !have("python3", "--version") {
        return;
    }
    // The lab's own client_v3.py: 127.0.0.1 written in the program.
    let path = program("client_v3.py");
    let (out, elapsed) = labnet(&[
        "check", "client", "--proto", "v3", "--net", "--json", "--", "python3", &path, "{port}",
    ]);
    println!("{}\nwhole run: {elapsed:?}", text(&out));
    assert_eq!(out.status.code(), Some(11), "{}", text(&out));
    let (results, notes) = parse(&out);
    for (run, check, pass, evidence) in &results {
        assert_eq!(*pass, run == "loopback", "{run} {check}: {evidence}");
    }
    // One root cause, said once.
    assert_eq!(notes.len(), 1, "{notes:?}");
    let (check, note) = &notes[0];
    assert_eq!(check, "connects");
    for part in [
        "passes on loopback, fails across the network (and so format, order, size, \
         reads_echoes, closes)",
        "client→server 0 TCP frames",
        "not one TCP frame left the client host toward 10.55.0.1",
        "127.0.0.1",
    ] {
        assert!(note.contains(part), "'{part}' missing from: {note}");
    }
    // The same client given the server's address ({ip}) passes both.
    let path = program("client_addr_v3.py");
    let (out, _) = labnet(&[
        "check", "client", "--proto", "v3", "--net", "--json", "--", "python3", &path, "{port}",
        "{ip}",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (results, notes) = parse(&out);
    assert_eq!(results.len(), 12, "{results:?}");
    assert!(notes.is_empty(), "{notes:?}");
}
