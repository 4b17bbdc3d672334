//! `cargo xtask demo`: the whole lab, end to end, on loopback.
//!
//! For each exercise of the lab guide: start the labnet server, start labsniff
//! capturing on the loopback interface into `target/demo/exN.pcap`, run two or more
//! scripted clients, stop everything, then check with `labsniff --json` that the
//! capture holds every message, and print labsniff's report for it.
//! Every child process is stopped on every path (see `procs`).

use crate::procs::{spawn, Running};
use crate::util::{cargo, root, run};
use crate::{deps, util};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The lab's port.
pub(crate) const PORT: u16 = 5005;
const LOOPBACK_IFACE: &str = if cfg!(target_os = "macos") {
    "lo0"
} else {
    "lo"
};

/// How the server of an exercise runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Server {
    Udp,
    Tcp {
        model: &'static str,
        proto: &'static str,
    },
}

#[derive(Debug)]
pub(crate) struct Exercise {
    pub(crate) id: u8,
    pub(crate) title: &'static str,
    pub(crate) server: Server,
    /// One list of messages per client; clients run at the same time.
    pub(crate) clients: Vec<Vec<String>>,
    /// Client A pauses between its messages and client B starts once A got its first
    /// echo: the server then answers B while A, answered before, is still connected,
    /// which is what proves a concurrent server in the capture (`labsniff grade`).
    pub(crate) hold_first: bool,
}

pub(crate) fn exercises() -> Vec<Exercise> {
    let big: String = "The quick brown fox jumps over the lazy dog. "
        .repeat(2300)
        .chars()
        .take(100_000)
        .collect();
    let s = |v: &[&str]| v.iter().map(|m| m.to_string()).collect::<Vec<_>>();
    vec![
        Exercise {
            id: 1,
            title: "UDP text datagrams, two clients (ephemeral source ports)",
            server: Server::Udp,
            hold_first: false,
            clients: vec![
                s(&["hello from client A", "client A again"]),
                s(&["hello from client B"]),
            ],
        },
        Exercise {
            id: 2,
            title: "TCP text, one thread per client, with echo",
            server: Server::Tcp {
                model: "threads",
                proto: "text",
            },
            hold_first: true,
            clients: vec![
                s(&["hello over TCP", "second line"]),
                s(&["client B says hi"]),
            ],
        },
        Exercise {
            id: 3,
            title: "TCP text, selector (one thread, one token per client), with echo",
            server: Server::Tcp {
                model: "selector",
                proto: "text",
            },
            hold_first: true,
            clients: vec![
                s(&["selector client A", "client A again"]),
                s(&["selector client B", "bye"]),
            ],
        },
        Exercise {
            id: 4,
            title: "v2 fixed 29-byte binary messages (!BII20s), with echo",
            server: Server::Tcp {
                model: "threads",
                proto: "v2",
            },
            hold_first: false,
            clients: vec![
                s(&["hello", "a v2 message longer than twenty bytes"]),
                s(&["from client B"]),
            ],
        },
        Exercise {
            id: 5,
            title: "v3 variable-size binary messages (!BII + payload), with echo",
            server: Server::Tcp {
                model: "selector",
                proto: "v3",
            },
            hold_first: false,
            clients: vec![vec!["hello v3".into(), big], s(&["short one", "another"])],
        },
    ]
}

pub(crate) struct Tools {
    pub(crate) labnet: PathBuf,
    pub(crate) labsniff: PathBuf,
    pub(crate) out: PathBuf,
}

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
    let pcap = tools.out.join(format!("ex{}.pcap", ex.id));
    let _ = std::fs::remove_file(&pcap);
    let sniffer = if *capture_ok {
        start_capture(tools, &pcap, capture_ok)?
    } else {
        None
    };

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

    if !pcap.exists() {
        return Ok(Outcome {
            id: ex.id,
            capture: None,
            report: None,
            checked: "not captured (no capture permission)".into(),
        });
    }
    let checked = check_capture(tools, ex, &pcap)?;
    let report = tools.out.join(format!("ex{}.txt", ex.id));
    let mut cmd = Command::new(&tools.labsniff);
    cmd.args(["-r"])
        .arg(&pcap)
        .args(["--port", &PORT.to_string()]);
    if !traces.is_empty() {
        cmd.arg("--syscalls").args(&traces);
    }
    let out = cmd.output().context("cannot run labsniff on the capture")?;
    // The capture with labsniff's verdicts as packet comments, for Wireshark.
    let annotated = tools.out.join(format!("ex{}.pcapng", ex.id));
    let status = Command::new(&tools.labsniff)
        .args(["-r"])
        .arg(&pcap)
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
    Ok(Outcome {
        id: ex.id,
        capture: Some(pcap),
        report: Some(report),
        checked,
    })
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

/// Read the capture back with `labsniff --json` and check every scripted message is in it.
pub(crate) fn check_capture(tools: &Tools, ex: &Exercise, pcap: &Path) -> Result<String> {
    let out = Command::new(&tools.labsniff)
        .arg("-r")
        .arg(pcap)
        .args(["--port", &PORT.to_string(), "--json"])
        .output()
        .context("cannot run labsniff --json")?;
    if !out.status.success() {
        bail!(
            "labsniff --json failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    std::fs::write(pcap.with_extension("jsonl"), &out.stdout)?;
    // Payload bytes per (conversation, direction), in order.
    let mut streams: BTreeMap<(u64, String), Vec<u8>> = BTreeMap::new();
    let mut count = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
            bail!("labsniff --json printed a line that is not JSON: {line}");
        };
        if record["type"] != "message" {
            continue;
        }
        count += 1;
        let conv = record["conv"].as_u64().unwrap_or(0);
        let dir = record["dir"].as_str().unwrap_or("").to_string();
        let payload = util::unhex(record["payload_hex"].as_str().unwrap_or(""));
        streams
            .entry((conv, dir))
            .or_default()
            .extend_from_slice(&payload);
    }
    let echo = matches!(ex.server, Server::Tcp { .. });
    for (i, messages) in ex.clients.iter().enumerate() {
        let expected: Vec<u8> = messages
            .iter()
            .flat_map(|m| match ex.server {
                Server::Tcp { proto: "v2", .. } => m.as_bytes()[..m.len().min(20)].to_vec(),
                _ => m.as_bytes().to_vec(),
            })
            .collect();
        let c2s = streams
            .iter()
            .any(|((_, d), bytes)| d == "c2s" && *bytes == expected);
        let s2c = !echo
            || streams
                .iter()
                .any(|((_, d), bytes)| d == "s2c" && *bytes == expected);
        if !(c2s && s2c) {
            bail!(
                "the capture {} lacks client {}'s messages{}",
                pcap.display(),
                (b'A' + i as u8) as char,
                if c2s { " (the echo is missing)" } else { "" }
            );
        }
    }
    Ok(format!("{count} messages captured, all present"))
}

pub(crate) fn shorten(line: &str) -> String {
    if line.chars().count() > 150 {
        let head: String = line.chars().take(140).collect();
        format!("{head}… ({} chars)", line.chars().count())
    } else {
        line.to_string()
    }
}
