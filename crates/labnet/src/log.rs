//! One line per event: `HH:MM:SS.mmm [handler] text`, on stdout or in memory (tests).
//!
//! Timestamps are UTC wall-clock time so they can be matched against a capture's
//! absolute times (Wireshark: View > Time Display Format > UTC Time of Day).

use std::fmt;
use std::io::{BufWriter, IsTerminal, Stdout, Write};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// When stdout is a file or a pipe, lines wait in a buffer (a line-flushed stdout
/// costs a write() per message) and go out at least this often, and at exit.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// The buffered stdout shared by every logger of the process, and its flusher.
struct Buffered {
    out: Mutex<BufWriter<Stdout>>,
    /// Set (and notified) by [`flush_stdout`] so the flusher thread stops waiting.
    done: (Mutex<bool>, Condvar),
}

static BUFFERED: OnceLock<Option<Arc<Buffered>>> = OnceLock::new();

/// The buffer, when stdout is not a terminal (started once, with its flusher thread).
fn buffered() -> Option<&'static Arc<Buffered>> {
    BUFFERED
        .get_or_init(|| {
            if std::io::stdout().is_terminal() {
                return None;
            }
            let b = Arc::new(Buffered {
                out: Mutex::new(BufWriter::with_capacity(64 * 1024, std::io::stdout())),
                done: (Mutex::new(false), Condvar::new()),
            });
            let flusher = Arc::clone(&b);
            let started = std::thread::Builder::new()
                .name("log-flush".into())
                .spawn(move || flush_loop(&flusher));
            // Without the thread, lines still go out when the buffer fills and at exit.
            drop(started);
            Some(b)
        })
        .as_ref()
}

fn flush_loop(b: &Buffered) {
    let (lock, wake) = &b.done;
    let Ok(mut done) = lock.lock() else { return };
    while !*done {
        if let Ok(mut out) = b.out.lock() {
            let _ = out.flush();
        }
        match wake.wait_timeout(done, FLUSH_EVERY) {
            Ok((guard, _)) => done = guard,
            Err(_) => return,
        }
    }
}

/// Write out what the logs buffered; call before the process exits.
pub fn flush_stdout() {
    if let Some(Some(b)) = BUFFERED.get() {
        if let Ok(mut out) = b.out.lock() {
            let _ = out.flush();
        }
        if let Ok(mut done) = b.done.0.lock() {
            *done = true;
        }
        b.done.1.notify_all();
    }
}

/// Where log lines go.
#[derive(Debug, Clone)]
enum Sink {
    Stdout,
    Memory(Arc<Mutex<Vec<String>>>),
}

/// A cheap, cloneable logger shared by every handler of a server.
#[derive(Debug, Clone)]
pub struct Log {
    sink: Sink,
    quiet: bool,
    /// `--trace-events`: the socket calls as JSON lines, beside the log.
    trace: Option<crate::trace_events::TraceEvents>,
}

impl Log {
    /// Lines go to stdout; `quiet` drops the per-message lines (benchmarks).
    pub fn stdout(quiet: bool) -> Log {
        Log {
            sink: Sink::Stdout,
            quiet,
            trace: None,
        }
    }

    /// Lines are kept in memory; the returned vector fills as events happen.
    pub fn memory(quiet: bool) -> (Log, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (
            Log {
                sink: Sink::Memory(Arc::clone(&lines)),
                quiet,
                trace: None,
            },
            lines,
        )
    }

    /// Also write the socket calls to `trace` (`--trace-events`).
    pub fn with_trace(mut self, trace: Option<crate::trace_events::TraceEvents>) -> Log {
        self.trace = trace;
        self
    }

    /// Where the socket calls go, if anywhere.
    pub fn trace(&self) -> Option<&crate::trace_events::TraceEvents> {
        self.trace.as_ref()
    }

    /// An event that is always shown (accept, close, errors, start, stop).
    pub fn event(&self, handler: &dyn fmt::Display, text: fmt::Arguments<'_>) {
        let now = SystemTime::now();
        match &self.sink {
            // A closed stdout (e.g. `| head`) must not kill the server: errors are
            // ignored.
            Sink::Stdout => match buffered() {
                // Written straight into the buffer: no line built first (per message,
                // the allocations cost more than the writing).
                Some(b) => {
                    if let Ok(mut out) = b.out.lock() {
                        let _ = writeln!(out, "{} [{handler}] {text}", Clock(now));
                    }
                }
                None => {
                    // A terminal shows each line as it happens.
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{} [{handler}] {text}", Clock(now));
                    let _ = out.flush();
                }
            },
            Sink::Memory(lines) => {
                let line = format!("{} [{handler}] {text}", Clock(now));
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
            }
        }
    }

    /// Per-message lines are dropped (`--quiet`): callers may skip preparing them.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// A per-message event, dropped with `--quiet`.
    pub fn message(&self, handler: &dyn fmt::Display, text: fmt::Arguments<'_>) {
        if !self.quiet {
            self.event(handler, text);
        }
    }
}

/// `HH:MM:SS.mmm` (UTC) of a wall-clock time.
pub fn timestamp(at: SystemTime) -> String {
    Clock(at).to_string()
}

/// A wall-clock time displayed as `HH:MM:SS.mmm` (UTC), written digit by digit (no
/// padding machinery: a server writes one per message).
struct Clock(SystemTime);

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let since_epoch = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        let s = since_epoch.as_secs() % 86_400;
        let ms = since_epoch.subsec_millis();
        let two = |n: u64| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
        let (h, m, sec) = (two(s / 3600), two(s / 60 % 60), two(s % 60));
        let text = [
            h[0],
            h[1],
            b':',
            m[0],
            m[1],
            b':',
            sec[0],
            sec[1],
            b'.',
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ];
        // ASCII digits and separators only.
        f.write_str(std::str::from_utf8(&text).unwrap_or("00:00:00.000"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamp_is_utc_time_of_day_with_millis() {
        let at = UNIX_EPOCH
            + Duration::from_millis(86_400_000 * 3 + 13 * 3_600_000 + 5 * 60_000 + 7_042);
        assert_eq!(timestamp(at), "13:05:07.042");
    }

    #[test]
    fn quiet_drops_message_lines_only() {
        let (log, lines) = Log::memory(true);
        log.message(&"thread x", format_args!("got 1"));
        log.event(&"thread x", format_args!("closed"));
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].ends_with(" [thread x] closed"), "{}", lines[0]);
    }
}
