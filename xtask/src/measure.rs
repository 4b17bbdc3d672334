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

/// Run `cmd` with stdout discarded; fail with its stderr when it fails.
pub fn run(name: &str, cmd: &mut Command, timeout: Duration) -> Result<Measured> {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {name}"))?;
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

/// utime + stime of a live process, seconds (assumes the usual 100 clock ticks/s).
pub fn proc_cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
