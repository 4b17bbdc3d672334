//! The network-namespace lab for the netlab tests (root): a lab per test, removed on
//! drop; a server in it; commands with a time limit; the skip when not root.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_labnet");

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

pub fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the lab can run here: root, `ip` and `ethtool`; says why not (the test
/// then returns, and passes, as "skipped").
pub fn ready() -> bool {
    if !is_root() {
        skip_note!("skipped: needs root (network namespaces)");
        return false;
    }
    // `cargo xtask test` installs them as root; elsewhere say what is missing.
    for (tool, arg) in [("ip", "-V"), ("ethtool", "--version")] {
        if !have(tool, arg) {
            skip_note!("skipped: needs {tool} (apt-get install -y iproute2 ethtool)");
            return false;
        }
    }
    true
}

/// One lab per test (tests run in parallel), removed on drop even if the test fails.
pub struct Lab {
    pub name: String,
    pub dir: PathBuf,
}

impl Lab {
    pub fn new(tag: &str) -> Lab {
        let name = format!("t{tag}{}", std::process::id() % 100_000);
        let dir = std::env::temp_dir().join(format!("labnet-netlab-test-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Lab { name, dir }
    }

    pub fn log(&self) -> PathBuf {
        self.dir.join("frames.jsonl")
    }

    pub fn netlab(&self, args: &[&str]) -> Output {
        let out = run_bounded(
            Command::new(BIN)
                .args(["netlab", "--lab", &self.name])
                .args(args),
            Duration::from_secs(60),
        );
        out
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.netlab(args);
        assert!(
            out.status.success(),
            "labnet netlab {args:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn status(&self) -> Value {
        serde_json::from_str(&self.ok(&["status", "--json"])).expect("status --json is JSON")
    }

    pub fn spawn_server(&self, args: &[&str]) -> ChildGuard {
        // In its guard at once: a panic below still kills and reaps it.
        let guard = ChildGuard(
            Command::new(BIN)
                .args(["netlab", "--lab", &self.name, "exec", "server", "--", BIN])
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start the server in the lab"),
        );
        // Wait (bounded) until it listens, seen from inside the server host.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.netlab(&["exec", "server", "--", "ss", "-Hltn", "sport = :5005"]);
            if !out.stdout.is_empty() {
                return guard;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not listen within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn namespaces_left(&self) -> Vec<String> {
        let out = run_bounded(
            Command::new("ip").args(["netns", "list"]),
            Duration::from_secs(10),
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| n.starts_with(&format!("{}-", self.name)))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.netlab(&["down"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A child (a server in the lab, a capture) killed (SIGKILL) and reaped when
/// dropped, on every path.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run a command, killing it if it outlives `limit`.
pub fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{command:?} did not finish within {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
