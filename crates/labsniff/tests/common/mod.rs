//! Helpers for the CLI tests: write a capture to a unique temp file, run labsniff on
//! it, parse the JSON lines.
#![allow(dead_code)]

use labfixtures::{Capture, FileFormat};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh path under the system temp dir, unique per process and call.
pub fn temp_path(name: &str, ext: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labsniff-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    dir.join(format!("{name}-{n}.{ext}"))
}

/// What one labsniff run printed.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub lines: Vec<Value>,
}

impl Run {
    pub fn of_type(&self, t: &str) -> Vec<&Value> {
        self.lines.iter().filter(|v| v["type"] == t).collect()
    }
    pub fn messages(&self) -> Vec<&Value> {
        self.of_type("message")
    }
    pub fn conversations(&self) -> Vec<&Value> {
        self.of_type("conversation")
    }
    pub fn diagnostics(&self) -> Vec<&Value> {
        self.of_type("diagnostic")
    }
    /// Diagnostics except the `proto_detected` notes.
    pub fn problems(&self) -> Vec<&Value> {
        self.diagnostics()
            .into_iter()
            .filter(|d| d["code"] != "proto_detected")
            .collect()
    }
    /// (dir, order, payload) of every message.
    pub fn payloads(&self) -> Vec<(String, Option<u64>, String)> {
        self.messages()
            .iter()
            .map(|m| {
                (
                    m["dir"].as_str().unwrap().to_string(),
                    m["order"].as_u64(),
                    m["payload"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
    pub fn summary(&self) -> &Value {
        self.lines
            .last()
            .filter(|v| v["type"] == "summary")
            .expect("summary last")
    }
}

pub fn labsniff(args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_labsniff"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines = if args.contains(&"--json") {
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
            .collect()
    } else {
        Vec::new()
    };
    Run {
        status: output.status.code().unwrap_or(-1),
        stdout,
        stderr: String::from_utf8(output.stderr).unwrap(),
        lines,
    }
}

/// Write `cap` and run `labsniff -r FILE --json EXTRA...`.
pub fn run_capture(name: &str, cap: &Capture, format: FileFormat, extra: &[&str]) -> Run {
    let path = temp_path(name, format.extension());
    cap.write(&path, format).unwrap();
    run_file(&path, extra)
}

pub fn run_file(path: &std::path::Path, extra: &[&str]) -> Run {
    let p = path.to_str().unwrap();
    let mut args = vec!["-r", p, "--json"];
    args.extend_from_slice(extra);
    let run = labsniff(&args);
    let _ = std::fs::remove_file(path);
    run
}

/// The captures made with real kernel TCP stacks: tests/fixtures/netlab
/// (NAME.client.pcap, NAME.server.pcap, made by its regen.sh) and tests/fixtures/tcpflags
/// (NAME-client.pcap, NAME-server.pcap), sorted.
pub fn real_stack_fixtures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["netlab", "tcpflags"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(sub);
        files.extend(
            std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "pcap")),
        );
    }
    files.sort();
    assert!(
        files.len() >= 40,
        "expected the netlab and tcpflags fixtures"
    );
    files
}

/// The events of a capture file, analysed in this process with `options`.
pub fn analyse_file(path: &std::path::Path, options: labsniff::Options) -> Vec<labsniff::Event> {
    let source = labsniff::SourceOptions::file(path);
    let mut events = Vec::new();
    labsniff::analyze(&source, options, &mut events).unwrap();
    events
}
