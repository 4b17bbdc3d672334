//! Server logs into a pipe are buffered (no write() per message) yet never late by more
//! than labnet's flush interval, and never lost: SIGTERM stops the server as Ctrl-C
//! does and the buffered lines are written before it exits.
#![allow(clippy::unwrap_used)]

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

mod common;

use common::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

fn v3(order: u32, payload: &[u8]) -> Vec<u8> {
    let mut m = vec![1u8];
    m.extend_from_slice(&order.to_be_bytes());
    m.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    m.extend_from_slice(payload);
    m
}

#[test]
fn a_piped_log_line_appears_within_the_flush_interval() {
    let server = Server::start(&["tcp-server", "--model", "threads", "--proto", "v3"]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    let msg = v3(1, b"hello");
    let sent = Instant::now();
    s.write_all(&msg).unwrap();
    let mut echo = vec![0; msg.len()];
    s.read_exact(&mut echo).unwrap();
    let line = server.wait_for(|l| l.contains("received v3"), Duration::from_secs(2));
    let took = sent.elapsed();
    assert!(line.is_some(), "no 'received' line in {:?}", server.lines());
    // 100 ms flush interval, with a wide margin for a loaded machine.
    assert!(took < Duration::from_millis(1000), "the line took {took:?}");
}

#[test]
fn sigterm_writes_every_buffered_line() {
    let server = Server::start(&["tcp-server", "--model", "selector", "--proto", "v3"]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    let n = 300;
    for order in 1..=n {
        let msg = v3(order, b"line");
        s.write_all(&msg).unwrap();
        let mut echo = vec![0; msg.len()];
        s.read_exact(&mut echo).unwrap();
    }
    drop(s);
    let pid = server.pid().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let stopped = server.wait_for(|l| l.contains("stopped listening"), Duration::from_secs(5));
    assert!(stopped.is_some(), "no clean stop after SIGTERM");
    let received = server
        .lines()
        .iter()
        .filter(|l| l.contains("received v3"))
        .count();
    assert_eq!(received, n as usize);
}
