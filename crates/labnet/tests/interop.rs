//! Every server model x protocol answers our client and a Python `struct` client with
//! byte-identical echoes; our clients work against a Python threads server; UDP both ways.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;
#[path = "common/scripts.rs"]
mod scripts;

use common::{labnet, python, stdout, Server};
use std::io::BufRead;
use std::time::Duration;

const LONG: &str = "a message longer than twenty bytes";

/// The echo lines our client prints for `-m hello -m LONG`.
fn expected_echoes(proto: &str) -> [String; 2] {
    match proto {
        "text" => [
            "echo text payload=\"hello\"".into(),
            format!("echo text payload=\"{LONG}\""),
        ],
        "v2" => [
            "echo v2 version=1 order=1 size=5 payload=\"hello\"".into(),
            "echo v2 version=1 order=2 size=34 payload=\"a message longer tha\" (truncated: 20 of 34 bytes carried)".into(),
        ],
        _ => [
            "echo v3 version=1 order=1 size=5 payload=\"hello\"".into(),
            format!("echo v3 version=1 order=2 size=34 payload=\"{LONG}\""),
        ],
    }
}

fn local_port(client_out: &str) -> u16 {
    client_out
        .split("local port ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no local port in:\n{client_out}"))
}

fn check_server(model: &str, proto: &str) {
    let server = Server::start(&["tcp-server", "--model", model, "--proto", proto]);
    let port = server.port();

    // Our client.
    let out = labnet(&[
        "tcp-client",
        "--proto",
        proto,
        "--port",
        &port,
        "-m",
        "hello",
        "-m",
        LONG,
    ]);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{model}/{proto} client failed:\n{text}"
    );
    let echoes: Vec<&str> = text.lines().filter(|l| l.starts_with("echo ")).collect();
    assert_eq!(echoes, expected_echoes(proto), "{model}/{proto}");
    let client_port = local_port(&text);

    // The server log names the handler of that client.
    let handler = match model {
        "threads" => format!("[thread client-127.0.0.1:{client_port}]"),
        _ => {
            let accept = server.expect_line("accepting our client", |l| {
                l.contains(&format!("accepted 127.0.0.1:{client_port} "))
            });
            let token = accept
                .split("registered as token ")
                .nth(1)
                .unwrap()
                .to_string();
            format!("[selector token {token}]")
        }
    };
    let first = match proto {
        "text" => "received text payload=\"hello\"".to_string(),
        p => format!("received {p} version=1 order=1 size=5 payload=\"hello\""),
    };
    server.expect_line("with the first message", |l| {
        l.contains(&format!("{handler} {first}"))
    });
    server.expect_line("closing our client", |l| {
        l.contains(&handler) && l.contains("closed by client")
    });

    // A Python client using struct; it checks byte-identity itself.
    let py = python(scripts::PY_CLIENT, &[proto, &port]);
    assert!(py.ends_with("ok\n"), "{py}");
    let expected_py = match proto {
        "v2" => "echo 1 2 34 a message longer tha",
        "v3" => "echo 1 2 34 a message longer than twenty bytes",
        _ => "echo a message longer than twenty bytes",
    };
    assert!(
        py.lines().any(|l| l == expected_py),
        "{model}/{proto}: {py}"
    );

    // Ctrl-C stops the server cleanly with exit code 0.
    assert_eq!(server.interrupt(), Some(0), "{model}/{proto} exit code");
}

#[test]
fn threads_text() {
    check_server("threads", "text");
}
#[test]
fn threads_v2() {
    check_server("threads", "v2");
}
#[test]
fn threads_v3() {
    check_server("threads", "v3");
}
#[test]
fn selector_text() {
    check_server("selector", "text");
}
#[test]
fn selector_v2() {
    check_server("selector", "v2");
}
#[test]
fn selector_v3() {
    check_server("selector", "v3");
}

/// Our client against a Python threads server that echoes.
#[test]
fn our_clients_against_python_server() {
    for proto in ["text", "v2", "v3"] {
        let mut child = common::python_spawn(scripts::PY_SERVER, &[proto]);
        let mut first = String::new();
        let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut first).unwrap();
        let port = first.trim().strip_prefix("port ").unwrap().to_string();
        let out = labnet(&[
            "tcp-client",
            "--proto",
            proto,
            "--port",
            &port,
            "-m",
            "hello",
            "-m",
            LONG,
        ]);
        let _ = child.kill();
        let _ = child.wait();
        let text = stdout(&out);
        assert!(out.status.success(), "{proto}: {text}");
        let echoes: Vec<&str> = text.lines().filter(|l| l.starts_with("echo ")).collect();
        assert_eq!(echoes, expected_echoes(proto), "{proto}");
        let mut rest = String::new();
        reader.read_line(&mut rest).unwrap();
        let got_first = match proto {
            "text" => "got hello\n",
            _ => "got 1 1 5 hello\n",
        };
        assert_eq!(rest, got_first, "python server saw {proto}");
    }
}

