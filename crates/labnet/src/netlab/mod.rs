//! `labnet netlab`: the lab's "remote machine" on one computer. Two network
//! namespaces (server host, client host) joined through a third where a user-space
//! forwarder delays, loses, duplicates and reorders frames, deterministically from
//! a seed (this works on kernels without netem).
//!
//! Modules, one job each: [`settings`] (what can be asked), [`impair`] (the pure
//! seeded model), [`frame`] (frame summaries), [`ns`] (namespaces via `ip`),
//! [`forwarder`] (the pump), [`log`] (JSON lines and counters), [`control`] (the
//! control socket), [`state`] (the state dir).

pub mod args;
pub mod control;
pub mod forwarder;
pub mod frame;
pub mod guard;
pub mod impair;
pub mod log;
pub mod ns;
pub mod settings;
pub mod state;

use crate::error::NetError;
use args::{Host, ImpairArgs, NetlabArgs, NetlabCommand};
use forwarder::Shared;
use serde_json::json;
use settings::Settings;
use state::{forwarder_alive, LabState, StateDir};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Run one `labnet netlab` subcommand.
pub fn run(a: NetlabArgs, stop: Arc<AtomicBool>) -> Result<(), NetError> {
    let lab = Lab::new(&a.lab);
    match a.command {
        NetlabCommand::Up(u) => lab.up(u, &stop),
        NetlabCommand::Down => lab.down(),
        NetlabCommand::Exec(e) => lab.exec(e.host, &e.command),
        NetlabCommand::Status(s) => lab.status(s.json),
        NetlabCommand::Set(s) => lab.set(&s.impair, s.no_drop, s.no_rate),
        NetlabCommand::Forward => lab.forward(stop),
    }
}

fn failed(message: impl Into<String>) -> NetError {
    NetError::Netlab(message.into())
}

/// Root, the `ip` command and network namespaces: checked before anything is done.
fn check_can_run() -> Result<(), NetError> {
    // The effective uid from /proc (geteuid() would need unsafe code).
    let euid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(str::to_string))
        });
    if euid.as_deref() != Some("0") {
        return Err(NetError::NetlabNeeds(
            "netlab needs root to create network namespaces: run it with sudo".into(),
        ));
    }
    if !std::path::Path::new("/proc/self/ns/net").exists() {
        return Err(NetError::NetlabNeeds(
            "netlab needs network namespaces, which this kernel lacks (CONFIG_NET_NS)".into(),
        ));
    }
    for (tool, package) in [("ip", "iproute2"), ("ethtool", "ethtool")] {
        let found = Command::new(tool)
            .arg(if tool == "ip" { "-V" } else { "--version" })
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            return Err(NetError::NetlabNeeds(format!(
                "netlab needs the '{tool}' command: apt-get install -y {package}"
            )));
        }
    }
    Ok(())
}

/// Merge the options given on the command line into `s`.
fn apply(s: &mut Settings, a: &ImpairArgs, no_drop: bool) {
    if let Some(v) = a.delay {
        s.delay_ms = v;
    }
    if let Some(v) = a.jitter {
        s.jitter_ms = v;
    }
    if let Some(v) = a.loss {
        s.loss_pct = v;
    }
    if let Some(v) = a.reorder {
        s.reorder_pct = v;
    }
    if let Some(v) = a.duplicate {
        s.duplicate_pct = v;
    }
    if a.rate.is_some() {
        s.rate_kbit = a.rate;
    }
    if let Some(v) = a.seed {
        s.seed = v;
    }
    if no_drop {
        s.drops.clear();
    }
    if !a.drop.is_empty() {
        s.drops = a.drop.iter().flat_map(|r| r.0.iter().cloned()).collect();
    }
}

pub(crate) fn forwarder_settings(shared: &Shared) -> Settings {
    forwarder::lock_model(shared).settings().clone()
}

pub(crate) fn replace_forwarder_settings(shared: &Shared, s: Settings) {
    forwarder::lock_model(shared).replace_settings(s);
}

#[derive(Debug)]
struct Lab {
    name: String,
    names: ns::Names,
    state: StateDir,
}

impl Lab {
    fn new(name: &str) -> Lab {
        Lab {
            name: name.to_string(),
            names: ns::Names::of(name),
            state: StateDir::of(name),
        }
    }

    fn live_pid(&self) -> Option<u32> {
        self.state
            .load()
            .ok()
            .map(|s| s.pid)
            .filter(|pid| forwarder_alive(*pid))
    }

