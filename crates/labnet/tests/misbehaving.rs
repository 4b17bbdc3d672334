//! Clients that misbehave (idle, half a message, reset, a 4 GiB size field, never
//! reading) get the right treatment, with a log line, and never hurt the others.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;
#[path = "common/wire.rs"]
mod wire;

use common::{handler_of, labnet, stdout, Server};
use socket2::{Domain, Socket, Type};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

fn assert_no_reply_within(s: &mut TcpStream, wait: Duration) {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("expected silence, got {other:?}"),
    }
}

fn misbehaving_clients(model: &str) {
    let server = Server::start(&["tcp-server", "--model", model, "--proto", "v3"]);
    let addr = server.addr;
    let rss_before = server.rss_kib();

    let mut idle = wire::connect(addr);
    let idle_h = handler_of(&server, model, wire::port_of(&idle));

    let mut half = wire::connect(addr);
    half.write_all(&wire::v3(1, b"hello")[..5]).unwrap();
    let half_h = handler_of(&server, model, wire::port_of(&half));

    wire::v3_round_trip(addr, 1, 10);

    // Reset mid-message: SO_LINGER 0 makes close() send RST instead of FIN.
    let reset = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    reset
        .connect_timeout(&addr.into(), Duration::from_secs(5))
        .unwrap();
    let reset_port = reset.local_addr().unwrap().as_socket().unwrap().port();
    let reset_h = handler_of(&server, model, reset_port);
    (&reset)
        .write_all(&wire::v3(1, b"interrupted message")[..12])
        .unwrap();
    server.expect_line("for the half message before the reset", |l| {
        l.contains(&reset_h)
    });
    std::thread::sleep(Duration::from_millis(100));
    reset.set_linger(Some(Duration::ZERO)).unwrap();
    drop(reset);

    // A size field of 0xFFFFFFFF after one good message.
    let mut huge = wire::connect(addr);
    let huge_h = handler_of(&server, model, wire::port_of(&huge));
    let good = wire::v3(1, b"x");
    huge.write_all(&good).unwrap();
    huge.write_all(&[1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff])
        .unwrap();
    assert_eq!(
        wire::read_exact(&mut huge, good.len()),
        good,
        "good message before the bad one is echoed"
    );
    let mut rest = Vec::new();
    let end = huge.read_to_end(&mut rest);
    let closed = match &end {
        Ok(0) => true,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
        Ok(_) => false,
    };
    assert!(
        closed && rest.is_empty(),
        "server closed after the bad size: {end:?} {rest:?}"
    );

    server.expect_line("for the over-limit size", |l| {
        l.contains(&format!(
            "{huge_h} error: v3 size field at stream offset 10 says 4294967295 bytes, more than the limit of 1048576 bytes; the stream cannot be framed past this point; closing this connection"
        ))
    });
    server.expect_line("closing the over-limit client", |l| {
        l.contains(&format!(
            "{huge_h} closed by server (bad message): 19 bytes in (1 message), 10 bytes out"
        ))
    });
    server.expect_line("for the reset", |l| {
        l.contains(&format!("{reset_h} read failed: connection reset by peer"))
    });
    server.expect_line("closing the reset client", |l| {
        l.contains(&format!(
            "{reset_h} closed by client (connection reset): 12 bytes in (0 messages), 0 bytes out"
        ))
    });

    // The others are still served, and the idle and stalled clients are still open.
    wire::v3_round_trip(addr, 2, 10);
    assert_no_reply_within(&mut idle, Duration::from_millis(200));
    assert_no_reply_within(&mut half, Duration::from_millis(10));
    let lines = server.lines();
    assert!(
        !lines
            .iter()
            .any(|l| l.contains(&idle_h) && l.contains("closed")),
        "idle client kept"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains(&half_h) && l.contains("closed")),
        "stalled client kept"
    );

    // The stalled client gives up mid-header: the server says what was missing.
    half.shutdown(Shutdown::Write).unwrap();
    server.expect_line("for the half header at EOF", |l| {
        l.contains(&format!(
            "{half_h} error: stream ended inside a v3 message that starts at stream offset 0: the header needs 9 bytes, only 5 arrived"
        ))
    });
    server.expect_line("closing the stalled client", |l| {
        l.contains(&format!(
            "{half_h} closed by client: 5 bytes in (0 messages), 0 bytes out"
        ))
    });
    drop(idle);
    server.expect_line("closing the idle client", |l| {
        l.contains(&format!(
            "{idle_h} closed by client: 0 bytes in (0 messages), 0 bytes out"
        ))
    });

    // Nothing was reserved for the announced 4 GiB.
    let rss_after = server.rss_kib();
    assert!(
        rss_after < rss_before + 4096,
        "{model}: server memory grew from {rss_before} KiB to {rss_after} KiB"
    );
}

