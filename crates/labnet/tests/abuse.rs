//! Abuse from a shared network: the servers listen on 0.0.0.0 where classmates send
//! them anything. Each test asserts what the OTHER, well-behaved clients still get.
//!
//! Covered here (misbehaving.rs and concurrency.rs cover single idle/half/reset/4 GiB
//! clients, one non-reader, 50 clients and the basic `--max-clients` wait):
//! 1. slowloris: 1,000 idle (or 1-byte-then-stall) connections vs. a normal client's
//!    round-trip time;
//! 2. 2,000 connect/close (some with RST) during a normal client's echoes, then no
//!    leaked descriptors or threads;
//! 3. every wrong header on v2 and v3, each on its own connection, exact log lines;
//! 4. several clients that never read, with the server's memory bounded;
//! 5. `--max-clients` under churn: never more served at once, everyone served in turn;
//! 6. bad invocations: one line on stderr, exit code 1 (runtime) or 2 (usage).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;
#[path = "common/wire.rs"]
mod wire;

use common::{handler_of, labnet, Server};
use labproto::{Message, Proto};
use socket2::{Domain, Socket, Type};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const MODELS: [&str; 2] = ["threads", "selector"];

/// Generous on loopback, even on a loaded 2-core CI machine: a stalled server
/// (the failure this guards against) takes seconds, not milliseconds.
const MEDIAN_RTT_BOUND: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------- helpers

/// Median round-trip of `count` sequential v3 echoes on one new connection; every
/// echo must be byte-identical to what was sent.
fn median_rtt(addr: SocketAddr, count: u32) -> Duration {
    let mut s = wire::connect(addr);
    s.set_nodelay(true).unwrap();
    let mut rtts = Vec::new();
    for order in 1..=count {
        let sent = wire::v3(order, format!("probe {order}").as_bytes());
        let started = Instant::now();
        s.write_all(&sent).unwrap();
        let echo = wire::read_exact(&mut s, sent.len());
        rtts.push(started.elapsed());
        assert_eq!(echo, sent, "echo {order} differs from what was sent");
    }
    rtts.sort();
    rtts[rtts.len() / 2]
}

/// The log line's text after its timestamp: `[handler] text`.
fn after_timestamp(line: &str) -> &str {
    line.split_once(' ').map_or(line, |(_, rest)| rest)
}

/// Wait for the exact line `[handler] text` (timestamp aside).
fn expect_exact(server: &Server, handler: &str, text: &str) {
    let want = format!("{handler} {text}");
    server.expect_line(&want, |l| after_timestamp(l) == want);
}

/// Wait for the close summary of `handler`; the selector adds ` (PEER)` to it.
fn expect_close(server: &Server, handler: &str, text: &str) {
    let want = format!("{handler} {text}");
    server.expect_line(&want, |l| {
        let l = after_timestamp(l);
        l == want
            || l.strip_prefix(want.as_str())
                .is_some_and(|peer| peer.starts_with(" (127.0.0.1:") && peer.ends_with(')'))
    });
}

fn count_lines(server: &Server, pred: impl Fn(&str) -> bool) -> usize {
    server.lines().iter().filter(|l| pred(l)).count()
}

/// Wait until at least `n` lines match `pred`.
fn wait_count(server: &Server, what: &str, n: usize, pred: impl Fn(&str) -> bool) {
    server.wait_all(what, |lines| lines.iter().filter(|l| pred(l)).count() >= n);
}