    /// Stop the forwarder, kill what runs in the namespaces, delete them and the
    /// state dir. Returns what it removed, for the user.
    fn teardown(&self) -> Result<Vec<String>, NetError> {
        let mut removed = Vec::new();
        if let Some(pid) = self.live_pid() {
            let _ = control::request(&self.state.socket(), &json!({"cmd": "stop"}));
            if !wait_gone(pid, Duration::from_secs(3)) {
                let _ = ns::run("kill", &["-KILL", &pid.to_string()]);
                wait_gone(pid, Duration::from_secs(5));
            }
            removed.push(format!("forwarder pid {pid}"));
        }
        let present = ns::present(&self.names).map_err(failed)?;
        for namespace in &present {
            // Servers, tcpdumps... started with `exec` and still running.
            let pids = Command::new("ip")
                .args(["netns", "pids", namespace])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            let pids: Vec<&str> = pids.split_whitespace().collect();
            if !pids.is_empty() {
                let mut args = vec!["-KILL"];
                args.extend(&pids);
                let _ = ns::run("kill", &args);
                removed.push(format!("{} process(es) in {namespace}", pids.len()));
            }
        }
        let deleted = ns::delete(&self.names).map_err(failed)?;
        removed.extend(deleted.iter().map(|n| format!("namespace {n}")));
        if self.state.exists() {
            self.state.remove().map_err(failed)?;
            removed.push(format!("state dir {}", self.state.dir.display()));
        }
        Ok(removed)
    }

