//! `labnet bench` against both server models; a corrupting server is caught.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;

use common::{labnet, stdout, Server};
use std::io::BufRead;

/// The value of `"key":` in a one-line JSON object (numbers and strings).
fn field<'a>(json: &'a str, key: &str) -> &'a str {
    let start = json.find(&format!("\"{key}\":")).unwrap() + key.len() + 3;
    let rest = &json[start..];
    let end = rest.find([',', '}']).unwrap();
    rest[..end].trim_matches('"')
}

#[test]
fn bench_json_on_both_models_and_all_protocols() {
    for model in ["threads", "selector"] {
        for proto in ["text", "v2", "v3"] {
            let server =
                Server::start(&["tcp-server", "--model", model, "--proto", proto, "--quiet"]);
            let out = labnet(&[
                "bench",
                "--proto",
                proto,
                "--port",
                &server.port(),
                "--conns",
                "20",
                "--messages",
                "50",
                "--size",
                "100",
                "--window",
                "4",
                "--json",
                "--timeout",
                "30",
            ]);
            let json = stdout(&out);
            assert!(out.status.success(), "{model}/{proto}: {json}");
            assert_eq!(json.lines().count(), 1, "one JSON line");
            assert_eq!(field(&json, "proto"), proto);
            assert_eq!(field(&json, "connected"), "20");
            assert_eq!(field(&json, "sent"), "1000");
            assert_eq!(field(&json, "echoed"), "1000", "{model}/{proto}: {json}");
            assert_eq!(field(&json, "mismatches"), "0");
            assert_eq!(field(&json, "failed_conns"), "0");
            let p50: u64 = field(&json, "p50_us").parse().unwrap();
            let max: u64 = field(&json, "max_us").parse().unwrap();
            assert!(p50 <= max && max > 0, "{json}");
        }
    }
}

/// A Python server that echoes v3 messages with the last byte changed.
const CORRUPTING_SERVER: &str = r#"
import socket, threading
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(16)
srv.settimeout(30)
print('port', srv.getsockname()[1], flush=True)
def handle(c):
    c.settimeout(10)
    buf = b''
    while True:
        data = c.recv(65536)
        if not data: break
        buf += data
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[5:9], 'big'):
            n = 9 + int.from_bytes(buf[5:9], 'big')
            msg, buf = buf[:n], buf[n:]
            c.sendall(msg[:-1] + bytes([msg[-1] ^ 1]))
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
"#;

#[test]
fn bench_counts_every_corrupted_echo_and_fails() {
    let mut child = common::python_spawn(CORRUPTING_SERVER, &[]);
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let port = first.trim().strip_prefix("port ").unwrap().to_string();
    let out = labnet(&[
        "bench",
        "--proto",
        "v3",
        "--port",
        &port,
        "--conns",
        "3",
        "--messages",
        "10",
        "--size",
        "8",
        "--json",
        "--timeout",
        "30",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    let json = stdout(&out);
    assert_eq!(out.status.code(), Some(8), "{json}");
    assert_eq!(field(&json, "echoed"), "30");
    assert_eq!(field(&json, "mismatches"), "30");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "labnet: benchmark failed: 30 echoes differed from what was sent, 0 connections failed, 0 messages never echoed\n"
    );
}

#[test]
fn bench_against_nothing_is_a_connect_error() {
    // Bind then drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = labnet(&[
        "bench",
        "--proto",
        "v3",
        "--port",
        &port.to_string(),
        "--conns",
        "2",
        "--messages",
        "1",
        "--size",
        "1",
        "--timeout",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.ends_with(&format!(
            "labnet: cannot connect to 127.0.0.1:{port}: connection refused (is the server running on that port?)\n"
        )),
        "{err}"
    );
}
