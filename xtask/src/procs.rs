//! Child processes that never outlive the demo: every spawned program is registered
//! in a [`Procs`] guard that stops it (SIGINT, then SIGKILL) when dropped, also when
//! a step fails.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// A running program with its output lines collected on background threads.
#[derive(Debug)]
pub struct Running {
    pub name: String,
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// The process id (for reading its /proc figures).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait until a line of its stdout or stderr contains `needle`.
    /// Errors when it exits first or `timeout` passes.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
                return Ok(line.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "{} did not print '{needle}' within {timeout:?}; it printed:\n{}",
                    self.name,
                    self.seen.join("\n")
                );
            }
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(status) = self.child.try_wait()? {
                        // Drain what it said before exiting.
                        thread::sleep(Duration::from_millis(50));
                        self.seen.extend(self.lines.try_iter());
                        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
                            return Ok(line.clone());
                        }
                        bail!(
                            "{} exited ({status}) before printing '{needle}':\n{}",
                            self.name,
                            self.seen.join("\n")
                        );
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    thread::sleep(Duration::from_millis(20));
                    if self.child.try_wait()?.is_some() {
                        bail!(
                            "{} exited before printing '{needle}':\n{}",
                            self.name,
                            self.seen.join("\n")
                        );
                    }
                }
            }
        }
    }

    /// Stop with SIGINT (Ctrl-C, so it can print its summary), SIGKILL after `grace`.
    /// Returns everything it printed.
    pub fn stop(mut self, grace: Duration) -> Result<Vec<String>> {
        stop_child(&mut self.child, grace);
        thread::sleep(Duration::from_millis(30));
        self.seen.extend(self.lines.try_iter());
        Ok(std::mem::take(&mut self.seen))
    }

    /// Wait for it to exit by itself within `timeout`; kill it otherwise.
    pub fn finish(mut self, timeout: Duration) -> Result<(std::process::ExitStatus, Vec<String>)> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                thread::sleep(Duration::from_millis(30));
                self.seen.extend(self.lines.try_iter());
                return Ok((status, std::mem::take(&mut self.seen)));
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!("{} did not finish within {timeout:?}", self.name);
            }
            self.seen.extend(self.lines.try_iter());
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            stop_child(&mut self.child, Duration::from_secs(2));
        }
    }
}

fn stop_child(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // SIGINT through kill(1): no unsafe libc call needed.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Start `cmd` with piped stdout/stderr forwarded line by line into a channel.
pub fn spawn(name: &str, cmd: &mut Command) -> Result<Running> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {name} ({:?})", cmd.get_program()))?;
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        forward(out, tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        forward(err, tx);
    }
    Ok(Running {
        name: name.to_string(),
        child,
        lines: rx,
        seen: Vec::new(),
    })
}

/// [`spawn`], with stdout read by `reader` on its own thread instead of collected
/// (a live labsniff --json prints hundreds of MB: only what `reader` keeps stays).
pub fn spawn_reading<T: Send + 'static>(
    name: &str,
    cmd: &mut Command,
    reader: impl FnOnce(std::process::ChildStdout) -> T + Send + 'static,
) -> Result<(Running, thread::JoinHandle<T>)> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {name} ({:?})", cmd.get_program()))?;
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().context("no stdout pipe")?;
    let handle = thread::spawn(move || reader(out));
    if let Some(err) = child.stderr.take() {
        forward(err, tx);
    }
    let running = Running {
        name: name.to_string(),
        child,
        lines: rx,
        seen: Vec::new(),
    };
    Ok((running, handle))
}

fn forward(stream: impl Read + Send + 'static, tx: mpsc::Sender<String>) {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
}