    fn up(&self, u: args::UpArgs, stop: &AtomicBool) -> Result<(), NetError> {
        let mut settings = Settings::default();
        apply(&mut settings, &u.impair, false);
        settings.validate().map_err(NetError::Usage)?;
        check_can_run()?;
        if let Some(pid) = self.live_pid() {
            return Err(NetError::NetlabState(format!(
                "lab '{}' is already up (forwarder pid {pid}): 'labnet netlab --lab {} down' first, or 'set' to change it",
                self.name, self.name
            )));
        }
        let leftovers = self.teardown()?;
        if !leftovers.is_empty() {
            println!(
                "removed leftovers of an earlier run: {}",
                leftovers.join(", ")
            );
        }
        self.state.create().map_err(failed)?;
        let log = match u.log {
            Some(p) => std::path::absolute(&p)
                .map_err(|e| failed(format!("bad --log {}: {e}", p.display())))?,
            None => self.state.default_log(),
        };
        let mut state = LabState {
            name: self.name.clone(),
            settings,
            log,
            pid: 0,
            foreground: u.foreground,
        };
        let started = self.create_and_start(&mut state, u.foreground);
        let (mut child, scheduling) = match started {
            Ok(started) => started,
            Err(e) => {
                let _ = self.teardown();
                return Err(e);
            }
        };
        self.print_summary(&state, scheduling);
        if stop.load(Ordering::SeqCst) {
            // Ctrl-C while we were setting up: leave nothing behind.
            self.teardown()?;
            return Ok(());
        }
        if !u.foreground {
            return Ok(());
        }
        println!("forwarder running in the foreground; Ctrl-C stops it and removes the lab");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if stop.load(Ordering::SeqCst) {
                        let _ = control::request(&self.state.socket(), &json!({"cmd": "stop"}));
                        let _ = rx.recv_timeout(Duration::from_secs(3));
                        break;
                    }
                }
            }
        }
        let removed = self.teardown()?;
        println!("lab '{}' removed: {}", self.name, removed.join(", "));
        Ok(())
    }

    /// Make the namespaces and start the forwarder; returns it and how it is scheduled.
    fn create_and_start(
        &self,
        state: &mut LabState,
        foreground: bool,
    ) -> Result<(Child, &'static str), NetError> {
        ns::create(&self.names).map_err(failed)?;
        self.state.save(state).map_err(failed)?;
        let exe = std::env::current_exe()
            .map_err(|e| failed(format!("cannot find the labnet executable: {e}")))?;
        let stderr = std::fs::File::create(self.state.stderr_file())
            .map_err(|e| failed(format!("cannot create the forwarder's stderr file: {e}")))?;
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.names.mid]);
        if !foreground {
            // nohup execs (same pid) with SIGHUP ignored: closing the terminal that
            // ran `up` must not stop the lab.
            command.arg("nohup");
        }
        let (priority, scheduling) = forwarder_priority();
        command
            .args(priority)
            .arg(&exe)
            .args(["netlab", "--lab", &self.name, "forward"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        if !foreground {
            // Its own process group: a Ctrl-C in this terminal later must not stop it.
            command.process_group(0);
        }
        // `ip netns exec` execs the command, so this pid is the forwarder's.
        let mut child = command
            .spawn()
            .map_err(|e| failed(format!("cannot start the forwarder: {e}")))?;
        state.pid = child.id();
        self.state.save(state).map_err(failed)?;
        let stdout = child.stdout.take();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            if let Some(out) = stdout {
                let _ = BufReader::new(out).read_line(&mut line);
            }
            let _ = tx.send(line);
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) if line.trim() == "ready" => Ok((child, scheduling)),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let why = std::fs::read_to_string(self.state.stderr_file())
                    .ok()
                    .and_then(|s| s.lines().last().map(str::to_string))
                    .unwrap_or_else(|| match other {
                        Ok(_) => "it exited without a word".into(),
                        Err(_) => "it did not get ready within 10 s".into(),
                    });
                Err(failed(format!("the forwarder did not start: {why}")))
            }
        }
    }

    fn print_summary(&self, state: &LabState, scheduling: &str) {
        let n = &self.names;
        println!(
            "lab '{}' is up (forwarder pid {} in {})",
            self.name, state.pid, n.mid
        );
        println!(
            "  server host {:<14} {}/{}  {}/{}  (veth-s)",
            n.server,
            ns::SERVER_V4,
            ns::PREFIX_V4,
            ns::SERVER_V6,
            ns::PREFIX_V6
        );
        println!(
            "  client host {:<14} {}/{}  {}/{}  (veth-c)",
            n.client,
            ns::CLIENT_V4,
            ns::PREFIX_V4,
            ns::CLIENT_V6,
            ns::PREFIX_V6
        );
        println!("  MTU {} (MSS 1460), offloads off", ns::MTU);
        println!("  forwarder scheduling: {scheduling}");
        println!("  impairment: {}", state.settings.describe());
        println!("  frame log: {}", state.log.display());
        println!(
            "  try: labnet netlab exec server -- labnet tcp-server --model threads --proto text &\n       \
             labnet netlab exec client -- labnet tcp-client --proto text --ip {} -m hello",
            ns::SERVER_V4
        );
    }

    fn down(&self) -> Result<(), NetError> {
        check_can_run()?;
        let removed = self.teardown()?;
        if removed.is_empty() {
            println!("lab '{}' was not up; nothing to remove", self.name);
        } else {
            println!("lab '{}' removed: {}", self.name, removed.join(", "));
        }
        Ok(())
    }

    fn require_up(&self) -> Result<LabState, NetError> {
        let present = ns::present(&self.names).map_err(failed)?;
        match self.state.load() {
            Ok(s) if present.len() == 3 => Ok(s),
            _ => Err(NetError::NetlabState(format!(
                "lab '{}' is not up: start it with 'labnet netlab{} up'",
                self.name,
                if self.name == "lab" {
                    String::new()
                } else {
                    format!(" --lab {}", self.name)
                }
            ))),
        }
    }

    fn exec(&self, host: Host, command: &[String]) -> Result<(), NetError> {
        check_can_run()?;
        self.require_up()?;
        let namespace = match host {
            Host::Server => &self.names.server,
            Host::Client => &self.names.client,
        };
        // exec, not spawn: the command takes over this process (same pid, signals
        // reach it directly, its exit status is ours), so a script can kill -INT it.
        let err = Command::new("ip")
            .args(["netns", "exec", namespace])
            .args(command)
            .exec();
        Err(failed(format!(
            "cannot run ip netns exec {namespace}: {err}"
        )))
    }

    fn status(&self, as_json: bool) -> Result<(), NetError> {
        let state = self.require_up()?;
        let alive = forwarder_alive(state.pid);
        let answer = if alive {
            control::request(&self.state.socket(), &json!({"cmd": "status"})).ok()
        } else {
            None
        };
        if as_json {
            let v = json!({"lab": self.name, "forwarder_pid": state.pid, "forwarder_running": alive,
                "log": state.log, "forwarder": answer});
            println!("{v}");
            return Ok(());
        }
        let n = &self.names;
        println!("lab '{}'", self.name);
        println!(
            "  server host {:<14} {}/{}  {}/{}",
            n.server,
            ns::SERVER_V4,
            ns::PREFIX_V4,
            ns::SERVER_V6,
            ns::PREFIX_V6
        );
        println!(
            "  client host {:<14} {}/{}  {}/{}",
            n.client,
            ns::CLIENT_V4,
            ns::PREFIX_V4,
            ns::CLIENT_V6,
            ns::PREFIX_V6
        );
        println!("  impairment: {}", state.settings.describe());
        println!("  frame log: {}", state.log.display());
        match answer {
            Some(a) => {
                println!(
                    "  forwarder pid {} in {}, up {:.1} s",
                    state.pid,
                    n.mid,
                    a["uptime_s"].as_f64().unwrap_or(0.0)
                );
                for dir in ["c2s", "s2c"] {
                    let c = &a["counters"][dir];
                    println!(
                        "  {dir}: {} frames ({} IP): {} delayed, {} passed, {} dropped ({} by --drop), {} duplicated, {} reordered; {} sent, {} queued, own losses {}",
                        c["frames"], c["ip_frames"], c["delayed"], c["passed"], c["dropped"],
                        c["dropped_by_rule"], c["duplicated"], c["reordered"], c["sent"],
                        a["queued"][dir],
                        ["send_errors", "queue_full", "kernel_drops"]
                            .iter()
                            .map(|k| c[k].as_u64().unwrap_or(0))
                            .sum::<u64>()
                    );
                }
            }
            None => println!(
                "  forwarder NOT RUNNING (pid {}): no frame passes; 'labnet netlab up' again to rebuild the lab",
                state.pid
            ),
        }
        Ok(())
    }

    fn set(&self, a: &ImpairArgs, no_drop: bool, no_rate: bool) -> Result<(), NetError> {
        let mut state = self.require_up()?;
        apply(&mut state.settings, a, no_drop);
        if no_rate {
            state.settings.rate_kbit = None;
        }
        state.settings.validate().map_err(NetError::Usage)?;
        control::request(
            &self.state.socket(),
            &json!({"cmd": "set", "settings": state.settings}),
        )
        .map_err(failed)?;
        self.state.save(&state).map_err(failed)?;
        println!("lab '{}': {}", self.name, state.settings.describe());
        Ok(())
    }

    /// The forwarder process (inside NAME-mid): runs until `stop` or a stop request.
    fn forward(&self, stop: Arc<AtomicBool>) -> Result<(), NetError> {
        let state = self.state.load().map_err(failed)?;
        let log = log::FrameLog::create(&state.log).map_err(|e| {
            failed(format!(
                "cannot create the frame log {}: {e}",
                state.log.display()
            ))
        })?;
        let shared = Arc::new(Shared::new(state.settings, log, stop));
        let threads =
            forwarder::start(&shared, ns::MID_SERVER_SIDE, ns::MID_CLIENT_SIDE).map_err(failed)?;
        let socket = self.state.socket();
        let _ = std::fs::remove_file(&socket);
        let listener = std::os::unix::net::UnixListener::bind(&socket)
            .map_err(|e| failed(format!("cannot create {}: {e}", socket.display())))?;
        let sh = Arc::clone(&shared);
        std::thread::spawn(move || control::serve(listener, sh));
        // The one line `up` waits for; nothing else is ever written to stdout
        // (the pipe is closed once `up` has returned).
        println!("ready");
        // Readers see the stop flag (Ctrl-C or a stop request) within their read
        // timeout and wake the senders as they finish.
        let joined: Vec<bool> = threads.into_iter().map(|t| t.join().is_ok()).collect();
        if joined.iter().all(|ok| *ok) {
            Ok(())
        } else {
            Err(failed("a forwarder thread panicked"))
        }
    }
}

