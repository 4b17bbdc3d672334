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

/// A client that will never read: a 4 KiB receive buffer, so the server's echoes
/// soon fill both sides' buffers; its writes give up after `stall`.
pub fn non_reader(addr: SocketAddr, stall: Duration) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket
        .connect_timeout(&addr.into(), Duration::from_secs(5))
        .unwrap();
    let stream: TcpStream = socket.into();
    stream.set_write_timeout(Some(stall)).unwrap();
    stream
}

/// Write 16 v3 messages of `payload_len` bytes again and again until a write fails
/// (the server stopped reading us, or closed us) or `max` bytes went; bytes written.
pub fn write_until_stalled(s: &mut TcpStream, payload: u8, payload_len: usize, max: u64) -> u64 {
    let chunk: Vec<u8> = (1..=16u32)
        .flat_map(|o| v3(o, &vec![payload; payload_len]))
        .collect();
    let mut sent = 0u64;
    while sent < max {
        match s.write(&chunk) {
            Ok(n) => sent += n as u64,
            Err(_) => break,
        }
    }
    sent
}
