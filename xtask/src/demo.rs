//! `cargo xtask demo`: the whole lab, end to end, on loopback.
//!
//! For each exercise of the lab guide: start the labnet server, start labsniff
//! capturing on the loopback interface into `target/demo/exN.pcap`, run two or more
//! scripted clients, stop everything, then check with `labsniff --json` that the
//! capture holds every message, and print labsniff's report for it.
//! Every child process is stopped on every path (see `procs`).

use crate::exercises::{check_capture, exercises, shorten, Exercise, Server, Tools, PORT};
use crate::procs::{spawn, Running};
use crate::util::{cargo, root, run};
use crate::{deps, util};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const LOOPBACK_IFACE: &str = if cfg!(target_os = "macos") {
    "lo0"
} else {
    "lo"
};

/// What one exercise produced.
struct Outcome {
    id: u8,
    capture: Option<PathBuf>,
    report: Option<PathBuf>,
    checked: String,
}

pub fn main(args: &[String]) -> Result<()> {
    // Across two hosts (network namespaces, as root): its own module, so this
    // loopback demo stays as it is.
    if args.iter().any(|a| a == "--net") {
        return crate::demo_net::main(args);
    }
    let started = Instant::now();
    deps::ensure(false)?;
    run(
        "build labnet and labsniff",
        cargo().args(["build", "--quiet", "-p", "labnet", "-p", "labsniff"]),
    )?;
    let target = root().join("target");
    let tools = Tools {
        labnet: target.join("debug/labnet"),
        labsniff: target.join("debug/labsniff"),
        out: target.join("demo"),
    };
    std::fs::create_dir_all(&tools.out)
        .with_context(|| format!("cannot create {}", tools.out.display()))?;

    let mut capture_ok = true;
    let mut outcomes = Vec::new();
    for ex in exercises() {
        println!("\n=== Exercise {}: {} ===", ex.id, ex.title);
        let outcome = run_exercise(&tools, &ex, &mut capture_ok)
            .with_context(|| format!("exercise {} ({}) failed", ex.id, ex.title))?;
        outcomes.push(outcome);
    }

    println!(
        "\n=== Demo finished in {:.1} s ===",
        started.elapsed().as_secs_f64()
    );
    for o in &outcomes {
        let show = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "-".into())
        };
        println!(
            "exercise {}: {:<45} capture {}  report {}",
            o.id,
            o.checked,
            show(&o.capture),
            show(&o.report)
        );
    }
    Ok(())
}

fn run_exercise(tools: &Tools, ex: &Exercise, capture_ok: &mut bool) -> Result<Outcome> {
    // TCP programs record their socket calls (--trace-events), which the report joins
    // to the capture: which thread or token served whom, which recv() read what.
    // Exercise 3's selector server runs under strace instead, when strace is installed
    // (`cargo xtask test` installs it as root): the same facts from the kernel's side.
    let tcp = matches!(ex.server, Server::Tcp { .. });
    let strace = tcp && ex.id == 3 && util::have("strace");
    let (server, mut traces) = start_traced_server(tools, ex, tcp, strace)?;
    let pcap = tools.out.join(format!("ex{}.pcap", ex.id));
    let _ = std::fs::remove_file(&pcap);
    let sniffer = if *capture_ok {
        start_capture(tools, &pcap, capture_ok)?
    } else {
        None
    };
    run_clients(tools, ex, &mut traces)?;
    stop_all(tools, ex, sniffer, server, strace)?;
    if !pcap.exists() {
        return Ok(Outcome {
            id: ex.id,
            capture: None,
            report: None,
            checked: "not captured (no capture permission)".into(),
        });
    }
    let checked = check_capture(tools, ex, &pcap)?;
    let report = report(tools, ex, &pcap, &traces)?;
    Ok(Outcome {
        id: ex.id,
        capture: Some(pcap),
        report: Some(report),
        checked,
    })
}

