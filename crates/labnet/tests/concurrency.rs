//! 50 concurrent clients on each server model, every echo byte-identical; the
//! `--max-clients` cap of the threads model.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;
#[path = "common/wire.rs"]
mod wire;

use common::Server;
use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

const CLIENTS: usize = 50;

/// A quiet v3 server of `model` with `extra` arguments.
fn v3_server(model: &str, extra: &[&str]) -> Server {
    let mut args = vec!["tcp-server", "--model", model, "--proto", "v3", "--quiet"];
    args.extend_from_slice(extra);
    Server::start(&args)
}

fn fifty_clients(model: &str) {
    let server = v3_server(model, &[]);
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

/// One client floods the selector server (and reads its echoes); another still gets
/// its answers promptly, because each connection's turn has a read budget.
#[test]
fn selector_serves_others_while_one_client_floods() {
    let server = Server::start(&[
        "tcp-server",
        "--model",
        "selector",
        "--proto",
        "v3",
        "--quiet",
    ]);
    let mut flood = wire::connect(server.addr);
    let mut drain = flood.try_clone().unwrap();
    let chunk: Vec<u8> = (1..=64u32)
        .flat_map(|o| wire::v3(o, &[b'f'; 1000]))
        .collect();
    // Whole messages only: a cut last message would never be echoed.
    let total = chunk.len() * 512;
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0;
        while got < total {
            match std::io::Read::read(&mut drain, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        got
    });
    let writer = std::thread::spawn(move || {
        let mut sent = 0;
        while sent < total {
            flood.write_all(&chunk).unwrap();
            sent += chunk.len();
        }
    });
    std::thread::sleep(Duration::from_millis(50));
    for id in 0..10 {
        let started = std::time::Instant::now();
        wire::v3_round_trip(server.addr, id, 5);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "round trip {id} took {:?} during the flood",
            started.elapsed()
        );
    }
    writer.join().unwrap();
    assert_eq!(
        reader.join().unwrap(),
        total,
        "the flooding client got all its echoes"
    );
}

/// Threads in the server process, from /proc.
fn thread_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count()
}

/// The threads model keeps a thread whose client has left and hands it the next
/// client: 30 clients one after another are served by a few threads (the kernel
/// thread ids in --trace-events), not by 30 new ones; and an idle server's threads
/// go back to what it had before the first client (idle threads end after 1 s).
#[test]
fn threads_model_reuses_threads_for_clients_one_after_another() {
    let trace = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("reuse-{}.jsonl", std::process::id()));
    let trace_arg = trace.display().to_string();
    let server = v3_server("threads", &["--trace-events", &trace_arg]);
    let (addr, pid) = (server.addr, server.pid());
    let before = thread_count(pid);
    const SEQUENTIAL: usize = 30;
    for id in 0..SEQUENTIAL {
        wire::v3_round_trip(addr, id, 3);
    }
    server.wait_all("30 closes", |lines| server_closes(lines) >= SEQUENTIAL);
    let text = std::fs::read_to_string(&trace).unwrap();
    let readers: HashSet<u64> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["call"] == "recv")
        .filter_map(|v| v["tid"].as_u64())
        .collect();
    eprintln!(
        "{SEQUENTIAL} clients one after another were read by {} threads",
        readers.len()
    );
    assert!(
        (1..=6).contains(&readers.len()),
        "{SEQUENTIAL} sequential clients read by {} threads",
        readers.len()
    );
    // Bounded: 10 s for threads that end after 1 s idle.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while thread_count(pid) != before && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(thread_count(pid), before, "idle threads ended");
    // And the server still answers.
    wire::v3_round_trip(addr, 99, 1);
    let _ = std::fs::remove_file(&trace);
}

/// Voluntary context switches of all the process's threads so far.
fn voluntary_switches(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("status")).ok())
        .filter_map(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
        })
        .sum()
}

/// A client thread blocks in its read with no timeout: 50 idle clients do not wake
/// the threads server up (a 100 ms read timeout per thread would be 500+ wake-ups a
/// second; the acceptor's own 100 ms poll makes about 10).
#[test]
fn threads_model_idle_clients_cost_no_wakeups() {
    let server = v3_server("threads", &[]);
    let (addr, pid) = (server.addr, server.pid());
    let idle: Vec<_> = (0..50).map(|_| wire::connect(addr)).collect();
    server.wait_all("50 served", |lines| {
        lines.iter().filter(|l| l.contains("] serving ")).count() >= 50
    });
    // Let the spare threads of the burst time out (1 s idle) first.
    std::thread::sleep(Duration::from_millis(1500));
    let before = voluntary_switches(pid);
    std::thread::sleep(Duration::from_secs(1));
    let woke = voluntary_switches(pid) - before;
    eprintln!("50 idle clients: {woke} voluntary context switches in 1 s");
    assert!(woke < 100, "{woke} wake-ups in 1 s with 50 idle clients");
    drop(idle);
}

/// Ctrl-C stops a threads server at once whatever its threads are blocked in: a
/// read with nothing sent, a read with half a message, a write to a client that
/// does not read. Each is closed as "closed by server (shutting down)".
#[test]
fn threads_model_stops_threads_blocked_in_read_and_write() {
    let server = v3_server("threads", &[]);
    let addr = server.addr;
    let idle = wire::connect(addr);
    let mut half = wire::connect(addr);
    half.write_all(&wire::v3(1, b"half a message")[..12])
        .unwrap();
    // A client that never reads: small buffers on both sides fill up and the
    // server's thread blocks writing the echo. Bounded: until our own writes stall
    // for 500 ms (the server stopped reading: it is blocked writing to us), at most
    // 64 MiB.
    let mut non_reader = wire::non_reader(addr, Duration::from_millis(500));
    let sent = wire::write_until_stalled(&mut non_reader, b'z', 1000, 64 << 20);
    assert!(
        sent < 64 << 20,
        "the server kept reading a client that never reads"
    );
    server.wait_all("3 served", |lines| {
        lines.iter().filter(|l| l.contains("] serving ")).count() >= 3
    });
    let started = std::time::Instant::now();
    let (code, log) = server.interrupt_with_log();
    let took = started.elapsed();
    let shut = log
        .iter()
        .filter(|l| l.contains("closed by server (shutting down)"))
        .count();
    assert_eq!(shut, 3, "{log:#?}");
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(2), "stopping took {took:?}");
    drop((idle, half, non_reader));
}