#[test]
fn misbehaving_clients_on_threads() {
    misbehaving_clients("threads");
}

#[test]
fn misbehaving_clients_on_selector() {
    misbehaving_clients("selector");
}

fn no_echo(model: &str) {
    let server = Server::start(&["tcp-server", "--model", model, "--proto", "v3", "--no-echo"]);
    let mut s = wire::connect(server.addr);
    s.write_all(&wire::v3(1, b"silent")).unwrap();
    server.expect_line("for the message", |l| {
        l.ends_with("received v3 version=1 order=1 size=6 payload=\"silent\"")
    });
    assert_no_reply_within(&mut s, Duration::from_millis(300));
    let out = labnet(&[
        "tcp-client",
        "--proto",
        "v3",
        "--no-echo",
        "--port",
        &server.port(),
        "-m",
        "a",
        "-m",
        "b",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("sent v3")).count(),
        2,
        "{text}"
    );
    assert!(!text.contains("echo"), "{text}");
    server.expect_line("for the client's second message", |l| {
        l.ends_with("received v3 version=1 order=2 size=1 payload=\"b\"")
    });
}

#[test]
fn no_echo_servers_send_nothing_back() {
    no_echo("threads");
    no_echo("selector");
}

/// A client with a tiny receive buffer that sends (at most 256 MiB, or until the
/// server closes it or stops reading for 2 s) and never reads.
fn start_non_reader(addr: SocketAddr) -> (u16, std::thread::JoinHandle<u64>) {
    let mut stream = wire::non_reader(addr, Duration::from_secs(2));
    let port = wire::port_of(&stream);
    let writer =
        std::thread::spawn(move || wire::write_until_stalled(&mut stream, b'z', 1000, 256 << 20));
    (port, writer)
}

#[test]
fn selector_closes_a_client_that_never_reads_its_echoes() {
    let server = Server::start(&[
        "tcp-server",
        "--model",
        "selector",
        "--proto",
        "v3",
        "--quiet",
        "--max-pending",
        "65536",
    ]);
    let (port, writer) = start_non_reader(server.addr);
    let h = handler_of(&server, "selector", port);
    // Another client is served while the non-reader floods.
    wire::v3_round_trip(server.addr, 1, 20);
    server.expect_line("about the unread echoes", |l| {
        l.contains(&format!("{h} client is not reading its echoes: "))
            && l.ends_with(
                "bytes pending, over the --max-pending cap of 65536 bytes; closing this connection",
            )
    });
    server.expect_line("closing the non-reader", |l| {
        l.contains(&format!("{h} closed by server (client not reading)"))
    });
    let sent = writer.join().unwrap();
    assert!(
        sent < 256 << 20,
        "the non-reader was cut off before its 256 MiB"
    );
    wire::v3_round_trip(server.addr, 2, 20);
}

#[test]
fn threads_model_keeps_serving_others_while_one_client_never_reads() {
    let server = Server::start(&[
        "tcp-server",
        "--model",
        "threads",
        "--proto",
        "v3",
        "--quiet",
    ]);
    let (_port, writer) = start_non_reader(server.addr);
    std::thread::sleep(Duration::from_millis(300));
    for id in 0..5 {
        wire::v3_round_trip(server.addr, id, 20);
    }
    // The non-reader is stalled by TCP flow control, not by the server's memory.
    assert!(writer.join().unwrap() < 256 << 20);
    assert_eq!(
        server.interrupt(),
        Some(0),
        "Ctrl-C still stops a server with a blocked writer"
    );
}