fn proc_status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// Wait (bounded) until `value()` is back to `want`; returns the last value seen.
fn settles_to(want: u64, value: impl Fn() -> u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = value();
        if now == want || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn is_accept(l: &str) -> bool {
    l.contains(" accepted 127.0.0.1:")
}

fn is_close(l: &str) -> bool {
    l.contains("] closed by ")
}

fn raise_nofile() {
    let soft = labnet::rlimit::raise_open_files_limit().unwrap();
    assert!(
        soft >= 4096,
        "the tests need 4096 descriptors, the hard limit is {soft}"
    );
}

// ---------------------------------------------------------------- 1. slowloris

const IDLE_CONNS: usize = 1000;

/// `first_bytes`: what each idle connection sends before stalling (empty: nothing).
fn slowloris(model: &str, first_bytes: &[u8]) {
    raise_nofile();
    let server = Server::start(&["tcp-server", "--model", model, "--proto", "v3", "--quiet"]);
    let addr = server.addr;
    let pid = server.pid();
    // Before any client: the server's own threads (main, accept or selector, Ctrl-C).
    let threads_before = proc_status_field(pid, "Threads:");
    let before = median_rtt(addr, 20);
    let rss_before = server.rss_kib();

    let idle: Vec<TcpStream> = (0..IDLE_CONNS)
        .map(|_| {
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
            if !first_bytes.is_empty() {
                s.write_all(first_bytes).unwrap();
            }
            s
        })
        .collect();
    wait_count(
        &server,
        "every idle connection accepted",
        1 + IDLE_CONNS,
        is_accept,
    );
    if model == "threads" {
        let want = threads_before + IDLE_CONNS as u64;
        let threads = settles_to(want, || proc_status_field(pid, "Threads:"));
        assert_eq!(threads, want, "one thread per idle client");
    }

    let during = median_rtt(addr, 20);
    let rss_idle = server.rss_kib();
    eprintln!(
        "{model} slowloris ({} bytes each): median rtt {before:?} before, {during:?} with {IDLE_CONNS} idle; rss {rss_before} KiB before, {rss_idle} KiB with them",
        first_bytes.len()
    );
    // Threads: a few stack pages per thread; selector: a few hundred bytes per token.
    assert!(
        rss_idle < rss_before + IDLE_CONNS as u64 * 64,
        "{model}: {rss_idle} KiB with {IDLE_CONNS} idle connections, {rss_before} KiB before"
    );
    assert!(
        before < MEDIAN_RTT_BOUND,
        "{model}: median {before:?} before the flood"
    );
    assert!(
        during < MEDIAN_RTT_BOUND,
        "{model}: median {during:?} with {IDLE_CONNS} idle connections"
    );
    // No idle connection was closed: the two probe clients are the only closes.
    wait_count(&server, "the probes' closes", 2, is_close);
    assert_eq!(
        count_lines(&server, is_close),
        2,
        "{model}: idle clients kept"
    );

    drop(idle);
    wait_count(&server, "every idle close", 2 + IDLE_CONNS, is_close);
    let summary = format!(
        "closed by client: {} bytes in (0 messages), 0 bytes out",
        first_bytes.len()
    );
    assert_eq!(
        count_lines(&server, |l| l.contains(&summary)),
        IDLE_CONNS,
        "{model}: {summary}"
    );
    let stalled = format!(
        "] error: stream ended inside a v3 message that starts at stream offset 0: \
         the header needs 9 bytes, only {} arrived",
        first_bytes.len()
    );
    let want_stalled = if first_bytes.is_empty() {
        0
    } else {
        IDLE_CONNS
    };
    assert_eq!(
        count_lines(&server, |l| l.ends_with(&stalled)),
        want_stalled,
        "{model}: one error line per stalled half header"
    );
    if model == "threads" {
        let threads = settles_to(threads_before, || proc_status_field(pid, "Threads:"));
        assert_eq!(threads, threads_before, "every client thread ended");
    }
    assert!(median_rtt(addr, 5) < MEDIAN_RTT_BOUND);
    assert_eq!(
        server.interrupt(),
        Some(0),
        "{model}: clean exit after the flood"
    );
}

#[test]
fn slowloris_idle_connections_on_threads() {
    slowloris("threads", b"");
}

#[test]
fn slowloris_idle_connections_on_selector() {
    slowloris("selector", b"");
}

#[test]
fn slowloris_one_header_byte_then_stall_on_threads() {
    slowloris("threads", &[1]);
}

#[test]
fn slowloris_one_header_byte_then_stall_on_selector() {
    slowloris("selector", &[1]);
}

// ---------------------------------------------------------------- 2. connect/close flood

const FLOOD_CONNS: usize = 2000;
const FLOOD_THREADS: usize = 4;
const FLOOD_MEDIAN_BOUND: Duration = Duration::from_millis(250);

fn connect_close_flood(model: &str) {
    raise_nofile();
    let server = Server::start(&["tcp-server", "--model", model, "--proto", "v3", "--quiet"]);
    let addr = server.addr;
    let pid = server.pid();
    // Before any client: the listener, the event loop, stdio; the server's own threads.
    let fds_before = open_fds(pid) as u64;
    let threads_before = proc_status_field(pid, "Threads:");
    assert!(median_rtt(addr, 3) < MEDIAN_RTT_BOUND);

    // Every 4th connection is reset (SO_LINGER 0: close sends RST, not FIN).
    let flooders: Vec<_> = (0..FLOOD_THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..FLOOD_CONNS / FLOOD_THREADS {
                    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
                    s.connect_timeout(&addr.into(), Duration::from_secs(5))
                        .unwrap();
                    if (t + i) % 4 == 0 {
                        s.set_linger(Some(Duration::ZERO)).unwrap();
                    }
                }
            })
        })
        .collect();
    // A normal client echoes until the flood is over (at least 200, at most 100,000).
    let mut normal = wire::connect(addr);
    let mut echoed = 0u32;
    // Round trips of the echoes sent while the flood was running.
    let mut during_flood = Vec::new();
    while echoed < 200 || (flooders.iter().any(|f| !f.is_finished()) && echoed < 100_000) {
        let flooding = flooders.iter().any(|f| !f.is_finished());
        echoed += 1;
        let sent = wire::v3(echoed, format!("during the flood {echoed}").as_bytes());
        let started = Instant::now();
        normal.write_all(&sent).unwrap();
        assert_eq!(wire::read_exact(&mut normal, sent.len()), sent);
        if flooding {
            during_flood.push(started.elapsed());
        }
    }
    for f in flooders {
        f.join()
            .expect("every flood connection was accepted by the kernel");
    }
    drop(normal);
    during_flood.sort();
    assert!(
        !during_flood.is_empty(),
        "{model}: the normal client overlapped the flood"
    );
    let median = during_flood[during_flood.len() / 2];
    eprintln!(
        "{model} flood: {} of the normal client's {echoed} echoes during the flood: median {median:?}, slowest {:?}",
        during_flood.len(),
        during_flood[during_flood.len() - 1]
    );
    // The flood's 4 threads compete with the server for 2 cores: the median was
    // 18 µs to 40 ms here under 2 extra CPU hogs; a stalled loop takes seconds.
    assert!(
        median < FLOOD_MEDIAN_BOUND,
        "{model}: median {median:?} during the flood"
    );

    // Every connection the server accepted, it also closed: nothing leaks.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = server.lines();
        let accepted = lines.iter().filter(|l| is_accept(l)).count();
        let closed = lines.iter().filter(|l| is_close(l)).count();
        if accepted == closed && accepted >= 2 + FLOOD_CONNS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{model}: {accepted} accepted, {closed} closed after the flood"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        count_lines(&server, |l| l.contains("accept failed")),
        0,
        "{model}: no accept error"
    );
    let fds = settles_to(fds_before, || open_fds(pid) as u64);
    assert_eq!(fds, fds_before, "{model}: descriptors back to the baseline");
    let threads = settles_to(threads_before, || proc_status_field(pid, "Threads:"));
    assert_eq!(
        threads, threads_before,
        "{model}: threads back to the baseline"
    );
    // Still alive and accepting.
    assert!(median_rtt(addr, 5) < MEDIAN_RTT_BOUND);
    assert_eq!(server.interrupt(), Some(0));
}

