//! The lab's five exercises as both demos script them (`demo` on loopback,
//! `demo_net` across two hosts), the programs they run, and the check that a
//! capture holds every scripted message.

use crate::util;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The lab's port.
pub(crate) const PORT: u16 = 5005;

/// How the server of an exercise runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Server {
    Udp,
    Tcp {
        model: &'static str,
        proto: &'static str,
    },
}

/// One exercise of the lab guide: its server and what each client sends.
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

/// Exercises 1 to 5, in order.
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

/// The built programs a demo runs, and the folder its files go to.
pub(crate) struct Tools {
    pub(crate) labnet: PathBuf,
    pub(crate) labsniff: PathBuf,
    pub(crate) out: PathBuf,
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

/// A line of a program's output, cut to fit the demo's transcript. The limit is above
/// the lab programs' own lines, which already cut long payloads ("… (+99920 more
/// bytes)"): at 150 that note itself was cut.
pub(crate) fn shorten(line: &str) -> String {
    if line.chars().count() > 220 {
        let head: String = line.chars().take(200).collect();
        format!("{head}… ({} chars)", line.chars().count())
    } else {
        line.to_string()
    }
}
