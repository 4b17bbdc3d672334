//! Raw-socket clients for the tests: exact bytes in, exact bytes out, with timeouts.
#![allow(dead_code)]

use labproto::{Message, Proto};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub fn v3(order: u32, payload: &[u8]) -> Vec<u8> {
    Message::new(Proto::V3, 1, order, payload).unwrap().encode()
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Read exactly `n` bytes (panics on timeout or early close).
pub fn read_exact(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).unwrap();
    buf
}

/// Send `count` v3 messages, pipelined, and check the echo is byte-identical.
pub fn v3_round_trip(addr: SocketAddr, id: usize, count: u32) {
    let mut s = connect(addr);
    let mut wire = Vec::new();
    for order in 1..=count {
        let text = format!(
            "client {id} message {order} {}",
            "x".repeat(order as usize % 50)
        );
        wire.extend(v3(order, text.as_bytes()));
    }
    s.write_all(&wire).unwrap();
    let echo = read_exact(&mut s, wire.len());
    assert!(echo == wire, "client {id}: echo differs from what was sent");
}

/// The local port of a connected stream.
pub fn port_of(s: &TcpStream) -> u16 {
    s.local_addr().unwrap().port()
}