#[test]
fn connect_close_flood_on_threads() {
    connect_close_flood("threads");
}

#[test]
fn connect_close_flood_on_selector() {
    connect_close_flood("selector");
}

// ---------------------------------------------------------------- 3. wrong headers

fn v2_bytes(version: u8, order: u32, size: u32, payload: &[u8]) -> Vec<u8> {
    let mut wire = vec![version];
    wire.extend(order.to_be_bytes());
    wire.extend(size.to_be_bytes());
    let mut padded = payload.to_vec();
    padded.resize(20, 0);
    wire.extend(padded);
    wire
}

fn v3_header(version: u8, order: u32, size: u32) -> Vec<u8> {
    let mut wire = vec![version];
    wire.extend(order.to_be_bytes());
    wire.extend(size.to_be_bytes());
    wire
}

/// Send `wire` on a new connection; read back `echo_len` bytes (compared with the
/// start of `wire`); then end our side and wait for the server to close.
fn one_connection(server: &Server, model: &str, wire: &[u8], echo_len: usize) -> String {
    let mut s = wire::connect(server.addr);
    let h = handler_of(server, model, wire::port_of(&s));
    s.write_all(wire).unwrap();
    let echo = wire::read_exact(&mut s, echo_len);
    assert_eq!(echo, wire[..echo_len], "{model}: echo of {h}");
    let _ = s.shutdown(Shutdown::Write);
    let mut rest = Vec::new();
    match s.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "{model}: nothing more after the echo"),
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{model}: {e}"),
    }
    h
}

