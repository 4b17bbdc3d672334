//! Captures handed in twice: two files byte for byte the same, or two files holding the
//! same TCP connections (the same client and server addresses and ports and the same
//! initial sequence numbers, which two runs of the exercise never share: each connect()
//! draws a new ISN). A teacher grading a class wants to know these first.

use super::Grade;
use crate::event::{ConversationRecord, Event};
use serde::Serialize;
use std::hash::Hasher;
use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;

/// What identifies a file's content and its TCP connections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint {
    /// The file's size and a hash of its bytes (None when it could not be read).
    pub content: Option<(u64, u64)>,
    /// Each TCP connection: client, server, client ISN, server ISN.
    pub connections: Vec<(SocketAddr, SocketAddr, u32, u32)>,
}

/// Two files that are the same capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Copy {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub files: [String; 2],
    /// `identical` (byte for byte) or `same_connections`.
    pub how: &'static str,
    /// TCP connections they share (identical files: all of them).
    pub connections: usize,
}

/// The fingerprint of the file at `path` whose analysis gave `events`.
pub fn fingerprint(path: &Path, events: &[Event]) -> Fingerprint {
    let connections = events
        .iter()
        .filter_map(|e| match e {
            Event::Conversation(c) => connection(c),
            _ => None,
        })
        .collect();
    Fingerprint {
        content: content_hash(path),
        connections,
    }
}

fn connection(c: &ConversationRecord) -> Option<(SocketAddr, SocketAddr, u32, u32)> {
    let t = c.tcp.as_ref()?;
    Some((c.client, c.server, t.client_isn?, t.server_isn?))
}

/// Size and hash of the file's bytes, read in 64 KiB blocks (bounded memory).
fn content_hash(path: &Path) -> Option<(u64, u64)> {
    // Only a regular file: a pipe in the class's folder would block the read forever.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let mut file = std::fs::File::open(path).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.write(&buf[..n]);
    }
    // Empty files are all alike and say nothing of who copied whom.
    (size > 0).then(|| (size, h.finish()))
}

/// Whether two files hold the same bytes (read again: a hash only proposes it).
fn same_bytes(a: &Path, b: &Path) -> bool {
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Every pair of `grades` that is the same capture, in the files' order.
pub fn find(grades: &[Grade]) -> Vec<Copy> {
    let mut out = Vec::new();
    for (i, a) in grades.iter().enumerate() {
        for b in &grades[i + 1..] {
            if let Some(copy) = pair(a, b) {
                out.push(copy);
            }
        }
    }
    out
}

fn pair(a: &Grade, b: &Grade) -> Option<Copy> {
    let (fa, fb) = (&a.fingerprint, &b.fingerprint);
    let files = [a.file.clone(), b.file.clone()];
    if fa.content.is_some()
        && fa.content == fb.content
        && same_bytes(Path::new(&a.file), Path::new(&b.file))
    {
        return Some(Copy {
            kind: "copies",
            files,
            how: "identical",
            connections: fa.connections.len(),
        });
    }
    let shared = fa
        .connections
        .iter()
        .filter(|c| fb.connections.contains(c))
        .count();
    (shared > 0).then_some(Copy {
        kind: "copies",
        files,
        how: "same_connections",
        connections: shared,
    })
}

/// The copies in words, one line each.
pub fn lines(copies: &[Copy]) -> String {
    let mut out = String::new();
    for c in copies {
        let [a, b] = &c.files;
        let line = match c.how {
            "identical" => format!("{a} and {b} are the same file, byte for byte"),
            _ => format!(
                "{a} and {b} hold the same {} (same addresses, ports and initial sequence \
                 numbers, which two runs practically never share): the same traffic, captured or \
                 copied twice",
                crate::words::count(c.connections as u64, "TCP connection")
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}
