#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! System calls beside packets, for real: labnet's threads and selector servers and a
//! Python selectors server run under strace, two concurrent clients (under strace too)
//! send a small and a 100 kB v3 message each, tcpdump captures loopback at the same
//! time, and labsniff joins the traces to the capture.
//!
//! Needs root (packet capture), strace and tcpdump; skips saying so otherwise. Every
//! wait is bounded, and every child is killed on every path (the guard's Drop).

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STRACE: &[&str] = &[
    "-f",
    "-ttt",
    "-T",
    "-yy",
    "-e",
    "trace=%network,read,write,close,shutdown,select,poll,epoll_wait,epoll_ctl",
];
const BIG: usize = 100_000;

/// The lab's v3 client, written as students do: connect, then (after a pause that lets
/// the other client connect too) a small message and a 100 kB one, each echo read
/// header first.
const CLIENT: &str = r#"
import socket, struct, sys, time
port, size = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(('127.0.0.1', port))
time.sleep(0.4)
def recv_all(n):
    data = b''
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise SystemExit('server closed')
        data += chunk
    return data
text = b'The quick brown fox jumps over the lazy dog. '
for order, payload in enumerate([b'hello v3', (text * (size // len(text) + 1))[:size]], 1):
    s.sendall(struct.pack('!BII', 1, order, len(payload)) + payload)
    _, _, n = struct.unpack('!BII', recv_all(9))
    assert recv_all(n) == payload
    time.sleep(0.1)
s.close()
"#;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Skip (printing why) unless root with strace, tcpdump and python3.
fn ready() -> bool {
    if !is_root() {
        skip_note!("skipped: needs root (packet capture)");
        return false;
    }
    for tool in ["strace", "tcpdump", "python3"] {
        if !have(tool) {
            skip_note!("skipped: {tool} is not installed (apt-get install -y {tool})");
            return false;
        }
    }
    true
}

fn labnet() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_labsniff")).with_file_name("labnet");
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "labnet", "--bin", "labnet"])
            .status()
            .expect("run cargo build -p labnet");
        assert!(status.success(), "cargo build -p labnet failed");
    }
    path
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("labsniff-syscalls-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Children killed (SIGKILL, then reaped) when dropped, whatever happened.
#[derive(Default)]
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// Wait for `child` at most `limit`; false when it is still running.
fn wait_for(child: &mut Child, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Ask `ok` until it says yes, waiting twice as long after each no (20 ms up to 500 ms).
/// The backoff bounds the tries: the server-listening probe is a connection each time,
/// refused (and captured) while a slow-starting traced server is not listening yet; at
/// 20 ms apart a loaded machine made hundreds of them, and past 100 conversations the
/// report leaves out the sections these tests read (40-odd tries at most in 20 s now).
fn wait_until(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    let mut pause = Duration::from_millis(20);
    while Instant::now() < end {
        if ok() {
            return;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(500));
    }
    panic!("timed out waiting for {what}");
}

/// The pid strace started (its first child), from /proc.
fn traced_child(strace: u32) -> Option<u32> {
    let children =
        std::fs::read_to_string(format!("/proc/{strace}/task/{strace}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

/// How the programs' calls are recorded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Server and Python clients under strace.
    Strace,
    /// labnet's server and clients with --trace-events, no strace.
    TraceEvents,
}

/// What one run produced.
struct Run {
    report: String,
    json: Vec<Value>,
    port: u16,
    mode: Mode,
}

/// Capture, serve under strace, run two clients under strace, stop everything, and
/// run labsniff with the traces.
fn run(name: &str, server: &[String], mode: Mode) -> Run {
    let d = dir(name);
    let port = free_port();
    let mut kids = Children::default();
    let cap = d.join("cap.pcap");
    let mut tcpdump = Command::new("tcpdump")
        // A large buffer: 64 kB loopback segments in bursts must not be dropped.
        .args(["-i", "lo", "-U", "-n", "-B", "65536", "-w"])
        .arg(&cap)
        .arg(format!("tcp port {port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpdump");
    // tcpdump says "listening on lo" once the capture is open.
    let mut err = tcpdump.stderr.take().unwrap();
    kids.0.push(tcpdump);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        let mut seen = String::new();
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            if seen.contains("listening on") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("tcpdump did not start listening");

    let srv_trace = d.join("server.trace");
    let srv_log = d.join("server.log");
    let args: Vec<String> = server
        .iter()
        .map(|a| a.replace("PORT", &port.to_string()))
        .collect();
    let mut srv = match mode {
        Mode::Strace => {
            let mut c = Command::new("strace");
            c.args(STRACE).arg("-o").arg(&srv_trace).args(&args);
            c
        }
        Mode::TraceEvents => {
            let mut c = Command::new(&args[0]);
            c.args(&args[1..]).arg("--trace-events").arg(&srv_trace);
            c
        }
    };
    let srv = srv
        .stdout(std::fs::File::create(&srv_log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("strace the server");
    let srv_pid = srv.id();
    kids.0.push(srv);
    wait_until(Duration::from_secs(20), "the server to listen", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    // That probe was a connection of its own: let its conversation end before the
    // clients (it is in the capture too, with no payload).
    std::thread::sleep(Duration::from_millis(200));

    let script = d.join("client.py");
    std::fs::write(&script, CLIENT).unwrap();
    let mut traces = vec![srv_trace];
    let mut clients = Vec::new();
    for i in 0..2 {
        let t = d.join(format!("client{i}.trace"));
        let mut cmd = match mode {
            Mode::Strace => {
                let mut c = Command::new("strace");
                c.args(STRACE).arg("-o").arg(&t).arg("python3").arg(&script);
                c.arg(port.to_string()).arg(BIG.to_string());
                c
            }
            Mode::TraceEvents => {
                let text = "The quick brown fox jumps over the lazy dog. ".repeat(BIG / 45 + 1);
                let mut c = Command::new(labnet());
                c.args(["tcp-client", "--proto", "v3", "--ip", "127.0.0.1", "--port"]);
                c.arg(port.to_string())
                    .args(["-m", "hello v3", "-m", &text[..BIG]]);
                c.arg("--trace-events").arg(&t);
                c
            }
        };
        let c = cmd.stdout(Stdio::null()).spawn().expect("start a client");
        traces.push(t);
        clients.push(c);
    }
    for mut c in clients {
        let done = wait_for(&mut c, Duration::from_secs(30));
        let status = c.try_wait().ok().flatten();
        kids.0.push(c);
        assert!(done, "a client did not finish in 30 s");
        assert!(status.is_some_and(|s| s.success()), "a client failed");
    }
    // Stop the traced server with Ctrl-C (strace passes on to it).
    match mode {
        Mode::Strace => {
            if let Some(pid) = traced_child(srv_pid) {
                signal(pid, "-INT");
            }
        }
        Mode::TraceEvents => signal(srv_pid, "-INT"),
    }
    if let Some(s) = kids.0.iter_mut().find(|c| c.id() == srv_pid) {
        if !wait_for(s, Duration::from_secs(10)) {
            let _ = traced_child(srv_pid).map(|p| signal(p, "-KILL"));
        }
    }
    // tcpdump may lag behind the kernel (a loaded machine): stopping it drops what it
    // has not read yet, so wait until the file stops growing (1 s, at most 15 s).
    let size = || std::fs::metadata(&cap).map_or(0, |m| m.len());
    let (mut last, mut still) = (size(), 0);
    let end = Instant::now() + Duration::from_secs(15);
    while still < 10 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
        let now = size();
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
    if let Some(t) = kids.0.first_mut() {
        signal(t.id(), "-INT");
        assert!(wait_for(t, Duration::from_secs(10)), "tcpdump did not stop");
    }
    drop(kids);

    let labsniff = |json: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_labsniff"));
        cmd.arg("-r").arg(&cap).args(["--port", &port.to_string()]);
        cmd.arg("--syscalls").args(&traces);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.env("NO_COLOR", "1").output().expect("run labsniff");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let report = labsniff(false);
    let json = labsniff(true)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    std::fs::write(d.join("report.txt"), &report).unwrap();
    Run {
        report,
        json,
        port,
        mode,
    }
}

impl Run {
    fn of(&self, t: &str) -> Vec<&Value> {
        self.json.iter().filter(|v| v["type"] == t).collect()
    }
    /// The two clients' conversations (the probe carried no payload).
    fn convs(&self) -> Vec<&Value> {
        self.of("conversation")
            .into_iter()
            .filter(|c| c["bytes_c2s"].as_u64() > Some(0))
            .collect()
    }
    fn calls(&self, conv: &Value, side: &str, op: &str) -> Vec<&Value> {
        self.of("syscall")
            .into_iter()
            .filter(|s| s["conv"] == conv["conv"] && s["side"] == side && s["op"] == op)
            .collect()
    }
    /// The report contains `text`, wherever its lines were wrapped.
    fn has(&self, text: &str) -> bool {
        let flat = self.report.split_whitespace().collect::<Vec<_>>().join(" ");
        flat.contains(text)
    }
    fn micros(v: &Value) -> i64 {
        (v.as_f64().unwrap() * 1e6).round() as i64
    }

    /// Checks every model shares; gives, per client, the number of server recv calls
    /// that returned bytes of the 100 kB message.
    fn common_checks(&self) -> Vec<usize> {
        let convs = self.convs();
        assert_eq!(convs.len(), 2, "{}", self.report);
        for t in self.of("trace") {
            assert_eq!(t["malformed"], 0, "{t}");
            assert!(t["joined"].as_u64() >= Some(1), "{t}");
        }
        let mut reads = Vec::new();
        for c in &convs {
            assert_eq!(
                (c["messages_c2s"].as_u64(), c["messages_s2c"].as_u64()),
                (Some(2), Some(2)),
                "the capture missed packets: {c}"
            );
            // accept() returned after the handshake's last ACK.
            let accepts = self.calls(c, "server", "accept");
            assert_eq!(accepts.len(), 1, "{c}");
            let a = accepts[0];
            // labnet's events carry no duration: their time is the return.
            let dur = if a["dur"].is_null() {
                0
            } else {
                Self::micros(&a["dur"])
            };
            let returned = Self::micros(&a["ts"]) + dur;
            let ack = Self::micros(&c["tcp"]["ack_ts"]);
            assert!(
                returned >= ack,
                "accept returned at {returned}, ACK at {ack}"
            );
            // The 100 kB message: bytes [23, 23 + 100009) of the client's stream (the
            // first message is 9 + 8 bytes).
            let first = 9 + 8;
            let (from, to) = (first, first + 9 + BIG as u64);
            let n = self
                .calls(c, "server", "recv")
                .into_iter()
                .filter(|r| {
                    let o = r["offset"].as_u64().unwrap();
                    let got = r["ret"].as_i64().unwrap_or(0).max(0) as u64;
                    got > 0 && o < to && o + got > from
                })
                .count();
            assert!(n >= 1, "{c}");
            reads.push(n);
            // One sendall() of the whole message by each Python client.
            let sends = self.calls(c, "client", "send");
            assert!(
                sends.iter().any(|s| s["ret"] == (9 + BIG) as u64),
                "{sends:?}"
            );
        }
        assert!(
            self.has("System calls (from the traces)"),
            "{}",
            self.report
        );
        assert!(self.has("after the handshake's last ACK"));
        let send = match self.mode {
            Mode::Strace => "sendto",
            Mode::TraceEvents => "send",
        };
        let one = format!("one {send}() of 100,009 bytes");
        assert!(self.has(&one), "{}", self.report);
        // No guess about send() left.
        assert!(
            !self.has("not how many send() calls wrote"),
            "{}",
            self.report
        );
        reads
    }

    fn server_tids(&self, conv: &Value, op: &str) -> Vec<u64> {
        let mut t: Vec<u64> = self
            .calls(conv, "server", op)
            .iter()
            .filter_map(|s| s["tid"].as_u64())
            .collect();
        t.sort_unstable();
        t.dedup();
        t
    }
}

fn labnet_server(model: &str) -> Vec<String> {
    [
        labnet().display().to_string().as_str(),
        "tcp-server",
        "--model",
        model,
        "--proto",
        "v3",
        "--bind",
        "127.0.0.1",
        "--port",
        "PORT",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn threads_server_one_thread_per_client_accept_after_the_ack() {
    if !ready() {
        return;
    }
    let r = run("threads", &labnet_server("threads"), Mode::Strace);
    let reads = r.common_checks();
    let convs = r.convs();
    let (a, b) = (
        r.server_tids(convs[0], "recv"),
        r.server_tids(convs[1], "recv"),
    );
    assert_eq!((a.len(), b.len()), (1, 1), "one thread reads each socket");
    assert_ne!(a, b, "each client has its own thread");
    // labnet's threads server: the thread that accepts a client serves it, and the
    // accept role moves on to another thread (see labnet's tcp_threads.rs).
    assert_eq!(
        (
            r.server_tids(convs[0], "accept"),
            r.server_tids(convs[1], "accept")
        ),
        (a.clone(), b.clone()),
        "each client's thread is the one that accepted it"
    );
    assert!(r.has("a thread per client"), "{}", r.report);
    println!(
        "threads (port {}): the server read each 100 kB message with {reads:?} recv() calls",
        r.port
    );
}

#[test]
fn selector_server_one_thread_with_readiness_per_fd() {
    if !ready() {
        return;
    }
    let r = run("selector", &labnet_server("selector"), Mode::Strace);
    let reads = r.common_checks();
    let convs = r.convs();
    let (a, b) = (
        r.server_tids(convs[0], "recv"),
        r.server_tids(convs[1], "recv"),
    );
    assert_eq!(a.len(), 1);
    assert_eq!(a, b, "one thread serves both clients");
    for c in &convs {
        assert!(
            !r.calls(c, "server", "ready").is_empty(),
            "epoll_wait woke for {c}"
        );
    }
    assert!(r.has("from one thread"), "{}", r.report);
    assert!(r.has("epoll_wait returned fd"), "{}", r.report);
    println!(
        "selector (port {}): the server read each 100 kB message with {reads:?} recv() calls",
        r.port
    );
}

#[test]
fn python_selectors_server_under_strace() {
    if !ready() {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/selectors_v3_server.py");
    let server = vec![
        "python3".to_string(),
        script.display().to_string(),
        "PORT".to_string(),
    ];
    let r = run("python", &server, Mode::Strace);
    let reads = r.common_checks();
    let convs = r.convs();
    assert_eq!(
        r.server_tids(convs[0], "recv"),
        r.server_tids(convs[1], "recv")
    );
    assert!(r.has("from one thread"), "{}", r.report);
    println!(
        "python selectors (port {}): the server read each 100 kB message with {reads:?} recv() calls",
        r.port
    );
}

#[test]
fn labnet_trace_events_join_without_strace() {
    if !ready() {
        return;
    }
    let r = run("events", &labnet_server("selector"), Mode::TraceEvents);
    let reads = r.common_checks();
    let convs = r.convs();
    let (a, b) = (
        r.server_tids(convs[0], "recv"),
        r.server_tids(convs[1], "recv"),
    );
    assert_eq!(a.len(), 1);
    assert_eq!(a, b, "one thread serves both clients");
    for c in &convs {
        let ready = r.calls(c, "server", "ready");
        assert!(!ready.is_empty(), "mio woke for {c}");
        // The token is labnet's selector token (0 is the listening socket).
        assert!(
            ready.iter().all(|e| e["token"].as_u64() > Some(0)),
            "{ready:?}"
        );
    }
    assert!(r.has("mio poll returned fd"), "{}", r.report);
    println!(
        "labnet --trace-events (port {}): the server read each 100 kB message with {reads:?} recv() calls",
        r.port
    );
}
