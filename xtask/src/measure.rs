//! Run a program and measure it: wall time, peak resident memory (VmHWM, sampled from
//! /proc while it runs: the high-water mark only grows, so the last sample before exit
//! is the peak to within one sampling interval), and CPU time.

use anyhow::{bail, Context, Result};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, Default)]
pub struct Measured {
    pub wall: Duration,
    /// Peak resident set size in KiB (0 where /proc is missing).
    pub peak_rss_kib: u64,
    /// User + system CPU seconds.
    pub cpu_secs: f64,
}

/// Where the measured program's standard output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdout {
    /// /dev/null (a write costs the program nothing but the system call).
    Null,
    /// A pipe that a thread of ours drains (what `labsniff ... | consumer` costs).
    Drained,
}

/// Run `cmd` with stdout discarded; fail with its stderr when it fails.
pub fn run(name: &str, cmd: &mut Command, timeout: Duration) -> Result<Measured> {
    run_with(name, cmd, timeout, Stdout::Null)
}

/// [`run`] with the standard output `out`. CPU time is read from /proc once the
/// program has exited and before it is reaped (a zombie's stat holds its final user
/// and system time, all threads included), so it is the whole run's, in clock ticks.
pub fn run_with(name: &str, cmd: &mut Command, timeout: Duration, out: Stdout) -> Result<Measured> {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(match out {
            Stdout::Null => Stdio::null(),
            Stdout::Drained => Stdio::piped(),
        })
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {name}"))?;
    let drain = child.stdout.take().map(|mut pipe| {
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = vec![0u8; 1 << 16];
            let mut total = 0u64;
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            total
        })
    });
    let pid = child.id();
    let mut peak = 0;
    let mut cpu = 0.0;
    let status = loop {
        if let Some(hwm) = proc_hwm_kib(pid) {
            peak = peak.max(hwm);
        }
        if let Some(c) = proc_cpu_secs(pid) {
            cpu = c;
        }
        if proc_is_zombie(pid) {
            if let Some(c) = proc_cpu_secs(pid) {
                cpu = c;
            }
            break child.wait()?;
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{name} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = started.elapsed();
    if let Some(d) = drain {
        let _ = d.join();
    }
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        bail!("{name} failed ({status}): {}", err.trim());
    }
    Ok(Measured {
        wall,
        peak_rss_kib: peak,
        cpu_secs: cpu,
    })
}

/// VmHWM of a live process, KiB.
pub fn proc_hwm_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmHWM:")
}

/// VmRSS of a live process, KiB.
pub fn proc_rss_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmRSS:")
}

fn proc_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The process has exited and waits to be reaped.
fn proc_is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(|s| s == "Z"))
        })
        .unwrap_or(false)
}

/// utime + stime of a live process, seconds (assumes the usual 100 clock ticks/s).
pub fn proc_cpu_secs(pid: u32) -> Option<f64> {
    proc_cpu_user_sys(pid).map(|(user, sys)| user + sys)
}

/// User and system CPU seconds of process `pid` so far (all its threads, the ones
/// that have exited included), from /proc/PID/stat (10 ms ticks).
pub fn proc_cpu_user_sys(pid: u32) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime / 100.0, stime / 100.0))
}