/// How the forwarder is scheduled, and the words for it: real-time (SCHED_FIFO) when
/// the system allows it. A frame waits for its forwarder thread to be woken; on a busy
/// machine (two cores, compilers running) an ordinary thread waits hundreds of
/// microseconds to milliseconds for a CPU, which is latency (and, in bursts, queueing)
/// the configured delay does not include. The kernel's own path (a direct veth pair)
/// runs in softirq context and never waits like that; a real-time forwarder comes
/// close. It sleeps whenever no frame is due, and the kernel's real-time throttling
/// (95% by default) bounds it even if it did not. Where real-time scheduling is refused
/// (a container without CAP_SYS_NICE), the highest nice level; else as is.
fn forwarder_priority() -> (&'static [&'static str], &'static str) {
    // chrt and nice exec the command they are given (same pid). Each is tried first:
    // chrt fails when real-time is refused; nice only warns and runs the command at
    // the old niceness, so the probe asks the inner `nice` what niceness it got.
    let probe = |prefix: &[&str], then: &str| {
        Command::new(prefix[0])
            .args(&prefix[1..])
            .arg(then)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    const CHRT: &[&str] = &["chrt", "-f", "10"];
    const NICE: &[&str] = &["nice", "-n", "-20"];
    if probe(CHRT, "true").is_some() {
        return (CHRT, "real-time (SCHED_FIFO 10)");
    }
    if probe(NICE, "nice").as_deref() == Some("-20") {
        return (NICE, "nice -20 (real-time scheduling refused)");
    }
    (
        &[],
        "ordinary (neither real-time nor a higher priority allowed)",
    )
}

/// Wait (bounded) until `pid` has exited: gone from /proc or a zombie. Not until its
/// command line is empty: a killed process loses it early in its exit, while the kernel
/// still tears down its sockets (a test saw the forwarder run on after `down`).
fn wait_gone(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if !exiting_or_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !exiting_or_alive(pid)
}

/// `pid` exists and is not a zombie.
fn exiting_or_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
    })
}
