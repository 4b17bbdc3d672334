//! Server figures for `cargo xtask bench`: labnet's v3 threads and selector servers,
//! and the Python `selectors` server of the lab's style, under the same `labnet bench`
//! load; then the scale run (many concurrent, slow connections).

use crate::measure::{proc_cpu_secs, proc_cpu_user_sys, proc_hwm_kib, proc_rss_kib};
use crate::procs::{spawn, Running};
use crate::util::root;
use anyhow::{bail, Context, Result};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// One `labnet bench` result.
#[derive(Debug, Default, Clone, Copy)]
struct Load {
    msgs_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
    errors: u64,
    messages: u64,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) fn start_server(labnet: &Path, kind: &str, port: u16) -> Result<Running> {
    let p = port.to_string();
    let mut cmd = match kind {
        "python" => {
            let mut c = Command::new("python3");
            c.arg(root().join("bench/selectors_v3_server.py")).arg(&p);
            c
        }
        "python-threads" => {
            let mut c = Command::new("python3");
            c.arg(root().join("bench/threads_v3_server.py")).arg(&p);
            c
        }
        model => {
            let mut c = Command::new(labnet);
            c.args([
                "tcp-server",
                "--model",
                model,
                "--proto",
                "v3",
                "--bind",
                "127.0.0.1",
                "--port",
                &p,
                "--quiet",
            ]);
            c
        }
    };
    let mut server = spawn(&format!("{kind} server"), &mut cmd)?;
    server.wait_for_line("listening", Duration::from_secs(10))?;
    Ok(server)
}