fn version_warning(order: u32, version: u8) -> String {
    format!(
        "warning: message order={order} has version byte {version}, but the lab uses version 1; \
         decoded and echoed anyway (later version warnings on this connection are not shown)"
    )
}

fn wrong_v3_headers(model: &str) {
    let server = Server::start(&[
        "tcp-server",
        "--model",
        model,
        "--proto",
        "v3",
        "--max-size",
        "100",
    ]);
    // Bad version bytes: decoded, echoed, one warning per connection.
    for version in [0u8, 255] {
        let mut wire = Message::new(Proto::V3, version, 1, b"hi").unwrap().encode();
        wire.extend(
            Message::new(Proto::V3, version, 2, b"again")
                .unwrap()
                .encode(),
        );
        let h = one_connection(&server, model, &wire, wire.len());
        expect_exact(
            &server,
            &h,
            &format!("received v3 version={version} order=1 size=2 payload=\"hi\""),
        );
        expect_exact(&server, &h, &version_warning(1, version));
        expect_exact(
            &server,
            &h,
            &format!("received v3 version={version} order=2 size=5 payload=\"again\""),
        );
        expect_close(
            &server,
            &h,
            "closed by client: 25 bytes in (2 messages), 25 bytes out",
        );
        assert_eq!(
            count_lines(&server, |l| l.contains(&h) && l.contains("warning:")),
            1,
            "{model}: one version warning per connection"
        );
    }
    // Size 0: a valid empty message.
    let h = one_connection(&server, model, &v3_header(1, 7, 0), 9);
    expect_exact(
        &server,
        &h,
        "received v3 version=1 order=7 size=0 payload=\"\"",
    );
    expect_close(
        &server,
        &h,
        "closed by client: 9 bytes in (1 message), 9 bytes out",
    );
    // Size exactly at the cap: served.
    let mut at_cap = v3_header(1, 1, 100);
    at_cap.extend([b'c'; 100]);
    let h = one_connection(&server, model, &at_cap, at_cap.len());
    expect_close(
        &server,
        &h,
        "closed by client: 109 bytes in (1 message), 109 bytes out",
    );
    // One over the cap: closed, with the number.
    let mut over = wire::v3(1, b"ok");
    over.extend(v3_header(1, 2, 101));
    let h = one_connection(&server, model, &over, 11);
    expect_exact(
        &server,
        &h,
        "error: v3 size field at stream offset 11 says 101 bytes, more than the limit of 100 \
         bytes; the stream cannot be framed past this point; closing this connection",
    );
    expect_close(
        &server,
        &h,
        "closed by server (bad message): 20 bytes in (1 message), 11 bytes out",
    );
    // A size larger than what follows, then EOF.
    let mut short = v3_header(1, 3, 50);
    short.extend(b"only ten b");
    let h = one_connection(&server, model, &short, 0);
    expect_exact(
        &server,
        &h,
        "error: stream ended inside a v3 message that starts at stream offset 0: \
         the message needs 59 bytes, only 19 arrived",
    );
    expect_close(
        &server,
        &h,
        "closed by client: 19 bytes in (0 messages), 0 bytes out",
    );
    // After all that, a normal client is served.
    wire::v3_round_trip(server.addr, 1, 10);
    assert_eq!(server.interrupt(), Some(0));
}

