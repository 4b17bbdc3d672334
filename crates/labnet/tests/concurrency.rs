//! 50 concurrent clients on each server model, every echo byte-identical; the
//! `--max-clients` cap of the threads model.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;
#[path = "common/wire.rs"]
mod wire;

use common::Server;
use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

const CLIENTS: usize = 50;

fn fifty_clients(model: &str) {
    let server = Server::start(&["tcp-server", "--model", model, "--proto", "v3", "--quiet"]);
    let addr = server.addr;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|id| std::thread::spawn(move || wire::v3_round_trip(addr, id, 40)))
        .collect();
    for t in threads {
        t.join().expect("client thread passed");
    }
    // Each client had its own handler: 50 distinct thread names or tokens.
    server.wait_all("50 closes", |lines| server_closes(lines) >= CLIENTS);
    let lines = server.lines();
    let handlers: HashSet<String> = lines
        .iter()
        .filter(|l| l.contains("closed by client"))
        .filter_map(|l| l.split(['[', ']']).nth(1).map(str::to_string))
        .collect();
    assert_eq!(handlers.len(), CLIENTS, "{model}: {handlers:?}");
    assert!(
        lines.iter().all(|l| !l.contains(" received ")),
        "--quiet shows no messages"
    );
}

fn server_closes(lines: &[String]) -> usize {
    lines
        .iter()
        .filter(|l| l.contains("closed by client"))
        .count()
}

#[test]
fn fifty_clients_on_selector() {
    fifty_clients("selector");
}

#[test]
fn fifty_clients_on_threads() {
    fifty_clients("threads");
}

#[test]
fn max_clients_makes_newcomers_wait_in_the_backlog() {
    let server = Server::start(&[
        "tcp-server",
        "--model",
        "threads",
        "--proto",
        "v3",
        "--max-clients",
        "2",
    ]);
    let mut a = wire::connect(server.addr);
    let mut b = wire::connect(server.addr);
    a.write_all(&wire::v3(1, b"a")).unwrap();
    b.write_all(&wire::v3(1, b"b")).unwrap();
    assert_eq!(wire::read_exact(&mut a, 10), wire::v3(1, b"a"));
    assert_eq!(wire::read_exact(&mut b, 10), wire::v3(1, b"b"));
    server.expect_line("about the cap", |l| {
        l.ends_with("[thread accept] 2 clients connected (--max-clients 2): newcomers wait in the accept backlog")
    });
    // The third connects (the kernel completes the handshake) but is not served yet.
    let mut c = wire::connect(server.addr);
    c.write_all(&wire::v3(1, b"c")).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 16];
    let early = std::io::Read::read(&mut c, &mut buf);
    assert!(
        early.is_err(),
        "third client served while two were connected: {early:?}"
    );
    // When one leaves, the newcomer is served.
    drop(a);
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(wire::read_exact(&mut c, 10), wire::v3(1, b"c"));
    assert_eq!(server.interrupt(), Some(0));
}