/// The exercise's server, under strace or recording its own socket calls when it is a
/// TCP server; with the trace files the report joins to the capture (the server's).
fn start_traced_server(
    tools: &Tools,
    ex: &Exercise,
    tcp: bool,
    strace: bool,
) -> Result<(Running, Vec<PathBuf>)> {
    let mut traces: Vec<PathBuf> = Vec::new();
    let server_trace = if strace {
        tools.out.join(format!("ex{}.server.trace", ex.id))
    } else {
        tools.out.join(format!("ex{}.server.jsonl", ex.id))
    };
    if tcp {
        traces.push(server_trace.clone());
    }
    let server = if strace {
        start_server_strace(tools, ex.server, &server_trace)?
    } else {
        start_server(tools, ex.server, tcp.then_some(server_trace.as_path()))?
    };
    Ok((server, traces))
}

/// Run the exercise's clients and print what each wrote; a TCP client's trace file
/// is added to `traces`.
fn run_clients(tools: &Tools, ex: &Exercise, traces: &mut Vec<PathBuf>) -> Result<()> {
    let tcp = matches!(ex.server, Server::Tcp { .. });
    // Clients run at the same time, as several students would.
    let mut clients = Vec::new();
    for (i, messages) in ex.clients.iter().enumerate() {
        let name = format!("client {}", (b'A' + i as u8) as char);
        let mut cmd = Command::new(&tools.labnet);
        match ex.server {
            Server::Udp => cmd.args([
                "udp-client",
                "--ip",
                "127.0.0.1",
                "--port",
                &PORT.to_string(),
            ]),
            Server::Tcp { proto, .. } => cmd.args([
                "tcp-client",
                "--proto",
                proto,
                "--ip",
                "127.0.0.1",
                "--port",
                &PORT.to_string(),
            ]),
        };
        for m in messages {
            cmd.arg("-m").arg(m);
        }
        if tcp {
            let trace = tools.out.join(format!(
                "ex{}.client{}.jsonl",
                ex.id,
                (b'A' + i as u8) as char
            ));
            cmd.arg("--trace-events").arg(&trace);
            traces.push(trace);
        }
        let hold = ex.hold_first && i == 0;
        if hold {
            cmd.args(["--pause-ms", "500"]);
        }
        let mut client = spawn(&name, &mut cmd)?;
        if hold {
            client.wait_for_line("echo ", Duration::from_secs(10))?;
        }
        clients.push(client);
    }
    for client in clients {
        let name = client.name.clone();
        let (status, lines) = client.finish(Duration::from_secs(20))?;
        for line in &lines {
            println!("  {name:<9}| {}", shorten(line));
        }
        if !status.success() {
            bail!("{name} failed ({status})");
        }
    }
    Ok(())
}

/// Stop the capture, keeping what labsniff printed live, then the server, printing
/// its lines.
fn stop_all(
    tools: &Tools,
    ex: &Exercise,
    sniffer: Option<Running>,
    server: Running,
    strace: bool,
) -> Result<()> {
    // Let the last FIN/ACKs cross before stopping the capture.
    std::thread::sleep(Duration::from_millis(300));
    if let Some(sniffer) = sniffer {
        let lines = sniffer.stop(Duration::from_secs(5))?;
        std::fs::write(
            tools.out.join(format!("ex{}.live.txt", ex.id)),
            lines.join("\n"),
        )?;
    }
    if strace {
        // Ctrl-C to strace would only detach it: stop the traced server itself.
        if let Some(pid) = traced_child(server.pid()) {
            let _ = Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status();
        }
    }
    for line in server.stop(Duration::from_secs(5))? {
        println!("  server   | {}", shorten(&line));
    }
    Ok(())
}

