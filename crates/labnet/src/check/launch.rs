//! The student's server, when `labnet check server -- CMD ...` runs it: started with
//! the port in its arguments (`{port}`) and in `LAB_PORT`, every line it prints on
//! stdout and stderr kept with the time it came, waited for until it listens
//! (bounded), and killed when dropped, on every path.

use crate::error::NetError;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Lines kept per stream: a server printing a 100 kB message in 1 kB chunks prints
/// about a hundred; far more means a loop.
const MAX_LINES: usize = 20_000;
/// How long the server may take to listen.
pub const LISTEN: Duration = Duration::from_secs(5);
/// Between two connection attempts while it starts.
const RETRY: Duration = Duration::from_millis(50);

/// One line the server printed.
#[derive(Debug, Clone)]
pub struct Line {
    pub at: Instant,
    pub text: String,
    pub stderr: bool,
}

/// The lines printed so far, and a wake-up for each new one.
type Printed = Arc<(Mutex<Vec<Line>>, Condvar)>;

/// The student's server, killed when dropped.
#[derive(Debug)]
pub struct ServerProgram {
    child: Child,
    lines: Printed,
}

impl Drop for ServerProgram {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerProgram {
    pub fn start(command: &[String], port: u16) -> Result<ServerProgram, NetError> {
        let (mut command, program) = student_command(command, port)?;
        let mut child = command
            // Python buffers a piped stdout: without this the prints come at exit.
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| cannot_run(&program, e))?;
        let lines: Printed = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        if let Some(out) = child.stdout.take() {
            keep_lines(out, false, Arc::clone(&lines));
        }
        if let Some(err) = child.stderr.take() {
            keep_lines(err, true, Arc::clone(&lines));
        }
        Ok(ServerProgram { child, lines })
    }

    /// Wait until `addr` accepts a connection (at most [`LISTEN`]); Err with the
    /// server's last words when it exited or never listened.
    pub fn wait_listening(&mut self, addr: SocketAddr) -> Result<Duration, NetError> {
        let started = Instant::now();
        let tries = (LISTEN.as_millis() / RETRY.as_millis()).max(1);
        for _ in 0..tries {
            if TcpStream::connect_timeout(&addr, RETRY).is_ok() {
                return Ok(started.elapsed());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(NetError::Usage(format!(
                    "your server exited ({status}) before listening on {addr}: {}",
                    self.last_words()
                )));
            }
            std::thread::sleep(RETRY);
        }
        if !addr.ip().is_loopback() && self.listens_on_loopback_only(addr.port()) {
            return Err(NetError::Usage(format!(
                "your server cannot be reached at {addr}: it listens on 127.0.0.1:{} only \
                 (/proc/{}/net/tcp), which only programs on its own machine reach; bind to '' \
                 (every interface) or '0.0.0.0' to serve a remote machine",
                addr.port(),
                self.child.id()
            )));
        }
        Err(NetError::Usage(format!(
            "your server did not listen on {addr} within {} s (pass {{port}} as its port): {}",
            LISTEN.as_secs(),
            self.last_words()
        )))
    }

    /// The program (in its own network namespace, maybe) has a listening TCP socket on
    /// `port` bound to a loopback address (127.0.0.1 or ::1), per /proc/PID/net/tcp{,6}.
    fn listens_on_loopback_only(&self, port: u16) -> bool {
        const LISTEN_STATE: &str = "0A";
        let loopback = ["0100007F", "00000000000000000000000001000000"];
        let pid = self.child.id();
        ["tcp", "tcp6"].iter().any(|table| {
            let text =
                std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
            text.lines().skip(1).any(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (Some(local), Some(state)) = (fields.get(1), fields.get(3)) else {
                    return false;
                };
                let Some((ip, hex_port)) = local.split_once(':') else {
                    return false;
                };
                *state == LISTEN_STATE
                    && u16::from_str_radix(hex_port, 16) == Ok(port)
                    && loopback.contains(&ip)
            })
        })
    }

    /// Every line printed so far.
    pub fn lines(&self) -> Vec<Line> {
        self.lines.0.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Wait until the program has printed nothing new for `quiet` (its last prints of
    /// what it was sent can lag behind, more so on a loaded machine), at most `max`.
    pub fn wait_quiet(&self, quiet: Duration, max: Duration) {
        let (lock, printed) = &*self.lines;
        let started = Instant::now();
        let Ok(mut lines) = lock.lock() else { return };
        loop {
            let seen = lines.len();
            let left = max.saturating_sub(started.elapsed());
            if left.is_zero() {
                return;
            }
            match printed.wait_timeout(lines, quiet.min(left)) {
                Ok((guard, waited)) => {
                    lines = guard;
                    if waited.timed_out() && lines.len() == seen {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    }

    fn last_words(&self) -> String {
        let lines = self.lines();
        let last: Vec<&str> = lines
            .iter()
            .rev()
            .take(3)
            .map(|l| l.text.as_str())
            .collect();
        if last.is_empty() {
            "it printed nothing".to_string()
        } else {
            last.into_iter().rev().collect::<Vec<_>>().join(" | ")
        }
    }
}

/// The student's program as `command` names it, `{port}` in an argument replaced by
/// `port` (also in `LAB_PORT`), and the program's name for errors.
pub(crate) fn student_command(
    command: &[String],
    port: u16,
) -> Result<(Command, String), NetError> {
    let args: Vec<String> = command
        .iter()
        .map(|a| a.replace("{port}", &port.to_string()))
        .collect();
    let (program, rest) = args
        .split_first()
        .ok_or_else(|| NetError::Usage("no program to run after --".to_string()))?;
    let mut cmd = Command::new(program);
    cmd.args(rest).env("LAB_PORT", port.to_string());
    Ok((cmd, program.clone()))
}

/// The error of a program that could not be started.
pub(crate) fn cannot_run(program: &str, e: std::io::Error) -> NetError {
    NetError::Usage(format!("cannot run '{program}': {e}"))
}

/// Read `pipe` line by line on a thread until it closes (the child is killed on every
/// path, so it does), keeping at most [`MAX_LINES`].
fn keep_lines(pipe: impl Read + Send + 'static, stderr: bool, lines: Printed) {
    std::thread::spawn(move || {
        let (lock, printed) = &*lines;
        for text in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Ok(mut l) = lock.lock() {
                if l.len() < MAX_LINES {
                    l.push(Line {
                        at: Instant::now(),
                        text,
                        stderr,
                    });
                    printed.notify_all();
                }
            }
        }
    });
}
