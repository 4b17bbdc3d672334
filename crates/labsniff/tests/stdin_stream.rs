//! `-r -`, pipes and devices: read as streams, lines as they are decoded, errors that say
//! what the path is.

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn labsniff() -> Command {
    Command::new(env!("CARGO_BIN_EXE_labsniff"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netlab")
        .join(name)
}

/// Run labsniff with `input` on standard input.
fn with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = labsniff()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("labsniff runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        // A closed pipe (labsniff gave up early) is the test's business, not a panic.
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("labsniff ends");
    writer.join().expect("writer");
    out
}

/// JSON lines without the summary (whose port_choice differs: a pipe is not searched).
fn lines_but_summary(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.contains("\"type\":\"summary\""))
        .map(str::to_string)
        .collect()
}

#[test]
fn standard_input_gives_the_files_lines() {
    let path = fixture("loss_v3_100k.client.pcap");
    let bytes = std::fs::read(&path).expect("fixture");
    let piped = with_stdin(&["-r", "-", "--json"], &bytes);
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let file = labsniff()
        .args(["-r".as_ref(), path.as_os_str(), "--json".as_ref()])
        .output()
        .expect("labsniff");
    let (a, b) = (
        lines_but_summary(&piped.stdout),
        lines_but_summary(&file.stdout),
    );
    assert!(a.len() > 10, "too few lines: {}", a.len());
    assert_eq!(a, b);
    let summary = String::from_utf8_lossy(&piped.stdout);
    assert!(summary.contains("\"how\":\"not_searched\""), "{summary}");
}

#[test]
fn gzip_from_a_pipe_is_read() {
    use flate2::write::GzEncoder;
    let bytes = std::fs::read(fixture("loss_text.server.pcap")).expect("fixture");
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let plain = with_stdin(&["-r", "-", "--json"], &bytes);
    let zipped = with_stdin(&["-r", "-", "--json"], &gz);
    assert!(zipped.status.success());
    assert_eq!(plain.stdout, zipped.stdout);
}

#[test]
fn errors_say_what_the_path_is_and_never_empty() {
    let cases: [(&str, &[u8], &str, i32); 3] = [
        (
            "-",
            b"",
            "it is standard input, and it ended before its first byte",
            6,
        ),
        (
            "-",
            b"hello, not a capture",
            "it is standard input, and what came is no capture",
            6,
        ),
        (
            "/dev/null",
            b"",
            "it is a character device, and it ended before its first byte",
            6,
        ),
    ];
    for (path, input, says, code) in cases {
        let out = with_stdin(&["-r", path], input);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{path}: {err}");
        assert!(!err.contains("empty"), "{path}: {err}");
        assert_eq!(out.status.code(), Some(code), "{path}: {err}");
    }
}

#[test]
fn a_pipe_that_stays_open_gets_its_messages_before_it_ends() {
    let bytes = std::fs::read(fixture("loss_text.client.pcap")).expect("fixture");
    let mut child = labsniff()
        .args(["-r", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("labsniff runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The whole file but its last 100 bytes: the pipe stays open.
    let cut = bytes.len() - 100;
    stdin.write_all(&bytes[..cut]).expect("write");
    stdin.flush().expect("flush");
    // Lines come while the pipe is open: wait (bounded) for the first message.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut early = Vec::new();
    while !early
        .iter()
        .any(|l: &String| l.contains("\"type\":\"message\""))
    {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => early.push(line),
            Err(e) => {
                let _ = child.kill();
                panic!("no message line within 20 s while the pipe was open: {e}");
            }
        }
    }
    // The summary waits for the end of the input.
    early.extend(rx.try_iter());
    assert!(early.iter().all(|l| !l.contains("\"type\":\"summary\"")));
    stdin.write_all(&bytes[cut..]).expect("write");
    drop(stdin);
    let status = child.wait().expect("labsniff ends");
    reader.join().expect("reader");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(status.success());
    assert!(rest
        .last()
        .is_some_and(|l| l.contains("\"type\":\"summary\"")));
}

#[test]
fn a_named_pipe_gives_the_files_lines() {
    let path = fixture("fast_retransmit.server.pcap");
    let bytes = std::fs::read(&path).expect("fixture");
    let dir = std::env::temp_dir().join(format!("labsniff-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fifo = dir.join("capture.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        skip_note!("skipped: mkfifo failed");
        return;
    }
    // The writer blocks in open() until labsniff opens the FIFO for reading.
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&fifo) {
                let _ = f.write_all(&bytes);
            }
        })
    };
    let piped = labsniff()
        .args(["-r".as_ref(), fifo.as_os_str(), "--json".as_ref()])
        .output()
        .expect("labsniff");
    writer.join().expect("writer");
    let file = labsniff()
        .args(["-r".as_ref(), path.as_os_str(), "--json".as_ref()])
        .output()
        .expect("labsniff");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let (a, b) = (
        lines_but_summary(&piped.stdout),
        lines_but_summary(&file.stdout),
    );
    assert!(a.len() > 10);
    assert_eq!(a, b);
}

#[test]
fn dev_zero_and_a_directory_get_their_own_errors() {
    let zero = labsniff()
        .args(["-r", "/dev/zero"])
        .output()
        .expect("labsniff");
    let err = String::from_utf8_lossy(&zero.stderr);
    assert!(
        err.contains("'/dev/zero': it is a character device, and what came is no capture: unknown file format"),
        "{err}"
    );
    assert_eq!(zero.status.code(), Some(6));
    let dir = labsniff()
        .args(["-r", env!("CARGO_MANIFEST_DIR")])
        .output()
        .expect("labsniff");
    let err = String::from_utf8_lossy(&dir.stderr);
    assert!(err.contains("it is a directory"), "{err}");
    assert_eq!(dir.status.code(), Some(5));
}