/// labsniff's report on the capture, joined to the trace files, printed and written
/// to `exN.txt` (its path is returned); and the capture with labsniff's verdicts as
/// packet comments, for Wireshark, in `exN.pcapng`.
fn report(tools: &Tools, ex: &Exercise, pcap: &Path, traces: &[PathBuf]) -> Result<PathBuf> {
    let report = tools.out.join(format!("ex{}.txt", ex.id));
    let mut cmd = Command::new(&tools.labsniff);
    cmd.args(["-r"])
        .arg(pcap)
        .args(["--port", &PORT.to_string()]);
    if !traces.is_empty() {
        cmd.arg("--syscalls").args(traces);
    }
    let out = cmd.output().context("cannot run labsniff on the capture")?;
    // The capture with labsniff's verdicts as packet comments, for Wireshark.
    let annotated = tools.out.join(format!("ex{}.pcapng", ex.id));
    let status = Command::new(&tools.labsniff)
        .args(["-r"])
        .arg(pcap)
        .args(["--port", &PORT.to_string(), "-w"])
        .arg(&annotated)
        .args(["--annotate", "--view", "conversations"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .context("cannot run labsniff --annotate")?;
    if !status.success() {
        bail!("labsniff --annotate failed on {}", pcap.display());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    std::fs::write(&report, text.as_bytes())?;
    println!(
        "\n--- labsniff report for exercise {} ---\n{}",
        ex.id,
        text.trim_end()
    );
    Ok(report)
}

fn start_server(tools: &Tools, server: Server, trace: Option<&Path>) -> Result<Running> {
    let mut cmd = Command::new(&tools.labnet);
    let port = PORT.to_string();
    match server {
        Server::Udp => cmd.args(["udp-server", "--bind", "127.0.0.1", "--port", &port]),
        Server::Tcp { model, proto } => cmd.args([
            "tcp-server",
            "--model",
            model,
            "--proto",
            proto,
            "--bind",
            "127.0.0.1",
            "--port",
            &port,
        ]),
    };
    if let Some(trace) = trace {
        cmd.arg("--trace-events").arg(trace);
    }
    let mut running = spawn("server", &mut cmd)?;
    running
        .wait_for_line("listening", Duration::from_secs(10))
        .context("the server did not start")?;
    Ok(running)
}

/// The server under `strace -f -ttt -T -yy ... -o trace` (the command README documents).
fn start_server_strace(tools: &Tools, server: Server, trace: &Path) -> Result<Running> {
    let Server::Tcp { model, proto } = server else {
        bail!("only TCP servers are traced");
    };
    let mut cmd = Command::new("strace");
    cmd.args([
        "-f",
        "-ttt",
        "-T",
        "-yy",
        "-e",
        "trace=%network,read,write,close,shutdown,select,poll,epoll_wait,epoll_ctl",
        "-o",
    ])
    .arg(trace)
    .arg(&tools.labnet)
    .args(["tcp-server", "--model", model, "--proto", proto])
    .args(["--bind", "127.0.0.1", "--port", &PORT.to_string()]);
    let mut running = spawn("server", &mut cmd)?;
    running
        .wait_for_line("listening", Duration::from_secs(10))
        .context("the server under strace did not start")?;
    Ok(running)
}

/// The first child of `pid` (the program strace runs), from /proc.
fn traced_child(pid: u32) -> Option<u32> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

/// Start labsniff on loopback writing `pcap`. Without capture permission, say so once,
/// with the fix, and carry on without captures.
fn start_capture(tools: &Tools, pcap: &Path, capture_ok: &mut bool) -> Result<Option<Running>> {
    let mut cmd = Command::new(&tools.labsniff);
    cmd.args([
        "-i",
        LOOPBACK_IFACE,
        "-f",
        &format!("port {PORT}"),
        "--port",
        &PORT.to_string(),
        "-w",
    ])
    .arg(pcap);
    let mut sniffer = spawn("labsniff", &mut cmd)?;
    match sniffer.wait_for_line("listening", Duration::from_secs(10)) {
        Ok(_) => Ok(Some(sniffer)),
        Err(e) => {
            let text = format!("{e:#}").to_lowercase();
            if text.contains("permission") || text.contains("not permitted") {
                *capture_ok = false;
                println!(
                    "note: no permission to capture on {LOOPBACK_IFACE}; running servers and clients without captures. \
                     Fix: run as root, or `sudo setcap cap_net_raw,cap_net_admin=eip {}`",
                    tools.labsniff.display()
                );
                Ok(None)
            } else {
                Err(e.context("labsniff did not start capturing"))
            }
        }
    }
}