fn wrong_v2_headers(model: &str) {
    let server = Server::start(&["tcp-server", "--model", model, "--proto", "v2"]);
    for version in [0u8, 255] {
        let wire = v2_bytes(version, 1, 2, b"hi");
        let h = one_connection(&server, model, &wire, 29);
        expect_exact(
            &server,
            &h,
            &format!("received v2 version={version} order=1 size=2 payload=\"hi\""),
        );
        expect_exact(&server, &h, &version_warning(1, version));
        expect_close(
            &server,
            &h,
            "closed by client: 29 bytes in (1 message), 29 bytes out",
        );
    }
    // Size 0: the payload bytes are not part of the message, but the echo is exact.
    let wire = v2_bytes(1, 2, 0, b"ignored");
    let h = one_connection(&server, model, &wire, 29);
    expect_exact(
        &server,
        &h,
        "received v2 version=1 order=2 size=0 payload=\"\"",
    );
    // v2 has no cap (the frame is always 29 bytes): a 4 GiB size is just "truncated".
    let wire = v2_bytes(1, 3, u32::MAX, b"twenty bytes exactly");
    let h = one_connection(&server, model, &wire, 29);
    expect_exact(
        &server,
        &h,
        "received v2 version=1 order=3 size=4294967295 payload=\"twenty bytes exactly\" \
         (truncated: 20 of 4294967295 bytes carried)",
    );
    // Two messages and 5 bytes, then EOF: the two are echoed, the rest is reported.
    let mut wire = v2_bytes(1, 1, 1, b"a");
    wire.extend(v2_bytes(1, 2, 1, b"b"));
    wire.extend([1, 0, 0, 0, 3]);
    let h = one_connection(&server, model, &wire, 58);
    expect_exact(
        &server,
        &h,
        "error: stream ended inside a v2 message that starts at stream offset 58: \
         the message needs 29 bytes, only 5 arrived",
    );
    expect_close(
        &server,
        &h,
        "closed by client: 63 bytes in (2 messages), 58 bytes out",
    );
    let mut s = wire::connect(server.addr);
    let good = v2_bytes(1, 9, 4, b"good");
    s.write_all(&good).unwrap();
    assert_eq!(wire::read_exact(&mut s, 29), good);
    drop(s);
    assert_eq!(server.interrupt(), Some(0));
}

#[test]
fn wrong_v3_headers_on_both_models() {
    for model in MODELS {
        wrong_v3_headers(model);
    }
}

#[test]
fn wrong_v2_headers_on_both_models() {
    for model in MODELS {
        wrong_v2_headers(model);
    }
}

// ---------------------------------------------------------------- 4. non-readers

const NON_READERS: usize = 3;

/// A client with a tiny receive buffer that sends up to 64 MiB and never reads;
/// stalled writes give up after 1 s (the test's time bound).
fn non_reader(addr: SocketAddr) -> std::thread::JoinHandle<u64> {
    let mut stream = wire::non_reader(addr, Duration::from_secs(1));
    std::thread::spawn(move || wire::write_until_stalled(&mut stream, b'n', 4000, 64 << 20))
}