#[test]
fn udp_server_prints_each_datagram_with_sender_port() {
    let server = Server::start(&["udp-server"]);
    let port = server.port();
    let out = labnet(&["udp-client", "--port", &port, "-m", "hi", "-m", "there"]);
    assert!(out.status.success());
    let p = local_port(&stdout(&out));
    server.expect_line("for our datagram", |l| {
        l.ends_with(&format!(
            "[udp] datagram from 127.0.0.1 port {p} (2 bytes): text payload=\"hi\""
        ))
    });
    server.expect_line("for our second datagram", |l| {
        l.ends_with(&format!("port {p} (5 bytes): text payload=\"there\""))
    });
    let py = python(scripts::PY_UDP_CLIENT, &[&port]);
    let p = local_port(&py);
    server.expect_line("for the python datagram", |l| {
        l.ends_with(&format!(
            "datagram from 127.0.0.1 port {p} (11 bytes): text payload=\"from python\""
        ))
    });
    assert_eq!(server.interrupt(), Some(0));
}

#[test]
fn udp_client_reads_stdin_lines_until_eof() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let server = Server::start(&["udp-server"]);
    let mut child = Command::new(common::BIN)
        .args(["udp-client", "--port", &server.port()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"line one\nline two\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    server.expect_line("for stdin line 2", |l| {
        l.ends_with("(8 bytes): text payload=\"line two\"")
    });
    assert!(server
        .wait_for(|l| l.contains("line three"), Duration::from_millis(1))
        .is_none());
}

#[test]
fn dual_stack_server_on_ipv6_serves_ipv6_and_ipv4_clients() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        skip_note!("skipped: no IPv6 loopback");
        return;
    }
    let server = Server::start_on(
        "::",
        &["tcp-server", "--model", "selector", "--proto", "v3"],
    );
    let port = server.port();
    for ip in ["::1", "127.0.0.1"] {
        let out = labnet(&[
            "tcp-client",
            "--proto",
            "v3",
            "--ip",
            ip,
            "--port",
            &port,
            "-m",
            "hello",
        ]);
        let text = stdout(&out);
        assert!(out.status.success(), "{ip}: {text}");
        assert!(
            text.contains("echo v3 version=1 order=1 size=5 payload=\"hello\""),
            "{ip}: {text}"
        );
    }
    server.expect_line("an IPv4-mapped peer", |l| {
        l.contains("accepted [::ffff:127.0.0.1]:")
    });
}

#[test]
fn busy_port_is_one_line_and_exit_code_1() {
    let server = Server::start(&["tcp-server", "--model", "threads", "--proto", "text"]);
    let out = labnet(&[
        "tcp-server",
        "--model",
        "threads",
        "--proto",
        "text",
        "--bind",
        "127.0.0.1",
        "--port",
        &server.port(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    // The holder (the first server) is named, with another port to use.
    let err = String::from_utf8_lossy(&out.stderr);
    let port = server.port();
    assert!(
        err.starts_with(&format!(
            "labnet: cannot bind 127.0.0.1:{port}: address already in use: process "
        )),
        "{err}"
    );
    assert!(
        err.contains("labnet tcp-server") && err.contains("another port (--port "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let usage = labnet(&["tcp-server", "--model", "forks", "--proto", "text"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn every_subcommand_help_names_its_lab_step() {
    for (sub, step) in [
        ("udp-server", "Exercise 1.1"),
        ("udp-client", "Exercise 1.2"),
        ("tcp-server", "Exercises 2 to 5"),
        ("tcp-client", "Exercises 2 to 5"),
        ("bench", "performance comparison"),
    ] {
        let out = labnet(&[sub, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{sub}");
        let text = stdout(&out);
        assert!(text.contains(step), "{sub} --help lacks '{step}':\n{text}");
        assert!(
            text.contains("capture") || sub == "bench",
            "{sub} --help says what to look at"
        );
    }
}