fn load(
    labnet: &Path,
    port: u16,
    conns: u32,
    messages: u32,
    window: u32,
    extra: &[&str],
) -> Result<Load> {
    let out = Command::new(labnet)
        .args([
            "bench",
            "--proto",
            "v3",
            "--ip",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .args([
            "--conns",
            &conns.to_string(),
            "--messages",
            &messages.to_string(),
        ])
        .args(["--size", "32", "--window", &window.to_string(), "--json"])
        .args(extra)
        .output()
        .context("cannot run labnet bench")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| {
            format!(
                "labnet bench printed no JSON ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
    let v: serde_json::Value = serde_json::from_str(line)?;
    let num = |keys: &[&str]| -> f64 {
        keys.iter()
            .find_map(|k| v.get(*k).and_then(serde_json::Value::as_f64))
            .unwrap_or(f64::NAN)
    };
    Ok(Load {
        msgs_per_s: num(&["msgs_per_s"]),
        p50_us: num(&["p50_us"]),
        p99_us: num(&["p99_us"]),
        max_us: num(&["max_us"]),
        errors: (num(&["mismatches"]).max(0.0) + num(&["failed_conns"]).max(0.0)) as u64,
        messages: num(&["echoed"]).max(0.0) as u64,
    })
}

/// First-echo latency: `n` fresh connections one after another, each sending one v3
/// message (TCP_NODELAY) and timing until its whole echo is back. This is what a
/// student's first message meets: accept(), the new thread or registration, the echo.
fn first_echo(port: u16, n: usize) -> Result<(f64, f64)> {
    use std::io::{Read, Write};
    let msg: Vec<u8> = [&[1u8, 0, 0, 0, 1, 0, 0, 0, 5][..], b"hello"].concat();
    let mut times = Vec::with_capacity(n);
    let mut echo = vec![0u8; msg.len()];
    for _ in 0..n {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        let started = std::time::Instant::now();
        s.write_all(&msg)?;
        s.read_exact(&mut echo).context("reading the first echo")?;
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Ok((at(0.5), at(0.99)))
}

/// The first-echo table: labnet's threads and selector servers and the two Python ones.
pub fn first_echo_bench(labnet: &Path, quick: bool) -> Result<String> {
    let n = if quick { 200 } else { 1000 };
    let mut out = format!(
        "## First-echo latency ({n} fresh connections, one v3 message each, loopback)\n\n\
         | server | p50 µs | p99 µs |\n|---|---:|---:|\n"
    );
    let mut p50 = std::collections::BTreeMap::new();
    let servers = [
        ("threads", "labnet threads"),
        ("selector", "labnet selector"),
        (
            "python-threads",
            "Python threads (bench/threads_v3_server.py)",
        ),
        ("python", "Python selectors (bench/selectors_v3_server.py)"),
    ];
    for (kind, label) in servers {
        let port = free_port()?;
        let server = start_server(labnet, kind, port)?;
        eprintln!("xtask: first-echo latency, {label} server");
        let (a, b) = first_echo(port, n)?;
        drop(server);
        out.push_str(&format!("| {label} | {a:.0} | {b:.0} |\n"));
        p50.insert(kind, a);
    }
    if let (Some(t), Some(s)) = (p50.get("threads"), p50.get("selector")) {
        out.push_str(&format!(
            "\ntarget: threads server's first echo within 2× the selector's: p50 {:.2}×\n\n",
            t / s
        ));
    }
    println!("{out}");
    Ok(out)
}

/// One server's figures for one load: messages/s, CPU µs per message, its user part.
type ServerFigures = (f64, f64, f64);

/// The servers under `labnet bench` loads, and the selector-vs-Python ratios.
pub fn servers_bench(labnet: &Path, quick: bool) -> Result<String> {
    let conn_counts: &[u32] = if quick { &[1, 64] } else { &[1, 8, 64, 512] };
    let windows = [1u32, 64];
    let mut out = String::from(
        "## v3 echo servers under `labnet bench` (32-byte payloads)\n\n\
         server CPU µs/msg: the server's user+system CPU time during the run (from\n\
         /proc/PID/stat, 10 ms ticks) per message echoed, and its system (kernel) part; it\n\
         does not depend on how fast the load generator, which shares the 2 cores, can go.\n\
         Window-64 runs echo 6 M messages so that even the fastest server uses 40+ ticks.\n\n\
         | server | conns | window | messages/s | p50 µs | p99 µs | max µs | errors | server CPU µs/msg | of which system |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    // (conns, window) -> [selector, python] × (messages/s, CPU µs per message, user part)
    let mut best: std::collections::BTreeMap<(u32, u32), [ServerFigures; 2]> = Default::default();
    for kind in ["threads", "selector", "python"] {
        let port = free_port()?;
        let server = start_server(labnet, kind, port)?;
        let pid = server.pid();
        for &conns in conn_counts {
            for window in windows {
                let total: u32 = if quick {
                    20_000
                } else if window == 1 {
                    60_000
                } else {
                    6_000_000
                };
                let per_conn = (total / conns).max(20);
                eprintln!("xtask: {kind} server, {conns} conns, window {window}");
                let nan = (f64::NAN, f64::NAN);
                let before = proc_cpu_user_sys(pid).unwrap_or(nan);
                let l = load(labnet, port, conns, per_conn, window, &[])?;
                let after = proc_cpu_user_sys(pid).unwrap_or(nan);
                let (user, sys) = (after.0 - before.0, after.1 - before.1);
                let cpu = user + sys;
                // Under 5 ticks of CPU the figure would be mostly rounding: not shown.
                let per_msg = |secs: f64| {
                    if cpu >= 0.05 {
                        secs * 1e6 / (l.messages.max(1) as f64)
                    } else {
                        f64::NAN
                    }
                };
                let cpu_us_per_msg = per_msg(cpu);
                out.push_str(&format!(
                    "| {kind} | {conns} | {window} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} | {} |\n",
                    l.msgs_per_s,
                    l.p50_us,
                    l.p99_us,
                    l.max_us,
                    l.errors,
                    figure(cpu_us_per_msg, 3, ""),
                    figure(per_msg(sys), 3, "")
                ));
                let e = best.entry((conns, window)).or_default();
                match kind {
                    "selector" => e[0] = (l.msgs_per_s, cpu_us_per_msg, per_msg(user)),
                    "python" => e[1] = (l.msgs_per_s, cpu_us_per_msg, per_msg(user)),
                    _ => {}
                }
            }
        }
        drop(server);
    }
    out.push_str(
        "\n| conns | window | selector ÷ Python messages/s | Python ÷ selector server CPU per message | the same, user CPU only |\n|---:|---:|---:|---:|---:|\n",
    );
    for ((conns, window), [sel, py]) in &best {
        out.push_str(&format!(
            "| {conns} | {window} | {} | {} | {} |\n",
            figure(sel.0 / py.0, 1, "×"),
            figure(py.1 / sel.1, 1, "×"),
            figure(py.2 / sel.2, 1, "×")
        ));
    }
    println!("{out}");
    Ok(out)
}

/// `value` with `decimals` and `unit`, or "n/a" when it could not be measured.
fn figure(value: f64, decimals: usize, unit: &str) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}{unit}")
    } else {
        "n/a".to_string()
    }
}

/// Many concurrent connections, each sending one message per second for 10 s.
pub fn scale_bench(labnet: &Path, quick: bool) -> Result<String> {
    let runs: &[(&str, u32)] = if quick {
        &[("selector", 1000), ("threads", 200)]
    } else {
        &[("selector", 10_000), ("threads", 1_000)]
    };
    let mut out = String::from(
        "## Scale: concurrent connections, one message per second each for 10 s\n\n\
         | server | conns | echoes received / sent | errors | server peak RSS MB | server CPU s | p99 µs |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for &(model, conns) in runs {
        let port = free_port()?;
        let server = start_server(labnet, model, port)?;
        let pid = server.pid();
        let before = proc_cpu_secs(pid).unwrap_or(0.0);
        eprintln!("xtask: scale: {model} server, {conns} connections");
        let l = load(labnet, port, conns, 10, 1, &["--interval-ms", "1000"])?;
        let cpu = proc_cpu_secs(pid).unwrap_or(0.0) - before;
        let hwm = proc_hwm_kib(pid).or_else(|| proc_rss_kib(pid)).unwrap_or(0);
        drop(server);
        let expected = u64::from(conns) * 10;
        if l.messages != expected {
            eprintln!(
                "xtask: warning: {model}: {} echoes of {expected}",
                l.messages
            );
        }
        out.push_str(&format!(
            "| {model} | {conns} | {} / {expected} | {} | {:.1} | {cpu:.2} | {:.0} |\n",
            l.messages,
            l.errors,
            hwm as f64 / 1024.0,
            l.p99_us
        ));
    }
    println!("{out}");
    if out.contains("| 0 / ") {
        bail!("a scale run received no echoes");
    }
    Ok(out)
}
