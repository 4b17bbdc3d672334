//! Helpers for the integration tests: run the `labnet` binary and Python scripts,
//! collect server logs, all bounded in time.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_labnet");

/// A `labnet` server child process; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Start `labnet <args> --bind 127.0.0.1 --port 0` and wait for its listening line.
    pub fn start(args: &[&str]) -> Server {
        Server::start_on("127.0.0.1", args)
    }

    pub fn start_on(bind: &str, args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(args)
            .args(["--bind", bind, "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start labnet server");
        let stdout = child.stdout.take().expect("server stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        let mut server = Server {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            lines,
        };
        let line = server
            .wait_for(|l| l.contains("listening on"), Duration::from_secs(10))
            .expect("server printed its listening line");
        let port: u16 = line
            .rsplit(':')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .expect("port in listening line");
        let ip = if bind.contains(':') {
            "[::1]"
        } else {
            "127.0.0.1"
        };
        server.addr = format!("{ip}:{port}").parse().unwrap();
        server
    }

    pub fn port(&self) -> String {
        self.addr.port().to_string()
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The first log line matching `pred`, waiting up to `timeout`.
    pub fn wait_for(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.lines.lock().unwrap().iter().find(|l| pred(l)) {
                return Some(l.clone());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait until `pred` holds for the whole log (never call `lines()` inside `pred`).
    pub fn wait_all(&self, what: &str, pred: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !pred(&self.lines()) {
            if Instant::now() > deadline {
                panic!("log never showed {what}; log:\n{}", self.lines().join("\n"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Like `wait_for` but panics with the whole log when nothing matches.
    pub fn expect_line(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        match self.wait_for(pred, Duration::from_secs(10)) {
            Some(l) => l,
            None => panic!("no log line {what}; log:\n{}", self.lines().join("\n")),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap()
    }

    /// Ctrl-C the server and wait (bounded) for it to exit; returns its exit code.
    pub fn interrupt(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Ctrl-C the server; its exit code and its whole log (bounded waits: 5 s for
    /// the exit, 5 s for the output's last line).
    pub fn interrupt_with_log(self) -> (Option<i32>, Vec<String>) {
        let lines = Arc::clone(&self.lines);
        let code = self.interrupt();
        let deadline = Instant::now() + Duration::from_secs(5);
        let done = |l: &Vec<String>| l.iter().any(|l| l.contains("stopped listening"));
        while !done(&lines.lock().unwrap()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let log = lines.lock().unwrap().clone();
        (code, log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `labnet <args>` to completion (clients have their own timeouts).
pub fn labnet(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run labnet")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A fresh directory for this test's scripts.
pub fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "labnet-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Write `script` to a temp file and start `python3 script args...`.
pub fn python_spawn(script: &str, args: &[&str]) -> Child {
    let path = temp_dir().join("script.py");
    std::fs::write(&path, script).unwrap();
    Command::new("python3")
        .arg(&path)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is installed")
}

/// Run a Python script to completion; panics with its output when it fails.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = python_spawn(script, args).wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "python failed: {}\nstdout:\n{text}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The log prefix of the handler serving the client on local `port`: the thread
/// name (threads model) or the selector token read from the accept line.
pub fn handler_of(server: &Server, model: &str, port: u16) -> String {
    if model == "threads" {
        return format!("[thread client-127.0.0.1:{port}]");
    }
    let accept = server.expect_line("accepting the client", |l| {
        l.contains(&format!("accepted 127.0.0.1:{port} "))
    });
    let token = accept.rsplit("registered as token ").next().unwrap();
    format!("[selector token {token}]")
}