fn non_readers(model: &str) {
    let mut args = vec!["tcp-server", "--model", model, "--proto", "v3", "--quiet"];
    if model == "selector" {
        args.extend(["--max-pending", "1048576"]);
    }
    let server = Server::start(&args);
    let addr = server.addr;
    let rss_before = server.rss_kib();
    let writers: Vec<_> = (0..NON_READERS).map(|_| non_reader(addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let during = median_rtt(addr, 20);
    eprintln!("{model}: median rtt {during:?} with {NON_READERS} non-readers");
    assert!(during < MEDIAN_RTT_BOUND, "{model}: {during:?}");
    for w in writers {
        let sent = w.join().unwrap();
        assert!(
            sent < 64 << 20,
            "{model}: a non-reader sent {sent} bytes unhindered"
        );
    }
    let rss_after = server.rss_kib();
    eprintln!(
        "{model}: rss {rss_before} KiB before, {rss_after} KiB with {NON_READERS} non-readers"
    );
    // Selector: at most --max-pending (1 MiB) + one read's echo per non-reader;
    // threads: one 64 KiB read buffer and one echo per stuck thread.
    assert!(
        rss_after < rss_before + 16 * 1024,
        "{model}: server memory grew from {rss_before} KiB to {rss_after} KiB"
    );
    if model == "selector" {
        wait_count(&server, "every non-reader closed", NON_READERS, |l| {
            l.contains("closed by server (client not reading)")
        });
    } else {
        // The stuck threads still hold their clients; nobody else is affected.
        assert_eq!(
            count_lines(&server, |l| l.contains("closed by client: ")
                && l.contains("messages), 0 bytes out")),
            0
        );
    }
    wire::v3_round_trip(addr, 1, 20);
    assert_eq!(
        server.interrupt(),
        Some(0),
        "{model}: Ctrl-C with stuck peers"
    );
}

#[test]
fn several_non_readers_cost_bounded_memory_on_threads() {
    non_readers("threads");
}

#[test]
fn several_non_readers_cost_bounded_memory_on_selector() {
    non_readers("selector");
}

// ---------------------------------------------------------------- 5. --max-clients churn

const CAP: usize = 3;
const CHURN_CLIENTS: usize = 12;

#[test]
fn max_clients_serves_everyone_in_turn_never_more_at_once() {
    let cap = CAP.to_string();
    let server = Server::start(&[
        "tcp-server",
        "--model",
        "threads",
        "--proto",
        "v3",
        "--max-clients",
        &cap,
    ]);
    let addr = server.addr;
    let clients: Vec<_> = (0..CHURN_CLIENTS)
        .map(|id| {
            std::thread::spawn(move || {
                let mut s = wire::connect(addr);
                let sent = wire::v3(1, format!("client {id}").as_bytes());
                s.write_all(&sent).unwrap();
                let echo = wire::read_exact(&mut s, sent.len());
                // Hold the slot a little so newcomers really queue.
                std::thread::sleep(Duration::from_millis(100));
                echo == sent
            })
        })
        .collect();
    let served = clients
        .into_iter()
        .map(|c| c.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(served, CHURN_CLIENTS, "every queued client got its echo");
    wait_count(&server, "every close", CHURN_CLIENTS, is_close);
    // Replay the log: "serving" opens a slot, "closed by" frees it.
    let mut now = 0usize;
    let mut most = 0usize;
    for line in server.lines() {
        if line.contains("] serving 127.0.0.1:") {
            now += 1;
            most = most.max(now);
        } else if is_close(&line) {
            now -= 1;
        }
    }
    assert_eq!(
        most, CAP,
        "at most --max-clients served at once, and the cap was reached"
    );
    assert!(
        count_lines(&server, |l| {
            l.ends_with(&format!(
            "[thread accept] {CAP} clients connected (--max-clients {CAP}): newcomers wait in the accept backlog"
        ))
        }) >= 1
    );
    assert_eq!(server.interrupt(), Some(0), "the capped server never died");
}

// ---------------------------------------------------------------- 6. bad invocations

fn stderr_line(args: &[&str]) -> (Option<i32>, String) {
    let out = labnet(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "one line for {args:?}: {err:?}");
    (out.status.code(), err.trim_end().to_string())
}

#[test]
fn bad_invocations_are_one_line_with_a_documented_exit_code() {
    // Runtime errors: 1.
    let server = Server::start(&["tcp-server", "--model", "selector", "--proto", "v3"]);
    let port = server.port();
    let busy = [
        "tcp-server",
        "--model",
        "selector",
        "--proto",
        "v3",
        "--bind",
        "127.0.0.1",
        "--port",
        &port,
    ];
    let (code, line) = stderr_line(&busy);
    assert_eq!(code, Some(3), "{line}");
    assert!(
        line.starts_with(&format!(
            "labnet: cannot bind 127.0.0.1:{port}: address already in use: "
        )),
        "{line}"
    );
    // 192.0.2.1 (TEST-NET-1) is on no interface of this machine; with
    // net.ipv4.ip_nonlocal_bind=1 the bind would succeed and the server would run.
    let nonlocal = std::fs::read_to_string("/proc/sys/net/ipv4/ip_nonlocal_bind")
        .is_ok_and(|v| v.trim() == "1");
    if nonlocal {
        skip_note!("skipped the non-local bind case: net.ipv4.ip_nonlocal_bind is 1");
    } else {
        assert_eq!(
            stderr_line(&[
                "tcp-server",
                "--model",
                "threads",
                "--proto",
                "v3",
                "--bind",
                "192.0.2.1",
                "--port",
                "0"
            ]),
            (
                Some(5),
                "labnet: cannot bind 192.0.2.1:0: address not available on this machine"
                    .to_string()
            )
        );
    }
    // A UDP port already taken.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_port = udp.local_addr().unwrap().port().to_string();
    // This test process holds it: named by its pid.
    let (code, line) = stderr_line(&["udp-server", "--bind", "127.0.0.1", "--port", &udp_port]);
    assert_eq!(code, Some(3), "{line}");
    assert!(
        line.starts_with(&format!(
            "labnet: cannot bind 127.0.0.1:{udp_port}: address already in use: process {} (",
            std::process::id()
        )),
        "{line}"
    );
    // A port nobody listens on: bound and released just now.
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    assert_eq!(
        stderr_line(&[
            "tcp-client",
            "--proto",
            "v3",
            "--port",
            &free_port,
            "-m",
            "x"
        ]),
        (
            Some(6),
            format!(
                "labnet: cannot connect to 127.0.0.1:{free_port}: connection refused \
                 (is the server running on that port?)"
            )
        )
    );
    // Usage errors: 2.
    for (args, want) in [
        (
            &["tcp-client", "--proto", "v3", "--ip", "localhost"][..],
            "labnet: invalid value 'localhost' for '--ip <IP>': invalid IP address syntax (see 'labnet tcp-client --help')",
        ),
        (
            &["tcp-server", "--model", "threads", "--proto", "v3", "--bind", "300.1.1.1"][..],
            "labnet: invalid value '300.1.1.1' for '--bind <BIND>': invalid IP address syntax (see 'labnet tcp-server --help')",
        ),
        (
            &["tcp-server", "--model", "threads", "--proto", "v3", "--frobnicate"][..],
            "labnet: unexpected argument '--frobnicate' found (see 'labnet tcp-server --help')",
        ),
        (
            &["tcp-server", "--model", "threads", "--proto", "v4"][..],
            "labnet: invalid value 'v4' for '--proto <PROTO>': unknown protocol 'v4': expected text, v2 or v3 (see 'labnet tcp-server --help')",
        ),
        (
            &["udp-server", "--port", "70000"][..],
            "labnet: invalid value '70000' for '--port <PORT>': 70000 is not in 0..=65535 (see 'labnet udp-server --help')",
        ),
        (
            &["tcp-server", "--model", "threads", "--proto", "v3", "--max-clients", "0"][..],
            "labnet: invalid value '0' for '--max-clients <MAX_CLIENTS>': 0 is not in 1..18446744073709551615 (see 'labnet tcp-server --help')",
        ),
    ] {
        assert_eq!(stderr_line(args), (Some(2), want.to_string()), "{args:?}");
    }
    // The server the busy-port run collided with is unharmed.
    wire::v3_round_trip(server.addr, 1, 3);
}
