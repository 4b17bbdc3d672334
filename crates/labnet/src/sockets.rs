//! Creating listening sockets: IPv4 or IPv6, dual-stack when binding `::`.

use crate::error::NetError;
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{SocketAddr, TcpListener, UdpSocket};

/// Listen backlog: large, so that newcomers beyond `--max-clients` (and benchmark
/// bursts) wait in the kernel's queue instead of being refused.
const BACKLOG: i32 = 4096;

fn new_socket(addr: SocketAddr, ty: Type, proto: Protocol) -> Result<Socket, NetError> {
    let bind_err = |source| NetError::Bind { addr, source };
    let socket = Socket::new(Domain::for_address(addr), ty, Some(proto)).map_err(bind_err)?;
    if addr.is_ipv6() {
        // Accept IPv4 clients too (as ::ffff:a.b.c.d) where the OS allows it;
        // if it does not, the socket simply stays IPv6-only.
        let _ = socket.set_only_v6(false);
    }
    Ok(socket)
}

/// The bind error: "in use" names who holds the port.
fn bind_failed(addr: SocketAddr, udp: bool, source: std::io::Error) -> NetError {
    if source.kind() == std::io::ErrorKind::AddrInUse {
        NetError::BindInUse {
            addr,
            udp,
            holder: crate::holder::holder(addr.port(), udp),
        }
    } else {
        NetError::Bind { addr, source }
    }
}

/// A TCP listener on `addr`, as Python's `socket.bind` + `listen` would make it.
pub fn tcp_listener(addr: SocketAddr) -> Result<TcpListener, NetError> {
    let bind_err = |source| NetError::Bind { addr, source };
    let socket = new_socket(addr, Type::STREAM, Protocol::TCP)?;
    // Restarting the server right after stopping it must not fail on TIME_WAIT
    // connections; on Linux this still refuses a second live listener.
    socket.set_reuse_address(true).map_err(bind_err)?;
    socket
        .bind(&addr.into())
        .map_err(|e| bind_failed(addr, false, e))?;
    socket.listen(BACKLOG).map_err(bind_err)?;
    Ok(socket.into())
}

/// A non-blocking TCP listener on `addr` and the address it got (the port, when
/// `addr` asked for port 0): both server models accept without blocking, so they
/// notice the stop flag between clients.
pub fn nonblocking_tcp_listener(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), NetError> {
    let listener = tcp_listener(addr)?;
    let local = listener.local_addr().map_err(|source| NetError::Io {
        what: "reading the bound address",
        addr,
        source,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| NetError::Io {
            what: "making the listener non-blocking",
            addr: local,
            source,
        })?;
    Ok((listener, local))
}

/// A UDP socket bound to `addr`.
pub fn udp_socket(addr: SocketAddr) -> Result<UdpSocket, NetError> {
    let socket = new_socket(addr, Type::DGRAM, Protocol::UDP)?;
    socket
        .bind(&addr.into())
        .map_err(|e| bind_failed(addr, true, e))?;
    Ok(socket.into())
}

/// Run `each` on every `-m` message, or, when there are none, on every line typed
/// on stdin until EOF (the lab's clients read `input()` in a loop).
pub fn for_each_message(
    messages: &[String],
    mut each: impl FnMut(&str) -> Result<(), NetError>,
) -> Result<(), NetError> {
    if messages.is_empty() {
        use std::io::BufRead;
        for line in std::io::stdin().lock().lines() {
            let line = line.map_err(|source| NetError::Stdin { source })?;
            each(&line)?;
        }
    } else {
        for m in messages {
            each(m)?;
        }
    }
    Ok(())
}
