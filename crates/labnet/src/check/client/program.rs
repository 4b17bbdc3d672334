//! The student's client program, when `labnet check client` runs it: started with
//! the port in its arguments and in `LAB_PORT`, its last stderr lines kept, its exit
//! waited for (bounded), and killed when dropped, on every path.

use crate::error::NetError;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// The student's program, killed when dropped (on every path).
pub(super) struct Program {
    child: Child,
    /// The last lines it wrote to stderr.
    stderr: Arc<Mutex<Vec<String>>>,
    /// Says when its stderr closed (it exited, normally).
    gone: mpsc::Receiver<()>,
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Program {
    pub(super) fn start(
        command: &[String],
        port: u16,
        waker: Arc<mio::Waker>,
        show_output: bool,
        ip: Option<&str>,
    ) -> Result<Program, NetError> {
        let (mut command, program) = crate::check::launch::student_command(command, port)?;
        if let Some(ip) = ip {
            command.env("LAB_IP", ip);
        }
        let mut child = command
            // The student's terminal: a client that reads the messages it sends from
            // the keyboard gets them (with none, it sends nothing, which the checks say).
            .stdin(Stdio::inherit())
            .stdout(if show_output {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| crate::check::launch::cannot_run(&program, e))?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, gone) = mpsc::channel();
        if let Some(pipe) = child.stderr.take() {
            let lines = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut l) = lines.lock() {
                        l.push(line);
                        if l.len() > 20 {
                            l.remove(0);
                        }
                    }
                }
                let _ = tx.send(());
                let _ = waker.wake();
            });
        }
        Ok(Program {
            child,
            stderr,
            gone,
        })
    }

    /// Wait (bounded) for the program to exit: its exit code, or None when it did not.
    pub(super) fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let _ = self.gone.recv_timeout(within);
        let code = |s: std::process::ExitStatus| s.code().unwrap_or(-1);
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(code(status));
        }
        // The kernel closes a process's files (our stderr pipe's EOF) just before the
        // process becomes waitable: one short second look, not a polling loop.
        std::thread::sleep(Duration::from_millis(100));
        self.child.try_wait().ok().flatten().map(code)
    }

    /// The last line the program wrote to stderr (empty when none).
    pub(super) fn last_error(&self) -> String {
        self.stderr
            .lock()
            .ok()
            .and_then(|l| l.last().cloned())
            .unwrap_or_default()
    }
}
